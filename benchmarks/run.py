"""All benchmarks in one command: ``python benchmarks/run.py`` (see benchmarks/README.md).

Each section is a function returning a ``Section`` (title, column names, rows of text, notes);
``SECTIONS`` lists them in order. To add one, write ``def my_section() -> Section`` (in this
file or a ``bench_*.py`` module imported here) and append it to ``SECTIONS``. A section whose
optional module or peer is missing says so in its notes instead of failing the run.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_greeks as bg  # noqa: E402


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _per_option(seconds: float, n: int) -> str:
    ns = seconds / n * 1e9
    return f"{ns:,.0f} ns" if ns < 1e4 else f"{ns / 1e3:,.1f} µs"


def greeks_section() -> Section:
    sec = Section("Price + all Greeks, BSM on spot (1 process, this machine's cores)",
                  ["n", "ours", "per option", "py_vollib_vectorized", "speed-up",
                   "QuantLib loop", "speed-up", "max |Δprice| vs peer"])
    rows = bg.run_greeks_bench()
    for r in rows:
        n = r["n"]
        peer = r.get("peer_s")
        sec.rows.append([
            f"{n:,}", _ms(r["ours_s"]), _per_option(r["ours_s"], n),
            _ms(peer) if peer else "n/a", f"{peer / r['ours_s']:,.1f}×" if peer else "n/a",
            _ms(r["ql_s"]) + (" *" if r["ql_sampled"] else ""),
            f"{r['ql_s'] / r['ours_s']:,.0f}×",
            f"{r['price_diff']:.1e}" if peer else "n/a"])
    sec.notes += [
        "ours: price, delta, gamma, vega, theta, rho, vanna, volga, charm (analytic).",
        "py_vollib_vectorized 0.1.1: price + get_all_greeks (delta, gamma, theta, rho, vega;"
        " finite differences).",
        f"QuantLib: BlackCalculator per option (value + 7 Greeks); * = {bg.QL_SAMPLE:,} options"
        " timed, extrapolated linearly to n.",
        "Times: best of several runs after a warm-up (numba compiles on first use).",
    ]
    if not bg.have_peer():
        sec.notes.append("py_vollib_vectorized not importable: install it (README) to compare.")
    return sec


def iv_section() -> Section:
    sec = Section("Implied vol (benchmarks/bench_iv.py)",
                  ["case", "n", "ours", "peer", "speed-up", "max |Δvol|"])
    try:
        bench_iv = importlib.import_module("bench_iv")
    except ImportError as exc:
        sec.notes.append(f"skipped: benchmarks/bench_iv.py not importable ({exc}).")
        return sec
    for case, n, ours_s, peer_s, ratio, err in bench_iv.run_iv_bench([100_000, 1_000_000]):
        sec.rows.append([str(case), f"{n:,}", _ms(ours_s),
                         _ms(peer_s) if peer_s else "n/a",
                         f"{ratio:,.1f}×" if ratio else "n/a",
                         f"{err:.1e}" if err is not None else "n/a"])
    return sec


def american_section() -> Section:
    sec = Section("American options on a vol ETP: price + all Greeks (benchmarks/"
                  "bench_american.py)",
                  ["case", "n", "ours best", "median", "per option", "price only (median)",
                   "QuantLib QdFp loop", "speed-up", "BSM (European)", "ours / BSM",
                   "target 0.5 s", "load"])
    try:
        bench_american = importlib.import_module("bench_american")
    except ImportError as exc:
        sec.notes.append(f"skipped: benchmarks/bench_american.py not importable ({exc}).")
        return sec
    rows = bench_american.run_american_bench()
    for r in rows:
        n, ours, ql_s = r["n"], r.get("greeks_s"), r.get("ql_s")
        price = f"{_ms(r['price_s'])} ({_ms(r['price_median_s'])})"
        if ours is None:                                    # scenario repricing: price only
            sec.rows.append([r["case"], f"{n:,}", "", "", _per_option(r["price_s"], n), price,
                             "", "", "", "", "", f"{r['load']:.2f}"])
            continue
        sec.rows.append([r["case"], f"{n:,}", _ms(ours), _ms(r["greeks_median_s"]),
                         _per_option(ours, n), price, _ms(ql_s) + " *" if ql_s else "n/a",
                         f"{ql_s / ours:,.0f}×" if ql_s else "n/a", _ms(r["bsm_s"]),
                         f"{ours / r['bsm_s']:,.0f}×",
                         "met" if ours <= bench_american.TARGET_S else "NOT met",
                         f"{r['load']:.2f}"])
    sec.notes += [
        "ours: american_greeks, price and 8 Greeks (delta, gamma, theta, charm analytic;"
        " vega, vanna, volga from two more boundaries; rho by identity or one more); best and"
        f" median of {bench_american.REPEAT} calls on {rows[0]['threads']} thread(s); load ="
        " 1-minute load average when the case started.",
        "Puts without dividend take the exercise boundary from a table built once per"
        f" process on first use ({rows[0]['table_s']:.2f} s here); with a dividend it is"
        " solved per option.",
        f"QuantLib: QdFpAmericanEngine fast scheme, price + 8 bumped prices per option; * ="
        f" {bench_american.QL_SAMPLE} options timed, extrapolated linearly to n.",
        "BSM: bsm_greeks on the same options (European, analytic): the floor.",
    ]
    return sec


def memory_section() -> Section:
    sec = Section("Peak memory, price + all Greeks for 1,000,000 options (fresh subprocess)",
                  ["tracemalloc peak", "max RSS", "RSS growth in the call", "result arrays"])
    m = bg.peak_memory(1_000_000)
    sec.rows.append([f"{m['tracemalloc_peak_mb']:,.0f} MB", f"{m['max_rss_mb']:,.0f} MB",
                     f"{m['rss_growth_mb']:,.0f} MB", f"{m['result_mb']:,.0f} MB"])
    sec.notes.append("max RSS includes the interpreter, numpy/scipy and the 1e6 inputs.")
    return sec


def targets_section(title: str, module: str, function: str) -> Callable[[], Section]:
    """A section from a ``bench_*.py`` function returning rows (case, measured, target, met)."""

    def make() -> Section:
        sec = Section(title, ["case", "measured", "target", "met"])
        rows = getattr(importlib.import_module(module), function)()
        for case, measured, target, ok in rows:
            sec.rows.append([case, measured, target, "yes" if ok else "NO"])
        return sec

    return make


def scale_section() -> Section:
    sec = Section("Bounded memory and linear costs, ours vs the pre-block code "
                  "(benchmarks/bench_scale.py, fresh subprocess each)",
                  ["case", "ours", "peer", "speed-up", "ours memory", "peer memory",
                   "memory ratio", "target", "met", "same bits"])
    for r in importlib.import_module("bench_scale").run_scale_bench():
        o, p = r["ours"], r["peer"]
        o_mb, p_mb = (max(x["traced_mb"], x["rss_growth_mb"]) for x in (o, p))
        sec.rows.append([r["case"], _ms(o["seconds"]), _ms(p["seconds"]),
                         f"{p['seconds'] / o['seconds']:,.1f}×", f"{o_mb:,.0f} MB",
                         f"{p_mb:,.0f} MB", f"{p_mb / max(o_mb, 1e-9):,.0f}×", r["target"],
                         "yes" if r["met"] else "NO",
                         "yes" if r["identical"] else f"NO (max |Δ| {r['max_diff']:.1e})"])
    sec.notes += [
        "peer: copies of the pre-block functions (whole scenarios × legs matrix, one column "
        "scan per layer, every shift's break-even search at once).",
        "memory: the larger of the tracemalloc peak and the VmHWM growth during the call "
        "(inputs excluded).",
    ]
    return sec


def xlwings_iv_section() -> Section:
    """ALVH_IV over 1e6 cells through xlwings' Office.js path (bench_xlwings.py --iv), in a
    fresh process: xlwings' server registration is chosen when alvh_xl.udfs is imported."""
    sec = Section("ALVH_IV over 1,000,000 cells through xlwings.server.custom_functions_call "
                  "(benchmarks/bench_xlwings.py --iv)",
                  ["case", "ours", "xlwings default conversion", "speed-up", "target", "met"])
    env = {**os.environ, "XLWINGS_ON_SERVER": "true"}
    env.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "bench_xlwings.py"),
                           "--iv", "--json"], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sec.notes.append(f"failed: {done.stderr.strip().splitlines()[-1:]}")
        return sec
    r = json.loads(done.stdout.strip().splitlines()[-1])
    sec.rows += [
        [f"first call ({r['error_cells']:,} cells answer #ALVH!)", _ms(r["first"]),
         _ms(r["peer"]) + " *", f"{r['peer'] / r['first']:,.0f}×", f"≤ {r['target']:g} s",
         "yes" if r["met"] else "NO"],
        ["repeated, equal values in new lists", _ms(r["again"]), "", "", "", ""]]
    sec.notes += [
        f"* peer: the same function registered with xlwings' default per-cell conversion "
        f"(ndim=2), timed on {r['peer_cells']:,} cells and scaled linearly; same cells as ours "
        f"there: {'yes' if r['same'] else 'NO'}.",
        f"load average at the start of the section: {r['load']:.2f}."]
    return sec


def xlwings_functions_section() -> Section:
    """Every ALVH_* function through xlwings' Office.js path at 500 and 5,000 legs
    (bench_xlwings.py --json), in a fresh process."""
    sec = Section("Every ALVH_* function through xlwings.server.custom_functions_call "
                  "(benchmarks/bench_xlwings.py)",
                  ["legs", "function", "first", "repeated", "target", "met",
                   "xlwings default, first", "speed-up"])
    env = {**os.environ, "XLWINGS_ON_SERVER": "true"}
    env.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "bench_xlwings.py"),
                           "--json"], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sec.notes.append(f"failed: {done.stderr.strip().splitlines()[-1:]}")
        return sec
    r = json.loads(done.stdout.strip().splitlines()[-1])
    for row in r["rows"]:
        peer = row["peer_first"]
        timed_peer = peer == peer                           # not NaN
        sec.rows.append([
            f"{row['n']:,}", row["function"], _ms(row["first"]), _ms(row["again"]),
            f"≤ {row['target_first'] * 1e3:g} / {row['target_again'] * 1e3:g} ms",
            "yes" if row["met"] else "NO",
            (_ms(peer) + ("" if row["same"] else " (cells differ)")) if timed_peer else "",
            f"{peer / row['first']:,.0f}×" if timed_peer else ""])
    met = sum(row["met"] for row in r["rows"])
    sec.notes += [f"{met} of {len(r['rows'])} within both targets; first = every cache "
                  "cleared (best of 3 such calls), repeated = equal values sent again in new "
                  "lists (best of 5).",
                  "peer: the same function registered with xlwings' default per-cell "
                  "conversion (ndim=2), first call, every function at 500 legs and two at "
                  "5,000 (each of its calls takes seconds there).",
                  f"load average at the end of the section: {r['load']:.2f}."]
    return sec


def calc_section() -> Section:
    """LibreOffice Calc recalculating the template through the add-in (bench_calc.py)."""
    sec = Section("LibreOffice Calc with the ALVH add-in, the template (benchmarks/bench_calc.py)",
                  ["case", "Calc", "engine in-process", "ratio"])
    r = importlib.import_module("bench_calc").run_calc_bench()
    if "skipped" in r:
        sec.notes.append(f"skipped: {r['skipped']}.")
        return sec
    sec.rows += [
        ["open + first full recalculation (worker starts)", _ms(r["open_and_first"]),
         _ms(r["engine"]), f"{r['open_and_first'] / r['engine']:,.0f}×"],
        ["full recalculation, warm worker caches", _ms(r["warm"]), "", ""],
        ["edit SpxSpot, recalculate dependent blocks", _ms(r["edit"]), _ms(r["engine_edited"]),
         f"{r['edit'] / r['engine_edited']:,.1f}×"]]
    sec.notes += [f"LibreOffice's Python: {r['python']}; Calc shows net vega {r['check']} after"
                  f" the edit, the engine {r['engine_check']}.",
                  "engine: evaluate_outputs on the same inputs, caches cleared; best of 3."]
    return sec


SECTIONS: list[Callable[[], Section]] = [
    greeks_section, iv_section, american_section, memory_section,
    targets_section("Book engine and Excel functions (benchmarks/bench_book.py)", "bench_book",
                    "run_book_bench"),
    targets_section("Close-of-day reconciliation (benchmarks/bench_scenarios.py)",
                    "bench_scenarios", "run_scenario_bench"),
    scale_section,
    xlwings_functions_section,
    xlwings_iv_section,
    targets_section("alvh-xl report wall time incl. Python start-up (benchmarks/bench_report.py)",
                    "bench_report", "run_report_bench"),
    calc_section,
]


def render(sec: Section) -> str:
    table = [sec.columns] + sec.rows
    widths = [max(len(r[i]) for r in table) for i in range(len(sec.columns))]
    line = "  ".join("-" * w for w in widths)
    out = [sec.title, line]
    for j, r in enumerate(table):
        out.append("  ".join(c.rjust(w) if j else c.ljust(w)
                             for c, w in zip(r, widths, strict=True)))
        if j == 0:
            out.append(line)
    out += [f"  {n}" for n in sec.notes]
    return "\n".join(out)


def main() -> None:
    import numpy
    import scipy

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"alvh_xl benchmarks — Python {platform.python_version()}, numpy {numpy.__version__},"
          f" scipy {scipy.__version__}, {os.cpu_count()} CPUs, load average {load}"
          " (other work on the machine slows every column)")
    for make in SECTIONS:
        t0 = time.perf_counter()
        try:
            sec = make()
        except Exception as exc:        # one broken section must not hide the others
            import traceback

            traceback.print_exc()
            sec = Section(make.__name__, ["failed"], [[f"{type(exc).__name__}: {exc}"]])
        print()
        print(render(sec))
        print(f"  (section took {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
