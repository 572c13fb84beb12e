"""xlsxedit on workbooks written by XlsxWriter (a table with a date column and a data
validation, a second table, a chart, formulas, a text cell starting with "=", a defined
name) and on the template: edited copies read back with openpyxl, untouched parts compared
byte for byte, refusals named."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from conftest import ROOT

from alvh_xl.errors import InputError, PathError, WorkbookError
from alvh_xl.tools.xlsxedit import edit_copy, read_table, table_names

D = dt.date
HEADER = ["Layer", "Qty", "Expiry", "Note"]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def make_book(path: Path, *, calc_chain: bool = False) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws = wb.add_worksheet("Positions")
    ws.add_table("A1:D4", {"name": "PositionsTable", "columns": [
        {"header": "Layer"}, {"header": "Qty"}, {"header": "Expiry", "format": date_fmt},
        {"header": "Note"}]})
    for r, (layer, qty, exp, note) in enumerate([("Core", -1, D(2026, 12, 18), "a"),
                                                 ("VIX L1", 2, D(2026, 11, 18), None),
                                                 ("Tail", 10, None, "c")], start=1):
        ws.write_string(r, 0, layer)
        ws.write_number(r, 1, qty)
        if exp:
            ws.write_datetime(r, 2, dt.datetime.combine(exp, dt.time()), date_fmt)
        if note:
            ws.write_string(r, 3, note)
    ws.add_table("A8:B9", {"name": "OtherTable", "columns": [{"header": "K"}, {"header": "V"}],
                           "data": [["x", 1]]})
    ws.write_string("F1", "=not a formula")
    ws.data_validation("B2:B4", {"validate": "decimal", "criteria": "between", "minimum": -1e6,
                                 "maximum": 1e6})
    summary = wb.add_worksheet("Summary")
    summary.write_formula("A1", "=SUM(Positions!B2:B4)", None, 11)
    summary.write_string("B1", "keep me")
    summary.write_number("C1", 1.5)
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"values": "=Positions!$B$2:$B$4"})
    summary.insert_chart("D2", chart)
    wb.define_name("ALVH_POSITIONS", "=Positions!$A$1:$D$4")
    wb.close()
    if calc_chain:
        _add_calc_chain(path)
    return path


def _add_calc_chain(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts["xl/calcChain.xml"] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                 b'<calcChain xmlns="http://schemas.openxmlformats.org/'
                                 b'spreadsheetml/2006/main"><c r="A1" i="2"/></calcChain>')
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
        "</Relationships>").encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>", '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>').encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def assert_untouched(src: Path, dst: Path, changed_parts: set[str]) -> None:
    a, b = parts_of(src), parts_of(dst)
    for name, data in a.items():
        if name not in changed_parts:
            assert b.get(name) == data, f"{name} differs"


@pytest.fixture
def book(tmp_path) -> Path:
    return make_book(tmp_path / "book.xlsx")


def test_read_table(book):
    t = read_table(book, "positionstable")
    assert (t.sheet, t.ref, t.header) == ("Positions", "A1:D4", HEADER)
    assert t.rows == [["Core", -1, D(2026, 12, 18), "a"], ["VIX L1", 2, D(2026, 11, 18), None],
                      ["Tail", 10, None, "c"]]
    assert table_names(book) == ["PositionsTable", "OtherTable"]


def test_same_size_edit_writes_text_as_text(book, tmp_path):
    out = tmp_path / "out.xlsx"
    rows = [["Expiry", "layer", "Qty", "Note"],
            [D(2027, 1, 20), "=HYPERLINK(\"x\")", -3, "@SUM(A1)"],
            [D(2026, 11, 18), "VIX L1", 2.5, None],
            [None, "Tail", 10, "c"]]
    changed = edit_copy(book, out, tables={"PositionsTable": rows})
    assert changed == ["Positions!A2", "Positions!B2", "Positions!C2", "Positions!D2",
                       "Positions!B3"]
    ws = openpyxl.load_workbook(out)["Positions"]
    assert ws["A2"].value == '=HYPERLINK("x")' and ws["A2"].data_type == "s"
    assert ws["D2"].value == "@SUM(A1)" and ws["B3"].value == 2.5
    assert ws["C2"].value == dt.datetime(2027, 1, 20) and ws["C2"].number_format == "dd/mm/yyyy"
    assert ws.tables["PositionsTable"].ref == "A1:D4"
    assert_untouched(book, out, {"xl/worksheets/sheet1.xml", "xl/workbook.xml"})
    wb_xml = parts_of(out)["xl/workbook.xml"].decode()
    assert 'fullCalcOnLoad="1"' in wb_xml
    assert openpyxl.load_workbook(out).calculation.fullCalcOnLoad


def test_shrink_clears_old_rows_and_moves_ref_filter_validation_and_name(book, tmp_path):
    out = tmp_path / "out.xlsx"
    edit_copy(book, out, tables={"PositionsTable": [HEADER, ["Core", 5, D(2026, 12, 18), "n"]]})
    wb = openpyxl.load_workbook(out)
    ws = wb["Positions"]
    assert ws.tables["PositionsTable"].ref == "A1:D2"
    assert ws.tables["PositionsTable"].autoFilter.ref == "A1:D2"
    assert [[c.value for c in r] for r in ws["A2:D4"]] == [["Core", 5, dt.datetime(2026, 12, 18),
                                                            "n"], [None] * 4, [None] * 4]
    assert ws["C3"].number_format == "dd/mm/yyyy"                # cleared, format kept
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["B2"]
    assert wb.defined_names["ALVH_POSITIONS"].attr_text == "Positions!$A$1:$D$2"
    assert ws["F1"].value == "=not a formula" and ws["A9"].value == "x"
    assert read_table(out, "PositionsTable").rows == [["Core", 5, D(2026, 12, 18), "n"]]


def test_empty_body_keeps_one_blank_row(book, tmp_path):
    out = tmp_path / "out.xlsx"
    edit_copy(book, out, tables={"PositionsTable": [HEADER]})
    t = read_table(out, "PositionsTable")
    assert (t.ref, t.rows) == ("A1:D2", [[None] * 4])


def test_grow_copies_the_last_rows_formats(book, tmp_path):
    out = tmp_path / "out.xlsx"
    body = [[f"L{i}", i, D(2026, 12, i + 1), None] for i in range(1, 7)]    # down to row 7
    edit_copy(book, out, tables={"PositionsTable": [HEADER, *body]})
    ws = openpyxl.load_workbook(out)["Positions"]
    assert ws.tables["PositionsTable"].ref == "A1:D7"
    assert ws["C7"].value == dt.datetime(2026, 12, 7) and ws["C7"].number_format == "dd/mm/yyyy"
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["B2:B7"]
    sheet_xml = parts_of(out)["xl/worksheets/sheet1.xml"].decode()
    assert re.search(r'<dimension ref="A1:F9"/>', sheet_xml)


def test_growth_never_overwrites(book, tmp_path):
    body = [["x", i, None, None] for i in range(8)]                       # down to row 9
    with pytest.raises(WorkbookError, match=r"where the table OtherTable \(A8:B9\) is"):
        edit_copy(book, tmp_path / "o.xlsx", tables={"PositionsTable": [HEADER, *body]})
    filled = tmp_path / "filled.xlsx"
    edit_copy(book, filled, cells={("Positions", "B6"): "in the way"})
    with pytest.raises(WorkbookError, match=r'Positions!B6 holds "in the way"'):
        edit_copy(filled, tmp_path / "o.xlsx", tables={"PositionsTable": [HEADER, *body[:5]]})
    assert not (tmp_path / "o.xlsx").exists()


def test_a_date_in_a_plain_column_gets_a_date_style(book, tmp_path):
    out = tmp_path / "out.xlsx"
    edit_copy(book, out, cells={("Summary", "C1"): D(2026, 10, 5),
                                ("Summary", "E20"): dt.datetime(2026, 10, 5, 16, 0)})
    ws = openpyxl.load_workbook(out)["Summary"]
    assert ws["C1"].value == dt.datetime(2026, 10, 5) and ws["C1"].number_format == "yyyy-mm-dd"
    assert ws["E20"].value == dt.datetime(2026, 10, 5, 16, 0)
    assert_untouched(book, out, {"xl/worksheets/sheet2.xml", "xl/workbook.xml",
                                 "xl/styles.xml"})


def test_a_time_in_a_plain_cell_gets_a_time_style(book, tmp_path):
    out = tmp_path / "out.xlsx"
    edit_copy(book, out, cells={("Summary", "C2"): dt.time(18, 1)})
    ws = openpyxl.load_workbook(out)["Summary"]
    assert ws["C2"].number_format == "hh:mm"
    assert ws["C2"].value in (dt.time(18, 1), dt.datetime(1899, 12, 30, 18, 1))
    with pytest.raises(InputError, match="has a time zone"):
        edit_copy(book, tmp_path / "o2.xlsx",
                  cells={("Summary", "C2"): dt.time(18, 1, tzinfo=dt.timezone.utc)})


def test_overwriting_a_formula_drops_the_calc_chain(tmp_path):
    src = make_book(tmp_path / "chain.xlsx", calc_chain=True)
    out = tmp_path / "out.xlsx"
    assert edit_copy(src, out, cells={("Summary", "A1"): 7}) == ["Summary!A1"]
    parts = parts_of(out)
    assert "xl/calcChain.xml" not in parts
    assert b"calcChain" not in parts["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in parts["[Content_Types].xml"]
    assert openpyxl.load_workbook(out)["Summary"]["A1"].value == 7
    kept = tmp_path / "kept.xlsx"                   # no formula touched: the chain stays
    edit_copy(src, kept, cells={("Summary", "B1"): "new"})
    assert "xl/calcChain.xml" in parts_of(kept)


def _with_summary_xml(src: Path, dst: Path, old: str, new: str) -> Path:
    parts = parts_of(src)
    xml = parts["xl/worksheets/sheet2.xml"].decode()
    assert old in xml
    parts["xl/worksheets/sheet2.xml"] = xml.replace(old, new).encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return dst


def test_shared_and_array_formulas_are_not_broken(book, tmp_path):
    shared = _with_summary_xml(book, tmp_path / "shared.xlsx", '<c r="C1"><v>1.5</v></c>',
                               '<c r="C1"><f t="shared" ref="C1:E1" si="0">A1*2</f><v>22</v></c>'
                               '<c r="D1"><f t="shared" si="0"/><v>0</v></c>'
                               '<c r="E1"><f t="shared" si="0"/><v>0</v></c>')
    with pytest.raises(WorkbookError, match=r"Summary!C1 holds a formula shared with "
                                            r"Summary!D1"):
        edit_copy(shared, tmp_path / "o.xlsx", cells={("Summary", "C1"): 1})
    edit_copy(shared, tmp_path / "all.xlsx", cells={("Summary", "C1"): 1, ("Summary", "D1"): 2,
                                                    ("Summary", "E1"): 3})
    edit_copy(shared, tmp_path / "user.xlsx", cells={("Summary", "E1"): 3})
    array = _with_summary_xml(book, tmp_path / "array.xlsx", "</row></sheetData>",
                              '</row><row r="2"><c r="B2"><f t="array" ref="B2:B3">A1:A2</f>'
                              '<v>1</v></c></row><row r="3"><c r="B3"><v>2</v></c></row>'
                              "</sheetData>")
    with pytest.raises(WorkbookError, match=r"Summary!B3 is part of the array formula in "
                                            r"Summary!B2 \(B2:B3\)"):
        edit_copy(array, tmp_path / "o.xlsx", cells={("Summary", "B3"): 1})
    assert openpyxl.load_workbook(tmp_path / "all.xlsx")["Summary"]["D1"].value == 2


def test_refusals(book, tmp_path):
    with pytest.raises(PathError, match="would be overwritten"):
        edit_copy(book, book)
    with pytest.raises(PathError, match="would be overwritten"):
        edit_copy(book, tmp_path / "." / "book.xlsx")
    with pytest.raises(PathError, match="does not exist"):
        edit_copy(book, tmp_path / "missing" / "o.xlsx")
    with pytest.raises(PathError, match="no such file"):
        edit_copy(tmp_path / "nope.xlsx", tmp_path / "o.xlsx")
    with pytest.raises(InputError, match="has no column \"Strike\""):
        edit_copy(book, tmp_path / "o.xlsx", tables={"PositionsTable": [["Strike"], [1]]})
    with pytest.raises(WorkbookError, match="header of the table PositionsTable"):
        edit_copy(book, tmp_path / "o.xlsx", cells={("Positions", "B1"): "x"})
    with pytest.raises(WorkbookError, match="no table 'Nope'"):
        edit_copy(book, tmp_path / "o.xlsx", tables={"Nope": [HEADER]})
    with pytest.raises(InputError, match="control character"):
        edit_copy(book, tmp_path / "o.xlsx", cells={("Summary", "B1"): "a\x07b"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]   # no temp files left


def test_template_positions_table(tmp_path):
    """The real template: the table and ALVH_POSITIONS follow the new rows, which the
    positions parser reads back through the defined name; every other part is unchanged."""
    from alvh_xl.book.positions import parse_positions

    template = ROOT / "workbooks" / "alvh_template.xlsx"
    out = tmp_path / "t.xlsx"
    header = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty",
              "Multiplier", "IV", "Price", "EntryPrice", "Underlying", "Leverage", "Beta"]
    rows = [["Core", None, "SPXW", "P", 6000.0, D(2027, 1, 8), -2.0, 100.0, 0.2, None, 30.0,
             None, None, None],
            ["Tail", None, "ETP", None, None, None, 10.0, 1.0, None, 44.8, 43.9, "VXX", None,
             None]]
    edit_copy(template, out, tables={"PositionsTable": [header, *rows]})
    assert read_table(out, "PositionsTable").ref == "A1:N3"
    legs = parse_positions(f"{out}#ALVH_POSITIONS").legs
    assert legs["instrument"].tolist() == ["SPXW", "ETP"]
    assert legs["expiry"].iloc[0] == dt.datetime(2027, 1, 8)
    assert_untouched(template, out, {"xl/worksheets/sheet3.xml", "xl/tables/table1.xml",
                                     "xl/workbook.xml"})


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_the_edited_copy(book, tmp_path):
    """Calc reads the grown table's new cells (text starting with "=" stays text). Calc's
    OOXML import does not read fullCalcOnLoad (LibreOffice/core sc/source/filter/oox/
    workbooksettings.cxx); whether it recalculates on load is its own setting, so the
    formula's value is not checked here."""
    out = tmp_path / "out.xlsx"
    edit_copy(book, out, tables={"PositionsTable": [["Layer", "Qty"], ["=1+1", 100], ["b", 20],
                                                    ["c", 3], ["d", 4]]})
    profile = tmp_path / "lo-profile"
    proc = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                           "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,"
                           "true,false,false,false,-1", "--outdir", str(tmp_path), str(out)],
                          capture_output=True, text=True, timeout=300)
    csv_out = tmp_path / "out-Positions.csv"
    assert proc.returncode == 0 and csv_out.exists(), proc.stdout + proc.stderr
    lines = csv_out.read_text().splitlines()
    assert [ln.split(",")[:2] for ln in lines[:6]] == [["Layer", "Qty"], ["=1+1", "100"],
                                                       ["b", "20"], ["c", "3"], ["d", "4"],
                                                       ["", ""]]
