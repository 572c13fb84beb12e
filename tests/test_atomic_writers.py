"""The project's own writers go through fileio.atomic_write: the report workbook (two reports
into one folder at once, 20 rounds, real processes), the PNG charts and the template — a
failure or a full disk leaves the previous file, never a torn one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest

from alvh_xl.errors import PathError
from alvh_xl.fileio import temp_files

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"

# Runs the real `alvh-xl report` code in a loaded process, once per input line.
REPORTER = textwrap.dedent("""
    import argparse, contextlib, io, sys
    from alvh_xl.commands import report
    for line in sys.stdin:
        src, out = line.split()
        args = argparse.Namespace(workbook=src, out=out, json=True, no_charts=True)
        with contextlib.redirect_stdout(io.StringIO()):
            code = report.run(args)
        print(code, flush=True)
""")


def readable(path: Path) -> str | None:
    """None if ``path`` is a whole workbook, else what is wrong with it."""
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
        if bad:
            return f"bad CRC in {bad}"
        openpyxl.load_workbook(path, read_only=True).close()
    except Exception as exc:      # any failure to read is the finding being counted
        return f"{type(exc).__name__}: {exc}"
    return None


def test_two_reports_into_one_folder_never_leave_an_unreadable_workbook(tmp_path):
    """Two different books, both named desk.xlsx, reported into one folder at once: both
    write out/desk_report.xlsx, of different sizes."""
    from alvh_xl.tools.synthetic import big_book, write_positions

    sources = [tmp_path / "a" / "desk.xlsx", tmp_path / "b" / "desk.xlsx"]
    for src in sources:
        src.parent.mkdir()
        src.write_bytes(TEMPLATE.read_bytes())
    write_positions(sources[1], big_book(40))
    workers = [subprocess.Popen([sys.executable, "-c", REPORTER], cwd=ROOT, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
               for _ in range(2)]
    broken = []
    try:
        for r in range(20):
            out = tmp_path / f"round{r}"
            for w, src in zip(workers, sources, strict=True):
                w.stdin.write(f"{src} {out}\n")
                w.stdin.flush()
            assert [w.stdout.readline().strip() for w in workers] == ["0", "0"]
            book = out / "desk_report.xlsx"
            problem = readable(book)
            if problem:
                broken.append((r, problem))
            assert not temp_files(out, book.name)
    finally:
        for w in workers:
            w.stdin.close()
            w.wait(timeout=60)
            w.stdout.close()
    print(f"20 rounds of 2 concurrent reports into one folder: unreadable workbooks "
          f"{len(broken)}")
    assert broken == []


def test_report_on_a_full_disk_leaves_the_previous_workbook(tmp_path, monkeypatch):
    """The save fails half-way (ENOSPC from the file system): the old report stays whole and
    the command says so in one sentence, exit 2."""
    import errno

    from alvh_xl import cli
    from alvh_xl.tools import template as writer

    out = tmp_path / "out"
    assert cli.main(["report", str(TEMPLATE), "--out", str(out), "--no-charts", "--json"]) == 0
    book = out / f"{TEMPLATE.stem}_report.xlsx"
    before = book.read_bytes()
    real_write = writer.write_workbook

    def disk_full(fh, *args, **kwargs):
        real_write(fh, *args, **kwargs)           # the whole workbook goes out, then …
        fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer, "write_workbook", disk_full)
    code = cli.main(["report", str(TEMPLATE), "--out", str(out), "--no-charts", "--json"])
    assert code == 2
    assert book.read_bytes() == before and not temp_files(out, book.name)


def test_a_failing_chart_leaves_the_previous_png(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alvh_xl import charts

    png = tmp_path / "c.png"
    fig = plt.figure()
    charts._save(fig, png)
    before = png.read_bytes()
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    fig = plt.figure()

    def half_then_fail(fh, **kw):
        fh.write(b"\x89PNG half")
        raise RuntimeError("renderer died")

    monkeypatch.setattr(fig, "savefig", half_then_fail)
    with pytest.raises(RuntimeError, match="renderer died"):
        charts._save(fig, png)
    assert png.read_bytes() == before and not temp_files(tmp_path, "c.png")
    assert not plt.get_fignums()                  # the figure is closed either way


def test_template_is_written_atomically_and_refuses_special_paths(tmp_path):
    from alvh_xl.tools.template import build_template

    out = build_template(tmp_path / "t.xlsx")
    assert readable(out) is None and not temp_files(tmp_path, "t.xlsx")
    assert out.read_bytes() == TEMPLATE.read_bytes()       # same bytes as the committed one
    with pytest.raises(PathError, match="is a device"):
        build_template("/dev/full")
