"""Input tables (SPEC §3, issue 3): positions, market, curve and thresholds from 2-D values,
DataFrames, CSV and xlsx files; every validation message names its row and column."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from alvh_xl.book import (
    parse_candidates,
    parse_curve,
    parse_market,
    parse_positions,
    parse_thresholds,
)
from alvh_xl.book.cells import to_dates, to_numbers
from alvh_xl.book.tables import texts
from alvh_xl.errors import InputError, MissingInputError

H = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier", "IV",
     "Price", "EntryPrice", "Underlying", "Leverage", "Beta"]


def leg(layer="Core", instr="SPX", cp="P", strike=6300.0, expiry="2027-01-08", qty=-10.0,
        iv=0.19, **kw):
    row = dict(zip(H, [layer, None, instr, cp, strike, expiry, qty, None, iv, None, None, None,
                       None, None], strict=True))
    row.update(kw)
    return [row[h] for h in H]


def problems(table):
    return {(p.row, p.column): p.reason for p in parse_positions(table).problems}


# ----------------------------------------------------------------------------- cell columns

def test_numbers_column_vectorised_and_strict():
    cells = np.array([1.0, 2, None, "3.5", " 4 ", "1,000.5", True, "abc", float("nan"), "",
                      np.float64(7), "nan", dt.datetime(2027, 1, 1), "1,000"], dtype=object)
    vals, why = to_numbers(cells)
    bad = why != ""
    assert np.allclose(vals[[0, 1, 3, 4, 5, 10]], [1, 2, 3.5, 4, 1000.5, 7])
    assert bad.tolist() == [False, False, False, False, False, False, True, True, False, False,
                            False, True, True, True]
    assert np.isnan(vals[[2, 6, 7, 8, 9, 11, 12, 13]]).all()
    assert "could be 1000 or 1.000" in why[13]
    # the fast path (all numbers) keeps booleans out too
    vals, why = to_numbers(np.array([1.0, True, 0.0, False, None], dtype=object))
    assert (why != "").tolist() == [False, True, False, True, False]
    assert vals[0] == 1.0 and vals[2] == 0.0


def test_dates_column_every_excel_form():
    cells = np.array([46395.0, 46395, 46395.75, dt.datetime(2027, 1, 8, 15, 30),
                      dt.date(2027, 1, 8), "2027-01-08", " 2027-01-08 ", "46395",
                      pd.Timestamp("2027-01-08"), np.datetime64("2027-01-08"), None, "",
                      "soon", True, 0.0, 3e6, "Dec", "1/8/2027"], dtype=object)
    dates, why = to_dates(cells)
    want = np.datetime64("2027-01-08")
    assert (dates[:10] == want).all()
    assert np.isnat(dates[10:]).all()
    assert (why != "").tolist() == [False] * 12 + [True] * 6  # ambiguous text is not guessed


def test_serial_date_column_fast_path_matches_excel():
    # Excel: 1 = 1900-01-01 (1900 leap-year bug irrelevant after 1900-03-01), 45658 = 2025-01-01
    dates, why = to_dates(np.array([45658.0, 60.999, 61.0, None], dtype=object))
    assert str(dates[0]) == "2025-01-01" and str(dates[2]) == "1900-03-01"
    assert not (why != "").any() and np.isnat(dates[3])


def test_texts_keep_true_apart_from_one():
    out = texts(np.array([1.0, True, " Core ", None, 2.5, 1], dtype=object))
    assert out.tolist() == ["1", "True", "Core", "", "2.5", "1"]


# ----------------------------------------------------------------------------- positions

def test_headers_any_case_and_order_whole_numbers_as_floats():
    header = ["qty", "EXPIRY", "instrument", "Strike", "type", "layer", "i v"]
    rows = [header, [-10.0, 46395.0, "spx", 6300.0, "put", "Core", 0.19]]
    legs = parse_positions(rows).legs
    assert legs.loc[0, "instrument"] == "SPX" and legs.loc[0, "cp"] == -1.0
    assert legs.loc[0, "expiry"] == np.datetime64("2027-01-08")
    assert legs.loc[0, "qty"] == -10 and legs.loc[0, "multiplier"] == 100


def test_blank_rows_skipped_and_row_numbers_are_sheet_rows():
    table = [H, leg(), [None] * 14, ["", " ", None] + [None] * 11, leg(strike="abc")]
    pos = parse_positions(table, first_row=4)
    assert len(pos.legs) == 1 and pos.legs.loc[0, "row"] == 5
    assert [(p.row, p.column) for p in pos.problems] == [(8, "Strike")]
    assert str(pos.problems[0]) == 'row 8 (Strike): expected a number, got "abc"'


def test_short_and_long_rows_are_tolerated():
    table = [H, leg()[:9], leg() + ["extra", "cells"]]
    legs = parse_positions(table).legs
    assert len(legs) == 2 and legs["iv"].tolist() == [0.19, 0.19]


@pytest.mark.parametrize("row, column, text", [
    (leg(instr="SPY"), "Instrument", 'unknown instrument "SPY"; expected one of SPX, SPXW, XSP, '
                                     "VIX, VX, VXM, ES, MES, ETP"),
    (leg(instr=None), "Instrument", "Instrument is blank"),
    (leg(layer=None), "Layer", "Layer is blank; every leg belongs to a layer"),
    (leg(cp="X"), "Type", 'expected C or P (Call/Put), got "X"'),
    (leg(cp=None), "Type", "Type is blank; an option needs C or P"),
    (leg(strike=None), "Strike", "Strike is blank; an option needs a strike"),
    (leg(strike=-5.0), "Strike", "Strike must be positive, got -5"),
    (leg(strike="6300x"), "Strike", 'expected a number, got "6300x"'),
    (leg(expiry="next Friday"), "Expiry", 'expected a date (Excel date, serial number or '
                                          'YYYY-MM-DD), got "next Friday"'),
    (leg(expiry=None), "Expiry", "Expiry is blank"),
    (leg(qty=None), "Qty", "Qty is blank"),
    (leg(qty="ten"), "Qty", 'expected a number, got "ten"'),
    (leg(qty=True), "Qty", "expected a number, got TRUE"),
    (leg(qty="1e307"), "Qty", "Qty 1e+307 is not a sane position size (at most 1e+07 "
                              "contracts)"),
    (leg(strike="6150,5"), "Strike", '"6150,5" looks like a decimal comma; type the number '
                                     "(with a decimal point)"),
    (leg(qty="#N/A"), "Qty", "holds the Excel error #N/A; fix the formula or type a value"),
    (leg(layer="#REF!"), "Layer", "holds the Excel error #REF!; fix the formula or type a "
                                  "value"),
    (leg(iv=18.0), "IV", "IV 18 is above 5 (500 %); enter implied vol as a decimal, e.g. 0.18 "
                         "for 18 %"),
    (leg(iv=0.0), "IV", "IV must be positive, got 0"),
    (leg(iv="18,5%"), "IV", '"18,5%" looks like a decimal comma; type the number (with a '
                            "decimal point)"),
    (leg(strike="18%"), "Strike", '"18%" is a percentage; this cell takes a plain number'),
    (leg(iv=None), "IV", "IV and Price are both blank; give IV or a Price to solve it from"),
    (leg(Multiplier=0.0), "Multiplier", "Multiplier must be positive, got 0"),
    (leg(Price=-1.0), "Price", "Price must not be negative, got -1"),
    (leg(Beta=-0.5), "Beta", "Beta must not be negative, got -0.5"),
    (leg(instr="ETP", cp=None, strike=None, expiry=None, qty=100.0, iv=None, Underlying="VXX"),
     "Price", "an ETP row needs its Price"),
    (leg(instr="ETP", cp=None, expiry=None, iv=None, Price=40.0, Underlying="TVIX"),
     "Underlying", 'unknown ETP ticker "TVIX"; supported: VXX, VIXY, UVXY, SVXY, VIXM'),
    (leg(instr="ETP", cp=None, expiry=None, iv=None, Price=40.0), "Underlying",
     "an ETP row needs its ticker in Underlying (VXX, VIXY, UVXY, SVXY, VIXM)"),
    (leg(instr="VIX", strike=20.0, expiry="2026-12-16", iv=0.9, Underlying="Dec future"),
     "Underlying", "a VIX option's Underlying is the VIX future's expiry date, got "
                   '"Dec future"'),
])
def test_every_row_problem_names_row_column_and_reason(row, column, text):
    table = [H, leg(), row, leg(layer="Tail")]
    pos = parse_positions(table)
    assert problems(table) == {(3, column): text}
    assert pos.legs["row"].tolist() == [2, 4]          # the usable rows still compute
    assert all(p.left_out for p in pos.problems)


def test_first_problem_per_row_only_and_rows_sorted():
    table = [H, leg(instr="SPY", qty="x"), leg(), leg(iv=20.0, strike=None)]
    assert list(problems(table)) == [(2, "Instrument"), (4, "Strike")]


def test_futures_and_etps_ignore_option_columns():
    table = [H, leg(instr="VX", cp="junk", strike="junk", iv="junk", expiry="2027-01-20",
                    qty=1.0),
             leg(instr="etp", cp=None, strike=None, expiry="junk", iv=None, qty=100.0,
                 Price=45.0, Underlying="uvxy")]
    pos = parse_positions(table)
    assert pos.problems == []
    assert pos.legs["multiplier"].tolist() == [1000.0, 1.0]
    assert pos.legs.loc[1, "ticker"] == "UVXY" and pos.legs.loc[1, "leverage"] == 1.5
    assert pd.isna(pos.legs.loc[1, "expiry"])


def test_default_multipliers_and_given_ones():
    table = [H, leg(instr="SPXW"), leg(instr="VIX", strike=20.0, iv=0.9),
             leg(instr="VX", cp=None, strike=None, iv=None),
             leg(instr="VXM", cp=None, strike=None, iv=None), leg(Multiplier=10.0)]
    assert parse_positions(table).legs["multiplier"].tolist() == [100, 100, 1000, 100, 10]


def test_missing_and_duplicate_columns_stop_the_table():
    with pytest.raises(MissingInputError, match="missing columns instrument, qty"):
        parse_positions([["Layer", "Strike"], ["Core", 1.0]])
    with pytest.raises(InputError, match='duplicate column "layer" \\(table columns 1 and 3\\)'):
        parse_positions([["Layer", "Instrument", "layer", "Qty"], ["a", "VX", "b", 1.0]])
    with pytest.raises(MissingInputError, match="expected a table with a header row"):
        parse_positions(None)


def test_candidates_ignore_qty_and_default_layer():
    cands = parse_candidates([["Instrument", "Type", "Strike", "Expiry", "IV"],
                              ["VIX", "P", 18.0, "2026-12-16", 0.9]])
    assert cands.problems == [] and cands.legs.loc[0, "qty"] == 1.0
    assert cands.legs.loc[0, "layer"] == "Hedge"


def test_dataframe_source_with_nan_and_timestamps():
    df = pd.DataFrame([leg(), leg(layer="Tail", expiry=pd.Timestamp("2027-01-08"))], columns=H)
    df.loc[0, "Strategy"] = np.nan
    legs = parse_positions(df).legs
    assert legs["layer"].tolist() == ["Core", "Tail"]
    assert (legs["expiry"] == np.datetime64("2027-01-08")).all()
    assert legs.loc[0, "strategy"] == ""


def test_csv_source(tmp_path):
    path = tmp_path / "positions.csv"
    pd.DataFrame([leg(), leg(strike="oops")], columns=H).to_csv(path, index=False)
    pos = parse_positions(path)
    assert len(pos.legs) == 1 and pos.legs.loc[0, "strike"] == 6300.0
    assert [(p.row, p.column) for p in pos.problems] == [(3, "Strike")]
    with pytest.raises(MissingInputError, match="file not found"):
        parse_positions(tmp_path / "nope.csv")


def test_xlsx_source_sheet_used_range_and_defined_name(tmp_path):
    import openpyxl
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Positions"
    ws["A1"] = "My book"                                   # a title above the table
    for r, values in enumerate([H, leg(expiry=dt.datetime(2027, 1, 8)), leg(qty="x")], start=3):
        for c, v in enumerate(values, start=2):
            ws.cell(row=r, column=c, value=v)
    wb.defined_names["ALVH_POSITIONS"] = DefinedName("ALVH_POSITIONS",
                                                     attr_text="Positions!$B$3:$O$5")
    m = wb.create_sheet("Market")
    for row in [["Field", "Value"], ["ValuationDate", dt.datetime(2026, 11, 24)],
                ["SpxSpot", 6700]]:
        m.append(row)
    path = tmp_path / "book.xlsx"
    wb.save(path)

    pos = parse_positions(f"{path}#ALVH_POSITIONS")
    assert pos.legs["row"].tolist() == [4]                 # sheet row numbers
    assert [(p.row, p.column) for p in pos.problems] == [(5, "Qty")]
    assert pos.legs.loc[0, "expiry"] == np.datetime64("2027-01-08")
    assert parse_market(f"{path}#Market").spx_spot == 6700
    with pytest.raises(InputError, match="no defined name or sheet 'Nope'"):
        parse_positions(f"{path}#Nope")
    with pytest.raises(MissingInputError):             # first sheet: the title row is no header
        parse_positions(path)


def test_xlsx_sheet_used_range_skips_blank_edges(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Curve"
    for r, values in enumerate([["Expiry", "Price"], [dt.datetime(2026, 12, 16), 18.6],
                                [dt.datetime(2027, 1, 20), "bad"]], start=4):
        for c, v in enumerate(values, start=3):
            ws.cell(row=r, column=c, value=v)
    path = tmp_path / "curve.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match="row 6 \\(Price\\)"):      # sheet row of the cell
        parse_curve(path)
    ws.cell(row=6, column=4, value=19.5)
    wb.save(path)
    assert parse_curve(f"{path}#Curve").prices.tolist() == [18.6, 19.5]
    path.with_suffix(".txt").write_text("not a workbook")
    bad = tmp_path / "fake.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(InputError, match="cannot read fake.xlsx as an Excel workbook"):
        parse_curve(bad)


# ----------------------------------------------------------------------------- market, curve

MKT = [["Field", "Value"], ["ValuationDate", "2026-11-24"], ["SpxSpot", 6700.0],
       ["Rate", 0.04], ["DivYield", 0.013], ["VixSpot", 17.5], ["Vvix", 95.0]]


def test_market_defaults_and_forms():
    m = parse_market(MKT)
    assert m.valuation == dt.datetime(2026, 11, 24, 16, 0)
    assert (m.t_ref_days, m.alpha, m.tau_floor_days, m.weight_cap, m.volvol_beta) == \
        (30, 0.5, 7, 3, 0)
    m = parse_market([["field", "value"], ["valuation date", 46350.0],
                      ["Valuation_Time", 0.4375], ["SPXSPOT", "6,700.00"], ["Alpha", 0.0],
                      ["Rate", "4%"]])
    assert m.valuation == dt.datetime(2026, 11, 24, 10, 30) and m.spx_spot == 6700
    assert m.alpha == 0.0 and m.rate == 0.04
    m = parse_market([["ValuationDate", 46350.4375], ["SpxSpot", 6700]])     # no header row
    assert m.valuation == dt.datetime(2026, 11, 24, 10, 30)
    m = parse_market([["ValuationDate", dt.datetime(2026, 11, 24, 9, 45)], ["SpxSpot", 1]])
    assert m.valuation.time() == dt.time(9, 45)


@pytest.mark.parametrize("rows, match", [
    ([["SpxSpot", 6700]], "ValuationDate is missing"),
    ([["ValuationDate", "2026-11-24"]], "SpxSpot is missing"),
    ([["ValuationDate", "someday"], ["SpxSpot", 1]], 'row 1 \\(Value\\): market ValuationDate: '
                                                     "expected a date"),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", "6712,4"]], 'row 2 \\(Value\\): market '
                                                              'SpxSpot: "6712,4" looks like a '
                                                              "decimal comma"),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", "#N/A"]], "SpxSpot: holds the Excel error "
                                                            "#N/A"),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", 6750], ["SpxForward", 67500],
      ["ForwardExpiry", "2027-01-15"]], "SpxForward: 67500 implies a dividend yield of "),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", 1], ["DivYield", 0.5]],
     "DivYield is a decimal"),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", "abc"]], 'SpxSpot: expected a number'),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", -1]], "SpxSpot must be positive"),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", 1], ["Rate", 4.0]],
     "Rate is a decimal \\(0.04 for 4 %\\), got 4"),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", 1], ["ValuationTime", "late"]],
     "expected a time such as 16:00"),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", 1], ["TauFloorDays", 0]],
     "TauFloorDays must be positive"),
    ([["ValuationDate", "2026-11-24"], ["SpxSpot", 1], ["Alpha", -1]],
     "Alpha must not be negative"),
])
def test_market_errors(rows, match):
    with pytest.raises(InputError, match=match):
        parse_market(rows)


def test_curve_sorted_and_errors_name_row():
    c = parse_curve([["Price", "EXPIRY"], [19.5, "2027-01-20"], [18.6, 46372.0]])
    assert [str(e) for e in c.expiries] == ["2026-12-16", "2027-01-20"]
    assert c.prices.tolist() == [18.6, 19.5]
    with pytest.raises(InputError, match="row 3 \\(Price\\): curve: expected a number"):
        parse_curve([["Expiry", "Price"], ["2026-12-16", 18.6], ["2027-01-20", "n/a"]])
    with pytest.raises(InputError, match="row 2 \\(Expiry\\)"):
        parse_curve([["Expiry", "Price"], ["Dec", 18.6]])
    with pytest.raises(InputError, match="appears twice"):
        parse_curve([["Expiry", "Price"], ["2026-12-16", 18.6], [46372.0, 18.7]])


# ----------------------------------------------------------------------------- thresholds

def test_thresholds_parse_portfolio_row_and_case_insensitive_layers():
    th = parse_thresholds([["layer", "LIMIT", "Target", "Warn", "Basis"],
                           ["VIX L1", 12.0, 30.0, None, None],
                           ["portfolio", 0.08, 5.0, 0.5, "core"]])
    assert th.for_layer("vix l1").limit == 12 and th.for_layer("VIX L1").target == 30
    assert th.for_layer("VIX L1").warn == 0.75 and th.for_layer("Tail") is None
    assert (th.portfolio_tolerance, th.portfolio_target, th.portfolio_warn, th.basis_layer) == \
        (0.08, 5.0, 0.5, "core")
    assert parse_thresholds([["Layer", "Limit"], ["Tail", 5]]).basis_layer == "Core"


@pytest.mark.parametrize("row, match", [
    (["VIX L1", "big", None, None], "row 3 \\(Limit\\): thresholds: expected a number"),
    (["VIX L1", -1.0, None, None], "row 3 \\(Limit\\): thresholds: Limit must be a positive"),
    (["VIX L1", 12.0, None, 1.5], "row 3 \\(Warn\\)"),
    (["Tail", 12.0, None, None], "layer 'Tail' is listed twice"),
    (["PORTFOLIO", 8.0, None, None], "PORTFOLIO Limit is a fraction"),
    ([None, 12.0, None, None], "row 3 \\(Layer\\): thresholds: Layer is blank"),
])
def test_threshold_errors(row, match):
    with pytest.raises(InputError, match=match):
        parse_thresholds([["Layer", "Limit", "Target", "Warn"], ["tail", 12.0, 0.0, 0.75], row])


def test_a_missing_optional_column_is_named_as_missing():
    """Strike is optional for futures/ETPs, so its absence is not fatal, but the option rows
    it leaves out say the column is missing rather than 'blank'."""
    from alvh_xl.book import parse_positions

    p = parse_positions([["Layer", "Instrument", "Type", "Expiry", "Qty", "IV"],
                         ["Core", "SPX", "P", "2027-01-08", -1, 0.2],
                         ["Tail", "VX", None, "2027-01-20", 1, None]])
    assert [str(x) for x in p.problems] == [
        "row 2 (Strike): the table has no Strike column; an option needs one"]
    assert list(p.legs["instrument"]) == ["VX"]


@pytest.mark.parametrize("typo, column", [("Multiplir", "multiplier"), ("Qtty", "qty"),
                                          ("Strke", "strike"), ("Leverge", "leverage")])
def test_a_misspelt_header_is_an_error_not_a_column_silently_ignored(typo, column):
    """'Multiplir' over a column of 10s: read as an unknown column, every leg would take the
    default multiplier 100 and nothing would say so."""
    header = [typo if h.lower() == column else h for h in H]
    with pytest.raises(InputError, match=rf'column "{typo}" .*did you mean "{column}"'):
        parse_positions([header, leg(Multiplier=10.0, Leverage=None)])


def test_own_columns_beside_the_known_ones_are_still_allowed():
    """A trader's own columns (Notes, Delta, a second Price) are not near-misses of a column
    the table lacks, so they are left alone."""
    for extra in ("Notes", "Delta", "Price2", "Trader"):
        table = parse_positions([[*H, extra], [*leg(), "x"]])
        assert len(table.legs) == 1, extra
    no_iv = [h for h in H if h != "IV"]               # 'ID' is one edit from the absent 'iv'
    row = [v for h, v in zip(H, leg(iv=None, Price=80.0), strict=True) if h != "IV"]
    assert len(parse_positions([[*no_iv, "ID"], [*row, "A-1"]]).legs) == 1


def test_a_misspelt_threshold_measure_header_is_an_error():
    with pytest.raises(InputError, match=r'column "Measur" .*did you mean "measure"'):
        parse_thresholds([["Layer", "Limit", "Measur"], ["Core", 30, "Weighted"]])
