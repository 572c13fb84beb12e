"""Issue 11 instruments in the book: positions rows, XSP = SPX/10, ES/MES, options on vol ETPs
(American), scenarios, hedge candidates, condors of XSP legs and attribution.

References: QuantLib (American QdFp engine; BlackCalculator), homogeneity of the Black
formula (an XSP option on S/10 with strike K/10 is worth exactly a tenth of the SPX option),
finite differences of the full revaluation, and figures written out by hand.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_xl.book import parse_candidates, parse_curve, parse_market, parse_positions
from alvh_xl.book.cells import parse_number
from alvh_xl.risk.attribution import attribute_pair
from alvh_xl.risk.condor import condor_report
from alvh_xl.risk.hedging import size_hedges
from alvh_xl.risk.history import snapshot
from alvh_xl.risk.scenarios import full_pnl, revalue, spot_vol_grid
from alvh_xl.risk.valuation import value_book

ql = pytest.importorskip("QuantLib")

H = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier", "IV",
     "Price", "EntryPrice", "Underlying", "Leverage", "Beta"]
CURVE = [["Expiry", "Price"], ["2026-12-16", 18.6], ["2027-01-20", 19.5], ["2027-02-17", 20.2],
         ["2027-03-17", 20.7], ["2027-04-21", 21.0]]
S, R, Q = 6700.0, 0.04, 0.013


def mkt(**fields):
    base = {"ValuationDate": "2026-11-24", "ValuationTime": "16:00", "SpxSpot": S, "Rate": R,
            "DivYield": Q, "VixSpot": 17.5, "VXX": 44.8, "UVXY": 31.2, "SVXY": 52.0}
    base.update(fields)
    return [["Field", "Value"], *[[k, v] for k, v in base.items() if v is not None]]


def row(layer="Core", instr="SPX", cp=None, strike=None, expiry=None, qty=1.0, iv=None, **kw):
    values = dict(zip(H, [layer, None, instr, cp, strike, expiry, qty, None, iv, None, None,
                          None, None, None], strict=True))
    values.update(kw)
    return [values[h] for h in H]


def value(rows, market=None, curve=CURVE):
    return value_book(parse_positions([H, *rows]), parse_market(market or mkt()),
                      parse_curve(curve))


def years(expiry: str, settle=dt.time(16)) -> float:
    return (dt.datetime.combine(dt.date.fromisoformat(expiry), settle)
            - dt.datetime(2026, 11, 24, 16)).total_seconds() / (365 * 86400)


def ql_american_price(cp, s, k, days, vol, r):
    today = ql.Date(24, 11, 2026)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(s)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, r, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), vol, dc)))
    option = ql.VanillaOption(ql.PlainVanillaPayoff(ql.Option.Call if cp > 0 else
                                                    ql.Option.Put, float(k)),
                              ql.AmericanExercise(today, today + days))
    option.setPricingEngine(ql.QdFpAmericanEngine(
        process, ql.QdFpAmericanEngine.highPrecisionScheme()))
    return option.NPV()


# ----------------------------------------------------------------------------- positions rows

def test_rows_of_each_new_instrument_parse_with_their_defaults():
    pos = parse_positions([H,
                           row("Core", "XSP", "P", 640, "2027-01-08", -2, 0.2),
                           row("Core", "ES", None, None, "2026-12-18", 1),
                           row("Core", "mes", None, None, "2026-12-18", -4, Price=6710.25),
                           row("Tail", "ETP", "C", 50, "2027-01-15", 3, 0.8, Underlying="vxx"),
                           row("Tail", "ETP", qty=10, Price=44.8, Underlying="VXX")])
    assert pos.problems == []
    legs = pos.legs
    assert list(legs["instrument"]) == ["XSP", "ES", "MES", "ETP", "ETP"]
    assert list(legs["multiplier"]) == [100.0, 50.0, 5.0, 100.0, 1.0]   # SPEC §3 defaults
    assert list(legs["cp"]) == [-1.0, 0.0, 0.0, 1.0, 0.0]
    assert list(legs["ticker"]) == ["", "", "", "VXX", "VXX"]
    assert str(legs["expiry"].iloc[3])[:10] == "2027-01-15" and pd.isna(legs["expiry"].iloc[4])
    assert np.isnan(legs["price"].iloc[1]) and legs["price"].iloc[2] == 6710.25


@pytest.mark.parametrize("bad, column, text", [
    (row("Core", "ES", None, None, None, 1), "Expiry", "Expiry is blank"),
    (row("Tail", "ETP", "C", None, "2027-01-15", 1, 0.8, Underlying="VXX"), "Strike",
     "Strike is blank; an option needs a strike"),
    (row("Tail", "ETP", "C", 50, None, 1, 0.8, Underlying="VXX"), "Expiry", "Expiry is blank"),
    (row("Tail", "ETP", "C", 50, "2027-01-15", 1, Underlying="VXX"), "IV",
     "IV and Price are both blank"),
    (row("Tail", "ETP", "X", 50, "2027-01-15", 1, 0.8, Underlying="VXX"), "Type",
     'expected C or P (Call/Put; blank for ETP shares), got "X"'),
    (row("Tail", "ETP", "C", 50, "2027-01-15", 1, 0.8), "Underlying",
     "an ETP option needs its ticker in Underlying"),
    (row("Core", "XSP", None, 640, "2027-01-08", 1, 0.2), "Type",
     "Type is blank; an option needs C or P"),
])
def test_a_bad_new_row_is_left_out_naming_row_and_column(bad, column, text):
    pos = parse_positions([H, row("Core", "XSP", "P", 640, "2027-01-08", 1, 0.2), bad])
    (p,) = pos.problems
    assert (p.row, p.column, p.left_out) == (3, column, True), p
    assert p.reason.startswith(text), p.reason
    assert list(pos.legs["row"]) == [2]


def test_an_etp_option_without_the_etp_price_is_left_out_naming_the_market_field():
    val = value([row("Tail", "ETP", "C", 30, "2027-01-15", 1, 0.9, Underlying="VIXY"),
                 row("Tail", "ETP", "C", 50, "2027-01-15", 1, 0.9, Underlying="VXX")])
    (p,) = val.problems
    assert (p.row, p.column, p.left_out) == (2, "Underlying", True)
    assert p.reason == ("an option on VIXY needs the ETP's price: add a row with Field VIXY "
                        "and its price in Value to ALVH_MARKET")
    assert list(val.legs["Row"]) == [3]


def test_cell_text_with_the_whitespace_the_number_pattern_allows_parses():
    # regression: '0\x1f' matched the pattern (\s) but float() refused it (found by
    # hypothesis in tests/test_fn_book.py::test_garbage_never_raises)
    assert parse_number("0\x1f") == 0.0 and parse_number(" 12.5\x1f") == 12.5


# ----------------------------------------------------------------------------- XSP

@settings(max_examples=40, deadline=None)
@given(k=st.floats(0.6, 1.6), iv=st.floats(0.05, 1.5), cp=st.sampled_from(["C", "P"]),
       days=st.sampled_from(["2026-11-27", "2027-01-08", "2027-06-18"]))
def test_xsp_is_spx_over_ten(k, iv, cp, days):
    """Homogeneity: an XSP option (on S/10, strike K/10) is a tenth of the SPXW option (both
    European, PM-settled, multiplier 100) — value, vega, $delta and $gamma."""
    strike = round(S * k / 10, 1)
    val = value([row("Core", "SPXW", cp, strike * 10, days, 1, iv),
                 row("Core", "XSP", cp, strike, days, 1, iv)])
    spx, xsp = val.legs.iloc[0], val.legs.iloc[1]
    assert xsp["UnderlyingPrice"] == S / 10
    for col in ("Value", "Vega", "Theta", "VolExposure"):
        assert xsp[col] == pytest.approx(spx[col] / 10, rel=1e-12, abs=1e-13), col
    assert xsp["Delta"] * xsp["UnderlyingPrice"] == pytest.approx(
        spx["Delta"] * S / 10, rel=1e-12, abs=1e-12)
    assert xsp["Gamma"] * xsp["UnderlyingPrice"] ** 2 == pytest.approx(
        spx["Gamma"] * S ** 2 / 10, rel=1e-11, abs=1e-12)
    assert xsp["Weight"] == spx["Weight"]


def test_xsp_iv_is_solved_like_spx():
    price = float(value([row("Core", "XSP", "C", 700, "2027-01-08", 1, 0.14)]).legs["Price"][0])
    val = value([row("Core", "XSP", "C", 700, "2027-01-08", 1, None, Price=price)])
    assert val.legs["IV"][0] == pytest.approx(0.14, abs=1e-10)


# ----------------------------------------------------------------------------- ETP options

def test_etp_option_vol_exposure_is_delta_times_etp_exposure_per_share():
    """SPEC §4: option delta × multiplier × qty × price × leverage / F_cm; own vega apart."""
    val = value([row("Tail", "ETP", "C", 50, "2027-01-15", 2, 0.85, Underlying="VXX"),
                 row("Tail", "ETP", "P", 45, "2027-01-15", 2, 0.8, Underlying="SVXY"),
                 row("Tail", "ETP", qty=200, Price=44.8, Underlying="VXX")])
    f_cm = 18.6 + (19.5 - 18.6) * (30 - 22) / (57 - 22)       # 30-day point, by hand
    call, put, shares = (val.legs.iloc[i] for i in range(3))
    assert call["VolExposure"] == pytest.approx(call["Delta"] * 44.8 * 1.0 / f_cm, rel=1e-13)
    # SVXY (−0.5×): a long put (delta < 0) on an inverse ETP gains when vol rises
    assert put["VolExposure"] == pytest.approx(put["Delta"] * 52.0 * -0.5 / f_cm, rel=1e-13)
    assert put["Delta"] < 0 < put["VolExposure"]
    # 200 shares vs 2 calls: the same per-share exposure
    assert shares["VolExposure"] / 200 == pytest.approx(call["VolExposure"] / call["Delta"],
                                                        rel=1e-13)
    assert call["VolOfVolExposure"] == pytest.approx(call["Vega"], rel=1e-15) and call["Vega"] > 0
    # weighting as the ETP's: τ = 30 + 30 days
    assert call["Weight"] == shares["Weight"] == pytest.approx(math.sqrt(30 / 60))
    assert call["MaturityDays"] == 30 and call["DTE"] == 52


def test_etp_option_iv_is_solved_with_the_american_model():
    price = ql_american_price(-1, 44.8, 50.0, 52, 0.9, R)          # deep ITM put: early ex.
    val = value([row("Tail", "ETP", "P", 50, "2027-01-15", 1, None, Price=price,
                     Underlying="VXX")])
    assert val.problems == []
    assert val.legs["IV"][0] == pytest.approx(0.9, abs=1e-5)


def test_etp_option_scenario_moves_the_etp_with_its_curve_point_and_iv_by_volvol_beta():
    m = mkt(VolOfVolBeta=0.5)
    val = value([row("Tail", "ETP", "P", 45, "2027-01-15", 3, 0.8, Underlying="VXX")], m)
    s = val.state
    shift = 5.0
    f_cm, w = s.f_cm[0], s.weight[0]
    etp = 44.8 * (1 + 1.0 * w * shift / f_cm)                 # ETP moved by its curve point
    want = ql_american_price(-1, etp, 45.0, 52, 0.8 + 0.5 * shift / 100, R) * 300
    got = revalue(s, vol_shift=shift, volvol_beta=0.5)[0, 0]
    assert got == pytest.approx(want, abs=1e-4 * 45 * 300), (got, want)


@pytest.mark.parametrize("instr", ["ETP-C", "ETP-P", "XSP", "VIX-weekly"])
def test_small_shift_pnl_slope_is_the_weighted_vol_exposure(instr):
    """Full revaluation P&L per vol point at Δ → 0 is w × vol exposure (SPEC §5–§6)."""
    leg = {"ETP-C": row("T", "ETP", "C", 50, "2027-01-15", 3, 0.85, Underlying="UVXY"),
           "ETP-P": row("T", "ETP", "P", 40, "2027-01-15", -2, 0.8, Underlying="VXX"),
           "XSP": row("T", "XSP", "P", 640, "2027-01-08", -5, 0.2),
           "VIX-weekly": row("T", "VIX", "C", 20, "2026-12-30", 4, 0.9)}[instr]
    val = value([leg])
    h = 1e-3
    up, down = full_pnl(val.state, vol_shift=[h, -h])[0]
    slope = (up - down) / (2 * h)
    assert slope == pytest.approx(val.legs["WeightedVolExposure"][0], rel=1e-5)


# ----------------------------------------------------------------------------- ES / MES

def test_es_mes_move_with_spot_only_in_the_grid_and_scenarios():
    val = value([row("Core", "ES", None, None, "2026-12-18", 2),
                 row("Core", "MES", None, None, "2026-12-18", -3, Price=6712.0)])
    grid = spot_vol_grid(val, [-10, 0, 4], [-5, 0, 5])
    units = 2 * 50 - 3 * 5
    for spot_pct in (-10, 0, 4):
        for vol in (-5, 0, 5):
            assert grid.loc[spot_pct, vol] == pytest.approx(units * S * spot_pct / 100,
                                                            rel=1e-12, abs=1e-9)
    decay = revalue(val.state, days_forward=3.0) - revalue(val.state)
    assert np.all(decay == 0)


# ----------------------------------------------------------------------------- hedges, condor

def test_hedge_candidates_of_each_new_kind():
    val = value([row("Core", "SPX", "P", 6300, "2027-01-08", -10, 0.19),
                 row("Tail", "ETP", qty=10, Price=44.8, Underlying="VXX")])
    cands = parse_candidates([["Instrument", "Type", "Strike", "Expiry", "IV", "Price",
                               "Underlying"],
                              ["ETP", "C", 50, "2027-01-15", 0.85, None, "VXX"],
                              ["XSP", "C", 680, "2027-01-08", 0.15, None, None],
                              ["MES", None, None, "2026-12-18", None, None, None],
                              ["VIX", "C", 21, "2026-12-30", 0.9, None, None]])
    table = size_hedges(val, cands, val.market, val.curve).set_index("Candidate")
    assert set(table.index) == {"VXX 2027-01-15 50C", "XSP 2027-01-08 680C",
                                "MES 2026-12-18", "VIX 2026-12-30 21C"}
    net = float(val.legs["VolExposure"].sum())
    for name, r in table.iterrows():
        e = r["ExposurePerContract"]
        if e:
            assert r["Contracts"] == round(-net / e), name
            assert r["RawVegaAfter"] == pytest.approx(net + r["Contracts"] * e, rel=1e-12)
    mes = table.loc["MES 2026-12-18"]
    assert mes["ExposurePerContract"] == 0 and mes["Contracts"] == 0
    assert mes["PremiumPaid"] == 0 and mes["Effect"] == "no vol exposure"


def condor_rows(instr, scale, name):
    k = np.array([6125, 6150, 7050, 7075]) * scale
    ivs, qty = (0.21, 0.205, 0.118, 0.116), (3, -3, -3, 3)
    entries = np.array([28.6, 31.4, 14.1, 10.9]) * scale
    return [["Core", name, instr, cp, float(kk), "2027-01-08", q, None, iv, None, float(e),
             None, None, None] for cp, kk, q, iv, e in zip("PPCC", k, qty, ivs, entries,
                                                            strict=True)]


def test_an_xsp_condor_is_a_tenth_of_the_spx_condor():
    val = value_book(parse_positions([H, *condor_rows("SPXW", 1, "IC-SPX"),
                                      *condor_rows("XSP", 0.1, "IC-XSP")]),
                     parse_market(mkt()), parse_curve(CURVE))
    table = condor_report(val).table.set_index("Strategy")
    spx, xsp = table.loc["IC-SPX"], table.loc["IC-XSP"]
    for col in ("ShortPut", "LongPut", "ShortCall", "LongCall", "Credit", "CreditUSD",
                "MaxProfit", "MaxLoss", "BreakevenLow", "BreakevenHigh"):
        assert xsp[col] == pytest.approx(spx[col] / 10, rel=1e-12), col
    for col in ("T0BreakevenLow", "T0BreakevenHigh"):          # own (XSP) points
        assert xsp[col] == pytest.approx(spx[col] / 10, rel=1e-9), col
    assert xsp["ProbBetween"] == pytest.approx(spx["ProbBetween"], rel=1e-12)
    mixed = value_book(parse_positions([H, *condor_rows("SPXW", 1, "IC")[:2],
                                        *condor_rows("XSP", 0.1, "IC")[2:]]),
                       parse_market(mkt()), parse_curve(CURVE))
    assert condor_report(mixed).reasons == {
        "IC": "mixes SPX and XSP legs; needs four SPX or four XSP options"}


# ----------------------------------------------------------------------------- attribution

def test_attribution_puts_etp_options_in_vega_and_es_in_delta():
    rows = [row("Tail", "ETP", "C", 50, "2027-01-15", 2, 0.85, Underlying="VXX"),
            row("Core", "MES", None, None, "2026-12-18", 4)]
    day1 = value(rows)
    day2 = value(rows, mkt(ValuationDate="2026-11-25", SpxSpot=6750.0, VXX=46.0))
    h1, h2 = snapshot(day1), snapshot(day2)
    legs1, legs2 = (h[h["Level"] == "leg"] for h in (h1, h2))
    table = attribute_pair(legs1, legs2, day1.market.valuation, day2.market.valuation)
    table = table.set_index("Layer")
    call = day1.legs.iloc[0]
    assert table.loc["Tail", "Vega"] == pytest.approx(call["Delta"] * (46.0 - 44.8), rel=1e-12)
    assert table.loc["Tail", "Delta"] == 0
    assert table.loc["Core", "Delta"] == pytest.approx(4 * 5 * (6750.0 - 6700.0), rel=1e-12)
    parts = ["Delta", "Gamma", "Vega", "VolOfVol", "Theta", "Unexplained"]
    for layer in ("Tail", "Core", "TOTAL"):
        assert table.loc[layer, parts].sum() == pytest.approx(table.loc[layer, "Realised"],
                                                              abs=1e-9)
