"""Per-layer and book totals, limit flags, and vega by maturity bucket (SPEC §5, §7)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book import Thresholds
from ..conventions import DEFAULT_BUCKET_EDGES, DEFAULT_WARN, PORTFOLIO
from .valuation import SPX_OPT, BookValuation, bucket_index, bucket_labels

LAYER_COLUMNS = ("Layer", "RawVega", "WeightedVega", "VolOfVolVega", "Delta", "Gamma", "Theta",
                 "Limit", "Utilization", "Flag")


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


def layer_totals(val: BookValuation) -> pd.DataFrame:
    """Sums per layer in order of first appearance.

    RawVega / WeightedVega: Σ (weighted) vol exposure, $ per vol point; VolOfVolVega: Σ VIX
    option Black-76 vega; Delta: SPX dollar delta Σ Δ·mult·qty·S ($ per 100 % move, i.e. $ per
    1 % = Delta/100); Gamma: SPX dollar gamma per 1 % move Σ Γ·mult·qty·S²/100; Theta: $ per day.
    """
    legs = val.legs
    spx = (val.state.kind == SPX_OPT)
    s = val.market.spx_spot
    frame = pd.DataFrame({
        "Layer": legs["Layer"],
        "RawVega": legs["VolExposure"],
        "WeightedVega": legs["WeightedVolExposure"],
        "VolOfVolVega": legs["VolOfVolExposure"],
        "Delta": np.where(spx, legs["Delta"] * s, 0.0),
        "Gamma": np.where(spx, legs["Gamma"] * s * s / 100.0, 0.0),
        "Theta": legs["Theta"],
    })
    return frame.groupby("Layer", sort=False).sum().reset_index()


def layers_table(val: BookValuation, thresholds: Thresholds | None = None) -> pd.DataFrame:
    """Layer rows with Limit, Utilization = |vega − target| / limit and Flag; last row PORTFOLIO.

    Flags use raw vega. Without thresholds no layer has a limit; the portfolio uses the
    default tolerance (8 %) of the basis layer's gross |vega| (default Core).
    """
    th = thresholds or Thresholds()
    tot = layer_totals(val)
    limits = [th.for_layer(layer) for layer in tot["Layer"]]
    lim = np.array([x.limit if x else np.nan for x in limits])
    tgt = np.array([x.target if x else 0.0 for x in limits])
    warn = np.array([x.warn if x else DEFAULT_WARN for x in limits])
    util = np.abs(tot["RawVega"].to_numpy() - tgt) / lim
    tot["Limit"] = lim
    tot["Utilization"] = util
    tot["Flag"] = flag(tot["RawVega"].to_numpy() - tgt, lim, warn) if len(tot) else []
    port = portfolio_row(val, th)
    book = tot[list(LAYER_COLUMNS[1:7])].sum()
    row = {"Layer": PORTFOLIO, **book.to_dict(), "Limit": port["tolerance"],
           "Utilization": port["utilization"], "Flag": port["flag"]}
    return pd.concat([tot, pd.DataFrame([row])], ignore_index=True)[list(LAYER_COLUMNS)]


def portfolio_row(val: BookValuation, th: Thresholds) -> dict:
    """Book net (raw) vega vs target; tolerance = fraction × gross |vega| of the basis layer."""
    legs = val.legs
    net = float(legs["VolExposure"].sum())
    basis_mask = legs["Layer"].str.casefold() == th.basis_layer.casefold()
    basis = float(np.abs(legs.loc[basis_mask, "VolExposure"]).sum())
    tol = th.portfolio_tolerance * basis if basis > 0 else np.nan
    util = abs(net - th.portfolio_target) / tol if basis > 0 else np.nan
    return {"net": net, "weighted": float(legs["WeightedVolExposure"].sum()),
            "target": th.portfolio_target, "tolerance": tol, "basis": basis,
            "basis_layer": th.basis_layer, "utilization": util,
            "flag": str(flag(net - th.portfolio_target, tol, th.portfolio_warn))}


def bucket_table(val: BookValuation, edges: tuple[float, ...] = DEFAULT_BUCKET_EDGES,
                 column: str = "VolExposure") -> pd.DataFrame:
    """Vega ($/vol pt) by maturity bucket (rows) × layer (columns), with Total row and column.

    A leg's maturity is its expiry in calendar days (ETPs: the constant-maturity point).
    """
    legs = val.legs
    labels = bucket_labels(edges)
    idx = bucket_index(legs["MaturityDays"].to_numpy(float), edges)
    layers = list(dict.fromkeys(legs["Layer"]))
    grid = np.zeros((len(labels), len(layers)))
    col = pd.Index(layers).get_indexer(legs["Layer"])
    np.add.at(grid, (idx, col), legs[column].to_numpy(float))
    table = pd.DataFrame(grid, index=labels, columns=layers)
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum(axis=0)
    table.index.name = "Bucket"
    return table.reset_index()

