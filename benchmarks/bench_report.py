"""`alvh-xl report` wall time including Python start-up (issue 5): the bundled template
≤ 3 s, a generated 10,000-leg workbook ≤ 15 s. Each is the best of three subprocess runs.

Run alone with ``python benchmarks/bench_report.py``; ``run.py`` includes it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def wall(args: list[str], cwd: Path, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", *args], cwd=cwd,
                       check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def run_report_bench() -> list[tuple[str, str, str, bool]]:
    from test_report import big_book, write_positions

    from alvh_xl.commands.report import bundled_template

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = wall([], tmp)
        out.append(("template (dashboard + workbook + 4 PNG charts)", f"{t:.2f} s", "≤ 3 s",
                    t <= 3.0))
        big = tmp / "big.xlsx"
        shutil.copy(bundled_template(), big)
        write_positions(big, big_book(10_000))
        t = wall([str(big), "--out", str(tmp / "big-out")], tmp, repeat=2)
        out.append(("10,000 legs (dashboard + workbook + charts)", f"{t:.2f} s", "≤ 15 s",
                    t <= 15.0))
    return out


if __name__ == "__main__":
    for case, measured, target, ok in run_report_bench():
        print(f"{case:50s} {measured:>8s}  target {target:7s} {'OK' if ok else 'MISSED'}")
