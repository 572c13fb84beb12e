"""Implied volatility, vectorised, for Black–Scholes–Merton (spot, dividend yield) and Black-76
(model="american": American options, :mod:`alvh_xl.pricing.implied_american`).

Every option is reduced to the normalised Black call (Jäckel, "Let's Be Rational", 2013):
with forward F, discount D, x = ln(F/K) and s = σ√t,

    b(x, s) = e^{x/2} Φ(x/s + s/2) − e^{−x/2} Φ(x/s − s/2),   β = price / (D √(FK)).

In-the-money options become out-of-the-money ones by put–call parity and puts become calls
(b is symmetric under x → −x, call ↔ put), so only x ≤ 0 and 0 < β < e^{x/2} are solved.
The initial guess is Jäckel's four-branch rational interpolation; it is refined by
Householder(3) steps on branch-wise objectives (1/ln b in the lowest branch, b itself in the
middle, ln(b_max − b) near the maximum) inside a bracket, iterating only what has not
converged. b is evaluated through erfcx so deep out-of-the-money prices keep full relative
accuracy (no underflow down to the smallest normal prices).

Units: price in underlying currency units, t in years (ACT/365), rates and vols decimals.
Elements that have no solution get NaN and a status code (``STATUS``/``explain``); one bad
element never spoils the rest of the array. Status 7 also covers prices whose rounding noise
(16ε × (price + intrinsic value)) would leave the vol uncertain by more than 1e-4 relative —
deep in-the-money time value lost in rounding, or prices a hair below the maximum — where
any number returned would be noise.

Accuracy (tests/test_implied.py): out of the money ≤ 1e-12 in vol wherever vega per vol
point ≥ 1e-8 × underlying (t 1 minute..5 years, vol 0.5..400 %, K/S 0.1..10); in the money
the float price itself limits it to 1e-10 + 4ε·max(price, S, K)/vega.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import erfcx, ndtr, ndtri

from ..conventions import CALL_PUT_EXPECTED
from ..errors import InputError
from .inputs import cp_codes, floats_or_nan
from .pool import run_blocks

OK, BELOW_INTRINSIC, ABOVE_MAXIMUM, EXPIRED = 0, 1, 2, 3
NOT_A_NUMBER, BAD_INPUT, BAD_CP, ZERO_TIME_VALUE, NOT_CONVERGED = 4, 5, 6, 7, 8
NEGATIVE_CARRY = 9

STATUS: dict[int, str] = {
    OK: "ok",
    BELOW_INTRINSIC: "price below intrinsic value",
    ABOVE_MAXIMUM: "price at or above the no-arbitrage maximum",
    EXPIRED: "expired (t <= 0)",
    NOT_A_NUMBER: "not a number",
    BAD_INPUT: "underlying and strike must be positive",
    BAD_CP: f"cp: expected {CALL_PUT_EXPECTED}",
    ZERO_TIME_VALUE: "no time value left within rounding (price at intrinsic or maximum): "
                     "vol undetermined",
    NOT_CONVERGED: "solver did not converge",
    NEGATIVE_CARRY: "the american model needs rate >= 0 and div >= 0",
}

_MODELS = {"bsm": "bsm", "bs": "bsm", "black76": "black76", "black": "black76", "b76": "black76",
           "american": "american"}

_BLOCK = 32768                # options per thread-pool task
_PARALLEL_MIN = 65536         # below this, one thread (pool.py: none under Pyodide)
_S_MAX = 50.0                 # no representable price needs s = σ√t above ~17
_TOL = 1e-8                   # |step| ≤ 1e-8·s: after a cubic step the error is ≲ 1e-20·s
_MAX_ITER = 40
_NOISE = 16.0 * np.finfo(float).eps  # time value below this × price is rounding noise
_MAX_VAGUE = 1e-4             # largest relative vol uncertainty the price noise may leave
_RT1_2 = 0.7071067811865476   # 1/√2
_INV_SQRT_2PI = 0.3989422804014327
_SQRT_PI_2 = 1.2533141373155003
_SQRT_3 = 1.7320508075688772
_TWO_PI = 6.283185307179586
_C27 = 1.2091995761561452     # 2π/√27
_DBL_MIN = np.finfo(float).tiny
_DBL_MAX = np.finfo(float).max
_R_MIN = -(1.0 - np.sqrt(np.finfo(float).eps))
_R_MAX = 2.0 / np.finfo(float).eps ** 2


class IVResult(NamedTuple):
    """Implied vols (decimal, NaN where there is none) and per-element status codes (int8)."""

    vol: np.ndarray
    status: np.ndarray


def explain(status: int) -> str:
    """Text for a status code from :func:`solve_implied_vol` (e.g. 1 → 'price below …')."""
    return STATUS.get(int(status), f"unknown status {status}")


def implied_vol(price, cp, underlying, strike, t, rate=0.0, div=0.0,
                model: str = "bsm") -> np.ndarray:
    """Implied vol (decimal) per element; NaN where no solution exists (see solve_implied_vol)."""
    return solve_implied_vol(price, cp, underlying, strike, t, rate, div, model).vol


def solve_implied_vol(price, cp, underlying, strike, t, rate=0.0, div=0.0,
                      model: str = "bsm") -> IVResult:
    """Implied vol and status per element; arrays broadcast.

    model "bsm": underlying is spot, forward S·e^{(r−q)t}; "black76": underlying is the
    forward (div ignored). Both discount at ``rate``. "american": American option on spot
    with dividend yield (:mod:`alvh_xl.pricing.implied_american`). cp: "C"/"P"/"Call"/"Put"
    or ±1. t in years; price in currency units per unit of underlying.
    """
    kind = _MODELS.get(str(model).strip().lower())
    if kind is None:
        raise InputError(f"model ({model!r}) must be bsm, black76 or american")
    w = cp_codes(cp)
    if kind == "american":
        from .implied_american import american_implied_vol  # imports this module

        arrays = np.broadcast_arrays(w, *(floats_or_nan(a) for a in (price, underlying, strike, t,
                                                                rate, div)))
        flat = [np.ascontiguousarray(a, dtype=float).ravel() for a in arrays]
        order = (flat[1], flat[0], *flat[2:])                  # price, cp, s, k, t, r, q
        vol, status = american_implied_vol(*order)
        return IVResult(vol.reshape(arrays[0].shape), status.reshape(arrays[0].shape))
    arrays = np.broadcast_arrays(w, *(floats_or_nan(a) for a in (price, underlying, strike, t, rate,
                                                            0.0 if kind == "black76" else div)))
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a, dtype=float).ravel() for a in arrays]
    n = flat[0].size
    vol = np.empty(n)
    status = np.empty(n, dtype=np.int8)
    forward_model = kind == "black76"

    def work(lo: int, hi: int) -> None:
        vol[lo:hi], status[lo:hi] = _block(*(a[lo:hi] for a in flat), forward_model)

    run_blocks(work, n, _BLOCK, _PARALLEL_MIN)
    return IVResult(vol.reshape(shape), status.reshape(shape))


def input_status(w, p, s, k, t, r, q) -> np.ndarray:
    """Status (int8) of the checks every solver makes first, per element of flat float arrays:
    NOT_A_NUMBER (any input NaN or infinite), BAD_INPUT (underlying or strike <= 0), BAD_CP
    (w NaN), EXPIRED (t <= 0); OK where the solver has work to do."""
    with np.errstate(invalid="ignore"):
        status = np.full(w.shape, OK, dtype=np.int8)
        finite = np.isfinite(p) & np.isfinite(s) & np.isfinite(k) & np.isfinite(t)
        finite &= np.isfinite(r) & np.isfinite(q)
        status[~finite] = NOT_A_NUMBER
        status[finite & ((s <= 0) | (k <= 0))] = BAD_INPUT
        status[np.isnan(w) & (status == OK)] = BAD_CP
        status[(status == OK) & (t <= 0)] = EXPIRED
    return status


def _block(w, p, s, k, t, r, q, forward_model):
    """Vol and status for one block of flat float arrays."""
    with np.errstate(all="ignore"):
        status = input_status(w, p, s, k, t, r, q)
        vol = np.full(w.shape, np.nan)
        live = np.flatnonzero(status == OK)
        if live.size == 0:
            return vol, status
        w, p, s, k, t, r, q = (a[live] for a in (w, p, s, k, t, r, q))
        fwd = s if forward_model else s * np.exp((r - q) * t)
        disc = np.exp(-r * t)
        x = np.log(fwd / k)
        beta = p / (disc * np.sqrt(fwd) * np.sqrt(k))
        intrinsic = np.where(w * x > 0, 2.0 * np.sinh(0.5 * np.abs(x)), 0.0)
        noise = _NOISE * (beta + intrinsic)  # rounding in β and in the parity subtraction
        beta = beta - intrinsic
        x = -np.abs(x)                       # out-of-the-money call from here on
        b_max = np.exp(0.5 * x)
        st = np.full(live.size, OK, dtype=np.int8)
        st[beta <= np.maximum(noise, _DBL_MIN)] = ZERO_TIME_VALUE
        st[beta < -noise] = BELOW_INTRINSIC
        st[beta >= b_max] = ABOVE_MAXIMUM
        st[np.isnan(beta)] = NOT_A_NUMBER
        v = np.full(live.size, np.nan)
        go = np.flatnonzero(st == OK)
        if go.size:
            sig, conv = _normalised_iv(beta[go], x[go], b_max[go])
            # Vol the price cannot pin down (rounding noise / vega too large) is not a solution.
            vague = conv & (noise[go] > _MAX_VAGUE * _vega(x[go], sig) * sig)
            v[go] = np.where(conv & ~vague, sig / np.sqrt(t[go]), np.nan)
            st[go[~conv]] = NOT_CONVERGED
            st[go[vague]] = ZERO_TIME_VALUE
        vol[live] = v
        status[live] = st
    return vol, status


# --- normalised Black on x ≤ 0 ------------------------------------------------------------

def _black(x, s):
    """b(x, s) = ½ e^{−(h²+t²)/2} [erfcx(−(h+t)/√2) − erfcx((t−h)/√2)], h = x/s, t = s/2."""
    h = x / s
    t = 0.5 * s
    return 0.5 * np.exp(-0.5 * (h * h + t * t)) * (erfcx(-(h + t) * _RT1_2)
                                                    - erfcx((t - h) * _RT1_2))


def _vega(x, s):
    """∂b/∂s."""
    h = x / s
    return _INV_SQRT_2PI * np.exp(-0.5 * (h * h + 0.25 * s * s))


def _normalised_iv(beta, x, b_max):
    """s = σ√t with b(x, s) = β for x ≤ 0, 0 < β < e^{x/2}; returns (s, converged)."""
    s, lo, hi, obj = _initial_guess(beta, x, b_max)
    done = np.zeros(beta.size, dtype=bool)
    for code, step in ((0, _step_low), (1, _step_mid), (2, _step_up)):
        members = np.flatnonzero(obj == code)
        if members.size == 0:
            continue
        xs, bs = x[members], beta[members]
        target = np.log(b_max[members] - bs) if code == 2 else (np.log(bs) if code == 0 else bs)
        ss, ls, hs = s[members], lo[members], hi[members]
        ok = np.zeros(members.size, dtype=bool)
        idx = np.arange(members.size)
        for it in range(_MAX_ITER):
            if it >= 2:                      # the first two steps run on the whole group
                idx = idx[~ok[idx]]
                if idx.size == 0:
                    break
            sel = slice(None) if it < 2 else idx
            ss[sel], ls[sel], hs[sel], conv = step(ss[sel], ls[sel], hs[sel], xs[sel],
                                                  target[sel])
            ok[sel] |= conv
        s[members] = ss
        done[members] = ok
    return s, done & np.isfinite(s) & (s > 0)


def _derivative_ratios(x, s):
    """Ratios b''/b' and b'''/b' of the normalised Black call in s."""
    hs = x / (s * s)
    halley = hs * hs * s - 0.25 * s
    return halley, halley * halley - 3.0 * hs * hs - 0.25


def _finish(s, lo, hi, newton, halley, hh3, too_high, too_low):
    """Householder(3) step from newton = −g/g', halley = g''/g', hh3 = g'''/g' in a bracket."""
    hi = np.where(too_high & (s < hi), s, hi)
    lo = np.where(too_low & (s > lo), s, lo)
    ds = newton * (1.0 + 0.5 * halley * newton) / (1.0 + newton * (halley + hh3 * newton / 6.0))
    ds = np.maximum(-0.5 * s, ds)
    conv = np.abs(ds) <= _TOL * s
    s_new = s + ds
    outside = ~conv & ~((s_new >= lo) & (s_new <= hi))
    return np.where(outside, 0.5 * (lo + hi), s_new), lo, hi, conv


def _step_low(s, lo, hi, x, ln_beta):
    """Lowest branch, objective g = 1/ln b − 1/ln β (b through erfcx: no underflow)."""
    h = x / s
    t = 0.5 * s
    c = 0.5 * (erfcx(-(h + t) * _RT1_2) - erfcx((t - h) * _RT1_2))
    ln_b = np.log(c) - 0.5 * (h * h + t * t)
    bpob = _INV_SQRT_2PI / c                 # b'/b
    b_halley, b_hh3 = _derivative_ratios(x, s)
    k2 = 1.0 + 2.0 / ln_b
    newton = (ln_beta - ln_b) * ln_b / ln_beta / bpob
    halley = b_halley - bpob * k2
    hh3 = b_hh3 + 2.0 * bpob * bpob * (1.0 + 3.0 / ln_b * (1.0 + 1.0 / ln_b)) \
        - 3.0 * b_halley * bpob * k2
    return _finish(s, lo, hi, newton, halley, hh3, ln_b > ln_beta, ln_b < ln_beta)


def _step_mid(s, lo, hi, x, beta):
    """Middle branches, objective g = b − β."""
    h = x / s
    t = 0.5 * s
    e = np.exp(-0.5 * (h * h + t * t))
    b = 0.5 * e * (erfcx(-(h + t) * _RT1_2) - erfcx((t - h) * _RT1_2))
    newton = (beta - b) / (_INV_SQRT_2PI * e)
    halley, hh3 = _derivative_ratios(x, s)
    return _finish(s, lo, hi, newton, halley, hh3, b > beta, b < beta)


def _step_up(s, lo, hi, x, ln_gap):
    """Upper branch, objective g = ln(b_max − β) − ln(b_max − b)."""
    h = x / s
    t = 0.5 * s
    c = 0.5 * (erfcx((h + t) * _RT1_2) + erfcx((t - h) * _RT1_2))
    ln_g = np.log(c) - 0.5 * (h * h + t * t)   # ln(b_max − b)
    gp = _INV_SQRT_2PI / c
    b_halley, b_hh3 = _derivative_ratios(x, s)
    newton = (ln_g - ln_gap) / gp
    halley = b_halley + gp
    hh3 = b_hh3 + gp * (2.0 * gp + 3.0 * b_halley)
    return _finish(s, lo, hi, newton, halley, hh3, ln_g < ln_gap, ln_g > ln_gap)


# --- Jäckel's initial guess ---------------------------------------------------------------

def _initial_guess(beta, x, b_max):
    """Initial s, bracket [lo, hi] and objective code per element (four branches)."""
    n = beta.size
    s_c = np.sqrt(-2.0 * x)
    # At s_c, x/s + s/2 = 0: b_c = e^{x/2}/2 − e^{−x/2} Φ(−s_c) (accurate enough to branch on).
    b_c = np.maximum(0.5 * b_max - ndtr(-s_c) / b_max, 0.0)
    v_c = _INV_SQRT_2PI * b_max
    lower = beta < b_c
    s_l = np.maximum(s_c - b_c / v_c, 1e-300)
    s_h = np.where(v_c > _DBL_MIN, s_c + (b_max - b_c) / v_c, s_c)
    s_2 = np.where(lower, s_l, s_h)
    b_2 = np.where(s_2 > 0, _black(x, s_2), 0.0)
    v_2 = _vega(x, s_2)
    s = np.empty(n)
    lo = np.zeros(n)
    hi = np.full(n, _S_MAX)
    obj = np.ones(n, dtype=np.int8)

    ll = np.flatnonzero(lower & (beta < b_2))
    if ll.size:
        s[ll] = _guess_lowest(beta[ll], x[ll], s_l[ll], b_2[ll])
        hi[ll] = s_l[ll]
        obj[ll] = 0
    lm = np.flatnonzero(lower & (beta >= b_2))
    if lm.size:
        bl, bc, sl, sc = b_2[lm], b_c[lm], s_l[lm], s_c[lm]
        dl, dr = 1.0 / v_2[lm], 1.0 / v_c[lm]
        r = _convex_fit_right(bl, bc, sl, sc, dl, dr, 0.0, False)
        s[lm] = _rational_cubic(beta[lm], bl, bc, sl, sc, dl, dr, r)
        lo[lm], hi[lm] = sl, sc
    um = np.flatnonzero(~lower & (beta <= b_2))
    if um.size:
        bc, bh, sc, sh = b_c[um], b_2[um], s_c[um], s_h[um]
        dl, dr = 1.0 / v_c[um], 1.0 / v_2[um]
        r = _convex_fit_left(bc, bh, sc, sh, dl, dr, 0.0, False)
        s[um] = _rational_cubic(beta[um], bc, bh, sc, sh, dl, dr, r)
        lo[um], hi[um] = sc, sh
    uu = np.flatnonzero(~lower & (beta > b_2))
    if uu.size:
        s[uu] = _guess_highest(beta[uu], x[uu], s_h[uu], b_2[uu], b_max[uu])
        lo[uu] = s_h[uu]
        obj[uu] = np.where(beta[uu] > 0.5 * b_max[uu], 2, 1)
    bad = ~np.isfinite(s) | (s <= lo) | (s >= hi)
    s = np.where(bad, 0.5 * (lo + hi), s)
    return s, lo, hi, obj


def _guess_lowest(beta, x, s_l, b_l):
    ax = np.abs(x)
    z = ax / (_SQRT_3 * s_l)
    y = z * z
    s2 = s_l * s_l
    cdf = ndtr(-z)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * y)
    fpp = (np.pi / 6.0) * y / (s2 * s_l) * cdf * (
        8.0 * _SQRT_3 * s_l * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * cdf / pdf
    ) * np.exp(2.0 * y + 0.25 * s2)
    fp = _TWO_PI * y * cdf * cdf * np.exp(y + 0.125 * s2)
    f_l = _C27 * ax * cdf ** 3
    r = _convex_fit_right(0.0, b_l, 0.0, f_l, 1.0, fp, fpp, True)
    f = _rational_cubic(beta, 0.0, b_l, 0.0, f_l, 1.0, fp, r)
    tt = beta / b_l
    f = np.where(f > 0, f, (f_l * tt + b_l * (1.0 - tt)) * tt)
    return np.abs(x / (_SQRT_3 * ndtri(np.cbrt(f / (_C27 * ax)))))


def _guess_highest(beta, x, s_h, b_h, b_max):
    f_h = ndtr(-0.5 * s_h)
    wv = (x / s_h) ** 2
    fp = -0.5 * np.exp(0.5 * wv)
    fpp = _SQRT_PI_2 * np.exp(wv + 0.125 * s_h * s_h) * wv / s_h
    r = _convex_fit_left(b_h, b_max, f_h, 0.0, fp, -0.5, fpp, True)
    f = np.where(np.isfinite(fpp), _rational_cubic(beta, b_h, b_max, f_h, 0.0, fp, -0.5, r), -1.0)
    gap = b_max - b_h
    tt = (beta - b_h) / gap
    f = np.where(f > 0, f, (f_h * (1.0 - tt) + 0.5 * gap * tt) * (1.0 - tt))
    return -2.0 * ndtri(f)


def _rational_cubic(x, x_l, x_r, y_l, y_r, d_l, d_r, r):
    """Delbourgo–Gregory rational cubic through (x_l, y_l), (x_r, y_r) with slopes d_l, d_r."""
    h = x_r - x_l
    t = (x - x_l) / h
    omt = 1.0 - t
    cubic = (y_r * t * t * t + (r * y_r - h * d_r) * t * t * omt
             + (r * y_l + h * d_l) * t * omt * omt + y_l * omt * omt * omt) \
        / (1.0 + (r - 3.0) * t * omt)
    out = np.where(r >= _R_MAX, y_r * t + y_l * omt, cubic)
    return np.where(np.abs(h) > 0, out, 0.5 * (y_l + y_r))


def _fit(num, den):
    r = np.where(np.abs(den) < _DBL_MIN, np.where(num > 0, _R_MAX, _R_MIN), num / den)
    return np.where(np.abs(num) < _DBL_MIN, 0.0, r)


def _convex_fit_right(x_l, x_r, y_l, y_r, d_l, d_r, d2_r, prefer_shape):
    h = x_r - x_l
    r = _fit(0.5 * h * d2_r + (d_r - d_l), d_r - (y_r - y_l) / h)
    return np.maximum(r, _min_control(d_l, d_r, (y_r - y_l) / h, prefer_shape))


def _convex_fit_left(x_l, x_r, y_l, y_r, d_l, d_r, d2_l, prefer_shape):
    h = x_r - x_l
    r = _fit(0.5 * h * d2_l + (d_r - d_l), (y_r - y_l) / h - d_l)
    return np.maximum(r, _min_control(d_l, d_r, (y_r - y_l) / h, prefer_shape))


def _min_control(d_l, d_r, s, prefer_shape):
    """Smallest control parameter keeping the interpolant monotone/convex where possible."""
    d_l, d_r, s = np.broadcast_arrays(d_l, d_r, s)
    monotonic = (d_l * s >= 0) & (d_r * s >= 0)
    convex = (d_l <= s) & (s <= d_r)
    concave = (d_l >= s) & (s >= d_r)
    s_zero = np.abs(s) < _DBL_MIN
    r1 = np.where(monotonic & ~s_zero, (d_r + d_l) / s, -_DBL_MAX)
    if prefer_shape:
        r1 = np.where(monotonic & s_zero, _R_MAX, r1)
    shaped = convex | concave
    spread = ~((np.abs(s - d_l) < _DBL_MIN) | (np.abs(d_r - s) < _DBL_MIN))
    r2 = np.where(shaped & spread,
                  np.maximum(np.abs((d_r - d_l) / (d_r - s)), np.abs((d_r - d_l) / (s - d_l))),
                  -_DBL_MAX)
    if prefer_shape:
        r2 = np.where(shaped & ~spread, _R_MAX, r2)
        r2 = np.where(~shaped & monotonic, _R_MAX, r2)
    r = np.maximum(_R_MIN, np.maximum(r1, r2))
    return np.where(monotonic | shaped, r, _R_MIN)
