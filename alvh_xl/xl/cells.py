"""What Excel hands a function, and what it gets back: the one place values cross the boundary.

Runtimes differ: classic xlwings hands 2-D lists with datetimes and (with ``err_to_str``) error
texts; Office.js (xlwings Server/Lite) hands JSON: blanks as "" (or Pyodide's ``JsNull``),
dates as serial numbers, errors as ``{"type": "Error", "basicValue": "#N/A"}`` objects, a
one-row range as a flat list. ``from_officejs`` makes that plain (None, "#N/A"); ``to_officejs``
makes results acceptable to Office.js. The per-cell readers (numbers, dates, call/put …) are
``alvh_xl.book.cells``; this module shapes arrays and error texts around them.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import math
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..book.cells import CellError, error_value, is_blank, parse_number, to_numbers
from ..conventions import ERROR_PREFIX
from ..errors import AlvhError, InputError

MAX_TEXT = 250          # a cell message stays short; cut at a word boundary with '…'
IN_PYODIDE = sys.platform == "emscripten"
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
DATE_FORMAT = "yyyy-mm-dd"


def error_text(message: object) -> str:
    """Cell text for an expected error: '#ALVH! <message>' (kept short)."""
    text = str(message).strip() or "error"
    if not text.startswith(ERROR_PREFIX):
        text = f"{ERROR_PREFIX} {text}"
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def excel_function(f: Callable[..., Any]) -> Callable[..., Any]:
    """Error boundary of an Excel function: expected errors become '#ALVH! …' cell text.

    Unexpected exceptions are not swallowed: they are bugs and must stay loud.
    """

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except AlvhError as exc:
            return error_text(exc)

    return wrapper


# ----------------------------------------------------------------------------- pipeline


_PIPELINE: contextvars.ContextVar[Any] = contextvars.ContextVar("alvh_pipeline", default=None)


@contextlib.contextmanager
def pipeline(context: Any) -> Iterator[None]:
    """While the report/Refresh pipeline evaluates its blocks, functions find its parsed and
    valued inputs here (by the identity of the cell lists it passes) instead of parsing and
    valuing them again."""
    token = _PIPELINE.set(context)
    try:
        yield
    finally:
        _PIPELINE.reset(token)


def pipeline_active() -> Any:
    """The active pipeline context, or None."""
    return _PIPELINE.get()


# ----------------------------------------------------------------------------- Office.js in


def _jsnull(v: Any) -> bool:
    """Pyodide's JsNull sentinel (an empty cell in xlwings Lite). Only under Pyodide is it
    asked — through xlwings' own check — since nothing else can produce one."""
    if not IN_PYODIDE:
        return False
    from xlwings.utils import is_jsnull

    return is_jsnull(v)


def _plain_cell(v: Any) -> Any:
    if v == "" or v is None:
        return None
    if isinstance(v, dict):
        if v.get("type") == "Error":
            return str(v.get("basicValue") or "#VALUE!")
        return v.get("basicValue")                 # formatted numbers, entities
    if IN_PYODIDE and _jsnull(v):
        return None
    return v


_PLAIN_TYPES = (float, int, bool, str)


def from_officejs(value: Any) -> Any:
    """One Office.js argument as plain cells: a 2-D list (a one-row range arrives flat),
    None for blanks, error texts such as '#N/A'; a scalar stays a scalar."""
    if isinstance(value, (list, tuple)):
        rows = value if value and all(isinstance(r, (list, tuple)) for r in value) else [value]
        out = []
        for row in rows:
            if IN_PYODIDE or any(type(v) not in _PLAIN_TYPES or v == "" for v in row):
                out.append([_plain_cell(v) for v in row])
            else:
                out.append(list(row))
        return out
    return _plain_cell(value)


# ----------------------------------------------------------------------------- Office.js out


_OUT_MEMO: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_OUT_MEMO_SIZE = 64


def to_officejs(value: Any, runtime: Any = "1.4", date_format: Any = None) -> Any:
    """Cells Office.js accepts, as a 2-D matrix: "" for blanks and NaN, Python numbers, dates
    as formatted numbers (plain serials before runtime 1.4). The same result object (a cache
    hit) converts once."""
    key = (id(value), runtime, date_format)
    hit = _OUT_MEMO.get(key)
    if hit is not None and hit[0] is value:
        _OUT_MEMO.move_to_end(key)
        return hit[1]
    fmt = None if runtime is not None and float(runtime) < 1.4 else DATE_FORMAT
    if isinstance(value, list):
        rows = value if value and all(isinstance(r, list) for r in value) else [value]
        out = [[_js_cell(v, fmt) for v in row] for row in rows]
        width = max(map(len, out), default=0)
        out = [r + [""] * (width - len(r)) for r in out]       # Office.js wants rectangles
    else:
        out = [[_js_cell(value, fmt)]]                          # a matrix, always
    if isinstance(value, list):
        _OUT_MEMO[key] = (value, out)
        while len(_OUT_MEMO) > _OUT_MEMO_SIZE:
            _OUT_MEMO.popitem(last=False)
    return out


def _js_cell(v: Any, fmt: str | None) -> Any:
    t = type(v)
    if t is float:
        return v if math.isfinite(v) else ""
    if t is str or t is int or t is bool:
        return v
    if v is None:
        return ""
    if isinstance(v, (np.floating, np.integer)):
        return _js_cell(v.item(), fmt)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (dt.date, np.datetime64)):
        d = v if isinstance(v, dt.date) else v.astype("datetime64[s]").astype(dt.datetime)
        if not isinstance(d, dt.datetime):
            d = dt.datetime(d.year, d.month, d.day)
        serial = (d - EXCEL_EPOCH).total_seconds() / 86400.0
        return serial if fmt is None else {"type": "FormattedNumber", "basicValue": serial,
                                           "numberFormat": fmt}
    return str(v)


# ----------------------------------------------------------------------------- arrays


def grid(value: Any) -> np.ndarray:
    """Any Excel argument as a 2-D object array (a scalar becomes 1×1, a list a column)."""
    if isinstance(value, np.ndarray):
        arr = value.astype(object)
    elif isinstance(value, (list, tuple)):
        if len(value) and all(isinstance(r, (list, tuple)) for r in value):
            width = max(len(r) for r in value)
            arr = np.empty((len(value), width), dtype=object)
            try:
                arr[:] = value
            except ValueError:                      # ragged rows: fill one by one
                for i, r in enumerate(value):
                    arr[i, : len(r)] = list(r)
        else:
            arr = np.empty((len(value), 1), dtype=object)
            arr[:, 0] = list(value)
    else:
        arr = np.empty((1, 1), dtype=object)
        arr[0, 0] = value
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    return arr


def numbers(value: Any, name: str, default: float | None = None,
            percent: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """2-D float array and a same-shape array of error texts ('' where the cell is fine).

    Blank cells take ``default`` when one is given; otherwise they are errors. Text numbers
    are read by the one rule of ``alvh_xl.book.cells`` (no decimal commas, no stripping).
    """
    cells = grid(value)
    vals, why = to_numbers(cells, percent=percent)
    errs = np.where(why != "", np.char.add(f"{name}: ", why.astype(str)).astype(object), "")
    errs = errs.astype(object)
    blank = np.isnan(vals) & (why == "")
    if default is None:
        errs[blank] = f"{name} is blank"
    else:
        vals[blank] = default
    return vals, errs


def scalar_number(value: Any, name: str, default: float | None = None, *,
                  percent: bool = False) -> float | None:
    """A single-cell numeric argument; blank → ``default``; an error value or text that is
    not a number → InputError naming the argument."""
    cells = grid(value)
    if cells.shape != (1, 1):
        raise InputError(f"{name} must be a single cell, got {cells.shape[0]}x{cells.shape[1]}")
    try:
        x = parse_number(cells[0, 0], percent=percent)
    except CellError as exc:
        raise InputError(f"{name}: {exc}") from None
    return default if x is None else x


def scalar_text(value: Any, name: str) -> str:
    """A single-cell text argument ('' when blank); an Excel error value is an error."""
    v = scalar(value)
    err = error_value(v)
    if err:
        raise InputError(f"{name}: holds the Excel error {err}")
    if is_blank(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def scalar(value: Any) -> Any:
    """The top-left cell of a range argument (None for an empty range)."""
    if not isinstance(value, (list, tuple, np.ndarray)):
        return value
    cells = grid(value)
    return cells[0, 0] if cells.size else None


def omitted(v: Any) -> bool:
    """An argument left out, or a range of blank cells only."""
    if v is None:
        return True
    if isinstance(v, (list, tuple, np.ndarray)):
        return all(is_blank(c) for c in grid(v).ravel())
    return is_blank(v)


def domain_errors(errs: np.ndarray, vals: np.ndarray, good: np.ndarray,
                  message: str) -> np.ndarray:
    """Add ``message, got <value>`` to cells that parsed but fail ``good`` (first error wins)."""
    errs = errs.copy()
    bad = (errs == "") & ~good
    errs[bad] = [f"{message}, got {v:g}" for v in vals[bad]]
    return errs


def texts(value: Any, name: str, allowed: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Map text cells through ``allowed`` (keys upper-case); unknown text becomes an error."""
    cells = grid(value)
    out = np.empty(cells.shape, dtype=object)
    errs = np.full(cells.shape, "", dtype=object)
    choices = ", ".join(sorted({k.lower() for k in allowed if not k.lstrip("-").isdigit()}))
    for idx, v in np.ndenumerate(cells):
        err = error_value(v)
        if err:
            errs[idx] = f"{name}: holds the Excel error {err}"
            continue
        key = (str(int(v)) if isinstance(v, (int, float)) and not isinstance(v, bool)
               and float(v).is_integer() else str(v).strip().upper())
        if key in allowed:
            out[idx] = allowed[key]
        else:
            errs[idx] = f"{name}: expected one of {choices}, got {_echo(v)}"
    return out, errs


def _echo(v: Any) -> str:
    from ..errors import describe

    return describe(v)


def broadcast(shapes_of: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """Excel-style broadcast of 2-D shapes (1 stretches); a clear error when they clash."""
    rows = {s[0] for s in shapes_of.values()} - {1}
    cols = {s[1] for s in shapes_of.values()} - {1}
    if len(rows) > 1 or len(cols) > 1:
        listed = ", ".join(f"{k} {r}x{c}" for k, (r, c) in shapes_of.items() if (r, c) != (1, 1))
        raise InputError(f"ranges do not line up: {listed}")
    return (rows.pop() if rows else 1, cols.pop() if cols else 1)


def first_error(*error_grids: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Per cell, the first non-empty error text among the (broadcast) error grids."""
    out = np.full(shape, "", dtype=object)
    for errs in error_grids:
        e = np.broadcast_to(errs, shape)
        take = (out == "") & (e != "")
        out[take] = e[take]
    return out


def spill(values: np.ndarray, errors: np.ndarray | None = None) -> Any:
    """Result grid for Excel: floats, '#ALVH! …' where errors, a scalar for a 1×1 result."""
    out = values.astype(object)
    if errors is not None:
        bad = errors != ""
        if bad.any():
            out[bad] = [error_text(e) for e in errors[bad]]
    if out.shape == (1, 1):
        return _plain(out[0, 0])
    if values.dtype.kind == "f" and (errors is None or not (errors != "").any()):
        return values.tolist()
    return [[_plain(v) for v in row] for row in out]


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v
