"""What Excel hands a function, and what it gets back: the one place values cross the boundary.

Runtimes differ: classic xlwings hands 2-D lists with datetimes and (with ``err_to_str``) error
texts; Office.js (xlwings Server/Lite) hands JSON: blanks as "" (or Pyodide's ``JsNull``),
dates as serial numbers, errors as ``{"type": "Error", "basicValue": "#N/A"}`` objects, a
one-row range as a flat list. ``from_officejs`` makes that plain (None, "#N/A"); ``to_officejs``
makes results acceptable to Office.js (both in ``alvh_xl.xl.officejs``). The per-cell readers
(numbers, dates, call/put …) are ``alvh_xl.book.cells``; this module shapes arguments into
arrays and error texts around them, and results back into cells.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..book.cells import (
    CellError,
    error_value,
    factorize,
    is_blank,
    parse_cp,
    parse_number,
    parse_numbers,
    position,
    text_of,
    to_numbers,
)
from ..conventions import ERROR_PREFIX
from ..errors import AlvhError, InputError, describe
from .officejs import gc_paused, mark_ready, numeric_block

MAX_TEXT = 250          # a cell message stays short; cut at a word boundary with '…'


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


NO_ERRORS = np.full((1, 1), "", dtype=object)
"""The error grid of an argument whose every cell is fine (it broadcasts to any shape)."""


def cell_errors(name: str, shape: tuple[int, int], bad: np.ndarray,
                reason: Callable[[tuple[int, ...]], str]) -> np.ndarray:
    """Error grid of one argument: '<name> (<where>): <reason(index)>' at each ``bad`` cell;
    ``NO_ERRORS`` when there is none."""
    if not bad.any():
        return NO_ERRORS
    errs = np.full(shape, "", dtype=object)
    for idx in zip(*np.nonzero(bad), strict=True):
        errs[idx] = f"{name}{position(shape, idx)}{reason(idx)}"
    return errs


def float_grid(value: Any) -> np.ndarray | None:
    """A 2-D float array when ``value`` is a number, a numeric array or a rectangular (2-D or
    flat = one column) list of int/float cells (:func:`numeric_block`); None for anything
    else (text, blanks, booleans, ragged rows), which ``to_numbers`` reads cell by cell."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            return None
        return value.astype(float).reshape(value.shape[0] if value.ndim else 1, -1)
    if type(value) in (float, int):
        return np.array([[float(value)]])
    return numeric_block(value)


def numbers(value: Any, name: str, default: float | None = None,
            percent: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """2-D float array and the error text per cell, a grid broadcastable to it ('' where the
    cell is fine; ``NO_ERRORS`` when every cell is).

    Blank cells take ``default`` when one is given; otherwise they are errors. Text numbers
    are read by the one rule of ``alvh_xl.book.cells`` (no decimal commas, no stripping).
    Messages name the argument and, in a range, the cell: 'strike (row 3 of its range):
    expected a number, got "abc"'.
    """
    vals = float_grid(value)
    if vals is not None and np.isfinite(vals).all():
        return vals, NO_ERRORS
    vals, why = to_numbers(grid(value) if vals is None else vals, percent=percent)
    bad = why != ""
    blank = np.isnan(vals) & ~bad
    if default is not None:
        vals[blank] = default
        blank[:] = False
    return vals, cell_errors(name, vals.shape, bad | blank,
                             lambda idx: f": {why[idx]}" if why[idx] else " is blank")


def number_list(value: Any, name: str, default: tuple[float, ...] | None = None
                ) -> np.ndarray:
    """The numbers of a range argument, row by row, blank cells skipped (shift lists, bucket
    edges), read by the one list reader ``alvh_xl.book.cells.parse_numbers``: ``default`` when
    it is omitted or all blank (InputError without one); InputError naming the argument and
    the cell otherwise."""
    try:
        out = parse_numbers(grid(value), name)
    except CellError as exc:
        raise InputError(str(exc)) from None
    if out.size == 0:
        if default is None:
            raise InputError(f"{name}: no numbers given")
        return np.asarray(default, dtype=float)
    return out


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


def domain_errors(errs: np.ndarray, vals: np.ndarray, good: np.ndarray, name: str,
                  expected: str) -> np.ndarray:
    """Add '<name> (<where>): expected <expected>, got <value>' to the cells that parsed but
    fail ``good``; cells already in error keep their first error."""
    current = np.broadcast_to(errs, vals.shape)
    bad = (current == "") & ~good
    if not bad.any():
        return errs
    new = cell_errors(name, vals.shape, bad, lambda idx: f": expected {expected}, got "
                      f"{vals[idx]:g}")
    return np.where(bad, new, current)


def texts(value: Any, name: str, allowed: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Map text cells through ``allowed`` (keys upper-case; a whole number reads as its digits);
    anything else is an error naming the argument, the cell and the choices."""
    choices = ", ".join(sorted(k.lower() for k in allowed))

    def read(v: Any) -> Any:
        err = error_value(v)
        if err:
            raise CellError(f"holds the Excel error {err}")
        key = text_of(v).upper()
        if key not in allowed:
            got = "a blank cell" if is_blank(v) else describe(v)
            raise CellError(f"expected one of {choices}, got {got}")
        return allowed[key]

    return per_distinct(value, name, read, object)


def calls_puts(value: Any, name: str = "cp") -> tuple[np.ndarray, np.ndarray]:
    """+1.0 / −1.0 per cell by the one call/put reader (``alvh_xl.book.cells.parse_cp``), NaN
    and an error text where a cell is not a call or put."""
    return per_distinct(value, name, parse_cp, float)


def per_distinct(value: Any, name: str, read: Callable[[Any], Any],
                 dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """``read`` each distinct cell of an argument once (CellError → an error naming the
    argument and the cell): values (NaN/None where bad) and the error grid."""
    cells = grid(value)
    codes, uniques = factorize(cells.ravel())
    uniques = [*uniques, None]                       # code −1: a blank cell
    table = np.full(len(uniques), np.nan if dtype is float else None, dtype=dtype)
    reasons = np.full(len(uniques), "", dtype=object)
    for k, u in enumerate(uniques):
        try:
            table[k] = read(u)
        except CellError as exc:
            reasons[k] = str(exc)
    vals = table[codes].reshape(cells.shape)
    why = reasons[codes].reshape(cells.shape)
    return vals, cell_errors(name, cells.shape, why != "", lambda idx: f": {why[idx]}")


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
        if errs.size == 1 and errs.flat[0] == "":
            continue                                # NO_ERRORS: nothing to look at
        e = np.broadcast_to(errs, shape)
        take = (out == "") & (e != "")
        out[take] = e[take]
    return out


def spill(values: np.ndarray, errors: np.ndarray | None = None) -> Any:
    """Result grid for Excel: floats, '#ALVH! …' where errors, a scalar for a 1×1 result.
    Float results become lists in one ``tolist``; only the cells in error are visited."""
    bad = None
    if errors is not None and errors.size and not (errors.size == 1 and errors.flat[0] == ""):
        errors = np.broadcast_to(errors, values.shape)
        bad = errors != ""
    if values.shape == (1, 1):
        return error_text(errors[0, 0]) if bad is not None and bad[0, 0] else \
            _plain(values[0, 0])
    if values.dtype.kind != "f":
        out = [[_plain(v) for v in row] for row in values]
    else:
        with gc_paused():
            out = values.tolist()
        finite = np.isfinite(values if bad is None else values[~bad]).all()
        if finite and values.size:
            mark_ready(out)
    if bad is not None:
        rows, cols = np.nonzero(bad)
        codes, messages = factorize(errors[rows, cols])
        texts = [error_text(m) for m in messages]
        for i, j, c in zip(rows.tolist(), cols.tolist(), codes.tolist(), strict=True):
            out[i][j] = texts[c]
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v
