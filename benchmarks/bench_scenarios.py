"""Close-of-day reconciliation speed (issue 4): 7-shift ladder on 500 legs ≤ 10 ms, 21 × 21
spot × vol grid on 1,000 legs ≤ 50 ms, through the engine (valuation done once beforehand).

Run alone with ``python benchmarks/bench_scenarios.py``; ``run.py`` includes it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import timing

from alvh_xl.book import parse_curve, parse_market, parse_positions
from alvh_xl.risk.scenarios import shock_ladder, spot_vol_grid
from alvh_xl.risk.valuation import value_book

HEADERS = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "IV", "Price",
           "Underlying"]
MARKET = [["Field", "Value"], ["ValuationDate", dt.date(2026, 11, 24)], ["SpxSpot", 6712.4],
          ["Rate", 0.0385], ["DivYield", 0.0125], ["VixSpot", 16.9]]
CURVE = [["Expiry", "Price"], [dt.date(2026, 12, 16), 18.15], [dt.date(2027, 1, 20), 19.25],
         [dt.date(2027, 2, 17), 19.95], [dt.date(2027, 3, 17), 20.45]]


def random_book(n: int, seed: int = 1) -> list[list]:
    """n legs: 70 % SPX options over four expiries, 20 % VIX options, 5 % VX, 5 % ETP."""
    rng = np.random.default_rng(seed)
    spx_exp = [dt.date(2026, 12, 18), dt.date(2027, 1, 8), dt.date(2027, 2, 19),
               dt.date(2027, 3, 19)]
    vix_exp = [r[0] for r in CURVE[1:]]
    rows = [HEADERS]
    for i in range(n):
        u = rng.random()
        qty = float(rng.choice([-3, -2, -1, 1, 2, 3]))
        if u < 0.70:
            rows.append(["Core", f"S{i}", "SPXW", rng.choice(["C", "P"]),
                         float(5 * round(6712 * rng.uniform(0.8, 1.2) / 5)),
                         spx_exp[i % 4], qty, float(rng.uniform(0.1, 0.35)), None, None])
        elif u < 0.90:
            rows.append(["VIX L1", None, "VIX", rng.choice(["C", "P"]),
                         float(rng.integers(14, 35)), vix_exp[i % 4], qty,
                         float(rng.uniform(0.5, 1.3)), None, None])
        elif u < 0.95:
            rows.append(["VIX L2", None, "VX", None, None, vix_exp[i % 4], qty, None, None,
                         None])
        else:
            rows.append(["Tail", None, "ETP", None, None, None, qty * 10, None, 44.8, "VXX"])
    return rows


def best_of(fn, repeat: int = 20) -> float:
    return timing.best_of(fn, repeat, warm_up=False)


def run_scenario_bench() -> list[tuple[str, str, str, bool]]:
    """Rows (case, measured, target, met)."""
    out = []
    val500 = value_book(parse_positions(random_book(500)), parse_market(MARKET),
                        parse_curve(CURVE))
    t = best_of(lambda: shock_ladder(val500, by_layer=True))
    out.append(("7-shift ladder, 500 legs (by layer)", f"{t * 1e3:.2f} ms", "≤ 10 ms",
                t <= 0.010))
    val1k = value_book(parse_positions(random_book(1000, seed=2)), parse_market(MARKET),
                       parse_curve(CURVE))
    spots = np.linspace(-10, 10, 21)
    vols = np.linspace(-10, 10, 21)
    t = best_of(lambda: spot_vol_grid(val1k, spots, vols), repeat=5)
    out.append(("21 × 21 spot × vol grid, 1,000 legs", f"{t * 1e3:.1f} ms", "≤ 50 ms",
                t <= 0.050))
    return out


if __name__ == "__main__":
    for case, measured, target, ok in run_scenario_bench():
        print(f"{case:42s} {measured:>10s}  target {target:8s} {'OK' if ok else 'MISSED'}")
