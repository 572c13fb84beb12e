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
    with _progress(big) as step:
        step("reading the workbook")
        io = open_workbook(src)
        inputs = read_inputs(io)
        inputs = mark_inputs(inputs, src.resolve().parent, LAYOUT)
        step("valuing the book")
        dash = build_dashboard(inputs)
        step("filling the workbook")
        notes = write_report_workbook(io, dash, out_book)
        dash.notes.extend(notes)
        charts: list[Path] = []
        if not args.no_charts and dash.engine is not None:
            step("drawing charts")
            from ..charts import write_charts

            charts = write_charts(dash.engine, out_dir, inputs.raw.get("ALVH_VIXFUT_SERIES"),
                                  inputs.raw.get("ALVH_VVIX_SERIES"))
    elapsed = time.perf_counter() - t0
    if args.json:
        payload = to_json(dash)
        payload["files"] = {"workbook": str(out_book), "charts": [str(p) for p in charts]}
        json.dump(payload, sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        from ..terminal import print_dashboard

        print_dashboard(dash, src=src, out_book=out_book, charts=charts, seconds=elapsed)
    return 0


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
    from ..xl.refresh import HISTORY_MAX_ROWS, history_rows, merge_history
    from ..xl.workbook import stamp

    notes = []
    history = None
    if dash.val is not None:
        new = history_rows(dash.inputs, dash.val)
        block = io.read_block(*L.HISTORY_ANCHOR, HISTORY_MAX_ROWS, len(new[0]))
        try:
            history = merge_history(block, new, dash.val.market.valuation.date())
        except AlvhError as exc:
            notes.append(f"History not updated: {exc}")
    extra = [s for s in io.sheet_names() if s not in L.SHEETS]
    if extra:
        notes.append(f"sheets not carried into the report: {', '.join(extra)}")
    valuation = dash.val.market.valuation.date() if dash.val is not None else None
    atomic_write(out_book, lambda fh: write_workbook(
        fh, dash.inputs.raw, dash.blocks, live=False, history=history, kind="report",
        stamp=stamp(), valuation=valuation), binary=True, what="report workbook")
    return notes


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
