"""The shared-workbook safety gate: one hostile workbook per finding kind (tests/hostile.py),
each found with its location, stripped by `strip_copy` (values kept) and checked clean; the
`alvh-xl check` exit codes and `--strip`."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile

import hostile
import openpyxl
import pytest

from alvh_xl.commands import check as check_cmd
from alvh_xl.errors import PathError
from alvh_xl.tools.check import check_workbook
from alvh_xl.tools.safety import formula_threats, inspect_workbook
from alvh_xl.tools.strip import strip_copy

TEMPLATE = hostile.TEMPLATE


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    check_cmd.add_arguments(parser)
    return check_cmd.run(parser.parse_args(list(argv)))


def describe(findings) -> str:
    return "\n".join(f"  {f.kind}: {f}" for f in findings) or "  (none)"


def test_the_template_is_clean():
    """(The report's output is checked clean in tests/test_check.py.)"""
    assert inspect_workbook(TEMPLATE) == []


@pytest.mark.parametrize("case", list(hostile.CASES))
def test_each_hostile_kind_is_found_where_it_is(case, tmp_path):
    build, expected = hostile.CASES[case]
    path = build(tmp_path)
    found = inspect_workbook(path)
    for kind, where, piece in expected:
        hits = [f for f in found if f.kind == kind and str(f).startswith(where)
                and piece in f.reason]
        assert hits, (f"{case}: expected a {kind} finding at {where!r} saying {piece!r}; "
                      f"found:\n{describe(found)}")
    assert {f.kind for f in found} == {k for k, _, _ in expected}, describe(found)


@pytest.mark.parametrize("case", list(hostile.CASES))
def test_strip_removes_every_finding_and_keeps_values(case, tmp_path):
    build, _ = hostile.CASES[case]
    path = build(tmp_path)
    out = tmp_path / "clean.xlsx"
    removed = strip_copy(path, out)
    assert removed == inspect_workbook(path)
    assert inspect_workbook(out) == [], describe(inspect_workbook(out))
    with zipfile.ZipFile(out) as z:
        names = [n.lower() for n in z.namelist()]
        types = z.read("[Content_Types].xml").decode()
    assert not [n for n in names if "vbaproject" in n or n.startswith(("xl/embeddings/",
                                                                       "xl/externallinks/"))]
    assert "macroEnabled" not in types
    # Every value is still there (the injected cells' cached values are checked in
    # test_cached_values_replace_foreign_formulas).
    after = openpyxl.load_workbook(out, data_only=True)
    if build is hostile.vba_xlsxwriter:
        assert after["Positions"]["A1"].value == "Layer"
        return
    # openpyxl cannot read a DDE link part; files it saved have no cached formula values
    source = TEMPLATE if build is hostile.dde else path
    before = openpyxl.load_workbook(source, data_only=True)
    for ws in before.worksheets:
        if ws.title == "xlwings.conf":
            continue
        other = after[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    assert other[cell.coordinate].value == cell.value, (
                        f"{case}: {ws.title}!{cell.coordinate} expected {cell.value!r}, "
                        f"stripped copy has {other[cell.coordinate].value!r}")
    result = check_workbook(out)                      # still a usable ALVH workbook
    assert result.ok, [str(f) for f in result.findings]
    assert [[c.value for c in r] for r in after["xlwings.conf"].iter_rows()] == [
        ["UDF Modules", "alvh_xl.udfs"]]


def test_cached_values_replace_foreign_formulas(tmp_path):
    out = tmp_path / "clean.xlsx"
    strip_copy(hostile.external_link(tmp_path), out)
    wb = openpyxl.load_workbook(out)                   # formulas, not cached values
    assert wb["Start"]["Z300"].value == 42             # was =[1]Sheet1!$A$1 with cache 42
    assert "EXT_PRICE" not in wb.defined_names
    strip_copy(hostile.dde(tmp_path), out)
    dash = openpyxl.load_workbook(out)["Dashboard"]
    assert [dash[c].value for c in ("X300", "Y300", "Z300")] == [0, 0, 0]
    strip_copy(hostile.unc_formula(tmp_path), out)
    assert openpyxl.load_workbook(out)["Start"]["Y300"].value == 7
    strip_copy(hostile.web_call(tmp_path), out)
    assert openpyxl.load_workbook(out)["Start"]["Z300"].value == "ok"     # text result kept
    strip_copy(hostile.very_hidden(tmp_path), out)
    assert openpyxl.load_workbook(out)["Secret"].sheet_state == "hidden"
    strip_copy(hostile.file_hyperlinks(tmp_path), out)
    ws = openpyxl.load_workbook(out)["Start"]
    assert ws["D3"].hyperlink is None and ws["D4"].hyperlink is None
    assert ws["D5"].hyperlink.target == "https://www.cboe.com/tradable_products/vix/"


def test_everything_at_once_through_the_cli(tmp_path, capsys):
    """One workbook with every kind: `check` fails naming each, `--strip` writes a copy that
    checks OK, and bad --strip paths exit 2."""
    pkg = hostile.Package(hostile.xlwings_conf_shared(tmp_path))
    pkg.set("xl/vbaProject.bin", hostile.vba_project_bin())
    pkg.add_cells("Dashboard", [("X", hostile._f("cmd|' /C calc'!A0", "0"))])
    hostile._external_link(pkg, f"{hostile.ATTACKER}\\prices.xlsx")
    pkg.add_cells("Start", [("Z", hostile._f("[1]Sheet1!$A$1", "42"))], row=301)
    path = pkg.save(tmp_path / "everything.xlsm")
    assert run_cli(str(path)) == 1
    out = capsys.readouterr().out
    for piece in ("xl/vbaProject.bin: unsafe to share (vba)",
                  "Dashboard!X300: unsafe to share (dde)",
                  "Start!Z301: unsafe to share (external-link)",
                  "xlwings.conf!A1: unsafe to share (xlwings-conf)"):
        assert piece in out, out
    clean = tmp_path / "clean.xlsx"
    assert run_cli(str(path), "--strip", str(clean)) == 0
    out = capsys.readouterr().out
    assert "removed: xl/vbaProject.bin: VBA macro project" in out
    assert f"Wrote {clean} (" in out and out.rstrip().endswith("OK")
    assert run_cli(str(clean)) == 0
    capsys.readouterr()
    with pytest.raises(PathError, match="would be overwritten"):
        run_cli(str(path), "--strip", str(path))
    with pytest.raises(PathError, match="give it an .xlsx name"):
        run_cli(str(path), "--strip", str(tmp_path / "x.xlsm"))
    with pytest.raises(PathError, match="is a device"):
        run_cli(str(path), "--strip", "/dev/full")
    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "check", str(path), "--strip",
                           str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                    reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_the_stripped_copies(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    paths = []
    for i, case in enumerate(("embedded objects", "connections", "macro sheet",
                              "chart from another workbook", "external link")):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        paths.append(tmp_path / f"stripped{i}.xlsx")
        strip_copy(hostile.CASES[case][0](folder), paths[-1])
    out = tmp_path / "csv"
    proc = subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                           "--headless", "--convert-to", "csv", "--outdir", str(out),
                           *map(str, paths)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for p in paths:                  # the first sheet (Start) converts: the file opened
        assert (out / f"{p.stem}.csv").read_text(errors="replace").strip(), p


@pytest.mark.parametrize("formula, kinds", [
    ("SUM(A1:A3)", []),
    ('ALVH_NETVEGA(ALVH_POSITIONS,ALVH_MARKET,ALVH_CURVE,"",TRUE)', []),
    ("Table1[2019]+Table1[[#This Row],[Qty]]", []),             # structured refs, not links
    ('"a|b"&\'my|sheet\'!A1', []),                              # pipes in text and names
    ('HYPERLINK("https://www.cboe.com","Cboe")', []),
    ("[0]!Macro1", []),                                        # [0] is this workbook
    ("cmd|' /C calc'!A0", ["dde"]),
    ("SUM([2]Prices!B2:B9)", ["external-link"]),
    ("'\\\\host\\share\\[a.xlsx]S'!A1", ["external-link"]),
    ('HYPERLINK("file:///c:/x.exe")', ["file-link"]),
    ('HYPERLINK("..\\run.bat","x")', ["file-link"]),
    ('_xlfn.WEBSERVICE("http://x")', ["external-call"]),
    ("RTD(\"prog.id\",,\"a\")", ["external-call"]),
    ("CALL(\"kernel32\",\"WinExec\",\"JCJ\",\"calc\",0)", ["external-call"]),
])
def test_formula_threats(formula, kinds):
    assert [k for k, _ in formula_threats(formula)] == kinds, formula_threats(formula)


@pytest.mark.parametrize("case", list(hostile.CASES))
def test_the_report_of_a_hostile_workbook_carries_none_of_it(case, tmp_path, capsys):
    """The report copy is rebuilt from the layout: no macro, link, DDE, object, connection,
    hyperlink, hidden sheet or xlwings.conf setting of the source reaches it."""
    from alvh_xl.cli import main

    build, _ = hostile.CASES[case]
    path = build(tmp_path)
    out = tmp_path / "out"
    code = main(["report", str(path), "--no-charts", "--json", "--out", str(out)])
    err = capsys.readouterr().err
    if code:                  # refused with one sentence (not an ALVH book / a macro sheet)
        assert code == 1 and err.count("\n") == 1, err
        assert "not an ALVH workbook" in err or "macro sheet" in err, err
        assert not list(out.glob("*.xlsx"))
        return
    (report,) = out.glob("*_report.xlsx")
    assert inspect_workbook(report) == [], describe(inspect_workbook(report))
