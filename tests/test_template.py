"""The template workbook: generated from the layout, equal to the committed file, and shaped
as the issue asks (names, Excel Table, validations, flag colours, charts, no metadata)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from xlcall import needs_xlwings

from alvh_xl.commands import template as template_cmd
from alvh_xl.conventions import INSTRUMENTS
from alvh_xl.tools.template import build_template, sample_series
from alvh_xl.xl import layout as L
from alvh_xl.xl.pipeline import evaluate_output
from alvh_xl.xl.workbook import read_inputs

ROOT = Path(__file__).parent.parent
COMMITTED = ROOT / "workbooks" / "alvh_template.xlsx"
FLOAT_RTOL = 1e-9


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """`alvh-xl template PATH` output (through the command module)."""
    path = tmp_path_factory.mktemp("tpl") / "fresh.xlsx"
    parser = argparse.ArgumentParser()
    template_cmd.add_arguments(parser)
    assert template_cmd.run(parser.parse_args([str(path)])) == 0
    return path


@pytest.fixture(scope="module")
def book(fresh) -> openpyxl.Workbook:
    return openpyxl.load_workbook(fresh)


@pytest.fixture(scope="module")
def values(fresh) -> openpyxl.Workbook:
    wb = openpyxl.load_workbook(fresh, data_only=True)
    wb.alvh_path = fresh
    return wb


def cells_of(path: Path, data_only: bool) -> dict[tuple[str, str], object]:
    wb = openpyxl.load_workbook(path, data_only=data_only)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    v = c.value
                    out[(ws.title, c.coordinate)] = getattr(v, "text", v)
    return out


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)):
        return abs(a - b) <= FLOAT_RTOL * max(1.0, abs(a), abs(b))
    return a == b


@pytest.mark.parametrize("data_only", [False, True], ids=["formulas", "values"])
def test_fresh_output_equals_the_committed_template(fresh, data_only):
    assert COMMITTED.exists(), "workbooks/alvh_template.xlsx is not committed"
    new, old = cells_of(fresh, data_only), cells_of(COMMITTED, data_only)
    assert new.keys() == old.keys(), sorted(set(new) ^ set(old))[:10]
    diff = [(k, new[k], old[k]) for k in new if not same(new[k], old[k])]
    assert not diff, f"regenerate with `alvh-xl template workbooks/alvh_template.xlsx --force`: " \
                     f"{diff[:5]}"


def test_the_writer_is_deterministic(fresh, tmp_path):
    again = build_template(tmp_path / "again.xlsx")
    assert again.read_bytes() == fresh.read_bytes()


def test_command_refuses_to_overwrite_without_force(fresh, capsys):
    parser = argparse.ArgumentParser()
    template_cmd.add_arguments(parser)
    from alvh_xl.errors import PathError

    with pytest.raises(PathError, match="--force"):
        template_cmd.run(parser.parse_args([str(fresh)]))


def test_sheets_in_order_and_xlwings_conf(book):
    assert tuple(book.sheetnames) == L.SHEETS
    conf = book[L.CONF]
    assert [(r[0], r[1]) for r in conf.iter_rows(values_only=True)] == [
        ("UDF Modules", "alvh_xl.udfs")]


def test_defined_names_refer_to_whole_excel_tables(book):
    """Every input name refers to its whole Table (so rows typed under it extend it), each
    series to a column of SignalsTable; every table starts in row 1 of its sheet."""
    expected = {t.name: f"{t.excel_table}[[#Headers],[#Data]]" for t in L.INPUTS}
    expected.update({name: f"{table}[{column}]" for name, (table, column) in L.SERIES.items()})
    assert {n: book.defined_names[n].attr_text for n in book.defined_names} == expected
    for t in L.INPUTS:
        table = book[t.sheet].tables[t.excel_table]
        assert table.ref == t.ref and t.anchor.endswith("1"), t.name
        assert [c.name for c in table.tableColumns] == list(t.headers)


def test_positions_is_an_excel_table_with_validation(book):
    ws = book[L.POSITIONS]
    t = L.INPUT_BY_NAME["ALVH_POSITIONS"]
    table = ws.tables[t.excel_table]
    assert table.ref == t.ref
    assert [c.name for c in table.tableColumns] == list(t.headers)
    lists = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            lists[str(dv.sqref)] = dv.formula1.strip('"').split(",")
    r, c = L.cell_ref(t.anchor)
    last = r + t.n_rows - 1
    col = {h: L.col_letter(c + j) for j, h in enumerate(t.headers)}
    assert lists[f"{col['Instrument']}{r + 1}:{col['Instrument']}{last}"] == list(INSTRUMENTS)
    assert set(lists[f"{col['Type']}{r + 1}:{col['Type']}{last}"]) >= {"C", "P"}
    assert ws.freeze_panes == f"A{r + 1}" and r == 1
    assert ws.cell(r + 1, c + t.headers.index("Expiry")).number_format == "yyyy-mm-dd"
    assert ws.cell(r + 1, c + t.headers.index("IV")).number_format == "0.0%"


def test_sample_book_is_an_alvh_book_with_ok_watch_and_breach(values):
    inputs = read_inputs_from(values)
    legs = inputs.positions.legs
    assert set(legs["layer"]) == {"Core", "VIX L1", "VIX L2", "Tail"}
    core = legs[legs["layer"] == "Core"]
    # Core: an SPX condor, its XSP twin (SPEC §3: one leg of each instrument in the sample)
    # and an MES future for delta
    by_instr = core.groupby("instrument").size().to_dict()
    assert by_instr == {"SPXW": 4, "XSP": 4, "MES": 1}, by_instr
    kinds = set(zip(legs["instrument"], legs["cp"] != 0, strict=True))
    assert {("XSP", True), ("MES", False), ("VIX", True), ("ETP", True), ("ETP", False)} <= kinds
    dte = (core["expiry"].iloc[0].date() - L.VALUATION_DATE).days
    assert 35 <= dte <= 55, dte
    layers = block(values, "layers")
    flags = {r[0]: r[-1] for r in layers[1:]}
    assert {"OK", "WATCH", "BREACH"} <= set(flags.values()), flags
    raw = {r[0]: r[1] for r in layers[1:]}
    assert -120 < raw["Core"] < -30, "a one-lot 25-wide 45-DTE condor"
    th = {r[0]: r[1] for r in L.INPUT_BY_NAME["ALVH_THRESHOLDS"].sample}
    assert th["PORTFOLIO"] == 0.08 and all(th[k] == 12 for k in ("VIX L1", "VIX L2", "Tail"))
    curve = [p for _, p in L.INPUT_BY_NAME["ALVH_CURVE"].sample]
    assert curve == sorted(curve), "the sample curve is in contango"
    names = [r[0] for r in L.INPUT_BY_NAME["ALVH_SCENARIOS"].sample]
    assert sum("FOMC" in n for n in names) == 2


def read_inputs_from(values: openpyxl.Workbook):
    """The inputs of the freshly written template, read back from the file."""
    return read_inputs(values.alvh_path)


def block(values: openpyxl.Workbook, key: str) -> list[list]:
    """The stored cells of an output block (trailing blank rows/cols removed)."""
    out = L.OUTPUT_BY_KEY[key]
    ws = values[out.sheet]
    r0, c0 = L.cell_ref(out.anchor)
    rows = [[ws.cell(r, c).value for c in range(c0, c0 + out.max_cols)]
            for r in range(r0, r0 + out.max_rows)]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = max((max((j + 1 for j, v in enumerate(r) if v is not None), default=0)
                 for r in rows), default=0)
    return [r[:width] for r in rows]


def norm(v):
    """A block cell as stored: dates as dates, NaN/NaT/None/'' as None."""
    if v is None or (isinstance(v, str) and v == "") or (not isinstance(v, str) and v != v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    return v


def test_stored_values_are_what_the_functions_return_on_the_files_inputs(values):
    """Cached results = ALVH_* functions called with the file's own named ranges."""
    inputs = read_inputs_from(values)
    expected = {o.key: evaluate_output(o, inputs.raw) for o in L.OUTPUTS}
    for key, cells in expected.items():
        got = block(values, key)
        want = [[norm(v) for v in row] for row in cells]
        while want and all(v is None for v in want[-1]):
            want.pop()
        assert len(got) == len(want), key
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            w = w + [None] * (len(g) - len(w))
            g = g + [None] * (len(w) - len(g))
            bad = [(j, a, b) for j, (a, b) in enumerate(zip(g, w, strict=True))
                   if not same(norm(a), b)]
            assert not bad, f"{key} row {i}: {bad[:3]}"


def test_every_alvh_block_is_a_spilling_formula_with_its_extent(fresh, values):
    with zipfile.ZipFile(fresh) as z:
        wb_xml = z.read("xl/workbook.xml").decode()
        sheet_files = {name: f"xl/worksheets/sheet{i}.xml"
                       for i, name in enumerate(L.SHEETS, 1)}
        xml = {s: z.read(f).decode() for s, f in sheet_files.items()}
        assert "xl/metadata.xml" in z.namelist()
    assert "fullCalcOnLoad" not in wb_xml, "Excel must show the stored results on open"
    for out in L.OUTPUTS:
        n_rows = len(block(values, out.key)) or 1
        m = re.search(rf'<c r="{out.anchor}"[^>]*cm="1"[^>]*><f t="array" ref="([A-Z0-9:]+)"'
                      rf'[^>]*>([^<]*)</f>', xml[out.sheet])
        assert m, f"{out.key}: no dynamic array formula at {out.anchor}"
        ref, formula = m.groups()
        assert "=" + formula.replace("&quot;", '"') == out.formula
        assert "_xlfn" not in formula
        last = ref.split(":")[-1]
        rows = L.cell_ref(last)[0] - L.cell_ref(out.anchor)[0] + 1
        assert rows == max(out.max_rows, n_rows), out.key   # the whole area (sized with room)


def test_native_formulas_are_stored_with_values(book, values):
    from alvh_xl.tools.template import native_values

    inputs = read_inputs_from(values)
    expected = native_values({o.key: evaluate_output(o, inputs.raw) for o in L.OUTPUTS})
    for n in L.NATIVES:
        assert book[n.sheet][n.anchor].value == n.formula
        stored = values[n.sheet][n.anchor].value
        assert same(stored, expected[n.key]), (n.key, stored, expected[n.key])
    layers = [r for r in block(values, "layers") if r[0] not in ("Note", "Left out")]
    assert values[L.DASHBOARD]["H4"].value == layers[-1][-1], \
        "the headline agrees with the PORTFOLIO row of ALVH_LAYERS"
    legs_sum = values[L.LEGS][L.NATIVES[-2].anchor].value
    assert legs_sum == pytest.approx(values[L.DASHBOARD]["B4"].value, abs=1e-9)


def test_flag_cells_are_coloured_by_their_text(book):
    from alvh_xl.risk.aggregation import LAYER_COLUMNS

    flag = LAYER_COLUMNS.index("Flag")
    for sheet, ref in ((L.DASHBOARD, L.OUTPUT_BY_KEY["layers"].column_range(flag)),
                       (L.DASHBOARD, "H4")):
        rules = book[sheet].conditional_formatting
        texts = {}
        for cf in rules:
            if str(cf.sqref) == ref:
                for rule in cf.rules:
                    key = rule.text or rule.formula[0].strip('"')
                    texts[key] = rule.dxf.fill.bgColor.rgb
        assert {"OK", "WATCH", "BREACH"} <= set(texts), (ref, texts)
        assert texts["OK"].endswith("C6EFCE") and texts["WATCH"].endswith("FFEB9C") \
            and texts["BREACH"].endswith("FFC7CE"), texts         # green, amber, red


def test_native_charts_reference_the_dashboard_blocks(fresh):
    with zipfile.ZipFile(fresh) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        xml = [z.read(n).decode() for n in charts]
        drawings = [n for n in z.namelist() if n.startswith("xl/drawings/drawing")]
    assert len(charts) >= 3 and drawings
    bucket = next(x for x in xml if "by bucket and layer" in x)
    ladder = next(x for x in xml if "full revaluation vs linear" in x)
    assert "<c:barChart>" in bucket and 'val="stacked"' in bucket
    assert bucket.count("<c:ser>") == 4                    # one series per layer
    assert "<c:lineChart>" in ladder and ladder.count("<c:ser>") == 2
    lad = L.OUTPUT_BY_KEY["ladder"]
    r0 = L.cell_ref(lad.anchor)[0]
    assert f"Dashboard!$B${r0 + 1}:$B${r0 + 7}" in ladder
    assert "<c:numCache>" in ladder, "charts carry cached values for viewers"


def test_no_external_links_paths_or_personal_metadata(fresh):
    with zipfile.ZipFile(fresh) as z:
        names = z.namelist()
        text = {n: z.read(n).decode("utf-8", "replace") for n in names if n.endswith(".xml")
                or n.endswith(".rels")}
    assert not [n for n in names if "externalLink" in n]
    for name, body in text.items():
        assert not re.search(r"file:///|[A-Za-z]:\\\\|/home/|/Users/|/tmp/|/work/", body), name
        assert "TargetMode=\"External\"" not in body, name
    core = text["docProps/core.xml"]
    for tag in ("dc:creator", "cp:lastModifiedBy"):
        m = re.search(rf"<{tag}>(.*?)</{tag}>|<{tag}/>", core)
        assert m is None or not (m.group(1) or "").strip(), (tag, m.group(0))
    assert "2026-11-24" in core, "fixed creation date (reproducible file)"
    assert not [n for n in names if n.endswith(".bin") or "vbaProject" in n], "macro-free"


def test_signals_series_are_deterministic_and_realistic():
    a, b = sample_series(), sample_series()
    for key in ("ALVH_VIXFUT_SERIES", "ALVH_VVIX_SERIES"):
        assert (a[key] == b[key]).all()
    vx, vvix = a["ALVH_VIXFUT_SERIES"], a["ALVH_VVIX_SERIES"]
    assert len(vx) == L.SERIES_LENGTH and 12 < vx.min() and vx.max() < 40
    assert 60 < vvix.min() and vvix.max() < 160
    assert vx[-1] == L.INPUT_BY_NAME["ALVH_CURVE"].sample[0][1], "ends at today's front future"
    assert vvix[-1] == next(r[1] for r in L.INPUT_BY_NAME["ALVH_MARKET"].sample
                            if r[0] == "Vvix")
    assert all(d.weekday() < 5 for d in a["dates"]) and a["dates"][-1] == L.VALUATION_DATE


def test_static_snapshot_has_the_same_values_and_no_alvh_formulas(fresh, tmp_path):
    static = build_template(tmp_path / "static.xlsx", live=False)
    live_vals, static_vals = cells_of(fresh, True), cells_of(static, True)
    assert live_vals.keys() == static_vals.keys()
    assert all(same(live_vals[k], static_vals[k]) for k in live_vals)
    formulas = cells_of(static, False)
    assert not [k for k, v in formulas.items() if isinstance(v, str) and "ALVH_" in v
                and v.startswith("=")]


def test_lite_refresh_button_matches_the_script_binding():
    """xlwings Lite binds refresh_script to "[shape]Sheet!Cell": the template's Dashboard must
    hold a shape of that name whose hyperlink points at that cell."""
    from alvh_xl.xl.layout import LITE_BUTTON

    sheet, cell, name = LITE_BUTTON
    with zipfile.ZipFile(COMMITTED) as z:
        drawings = {n: z.read(n).decode() for n in z.namelist()
                    if re.fullmatch(r"xl/drawings/(_rels/)?drawing\d+\.xml(\.rels)?", n)}
    shape_xml = next(x for n, x in drawings.items() if f'name="{name}"' in x)
    assert "Refresh" in shape_xml and "hlinkClick" in shape_xml
    assert any(f"Target=\"#'{sheet}'!{cell}\"" in x for x in drawings.values())


@needs_xlwings
def test_refresh_script_is_bound_to_that_button():
    from xlwings.server import custom_scripts_meta

    import alvh_xl.xl.refresh as refresh
    from alvh_xl.xl.layout import LITE_BUTTON

    (meta,) = [m for m in custom_scripts_meta(refresh) if m["function_name"] == "refresh_script"]
    sheet, cell, name = LITE_BUTTON
    assert meta["button"] == f"[{name}]{sheet}!{cell}"
