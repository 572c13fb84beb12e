"""book.csvsafe: OWASP CSV-injection escaping, checked against the rule itself and by
round trips (every string, and through Python's csv module)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh_xl.book.csvsafe import escape_cell, unescape_cell

TRIGGERS = "=+-@\t\r"


@pytest.mark.parametrize("text, escaped", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("VIX L1", "VIX L1"), ("", ""), ("'", "'"), ("'abc", "'abc"),
    ("'=x", "''=x"), ("''", "'''"),             # already starting like an escape: one more
])
def test_escape_examples(text, escaped):
    assert escape_cell(text) == escaped
    assert unescape_cell(escaped) == text


@pytest.mark.parametrize("value", [-3.5, 0, 7, None, float("nan")])
def test_numbers_and_blanks_are_left_alone(value):
    assert escape_cell(value) is value and unescape_cell(value) is value


@given(st.text())
def test_round_trip_and_no_formula_start(text):
    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    assert escaped[:1] not in TRIGGERS or escaped == ""
    assert escaped == text or escaped == "'" + text


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_round_trip_through_a_csv_file(cells):
    buf = io.StringIO(newline="")
    csv.writer(buf).writerow([escape_cell(c) for c in cells])
    buf.seek(0)
    row = next(csv.reader(buf))
    assert [unescape_cell(c) for c in row] == cells
