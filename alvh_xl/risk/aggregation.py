"""Per-layer and book totals, limit flags, and vega by maturity bucket (SPEC §5, §7)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book import Thresholds
from ..conventions import DEFAULT_BUCKET_EDGES, DEFAULT_WARN, PORTFOLIO
from .valuation import SPX_FUT, SPX_OPT, BookValuation, bucket_index, bucket_labels, exact_grid

LAYER_COLUMNS = ("Layer", "RawVega", "WeightedVega", "VolOfVolVega", "Delta", "Gamma", "Theta",
                 "Measure", "Target", "Limit", "Warn", "Utilization", "Flag")
NO_LIMIT = "no limit"
INCOMPLETE = "INCOMPLETE"
MEASURE_COLUMN = {"raw": "VolExposure", "weighted": "WeightedVolExposure"}
MEASURE_NAME = {"raw": "Raw", "weighted": "Weighted"}


def flag(value, limit, warn=DEFAULT_WARN):
    """'OK' below warn × limit, 'WATCH' up to the limit, 'BREACH' above (|value| vs limit).

    Works elementwise on arrays; a NaN or non-positive limit gives '' (no flag).
    """
    v = np.abs(np.asarray(value, dtype=float))
    lim = np.asarray(limit, dtype=float)
    w = np.asarray(warn, dtype=float)
    has = np.isfinite(lim) & (lim > 0)
    out = np.where(v < w * lim, "OK", np.where(v <= lim, "WATCH", "BREACH"))
    out = np.where(has, out, "").astype(object)
    return out if out.ndim else str(out)


def layer_codes(val: BookValuation) -> tuple[np.ndarray, list[str]]:
    """Layer number of each leg and the layer names, in order of first appearance."""
    codes, names = pd.factorize(val.legs["Layer"].to_numpy(dtype=object), sort=False)
    return codes, [str(x) for x in names]


def _sums(codes: np.ndarray, count: int, values: np.ndarray) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=count) if codes.size else np.zeros(count)


def layer_totals(val: BookValuation) -> pd.DataFrame:
    """Sums per layer in order of first appearance.

    RawVega / WeightedVega: Σ (weighted) vol exposure, $ per vol point; VolOfVolVega: Σ own
    vega of VIX options and options on ETPs; Delta: SPX dollar delta of the SPX-linked legs
    (SPX/SPXW/XSP options, ES/MES futures) Σ Δ·mult·qty·U, U the leg's own underlying (SPX
    spot, SPX/10 for XSP, the forward for a leg on a forward), $ per 100 % move, i.e. $ per
    1 % = Delta/100; Gamma: SPX dollar gamma per 1 % move Σ Γ·mult·qty·U²/100; Theta: $ per day.
    Every column is on an exact-sum grid (``exact_grid``), so the layers add up to the book
    total exactly, in any order.
    """
    legs = val.legs
    spx = (val.state.kind == SPX_OPT) | (val.state.kind == SPX_FUT)
    s = legs["UnderlyingPrice"].to_numpy(float)
    codes, names = layer_codes(val)
    columns = {
        "RawVega": legs["VolExposure"].to_numpy(float),
        "WeightedVega": legs["WeightedVolExposure"].to_numpy(float),
        "VolOfVolVega": legs["VolOfVolExposure"].to_numpy(float),
        "Delta": exact_grid(np.where(spx, legs["Delta"].to_numpy(float) * s, 0.0)),
        "Gamma": exact_grid(np.where(spx, legs["Gamma"].to_numpy(float) * s * s / 100.0,
                                     0.0)),
        "Theta": legs["Theta"].to_numpy(float),
    }
    out = pd.DataFrame({"Layer": np.array(names, dtype=object)})
    for key, values in columns.items():
        out[key] = _sums(codes, len(names), values)
    return out


def left_out_layers(val: BookValuation) -> set[str]:
    """Layer names (case-folded) of the input rows left out of the valuation."""
    return {p.layer.strip().casefold() for p in val.problems if p.left_out and p.layer}


def layers_table(val: BookValuation, thresholds: Thresholds | None = None) -> pd.DataFrame:
    """Layer rows with Measure, Target, Limit, Warn, Utilization = |vega − target| / limit and
    Flag; last row PORTFOLIO.

    Each layer is flagged on its threshold row's measure (raw vega unless it says Weighted).
    A layer without a threshold row shows "no limit"; a layer one of whose input rows was left
    out shows INCOMPLETE (its sum is not the whole layer), as does the PORTFOLIO row when any
    row was left out. The PORTFOLIO row sums the layers; its Limit is the tolerance in $
    (fraction × basis, see ``portfolio_row``).
    """
    th = thresholds or Thresholds()
    tot = layer_totals(val)
    limits = [th.for_layer(layer) for layer in tot["Layer"]]
    has = np.array([x is not None for x in limits], dtype=bool)
    lim = np.array([x.limit if x else np.nan for x in limits], dtype=float)
    tgt = np.array([x.target if x else np.nan for x in limits], dtype=float)
    warn = np.array([x.warn if x else np.nan for x in limits], dtype=float)
    measure = [x.measure if x else "raw" for x in limits]
    vega = np.where([m == "weighted" for m in measure], tot["WeightedVega"].to_numpy(float),
                    tot["RawVega"].to_numpy(float)) if len(tot) else np.zeros(0)
    flags = flag(vega - tgt, lim, np.where(has, warn, DEFAULT_WARN)) if len(tot) else \
        np.array([], dtype=object)
    flags = np.where(has, flags, NO_LIMIT).astype(object)
    partial = left_out_layers(val)
    incomplete = np.array([str(x).strip().casefold() in partial for x in tot["Layer"]], bool)
    flags[incomplete] = INCOMPLETE
    util = np.abs(vega - tgt) / lim
    tot["Measure"] = [MEASURE_NAME[m] if h else "" for m, h in zip(measure, has, strict=True)]
    tot["Target"] = tgt
    tot["Limit"] = lim
    tot["Warn"] = warn
    tot["Utilization"] = np.where(incomplete, np.nan, util)
    tot["Flag"] = flags
    port = portfolio_row(val, th)
    book = {key: float(tot[key].sum()) for key in LAYER_COLUMNS[1:7]}
    row = {"Layer": PORTFOLIO, **book, "Measure": MEASURE_NAME[port["measure"]],
           "Target": port["target"], "Limit": port["tolerance"], "Warn": port["warn"],
           "Utilization": port["utilization"], "Flag": port["flag"]}
    return pd.concat([tot, pd.DataFrame([row])], ignore_index=True)[list(LAYER_COLUMNS)]


def portfolio_row(val: BookValuation, th: Thresholds) -> dict:
    """Book net vega vs target on the PORTFOLIO measure (raw unless it says Weighted);
    tolerance = fraction × basis, the basis being the absolute vega (same measure) of the
    basis layer (default Core): SPEC §7's ALVH_FLAG(7, 0.08*38) for a condor at −38. No basis
    layer in the book (or zero vega there): no limit ("no limit"). Any input row left out:
    INCOMPLETE, with no utilization (a flag on part of the book would mislead)."""
    legs = val.legs
    measure = th.portfolio_measure
    col = MEASURE_COLUMN[measure]
    values = legs[col].to_numpy(float)
    net = float(values.sum())
    basis_mask = (legs["Layer"].str.casefold() == th.basis_layer.casefold()).to_numpy()
    basis = abs(float(values[basis_mask].sum()))
    tol = th.portfolio_tolerance * basis if basis > 0 else np.nan
    util = abs(net - th.portfolio_target) / tol if basis > 0 else np.nan
    left_out = sum(p.left_out for p in val.problems)
    if left_out:
        state, util = INCOMPLETE, np.nan
    elif basis > 0:
        state = str(flag(net - th.portfolio_target, tol, th.portfolio_warn))
    else:
        state = NO_LIMIT
    return {"net": net, "raw": float(legs["VolExposure"].sum()),
            "weighted": float(legs["WeightedVolExposure"].sum()), "measure": measure,
            "target": th.portfolio_target, "tolerance": tol, "warn": th.portfolio_warn,
            "basis": basis, "basis_layer": th.basis_layer, "utilization": util,
            "headroom": tol - abs(net - th.portfolio_target) if basis > 0 else np.nan,
            "left_out": left_out, "flag": state}


def basis_problem(val: BookValuation, th: Thresholds) -> str | None:
    """Why the PORTFOLIO row has no limit (its basis layer is not in the book — with the
    nearest book layer when one is a small edit away — or has no vega), None when it has."""
    from ..book.limits import nearest_layer

    port = portfolio_row(val, th)
    if port["basis"] > 0:
        return None
    name = th.basis_layer
    layers = list(dict.fromkeys(str(x) for x in val.legs["Layer"]))
    if name.strip().casefold() in {x.strip().casefold() for x in layers}:
        return f"no vega in the basis layer {name!r}: the PORTFOLIO row has no limit"
    near = nearest_layer(name, layers)
    hint = f"; did you mean {near!r}?" if near else ""
    return (f"the PORTFOLIO basis layer {name!r} is not a layer of the book: the portfolio "
            f"has no limit{hint}")


def bucket_table(val: BookValuation, edges: tuple[float, ...] = DEFAULT_BUCKET_EDGES,
                 column: str = "VolExposure") -> pd.DataFrame:
    """Vega ($/vol pt) by maturity bucket (rows) × layer (columns), with Total row and column.

    A leg's maturity is its expiry in calendar days (ETPs: the constant-maturity point);
    bucket i holds maturities ≤ edges[i] days (0–7, 8–30, …, above the last edge). Values
    are on the exact-sum grid, so every Total equals the sum it heads and the book total
    equals ``layers_table``'s PORTFOLIO figure and ALVH_NETVEGA to the last bit.
    """
    legs = val.legs
    labels = bucket_labels(edges)
    idx = bucket_index(legs["MaturityDays"].to_numpy(float), edges)
    codes, layers = layer_codes(val)
    flat = _sums(idx * len(layers) + codes, len(labels) * len(layers),
                 legs[column].to_numpy(float))
    grid = flat.reshape(len(labels), len(layers))
    table = pd.DataFrame(grid, index=labels, columns=layers)
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum(axis=0)
    table.index.name = "Bucket"
    return table.reset_index()
