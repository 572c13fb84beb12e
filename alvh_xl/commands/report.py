"""`alvh-xl report [WORKBOOK] [--out DIR] [--json]`: the dashboard without Excel.

Reads the workbook once, values the book once (``xl.pipeline``), then renders that one
dashboard as the terminal dashboard (or JSON), DIR/<name>_report.xlsx (the layout rebuilt
with your inputs, every block as values, History with this date's rows, "Last refresh"
stamped) and PNG charts, each drawn once. The input workbook is never written.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

TEMPLATE_NAME = "alvh_template.xlsx"
# Workbooks this large (≈ 1,000+ legs) take over a second to report: show a progress bar.
PROGRESS_MIN_BYTES = 150_000


def bundled_template() -> Path:
    """The template shipped with the package (or the repository's workbooks/ copy).

    Where neither is a real workbook (e.g. a checkout on a system without symlinks, where
    alvh_xl/data/alvh_template.xlsx is a one-line text file), a fresh copy is built by the
    same code that wrote the committed one, once, into the temporary directory.
    """
    packaged = Path(str(resources.files("alvh_xl") / "data" / TEMPLATE_NAME))
    repo = Path(__file__).resolve().parents[2] / "workbooks" / TEMPLATE_NAME
    for candidate in (packaged, repo):
        if candidate.is_file() and candidate.read_bytes()[:2] == b"PK":
            return candidate
    from .. import __version__
    from ..tools.template import build_template

    built = Path(tempfile.gettempdir()) / f"alvh_xl-{__version__}" / TEMPLATE_NAME
    if not built.is_file():
        built.parent.mkdir(parents=True, exist_ok=True)
        build_template(built)
    return built


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workbook", nargs="?", help="ALVH workbook (.xlsx); default: the "
                        "bundled template")
    parser.add_argument("--out", default="alvh-report", help="output folder (default "
                        "./alvh-report)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead "
                        "of the dashboard")
    parser.add_argument("--no-charts", action="store_true", help="skip the PNG charts")


def run(args: argparse.Namespace) -> int:
    from ..xl.layout import LAYOUT
    from ..xl.marking import mark_inputs
    from ..xl.pipeline import build_dashboard, to_json
    from ..xl.workbook import open_workbook, read_inputs

    src = Path(args.workbook) if args.workbook else bundled_template()
    out_dir = Path(args.out)
    out_book = out_dir / f"{src.stem}_report.xlsx"
    check_paths(src, out_dir, out_book)
    t0 = time.perf_counter()
    big = src.is_file() and src.stat().st_size >= PROGRESS_MIN_BYTES and not args.json
    with _progress(big) as step, _Charts(out_dir, enabled=not args.no_charts) as charts:
        step("reading the workbook")           # meanwhile the charts process starts up
        io = open_workbook(src)
        inputs = read_inputs(io)
        inputs = mark_inputs(inputs, src.resolve().parent, LAYOUT)
        step("valuing the book")
        dash = build_dashboard(inputs)
        charts.draw(dash.engine, inputs.raw.get("ALVH_VIXFUT_SERIES"),
                    inputs.raw.get("ALVH_VVIX_SERIES"))
        step("filling the workbook")           # while the other process draws the charts
        dash.notes.extend(write_report_workbook(io, dash, out_book))
        step("drawing charts")
    elapsed = time.perf_counter() - t0
    if args.json:
        payload = to_json(dash)
        payload["files"] = {"workbook": str(out_book),
                            "charts": [str(p) for p in charts.paths]}
        json.dump(payload, sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        from ..terminal import print_dashboard

        print_dashboard(dash, src=src, out_book=out_book, charts=charts.paths,
                        seconds=elapsed)
    return 0


class _Charts:
    """The PNG charts, drawn in a second process while this one reads, values and writes the
    workbook: the process starts (and imports matplotlib) on entering the block, ``draw``
    hands it the engine tables, and leaving the block waits for it (``paths`` then lists the
    files; an error in the charts is raised there). Disabled: nothing starts."""

    def __init__(self, out_dir: Path, *, enabled: bool = True):
        self.out_dir, self.enabled = out_dir, enabled
        self.paths: list[Path] = []
        self.pool: Any = None
        self.future: Any = None

    def __enter__(self) -> _Charts:
        if self.enabled:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from ..charts import warm_up

            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            self.pool.submit(warm_up)
        return self

    def draw(self, engine: Any, vix: Any, vvix: Any) -> None:
        if self.pool is not None and engine is not None:
            from ..charts import write_charts

            self.future = self.pool.submit(write_charts, engine, self.out_dir, vix, vvix)

    def __exit__(self, exc_type, *_exc) -> None:
        if self.pool is None:
            return
        try:
            if exc_type is None and self.future is not None:
                self.paths.extend(self.future.result())
        finally:
            self.pool.shutdown(wait=exc_type is None, cancel_futures=True)


def check_paths(src: Path, out_dir: Path, out_book: Path) -> None:
    """One sentence for each path the report cannot use (PathError: exit 2); creates the
    output folder."""
    from ..fileio import input_workbook, output_dir, output_file

    input_workbook(src)
    output_dir(out_dir, create=True)
    output_file(out_book, what="report workbook", not_same_as=[src])


def write_report_workbook(io: Any, dash: Any, out_book: Path) -> list[str]:
    """The report copy: the layout rebuilt with the workbook's inputs, every block as values,
    History with this date's rows. Returns notes (sheets of the workbook not carried over,
    History not updated)."""
    from ..errors import AlvhError
    from ..fileio import atomic_write
    from ..tools.template import write_workbook
    from ..xl import layout as L
    from ..xl.frames import fit
    from ..xl.history_block import (
        HISTORY_MAX_ROWS,
        HISTORY_TITLE,
        history_cell_notes,
        history_rows,
        merge_history,
        read_title,
        sample_date,
    )
    from ..xl.workbook import stamp

    notes = []
    history = None
    if dash.val is not None:
        new = history_rows(dash.inputs, dash.val)
        block = io.read_block(*L.HISTORY_ANCHOR, HISTORY_MAX_ROWS, len(new[0]))
        day = dash.val.market.valuation.date()
        sample = sample_date(read_title(io))
        try:
            history = merge_history(block, new, day, sample)
            notes.extend(history_cell_notes(block, new[0], day))
            if sample and sample != day.isoformat():
                notes.append(f"History: the template's sample rows of {sample} are not "
                             "carried into the report")
        except AlvhError as exc:
            notes.append(f"History not updated: {exc}")
    extra = [s for s in io.sheet_names() if s not in L.SHEETS]
    if extra:
        notes.append(f"sheets not carried into the report: {', '.join(extra)}")
    valuation = dash.val.market.valuation.date() if dash.val is not None else None
    # each block in its layout area, as Refresh writes it (a longer table ends in a row saying
    # how many rows more and where they are)
    blocks = {o.key: fit(dash.blocks[o.key], o.max_rows, o.max_cols, FULL_TABLE_REPORT)
              if dash.blocks.get(o.key) else dash.blocks.get(o.key) for o in L.OUTPUTS}
    atomic_write(out_book, lambda fh: write_workbook(
        fh, dash.inputs.raw, blocks, live=False, history=history, history_title=HISTORY_TITLE,
        kind="report",
        stamp=stamp(), valuation=valuation), binary=True, what="report workbook")
    return notes


FULL_TABLE_REPORT = ("`alvh-xl report --json` lists every row; in Excel the live ALVH_* "
                     "formula spills them all")


class _progress:
    """A rich progress bar for big books (silent otherwise); ``step(text)`` advances it."""

    STEPS = 4

    def __init__(self, show: bool):
        self.show = show
        self.bar: Any = None

    def __enter__(self):
        if not self.show:
            return lambda _text: None
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            TimeElapsedColumn(), transient=True)
        self.bar.start()
        task = self.bar.add_task("alvh-xl report", total=self.STEPS)

        def step(text: str) -> None:
            self.bar.update(task, description=text)
            if self.bar.tasks[0].completed < self.STEPS:
                self.bar.advance(task)
            self.bar.refresh()                      # each step drawn, however quick

        return step

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
