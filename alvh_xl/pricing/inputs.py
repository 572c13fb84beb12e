"""Boundary checks for pricing inputs: call/put codes, numeric arrays with named errors, and
the one domain of the pricing functions' arguments.

Every error is an InputError whose message names the parameter and echoes the first bad
value, e.g. ``strike (-5.0) must be positive``.

``DOMAINS`` is what ALVH_BSM, ALVH_BLACK76, ALVH_AMERICAN and ALVH_IV accept for each argument
(``outside_domain`` tests an array against it, ``expected`` says it in words), so a value one
of them rejects is rejected by all four with the same words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..conventions import MAX_ABS_DIV, MAX_ABS_RATE, MAX_IV, MAX_T_YEARS
from ..errors import InputError, describe

# ----------------------------------------------------------------------------- call/put


def cp_codes(cp: Any) -> np.ndarray:
    """+1.0 per call, −1.0 per put, NaN where an element is neither (never raises).

    Numbers must be ±1. Text is read by the one call/put reader,
    :func:`alvh_xl.book.cells.parse_cp` ('C', 'P', 'Call', 'Put', any case), once per distinct
    value; it is imported on the first text input, so numeric callers stay numpy-only.
    """
    arr = cp if isinstance(cp, np.ndarray) else np.asarray(cp, dtype=object)
    if arr.dtype.kind in "iuf":
        a = arr.astype(float)
        return np.where(np.abs(a) == 1.0, a, np.nan)
    if arr.dtype.kind == "b":
        return np.full(arr.shape, np.nan)
    from ..book.cells import CellError, parse_cp

    def code(v: Any) -> float:
        if isinstance(v, bytes):
            v = v.decode("latin-1")
        try:
            return parse_cp(v)
        except CellError:
            return np.nan

    if arr.dtype.kind in "US":               # text arrays: each distinct value once
        uniq, inverse = np.unique(arr, return_inverse=True)
        return np.array([code(v) for v in uniq.tolist()])[inverse].reshape(arr.shape)
    flat = arr.ravel()
    out = np.empty(flat.size)
    seen: dict[tuple[type, Any], float] = {}
    for i, v in enumerate(flat):
        try:
            key = (type(v), v)
            x = seen.get(key)
            if x is None:
                x = seen[key] = code(v)
        except TypeError:                    # an unhashable element
            x = code(v)
        out[i] = x
    return out.reshape(arr.shape)


def parse_cp(cp: Any) -> np.ndarray:
    """+1.0 for calls, −1.0 for puts (:func:`cp_codes`); InputError naming the first element
    that is neither, with the cell reader's message."""
    codes = cp_codes(cp)
    bad = np.isnan(codes)
    if bad.any():
        from ..book.cells import CellError
        from ..book.cells import parse_cp as read_cp

        first = np.asarray(cp, dtype=object).reshape(codes.shape)[bad].flat[0] \
            if np.ndim(cp) else cp
        try:
            read_cp(first)
        except CellError as exc:
            raise InputError(f"cp: {exc}") from None
        raise InputError(f"cp: expected a call or put, got {describe(first)}")
    return codes


# ----------------------------------------------------------------------------- domain


class Domain(NamedTuple):
    """What one pricing argument accepts: a test (True where fine; NaN fails) and words."""

    test: Callable[[np.ndarray], np.ndarray]
    expected: str


_FINITE = np.isfinite
DOMAINS: dict[str, Domain] = {
    "underlying": Domain(lambda x: _FINITE(x) & (x > 0), "a price > 0"),
    "strike": Domain(lambda x: _FINITE(x) & (x > 0), "a strike > 0"),
    "t": Domain(lambda x: (x >= 0) & (x <= MAX_T_YEARS),
                f"years from 0 to {MAX_T_YEARS:g} (ACT/365; 0.5 for six months)"),
    "vol": Domain(lambda x: (x >= 0) & (x <= MAX_IV),
                  f"a decimal vol from 0 to {MAX_IV:g} (0.18 for 18 %)"),
    "rate": Domain(lambda x: np.abs(x) < MAX_ABS_RATE,
                   f"a decimal rate between -{MAX_ABS_RATE:g} and {MAX_ABS_RATE:g} "
                   "(0.04 for 4 %)"),
    "div": Domain(lambda x: np.abs(x) < MAX_ABS_DIV,
                  f"a decimal yield between -{MAX_ABS_DIV:g} and {MAX_ABS_DIV:g} "
                  "(0.013 for 1.3 %)"),
    "price": Domain(lambda x: _FINITE(x) & (x >= 0), "a price >= 0"),
}
# American options (early exercise on spot) are priced for non-negative carry only.
AMERICAN_DOMAINS: dict[str, Domain] = {
    **DOMAINS,
    "rate": Domain(lambda x: (x >= 0) & (x < MAX_ABS_RATE),
                   f"a decimal rate from 0 to below {MAX_ABS_RATE:g} (0.04 for 4 %; "
                   "American options take no negative rate)"),
    "div": Domain(lambda x: (x >= 0) & (x < MAX_ABS_DIV),
                  f"a decimal yield from 0 to below {MAX_ABS_DIV:g} (American options take "
                  "no negative yield)"),
}


def domain_of(role: str, *, american: bool = False) -> Domain:
    """The domain of pricing argument ``role`` (underlying, strike, t, vol, rate, div, price)."""
    return (AMERICAN_DOMAINS if american else DOMAINS)[role]


def outside_domain(role: str, values: np.ndarray, *, american: bool = False) -> np.ndarray:
    """Mask: True where ``values`` (floats) lie outside the domain of ``role`` (NaN too)."""
    with np.errstate(invalid="ignore"):
        return ~domain_of(role, american=american).test(np.asarray(values, dtype=float))


def check_domain(values: Any, role: str, name: str | None = None, *,
                 american: bool = False) -> np.ndarray:
    """Float array of ``values``; InputError naming ``name`` (default ``role``) and the first
    element outside the domain, with what was expected."""
    arr = np.asarray(values, dtype=float)
    bad = outside_domain(role, arr, american=american)
    if bad.any():
        raise InputError(f"{name or role}: expected {domain_of(role, american=american).expected}"
                         f", got {float(arr[bad].flat[0]):g}")
    return arr


# ----------------------------------------------------------------------------- numbers


def as_float_array(value, name: str, *, positive: bool = False,
                   nonnegative: bool = False) -> np.ndarray:
    """Convert to a float array; raise InputError naming ``name`` and echoing a bad value.

    Rejects text, booleans, None, NaN and ±inf; ``positive``/``nonnegative`` add sign checks.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        arr = value.astype(float, copy=False)
    elif _is_number(value):
        arr = np.asarray(float(value))
    else:
        arr = _convert(value, name)
    if arr.size == 0:
        return arr
    lo, hi = arr.min(), arr.max()        # NaN propagates through min/max
    if lo != lo or hi != hi:
        raise InputError(f"{name} ({describe(_first_bad(value, arr))}) must be a number")
    if np.isinf(lo) or np.isinf(hi):
        raise InputError(f"{name} ({describe(float(lo if np.isinf(lo) else hi))}) "
                         "must be finite")
    if positive and lo <= 0:
        raise InputError(f"{name} ({describe(float(lo))}) must be positive")
    if nonnegative and lo < 0:
        raise InputError(f"{name} ({describe(float(lo))}) must not be negative")
    return arr


def _convert(value, name: str) -> np.ndarray:
    obj = np.asarray(value, dtype=object)
    bad = next((v for v in obj.ravel() if not _is_number(v)), _NONE)
    if bad is not _NONE:
        raise InputError(f"{name} ({describe(bad)}) must be a number")
    return obj.astype(float)


def _first_bad(value, arr: np.ndarray):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return float(arr[np.isnan(arr)].flat[0])
    return next((v for v in np.asarray(value, dtype=object).ravel() if v != v), float("nan"))


def floats_or_nan(value: Any) -> np.ndarray:
    """Float array of ``value``; elements that are not numbers (text, None, booleans) become
    NaN, for solvers that report bad elements one by one instead of raising."""
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    if arr.dtype.kind in "iuf":
        return arr.astype(float, copy=False)
    obj = np.asarray(value, dtype=object)
    flat = obj.ravel()
    out = np.full(flat.size, np.nan)
    keep = np.fromiter((_is_number(v) for v in flat), bool, flat.size)
    out[keep] = flat[keep].astype(float)
    return out.reshape(obj.shape)


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


_NONE = object()
