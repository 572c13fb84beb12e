"""The whole dashboard as plain data: what `alvh-xl report` prints, charts and emits as JSON.

Everything comes from the same engine functions the ALVH_* Excel functions call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..book import Positions, Problem, Thresholds
from ..conventions import DEFAULT_VOL_SHIFTS
from .aggregation import bucket_table, layers_table, portfolio_row
from .hedging import size_hedges
from .scenarios import named_scenarios, shock_ladder, spot_vol_grid
from .valuation import BookValuation


@dataclass
class EngineTables:
    """Engine results for one valuation (DataFrames, in SPEC units: $ per vol point, $)."""

    valuation: BookValuation
    thresholds: Thresholds
    layers: pd.DataFrame
    portfolio: dict[str, Any]
    buckets: pd.DataFrame
    ladder: pd.DataFrame
    grid: pd.DataFrame
    hedges: pd.DataFrame | None = None
    scenarios: pd.DataFrame | None = None
    condors: pd.DataFrame | None = None
    migration: dict[str, pd.DataFrame] = field(default_factory=dict)
    signals: Any = None
    problems: list[Problem] = field(default_factory=list)


def engine_tables(val: BookValuation, thresholds: Thresholds | None = None,
                  hedges: Positions | None = None, scenarios: pd.DataFrame | None = None,
                  vix_series: Any = None, vvix_series: Any = None) -> EngineTables:
    """Every dashboard table from one valuation (the book is never valued again here).

    Parts whose inputs are absent are None; a part whose inputs fail raises (the caller
    decides what that means for the headline)."""
    from .condor import condor_report
    from .indicators import regime

    th = thresholds or Thresholds()
    out = EngineTables(
        valuation=val, thresholds=th, layers=layers_table(val, th),
        portfolio=portfolio_row(val, th), buckets=bucket_table(val),
        ladder=shock_ladder(val, DEFAULT_VOL_SHIFTS, by_layer=True), grid=spot_vol_grid(val),
        problems=list(val.problems))
    if hedges is not None and len(hedges.legs):
        out.hedges = size_hedges(val, hedges, val.market, val.curve, th)
    if scenarios is not None and len(scenarios):
        out.scenarios = named_scenarios(val, scenarios)
    report = condor_report(val, DEFAULT_VOL_SHIFTS)
    out.condors = report.table
    for strategy, mig in report.migration.groupby("Strategy", sort=False):
        out.migration[str(strategy)] = mig.drop(columns="Strategy").reset_index(drop=True)
    if vix_series is not None and vvix_series is not None:
        out.signals = regime(column(vix_series), column(vvix_series))
    return out


def column(cells: Any) -> list[Any]:
    """A series range (column or row of cells) as a flat list, trailing blanks dropped."""
    flat = list(np.asarray(cells, dtype=object).ravel())
    while flat and (flat[-1] is None or flat[-1] == ""):
        flat.pop()
    return flat


def engine_json(d: EngineTables) -> dict[str, Any]:
    """The engine part of `alvh-xl report --json` (NaN → null)."""
    layers = d.layers[d.layers["Layer"] != "PORTFOLIO"]
    return clean({
        "valuation_date": d.valuation.market.valuation.date().isoformat(),
        "net_vega": {"raw": d.portfolio["raw"], "weighted": d.portfolio["weighted"]},
        "layers": [{"layer": r.Layer, "raw_vega": r.RawVega, "weighted_vega": r.WeightedVega,
                    "volvol_vega": r.VolOfVolVega, "measure": r.Measure or None,
                    "target": r.Target, "limit": r.Limit, "warn": r.Warn,
                    "utilization": r.Utilization, "flag": r.Flag or None}
                   for r in layers.itertuples()],
        "portfolio": {k: d.portfolio[k] for k in (
            "net", "raw", "weighted", "measure", "target", "tolerance", "warn", "basis",
            "basis_layer", "utilization", "headroom", "left_out", "flag")},
        "buckets": records(d.buckets),
        "shocks": [{"shift": r["Shift"], "full_pnl": r["FullPnL"], "linear_pnl": r["LinearPnL"],
                    "by_layer": {k: r[k] for k in d.ladder.columns[3:]}}
                   for r in records(d.ladder)],
        "grid": {"spot_shifts_pct": list(d.grid.index), "vol_shifts": list(d.grid.columns),
                 "pnl": d.grid.to_numpy().tolist()},
        "scenarios": records(d.scenarios),
        "condors": records(d.condors),
        "breakeven_migration": {k: records(v) for k, v in d.migration.items()},
        "hedges": records(d.hedges),
        "signals": _signals_json(d.signals),
    })


def _signals_json(sig: Any) -> Any:
    if sig is None:
        return None
    fields = getattr(sig, "__dataclass_fields__", {})
    return {k: getattr(sig, k) for k in fields}


def records(df: pd.DataFrame | None) -> list[dict[str, Any]]:
    if df is None:
        return []
    return [dict(zip(df.columns, row, strict=True)) for row in df.itertuples(index=False)]


def clean(obj: Any) -> Any:
    """JSON-safe copy: numpy scalars → Python, NaN/inf → None, dates → ISO text."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.datetime64):
        return None if np.isnat(obj) else str(obj.astype("datetime64[D]"))
    if isinstance(obj, pd.Timestamp):
        return obj.date().isoformat()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj
