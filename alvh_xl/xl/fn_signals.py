"""ALVH_MACD, ALVH_RSI, ALVH_REGIME: TA-Lib-identical indicators and the vol regime flag.

A series is one column or one row of numbers; blank cells at its end are skipped. Values
TA-Lib leaves undefined (the first 33 for MACD(12,26,9), 14 for RSI(14)) are returned as
None, which xlwings writes as empty cells.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..book.cells import error_value, is_blank
from ..conventions import MACD_FAST, MACD_SIGNAL, MACD_SLOW, REGIME_DAYS, RSI_PERIOD
from ..errors import InputError
from ..risk.indicators import as_series, macd, regime, rsi
from .cells import grid
from .registry import excel

MACD_HEADER = ["MACD", "Signal", "Hist"]
FLAG_WORDS = {True: "REGIME SHIFT", False: "NORMAL"}

_DOC_SERIES = "prices, one column or one row, oldest first"


@excel(series=_DOC_SERIES, fast="fast EMA period (default 12)",
       slow="slow EMA period (default 26)", signal="signal EMA period (default 9)")
def ALVH_MACD(series, fast=None, slow=None, signal=None):
    """MACD, signal and histogram as TA-Lib MACD (default 12/26/9), one row per value under a header; the first slow+signal-2 rows are empty."""
    x, _, label = _series(series, "series")
    line, sig, hist = macd(x, _arg(fast, "fast", MACD_FAST), _arg(slow, "slow", MACD_SLOW),
                           _arg(signal, "signal", MACD_SIGNAL), name="series", label=label)
    return [list(MACD_HEADER), *_cells(np.column_stack([line, sig, hist]))]


@excel(series=_DOC_SERIES, period="RSI period (default 14)")
def ALVH_RSI(series, period=None):
    """RSI as TA-Lib RSI (Wilder, default 14): same length and orientation as the series; the first period values are empty."""
    x, as_row, label = _series(series, "series")
    values = rsi(x, _arg(period, "period", RSI_PERIOD), name="series", label=label)
    return _cells(values[None, :] if as_row else values[:, None])


@excel(vix_futures_series="VIX futures prices (e.g. front month), oldest first",
       vvix_series="VVIX closes, oldest first",
       k="days the MACD histogram must expand in a row (default 3)")
def ALVH_REGIME(vix_futures_series, vvix_series, k=None):
    """Vol regime flag on the last day: REGIME SHIFT when the VIX-futures MACD histogram expanded k days in a row and VVIX RSI(14) is above 70 or below 30, else NORMAL; plus why."""
    fut, _, label = _series(vix_futures_series, "vix_futures")
    vvix, _, _ = _series(vvix_series, "vvix")
    r = regime(fut, vvix, _arg(k, "k", REGIME_DAYS), label=label)
    return [[FLAG_WORDS[r.flag], r.sentence]]


def _series(value: Any, name: str) -> tuple[np.ndarray, bool, str]:
    """Values of a one-column or one-row range without its trailing blanks, whether it is a
    row, and the word naming positions in messages ("row" down a column, "column" along a row)."""
    cells = grid(value)
    rows, cols = cells.shape
    if rows > 1 and cols > 1:
        raise InputError(f"{name} must be one column or one row, got {rows}x{cols} cells")
    as_row = rows == 1 and cols > 1
    flat = cells.ravel()
    filled = np.flatnonzero([not _blank(v) for v in flat])
    if not filled.size:
        raise InputError(f"{name} is empty")
    label = "column" if as_row else "row"
    # positions within the range (in the report: not the sheet row of SignalsTable's cell)
    return as_series(flat[: filled[-1] + 1], name, label, " of its range"), as_row, label


def _blank(v: Any) -> bool:
    return is_blank(v)


def _arg(value: Any, name: str, default: int) -> Any:
    """A single-cell parameter; blank or omitted gives ``default`` (checked by the engine);
    an Excel error value in it is an error, not a blank."""
    cells = grid(value)
    if cells.shape != (1, 1):
        raise InputError(f"{name} must be a single cell, got {cells.shape[0]}x{cells.shape[1]}")
    v = cells[0, 0]
    err = error_value(v)
    if err:
        raise InputError(f"{name}: holds the Excel error {err}")
    return default if _blank(v) else v


def series_problem(vix_futures_series: Any, vvix_series: Any) -> str:
    """Why the Signals blocks cannot be computed from these series ('' when they can)."""
    try:
        fut, _, label = _series(vix_futures_series, "vix_futures")
        vvix, _, _ = _series(vvix_series, "vvix")
        regime(fut, vvix, REGIME_DAYS, label=label)
    except InputError as exc:
        return str(exc)
    return ""


def _cells(values: np.ndarray) -> list[list[Any]]:
    """2-D floats as nested lists with NaN replaced by None (an empty cell)."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()
