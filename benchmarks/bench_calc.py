"""LibreOffice Calc recalculating the template with the ALVH add-in (issue 12).

Installs alvh_xl.oxt into a throw-away profile (``alvh-xl calc install --profile``), then
``calc_driver.py`` (run by LibreOffice's Python) times: opening the template with
recalculation on load (the worker process starts here), a full recalculation with warm
worker caches, and an edit of SpxSpot followed by the recalculation of every block that
depends on it (computed afresh). Peer, measured in the same run: the same 14 blocks computed
in this process by the engine (``evaluate_outputs``, caches cleared), for the template and for
the edited inputs. Best of ``REPEAT`` runs each.

Run alone with ``python benchmarks/bench_calc.py``; ``run.py`` includes it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
DRIVER = Path(__file__).with_name("calc_driver.py")
REPEAT = 3
EDIT_VALUE = 6650.0            # SpxSpot: 6712.4 in the template


def office_python() -> str | None:
    """An interpreter that can ``import uno`` (LibreOffice's own, or the system's)."""
    from alvh_xl.tools import libreoffice as lo

    candidates = []
    try:
        candidates.append(str(Path(lo.find_program("soffice")).resolve().parent / "python"))
    except lo.OfficeError:
        return None
    candidates += [shutil.which("python3", path=lo.office_env()["PATH"]), "/usr/bin/python3"]
    for exe in filter(None, candidates):
        if Path(exe).is_file() and subprocess.run(
                [exe, "-c", "import uno"], capture_output=True, env=lo.office_env()
        ).returncode == 0:
            return exe
    return None


def spot_cell() -> tuple[str, str]:
    from alvh_xl.xl.layout import INPUT_BY_NAME, a1, cell_ref

    t = INPUT_BY_NAME["ALVH_MARKET"]
    row = next(i for i, (field, *_rest) in enumerate(t.sample) if field == "SpxSpot")
    r, c = cell_ref(t.anchor)
    return t.sheet, a1(r + 1 + row, c + t.headers.index("Value"))


def evaluate_outputs(raw: dict) -> dict:
    """Every block of the layout from these inputs (the engine in this process)."""
    from alvh_xl.xl.layout import LAYOUT
    from alvh_xl.xl.pipeline import evaluate_output

    return {o.key: evaluate_output(o, raw) for o in LAYOUT.outputs}


def engine_seconds(raw: dict) -> float:
    from alvh_xl.xl.cache import BOOKS, RESULTS

    best = float("inf")
    for _ in range(REPEAT):
        BOOKS.clear()
        RESULTS.clear()
        t0 = time.perf_counter()
        evaluate_outputs(raw)
        best = min(best, time.perf_counter() - t0)
    return best


def run_calc_bench() -> dict:
    """Seconds for each case (best of REPEAT); {"skipped": reason} without LibreOffice."""
    from alvh_xl.cli import main
    from alvh_xl.tools import libreoffice as lo
    from alvh_xl.xl.workbook import read_inputs

    python = office_python()
    if python is None:
        return {"skipped": "LibreOffice with Python (python3-uno) not found"}
    sheet, cell = spot_cell()
    base = Path(tempfile.mkdtemp(prefix="alvh-calc-bench-"))
    try:
        base.chmod(0o755)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chown(base, nobody.pw_uid, nobody.pw_gid)   # unopkg refuses root
        profile = base / "profile"
        if main(["calc", "install", "--profile", str(profile)]) != 0:
            return {"skipped": "alvh-xl calc install failed (see above)"}
        lo.set_recalc_on_load(profile)
        runs = []
        for i in range(REPEAT):
            out = base / f"out{i}.xlsx"
            done = subprocess.run([python, str(DRIVER), str(profile), str(TEMPLATE), str(out),
                                   sheet, cell, str(EDIT_VALUE)], capture_output=True,
                                  text=True, timeout=900, env=lo.office_env())
            if done.returncode != 0:
                raise RuntimeError(f"calc_driver failed:\n{done.stdout}\n{done.stderr}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        raw = read_inputs(TEMPLATE).raw
        edited = read_inputs(base / "out0.xlsx").raw
        result = {k: min(r[k] for r in runs) for k in ("load", "first", "warm", "edit")}
        result["open_and_first"] = min(r["load"] + r["first"] for r in runs)
        result.update(engine=engine_seconds(raw), engine_edited=engine_seconds(edited),
                      check=runs[0]["check"], python=python,
                      engine_check=[f"{evaluate_outputs(edited)[k][0][0]:.1f}"
                                    for k in ("netvega_raw", "netvega_weighted")])
        return result
    finally:
        shutil.rmtree(base, ignore_errors=True)


def print_calc_bench(r: dict) -> None:
    rows = [("open the template (import, name resolution)", r["load"]),
            ("first full recalculation (worker starts, every block)", r["first"]),
            ("  open + first recalculation", r["open_and_first"]),
            ("full recalculation again (warm worker caches)", r["warm"]),
            ("edit SpxSpot → recalculate dependent blocks (fresh)", r["edit"]),
            ("peer: engine in-process, template's 14 blocks", r["engine"]),
            ("peer: engine in-process, edited inputs", r["engine_edited"])]
    for name, seconds in rows:
        print(f"{name:56s} {seconds:8.3f} s")
    print(f"Calc edit / engine: {r['edit'] / r['engine_edited']:.1f}×; after the edit Calc shows "
          f"net vega {r['check']}, the engine {r['engine_check']}")


if __name__ == "__main__":
    result = run_calc_bench()
    if "skipped" in result:
        print("skipped:", result["skipped"])
    else:
        print_calc_bench(result)
