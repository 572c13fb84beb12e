"""American options on spot with a continuous dividend yield (options on vol ETPs): price
and Greeks, vectorised.

Same parameters, order, ``Greeks`` and units as :func:`alvh_xl.pricing.greeks.bsm_greeks`
(SPEC §4), per unit of underlying: price; delta ∂V/∂S; gamma ∂²V/∂S²; vega per vol point;
theta per calendar day as time passes; rho per 1 % rate (dividend yield fixed); vanna per
vol point; volga per vol point²; charm per calendar day.

Method
------
Calls are puts by put–call symmetry, C(S, K, r, q, σ) = P(K, S, q, r, σ), so everything is
computed for a put with spot S′, strike K′, rate r′, yield q′ as K′·f(x), x = ln(S′/K′):
the exercise boundary from :mod:`alvh_xl.pricing.exercise_boundary` (Andersen–Lake–
Offengelter fixed point), f and its x-derivatives from :mod:`alvh_xl.pricing.american_premium`.
For a put without dividend (the ETP case) the boundary depends on σ²T and r/σ² only and
comes from :mod:`alvh_xl.pricing.boundary_table`, built once per process by the same
solver (price within 5e-8 × K′ of solving); otherwise it is solved per option.

* r′ = 0 (a put at zero rate, a call without dividend): never exercised early; the values
  are :func:`bsm_greeks`'s, exactly (the price floored at the exercise value, which rounding
  can undercut by ~1e-15 deep in the money). So are those with r′·t ≤ 1e-12, whose early-exercise
  premium (at most r′·t × K′) is below rounding.
* Delta, gamma: analytic from f′, f″. Theta and charm: the price solves the Black–Scholes
  equation in the continuation region, ∂f/∂τ = ½σ²f″ + (r′−q′−σ²/2)f′ − r′f, and its
  x-derivative (f‴).
* Vega, vanna, volga: central differences of f, f′ at σ(1 ± 1e-4), each with its own
  boundary (from the table, which reuses the coefficients it gathered, or solved). These
  use the formula value even where a bumped boundary passes S, so they stay smooth next to
  the boundary. Not by the envelope theorem: the price is stationary in the boundary as
  the value of a stopping rule, but f = European + premium(B) is not (∂f/∂ln B(u) =
  r′e^{−r′u}φ(d₋)/(σ√u) > 0 for q′ = 0), so a premium with B frozen misses the
  boundary's part of vega (measured: 1.3 % of vega at the median, all of it next to B(T)).
* Rho: f depends on σ, τ, r only through σ²τ and r/σ² (and q/σ²), so for a put without
  dividend r∂f/∂r = τ∂f/∂τ − (σ/2)∂f/∂σ; otherwise one more boundary, the original rate
  moved up by 1e-4 × max(rate, 1e-3) (one-sided: a call's put-frame yield may be 0). Where
  r ≈ q the formula's slope in the rate changes quickly (X = min(1, r/q) has a kink
  there): rho is then within ~1 % of QuantLib's, not 0.1 % (measured 0.9 % at
  |r − q| = 6e-5, 0.3 % at 3e-3).
* At or below the exercise boundary B(T): intrinsic value, delta ∓1, all else 0. Just
  above it the formula can fall short of the exercise value by its discretisation error
  (at most 1.7e-5 × K′ measured): the price is floored at the exercise value, the Greeks
  stay the formula's (finite differences of the price there see the floor).

Degenerate inputs (as bsm_greeks): t ≤ 0 gives intrinsic value and zero Greeks. vol·√t ≤ 1e-8
(the fixed point needs 1/σ², and the limit is within 1e-8 × S of the price) gives the
deterministic limit: the best of exercising now, at expiry or at the one interior
time where e^{−ru}K − e^{−qu}S is stationary, with the envelope-theorem Greeks.

Inputs: rate ≥ 0 and div ≥ 0 (SPEC: rates 0–6 %, ETPs pay no dividend). The boundary is
solved for a positive put-frame rate; negative rates or yields lead to cases this engine
does not model (a call at r < 0 without dividend has r′ = 0 yet is exercised early;
q < r < 0 gives a put two boundaries), so they raise InputError rather than return a guess.

Accuracy against QuantLib 1.44 (tests/test_american.py prints the table) over T 1 day–2
years, vol 30–250 %, S/K 0.5–2, rate 0–6 %, div 0–8 %: price within 1e-4 × strike (worst
measured 3e-6), delta and vega within 1e-3 relative with floors 1e-5 (delta) and
1e-5·S·√T per vol point (vega) (worst measured 0.15 of that, next to the boundary). The
other Greeks agree with finite differences of :func:`american_price` to 1e-3 relative +
1e-4 of their natural size. Below 30 % vol spot checks stay within 3e-5 × strike of
QuantLib down to vol 0.3 %; that range is not part of the tests.

Speed (benchmarks/bench_american.py, 1e5 options, two threads on this 2-core machine shared
with other jobs, load average 2.0–3.0, best of 7 in three runs; benchmarks/README.md):
price + all Greeks 0.17 s for an ETP book (half calls without dividend, European), 0.28–
0.33 s for puts only, 2.3–2.5 s for puts and calls with a dividend (boundary solved: four
solves per option); price alone 0.06 / 0.10–0.12 / 0.4–0.6 s. A QuantLib QdFp loop takes
13–30 s for the same. The table costs 0.06–0.3 s once per process.
"""

from __future__ import annotations

import numpy as np

from ..conventions import DAYS_PER_YEAR, RATE_POINT, VOL_POINT
from ..errors import InputError, describe
from .american_premium import put_x_derivatives
from .boundary_table import covered, table_boundary
from .exercise_boundary import NODES, put_boundary, value_form
from .greeks import Greeks, bsm_greeks
from .inputs import as_float_array, parse_cp
from .pool import run_blocks

_BLOCK = 4096                    # options per block when the boundary is from the table,
_SOLVED_BLOCK = 1024             # when it is solved (work arrays stay in cache); two blocks
                                 # or more go to the thread pool
_SIG_MIN = 1e-8                  # vol·√t at or below this: the deterministic limit (it is
                                 # within 1e-8 × S of the price; the fixed point needs σ²)
_CARRY_MIN = 1e-12               # r′·t at or below this: European (premium ≤ r′·t × K′)
_VOL_BUMP = 1e-4                 # relative vol bump for vega, vanna, volga
_RATE_BUMP = 1e-4                # rate step for rho (one-sided) × max(rate, _RATE_FLOOR)
_RATE_FLOOR = 1e-3
_SHORTFALL = 1e-4                # formula below exercise value by more than this × K′: exercise
_NAMES = ("cp", "spot", "strike", "t", "vol", "rate", "div")


def american_greeks(cp, spot, strike, t, vol, rate=0.0, div=0.0) -> Greeks:
    """Price and Greeks of American options; parameters and units as ``bsm_greeks``.

    cp "C"/"P"/"Call"/"Put" (any case) or ±1; spot, strike > 0; t in years (ACT/365); vol ≥ 0,
    rate ≥ 0, div ≥ 0 as continuous decimals. Arrays broadcast.
    """
    return Greeks(*_evaluate(cp, spot, strike, t, vol, rate, div, greeks=True))


def american_price(cp, spot, strike, t, vol, rate=0.0, div=0.0) -> np.ndarray:
    """American option price per unit of underlying (fast path: no Greeks); as above."""
    return _evaluate(cp, spot, strike, t, vol, rate, div, greeks=False)[0]


# ----------------------------------------------------------------------------- driver

def _evaluate(cp, s, k, t, vol, rate, div, *, greeks: bool) -> list[np.ndarray]:
    args = [parse_cp(cp), as_float_array(s, "spot", positive=True),
            as_float_array(k, "strike", positive=True), as_float_array(t, "t"),
            as_float_array(vol, "vol", nonnegative=True), as_float_array(rate, "rate"),
            as_float_array(div, "div")]
    for name, arr in (("rate", args[5]), ("div", args[6])):
        if arr.size and arr.min() < 0:
            raise InputError(f"{name} ({describe(float(arr.min()))}) must not be negative "
                             "for American options")
    try:
        shape = np.broadcast_shapes(*(a.shape for a in args))
    except ValueError:
        listed = ", ".join(f"{nm} {a.shape}" for nm, a in zip(_NAMES, args, strict=True)
                           if a.ndim)
        raise InputError(f"input shapes do not broadcast together: {listed}") from None
    w, s, k, t, vol, r, q = (np.ascontiguousarray(np.broadcast_to(a, shape),
                                                  dtype=float).reshape(-1) for a in args)
    rows = 9 if greeks else 1
    out = np.zeros((rows, w.size))
    expired = t <= 0.0
    out[0, expired] = np.maximum(w[expired] * (s[expired] - k[expired]), 0.0)
    live = ~expired
    # early exercise needs a positive put-frame rate: r for puts, q for calls
    early = live & (np.where(w > 0, q, r) * np.where(live, t, 0.0) > _CARRY_MIN)
    european = np.flatnonzero(live & ~early)
    if european.size:
        res = bsm_greeks(*(a[european] for a in (w, s, k, t, vol, r, q)))
        out[:, european] = np.stack(res[:rows])
        # never below exercising now (deep in the money, rounding can put BSM 1e-15 under)
        out[0, european] = np.maximum(out[0, european],
                                      np.maximum(w[european] * (s[european] - k[european]), 0.0))
    flat = early & (vol * np.sqrt(np.where(live, t, 0.0)) <= _SIG_MIN)
    idx = np.flatnonzero(flat)
    if idx.size:
        out[:, idx] = deterministic(*(a[idx] for a in (w, s, k, t, r, q)))[:rows]
    idx = np.flatnonzero(early & ~flat)
    if idx.size:
        # boundary from the table (puts without dividend) or solved: blocks of their own size
        tabled = (w[idx] < 0) & (q[idx] == 0.0) & covered(r[idx], vol[idx], t[idx])
        for sel, block in ((idx[tabled], _BLOCK), (idx[~tabled], _SOLVED_BLOCK)):
            if sel.size:
                parts = [a[sel] for a in (w, s, k, t, vol, r, q)]
                out[:, sel] = _run_blocks(parts, greeks, block)
    return [row.reshape(shape) for row in out]


def _run_blocks(parts: list[np.ndarray], greeks: bool, block: int) -> np.ndarray:
    n = parts[0].size
    out = np.empty((9 if greeks else 1, n))

    def work(lo: int, hi: int) -> None:
        out[:, lo:hi] = _block(*(a[lo:hi] for a in parts), greeks)

    run_blocks(work, n, block, parallel_min=2 * block)   # the project's pool (none in Pyodide)
    return out


# ----------------------------------------------------------------------------- kernel

def _roots(r, q, vols, t, by_value, tabulated,
           extra=None) -> tuple[list[np.ndarray], np.ndarray | None]:
    """√H at the boundary nodes for each vol in ``vols`` (options r, q, t): from the table
    where ``tabulated``, else solved; and for ``extra`` options (r, q, vol, t, by_value),
    solved. All solves are one call (put_boundary chunks it). ``by_value`` and ``tabulated``
    are those of the unbumped inputs, so a finite difference never compares two methods.

    Returns (list of (NODES, m) arrays, (NODES, len(extra)) array or None).
    """
    m = r.size
    tab = np.flatnonzero(tabulated)
    rest = np.flatnonzero(~tabulated)
    if tab.size == m:
        roots = table_boundary(r, vols, t)
    else:
        roots = [np.empty((NODES, m)) for _ in vols]
        if tab.size:
            for o, root in zip(roots, table_boundary(r[tab], [v[tab] for v in vols], t[tab]),
                               strict=True):
                o[:, tab] = root
    parts = [(r[rest], q[rest], v[rest], t[rest], by_value[rest]) for v in vols]
    if extra is not None:
        parts.append(extra)
    if not any(part[0].size for part in parts):
        return roots, (np.empty((NODES, 0)) if extra is not None else None)
    solved = put_boundary(*(np.concatenate(column) for column in zip(*parts, strict=True)))
    if rest.size:
        for i, o in enumerate(roots):
            o[:, rest] = solved[:, i * rest.size:(i + 1) * rest.size]
    return roots, (solved[:, len(vols) * rest.size:] if extra is not None else None)


def _block(w, s, k, t, vol, r, q, greeks: bool) -> np.ndarray:
    """Rows price … charm (SPEC units) for American options with put-frame rate > 0."""
    call = w > 0
    s_p = np.where(call, k, s)                     # put frame: P(S', K', r', q')
    k_p = np.where(call, s, k)
    r_p = np.where(call, q, r)
    q_p = np.where(call, r, q)
    x = np.log(s_p / k_p)
    by_value = value_form(r_p, vol)                # fixed-point form, kept for every bump
    tabulated = (q_p == 0.0) & ~call & covered(r_p, vol, t)   # puts without dividend
    h = _VOL_BUMP * vol
    if greeks:
        # rho: a put without dividend by the scaling identity (below), the others by one more
        # solve with the original rate (r′ for puts, q′ for calls, which may be 0) moved up
        plain = ~call & (q_p == 0.0)
        rated = np.flatnonzero(~plain)
        step = _RATE_BUMP * np.maximum(np.where(call, q_p, r_p)[rated], _RATE_FLOOR)
        moved_r = r_p[rated] + np.where(call[rated], 0.0, step)
        moved_q = q_p[rated] + np.where(call[rated], step, 0.0)
        extra = (moved_r, moved_q, vol[rated], t[rated], by_value[rated])
        roots, rate_root = _roots(r_p, q_p, [vol, vol + h, vol - h], t, by_value, tabulated,
                                  extra)
    else:
        roots, _ = _roots(r_p, q_p, [vol], t, by_value, tabulated)
    f, exercise = put_x_derivatives(x, r_p, q_p, vol, t, roots[0], 3 if greeks else 0)
    # Next to B(T) the formula can fall short of the exercise value 1 − eˣ by its
    # discretisation error (≤ 2e-5, measured): the price is floored there, the Greeks stay.
    # A larger shortfall means the formula is out of its depth (vol·√t ≪ 1e-4, σ²T in the
    # thousands): treat the option as exercised now.
    intrinsic = -np.expm1(x)
    exercise |= f[0] < intrinsic - _SHORTFALL
    if exercise.any():                             # intrinsic 1 − eˣ, derivatives −eˣ
        ex = np.exp(x[exercise])
        f[:, exercise] = -ex
        f[0, exercise] += 1.0
    price = np.maximum(k_p * f[0], np.maximum(k_p - s_p, 0.0))  # exercise value, exactly
    if not greeks:
        return price[None, :]

    half_var = 0.5 * vol * vol
    mu = r_p - q_p - half_var
    # ∂f/∂τ = L f in the continuation region (Black–Scholes equation), 0 where exercised
    f_t = np.where(exercise, 0.0, half_var * f[2] + mu * f[1] - r_p * f[0])
    f_tx = np.where(exercise, 0.0, half_var * f[3] + mu * f[2] - r_p * f[1])
    # the bumped inputs in one evaluation (formula values: smooth across B(T)): vol up,
    # vol down (f and f′), the rate moved (f)
    m = x.size
    stack = [np.concatenate([a, a, a[rated]]) for a in (x, t)]
    bumped = put_x_derivatives(stack[0], np.concatenate([r_p, r_p, moved_r]),
                               np.concatenate([q_p, q_p, moved_q]),
                               np.concatenate([vol + h, vol - h, vol[rated]]), stack[1],
                               np.concatenate([roots[1], roots[2], rate_root], axis=1), 1)[0]
    up, down = bumped[:, :m], bumped[:, m:2 * m]
    live = ~exercise
    f_s = np.where(live, (up[0] - down[0]) / (2.0 * h), 0.0)                 # ∂f/∂σ
    f_ss = np.where(live, (up[0] - 2.0 * f[0] + down[0]) / (h * h), 0.0)     # ∂²f/∂σ²
    f_s1 = np.where(live, (up[1] - down[1]) / (2.0 * h), 0.0)                # ∂f′/∂σ
    # ∂f/∂(original rate). Without dividend f depends on σ, τ, r only through σ²τ and
    # r/σ², so r∂f/∂r = τ∂f/∂τ − (σ/2)∂f/∂σ; otherwise a one-sided difference
    f_rate = np.empty(m)
    f_rate[plain] = (t * f_t - 0.5 * vol * f_s)[plain] / r_p[plain]
    f_rate[rated] = (bumped[0, 2 * m:] - f[0, rated]) / step
    f_rate[exercise] = 0.0

    put = ~call
    out = np.empty((9, w.size))
    out[0] = price
    out[1] = np.where(put, k_p * f[1] / s_p, f[0] - f[1])
    out[2] = np.where(put, k_p / (s_p * s_p), 1.0 / k_p) * (f[2] - f[1])
    out[3] = k_p * f_s * VOL_POINT
    out[4] = -k_p * f_t / DAYS_PER_YEAR
    out[5] = k_p * f_rate * RATE_POINT
    out[6] = np.where(put, k_p * f_s1 / s_p, f_s - f_s1) * VOL_POINT
    out[7] = k_p * f_ss * (VOL_POINT * VOL_POINT)
    out[8] = -np.where(put, k_p * f_tx / s_p, f_t - f_tx) / DAYS_PER_YEAR
    return out


# ----------------------------------------------------------------------------- vol = 0

def deterministic(w, s, k, t, r, q) -> np.ndarray:
    """vol·√t = 0 (rows price … charm): max over exercise times u in [0, t] of
    w(S e^{−qu} − K e^{−ru}), ≥ 0; w = +1 call, −1 put, flat arrays, t > 0.

    Candidates u = 0, t and the stationary point u* = ln(rK/(qS))/(r − q); Greeks by the
    envelope theorem (vega, vanna, volga are 0; gamma is non-zero only at an interior u*).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        u_star = np.log(r * k / (q * s)) / (r - q)
    interior = np.isfinite(u_star) & (u_star > 0.0) & (u_star < t)
    cands = np.stack([np.zeros_like(t), t, np.where(interior, u_star, 0.0)])
    values = w * (s * np.exp(-q * cands) - k * np.exp(-r * cands))
    best = np.argmax(values, axis=0)
    u = np.take_along_axis(cands, best[None, :], axis=0)[0]
    price = np.maximum(np.max(values, axis=0), 0.0)
    alive = price > 0.0
    at_interior = alive & (best == 2)
    at_expiry = alive & (best == 1)
    delta = np.where(alive, w * np.exp(-q * u), 0.0)
    gamma = np.where(at_interior, q * np.exp(-q * u) / (np.abs(r - q) * s + ~at_interior), 0.0)
    # only an optimum at expiry moves with t: ∂V/∂t = w(−qS e^{−qt} + rK e^{−rt})
    dv_dt = np.where(at_expiry, w * (r * k * np.exp(-r * t) - q * s * np.exp(-q * t)), 0.0)
    rho = np.where(alive, w * u * k * np.exp(-r * u), 0.0)
    charm = np.where(at_expiry, q * delta, 0.0)
    zero = np.zeros_like(price)
    return np.stack([price, delta, gamma, zero, -dv_dt / DAYS_PER_YEAR, rho * RATE_POINT,
                     zero, zero, charm / DAYS_PER_YEAR])
