"""alvh_xl.pricing.greeks (bsm_greeks, black76_greeks) against independent references.

References and tolerances (|ours − ref| ≤ rtol·|ref| + atol·natural, "natural" = the size of the
terms a Greek is built from, see ``_natural``):

* QuantLib 1.44 ``BlackCalculator`` (price, delta, gamma, vega, theta, rho, vanna): rtol 1e-7,
  atol 1e-11. QuantLib's cumulative normal is only ~1e-8 relative near x ≈ −6 and its theta
  is computed by another formula (cancellation), hence rtol 1e-7 rather than 1e-15. Units:
  QuantLib vega/rho/vanna are per 1.00, theta per year (``thetaPerDay`` = theta/365).
* volga and charm: central differences of QuantLib's own vega (in σ) and delta (in t):
  rtol 1e-5, atol 1e-8 (difference-quotient error). QuantLib's ``BlackCalculator.volga`` is
  d²V/dσ² / √T, so it is not used.
* QuantLib ``AnalyticEuropeanEngine`` with dates (ACT/365): pins the day conventions.
* Haug's textbook values as tabulated in QuantLib's test suite (tests/data, PROVENANCE.md):
  each row with its own absolute tolerance (1e-4).
* Central differences on a grid (steps 1e-3/(1+|d|) of S·σ√t and of σ, 0.01 day, 0.1 bp): delta,
  vega, theta, rho of our price; gamma, vanna, volga, charm of our delta and vega.
  rtol 1e-5, atol 1e-8 (truncation ~1e-7 relative, rounding ~1e-10 of the natural size).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import QuantLib as ql
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_xl.errors import InputError
from alvh_xl.pricing import Greeks, black76_greeks, bsm_greeks

NAMES = Greeks._fields
DAY = 1.0 / 365.0


# ----------------------------------------------------------------------------- helpers

def random_cases(n: int, seed: int) -> dict[str, np.ndarray]:
    """Options across the supported domain: t 1 minute..5 years, vol 0.5 %..400 %, K/S 0.1..10."""
    rng = np.random.default_rng(seed)
    s = np.exp(rng.uniform(np.log(10.0), np.log(7000.0), n))
    return {
        "w": np.where(rng.random(n) < 0.5, 1.0, -1.0),
        "s": s,
        "k": s * np.exp(rng.uniform(np.log(0.1), np.log(10.0), n)),
        "t": np.exp(rng.uniform(np.log(1.0 / 525600.0), np.log(5.0), n)),
        "vol": np.exp(rng.uniform(np.log(0.005), np.log(4.0), n)),
        "r": rng.uniform(-0.01, 0.08, n),
        "q": rng.uniform(0.0, 0.05, n),
    }


def _natural(c: dict[str, np.ndarray], forward_model: bool) -> dict[str, np.ndarray]:
    """Per-case magnitude of the terms each Greek is built from (SPEC units)."""
    s, k, t, vol, r = c["s"], c["k"], c["t"], c["vol"], c["r"]
    q = r if forward_model else c["q"]
    sqt = np.sqrt(t)
    return {
        "price": s + k,
        "delta": np.ones_like(s),
        "gamma": 1.0 / (s * vol * sqt),
        "vega": s * sqt / 100.0,
        "theta": (s + k) * (np.abs(r) + q + vol / sqt) / 365.0,
        "rho": (s + k) * t / 100.0,
        "vanna": 1.0 / vol / 100.0,
        "volga": s * sqt / vol / 1e4,
        "charm": (1.0 / t + np.abs(r - q) / (vol * sqt) + q) / 365.0,
    }


def assert_close(name, ours, ref, rtol, atol, natural):
    err = np.abs(np.asarray(ours) - ref)
    bound = rtol * np.abs(ref) + atol * natural
    worst = int(np.argmax(err - bound))
    assert np.all(err <= bound), (
        f"{name}: case {worst} ours {np.ravel(ours)[worst]!r} ref {ref[worst]!r} "
        f"err {err[worst]:.3e} > bound {bound[worst]:.3e}")


def _calc(w, fwd, k, stdev, disc):
    kind = ql.Option.Call if w > 0 else ql.Option.Put
    return ql.BlackCalculator(ql.PlainVanillaPayoff(kind, k), fwd, stdev, disc)


def quantlib_bsm(c) -> dict[str, np.ndarray]:
    """QuantLib reference for BSM on spot (SPEC units); volga/charm by differences of QL."""
    out = {g: np.empty(c["s"].size) for g in NAMES}
    for i in range(c["s"].size):
        w, s, k, t, v, r, q = (float(c[x][i]) for x in ("w", "s", "k", "t", "vol", "r", "q"))

        def calc(t_=t, v_=v, w=w, s=s, k=k, r=r, q=q):
            return _calc(w, s * math.exp((r - q) * t_), k, v_ * math.sqrt(t_), math.exp(-r * t_))

        bc = calc()
        hv, ht = 1e-4 * v, 1e-4 * t
        volga = (calc(v_=v + hv).vega(t) - calc(v_=v - hv).vega(t)) / (2 * hv)
        charm = -(calc(t_=t + ht).delta(s) - calc(t_=t - ht).delta(s)) / (2 * ht)
        row = (bc.value(), bc.delta(s), bc.gamma(s), bc.vega(t) / 100, bc.theta(s, t) / 365,
               bc.rho(t) / 100, bc.vanna(s, t) / 100, volga / 1e4, charm / 365)
        for g, x in zip(NAMES, row, strict=True):
            out[g][i] = x
    return out


def quantlib_black76(c) -> dict[str, np.ndarray]:
    """QuantLib reference for Black-76 on the forward (rho with the forward held fixed)."""
    out = {g: np.empty(c["s"].size) for g in NAMES}
    for i in range(c["s"].size):
        w, f, k, t, v, r = (float(c[x][i]) for x in ("w", "s", "k", "t", "vol", "r"))

        def calc(t_=t, v_=v, r_=r, w=w, f=f, k=k):
            return _calc(w, f, k, v_ * math.sqrt(t_), math.exp(-r_ * t_))

        bc = calc()
        hv, ht, hr = 1e-4 * v, 1e-4 * t, 1e-4
        volga = (calc(v_=v + hv).vega(t) - calc(v_=v - hv).vega(t)) / (2 * hv)
        charm = -(calc(t_=t + ht).deltaForward() - calc(t_=t - ht).deltaForward()) / (2 * ht)
        rho = (calc(r_=r + hr).value() - calc(r_=r - hr).value()) / (2 * hr)
        # theta(spot=F): QuantLib infers q = r from forward == spot, i.e. Black-76's theta.
        row = (bc.value(), bc.deltaForward(), bc.gammaForward(), bc.vega(t) / 100,
               bc.theta(f, t) / 365, rho / 100, bc.vanna(f, t) / 100, volga / 1e4, charm / 365)
        for g, x in zip(NAMES, row, strict=True):
            out[g][i] = x
    return out


# Tolerances vs QuantLib: analytic Greeks / Greeks by differences of QuantLib values.
QL_TOL = {g: (1e-7, 1e-11) for g in NAMES}
QL_TOL.update(volga=(1e-5, 1e-8), charm=(1e-5, 1e-8))
QL_TOL["rho_black76"] = (1e-6, 1e-9)     # rho by differences of QuantLib's value in r


@pytest.fixture(scope="module")
def bsm_cases():
    c = random_cases(3000, seed=11)
    return c, quantlib_bsm(c)


@pytest.fixture(scope="module")
def black76_cases():
    c = random_cases(3000, seed=12)
    return c, quantlib_black76(c)


# ----------------------------------------------------------------------------- QuantLib

@pytest.mark.parametrize("greek", NAMES)
def test_bsm_matches_quantlib(bsm_cases, greek):
    c, ref = bsm_cases
    g = bsm_greeks(c["w"], c["s"], c["k"], c["t"], c["vol"], c["r"], c["q"])
    rtol, atol = QL_TOL[greek]
    assert_close(greek, getattr(g, greek), ref[greek], rtol, atol, _natural(c, False)[greek])


@pytest.mark.parametrize("greek", NAMES)
def test_black76_matches_quantlib(black76_cases, greek):
    c, ref = black76_cases
    g = black76_greeks(c["w"], c["s"], c["k"], c["t"], c["vol"], c["r"])
    rtol, atol = QL_TOL["rho_black76" if greek == "rho" else greek]
    assert_close(greek, getattr(g, greek), ref[greek], rtol, atol, _natural(c, True)[greek])


def test_bsm_matches_quantlib_engine_with_dates():
    # AnalyticEuropeanEngine + GeneralizedBlackScholesProcess, Actual365Fixed, flat curves:
    # pins t = days/365, theta per calendar day (thetaPerDay), rho/vega per 1.00.
    rng = np.random.default_rng(5)
    today = ql.Date(2, 1, 2026)
    ql.Settings.instance().evaluationDate = today
    dc, cal = ql.Actual365Fixed(), ql.NullCalendar()
    spot, r_q, q_q, v_q = (ql.SimpleQuote(0.0) for _ in range(4))
    process = ql.GeneralizedBlackScholesProcess(
        ql.QuoteHandle(spot),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(q_q), dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(r_q), dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, cal, ql.QuoteHandle(v_q), dc)))
    engine = ql.AnalyticEuropeanEngine(process)
    rows = []
    for _ in range(200):
        w = 1.0 if rng.random() < 0.5 else -1.0
        s, days = rng.uniform(50, 150), int(rng.integers(1, 1826))
        k, v = s * rng.uniform(0.5, 2.0), rng.uniform(0.05, 1.5)
        r, q = rng.uniform(-0.01, 0.08), rng.uniform(0.0, 0.05)
        spot.setValue(s), r_q.setValue(r), q_q.setValue(q), v_q.setValue(v)
        kind = ql.Option.Call if w > 0 else ql.Option.Put
        opt = ql.VanillaOption(ql.PlainVanillaPayoff(kind, k),
                               ql.EuropeanExercise(today + days))
        opt.setPricingEngine(engine)
        g = bsm_greeks(w, s, k, days / 365.0, v, r, q)
        rows.append([(float(g.price), opt.NPV()), (float(g.delta), opt.delta()),
                     (float(g.gamma), opt.gamma()), (float(g.vega), opt.vega() / 100),
                     (float(g.theta), opt.thetaPerDay()), (float(g.rho), opt.rho() / 100)])
    pairs = np.array(rows)                   # (case, greek, ours/ref)
    ours, ref = pairs[..., 0], pairs[..., 1]
    assert np.all(np.abs(ours - ref) <= 1e-7 * np.abs(ref) + 1e-10)


# ----------------------------------------------------------------------------- Haug table

HAUG = pd.read_csv(DATA / "quantlib_haug_bsm_reference_values.csv")


@pytest.mark.parametrize("row", HAUG.to_dict("records"),
                         ids=[f"{q}-{t}-{i}" for i, (q, t) in
                              enumerate(zip(HAUG.quantity, HAUG.type, strict=True))])
def test_haug_reference_values(row):
    # Haug, Option Pricing Formulas, via QuantLib test-suite/europeanoption.cpp; the table's
    # Greeks are per 1.00 (vega, rho) and per year (theta); tolerance is the row's own.
    g = bsm_greeks(row["type"], row["spot"], row["strike"], row["t_years"], row["vol"],
                   row["r"], row["q"])
    s, t = row["spot"], row["t_years"]
    value = {
        "price": g.price, "delta": g.delta, "gamma": g.gamma, "vega": g.vega * 100,
        "theta": g.theta * 365, "theta_per_day": g.theta, "rho": g.rho * 100,
        "dividendRho": -t * s * g.delta,          # ∂V/∂q = −t·S·Δ
        "elasticity": g.delta * s / g.price,
    }[row["quantity"]]
    assert abs(float(value) - row["expected"]) <= row["tolerance"]


def test_haug_black76_row_through_black76():
    # Haug: Black-76, F = K = 19, r = 0.10, T = 0.75, σ = 0.28 → 1.7011 (QuantLib test suite).
    for cp in ("C", "P"):
        assert abs(float(black76_greeks(cp, 19.0, 19.0, 0.75, 0.28, 0.10).price) - 1.7011) < 5e-5


# ----------------------------------------------------------------------------- differences

GRID = {k: v.ravel() for k, v in zip(
    ("w", "k", "t", "vol"),
    np.meshgrid([1.0, -1.0], [60.0, 90.0, 100.0, 110.0, 150.0], [7 / 365, 0.25, 1.0, 3.0],
                [0.1, 0.3, 0.8], indexing="ij"), strict=True)}


def _fd_greeks(greeks, s, k, vol, t, r):
    """Greeks by central differences (SPEC units): first-order ones from the price,
    second-order ones from our delta and vega (themselves checked against the price)."""
    width = 1e-3 / (1.0 + np.abs(np.log(s / k)) / (vol * np.sqrt(t)))  # 1e-3 / (1 + |d|)
    hs, hv = width * s * vol * np.sqrt(t), width * vol  # steps scaled to the option's width
    ht, hr = np.minimum(0.01 * DAY, t / 100), 1e-5     # a fraction of a day; 0.1 bp

    def diff(field, **bump):
        (name, h), = bump.items()
        a = {"s": s, "vol": vol, "t": t, "r": r}
        up, down = dict(a), dict(a)
        up[name], down[name] = a[name] + h, a[name] - h
        return (getattr(greeks(**up), field) - getattr(greeks(**down), field)) / (2 * h)

    return {"price": greeks(s=s, vol=vol, t=t, r=r).price,
            "delta": diff("price", s=hs), "gamma": diff("delta", s=hs),
            "vega": diff("price", vol=hv) / 100, "theta": -diff("price", t=ht) / 365,
            "rho": diff("price", r=hr) / 100, "vanna": diff("delta", vol=hv) / 100,
            "volga": diff("vega", vol=hv) / 100, "charm": -diff("delta", t=ht) / 365}


@pytest.mark.parametrize("model", ["bsm", "black76"])
def test_every_greek_matches_differences_of_the_price(model):
    # Rates bumped with the dividend yield fixed (BSM) / the forward fixed (Black-76).
    w, k, t, vol = GRID["w"], GRID["k"], GRID["t"], GRID["vol"]
    s0, r0, q = 100.0, 0.03, 0.01
    if model == "bsm":
        def greeks(s, vol, t, r):
            return bsm_greeks(w, s, k, t, vol, r, q)
    else:
        def greeks(s, vol, t, r):
            return black76_greeks(w, s, k, t, vol, r)
    g = greeks(s0, vol, t, r0)
    fd = _fd_greeks(greeks, s0, k, vol, t, r0)
    c = {"s": np.full_like(t, s0), "k": k, "t": t, "vol": vol, "r": np.full_like(t, r0),
         "q": np.full_like(t, q)}
    nat = _natural(c, model == "black76")
    for name in NAMES:
        assert_close(name, getattr(g, name), fd[name], 1e-5, 1e-8, nat[name])


def test_units_are_one_point_one_day_one_percent():
    # SPEC §4: a 1-unit bump (1 vol point, 1 day, 1 % rate) moves the output by the Greek to
    # first order (≤ 1 %), which tells unit slips (×100, ×365) apart.
    s, k, t, v, r, q = 100.0, 110.0, 0.5, 0.25, 0.03, 0.01
    g = bsm_greeks("C", s, k, t, v, r, q)

    def p(**kw):
        a = {"spot": s, "strike": k, "t": t, "vol": v, "rate": r, "div": q} | kw
        return bsm_greeks("C", a["spot"], a["strike"], a["t"], a["vol"], a["rate"], a["div"])

    assert float(p(vol=v + 0.01).price - p(vol=v - 0.01).price) / 2 == pytest.approx(
        float(g.vega), rel=1e-3)                                     # per vol point
    assert float(p(t=t - DAY).price - g.price) == pytest.approx(float(g.theta), rel=1e-2)
    assert float(p(rate=r + 0.01).price - p(rate=r - 0.01).price) / 2 == pytest.approx(
        float(g.rho), rel=1e-3)                                      # per 1 % rate
    assert float(p(vol=v + 0.01).delta - p(vol=v - 0.01).delta) / 2 == pytest.approx(
        float(g.vanna), rel=1e-3)                                    # delta per vol point
    assert float(p(vol=v + 0.01).vega - p(vol=v - 0.01).vega) / 2 == pytest.approx(
        float(g.volga), rel=1e-2)                                    # vega per vol point
    assert float(p(t=t - DAY).delta - g.delta) == pytest.approx(float(g.charm), rel=1e-2)
    assert 0.0 < float(g.vega) < 1.0 and float(g.theta) < 0.0        # dollars, not ×100


# ----------------------------------------------------------------------------- parity

def test_put_call_parity_for_price_and_every_greek():
    c = random_cases(5000, seed=3)
    s, k, t, v, r, q = (c[x] for x in ("s", "k", "t", "vol", "r", "q"))
    call, put = bsm_greeks("C", s, k, t, v, r, q), bsm_greeks("P", s, k, t, v, r, q)
    dq, dr = np.exp(-q * t), np.exp(-r * t)
    nat = _natural(c, False)
    expected = {"price": s * dq - k * dr, "delta": dq, "gamma": 0.0, "vega": 0.0,
                "theta": (q * s * dq - r * k * dr) / 365, "rho": t * k * dr / 100,
                "vanna": 0.0, "volga": 0.0, "charm": q * dq / 365}
    for name in NAMES:
        diff = getattr(call, name) - getattr(put, name)
        assert_close(name, diff, np.broadcast_to(expected[name], s.shape), 1e-12, 1e-13,
                     nat[name])
    b_call, b_put = black76_greeks("C", s, k, t, v, r), black76_greeks("P", s, k, t, v, r)
    assert_close("black76", b_call.price - b_put.price, dr * (s - k), 1e-12, 1e-13, s + k)
    assert_close("black76 rho", b_call.rho - b_put.rho, -t * dr * (s - k) / 100, 1e-12, 1e-13,
                 (s + k) * t / 100)


def test_bsm_equals_black76_on_the_forward():
    c = random_cases(2000, seed=4)
    w, s, k, t, v, r, q = (c[x] for x in ("w", "s", "k", "t", "vol", "r", "q"))
    f = s * np.exp((r - q) * t)
    a, b = bsm_greeks(w, s, k, t, v, r, q), black76_greeks(w, f, k, t, v, r)
    assert_close("price", a.price, b.price, 1e-12, 1e-14, s + k)
    assert_close("delta", a.delta, b.delta * f / s, 1e-12, 1e-14, 1.0)
    assert_close("vega", a.vega, b.vega, 1e-12, 1e-14, s * np.sqrt(t))


# ----------------------------------------------------------------------------- properties

pos = st.floats(1.0, 10000.0)
moneyness = st.floats(0.1, 10.0)
times = st.floats(1.0 / 525600.0, 5.0)
vols = st.floats(0.005, 4.0)
rates = st.floats(-0.02, 0.10)
divs = st.floats(0.0, 0.08)
cps = st.sampled_from(["C", "P"])


@settings(max_examples=300, deadline=None)
@given(cp=cps, s=pos, m=moneyness, t=times, v=vols, r=rates, q=divs)
def test_price_bounds(cp, s, m, t, v, r, q):
    k = s * m
    g = bsm_greeks(cp, s, k, t, v, r, q)
    sq, kr = s * math.exp(-q * t), k * math.exp(-r * t)
    lower, upper = (max(0.0, sq - kr), sq) if cp == "C" else (max(0.0, kr - sq), kr)
    eps = 1e-12 * (s + k)
    assert lower - eps <= float(g.price) <= upper + eps
    assert float(g.gamma) >= 0.0 and float(g.vega) >= 0.0
    assert all(np.isfinite(x) for x in g)


@settings(max_examples=300, deadline=None)
@given(cp=cps, s=pos, m=moneyness, t=times, v=vols, r=rates, q=divs,
       bump=st.floats(1.001, 1.5))
def test_monotonic_in_strike_vol_and_spot(cp, s, m, t, v, r, q, bump):
    k = s * m
    sign = 1.0 if cp == "C" else -1.0
    base = float(bsm_greeks(cp, s, k, t, v, r, q).price)
    eps = 1e-12 * (s + k)
    assert sign * (float(bsm_greeks(cp, s, k * bump, t, v, r, q).price) - base) <= eps
    assert float(bsm_greeks(cp, s, k, t, v * bump, r, q).price) - base >= -eps
    assert sign * (float(bsm_greeks(cp, s * bump, k, t, v, r, q).price) - base) >= -eps


# ----------------------------------------------------------------------------- degenerate

@pytest.mark.parametrize("t", [0.0, -0.5])
def test_expired_is_intrinsic_with_zero_greeks(t):
    for f in (lambda w, s, k: bsm_greeks(w, s, k, t, 0.2, 0.05, 0.02),
              lambda w, s, k: black76_greeks(w, s, k, t, 0.2, 0.05)):
        g = f(["C", "P", "C", "P"], [100.0, 100.0, 90.0, 90.0], [90.0, 90.0, 100.0, 100.0])
        np.testing.assert_array_equal(g.price, [10.0, 0.0, 0.0, 10.0])
        assert np.all(np.stack(g[1:]) == 0.0)


def test_zero_vol_is_the_deterministic_limit():
    s, t, r, q = 100.0, 0.5, 0.04, 0.01
    k = np.array([80.0, 95.0, 100.0, 103.0, 130.0])   # fwd ≈ 101.5
    for cp, w in (("C", 1.0), ("P", -1.0)):
        g = bsm_greeks(cp, s, k, t, 0.0, r, q)
        sq, kr = s * np.exp(-q * t), k * np.exp(-r * t)
        itm = w * (sq - kr) > 0
        np.testing.assert_allclose(g.price, np.where(itm, w * (sq - kr), 0.0), atol=1e-13)
        np.testing.assert_allclose(g.delta, np.where(itm, w * np.exp(-q * t), 0.0), atol=1e-15)
        for name in ("gamma", "vega", "vanna", "volga"):
            assert np.all(getattr(g, name) == 0.0)
        # the limit is continuous: a tiny vol gives the same price, delta, theta, rho, charm
        near = bsm_greeks(cp, s, k, t, 1e-6, r, q)
        for name in ("price", "delta", "theta", "rho", "charm"):
            np.testing.assert_allclose(getattr(g, name), getattr(near, name), atol=1e-12)


def test_zero_vol_exactly_at_the_forward_has_half_weight():
    s, t, r, q = 100.0, 1.0, 0.03, 0.01
    fwd = s * math.exp((r - q) * t)
    g = bsm_greeks(["C", "P"], s, fwd, t, 0.0, r, q)
    assert np.allclose(g.price, 0.0, atol=1e-12)
    np.testing.assert_allclose(g.delta, [0.5 * math.exp(-q * t), -0.5 * math.exp(-q * t)])


def test_degenerate_entries_inside_large_blocked_arrays():
    # 200k options take the threaded, blocked path; degenerate entries are scattered in it.
    c = random_cases(200_000, seed=9)
    t, vol = c["t"].copy(), c["vol"].copy()
    t[::997], vol[5::1009] = 0.0, 0.0
    args = (c["w"], c["s"], c["k"], t, vol, c["r"], c["q"])
    big = np.stack(bsm_greeks(*args))
    small = np.concatenate([np.stack(bsm_greeks(*(a[i:i + 1000] for a in args)))
                            for i in range(0, t.size, 1000)], axis=1)
    np.testing.assert_array_equal(big, small)
    expired = t == 0.0
    np.testing.assert_array_equal(big[0, expired],
                                  np.maximum(c["w"] * (c["s"] - c["k"]), 0.0)[expired])
    assert np.all(big[1:, expired] == 0.0)
    assert np.all(big[2, vol == 0.0] == 0.0)


def test_whole_domain_is_finite_without_warnings():
    # t 1 minute..5 years, vol 0.5 %..400 %, K/S 0.1..10 (SPEC domain), both models.
    t, v, m = np.meshgrid(np.geomspace(1 / 525600, 5.0, 25), np.geomspace(0.005, 4.0, 25),
                          np.geomspace(0.1, 10.0, 25), indexing="ij")
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise"):
        warnings.simplefilter("error")
        for cp in ("C", "P"):
            for g in (bsm_greeks(cp, 100.0, 100.0 * m, t, v, 0.05, 0.02),
                      black76_greeks(cp, 100.0, 100.0 * m, t, v, 0.05)):
                assert all(np.isfinite(x).all() for x in g)
                assert np.all(g.price >= 0.0)


def test_shapes_broadcast_and_scalars_give_zero_d():
    g = bsm_greeks("C", 100.0, [[90.0, 100.0, 110.0]], [[0.1], [0.5]], 0.2)
    assert all(x.shape == (2, 3) for x in g)
    assert bsm_greeks("P", 100.0, 100.0, 1.0, 0.2).price.shape == ()


# ----------------------------------------------------------------------------- inputs

@pytest.mark.parametrize("cp,expected", [
    ("c", 1.0), ("C", 1.0), ("Call", 1.0), ("CALL", 1.0), (" put ", -1.0), ("p", -1.0),
    (1, 1.0), (-1, -1.0), (1.0, 1.0), (-1.0, -1.0),
])
def test_cp_parsing(cp, expected):
    call = bsm_greeks("C", 100.0, 95.0, 0.5, 0.3, 0.02)
    put = bsm_greeks("P", 100.0, 95.0, 0.5, 0.3, 0.02)
    assert float(bsm_greeks(cp, 100.0, 95.0, 0.5, 0.3, 0.02).price) == float(
        (call if expected > 0 else put).price)


def test_cp_mixed_arrays():
    ref = bsm_greeks([1.0, -1.0, 1.0, -1.0], 100.0, 95.0, 0.5, 0.3).price
    for cp in (["c", -1, "Call", "PUT"], np.array(["C", "p", "call", "Put"]),
               np.array([1, -1, 1, -1])):
        np.testing.assert_array_equal(bsm_greeks(cp, 100.0, 95.0, 0.5, 0.3).price, ref)


@pytest.mark.parametrize("kwargs,words", [
    ({"strike": -5.0}, ["strike", "-5.0", "positive"]),
    ({"strike": 0.0}, ["strike", "0.0", "positive"]),
    ({"spot": -1.0}, ["spot", "-1.0"]),
    ({"vol": -0.2}, ["vol", "-0.2", "negative"]),
    ({"strike": "abc"}, ["strike", '"abc"', "number"]),
    ({"t": [0.5, "soon"]}, ["t", '"soon"']),
    ({"rate": None}, ["rate", "None"]),
    ({"div": float("nan")}, ["div", "nan"]),
    ({"vol": float("inf")}, ["vol", "inf"]),
    ({"spot": True}, ["spot", "True"]),
    ({"cp": "X"}, ["cp", '"X"']),
    ({"cp": 2}, ["cp", "2"]),
    ({"cp": ["C", "Straddle"]}, ["cp", '"Straddle"']),
])
def test_invalid_inputs_raise_input_error_naming_the_parameter(kwargs, words):
    a = {"cp": "C", "spot": 100.0, "strike": 100.0, "t": 1.0, "vol": 0.2, "rate": 0.0,
         "div": 0.0} | kwargs
    with pytest.raises(InputError) as info:
        bsm_greeks(a["cp"], a["spot"], a["strike"], a["t"], a["vol"], a["rate"], a["div"])
    for word in words:
        assert word in str(info.value)


def test_shapes_that_do_not_broadcast_raise_input_error():
    with pytest.raises(InputError, match=r"do not broadcast.*strike \(3,\).*t \(2,\)"):
        bsm_greeks("C", 100.0, [90.0, 100.0, 110.0], [0.1, 0.2], 0.2)


def test_black76_names_its_underlying_fwd():
    with pytest.raises(InputError, match=r"fwd \(-3\.0\)"):
        black76_greeks("C", -3.0, 100.0, 1.0, 0.2)
