"""Every ALVH_* Excel function, by name, as plain Python (importing this registers them all).

``FUNCTIONS[name](*cells)`` is what the report/Refresh pipeline, tests and the LibreOffice
Calc worker call; ``alvh_xl.udfs`` exports the same functions registered for xlwings.
"""

from . import fn_book, fn_condor, fn_pricing, fn_scenarios, fn_signals  # noqa: F401
from .registry import FUNCTIONS

__all__ = ["FUNCTIONS"]
