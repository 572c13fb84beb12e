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
    MAX_ABS_SHIFT,
    MAX_REL_SHIFT,
    PORTFOLIO,
)
from ..errors import InputError, describe
from .cells import CellError, error_reason, error_value, errors_in, parse_number, to_numbers
from .tables import nearest_name, read_table, texts

MEASURES = ("raw", "weighted")


@dataclass(frozen=True)
class LayerLimit:
    """Vega limit of a layer in $ per vol point: flag on |vega − target| vs limit, where
    vega is the layer's raw or weighted net vega (``measure``)."""

    limit: float
    target: float = 0.0
    warn: float = DEFAULT_WARN
    measure: str = "raw"


@dataclass(frozen=True)
class Thresholds:
    """Per-layer limits, and the portfolio tolerance as a fraction of a basis layer's |vega|
    on the PORTFOLIO row's measure (raw by default)."""

    layers: dict[str, LayerLimit] = field(default_factory=dict)
    portfolio_tolerance: float = DEFAULT_PORTFOLIO_TOLERANCE
    portfolio_target: float = 0.0
    portfolio_warn: float = DEFAULT_WARN
    basis_layer: str = DEFAULT_BASIS_LAYER
    portfolio_measure: str = "raw"
    rows: dict[str, int] = field(default_factory=dict)     # layer → its sheet row

    def for_layer(self, layer: str) -> LayerLimit | None:
        """The limit of a layer (names match case-insensitively), None when not listed."""
        hit = self.layers.get(layer)
        if hit is not None:
            return hit
        key = layer.strip().casefold()
        return next((v for k, v in self.layers.items() if k.strip().casefold() == key), None)


def nearest_layer(name: str, layers: list[str], max_edits: int = 2) -> str | None:
    """The limited layer a small edit away from ``name`` ('VIX L9' → 'VIX L1'), if any: at
    most ``max_edits`` single-character insertions, deletions or substitutions (any case)."""
    return nearest_name(name, layers, max_edits)


THRESHOLD_COLUMNS = {"layer": "layer", "limit": "limit", "target": "target", "warn": "warn",
                     "basis": "basis", "measure": "measure"}


def parse_thresholds(source: Any, *, first_row: int = 1) -> Thresholds:
    """Parse `Layer | Limit | Target | Warn | Measure [| Basis]`; a `PORTFOLIO` row sets the
    tolerance (Limit = fraction of the Basis layer's |vega|). Errors name the sheet row."""
    raw = read_table(source, "thresholds", THRESHOLD_COLUMNS, ("layer", "limit"), first_row)
    for key, cells in raw.columns.items():
        bad = errors_in(cells)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"thresholds: {error_reason(error_value(cells[i]))}",
                             row=int(raw.rows[i]), column=key.capitalize())
    layer = texts(raw.get("layer"))
    target, target_why = to_numbers(raw.get("target"))
    warn, warn_why = to_numbers(raw.get("warn"), percent=True)
    basis = texts(raw.get("basis"))
    measure = texts(raw.get("measure"))
    layers: dict[str, LayerLimit] = {}
    port: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for i in range(len(raw)):
        row = int(raw.rows[i])
        is_port = layer[i].upper() == PORTFOLIO

        def fail(column: str, reason: str, row=row) -> InputError:
            return InputError(f"thresholds: {reason}", row=row, column=column)

        if not layer[i]:
            raise fail("Layer", "Layer is blank")
        try:
            limit = parse_number(raw.get("limit")[i], percent=is_port)
        except CellError as exc:
            raise fail("Limit", str(exc)) from None
        for name, why in (("Target", target_why), ("Warn", warn_why)):
            if why[i]:
                raise fail(name, why[i])
        if limit is None or limit <= 0:
            raise fail("Limit", "Limit must be a positive number")
        w = DEFAULT_WARN if np.isnan(warn[i]) else float(warn[i])
        if not 0 < w <= 1:
            raise fail("Warn", f"Warn is a fraction of the limit in (0, 1], got {w:g}")
        tgt = 0.0 if np.isnan(target[i]) else float(target[i])
        m = measure[i].lower() or "raw"
        if m not in MEASURES:
            raise fail("Measure", f"Measure is Raw or Weighted, got {describe(measure[i])}")
        if layer[i].casefold() in seen:
            raise fail("Layer", f"layer {layer[i]!r} is listed twice (row "
                                f"{seen[layer[i].casefold()]} and row {row})")
        seen[layer[i].casefold()] = row
        if is_port:
            if limit > 1:
                raise fail("Limit", f"the PORTFOLIO Limit is a fraction of the basis layer's "
                                    f"vega (0.08 for 8 %), got {limit:g}")
            port = {"portfolio_tolerance": float(limit), "portfolio_target": tgt,
                    "portfolio_warn": w, "basis_layer": basis[i] or DEFAULT_BASIS_LAYER,
                    "portfolio_measure": m}
        else:
            layers[layer[i]] = LayerLimit(float(limit), tgt, w, m)
    return Thresholds(layers=layers, rows={k: v for k, v in seen.items()}, **port)


SCENARIO_COLUMNS = {"name": "name", "scenario": "name", "spotpct": "spot_pct",
                    "volpts": "vol_pts", "daysforward": "days_forward", "days": "days_forward"}


def parse_scenarios(source: Any, *, first_row: int = 1) -> pd.DataFrame:
    """Parse `Name | SpotPct | VolPts | DaysForward` (spot in %, vol in points, days ≥ 0);
    errors name the sheet row (``first_row``: the header's sheet row)."""
    raw = read_table(source, "scenarios", SCENARIO_COLUMNS, ("name",), first_row)
    bad = errors_in(raw.get("name"))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"scenarios: {error_reason(error_value(raw.get('name')[i]))}",
                         row=int(raw.rows[i]), column="Name")
    name = texts(raw.get("name"))
    cols = {}
    for key, label in (("spot_pct", "SpotPct"), ("vol_pts", "VolPts"),
                       ("days_forward", "DaysForward")):
        vals, why = to_numbers(raw.get(key))
        if (why != "").any():
            i = int(np.flatnonzero(why != "")[0])
            raise InputError(f"scenarios: {why[i]}", row=int(raw.rows[i]), column=label)
        cols[key] = np.nan_to_num(vals)
    if (cols["days_forward"] < 0).any():
        i = int(np.flatnonzero(cols["days_forward"] < 0)[0])
        raise InputError("scenarios: DaysForward must not be negative", row=int(raw.rows[i]),
                         column="DaysForward")
    if ((cols["spot_pct"] <= -100) | (cols["spot_pct"] > MAX_REL_SHIFT)).any():
        i = int(np.flatnonzero((cols["spot_pct"] <= -100) | (cols["spot_pct"] > MAX_REL_SHIFT))[0])
        raise InputError(f"scenarios: SpotPct must lie in (-100, {MAX_REL_SHIFT:g}] percent, "
                         f"got {cols['spot_pct'][i]:g}", row=int(raw.rows[i]), column="SpotPct")
    if (np.abs(cols["vol_pts"]) > MAX_ABS_SHIFT).any():
        i = int(np.flatnonzero(np.abs(cols["vol_pts"]) > MAX_ABS_SHIFT)[0])
        raise InputError(f"scenarios: VolPts must lie within ±{MAX_ABS_SHIFT:g} vol points, got "
                         f"{cols['vol_pts'][i]:g}", row=int(raw.rows[i]), column="VolPts")
    if (name == "").any():
        i = int(np.flatnonzero(name == "")[0])
        raise InputError("scenarios: Name is blank", row=int(raw.rows[i]), column="Name")
    return pd.DataFrame({"name": name, **cols})
