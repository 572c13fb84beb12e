"""Vol-shift ladder, spot × vol grid and named scenarios vs an independent QuantLib revaluation.

Reference: each leg repriced one at a time with QuantLib's BlackCalculator (SPX: Black on the
BSM forward S·e^{(r−q)T}, discount e^{−rT}; VIX options: Black-76 on the shifted future), plain
Python for futures (F·mult·qty) and ETPs (P·(1 + lev·ΔF/F_cm)·qty), summed in Python.
Tolerance: 1e-6 $ absolute per book (QuantLib's normal CDF is ~1e-15 relative near the money,
the book values are ~1e4 $).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import QuantLib as ql
from xlcall import needs_xlwings, xl_call

from alvh_xl.book import parse_curve, parse_market, parse_positions, parse_scenarios
from alvh_xl.risk.scenarios import (
    linear_pnl,
    named_scenarios,
    revalue,
    shock_ladder,
    spot_vol_grid,
)
from alvh_xl.risk.valuation import value_book

POS = [
    ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "IV", "Price",
     "Underlying"],
    ["Core", "IC", "SPXW", "P", 6150, "2027-01-08", -2, 0.205, None, None],
    ["Core", "IC", "SPXW", "P", 6125, "2027-01-08", 2, 0.21, None, None],
    ["Core", "IC", "SPXW", "C", 7050, "2027-01-08", -2, 0.118, None, None],
    ["Core", "IC", "SPXW", "C", 7075, "2027-01-08", 2, 0.116, None, None],
    ["VIX L1", None, "VIX", "C", 19, "2026-12-16", 3, 0.82, None, None],
    ["VIX L1", None, "VIX", "P", 17, "2026-12-16", 1, 0.70, None, None],
    ["VIX L2", None, "VXM", None, None, "2027-01-20", 1, None, None, None],
    ["Tail", None, "ETP", None, None, None, 25, None, 44.8, "VXX"],
    ["Tail", None, "ETP", None, None, None, -10, None, 31.2, "UVXY"],
]
MKT = [["Field", "Value"], ["ValuationDate", "2026-11-24"], ["SpxSpot", 6712.4],
       ["Rate", 0.0385], ["DivYield", 0.0125], ["VixSpot", 16.9], ["VolOfVolBeta", 0.0]]
CURVE = [["Expiry", "Price"], ["2026-12-16", 18.15], ["2027-01-20", 19.25],
         ["2027-02-17", 19.95], ["2027-03-17", 20.45]]


def book(volvol_beta: float = 0.0):
    mkt = [r[:] for r in MKT]
    mkt[-1][1] = volvol_beta
    return value_book(parse_positions(POS), parse_market(mkt), parse_curve(CURVE))


def ql_black(cp: float, fwd: float, k: float, t: float, vol: float, disc: float) -> float:
    if t <= 0:
        return max(cp * (fwd - k), 0.0)
    opt = ql.Option.Call if cp > 0 else ql.Option.Put
    std = max(vol, 0.0) * math.sqrt(t)
    return ql.BlackCalculator(ql.PlainVanillaPayoff(opt, k), fwd, std, disc).value()


def reference_value(val, *, dvol=0.0, spot_pct=0.0, days=0.0, mode="abs", weighted=True,
                    volvol_beta=0.0) -> float:
    """Book value under one scenario, leg by leg, QuantLib for options."""
    m = val.market
    total = 0.0
    for leg in val.legs.itertuples():
        w = leg.Weight if weighted else 1.0
        units = leg.Multiplier * leg.Qty
        cp = 1.0 if leg.Type == "C" else -1.0
        t = leg.T - days / 365.0 if isinstance(leg.T, float) and not math.isnan(leg.T) else 0.0
        if leg.Instrument in ("SPX", "SPXW"):
            s = m.spx_spot * (1 + spot_pct / 100)
            iv = leg.IV * (1 + w * dvol / 100) if mode == "rel" else leg.IV + w * dvol / 100
            fwd = s * math.exp((m.rate - m.div_yield) * max(t, 0))
            total += ql_black(cp, fwd, leg.Strike, t, max(iv, 0), math.exp(-m.rate * max(t, 0))
                              ) * units
        elif leg.Instrument == "VIX":
            f = leg.UnderlyingPrice
            f = f * (1 + w * dvol / 100) if mode == "rel" else f + w * dvol
            iv = leg.IV + volvol_beta * dvol / 100
            total += ql_black(cp, f, leg.Strike, t, iv, math.exp(-m.rate * max(t, 0))) * units
        elif leg.Instrument in ("VX", "VXM"):
            f = leg.UnderlyingPrice
            total += (f * (1 + w * dvol / 100) if mode == "rel" else f + w * dvol) * units
        else:  # ETP
            days_cm = float(leg.MaturityDays)
            f_cm = np.interp(days_cm, [22, 57, 85, 113], [18.15, 19.25, 19.95, 20.45])
            df = f_cm * w * dvol / 100 if mode == "rel" else w * dvol
            lev = {"VXX": 1.0, "UVXY": 1.5}[leg.Underlying.split()[0]]
            total += leg.UnderlyingPrice * (1 + lev * df / f_cm) * units
    return total


@pytest.mark.parametrize("mode", ["abs", "rel"])
@pytest.mark.parametrize("weighted", [True, False])
def test_ladder_equals_quantlib_revaluation(mode, weighted):
    val = book()
    shifts = [-10, -5, -2, 0, 2, 5, 10]
    lad = shock_ladder(val, shifts, mode=mode, weighting="weighted" if weighted else "parallel")
    base = reference_value(val)
    assert base == pytest.approx(val.legs["Value"].sum(), abs=1e-6)
    for shift, full in zip(shifts, lad["FullPnL"], strict=True):
        ref = reference_value(val, dvol=shift, mode=mode, weighted=weighted) - base
        assert full == pytest.approx(ref, abs=1e-6), shift


def test_zero_shift_is_zero_and_small_shifts_are_linear():
    val = book()
    lad = shock_ladder(val, [0.0, -0.01, 0.01])
    assert lad["FullPnL"][0] == 0.0
    weighted = val.legs["WeightedVolExposure"].sum()
    # The linear estimate is exactly weighted vega × shift ...
    assert lad["LinearPnL"][1] == pytest.approx(-0.01 * weighted, rel=1e-12)
    # ... and full revaluation agrees up to convexity: the gap is below 0.1 % of the gross
    # first-order move and scales with shift² (doubling the shift quadruples it).
    gross = np.abs(val.legs["WeightedVolExposure"]).sum() * 0.01
    gap = (lad["FullPnL"] - lad["LinearPnL"]).to_numpy()
    assert np.all(np.abs(gap[1:]) < 1e-3 * gross)
    twice = shock_ladder(val, [0.02])
    assert (twice["FullPnL"][0] - twice["LinearPnL"][0]) / gap[2] == pytest.approx(4, rel=0.01)


def test_by_layer_columns_sum_to_book():
    val = book()
    lad = shock_ladder(val, by_layer=True)
    layers = ["Core", "VIX L1", "VIX L2", "Tail"]
    assert list(lad.columns[3:]) == layers
    np.testing.assert_allclose(lad[layers].sum(axis=1), lad["FullPnL"], atol=1e-8)


def test_volvol_beta_moves_only_vix_option_ivs():
    plain, bumped = book(0.0), book(1.0)
    a = revalue(plain.state, vol_shift=[5.0], volvol_beta=0.0)[0]
    b = revalue(bumped.state, vol_shift=[5.0], volvol_beta=1.0)[0]
    vix_opt = (plain.legs["Instrument"] == "VIX").to_numpy()
    np.testing.assert_array_equal(a[~vix_opt], b[~vix_opt])
    assert (np.abs(a[vix_opt] - b[vix_opt]) > 1e-6).all()
    ref = reference_value(bumped, dvol=5.0, volvol_beta=1.0) - reference_value(bumped)
    assert (b - bumped.legs["Value"]).sum() == pytest.approx(ref, abs=1e-6)


def test_grid_matches_reference_and_spot_moves_only_spx():
    val = book()
    grid = spot_vol_grid(val, [-4, 0, 4], [-5, 0, 5])
    base = reference_value(val)
    for s in (-4, 0, 4):
        for v in (-5, 0, 5):
            ref = reference_value(val, dvol=v, spot_pct=s) - base
            assert grid.loc[s, v] == pytest.approx(ref, abs=1e-6)
    spot_only = revalue(val.state, spot_pct=[10.0])[0] - revalue(val.state)[0]
    spx = val.legs["Instrument"].isin(["SPX", "SPXW"]).to_numpy()
    assert np.all(spot_only[~spx] == 0.0)


def test_named_scenarios_with_time_decay_and_expiry():
    val = book()
    sc = parse_scenarios([["Name", "SpotPct", "VolPts", "DaysForward"],
                          ["FOMC hawkish", -2, 5, 1], ["Past Dec expiry", 0, 0, 30]])
    table = named_scenarios(val, sc)
    base = reference_value(val)
    assert table["PnL"][0] == pytest.approx(
        reference_value(val, dvol=5, spot_pct=-2, days=1) - base, abs=1e-6)
    assert table["PnL"][1] == pytest.approx(reference_value(val, days=30) - base, abs=1e-6)
    # 30 days forward the Dec VIX options have expired: worth intrinsic on the (unchanged) future.
    after = revalue(val.state, days_forward=[30.0])[0]
    dec = (val.legs["Instrument"] == "VIX").to_numpy()
    intrinsic = np.maximum(np.where(val.legs["Type"] == "C", 1, -1) *
                           (val.legs["UnderlyingPrice"] - val.legs["Strike"]), 0)
    np.testing.assert_allclose(after[dec], (intrinsic * val.legs["Multiplier"] *
                                            val.legs["Qty"])[dec])
    layers = ["Core", "VIX L1", "VIX L2", "Tail"]
    np.testing.assert_allclose(table[layers].sum(axis=1), table["PnL"], atol=1e-8)


def test_linear_estimate_modes():
    val = book()
    exp = val.legs["VolExposure"].to_numpy()
    lin = linear_pnl(val.state, exp, [2.0], mode="abs", weighting="parallel")
    assert lin.sum() == pytest.approx(2.0 * exp.sum())


def test_bad_shifts_and_mode_messages():
    from alvh_xl.udfs import ALVH_GRID, ALVH_SCENARIOPNL, ALVH_SHOCKPNL

    assert ALVH_SHOCKPNL(POS, MKT, CURVE, [["a"]]) == '#ALVH! shifts: expected a number, got "a"'
    assert ALVH_SHOCKPNL(POS, MKT, CURVE, [[1], ["2,5"]]) == (
        '#ALVH! shifts (row 2 of its range): "2,5" looks like a decimal comma; type the number '
        "(with a decimal point)")
    assert ALVH_SHOCKPNL(POS, MKT, CURVE, None, "pts").startswith("#ALVH! mode: expected abs")
    assert ALVH_SHOCKPNL(POS, MKT, CURVE, None, "abs", False, "flat").startswith(
        "#ALVH! weighting")
    assert ALVH_GRID(POS, MKT, CURVE, [[-120]]).startswith("#ALVH! spot shifts")
    assert ALVH_SCENARIOPNL(POS, MKT, CURVE, None).startswith("#ALVH! scenarios")
    bad = [["Name", "SpotPct", "VolPts", "DaysForward"], ["x", "lots", 1, 0]]
    msg = ALVH_SCENARIOPNL(POS, MKT, CURVE, bad)
    assert msg.startswith("#ALVH!") and "row 2" in msg and "SpotPct" in msg


def test_shockpnl_cells_shape_and_values():
    from alvh_xl.udfs import ALVH_SHOCKPNL

    cells = ALVH_SHOCKPNL(POS, MKT, CURVE, [[-2], [2]], "abs", True)
    assert cells[0] == ["Shift", "FullPnL", "LinearPnL", "Core", "VIX L1", "VIX L2", "Tail"]
    lad = shock_ladder(book(), [-2, 2], by_layer=True)
    np.testing.assert_allclose([r[1] for r in cells[1:]], lad["FullPnL"])


@needs_xlwings
def test_reconciliation_functions_through_xlwings():
    cells = xl_call("ALVH_SHOCKPNL", POS, MKT, CURVE)
    assert cells[0] == ["Shift", "FullPnL", "LinearPnL"] and len(cells) == 8
    grid = xl_call("ALVH_GRID", POS, MKT, CURVE, [[-2, 0, 2]], [[-5, 5]])
    assert grid[0] == ["Spot% \\ Vol", -5.0, 5.0] and [r[0] for r in grid[1:]] == [-2, 0, 2]
    sc = xl_call("ALVH_SCENARIOPNL", POS, MKT, CURVE,
                 [["Name", "SpotPct", "VolPts", "DaysForward"], ["FOMC", -2, 5, 1]])
    assert sc[1][0] == "FOMC" and isinstance(sc[1][4], float)
    assert xl_call("ALVH_SHOCKPNL", POS, MKT, CURVE, [["x"]])[0][0].startswith("#ALVH!")


def test_etp_never_loses_more_than_it_is_worth():
    """A long ETP's loss is capped at its value, however large the negative shock."""
    val = book()
    etp = (val.legs["Instrument"] == "ETP").to_numpy()
    long_etp = etp & (val.legs["Qty"] > 0).to_numpy()
    worth = val.legs["Value"].to_numpy()[long_etp]
    for mode, shift in (("abs", -40.0), ("rel", -100.0), ("abs", -1e6)):
        after = revalue(val.state, vol_shift=[shift], mode=mode)[0]
        assert np.all(after[etp] >= 0.0)
        assert np.all(after[long_etp] - worth >= -worth - 1e-9)


def test_an_option_expired_before_the_valuation_does_not_move_in_any_scenario():
    """A leg left in the book after its expiry (an imported VXX call of 2015, an SPXW put and
    a VIX call that expired last week) is worth its intrinsic value on today's levels and has
    settled: vol shifts, spot moves and days forward give it no P&L (it showed vega 0 yet
    moved ±1,815 $ in the ladder). Reference: the same book without those legs."""
    expired = [["Tail", None, "ETP", "C", 37, "2015-03-20", 10, 0.9, None, "VXX"],
               ["Core", None, "SPXW", "P", 6800, "2026-11-20", -1, 0.2, None, None],
               ["VIX L1", None, "VIX", "C", 15, "2026-11-18", 5, 0.8, None, None]]
    mkt = [r[:] for r in MKT] + [["VXX", 44.8]]
    curve = [CURVE[0], ["2026-11-18", 16.5], *CURVE[1:]]
    full = value_book(parse_positions(POS + expired), parse_market(mkt), parse_curve(curve))
    live = value_book(parse_positions(POS), parse_market(mkt), parse_curve(curve))
    n = len(POS) - 1
    assert (full.legs["T"].to_numpy()[n:] <= 0).all(), full.legs["T"]
    kw = {"vol_shift": [-10.0, 0.0, 10.0, 5.0], "spot_pct": [0.0, 0.0, 0.0, -8.0],
          "days_forward": [0.0, 0.0, 3.0, 1.0], "volvol_beta": 0.5}
    values = revalue(full.state, **kw)
    assert np.array_equal(values[:, :n], revalue(live.state, **kw)), "live legs changed"
    gone = values[:, n:]
    assert np.all(gone == gone[1]), gone                 # no scenario moves them
    intrinsic = (np.array([44.8 - 37, 6800 - 6712.4, 16.5 - 15])
                 * np.array([10 * 100, -100, 5 * 100]))
    np.testing.assert_allclose(gone[1], intrinsic, rtol=1e-12, atol=1e-9)
    ladder_full = shock_ladder(full, [-10.0, 10.0])
    ladder_live = shock_ladder(live, [-10.0, 10.0])
    np.testing.assert_allclose(ladder_full["FullPnL"], ladder_live["FullPnL"], rtol=0,
                               atol=1e-9)
