"""LibreOffice Calc runtime of the ALVH functions.

``component`` (the UNO add-in) and ``client`` run inside LibreOffice's own Python and use the
standard library only; ``worker`` runs in the user's Python, where alvh_xl is installed, and
answers the add-in's calls over a pipe. The extension is built by ``alvh_xl.tools.calc``.
"""
