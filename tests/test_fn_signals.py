"""ALVH_MACD / ALVH_RSI / ALVH_REGIME as plain Python and through xlwings' machinery."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import talib
from xlcall import needs_xlwings, xl_call

import alvh_xl.udfs as udfs
from alvh_xl.xl import fn_signals
from alvh_xl.xl.fn_signals import ALVH_MACD, ALVH_REGIME, ALVH_RSI

FUNCS = ("ALVH_MACD", "ALVH_RSI", "ALVH_REGIME")


def test_udfs_exports_the_signal_functions():
    """xl_call goes through alvh_xl.udfs: the functions it calls are the ones tested here."""
    for name in FUNCS:
        assert getattr(udfs, name).__wrapped__ is getattr(fn_signals, name), name


def walk(seed: int, n: int, level: float = 20.0) -> list[float]:
    rng = np.random.default_rng(seed)
    return (level * np.exp(np.cumsum(rng.normal(0.0, 0.03, n)))).tolist()


def column(values):
    return [[v] for v in values]


def numbers_of(cells, col: int = 0) -> np.ndarray:
    """Column ``col`` of a result grid as floats, NaN where the cell is empty."""
    return np.array([np.nan if r[col] in (None, "") else r[col] for r in cells], dtype=float)


def check_against_talib(result, x, params=(12, 26, 9), empty=None):
    assert result[0] == ["MACD", "Signal", "Hist"]
    body = result[1:]
    assert len(body) == len(x)
    first = params[1] - 1 + params[2] - 1
    assert all(c is empty for row in body[:first] for c in row)
    assert all(isinstance(c, float) for row in body[first:] for c in row)
    ref = talib.MACD(np.array(x), *params)
    for j in range(3):
        np.testing.assert_allclose(numbers_of(body, j), ref[j], rtol=1e-10, atol=1e-12)


def test_macd_column_matches_talib_with_leading_empty_cells():
    x = walk(0, 80)
    check_against_talib(ALVH_MACD(column(x)), x)


def test_macd_row_input_and_custom_periods():
    x = walk(1, 60)
    check_against_talib(ALVH_MACD([x], [[5]], [[20.0]], [[4]]), x, (5, 20, 4))


def test_trailing_blanks_are_skipped():
    x = walk(2, 50)
    result = ALVH_MACD(column([*x, None, "", None]))
    assert len(result) == 1 + len(x)
    check_against_talib(result, x)


def test_rsi_same_length_and_orientation_with_leading_empty_cells():
    x = walk(3, 40, 100.0)
    ref = talib.RSI(np.array(x), 14)
    col = ALVH_RSI(column([*x, None]))
    assert len(col) == len(x) and all(len(r) == 1 for r in col)
    assert [r[0] for r in col[:14]] == [None] * 14 and col[14][0] is not None
    np.testing.assert_allclose(numbers_of(col), ref, rtol=1e-10)
    row = ALVH_RSI([x], [[5]])
    assert len(row) == 1 and len(row[0]) == len(x)
    assert row[0][:5] == [None] * 5 and row[0][5] is not None
    np.testing.assert_allclose(numbers_of(column(row[0])), talib.RSI(np.array(x), 5), rtol=1e-10)


def regime_inputs(flag: bool):
    rise = [20.0] * 60 + [20.0 + 0.05 * i * i for i in range(1, 7)]
    vvix = [100.0 + i for i in range(30)] if flag else [100.0 + (-1) ** i for i in range(30)]
    return column(rise), column(vvix)


def test_regime_flag_and_sentence():
    on = ALVH_REGIME(*regime_inputs(True))
    assert len(on) == 1 and on[0][0] == "REGIME SHIFT"
    assert on[0][1].startswith("MACD histogram expanding positive for 5 days")
    assert on[0][1].endswith("VVIX RSI 100.0 > 70: vol regime turning up")
    off = ALVH_REGIME(*regime_inputs(False))
    assert off[0][0] == "NORMAL" and off[0][1].startswith("No regime signal:")
    assert ALVH_REGIME(*regime_inputs(True), [[6]])[0][0] == "NORMAL"   # k = 6 > 5 days


BAD = [
    ("ALVH_MACD", ([[None], [None]],), "#ALVH! series is empty"),
    ("ALVH_MACD", ([[1.0], [2.0], [3.0], [4.0], ["abc"]],),
     '#ALVH! series: row 5 of its range: expected a number, got "abc"'),
    ("ALVH_RSI", ([[1.0, None, 3.0]],), "#ALVH! series: column 2 of its range is blank"),
    ("ALVH_MACD", (column(range(20)),),
     "#ALVH! series needs at least 34 values for MACD(12,26,9), got 20"),
    ("ALVH_MACD", (column(range(40)), 26, 12), "#ALVH! fast (26) must be shorter than slow (12)"),
    ("ALVH_MACD", (column(range(40)), 2.5), "#ALVH! fast must be a whole number ≥ 2, got 2.5"),
    ("ALVH_RSI", (column(range(40)), -3), "#ALVH! period must be a whole number ≥ 2, got -3"),
    ("ALVH_RSI", (column(range(40)), "x"), '#ALVH! period must be a whole number ≥ 2, got "x"'),
    ("ALVH_RSI", (column(range(10)),),
     "#ALVH! series needs at least 15 values for RSI(14), got 10"),
    ("ALVH_RSI", ([[1.0, 2.0], [3.0, 4.0]],),
     "#ALVH! series must be one column or one row, got 2x2 cells"),
    ("ALVH_RSI", (column(range(40)), [[14, 15]]), "#ALVH! period must be a single cell, got 1x2"),
    ("ALVH_REGIME", (column(range(40)), column(range(10))),
     "#ALVH! vvix needs at least 15 values for RSI(14), got 10"),
    ("ALVH_REGIME", (column(range(40)), column(range(40)), 0),
     "#ALVH! k must be a whole number ≥ 1, got 0"),
    ("ALVH_REGIME", ([[1.0], ["#N/A"]], column(range(40))),
     "#ALVH! vix_futures: row 2 of its range: holds the Excel error #N/A; fix the formula or "
     "type a value"),
]


@pytest.mark.parametrize("name, args, text", BAD)
def test_bad_input_messages_plain(name, args, text):
    assert getattr(fn_signals, name)(*args) == text


@needs_xlwings
@pytest.mark.parametrize("name, args, text", BAD)
def test_bad_input_messages_through_xlwings(name, args, text):
    assert xl_call(name, *args) == [[text]]


@needs_xlwings
def test_macd_through_xlwings_leading_cells_empty():
    x = walk(4, 70)
    result = xl_call("ALVH_MACD", column([*x, None]), None, None, None)
    # None is written to Excel as an empty cell ("" on xlwings' Office.js wire format)
    check_against_talib(result, x, empty="")
    assert result[1:] == [["" if v is None else v for v in r] for r in ALVH_MACD(column(x))[1:]]


@needs_xlwings
def test_rsi_and_regime_through_xlwings():
    x = walk(5, 30, 100.0)
    result = xl_call("ALVH_RSI", [x], 7)
    assert result[0][:7] == [""] * 7
    np.testing.assert_allclose([float(v) for v in result[0][7:]],
                               talib.RSI(np.array(x), 7)[7:], rtol=1e-10)
    on = xl_call("ALVH_REGIME", *regime_inputs(True), None)
    assert on == ALVH_REGIME(*regime_inputs(True)) and on[0][0] == "REGIME SHIFT"
    assert xl_call("ALVH_REGIME", *regime_inputs(True), 6)[0][0] == "NORMAL"


def test_wizard_texts():
    for f in (ALVH_MACD, ALVH_RSI, ALVH_REGIME):
        assert 0 < len(f.__doc__) <= 255
        assert list(f.__alvh_arg_docs__) == list(inspect.signature(f).parameters)


@needs_xlwings
def test_functions_carry_xlwings_metadata():
    from alvh_xl.xl.registry import ON_SERVER

    for f in (udfs.ALVH_MACD, udfs.ALVH_RSI, udfs.ALVH_REGIME):
        args = f.__xlfunc__["args"]
        assert [a["name"] for a in args] == list(f.__alvh_arg_docs__)
        want = {"convert": "raw"} if ON_SERVER else {"ndim": 2}
        assert all(want.items() <= a["options"].items() for a in args)
