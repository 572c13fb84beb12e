"""Formats, column widths and alignment of the workbooks the project writes (XlsxWriter).

Readable by construction: numeric columns have right-aligned headers over right-aligned
numbers, text columns left-aligned ones; every column is at least as wide as its longest
header word and its widest formatted value, so headers only ever wrap between words.
Text is always written as text (never a formula, whatever it starts with).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from rich.cells import cell_len

NAVY, BLUE, LIGHT, INPUT_FILL, GREY = "#1F3864", "#2F5597", "#D9E1F2", "#FFF8DC", "#595959"
FLAG_COLOURS = {"OK": ("#C6EFCE", "#006100"), "WATCH": ("#FFEB9C", "#9C5700"),
                "BREACH": ("#FFC7CE", "#9C0006"), "REGIME SHIFT": ("#FFC7CE", "#9C0006"),
                "NORMAL": ("#C6EFCE", "#006100"), "INCOMPLETE": ("#F4B084", "#833C0B"),
                "no limit": ("#EDEDED", "#595959")}

VEGA, USD, NUM2, PCT = "#,##0.0;[Red]-#,##0.0", "$#,##0;[Red]-$#,##0", "#,##0.00", "0.0%"
FORMATS: dict[str, str] = {
    **dict.fromkeys(("RawVega", "WeightedVega", "VolOfVolVega", "VolExposure",
                     "WeightedVolExposure", "VolOfVolExposure", "ExposurePerContract",
                     "WeightedVegaAfter", "RawVegaAfter", "Residual", "Limit", "Target"), VEGA),
    **dict.fromkeys(("PnL", "FullPnL", "LinearPnL", "PremiumPaid", "PnLDown10", "PnLUp10",
                     "Value", "CreditUSD", "MaxProfit", "MaxLoss", "Extrinsic"), USD),
    **dict.fromkeys(("Price", "UnderlyingPrice", "EntryPrice", "Credit", "Leverage", "Beta",
                     "Weight", "Rho", "Vanna", "Volga", "Charm", "Gamma", "Delta", "Vega",
                     "Theta", "MACD", "Signal", "Hist", "T0Low", "T0High", "BreakevenLow",
                     "BreakevenHigh", "T0BreakevenLow", "T0BreakevenHigh", "VXFront", "VVIX",
                     "Forward"), NUM2),
    **dict.fromkeys(("Utilization", "ReturnOnRisk", "ProbBetween"), "0%"),
    **dict.fromkeys(("Expiry", "Date"), "yyyy-mm-dd"),
    "IV": PCT, "T": "0.000", "DTE": "0", "MaturityDays": "0", "Qty": "#,##0;[Red]-#,##0",
    "Contracts": "+#,##0;[Red]-#,##0;0", "Shift": "+0;-0;0", "SpotPct": '+0.0"%";-0.0"%";0"%"',
    "VolPts": "+0.0;-0.0;0", "DaysForward": "0", "Multiplier": "#,##0", "Strike": "General",
    "Row": "0", "Field": "@", "Warn": "0%", "Discount": "0.000000",
}
BLOCK_FORMATS = {"layers": {"Delta": USD, "Gamma": USD, "Theta": USD, "Target": VEGA},
                 "history": {"Theta": USD}}
BLOCK_DEFAULT = {"buckets": VEGA, "ladder": USD, "scenarios": USD, "grid": USD, "legs": NUM2,
                 "macd": NUM2, "rsi": "0.0", "history": USD}
INPUT_FORMATS = {"Limit": "General", "Target": "General", "Warn": "0.00"}
MARKET_FORMATS = {"ValuationDate": "yyyy-mm-dd", "ValuationTime": "hh:mm", "SpxSpot": NUM2,
                  "Rate": "0.00%", "DivYield": "0.00%", "VixSpot": NUM2, "Vvix": NUM2,
                  "Alpha": NUM2, "VolOfVolBeta": NUM2}
CENTRED = {"Flag", "Action", "Status", "FlagAfter", "Measure", "Type"}
MIN_WIDTH, MAX_WIDTH, MAX_TEXT_WIDTH = 6.0, 60.0, 46.0


class Writer:
    """Formats (created once per style) and the cell-writing helpers of one workbook."""

    def __init__(self, wb):
        self.wb = wb
        self._cache: dict[tuple, Any] = {}

    def fmt(self, **props) -> Any:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({"font_name": "Calibri", "font_size": 10,
                                                   **props})
        return self._cache[key]

    def num(self, num_format: str | None, **props) -> Any:
        return self.fmt(num_format=num_format or "General", **props)

    def head(self, numeric: bool = False) -> Any:
        """Input-table header: white on navy, aligned like the column's values."""
        return self.fmt(bold=True, font_color="#FFFFFF", bg_color=NAVY, border=1,
                        border_color="#BFBFBF", text_wrap=True, valign="vcenter",
                        align="right" if numeric else "left")

    def out_head(self, numeric: bool = False, align: str | None = None) -> Any:
        """Output-block header, aligned like the column's values (right over numbers,
        centred over centred flags, left over text)."""
        return self.fmt(bold=True, font_color=NAVY, bg_color=LIGHT, bottom=2,
                        bottom_color=NAVY, text_wrap=True, valign="vcenter",
                        align=align or ("right" if numeric else "left"))

    def put(self, ws, row: int, col: int, value: Any, cell_format=None) -> None:
        """Write a value of any type (0-based row/col); None leaves a formatted blank; text
        is stored as text even when it starts with '=' (never a formula)."""
        if type(value) is float and value == value:            # the common case first
            ws.write_number(row, col, value, cell_format)
        elif is_missing(value):
            ws.write_blank(row, col, None, cell_format)
        elif isinstance(value, (bool, np.bool_)):
            ws.write_boolean(row, col, bool(value), cell_format)
        elif isinstance(value, (dt.date, dt.time)):
            ws.write_datetime(row, col, value, cell_format)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            ws.write_number(row, col, float(value), cell_format)
        else:
            ws.write_string(row, col, str(value), cell_format)


def is_missing(v: Any) -> bool:
    """None, NaN or NaT (an engine table's missing value): written as an empty cell."""
    return v is None or (not isinstance(v, (str, bool)) and v != v)


def cached(v: Any) -> Any:
    """Cached value of a formula cell as XlsxWriter stores it (str or number)."""
    if is_missing(v):
        return ""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return (dt.datetime(v.year, v.month, v.day) - dt.datetime(1899, 12, 30)).days
    return v


def is_numeric_column(values: list[Any]) -> bool:
    """A column is numeric when its non-blank values are mostly numbers or dates."""
    filled = [v for v in values if not is_missing(v) and v != ""]
    if not filled:
        return False
    nums = sum(isinstance(v, (int, float, np.integer, np.floating, dt.date, dt.time))
               and not isinstance(v, bool) for v in filled)
    return nums * 2 >= len(filled)


def display_width(value: Any, num_format: str = "General") -> float:
    """Characters a value takes in a cell with this number format (an estimate that errs
    wide): digits with thousands separators and the format's decimals and symbols."""
    if is_missing(value):
        return 0.0
    if isinstance(value, (dt.date, dt.time)):
        return 10.0 if "h" not in num_format else 16.0
    if isinstance(value, (bool, np.bool_)):
        return 5.0
    if isinstance(value, (int, float, np.integer, np.floating)):
        x = float(value) + 0.0                      # Excel has no negative zero: "0"
        if not math.isfinite(x):
            return 4.0
        if "%" in num_format:
            decimals = num_format.split("%")[0].count("0") - 1
            return len(f"{x * 100:,.{max(decimals, 0)}f}") + 2.0
        decimals = len(num_format.split(".")[1].split(";")[0].rstrip('"%')) \
            if "." in num_format.split(";")[0] else (4 if num_format == "General" else 0)
        text = f"{x:,.{decimals}f}" if num_format != "General" else f"{x:.6g}"
        extra = sum(num_format.split(";")[0].count(ch) for ch in "$+\"") / 2 + 1
        return len(text) + extra
    return float(cell_len(str(value)))             # CJK characters take two columns


def column_width(values: list[Any], num_format: str = "General") -> float:
    """``max(display_width(v, num_format) for v in values)``, computed from a column's
    extremes: a formatted number's width only grows with its magnitude (and a minus sign),
    so with a fixed-decimals format only the largest and the most negative number matter
    ("General" shortens small numbers, so there every number is measured)."""
    numbers, others = [], []
    for v in values:
        if type(v) is float or (isinstance(v, (int, float, np.integer, np.floating))
                                and not isinstance(v, (bool, np.bool_))):
            numbers.append(v)
        elif not is_missing(v):
            others.append(v)
    width = max((display_width(v, num_format) for v in others), default=0.0)
    if numbers:
        if num_format == "General":
            width = max(width, max(display_width(v, num_format) for v in numbers))
        else:
            arr = np.asarray(numbers, dtype=float)
            arr = arr[~np.isnan(arr)]                  # NaN is a blank cell
            finite = arr[np.isfinite(arr)]
            picks = [4.0] if finite.size < arr.size else []
            if finite.size:
                picks += [display_width(float(finite.max()), num_format),
                          display_width(float(finite.min()), num_format),
                          display_width(float(np.abs(finite).max()), num_format)]
            width = max([width, *picks])
    return width


def header_width(text: str) -> float:
    """The longest word of a header (a header wraps between words only)."""
    return float(max((cell_len(w) for w in str(text).split()), default=0)) + 1.5


class Widths:
    """Column widths of one sheet, the widest need of any cell written in each column."""

    def __init__(self):
        self.need: dict[int, float] = {}

    def add(self, col: int, width: float, cap: float = MAX_WIDTH) -> None:
        self.need[col] = max(self.need.get(col, MIN_WIDTH), min(width + 1.0, cap))

    def add_header(self, col: int, text: str) -> None:
        self.add(col, header_width(text))

    def apply(self, ws, fixed: dict[int, float] | None = None) -> None:
        """Set each column to its need; a ``fixed`` (design) width is a minimum, so a long
        value (a 30-character layer name in Dashboard column A) is never cut."""
        fixed = fixed or {}
        for col in sorted(set(self.need) | set(fixed)):
            ws.set_column(col, col, max(self.need.get(col, 0.0), fixed.get(col, 0.0)))
