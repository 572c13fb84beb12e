"""Independent reference for the book engine (issue 3): every leg priced with QuantLib
(BlackCalculator: BSM via the forward S·e^{(r−q)T} for SPX, Black-76 on the VIX future for
VIX options), vol exposures and weights rebuilt from SPEC §4–§5 in plain Python, summed per
layer with plain Python floats, and compared with ``layers_table``, ``bucket_table``,
ALVH_NETVEGA and ALVH_LEGS.

Tolerances: per-leg figures relative 1e-11 (measured: ≤ 1e-13; QuantLib's normal CDF is only
~1e-8 relative deep in the tails, these strikes stay within ±4 standard deviations); sums
absolute 1e-11 × the layer's gross Σ|x| (+1e-12).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import numpy as np
import pytest

ql = pytest.importorskip("QuantLib")

from alvh_xl.book import parse_curve, parse_market, parse_positions  # noqa: E402
from alvh_xl.risk.aggregation import bucket_table, layers_table  # noqa: E402
from alvh_xl.risk.valuation import value_book  # noqa: E402
from alvh_xl.xl.fn_book import ALVH_LEGS, ALVH_NETVEGA  # noqa: E402

VAL = dt.datetime(2026, 11, 24, 10, 15)
S, R, Q = 6712.5, 0.0425, 0.0131
CURVE = [("2026-12-16", 18.6), ("2027-01-20", 19.5), ("2027-02-17", 20.2), ("2027-03-17", 20.7),
         ("2027-04-21", 21.0)]
H = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier", "IV",
     "Price", "EntryPrice", "Underlying", "Leverage", "Beta"]
# Layer, Instrument, Type, Strike, Expiry, Qty, Multiplier, IV, Price, Underlying, Leverage, Beta
LEGS = [
    ("Core", "SPX", "P", 6300, "2027-01-15", -10, None, 0.191, None, None, None, None),
    ("Core", "SPX", "P", 6250, "2027-01-15", 10, None, 0.203, None, None, None, None),
    ("Core", "SPX", "C", 7050, "2027-01-15", -10, None, 0.121, None, None, None, None),
    ("Core", "SPX", "C", 7100, "2027-01-15", 10, None, 0.116, None, None, None, None),
    ("Core", "SPXW", "P", 6500, "2026-12-31", -3, None, 0.17, None, None, None, None),
    ("Core", "SPXW", "C", 6750, "2026-11-27", 2, None, 0.13, None, None, None, None),  # τ < floor
    ("Core", "SPX", "C", 6800, "2027-06-18", 1, 10, 0.15, None, None, None, 0.5),      # Beta
    ("VIX L1", "VIX", "C", 20, "2026-12-16", 20, None, 0.85, None, None, None, None),
    ("VIX L1", "VIX", "C", 25, "2026-12-16", -20, None, 1.00, None, None, None, None),
    ("VIX L1", "VIX", "P", 16, "2026-12-16", 15, None, 0.80, None, None, None, None),
    ("VIX L1", "VIX", "C", 22, "2026-12-16", 5, None, 0.95, None, "2027-01-20", None, None),
    ("VIX L2", "VX", None, None, "2027-01-20", 2, None, None, None, None, None, None),
    ("VIX L2", "VXM", None, None, "2027-02-17", -5, None, None, None, None, None, None),
    ("VIX L2", "VIX", "C", 30, "2027-03-17", 10, None, 1.10, None, None, None, None),
    ("Tail", "ETP", None, None, None, 100, None, None, 45.0, "VXX", None, None),
    ("Tail", "ETP", None, None, None, -50, None, None, 20.0, "UVXY", None, None),
    ("Tail", "ETP", None, None, None, 30, None, None, 50.0, "SVXY", None, None),
    ("Tail", "ETP", None, None, None, 40, None, None, 30.0, "VIXM", None, None),  # beyond curve
]
SETTLE = {"SPX": dt.time(9, 30), "SPXW": dt.time(16), "VIX": dt.time(9, 30),
          "VX": dt.time(9, 30), "VXM": dt.time(9, 30)}
MULT = {"SPX": 100, "SPXW": 100, "VIX": 100, "VX": 1000, "VXM": 100, "ETP": 1}
ETP = {"VXX": (30, 1.0), "UVXY": (30, 1.5), "SVXY": (30, -0.5), "VIXY": (30, 1.0),
       "VIXM": (150, 1.0)}


def tables():
    pos = [H] + [[lay, None, ins, cp, k, exp, q, m, iv, px, None, und, lev, beta]
                 for lay, ins, cp, k, exp, q, m, iv, px, und, lev, beta in LEGS]
    mkt = [["Field", "Value"], ["ValuationDate", VAL.date().isoformat()],
           ["ValuationTime", "10:15"], ["SpxSpot", S], ["Rate", R], ["DivYield", Q],
           ["VixSpot", 17.5], ["Vvix", 95.0]]
    crv = [["Expiry", "Price"], *[[e, p] for e, p in CURVE]]
    return pos, mkt, crv


def date(text):
    return dt.date.fromisoformat(text)


def curve_point(days):
    """Constant-maturity futures level at VAL + days: linear in calendar days, flat at ends."""
    xs = [(date(e) - VAL.date()).days for e, _ in CURVE]
    ys = [p for _, p in CURVE]
    if days <= xs[0]:
        return ys[0]
    if days >= xs[-1]:
        return ys[-1]
    for i in range(len(xs) - 1):
        if xs[i] <= days <= xs[i + 1]:
            return ys[i] + (ys[i + 1] - ys[i]) * (days - xs[i]) / (xs[i + 1] - xs[i])
    raise AssertionError


def weight(tau_days, beta=None, t_ref=30.0, alpha=0.5, floor=7.0, cap=3.0):
    if beta is not None:
        return beta
    return min(cap, (t_ref / max(tau_days, floor)) ** alpha)


def reference_leg(lay, ins, cp, k, exp, q, m, iv, px, und, lev, beta):
    """Dict of per-leg reference figures in SPEC units ($, vega per vol point, theta/day)."""
    mult = m or MULT[ins]
    units = mult * q
    out = dict(layer=lay, raw=0.0, volvol=0.0, delta=0.0, gamma=0.0, theta=0.0)
    if ins == "ETP":
        days, lev0 = ETP[und]
        f_cm = curve_point(days)
        out["raw"] = q * mult * px * (lev if lev is not None else lev0) / f_cm
        out["w"] = weight(days + 30, beta)
        out["days"] = days
        return out
    t = (dt.datetime.combine(date(exp), SETTLE[ins]) - VAL).total_seconds() / (365 * 86400)
    out["days"] = (date(exp) - VAL.date()).days
    kind = ql.Option.Call if cp == "C" else ql.Option.Put
    if ins in ("SPX", "SPXW"):
        fwd, disc = S * math.exp((R - Q) * t), math.exp(-R * t)
        bc = ql.BlackCalculator(ql.PlainVanillaPayoff(kind, float(k)), fwd, iv * math.sqrt(t), disc)
        out.update(raw=bc.vega(t) / 100 * units, delta=bc.delta(S) * units * S,
                   gamma=bc.gamma(S) * units * S * S / 100, theta=bc.theta(S, t) / 365 * units,
                   price=bc.value(), unit_vega=bc.vega(t) / 100)
        out["w"] = weight(t * 365, beta)
        return out
    fut_exp = und or exp
    fut = dict(CURVE)[fut_exp]
    # one clock (SPEC §5): from the valuation date-time to 09:30 on the future's expiry, +30 d
    tau = (dt.datetime.combine(date(fut_exp), dt.time(9, 30)) - VAL).total_seconds() / 86400 + 30
    out["w"] = weight(tau, beta)
    if ins in ("VX", "VXM"):
        out["raw"] = units
        return out
    disc = math.exp(-R * t)
    bc = ql.BlackCalculator(ql.PlainVanillaPayoff(kind, float(k)), fut, iv * math.sqrt(t), disc)
    out.update(raw=bc.deltaForward() * units, volvol=bc.vega(t) / 100 * units,
               theta=bc.theta(fut, t) / 365 * units, price=bc.value(),
               unit_vega=bc.vega(t) / 100)
    return out


@pytest.fixture(scope="module")
def book():
    pos, mkt, crv = tables()
    val = value_book(parse_positions(pos), parse_market(mkt), parse_curve(crv))
    assert val.problems == []
    return val, [reference_leg(*leg) for leg in LEGS]


def test_per_leg_against_quantlib(book):
    val, ref = book
    legs = val.legs
    for i, r in enumerate(ref):
        assert legs.loc[i, "VolExposure"] == pytest.approx(r["raw"], rel=1e-11, abs=1e-12)
        assert legs.loc[i, "Weight"] == pytest.approx(r["w"], rel=1e-12)
        assert legs.loc[i, "VolOfVolExposure"] == pytest.approx(r["volvol"], rel=1e-11,
                                                                abs=1e-12)
        assert legs.loc[i, "Theta"] == pytest.approx(r["theta"], rel=1e-11, abs=1e-12)
        if "price" in r:
            assert legs.loc[i, "Price"] == pytest.approx(r["price"], rel=1e-11)
            assert legs.loc[i, "Vega"] == pytest.approx(r["unit_vega"] * legs.loc[i, "Qty"]
                                                        * legs.loc[i, "Multiplier"], rel=1e-11)


def test_layers_and_book_equal_plain_python_sums(book):
    val, ref = book
    sums = defaultdict(lambda: defaultdict(float))
    gross = defaultdict(lambda: defaultdict(float))
    for r in ref:
        for key, value in (("RawVega", r["raw"]), ("WeightedVega", r["w"] * r["raw"]),
                           ("VolOfVolVega", r["volvol"]), ("Delta", r["delta"]),
                           ("Gamma", r["gamma"]), ("Theta", r["theta"])):
            for name in (r["layer"], "PORTFOLIO"):
                sums[name][key] += value
                gross[name][key] += abs(value)
    table = layers_table(val).set_index("Layer")
    assert list(table.index) == ["Core", "VIX L1", "VIX L2", "Tail", "PORTFOLIO"]
    for name, cols in sums.items():
        for key, want in cols.items():
            assert table.loc[name, key] == pytest.approx(
                want, abs=1e-11 * gross[name][key] + 1e-12), (name, key)


def test_spot_checks_of_the_conventions(book):
    _, ref = book
    # VIX option priced on the January future when Underlying names it
    jan = (dt.datetime(2027, 1, 20, 9, 30) - VAL).total_seconds() / 86400 + 30
    assert ref[10]["w"] == pytest.approx(math.sqrt(30 / jan))
    # a 3-day SPXW option sits on the τ floor: w = sqrt(30/7)
    assert ref[5]["w"] == pytest.approx(math.sqrt(30 / 7))
    # VIXM's 150-day point lies beyond the last future: flat at 21.0
    assert ref[17]["raw"] == pytest.approx(40 * 30.0 / 21.0)


def test_buckets_and_netvega_add_up_to_the_same_book_total(book):
    val, ref = book
    total = sum(r["raw"] for r in ref)
    buckets = bucket_table(val).set_index("Bucket")
    layers = layers_table(val).set_index("Layer")
    book_raw = float(layers.loc["PORTFOLIO", "RawVega"])
    assert book_raw == pytest.approx(total, abs=1e-11 * sum(abs(r["raw"]) for r in ref))
    assert buckets.loc["Total", "Total"] == book_raw                  # exact, same grid
    assert float(buckets["Total"].iloc[:-1].sum()) == book_raw
    assert float(buckets.loc["Total"].iloc[:-1].sum()) == book_raw
    assert float(layers["RawVega"].iloc[:-1].sum()) == book_raw
    pos, mkt, crv = tables()
    assert ALVH_NETVEGA(pos, mkt, crv) == book_raw
    assert ALVH_NETVEGA(pos, mkt, crv, "vix l1") == float(layers.loc["VIX L1", "RawVega"])
    weighted = ALVH_NETVEGA(pos, mkt, crv, None, True)
    assert weighted == float(layers.loc["PORTFOLIO", "WeightedVega"])
    # per bucket, against the reference legs' calendar days (default edges)
    edges = [(0, 7), (8, 30), (31, 60), (61, 90), (91, 180), (181, 10**6)]
    for label, (lo, hi) in zip(buckets.index[:-1], edges, strict=True):
        want = sum(r["raw"] for r in ref if lo <= r["days"] <= hi)
        assert buckets.loc[label, "Total"] == pytest.approx(want, abs=1e-11 * 1e5), label


def test_legs_table_through_the_excel_function(book):
    val, ref = book
    pos, mkt, crv = tables()
    cells = ALVH_LEGS(pos, mkt, crv)
    header = cells[0]
    col = {h: header.index(h) for h in header}
    for row, r in zip(cells[1:], ref, strict=True):
        assert row[col["VolExposure"]] == pytest.approx(r["raw"], rel=1e-11, abs=1e-12)
        assert row[col["WeightedVolExposure"]] == pytest.approx(r["w"] * r["raw"], rel=1e-11,
                                                                abs=1e-12)


def test_one_leg_against_analytic_european_engine():
    """Whole-day maturity (SPXW valued at 16:00): QuantLib's full engine with dated curves."""
    pos = [H, ["Core", None, "SPXW", "P", 6500, "2027-01-29", -3, None, 0.17, None, None, None,
               None, None]]
    mkt = [["ValuationDate", "2026-11-24"], ["SpxSpot", S], ["Rate", R], ["DivYield", Q]]
    crv = [["Expiry", "Price"], *CURVE]
    val = value_book(parse_positions(pos), parse_market(mkt), parse_curve(crv))
    today = ql.Date(24, 11, 2026)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(S)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, Q, dc, ql.Continuous)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, R, dc, ql.Continuous)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), 0.17, dc)))
    option = ql.EuropeanOption(ql.PlainVanillaPayoff(ql.Option.Put, 6500.0),
                               ql.EuropeanExercise(ql.Date(29, 1, 2027)))
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    leg = val.legs.iloc[0]
    units = -300
    assert leg["Value"] == pytest.approx(option.NPV() * units, rel=1e-10)
    assert leg["Delta"] == pytest.approx(option.delta() * units, rel=1e-10)
    assert leg["Gamma"] == pytest.approx(option.gamma() * units, rel=1e-10)
    assert leg["Vega"] == pytest.approx(option.vega() / 100 * units, rel=1e-10)
    assert leg["Theta"] == pytest.approx(option.thetaPerDay() * units, rel=1e-11)
    assert leg["Rho"] == pytest.approx(option.rho() / 100 * units, rel=1e-10)
    assert np.isclose(val.legs["T"].iloc[0], 66 / 365, rtol=0, atol=1e-15)
