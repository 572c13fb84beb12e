"""`alvh-xl report [WORKBOOK] [--out DIR] [--json]`: the dashboard without Excel.

Reads the named input tables with openpyxl, computes with the engine, prints the dashboard,
and writes DIR/<name>_report.xlsx (every output block as values, a History row set for the
valuation date, "Last refresh" stamped) plus PNG charts. The input workbook is never written.
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
    from ..errors import WorkbookError
    from ..fileio import atomic_write
    from ..risk.dashboard import build_dashboard, to_json
    from ..xl.refresh import refresh_workbook
    from ..xl.workbook import FileWorkbook, read_inputs

    src = Path(args.workbook) if args.workbook else bundled_template()
    if src.suffix.lower() not in (".xlsx", ".xlsm"):
        raise WorkbookError(f"{src}: expected an .xlsx workbook")
    out_dir = Path(args.out)
    t0 = time.perf_counter()
    big = src.is_file() and src.stat().st_size >= PROGRESS_MIN_BYTES and not args.json
    with _progress(big) as step:
        step("reading the workbook")
        book = FileWorkbook(src)
        inputs = read_inputs(book)
        step("valuing the book")
        dash = build_dashboard(inputs.positions, inputs.market, inputs.curve,
                               inputs.thresholds, inputs.hedges, inputs.scenarios,
                               inputs.raw.get("ALVH_VIXFUT_SERIES"),
                               inputs.raw.get("ALVH_VVIX_SERIES"))
        step("filling the workbook")
        result = refresh_workbook(book, progress=None)
        out_dir.mkdir(parents=True, exist_ok=True)
        out_book = out_dir / f"{src.stem}_report.xlsx"
        if out_book.resolve() == src.resolve():
            raise WorkbookError("the report would overwrite its input workbook; use --out")
        atomic_write(out_book, book.save, binary=True, what="report workbook")
        charts: list[Path] = []
        if not args.no_charts:
            step("drawing charts")
            from ..charts import write_charts

            charts = write_charts(dash, out_dir, inputs.raw.get("ALVH_VIXFUT_SERIES"),
                                  inputs.raw.get("ALVH_VVIX_SERIES"))
    elapsed = time.perf_counter() - t0
    if args.json:
        payload = to_json(dash)
        payload["files"] = {"workbook": str(out_book), "charts": [str(p) for p in charts]}
        json.dump(payload, sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        from ..terminal import print_dashboard

        print_dashboard(dash, src=src, out_book=out_book, charts=charts, seconds=elapsed,
                        message=result.message)
    return 0


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

        return step

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
