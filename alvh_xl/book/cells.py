"""One reader per kind of cell value: numbers, Excel error values, dates, times, call/put,
booleans and lists of numbers. Every surface (Excel functions, workbook reader, CLI) calls
these, so a cell means the same thing wherever it is read.

Numbers typed as text are read only when they are unambiguous (SPEC §3):

* ``6712.4``, ``-3``, ``1e-4``, ``.5`` — plain decimal numbers (surrounding blanks allowed);
* ``6,712.40`` or ``1,234,567`` — comma thousands separators, in groups of three, when the
  text also has a decimal point or more than one group;
* ``18%`` — only where a fraction is expected (``percent=True``): 0.18.

Everything else is an error naming what was expected: ``6712,4`` looks like a decimal
comma, ``6,712`` could be 6712 or 6.712, ``6.712,40`` is a European number, ``$5`` or
``(5)`` is not a number. No character is ever stripped to make a number.

An Excel error value (``#N/A``, ``#VALUE!``, ``#REF!``, ``#DIV/0!`` …, or another ALVH
function's ``#ALVH!`` text) in a cell is an error, never a blank.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import CALL_PUT, CALL_PUT_EXPECTED
from ..errors import describe

EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
    "#EXTERNAL!", "#PYTHON!", "#TIMEOUT!"})
ALVH_ERROR = "#ALVH!"
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
MAX_SERIAL = 2958466                    # 10000-01-01, one past Excel's last date

# ASCII digits only (SPEC §3, unambiguous forms): other scripts' digits ('١٢٣', full-width
# '１２') are errors, although float() would read them
_PLAIN = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_GROUPED = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?"
_NUMBER = re.compile(rf"\s*(?:{_PLAIN}|{_GROUPED})\s*")
_PERCENT = re.compile(rf"\s*((?:{_PLAIN}|{_GROUPED}))\s?%\s*")
_DECIMAL_COMMA = re.compile(r"\s*[+-]?[0-9]*(?:\.[0-9]{3})*,[0-9]+\s*%?\s*")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
                       r"([ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?)?$")
_TRUE, _FALSE = ("TRUE", "YES", "Y", "1"), ("FALSE", "NO", "N", "0")


class CellError(ValueError):
    """A cell holds something that is not the value expected; ``str(exc)`` says why."""


def is_blank(v: Any) -> bool:
    """None, NaN, NaT or text of blanks only: an empty cell."""
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, float):
        return v != v
    return v is pd.NaT or (isinstance(v, np.datetime64) and bool(np.isnat(v)))


def error_value(v: Any) -> str | None:
    """The Excel error a cell holds ('#N/A', '#VALUE!', …, or an '#ALVH! …' text), else None."""
    if isinstance(v, str):
        text = v.strip()
        if text.upper() in EXCEL_ERRORS:
            return text.upper()
        if text.startswith(ALVH_ERROR):
            return text
    elif isinstance(v, dict) and v.get("type") == "Error":       # Office.js error object
        return str(v.get("basicValue") or "#VALUE!")
    return None


def error_reason(err: str) -> str:
    """Message for a cell holding an Excel error value."""
    if err.startswith(ALVH_ERROR):
        return f"holds an error from another ALVH function: {describe(err)}"
    return f"holds the Excel error {err}; fix the formula or type a value"


def is_number(v: Any) -> bool:
    """A real, finite number cell (not a bool, not NaN/inf)."""
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_)) and math.isfinite(v))


def parse_number(v: Any, *, percent: bool = False) -> float | None:
    """One cell as a float (None when blank); ``CellError`` with the reason otherwise.

    ``percent``: the cell expects a fraction, so text such as '18%' reads as 0.18.
    """
    if is_blank(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        raise CellError(f"expected a number, got {'TRUE' if v else 'FALSE'}")
    if isinstance(v, (int, float, np.integer, np.floating)):
        try:
            x = float(v)
        except OverflowError:                       # an int beyond float range
            x = math.inf
        if not math.isfinite(x):
            raise CellError(f"expected a finite number, got {describe(v)}")
        return x
    err = error_value(v)
    if err:
        raise CellError(error_reason(err))
    if isinstance(v, str):
        return _text_number(v, percent)
    if isinstance(v, (dt.date, dt.time, np.datetime64, pd.Timestamp)):
        raise CellError(f"expected a number, got the date/time {describe(str(v))}")
    raise CellError(f"expected a number, got {describe(v)}")


def _text_number(text: str, percent: bool) -> float:
    if _NUMBER.fullmatch(text):
        x = float(text.strip().replace(",", ""))   # strip(): the pattern's \s, e.g. '\x1f'
        if "," in text and "." not in text and text.count(",") == 1:
            raise CellError(f"{describe(text)} could be {text.replace(',', '')} or "
                            f"{text.replace(',', '.')} (decimal comma); type the number")
    else:
        m = _PERCENT.fullmatch(text)
        if m is None:
            if _DECIMAL_COMMA.fullmatch(text):
                raise CellError(f"{describe(text)} looks like a decimal comma; type the "
                                "number (with a decimal point)")
            raise CellError(f"expected a number, got {describe(text)}")
        if not percent:
            raise CellError(f"{describe(text)} is a percentage; this cell takes a plain "
                            "number")
        inner = m.group(1)
        if "," in inner and "." not in inner and inner.count(",") == 1:
            raise CellError(f"{describe(text)} is ambiguous (decimal comma?); type the "
                            "number")
        x = float(inner.replace(",", "")) / 100.0
    if not math.isfinite(x):
        raise CellError(f"expected a finite number, got {describe(text)}")
    return x


def number_reason(v: Any, *, percent: bool = False) -> str:
    """'' when the cell is a number or blank, else why it is not."""
    try:
        parse_number(v, percent=percent)
    except CellError as exc:
        return str(exc)
    return ""


def to_numbers(cells: Any, *, percent: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Floats of a column of cells (NaN for blanks) and the reason per cell ('' if fine).

    Vectorised: numeric columns take one cast; other columns parse each distinct value once.
    """
    arr = np.asarray(cells, dtype=object) if not isinstance(cells, np.ndarray) else cells
    if arr.dtype.kind in "iuf":
        vals = arr.astype(float)
        reasons = np.full(vals.shape, "", dtype=object)
        inf = np.isinf(vals)
        if inf.any():
            reasons[inf] = [f"expected a finite number, got {describe(float(x))}"
                            for x in vals[inf]]
            vals[inf] = np.nan
        return vals, reasons
    flat = arr.astype(object).ravel()
    vals = np.full(flat.size, np.nan)
    reasons = np.full(flat.size, "", dtype=object)
    kinds = np.fromiter((type(v) is float or type(v) is int for v in flat), bool, flat.size)
    try:
        f = flat[kinds].astype(float)
    except OverflowError:                  # an int beyond float range: read it cell by cell
        kinds = np.fromiter((type(v) is float for v in flat), bool, flat.size)
        f = flat[kinds].astype(float)
    if kinds.any():
        vals[kinds] = np.where(np.isfinite(f), f, np.nan)
        bad = np.isinf(f)
        if bad.any():
            idx = np.flatnonzero(kinds)[bad]
            reasons[idx] = [f"expected a finite number, got {describe(float(x))}"
                            for x in f[bad]]
    rest = np.flatnonzero(~kinds)
    if rest.size:
        codes, uniques = factorize(flat[rest])
        table_v = np.full(len(uniques) + 1, np.nan)
        table_r = np.full(len(uniques) + 1, "", dtype=object)
        for k, u in enumerate(uniques):
            try:
                x = parse_number(u, percent=percent)
                table_v[k] = np.nan if x is None else x
            except CellError as exc:
                table_r[k] = str(exc)
        vals[rest] = table_v[codes]
        reasons[rest] = table_r[codes]
    return vals.reshape(arr.shape), reasons.reshape(arr.shape)


def factorize(cells: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Codes (−1 → the last slot: None/NaN) and distinct values, bools apart from 0/1 and
    unhashable cells (dicts) each their own value."""
    try:
        codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    except TypeError:                      # an unhashable cell (e.g. an Office.js dict)
        uniques = list(cells)
        return np.arange(len(uniques)), uniques
    uniques = list(uniques)
    for k, u in enumerate(list(uniques)):  # pd.factorize merges True with 1: split them
        if isinstance(u, (bool, np.bool_, int, float, np.number)) and u in (0, 1):
            idx = np.flatnonzero(codes == k)
            is_bool = np.fromiter((isinstance(cells[i], (bool, np.bool_)) for i in idx), bool,
                                  idx.size)
            if is_bool.all() or not is_bool.any():
                continue
            split = idx[is_bool != isinstance(u, (bool, np.bool_))]
            codes[split] = len(uniques)
            uniques.append(cells[split[0]])
    return codes, uniques


def errors_in(cells: np.ndarray) -> np.ndarray:
    """Mask of cells holding an Excel error value (any column type)."""
    arr = np.asarray(cells, dtype=object)
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=bool)
    kinds = np.fromiter((isinstance(v, (str, dict)) for v in arr.ravel()), bool, arr.size)
    out = np.zeros(arr.size, dtype=bool)
    idx = np.flatnonzero(kinds)
    if idx.size:
        out[idx] = [error_value(v) is not None for v in arr.ravel()[idx]]
    return out.reshape(arr.shape)


# ----------------------------------------------------------------------------- dates, times


def parse_date(v: Any) -> np.datetime64 | None:
    """A calendar date from an Excel serial, a date/datetime, or ISO text YYYY-MM-DD[ HH:MM];
    None when blank. Other text (``1/8/27``, ``Dec``) is ambiguous: ``CellError``."""
    if is_blank(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        raise CellError("expected a date, got TRUE/FALSE")
    if isinstance(v, pd.Timestamp):
        return np.datetime64(v.date(), "D")
    if isinstance(v, dt.datetime):
        return np.datetime64(v.date(), "D")
    if isinstance(v, dt.date):
        return np.datetime64(v, "D")
    if isinstance(v, np.datetime64):
        return v.astype("datetime64[D]")
    err = error_value(v)
    if err:
        raise CellError(error_reason(err))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return _serial_date(float(v), v)
    if isinstance(v, str):
        text = v.strip()
        if _ISO_DATE.match(text):
            try:
                return np.datetime64(pd.Timestamp(text).date(), "D")
            except (ValueError, TypeError, OverflowError):
                raise CellError(f"{describe(v)} is not a valid date") from None
        try:
            x = parse_number(text)
        except CellError:
            x = None
        if x is not None:
            return _serial_date(x, v)
    raise CellError(f"expected a date (Excel date, serial number or YYYY-MM-DD), got "
                    f"{describe(v)}")


def _serial_date(x: float, v: Any) -> np.datetime64:
    if not (1 <= x < MAX_SERIAL):
        raise CellError(f"expected a date, got the number {describe(v)} (not an Excel date "
                        "serial)")
    return np.datetime64("1899-12-30", "D") + np.timedelta64(int(math.floor(x)), "D")


def to_dates(cells: Any) -> tuple[np.ndarray, np.ndarray]:
    """datetime64[D] of a column (NaT for blanks) and the reason per cell ('' if fine)."""
    arr = np.asarray(cells, dtype=object)
    flat = arr.ravel()
    out = np.full(flat.size, np.datetime64("NaT"), dtype="datetime64[D]")
    reasons = np.full(flat.size, "", dtype=object)
    if flat.size:
        codes, uniques = factorize(flat)
        t_out = np.full(len(uniques) + 1, np.datetime64("NaT"), dtype="datetime64[D]")
        t_r = np.full(len(uniques) + 1, "", dtype=object)
        for k, u in enumerate(uniques):
            try:
                d = parse_date(u)
                t_out[k] = np.datetime64("NaT") if d is None else d
            except CellError as exc:
                t_r[k] = str(exc)
        out, reasons = t_out[codes], t_r[codes]
    return out.reshape(arr.shape), reasons.reshape(arr.shape)


def parse_time(v: Any) -> dt.time | None:
    """A time of day from an Excel fraction (0.6667), a date-time serial (its fraction), a
    time/datetime or 'HH:MM[:SS]' / 'h:mm AM' text; None when blank. A whole number ≥ 1 (16)
    is ambiguous (16:00, or a date at midnight?): ``CellError``."""
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.time()
    if isinstance(v, dt.time):
        return v
    err = error_value(v)
    if err:
        raise CellError(error_reason(err))
    if is_number(v):
        if v >= 1 and float(v).is_integer():      # 16: 16:00, or the serial of a date at 0:00?
            raise CellError(f"{describe(v)} is a whole number, not a time of day; type a time "
                            "such as 16:00")
        frac = float(v) % 1.0 if v >= 1 else float(v)
        seconds = min(round(frac * 86400), 86399) if frac < 1.0 else 86400  # 23:59:59.9…
        if 0 <= seconds < 86400:
            return (dt.datetime.min + dt.timedelta(seconds=seconds)).time()
    elif isinstance(v, str):
        for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p"):
            try:
                return dt.datetime.strptime(v.strip(), fmt).time()
            except ValueError:
                pass
    raise CellError(f"expected a time such as 16:00, got {describe(v)}")


# ----------------------------------------------------------------------------- words


def text_of(v: Any) -> str:
    """Stripped text of one cell ('' for blanks); whole floats without '.0'."""
    if is_blank(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def parse_cp(v: Any) -> float:
    """+1.0 for a call, −1.0 for a put: 'C', 'P', 'Call', 'Put' (any case, blanks around
    allowed) or the number 1 / −1. The one call/put reader: the pricing functions and
    ``alvh_xl.pricing.inputs`` call it for text."""
    if isinstance(v, str):
        code = CALL_PUT.get(v.strip().upper())
        if code is not None:
            return code
    elif is_number(v) and float(v) in (1.0, -1.0):
        return float(v)
    err = error_value(v)
    if err:
        raise CellError(error_reason(err))
    got = describe(v) if not is_blank(v) else "a blank cell"
    raise CellError(f"expected {CALL_PUT_EXPECTED}, got {got}")


def parse_bool(v: Any, default: bool | None = None) -> bool:
    """TRUE/FALSE, 1/0 or 'true'/'false'/'yes'/'no'; ``default`` for a blank cell."""
    if is_blank(v):
        if default is None:
            raise CellError("expected TRUE or FALSE, got a blank cell")
        return default
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    err = error_value(v)
    if err:
        raise CellError(error_reason(err))
    text = text_of(v).upper()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"expected TRUE or FALSE, got {describe(v)}")


def position(shape: tuple[int, ...], index: tuple[int, ...]) -> str:
    """Where a cell sits in a range, for messages: '' for a single cell, else
    ' (row 3 of its range)', ' (column 2 of its range)' or ' (row 3, column 2 of its range)'."""
    rows, cols = (tuple(shape) + (1, 1))[:2]
    i, j = (tuple(int(x) for x in index) + (0, 0))[:2]
    if rows * cols <= 1:
        return ""
    if cols == 1:
        return f" (row {i + 1} of its range)"
    if rows == 1:
        return f" (column {j + 1} of its range)"
    return f" (row {i + 1}, column {j + 1} of its range)"


def cell_grid(values: Any) -> np.ndarray:
    """Cells as a 2-D object array: a single value is 1×1, a flat list one column."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.ndim == 0:
        return arr.reshape(1, 1)
    if arr.ndim == 1:
        return arr.reshape(-1, 1)
    return arr


def parse_numbers(values: Any, name: str = "values", *, skip_blanks: bool = True
                  ) -> np.ndarray:
    """The numbers of a range, row by row, blank cells skipped (lists of shifts, bucket
    edges …): the one reader of number lists. ``CellError`` naming ``name`` and the first cell
    that is not a number, e.g. 'vol_shifts (row 3 of its range): expected a number, got
    "up"'."""
    cells = cell_grid(values)
    vals, why = to_numbers(cells)
    blank = np.isnan(vals) & (why == "")
    bad = (why != "") | (blank & (not skip_blanks))
    if bad.any():
        idx = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), cells.shape)
        reason = f": {why[idx]}" if why[idx] else " is blank"
        raise CellError(f"{name}{position(cells.shape, idx)}{reason}")
    return vals[~blank].astype(float)
