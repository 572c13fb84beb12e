"""alvh_xl.pricing.american (american_greeks, american_price) and implied vols of American
options, against independent references.

References and tolerances (QuantLib 1.44, dates ACT/365 on whole days, flat curves):

* QuantLib ``QdFpAmericanEngine`` (Andersen–Lake–Offengelter, its own implementation),
  "accurate" scheme (25-point Legendre, 5 iterations, 13 Chebyshev nodes, tanh-sinh 1e-8) on a
  grid T 1 day–2 years × vol 30–250 % × S/K 0.5–2 × rate 0–6 % (puts without dividend, the
  ETP case) and on random options with dividend yield 0–8 % (puts and calls); its
  "high-precision" scheme (tanh-sinh 1e-10) next to the exercise boundary, where the
  accurate scheme itself is off by more than 1e-3 in delta. Delta and vega of QuantLib are
  central differences of its price (S ± 1e-4·S, vol ± 1e-4).
  Price: |ours − ref| ≤ 1e-4 × strike. Delta: ≤ 1e-3·|ref| + 1e-5. Vega (per vol point):
  ≤ 1e-3·|ref| + 1e-5·S·√T (the floor is 1e-3 of S√T/100, the scale of an at-the-money
  vega; it matters where vega vanishes: deep in the money next to the boundary, deep out of
  the money). The accuracy table (worst error per Greek per region) is printed on failure.
* QuantLib's finite-difference engine (Douglas scheme, 800 × 800) on a few options: price
  within 1e-4 × strike (a second, unrelated method).
* QuantLib's European ``BlackCalculator`` through bsm_greeks: a call without dividend and a
  put at zero rate are European; ours must equal bsm_greeks exactly.
* Finite differences of our own american_price (steps 1e-3 of S and of vol, 1e-4 of T, 1e-4
  in rate): every Greek within 1e-3 relative + 1e-4 of its natural size (``natural``).
* Hypothesis properties: American ≥ European and ≥ exercise value (early-exercise premium ≥
  0, and exactly 0 for a call without dividend); bounded by strike (put) and spot (call);
  American put–call bounds S·e^{−qT} − K ≤ C − P ≤ S − K·e^{−rT}; price increasing in vol and
  in time to expiry (within the 2e-5 × strike the engine is accurate to).
* Implied vol: american_price → solve_implied_vol(model="american") returns the vol to
  1e-9 where vega per vol point ≥ 1e-6 × strike; from QuantLib's prices within
  (2e-5 × strike)/vega.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_xl.errors import InputError
from alvh_xl.pricing import (
    Greeks,
    american_greeks,
    american_price,
    boundary_table,
    bsm_greeks,
    solve_implied_vol,
)
from alvh_xl.pricing.american_premium import put_x_derivatives
from alvh_xl.pricing.exercise_boundary import expiry_boundary, put_boundary
from alvh_xl.pricing.implied import ABOVE_MAXIMUM, BELOW_INTRINSIC, OK, ZERO_TIME_VALUE

NAMES = Greeks._fields
TODAY = ql.Date(2, 1, 2025)
DC = ql.Actual365Fixed()
SCHEMES = {"accurate": ql.QdFpAmericanEngine.accurateScheme,
           "high": ql.QdFpAmericanEngine.highPrecisionScheme}
PRICE_TOL = 1e-4          # × strike
DELTA_TOL = (1e-3, 1e-5)  # relative, absolute
VEGA_TOL = (1e-3, 1e-5)   # relative, × S·√T


# ----------------------------------------------------------------------------- QuantLib

def _ql_option(w, s, k, days, vol, r, q, engine):
    ql.Settings.instance().evaluationDate = TODAY
    quotes = [ql.SimpleQuote(x) for x in (s, vol, r, q)]
    spot, vq, rq, qq = quotes
    rts = ql.YieldTermStructureHandle(ql.FlatForward(TODAY, ql.QuoteHandle(rq), DC))
    qts = ql.YieldTermStructureHandle(ql.FlatForward(TODAY, ql.QuoteHandle(qq), DC))
    vts = ql.BlackVolTermStructureHandle(
        ql.BlackConstantVol(TODAY, ql.NullCalendar(), ql.QuoteHandle(vq), DC))
    process = ql.BlackScholesMertonProcess(ql.QuoteHandle(spot), qts, rts, vts)
    kind = ql.Option.Call if w > 0 else ql.Option.Put
    option = ql.VanillaOption(ql.PlainVanillaPayoff(kind, k),
                              ql.AmericanExercise(TODAY, TODAY + int(days)))
    if engine == "fd":
        option.setPricingEngine(ql.FdBlackScholesVanillaEngine(process, 800, 800, 0,
                                                               ql.FdmSchemeDesc.Douglas()))
    else:
        option.setPricingEngine(ql.QdFpAmericanEngine(process, SCHEMES[engine]()))
    return option, spot, vq


def quantlib_reference(c: dict[str, np.ndarray], engine: str) -> dict[str, np.ndarray]:
    """Price, delta, vega (per vol point) from QuantLib; delta and vega by differences."""
    n = c["s"].size
    out = {g: np.empty(n) for g in ("price", "delta", "vega")}
    for i in range(n):
        s, v = float(c["s"][i]), float(c["vol"][i])
        option, spot, vq = _ql_option(float(c["w"][i]), s, float(c["k"][i]), c["days"][i], v,
                                      float(c["r"][i]), float(c["q"][i]), engine)
        out["price"][i] = option.NPV()
        hs, hv = 1e-4 * s, 1e-4
        spot.setValue(s + hs)
        up = option.NPV()
        spot.setValue(s - hs)
        down = option.NPV()
        spot.setValue(s)
        out["delta"][i] = (up - down) / (2 * hs)
        vq.setValue(v + hv)
        up = option.NPV()
        vq.setValue(v - hv)
        down = option.NPV()
        vq.setValue(v)
        out["vega"][i] = (up - down) / (2 * hv) / 100
    return out


def _cases(**cols) -> dict[str, np.ndarray]:
    c = {name: np.asarray(v, dtype=float) for name, v in cols.items()}
    c["t"] = c["days"] / 365.0
    return c


def grid_cases() -> dict[str, np.ndarray]:
    """Puts without dividend (the ETP case) over the whole contract domain."""
    rows = np.array(list(itertools.product(
        [1, 7, 30, 91, 182, 365, 730], [0.3, 0.6, 1.0, 1.6, 2.5],
        [0.5, 0.75, 0.95, 1.05, 1.3, 2.0], [0.0, 0.02, 0.06])))
    days, vol, m, r = rows.T
    return _cases(w=-np.ones(days.size), s=100.0 * m, k=np.full(days.size, 100.0), days=days,
                  vol=vol, r=r, q=np.zeros(days.size))


def dividend_cases(n: int = 240, seed: int = 3) -> dict[str, np.ndarray]:
    """Random puts and calls with a dividend yield 0.5–8 % (calls exercise early then)."""
    rng = np.random.default_rng(seed)
    s = 20.0 * np.exp(rng.uniform(np.log(0.5), np.log(2.0), n))
    return _cases(w=np.where(rng.random(n) < 0.5, 1.0, -1.0), s=s, k=np.full(n, 20.0),
                  days=rng.integers(1, 731, n), vol=rng.uniform(0.3, 2.5, n),
                  r=rng.uniform(0.0, 0.06, n), q=rng.uniform(0.005, 0.08, n))


def near_boundary_cases(n: int = 60, seed: int = 5) -> dict[str, np.ndarray]:
    """Puts with S between 1e-5 and 10 % above the exercise boundary B(T) (placed with our
    boundary; the reference is QuantLib's)."""
    rng = np.random.default_rng(seed)
    m = 12 * n
    days = rng.integers(7, 731, m)
    vol, r = rng.uniform(0.3, 2.5, m), rng.uniform(0.005, 0.06, m)
    root = put_boundary(r, np.zeros(m), vol, days / 365.0)
    s = 100.0 * np.exp(expiry_boundary(r, np.zeros(m)) - root[-1])
    s *= 1.0 + 10.0 ** rng.uniform(-5, -1, m)
    keep = np.flatnonzero((s > 50.0) & (s < 200.0))[:n]
    return _cases(w=-np.ones(keep.size), s=s[keep], k=np.full(keep.size, 100.0),
                  days=days[keep], vol=vol[keep], r=r[keep], q=np.zeros(keep.size))


def accuracy_table(regions: dict[str, tuple[dict, dict, Greeks]]) -> str:
    """Worst error per Greek per region, and as a fraction of its tolerance."""
    lines = [f"{'region':24s} {'n':>4s}  {'price err/K':>11s} {'(of tol)':>8s}  "
             f"{'delta err':>9s} {'(of tol)':>8s}  {'vega err':>9s} {'(of tol)':>8s}"]
    for name, (c, ref, ours) in regions.items():
        p_err = np.abs(ours.price - ref["price"]) / c["k"]
        d_err = np.abs(ours.delta - ref["delta"])
        v_err = np.abs(ours.vega - ref["vega"])
        d_tol = DELTA_TOL[0] * np.abs(ref["delta"]) + DELTA_TOL[1]
        v_tol = VEGA_TOL[0] * np.abs(ref["vega"]) + VEGA_TOL[1] * c["s"] * np.sqrt(c["t"])
        lines.append(f"{name:24s} {c['s'].size:4d}  {p_err.max():11.2e} "
                     f"{(p_err / PRICE_TOL).max():8.3f}  {d_err.max():9.2e} "
                     f"{(d_err / d_tol).max():8.3f}  {v_err.max():9.2e} "
                     f"{(v_err / v_tol).max():8.3f}")
    return "\n".join(lines)


def _subset(c: dict[str, np.ndarray], sel) -> dict[str, np.ndarray]:
    return {name: v[sel] for name, v in c.items()}


@pytest.fixture(scope="module")
def quantlib_regions():
    """{region: (cases, QuantLib reference, our Greeks)}."""
    regions = {}
    grid = grid_cases()
    for label, lo, hi in (("put q=0, T 1-7 days", 0, 7), ("put q=0, T 30-91 days", 8, 91),
                          ("put q=0, T 182-730 days", 92, 730)):
        c = _subset(grid, (grid["days"] >= lo) & (grid["days"] <= hi))
        regions[label] = c
    div = dividend_cases()
    regions["put, div 0.5-8 %"] = _subset(div, div["w"] < 0)
    regions["call, div 0.5-8 %"] = _subset(div, div["w"] > 0)
    regions["put near B(T), q=0"] = near_boundary_cases()
    out = {}
    for name, c in regions.items():
        ref = quantlib_reference(c, "high" if "near" in name else "accurate")
        ours = american_greeks(c["w"], c["s"], c["k"], c["t"], c["vol"], c["r"], c["q"])
        out[name] = (c, ref, ours)
    return out


# ----------------------------------------------------------------------------- vs QuantLib

def test_price_delta_vega_match_quantlib(quantlib_regions):
    table = accuracy_table(quantlib_regions)
    print("\nAccuracy vs QuantLib 1.44 QdFpAmericanEngine\n" + table)
    for name, (c, ref, ours) in quantlib_regions.items():
        p_err = np.abs(ours.price - ref["price"])
        d_tol = DELTA_TOL[0] * np.abs(ref["delta"]) + DELTA_TOL[1]
        v_tol = VEGA_TOL[0] * np.abs(ref["vega"]) + VEGA_TOL[1] * c["s"] * np.sqrt(c["t"])
        for greek, err, tol in (("price", p_err, PRICE_TOL * c["k"]),
                                ("delta", np.abs(ours.delta - ref["delta"]), d_tol),
                                ("vega", np.abs(ours.vega - ref["vega"]), v_tol)):
            i = int(np.argmax(err / tol))
            assert err[i] <= tol[i], (
                f"{name}, {greek}: cp={c['w'][i]:+.0f} S={c['s'][i]} K={c['k'][i]} "
                f"days={c['days'][i]:.0f} vol={c['vol'][i]} r={c['r'][i]} q={c['q'][i]}: "
                f"expected {ref[greek][i]!r}, calculated {getattr(ours, greek)[i]!r}, "
                f"error {err[i]:.3e} > tolerance {tol[i]:.3e}\n{table}")


def test_quantlib_reference_schemes_agree():
    """The 'accurate' reference against QuantLib's high-precision scheme (1e-6 × strike)."""
    c = _subset(grid_cases(), slice(0, None, 37))
    acc = quantlib_reference(c, "accurate")["price"]
    high = quantlib_reference(c, "high")["price"]
    err = np.abs(acc - high) / c["k"]
    assert err.max() <= 1e-6, f"accurate vs high precision: worst {err.max():.2e} × strike"


def test_price_matches_quantlib_finite_differences():
    c = _cases(w=[-1, -1, -1, 1, -1, 1], s=[18.0, 25.0, 40.0, 22.0, 12.0, 30.0],
               k=[20.0] * 6, days=[30, 182, 365, 91, 730, 365],
               vol=[0.8, 1.2, 0.5, 0.9, 2.0, 0.4], r=[0.04, 0.05, 0.06, 0.03, 0.02, 0.05],
               q=[0.0, 0.0, 0.0, 0.05, 0.0, 0.08])
    ours = american_price(c["w"], c["s"], c["k"], c["t"], c["vol"], c["r"], c["q"])
    for i in range(c["s"].size):
        option, _, _ = _ql_option(c["w"][i], c["s"][i], c["k"][i], c["days"][i], c["vol"][i],
                                  c["r"][i], c["q"][i], "fd")
        ref = option.NPV()
        assert abs(ours[i] - ref) <= PRICE_TOL * c["k"][i], (
            f"case {i}: expected (QuantLib FD) {ref!r}, calculated {ours[i]!r}, "
            f"tolerance {PRICE_TOL * c['k'][i]:.1e}")


# ----------------------------------------------------------------------------- European cases

def test_call_without_dividend_and_put_at_zero_rate_are_bsm_exactly():
    rng = np.random.default_rng(8)
    n = 500
    s, k = rng.uniform(5, 50, n), rng.uniform(5, 50, n)
    t, v, r = rng.uniform(1 / 365, 3, n), rng.uniform(0.05, 3, n), rng.uniform(0, 0.08, n)
    for cp, rate, div in (("C", r, 0.0), ("P", 0.0, rng.uniform(0, 0.08, n))):
        ours, ref = american_greeks(cp, s, k, t, v, rate, div), bsm_greeks(cp, s, k, t, v,
                                                                         rate, div)
        for name in NAMES:
            np.testing.assert_array_equal(getattr(ours, name), getattr(ref, name),
                                          err_msg=f"{cp} {name}")
        np.testing.assert_array_equal(american_price(cp, s, k, t, v, rate, div), ref.price)


# ----------------------------------------------------------------------------- finite differences

def natural(c) -> dict[str, np.ndarray]:
    """Size of the terms each Greek is made of (SPEC units), for absolute floors."""
    s, k, t, vol = c["s"], c["k"], c["t"], c["vol"]
    sqt = np.sqrt(t)
    return {"delta": np.ones_like(s), "gamma": 1.0 / (s * vol * sqt), "vega": s * sqt / 100,
            "theta": (s + k) * (c["r"] + c["q"] + vol / sqt) / 365,
            "rho": (s + k) * t / 100, "vanna": 1.0 / vol / 100,
            "volga": s * sqt / vol / 1e4, "charm": (1.0 / t + 1.0) / 365}


def random_cases(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w": np.where(rng.random(n) < 0.6, -1.0, 1.0),
            "s": 20.0 * np.exp(rng.uniform(np.log(0.5), np.log(2.0), n)),
            "k": np.full(n, 20.0), "t": rng.uniform(2 / 365, 2.0, n),
            "vol": rng.uniform(0.3, 2.5, n), "r": rng.uniform(0.002, 0.06, n),
            "q": np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0.001, 0.08, n))}


def test_greeks_match_differences_of_the_price():
    c = random_cases(600, seed=13)
    w, s, k, t, vol, r, q = (c[x] for x in ("w", "s", "k", "t", "vol", "r", "q"))
    g = american_greeks(w, s, k, t, vol, r, q)

    def price(**kw):
        a = {"s": s, "t": t, "vol": vol, "r": r} | kw
        return american_price(w, a["s"], k, a["t"], a["vol"], a["r"], q)

    def delta(**kw):
        a = {"t": t, "vol": vol} | kw
        return american_greeks(w, s, k, a["t"], a["vol"], r, q).delta

    hs, hv, ht, hr = 1e-3 * s, 1e-3 * vol, 1e-4 * t, 1e-4
    fd = {"delta": (price(s=s + hs) - price(s=s - hs)) / (2 * hs),
          "gamma": (price(s=s + hs) - 2 * g.price + price(s=s - hs)) / hs ** 2,
          "vega": (price(vol=vol + hv) - price(vol=vol - hv)) / (2 * hv) / 100,
          "volga": (price(vol=vol + hv) - 2 * g.price + price(vol=vol - hv)) / hv ** 2 / 1e4,
          "theta": -(price(t=t + ht) - price(t=t - ht)) / (2 * ht) / 365,
          "rho": (price(r=r + hr) - price(r=r - hr)) / (2 * hr) / 100,
          "vanna": (delta(vol=vol + hv) - delta(vol=vol - hv)) / (2 * hv) / 100,
          "charm": -(delta(t=t + ht) - delta(t=t - ht)) / (2 * ht) / 365}
    nat = natural(c)
    for name, ref in fd.items():
        ours = getattr(g, name)
        err = np.abs(ours - ref)
        tol = 1e-3 * np.abs(ref) + 1e-4 * nat[name]
        i = int(np.argmax(err / tol))
        assert err[i] <= tol[i], (
            f"{name}: cp={w[i]:+.0f} S={s[i]} K={k[i]} t={t[i]} vol={vol[i]} r={r[i]} "
            f"q={q[i]}: expected (differences) {ref[i]!r}, calculated {ours[i]!r}, "
            f"error {err[i]:.3e} > tolerance {tol[i]:.3e}")


# ----------------------------------------------------------------------------- properties

cps = st.sampled_from(["C", "P"])
spots = st.floats(5.0, 80.0)
moneyness = st.floats(0.5, 2.0)
times = st.floats(1 / 365, 2.0)
vols = st.floats(0.3, 2.5)
rates = st.floats(0.0, 0.06)
divs = st.one_of(st.just(0.0), st.floats(0.0, 0.08))
ACCURACY = 2e-5          # × strike: measured worst price error vs QuantLib is ~1.1e-5


@settings(max_examples=150, deadline=None)
@given(cp=cps, s=spots, m=moneyness, t=times, v=vols, r=rates, q=divs)
def test_bounds_and_early_exercise_premium(cp, s, m, t, v, r, q):
    k = s * m
    a = float(american_price(cp, s, k, t, v, r, q))
    e = float(bsm_greeks(cp, s, k, t, v, r, q).price)
    w = 1.0 if cp == "C" else -1.0
    inputs = f"cp={cp} S={s} K={k} t={t} vol={v} r={r} q={q}: american {a!r}, european {e!r}"
    assert a >= max(w * (s - k), 0.0), inputs                     # never below exercise now
    assert a >= e - ACCURACY * k, inputs                          # premium ≥ 0
    assert a <= (s if cp == "C" else k), inputs
    if cp == "C" and q == 0.0:                                    # premium exactly 0 (the
        assert a == max(e, w * (s - k)), inputs                   # floor: rounding of e)


def test_a_european_case_is_never_below_exercising_now():
    """Found by hypothesis: a deep in-the-money put at r = 2.8e-14 (European path, r·t below
    1e-12) came out 4.999999999999998 for exercise value 5 — BSM's rounding. American ≥
    exercise value always; the other values stay BSM's."""
    a = american_greeks("P", 5.0, 10.0, 0.0078125, 1.0, 2.7954916355358297e-14, 0.0)
    e = bsm_greeks("P", 5.0, 10.0, 0.0078125, 1.0, 2.7954916355358297e-14, 0.0)
    assert float(a.price) == 5.0 and float(e.price) < 5.0, (a.price, e.price)
    assert float(a.delta) == float(e.delta)


@settings(max_examples=100, deadline=None)
@given(s=spots, m=moneyness, t=times, v=vols, r=rates, q=divs)
def test_american_put_call_bounds(s, m, t, v, r, q):
    k = s * m
    c = float(american_price("C", s, k, t, v, r, q))
    p = float(american_price("P", s, k, t, v, r, q))
    tol = ACCURACY * (s + k)
    inputs = f"S={s} K={k} t={t} vol={v} r={r} q={q}: call {c!r} put {p!r}"
    assert s * math.exp(-q * t) - k - tol <= c - p <= s - k * math.exp(-r * t) + tol, inputs


@settings(max_examples=100, deadline=None)
@given(cp=cps, s=spots, m=moneyness, t=times, v=vols, r=rates, q=divs,
       dv=st.floats(0.01, 1.0), dt=st.floats(1 / 365, 1.0))
def test_price_increases_with_vol_and_time(cp, s, m, t, v, r, q, dv, dt):
    k = s * m
    base = float(american_price(cp, s, k, t, v, r, q))
    more_vol = float(american_price(cp, s, k, t, min(v + dv, 2.5), r, q))
    more_time = float(american_price(cp, s, k, min(t + dt, 2.0), v, r, q))
    inputs = f"cp={cp} S={s} K={k} t={t} vol={v} r={r} q={q}: base {base!r}"
    assert more_vol >= base - ACCURACY * k, f"{inputs}, vol+{dv}: {more_vol!r}"
    assert more_time >= base - ACCURACY * k, f"{inputs}, t+{dt}: {more_time!r}"


# ----------------------------------------------------------------------------- implied vol

def test_implied_vol_round_trip():
    c = random_cases(3000, seed=21)
    w, s, k, t, vol, r, q = (c[x] for x in ("w", "s", "k", "t", "vol", "r", "q"))
    p = american_price(w, s, k, t, vol, r, q)
    res = solve_implied_vol(p, w, s, k, t, r, q, model="american")
    vega = american_greeks(w, s, k, t, vol, r, q).vega
    sure = vega >= 1e-6 * k
    assert np.all(res.status[sure] == OK), np.unique(res.status[sure])
    err = np.abs(res.vol - vol)
    i = int(np.nanargmax(np.where(sure, err, 0.0)))
    assert err[i] <= 1e-9, (f"cp={w[i]} S={s[i]} K={k[i]} t={t[i]} vol={vol[i]} r={r[i]} "
                            f"q={q[i]}: implied {res.vol[i]!r}, error {err[i]:.2e}")
    # the rest: solved (error bounded by rounding/vega) or said to be undetermined
    rest = ~sure
    assert np.all(np.isin(res.status[rest], (OK, ZERO_TIME_VALUE)))


def test_implied_vol_of_quantlib_prices(quantlib_regions):
    c, ref, ours = quantlib_regions["put q=0, T 30-91 days"]
    res = solve_implied_vol(ref["price"], c["w"], c["s"], c["k"], c["t"], c["r"], c["q"],
                            model="american")
    vega = ours.vega * 100                                      # per unit of vol
    use = vega > 1e-3 * c["k"]
    bound = 2e-5 * c["k"] / np.maximum(vega, 1e-300)
    err = np.abs(res.vol - c["vol"])
    assert np.all(res.status[use] == OK)
    assert np.all(err[use] <= bound[use]), np.max(err[use] / bound[use])


def test_implied_vol_statuses_and_european_cases():
    s, k, t, r = 18.0, 22.0, 0.4, 0.04
    intrinsic = k - s
    prices = [intrinsic - 0.1, intrinsic, k, k + 1.0]
    res = solve_implied_vol(prices, "P", s, k, t, r, 0.0, model="american")
    assert list(res.status) == [BELOW_INTRINSIC, ZERO_TIME_VALUE, ABOVE_MAXIMUM,
                                ABOVE_MAXIMUM]
    assert np.isnan(res.vol).all()
    # deep in the money, at the exercise value: any vol up to the boundary's would do
    deep = float(american_price("P", 8.0, 22.0, t, 0.5, r))
    assert deep == 14.0
    assert solve_implied_vol(deep, "P", 8.0, 22.0, t, r, model="american").status == \
        ZERO_TIME_VALUE
    # never exercised early: the BSM vol, exactly
    p = float(bsm_greeks("C", s, k, t, 0.9, r, 0.0).price)
    ours = solve_implied_vol(p, "C", s, k, t, r, 0.0, model="american")
    bsm = solve_implied_vol(p, "C", s, k, t, r, 0.0)
    assert ours.vol == bsm.vol and ours.status == bsm.status == OK


# ----------------------------------------------------------------------------- inputs

def test_expired_and_zero_vol():
    g = american_greeks(["P", "C", "P"], [18.0, 25.0, 30.0], 22.0, [0.0, -0.1, 0.0], 0.8,
                        0.04, 0.02)
    np.testing.assert_array_equal(g.price, [4.0, 3.0, 0.0])
    for name in NAMES[1:]:
        np.testing.assert_array_equal(getattr(g, name), 0.0, err_msg=name)


@pytest.mark.parametrize("cp, s, k, r, q", [("P", 18.0, 22.0, 0.05, 0.0),
                                            ("P", 21.0, 22.0, 0.02, 0.09),
                                            ("C", 25.0, 22.0, 0.01, 0.06),
                                            ("C", 21.0, 22.0, 0.08, 0.03),
                                            ("P", 30.0, 22.0, 0.05, 0.0)])
def test_zero_vol_is_the_best_deterministic_exercise(cp, s, k, r, q):
    """vol = 0: the maximum over a fine grid of exercise times of the discounted payoff, and
    its differences in S, t and r."""
    t = 1.5
    w = 1.0 if cp == "C" else -1.0

    def best(s_=s, t_=t, r_=r):
        u = np.linspace(0.0, t_, 200001)
        return max(float(np.max(w * (s_ * np.exp(-q * u) - k * np.exp(-r_ * u)))), 0.0)

    g = american_greeks(cp, s, k, t, 0.0, r, q)
    h = 1e-4
    assert float(g.price) == pytest.approx(best(), abs=1e-8)
    assert float(g.delta) == pytest.approx((best(s_=s + h) - best(s_=s - h)) / (2 * h),
                                           abs=1e-6)
    assert float(g.theta) == pytest.approx(-(best(t_=t + h) - best(t_=t - h)) / (2 * h) / 365,
                                           abs=1e-7)
    assert float(g.rho) == pytest.approx((best(r_=r + h) - best(r_=r - h)) / (2 * h) / 100,
                                         abs=1e-6)
    assert float(g.vega) == float(g.vanna) == float(g.volga) == 0.0


def test_tiny_vols_stay_within_the_bounds():
    vols = np.array([1e-90, 1e-30, 1e-12, 1e-8, 1e-4, 1e-2])
    for cp, s, k, r, q in (("P", 18.0, 22.0, 0.05, 0.0), ("C", 25.0, 22.0, 0.01, 0.06),
                           ("P", 23.0, 22.0, 0.05, 0.0)):
        g = american_greeks(cp, s, k, 1.0, vols, r, q)
        w = 1.0 if cp == "C" else -1.0
        assert np.all(np.isfinite(np.stack(g)))
        assert np.all(g.price >= max(w * (s - k), 0.0))
        assert np.all(g.price <= (s if cp == "C" else k))


def test_scenarios_by_legs_broadcast():
    spots = np.array([[15.0], [18.0], [21.0], [24.0]])           # scenarios × 1
    strikes = np.array([[16.0, 20.0, 25.0]])                       # 1 × legs
    cps = np.array([["P", "C", "P"]])
    out = american_price(cps, spots, strikes, 0.3, np.array([[0.9, 1.1, 1.3]]), 0.04, 0.0)
    assert out.shape == (4, 3)
    for i, j in itertools.product(range(4), range(3)):
        one = float(american_price(cps[0, j], spots[i, 0], strikes[0, j], 0.3,
                                   [0.9, 1.1, 1.3][j], 0.04, 0.0))
        assert out[i, j] == pytest.approx(one, rel=1e-13)


@pytest.mark.parametrize("args, message", [
    (("X", 20.0, 22.0, 0.5, 0.9), 'cp: expected C or P (Call/Put, or 1/-1), got "X"'),
    (("P", -20.0, 22.0, 0.5, 0.9), "spot (-20.0) must be positive"),
    (("P", 20.0, 0.0, 0.5, 0.9), "strike (0.0) must be positive"),
    (("P", 20.0, 22.0, 0.5, -0.9), "vol (-0.9) must not be negative"),
    (("P", 20.0, 22.0, float("nan"), 0.9), "t (nan) must be a number"),
    (("P", 20.0, 22.0, 0.5, 0.9, -0.01), "rate (-0.01) must not be negative for American "
                                         "options"),
    (("P", 20.0, 22.0, 0.5, 0.9, 0.04, -0.02), "div (-0.02) must not be negative for "
                                               "American options"),
    (("P", [20.0, 21.0], [22.0, 23.0, 24.0], 0.5, 0.9),
     "input shapes do not broadcast together: spot (2,), strike (3,)"),
])
def test_input_errors_name_the_parameter(args, message):
    for f in (american_greeks, american_price):
        with pytest.raises(InputError) as err:
            f(*args)
        assert str(err.value) == message


# ----------------------------------------------------------------------------- boundary table

def _table_domain_cases(n: int, seed: int) -> dict[str, np.ndarray]:
    """Puts without dividend spread uniformly in (ln σ²T, ln 2r/σ²) over the table's domain,
    vol 0.2–3, S/K 0.5–2."""
    rng = np.random.default_rng(seed)
    a = np.exp(rng.uniform(*np.log(boundary_table.A_RANGE), n))
    b = np.exp(rng.uniform(*np.log(boundary_table.B_RANGE), n))
    vol = rng.uniform(0.2, 3.0, n)
    c = {"vol": vol, "t": a / vol ** 2, "r": 0.5 * b * vol ** 2,
         "x": rng.uniform(np.log(0.5), np.log(2.0), n)}
    keep = boundary_table.covered(c["r"], c["vol"], c["t"])
    return {name: v[keep] for name, v in c.items()}


def _formula(c, root, order=1):
    zero = np.zeros(c["x"].size)
    return put_x_derivatives(c["x"], c["r"], zero, c["vol"], c["t"], root, order)[0]


@pytest.mark.parametrize("region, price_tol, delta_tol", [("table domain", 2e-7, 5e-7),
                                                          ("contract domain", 2e-8, 5e-8)])
def test_boundary_table_reproduces_the_solver(region, price_tol, delta_tol):
    """The table (puts without dividend) against put_boundary solved at the same inputs, off
    the grid: the formula's price (per unit strike) and delta. Measured worst: 5e-8 and 1e-7
    over the table's domain, 4e-9 and 1.3e-8 over the contract domain (T 1 day-2 years, vol
    30-250 %, rate 0-6 %)."""
    if region == "table domain":
        c = _table_domain_cases(20_000, seed=31)
    else:
        rng = np.random.default_rng(32)
        n = 20_000
        c = {"vol": rng.uniform(0.3, 2.5, n), "t": rng.integers(1, 731, n) / 365.0,
             "r": rng.uniform(1e-6, 0.06, n), "x": rng.uniform(np.log(0.5), np.log(2.0), n)}
        assert boundary_table.covered(c["r"], c["vol"], c["t"]).all()
    zero = np.zeros(c["x"].size)
    solved = _formula(c, put_boundary(c["r"], zero, c["vol"], c["t"]))
    tabled = _formula(c, boundary_table.table_boundary(c["r"], [c["vol"]], c["t"])[0])
    for row, name, tol in ((0, "price", price_tol), (1, "delta", delta_tol)):
        err = np.abs(tabled[row] - solved[row])
        i = int(np.argmax(err))
        assert err[i] <= tol, (
            f"{region}, {name}: vol={c['vol'][i]!r} t={c['t'][i]!r} r={c['r'][i]!r} "
            f"x={c['x'][i]!r}: solved {solved[row][i]!r}, table {tabled[row][i]!r}, "
            f"error {err[i]:.2e} > tolerance {tol:.0e}")


def test_prices_are_continuous_where_the_table_ends():
    """Just inside and just outside each edge of the table's domain (the engine solves
    outside): prices agree within 2e-7 × strike, the table's accuracy."""
    lo_a, hi_a = boundary_table.A_RANGE
    lo_b, hi_b = boundary_table.B_RANGE
    carry_b = 2.0 * boundary_table.MAX_CARRY / 10.0          # r·T = MAX_CARRY at σ²T = 10
    up, down = 1.0 + 1e-9, 1.0 - 1e-9
    edges = {"σ²T low": ((lo_a * up, 0.1), (lo_a * down, 0.1)),   # (σ²T, 2r/σ²) in, out
             "σ²T high": ((hi_a * down, 0.01), (hi_a * up, 0.01)),
             "2r/σ² low": ((0.5, lo_b * up), (0.5, lo_b * down)),
             "2r/σ² high": ((0.5, hi_b * down), (0.5, hi_b * up)),
             "r·T high": ((10.0, carry_b * down), (10.0, carry_b * up))}
    vol = 1.0
    for edge, sides in edges.items():
        (t_in, r_in), (t_out, r_out) = ((a / vol ** 2, 0.5 * b * vol ** 2) for a, b in sides)
        covered = boundary_table.covered(np.array([r_in, r_out]), np.full(2, vol),
                                         np.array([t_in, t_out]))
        assert list(covered) == [True, False], edge
        for s in (60.0, 90.0, 100.0, 130.0):
            p_in = float(american_price("P", s, 100.0, t_in, vol, r_in))
            p_out = float(american_price("P", s, 100.0, t_out, vol, r_out))
            assert abs(p_in - p_out) <= 2e-7 * 100.0, (
                f"{edge}, S={s} K=100: inside (t={t_in!r}, r={r_in!r}) {p_in!r}, "
                f"outside (t={t_out!r}, r={r_out!r}) {p_out!r}")


def test_table_bumps_that_change_cell_match_fresh_lookups():
    """A vol bump that moves an option to the next grid cell gathers its coefficients anew:
    the bumped boundary equals a lookup of the bumped inputs alone."""
    tab = boundary_table.table()
    step = boundary_table.STEP
    rng = np.random.default_rng(33)
    n = 200
    cells = rng.integers(10, 80, n)
    ln_a = tab.u0 + step * cells - 1e-6                    # just below a grid line in ln A
    vol = rng.uniform(0.3, 2.5, n)
    t = np.exp(ln_a) / vol ** 2
    r = rng.uniform(0.001, 0.06, n)
    bumped = vol * (1.0 + 1e-4)                            # ln A moves up by 2e-4
    both = boundary_table.table_boundary(r, [vol, bumped], t)
    alone = boundary_table.table_boundary(r, [bumped], t)[0]
    np.testing.assert_allclose(both[1], alone, rtol=1e-14, atol=1e-15)


def test_greeks_do_not_depend_on_how_options_are_grouped():
    """One call over 12,000 options (blocks on the thread pool; table and solved boundaries
    mixed) against calls in uneven pieces and per option kind. Analytic values agree to
    1e-13 of their natural size; vega, vanna, rho are differences over bumps of 1e-4 and
    volga a second difference, which turn a rounding-level change of a price (the order of
    a sum can depend on the batch) into 1e-4 and 1e-8 times as much: 1e-10 and 1e-6."""
    rng = np.random.default_rng(34)
    n = 12_000
    kind = rng.integers(0, 4, n)         # put q=0 | put with q | call with q | put, vol 5 %
    c = {"w": np.where(kind == 2, 1.0, -1.0),
         "s": 20.0 * np.exp(rng.uniform(np.log(0.5), np.log(2.0), n)), "k": np.full(n, 20.0),
         "t": rng.integers(1, 731, n) / 365.0,
         "vol": np.where(kind == 3, 0.05, rng.uniform(0.3, 2.5, n)),   # 2r/σ² > 2: solved
         "r": rng.uniform(0.001, 0.06, n),
         "q": np.where((kind == 1) | (kind == 2), rng.uniform(0.005, 0.08, n), 0.0)}
    args = [c[x] for x in ("w", "s", "k", "t", "vol", "r", "q")]
    whole = american_greeks(*args)
    nat = natural(c) | {"price": c["s"] + c["k"]}
    noise = {"vega": 1e-10, "vanna": 1e-10, "rho": 1e-10, "volga": 1e-6}
    groupings = {"pieces": [slice(0, 777), slice(777, 5000), slice(5000, n)]}
    groupings |= {f"kind {k}": [np.flatnonzero(kind == k)] for k in range(4)}
    for label, parts in groupings.items():
        for part in parts:
            again = american_greeks(*(a[part] for a in args))
            for name in NAMES:
                err = np.abs(getattr(again, name) - getattr(whole, name)[part])
                tol = noise.get(name, 1e-13) * nat[name][part]
                i = int(np.argmax(err / tol))
                assert err[i] <= tol[i], (
                    f"{label}, {name}: option {np.arange(n)[part][i]}: whole "
                    f"{getattr(whole, name)[part][i]!r}, again {getattr(again, name)[i]!r}")
