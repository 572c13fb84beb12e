"""Implied volatility of American options (:func:`alvh_xl.pricing.american.american_price`).

Per element, after the checks shared with the European solver (status codes of
:mod:`alvh_xl.pricing.implied`):

* the price must lie in [zero-vol value, upper bound): the zero-vol value is the
  deterministic limit (at least the intrinsic value), the bound is the strike for a put and
  the spot for a call (the limits as vol → ∞). Below → BELOW_INTRINSIC, at or above →
  ABOVE_MAXIMUM, within rounding noise of the zero-vol value → ZERO_TIME_VALUE (any vol up
  to where the option stops being exercised at once would do).
* Options that are never exercised early (put at zero rate, call without dividend) are
  European: the BSM solver answers, so their vols equal ``model="bsm"``'s.
* Otherwise the American price is increasing in vol and at least the European one, so the
  European implied vol of the price is an upper bound and vol 0 a lower one. From there an
  Anderson–Björck (regula falsi) iteration on price(σ) − price keeps the root bracketed and
  converges superlinearly; each step prices only the elements not yet converged.

Accuracy: the iteration stops when the bracket is below 1e-12 in vol (or the price matches
to rounding), so a price computed by american_price gives its vol back to ~1e-10 wherever
vega per vol point is above ~1e-8 × strike. Against market prices the vol is as good as the
pricer: price error / vega (pricer within a few 1e-6 × strike of QuantLib).
"""

from __future__ import annotations

import numpy as np

from .american import american_price, deterministic
from .implied import (
    ABOVE_MAXIMUM,
    BELOW_INTRINSIC,
    NEGATIVE_CARRY,
    NOT_CONVERGED,
    OK,
    ZERO_TIME_VALUE,
    input_status,
    solve_implied_vol,
)

_MAX_ITER = 60
_VOL_TOL = 1e-12            # bracket width at which the vol is final
_NOISE = 16.0 * np.finfo(float).eps
_MAX_VOL = 100.0            # no quoted price needs a vol above 10 000 %


def american_implied_vol(p, w, s, k, t, r, q) -> tuple[np.ndarray, np.ndarray]:
    """Vol and status per element for flat float arrays (w ±1 or NaN for a bad cp)."""
    vol = np.full(p.size, np.nan)
    status = input_status(w, p, s, k, t, r, q)        # the checks every solver makes first
    with np.errstate(invalid="ignore"):
        status[(status == OK) & ((r < 0) | (q < 0))] = NEGATIVE_CARRY
    live = np.flatnonzero(status == OK)
    if live.size == 0:
        return vol, status
    w, p, s, k, t, r, q = (a[live] for a in (w, p, s, k, t, r, q))
    floor = deterministic(w, s, k, t, r, q)[0]                 # zero-vol value
    cap = np.where(w > 0, s, k)
    noise = _NOISE * (p + np.maximum(s, k))
    st = np.full(live.size, OK, dtype=np.int8)
    st[p < floor - noise] = BELOW_INTRINSIC
    st[(st == OK) & (p <= floor + noise)] = ZERO_TIME_VALUE
    st[(st == OK) & (p >= cap)] = ABOVE_MAXIMUM
    v = np.full(live.size, np.nan)
    euro = (st == OK) & (np.where(w > 0, q, r) == 0.0)
    if euro.any():
        res = solve_implied_vol(p[euro], w[euro], s[euro], k[euro], t[euro], r[euro], q[euro])
        v[euro], st[euro] = res.vol, res.status
    go = np.flatnonzero((st == OK) & ~euro)
    if go.size:
        v[go], st[go] = _solve(*(a[go] for a in (p, w, s, k, t, r, q, floor, noise)))
    vol[live] = v
    status[live] = st
    return vol, status


def _solve(p, w, s, k, t, r, q, floor, noise) -> tuple[np.ndarray, np.ndarray]:
    """Root of american_price(σ) = p, bracketed by [0, European implied vol]."""
    n = p.size
    lo, g_lo = np.zeros(n), floor - p                          # g(0) < 0
    euro = solve_implied_vol(p, w, s, k, t, r, q)
    hi = np.where(euro.status == OK, euro.vol, 1.0)
    g_hi = american_price(w, s, k, t, hi, r, q) - p
    grow = g_hi < 0                                            # no European bound: expand
    for _ in range(10):
        if not grow.any():
            break
        lo[grow], g_lo[grow] = hi[grow], g_hi[grow]
        hi[grow] = np.minimum(4.0 * hi[grow], _MAX_VOL)
        g_hi[grow] = american_price(w[grow], s[grow], k[grow], t[grow], hi[grow], r[grow],
                                    q[grow]) - p[grow]
        grow &= g_hi < 0
    vol = np.full(n, np.nan)
    status = np.full(n, NOT_CONVERGED, dtype=np.int8)
    status[grow] = ABOVE_MAXIMUM
    side = np.zeros(n, dtype=np.int8)                         # which end moved last
    active = np.flatnonzero(~grow)
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        a, b, ga, gb = lo[active], hi[active], g_lo[active], g_hi[active]
        x = a - ga * (b - a) / (gb - ga)                       # regula falsi point
        bad = ~((x > a) & (x < b))
        x = np.where(bad, 0.5 * (a + b), x)
        gx = american_price(w[active], s[active], k[active], t[active], x, r[active],
                            q[active]) - p[active]
        # Anderson–Björck: when the same end is kept twice, scale its g down
        right = gx > 0                                         # root in [a, x]
        keep_a = right & (side[active] == 1)
        keep_b = ~right & (side[active] == -1)
        m = 1.0 - gx / np.where(right, gb, ga)
        m = np.where(m > 0, m, 0.5)
        ga = np.where(keep_a, ga * m, ga)
        gb = np.where(keep_b, gb * m, gb)
        b = np.where(right, x, b)
        gb = np.where(right, gx, gb)
        a = np.where(right, a, x)
        ga = np.where(right, ga, gx)
        side[active] = np.where(right, 1, -1)
        lo[active], hi[active], g_lo[active], g_hi[active] = a, b, ga, gb
        done = (b - a <= _VOL_TOL * np.maximum(b, 1e-3)) | (np.abs(gx) <= noise[active])
        finished = active[done]
        vol[finished] = x[done]
        status[finished] = OK
        active = active[~done]
    # a price that pins the vol only within the noise: vol undetermined
    slope = (g_hi - g_lo) / np.maximum(hi - lo, 1e-300)
    vague = (status == OK) & (noise > 1e-4 * slope * vol)
    status[vague] = ZERO_TIME_VALUE
    vol[status != OK] = np.nan
    return vol, status
