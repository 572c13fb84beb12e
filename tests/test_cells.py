"""The one reader of cell values (alvh_xl.book.cells): numbers typed as text only when
unambiguous (SPEC §3), Excel error values as errors, never a stripped character."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh_xl.book.cells import (
    CellError,
    error_value,
    parse_bool,
    parse_cp,
    parse_date,
    parse_number,
    parse_numbers,
    parse_time,
    to_numbers,
)

TEMPLATE = Path(__file__).parent.parent / "workbooks" / "alvh_template.xlsx"


@pytest.mark.parametrize("text, value", [
    ("6712.4", 6712.4), (" 6712.4 ", 6712.4), ("-3", -3.0), ("+5", 5.0), (".5", 0.5),
    ("1e-4", 1e-4), ("6,712.40", 6712.4), ("1,234,567", 1234567.0), ("-1,234.5", -1234.5),
    ("0", 0.0), ("7.", 7.0),
])
def test_unambiguous_text_numbers(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text, why", [
    ("6712,4", "looks like a decimal comma"),
    ("6.712,40", "looks like a decimal comma"),
    ("6,712", "could be 6712 or 6.712"),
    ("18%", "is a percentage; this cell takes a plain number"),
    ("$5", "expected a number"),
    ("(5)", "expected a number"),
    ("5 000", "expected a number"),
    ("1_000", "expected a number"),
    ("nan", "expected a number"),
    ("inf", "expected a number"),
    ("1e400", "expected a finite number"),
    ("−5", "expected a number"),                 # a Unicode minus is not stripped or mapped
    ("12,34,567", "expected a number"),
    ("١٢٣", "expected a number"),                # Arabic-Indic digits: float() reads them
    ("１２", "expected a number"),                  # full-width digits: float() reads them
    ("١٢%", "expected a number"),
])
def test_ambiguous_or_foreign_text_is_an_error_naming_why(text, why):
    with pytest.raises(CellError, match=why.replace("(", "\\(").replace("$", "\\$")):
        parse_number(text)


def test_percent_only_where_a_fraction_is_expected():
    assert parse_number("18%", percent=True) == pytest.approx(0.18, abs=1e-15)
    assert parse_number("1,250.5 %", percent=True) == pytest.approx(12.505, abs=1e-12)
    with pytest.raises(CellError, match="decimal comma"):
        parse_number("18,5%", percent=True)


@pytest.mark.parametrize("err", ["#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?",
                                 "#SPILL!", "#ALVH! row 3 (Qty): bad"])
def test_excel_error_values_are_errors_never_blanks(err):
    assert error_value(err) == err
    with pytest.raises(CellError, match="error"):
        parse_number(err)
    with pytest.raises(CellError, match="error"):
        parse_date(err)
    with pytest.raises(CellError, match="error"):
        parse_bool(err, default=False)
    with pytest.raises(CellError, match="error"):
        parse_cp(err)
    vals, why = to_numbers(np.array([1.0, err, None], dtype=object))
    assert np.isnan(vals[1]) and "error" in why[1] and why[0] == why[2] == ""


def test_office_js_error_object_is_an_error():
    assert error_value({"type": "Error", "basicValue": "#N/A"}) == "#N/A"
    with pytest.raises(CellError, match="#N/A"):
        parse_number({"type": "Error", "basicValue": "#N/A"})


def test_booleans_and_dates_are_not_numbers():
    for v in (True, False, dt.date(2027, 1, 8), dt.time(16, 0)):
        with pytest.raises(CellError):
            parse_number(v)


def test_column_parse_matches_cell_parse():
    cells = np.array(["1,000.5", 2, None, "x", "6712,4", "18%", True, "", 3.5, "#N/A"],
                     dtype=object)
    vals, why = to_numbers(cells)
    for v, x, w in zip(cells, vals, why, strict=True):
        try:
            want = parse_number(v)
            assert w == "" and (np.isnan(x) if want is None else x == want)
        except CellError as exc:
            assert w == str(exc) and np.isnan(x)


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_repr_of_any_float_reads_back_exactly(x):
    assert parse_number(repr(x)) == x


@given(st.integers(min_value=1000, max_value=10**15), st.integers(0, 99))
def test_grouped_thousands_with_decimals_read_back(n, cents):
    assert parse_number(f"{n:,}.{cents:02d}") == float(f"{n}.{cents:02d}")


def test_dates_times_cp_bools_and_lists():
    assert parse_date("2027-01-08") == np.datetime64("2027-01-08")
    assert parse_date(46395.75) == np.datetime64("2027-01-08")
    with pytest.raises(CellError, match="expected a date"):
        parse_date("1/8/27")
    assert parse_time("16:00") == dt.time(16) and parse_time(0.6875) == dt.time(16, 30)
    assert parse_cp("put") == -1.0 and parse_cp(1) == 1.0
    with pytest.raises(CellError):
        parse_cp("X")
    assert parse_bool("yes") is True and parse_bool(None, default=False) is False
    assert parse_numbers([[1, None], ["2.5", 3]]).tolist() == [1.0, 2.5, 3.0]
    with pytest.raises(CellError, match=r"values \(row 3 of its range\): .*decimal comma"):
        parse_numbers([1, 2, "2,5"])


@pytest.mark.parametrize("typed", [16, 16.0, 9, 1])
def test_a_whole_number_in_a_time_cell_is_not_read_as_midnight(typed):
    """16 typed in ValuationTime means 16:00 to a trader; as an Excel serial it is a date at
    00:00. Neither reading is safe, so it is an error naming what to type."""
    with pytest.raises(CellError, match="16:00"):
        parse_time(typed)
    # a date-time serial keeps its time of day (46350.6875 = 2026-11-24 16:30)
    assert parse_time(46350.6875) == dt.time(16, 30)


def test_a_time_within_half_a_second_of_midnight_is_the_last_second_of_the_day():
    """0.99999999 of a day is 23:59:59.9991 (Excel shows 23:59:59): the last second, not an
    error and not 00:00 of the same day."""
    assert parse_time(0.99999999) == dt.time(23, 59, 59)
    assert parse_time(46350.99999999) == dt.time(23, 59, 59)
    assert parse_time(86399 / 86400) == dt.time(23, 59, 59)


def test_valuation_time_16_reaches_the_book_functions_as_an_error():
    from alvh_xl.xl.functions import FUNCTIONS
    from alvh_xl.xl.workbook import read_inputs

    raw = read_inputs(TEMPLATE).raw
    market = [list(r) for r in raw["ALVH_MARKET"]]
    row = next(r for r in market if r[0] == "ValuationTime")
    row[1] = 16
    got = FUNCTIONS["ALVH_NETVEGA"](raw["ALVH_POSITIONS"], market, raw["ALVH_CURVE"])
    assert isinstance(got, str) and "ValuationTime" in got, got
