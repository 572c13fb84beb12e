"""The template's sample data: input tables from the layout, and deterministic daily series
for the Signals sheet, as the 2-D values a workbook file holds (what `read_inputs` sees)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ..xl import layout as L

SERIES_SEED = 20261124


def _as_read_back(v: Any) -> Any:
    """A sample value as openpyxl reads it back (dates become midnight datetimes)."""
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime(v.year, v.month, v.day)
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
    out = []
    for (mean, kappa, sigma, start, end), shocks, jump in (
            ((19.0, 0.06, 0.55, 17.6, L.INPUT_BY_NAME["ALVH_CURVE"].sample[0][1]), z[:, 0],
             spike),
            ((95.0, 0.05, 2.6, 90.0, dict(L.INPUT_BY_NAME["ALVH_MARKET"].sample)["Vvix"]),
             z[:, 1], 4 * spike)):
        x = np.empty(n)
        x[0] = start
        for i in range(1, n):
            x[i] = x[i - 1] + kappa * (mean - x[i - 1]) + sigma * shocks[i] + jump[i]
        x += (end - x[-1]) * np.linspace(0.0, 1.0, n)       # bridge to today's level
        out.append(np.round(x, 2))
    return {"dates": np.array(business_days(L.VALUATION_DATE, n), dtype=object),
            "ALVH_VIXFUT_SERIES": out[0], "ALVH_VVIX_SERIES": out[1]}


def sample_raw(layout: L.Layout = L.LAYOUT) -> dict[str, list[list[Any]]]:
    """Every defined name's 2-D values exactly as the built file holds them."""
    raw = {}
    for t in layout.inputs:
        blank = [None] * len(t.headers)
        raw[t.name] = ([list(t.headers)] + [[_as_read_back(v) for v in r] for r in t.sample]
                       + [list(blank) for _ in range(t.spare_rows)])
    series = sample_series()
    for name in layout.series:
        raw[name] = [[float(v)] for v in series[name]]
    return raw


class SampleBook:
    """The seam (``WorkbookIO``) over the sample values, to parse them like a file."""

    def __init__(self, raw: dict[str, list[list[Any]]], layout: L.Layout = L.LAYOUT):
        self.raw = raw
        self.where = {t.name: (t.sheet, t.ref) for t in layout.inputs}
        for name, (sheet, anchor) in layout.series.items():
            r, c = L.cell_ref(anchor)
            self.where[name] = (sheet, f"{anchor}:{L.a1(r + L.SERIES_LENGTH - 1, c)}")

    def has_name(self, name: str) -> bool:
        return name in self.raw

    def values(self, name: str) -> list[list[Any]]:
        return self.raw[name]

    def name_location(self, name: str) -> tuple[str, str]:
        return self.where[name]
