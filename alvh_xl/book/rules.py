"""The layer rules table (``ALVH_LAYERRULES``): which layer an imported position joins.

Columns (headers any case, any order): ``Instrument | Root | ExpiryFrom | ExpiryTo |
Strategy | Layer``. A rule matches a leg when every non-blank criterion holds (a blank cell
matches anything):

* ``Instrument``: one code or a list (``VIX, VX, VXM``) of SPX, SPXW, XSP, VIX, VX, VXM, ES,
  MES, ETP;
* ``Root``: the traded root or ticker, one or a list (``SPXW``, ``VIXW`` = VIX weeklies,
  ``UVXY``);
* ``ExpiryFrom`` / ``ExpiryTo``: inclusive expiry dates (a leg without an expiry, such as ETP
  shares, never matches a rule that has them);
* ``Strategy``: the leg's Strategy text (case-insensitive);
* ``Layer``: the layer given; ``{n}`` in it is the rank (1, 2, …) of the leg's expiry among
  the distinct expiries of the legs this rule matched, so ``VIX L{n}`` puts the front VIX
  expiry in ``VIX L1``, the next in ``VIX L2``.

The first matching rule wins. ``DEFAULT_RULES``: SPX/SPXW/XSP → Core; ES/MES → Core (they
hedge the condor's delta, and a layer of their own would carry no vega limit row); VIX
options, VX and VXM futures → VIX L{n} by expiry; ETPs and their options → Tail.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, describe
from .tables import read_table, texts, to_dates

RULE_HEADERS = ("Instrument", "Root", "ExpiryFrom", "ExpiryTo", "Strategy", "Layer")
RULE_INSTRUMENTS = ("SPX", "SPXW", "XSP", "VIX", "VX", "VXM", "ES", "MES", "ETP")
PLACEHOLDER = "{n}"
RULE_COLUMNS = {"instrument": "instrument", "instruments": "instrument", "root": "root",
            "roots": "root", "expiryfrom": "expiry_from", "from": "expiry_from",
            "expiryto": "expiry_to", "to": "expiry_to", "strategy": "strategy",
            "layer": "layer"}
_SPLIT = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class LayerRule:
    """One rule; empty sets / None / "" match anything. ``row``: its table row."""

    layer: str
    instruments: frozenset[str] = frozenset()
    roots: frozenset[str] = frozenset()
    expiry_from: dt.date | None = None
    expiry_to: dt.date | None = None
    strategy: str = ""
    row: int | None = None

    def as_cells(self) -> list[Any]:
        """The rule as a table row in ``RULE_HEADERS`` order."""
        return [", ".join(sorted(self.instruments, key=RULE_INSTRUMENTS.index)),
                ", ".join(sorted(self.roots)), self.expiry_from, self.expiry_to,
                self.strategy, self.layer]


DEFAULT_RULES: tuple[LayerRule, ...] = (
    LayerRule("Core", frozenset({"SPX", "SPXW", "XSP"})),
    LayerRule("Core", frozenset({"ES", "MES"})),
    LayerRule("VIX L{n}", frozenset({"VIX", "VX", "VXM"})),
    LayerRule("Tail", frozenset({"ETP"})),
)


def default_rules_table() -> list[list[Any]]:
    """``DEFAULT_RULES`` as cells, header first (for a template or a starting CSV)."""
    return [list(RULE_HEADERS), *(r.as_cells() for r in DEFAULT_RULES)]


def parse_layer_rules(source: Any, *, name: str = "layer rules", first_row: int = 1
                      ) -> list[LayerRule]:
    """Rules from a table (2-D cells, DataFrame, CSV or xlsx path), in table order.

    Any unusable cell is an ``InputError`` listing every problem by rule row and column: a
    rule table that half-parses would put legs in the wrong layer.
    """
    raw = read_table(source, name, RULE_COLUMNS, ("layer",), first_row)
    problems: list[str] = []
    layer = texts(raw.get("layer"))
    instruments = texts(raw.get("instrument"))
    roots = texts(raw.get("root"))
    strategy = texts(raw.get("strategy"))
    dates = {}
    for key, label in (("expiry_from", "ExpiryFrom"), ("expiry_to", "ExpiryTo")):
        values, bad = to_dates(raw.get(key))
        for i in np.flatnonzero(bad):
            problems.append(f"{name} row {raw.rows[i]} ({label}): expected a date, got "
                            f"{describe(raw.get(key)[i])}")
        dates[key] = values
    rules = []
    for i, row in enumerate(raw.rows.tolist()):
        where = f"{name} row {row}"
        if not layer[i]:
            problems.append(f"{where} (Layer): blank; a rule must name its layer")
        if set("{}") & set(layer[i].replace(PLACEHOLDER, "")):
            problems.append(f"{where} (Layer): {describe(layer[i])}; the only placeholder is "
                            f"{PLACEHOLDER} (the expiry order)")
        codes = frozenset(c for c in _SPLIT.split(instruments[i].upper()) if c)
        unknown = sorted(codes - set(RULE_INSTRUMENTS))
        if unknown:
            problems.append(f"{where} (Instrument): {', '.join(unknown)} unknown; expected "
                            f"{', '.join(RULE_INSTRUMENTS)} (several separated by commas)")
        lo, hi = (_date(dates[k][i]) for k in ("expiry_from", "expiry_to"))
        if lo and hi and lo > hi:
            problems.append(f"{where}: ExpiryFrom {lo} is after ExpiryTo {hi}")
        rules.append(LayerRule(layer[i], codes,
                               frozenset(c for c in _SPLIT.split(roots[i].upper()) if c),
                               lo, hi, strategy[i], row))
    if problems:
        raise InputError("; ".join(problems))
    if not rules:
        raise InputError(f"{name}: the table has no rules")
    return rules


def _date(value: np.datetime64) -> dt.date | None:
    return None if np.isnat(value) else value.astype(dt.date)


def assign_layers(instrument: np.ndarray, root: np.ndarray, expiry: np.ndarray,
                  strategy: np.ndarray, rules: list[LayerRule] | tuple[LayerRule, ...]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Layer of each leg by the first matching rule, and why a leg has none.

    Arrays are per leg: instrument codes, roots (upper case), expiries (datetime64[D], NaT
    for none) and strategies. Returns the layers ("" where none) and the reasons ("" where
    a layer was assigned).
    """
    n = len(instrument)
    instrument = np.asarray(instrument, dtype=object)
    root = np.asarray(root, dtype=object)
    expiry = np.asarray(expiry, dtype="datetime64[D]")
    strategy = np.array([str(s).casefold() for s in strategy], dtype=object)
    layers = np.full(n, "", dtype=object)
    reasons = np.full(n, "no layer rule matches", dtype=object)
    open_ = np.ones(n, dtype=bool)
    for rule in rules:
        hit = open_.copy()
        if rule.instruments:
            hit &= np.isin(instrument, list(rule.instruments))
        if rule.roots:
            hit &= np.isin(root, list(rule.roots))
        if rule.expiry_from is not None:
            hit &= ~np.isnat(expiry) & (expiry >= np.datetime64(rule.expiry_from, "D"))
        if rule.expiry_to is not None:
            hit &= ~np.isnat(expiry) & (expiry <= np.datetime64(rule.expiry_to, "D"))
        if rule.strategy:
            hit &= strategy == rule.strategy.casefold()
        if not hit.any():
            continue
        open_ &= ~hit
        reasons[hit] = ""
        if PLACEHOLDER not in rule.layer:
            layers[hit] = rule.layer
            continue
        dated = hit & ~np.isnat(expiry)
        order = np.searchsorted(np.unique(expiry[dated]), expiry[dated]) + 1
        layers[dated] = [rule.layer.replace(PLACEHOLDER, str(k)) for k in order]
        where = f" (row {rule.row})" if rule.row is not None else ""
        reasons[hit & ~dated] = (f"no expiry to order by for the rule '{rule.layer}'{where}")
    return layers, reasons
