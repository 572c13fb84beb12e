"""`alvh-xl report` wall time including Python start-up (issues 5 and 9): the bundled template
≤ 3 s, a generated 10,000-leg workbook ≤ 4 s (dashboard, filled workbook, charts). Each is the
best of three subprocess runs; the peer is the bare interpreter start-up with the same imports
(``python -c "import alvh_xl.commands.report"``), so the ratio shows the report's own work.

Run alone with ``python benchmarks/bench_report.py``; ``run.py`` includes it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(args: list[str], cwd: Path, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", *args], cwd=cwd,
                       check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def startup(repeat: int = 3) -> float:
    """The peer: the interpreter importing what the report imports, doing nothing."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import alvh_xl.commands.report, "
                        "alvh_xl.xl.pipeline, alvh_xl.tools.template"], check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def udfs_import(repeat: int = 3) -> tuple[float, float]:
    """(import xlwings, import xlwings + alvh_xl.udfs) in fresh interpreters, best of
    ``repeat``: what Excel's start-up pays for our functions on top of xlwings itself."""
    def best(code: str) -> float:
        out = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            out = min(out, time.perf_counter() - t0)
        return out

    return best("import xlwings"), best("import xlwings, alvh_xl.udfs")


def run_report_bench() -> list[tuple[str, str, str, bool]]:
    from alvh_xl.commands.report import bundled_template
    from alvh_xl.tools.synthetic import big_book, write_positions

    base = startup()
    out = [("interpreter + imports only (peer)", f"{base:.2f} s", "", True)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = wall([], tmp)
        out.append(("template (dashboard + workbook + 4 PNG charts)",
                    f"{t:.2f} s ({t / base:.1f}× start-up)", "≤ 3 s", t <= 3.0))
        big = tmp / "big.xlsx"
        shutil.copy(bundled_template(), big)
        write_positions(big, big_book(10_000))
        t = wall([str(big), "--out", str(tmp / "big-out")], tmp, repeat=3)
        out.append(("10,000 legs (dashboard + workbook + charts)",
                    f"{t:.2f} s ({t / base:.1f}× start-up)", "≤ 4 s", t <= 4.0))
    xw_only, with_udfs = udfs_import()
    out.append(("Excel start-up: import alvh_xl.udfs after xlwings",
                 f"+{with_udfs - xw_only:.2f} s (xlwings alone {xw_only:.2f} s)", "lean", True))
    return out


if __name__ == "__main__":
    for case, measured, target, ok in run_report_bench():
        print(f"{case:50s} {measured:>24s}  target {target:7s} {'OK' if ok else 'MISSED'}")
