"""The module users put in xlwings' "UDF Modules" setting: every ALVH_* Excel function.

The functions are declared once, in ``alvh_xl/xl/fn_*.py`` (``@excel``); this module exports
each one as the active xlwings runtime needs it (``alvh_xl.xl.registry.registered``). Python
code that wants plain values calls ``alvh_xl.xl.functions.FUNCTIONS[name]`` instead.
"""

from .xl.functions import FUNCTIONS
from .xl.registry import registered

globals().update({name: registered(f) for name, f in FUNCTIONS.items()})
__all__ = sorted(FUNCTIONS)
