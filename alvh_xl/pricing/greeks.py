"""European option prices and analytic Greeks, vectorised (generalised Black–Scholes).

One engine serves both models through the cost of carry ``b``:

* Black–Scholes–Merton on spot with continuous dividend yield: ``b = r - q``;
* Black-76 on a forward/future: ``b = 0`` (underlying = forward; rho holds the forward fixed).

Units (SPEC §4), per unit of underlying:

* price — in underlying currency units;
* delta — ∂V/∂S; gamma — ∂²V/∂S²;
* vega — ∂V/∂σ per 1 vol point (÷100);
* theta — value change per calendar day as time passes (−∂V/∂t ÷ 365), usually negative;
* rho — ∂V/∂r per 1 % rate (÷100);
* vanna — ∂²V/∂S∂σ per vol point; volga — ∂²V/∂σ² per vol point² (÷10⁴);
* charm — change of delta per calendar day as time passes (−∂Δ/∂t ÷ 365).

Degenerate inputs
-----------------
t ≤ 0 gives intrinsic value max(±(S−K), 0) and zero Greeks. vol·√t = 0 (vol = 0, or below
1e-100) gives the deterministic limit: the discounted intrinsic value of the forward (weight ½
exactly at the forward) with its exact delta, theta, rho and charm; gamma, vega, vanna and
volga are 0 there.

Speed
-----
Arrays are evaluated in blocks of 16384 with reused per-thread buffers (every numpy call
writes ``out=``), so intermediates stay in cache; large inputs are split over a small thread
pool (numpy and scipy's ``ndtr`` release the GIL). About 60 array operations per option.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr

from ..conventions import DAYS_PER_YEAR, RATE_POINT, VOL_POINT
from ..errors import InputError
from .inputs import as_float_array, parse_cp
from .pool import run_blocks

_BLOCK = 16384                   # options per block (12 buffers × 128 kB per thread)
_CHUNK = 8 * _BLOCK              # options per thread-pool task
_PARALLEL_MIN = 65536            # below this, one thread (pool.py: none under Pyodide)
_SIG_MIN = 1e-100                # vol·√t at or below this is the deterministic limit
_INV_SQRT_2PI = 0.3989422804014327
_N_BUF = 12


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
    (ACT/365); vol ≥ 0, rate, div as continuous decimals (0.18, 0.04). Arrays broadcast.
    Rho is ∂V/∂r with the dividend yield held fixed.
    """
    return _evaluate(cp, spot, strike, t, vol, rate, div, forward_model=False)


def black76_greeks(cp, fwd, strike, t, vol, rate=0.0) -> Greeks:
    """Black-76 price and Greeks on a forward, discounted at ``rate``.

    Delta and gamma are with respect to the forward; rho is ∂V/∂r with the forward held fixed.
    """
    return _evaluate(cp, fwd, strike, t, vol, rate, None, forward_model=True)


# ----------------------------------------------------------------------------- driver

def _evaluate(cp, s, k, t, vol, rate, div, *, forward_model: bool) -> Greeks:
    args = [parse_cp(cp),
            as_float_array(s, "fwd" if forward_model else "spot", positive=True),
            as_float_array(k, "strike", positive=True),
            as_float_array(t, "t"),
            as_float_array(vol, "vol", nonnegative=True),
            as_float_array(rate, "rate")]
    if not forward_model:
        args.append(as_float_array(div, "div"))
    try:
        shape = np.broadcast_shapes(*(a.shape for a in args))
    except ValueError:
        names = ("cp", "fwd" if forward_model else "spot", "strike", "t", "vol", "rate", "div")
        listed = ", ".join(f"{nm} {a.shape}" for nm, a in zip(names[:len(args)], args,
                                                               strict=True) if a.ndim)
        raise InputError(f"input shapes do not broadcast together: {listed}") from None
    n = int(np.prod(shape))
    # Size-1 inputs stay scalars (cheaper in every operation); others become flat arrays.
    flat = [float(a.reshape(-1)[0]) if a.size == 1
            else np.ascontiguousarray(np.broadcast_to(a, shape), dtype=float).reshape(-1)
            for a in args]
    if forward_model:
        flat.append(None)
    out = np.empty((9, n))
    run_blocks(lambda lo, hi: _run(flat, out, lo, hi), n, _CHUNK, _PARALLEL_MIN)
    return Greeks(*(row.reshape(shape) for row in out))


class _Scratch(threading.local):
    """Per-thread work buffers, grown on demand and reused across calls."""

    def __init__(self) -> None:
        self.buf = np.empty((_N_BUF, 0))
        self.ok = np.empty(0, dtype=bool)

    def get(self, m: int) -> tuple[list[np.ndarray], np.ndarray]:
        if self.buf.shape[1] < m:
            self.buf = np.empty((_N_BUF, m))
            self.ok = np.empty(m, dtype=bool)
        return [row[:m] for row in self.buf], self.ok[:m]


_SCRATCH = _Scratch()


def _run(flat, out, lo, hi) -> None:
    for i in range(lo, hi, _BLOCK):
        j = min(i + _BLOCK, hi)
        args = [a if a is None or isinstance(a, float) else a[i:j] for a in flat]
        _kernel(*args, out[:, i:j])


# ----------------------------------------------------------------------------- kernel

def _kernel(w, s, k, t, vol, r, q, out) -> None:
    """Fill out[0:9] (price … charm, SPEC units) for one block; q None means Black-76."""
    m = out.shape[1]
    (sqt, sig, df_r, df_q, lfk, d1, d2, nd, cdf1, cdf2, a, b), ok = _SCRATCH.get(m)
    price, delta, gamma, vega, theta, rho, vanna, volga, charm = out

    np.maximum(t, 0.0, out=sqt)
    np.sqrt(sqt, out=sqt)
    np.multiply(vol, sqt, out=sig)
    np.greater(sig, _SIG_MIN, out=ok)
    degenerate = not ok.all()
    if degenerate:  # evaluate with harmless stand-ins, overwrite those entries at the end
        t_in, vol_in = t, vol
        t, vol = np.where(ok, t, 1.0), np.where(ok, vol, 1.0)
        np.sqrt(t, out=sqt)
        np.multiply(vol, sqt, out=sig)

    _discount(r, t, df_r)
    if q is None:
        df_q = df_r                       # Black-76: carry factor = discount factor
    else:
        _discount(q, t, df_q)
    np.multiply(s, df_q, out=a)           # a = S e^{-qt}
    np.multiply(k, df_r, out=b)           # b = K e^{-rt}
    np.divide(a, b, out=lfk)
    np.log(lfk, out=lfk)                  # ln(F/K)

    np.divide(lfk, sig, out=d1)
    np.multiply(sig, 0.5, out=d2)
    np.add(d1, d2, out=d1)                # d1 = ln(F/K)/σ√t + σ√t/2
    np.subtract(d1, sig, out=d2)          # d2 = d1 − σ√t
    np.subtract(a, b, out=lfk)            # (ln F/K is used up) the price's lower bound:
    np.multiply(lfk, w, out=lfk)
    np.maximum(lfk, 0.0, out=lfk)         # max(w(S e^{-qt} − K e^{-rt}), 0)
    np.square(d1, out=nd)
    np.multiply(nd, -0.5, out=nd)
    np.exp(nd, out=nd)
    np.multiply(nd, df_q, out=nd)
    np.multiply(nd, _INV_SQRT_2PI, out=nd)  # nd = e^{-qt} φ(d1)
    _signed_cdf(w, d1, cdf1)              # N(w d1)
    _signed_cdf(w, d2, cdf2)              # N(w d2)

    np.multiply(a, cdf1, out=a)
    np.multiply(b, cdf2, out=b)
    if not isinstance(w, float) or w != 1.0:
        np.multiply(a, w, out=a)          # a = w S e^{-qt} N(w d1)
        np.multiply(b, w, out=b)          # b = w K e^{-rt} N(w d2)
    np.subtract(a, b, out=price)
    np.maximum(price, lfk, out=price)     # rounding can leave it 1e-16 below the bound
    np.divide(a, s, out=delta)

    np.multiply(s, sig, out=gamma)
    np.divide(nd, gamma, out=gamma)       # e^{-qt} φ / (S σ√t)
    np.multiply(nd, s, out=cdf1)
    np.multiply(cdf1, sqt, out=cdf1)      # cdf1 = ∂V/∂σ = S e^{-qt} φ √t (per unit vol)
    np.multiply(cdf1, VOL_POINT, out=vega)

    # theta per year = −S e^{-qt} φ σ / (2√t) + q a − r b = −(∂V/∂σ) σ / (2t) + q a − r b
    np.multiply(cdf1, vol, out=theta)
    np.divide(theta, t, out=theta)
    np.multiply(theta, -0.5, out=theta)
    if q is None:
        np.multiply(price, r, out=cdf2)
        np.add(theta, cdf2, out=theta)    # q a − r b = r V when q = r
        np.multiply(price, t, out=rho)
        np.multiply(rho, -RATE_POINT, out=rho)  # forward held fixed: ∂V/∂r = −t V
    else:
        np.multiply(a, q, out=cdf2)
        np.add(theta, cdf2, out=theta)
        np.multiply(b, r, out=cdf2)
        np.subtract(theta, cdf2, out=theta)
        np.multiply(b, t, out=rho)
        np.multiply(rho, RATE_POINT, out=rho)  # ∂V/∂r = w K t e^{-rt} N(w d2)
    np.multiply(theta, 1.0 / DAYS_PER_YEAR, out=theta)

    if q is not None:                     # carry part of charm: e^{-qt} φ (r − q) / (σ√t)
        np.subtract(r, q, out=charm)
        np.divide(charm, sig, out=charm)
        np.multiply(charm, nd, out=charm)
    np.multiply(nd, d2, out=nd)           # nd = e^{-qt} φ d2
    np.divide(nd, vol, out=vanna)
    np.multiply(vanna, -VOL_POINT, out=vanna)  # −e^{-qt} φ d2 / σ
    np.multiply(d1, d2, out=d1)
    np.multiply(d1, cdf1, out=d1)
    np.divide(d1, vol, out=volga)
    np.multiply(volga, VOL_POINT * VOL_POINT, out=volga)  # vega d1 d2 / σ

    # charm per year = q Δ + e^{-qt} φ d2 / (2t) − e^{-qt} φ (r − q) / (σ√t)
    np.divide(nd, t, out=nd)
    np.multiply(nd, 0.5, out=nd)
    if q is None:
        np.multiply(delta, r, out=charm)
    else:
        np.subtract(nd, charm, out=nd)
        np.multiply(delta, q, out=charm)
    np.add(charm, nd, out=charm)
    np.multiply(charm, 1.0 / DAYS_PER_YEAR, out=charm)

    if degenerate:
        _deterministic_limit(~ok, w, s, k, t_in, vol_in, r, q, out)


def _discount(rate, t, out: np.ndarray) -> None:
    np.multiply(rate, t, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)


def _signed_cdf(w, d: np.ndarray, out: np.ndarray) -> None:
    if isinstance(w, float):
        ndtr(d if w == 1.0 else -d, out=out)
    else:
        np.multiply(w, d, out=out)
        ndtr(out, out=out)


def _deterministic_limit(bad, w, s, k, t, vol, r, q, out) -> None:
    """Overwrite entries with t ≤ 0 (intrinsic) or vol·√t ≈ 0 (deterministic forward)."""
    def pick(x):
        return x if isinstance(x, float) else x[bad]

    forward_model = q is None
    w, s, k, t, r = pick(w), pick(s), pick(k), pick(t), pick(r)
    q = r if forward_model else pick(q)
    t_pos = np.maximum(t, 0.0)
    a = s * np.exp(-q * t_pos)            # S e^{-qt}
    b = k * np.exp(-r * t_pos)            # K e^{-rt}
    side = np.sign(w * (a - b))           # +1 in the money, ½ weight exactly at the forward
    weight = w * np.where(side > 0, 1.0, np.where(side < 0, 0.0, 0.5))
    price = weight * (a - b)
    delta = weight * np.exp(-q * t_pos)
    theta = weight * (q * a - r * b)
    rho = t_pos * (-price if forward_model else weight * b)
    charm = q * delta
    zero = 0.0 * price
    expired = t <= 0.0
    values = (price, delta, zero, zero, theta / DAYS_PER_YEAR, rho * RATE_POINT, zero, zero,
              charm / DAYS_PER_YEAR)
    for row, value in zip(out, values, strict=True):
        row[bad] = np.where(expired, 0.0, value)
    out[0][bad] = np.where(expired, np.maximum(w * (s - k), 0.0), price)
