"""Implied volatility: round trips, independent references (QuantLib, Jäckel's normalised Black
via py_lets_be_rational), no-arbitrage bounds with status codes, mixed arrays, properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_xl.errors import InputError
from alvh_xl.pricing import (
    STATUS,
    black76_greeks,
    bsm_greeks,
    explain,
    implied_vol,
    solve_implied_vol,
)
from alvh_xl.pricing import implied as imp

EPS = np.finfo(float).eps
MINUTE = 1.0 / (365.0 * 24 * 60)


def _domain(n, seed):
    """Random options over the stated domain: t 1 min..5 y, vol 0.5 %..400 %, K/S 0.1..10."""
    rng = np.random.default_rng(seed)
    t = np.exp(rng.uniform(np.log(MINUTE), np.log(5.0), n))
    vol = np.exp(rng.uniform(np.log(0.005), np.log(4.0), n))
    s = 100.0 * np.exp(rng.uniform(-1.0, 1.0, n))
    k = s * np.exp(rng.uniform(np.log(0.1), np.log(10.0), n))
    cp = rng.choice([1.0, -1.0], n)
    r = rng.uniform(-0.01, 0.08, n)
    q = rng.uniform(0.0, 0.05, n)
    return cp, s, k, t, vol, r, q


@pytest.mark.parametrize("model", ["bsm", "black76"])
def test_round_trip_accuracy_where_vega_matters(model):
    cp, s, k, t, vol, r, q = _domain(40_000, seed=11 if model == "bsm" else 12)
    if model == "bsm":
        g = bsm_greeks(cp, s, k, t, vol, r, q)
        fwd = s * np.exp((r - q) * t)
    else:
        g = black76_greeks(cp, s, k, t, vol, r)
        fwd = s
    res = solve_implied_vol(g.price, cp, s, k, t, r, q, model=model)
    err = np.abs(res.vol - vol)
    matters = g.vega >= 1e-8 * s                     # vega per vol point ≥ 1e-8·underlying
    assert matters.sum() > 5_000
    assert (res.status[matters] == imp.OK).all()
    otm = cp * np.log(fwd / k) <= 0
    # Out of the money the price is small and exactly representable: 1e-10 everywhere.
    assert err[matters & otm].max() <= 1e-10
    # In the money the price carries the intrinsic value, and one rounding of a price p moves
    # the vol by ~ε·p/vega: the bound adds that input resolution (measured ≤ 0.45 of it).
    itm = matters & ~otm
    resolution = 4 * EPS * np.maximum(g.price, np.maximum(s, k))[itm] / (100.0 * g.vega[itm])
    assert (err[itm] <= 1e-10 + resolution).all()
    assert np.median(err[itm]) <= 1e-12


def test_solved_vols_reprice_the_input_price():
    """Backward stability: every returned vol reproduces its price to rounding, even where
    vega is tiny (elements whose price cannot pin the vol down get status 7 and NaN)."""
    cp, s, k, t, vol, r, q = _domain(40_000, seed=3)
    p = bsm_greeks(cp, s, k, t, vol, r, q).price
    res = solve_implied_vol(p, cp, s, k, t, r, q)
    ok = res.status == imp.OK
    again = bsm_greeks(cp[ok], s[ok], k[ok], t[ok], res.vol[ok], r[ok], q[ok]).price
    scale = np.maximum(p[ok], np.maximum(s[ok], k[ok]))
    assert (np.abs(again - p[ok]) <= 64 * EPS * scale).all()
    assert set(np.unique(res.status)) <= {imp.OK, imp.ZERO_TIME_VALUE, imp.BELOW_INTRINSIC}


def test_deep_out_of_the_money_against_jaeckel_normalised_black():
    """Independent reference: py_lets_be_rational's normalised Black (tiny prices, no underflow
    down to 1e-300). With F = e^{x/2}, K = e^{−x/2}, D = 1, t = 1 the price is b(x, s) itself."""
    lbr = pytest.importorskip("py_lets_be_rational")
    for x in (-0.01, -0.5, -2.0, -5.0):
        sig = np.geomspace(abs(x) / 30, 6.0, 60)
        beta = np.array([lbr.normalised_black_call(x, v) for v in sig])
        assert beta.min() < 1e-100
        got = implied_vol(beta, "C", math.exp(x / 2), math.exp(-x / 2), 1.0, model="black76")
        assert np.max(np.abs(got / sig - 1)) <= 1e-12, x
        puts = implied_vol(beta, "P", math.exp(-x / 2), math.exp(x / 2), 1.0, model="black76")
        assert np.max(np.abs(puts / sig - 1)) <= 1e-12, x


def test_against_quantlib_on_moderate_cases():
    """QuantLib blackFormulaImpliedStdDev (accuracy 1e-12 in σ√t) on moderate cases only:
    DESIGN.md notes QuantLib returns wrong vols for tiny deep-OTM prices, and its cumulative
    normal is ~1e-8 relative in the far tail, so time values ≥ 1e-3·F, t 0.05..3 y, vol 5..150 %,
    K/F 0.6..1.6. Tolerance 1e-9 in vol."""
    ql = pytest.importorskip("QuantLib")
    rng = np.random.default_rng(5)
    n = 400
    t = rng.uniform(0.05, 3.0, n)
    vol = rng.uniform(0.05, 1.5, n)
    fwd = rng.uniform(50, 150, n)
    k = fwd * rng.uniform(0.6, 1.6, n)
    cp = rng.choice([1.0, -1.0], n)
    r = rng.uniform(0.0, 0.06, n)
    price = black76_greeks(cp, fwd, k, t, vol, r).price
    time_value = price - np.exp(-r * t) * np.maximum(cp * (fwd - k), 0.0)
    keep = time_value >= 1e-3 * fwd
    ours = implied_vol(price, cp, fwd, k, t, r, model="black76")
    checked = 0
    for i in np.flatnonzero(keep):
        kind = ql.Option.Call if cp[i] > 0 else ql.Option.Put
        disc = math.exp(-r[i] * t[i])
        std = ql.blackFormulaImpliedStdDev(kind, float(k[i]), float(fwd[i]), float(price[i]),
                                           disc, 0.0, ql.nullDouble(), 1e-12, 200)
        assert abs(ours[i] - std / math.sqrt(t[i])) <= 1e-9
        checked += 1
    assert checked > 300


def test_bounds_and_bad_elements_give_nan_with_reason():
    price = [10.0, 0.5, 120.0, 5.0, float("nan"), 5.0, 5.0, 5.0, 5.0, 10.0]
    cp = ["C", "P", "C", "C", "C", "X", "P", "C", "C", "call"]
    spot = [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, -1.0, 100.0, 100.0]
    strike = [100.0, 100.0, 100.0, 50.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    t = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, -0.5, 1.0]
    res = solve_implied_vol(price, cp, spot, strike, t, 0.02, 0.01)
    expected = [imp.OK, imp.OK, imp.ABOVE_MAXIMUM, imp.BELOW_INTRINSIC, imp.NOT_A_NUMBER,
                imp.BAD_CP, imp.EXPIRED, imp.BAD_INPUT, imp.EXPIRED, imp.OK]
    assert res.status.tolist() == expected
    assert np.isnan(res.vol[2:9]).all()
    assert np.isfinite(res.vol[[0, 1, 9]]).all()
    assert explain(imp.BELOW_INTRINSIC) == "price below intrinsic value"
    assert explain(imp.ABOVE_MAXIMUM).startswith("price at or above the no-arbitrage maximum")
    assert explain(imp.EXPIRED) == "expired (t <= 0)"
    assert explain(99) == "unknown status 99"
    assert set(STATUS) == set(range(10))


def test_price_exactly_at_bounds():
    # OTM price 0 and ITM price = discounted intrinsic: time value 0, vol undetermined.
    disc = math.exp(-0.03)
    fwd = 100.0 * math.exp(0.03 - 0.01)
    itm = disc * (fwd - 80.0)
    res = solve_implied_vol([0.0, itm, 100.0 * math.exp(-0.01)], "C", 100.0, [120.0, 80.0, 80.0],
                            1.0, 0.03, 0.01)
    assert res.status.tolist() == [imp.ZERO_TIME_VALUE, imp.ZERO_TIME_VALUE, imp.ABOVE_MAXIMUM]
    assert np.isnan(res.vol).all()


def test_mixed_array_good_elements_unchanged_by_bad_neighbours():
    cp, s, k, t, vol, r, q = _domain(2_000, seed=8)
    p = bsm_greeks(cp, s, k, t, vol, r, q).price
    alone = solve_implied_vol(p, cp, s, k, t, r, q)
    p_bad = p.copy()
    p_bad[::7] = -1.0
    t_bad = t.copy()
    t_bad[3::11] = 0.0
    cp_bad = cp.astype(object)
    cp_bad[5::13] = "?"
    mixed = solve_implied_vol(p_bad, cp_bad, s, k, t_bad, r, q)
    i = np.arange(p.size)
    neg, dead, bad_cp = i % 7 == 0, (i % 11 == 3) & (i % 7 != 0), i % 13 == 5
    good = ~(neg | dead | bad_cp)
    np.testing.assert_array_equal(mixed.vol[good], alone.vol[good])
    np.testing.assert_array_equal(mixed.status[good], alone.status[good])
    assert (mixed.status[neg & ~bad_cp & (t_bad > 0)] == imp.BELOW_INTRINSIC).all()
    assert (mixed.status[dead & ~bad_cp] == imp.EXPIRED).all()
    assert (mixed.status[bad_cp] == imp.BAD_CP).all()
    assert np.isnan(mixed.vol[~good]).all()


def test_non_numeric_elements_do_not_raise():
    res = solve_implied_vol(["abc", 10.0, None], "C", 100.0, 100.0, 1.0)
    assert res.status.tolist() == [imp.NOT_A_NUMBER, imp.OK, imp.NOT_A_NUMBER]
    kinds = [np.array([b"C", b"put", b"Z"]), np.array(["c", "P", "Z"]), [1, -1, 2],
             np.array([1.0, -1.0, 0.0]), ["Call", -1, True]]
    for cp in kinds:
        res = solve_implied_vol([12.0, 12.0, 12.0], cp, 100.0, 110.0, 1.0)
        assert res.status.tolist() == [imp.OK, imp.OK, imp.BAD_CP], cp
        assert res.vol[0] != res.vol[1]                 # call vs put at the same price
    with pytest.raises(InputError, match="model"):
        implied_vol(10.0, "C", 100.0, 100.0, 1.0, model="heston")


def test_shapes_broadcast_and_threaded_path_matches_single_blocks():
    assert implied_vol(10.0, "C", 100.0, 100.0, 1.0).shape == ()
    grid = implied_vol([[8.0], [12.0]], ["C", "P", "C"], 100.0, 100.0, 1.0)
    assert grid.shape == (2, 3)
    cp, s, k, t, vol, r, q = _domain(150_000, seed=21)
    p = bsm_greeks(cp, s, k, t, vol, r, q).price
    whole = solve_implied_vol(p, cp, s, k, t, r, q)          # thread pool, 32768-blocks
    parts = [solve_implied_vol(p[i:i + 50_000], cp[i:i + 50_000], s[i:i + 50_000],
                               k[i:i + 50_000], t[i:i + 50_000], r[i:i + 50_000],
                               q[i:i + 50_000]) for i in range(0, p.size, 50_000)]
    np.testing.assert_allclose(whole.vol, np.concatenate([x.vol for x in parts]),
                               rtol=1e-13, equal_nan=True)
    np.testing.assert_array_equal(whole.status, np.concatenate([x.status for x in parts]))


@settings(max_examples=300, deadline=None)
@given(cp=st.sampled_from(["C", "P"]),
       moneyness=st.floats(0.1, 10.0),
       t=st.floats(MINUTE, 5.0),
       vol=st.floats(0.005, 4.0),
       r=st.floats(-0.02, 0.10),
       q=st.floats(0.0, 0.06))
def test_property_round_trip(cp, moneyness, t, vol, r, q):
    s = 100.0
    k = s * moneyness
    g = bsm_greeks(cp, s, k, t, vol, r, q)
    res = solve_implied_vol(g.price, cp, s, k, t, r, q)
    if float(g.vega) >= 1e-8 * s:
        assert int(res.status) == imp.OK
        resolution = 4 * EPS * max(float(g.price), s, k) / (100.0 * float(g.vega))
        assert abs(float(res.vol) - vol) <= 1e-10 + resolution
    elif int(res.status) == imp.OK:                  # whatever is returned reprices the price
        again = float(bsm_greeks(cp, s, k, t, float(res.vol), r, q).price)
        assert abs(again - float(g.price)) <= 64 * EPS * max(float(g.price), s, k)


@settings(max_examples=200, deadline=None)
@given(cp=st.sampled_from(["C", "P"]), moneyness=st.floats(0.5, 2.0), t=st.floats(0.01, 3.0),
       v1=st.floats(0.02, 2.0), v2=st.floats(0.02, 2.0))
def test_property_monotone_in_price(cp, moneyness, t, v1, v2):
    prices = np.sort(black76_greeks(cp, 100.0, 100.0 * moneyness, t, np.array([v1, v2]),
                                    0.03).price)
    ivs = implied_vol(prices, cp, 100.0, 100.0 * moneyness, t, 0.03, model="black76")
    if np.isfinite(ivs).all():                       # a higher price never gives a lower vol
        assert ivs[0] <= ivs[1] * (1 + 1e-13)
