"""Refresh through xlwings' own script machinery, as xlwings Lite / Server run it.

``xlwings.server.custom_scripts_call`` calls ``refresh_script`` with an ``xw.Book`` built by
xlwings' remote engine from a JSON book payload (``xw.Book(json=...)``, what the Office.js
add-in sends). The payload here is made from the template file with openpyxl, the way the
xlwings client builds it: every sheet's values from A1 to its last used cell, blanks as "",
date- and time-formatted cells as ISO strings, named ranges with absolute addresses. The
script's effect is the list of actions xlwings would send back to Excel; the tests read
those actions as cell writes and check where they land and what they hold.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from xlcall import needs_xlwings

from alvh_xl.xl import layout as L
from alvh_xl.xl.pipeline import evaluate_output
from alvh_xl.xl.workbook import FileWorkbook, read_inputs

SAMPLE_LEGS = len(L.INPUT_BY_NAME["ALVH_POSITIONS"].sample)   # every sample row is a leg

pytestmark = needs_xlwings

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
WRITES = {"setValues", "rangeClearContents"}


@pytest.fixture
def template(tmp_path) -> Path:
    path = tmp_path / "book.xlsx"
    if TEMPLATE.exists():
        shutil.copy(TEMPLATE, path)
    else:
        from alvh_xl.tools.template import build_template

        build_template(path)
    return path


def client_value(v):
    """A cell as the xlwings Office.js client sends it."""
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(v, dt.date):
        return f"{v.isoformat()}T00:00:00.000Z"
    if isinstance(v, dt.time):          # a time cell is a day fraction from Excel's epoch
        return dt.datetime.combine(EXCEL_EPOCH, v).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return v


def payload(path: Path, **book_extra) -> dict:
    """The JSON book payload of ``path`` (keys as read by xlwings.pro._xlremote)."""
    import xlwings

    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in wb.worksheets:
        values = [[client_value(v) for v in row] for row in ws.iter_rows(
            min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column, values_only=True)]
        tables = [{"name": t.name, "range_address": t.ref,
                   "header_row_range_address": None, "data_body_range_address": t.ref,
                   "total_row_range_address": None, "show_headers": True,
                   "show_totals": False, "table_style": "TableStyleMedium2",
                   "show_autofilter": True} for t in ws.tables.values()]
        sheets.append({"name": ws.title, "values": values or [[]], "pictures": [],
                       "tables": tables, "shapes": [], "charts": [], "notes": []})
    names = []
    for name, defn in wb.defined_names.items():
        sheet, ref = excel_resolves(wb, defn.attr_text)
        r1, _, r2 = ref.replace("$", "").partition(":")
        address = "$" + re.sub(r"(\d)", r"$\1", r1, count=1) + (
            ":$" + re.sub(r"(\d)", r"$\1", r2, count=1) if r2 else "")
        names.append({"name": name, "sheet_index": wb.sheetnames.index(sheet),
                      "address": address, "scope_sheet_name": None,
                      "scope_sheet_index": None, "book_scope": True})
    return {"version": xlwings.__version__, "client": "Office.js",
            "book": {"name": path.name, "active_sheet_index": 1, "selection": "A1",
                     **book_extra},
            "sheets": sheets, "names": names}


def excel_resolves(wb, text: str) -> tuple[str, str]:
    """What Excel's client sends for a name: the address it refers to. A structured reference
    (``T[#All]``, ``T[Column]``) is the table's range or the column's data cells."""
    m = re.fullmatch(r"(\w+)\[(.+)\]", text)
    if m is None:
        (sheet, ref), = list(openpyxl.workbook.defined_name.DefinedName(
            "x", attr_text=text).destinations)
        return sheet, ref
    for ws in wb.worksheets:
        if m.group(1) in ws.tables:
            t = ws.tables[m.group(1)]
            first, last = t.ref.split(":")
            (r1, c1), (r2, _) = L.cell_ref(first), L.cell_ref(last)
            if m.group(2) in ("#All", "[#Headers],[#Data]"):
                return ws.title, t.ref
            j = [c.name for c in t.tableColumns].index(m.group(2))
            return ws.title, f"{L.a1(r1 + 1, c1 + j)}:{L.a1(r2, c1 + j)}"
    raise KeyError(text)


def run_script(book_json: dict) -> list[dict]:
    """refresh_script through xlwings' server machinery; the actions it sends to Excel."""
    import xlwings as xw
    from xlwings.server import custom_scripts_call

    import alvh_xl.xl.refresh as refresh

    book = xw.Book(json=book_json)
    returned = asyncio.run(custom_scripts_call(refresh, "refresh_script",
                                               typehint_to_value={xw.Book: book}))
    return returned.json()["actions"]


def rect(action: dict, sheet_names: list[str]) -> tuple[str, int, int, int, int]:
    """(sheet, first row, first col, last row, last col), 1-based, of a range action."""
    r, c = action["start_row"] + 1, action["start_column"] + 1
    return (sheet_names[action["sheet_position"]], r, c, r + action["row_count"] - 1,
            c + action["column_count"] - 1)


def output_areas() -> list[tuple[str, int, int, int, int]]:
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


def input_areas(book_json: dict) -> list[tuple[str, int, int, int, int]]:
    """Every named input range (tables and series) and the Signals dates column."""
    sheet_names = [s["name"] for s in book_json["sheets"]]
    areas = []
    for n in book_json["names"]:
        first, _, last = n["address"].replace("$", "").partition(":")
        (r1, c1), (r2, c2) = L.cell_ref(first), L.cell_ref(last or first)
        areas.append((sheet_names[n["sheet_index"]], r1, c1, r2, c2))
    return areas


def within(a, b) -> bool:
    return a[0] == b[0] and b[1] <= a[1] and a[3] <= b[3] and b[2] <= a[2] and a[4] <= b[4]


def overlaps(a, b) -> bool:
    return a[0] == b[0] and a[1] <= b[3] and b[1] <= a[3] and a[2] <= b[4] and b[2] <= a[4]


def sent(v):
    """A Python cell value as xlwings' remote engine sends it to Excel."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ") if v.time() != dt.time() else v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def same(got, want) -> bool:
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    return got == want


def writes_at(actions, sheet_names, sheet, anchor) -> list[dict]:
    r, c = L.cell_ref(anchor)
    return [a for a in actions if a["func"] == "setValues"
            and rect(a, sheet_names)[:3] == (sheet, r, c)]


def apply(book_json: dict, actions: list[dict]) -> None:
    """Excel applying the actions; what it would send next time (typed dates come back as
    date cells, i.e. ISO date-times)."""
    day = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
    for a in actions:
        values = book_json["sheets"][a["sheet_position"]]["values"]
        r0, c0 = a["start_row"], a["start_column"]
        rows, cols = a["row_count"], a["column_count"]
        while len(values) < r0 + rows:
            values.append([])
        for row in values:
            row.extend([""] * (c0 + cols - len(row)))
        for i in range(rows):
            for j in range(cols):
                v = a["values"][i][j] if a["func"] == "setValues" else ""
                if isinstance(v, str) and day.match(v):
                    v = dt.datetime.fromisoformat(v).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                values[r0 + i][c0 + j] = v


# ----------------------------------------------------------------------------------------


def test_custom_scripts_meta_lists_the_refresh_script():
    from xlwings.server import custom_scripts_meta

    import alvh_xl.xl.refresh as refresh

    meta = custom_scripts_meta(refresh)
    assert [m["function_name"] for m in meta] == ["refresh_script"]
    assert meta[0]["lazy"] is False              # values are sent with the book


def test_refresh_script_writes_only_output_ranges(template):
    book_json = payload(template)
    sheet_names = [s["name"] for s in book_json["sheets"]]
    actions = run_script(book_json)
    assert actions and {a["func"] for a in actions} == WRITES     # no alert, no new sheet
    outputs, inputs = output_areas(), input_areas(book_json)
    for a in actions:
        r = rect(a, sheet_names)
        assert r[0] in L.OUTPUT_SHEETS and r[0] not in L.INPUT_SHEETS, r
        assert any(within(r, area) for area in outputs), r
        assert not any(overlaps(r, area) for area in inputs), r
    touched = {rect(a, sheet_names)[0] for a in actions}
    assert touched == {L.DASHBOARD, L.LEGS, L.SCENARIOS, L.CONDOR, L.SIGNALS, L.HISTORY}


def test_refresh_script_writes_the_engines_values(template):
    book_json = payload(template)
    sheet_names = [s["name"] for s in book_json["sheets"]]
    actions = run_script(book_json)
    raw = read_inputs(FileWorkbook(template)).raw       # inputs read by openpyxl, not xlwings
    for out in L.OUTPUTS:
        expected = evaluate_output(out, raw)
        assert len(expected) <= out.max_rows
        (write,) = writes_at(actions, sheet_names, out.sheet, out.anchor)
        got = write["values"]
        assert (write["row_count"], write["column_count"]) == (
            len(expected), min(out.max_cols, max(map(len, expected))))
        for i, row in enumerate(expected):
            for j, want in enumerate(row[: out.max_cols]):
                assert same(got[i][j], sent(want)), (out.key, i, j, got[i][j], want)
        clears = [a for a in actions if a["func"] == "rangeClearContents"
                  and rect(a, sheet_names)[:3] == (out.sheet, *L.cell_ref(out.anchor))]
        assert [(a["row_count"], a["column_count"]) for a in clears] == [
            (out.max_rows, out.max_cols)]
        assert actions.index(clears[0]) < actions.index(write)
    (message,) = writes_at(actions, sheet_names, *L.MESSAGE_CELL)
    assert message["values"][0][0].startswith(f"BREACH: all {SAMPLE_LEGS} legs valued; net raw "
                                              "vega")
    (stamp,) = writes_at(actions, sheet_names, *L.LAST_REFRESH)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stamp["values"][0][0])
    (valued,) = writes_at(actions, sheet_names, *L.VALUATION_CELL)
    assert valued["values"] == [[L.VALUATION_DATE.isoformat()]]


def test_refresh_script_history_replaces_the_valuation_dates_rows(template):
    from alvh_xl.xl.history_block import history_rows

    book_json = payload(template)
    sheet_names = [s["name"] for s in book_json["sheets"]]
    actions = run_script(book_json)
    (write,) = writes_at(actions, sheet_names, *L.HISTORY_ANCHOR)
    from alvh_xl.risk.valuation import value_book

    inputs = read_inputs(FileWorkbook(template))
    expected = history_rows(inputs, value_book(inputs.positions, inputs.market, inputs.curve))
    assert len(write["values"]) == len(expected) == 6
    for got, want in zip(write["values"], expected, strict=True):
        assert all(same(g, sent(w)) for g, w in zip(got, want, strict=True)), (got, want)

    # Excel applies the actions (the History dates become date cells); a second refresh
    # reads History back through xlwings and keeps one row set for the date.
    apply(book_json, actions)
    again = run_script(book_json)
    (second,) = writes_at(again, sheet_names, *L.HISTORY_ANCHOR)
    assert len(second["values"]) == 6
    assert [r[0] for r in second["values"][1:]] == [L.VALUATION_DATE.isoformat()] * 5


def test_refresh_script_reports_a_broken_row_in_the_message_cell_and_an_alert(template):
    wb = openpyxl.load_workbook(template)
    strike = L.INPUT_BY_NAME["ALVH_POSITIONS"].headers.index("Strike") + 1
    wb[L.POSITIONS].cell(3, strike).value = "abc"
    wb.save(template)
    book_json = payload(template)
    sheet_names = [s["name"] for s in book_json["sheets"]]
    actions = run_script(book_json)
    (message,) = writes_at(actions, sheet_names, *L.MESSAGE_CELL)
    text = message["values"][0][0]
    assert text.startswith("INCOMPLETE: 1 input row left out")
    assert 'row 3 (Strike): expected a number, got "abc"' in text
    alerts = [a for a in actions if a["func"] == "alert"]
    assert [a["args"][1] for a in alerts] == ["ALVH Refresh"]
    assert alerts[0]["args"][0].startswith("Refreshed ") and text in alerts[0]["args"][0]
    legs = L.OUTPUT_BY_KEY["legs"]
    (write,) = writes_at(actions, sheet_names, legs.sheet, legs.anchor)
    status = write["values"][0].index("Status")
    assert [r[status] for r in write["values"][1:]].count("ok") == SAMPLE_LEGS - 1


def test_refresh_script_without_alvh_market_writes_only_the_message(template):
    wb = openpyxl.load_workbook(template)
    del wb.defined_names["ALVH_MARKET"]
    wb.save(template)
    actions = run_script(payload(template))
    assert [a["func"] for a in actions] == ["setValues", "alert"]
    text = actions[0]["values"][0][0]
    assert text.endswith("not an ALVH workbook: missing defined name ALVH_MARKET")
    r, c = L.cell_ref(L.MESSAGE_CELL[1])
    assert (actions[0]["start_row"] + 1, actions[0]["start_column"] + 1) == (r, c)
    assert actions[1]["args"][:2] == [text, "ALVH Refresh"]


def test_main_runs_the_same_refresh_inside_excel_state(template):
    """alvh_xl.main() on xlwings' remote engine via Book.set_mock_caller's hook: the
    calculation mode goes to manual and back around the writes, and the blocks are written.
    (This engine cannot read screen updating or the status bar, so excel_state leaves them;
    classic Excel's COM engine itself cannot run on Linux.)"""
    import xlwings as xw

    import alvh_xl

    book = xw.Book(json=payload(template, calculation="Automatic"))
    book.set_mock_caller()                          # xlwings' own hook for Book.caller()
    try:
        alvh_xl.main()
    finally:
        del xw.Book._mock_caller
    actions = book.impl.json()["actions"]
    settings = [(a["func"], a["args"]) for a in actions if a["func"] not in WRITES]
    assert settings == [("setCalculation", ["Manual"]), ("setCalculation", ["Automatic"])]
    funcs = [a["func"] for a in actions]
    assert funcs[0] == "setCalculation" and funcs[-1] == "setCalculation"
    assert set(funcs[1:-1]) == WRITES
    sheet_names = [s.name for s in book.sheets]
    (message,) = writes_at(actions, sheet_names, *L.MESSAGE_CELL)
    assert message["values"][0][0].startswith(f"BREACH: all {SAMPLE_LEGS} legs valued")


def test_refresh_script_starts_history_under_a_lone_header(template):
    """History holding only its header: read back as one row, six rows written."""
    wb = openpyxl.load_workbook(template)
    ws = wb[L.HISTORY]
    r0, c0 = L.cell_ref(L.HISTORY_ANCHOR[1])
    for row in ws.iter_rows(min_row=r0 + 1, min_col=c0, max_row=ws.max_row):
        for c in row:
            c.value = None
    wb.save(template)
    book_json = payload(template)
    sheet_names = [s["name"] for s in book_json["sheets"]]
    actions = run_script(book_json)
    (write,) = writes_at(actions, sheet_names, *L.HISTORY_ANCHOR)
    assert len(write["values"]) == 6
    clears = [rect(a, sheet_names) for a in actions if a["func"] == "rangeClearContents"
              and rect(a, sheet_names)[:3] == (L.HISTORY, r0, c0)]
    # The rows read (to the sheet's last used row, all blank under the header) are cleared.
    used = len(next(s for s in book_json["sheets"] if s["name"] == L.HISTORY)["values"])
    assert clears == [(L.HISTORY, r0, c0, max(r0, used), c0 + len(write["values"][0]) - 1)]


JAN_CHAIN = Path(__file__).parent / "data" / "cboe" / \
    "spx_quotedata_2025-01-06_jan2025_expiries_cboe.csv"


def test_refresh_script_marks_spot_and_grows_the_forwards_table(template):
    """ChainFile (an absolute path: xlwings' remote book has no folder) with MarkPrices FALSE:
    the actions set SpxSpot, resize ForwardsTable (more series than its rows) and fill it —
    no other input cell is written."""
    wb = openpyxl.load_workbook(template)
    market = wb[L.MARKET]
    row = {market.cell(r, 1).value: r for r in range(2, market.max_row + 1)}
    market.cell(row["ValuationDate"], 2).value = dt.datetime(2025, 1, 6)
    market.cell(row["ChainFile"], 2).value = str(JAN_CHAIN)
    wb.save(template)
    book_json = payload(template)
    sheet_names = [s["name"] for s in book_json["sheets"]]
    actions = run_script(book_json)
    resize = [a for a in actions if a["func"] == "resizeTable"]
    market_tables = book_json["sheets"][sheet_names.index(L.MARKET)]["tables"]
    table_index = [t["name"] for t in market_tables].index("ForwardsTable")  # on its sheet
    h1 = L.cell_ref(L.INPUT_BY_NAME["ALVH_FORWARDS"].anchor)
    body = [a for a in actions if a["func"] == "setValues"
            and rect(a, sheet_names)[:3] == (L.MARKET, h1[0] + 1, h1[1])]
    assert len(body) == 1
    forwards = body[0]["values"]
    expiries = [dt.date.fromisoformat(str(r[0])[:10]) for r in forwards if r[0] != ""]
    assert len(expiries) > L.INPUT_BY_NAME["ALVH_FORWARDS"].spare_rows     # it had to grow
    assert expiries == sorted(set(expiries)) and expiries[0] >= dt.date(2025, 1, 7)
    assert all(5900 < r[1] < 6200 and 0.99 < r[2] < 1 + 1e-9 for r in forwards if r[0] != "")
    assert len(resize) == 1 and resize[0]["args"][0] == table_index
    last = h1[0] + len(expiries)
    assert resize[0]["args"][1].replace("$", "") == f"H{h1[0]}:J{last}"
    spot = [a for a in actions if a["func"] == "setValues"
            and rect(a, sheet_names)[:3] == (L.MARKET, row["SpxSpot"], 2)]
    assert [a["values"] for a in spot] == [[[5975.3799]]]                  # the file's Last
    inputs = input_areas(book_json)
    for a in actions:
        if a["func"] == "resizeTable":
            continue
        r = rect(a, sheet_names)
        if any(overlaps(r, area) for area in inputs):
            assert a in spot or a in body or a["func"] == "rangeClearContents", r
    # the valuation used the marked spot (the remote engine only queues the writes)
    legs = writes_at(actions, sheet_names, L.LEGS, L.OUTPUT_BY_KEY["legs"].anchor)[0]["values"]
    col = legs[0].index("UnderlyingPrice")
    kinds = legs[0].index("Instrument")
    spx = [r[col] for r in legs[1:] if r[kinds] in ("SPX", "SPXW")]
    assert spx and all(v == 5975.3799 for v in spx)


def test_refresh_script_keeps_history_rows_below_a_blank_row(template):
    """The trader left a blank row inside the History block: 21 Nov's rows above it, 20 Nov's
    below. Refreshing 24 Nov must keep every dated row (none overwritten, none lost)."""
    wb = openpyxl.load_workbook(template)
    ws = wb[L.HISTORY]
    r0, c0 = L.cell_ref(L.HISTORY_ANCHOR[1])
    sample = [[ws.cell(r, c0 + j).value for j in range(15)] for r in range(r0 + 1, r0 + 6)]
    for first, day in ((r0 + 1, 21), (r0 + 7, 20)):
        for i, row in enumerate(sample):
            ws.cell(first + i, c0).value = dt.datetime(2026, 11, day)
            for j, v in enumerate(row[1:], start=1):
                ws.cell(first + i, c0 + j).value = v
    wb.save(template)
    book_json = payload(template)
    apply(book_json, run_script(book_json))
    rows = next(s for s in book_json["sheets"] if s["name"] == L.HISTORY)["values"]
    days = [str(r[c0 - 1])[:10] for r in rows[r0:] if r and str(r[c0 - 1]).strip()]
    for day in ("2026-11-20", "2026-11-21", L.VALUATION_DATE.isoformat()):
        assert days.count(day) == 5, f"{day}: expected 5 rows, History holds {days}"
