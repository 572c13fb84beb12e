"""What Excel hands a function, and what it gets back.

Excel runtimes differ: a range arrives as a nested list (rows of values), a single cell as a
scalar; whole numbers may be floats; blank cells are None; dates are datetimes (classic) or
serial numbers (Office.js). These helpers turn that into numpy arrays with per-cell error
text, and shape results back into something every runtime can spill.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..conventions import ERROR_PREFIX
from ..errors import AlvhError, InputError, describe

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
    def wrapper(*args):
        try:
            return f(*args)
        except AlvhError as exc:
            return error_text(exc)

    return wrapper


def grid(value: Any) -> np.ndarray:
    """Any Excel argument as a 2-D object array (a scalar becomes 1×1, a list a column)."""
    if isinstance(value, np.ndarray):
        arr = value.astype(object)
    elif isinstance(value, (list, tuple)):
        if len(value) and all(isinstance(r, (list, tuple)) for r in value):
            width = max(len(r) for r in value)
            arr = np.empty((len(value), width), dtype=object)
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


def is_number(v: Any) -> bool:
    """True for real numbers (not bools, not NaN)."""
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            and v == v)


def numbers(value: Any, name: str, default: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """2-D float array and a same-shape array of error texts ('' where the cell is fine).

    Blank cells take ``default`` when one is given; otherwise they are errors.
    """
    cells = grid(value)
    vals = np.full(cells.shape, np.nan)
    errs = np.full(cells.shape, "", dtype=object)
    for idx, v in np.ndenumerate(cells):
        if v is None or (isinstance(v, str) and not v.strip()):
            if default is None:
                errs[idx] = f"{name} is blank"
            else:
                vals[idx] = default
        elif is_number(v):
            vals[idx] = float(v)
        else:
            try:
                vals[idx] = float(v) if isinstance(v, str) else np.nan
            except ValueError:
                pass
            if vals[idx] != vals[idx]:
                errs[idx] = f"{name}: expected a number, got {describe(v)}"
        if errs[idx] == "" and not np.isfinite(vals[idx]):
            errs[idx] = f"{name}: expected a finite number, got {describe(v)}"
            vals[idx] = np.nan
    return vals, errs


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
        key = str(int(v)) if is_number(v) and float(v).is_integer() else str(v).strip().upper()
        if key in allowed:
            out[idx] = allowed[key]
        else:
            errs[idx] = f"{name}: expected one of {choices}, got {describe(v)}"
    return out, errs


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
        out[bad] = [error_text(e) for e in errors[bad]]
    if out.shape == (1, 1):
        return _plain(out[0, 0])
    return [[_plain(v) for v in row] for row in out]


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v
