"""Iron condor engine (alvh_xl.risk.condor) against independent references.

References: expiry payoff from intrinsic values on a fine grid (max loss, break-evens),
QuantLib's BlackCalculator (leg prices at the T+0 roots; cash-or-nothing digitals for the
probability), scipy's brentq on revalue()-based P&L (roots), scipy.stats.lognorm (tails).
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pytest
import QuantLib as ql
from scipy.optimize import brentq
from scipy.stats import lognorm

from alvh_xl.book import parse_curve, parse_market, parse_positions
from alvh_xl.errors import InputError
from alvh_xl.risk.condor import (
    SIGN,
    breakeven_migration,
    condor_report,
    find_condors,
    prob_between,
    t0_breakevens,
    t0_pnl,
)
from alvh_xl.risk.scenarios import revalue
from alvh_xl.risk.valuation import value_book

HEAD = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "IV",
        "EntryPrice"]
EXP = "2027-01-08"


def ic(name="IC-Jan", entry=(None,) * 4, qty=10, expiry=EXP, strikes=(6250, 6300, 7050, 7100),
       ivs=(0.20, 0.19, 0.12, 0.115)):
    """Rows of a short iron condor: long put, short put, short call, long call."""
    types, signs = ("P", "P", "C", "C"), (1, -1, -1, 1)
    return [["Core", name, "SPX", t, k, expiry, s * qty, v, e]
            for t, k, s, v, e in zip(types, strikes, signs, ivs, entry, strict=True)]


MKT = [["Field", "Value"], ["ValuationDate", "2026-11-24"], ["ValuationTime", "16:00"],
       ["SpxSpot", 6700], ["Rate", 0.04], ["DivYield", 0.013], ["VixSpot", 17.5]]
CURVE = [["Expiry", "Price"], ["2026-12-16", 18.6], ["2027-01-20", 19.5]]
VIX_SPREAD = [["VIX L1", "CS-Dec", "VIX", "C", 20, "2026-12-16", 20, 0.85, None],
              ["VIX L1", "CS-Dec", "VIX", "C", 25, "2026-12-16", -20, 1.0, None]]
ENTRY = (35.0, 40.0, 20.0, 12.0)         # credit 40 + 20 − 35 − 12 = 13 points


def book(*rows):
    return value_book(parse_positions([HEAD, *rows]), parse_market(MKT), parse_curve(CURVE))


def expiry_pnl(strikes, credit, s):
    """Independent expiry P&L per condor (points) from intrinsic values."""
    k1, k2, k3, k4 = strikes
    put = lambda k: np.maximum(k - s, 0.0)  # noqa: E731
    call = lambda k: np.maximum(s - k, 0.0)  # noqa: E731
    return credit + put(k1) - put(k2) - call(k3) + call(k4)


def ql_value(strikes, ivs, t, spot, rate, div):
    """Condor value per unit (long +) from QuantLib's BlackCalculator."""
    fwd, df = spot * math.exp((rate - div) * t), math.exp(-rate * t)
    total = 0.0
    for k, v, cp, s in zip(strikes, ivs, (ql.Option.Put, ql.Option.Put, ql.Option.Call,
                                          ql.Option.Call), SIGN, strict=True):
        calc = ql.BlackCalculator(ql.PlainVanillaPayoff(cp, k), fwd, v * math.sqrt(t), df)
        total += s * calc.value()
    return total


# SPX (AM-settled, 09:30) expiring 2027-01-08, valued 2026-11-24 16:00: 45 days less 6.5 hours,
# ACT/365 (SPEC §4), computed here from the calendar, not taken from the engine.
T_JAN = ((dt.date(2027, 1, 8) - dt.date(2026, 11, 24)).days + (9.5 - 16.0) / 24.0) / 365.0


def test_sample_condor_credit_from_mark_and_reason_for_vix_spread():
    val = book(*ic(), *VIX_SPREAD)
    rep = condor_report(val)
    row = rep.table.iloc[0]
    # QuantLib prices of the four legs: credit = short legs received − long legs paid
    mark_credit = -ql_value((6250, 6300, 7050, 7100), (0.20, 0.19, 0.12, 0.115), T_JAN, 6700,
                            0.04, 0.013)
    assert row["Strategy"] == "IC-Jan" and row["CreditBasis"] == "mark"
    assert row["Credit"] == pytest.approx(mark_credit, abs=1e-9)
    assert row["CreditUSD"] == pytest.approx(mark_credit * 100 * 10, abs=1e-6)
    assert (row["ShortPut"], row["LongPut"], row["ShortCall"], row["LongCall"], row["Qty"]) == (
        6300, 6250, 7050, 7100, 10)
    other = rep.table.iloc[1]
    assert other["Strategy"] == "CS-Dec" and np.isnan(other["Credit"])
    assert other["Note"] == "not an iron condor: has VIX legs; needs four SPX or four XSP options"


def test_expiry_breakevens_max_loss_and_return_on_risk():
    val = book(*ic(entry=ENTRY))
    row = condor_report(val).table.iloc[0]
    assert row["CreditBasis"] == "entry"
    assert row["Credit"] == pytest.approx(13.0, abs=1e-9)
    assert row["BreakevenLow"] == row["ShortPut"] - row["Credit"]
    assert row["BreakevenHigh"] == row["ShortCall"] + row["Credit"]
    for be in (row["BreakevenLow"], row["BreakevenHigh"]):
        assert abs(expiry_pnl((6250, 6300, 7050, 7100), row["Credit"], be)) < 1e-9
    s = np.linspace(5000, 8500, 350_001)
    worst = expiry_pnl((6250, 6300, 7050, 7100), 13.0, s).min() * 100 * 10
    assert row["MaxLoss"] == pytest.approx(-worst, abs=1e-6)
    assert row["MaxLoss"] == pytest.approx((50 - 13) * 1000, abs=1e-6)
    assert row["MaxProfit"] == pytest.approx(13_000, abs=1e-6)
    assert row["ReturnOnRisk"] == pytest.approx(13 / 37, abs=1e-12)


def test_unequal_wings_use_the_wider_wing():
    val = book(*ic(entry=ENTRY, strikes=(6200, 6300, 7050, 7100)))
    row = condor_report(val).table.iloc[0]
    assert row["MaxLoss"] == pytest.approx((100 - 13) * 1000, abs=1e-6)
    s = np.linspace(5000, 8500, 350_001)
    assert row["MaxLoss"] == pytest.approx(
        -expiry_pnl((6200, 6300, 7050, 7100), 13.0, s).min() * 1000, abs=1e-6)


def test_t0_roots_are_zeros_of_an_independent_pnl():
    val = book(*ic(entry=ENTRY))
    c, _, _ = find_condors(val)
    shifts = np.array([-10.0, -5.0, -2.0, 0.0, 2.0])
    low, high = t0_breakevens(c, shifts)
    assert np.isfinite(low).all() and np.isfinite(high).all()
    # SPEC §5 weight, τ = the expiry in days: w = min(3, (30 / max(τ, 7))^0.5)
    t, w = T_JAN, min(3.0, math.sqrt(30.0 / max(T_JAN * 365.0, 7.0)))
    for j, d in enumerate(shifts):
        ivs = np.maximum(c.iv[0] + w * d / 100, 0)
        pnl = lambda s, ivs=ivs: 13.0 + ql_value(c.strike[0], ivs, t, s, 0.04, 0.013)  # noqa: E731
        assert abs(pnl(low[0, j])) < 1e-7 and abs(pnl(high[0, j])) < 1e-7
        assert pnl(low[0, j] - 1) < 0 < pnl(low[0, j] + 1)
        assert pnl(high[0, j] - 1) > 0 > pnl(high[0, j] + 1)


def test_t0_pnl_matches_full_revaluation_and_brentq():
    val = book(*ic(entry=ENTRY), *VIX_SPREAD)
    c, _, _ = find_condors(val)
    cols = np.flatnonzero(val.legs["Strategy"].to_numpy() == "IC-Jan")
    entry_value = -13.0 * 1000                       # $ paid to open = −credit

    def book_pnl(spot, d):                           # $ P&L of the condor legs via revalue()
        v = revalue(val.state, vol_shift=[d], spot_pct=[(spot / 6700 - 1) * 100])
        return v[0, cols].sum() - entry_value

    spots = np.array([6000.0, 6500.0, 6700.0, 7000.0])
    for d in (-5.0, 0.0, 5.0):
        mine = t0_pnl(c, spots[None, None, :], np.array([d]))[0, 0] * 1000
        ref = np.array([book_pnl(s, d) for s in spots])
        np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-6)
    low, high = t0_breakevens(c, np.array([-2.0]))
    ref_low = brentq(book_pnl, 5000, 6700, args=(-2.0,), xtol=1e-12)
    ref_high = brentq(book_pnl, 6700, 7500, args=(-2.0,), xtol=1e-12)
    assert low[0, 0] == pytest.approx(ref_low, abs=1e-6)
    assert high[0, 0] == pytest.approx(ref_high, abs=1e-6)


def test_t0_breakevens_move_outward_as_vol_falls():
    val = book(*ic(entry=ENTRY))
    mig = breakeven_migration(val, "IC-Jan")          # default ladder −10 … +10
    assert list(mig["Shift"]) == [-10, -5, -2, 0, 2, 5, 10]
    ok = mig.dropna()
    assert len(ok) >= 5
    assert (np.diff(ok["T0Low"]) > 0).all()           # vol up → lower BE rises (inward)
    assert (np.diff(ok["T0High"]) < 0).all()          # vol up → upper BE falls (inward)
    row = condor_report(val).table.iloc[0]
    base = mig[mig["Shift"] == 0].iloc[0]
    assert (row["T0BreakevenLow"], row["T0BreakevenHigh"]) == (base["T0Low"], base["T0High"])
    # today's break-evens lie inside the expiry ones (time value still to decay)
    assert row["BreakevenLow"] < row["T0BreakevenLow"] < row["T0BreakevenHigh"] < row[
        "BreakevenHigh"]


def test_mark_basis_spot_is_a_t0_breakeven_and_large_vol_rise_has_none():
    val = book(*ic())
    rep = condor_report(val)
    row = rep.table.iloc[0]
    c = rep.condors
    assert t0_pnl(c, np.array([6700.0]), np.array([0.0]))[0, 0, 0] == pytest.approx(0, abs=1e-9)
    assert min(abs(row["T0BreakevenLow"] - 6700), abs(row["T0BreakevenHigh"] - 6700)) < 1e-6
    mig = rep.migration.set_index("Shift")
    assert np.isnan(mig.loc[10.0, "T0Low"]) and np.isnan(mig.loc[10.0, "T0High"])
    grid = np.linspace(3350, 10050, 2001)
    assert (t0_pnl(c, grid, np.array([10.0])) < 0).all()   # really no profit at +10
    assert "today's mark" in row["Note"]


def test_probability_between_breakevens_vs_quantlib_and_scipy():
    val = book(*ic(entry=ENTRY))
    rep = condor_report(val)
    row, c = rep.table.iloc[0], rep.condors
    t = c.t[0, 0]
    fwd = 6700 * math.exp((0.04 - 0.013) * t)

    def above(k, vol):
        payoff = ql.CashOrNothingPayoff(ql.Option.Call, k, 1.0)
        return ql.BlackCalculator(payoff, fwd, vol * math.sqrt(t), 1.0).value()

    ref = above(row["BreakevenLow"], 0.19) - above(row["BreakevenHigh"], 0.12)
    assert row["ProbBetween"] == pytest.approx(ref, abs=1e-8)
    # same number from scipy's lognormal survival functions, median F·e^{−σ²T/2}
    sf = lambda k, v: lognorm.sf(k, v * math.sqrt(t), scale=fwd * math.exp(-v * v * t / 2))  # noqa: E731
    assert row["ProbBetween"] == pytest.approx(
        sf(row["BreakevenLow"], 0.19) - sf(row["BreakevenHigh"], 0.12), abs=1e-10)
    assert 0.5 < row["ProbBetween"] < 0.95


def test_probability_one_sided_and_at_expiry():
    val = book(*ic(entry=ENTRY))
    c = condor_report(val).condors
    p_above = prob_between(c, np.array([6287.0]), np.array([np.inf]))
    p_below = prob_between(c, np.array([0.0]), np.array([7063.0]))
    p_both = prob_between(c, np.array([6287.0]), np.array([7063.0]))
    assert p_above[0] + p_below[0] - 1 == pytest.approx(p_both[0], abs=1e-12)
    assert prob_between(c, np.array([np.nan]), np.array([7063.0]))[0] == 0.0
    c.t[:] = 0.0                                      # at expiry: spot inside → certain
    assert prob_between(c, np.array([6287.0]), np.array([7063.0]))[0] == 1.0
    assert prob_between(c, np.array([6800.0]), np.array([7063.0]))[0] == 0.0


def test_credit_above_a_wing_has_no_breakeven_on_that_side():
    val = book(*ic(entry=(0.0, 40.0, 20.0, 0.0)))   # credit 60 > both 50-point wings
    row = condor_report(val).table.iloc[0]
    assert np.isnan(row["BreakevenLow"]) and np.isnan(row["BreakevenHigh"])
    assert np.isnan(row["ReturnOnRisk"]) and row["MaxLoss"] == pytest.approx(-10_000)
    assert row["ProbBetween"] == 1.0
    assert "no lower break-even at expiry" in row["Note"]
    assert np.isnan(row["T0BreakevenLow"]) and "none within ±50%" in row["Note"]


@pytest.mark.parametrize("rows, reason", [
    (ic()[:3], "3 legs (needs 4)"),
    ([*ic()[:3], ["Core", "IC-Jan", "SPX", "C", 7100, EXP, 5, 0.115, None]],
     "quantities differ (|Qty| 10, 10, 10, 5)"),
    ([*ic()[:3], ["Core", "IC-Jan", "SPX", "C", 7100, "2027-01-15", 10, 0.115, None]],
     "mixed expiries (2027-01-08, 2027-01-15)"),
    ([*ic()[:3], ["Core", "IC-Jan", "SPX", "P", 6200, EXP, 10, 0.2, None]],
     "3 puts and 1 call (needs 2 and 2)"),
    ([*ic()[:3], ["Core", "IC-Jan", "SPXW", "C", 7100, EXP, 10, 0.115, None]],
     "mixed settlement (SPX AM and SPXW PM)"),
    (ic(strikes=(6350, 6300, 7050, 7100)),
     "puts 6300/6350 are not long the lower strike, short the higher"),
    (ic(strikes=(6250, 6300, 7150, 7100)),
     "calls 7100/7150 are not short the lower strike, long the higher"),
    (ic(strikes=(6250, 7060, 7050, 7100)), "short put 7060 is not below short call 7050"),
    (ic(qty=-10), "puts 6250/6300 are not long the lower strike, short the higher"),
    (VIX_SPREAD, "has VIX legs; needs four SPX or four XSP options"),
])
def test_non_condor_groups_get_a_reason(rows, reason):
    val = book(*ic(name="IC-Feb", entry=ENTRY), *[[*r[:1], "X", *r[2:]] for r in rows])
    rep = condor_report(val)
    assert list(rep.table["Strategy"]) == ["IC-Feb", "X"]
    assert rep.table.iloc[1]["Note"] == f"not an iron condor: {reason}"
    assert rep.reasons == {"X": reason}
    with pytest.raises(InputError, match=re.escape(f"X is not an iron condor: {reason}")):
        breakeven_migration(val, "x")


def test_several_condors_are_computed_together_like_one_at_a_time():
    two = book(*ic(entry=ENTRY), *ic(name="IC-Feb", expiry="2027-02-19",
                                     strikes=(6100, 6200, 7150, 7250), ivs=(0.21, 0.2, 0.13, 0.12)))
    one = book(*ic(name="IC-Feb", expiry="2027-02-19", strikes=(6100, 6200, 7150, 7250),
                   ivs=(0.21, 0.2, 0.13, 0.12)))
    both, single = condor_report(two), condor_report(one)
    assert list(both.table["Strategy"]) == ["IC-Jan", "IC-Feb"]
    num = ["Credit", "MaxLoss", "BreakevenLow", "T0BreakevenLow", "T0BreakevenHigh",
           "ProbBetween"]
    np.testing.assert_allclose(both.table.iloc[1][num].to_numpy(float),
                               single.table.iloc[0][num].to_numpy(float), rtol=0, atol=1e-8)
    assert len(both.migration) == 14
    feb = both.migration[both.migration["Strategy"] == "IC-Feb"][["T0Low", "T0High"]]
    np.testing.assert_allclose(feb.to_numpy(float), single.migration[["T0Low", "T0High"]]
                               .to_numpy(float), rtol=0, atol=1e-8)


def test_strategy_lookup_errors():
    val = book(*ic(), *VIX_SPREAD)
    with pytest.raises(InputError, match="strategy 'nope' not found; strategies in the book: "
                                         "IC-Jan, CS-Dec"):
        breakeven_migration(val, "nope")
    assert breakeven_migration(val, " ic-jan ").shape == (7, 3)
    with pytest.raises(InputError, match=r"no iron condor in the book \(CS-Dec: has VIX legs"):
        breakeven_migration(book(*VIX_SPREAD))
    bare = [[*r[:1], None, *r[2:]] for r in VIX_SPREAD]
    with pytest.raises(InputError, match="no Strategy groups"):
        breakeven_migration(book(*bare))
    assert condor_report(book(*bare)).table.empty


def test_after_expiry_t0_breakevens_are_the_expiry_ones():
    mkt = [r if r[0] != "ValuationDate" else ["ValuationDate", "2027-01-09"] for r in MKT]
    val = value_book(parse_positions([HEAD, *ic(entry=ENTRY)]), parse_market(mkt),
                     parse_curve(CURVE))
    rep = condor_report(val)
    row = rep.table.iloc[0]
    assert row["T0BreakevenLow"] == pytest.approx(6287.0, abs=1e-9)
    assert row["T0BreakevenHigh"] == pytest.approx(7063.0, abs=1e-9)
    assert np.ptp(rep.migration["T0Low"]) == 0.0       # vol no longer matters
    assert row["ProbBetween"] == 1.0                  # spot 6700 settled inside
