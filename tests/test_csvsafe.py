"""CSV cells escaped OWASP-style for Excel, and the escape undone exactly."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh_xl.book.csvsafe import DANGEROUS_FIRST, escape_cell, unescape_cell


@pytest.mark.parametrize(("text", "written"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+2", "'+1+2"), ("-A1", "'-A1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("-3", "-3"), ("+1.5e-3", "+1.5e-3"), ("-.5", "-.5"), ("VIX L1", "VIX L1"),
    ("'=1", "''=1"), ("'plain", "'plain"), ("", ""), ("-", "'-"), ("-3a", "'-3a"),
])
def test_examples(text, written):
    assert escape_cell(text) == written, (text, escape_cell(text), written)
    assert unescape_cell(written) == text


@given(st.text())
def test_unescape_inverts_escape(text):
    assert unescape_cell(escape_cell(text)) == text


@given(st.text(min_size=1))
def test_escaped_text_never_starts_a_formula(text):
    out = escape_cell(text)
    if out[0] in DANGEROUS_FIRST:
        float(out)                       # only a plain number may start with + or -


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_survives_a_csv_round_trip(cells):
    buf = io.StringIO()
    csv.writer(buf).writerow([escape_cell(c) for c in cells])
    back = next(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert [unescape_cell(c) for c in back] == cells
