"""Trust at the surface (issue 9): every surface shows the whole book, or says INCOMPLETE.

* Legs typed inside the positions Table are all valued, whatever their number; legs typed past
  it (a table that did not grow) are never read silently: each such row is left out and named.
* For each kind of bad input, the terminal, the JSON, the report workbook, Refresh on the file
  and the live ALVH_STATUS function show the same headline, and it is INCOMPLETE whenever
  anything was left out.

References: the engine on the same rows parsed directly (``value_book``), and the counts of
rows written by the test itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from alvh_xl.book import parse_curve, parse_market, parse_positions
from alvh_xl.risk.valuation import value_book
from alvh_xl.xl import layout as L
from alvh_xl.xl.functions import FUNCTIONS
from alvh_xl.xl.pipeline import build_dashboard
from alvh_xl.xl.refresh import refresh_workbook
from alvh_xl.xl.workbook import FileWorkbook, read_inputs

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
POS = L.INPUT_BY_NAME["ALVH_POSITIONS"]
CAPACITY = len(POS.sample) + POS.spare_rows          # data rows of the template's table
COL = {h: L.col_letter(j + 1) for j, h in enumerate(POS.headers)}


def legs(n: int) -> list[list]:
    """n valid legs: SPX condors around the template's spot and VX futures on its curve."""
    from alvh_xl.tools.synthetic import make_book

    rows = [r for r in make_book(3 * n + 20, seed=3)[1:] if r[2] in ("SPX", "SPXW", "VX")]
    out = []
    for r in rows[:n]:
        r = list(r)
        if r[2] == "VX":                                # a future of the template's curve
            import datetime as dt

            r[5] = dt.datetime(2027, 1, 20)
        out.append(r)
    assert len(out) == n
    return out


def write_legs(path: Path, rows: list[list], *, grow: bool) -> None:
    """Type ``rows`` from the table's first data row; ``grow``: the Table is extended to hold
    them (what Excel does when rows are typed right under it), else it keeps its size."""
    wb = openpyxl.load_workbook(path)
    ws = wb[POS.sheet]
    for r in range(2, max(ws.max_row, len(rows) + 1) + 1):
        for c in range(1, len(POS.headers) + 1):
            ws.cell(r, c).value = None
    for i, row in enumerate(rows, start=2):
        for j, v in enumerate(row, start=1):
            ws.cell(i, j).value = v
    if grow:
        t = ws.tables[POS.excel_table]
        t.ref = f"A1:{COL['Beta']}{max(len(rows), CAPACITY) + 1}"
        t.autoFilter.ref = t.ref
    wb.save(path)


def engine_net(rows: list[list], path: Path) -> float:
    """Raw net vega of exactly these rows, valued without the workbook reader."""
    inputs = read_inputs(path)
    val = value_book(parse_positions([list(POS.headers), *rows]),
                     parse_market(inputs.raw["ALVH_MARKET"]),
                     parse_curve(inputs.raw["ALVH_CURVE"]))
    assert not [p for p in val.problems if p.left_out]
    return float(val.legs["VolExposure"].sum())


# 48–50: the old fixed range A1:N49 held 48 legs; CAPACITY ± 1: the template's table edge
@pytest.mark.parametrize("n", sorted({48, 49, 50, CAPACITY, CAPACITY + 1, CAPACITY + 2, 500,
                                      5000}))
@pytest.mark.parametrize("grow", [True, False], ids=["inside", "past"])
def test_legs_typed_inside_or_past_the_table(n, grow, tmp_path):
    path = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, path)
    rows = legs(n)
    write_legs(path, rows, grow=grow)
    dash = build_dashboard(read_inputs(path))
    head = dash.headline
    past = 0 if grow else max(n - CAPACITY, 0)
    if past == 0:
        assert not head.incomplete, head.message
        assert head.legs == n
        assert head.raw == pytest.approx(engine_net(rows, path), rel=1e-12, abs=1e-9)
    else:
        assert head.incomplete and head.left_out == past, head.message
        assert head.text == f"INCOMPLETE ({past} left out)"
        assert head.legs == CAPACITY                   # the rows inside the table were valued
        first = CAPACITY + 2                            # sheet row of the first row past it
        assert f"First: row {first}: Positions!A{first}:{COL['Beta']}{first} holds" in \
            head.message or f"Positions!A{first}:" in head.message, head.message
        layers = dash.blocks["layers"]
        portfolio = next(r for r in layers if r[0] == "PORTFOLIO")
        assert portfolio[-1] == "INCOMPLETE"
        assert str(dash.blocks["netvega_raw"][0][0]).startswith("#ALVH! INCOMPLETE")


# ----------------------------------------------------------------------------- surfaces


def _edit(sheet: str, cell: str, value):
    def apply(path: Path) -> None:
        wb = openpyxl.load_workbook(path)
        wb[sheet][cell] = value
        wb.save(path)
    return apply


KINDS = {
    "text in Qty": (_edit(L.POSITIONS, f"{COL['Qty']}3", "ten"), 1, "(Qty)"),
    "decimal comma in Strike": (_edit(L.POSITIONS, f"{COL['Strike']}2", "6150,5"), 1,
                                "decimal comma"),
    "Excel error in IV": (_edit(L.POSITIONS, f"{COL['IV']}4", "#N/A"), 1, "#N/A"),
    "leg typed past the table": (_edit(L.POSITIONS, f"A{CAPACITY + 3}", "Core"), 1,
                                 f"Positions!A{CAPACITY + 3}"),
    "curve point past the table": (_edit(L.MARKET, "E15", "2027-08-18"), 1, "curve table"),
    "text in a threshold": (_edit(L.THRESHOLDS, "B3", "twelve"), 0, "thresholds"),
    "hedge table without Instrument": (_edit(L.HEDGES, f"{COL['Instrument']}1", "Instrumnt"),
                                       0, "hedges"),
    "decimal comma in SpxSpot": (_edit(L.MARKET, "B4", "6712,4"), 0, "decimal comma"),
    # a bad row inside the hedges table is left out like a cell typed next to it
    "unknown instrument in a hedge row": (_edit(L.HEDGES, f"{COL['Instrument']}3", "XYZ"), 1,
                                          "candidates row 3 (Instrument)"),
    # a candidate that reads but cannot be valued (a VXM expiry the curve lacks) too
    "hedge row with a future not on the curve": (
        _edit(L.HEDGES, f"{COL['Expiry']}4", dt.datetime(2027, 2, 24)), 1,
        "candidates row 4 (Expiry)"),
}


def surfaces(path: Path, tmp: Path, capsys, monkeypatch) -> dict[str, tuple[str, str]]:
    """(headline text, message) as each surface shows it (the CLI run in this process)."""
    from alvh_xl import cli

    out = {}
    capsys.readouterr()
    assert cli.main(["report", str(path), "--json", "--no-charts", "--out",
                     str(tmp / "r")]) == 0
    data = json.loads(capsys.readouterr().out)
    out["json"] = (data["headline"]["text"], data["headline"]["message"])
    book = openpyxl.load_workbook(data["files"]["workbook"], data_only=True)
    dash = book[L.DASHBOARD]
    status, message = L.OUTPUT_BY_KEY["status"].anchor, L.OUTPUT_BY_KEY["message"].anchor
    out["report workbook"] = (dash[status].value, dash[message].value)
    monkeypatch.setenv("COLUMNS", "80")                 # the terminal at 80 columns
    assert cli.main(["report", str(path), "--no-charts", "--out", str(tmp / "t")]) == 0
    flat = re.sub(r"[│╭╮╰╯─]", " ", capsys.readouterr().out)
    flat = " ".join(flat.split())
    m = re.search(r"Portfolio (INCOMPLETE \(\d+ left out(?:, \d+ failed)?\)|INCOMPLETE \(\d+ "
                  r"failed\)|OK|WATCH|BREACH|no limit)", flat)
    out["terminal"] = (m.group(1) if m else flat[:300], flat)
    io = FileWorkbook(path)
    refresh_workbook(io)
    out["refresh"] = (io.book[L.DASHBOARD][status].value,
                      io.book[L.DASHBOARD][message].value)
    raw = read_inputs(path).raw
    args = [raw.get(n) for n in L.STATUS_ARGS]
    out["ALVH_STATUS"] = (FUNCTIONS["ALVH_STATUS"]("flag", *args),
                          FUNCTIONS["ALVH_STATUS"]("message", *args))
    return out


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_surface_shows_the_same_headline(kind, tmp_path, capsys, monkeypatch):
    edit, rows_out, phrase = KINDS[kind]
    path = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, path)
    edit(path)
    got = surfaces(path, tmp_path, capsys, monkeypatch)
    text, message = got["json"]
    assert text.startswith("INCOMPLETE"), (kind, text)
    if rows_out:
        assert text.startswith(f"INCOMPLETE ({rows_out} left out"), (kind, text)
    assert phrase in message, (kind, message)
    for surface, (t, m) in got.items():
        if surface == "ALVH_STATUS" and "past the table" in kind:
            # a live formula is handed the table's cells only; Refresh and the report also
            # look around the table (a cell typed past it cannot be passed to a function)
            continue
        assert t == text, (kind, surface, t, text)
        if surface == "terminal":
            assert message.split(" (+")[0][:60] in m, (kind, surface)
        else:
            assert m.startswith(message[:80]), (kind, surface, m, message)


def test_a_clean_book_is_not_incomplete_anywhere(tmp_path, capsys, monkeypatch):
    path = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, path)
    got = surfaces(path, tmp_path, capsys, monkeypatch)
    assert {t for t, _ in got.values()} == {"BREACH"}


def test_a_curve_future_expired_before_the_valuation_date_is_named_not_dropped(tmp_path):
    """A future left on the curve after it expired (or a curve of another day) is not used:
    the report, ALVH_LAYERS' notes and check say so, naming the cell."""
    from alvh_xl.tools.check import check_workbook
    from alvh_xl.xl.pipeline import to_json

    path = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, path)
    curve = L.INPUT_BY_NAME["ALVH_CURVE"]
    col, row = L.cell_ref(curve.anchor)[1], L.cell_ref(curve.anchor)[0] + 1
    cell = L.a1(row, col)                                   # the first curve expiry
    import datetime as dt
    _edit(L.MARKET, cell, dt.datetime(2026, 11, 18))(path)   # valuation date 2026-11-24
    dash = build_dashboard(read_inputs(path))
    notes = [n for n in to_json(dash)["notes"] if "2026-11-18" in n["reason"]]
    assert notes and notes[0]["row"] == row and notes[0]["table"] == "curve", notes
    assert "before the valuation date 2026-11-24" in notes[0]["reason"], notes
    found = [str(f) for f in check_workbook(path).findings]
    assert any(f.startswith(f"{L.MARKET}!{cell} (Expiry): note: ") and "2026-11-18" in f
               for f in found), found


def test_marking_a_curve_that_lists_the_candidates_future_clears_its_problem(tmp_path):
    """Refresh and the report mark first (reparse): a hedge candidate left out because its
    VXM expiry was not on the curve is valued once the marked curve lists that future, and
    a curve that loses it leaves the candidate out again."""
    from alvh_xl.xl.workbook import reparse

    path = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, path)
    _edit(L.HEDGES, f"{COL['Expiry']}4", dt.datetime(2027, 2, 24))(path)
    inputs = read_inputs(path)
    assert [(p.table, p.row, p.column) for p in inputs.left_out] == [("candidates", 4,
                                                                      "Expiry")]
    raw = dict(inputs.raw)
    curve = [list(r) for r in raw["ALVH_CURVE"]]
    blank = next(i for i, r in enumerate(curve) if i and all(v is None for v in r))
    curve[blank] = [dt.datetime(2027, 2, 24), 19.1]
    raw["ALVH_CURVE"] = curve
    marked = reparse(inputs, raw, {"ALVH_CURVE"})
    assert marked.left_out == [], marked.left_out
    assert not build_dashboard(marked).headline.incomplete
    again = reparse(marked, inputs.raw, {"ALVH_CURVE"})
    assert [(p.table, p.row) for p in again.left_out] == [("candidates", 4)]
