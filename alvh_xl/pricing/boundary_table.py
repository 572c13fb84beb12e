"""Exercise boundary of an American put without dividend, from a table (the fast path of
:func:`alvh_xl.pricing.exercise_boundary.put_boundary`).

For a put with dividend yield q = 0 the boundary at the Chebyshev nodes (fixed fractions of
T) depends on σ, T and r only through A = σ²T and b = 2r/σ²: every term of the fixed point
and of Li's QD+ start is a function of σ²τ and r/σ² (in the smooth-pasting form, which
put_boundary uses for b ≤ ``VALUE_FORM_RHO``). So ``put_boundary`` itself is evaluated once
per process on a grid in (ln A, ln b), step ``STEP``, and interpolated by a tensor cubic
B-spline: C², so finite differences of prices and the bumped Greeks stay smooth.

Domain (:func:`covered`): ``A_RANGE``, ``B_RANGE`` and r·T ≤ ``MAX_CARRY`` (beyond that the
solver's output is no longer smooth enough to interpolate: errors of the spline grew to
2.5e-5 × strike at r·T > 10). The contract domain of the engine (T 1 day–2 years, vol
30–250 %, rate 0–6 %: σ²T ≥ 2.5e-4, 2r/σ² ≤ 1.4, r·T ≤ 0.12) lies well inside. Outside
the domain callers solve directly.

Accuracy against put_boundary solved at the same inputs (tests/test_american.py, tolerances
2e-7 and 5e-7 over the domain, 2e-8 and 5e-8 over the contract domain): the formula's price
within 5.4e-8 × strike and its delta within 1.1e-7 over the domain, 3.8e-9 × strike and
1.3e-8 over the contract domain (measured worst). Building the table takes ~14,000
boundary solves (0.06–0.3 s on this machine, by load), once per process, on first use.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from .exercise_boundary import NODES, put_boundary

STEP = 0.15                       # grid step in ln A and ln b
A_RANGE = (1e-6, 30.0)            # σ²T
B_RANGE = (1e-7, 2.0)             # 2r/σ²
MAX_CARRY = 2.0                   # r·T
_MARGIN = 2                       # grid points beyond the domain on each side (bumps, ends)
_LOCK = threading.Lock()
_TABLE: Table | None = None


class Table(NamedTuple):
    """B-spline coefficients of √H at nodes 1..n over the (ln A, ln b) grid."""

    u0: float                 # ln A of the first grid point
    v0: float                 # ln b of the first grid point
    nv: int                   # coefficients along ln b (grid points + 2)
    cols: np.ndarray          # (NODES, (nu + 2)·(nv + 2)): column i·nv + j ↔ c_{i−1, j−1}
    offsets: np.ndarray       # (16, 1) row offsets of the 4 × 4 coefficients of a cell


def covered(r: np.ndarray, vol: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Where the table gives the boundary of a put without dividend (r, vol, t > 0)."""
    a = vol * vol * t
    b = 2.0 * r / (vol * vol)
    return ((a >= A_RANGE[0]) & (a <= A_RANGE[1]) & (b >= B_RANGE[0]) & (b <= B_RANGE[1])
            & (r * t <= MAX_CARRY))


def table_boundary(r: np.ndarray, vols: list[np.ndarray], t: np.ndarray) -> list[np.ndarray]:
    """√H at nodes 1..n, shape (NODES, m), as put_boundary(r, 0, vol, t), for each vol in
    ``vols`` (1-D arrays of one length, options inside :func:`covered`).

    The 4 × 4 coefficients around each option are gathered once, for the first vol; a
    later vol (a small bump) reuses them unless it moved the option to another cell.
    """
    tab = table()
    ln_a = np.log(t) - tab.u0
    ln_b = np.log(2.0 * r) - tab.v0
    out = []
    cell = coef = None
    for vol in vols:
        ln_var = 2.0 * np.log(vol)
        wu, iu = _weights((ln_a + ln_var) / STEP)
        wv, iv = _weights((ln_b - ln_var) / STEP)
        here = iu * tab.nv + iv
        weight = (wu[:, None, :] * wv[None, :, :]).reshape(16, -1)
        if coef is None:
            cell, coef = here, _gather(tab, here)
        root = np.einsum("ksm,sm->km", coef, weight)
        moved = np.flatnonzero(here != cell)
        if moved.size:
            root[:, moved] = np.einsum("ksm,sm->km", _gather(tab, here[moved]),
                                       weight[:, moved])
        out.append(root)
    return out


def _gather(tab: Table, cell: np.ndarray) -> np.ndarray:
    """(NODES, 16, m): the coefficients of the 4 × 4 neighbourhood of each cell."""
    return np.take(tab.cols, cell + tab.offsets, axis=1)


def _weights(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uniform cubic B-spline weights of coefficients i−1..i+2 at grid position i + f."""
    i = np.floor(pos)
    f = pos - i
    g = 1.0 - f
    f2 = f * f
    f3 = f2 * f
    return (np.stack([g * g * g / 6.0, 0.5 * f3 - f2 + 2.0 / 3.0,
                      (-3.0 * f3 + 3.0 * f2 + 3.0 * f + 1.0) / 6.0, f3 / 6.0]),
            i.astype(np.intp))


def table() -> Table:
    """The table, built on first use (thread-safe)."""
    global _TABLE
    if _TABLE is None:
        with _LOCK:
            if _TABLE is None:
                _TABLE = _build()
    return _TABLE


def _build() -> Table:
    lo_u, hi_u = np.log(A_RANGE)
    lo_v, hi_v = np.log(B_RANGE)
    u = lo_u + STEP * np.arange(-_MARGIN, int(np.ceil((hi_u - lo_u) / STEP)) + _MARGIN + 1)
    v = lo_v + STEP * np.arange(-_MARGIN, int(np.ceil((hi_v - lo_v) / STEP)) + _MARGIN + 1)
    a = np.repeat(np.exp(u), v.size)
    b = np.tile(np.exp(v), u.size)
    # σ = 1: T = A, r = b/2 (the boundary depends on A and b only)
    values = put_boundary(0.5 * b, np.zeros(a.size), np.ones(a.size), a,
                          np.zeros(a.size, dtype=bool))
    grid = values.reshape(NODES, u.size, v.size)
    if not np.all(np.isfinite(grid)):
        raise ArithmeticError("the exercise-boundary table has non-finite values")
    coef = _spline_coefficients(_spline_coefficients(grid, axis=1), axis=2)
    # between grid points i and i+1 the spline uses c_{i-1..i+2}: array indices i..i+3
    nv = v.size + 2
    offsets = (nv * np.arange(4)[:, None] + np.arange(4)[None, :]).reshape(16, 1)
    return Table(float(u[0]), float(v[0]), nv,
                 np.ascontiguousarray(coef.reshape(NODES, -1)), offsets)


def _spline_coefficients(values: np.ndarray, axis: int) -> np.ndarray:
    """Coefficients c_{-1..n} of the uniform cubic B-spline through n values along ``axis``:
    (c_{i−1} + 4c_i + c_{i+1})/6 = y_i, and at each end a zero fourth difference of the
    coefficients (the cubic of the first two intervals is one polynomial: 'not-a-knot')."""
    n = values.shape[axis]
    m = np.zeros((n + 2, n + 2))
    m[0, :5] = [1.0, -4.0, 6.0, -4.0, 1.0]
    m[-1, -5:] = [1.0, -4.0, 6.0, -4.0, 1.0]
    for i in range(n):
        m[i + 1, i:i + 3] = [1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0]
    y = np.moveaxis(values, axis, 0)
    rhs = np.zeros((n + 2, *y.shape[1:]))
    rhs[1:-1] = y
    c = np.linalg.solve(m, rhs.reshape(n + 2, -1)).reshape(rhs.shape)
    return np.moveaxis(c, 0, axis)
