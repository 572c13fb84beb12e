"""SPX legs on forwards (issue 10 item 3, SPEC §3–§4): the optional ALVH_FORWARDS table, legs
priced Black-76 on its forward and discount, scenarios that scale the forward with spot, and
the trailing ``forwards`` argument through the functions, the pipeline and the template.

References: QuantLib's BlackCalculator on the given forward and discount (per leg, relative
1e-11), the BSM path where the table does not hold the expiry, hand-written figures.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil

import openpyxl
import pytest

from alvh_xl.book import parse_curve, parse_market, parse_positions
from alvh_xl.book.forwards import parse_forwards
from alvh_xl.errors import InputError
from alvh_xl.risk.condor import condor_report
from alvh_xl.risk.scenarios import revalue
from alvh_xl.risk.valuation import value_book
from alvh_xl.xl import layout as L
from alvh_xl.xl.fn_book import ALVH_LEGS, ALVH_NETVEGA
from alvh_xl.xl.pipeline import build_dashboard
from alvh_xl.xl.workbook import read_inputs

ql = pytest.importorskip("QuantLib")

H = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier", "IV",
     "Price", "EntryPrice", "Underlying", "Leverage", "Beta"]
S, R, Q = 6700.0, 0.04, 0.013
MKT = [["Field", "Value"], ["ValuationDate", "2026-11-24"], ["ValuationTime", "11:00"],
       ["SpxSpot", S], ["Rate", R], ["DivYield", Q]]
CURVE = [["Expiry", "Price"], ["2026-12-16", 18.6], ["2027-01-20", 19.5]]
FWD = [["Expiry", "Forward", "Discount"], ["2027-01-08", 6731.8, 0.99505],
       ["2027-02-19", 6752.4, 0.99047]]
POS = [H,
       ["Core", "IC", "SPXW", "P", 6150, "2027-01-08", -2, None, 0.205, None, None, None, None,
        None],
       ["Core", "IC", "XSP", "C", 705, "2027-01-08", 5, None, 0.118, None, None, None, None,
        None],
       ["Core", None, "SPX", "C", 6900, "2027-02-19", 1, None, 0.14, None, None, None, None,
        None],                                          # AM-settled: on the Feb 19 forward
       ["Core", None, "SPXW", "P", 6500, "2026-12-31", -1, None, 0.17, None, None, None, None,
        None]]                                          # not in the table: BSM on spot
VAL = dt.datetime(2026, 11, 24, 11, 0)


def years(expiry: str, settle: dt.time) -> float:
    return (dt.datetime.combine(dt.date.fromisoformat(expiry), settle) - VAL
            ).total_seconds() / (365 * 86400)


def book(fwd=FWD, pos=POS):
    return value_book(parse_positions(pos), parse_market(MKT), parse_curve(CURVE),
                      parse_forwards(fwd) if fwd is not None else None)


def test_legs_on_a_listed_expiry_are_black76_on_its_forward_and_discount():
    val = book()
    legs = val.legs
    assert list(legs["Underlying"]) == ["SPX fwd 2027-01-08", "SPX/10 fwd 2027-01-08",
                                        "SPX fwd 2027-02-19", "SPX"]
    cases = [(0, "P", 6150, 6731.8, 0.99505, years("2027-01-08", dt.time(16)), 0.205),
             (1, "C", 705, 673.18, 0.99505, years("2027-01-08", dt.time(16)), 0.118),
             (2, "C", 6900, 6752.4, 0.99047, years("2027-02-19", dt.time(9, 30)), 0.14)]
    for i, cp, k, fwd, disc, t, iv in cases:
        kind = ql.Option.Call if cp == "C" else ql.Option.Put
        bc = ql.BlackCalculator(ql.PlainVanillaPayoff(kind, k), fwd, iv * math.sqrt(t), disc)
        leg = legs.iloc[i]
        units = leg["Qty"] * 100
        assert leg["UnderlyingPrice"] == pytest.approx(fwd, rel=1e-15)
        assert leg["Price"] == pytest.approx(bc.value(), rel=1e-11), (i, leg["Price"])
        assert leg["Delta"] == pytest.approx(bc.deltaForward() * units, rel=1e-11)
        assert leg["Gamma"] == pytest.approx(bc.gammaForward() * units, rel=1e-10)
        assert leg["Vega"] == pytest.approx(bc.vega(t) / 100 * units, rel=1e-11)
    # the Dec 31 leg is BSM on spot with Rate and DivYield
    t = years("2026-12-31", dt.time(16))
    bc = ql.BlackCalculator(ql.PlainVanillaPayoff(ql.Option.Put, 6500), S * math.exp(
        (R - Q) * t), 0.17 * math.sqrt(t), math.exp(-R * t))
    assert legs.iloc[3]["Price"] == pytest.approx(bc.value(), rel=1e-11)
    # without the table every leg is on spot
    spot = book(None)
    assert list(spot.legs["Underlying"]) == ["SPX", "SPX/10", "SPX", "SPX"]


def test_iv_is_solved_on_the_forward():
    price = float(book().legs["Price"][0])
    pos = [H, [*POS[1][:8], None, price, *POS[1][10:]]]
    val = book(pos=pos)
    assert val.legs["IV"][0] == pytest.approx(0.205, abs=1e-10)


def test_a_spot_shift_scales_the_forward():
    val = book()
    got = revalue(val.state, spot_pct=2.0)[0]
    t = years("2027-01-08", dt.time(16))
    bc = ql.BlackCalculator(ql.PlainVanillaPayoff(ql.Option.Put, 6150), 6731.8 * 1.02,
                            0.205 * math.sqrt(t), 0.99505)
    assert got[0] == pytest.approx(bc.value() * -200, rel=1e-11)
    # the dollar delta of the layers table is Delta × the forward (= ∂V/∂ln S)
    h = 1e-4
    up, down = (revalue(val.state, spot_pct=x)[0].sum() for x in (100 * h, -100 * h))
    from alvh_xl.risk.aggregation import layers_table

    dollar_delta = float(layers_table(val).set_index("Layer").loc["Core", "Delta"])
    assert (up - down) / (2 * h) == pytest.approx(dollar_delta, rel=1e-6)


def test_a_condor_on_a_forward_takes_its_credit_from_black76():
    pos = [H] + [["Core", "IC", "SPXW", cp, k, "2027-01-08", q, None, iv, None, None, None,
                  None, None]
                 for cp, k, q, iv in (("P", 6125, 1, 0.21), ("P", 6150, -1, 0.205),
                                      ("C", 7050, -1, 0.118), ("C", 7075, 1, 0.116))]
    val = book(pos=pos)
    t = years("2027-01-08", dt.time(16))
    credit = 0.0
    for cp, k, q, iv in (("P", 6125, 1, 0.21), ("P", 6150, -1, 0.205), ("C", 7050, -1, 0.118),
                         ("C", 7075, 1, 0.116)):
        kind = ql.Option.Call if cp == "C" else ql.Option.Put
        credit -= q * ql.BlackCalculator(ql.PlainVanillaPayoff(kind, k), 6731.8,
                                         iv * math.sqrt(t), 0.99505).value()
    row = condor_report(val).table.iloc[0]
    assert row["Credit"] == pytest.approx(credit, rel=1e-11)
    # basis "mark": T+0 P&L is zero at today's spot, so spot is one of its break-evens
    assert min(abs(row["T0BreakevenLow"] - S), abs(row["T0BreakevenHigh"] - S)) < 1e-6 * S


@pytest.mark.parametrize("rows, column, text", [
    ([["2027-01-08", 6731.8, None]], "Discount", "Discount is blank"),
    ([["2027-01-08", 6731.8, 1.5]], "Discount", "Discount is the value today of $1"),
    ([["2027-01-08", -1, 0.99]], "Forward", "Forward must be positive"),
    ([["2027-01-08", "6731,8", 0.99]], "Forward", '"6731,8" looks like a decimal comma'),
    ([["soon", 6731.8, 0.99]], "Expiry", ""),
    ([["2027-01-08", 6731.8, 0.99], ["2027-02-19", 6752.4, 0.99], ["2027-01-08", 6731.0, 0.99]],
     "Expiry", "expiry 2027-01-08 is given twice (rows 2 and 4)"),
])
def test_a_bad_forwards_row_is_an_error_naming_row_and_column(rows, column, text):
    with pytest.raises(InputError) as err:
        parse_forwards([["Expiry", "Forward", "Discount"], *rows])
    assert err.value.column == column and text in str(err.value), str(err.value)
    assert err.value.row == 1 + len(rows)


def test_a_forward_far_from_spot_is_an_error_naming_its_row():
    bad = [["Expiry", "Forward", "Discount"], ["2027-01-08", 6731.8, 0.995],
           ["2027-02-19", 67524.0, 0.99]]
    with pytest.raises(InputError, match=r"row 3 \(Forward\): forwards: Forward 67524 for "
                                         r"2027-02-19 is 10.1 × SPX spot 6700"):
        book(bad)


def test_functions_take_the_forwards_as_their_last_argument():
    cells = ALVH_LEGS(POS, MKT, CURVE, FWD)
    j = cells[0].index("Underlying")
    assert [r[j] for r in cells[1:5]] == ["SPX fwd 2027-01-08", "SPX/10 fwd 2027-01-08",
                                          "SPX fwd 2027-02-19", "SPX"]
    on_fwd = ALVH_NETVEGA(POS, MKT, CURVE, None, False, FWD)
    assert on_fwd == float(book().legs["VolExposure"].sum())
    assert ALVH_NETVEGA(POS, MKT, CURVE) == float(book(None).legs["VolExposure"].sum())
    bad = [["Expiry", "Forward", "Discount"], ["2027-01-08", 6731.8, 2.0]]
    assert ALVH_NETVEGA(POS, MKT, CURVE, None, False, bad).startswith(
        "#ALVH! row 2 (Discount): forwards: Discount is the value today")


def test_every_book_formula_of_the_template_passes_alvh_forwards():
    book_functions = {"ALVH_NETVEGA", "ALVH_LEGS", "ALVH_LAYERS", "ALVH_BUCKETS", "ALVH_HEDGE",
                      "ALVH_STATUS", "ALVH_SHOCKPNL", "ALVH_GRID", "ALVH_SCENARIOPNL",
                      "ALVH_CONDOR", "ALVH_BREAKEVENS"}
    for out in L.OUTPUTS:
        if out.function in book_functions:
            assert out.args[-1] == "ALVH_FORWARDS", out.key
            assert out.formula.endswith(",ALVH_FORWARDS)"), out.formula
    table = L.INPUT_BY_NAME["ALVH_FORWARDS"]
    assert (table.sheet, table.anchor, table.excel_table, table.required) == (
        L.MARKET, "H1", "ForwardsTable", False)
    assert L.HELP[L.MARKET] == "L1"             # the help text sits right of the forwards


def test_the_report_values_legs_on_the_workbooks_forwards(tmp_path):
    """A forward typed into the template's ForwardsTable reaches every block (pipeline)."""
    path = tmp_path / "book.xlsx"
    shutil.copy(L.__file__.rsplit("alvh_xl", 1)[0] + "workbooks/alvh_template.xlsx", path)
    wb = openpyxl.load_workbook(path)
    ws = wb[L.MARKET]
    ws["H2"], ws["I2"], ws["J2"] = dt.datetime(2027, 1, 8), 6741.0, 0.9949
    wb.save(path)
    inputs = read_inputs(path)
    assert len(inputs.forwards) == 1
    dash = build_dashboard(inputs)
    legs = dash.val.legs
    core = legs[legs["Strategy"].isin(["IC-Jan", "IC-XSP"])]
    assert set(core["Underlying"]) == {"SPX fwd 2027-01-08", "SPX/10 fwd 2027-01-08"}
    block = dash.blocks["legs"]
    j = block[0].index("Underlying")
    assert block[1][j] == "SPX fwd 2027-01-08"
    raw = dash.blocks["netvega_raw"][0][0]
    assert raw == pytest.approx(float(legs["VolExposure"].sum()), rel=1e-15)
    spot_only = build_dashboard(read_inputs(L.__file__.rsplit("alvh_xl", 1)[0]
                                            + "workbooks/alvh_template.xlsx"))
    assert spot_only.blocks["netvega_raw"][0][0] != raw


def test_a_report_whose_book_cannot_be_valued_writes_its_workbook(tmp_path):
    """A bad forwards row stops the book: every block shows the error naming the row, the
    report still writes the filled workbook (its charts, which would have no data, are left
    out) and exits 0 — before, xlsxwriter refused the empty chart and the report crashed."""
    import subprocess
    import sys

    path = tmp_path / "book.xlsx"
    shutil.copy(L.__file__.rsplit("alvh_xl", 1)[0] + "workbooks/alvh_template.xlsx", path)
    wb = openpyxl.load_workbook(path)
    wb[L.MARKET]["H2"], wb[L.MARKET]["I2"], wb[L.MARKET]["J2"] = (
        dt.datetime(2027, 1, 8), 6741.0, 1.9)
    wb.save(path)
    import os

    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "COLUMNS": "400"})   # no wrapping
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "row 2 (Discount): forwards: Discount is the value today" in proc.stdout, \
        proc.stdout[:3000]
    written = list((tmp_path / "out").glob("*.xlsx"))
    assert written, proc.stdout[-1000:]
    message = openpyxl.load_workbook(written[0])[L.DASHBOARD][L.MESSAGE_CELL[1]].value
    assert "Discount" in message, message
