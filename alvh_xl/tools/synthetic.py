"""Synthetic ALVH books of any size, as Excel hands tables over: for tests and benchmarks.

``make_book(n)`` is a positions table (header + ``n`` rows) mixing SPX/SPXW and VIX options,
VX/VXM futures and ETPs over eight layers, with the market, curve and thresholds tables that
value it. Deterministic for a seed. ``big_book(n)`` is a plainer book (SPXW condor legs and
VIX calls on the template's curve); ``write_positions(path, rows)`` puts rows into the
positions table of a workbook copy, growing the Excel Table as Excel does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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


def write_positions(path: Path, rows: list[list], *, extend: bool = True) -> None:
    """Replace the positions rows of a workbook copy with ``rows``; ``extend``: the Excel
    Table grows to hold them (what Excel does when rows are typed right under it), else the
    table keeps its size and the extra rows sit under it."""
    import openpyxl

    from ..xl.layout import INPUT_BY_NAME, cell_ref, col_letter

    table = INPUT_BY_NAME["ALVH_POSITIONS"]
    wb = openpyxl.load_workbook(path)
    ws = wb[table.sheet]
    r0, c0 = cell_ref(table.anchor)
    for r in range(r0 + 1, ws.max_row + 1):
        for c in range(c0, c0 + len(table.headers)):
            ws.cell(r, c).value = None
    for i, row in enumerate(rows, start=1):
        for j, v in enumerate(row):
            ws.cell(r0 + i, c0 + j).value = v
    if extend:
        t = ws.tables[table.excel_table]
        last = f"{col_letter(c0 + len(table.headers) - 1)}{r0 + max(len(rows), 1)}"
        t.ref = f"{col_letter(c0)}{r0}:{last}"
        t.autoFilter.ref = t.ref
    wb.save(path)


def big_book(n: int, seed: int = 7) -> list[list]:
    """n legs: SPX condor legs around 6700 and VIX calls on the template's curve."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        if i % 4 == 3:
            rows.append([f"VIX L{i % 3 + 1}", None, "VIX", "C", float(rng.integers(17, 30)),
                         dt.datetime(2027, 1, 20), float(rng.integers(1, 5)), None,
                         float(rng.uniform(0.6, 1.1)), None, None, None, None, None])
        else:
            cp = "P" if rng.random() < 0.5 else "C"
            k = float(5 * round(6700 * rng.uniform(0.85, 1.15) / 5))
            rows.append(["Core", f"S{i // 4}", "SPXW", cp, k, dt.datetime(2027, 1, 8),
                         float(rng.choice([-2, -1, 1, 2])), None, float(rng.uniform(0.1, 0.3)),
                         None, None, None, None, None])
    return rows
