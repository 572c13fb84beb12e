"""European option prices and analytic Greeks, vectorised (generalised Black–Scholes).

One engine serves both models through the cost of carry ``b``:

* Black–Scholes–Merton on spot with continuous dividend yield: ``b = r - q``;
* Black-76 on a forward/future: ``b = 0`` (underlying = forward; rho holds the forward fixed).

Units (SPEC §4), per unit of underlying:

* price — in underlying currency units;
* delta — ∂V/∂S; gamma — ∂²V/∂S²;
* vega — ∂V/∂σ per 1 vol point (÷100);
* theta — value change per calendar day as time passes (÷365), usually negative for longs;
* rho — ∂V/∂r per 1 % rate (÷100);
* vanna — ∂²V/∂S∂σ per vol point; volga — ∂²V/∂σ² per vol point² (÷10⁴);
* charm — change of delta per calendar day as time passes.

Notes
-----
t ≤ 0 gives intrinsic value max(±(S−K), 0) and zero Greeks. vol = 0 gives the
deterministic limit (discounted intrinsic of the forward; delta 0/±1·carry, ½ at the money;
gamma, vega, vanna, volga, charm 0). Large arrays are evaluated in blocks on a small thread
pool (numpy and scipy's ``ndtr`` release the GIL), which halves wall time on two cores.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr

from ..conventions import DAYS_PER_YEAR, RATE_POINT, VOL_POINT
from .inputs import as_float_array, parse_cp

_BLOCK = 4096
_PARALLEL_MIN = 65536
_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
_INV_SQRT_2PI = 0.3989422804014327


class Greeks(NamedTuple):
    """Price and Greeks, each an array of the broadcast input shape (units: module doc)."""

    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    rho: np.ndarray
    vanna: np.ndarray
    volga: np.ndarray
    charm: np.ndarray


def bsm_greeks(cp, spot, strike, t, vol, rate=0.0, div=0.0) -> Greeks:
    """Black–Scholes–Merton price and Greeks on spot with continuous dividend yield.

    Parameters: cp "C"/"P"/"Call"/"Put" (any case) or ±1; spot, strike > 0; t in years
    (ACT/365); vol, rate, div as decimals (0.18, 0.04). Arrays broadcast.
    """
    return _evaluate(cp, spot, strike, t, vol, rate, div, forward_model=False)


def black76_greeks(cp, fwd, strike, t, vol, rate=0.0) -> Greeks:
    """Black-76 price and Greeks on a forward, discounted at ``rate``.

    Delta and gamma are with respect to the forward; rho is ∂V/∂r with the forward held fixed.
    """
    return _evaluate(cp, fwd, strike, t, vol, rate, 0.0, forward_model=True)


def _evaluate(cp, s, k, t, vol, rate, div, *, forward_model: bool) -> Greeks:
    w = parse_cp(cp)
    s = as_float_array(s, "fwd" if forward_model else "spot", positive=True)
    k = as_float_array(k, "strike", positive=True)
    t = as_float_array(t, "t")
    vol = as_float_array(vol, "vol", nonnegative=True)
    r = as_float_array(rate, "rate")
    q = r if forward_model else as_float_array(div, "div")
    arrays = np.broadcast_arrays(w, s, k, t, vol, r, q)
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a, dtype=float).ravel() for a in arrays]
    n = flat[0].size
    out = np.empty((9, n))
    carry_in_rho = 0.0 if forward_model else 1.0
    if n >= _PARALLEL_MIN and _THREADS > 1:
        starts = range(0, n, _BLOCK * 8)
        list(_pool().map(lambda i: _block_range(flat, out, i, min(i + _BLOCK * 8, n),
                                                 carry_in_rho), starts))
    else:
        _block_range(flat, out, 0, n, carry_in_rho)
    return Greeks(*(row.reshape(shape) for row in out))


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(_THREADS, thread_name_prefix="alvh-greeks")
    return _POOL


def _block_range(flat, out, lo, hi, carry_in_rho):
    for i in range(lo, hi, _BLOCK):
        j = min(i + _BLOCK, hi)
        _kernel(*(a[i:j] for a in flat), out[:, i:j], carry_in_rho)


def _kernel(w, s, k, t, vol, r, q, out, carry_in_rho):
    """Fill out[0:9] for one block. Degenerate t ≤ 0 and vol = 0 handled by masks."""
    live = t > 0.0
    tt = np.where(live, t, 1.0)
    sqrt_t = np.sqrt(tt)
    b = r - q
    df_r = np.exp(-r * tt)                 # discount factor
    df_q = np.exp(-q * tt)                 # carry factor e^{(b-r)t}
    fwd = s * np.exp(b * tt)
    sig = vol * sqrt_t
    has_vol = sig > 0.0
    sig_safe = np.where(has_vol, sig, 1.0)
    log_fk = np.log(fwd / k)
    d1 = np.where(has_vol, log_fk / sig_safe + 0.5 * sig_safe, 0.0)
    d2 = d1 - np.where(has_vol, sig_safe, 0.0)
    nd1 = np.where(has_vol, _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1), 0.0)
    # vol = 0: the cdf terms become indicators of moneyness (½ exactly at the money).
    limit = np.where(log_fk > 0.0, np.inf, np.where(log_fk < 0.0, -np.inf, 0.0))
    cdf1 = ndtr(w * np.where(has_vol, d1, limit))
    cdf2 = ndtr(w * np.where(has_vol, d2, limit))
    s_dq = s * df_q
    k_dr = k * df_r
    price = w * (s_dq * cdf1 - k_dr * cdf2)
    np.maximum(price, 0.0, out=price)      # rounding can leave -1e-17 for worthless options
    delta = w * df_q * cdf1
    vol_safe = np.where(has_vol, vol, 1.0)
    gamma = df_q * nd1 / (s * sig_safe)
    vega1 = s_dq * nd1 * sqrt_t            # per unit vol
    theta = -s_dq * nd1 * vol / (2.0 * sqrt_t) - (b - r) * w * s_dq * cdf1 - r * w * k_dr * cdf2
    rho = -tt * price + carry_in_rho * tt * w * s_dq * cdf1
    vanna = -df_q * nd1 * d2 / vol_safe
    volga = vega1 * d1 * d2 / vol_safe
    charm = -(b - r) * delta - df_q * nd1 * (b / sig_safe - d2 / (2.0 * tt))
    for arr in (gamma, vanna, volga, charm):
        arr[~has_vol] = 0.0
    out[0] = price
    out[1] = delta
    out[2] = gamma
    out[3] = vega1 * VOL_POINT
    out[4] = theta / DAYS_PER_YEAR
    out[5] = rho * RATE_POINT
    out[6] = vanna * VOL_POINT
    out[7] = volga * (VOL_POINT * VOL_POINT)
    out[8] = charm / DAYS_PER_YEAR
    if not live.all():
        dead = ~live
        out[:, dead] = 0.0
        out[0, dead] = np.maximum(w[dead] * (s[dead] - k[dead]), 0.0)
