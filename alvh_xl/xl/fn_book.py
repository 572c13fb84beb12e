"""Book-level Excel functions: net vega, per-leg table, layers with flags, buckets, hedges and
the portfolio headline (ALVH_STATUS)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..book import (
    Positions,
    Problem,
    Thresholds,
    parse_candidates,
    parse_curve,
    parse_market,
    parse_positions,
    parse_scenarios,
    parse_thresholds,
)
from ..book.cells import CellError, parse_bool
from ..book.forwards import Forwards, parse_forwards
from ..conventions import DEFAULT_BUCKET_EDGES, DEFAULT_WARN
from ..errors import InputError
from ..risk.aggregation import INCOMPLETE, basis_problem, bucket_table, flag, layers_table
from ..risk.hedging import size_hedges
from ..risk.status import Headline, headline
from ..risk.valuation import BookValuation, value_book
from .cache import BOOKS, freeze
from .cells import (
    broadcast,
    domain_errors,
    first_error,
    number_list,
    numbers,
    omitted,
    pipeline_active,
    scalar,
    scalar_text,
    spill,
)
from .frames import frame_to_cells
from .registry import WORKBOOK_INPUTS, excel

DOC_POS = "positions table with header row (ALVH_POSITIONS)"
DOC_MKT = "market Field|Value table (ALVH_MARKET)"
DOC_CURVE = "VIX futures curve Expiry|Price (ALVH_CURVE)"
DOC_TH = "thresholds Layer|Limit|Target|Warn|Measure[|Basis] (ALVH_THRESHOLDS)"
DOC_HEDGES = "candidate hedges, positions schema (ALVH_HEDGES); Qty ignored"
DOC_SCEN = "Name|SpotPct|VolPts|DaysForward table (ALVH_SCENARIOS)"
DOC_FWD = ("optional SPX forwards Expiry|Forward|Discount (ALVH_FORWARDS): legs of those "
           "expiries are priced Black-76 on them")


# ----------------------------------------------------------------------------- inputs
# Each reader first asks the report/Refresh pipeline (which parsed and valued the workbook
# once) for the object behind these very cells; otherwise it parses them (the book is valued
# once per distinct set of values: BOOKS).


def valuation(positions: Any, market: Any, curve: Any, forwards: Any = None) -> BookValuation:
    """The book for these ranges (``forwards``: the optional ALVH_FORWARDS), evaluated once
    per distinct set of values."""
    ctx = pipeline_active()
    if ctx is not None:
        hit = ctx.valuation_for(positions, market, curve, forwards)
        if hit is not None:
            return hit
    key = (freeze(positions), freeze(market), freeze(curve), freeze(forwards))
    return BOOKS.get_or_compute(key, lambda: value_book(
        parse_positions(positions), parse_market(market), parse_curve(curve),
        forwards_from(forwards)))


def _parsed(values: Any, parse) -> Any:
    ctx = pipeline_active()
    if ctx is not None:
        found, obj = ctx.parsed_for(values)
        if found:
            if isinstance(obj, Exception):
                raise obj
            return obj
    return parse(values)


def forwards_from(values: Any) -> Forwards | None:
    """The ALVH_FORWARDS table, or None when the argument is omitted (or blank cells only)."""
    return None if omitted(values) else _parsed(values, parse_forwards)


def thresholds_from(values: Any) -> Thresholds | None:
    return None if omitted(values) else _parsed(values, parse_thresholds)


def candidates_from(values: Any) -> Positions:
    return _parsed(values, parse_candidates)


def scenarios_from(values: Any) -> pd.DataFrame:
    return _parsed(values, parse_scenarios)


def boolean(value: Any, name: str, default: bool = False) -> bool:
    """TRUE/FALSE, 1/0 or text 'true'/'false'/'yes'/'no' from a cell."""
    try:
        return parse_bool(scalar(value), default=default)
    except CellError as exc:
        raise InputError(f"{name}: {exc}") from None


def _left_out_error(val: BookValuation) -> None:
    left = [p for p in val.problems if p.left_out]
    if left:
        more = f" and {len(left) - 1} more" if len(left) > 1 else ""
        raise InputError(f"{INCOMPLETE}: {left[0]}{more} (fix it, or see ALVH_LEGS for every "
                         "row)")


# ----------------------------------------------------------------------------- functions


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE,
       layer="optional layer name (blank = whole book)",
       weighted="TRUE for term-structure weighted net vega (default FALSE = raw)",
       forwards=DOC_FWD, workbook_inputs=WORKBOOK_INPUTS)
def ALVH_NETVEGA(positions=None, market=None, curve=None, layer=None, weighted=False,
                 forwards=None):
    """Net vega in $ per vol point: raw sum of vol exposures (VIX options via delta to the future) or term-structure weighted. Optional layer. Rows left out: #ALVH! INCOMPLETE."""
    val = valuation(positions, market, curve, forwards)
    _left_out_error(val)
    col = "WeightedVolExposure" if boolean(weighted, "weighted") else "VolExposure"
    legs = val.legs
    name = scalar_text(layer, "layer")
    if name:
        mask = legs["Layer"].str.casefold() == name.casefold()
        if not mask.any():
            raise InputError(f"layer {name!r} not found; layers: "
                             f"{', '.join(dict.fromkeys(legs['Layer']))}")
        return float(legs.loc[mask, col].sum())
    return float(legs[col].sum())


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, forwards=DOC_FWD,
       workbook_inputs=WORKBOOK_INPUTS)
def ALVH_LEGS(positions=None, market=None, curve=None, forwards=None):
    """Per-leg table: DTE, T, underlying (spot, forward, future, interpolated), price, IV, position Greeks ($; vega per vol pt, theta per day), vol and vol-of-vol exposure, weight, bucket. Rows left out listed below."""
    val = valuation(positions, market, curve, forwards)
    legs = val.legs.copy()
    expiry = legs["Expiry"].to_numpy(dtype="datetime64[D]")
    legs["Expiry"] = np.where(np.isnat(expiry), None, expiry.astype(object))  # ETPs: blank
    return frame_to_cells(legs, val.problems)


def layer_notes(val: BookValuation, th: Thresholds | None) -> list[Problem]:
    """Notes under the layers table: no basis vega, limits without legs, layers without a
    limit (with the nearest limited layer when one is a small edit away)."""
    from ..book.limits import nearest_layer

    notes = list(val.problems)
    no_basis = basis_problem(val, th or Thresholds())
    if no_basis:
        notes.append(Problem(None, "Basis", no_basis, left_out=False, table="thresholds"))
    present = {str(x).strip().casefold(): str(x) for x in val.legs["Layer"]}
    limited = list(th.layers) if th else []
    for name in limited:
        if name.strip().casefold() not in present:
            notes.append(Problem(None, "Layer", f"layer {name!r} has a limit but no valued "
                                 "legs (none listed, all left out, or spelt differently)",
                                 left_out=False, table="thresholds"))
    for name in present.values():
        if th is not None and th.for_layer(name) is None:
            near = nearest_layer(name, limited)
            hint = f"; did you mean {near!r}?" if near else ""
            notes.append(Problem(None, "Layer", f"layer {name!r} has no threshold row (no "
                                 f"limit, no flag){hint}", left_out=False,
                                 table="thresholds"))
    return notes


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, thresholds=DOC_TH,
       forwards=DOC_FWD, workbook_inputs=WORKBOOK_INPUTS)
def ALVH_LAYERS(positions=None, market=None, curve=None, thresholds=None, forwards=None):
    """Per layer: raw, weighted and vol-of-vol vega, SPX $delta, $gamma/1%, theta/day, then Measure, Target, Limit, Warn, utilization and flag (OK/WATCH/BREACH, no limit, INCOMPLETE); last row PORTFOLIO."""
    val = valuation(positions, market, curve, forwards)
    th = thresholds_from(thresholds)
    return frame_to_cells(layers_table(val, th), layer_notes(val, th))


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE,
       edges="optional bucket upper edges in days, e.g. 7,30,60,90,180", forwards=DOC_FWD,
       workbook_inputs=WORKBOOK_INPUTS)
def ALVH_BUCKETS(positions=None, market=None, curve=None, edges=None, forwards=None):
    """Vol exposure ($ per vol point) by maturity bucket (rows) and layer (columns), with totals. Default buckets 0-7, 8-30, 31-60, 61-90, 91-180, 180+ days."""
    val = valuation(positions, market, curve, forwards)
    return frame_to_cells(bucket_table(val, _edges(edges)), val.problems)


@excel(value="the number to check (e.g. vega minus target)", limit="the limit (> 0)",
       warn="warn fraction of the limit (default 0.75)")
def ALVH_FLAG(value, limit, warn=DEFAULT_WARN):
    """OK if |value| < warn x limit, WATCH up to the limit, BREACH above. Works on plain numbers: ALVH_FLAG(7, 0.08*38) is BREACH."""
    v, v_err = numbers(value, "value")
    lim, lim_err = numbers(limit, "limit")
    w, w_err = numbers(warn, "warn", default=DEFAULT_WARN, percent=True)
    shape = broadcast({"value": v.shape, "limit": lim.shape, "warn": w.shape})
    lim_err = domain_errors(lim_err, lim, lim > 0, "limit", "a number > 0")
    w_err = domain_errors(w_err, w, (w > 0) & (w <= 1), "warn", "a fraction in (0, 1]")
    errs = first_error(v_err, lim_err, w_err, shape=shape)
    ok = errs == ""
    b = [np.where(ok, np.broadcast_to(a, shape), 1.0) for a in (v, lim, w)]  # bad cells: inert
    out = np.where(ok, flag(*b), "").astype(object)
    return spill(out, errs)


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, thresholds=DOC_TH,
       candidates=DOC_HEDGES, forwards=DOC_FWD)
def ALVH_HEDGE(positions, market, curve, thresholds, candidates, forwards=None):
    """Hedge sizing on the PORTFOLIO flag's measure: whole contracts of each candidate to the target; raw and weighted vega after, flag after, premium paid ($), +/-10 vol P&L after."""
    val = valuation(positions, market, curve, forwards)
    if omitted(candidates):
        raise InputError("candidates: pass a hedge candidates table (ALVH_HEDGES)")
    cands = candidates_from(candidates)
    table = size_hedges(val, cands, val.market, val.curve, thresholds_from(thresholds))
    notes = [*val.problems, *cands.problems, *table.attrs.get("problems", [])]
    return frame_to_cells(table, notes)


STATUS_VIEWS = ("flag", "message", "net", "tolerance", "headroom", "left_out", "measure")


@excel(what="flag (default), message, net, tolerance, headroom, left_out or measure",
       positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, thresholds=DOC_TH,
       candidates="optional hedge candidates (ALVH_HEDGES)",
       scenarios="optional named scenarios (ALVH_SCENARIOS)",
       vix_futures_series="optional VIX futures closes (ALVH_VIXFUT_SERIES)",
       vvix_series="optional VVIX closes (ALVH_VVIX_SERIES)", forwards=DOC_FWD)
def ALVH_STATUS(what, positions, market, curve, thresholds=None, candidates=None,
                scenarios=None, vix_futures_series=None, vvix_series=None, forwards=None):
    """Portfolio headline: OK/WATCH/BREACH on the whole book, or INCOMPLETE (with the count) when any row is left out or any given table fails; 'message' gives the first problem."""
    view = scalar_text(what, "what").lower() or "flag"
    if view not in STATUS_VIEWS:
        raise InputError(f"what: expected one of {', '.join(STATUS_VIEWS)}, got {view!r}")
    head = book_headline(positions, market, curve, thresholds, candidates, scenarios,
                         vix_futures_series, vvix_series, forwards)
    return status_cell(head, view)


def status_cell(head: Headline, view: str) -> Any:
    """One view of the headline as a cell value."""
    if view == "flag":
        return head.text
    if view == "message":
        return head.message
    if view == "measure":
        return head.measure.capitalize()
    value = {"net": head.net, "tolerance": head.tolerance, "headroom": head.headroom,
             "left_out": float(head.left_out)}[view]
    return float(value) if np.isfinite(value) else None


def book_headline(positions, market, curve, thresholds=None, candidates=None, scenarios=None,
                  vix_futures_series=None, vvix_series=None, forwards=None) -> Headline:
    """The headline of the book these tables describe; a table that does not parse makes it
    INCOMPLETE (the pipeline passes its own headline, which also counts failed blocks)."""
    ctx = pipeline_active()
    if ctx is not None and ctx.headline is not None and ctx.owns(positions, market, curve,
                                                                 forwards):
        return ctx.headline
    failed: dict[str, str] = {}
    try:
        val = valuation(positions, market, curve, forwards)
    except InputError as exc:
        return headline(None, failed={"book": str(exc)})
    th = None
    checks = (("thresholds", thresholds, lambda v: thresholds_from(v)),
              ("hedges", candidates, lambda v: candidates_from(v)),
              ("scenarios", scenarios, lambda v: scenarios_from(v)))
    for name, values, parse in checks:
        if omitted(values):
            continue
        try:
            obj = parse(values)
        except InputError as exc:
            failed[name] = str(exc)
            continue
        if name == "thresholds":
            th = obj
        elif name == "hedges":
            from ..risk.hedging import unvalued_candidates

            unusable = [p for p in obj.problems if p.left_out]
            try:
                unusable += unvalued_candidates(obj, val.market, val.curve, val.forwards)
            except InputError as exc:
                failed[name] = str(exc)
            if unusable:
                val = replace(val, problems=[*val.problems, *unusable])
    if not (omitted(vix_futures_series) and omitted(vvix_series)):
        from .fn_signals import series_problem

        why = series_problem(vix_futures_series, vvix_series)
        if why:
            failed["signals"] = why
    return headline(val, th, failed=failed)


def _edges(values: Any) -> tuple[float, ...]:
    out = number_list(values, "edges", DEFAULT_BUCKET_EDGES)
    if (np.diff(out) <= 0).any() or (out < 0).any():
        raise InputError("edges must be increasing day counts, e.g. 7, 30, 60, 90, 180")
    return tuple(float(x) for x in out)
