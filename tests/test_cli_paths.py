"""Every command, every unusable path: one sentence on stderr naming the path and why, exit 2,
nothing written, no traceback.

Paths tried: a missing file, a folder where a file is needed, a file where a folder is needed,
a missing parent folder, a device (/dev/full), and an output that is one of the inputs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alvh_xl.cli import main

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
DATA = Path(__file__).parent / "data"
CHAIN = DATA / "spx_quotedata_2025-10-01_exp2026-04-17_cboe.csv"


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A folder with a workbook, a plain file, a sub-folder; the working directory."""
    shutil.copy(TEMPLATE, tmp_path / "wb.xlsx")
    (tmp_path / "afile").write_text("x\n")
    (tmp_path / "folder").mkdir()
    shutil.copy(CHAIN, tmp_path / "chain.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


CASES = [
    # (argv, words the sentence must hold)
    (["report", "nosuch.xlsx"], ["nosuch.xlsx", "no such file"]),
    (["report", "folder"], ["folder", "a folder, not a file"]),
    (["report", "afile"], ["afile", "expected an Excel workbook"]),
    (["report", "missing/wb.xlsx"], ["missing", "does not exist"]),
    (["report", "wb.xlsx", "--out", "afile"], ["afile", "is a file, not a folder"]),
    (["report", "wb.xlsx", "--out", "afile/sub"], ["afile", "is a file, not a folder"]),
    (["report", "/dev/full"], ["/dev/full", "device"]),
    (["check", "nosuch.xlsx"], ["nosuch.xlsx", "no such file"]),
    (["check", "afile"], ["afile", "expected an Excel workbook"]),
    (["check", "wb.xlsx", "--strip", "wb.xlsx"], ["wb.xlsx", "would be overwritten"]),
    (["check", "wb.xlsx", "--strip", "/dev/full"], ["/dev/full", "device"]),
    (["template", "afile"], ["afile", ".xlsx"]),
    (["template", "wb.xlsx"], ["wb.xlsx", "exists", "--force"]),
    (["template", "missing/t.xlsx"], ["missing", "does not exist"]),
    (["template", "folder"], ["folder", ".xlsx"]),
    (["snapshot", "nosuch.xlsx"], ["nosuch.xlsx", "no such file"]),
    (["snapshot", "wb.xlsx", "--history", "afile/h.csv"], ["afile", "is a file, not a folder"]),
    (["snapshot", "wb.xlsx", "--history", "wb.xlsx"], ["wb.xlsx", "would be overwritten"]),
    (["snapshot", "wb.xlsx", "--history", "folder"], ["folder", "a folder"]),
    (["attribution", "nosuch.csv"], ["nosuch.csv", "no such file"]),
    (["attribution", "folder"], ["folder", "a folder, not a file"]),
    (["chain", "nosuch.csv"], ["nosuch.csv", "no such file"]),
    (["chain", "folder"], ["folder", "a folder, not a file"]),
    (["import-positions", "nosuch.csv"], ["nosuch.csv", "no such file"]),
    (["import-positions", "folder"], ["folder", "a folder, not a file"]),
    (["import-positions", "afile", "--into", "wb.xlsx"], ["--into", "--out", "together"]),
    (["import-positions", "afile", "--into", "nosuch.xlsx", "--out", "o.xlsx"],
     ["nosuch.xlsx", "no such file"]),
    (["import-positions", "afile", "--into", "wb.xlsx", "--out", "wb.xlsx"],
     ["wb.xlsx", "would be overwritten"]),
    (["import-positions", "afile", "--into", "wb.xlsx", "--out", "afile"],
     ["afile", "would be overwritten"]),
    (["import-positions", "afile", "--into", "wb.xlsx", "--out", "missing/o.xlsx"],
     ["missing", "does not exist"]),
    (["import-positions", "afile", "--rules", "nosuch.csv"], ["nosuch.csv", "no such file"]),
    (["mark", "wb.xlsx", "--chain", "nosuch.csv", "--out", "o.xlsx"],
     ["nosuch.csv", "no such file"]),
    (["mark", "nosuch.xlsx", "--chain", "chain.csv", "--out", "o.xlsx"],
     ["nosuch.xlsx", "no such file"]),
    (["mark", "wb.xlsx", "--chain", "chain.csv", "--out", "wb.xlsx"],
     ["wb.xlsx", "would be overwritten"]),
    (["mark", "wb.xlsx", "--chain", "chain.csv", "--out", "chain.csv"],
     ["chain.csv", "would be overwritten"]),
    (["mark", "wb.xlsx", "--chain", "chain.csv", "--out", "folder"], ["folder", "a folder"]),
    (["mark", "wb.xlsx", "--chain", "chain.csv", "--out", "/dev/full"], ["/dev/full", "device"]),
    (["curve", "--date", "2024-01-02", "nosuch.csv"], ["nosuch.csv", "no such file"]),
    (["curve", "--date", "2024-01-02", "afile", "--into", "wb.xlsx", "--out", "wb.xlsx"],
     ["wb.xlsx", "would be overwritten"]),
    (["curve", "--date", "2024-01-02", "afile", "--into", "wb.xlsx"], ["--into", "--out"]),
    (["curve", "--date", "2024-01-02", "afile", "--into", "afile", "--out", "o.xlsx"],
     ["afile", "expected an Excel workbook"]),
    (["lite", "--out", "afile"], ["afile", "is a file, not a folder"]),
]


@pytest.mark.parametrize(("argv", "words"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_unusable_path_is_one_sentence_and_exit_2(place, capsys, argv, words):
    before = sorted(p.name for p in place.iterdir())
    sizes = {p.name: p.stat().st_size for p in place.iterdir() if p.is_file()}
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"alvh-xl {argv[0]}: "), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)
    assert sorted(p.name for p in place.iterdir()) == before          # nothing created
    assert {p.name: p.stat().st_size for p in place.iterdir() if p.is_file()} == sizes


def test_whole_process_exit_status(place):
    """The installed entry point maps the same errors to exit 2 (not 1, not a traceback)."""
    for argv in (["report", "nosuch.xlsx"], ["mark", "wb.xlsx", "--chain", "chain.csv",
                                             "--out", "wb.xlsx"]):
        proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", *argv], cwd=place,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
