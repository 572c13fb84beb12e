"""CSV injection: text cells that a spreadsheet would run as a formula, escaped and unescaped.

OWASP ("CSV Injection"): a cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage
return is taken as a formula by Excel and LibreOffice when the CSV is opened. Such text is
written with a leading apostrophe (``'=cmd|…`` shows as text) and read back without it.
Text that already starts with an apostrophe followed by one of those characters or another
apostrophe gets one more, so ``unescape_cell(escape_cell(s)) == s`` for every string.
Numbers are never text here: ``-3.5`` stays the number −3.5 and is not escaped.
"""

from __future__ import annotations

from typing import Any

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
_QUOTE = "'"


def escape_cell(value: Any) -> Any:
    """``value`` as it is safe to write into a CSV cell: text that would start a formula
    gets a leading apostrophe; anything that is not a ``str`` is returned unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in FORMULA_TRIGGERS or (value[0] == _QUOTE and unescape_cell(value) != value):
        return _QUOTE + value
    return value


def unescape_cell(value: Any) -> Any:
    """The text ``escape_cell`` was given: one leading apostrophe removed when it precedes a
    formula character or another apostrophe; anything else is returned unchanged."""
    if (isinstance(value, str) and len(value) > 1 and value[0] == _QUOTE
            and (value[1] in FORMULA_TRIGGERS or value[1] == _QUOTE)):
        return value[1:]
    return value
