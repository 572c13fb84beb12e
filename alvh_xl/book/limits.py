"""Thresholds (ALVH_THRESHOLDS) and named scenarios (ALVH_SCENARIOS) tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import (
    DEFAULT_BASIS_LAYER,
    DEFAULT_PORTFOLIO_TOLERANCE,
    DEFAULT_WARN,
    PORTFOLIO,
)
from ..errors import InputError, describe
from .tables import read_table, texts, to_numbers


@dataclass(frozen=True)
class LayerLimit:
    """Vega limit of a layer in $ per vol point: flag on |vega − target| vs limit."""

    limit: float
    target: float = 0.0
    warn: float = DEFAULT_WARN


@dataclass(frozen=True)
class Thresholds:
    """Per-layer limits, and the portfolio tolerance as a fraction of a basis layer's |vega|."""

    layers: dict[str, LayerLimit] = field(default_factory=dict)
    portfolio_tolerance: float = DEFAULT_PORTFOLIO_TOLERANCE
    portfolio_target: float = 0.0
    portfolio_warn: float = DEFAULT_WARN
    basis_layer: str = DEFAULT_BASIS_LAYER

    def for_layer(self, layer: str) -> LayerLimit | None:
        """The limit of a layer (names match case-insensitively), None when not listed."""
        hit = self.layers.get(layer)
        if hit is not None:
            return hit
        key = layer.strip().casefold()
        return next((v for k, v in self.layers.items() if k.strip().casefold() == key), None)


def parse_thresholds(source: Any) -> Thresholds:
    """Parse `Layer | Limit | Target | Warn [| Basis]`; a `PORTFOLIO` row sets the tolerance."""
    raw = read_table(source, "thresholds",
                     {"layer": "layer", "limit": "limit", "target": "target", "warn": "warn",
                      "basis": "basis"}, ("layer", "limit"))
    layer = texts(raw.get("layer"))
    limit, limit_bad = to_numbers(raw.get("limit"))
    target, target_bad = to_numbers(raw.get("target"))
    warn, warn_bad = to_numbers(raw.get("warn"))
    basis = texts(raw.get("basis"))
    layers: dict[str, LayerLimit] = {}
    port: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for i in range(len(raw)):
        row = int(raw.rows[i])
        for name, bad in (("Limit", limit_bad), ("Target", target_bad),
                          ("Warn", warn_bad)):
            if bad[i]:
                raise InputError(f"thresholds: expected a number, got "
                                 f"{describe(raw.get(name.lower())[i])}", row=row, column=name)
        if not layer[i]:
            raise InputError("thresholds: Layer is blank", row=row, column="Layer")
        if np.isnan(limit[i]) or limit[i] <= 0:
            raise InputError("thresholds: Limit must be a positive number", row=row,
                             column="Limit")
        w = DEFAULT_WARN if np.isnan(warn[i]) else float(warn[i])
        if not 0 < w <= 1:
            raise InputError(f"thresholds: Warn is a fraction of the limit in (0, 1], got {w:g}",
                             row=row, column="Warn")
        tgt = 0.0 if np.isnan(target[i]) else float(target[i])
        if layer[i].casefold() in seen:
            raise InputError(f"thresholds: layer {layer[i]!r} is listed twice (row "
                             f"{seen[layer[i].casefold()]} and row {row})", row=row,
                             column="Layer")
        seen[layer[i].casefold()] = row
        if layer[i].upper() == PORTFOLIO:
            if limit[i] > 1:
                raise InputError(f"thresholds: the PORTFOLIO Limit is a fraction of the basis "
                                 f"layer's vega (0.08 for 8 %), got {limit[i]:g}", row=row,
                                 column="Limit")
            port = {"portfolio_tolerance": float(limit[i]), "portfolio_target": tgt,
                    "portfolio_warn": w, "basis_layer": basis[i] or DEFAULT_BASIS_LAYER}
        else:
            layers[layer[i]] = LayerLimit(float(limit[i]), tgt, w)
    return Thresholds(layers=layers, **port)


SCENARIO_COLUMNS = {"name": "name", "scenario": "name", "spotpct": "spot_pct",
                    "volpts": "vol_pts", "daysforward": "days_forward", "days": "days_forward"}


def parse_scenarios(source: Any) -> pd.DataFrame:
    """Parse `Name | SpotPct | VolPts | DaysForward` (spot in %, vol in points, days ≥ 0)."""
    raw = read_table(source, "scenarios", SCENARIO_COLUMNS, ("name",))
    name = texts(raw.get("name"))
    cols = {}
    for key, label in (("spot_pct", "SpotPct"), ("vol_pts", "VolPts"),
                       ("days_forward", "DaysForward")):
        vals, bad = to_numbers(raw.get(key))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"scenarios: expected a number, got {describe(raw.get(key)[i])}",
                             row=int(raw.rows[i]), column=label)
        cols[key] = np.nan_to_num(vals)
    if (cols["days_forward"] < 0).any():
        i = int(np.flatnonzero(cols["days_forward"] < 0)[0])
        raise InputError("scenarios: DaysForward must not be negative", row=int(raw.rows[i]),
                         column="DaysForward")
    if (cols["spot_pct"] <= -100).any():
        i = int(np.flatnonzero(cols["spot_pct"] <= -100)[0])
        raise InputError("scenarios: SpotPct must be above -100", row=int(raw.rows[i]),
                         column="SpotPct")
    if (name == "").any():
        i = int(np.flatnonzero(name == "")[0])
        raise InputError("scenarios: Name is blank", row=int(raw.rows[i]), column="Name")
    return pd.DataFrame({"name": name, **cols})
