"""ALVH_CONDOR and ALVH_BREAKEVENS: plain Python calls and through xlwings' machinery."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from test_condor import CURVE, ENTRY, HEAD, MKT, VIX_SPREAD, book, ic
from xlcall import needs_xlwings, xl_call

from alvh_xl import udfs
from alvh_xl.risk.condor import CONDOR_COLUMNS, breakeven_migration, condor_report
from alvh_xl.xl.fn_condor import ALVH_BREAKEVENS, ALVH_CONDOR

POS = [HEAD, *ic(entry=ENTRY), *VIX_SPREAD]


def test_condor_table_plain():
    out = ALVH_CONDOR(POS, MKT, CURVE)
    assert out[0] == list(CONDOR_COLUMNS)
    row = dict(zip(out[0], out[1], strict=True))
    ref = condor_report(book(*ic(entry=ENTRY), *VIX_SPREAD)).table.iloc[0]
    assert row["Strategy"] == "IC-Jan" and row["Expiry"] == dt.date(2027, 1, 8)
    for col in ("Credit", "CreditUSD", "MaxProfit", "MaxLoss", "BreakevenLow", "BreakevenHigh",
                "T0BreakevenLow", "T0BreakevenHigh", "ReturnOnRisk", "ProbBetween"):
        assert row[col] == pytest.approx(ref[col], abs=1e-9), col
    assert row["Credit"] == pytest.approx(13.0) and row["MaxLoss"] == pytest.approx(37_000)
    assert row["BreakevenLow"] == pytest.approx(6287.0) and row["CreditBasis"] == "entry"
    other = dict(zip(out[0], out[2], strict=True))
    assert other["Strategy"] == "CS-Dec" and other["Credit"] is None
    assert other["Note"] == "not an iron condor: has VIX legs; needs four SPX or four XSP options"
    assert len(out) == 3


def test_condor_one_strategy_and_words_for_missing_breakevens():
    pos = [HEAD, *ic(), *VIX_SPREAD]                     # credit = today's mark
    out = ALVH_CONDOR(pos, MKT, CURVE, "ic-jan")
    assert len(out) == 2 and out[1][0] == "IC-Jan"
    one = ALVH_CONDOR(pos, MKT, CURVE, [["CS-Dec"]])
    assert one[1][0] == "CS-Dec" and one[1][-1].startswith("not an iron condor")
    wide = [HEAD, *ic(entry=(0.0, 40.0, 20.0, 0.0))]     # credit 60 > 50-point wings
    row = dict(zip(*ALVH_CONDOR(wide, MKT, CURVE)[:2], strict=True))
    assert row["BreakevenLow"] == "none (see Note)"
    assert row["T0BreakevenLow"] == "none within ±50%"


def test_condor_errors():
    assert ALVH_CONDOR(POS, MKT, CURVE, "IC-Feb") == (
        "#ALVH! strategy 'IC-Feb' not found; strategies in the book: IC-Jan, CS-Dec")
    # a book without a condor is not an error: the table says why, under its header
    none = ALVH_CONDOR([HEAD, *VIX_SPREAD], MKT, CURVE)
    assert none[-1][:2] == ["Note", "condor: no iron condor in the book (CS-Dec: has VIX legs; "
                                    "needs four SPX or four XSP options)"]


def test_left_out_rows_are_listed_below_the_table():
    bad = [HEAD, *ic(entry=ENTRY), ["Core", "IC-Jan", "SPX", "C", "abc", "2027-01-08", 1, 0.1,
                                    None]]
    out = ALVH_CONDOR(bad, MKT, CURVE)
    assert out[1][0] == "IC-Jan" and out[-1][0] == "Left out"
    assert "row 6 (Strike)" in out[-1][1]


def test_breakevens_plain():
    out = ALVH_BREAKEVENS(POS, MKT, CURVE)
    ref = breakeven_migration(book(*ic(entry=ENTRY), *VIX_SPREAD), "IC-Jan")
    assert out[0] == ["Shift", "T0Low", "T0High"]
    assert [r[0] for r in out[1:]] == [-10, -5, -2, 0, 2, 5, 10]
    np.testing.assert_allclose([r[1] for r in out[1:6]], ref["T0Low"][:5], atol=1e-9)
    assert out[-1][1:] == ["none within ±50%", "none within ±50%"]
    custom = ALVH_BREAKEVENS(POS, MKT, CURVE, "IC-Jan", [[-3, None, 1]])
    assert [r[0] for r in custom[1:]] == [-3, 1]
    assert custom[2][1] == pytest.approx(
        breakeven_migration(book(*ic(entry=ENTRY)), "IC-Jan", [1.0])["T0Low"][0], abs=1e-9)


def test_breakevens_default_names_the_first_of_several_condors():
    pos = [*POS, *ic(name="IC-Feb", expiry="2027-02-19", strikes=(6100, 6200, 7150, 7250))]
    out = ALVH_BREAKEVENS(pos, MKT, CURVE)
    assert out[-1] == ["Strategy", "IC-Jan", "(the first condor)"]
    feb = ALVH_BREAKEVENS(pos, MKT, CURVE, "ic-feb")
    assert len(feb) == 8 and feb[4][1] != out[4][1]


def test_breakevens_errors():
    assert ALVH_BREAKEVENS(POS, MKT, CURVE, None, [[1, "up"]]) == (
        '#ALVH! vol_shifts (column 2 of its range): expected a number, got "up"')
    assert ALVH_BREAKEVENS(POS, MKT, CURVE, "nope") == (
        "#ALVH! strategy 'nope' not found; strategies in the book: IC-Jan, CS-Dec")
    assert ALVH_BREAKEVENS(POS, MKT, CURVE, "CS-Dec") == (
        "#ALVH! CS-Dec is not an iron condor: has VIX legs; needs four SPX or four XSP options")
    assert ALVH_BREAKEVENS([HEAD, *VIX_SPREAD], MKT, CURVE) == [
        ["Shift", "T0Low", "T0High"],
        ["Note", "no iron condor in the book (CS-Dec: has VIX legs; needs four SPX or four XSP "
                 "options)", None]]


def test_udfs_exports_the_condor_functions():
    """xl_call goes through alvh_xl.udfs: the functions it calls are the ones tested here."""
    assert udfs.ALVH_CONDOR.__wrapped__ is ALVH_CONDOR
    assert udfs.ALVH_BREAKEVENS.__wrapped__ is ALVH_BREAKEVENS


@needs_xlwings
def test_condor_through_xlwings():
    out = xl_call("ALVH_CONDOR", POS, MKT, CURVE, None)
    plain = ALVH_CONDOR(POS, MKT, CURVE)
    assert out[0] == plain[0]
    for got, want in zip(out[1], plain[1], strict=True):
        if isinstance(want, float):
            assert got == pytest.approx(want, abs=1e-9)
        elif want is not None and not isinstance(want, dt.date):
            assert got == want
    assert xl_call("ALVH_CONDOR", POS, MKT, CURVE, "x") == [[
        "#ALVH! strategy 'x' not found; strategies in the book: IC-Jan, CS-Dec"]]


@needs_xlwings
def test_breakevens_through_xlwings():
    out = xl_call("ALVH_BREAKEVENS", POS, MKT, CURVE, "IC-Jan", [[-2, 0, 2]])
    assert out[0] == ["Shift", "T0Low", "T0High"]
    plain = ALVH_BREAKEVENS(POS, MKT, CURVE, "IC-Jan", [[-2, 0, 2]])
    np.testing.assert_allclose([r[1] for r in out[1:]], [r[1] for r in plain[1:]], atol=1e-9)
    assert xl_call("ALVH_BREAKEVENS", POS, MKT, CURVE, None, [["a"]]) == [[
        '#ALVH! vol_shifts: expected a number, got "a"']]
    assert "pass the input ranges" in str(xl_call("ALVH_BREAKEVENS", None, None, None, None,
                                                  None))
