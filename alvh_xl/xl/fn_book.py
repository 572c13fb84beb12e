"""Book-level Excel functions: net vega, per-leg table, layers with flags, buckets, hedges."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..book import (
    Problem,
    Thresholds,
    parse_candidates,
    parse_curve,
    parse_market,
    parse_positions,
    parse_thresholds,
)
from ..book.tables import text_of
from ..conventions import DEFAULT_BUCKET_EDGES, DEFAULT_WARN
from ..errors import InputError
from ..risk.aggregation import bucket_table, flag, layers_table, portfolio_row
from ..risk.hedging import size_hedges
from ..risk.valuation import BookValuation, value_book
from .cache import BOOKS, RESULTS, freeze
from .cells import broadcast, domain_errors, first_error, grid, is_number, numbers, spill
from .frames import frame_to_cells
from .registry import WORKBOOK_INPUTS, excel

DOC_POS = "positions table with header row (ALVH_POSITIONS)"
DOC_MKT = "market Field|Value table (ALVH_MARKET)"
DOC_CURVE = "VIX futures curve Expiry|Price (ALVH_CURVE)"
DOC_TH = "thresholds Layer|Limit|Target|Warn[|Basis] (ALVH_THRESHOLDS)"


def valuation(positions: Any, market: Any, curve: Any) -> BookValuation:
    """The book for these three ranges, evaluated once per distinct set of values."""
    key = (freeze(positions), freeze(market), freeze(curve))
    return BOOKS.get_or_compute(key, lambda: value_book(
        parse_positions(positions), parse_market(market), parse_curve(curve)))


def cached(name: str, args: tuple, compute) -> Any:
    """The cells of ``compute()`` for these arguments, computed once per distinct input.

    Tables come back as fresh row lists, so whoever receives them may change them freely.
    """
    out = RESULTS.get_or_compute((name, tuple(freeze(a) for a in args)), compute)
    return [list(r) for r in out] if isinstance(out, list) else out


def thresholds_from(values: Any) -> Thresholds | None:
    return None if _omitted(values) else parse_thresholds(values)


def boolean(value: Any, name: str, default: bool = False) -> bool:
    """TRUE/FALSE, 1/0 or text 'true'/'false'/'yes'/'no' from a cell."""
    v = scalar(value)
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        return v
    if is_number(v):
        return bool(v)
    text = str(v).strip().lower()
    if text in ("true", "yes", "y", "1"):
        return True
    if text in ("false", "no", "n", "0"):
        return False
    raise InputError(f"{name}: expected TRUE or FALSE, got {v!r}")


def scalar(value: Any) -> Any:
    """The top-left cell of a range argument (None for an empty range)."""
    if not isinstance(value, list):
        return value
    cells = grid(value)
    return cells[0, 0] if cells.size else None


def _omitted(v: Any) -> bool:
    return v is None or (isinstance(v, list) and all(
        c is None or c == "" for row in grid(v) for c in row))


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE,
       layer="optional layer name (blank = whole book)",
       weighted="TRUE for term-structure weighted net vega (default FALSE = raw)",
       workbook_inputs=WORKBOOK_INPUTS)
def ALVH_NETVEGA(positions=None, market=None, curve=None, layer=None, weighted=False):
    """Net vega in $ per vol point: raw sum of vol exposures (VIX options via delta to the future) or term-structure weighted. Optional layer."""
    def compute():
        val = valuation(positions, market, curve)
        if val.problems and any(p.left_out for p in val.problems):
            first = next(p for p in val.problems if p.left_out)
            raise InputError(f"{first} (fix it, or see ALVH_LEGS for every row)")
        col = "WeightedVolExposure" if boolean(weighted, "weighted") else "VolExposure"
        legs = val.legs
        name = text_of(scalar(layer))
        if name:
            mask = legs["Layer"].str.casefold() == name.casefold()
            if not mask.any():
                raise InputError(f"layer {name!r} not found; layers: "
                                 f"{', '.join(dict.fromkeys(legs['Layer']))}")
            return float(legs.loc[mask, col].sum())
        return float(legs[col].sum())
    return cached("NETVEGA", (positions, market, curve, layer, weighted), compute)


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, workbook_inputs=WORKBOOK_INPUTS)
def ALVH_LEGS(positions=None, market=None, curve=None):
    """Per-leg table: DTE, T, underlying, price, IV, position Greeks ($; vega per vol pt, theta per day), vol and vol-of-vol exposure, weight, bucket. Rows left out are listed below."""
    def compute():
        val = valuation(positions, market, curve)
        legs = val.legs.copy()
        expiry = legs["Expiry"].to_numpy(dtype="datetime64[D]")
        legs["Expiry"] = np.where(np.isnat(expiry), None, expiry.astype(object))  # ETPs: blank
        return frame_to_cells(legs, val.problems)
    return cached("LEGS", (positions, market, curve), compute)


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, thresholds=DOC_TH,
       workbook_inputs=WORKBOOK_INPUTS)
def ALVH_LAYERS(positions=None, market=None, curve=None, thresholds=None):
    """Per layer: raw and weighted vega, vol-of-vol vega, SPX $delta, $gamma per 1%, theta/day, limit, utilization, OK/WATCH/BREACH flag; last row PORTFOLIO."""
    def compute():
        val = valuation(positions, market, curve)
        th = thresholds_from(thresholds)
        notes = list(val.problems)
        port = portfolio_row(val, th or Thresholds())
        if not port["basis"] > 0:
            notes.append(Problem(None, "Basis", f"no vega in the basis layer "
                                 f"{port['basis_layer']!r}: the PORTFOLIO row has no limit",
                                 left_out=False, table="thresholds"))
        present = {str(x).strip().casefold() for x in val.legs["Layer"]}
        for name in (th.layers if th else {}):
            if name.strip().casefold() not in present:
                notes.append(Problem(None, "Layer", f"layer {name!r} has a limit but no valued "
                                     "legs (none listed, all left out, or spelt differently)", left_out=False,
                                     table="thresholds"))
        return frame_to_cells(layers_table(val, th), notes)
    return cached("LAYERS", (positions, market, curve, thresholds), compute)


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE,
       edges="optional bucket upper edges in days, e.g. 7,30,60,90,180",
       workbook_inputs=WORKBOOK_INPUTS)
def ALVH_BUCKETS(positions=None, market=None, curve=None, edges=None):
    """Vol exposure ($ per vol point) by maturity bucket (rows) and layer (columns), with totals. Default buckets 0-7, 8-30, 31-60, 61-90, 91-180, 180+ days."""
    def compute():
        val = valuation(positions, market, curve)
        return frame_to_cells(bucket_table(val, _edges(edges)), val.problems)
    return cached("BUCKETS", (positions, market, curve, edges), compute)


@excel(value="the number to check (e.g. vega minus target)", limit="the limit (> 0)",
       warn="warn fraction of the limit (default 0.75)")
def ALVH_FLAG(value, limit, warn=DEFAULT_WARN):
    """OK if |value| < warn x limit, WATCH up to the limit, BREACH above. Works on plain numbers: ALVH_FLAG(7, 0.08*38) is BREACH."""
    v, v_err = numbers(value, "value")
    lim, lim_err = numbers(limit, "limit")
    w, w_err = numbers(warn, "warn", default=DEFAULT_WARN)
    shape = broadcast({"value": v.shape, "limit": lim.shape, "warn": w.shape})
    lim_err = domain_errors(lim_err, lim, lim > 0, "limit must be positive")
    w_err = domain_errors(w_err, w, (w > 0) & (w <= 1), "warn must be a fraction in (0, 1]")
    errs = first_error(v_err, lim_err, w_err, shape=shape)
    ok = errs == ""
    b = [np.where(ok, np.broadcast_to(a, shape), 1.0) for a in (v, lim, w)]  # bad cells: inert
    out = np.where(ok, flag(*b), "").astype(object)
    return spill(out, errs)


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, thresholds=DOC_TH,
       candidates="candidate hedges, positions schema (ALVH_HEDGES); Qty ignored")
def ALVH_HEDGE(positions, market, curve, thresholds, candidates):
    """Hedge sizing: whole contracts of each candidate that bring weighted net vega to the PORTFOLIO target; vega after, premium ($), +/-10 vol P&L after."""
    def compute():
        val = valuation(positions, market, curve)
        cands = parse_candidates(candidates)
        table = size_hedges(val, cands, val.market, parse_curve(curve),
                            thresholds_from(thresholds))
        notes = [*val.problems, *cands.problems, *table.attrs.get("problems", [])]
        return frame_to_cells(table, notes)
    return cached("HEDGE", (positions, market, curve, thresholds, candidates), compute)


def _edges(values: Any) -> tuple[float, ...]:
    if _omitted(values):
        return DEFAULT_BUCKET_EDGES
    vals, errs = numbers(values, "edges")
    cells = grid(values)
    keep = np.array([not (c is None or c == "") for c in cells.ravel()])
    if (errs.ravel()[keep] != "").any():
        raise InputError(errs.ravel()[keep][errs.ravel()[keep] != ""][0])
    out = vals.ravel()[keep]
    if out.size == 0 or (np.diff(out) <= 0).any() or (out < 0).any():
        raise InputError("edges must be increasing day counts, e.g. 7, 30, 60, 90, 180")
    return tuple(float(x) for x in out)
