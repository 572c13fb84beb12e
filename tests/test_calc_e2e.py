"""LibreOffice Calc computes the ALVH template with the add-in, end to end (issue 12).

``alvh-xl calc install`` puts alvh_xl.oxt into a throw-away LibreOffice profile (through
LibreOffice's own unopkg), the profile is set to recalculate .xlsx files on load, and
soffice (headless) opens, recalculates and saves a copy of the template and a copy with one
leg changed. Read back with openpyxl, every ALVH block is free of errors and equal to the
engine's numbers for the same file (rel. 1e-9, abs. 1e-9 for values near zero); the changed
copy differs from its stale stored values, so Calc really recalculated. The recalculated
template prints to PDF with numbers, not #NAME?.

.ci/run installs LibreOffice and sets ALVH_REQUIRE_CALC=1, which turns a missing LibreOffice
into a failure; elsewhere the module is skipped when LibreOffice is not installed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT

from alvh_xl.cli import main
from alvh_xl.tools import libreoffice as lo
from alvh_xl.xl import layout as L
from alvh_xl.xl.layout import INPUT_BY_NAME, LAYOUT, a1, cell_ref
from alvh_xl.xl.natives import native_values
from alvh_xl.xl.pipeline import evaluate_output
from alvh_xl.xl.workbook import read_inputs


def evaluate_outputs(raw):
    return {o.key: evaluate_output(o, raw) for o in LAYOUT.outputs}

TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
REL, ABS = 1e-9, 1e-9
EPOCH = dt.datetime(1899, 12, 30)
ERRORS = r"#NAME\?|#VALUE!|#N/A|#REF!|#DIV/0!|#NUM!|#NULL!|Err:\d{3}|#ALVH!"
ERROR = re.compile(rf"^({ERRORS})")


def _office() -> tuple[str, str] | None:
    try:
        return lo.find_program("soffice"), lo.find_program("unopkg")
    except lo.OfficeError:
        return None


OFFICE = _office()
if OFFICE is None:
    if os.environ.get("ALVH_REQUIRE_CALC"):
        raise RuntimeError("ALVH_REQUIRE_CALC is set but LibreOffice (soffice, unopkg) is not "
                           "installed")
    pytest.skip("LibreOffice (soffice, unopkg) not installed; .ci/run installs it",
                allow_module_level=True)
pytestmark = [pytest.mark.slow,   # Calc-written chart XML that openpyxl cannot parse (charts only)
              pytest.mark.filterwarnings("ignore:Unable to read chart:UserWarning")]


def convert(profile: Path, files: list[Path], out: Path, fmt: str = "xlsx") -> float:
    """soffice --headless --convert-to in ``profile``; returns the wall time in seconds."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    done = subprocess.run([OFFICE[0], *lo.profile_arg(profile), "--headless", "--norestore",
                           "--convert-to", fmt, "--outdir", str(out), *map(str, files)],
                          capture_output=True, text=True, timeout=600, env=lo.office_env(),
                          stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    missing = [f.name for f in files if not (out / f"{f.stem}.{fmt}").is_file()]
    assert done.returncode == 0 and not missing, (
        f"soffice exit {done.returncode}, missing {missing}:\n{done.stdout}\n{done.stderr}")
    return seconds


def change_number(src: Path, dst: Path, sheet: str, ref: str, value: float) -> None:
    """Copy an .xlsx, replacing one numeric input cell's value in the sheet's XML (nothing
    else changes: stored results stay as they were, now stale)."""
    with zipfile.ZipFile(src) as zin:
        book = zin.read("xl/workbook.xml").decode()
        rid = re.search(rf'<sheet name="{re.escape(sheet)}" sheetId="\d+" r:id="(rId\d+)"',
                        book).group(1)
        rels = zin.read("xl/_rels/workbook.xml.rels").decode()
        part = "xl/" + re.search(rf'Id="{rid}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
        xml, n = re.subn(rf'(<c r="{ref}"[^>]*>)<v>[^<]*</v>',
                         lambda m: f"{m.group(1)}<v>{value!r}</v>", zin.read(part).decode())
        assert n == 1, f"{sheet}!{ref} is not a single numeric cell in {part}"
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                zout.writestr(item, xml.encode() if item.filename == part
                              else zin.read(item.filename))


def engine_blocks(path: Path, tmp: Path) -> dict[str, list[list]]:
    """The engine's cells of every block for this file: ``alvh-xl report --json``'s
    ``blocks`` where the report has them, else the same functions on the file's inputs."""
    done = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(path), "--json",
                           "--no-charts", "--out", str(tmp)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    blocks = json.loads(done.stdout).get("blocks")
    return blocks if blocks is not None else evaluate_outputs(read_inputs(path).raw)


def _number(v):
    if isinstance(v, dt.datetime):
        return (v - EPOCH) / dt.timedelta(days=1)
    if isinstance(v, dt.date):
        return float((v - EPOCH.date()).days)
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", v):
        return float((dt.date.fromisoformat(v) - EPOCH.date()).days)
    return v


def differences(key: str, expected: list[list], ws, anchor: str) -> list[str]:
    """Cells of one block where Calc's value is not the engine's (or is an error)."""
    r0, c0 = cell_ref(anchor)
    out = []
    for i, row in enumerate(expected):
        for j, want in enumerate(row):
            got = ws.cell(r0 + i, c0 + j).value
            w, g = _number(want), _number(got)
            w = None if w == "" else w
            g = None if g == "" else g
            if isinstance(g, str) and ERROR.match(g) and g != w:
                ok = False
            elif isinstance(w, (int, float)) and isinstance(g, (int, float)):
                ok = math.isclose(float(w), float(g), rel_tol=REL, abs_tol=ABS)
            else:
                ok = w == g
            if not ok:
                out.append(f"{key} {a1(r0 + i, c0 + j)}: expected {want!r}, Calc {got!r}")
    return out


def _nobody() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


@pytest.fixture(scope="module")
def profile():
    base = Path(tempfile.mkdtemp(prefix="alvh-calc-e2e-"))
    base.chmod(0o755)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(base, *_nobody())          # unopkg refuses root: the profile gets an owner
    path = base / "profile"
    assert main(["calc", "install", "--profile", str(path)]) == 0
    lo.set_recalc_on_load(path)
    yield path
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def workbooks(profile, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("calc")
    original = shutil.copy(TEMPLATE, tmp / "alvh_template.xlsx")
    t = INPUT_BY_NAME["ALVH_POSITIONS"]
    row = next(i for i, leg in enumerate(t.sample) if leg[0] == "VIX L2")
    r, c = cell_ref(t.anchor)
    qty = a1(r + 1 + row, c + t.headers.index("Qty"))
    changed = tmp / "alvh_changed.xlsx"
    change_number(original, changed, t.sheet, qty, 3.0)          # the Jan VIX 22 calls: 1 → 3
    out = tmp / "calc"
    seconds = convert(profile, [original, changed], out)
    print(f"\nCalc (headless, add-in installed): open, recalculate and save the template and "
          f"a changed copy: {seconds:.1f} s")
    return {"original": (original, out / original.name),
            "changed": (changed, out / changed.name), "tmp": tmp}


def test_status_finds_the_worker(profile, capsys):
    assert main(["calc", "status", "--profile", str(profile)]) == 0
    out = capsys.readouterr().out
    assert f"Python: {sys.executable}" in out and "= BREACH)" in out, out


@pytest.mark.parametrize("which", ["original", "changed"])
def test_every_block_is_the_engines(workbooks, which):
    src, calc = workbooks[which]
    expected = engine_blocks(src, workbooks["tmp"] / f"report-{which}")
    book = openpyxl.load_workbook(calc, data_only=True)
    problems = []
    for out in LAYOUT.outputs:
        problems += differences(out.key, expected[out.key], book[out.sheet], out.anchor)
    assert not problems, f"{len(problems)} cells differ (rel {REL}):\n" + "\n".join(
        problems[:20])


@pytest.mark.parametrize("which", ["original", "changed"])
def test_plain_formulas_on_the_blocks_follow(workbooks, which):
    """Numeric formulas over a block (the Legs sheet's sums) are recalculated after the add-in
    re-entered the blocks' formulas on load. (SUMIF by text over a block is not: LibreOffice
    does not intern text from add-in arrays, see docs/calc.md.)"""
    src, calc = workbooks[which]
    raw = read_inputs(src).raw
    expected = native_values(evaluate_outputs(raw), LAYOUT)
    book = openpyxl.load_workbook(calc, data_only=True)
    sums = [n for n in LAYOUT.natives if n.key.startswith("legs_sum_")]
    assert sums
    for n in sums:
        got = book[n.sheet][n.anchor].value
        assert math.isclose(got, expected[n.key], rel_tol=REL, abs_tol=ABS), (
            n.key, n.formula, expected[n.key], got)


def test_calc_recalculated_the_changed_leg(workbooks):
    """The changed copy's stored (stale) values differ from what Calc saved."""
    src, calc = workbooks["changed"]
    stale = openpyxl.load_workbook(src, data_only=True)
    fresh = openpyxl.load_workbook(calc, data_only=True)
    moved = {}
    for out in LAYOUT.outputs:
        expected = [[c for c in row] for row in stale[out.sheet].iter_rows(
            min_row=cell_ref(out.anchor)[0], max_row=cell_ref(out.anchor)[0] + 20,
            min_col=cell_ref(out.anchor)[1], max_col=cell_ref(out.anchor)[1] + 10,
            values_only=True)]
        moved[out.key] = len(differences(out.key, expected, fresh[out.sheet], out.anchor))
    assert moved["legs"] and moved["layers"] and moved["netvega_raw"], moved
    assert moved["macd"] == 0 and moved["rsi"] == 0, moved          # not book-dependent


def test_dashboard_prints_numbers(profile, workbooks):
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        if os.environ.get("ALVH_REQUIRE_CALC"):
            pytest.fail("pdftotext (poppler-utils) missing although ALVH_REQUIRE_CALC is set")
        pytest.skip("pdftotext (poppler-utils) not installed")
    _, calc = workbooks["original"]
    out = workbooks["tmp"] / "pdf"
    convert(profile, [calc], out, "pdf")
    pdf = out / f"{calc.stem}.pdf"
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")
    dash = next(p for p in pages if p.lstrip().startswith(L.SHEET_TITLES[L.DASHBOARD][0]))
    raw = evaluate_outputs(read_inputs(TEMPLATE).raw)["netvega_raw"][0][0]
    assert f"{raw:,.1f}" in dash, (raw, dash[:2000])
    for word in ("PORTFOLIO", "BREACH", "WATCH", "VIX L1", "FullPnL"):
        assert word in dash, word
    # a page's sheet is named in its footer ("ALVH risk desk   <sheet>   page n of m")
    footer = re.compile(rf"({'|'.join(L.OUTPUT_SHEETS)})\s+page \d+ of \d+\s*$")
    outputs = [p for p in pages if footer.search(p.rstrip())]
    assert len({footer.search(p.rstrip()).group(1) for p in outputs}) == len(L.OUTPUT_SHEETS), \
        [p.rstrip()[-60:] for p in pages]
    bad = [(p.lstrip()[:30], m.group(0)) for p in outputs for m in re.finditer(ERRORS, p)]
    assert not bad, f"error values printed on output pages: {bad[:10]}"


@pytest.fixture(scope="module")
def fake_profile(tmp_path_factory):
    """The add-in installed for a "Python" that runs tests/calc_fake_worker.py in the mode
    named by $ALVH_FAKE_MODE (the add-in passes its environment on to the worker)."""
    base = Path(tempfile.mkdtemp(prefix="alvh-calc-fake-"))
    base.chmod(0o755)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(base, *_nobody())
    python = base / "python"
    fake = ROOT / "tests" / "calc_fake_worker.py"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake}" "$ALVH_FAKE_MODE" '
                      f'"{base / "starts"}"\n')
    python.chmod(0o755)
    profile = base / "profile"
    assert main(["calc", "install", "--profile", str(profile), "--python", str(python)]) == 0
    lo.set_recalc_on_load(profile)
    book = tmp_path_factory.mktemp("fake") / "fake.xlsx"
    import xlsxwriter

    with xlsxwriter.Workbook(book) as wb:
        ws = wb.add_worksheet("S")
        ws.write_formula("A1", "=ALVH_FLAG(7,3.04)", None, "stale")
        ws.write_dynamic_array_formula("A3:B3", '=ALVH_BSM("price","C",100,100,1,0.2)', None,
                                       "stale")
    yield profile, book
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("mode, flag, bsm", [
    ("echo", "ALVH_FLAG", "ALVH_BSM"),                   # the fake's answer: [[name, nargs]]
    ("die", "#ALVH! alvh_xl worker: the worker exited with code 3: ",
     "#ALVH! alvh_xl worker: the worker exited with code 3: "),
    ("bug", "#VALUE!", "#VALUE!"),                       # a bug in alvh_xl stays loud
])
def test_worker_failures_show_in_calc(fake_profile, monkeypatch, mode, flag, bsm):
    profile, book = fake_profile
    monkeypatch.setenv("ALVH_FAKE_MODE", mode)
    out = book.parent / mode
    convert(profile, [book], out)
    ws = openpyxl.load_workbook(out / book.name, data_only=True)["S"]
    a1_text, a3_text = str(ws["A1"].value), str(ws["A3"].value)
    assert a1_text.startswith(flag) and a3_text.startswith(bsm), (mode, a1_text, a3_text)
    if mode == "die":
        assert "Segmentation fault" in a1_text, a1_text  # the worker's last words, quoted


def test_remove_uninstalls(profile, capsys):
    assert main(["calc", "remove", "--profile", str(profile)]) == 0
    assert main(["calc", "status", "--profile", str(profile)]) == 1
    assert "is not installed" in capsys.readouterr().out
