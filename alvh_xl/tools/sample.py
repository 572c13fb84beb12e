"""The template's sample data: input tables from the layout, and deterministic daily series
for the Signals sheet, as the 2-D values a workbook file holds (what `read_inputs` sees)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ..xl import layout as L

SERIES_SEED = 20261124


def _as_read_back(v: Any) -> Any:
    """A sample value as a file reader gives it back (dates stay dates, times stay times)."""
    return v


def business_days(end: dt.date, n: int) -> list[dt.date]:
    """The ``n`` weekdays ending on ``end`` (oldest first)."""
    days: list[dt.date] = []
    d = end
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d -= dt.timedelta(days=1)
    return days[::-1]


def sample_series(n: int = L.SERIES_LENGTH, seed: int = SERIES_SEED) -> dict[str, np.ndarray]:
    """Deterministic daily closes: front VIX future and VVIX, mean-reverting (OU) with
    correlated shocks and a vol spike a third of the way in, each bridged to end at today's
    market inputs (front future of the curve, Vvix)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    z[:, 1] = 0.8 * z[:, 0] + 0.6 * z[:, 1]
    spike = np.zeros(n)
    spike[n // 3: n // 3 + 4] = (2.5, 1.5, 0.8, 0.3)
    vvix_today = next(r[1] for r in L.INPUT_BY_NAME["ALVH_MARKET"].sample if r[0] == "Vvix")
    out = []
    for (mean, kappa, sigma, start, end), shocks, jump in (
            ((19.0, 0.06, 0.55, 17.6, L.INPUT_BY_NAME["ALVH_CURVE"].sample[0][1]), z[:, 0],
             spike),
            ((95.0, 0.05, 2.6, 90.0, vvix_today), z[:, 1], 4 * spike)):
        x = np.empty(n)
        x[0] = start
        for i in range(1, n):
            x[i] = x[i - 1] + kappa * (mean - x[i - 1]) + sigma * shocks[i] + jump[i]
        x += (end - x[-1]) * np.linspace(0.0, 1.0, n)       # bridge to today's level
        out.append(np.round(x, 2))
    return {"dates": np.array(business_days(L.VALUATION_DATE, n), dtype=object),
            "ALVH_VIXFUT_SERIES": out[0], "ALVH_VVIX_SERIES": out[1]}


def sample_rows(table: L.InputTable) -> list[list[Any]]:
    """The data rows the template writes into an input table (sample, then spare blanks)."""
    if table.name == "ALVH_SIGNALS":
        s = sample_series()
        return [[d, float(a), float(b)] for d, a, b in zip(
            s["dates"], s["ALVH_VIXFUT_SERIES"], s["ALVH_VVIX_SERIES"], strict=True)]
    blank = [None] * len(table.headers)
    return ([[_as_read_back(v) for v in r] for r in table.sample]
            + [list(blank) for _ in range(table.spare_rows)])


def sample_raw(layout: L.Layout = L.LAYOUT) -> dict[str, list[list[Any]]]:
    """Every defined name's 2-D values exactly as the built file holds them."""
    raw = {t.name: [list(t.headers), *sample_rows(t)] for t in layout.inputs}
    for name, (table, column) in layout.series.items():
        t = next(t for t in layout.inputs if t.excel_table == table)
        j = t.headers.index(column)
        raw[name] = [[r[j]] for r in raw[t.name][1:]]
    return raw


class SampleBook:
    """The seam (``WorkbookIO``) over the sample values, to parse them like a file."""

    def __init__(self, raw: dict[str, list[list[Any]]], layout: L.Layout = L.LAYOUT):
        self.raw = raw
        self.where = {}
        for t in layout.inputs:
            r, c = L.cell_ref(t.anchor)
            last = L.a1(r + len(raw[t.name]) - 1, c + len(t.headers) - 1)
            self.where[t.name] = (t.sheet, f"{t.anchor}:{last}")
        for name, (table, column) in layout.series.items():
            t = next(t for t in layout.inputs if t.excel_table == table)
            r, c = L.cell_ref(t.anchor)
            c += t.headers.index(column)
            self.where[name] = (t.sheet, f"{L.a1(r + 1, c)}:{L.a1(r + len(raw[name]), c)}")

    def has_name(self, name: str) -> bool:
        return name in self.raw

    def values(self, name: str) -> list[list[Any]]:
        return self.raw[name]

    def name_location(self, name: str) -> tuple[str, str]:
        return self.where[name]

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]:
        return []                    # nothing outside the tables in the sample
