"""Text stays text (issue 13): strings a user typed that look like formulas (``=cmd|…``,
``=HYPERLINK(…)``, ``+…``, ``-…``, ``@…``) or like rich markup go through every writer of the
project and come out as the same text — never as a formula, never as markup.

Writers: the report workbook (XlsxWriter), Refresh on a file (openpyxl), Refresh through
xlwings' remote engine (the cell values it sends to Excel), the history CSV (snapshot), the
import-positions CSV, and the terminal dashboard.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from alvh_xl.xl import layout as L

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://attacker.example","x")', "+1+cmd|x",
           "-2+3+cmd|' /C notepad'!A0", "@SUM(1+1)*cmd|x", "\t=1+1", "[/bold]", "[red]x[/]"]
COLS = {h: j + 1 for j, h in enumerate(L.INPUT_BY_NAME["ALVH_POSITIONS"].headers)}


LAYERS = [*HOSTILE[:3], "[/bold]"]              # layer names of the four hedge legs


@pytest.fixture
def hostile_book(tmp_path) -> Path:
    """The template with hostile text as layer and strategy names, a threshold row, a hedge's
    layer and a scenario name (all typed as text)."""
    path = tmp_path / "hostile.xlsx"
    shutil.copy(TEMPLATE, path)
    wb = openpyxl.load_workbook(path)
    ws = wb[L.POSITIONS]
    cells = [(ws.cell(6 + i, COLS["Layer"]), text) for i, text in enumerate(LAYERS)]
    cells += [(ws.cell(6, COLS["Strategy"]), HOSTILE[3]), (ws.cell(7, COLS["Strategy"]),
                                                           "[red]x[/]"),
              (wb[L.THRESHOLDS]["A3"], HOSTILE[0]), (wb[L.SCENARIOS]["A2"], HOSTILE[4]),
              (wb[L.HEDGES].cell(2, COLS["Layer"]), HOSTILE[5])]
    for cell, text in cells:
        cell.value = text
        cell.data_type = "s"                       # typed as text (openpyxl: not a formula)
    wb.save(path)
    return path


def formulas_in(path: Path) -> dict[str, list[str]]:
    """Sheet part → the formula texts it stores."""
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
                xml = z.read(name).decode()
                out[name] = re.findall(r"<f[^>]*>([^<]*)</f>", xml)
    return out


def texts_in(path: Path) -> set[str]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str)}


def test_the_report_workbook_writes_hostile_text_as_text(hostile_book, tmp_path):
    from alvh_xl import cli

    assert cli.main(["report", str(hostile_book), "--out", str(tmp_path / "r"),
                     "--no-charts", "--json"]) == 0
    out = tmp_path / "r" / "hostile_report.xlsx"
    assert not any(formulas_in(out).values()), "a values-only report holds no formula at all"
    seen = texts_in(out)
    for text in [*LAYERS, *HOSTILE[3:6]]:
        assert text in seen, text                   # shown as the text the user typed


def test_refresh_on_a_file_writes_hostile_text_as_text(hostile_book):
    from alvh_xl.xl.refresh import refresh_workbook
    from alvh_xl.xl.workbook import FileWorkbook

    io_ = FileWorkbook(hostile_book)
    refresh_workbook(io_)
    io_.save(hostile_book)
    layout_formulas = {o.formula.lstrip("=") for o in L.OUTPUTS} | {
        n.formula.lstrip("=") for n in L.NATIVES}
    for part, found in formulas_in(hostile_book).items():
        foreign = [f for f in found if f.replace("&quot;", '"') not in layout_formulas
                   and not f.startswith("SUM(")]
        assert not foreign, (part, foreign)
    assert set(LAYERS) | {HOSTILE[4]} <= texts_in(hostile_book)


def test_refresh_through_xlwings_sends_text_with_excels_apostrophe(hostile_book):
    from alvh_xl.xl.refresh import as_text_cell

    for text in HOSTILE[:6]:
        assert as_text_cell(text) == "'" + text     # Excel stores it as text, shows the text
    assert as_text_cell("VIX L1") == "VIX L1" and as_text_cell(3.5) == 3.5
    pytest.importorskip("xlwings")
    from xlcall import HAVE_XLWINGS_KEY

    if not HAVE_XLWINGS_KEY:
        pytest.skip("xlwings' remote engine needs XLWINGS_LICENSE_KEY")
    from test_refresh_xlwings import payload, run_script

    actions = run_script(payload(hostile_book))
    sent = [v for a in actions if a["func"] == "setValues" for row in a["values"] for v in row
            if isinstance(v, str)]
    for text in HOSTILE[:3]:
        assert "'" + text in sent, text
        assert text not in sent, f"{text!r} sent bare: Excel would run it as a formula"


def test_history_csv_escapes_and_reads_back(hostile_book, tmp_path):
    from alvh_xl import cli
    from alvh_xl.risk.history import read_history

    history = tmp_path / "h.csv"
    assert cli.main(["snapshot", str(hostile_book), "--history", str(history)]) == 0
    raw = history.read_text()
    for row in csv.reader(io.StringIO(raw)):
        for cell in row:
            assert cell[:1] not in ("=", "+", "@", "\t", "\r") or cell[:1] == "'", cell
    back = read_history(history)
    assert set(LAYERS) <= set(back["Layer"].dropna())


def test_terminal_shows_markup_literally(hostile_book, tmp_path, capsys):
    from alvh_xl import cli

    assert cli.main(["report", str(hostile_book), "--out", str(tmp_path / "t"),
                     "--no-charts"]) == 0
    out = capsys.readouterr().out
    assert "[/bold]" in out and "[red]x[/]" in out        # printed, not interpreted
