"""One reader per concept (issue 9 item 14): call/put text, lists of numbers (shifts, bucket
edges) and Excel error values in single-cell arguments read the same, with the same words,
on every surface that takes them.

References are written by hand: the spellings SPEC §3 allows (C/P, Call/Put in any case; the
numbers 1/-1 in the pricing functions), the number rule of SPEC §3 (no decimal comma, no
stripping), the shift lists as typed.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from test_fn_book import CURVE, MKT, POS
from xlcall import needs_xlwings, xl_call

from alvh_xl.book.cells import CellError, parse_cp, parse_numbers
from alvh_xl.errors import InputError
from alvh_xl.pricing import bsm_greeks, solve_implied_vol
from alvh_xl.pricing.implied import BAD_CP, STATUS
from alvh_xl.pricing.inputs import cp_codes
from alvh_xl.pricing.inputs import parse_cp as parse_cp_array
from alvh_xl.risk.scenarios import shock_ladder
from alvh_xl.risk.valuation import value_book
from alvh_xl.xl.fn_book import ALVH_BUCKETS
from alvh_xl.xl.fn_condor import ALVH_BREAKEVENS
from alvh_xl.xl.fn_pricing import ALVH_BSM, ALVH_IV
from alvh_xl.xl.fn_scenarios import ALVH_GRID, ALVH_SCENARIOPNL, ALVH_SHOCKPNL
from alvh_xl.xl.functions import FUNCTIONS

# ----------------------------------------------------------------------------- call / put

ACCEPTED = [("C", 1.0), ("c", 1.0), (" Call ", 1.0), ("CALL", 1.0), ("call", 1.0), ("P", -1.0),
            ("p", -1.0), ("Put", -1.0), (" PUT", -1.0), (1.0, 1.0), (-1.0, -1.0), (1, 1.0),
            (-1, -1.0)]
REJECTED = ["X", "Straddle", "CALLS", "1", "-1", "C/P", "", None, True, 2.0, 0.0, "#N/A"]
MESSAGE = "expected C or P (Call/Put, or 1/-1), got "


@pytest.mark.parametrize("text, want", ACCEPTED, ids=repr)
def test_every_reader_accepts_the_same_spellings(text, want):
    assert parse_cp(text) == want
    assert parse_cp_array(np.array([text], dtype=object)).tolist() == [want]
    assert cp_codes([text]).tolist() == [want]
    assert ALVH_BSM("price", text, 100.0, 100.0, 0.5, 0.2) == \
        float(bsm_greeks(want, 100.0, 100.0, 0.5, 0.2).price)
    assert solve_implied_vol(8.0, np.array([text], dtype=object), 100.0, 100.0, 0.5).status[0] \
        == 0


@pytest.mark.parametrize("value", REJECTED, ids=repr)
def test_every_reader_rejects_the_same_values_with_the_same_words(value):
    with pytest.raises(CellError) as cell:
        parse_cp(value)
    reason = str(cell.value)
    if value != "#N/A":
        assert reason.startswith(MESSAGE), reason
    with pytest.raises(InputError) as engine:
        parse_cp_array(np.array([value], dtype=object))
    assert str(engine.value) == f"cp: {reason}"
    assert np.isnan(cp_codes(np.array([value], dtype=object))).all()
    status = solve_implied_vol(8.0, np.array([value], dtype=object), 100.0, 100.0, 0.5).status
    assert status.tolist() == [BAD_CP] and STATUS[BAD_CP] == f"cp: {MESSAGE.removesuffix(', got ')}"
    for fn, args in ((ALVH_BSM, ("price", value, 100.0, 100.0, 0.5, 0.2)),
                     (ALVH_IV, (8.0, value, 100.0, 100.0, 0.5))):
        assert fn(*args) == f"#ALVH! cp: {reason}", (fn.__name__, fn(*args))


@needs_xlwings
def test_cp_through_office_js_reads_like_python():
    for value in ["call", "Put", -1.0, "X", "1"]:
        assert xl_call("ALVH_BSM", "price", value, 100.0, 100.0, 0.5, 0.2)[0][0] == \
            ALVH_BSM("price", value, 100.0, 100.0, 0.5, 0.2)


# ----------------------------------------------------------------------------- lists of numbers

TYPED = [[-2], [None], ["5"], [" 10 "]]             # a blank and two text numbers
READ = [-2.0, 5.0, 10.0]


def _first_column(cells):
    return [r[0] for r in cells[1:]]


def test_every_shift_list_reads_the_same_cells_the_same_way():
    assert parse_numbers(TYPED).tolist() == READ
    assert _first_column(ALVH_SHOCKPNL(POS, MKT, CURVE, TYPED)) == READ
    assert _first_column(ALVH_BREAKEVENS(POS, MKT, CURVE, None, TYPED)) == READ
    grid = ALVH_GRID(POS, MKT, CURVE, TYPED, TYPED)
    assert grid[0][1:] == READ and _first_column(grid) == READ
    val = value_book(*_parsed())
    assert shock_ladder(val, [-2, None, "5", " 10 "])["Shift"].tolist() == READ


def _parsed():
    from alvh_xl.book import parse_curve, parse_market, parse_positions

    return parse_positions(POS), parse_market(MKT), parse_curve(CURVE)


BAD_LISTS = [  # (cells, reason) — the reason is the cell reader's, named by the cell
    ([[1], ["2,5"]], ' (row 2 of its range): "2,5" looks like a decimal comma; type the number '
                     "(with a decimal point)"),
    ([[1, "1_0"]], ' (column 2 of its range): expected a number, got "1_0"'),
    ([[True]], ": expected a number, got TRUE"),
    ([[2], ["#DIV/0!"]], " (row 2 of its range): holds the Excel error #DIV/0!; fix the formula "
                         "or type a value"),
]


@pytest.mark.parametrize("cells, reason", BAD_LISTS)
def test_every_shift_list_rejects_the_same_cells_with_the_same_words(cells, reason):
    """Before, ALVH_SHOCKPNL read '1_0' as 10 (Python's float) and the engine read TRUE as 1."""
    assert ALVH_SHOCKPNL(POS, MKT, CURVE, cells) == f"#ALVH! shifts{reason}"
    assert ALVH_BREAKEVENS(POS, MKT, CURVE, None, cells) == f"#ALVH! vol_shifts{reason}"
    assert ALVH_GRID(POS, MKT, CURVE, cells) == f"#ALVH! spot_shifts_pct{reason}"
    assert ALVH_GRID(POS, MKT, CURVE, None, cells) == f"#ALVH! vol_shifts{reason}"
    assert ALVH_BUCKETS(POS, MKT, CURVE, cells) == f"#ALVH! edges{reason}"
    with pytest.raises(InputError) as exc:
        shock_ladder(value_book(*_parsed()), np.array(cells, dtype=object))
    assert str(exc.value) == f"shifts{reason}"


def test_blank_lists_take_the_default_everywhere():
    blank = [[None], [""]]
    assert ALVH_SHOCKPNL(POS, MKT, CURVE, blank) == ALVH_SHOCKPNL(POS, MKT, CURVE)
    assert ALVH_BUCKETS(POS, MKT, CURVE, blank) == ALVH_BUCKETS(POS, MKT, CURVE)
    assert ALVH_BREAKEVENS(POS, MKT, CURVE, None, blank) == ALVH_BREAKEVENS(POS, MKT, CURVE)


# ----------------------------------------------------------------------------- error values

CLOSES = [[18.0 + (i % 17) * 0.3] for i in range(80)]
SINGLE_CELL = {   # function → (leading arguments, its single-cell parameters)
    "ALVH_NETVEGA": ([POS, MKT, CURVE], ["layer", "weighted"]),
    "ALVH_BUCKETS": ([POS, MKT, CURVE], ["edges"]),
    "ALVH_STATUS": (["flag", POS, MKT, CURVE], ["what"]),
    "ALVH_CONDOR": ([POS, MKT, CURVE], ["strategy"]),
    "ALVH_BREAKEVENS": ([POS, MKT, CURVE], ["strategy", "vol_shifts"]),
    "ALVH_BSM": (["price", "C", 100.0, 100.0, 0.5, 0.2], ["greek", "cp", "rate", "div"]),
    "ALVH_AMERICAN": (["price", "P", 100.0, 100.0, 0.5, 0.2], ["greek", "cp", "rate", "div"]),
    "ALVH_BLACK76": (["price", "C", 100.0, 100.0, 0.5, 0.2], ["greek", "cp", "rate"]),
    "ALVH_IV": ([8.0, "C", 100.0, 100.0, 0.5], ["cp", "rate", "div", "model"]),
    "ALVH_SHOCKPNL": ([POS, MKT, CURVE], ["shifts", "mode", "by_layer", "weighting"]),
    "ALVH_GRID": ([POS, MKT, CURVE], ["spot_shifts_pct", "vol_shifts"]),
    "ALVH_MACD": ([CLOSES], ["fast", "slow", "signal"]),
    "ALVH_RSI": ([CLOSES], ["period"]),
    "ALVH_REGIME": ([CLOSES, CLOSES], ["k"]),
    "ALVH_FLAG": ([5.0, 12.0], ["warn"]),
}
CASES = [(fn, p, err) for fn, (_, params) in SINGLE_CELL.items() for p in params
         for err in ("#N/A", "#DIV/0!")]


def _args(fn: str, param: str, value) -> list:
    names = list(inspect.signature(FUNCTIONS[fn]).parameters)
    lead, _ = SINGLE_CELL[fn]
    args = [*lead, *[None] * (len(names) - len(lead))]
    args[names.index(param)] = value
    return args


@pytest.mark.parametrize("fn, param, err", CASES)
def test_an_excel_error_in_a_single_cell_argument_is_an_error(fn, param, err):
    """ALVH_NETVEGA(layer=#N/A) returned the whole book, ALVH_CONDOR(strategy=#N/A) looked
    for a strategy named '#N/A', mode=#N/A said 'expected abs or rel': now each names the
    argument and the error."""
    got = FUNCTIONS[fn](*_args(fn, param, err))
    want = f"#ALVH! {param}: holds the Excel error {err}"
    assert isinstance(got, str) and got.startswith(want), \
        f"{fn}({param}={err}): expected {want!r}…, calculated {got!r}"


@needs_xlwings
@pytest.mark.parametrize("fn, param", [("ALVH_NETVEGA", "layer"), ("ALVH_CONDOR", "strategy"),
                                        ("ALVH_SHOCKPNL", "mode"), ("ALVH_RSI", "period"),
                                        ("ALVH_IV", "model"), ("ALVH_BSM", "cp")])
def test_office_js_error_objects_in_single_cells_are_errors(fn, param):
    """Office.js sends an error cell as {"type": "Error", "basicValue": "#N/A"}."""
    error_object = {"type": "Error", "basicValue": "#N/A"}
    got = xl_call(fn, *_args(fn, param, error_object))
    assert got[0][0].startswith(f"#ALVH! {param}: holds the Excel error #N/A"), got


# ----------------------------------------------------------------------------- shift bounds

SCENARIO_HEADER = ["Name", "SpotPct", "VolPts", "DaysForward"]


@pytest.mark.parametrize("row, column, bound", [
    (["big vol", -2, 150, 1], "VolPts", "VolPts must lie within ±100 vol points, got 150"),
    (["melt-up", 1200, 5, 1], "SpotPct", "SpotPct must lie in (-100, 1000] percent, got 1200"),
    (["wipe-out", -100, 5, 1], "SpotPct", "SpotPct must lie in (-100, 1000] percent, got -100"),
])
def test_scenario_bounds_are_the_grids_and_name_their_row(row, column, bound):
    """Named scenarios take the spot and vol shifts ALVH_GRID / ALVH_SHOCKPNL take, and say
    which row is out of bounds (a +1200 % spot scenario was valued; VolPts 150 was an error
    without its row)."""
    table = [SCENARIO_HEADER, ["ok", 1, 2, 0], row]
    assert ALVH_SCENARIOPNL(POS, MKT, CURVE, table) == \
        f"#ALVH! row 3 ({column}): scenarios: {bound}"
    shift = row[2] if column == "VolPts" else row[1]
    grid = ALVH_GRID(POS, MKT, CURVE, None, [[shift]]) if column == "VolPts" else \
        ALVH_GRID(POS, MKT, CURVE, [[shift]])
    assert isinstance(grid, str) and grid.startswith("#ALVH!"), grid


# ----------------------------------------------------------------------------- A1 and names


def test_one_reader_of_cell_addresses():
    """book.xlsx reads every A1 address (the xlsx editor's own reader is gone)."""
    from alvh_xl.book.xlsx import a1, bounds, cell_ref, col_letter, col_number, range_ref
    from alvh_xl.errors import WorkbookError

    assert cell_ref("B7") == cell_ref("$B$7") == cell_ref(" b7 ") == (7, 2)
    assert cell_ref("XFD1048576") == (1048576, 16384)
    assert bounds("A1:N49") == bounds("N49:A1") == bounds("$A$1:$N$49") == (1, 1, 49, 14)
    assert bounds("C3") == (3, 3, 3, 3)
    assert (col_number("AA"), col_letter(27), a1(3, 28, absolute=True)) == (27, "AA", "$AB$3")
    assert range_ref(1, 1, 5, 14) == "A1:N5"
    for bad in ("7B", "B0", "A1:", "Sheet1!A1", ""):
        with pytest.raises(WorkbookError):
            bounds(bad) if ":" in bad else cell_ref(bad)


def test_one_resolver_of_table_references():
    """check's 'is this name a table?' is book.xlsx's structured-reference reading."""
    from alvh_xl.book.xlsx import TableInfo, resolve, table_of

    t = TableInfo("PositionsTable", "Positions", 1, 1, 14, 49, ("Layer",) * 14)
    tables = {"PositionsTable": t}
    for text in ("PositionsTable", "=positionstable[#All]", "PositionsTable[[#Headers],[#Data]]"):
        assert table_of(text, tables) is t, text
        assert resolve(text, tables)[0] == "Positions"
    for text in ("Positions!$A$1:$N$49", "OtherTable[#All]", "=SUM(A1:A3)"):
        assert table_of(text, tables) is None, text
