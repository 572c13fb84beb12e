"""`alvh-xl report`: the dashboard without Excel, run as a real subprocess on real workbooks."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from alvh_xl.commands.report import bundled_template
from alvh_xl.tools.synthetic import big_book, write_positions
from alvh_xl.xl.layout import HISTORY_ANCHOR, INPUT_BY_NAME, OUTPUT_BY_KEY, cell_ref

JSON_KEYS = {"valuation_date", "net_vega", "layers", "portfolio", "buckets", "shocks", "condors",
             "hedges", "signals", "rows_left_out"}


def run_report(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def template_copy(tmp_path_factory) -> Path:
    src = bundled_template()
    assert src.exists(), src
    dst = tmp_path_factory.mktemp("tpl") / "desk.xlsx"
    shutil.copy(src, dst)
    return dst


@pytest.fixture(scope="module")
def report_json(template_copy: Path) -> tuple[dict, Path, str]:
    before = sha(template_copy)
    out = template_copy.parent / "out"
    proc = run_report(str(template_copy), "--out", str(out), "--json", cwd=template_copy.parent)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), out, before


def test_json_has_the_documented_keys(report_json):
    data, _, _ = report_json
    assert JSON_KEYS <= set(data)
    assert set(data["net_vega"]) == {"raw", "weighted"}
    assert {"layer", "raw_vega", "weighted_vega", "volvol_vega", "limit", "utilization",
            "flag"} <= set(data["layers"][0])
    assert {"net", "target", "tolerance", "flag"} <= set(data["portfolio"])
    assert [s["shift"] for s in data["shocks"]] == [-10, -5, -2, 0, 2, 5, 10]
    assert {"shift", "full_pnl", "linear_pnl"} <= set(data["shocks"][0])
    flags = {row["flag"] for row in data["layers"]}
    assert {"WATCH", "BREACH"} <= flags, "the sample book must show a WATCH and a BREACH"


def test_json_equals_the_engine_and_the_excel_functions(report_json, template_copy):
    from alvh_xl.risk.aggregation import LAYER_COLUMNS
    from alvh_xl.xl.functions import FUNCTIONS as F
    from alvh_xl.xl.workbook import read_inputs

    data, _, _ = report_json
    inputs = read_inputs(template_copy)
    raw = inputs.raw
    args = (raw["ALVH_POSITIONS"], raw["ALVH_MARKET"], raw["ALVH_CURVE"])
    assert data["net_vega"]["raw"] == pytest.approx(F["ALVH_NETVEGA"](*args), abs=1e-9)
    assert data["net_vega"]["weighted"] == pytest.approx(
        F["ALVH_NETVEGA"](*args, "", True), abs=1e-9)
    layers = F["ALVH_LAYERS"](*args, raw["ALVH_THRESHOLDS"])
    by_name = {row[0]: row for row in layers[1:]}
    flag = LAYER_COLUMNS.index("Flag")
    for row in data["layers"]:
        assert row["raw_vega"] == pytest.approx(by_name[row["layer"]][1], abs=1e-9)
        assert (row["flag"] or "") == by_name[row["layer"]][flag]
    assert data["blocks"]["layers"] == [[v for v in r] for r in layers]
    ladder = F["ALVH_SHOCKPNL"](*args)
    for got, want in zip(data["shocks"], ladder[1:], strict=True):
        assert got["full_pnl"] == pytest.approx(want[1], abs=1e-9)


def test_input_untouched_and_outputs_written(report_json, template_copy):
    data, out, before = report_json
    assert sha(template_copy) == before, "the report must never write its input workbook"
    book_path = out / f"{template_copy.stem}_report.xlsx"
    wb = openpyxl.load_workbook(book_path, data_only=True)
    layers = OUTPUT_BY_KEY["layers"]
    r, c = cell_ref(layers.anchor)
    ws = wb[layers.sheet]
    assert ws.cell(r, c).value == "Layer"
    names = [ws.cell(r + i, c).value for i in range(1, len(data["layers"]) + 2)]
    assert names[-1] == "PORTFOLIO"
    hist = wb[HISTORY_ANCHOR[0]]
    hr, hc = cell_ref(HISTORY_ANCHOR[1])
    dates = {str(hist.cell(i, hc).value)[:10] for i in range(hr + 1, hist.max_row + 1)
             if hist.cell(i, hc).value}
    assert data["valuation_date"] in dates


def test_png_charts_are_images_of_sensible_size(report_json):
    _, out, _ = report_json
    pngs = sorted(out.glob("*.png"))
    assert {p.stem for p in pngs} >= {"vega_by_bucket", "shock_ladder", "condor_pnl", "signals"}
    for p in pngs:
        w, h = png_size(p)
        assert 400 <= w <= 4000 and 300 <= h <= 3000, (p.name, w, h)
        assert p.stat().st_size > 10_000


def test_terminal_dashboard_and_default_out(tmp_path, template_copy):
    proc = run_report(str(template_copy), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for text in ("ALVH dashboard", "Layers", "BREACH", "WATCH", "Vol-shock ladder",
                 "Iron condors", "Hedge sizing", "Regime"):
        assert text in proc.stdout, text
    assert (tmp_path / "alvh-report" / "desk_report.xlsx").exists()


def test_not_an_alvh_workbook_fails_in_one_line(tmp_path):
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "hello"
    wb.save(other)
    proc = run_report(str(other), cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "not an ALVH workbook" in proc.stderr
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a zip")
    proc = run_report(str(junk), cwd=tmp_path)
    assert proc.returncode != 0 and "not a readable" in proc.stderr
    proc = run_report(str(tmp_path / "missing.xlsx"), cwd=tmp_path)
    assert proc.returncode != 0 and "no such file" in proc.stderr


@pytest.mark.parametrize("sheet", ["Signals", "Scenarios", "Hedges", "Condor", "Thresholds"])
def test_a_deleted_sheet(tmp_path, template_copy, sheet):
    """An optional input sheet deleted: its part is skipped with a note naming it and the
    rest reports (the Condor sheet, outputs only, comes back filled in the copy). A required
    one (Thresholds): one sentence naming the sheet and how to restore it, not a bare 'names
    no table'."""
    wb = openpyxl.load_workbook(template_copy)
    del wb[sheet]
    path = tmp_path / "cut.xlsx"
    wb.save(path)
    proc = run_report(str(path), "--json", "--no-charts", "--out", str(tmp_path / "o"),
                      cwd=tmp_path)
    if sheet == "Thresholds":
        assert proc.returncode == 1 and proc.stdout == "", (proc.stdout, proc.stderr)
        assert proc.stderr.strip().count("\n") == 0, proc.stderr
        assert "ALVH_THRESHOLDS (the Thresholds sheet's ThresholdsTable)" in proc.stderr
        assert "restore the Thresholds sheet from `alvh-xl template`" in proc.stderr
        return
    assert proc.returncode in (0, 1), proc.stderr
    if sheet == "Condor":                 # outputs only: the copy gets the sheet back, filled
        copy = openpyxl.load_workbook(tmp_path / "o" / "cut_report.xlsx", read_only=True)
        cells = [v for row in copy["Condor"].iter_rows(values_only=True) for v in row]
        copy.close()
        assert "IC-Jan" in cells and "IC-XSP" in cells, cells[:50]
        return
    notes = json.dumps(json.loads(proc.stdout))
    assert sheet in notes and "skipped" in notes, notes[:2000]


def test_bad_rows_are_listed_not_fatal(tmp_path, template_copy):
    path = tmp_path / "bad.xlsx"
    shutil.copy(template_copy, path)
    rows = big_book(8)
    rows[2][4] = "abc"
    write_positions(path, rows)
    proc = run_report(str(path), "--json", "--no-charts", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    left = json.loads(proc.stdout)["rows_left_out"]
    start = cell_ref(INPUT_BY_NAME["ALVH_POSITIONS"].anchor)[0]
    assert left == [{"row": start + 3, "column": "Strike",
                     "reason": 'expected a number, got "abc"', "table": "positions"}]


@pytest.mark.slow
def test_ten_thousand_legs(tmp_path, template_copy):
    path = tmp_path / "big.xlsx"
    shutil.copy(template_copy, path)
    write_positions(path, big_book(10_000))
    proc = run_report(str(path), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert JSON_KEYS <= set(data) and data["rows_left_out"] == []
    assert {row["layer"] for row in data["layers"]} == {"Core", "VIX L1", "VIX L2", "VIX L3"}


def test_bundled_template_is_rebuilt_where_the_link_is_not_a_workbook(tmp_path, monkeypatch):
    """On a checkout without symlinks alvh_xl/data/alvh_template.xlsx is a text file; the
    report then builds the template itself (same content as the committed one)."""
    import tempfile

    from alvh_xl.commands import report

    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (
        b"../../workbooks/alvh_template.xlsx" if self.name == "alvh_template.xlsx"
        and tmp_path not in self.parents else real(self)))
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    built = report.bundled_template()
    assert tmp_path in built.parents and real(built)[:2] == b"PK"
    a = openpyxl.load_workbook(built)["Positions"]
    b = openpyxl.load_workbook(Path(__file__).resolve().parents[1] / "workbooks"
                               / "alvh_template.xlsx")["Positions"]
    assert [[c.value for c in r] for r in a.iter_rows()] == \
           [[c.value for c in r] for r in b.iter_rows()]


@pytest.mark.slow
def test_big_workbook_shows_a_progress_bar(tmp_path, template_copy):
    """rich draws its bar only on a terminal; TTY_COMPATIBLE=1 makes it draw into the pipe."""
    import os

    path = tmp_path / "big.xlsx"
    shutil.copy(template_copy, path)
    write_positions(path, big_book(3_000))
    env = {**os.environ, "TTY_COMPATIBLE": "1"}
    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(path),
                           "--no-charts"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    for step in ("reading the workbook", "valuing the book", "filling the workbook"):
        assert step in proc.stdout
    small = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(template_copy),
                            "--no-charts", "--out", str(tmp_path / "s")], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300, env=env)
    assert "valuing the book" not in small.stdout        # the template is quick: no bar


def test_wide_characters_in_a_layer_name_keep_every_number_whole_at_80_columns():
    """A CJK layer name takes two terminal columns per character: the split must measure
    display width, not len(), or the last columns are cut ('Limi', '30.')."""
    import io

    import pandas as pd
    from rich.console import Console

    from alvh_xl.terminal import split_tables

    name = "波动率对冲层一号超长名称ABCDEFGHIJ"
    df = pd.DataFrame({"Layer": ["Core", name, "PORTFOLIO"],
                       "RawVega": [-81.84, 44.78, 9.76], "WeightedVega": [-66.8, 34.1, -5.4],
                       "VolOfVol": [0.0, 1.7, 5.5], "Target": [-75.0, 25.0, 0.0],
                       "Limit": [30.0, 12.0, 6.5], "Utilization": [0.23, 1.65, 1.49],
                       "Flag": ["OK", "BREACH", "BREACH"]})
    buf = io.StringIO()
    con = Console(file=buf, width=80, color_system=None)
    for t in split_tables(df, "Layers", 80, digits={c: 1 for c in df.columns[1:7]}):
        con.print(t)
    out = buf.getvalue()
    assert "…" not in out, out
    for text in (name, "30.0", "12.0", "6.5", "-81.8", "1.7", "BREACH", "Limit"):
        assert text in out, (text, out)


def test_hedge_trade_and_target_never_in_scientific_notation():
    """Seen at 80 columns on a book with 25,000-lot legs: the Trade column read
    'BUY 2.29042e+07' and a target of -2,000,000 would read '-2e+06' in the headline."""
    from alvh_xl.terminal import trade_text

    cases = [("BUY", 22904200.0, "BUY 22,904,200"), ("SELL", -3.0, "SELL 3"),
             ("BUY", 582519.0, "BUY 582,519"), ("SELL", 0.0, "none")]
    for action, contracts, want in cases:
        got = trade_text(action, contracts)
        assert got == want, f"trade_text({action!r}, {contracts}) = {got!r}, expected {want!r}"


def test_a_long_layer_name_is_not_cut_on_the_dashboard(tmp_path):
    """Seen in LibreOffice's PDF of a report: Dashboard column A kept its design width of
    19, so a 30-character layer read 'Layer named thirty charact' in the Layers table. A
    design width is a minimum: the column still grows to its widest value."""
    from rich.cells import cell_len

    name = "Layer named thirty characters!"
    book = tmp_path / "long.xlsx"
    shutil.copy(bundled_template(), book)
    table = INPUT_BY_NAME["ALVH_POSITIONS"]
    r0, c0 = cell_ref(table.anchor)
    wb = openpyxl.load_workbook(book)
    wb[table.sheet].cell(r0 + 1, c0).value = name
    wb.save(book)
    proc = run_report(str(book), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ws = openpyxl.load_workbook(tmp_path / "out" / "long_report.xlsx")["Dashboard"]
    shown = [c.value for c in ws["A"] if c.value == name]
    assert shown, "the layer is not in Dashboard column A"
    width, need = ws.column_dimensions["A"].width, cell_len(name) + 1
    assert width >= need, f"Dashboard column A is {width} wide; {name!r} needs {need}"


def test_headline_cards_are_wide_enough_for_big_numbers(tmp_path):
    """Seen in LibreOffice's PDF of a report on a book of 25,000-lot legs: the net vega and
    tolerance cards (20 pt, twice the table font) showed '###' for -58,251,865.7."""
    from alvh_xl.tools.xlsxstyle import FORMATS, display_width

    book = tmp_path / "big.xlsx"
    shutil.copy(bundled_template(), book)
    table = INPUT_BY_NAME["ALVH_POSITIONS"]
    r0, c0 = cell_ref(table.anchor)
    qty = c0 + table.headers.index("Qty")
    wb = openpyxl.load_workbook(book)
    ws = wb[table.sheet]
    for r in range(r0 + 1, ws.max_row + 1):
        if isinstance(ws.cell(r, qty).value, (int, float)):
            ws.cell(r, qty).value *= 40000
    wb.save(book)
    proc = run_report(str(book), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    dash = openpyxl.load_workbook(tmp_path / "out" / "big_report.xlsx")["Dashboard"]
    for key in ("netvega_raw", "netvega_weighted", "tolerance"):
        cell = dash[OUTPUT_BY_KEY[key].anchor]
        assert isinstance(cell.value, float) and abs(cell.value) > 1e5, (key, cell.value)
        need = display_width(cell.value, FORMATS["RawVega"]) * cell.font.sz / 10
        width = dash.column_dimensions[cell.column_letter].width
        assert width >= need, (f"{key} card {cell.coordinate} = {cell.value:,.1f} at "
                               f"{cell.font.sz} pt: column {width} wide, needs {need}")
