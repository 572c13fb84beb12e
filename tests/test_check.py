"""`alvh-xl check`: passes on the template, names every problem in broken copies."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from alvh_xl.commands import check as check_cmd
from alvh_xl.errors import WorkbookError
from alvh_xl.tools.check import check_workbook, normalize_formula
from alvh_xl.xl import layout as L

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
POS = L.INPUT_BY_NAME["ALVH_POSITIONS"]
FIRST = L.cell_ref(POS.anchor)[0] + 1                  # sheet row of the first leg
COL = {h: L.col_letter(L.cell_ref(POS.anchor)[1] + j) for j, h in enumerate(POS.headers)}


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    check_cmd.add_arguments(parser)
    return check_cmd.run(parser.parse_args(list(argv)))


def broken(tmp_path: Path, mutate) -> Path:
    wb = openpyxl.load_workbook(TEMPLATE)
    mutate(wb)
    path = tmp_path / "broken.xlsx"
    wb.save(path)
    return path


def test_template_passes(capsys):
    result = check_workbook(TEMPLATE)
    assert result.ok, [str(f) for f in result.findings]
    assert result.names == len(L.INPUTS) + len(L.SERIES)
    assert result.formulas == len(L.OUTPUTS) + len(L.NATIVES)
    assert result.legs == len(POS.sample)
    assert run_cli(str(TEMPLATE)) == 0
    assert "OK" in capsys.readouterr().out


def test_an_openpyxl_round_trip_still_passes(tmp_path):
    assert check_workbook(broken(tmp_path, lambda wb: None)).ok


def _set(sheet: str, cell: str, value):
    def mutate(wb):
        wb[sheet][cell] = value
    return mutate


CASES = {
    "missing column": (lambda wb: wb[L.POSITIONS].delete_cols(L.cell_ref(f"{COL['Strike']}1")[1]),
                       [f"Positions row {FIRST - 1} (Strike): column Strike is missing"]),
    "deleted name": (lambda wb: wb.defined_names.pop("ALVH_CURVE"),
                     ["defined name ALVH_CURVE is missing"]),
    "text in Strike": (_set(L.POSITIONS, f"{COL['Strike']}{FIRST}", "abc"),
                       [f'Positions!{COL["Strike"]}{FIRST} (Strike): expected a number, '
                        f'got "abc"']),
    "dashboard formula removed": (
        _set(L.DASHBOARD, L.OUTPUT_BY_KEY["layers"].anchor, None),
        [f"Dashboard!{L.OUTPUT_BY_KEY['layers'].anchor} (layers): formula "
         f"{L.OUTPUT_BY_KEY['layers'].formula} was removed: the cell is empty"]),
    "dashboard formula edited": (
        _set(L.DASHBOARD, "B4", "=ALVH_NETVEGA(ALVH_POSITIONS,ALVH_MARKET)"),
        [f"Dashboard!B4 (netvega_raw): formula changed: expected "
         f"{L.OUTPUT_BY_KEY['netvega_raw'].formula}, found "
         "=ALVH_NETVEGA(ALVH_POSITIONS,ALVH_MARKET)"]),
    "status formula removed": (_set(L.DASHBOARD, "F4", 5.8),
                               ['Dashboard!F4 (tolerance): formula =ALVH_STATUS("tolerance",',
                                "holds a value (5.8)"]),
    "bad market field": (_set(L.MARKET, "B4", "x"),
                         ['Market row 4 (Value): market SpxSpot: expected a number, got "x"']),
    "decimal comma": (_set(L.MARKET, "B4", "6712,4"),
                      ['Market row 4 (Value): market SpxSpot: "6712,4" looks like a decimal '
                       "comma"]),
    "bad threshold": (_set(L.THRESHOLDS, "B3", -1),
                      ["Thresholds row 3 (Limit): thresholds: Limit must be a positive number"]),
    "leg typed under the table": (
        _set(L.POSITIONS, f"{COL['Qty']}{FIRST + len(POS.sample) + POS.spare_rows + 1}", 3),
        [f"Positions!{COL['Qty']}{FIRST + len(POS.sample) + POS.spare_rows + 1}: "
         f"Positions!{COL['Qty']}{FIRST + len(POS.sample) + POS.spare_rows + 1} holds 3 "
         "outside the positions table"]),
    "curve point typed under the table": (
        _set(L.MARKET, "F20", 22.5),
        ["Market!F20: Market!F20 holds 22.5 outside the curve table (Market!E1:F13)"]),
    "Excel error in a cell": (_set(L.POSITIONS, f"{COL['IV']}{FIRST}", "#N/A"),
                              [f"Positions!{COL['IV']}{FIRST} (IV): holds the Excel error "
                               "#N/A"]),
    # a VIX option naming (in Underlying) a future the curve lacks; with Underlying blank an
    # unlisted expiry is valued on the interpolated forward (SPEC §4)
    "VIX future not on the curve": (
        _set(L.POSITIONS, f"{COL['Underlying']}{FIRST + 6}", dt.datetime(2027, 1, 27)),
        [f"Positions!{COL['Underlying']}{FIRST + 6} (Underlying): VIX option needs the VIX "
         "future expiring 2027-01-27 in ALVH_CURVE"]),
    "two bad rows": (lambda wb: (_set(L.POSITIONS, f"{COL['Type']}{FIRST}", "X")(wb),
                                 _set(L.POSITIONS, f"{COL['Qty']}{FIRST + 3}", "ten")(wb)),
                     [f"Positions!{COL['Type']}{FIRST} (Type)",
                      f"Positions!{COL['Qty']}{FIRST + 3} (Qty)"]),
    # the report refuses to value a book whose forward is 10x spot: check must not say OK
    "forward 10x spot": (lambda wb: [_set(L.MARKET, c, v)(wb) for c, v in (
        ("H2", dt.datetime(2027, 1, 8)), ("I2", 67500), ("J2", 0.995))],
        ["Market row 2 (Forward): forwards: Forward 67500 for 2027-01-08 is 10.1 × SPX spot"]),
    "unknown instrument in a hedge row": (_set(L.HEDGES, f"{COL['Instrument']}3", "XYZ"),
                                          [f"Hedges!{COL['Instrument']}3 (Instrument): "
                                           'unknown instrument "XYZ"']),
    "hedge candidate with a future not on the curve": (
        _set(L.HEDGES, f"{COL['Expiry']}4", dt.datetime(2027, 2, 24)),
        [f"Hedges!{COL['Expiry']}4 (Expiry)"]),
    "xlwings.conf missing": (lambda wb: wb.remove(wb[L.CONF]),
                             ["xlwings.conf: sheet is missing"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_copy_fails_naming_the_problem(case, tmp_path, capsys):
    mutate, expected = CASES[case]
    path = broken(tmp_path, mutate)
    result = check_workbook(path)
    lines = [str(f) for f in result.errors]
    assert not result.ok
    text = "\n".join(lines)
    for piece in expected:
        assert piece in text, f"{piece!r} not in:\n{text}"
    assert run_cli(str(path)) == 1
    out = capsys.readouterr().out
    assert all(piece in out for piece in expected)
    assert "problem" in out.splitlines()[-1]


def test_values_instead_of_formulas_pass_only_with_allow_values(tmp_path):
    anchor = L.OUTPUT_BY_KEY["layers"].anchor
    path = broken(tmp_path, _set(L.DASHBOARD, anchor, "Layer"))
    result = check_workbook(path)
    assert [f"Dashboard!{anchor} (layers)" in str(f) and 'holds a value ("Layer")' in str(f)
            for f in result.errors] == [True]
    assert check_workbook(path, allow_values=True).ok
    assert run_cli(str(path), "--allow-values") == 0


def test_not_a_workbook(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("hello")
    with pytest.raises(WorkbookError, match="not a readable"):
        check_workbook(path)


@pytest.mark.parametrize("a, b, equal", [
    ('=ALVH_NETVEGA(ALVH_POSITIONS, ALVH_MARKET,ALVH_CURVE,"",TRUE)',
     '=alvh_netvega(ALVH_POSITIONS,ALVH_MARKET,ALVH_CURVE,"",true)', True),
    ('=_xludf.ALVH_LEGS(ALVH_POSITIONS,ALVH_MARKET,ALVH_CURVE)',
     '=ALVH_LEGS(ALVH_POSITIONS,ALVH_MARKET,ALVH_CURVE)', True),
    ('=SUMIF(A9:A21,"PORTFOLIO",H9:H21)', '=SUMIF(A9:A21,"portfolio",H9:H21)', False),
])
def test_formula_normalisation(a, b, equal):
    assert (normalize_formula(a) == normalize_formula(b)) is equal


def test_report_output_is_recognised_and_passes(tmp_path):
    """`alvh-xl report` writes every block as values: check recognises its own copy."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(TEMPLATE),
                           "--out", str(tmp_path), "--no-charts"], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / f"{TEMPLATE.stem}_report.xlsx"
    result = check_workbook(out)
    assert result.ok and result.kind == "report", [str(f) for f in result.findings]
    assert any("values-only copy written by `alvh-xl report`" in str(f)
               for f in result.findings)


def test_static_template_is_recognised_and_passes(tmp_path, capsys):
    """`alvh-xl template --static` writes every block as values on purpose: check recognises
    that copy too (review finding: it reported 20 "formula … was removed" problems, exit 1)."""
    from alvh_xl.tools.template import build_template

    path = build_template(tmp_path / "static.xlsx", live=False)
    result = check_workbook(path)
    assert result.ok and result.kind == "static", [str(f) for f in result.findings]
    assert any("values-only snapshot written by `alvh-xl template --static`" in str(f)
               for f in result.findings), [str(f) for f in result.findings]
    assert run_cli(str(path)) == 0, capsys.readouterr().out
    assert check_workbook(build_template(tmp_path / "live.xlsx")).kind == "template"


def test_layer_without_threshold_is_named_with_the_nearest(tmp_path):
    path = broken(tmp_path, _set(L.POSITIONS, f"{COL['Layer']}{FIRST + 4}", "VIX L9"))
    notes = [str(f) for f in check_workbook(path).findings if f.severity == "note"]
    row = FIRST + 4
    assert (f"Positions!{COL['Layer']}{row} (Layer): note: layer 'VIX L9' (leg in row {row}) "
            "has no threshold row in Thresholds: it shows 'no limit' and is never flagged; "
            "did you mean 'VIX L1'?") in notes, notes


def test_a_basis_layer_typo_is_named_by_check_and_the_headline(tmp_path):
    """PORTFOLIO Basis 'Cor' (a typo of Core) leaves the portfolio without a limit: check names
    the cell and the nearest layer, the headline says the layer is not in the book."""
    from alvh_xl.xl.pipeline import build_dashboard
    from alvh_xl.xl.workbook import read_inputs

    th = L.INPUT_BY_NAME["ALVH_THRESHOLDS"]
    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb[L.THRESHOLDS]
    basis_col = L.col_letter(th.headers.index("Basis") + 1)
    row = next(r for r in range(2, ws.max_row + 1) if ws[f"A{r}"].value == "PORTFOLIO")
    ws[f"{basis_col}{row}"] = "Cor"
    path = tmp_path / "basis.xlsx"
    wb.save(path)
    notes = [str(f) for f in check_workbook(path).findings]
    want = (f"Thresholds!{basis_col}{row} (Basis): note: the PORTFOLIO basis layer 'Cor' is not "
            "a layer of the book: the portfolio has no limit; did you mean 'Core'?")
    assert want in notes, notes
    head = build_dashboard(read_inputs(path)).headline
    assert head.status == "no limit" and "'Cor' is not a layer of the book" in head.message, \
        head.message


def test_headers_spelt_as_the_readers_accept_them_pass(tmp_path):
    """'Mult', 'Quantity', 'Settle' are spellings the readers take (the report values such a
    book): check must not call those columns missing."""
    def rename(wb):
        for sheet, header, alias in ((L.POSITIONS, "Multiplier", "Mult"),
                                     (L.POSITIONS, "Qty", "Quantity"),
                                     (L.HEDGES, "Multiplier", "Mult")):
            wb[sheet][f"{COL[header]}1"] = alias
        ws = wb[L.MARKET]
        price = next(c for c in ws[1] if c.value == "Price" and c.column > 4)
        price.value = "Settle"
        for ws in wb.worksheets:                  # keep the Tables' column names in step
            for table in ws.tables.values():
                for col in table.tableColumns:
                    col.name = {"Multiplier": "Mult", "Qty": "Quantity"}.get(col.name,
                                                                             col.name)
                    if table.name == "CurveTable" and col.name == "Price":
                        col.name = "Settle"
    result = check_workbook(broken(tmp_path, rename))
    assert not [str(f) for f in result.findings if "missing" in str(f)], \
        [str(f) for f in result.findings]
    assert result.ok, [str(f) for f in result.findings]
