"""`alvh-xl import-positions` run as a subprocess on the real samples: CSV on stdout, the
ignored / unmapped rows on stderr, a workbook copy with --into/--out, rules from --rules or
the workbook's LayerRulesTable, CSV escaping, and bad paths (exit 2)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xlsxwriter
from conftest import DATA, ROOT

from alvh_xl.book.positions import HEADERS
from alvh_xl.tools.xlsxedit import read_table

BROKERS = DATA / "brokers"
TOS_PS = BROKERS / "tos_position_statement_2015-02-20_papermoney.csv"
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
VXX_ROW = ["Tail", "", "ETP", "C", "37", "2015-03-20", "1", "100", "", "0.755", "2.67", "VXX",
           "", ""]


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XLWINGS_LICENSE_KEY": os.environ.get("XLWINGS_LICENSE_KEY",
                                                               "noncommercial")}
    return subprocess.run([sys.executable, "-m", "alvh_xl.cli", "import-positions",
                           *map(str, args)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def rows_of(stdout: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(stdout)))


@pytest.mark.parametrize(("name", "legs", "ignored", "unmapped"), [
    ("ibkr_flex_open_positions_2025-11-07.csv", 0, 54, 0),
    ("ibkr_flex_activity_full_2023-03-02_redacted.xml", 0, 13, 0),
    ("tos_position_statement_2015-02-20_papermoney.csv", 1, 36, 0),
    ("tos_account_statement_2022-06-21_papermoney_stocks.csv", 0, 0, 0),
    ("tastytrade_transactions_mes_futopt_2024.csv", 0, 0, 0),
])
def test_every_sample_prints_its_legs_and_names_what_it_left_out(name, legs, ignored,
                                                                 unmapped):
    proc = cli(BROKERS / name)
    assert proc.returncode == 0, proc.stderr
    rows = rows_of(proc.stdout)
    assert rows[0] == list(HEADERS) and len(rows) == 1 + legs
    mapped = f"{legs} leg{'' if legs == 1 else 's'} mapped"
    assert f"{mapped}, {ignored} ignored, {unmapped} not mapped" in proc.stderr
    listed = [ln for ln in proc.stderr.splitlines() if ln.startswith("  ")]
    assert len(listed) == ignored + unmapped, proc.stderr


def test_thinkorswim_row_and_repeatability():
    first, again = cli(TOS_PS), cli(TOS_PS)
    assert rows_of(first.stdout)[1] == VXX_ROW
    assert first.stdout == again.stdout and first.stderr == again.stderr
    assert "line 9: AAPL 100 MAR 15 115 CALL: option on AAPL: outside the ALVH universe" in \
        first.stderr


def test_into_a_copy_of_the_template(tmp_path):
    out = tmp_path / "book.xlsx"
    before = TEMPLATE.read_bytes()
    proc = cli(TOS_PS, "--into", TEMPLATE, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "PositionsTable holds 1 leg from" in proc.stderr
    table = read_table(out, "PositionsTable")
    assert table.ref == "A1:N2"
    assert table.rows == [["Tail", None, "ETP", "C", 37, dt.date(2015, 3, 20), 1, 100, None,
                           0.755, 2.67, "VXX", None, None]]
    assert TEMPLATE.read_bytes() == before


def test_rules_csv_and_formula_like_layers_are_escaped(tmp_path):
    rules = tmp_path / "rules.csv"
    rules.write_text("Instrument,Layer\nETP,=HYPERLINK(\"http://x\")\n")
    proc = cli(TOS_PS, "--rules", rules)
    assert proc.returncode == 0, proc.stderr
    assert rows_of(proc.stdout)[1][0] == "'=HYPERLINK(\"http://x\")"
    out = tmp_path / "book.xlsx"
    assert cli(TOS_PS, "--rules", rules, "--into", TEMPLATE, "--out", out).returncode == 0
    assert read_table(out, "PositionsTable").rows[0][0] == "=HYPERLINK(\"http://x\")"


def test_bad_rules_name_the_row(tmp_path):
    rules = tmp_path / "rules.csv"
    rules.write_text("Instrument,Layer\nETF,Tail\n")
    proc = cli(TOS_PS, "--rules", rules)
    assert proc.returncode == 1
    assert "layer rules (rules.csv) row 2 (Instrument): ETF unknown" in proc.stderr


def test_workbook_layer_rules_table(tmp_path):
    book = tmp_path / "rules_book.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    ws = wb.add_worksheet("Positions")
    ws.add_table("A1:N2", {"name": "PositionsTable",
                           "columns": [{"header": h} for h in HEADERS]})
    rules = wb.add_worksheet("Rules")
    rules.add_table("B3:C4", {"name": "LayerRulesTable", "columns": [{"header": "Instrument"},
                                                                      {"header": "Layer"}],
                              "data": [["ETP", "Vol ETPs"]]})
    wb.close()
    out = tmp_path / "out.xlsx"
    proc = cli(TOS_PS, "--into", book, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert read_table(out, "PositionsTable").rows[0][0] == "Vol ETPs"
    bad = tmp_path / "bad.xlsx"
    wb = xlsxwriter.Workbook(str(bad))
    ws = wb.add_worksheet("Positions")
    ws.add_table("A1:N2", {"name": "PositionsTable",
                           "columns": [{"header": h} for h in HEADERS]})
    wb.add_worksheet("Rules").add_table("B3:C4", {
        "name": "LayerRulesTable", "columns": [{"header": "Instrument"}, {"header": "Layer"}],
        "data": [["ETP", ""]]})
    wb.close()
    proc = cli(TOS_PS, "--into", bad, "--out", tmp_path / "o.xlsx")
    assert proc.returncode == 1
    assert "LayerRulesTable (Rules) row 4 (Layer): blank" in proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("missing.csv",), "broker file missing.csv: no such file"),
    ((TOS_PS, "--into", TEMPLATE, "--out", TEMPLATE), "would be overwritten"),
    ((TOS_PS, "--into", TEMPLATE, "--out", "/no/such/folder/x.xlsx"),
     "folder /no/such/folder does not exist"),
    ((TOS_PS, "--into", TEMPLATE), "--into WORKBOOK and --out COPY go together"),
    ((TOS_PS, "--into", "missing.xlsx", "--out", "x.xlsx"), "workbook missing.xlsx: no such file"),
    ((TOS_PS, "--rules", "missing_rules.csv"), "rules file missing_rules.csv: no such file"),
])
def test_bad_paths_exit_2_with_one_sentence(args, message):
    proc = cli(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.strip().count("\n") == 0 and message in proc.stderr
    assert proc.stdout == ""


def test_unknown_format_exits_1(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    proc = cli(path)
    assert proc.returncode == 1 and "not a broker export" in proc.stderr


def test_occ_csv_with_as_of(tmp_path):
    path = tmp_path / "book.csv"
    path.write_text("OCC Symbol,Quantity,Mark\nVXZ6,-2,18.4\nVIX   261118C00020000,5,1.1\n")
    proc = cli(path, "--as-of", "2026-10-05")
    assert proc.returncode == 0, proc.stderr
    assert [r[:8] for r in rows_of(proc.stdout)[1:]] == [
        ["VIX L1", "", "VIX", "C", "20", "2026-11-18", "5", "100"],
        ["VIX L2", "", "VX", "", "", "2026-12-16", "-2", "1000"]]
    assert Path(path).read_text().startswith("OCC Symbol")


IC_JAN_OCC = ("Symbol,Qty,Price\n"
              "SPXW  270108P06150000,-1,30.1\nSPXW  270108P06125000,1,27.2\n"
              "SPXW  270108C07050000,-1,13.0\nSPXW  270108C07075000,1,10.0\n"
              "VIX   261216C00019000,1,1.4\nVXX   270115C00065000,1,1.25\n"
              "SPXW  270108P05000000,-2,3.5\n")          # a contract the workbook does not hold


def test_reimport_keeps_the_workbooks_strategies_and_strategy_rules_apply(tmp_path):
    """A broker export has no strategy: the template's IC-Jan, CS-Dec and CS-VXX tags (typed
    by the trader) survive an import into it, a new contract stays untagged, a rule on
    Strategy assigns its layer, and the report still finds the IC-Jan condor."""
    src = tmp_path / "ic.csv"
    src.write_text(IC_JAN_OCC)
    rules = tmp_path / "rules.csv"
    rules.write_text("Strategy,Instrument,Layer\nIC-Jan,,Condor\n,SPXW,Core\n,VIX,VIX L1\n"
                     ",ETP,Tail\n")
    out = tmp_path / "book.xlsx"
    proc = cli(src, "--rules", rules, "--into", TEMPLATE, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Strategy kept from alvh_template.xlsx for 6 of 7 legs" in proc.stderr, proc.stderr
    got = {(r[2], r[3], r[4]): (r[0], r[1]) for r in read_table(out, "PositionsTable").rows
           if r[2]}
    assert got == {("SPXW", "P", 6150): ("Condor", "IC-Jan"),
                   ("SPXW", "P", 6125): ("Condor", "IC-Jan"),
                   ("SPXW", "C", 7050): ("Condor", "IC-Jan"),
                   ("SPXW", "C", 7075): ("Condor", "IC-Jan"),
                   ("SPXW", "P", 5000): ("Core", None),
                   ("VIX", "C", 19): ("VIX L1", "CS-Dec"),
                   ("ETP", "C", 65): ("Tail", "CS-VXX")}, got
    report = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(out),
                             "--json", "--no-charts", "--out", str(tmp_path / "r")],
                            capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert report.returncode in (0, 1), report.stderr
    condor = json.loads(report.stdout)["blocks"]["condor"]
    assert condor[1][:6] == ["IC-Jan", "2027-01-08", 6150.0, 6125.0, 7050.0, 7075.0], condor


def test_a_contract_tagged_with_two_strategies_is_left_untagged_and_named(tmp_path):
    book = tmp_path / "two.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    ws = wb.add_worksheet("Positions")
    rows = [["Core", "IC-A", "SPXW", "P", 6150, "2027-01-08", -1] + [None] * 7,
            ["Core", "IC-B", "SPXW", "Put", 6150.0, "2027-01-08", -1] + [None] * 7,
            ["Core", "IC-A", "SPXW", "C", 7050, "2027-01-08", -1] + [None] * 7]
    ws.add_table("A1:N4", {"name": "PositionsTable",
                           "columns": [{"header": h} for h in HEADERS], "data": rows})
    wb.close()
    src = tmp_path / "two.csv"
    src.write_text("Symbol,Qty\nSPXW  270108P06150000,-2\nSPXW  270108C07050000,-1\n")
    out = tmp_path / "out.xlsx"
    proc = cli(src, "--into", book, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "SPXW 2027-01-08 6150 P is tagged IC-A, IC-B in the workbook: Strategy left " \
           "blank" in proc.stderr, proc.stderr
    got = {(r[3], r[4]): r[1] for r in read_table(out, "PositionsTable").rows}
    assert got == {("P", 6150): None, ("C", 7050): "IC-A"}, got


def test_an_import_that_maps_no_leg_writes_no_copy(tmp_path):
    """The IBKR sample holds stocks only: importing it --into a workbook would hand the user a
    copy whose book is empty. Nothing is written; stderr says why; exit 1."""
    out = tmp_path / "book.xlsx"
    proc = cli(BROKERS / "ibkr_flex_open_positions_2025-11-07.csv", "--into", TEMPLATE,
               "--out", out)
    assert proc.returncode == 1, proc.stderr
    assert "0 legs mapped, 54 ignored" in proc.stderr
    assert "not written: no leg of ibkr_flex_open_positions_2025-11-07.csv could be mapped" \
        in proc.stderr, proc.stderr
    assert not out.exists() and not list(tmp_path.iterdir())
