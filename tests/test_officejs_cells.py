"""The Office.js boundary (alvh_xl.xl.officejs and cells), column-wise (issue 13 item 4): what
xlwings Server/Lite hand a function becomes plain cells and floats by C-level passes, results
go back as Office.js takes them, and the fast paths give exactly what the cell-by-cell readers
give.

References: the cell-by-cell readers (``alvh_xl.book.cells``), one cell at a time, and
hand-written expectations of the Office.js wire format (blanks "", errors as objects, dates as
formatted numbers).
"""

from __future__ import annotations

import datetime as dt
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_xl.book.cells import CellError, parse_number
from alvh_xl.xl import cache, cells, officejs
from alvh_xl.xl.cells import NO_ERRORS, float_grid, numbers, spill
from alvh_xl.xl.officejs import from_officejs, reading_arguments, to_officejs

# ----------------------------------------------------------------------------- Office.js in


def test_plain_numbers_and_text_pass_unchanged():
    rows = [[1.0, 2], [3.5, 4.0]]
    assert from_officejs(rows) is rows                     # nothing to normalise: no copy
    mixed = [["Layer", "Qty"], ["Core", -10.0]]
    assert from_officejs(mixed) == mixed


def test_blanks_errors_and_formatted_numbers_become_plain_cells():
    rows = [["", {"type": "Error", "basicValue": "#DIV/0!"}],
            [{"type": "FormattedNumber", "basicValue": 46350.0, "numberFormat": "m/d/yyyy"},
             None]]
    assert from_officejs(rows) == [[None, "#DIV/0!"], [46350.0, None]]
    assert from_officejs([1.0, "", 3.0]) == [[1.0, None, 3.0]]   # a one-row range arrives flat
    assert from_officejs("") is None and from_officejs(2.5) == 2.5


class _JsNull:
    """Stands for Pyodide's JsNull (what xlwings Lite sends for an empty cell)."""


@pytest.fixture
def in_pyodide(monkeypatch):
    """cells.py as under Pyodide, with xlwings' own JsNull check recording every cell."""
    import xlwings.utils

    seen = []

    def is_jsnull(v):
        seen.append(v)
        return isinstance(v, _JsNull)

    monkeypatch.setattr(officejs, "IN_PYODIDE", True)
    monkeypatch.setattr(xlwings.utils, "is_jsnull", is_jsnull)
    return seen


def test_under_pyodide_xlwings_own_jsnull_check_runs_for_every_cell(in_pyodide):
    rows = [[1.0, _JsNull()], ["x", 2.0]]
    assert from_officejs(rows) == [[1.0, None], ["x", 2.0]]
    assert len(in_pyodide) == 4                            # every cell was asked, even numbers


def test_outside_pyodide_the_failing_import_is_never_tried(monkeypatch):
    """xlwings' is_jsnull tries `from pyodide.ffi import JsNull` per cell (~90 µs each when it
    fails); outside Pyodide nothing can be a JsNull, so it is not asked at all."""
    import xlwings.utils

    def refuse(v):
        raise AssertionError("is_jsnull called outside Pyodide")

    monkeypatch.setattr(xlwings.utils, "is_jsnull", refuse)
    monkeypatch.setitem(sys.modules, "pyodide", None)      # the import would fail
    assert from_officejs([[1.0, ""], [object, "x"]]) == [[1.0, None], [object, "x"]]


# ----------------------------------------------------------------------------- numbers

CELL = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64),
                 st.integers(-10**6, 10**6), st.none(), st.booleans(),
                 st.sampled_from(["1.5", "6,712.40", "6712,4", "18%", "abc", " ", "#N/A", ""]),
                 st.just(float("inf")))


def _one_by_one(rows, name, default):
    """Reference: each cell through the one cell reader, messages built by hand."""
    vals = np.full((len(rows), len(rows[0])), np.nan)
    errs = np.full(vals.shape, "", dtype=object)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            where = cells.position(vals.shape, (i, j))
            try:
                x = parse_number(v)
            except CellError as exc:
                errs[i, j] = f"{name}{where}: {exc}"
                continue
            if x is None:
                if default is None:
                    errs[i, j] = f"{name}{where} is blank"
                else:
                    vals[i, j] = default
            else:
                vals[i, j] = x
    return vals, errs


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4).flatmap(lambda w: st.lists(st.lists(CELL, min_size=w, max_size=w),
                                                     min_size=1, max_size=5)),
       st.sampled_from([None, 0.0]))
def test_numbers_equals_the_cell_reader_cell_by_cell(rows, default):
    vals, errs = numbers(rows, "x", default)
    ref_vals, ref_errs = _one_by_one(rows, "x", default)
    full = np.broadcast_to(errs, ref_errs.shape)
    assert (full == ref_errs).all(), f"{rows}: {full} vs {ref_errs}"
    ok = ref_errs == ""
    np.testing.assert_array_equal(vals[ok], ref_vals[ok], err_msg=str(rows))


def test_numeric_columns_take_the_fast_path_and_no_error_grid():
    col = [[float(i)] for i in range(1000)]
    vals, errs = numbers(col, "price")
    assert errs is NO_ERRORS and vals.shape == (1000, 1) and vals[999, 0] == 999.0
    assert float_grid([[1, 2.5], [3, 4]]).tolist() == [[1.0, 2.5], [3.0, 4.0]]
    for slow in ([[1.0, True]], [[1.0], [2.0, 3.0]], [[1.0, None]], [[10**400]], []):
        assert float_grid(slow) is None, slow
    huge = numbers([[10**400]], "qty")[1]
    assert huge[0, 0].startswith("qty: expected a finite number"), huge


def test_each_range_is_scanned_once_per_call(monkeypatch):
    calls = []
    scan = officejs._scan_numbers
    monkeypatch.setattr(officejs, "_scan_numbers", lambda v: calls.append(id(v)) or scan(v))
    col = [[1.0], [2.0]]
    with reading_arguments():
        key = cache.freeze(col)
        from_officejs(col)
        numbers(col, "x")
    assert calls == [id(col)] and isinstance(key, cache.FloatBlock)
    numbers(col, "x")                                      # outside a call: no memo
    assert calls == [id(col), id(col)]


def test_float_block_keys_are_equal_exactly_for_equal_values():
    f = cache.freeze
    assert f([[1.0, 2.0]]) == f([[1, 2]])                  # the same numbers
    assert f([[1.0, 2.0]]) != f([[1.0], [2.0]])            # another shape
    assert f([[1.0]]) != f([[True]]) and f([[1.0]]) != f([["1"]])
    assert f([[0.5, 2.0]]) != f([[0.5, 2.0000000001]])
    assert cache.cells_in(f([[1.0]] * 7)) == 7


# ----------------------------------------------------------------------------- Office.js out


SERIAL = float((dt.date(2026, 12, 16) - dt.date(1899, 12, 30)).days)   # Excel's day count


def test_results_become_what_office_js_takes():
    out = to_officejs([[1.0, math.nan], [math.inf, None], [dt.date(2026, 12, 16), "x"], [True]])
    assert out[0] == [1.0, ""] and out[1] == ["", ""] and out[3] == [True, ""]
    assert out[2][0] == {"type": "FormattedNumber", "basicValue": SERIAL,
                         "numberFormat": "yyyy-mm-dd"} and out[2][1] == "x"
    assert to_officejs([[dt.date(2026, 12, 16)]], "1.3") == [[SERIAL]]    # old runtimes: serial
    assert to_officejs(None) == [[""]] and to_officejs(2.5) == [[2.5]]
    clean = [[1.0, "a"], [2, False]]
    assert to_officejs(clean) is clean                     # already acceptable: no pass, no copy


def test_spill_puts_error_texts_in_their_cells_only():
    vals = np.array([[1.0, 2.0], [3.0, 4.0]])
    errs = np.array([["", "x: bad"], ["", ""]], dtype=object)
    out = spill(vals, errs)
    assert out == [[1.0, "#ALVH! x: bad"], [3.0, 4.0]]
    assert to_officejs(out) is out
    assert spill(vals, NO_ERRORS) == vals.tolist()
    with_nan = spill(np.array([[1.0], [np.nan]]))
    assert to_officejs(with_nan) == [[1.0], [""]]          # NaN still becomes an empty cell


def test_gc_paused_restores_the_collector():
    import gc

    assert gc.isenabled()
    with officejs.gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with officejs.gc_paused():
            pass
        assert not gc.isenabled()                          # left as it was found
    finally:
        gc.enable()


_OUT_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.booleans(),
    st.none(), st.text(max_size=4), st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
    st.sampled_from([1, 1.0, True, 0, 0.0, False, math.nan]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_OUT_CELLS, min_size=0, max_size=6), min_size=1, max_size=8))
def test_column_wise_conversion_is_the_cell_by_cell_one(rows):
    """to_officejs converts a column at a time; each cell must come out as the one-cell
    converter makes it (True stays True beside 1 and 1.0; NaN/inf/None become "")."""
    officejs._OUT_MEMO.clear()
    width = max(map(len, rows))
    want = [[officejs._js_cell(v, officejs.DATE_FORMAT) for v in r] + [""] * (width - len(r))
            for r in rows]
    got = to_officejs([list(r) for r in rows])
    assert [[(type(v), v) if not isinstance(v, dict) else v for v in r] for r in got] == \
        [[(type(v), v) if not isinstance(v, dict) else v for v in r] for r in want]
