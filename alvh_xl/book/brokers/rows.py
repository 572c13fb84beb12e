"""Imported legs → rows of the positions table (SPEC §3, ``positions.HEADERS`` order)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cells import CellError, parse_cp, parse_date, parse_number, text_of
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
                    rules: list[LayerRule] | tuple[LayerRule, ...] = DEFAULT_RULES,
                    strategies: dict[tuple, str] | None = None) -> PositionsImport:
    """The legs as positions rows, sorted by instrument, expiry, type and strike (so the
    same file always gives the same rows), Layer from ``rules``. Multiplier is written out;
    IV, Leverage and Beta are left blank (solved from Price / defaults by the engine).

    ``strategies`` (contract key → Strategy, :func:`existing_strategies`): a broker export
    has no strategy, so a contract the workbook already tagged keeps its Strategy, and rules
    on Strategy apply to it."""
    legs = sorted(imported.legs, key=_order)
    syms = [leg.symbol for leg in legs]
    tags = [(strategies or {}).get(contract_key(s.instrument, s.cp, s.strike, s.expiry,
                                                s.underlying)) for s in syms]
    expiry = np.array([s.expiry or "NaT" for s in syms], dtype="datetime64[D]")
    layers, reasons = assign_layers(np.array([s.instrument for s in syms], dtype=object),
                                    np.array([s.root for s in syms], dtype=object), expiry,
                                    np.array([t or "" for t in tags], dtype=object), rules)
    rows = [_row(leg, str(layer) or None, tag)
            for leg, layer, tag in zip(legs, layers, tags, strict=True)]
    unassigned = [Skipped(leg.where, leg.text, f"{why}; Layer left blank")
                  for leg, why in zip(legs, reasons, strict=True) if why]
    return PositionsImport(HEADERS, rows, legs, unassigned)


def contract_key(instrument: Any, cp: Any, strike: Any, expiry: Any, underlying: Any
                 ) -> tuple | None:
    """One contract, however its cells were typed: (instrument, ±1 or 0, strike, expiry,
    ETP ticker); None when a cell does not read (such a row matches nothing)."""
    try:
        kind = text_of(instrument).strip().upper()
        code = 0.0 if cp is None or text_of(cp).strip() == "" else parse_cp(cp)
        k = parse_number(strike) if strike not in (None, "") else None
        when = parse_date(expiry) if expiry not in (None, "") else None
    except (CellError, ValueError, TypeError):
        return None
    if isinstance(when, np.datetime64):
        when = when.astype("datetime64[D]").astype(dt.date)
    ticker = text_of(underlying).strip().upper() if kind == "ETP" and underlying else ""
    return (kind, code, None if k is None else round(float(k), 6), when, ticker)


def existing_strategies(header: list[Any], rows: list[list[Any]]
                        ) -> tuple[dict[tuple, str], list[str]]:
    """Strategy per contract from a positions table's rows: ``{key: strategy}`` for contracts
    all of whose tagged rows say one Strategy, and notes naming the contracts tagged with
    several (their Strategy is left blank: which of them the net position belongs to is not
    known)."""
    names = [str(h or "").strip().casefold() for h in header]
    want = ("strategy", "instrument", "type", "strike", "expiry", "underlying")
    if not all(w in names for w in want[:5]):
        return {}, []
    col = {w: names.index(w) if w in names else None for w in want}
    seen: dict[tuple, set[str]] = {}
    for row in rows:
        tag = row[col["strategy"]]
        if tag is None or not str(tag).strip():
            continue
        key = contract_key(*(row[col[w]] if col[w] is not None else None for w in want[1:]))
        if key is not None:
            seen.setdefault(key, set()).add(str(tag).strip())
    one = {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}
    notes = [f"{_describe_key(k)} is tagged {', '.join(sorted(v))} in the workbook: Strategy "
             f"left blank" for k, v in seen.items() if len(v) > 1]
    return one, notes


def _describe_key(key: tuple) -> str:
    kind, code, strike, when, ticker = key
    parts = [ticker or kind, str(when) if when else "", f"{strike:g}" if strike else "",
             {1.0: "C", -1.0: "P"}.get(code, "")]
    return " ".join(p for p in parts if p)


def _order(leg: ImportedLeg) -> tuple:
    s = leg.symbol
    return (RULE_INSTRUMENTS.index(s.instrument), s.underlying, s.expiry or dt.date.min,
            s.cp, s.strike or 0.0, s.root, leg.qty, leg.where)


def _row(leg: ImportedLeg, layer: str | None, strategy: str | None = None) -> list[Any]:
    s = leg.symbol
    values = {"Layer": layer, "Strategy": strategy, "Instrument": s.instrument,
              "Type": s.cp or None, "Strike": s.strike, "Expiry": s.expiry, "Qty": leg.qty,
              "Multiplier": leg.multiplier, "IV": None, "Price": leg.price,
              "EntryPrice": leg.entry_price,
              "Underlying": s.underlying if s.instrument == "ETP" else None,
              "Leverage": None, "Beta": None}
    return [values[h] for h in HEADERS]
