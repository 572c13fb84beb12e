"""Hedge sizing (SPEC §7): whole contracts of each candidate that bring the book's weighted
net vega back to the portfolio target, with cost and the ±10-point shock P&L after the trade."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..book import Curve, Market, Positions, Thresholds
from .scenarios import revalue
from .valuation import BookValuation, value_book

HEDGE_COLUMNS = ("Candidate", "Layer", "ExposurePerContract", "Contracts", "Action",
                 "WeightedVegaAfter", "RawVegaAfter", "Residual", "Premium", "PnLDown10",
                 "PnLUp10", "Effect")
SHOCK = 10.0


def size_hedges(book: BookValuation, candidates: Positions, market: Market, curve: Curve,
                thresholds: Thresholds | None = None) -> pd.DataFrame:
    """One row per usable candidate, ranked by |residual| then |premium|.

    Contracts n = round(−(net_w − target) / e), e = weighted vol exposure of one contract
    (its Qty is ignored), so |residual| ≤ |e|/2. Premium = n × price × multiplier ($ paid,
    negative = received; 0 for futures, which cost no premium). PnLDown10/PnLUp10:
    full-revaluation P&L of book + hedge for a ∓10-point weighted vol shift. Candidates that
    cannot be valued are left out and listed in ``attrs["problems"]``.
    """
    th = thresholds or Thresholds()
    legs = candidates.legs.copy()
    if legs.empty:
        out = pd.DataFrame(columns=list(HEDGE_COLUMNS))
        out.attrs["problems"] = []
        return out
    legs["qty"] = 1.0
    one = value_book(Positions(legs, []), market, curve)
    c = one.legs
    net_w = float(book.legs["WeightedVolExposure"].sum())
    net_raw = float(book.legs["VolExposure"].sum())
    e = c["WeightedVolExposure"].to_numpy(float)
    gap = th.portfolio_target - net_w
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(np.abs(e) > 1e-12, np.round(gap / e), 0.0)
    after_w = net_w + n * e
    after_raw = net_raw + n * c["VolExposure"].to_numpy(float)
    is_future = c["Instrument"].isin(("VX", "VXM")).to_numpy()
    premium = np.where(is_future, 0.0, n * c["Value"].to_numpy(float))  # price × mult × n
    shocks = np.array([-SHOCK, 0.0, SHOCK])           # P&L against the unshifted revaluation
    book_v = revalue(book.state, vol_shift=shocks, volvol_beta=market.volvol_beta).sum(axis=1)
    base_book = book_v[[0, 2]] - book_v[1]
    hedge_v = revalue(one.state, vol_shift=shocks, volvol_beta=market.volvol_beta)
    hedge_pnl = hedge_v[[0, 2]] - hedge_v[1]           # (2, candidates) per contract
    shock_after = base_book[:, None] + hedge_pnl * n
    names = [_describe(r) for r in c.itertuples()]
    action = np.where(n > 0, "BUY", np.where(n < 0, "SELL", "NONE"))
    effect = np.where(e > 0, "adds vol exposure per contract bought",
                      np.where(e < 0, "lowers vol exposure per contract bought",
                               "no vol exposure"))
    out = pd.DataFrame({
        "Candidate": names, "Layer": c["Layer"].to_numpy(), "ExposurePerContract": e,
        "Contracts": n, "Action": action, "WeightedVegaAfter": after_w,
        "RawVegaAfter": after_raw, "Residual": after_w - th.portfolio_target,
        "Premium": premium, "PnLDown10": shock_after[0], "PnLUp10": shock_after[1],
        "Effect": effect})
    order = np.lexsort((np.abs(premium), np.abs(out["Residual"].to_numpy())))
    out = out.iloc[order].reset_index(drop=True)[list(HEDGE_COLUMNS)]
    out.attrs["problems"] = [replace(p, table="candidates") for p in one.problems]
    return out


def _describe(r) -> str:
    if r.Instrument in ("SPX", "SPXW", "VIX"):
        return f"{r.Instrument} {pd.Timestamp(r.Expiry):%Y-%m-%d} {r.Strike:g}{r.Type}"
    if r.Instrument == "ETP":
        return r.Underlying.split()[0]
    return f"{r.Instrument} {pd.Timestamp(r.Expiry):%Y-%m-%d}"
