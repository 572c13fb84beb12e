"""Imported legs → rows of the positions table (SPEC §3, ``positions.HEADERS`` order)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..positions import HEADERS
from ..rules import DEFAULT_RULES, RULE_INSTRUMENTS, LayerRule, assign_layers
from .model import BrokerImport, ImportedLeg, Skipped


@dataclass
class PositionsImport:
    """``rows``: positions-table rows (``header`` order), one per leg; ``legs``: the legs in
    the same order; ``unassigned``: legs whose Layer no rule gave (kept, Layer blank)."""

    header: tuple[str, ...]
    rows: list[list[Any]]
    legs: list[ImportedLeg]
    unassigned: list[Skipped] = field(default_factory=list)


def positions_table(imported: BrokerImport,
                    rules: list[LayerRule] | tuple[LayerRule, ...] = DEFAULT_RULES
                    ) -> PositionsImport:
    """The legs as positions rows, sorted by instrument, expiry, type and strike (so the
    same file always gives the same rows), Layer from ``rules``. Multiplier is written out;
    IV, Leverage and Beta are left blank (solved from Price / defaults by the engine)."""
    legs = sorted(imported.legs, key=_order)
    syms = [leg.symbol for leg in legs]
    expiry = np.array([s.expiry or "NaT" for s in syms], dtype="datetime64[D]")
    layers, reasons = assign_layers(np.array([s.instrument for s in syms], dtype=object),
                                    np.array([s.root for s in syms], dtype=object), expiry,
                                    np.full(len(legs), "", dtype=object), rules)
    rows = [_row(leg, str(layer)) for leg, layer in zip(legs, layers, strict=True)]
    unassigned = [Skipped(leg.where, leg.text, f"{why}; Layer left blank")
                  for leg, why in zip(legs, reasons, strict=True) if why]
    return PositionsImport(HEADERS, rows, legs, unassigned)


def _order(leg: ImportedLeg) -> tuple:
    s = leg.symbol
    return (RULE_INSTRUMENTS.index(s.instrument), s.underlying, s.expiry or dt.date.min,
            s.cp, s.strike or 0.0, s.root, leg.qty, leg.where)


def _row(leg: ImportedLeg, layer: str) -> list[Any]:
    s = leg.symbol
    values = {"Layer": layer, "Strategy": None, "Instrument": s.instrument,
              "Type": s.cp or None, "Strike": s.strike, "Expiry": s.expiry, "Qty": leg.qty,
              "Multiplier": leg.multiplier, "IV": None, "Price": leg.price,
              "EntryPrice": leg.entry_price,
              "Underlying": s.underlying if s.instrument == "ETP" else None,
              "Leverage": None, "Beta": None}
    return [values[h] for h in HEADERS]
