"""VIX options without a listed future (SPEC §4, issue 11 item 3): valued on a forward linear
in time between the two futures that bracket the expiry, flat beyond the curve's ends with a
note, shown as interpolated in ALVH_LEGS; a VX weekly future on the curve is used directly.

References: interpolation written out by hand; put–call parity forwards of a real Cboe VIX
chain with weekly expiries (tests/data/cboe/vix_options_processed_commit2023-09-04_4expiries_
from_cboe.csv, provenance in tests/data/README.md); QuantLib's BlackCalculator repricing each
weekly at the vol solved on the interpolated forward.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_xl.book import parse_curve, parse_market, parse_positions
from alvh_xl.book.cboe import read_cboe_chain
from alvh_xl.pricing.parity import implied_forward
from alvh_xl.risk.valuation import value_book

H = ["Layer", "Instrument", "Type", "Strike", "Expiry", "Qty", "IV", "Price", "Underlying"]
MKT = [["Field", "Value"], ["ValuationDate", "2026-11-24"], ["ValuationTime", "16:00"],
       ["SpxSpot", 6700.0], ["Rate", 0.04]]
CURVE = [["Expiry", "Price"], ["2026-12-16", 18.6], ["2027-01-20", 19.5], ["2027-02-17", 20.2]]
CHAIN = Path(__file__).parent / "data" / "cboe" / \
    "vix_options_processed_commit2023-09-04_4expiries_from_cboe.csv"


def value(rows, curve=CURVE, market=MKT):
    return value_book(parse_positions([H, *rows]), parse_market(market), parse_curve(curve))


def test_weeklies_inside_and_beyond_the_curve():
    val = value([["L", "VIX", "C", 20, "2026-12-30", 1, 0.9, None, None],     # inside
                 ["L", "VIX", "C", 20, "2026-12-02", 1, 0.9, None, None],     # before first
                 ["L", "VIX", "P", 18, "2027-03-03", 1, 0.9, None, None]])    # after last
    legs = val.legs
    assert list(legs["Row"]) == [2, 3, 4]                    # none left out
    assert legs["UnderlyingPrice"][0] == pytest.approx(18.6 + 0.9 * 14 / 35, rel=1e-15)
    assert list(legs["UnderlyingPrice"][1:]) == [18.6, 20.2]
    assert list(legs["Underlying"]) == ["VX interp 2026-12-30", "VX interp 2026-12-02",
                                        "VX interp 2027-03-03"]
    notes = [(p.row, p.column, p.left_out, p.reason) for p in val.problems]
    assert notes == [
        (3, "Expiry", False, "no VIX future on the curve brackets 2026-12-02: valued on the "
                             "nearest future's price 18.6 (flat beyond the curve's end)"),
        (4, "Expiry", False, "no VIX future on the curve brackets 2027-03-03: valued on the "
                             "nearest future's price 20.2 (flat beyond the curve's end)")]


def test_a_vx_weekly_future_on_the_curve_is_used_directly():
    curve = [*CURVE, ["2026-12-23", 18.71]]
    val = value([["L", "VIX", "C", 20, "2026-12-23", 1, 0.9, None, None],
                 ["L", "VIX", "C", 20, "2026-12-30", 1, 0.9, None, None]], curve)
    assert val.legs["UnderlyingPrice"][0] == 18.71
    assert val.legs["Underlying"][0] == "VX 2026-12-23"
    # the Dec 30 weekly now sits between the Dec 23 weekly future and January
    assert val.legs["UnderlyingPrice"][1] == pytest.approx(18.71 + (19.5 - 18.71) * 7 / 28)


@settings(max_examples=60, deadline=None)
@given(day=st.integers(0, 150), prices=st.lists(st.floats(10, 60), min_size=3, max_size=3))
def test_interpolated_forward_is_piecewise_linear_between_the_brackets(day, prices):
    curve = [["Expiry", "Price"], ["2026-12-16", prices[0]], ["2027-01-20", prices[1]],
             ["2027-02-17", prices[2]]]
    expiry = (dt.date(2026, 11, 25) + dt.timedelta(days=day)).isoformat()
    val = value([["L", "VIX", "C", 20, expiry, 1, 0.9, None, None]], curve)
    f = val.legs["UnderlyingPrice"][0]
    x = [22, 57, 85]                                          # days of the three futures
    d = day + 1
    if d <= x[0]:
        want = prices[0]
    elif d >= x[-1]:
        want = prices[-1]
    else:
        i = 0 if d <= x[1] else 1
        want = prices[i] + (prices[i + 1] - prices[i]) * (d - x[i]) / (x[i + 1] - x[i])
    assert f == pytest.approx(want, rel=1e-13, abs=1e-13)
    assert min(prices) - 1e-12 <= f <= max(prices) + 1e-12


# ----------------------------------------------------------------------------- real chain

def parity_forwards(quotes):
    out = {}
    for expiry, g in quotes.groupby("expiry"):
        calls, puts = (g[g["type"] == t].set_index("strike") for t in ("C", "P"))
        k = calls.index.intersection(puts.index)
        both = calls.loc[k, "two_sided"] & puts.loc[k, "two_sided"]
        out[expiry] = implied_forward(k, calls.loc[k, "mid"], puts.loc[k, "mid"], both).forward
    return out


@pytest.fixture(scope="module")
def chain_book():
    """Every two-sided out-of-the-money quote of the real VIX chain as a leg priced at its mid,
    on a curve holding only the Sep 6 weekly and the Sep 20 monthly future (their parity
    forwards): the Sep 13 and Sep 27 weeklies have no listed future."""
    chain = read_cboe_chain(CHAIN, quote_time=dt.datetime(2023, 9, 1, 16, 15))
    q = chain.quotes
    fwd = parity_forwards(q)
    otm = np.where(q["type"] == "C", q["strike"] >= q["expiry"].map(fwd),
                   q["strike"] < q["expiry"].map(fwd))
    use = q[otm & q["two_sided"].to_numpy(bool)]
    rows = [["L", "VIX", r.type, r.strike, r.expiry.isoformat(), 1, None, r.mid, None]
            for r in use.itertuples()]
    curve = [["Expiry", "Price"], *[[e.isoformat(), fwd[e]] for e in
                                   (dt.date(2023, 9, 6), dt.date(2023, 9, 20))]]
    market = [["Field", "Value"], ["ValuationDate", "2023-09-01"], ["ValuationTime", "16:15"],
              ["SpxSpot", 4515.77], ["Rate", 0.053]]
    return value(rows, curve, market), use, fwd


def test_real_chain_weeklies_are_valued_on_the_interpolated_forward_none_left_out(chain_book):
    val, use, fwd = chain_book
    assert set(use["root"]) == {"VIXW", "VIX"} and len(use) > 50
    assert [p for p in val.problems if p.left_out] == []
    assert len(val.legs) == len(use)
    legs = val.legs.assign(expiry=[str(e)[:10] for e in val.legs["Expiry"]])
    sep6, sep20 = fwd[dt.date(2023, 9, 6)], fwd[dt.date(2023, 9, 20)]
    expected = {"2023-09-06": (sep6, "VX 2023-09-06"), "2023-09-20": (sep20, "VX 2023-09-20"),
                "2023-09-13": (sep6 + (sep20 - sep6) * 7 / 14, "VX interp 2023-09-13"),
                "2023-09-27": (sep20, "VX interp 2023-09-27")}         # beyond: flat
    for expiry, (level, name) in expected.items():
        sel = legs[legs["expiry"] == expiry]
        assert len(sel) > 0, expiry
        assert np.allclose(sel["UnderlyingPrice"], level, rtol=1e-15), expiry
        assert set(sel["Underlying"]) == {name}
    beyond = [p for p in val.problems if "2023-09-27" in p.reason]
    assert len(beyond) == (legs["expiry"] == "2023-09-27").sum()
    assert all(not p.left_out and "flat beyond" in p.reason for p in beyond)
    # linear interpolation lands within 0.15 (about 1 %) of the Sep 13 series' own parity
    # forward (measured 0.11: the VIX term structure is concave)
    assert abs(expected["2023-09-13"][0] - fwd[dt.date(2023, 9, 13)]) < 0.15


def test_real_chain_weekly_vols_reprice_the_mids_in_quantlib(chain_book):
    ql = pytest.importorskip("QuantLib")
    val, use, _ = chain_book
    when = dt.datetime(2023, 9, 1, 16, 15)
    for leg, quote in zip(val.legs.itertuples(), use.itertuples(), strict=True):
        t = (dt.datetime.combine(quote.expiry, dt.time(9, 30)) - when).total_seconds() / (
            365 * 86400)
        kind = ql.Option.Call if quote.type == "C" else ql.Option.Put
        bc = ql.BlackCalculator(ql.PlainVanillaPayoff(kind, quote.strike), leg.UnderlyingPrice,
                                leg.IV * math.sqrt(t), math.exp(-0.053 * t))
        assert bc.value() == pytest.approx(quote.mid, rel=1e-9, abs=1e-9), (
            quote.expiry, quote.strike, quote.type, leg.IV, bc.value(), quote.mid)
