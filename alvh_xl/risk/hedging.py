"""Hedge sizing (SPEC §7): whole contracts of each candidate that bring the book's net vega
back to the portfolio target on the PORTFOLIO flag's measure, with the flag after the trade,
its cost and the ±10-point shock P&L after it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..book import Curve, Market, Positions, Thresholds
from ..book.forwards import Forwards
from ..conventions import SPX_FUTURES, VIX_FUTURES
from .aggregation import INCOMPLETE, MEASURE_COLUMN, MEASURE_NAME, NO_LIMIT, flag, portfolio_row
from .scenarios import revalue
from .valuation import BookValuation, value_book

HEDGE_COLUMNS = ("Candidate", "Layer", "Measure", "ExposurePerContract", "Contracts", "Action",
                 "RawVegaAfter", "WeightedVegaAfter", "FlagAfter", "Residual", "PremiumPaid",
                 "PnLDown10", "PnLUp10", "Effect")
SHOCK = 10.0
SEARCH = 3                 # contracts either side of the rounded size tried for an OK flag


def unvalued_candidates(candidates: Positions, market: Market, curve: Curve,
                        forwards: Forwards | None = None) -> list:
    """The candidate rows that parse but cannot be valued on this market (e.g. a VX expiry
    not on the curve): the rows ``size_hedges`` leaves out, as left-out problems of the
    ``candidates`` table, so that every surface counts them (headline INCOMPLETE)."""
    legs = candidates.legs.copy()
    if legs.empty:
        return []
    legs["qty"] = 1.0
    one = value_book(Positions(legs, []), market, curve, forwards)
    return [replace(p, table="candidates") for p in one.problems if p.left_out]


def size_hedges(book: BookValuation, candidates: Positions, market: Market, curve: Curve,
                thresholds: Thresholds | None = None,
                forwards: Forwards | None = None) -> pd.DataFrame:
    """One row per usable candidate, ranked by |residual| then |premium|.

    Sizing is on the PORTFOLIO row's measure (raw net vega unless it says Weighted), the same
    measure its flag uses: n = round(−(net − target) / e), e = the exposure of one contract on
    that measure (its Qty is ignored), so |residual| ≤ |e|/2 and the suggested trade clears the
    flag whenever a whole number of contracts can (sizes within ±3 of n are tried when the
    candidate sits in the basis layer and so moves the tolerance too). RawVegaAfter,
    WeightedVegaAfter: net vega of book + trade; FlagAfter: the PORTFOLIO flag after it.
    PremiumPaid = n × price × multiplier ($; negative = premium received; 0 for futures).
    PnLDown10/PnLUp10: full-revaluation P&L of book + hedge for a ∓10-point weighted vol shift.
    Candidates that cannot be valued are left out and listed in ``attrs["problems"]``.
    Candidates are valued like the book (``forwards``: ALVH_FORWARDS, default the book's).
    """
    th = thresholds or Thresholds()
    legs = candidates.legs.copy()
    if legs.empty:
        out = pd.DataFrame(columns=list(HEDGE_COLUMNS))
        out.attrs["problems"] = []
        return out
    legs["qty"] = 1.0
    one = value_book(Positions(legs, []), market, curve,
                     book.forwards if forwards is None else forwards)
    c = one.legs
    port = portfolio_row(book, th)
    measure = port["measure"]
    col = MEASURE_COLUMN[measure]
    e = c[col].to_numpy(float)
    e_raw, e_w = c["VolExposure"].to_numpy(float), c["WeightedVolExposure"].to_numpy(float)
    in_basis = (c["Layer"].str.casefold() == th.basis_layer.casefold()).to_numpy()
    book_vals = book.legs[col].to_numpy(float)
    basis_sum = float(book_vals[(book.legs["Layer"].str.casefold()
                                 == th.basis_layer.casefold()).to_numpy()].sum())
    gap = th.portfolio_target - port["net"]
    with np.errstate(divide="ignore", invalid="ignore"):
        n0 = np.where(np.abs(e) > 1e-12, np.round(gap / e), 0.0)
    tries = n0[:, None] + np.arange(-SEARCH, SEARCH + 1)[None, :]
    residual = port["net"] + tries * e[:, None] - th.portfolio_target
    basis = np.abs(basis_sum + np.where(in_basis[:, None], tries * e[:, None], 0.0))
    tol = th.portfolio_tolerance * basis
    ok = (np.abs(residual) < th.portfolio_warn * tol) & (basis > 0)
    rank = np.where(ok, 0.0, 1.0) * 1e300 + np.abs(residual)      # OK first, then closest
    pick = np.argmin(np.where(in_basis[:, None], rank, np.where(
        np.arange(-SEARCH, SEARCH + 1)[None, :] == 0, 0.0, np.inf)), axis=1)
    n = tries[np.arange(len(e)), pick]
    tol_after = tol[np.arange(len(e)), pick]
    res_after = residual[np.arange(len(e)), pick]
    if port["left_out"]:
        flag_after = np.full(len(e), INCOMPLETE, dtype=object)
    else:
        flag_after = np.where(tol_after > 0, flag(res_after, tol_after, th.portfolio_warn),
                              NO_LIMIT).astype(object)
    is_future = c["Instrument"].isin(VIX_FUTURES + SPX_FUTURES).to_numpy()
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
        "Candidate": names, "Layer": c["Layer"].to_numpy(), "Measure": MEASURE_NAME[measure],
        "ExposurePerContract": e, "Contracts": n, "Action": action,
        "RawVegaAfter": port["raw"] + n * e_raw, "WeightedVegaAfter": port["weighted"] + n * e_w,
        "FlagAfter": flag_after, "Residual": res_after, "PremiumPaid": premium,
        "PnLDown10": shock_after[0], "PnLUp10": shock_after[1], "Effect": effect})
    order = np.lexsort((np.abs(premium), np.abs(res_after)))
    out = out.iloc[order].reset_index(drop=True)[list(HEDGE_COLUMNS)]
    out.attrs["problems"] = [replace(p, table="candidates") for p in one.problems]
    return out


def _describe(r) -> str:
    """'SPXW 2027-01-08 6150P', 'VXX 2027-01-15 50C' (option on VXX), 'VXX', 'MES 2026-12-18'."""
    ticker = r.Underlying.split()[0]
    if r.Instrument == "ETP":
        return (f"{ticker} {pd.Timestamp(r.Expiry):%Y-%m-%d} {r.Strike:g}{r.Type}" if r.Type
                else ticker)
    if r.Type:
        return f"{r.Instrument} {pd.Timestamp(r.Expiry):%Y-%m-%d} {r.Strike:g}{r.Type}"
    return f"{r.Instrument} {pd.Timestamp(r.Expiry):%Y-%m-%d}"
