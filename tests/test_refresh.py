"""Refresh through the file-based seam on a copy of the template workbook (openpyxl), and
``excel_state`` with a stand-in app object (real Excel cannot run on Linux).

The engine's numbers are checked against the engine itself, through a second path: blocks
equal ``evaluate_output`` of the inputs read back from the file, and the layers / legs blocks
equal ``layers_table`` / ``BookValuation.legs`` computed without the Excel layer.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from alvh_xl.book import parse_positions
from alvh_xl.risk.aggregation import layers_table
from alvh_xl.risk.valuation import value_book
from alvh_xl.xl import layout as L
from alvh_xl.xl.pipeline import evaluate_output
from alvh_xl.xl.refresh import RefreshResult, excel_state, refresh_workbook
from alvh_xl.xl.workbook import FileWorkbook, read_inputs

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
NOW = dt.datetime(2026, 11, 24, 17, 30, 5)
DAY = L.VALUATION_DATE.isoformat()


@pytest.fixture
def book(tmp_path) -> Path:
    """A fresh copy of the template workbook (the committed file, else built)."""
    path = tmp_path / "book.xlsx"
    if TEMPLATE.exists():
        shutil.copy(TEMPLATE, path)
    else:
        from alvh_xl.tools.template import build_template

        build_template(path)
    return path


def refresh(src: Path, dst: Path | None = None, now: dt.datetime = NOW) -> RefreshResult:
    io = FileWorkbook(src)
    result = refresh_workbook(io, now=now)
    io.save(dst or src)
    return result


def edit(path: Path, sheet: str, cell: str, value) -> None:
    """What a user does: change one input cell."""
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)


def cells(path: Path, data_only: bool = True) -> dict[tuple[str, int, int], object]:
    """Every non-empty cell of the workbook: (sheet, row, column) → value."""
    wb = openpyxl.load_workbook(path, data_only=data_only)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    out[(ws.title, c.row, c.column)] = getattr(c.value, "text", c.value)
    return out


def block(path: Path, sheet: str, anchor: str, rows: int, cols: int) -> list[list]:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    r0, c0 = L.cell_ref(anchor)
    return [[ws.cell(r, c).value for c in range(c0, c0 + cols)] for r in range(r0, r0 + rows)]


def cell(path: Path, where: tuple[str, str]):
    return block(path, where[0], where[1], 1, 1)[0][0]


def same(written, expected) -> bool:
    if expected is None or expected == "":
        return written in (None, "")
    if isinstance(expected, bool) or isinstance(written, bool):
        return written == expected
    if isinstance(expected, (int, float)) and isinstance(written, (int, float)):
        if math.isnan(expected):
            return math.isnan(written)
        return math.isclose(written, expected, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, dt.date) and isinstance(written, dt.datetime):
        return written == dt.datetime.combine(expected, dt.time())
    return written == expected


def assert_block(path: Path, out: L.Output, expected: list[list]) -> None:
    """The block's area holds exactly ``expected`` (cut to the area), blanks elsewhere."""
    assert len(expected) <= out.max_rows, f"{out.key}: sample too long for the test"
    got = block(path, out.sheet, out.anchor, out.max_rows, out.max_cols)
    for i in range(out.max_rows):
        for j in range(out.max_cols):
            row = expected[i] if i < len(expected) else []
            want = row[j] if j < len(row) else None
            assert same(got[i][j], want), (out.key, i, j, got[i][j], want)


def allowed_areas() -> list[tuple[str, int, int, int, int]]:
    """(sheet, first row, first col, last row, last col) of everything Refresh may write."""
    areas = []
    for o in L.OUTPUTS:
        r, c = L.cell_ref(o.anchor)
        areas.append((o.sheet, r, c, r + o.max_rows - 1, c + o.max_cols - 1))
    for sheet, anchor in (L.MESSAGE_CELL, L.LAST_REFRESH, L.VALUATION_CELL,
                          L.HISTORY_TITLE_CELL):
        r, c = L.cell_ref(anchor)
        areas.append((sheet, r, c, r, c))
    r, c = L.cell_ref(L.HISTORY_ANCHOR[1])
    areas.append((L.HISTORY, r, c, 10**6, c + 40))
    return areas


def inside(key: tuple[str, int, int], areas) -> bool:
    s, r, c = key
    return any(s == a[0] and a[1] <= r <= a[3] and a[2] <= c <= a[4] for a in areas)


def history(path: Path, *, raw: bool = False) -> list[list]:
    """The History block; its Date cells (real date cells) as ISO text unless ``raw``."""
    ws = openpyxl.load_workbook(path, data_only=True)[L.HISTORY]
    r0, c0 = L.cell_ref(L.HISTORY_ANCHOR[1])
    rows = [list(r) for r in ws.iter_rows(min_row=r0, min_col=c0, values_only=True)]
    rows = [r for r in rows if any(v is not None for v in r)]
    if not raw:
        for r in rows[1:]:
            if isinstance(r[0], dt.datetime):
                r[0] = r[0].date().isoformat()
    return rows


# ---------------------------------------------------------------------------- outputs


def test_refresh_fills_every_output_block_with_the_engines_values(book, tmp_path):
    out_path = tmp_path / "out.xlsx"
    result = refresh(book, out_path)
    assert result.ok, result.message
    raw = read_inputs(out_path).raw          # the inputs as they are in the refreshed file
    for out in L.OUTPUTS:
        expected = evaluate_output(out, raw)
        assert_block(out_path, out, expected)
        assert result.outputs[out.key] == expected
    assert cell(out_path, L.MESSAGE_CELL) == result.dashboard.headline.message
    legs = len(L.INPUT_BY_NAME["ALVH_POSITIONS"].sample)
    assert cell(out_path, L.MESSAGE_CELL).startswith(f"BREACH: all {legs} legs valued; net raw "
                                                     "vega")
    assert result.message.startswith(f"Refreshed 2026-11-24 17:30. BREACH: all {legs} legs "
                                     "valued")
    assert cell(out_path, L.LAST_REFRESH) == NOW
    assert cell(out_path, L.VALUATION_CELL) == dt.datetime(2026, 11, 24)


def test_layers_and_legs_blocks_equal_the_engine_without_the_excel_layer(book, tmp_path):
    out_path = tmp_path / "out.xlsx"
    refresh(book, out_path)
    inputs = read_inputs(book)
    val = value_book(inputs.positions, inputs.market, inputs.curve)
    table = layers_table(val, inputs.thresholds)
    layers = L.OUTPUT_BY_KEY["layers"]
    got = block(out_path, layers.sheet, layers.anchor, len(table) + 1, len(table.columns))
    assert got[0] == list(table.columns)
    for i, row in enumerate(table.itertuples(index=False), 1):
        for j, want in enumerate(row):
            want = None if isinstance(want, float) and np.isnan(want) else want
            assert same(got[i][j], want), (table.columns[j], got[i][j], want)
    net = L.OUTPUT_BY_KEY["netvega_raw"]
    assert math.isclose(cell(out_path, (net.sheet, net.anchor)),
                        float(val.legs["VolExposure"].sum()), rel_tol=1e-12)
    legs = L.OUTPUT_BY_KEY["legs"]
    got = block(out_path, legs.sheet, legs.anchor, len(val.legs) + 1, legs.max_cols)
    header = got[0]
    for name in ("Row", "Qty", "Value", "Delta", "Gamma", "Vega", "Theta", "VolExposure",
                 "WeightedVolExposure"):
        j = header.index(name)
        col = [r[j] for r in got[1:]]
        np.testing.assert_allclose(col, val.legs[name].to_numpy(float), rtol=1e-12)


def test_refresh_never_changes_an_input_sheet_or_the_signal_series(book, tmp_path):
    out_path = tmp_path / "out.xlsx"
    before_formulas = cells(book, data_only=False)
    refresh(book, out_path)
    after_formulas = cells(out_path, data_only=False)
    for sheet in L.INPUT_SHEETS:
        b = {k: v for k, v in before_formulas.items() if k[0] == sheet}
        a = {k: v for k, v in after_formulas.items() if k[0] == sheet}
        assert b and a == b, sheet
    # the Signals sheet's input table: dates, VX front and VVIX closes with their headers
    signals = L.INPUT_BY_NAME["ALVH_SIGNALS"]
    r1, c1 = L.cell_ref(signals.anchor)
    series = [k for k in before_formulas if k[0] == L.SIGNALS and r1 <= k[1]
              and c1 <= k[2] < c1 + len(signals.headers)]
    assert len(series) == 3 * (L.SERIES_LENGTH + 1)
    assert all(after_formulas.get(k) == before_formulas[k] for k in series)
    # and nothing outside the output areas changed (cached values compared)
    before, after = cells(book), cells(out_path)
    areas = allowed_areas()
    # (openpyxl writes floats to 16 significant digits: an unchanged native SUM's cached
    # value may come back in its last digit)
    changed = {k for k in before.keys() | after.keys() if not same(after.get(k), before.get(k))}
    assert changed and all(inside(k, areas) for k in changed), sorted(
        k for k in changed if not inside(k, areas))[:5]
    wb0, wb1 = openpyxl.load_workbook(book), openpyxl.load_workbook(out_path)
    assert {n: str(d.attr_text) for n, d in wb1.defined_names.items()} == {
        n: str(d.attr_text) for n, d in wb0.defined_names.items()}


def test_a_changed_position_changes_the_outputs_by_its_exposure(book, tmp_path):
    refresh(book)
    legs = L.OUTPUT_BY_KEY["legs"]
    got = block(book, legs.sheet, legs.anchor, 10, legs.max_cols)
    header = got[0]
    vix_l2 = next(r for r in got[1:] if r[header.index("Layer")] == "VIX L2")
    row, qty = vix_l2[header.index("Row")], vix_l2[header.index("Qty")]
    exposure = vix_l2[header.index("VolExposure")]
    net = L.OUTPUT_BY_KEY["netvega_raw"]
    raw_before = cell(book, (net.sheet, net.anchor))
    assert qty == 1 and abs(exposure) > 1

    qty_col = L.col_letter(L.INPUT_BY_NAME["ALVH_POSITIONS"].headers.index("Qty") + 1)
    edit(book, L.POSITIONS, f"{qty_col}{row}", 3)
    result = refresh(book)
    assert result.ok, result.message
    raw_after = cell(book, (net.sheet, net.anchor))
    # position Greeks are linear in Qty: two more contracts add twice the leg's exposure
    assert math.isclose(raw_after - raw_before, 2 * exposure, rel_tol=1e-9)
    layers = block(book, L.DASHBOARD, L.OUTPUT_BY_KEY["layers"].anchor, 6, 2)
    assert dict(r for r in layers[1:])["VIX L2"] == pytest.approx(3 * exposure, rel=1e-9)


# ---------------------------------------------------------------------------- history


def test_history_keeps_one_row_set_per_valuation_date(book):
    refresh(book)
    first = history(book)
    header, rows = first[0], first[1:]
    assert header[:2] == ["Date", "Layer"]
    layers = ["Core", "VIX L1", "VIX L2", "Tail", "PORTFOLIO"]
    assert [r[0] for r in rows] == [DAY] * 5 and [r[1] for r in rows] == layers
    assert all(isinstance(r[0], dt.datetime) for r in history(book, raw=True)[1:])  # dates

    refresh(book, now=NOW + dt.timedelta(minutes=5))       # same date again: replaced
    assert history(book) == first

    market = L.INPUT_BY_NAME["ALVH_MARKET"]
    assert market.sample[0][0] == "ValuationDate"
    r, c = L.cell_ref(market.anchor)
    edit(book, L.MARKET, L.a1(r + 1, c + 1), dt.datetime(2026, 11, 25))  # the next date
    result = refresh(book, now=NOW + dt.timedelta(days=1))
    assert result.ok and result.history_rows == 5
    second = history(book)
    assert second[0] == header and len(second) == 11
    assert [r[0] for r in second[1:]] == [DAY] * 5 + ["2026-11-25"] * 5
    assert second[1:6] == rows                              # the first date's rows untouched
    assert [r[2:] for r in second[6:]] != [r[2:] for r in rows]           # re-valued
    assert cell(book, L.VALUATION_CELL) == dt.datetime(2026, 11, 25)

    refresh(book, now=NOW + dt.timedelta(days=1, minutes=1))
    assert history(book) == second


def test_the_templates_sample_history_rows_never_become_the_traders_history(book, tmp_path):
    """The template ships the rows Refresh would write for its sample book (titled 'Sample:
    …'). A trader's first Refresh of another date removes them (they describe the sample
    book, not theirs), says so, and retitles the block; the report copy does the same."""
    from alvh_xl.xl.history_block import HISTORY_TITLE, SAMPLE_TITLE

    assert cell(book, L.HISTORY_TITLE_CELL) == f"{SAMPLE_TITLE}{DAY}"
    assert {r[0] for r in history(book)[1:]} == {DAY}
    market = L.INPUT_BY_NAME["ALVH_MARKET"]
    r, c = L.cell_ref(market.anchor)
    edit(book, L.MARKET, L.a1(r + 1, c + 1), dt.datetime(2026, 12, 1))
    copy = tmp_path / "copy.xlsx"
    shutil.copy(book, copy)
    result = refresh(book, now=dt.datetime(2026, 12, 1, 17, 0))
    assert result.ok, result.message
    assert {r[0] for r in history(book)[1:]} == {"2026-12-01"}, history(book)
    assert cell(book, L.HISTORY_TITLE_CELL) == HISTORY_TITLE
    assert f"sample rows of {DAY} were removed" in result.message, result.message
    refresh(book, now=dt.datetime(2026, 12, 2, 17, 0))      # a real row set is kept as it is
    edit(book, L.MARKET, L.a1(r + 1, c + 1), dt.datetime(2026, 12, 2))
    refresh(book, now=dt.datetime(2026, 12, 2, 17, 1))
    assert [d for d in dict.fromkeys(r[0] for r in history(book)[1:])] == ["2026-12-01",
                                                                           "2026-12-02"]
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(copy), "--out",
                           str(tmp_path / "r"), "--no-charts", "--json"], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    out = tmp_path / "r" / "copy_report.xlsx"
    assert {r[0] for r in history(out)[1:]} == {"2026-12-01"}, history(out)
    assert cell(out, L.HISTORY_TITLE_CELL) == HISTORY_TITLE
    assert "sample rows of 2026-11-24 are not carried" in proc.stdout, proc.stdout[-600:]


def test_history_rows_of_an_older_layout_are_kept_under_their_column_names(book):
    wb = openpyxl.load_workbook(book)
    ws = wb[L.HISTORY]
    r0, c0 = L.cell_ref(L.HISTORY_ANCHOR[1])
    for r in range(r0, r0 + 10):
        for c in range(c0, c0 + 20):
            ws.cell(r, c).value = None
    old = [["Date", "Layer", "WeightedVega", "RawVega"], ["2026-11-20", "Core", -50.0, -60.0]]
    for i, row in enumerate(old):
        for j, v in enumerate(row):
            ws.cell(r0 + i, c0 + j).value = v
    wb.save(book)
    refresh(book)
    rows = history(book)
    header = rows[0]
    assert rows[1][header.index("Date")] == "2026-11-20"
    assert rows[1][header.index("RawVega")] == -60.0
    assert rows[1][header.index("WeightedVega")] == -50.0
    assert rows[1][header.index("Flag")] is None
    assert [r[0] for r in rows[2:]] == [DAY] * 5


def test_a_history_block_without_its_header_is_not_overwritten(book):
    edit(book, L.HISTORY, L.HISTORY_ANCHOR[1], "my notes")
    result = refresh(book)
    assert not result.ok and "History not updated" in result.message
    assert "History not updated" in cell(book, L.MESSAGE_CELL)
    assert cell(book, L.HISTORY_ANCHOR) == "my notes"
    assert result.outputs["layers"][0][0] == "Layer"          # the blocks are still written


def test_an_error_or_text_typed_in_a_history_cell_is_kept_and_named(book):
    """A trader types '#N/A' (an Excel error) and a remark into an older date's History row:
    Refresh keeps both where they were and names each cell in the message."""
    wb = openpyxl.load_workbook(book)
    ws = wb[L.HISTORY]
    r0, c0 = L.cell_ref(L.HISTORY_ANCHOR[1])
    header = [ws.cell(r0, c0 + j).value for j in range(15)]
    row = r0 + 1                                  # the sample's first row: becomes 2026-11-20
    ws.cell(row, c0).value = dt.datetime(2026, 11, 20)
    raw, weighted = c0 + header.index("RawVega"), c0 + header.index("WeightedVega")
    ws.cell(row, raw).value = "#N/A"
    ws.cell(row, raw).data_type = "e"
    ws.cell(row, weighted).value = "holiday, not marked"
    wb.save(book)
    result = refresh(book)
    kept = history(book)[1]
    assert kept[:2] == ["2026-11-20", "Core"], kept
    assert kept[raw - c0] == "#N/A" and kept[weighted - c0] == "holiday, not marked", kept
    for col in (raw, weighted):
        where = f"{L.HISTORY}!{L.a1(row, col)}"
        assert where in result.message, f"expected {where} named in: {result.message}"
        assert where in cell(book, L.MESSAGE_CELL)


def test_a_history_column_the_user_added_is_never_dropped(book):
    """A 'Comment' column typed inside the History block's width is not a History column:
    Refresh must not rewrite the block without it (its text would be lost); it says so."""
    wb = openpyxl.load_workbook(book)
    ws = wb[L.HISTORY]
    r0, c0 = L.cell_ref(L.HISTORY_ANCHOR[1])
    ws.cell(r0, c0 + 5).value = "Comment"          # replaces the Flag header
    ws.cell(r0 + 1, c0 + 5).value = "rolled the L2 call"
    for j in range(5):
        ws.cell(r0 + j + 1, c0).value = dt.datetime(2026, 11, 20)
    wb.save(book)
    result = refresh(book)
    assert not result.ok and "History not updated" in result.message, result.message
    assert "Comment" in result.message and f"{L.HISTORY}!{L.a1(r0, c0 + 5)}" in result.message
    assert history(book)[1][5] == "rolled the L2 call"


def input_cells(path: Path) -> dict:
    """Every non-empty cell of the input sheets (what the trader typed)."""
    return {k: v for k, v in cells(path).items() if k[0] in L.INPUT_SHEETS}


def test_a_market_input_error_keeps_every_input_and_says_incomplete(book):
    """A decimal comma in the curve stops the valuation: the message cell says INCOMPLETE
    (as it does for a left-out row), names the cell, and no input cell changes."""
    r, c = L.cell_ref(L.INPUT_BY_NAME["ALVH_CURVE"].anchor)
    edit(book, L.MARKET, L.a1(r + 2, c + 1), "19,25")
    before = input_cells(book)
    result = refresh(book)
    message = cell(book, L.MESSAGE_CELL)
    assert not result.ok and message.startswith("INCOMPLETE"), message
    status = L.OUTPUT_BY_KEY["status"]
    assert "decimal comma" in message
    assert str(cell(book, (status.sheet, status.anchor))).startswith("INCOMPLETE")
    assert input_cells(book) == before


def test_a_deleted_thresholds_sheet_says_incomplete_and_leaves_no_stale_flag(book):
    """Refreshed once (flag and numbers written), then the Thresholds sheet is deleted: the
    next Refresh cannot read the workbook; the message cell says INCOMPLETE and the headline
    cards no longer show the previous flag and net vega; no input cell changes."""
    refresh(book)
    status, net = L.OUTPUT_BY_KEY["status"], L.OUTPUT_BY_KEY["netvega_raw"]
    assert cell(book, (status.sheet, status.anchor)) == "BREACH"
    wb = openpyxl.load_workbook(book)
    del wb[L.THRESHOLDS]
    wb.save(book)
    before = input_cells(book)
    result = refresh(book, now=NOW + dt.timedelta(minutes=5))
    message = cell(book, L.MESSAGE_CELL)
    assert not result.ok and message.startswith("INCOMPLETE") and "Thresholds" in message, \
        message
    assert str(cell(book, (status.sheet, status.anchor))).startswith("INCOMPLETE")
    shown = cell(book, (net.sheet, net.anchor))
    assert not isinstance(shown, (int, float)), f"stale net vega {shown} left on the card"
    assert input_cells(book) == before


# ---------------------------------------------------------------------------- errors


def test_a_broken_positions_row_refreshes_the_good_rows_and_names_the_cell(book, tmp_path):
    strike_col = L.col_letter(L.INPUT_BY_NAME["ALVH_POSITIONS"].headers.index("Strike") + 1)
    edit(book, L.POSITIONS, f"{strike_col}3", "abc")
    out_path = tmp_path / "out.xlsx"
    result = refresh(book, out_path)
    assert not result.ok
    message = cell(out_path, L.MESSAGE_CELL)
    assert message == result.dashboard.headline.message
    assert message.startswith("INCOMPLETE: 1 input row left out")
    assert 'row 3 (Strike): expected a number, got "abc"' in message
    assert cell(out_path, (L.DASHBOARD, L.OUTPUT_BY_KEY["status"].anchor)) == \
        "INCOMPLETE (1 left out)"
    # the layers block is the engine's valuation of the other rows
    raw = read_inputs(book).raw["ALVH_POSITIONS"]
    good = [raw[0], *(r for i, r in enumerate(raw[1:], 2) if i != 3)]
    inputs = read_inputs(book)
    val = value_book(parse_positions(good), inputs.market, inputs.curve)
    table = layers_table(val, inputs.thresholds)
    got = block(out_path, L.DASHBOARD, L.OUTPUT_BY_KEY["layers"].anchor, len(table) + 1, 2)
    assert [r[0] for r in got[1:]] == list(table["Layer"])
    np.testing.assert_allclose([r[1] for r in got[1:]], table["RawVega"], rtol=1e-12)
    sample = L.INPUT_BY_NAME["ALVH_POSITIONS"].sample
    assert len(val.legs) == len(sample) - 1          # every sample leg but the broken one
    # history is written from the same legs
    rows = history(out_path)
    portfolio = next(r for r in rows[1:] if r[1] == "PORTFOLIO")
    assert portfolio[2] == pytest.approx(float(table["RawVega"].iloc[-1]), rel=1e-12)


def test_a_workbook_without_alvh_market_gets_a_readable_message(book, tmp_path):
    wb = openpyxl.load_workbook(book)
    del wb.defined_names["ALVH_MARKET"]
    wb.save(book)
    before = cells(book)
    out_path = tmp_path / "out.xlsx"
    result = refresh(book, out_path)           # no exception
    assert not result.ok and result.inputs is None
    assert result.message == ("Refresh failed at 2026-11-24 17:30: not an ALVH workbook: "
                              "missing defined name ALVH_MARKET")
    assert cell(out_path, L.MESSAGE_CELL) == result.message
    after = cells(out_path)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    r, c = L.cell_ref(L.MESSAGE_CELL[1])
    assert changed == {(L.MESSAGE_CELL[0], r, c)}       # outputs and "Last refresh" kept


def test_a_missing_optional_table_shows_in_its_block_and_the_rest_refreshes(book, tmp_path):
    wb = openpyxl.load_workbook(book)
    del wb.defined_names["ALVH_HEDGES"]
    wb.save(book)
    out_path = tmp_path / "out.xlsx"
    result = refresh(book, out_path)
    hedges = L.OUTPUT_BY_KEY["hedges"]
    assert result.errors == {}
    assert cell(out_path, (hedges.sheet, hedges.anchor)) == (
        "Skipped: ALVH_HEDGES not in the workbook")
    assert result.ok and "skipped: ALVH_HEDGES not in the workbook" in result.message
    raw = read_inputs(out_path).raw
    layers = L.OUTPUT_BY_KEY["layers"]
    assert_block(out_path, layers, evaluate_output(layers, raw))
    assert len(history(out_path)) == 6


# ---------------------------------------------------------------------------- Excel state


class FakeApp:
    """The three xlwings App properties excel_state touches; records every assignment."""

    def __init__(self, fail_on: tuple[str, object] | None = None):
        self.log: list[tuple[str, object]] = []
        self.fail_on = fail_on
        object.__setattr__(self, "_values", {"screen_updating": True,
                                             "calculation": "automatic",
                                             "status_bar": False})

    def __getattr__(self, name):
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name in ("screen_updating", "calculation", "status_bar"):
            self.log.append((name, value))
            if self.fail_on == (name, value):
                raise RuntimeError(f"cannot set {name}")
            self._values[name] = value
        else:
            object.__setattr__(self, name, value)


class FakeBook:
    def __init__(self, app: FakeApp):
        self.app = app


def state(app: FakeApp) -> tuple:
    return app.screen_updating, app.calculation, app.status_bar


def test_excel_state_sets_and_restores_the_app():
    app = FakeApp()
    seen = []
    with excel_state(FakeBook(app)) as status:
        seen.append(state(app))
        status("ALVH: computing")
        seen.append(app.status_bar)
    assert seen == [(False, "manual", False), "ALVH: computing"]
    assert state(app) == (True, "automatic", False)


def test_excel_state_restores_even_when_the_refresh_raises():
    app = FakeApp()
    with pytest.raises(ZeroDivisionError), excel_state(FakeBook(app)) as status:
        status("ALVH: reading inputs…")
        raise ZeroDivisionError("a bug in the refresh")
    assert state(app) == (True, "automatic", False)
    assert app.log[-3:] == [("calculation", "automatic"), ("screen_updating", True),
                            ("status_bar", False)]


def test_one_failing_restore_does_not_stop_the_others():
    app = FakeApp(fail_on=("calculation", "automatic"))
    with pytest.raises(RuntimeError, match="cannot set calculation"), \
            excel_state(FakeBook(app)) as status:
        status("ALVH: computing")
    assert app.screen_updating is True and app.status_bar is False
    # the body's own exception wins over a failing restore
    app = FakeApp(fail_on=("calculation", "automatic"))
    with pytest.raises(KeyError), excel_state(FakeBook(app)):
        raise KeyError("body")
    assert app.screen_updating is True and app.status_bar is False


def test_excel_state_refreshes_without_settings_the_app_cannot_change():
    app = FakeApp(fail_on=("calculation", "manual"))
    with excel_state(FakeBook(app)) as status:
        assert app.screen_updating is False
        status("still shown")
    assert state(app) == (True, "automatic", False)


class FormulaWorkbook:
    """The file seam plus formulas read from the same file (what classic Excel's COM seam
    reports through Range.formula), to check that live ALVH_* blocks are left alone."""

    def __init__(self, path):
        from alvh_xl.xl.workbook import FileWorkbook

        self.files = FileWorkbook(path)
        self.formulas = openpyxl.load_workbook(path)          # data_only=False: formulas
        self.written: list[tuple[str, str]] = []

    def __getattr__(self, name):
        return getattr(self.files, name)

    def formula_at(self, sheet, anchor):
        value = self.formulas[sheet][anchor].value
        text = getattr(value, "text", value)                   # ArrayFormula → its text
        return text if isinstance(text, str) and text.startswith("=") else None

    def write(self, sheet, anchor, values, clear=(0, 0)):
        self.written.append((sheet, anchor))
        self.files.write(sheet, anchor, values, clear)


def test_live_formula_blocks_are_not_overwritten(tmp_path):
    from alvh_xl.xl.layout import OUTPUTS
    from alvh_xl.xl.refresh import refresh_workbook

    path = tmp_path / "live.xlsx"
    shutil.copy(TEMPLATE, path)
    io = FormulaWorkbook(path)
    result = refresh_workbook(io)
    assert result.ok, result.message
    assert sorted(result.live) == sorted(o.key for o in OUTPUTS)   # every block is live
    blocks = {(o.sheet, o.anchor) for o in OUTPUTS}
    assert not blocks & set(io.written), "a live formula block was overwritten"
    assert result.history_rows > 0


def test_values_only_copy_recomputes_the_native_cross_checks(tmp_path):
    """In the report's values-only copy the native formula cells are recomputed values, so a
    changed position moves them too (a stale cached value would not)."""
    from alvh_xl.xl.layout import NATIVES
    from alvh_xl.xl.refresh import refresh_workbook
    from alvh_xl.xl.workbook import FileWorkbook

    path = tmp_path / "v.xlsx"
    shutil.copy(TEMPLATE, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Positions"]
    ws["G9"] = 30                      # the VXX tail leg: 10 → 30 shares
    wb.save(path)
    io = FileWorkbook(path)
    result = refresh_workbook(io)
    io.save(path)
    got = {n.key: openpyxl.load_workbook(path, data_only=True)[n.sheet][n.anchor].value
           for n in NATIVES}
    net = result.outputs["netvega_raw"][0][0]
    weighted = result.outputs["netvega_weighted"][0][0]
    assert got["legs_sum_VolExposure"] == pytest.approx(net, rel=1e-12)
    assert got["legs_sum_WeightedVolExposure"] == pytest.approx(weighted, rel=1e-12)
    # the headline cards follow the changed book: headroom = tolerance − |net − target|
    tol = result.outputs["tolerance"][0][0]
    assert result.outputs["headroom"][0][0] == pytest.approx(tol - abs(net), rel=1e-12)
