"""`alvh-xl import-positions` run as a subprocess on the real samples: CSV on stdout, the
ignored / unmapped rows on stderr, a workbook copy with --into/--out, rules from --rules or
the workbook's LayerRulesTable, CSV escaping, and bad paths (exit 2)."""

from __future__ import annotations

import csv
import datetime as dt
import io
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
    assert f"{legs} legs mapped, {ignored} ignored, {unmapped} not mapped" in proc.stderr
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
    assert proc.stdout == "" and "PositionsTable holds 1 legs" in proc.stderr
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
