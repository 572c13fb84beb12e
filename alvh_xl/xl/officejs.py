"""The Office.js wire format (xlwings Server and Lite), a column at a time.

In: JSON cells — blanks as "" (or Pyodide's ``JsNull``), dates as serial numbers, errors as
``{"type": "Error", "basicValue": "#N/A"}`` objects, formatted numbers as objects, a one-row
range as a flat list. ``from_officejs`` makes them plain (None, "#N/A", the number); a range of
plain numbers and text comes through untouched after C-level passes over its cell types.
Out: ``to_officejs`` gives Office.js rectangles of numbers, text and booleans, "" for blanks
and NaN, dates as formatted numbers.

xlwings' own conversion calls ``xlwings.utils.is_jsnull`` for every cell, which tries
``from pyodide.ffi import JsNull`` — about 90 µs a cell outside Pyodide, where it fails
(xlwings 0.36.17–0.37.8). Here that check runs only under Pyodide, for every cell, since only
there can a cell be a JsNull.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import gc
import math
import sys
from collections import OrderedDict
from collections.abc import Iterator
from itertools import chain, compress, repeat
from typing import Any

import numpy as np

IN_PYODIDE = sys.platform == "emscripten"
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
DATE_FORMAT = "yyyy-mm-dd"


# ----------------------------------------------------------------------------- numeric ranges


_BLOCKS: contextvars.ContextVar[dict[int, tuple[Any, Any]] | None] = contextvars.ContextVar(
    "alvh_numeric_blocks", default=None)


@contextlib.contextmanager
def reading_arguments() -> Iterator[None]:
    """While one function call reads its arguments, each range is scanned for plain numbers
    once: its cache key, the Office.js normalisation and its float conversion share the scan
    (:func:`numeric_block`)."""
    token = _BLOCKS.set({})
    try:
        yield
    finally:
        _BLOCKS.reset(token)


def numeric_block(value: Any) -> np.ndarray | None:
    """A rectangular list of int/float cells (2-D, or flat = one column) as a 2-D float array,
    found by C-level passes (cell types, row lengths, ``np.fromiter``) with no per-cell
    Python; None for anything else. Within :func:`reading_arguments` each list is scanned
    once."""
    memo = _BLOCKS.get()
    if memo is not None:
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
    block = _scan_numbers(value)
    if memo is not None:
        memo[id(value)] = (value, block)
    return block


def _scan_numbers(value: Any) -> np.ndarray | None:
    if not isinstance(value, list) or not value:
        return None
    kinds = set(map(type, value))
    if kinds == {list}:
        width = len(value[0])
        if not width or set(map(len, value)) != {width}:
            return None
        if not set(map(type, chain.from_iterable(value))) <= {float, int}:
            return None
        cells, n_rows = chain.from_iterable(value), len(value)
    elif kinds <= {float, int}:
        cells, n_rows, width = value, len(value), 1
    else:
        return None
    try:
        return np.fromiter(cells, float, n_rows * width).reshape(n_rows, width)
    except OverflowError:                    # an int beyond float range: the slow path says so
        return None


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a million small lists or tuples are built (the
    collector would walk them all again and again: 3× the time); restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


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


_PLAIN_TYPES = frozenset({float, int, bool, str})
_NUMBER_TYPES = frozenset({float, int, bool})


def from_officejs(value: Any) -> Any:
    """One Office.js argument as plain cells: a 2-D list (a one-row range arrives flat),
    None for blanks, error texts such as '#N/A'; a scalar stays a scalar.

    A range of plain numbers and non-empty text (the usual case) is handed on as it came,
    after one C-level pass over its cell types; only ranges holding blanks, error objects or
    formatted numbers are rebuilt cell by cell (under Pyodide always, for xlwings' JsNull
    check)."""
    if isinstance(value, (list, tuple)):
        rows = value if value and set(map(type, value)) <= {list, tuple} else [value]
        if not IN_PYODIDE and rows is value and numeric_block(value) is not None:
            return value                            # plain numbers: nothing to normalise
        if not IN_PYODIDE:
            types = set(map(type, chain.from_iterable(rows)))
            if types <= _NUMBER_TYPES or (types <= _PLAIN_TYPES
                                          and "" not in chain.from_iterable(rows)):
                return rows if isinstance(rows, list) and set(map(type, rows)) == {list} \
                    else [list(r) for r in rows]
        return [[_plain_cell(v) for v in row] for row in rows]
    return _plain_cell(value)


# ----------------------------------------------------------------------------- Office.js out


_OUT_MEMO: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_OUT_MEMO_SIZE = 64


def to_officejs(value: Any, runtime: Any = "1.4", date_format: Any = None) -> Any:
    """Cells Office.js accepts, as a 2-D matrix: "" for blanks and NaN, Python numbers, dates
    as formatted numbers (plain serials before runtime 1.4). The same result object (a cache
    hit) converts once. A rectangle of finite floats, ints, bools and text is already
    acceptable and is returned as it is (checked by C-level passes, not cell by cell)."""
    key = (id(value), runtime, date_format)
    hit = _OUT_MEMO.get(key)
    if hit is not None and hit[0] is value:
        _OUT_MEMO.move_to_end(key)
        return hit[1]
    fmt = None if runtime is not None and float(runtime) < 1.4 else DATE_FORMAT
    if isinstance(value, list):
        rows = value if value and set(map(type, value)) == {list} else [value]
        if _READY[0] is not value and not _acceptable(rows):
            out = _convert_columns(rows, fmt)
        else:
            out = rows
    else:
        out = [[_js_cell(value, fmt)]]                          # a matrix, always
    if isinstance(value, list):
        _OUT_MEMO[key] = (value, out)
        while len(_OUT_MEMO) > _OUT_MEMO_SIZE:
            _OUT_MEMO.popitem(last=False)
    return out


def _acceptable(rows: list[list[Any]]) -> bool:
    """A non-empty rectangle of finite floats, ints, bools and text: nothing to convert."""
    if not rows or len(set(map(len, rows))) != 1 or not rows[0]:
        return False
    types = set(map(type, chain.from_iterable(rows)))
    if not types <= _PLAIN_TYPES:
        return False
    if float not in types:
        return True
    cells = chain.from_iterable(rows)
    if not types <= _NUMBER_TYPES:                # pick the floats out at C level
        cells = compress(chain.from_iterable(rows), map(isinstance, cells, repeat(float)))
    try:
        return math.isfinite(sum(cells))         # NaN or ±inf anywhere makes the sum so
    except OverflowError:                        # a huge int beside the floats
        return False


def _convert_columns(rows: list[list[Any]], fmt: str | None) -> list[list[Any]]:
    """Rows → a rectangle Office.js accepts, a column at a time: one type scan per column,
    then the cheapest pass it needs (none for text/ints, a NaN/inf test for floats, the full
    per-cell conversion with a memo of repeated values, e.g. dates, otherwise)."""
    width = max(map(len, rows), default=0)
    if width == 0:
        return [[] for _ in rows]
    padded = rows if len(set(map(len, rows))) == 1 else \
        [list(r) + [None] * (width - len(r)) for r in rows]
    columns = []
    for col in zip(*padded, strict=True):
        types = set(map(type, col))
        if types <= _TEXT_TYPES:
            columns.append(col)
        elif types <= _TEXT_TYPES | _NONE:
            columns.append(["" if v is None else v for v in col])
        elif types <= _FLOAT_TYPES | _NONE:             # None, NaN and ±inf → ""
            columns.append(["" if v is None or v - v != 0 else v for v in col])
        elif types <= _FLOAT_TYPES | _TEXT_TYPES | _NONE:    # e.g. a header over numbers
            columns.append(["" if v is None or (type(v) is float and v - v != 0) else v
                            for v in col])
        else:
            memo: dict[Any, Any] = {}
            columns.append([_memo_cell(v, fmt, memo) for v in col])
    return [list(r) for r in zip(*columns, strict=True)]


_TEXT_TYPES = frozenset({str, int, bool})
_FLOAT_TYPES = frozenset({float, int})
_NONE = frozenset({type(None)})


def _memo_cell(v: Any, fmt: str | None, memo: dict[Any, Any]) -> Any:
    key = (type(v), v)                          # True, 1 and 1.0 are equal keys otherwise
    try:
        return memo[key]
    except KeyError:
        out = memo[key] = _js_cell(v, fmt)
        return out
    except TypeError:                           # unhashable (never from our blocks)
        return _js_cell(v, fmt)


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


_READY: list[Any] = [None]
"""The last grid :func:`spill` made from finite floats and error texts: rectangular and already
what Office.js accepts, so ``to_officejs`` hands it on without a pass over it (one slot: a
list cannot carry a mark, and a list subclass would cost a full ``repr`` wherever asyncio
describes the task holding it)."""


def mark_ready(cells: list[list[Any]]) -> None:
    """Note that ``cells`` (made by ``spill`` from finite floats and texts) needs no pass."""
    _READY[0] = cells
