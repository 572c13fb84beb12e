"""alvh_xl: an Adaptive Layered VIX Hedge risk desk for Excel (xlwings) and the command line.

``alvh_xl.main()`` is what the ALVH ribbon's Refresh button runs (classic Excel, via
RunPython ``import alvh_xl; alvh_xl.main()``). The engine lives in ``alvh_xl.pricing``,
``alvh_xl.book`` and ``alvh_xl.risk``; Excel functions in ``alvh_xl.udfs``.
"""

__version__ = "0.1.0"


def main() -> None:
    """Refresh the calling workbook (imported lazily: the engine never needs xlwings)."""
    from .xl.refresh import main as refresh_main

    refresh_main()
