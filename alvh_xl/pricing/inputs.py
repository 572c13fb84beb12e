"""Boundary checks for pricing inputs: call/put parsing and numeric arrays with named errors.

Every error is an InputError whose message names the parameter and echoes the first bad
value, e.g. ``strike (-5.0) must be positive``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, describe

_CP_TEXT = {"C": 1.0, "CALL": 1.0, "P": -1.0, "PUT": -1.0}
_CP_RULE = "must be C, P, Call, Put, 1 or -1"


def parse_cp(cp) -> np.ndarray:
    """Return +1.0 for calls, −1.0 for puts from "C"/"P"/"Call"/"Put" (any case) or ±1."""
    arr = cp if isinstance(cp, np.ndarray) else np.asarray(cp, dtype=object)
    if arr.dtype.kind in "iuf":
        out = arr.astype(float, copy=False)
        if not (np.abs(out) == 1.0).all():
            bad = out[np.abs(out) != 1.0].flat[0]
            raise InputError(f"cp ({describe(float(bad))}) {_CP_RULE}")
        return out
    if arr.dtype.kind in "US":           # text arrays: parse each distinct value once
        uniq, inverse = np.unique(arr, return_inverse=True)
        codes = np.array([_cp_or_raise(v.decode() if isinstance(v, bytes) else str(v))
                          for v in uniq])
        return codes[inverse].reshape(arr.shape)
    flat = arr.ravel()
    out = np.empty(flat.size)
    for i, v in enumerate(flat):
        out[i] = _cp_or_raise(v)
    return out.reshape(arr.shape)


def _cp_or_raise(v) -> float:
    if isinstance(v, str):
        code = _CP_TEXT.get(v.strip().upper())
    elif _is_number(v) and v in (1, -1):
        code = float(v)
    else:
        code = None
    if code is None:
        raise InputError(f"cp ({describe(v)}) {_CP_RULE}")
    return code


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


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


_NONE = object()
