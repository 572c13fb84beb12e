"""Blocks cut to their layout area (report copy, Refresh, LibreOffice Calc): a table longer
*or wider* than its area says so in its last row, naming what was cut — never a silent cut.

Reference: the cells before cutting (the table the engine computed)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import openpyxl

from alvh_xl.commands.report import bundled_template
from alvh_xl.tools.synthetic import write_positions
from alvh_xl.xl.frames import fit
from alvh_xl.xl.layout import OUTPUT_BY_KEY, cell_ref


def table(rows: int, cols: int) -> list[list]:
    return [[f"H{j}" for j in range(cols)],
            *[[float(10 * i + j) for j in range(cols)] for i in range(1, rows)]]


def test_a_table_that_fits_is_unchanged():
    cells = table(4, 3)
    assert fit(cells, 10, 5, "see X") == cells


def test_rows_cut_say_how_many_in_the_last_row():
    cells = table(20, 3)
    out = fit(cells, 10, 5, "see X")
    assert len(out) == 10 and out[:9] == cells[:9], out
    assert out[-1][0] == "… 11 more rows: see X", out[-1]


def test_columns_cut_are_named_in_a_row_under_the_table():
    cells = table(4, 8)
    out = fit(cells, 10, 5, "see X")
    assert [r[:5] for r in cells] == out[:4], out
    assert len(out) == 5 and all(len(r) == 5 for r in out), out
    assert out[-1][0] == "… 3 more columns (H5, H6, H7): see X", (out[-1], cells[0])


def test_rows_and_columns_cut_together():
    cells = table(20, 8)
    out = fit(cells, 10, 5, "see X")
    assert len(out) == 10 and all(len(r) == 5 for r in out), out
    assert out[-1][0] == "… 11 more rows and 3 more columns (H5, H6, H7): see X", out[-1]


def test_a_full_height_table_with_columns_cut_gives_up_its_last_row_for_the_note():
    cells = table(10, 8)
    out = fit(cells, 10, 5, "see X")
    assert len(out) == 10 and out[:9] == [r[:5] for r in cells[:9]]
    assert out[-1][0] == "… 1 more row and 3 more columns (H5, H6, H7): see X", out[-1]


def test_report_copy_of_a_book_with_many_layers_names_the_layer_columns_it_cut(tmp_path):
    """Nine layers: the scenarios block (12 columns) holds Name … PnL and 7 layers; the report
    copy says which layers it left out of the block instead of dropping them silently."""
    book = tmp_path / "many.xlsx"
    shutil.copy(bundled_template(), book)
    wb = openpyxl.load_workbook(book, read_only=True)
    rows = [list(r) for r in wb["Positions"].iter_rows(min_row=1, max_col=14, values_only=True)]
    wb.close()
    header, legs = rows[0], [r for r in rows[1:] if any(v is not None for v in r)]
    layer, instr, expiry, qty = (header.index(h) for h in ("Layer", "Instrument", "Expiry",
                                                           "Qty"))
    for n, when in enumerate(("2027-02-17", "2027-03-17", "2027-04-21", "2027-05-19",
                              "2027-06-16"), start=3):
        row = [None] * 14
        row[layer], row[instr], row[qty] = f"VIX L{n}", "VX", 1
        row[expiry] = __import__("datetime").datetime.fromisoformat(when)
        legs.append(row)
    write_positions(book, [header, *legs])
    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(book), "--json",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    full = json.loads(proc.stdout)["blocks"]["scenarios"]
    out = OUTPUT_BY_KEY["scenarios"]
    assert len(full[0]) > out.max_cols, full[0]
    cut = [str(h) for h in full[0][out.max_cols:]]
    wb = openpyxl.load_workbook(tmp_path / "out" / "many_report.xlsx", read_only=True)
    r0, c0 = cell_ref(out.anchor)
    block = [list(r) for r in wb[out.sheet].iter_rows(
        min_row=r0, max_row=r0 + out.max_rows - 1, min_col=c0, max_col=c0 + out.max_cols - 1,
        values_only=True)]
    wb.close()
    notes = [r[0] for r in block if isinstance(r[0], str) and r[0].startswith("…")]
    assert len(notes) == 1 and f"{len(cut)} more columns ({', '.join(cut)})" in notes[0], \
        (notes, cut, block)
