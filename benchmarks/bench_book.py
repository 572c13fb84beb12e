"""Book engine benchmark (issue 3): ALVH_LAYERS on a 500-leg book through the Excel function,
cold and repeated, and a 100,000-leg book through the engine (parse + value + layers).

Targets: 500 legs cold ≤ 20 ms of Python time (caches cleared), repeated identical call
≤ 1 ms, 100,000 legs ≤ 1 s and ≤ 500 MB peak (tracemalloc). Run:
``python benchmarks/bench_book.py``.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

VALUATION = dt.date(2026, 11, 24)
CURVE_EXPIRIES = [dt.date(2026, 12, 16), dt.date(2027, 1, 20), dt.date(2027, 2, 17),
                  dt.date(2027, 3, 17), dt.date(2027, 4, 21), dt.date(2027, 5, 19)]
CURVE_PRICES = [18.6, 19.5, 20.2, 20.7, 21.0, 21.3]
HEADER = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier",
          "IV", "Price", "EntryPrice", "Underlying", "Leverage", "Beta"]
EXCEL_EPOCH = dt.date(1899, 12, 30)


def make_book(n: int, seed: int = 7, dates: str = "datetime") -> list[list]:
    """A positions table of ``n`` legs as Excel hands it over (header + rows).

    Mix: 60 % SPX/SPXW options, 20 % VIX options, 10 % VX/VXM futures, 10 % ETPs, in eight
    layers. ``dates``: 'datetime' (classic xlwings), 'serial' (Office.js floats) or 'iso'.
    Whole numbers are floats and blanks None, like Excel.
    """
    rng = np.random.default_rng(seed)
    layers = ["Core", "VIX L1", "VIX L2", "VIX L3", "Tail", "Fut", "ETP", "Extra"]
    spx_exp = [VALUATION + dt.timedelta(days=int(d)) for d in (3, 10, 17, 24, 45, 73, 108, 200)]

    def date_cell(d: dt.date):
        if dates == "serial":
            return float((d - EXCEL_EPOCH).days)
        if dates == "iso":
            return d.isoformat()
        return dt.datetime.combine(d, dt.time())

    u = rng.random(n)
    rows = [list(HEADER)]
    for i in range(n):
        layer = layers[i % len(layers)]
        qty = float(rng.integers(-20, 21) or 1)
        if u[i] < 0.6:
            k = float(round(6700 * rng.uniform(0.85, 1.15) / 5) * 5)
            rows.append([layer, f"S{i % 50}", "SPX" if i % 2 else "SPXW", "CP"[i % 2 == 0], k,
                         date_cell(spx_exp[i % len(spx_exp)]), qty, None,
                         float(rng.uniform(0.10, 0.35)), None, None, None, None, None])
        elif u[i] < 0.8:
            j = i % 4
            rows.append([layer, None, "VIX", "CP"[i % 3 == 0], float(rng.integers(14, 40)),
                         date_cell(CURVE_EXPIRIES[j]), qty, None,
                         float(rng.uniform(0.6, 1.4)), None, None, None, None, None])
        elif u[i] < 0.9:
            rows.append([layer, None, "VX" if i % 2 else "VXM", None, None,
                         date_cell(CURVE_EXPIRIES[i % 5]), qty, None, None, None, None, None,
                         None, None])
        else:
            tk = ("VXX", "UVXY", "SVXY", "VIXY", "VIXM")[i % 5]
            rows.append([layer, None, "ETP", None, None, None, qty * 10, None, None,
                         float(rng.uniform(10, 60)), None, tk, None, None])
    return rows


def market_table() -> list[list]:
    return [["Field", "Value"], ["ValuationDate", dt.datetime.combine(VALUATION, dt.time())],
            ["ValuationTime", "16:00"], ["SpxSpot", 6700.0], ["Rate", 0.04],
            ["DivYield", 0.013], ["VixSpot", 17.5], ["Vvix", 95.0]]


def curve_table() -> list[list]:
    return [["Expiry", "Price"]] + [[dt.datetime.combine(e, dt.time()), p]
                                    for e, p in zip(CURVE_EXPIRIES, CURVE_PRICES, strict=True)]


def thresholds_table() -> list[list]:
    return [["Layer", "Limit", "Target", "Warn", "Basis"], ["VIX L1", 12.0, 0.0, 0.75, None],
            ["VIX L2", 12.0, 0.0, 0.75, None], ["PORTFOLIO", 0.08, 0.0, 0.75, "Core"]]


def _best(f: Callable[[], object], repeat: int, setup: Callable[[], None] | None = None) -> float:
    """Best wall time of ``repeat`` runs (seconds), ``setup`` before each (not timed)."""
    best = float("inf")
    for _ in range(repeat):
        if setup:
            setup()
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def run_book_bench() -> list[tuple[str, str, str, bool]]:
    """Rows (case, measured, target, pass)."""
    from alvh_xl.book import parse_curve, parse_market, parse_positions, parse_thresholds
    from alvh_xl.risk.aggregation import layers_table
    from alvh_xl.risk.valuation import value_book
    from alvh_xl.xl import cache
    from alvh_xl.xl.fn_book import ALVH_LAYERS

    mkt, crv, th = market_table(), curve_table(), thresholds_table()
    rows: list[tuple[str, str, str, bool]] = []

    for style in ("datetime", "serial", "iso"):
        pos = make_book(500, dates=style)
        ALVH_LAYERS(pos, mkt, crv, th)          # warm imports and numpy paths

        def clear() -> None:
            cache.BOOKS.clear()
            cache.RESULTS.clear()

        cold = _best(lambda p=pos: ALVH_LAYERS(p, mkt, crv, th), 15, clear)
        rows.append((f"ALVH_LAYERS 500 legs cold ({style} dates)", f"{cold * 1e3:.2f} ms",
                     "<= 20 ms", cold <= 0.020))
    pos = make_book(500, dates="datetime")
    warm = _best(lambda: ALVH_LAYERS(pos, mkt, crv, th), 50)
    rows.append(("ALVH_LAYERS 500 legs repeated call", f"{warm * 1e3:.3f} ms", "<= 1 ms",
                 warm <= 0.001))

    for style in ("serial", "datetime"):
        big = make_book(100_000, dates=style)
        gc.collect()

        def engine(big=big) -> object:
            val = value_book(parse_positions(big), parse_market(mkt), parse_curve(crv))
            return layers_table(val, parse_thresholds(th))

        engine()
        secs = _best(engine, 3)
        rows.append((f"engine 100,000 legs parse+value+layers ({style} dates)", f"{secs:.3f} s",
                     "<= 1 s", secs <= 1.0))
    gc.collect()
    tracemalloc.start()
    engine()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows.append(("engine 100,000 legs peak memory (tracemalloc)", f"{peak:.0f} MB", "<= 500 MB",
                 peak <= 500))
    return rows


if __name__ == "__main__":
    for case, measured, target, ok in run_book_bench():
        print(f"{case:<58} {measured:>10}  target {target:<10} {'PASS' if ok else 'FAIL'}")
