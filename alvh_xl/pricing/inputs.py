"""Boundary checks for pricing inputs: call/put parsing and numeric arrays with named errors."""

from __future__ import annotations

import numpy as np

from ..errors import InputError, describe

_CP_TEXT = {"C": 1.0, "CALL": 1.0, "P": -1.0, "PUT": -1.0}


def parse_cp(cp) -> np.ndarray:
    """Return +1 for calls, −1 for puts from "C"/"P"/"Call"/"Put" (any case) or ±1."""
    arr = np.asarray(cp, dtype=object) if not isinstance(cp, np.ndarray) else cp
    if arr.dtype.kind in "iuf":
        out = arr.astype(float)
        bad = ~np.isin(out, (1.0, -1.0))
        if bad.any():
            raise InputError(f"cp ({describe(out[bad].flat[0])}) must be C, P, Call, Put, 1 or -1")
        return out
    flat = arr.ravel()
    out = np.empty(flat.size)
    for i, v in enumerate(flat):
        code = _cp_code(v)
        if code is None:
            raise InputError(f"cp ({describe(v)}) must be C, P, Call, Put, 1 or -1")
        out[i] = code
    return out.reshape(arr.shape)


def _cp_code(v) -> float | None:
    if isinstance(v, str):
        return _CP_TEXT.get(v.strip().upper())
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v) if v in (1, -1) else None
    return None


def as_float_array(value, name: str, *, positive: bool = False,
                   nonnegative: bool = False) -> np.ndarray:
    """Convert to a float array; raise InputError naming ``name`` and echoing a bad value."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        arr = value
    else:
        try:
            if isinstance(value, (str, bytes, bool)):
                raise TypeError
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            flat = np.asarray(value, dtype=object).ravel()
            bad = next((v for v in flat if not _is_number(v)), value)
            raise InputError(f"{name} ({describe(bad)}) must be a number") from None
    nan = np.isnan(arr)
    if nan.any():
        raise InputError(f"{name} (nan) must be a number")
    if positive and (arr <= 0).any():
        raise InputError(f"{name} ({describe(float(arr[arr <= 0].flat[0]))}) must be positive")
    if nonnegative and (arr < 0).any():
        raise InputError(f"{name} ({describe(float(arr[arr < 0].flat[0]))}) must not be negative")
    if np.isinf(arr).any():
        raise InputError(f"{name} (inf) must be finite")
    return arr


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
