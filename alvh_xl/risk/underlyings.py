"""What each leg is priced on (SPEC §4): its kind, underlying level, model and clock.

``resolve(legs, market, curve, forwards)`` returns one ``Underlyings`` of per-leg arrays:

* SPX/SPXW/XSP options: BSM on spot S with Rate and DivYield, or — when ALVH_FORWARDS holds
  the expiry — Black-76 on that forward F with its discount D (rate −ln D / t). XSP is the same
  on SPX/10: underlying S/10 (or F/10), its strike in XSP points;
* ES/MES futures: SPX spot (delta 1 per index point); their price is the leg's Price, else the
  forward of the expiry (ALVH_FORWARDS, else S·e^{(r−q)t});
* VIX options: Black-76 on the VIX future of their expiry (or the one named in Underlying);
  with no listed future of that expiry, a forward interpolated linearly in calendar days
  between the two live futures that bracket it (flat beyond the curve's ends, with a note);
* VX/VXM futures: their curve price;
* ETP shares: their Price; options on an ETP: American on the ETP price from the market
  table (``Market.etp_price``), no dividend. Both track the constant-maturity futures level
  F_cm of their ticker (30 or 150 days).

Legs that cannot be priced (a future missing from the curve, an ETP price missing from the
market table, no live future for an ETP) are reported as ``Problem`` rows and flagged in
``drop``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book import Curve, Market, Problem
from ..book.forwards import NO_FORWARDS, Forwards
from ..book.tables import map_cells
from ..conventions import (
    DAYS_PER_YEAR,
    ETP_TARGET_DAYS,
    INDEX_SCALE,
    SETTLEMENT_TIME,
)

SPX_OPT, VIX_OPT, FUTURE, ETP, ETP_OPT, SPX_FUT = 0, 1, 2, 3, 4, 5
KIND = {"SPX": SPX_OPT, "SPXW": SPX_OPT, "XSP": SPX_OPT, "VIX": VIX_OPT, "VX": FUTURE,
        "VXM": FUTURE, "ETP": ETP, "ES": SPX_FUT, "MES": SPX_FUT}
OPTION_KINDS = (SPX_OPT, VIX_OPT, ETP_OPT)
ETP_KINDS = (ETP, ETP_OPT)


@dataclass
class Underlyings:
    """Per-leg pricing inputs (one entry per leg of the positions frame)."""

    kind: np.ndarray        # SPX_OPT / VIX_OPT / FUTURE / ETP / ETP_OPT / SPX_FUT
    t: np.ndarray           # years to settlement (ACT/365)
    dte: np.ndarray         # calendar days to expiry
    under: np.ndarray       # S·scale or F·scale (SPX options), S (ES/MES), F (VIX), ETP price
    on_forward: np.ndarray  # SPX options priced Black-76 on an ALVH_FORWARDS forward
    leg_rate: np.ndarray    # continuous rate the leg discounts at (−ln D / t on a forward)
    fut_price: np.ndarray   # ES/MES futures price per unit (NaN otherwise)
    fut_expiry: np.ndarray  # VIX-linked legs: expiry of the future (or interpolation date)
    fut_days: np.ndarray    # fractional days to that future's settlement
    f_cm: np.ndarray        # ETP kinds: constant-maturity futures level (NaN otherwise)
    etp_days: np.ndarray    # ETP kinds: constant-maturity point in days (NaN otherwise)
    names: np.ndarray       # text of the Underlying column of ALVH_LEGS
    drop: np.ndarray        # legs that cannot be priced (problems say why)


def hours(t: dt.time) -> float:
    """Hours after midnight of a wall-clock time."""
    return t.hour + t.minute / 60.0 + t.second / 3600.0


def years_to(expiry: np.ndarray, settle_h: np.ndarray, valuation: dt.datetime) -> np.ndarray:
    """ACT/365 years from the valuation date-time to each expiry's settlement time (hours)."""
    days = (expiry - np.datetime64(valuation.date(), "D")).astype("timedelta64[D]").astype(float)
    return (days + (settle_h - hours(valuation.time())) / 24.0) / DAYS_PER_YEAR


def resolve(legs: pd.DataFrame, market: Market, curve: Curve,
            forwards: Forwards | None = None, problems: list[Problem] | None = None
            ) -> Underlyings:
    """Kinds, underlyings, models and clocks of every leg; problems appended to ``problems``."""
    forwards = NO_FORWARDS if forwards is None else forwards
    problems = [] if problems is None else problems
    n = len(legs)
    instr = legs["instrument"].to_numpy(dtype=object)
    cp = legs["cp"].to_numpy(float)
    kind = map_cells(instr, KIND.__getitem__, -1, np.int8)
    kind = np.where((kind == ETP) & (cp != 0), ETP_OPT, kind).astype(np.int8)
    rows = legs["row"].to_numpy()
    expiry = legs["expiry"].to_numpy(dtype="datetime64[D]")
    settle_h = map_cells(instr, lambda s: hours(SETTLEMENT_TIME[s]), np.nan, float)
    t = years_to(expiry, settle_h, market.valuation)
    dte = (expiry - market.valuation_date).astype("timedelta64[D]").astype(float)
    live = t > 0
    s = market.spx_spot
    drop = np.zeros(n, dtype=bool)

    # SPX-linked: spot, or the forward of ALVH_FORWARDS for that expiry.
    scale = map_cells(instr, lambda x: INDEX_SCALE.get(x, 1.0), 1.0, float)
    fwd, disc = forwards.lookup(expiry)
    on_forward = (kind == SPX_OPT) & live & np.isfinite(fwd)
    with np.errstate(divide="ignore", invalid="ignore"):
        fwd_rate = -np.log(disc) / t
    leg_rate = np.where(on_forward, fwd_rate, market.rate)
    tt = np.maximum(t, 0.0)
    carry = s * np.exp((market.rate - market.div_yield) * tt)
    given = legs["price"].to_numpy(float)
    fut_price = np.where(kind == SPX_FUT, np.where(np.isfinite(given), given, np.where(
        np.isfinite(fwd) & live, fwd, carry)), np.nan)

    # VIX-linked: the future of the expiry (or the one named), else interpolated.
    named = legs["underlying"].to_numpy(dtype="datetime64[D]")
    fut_expiry = np.where(np.isnat(named), expiry, named)
    fut_days = years_to(fut_expiry, np.full(n, hours(SETTLEMENT_TIME["VX"])),
                        market.valuation) * DAYS_PER_YEAR
    fut_price_vix = curve.price_at(fut_expiry)
    vix_linked = (kind == VIX_OPT) | (kind == FUTURE)
    if np.isfinite(market.vix_spot):
        fut_price_vix = np.where(vix_linked & ~live & np.isnan(fut_price_vix), market.vix_spot,
                                 fut_price_vix)
    interp = (kind == VIX_OPT) & np.isnat(named) & live & np.isnan(fut_price_vix)
    if interp.any():
        level, beyond = curve.interpolated(market.valuation_date, fut_expiry)
        fut_price_vix = np.where(interp, level, fut_price_vix)
        for i in np.flatnonzero(interp & beyond & np.isfinite(level)):
            problems.append(Problem(int(rows[i]), "Expiry", (
                f"no VIX future on the curve brackets {fut_expiry[i]}: valued on the nearest "
                f"future's price {level[i]:g} (flat beyond the curve's end)"), left_out=False))
    for i in np.flatnonzero(vix_linked & np.isnan(fut_price_vix)):
        what = "VIX option" if kind[i] == VIX_OPT else "VIX future"
        problems.append(Problem(int(rows[i]), "Underlying" if kind[i] == VIX_OPT else "Expiry",
                                f"{what} needs the VIX future expiring {fut_expiry[i]} in "
                                f"ALVH_CURVE; the curve has "
                                f"{', '.join(str(e) for e in curve.expiries) or 'no futures'}"))
        drop[i] = True

    # ETPs and options on them: the constant-maturity point of the ticker.
    ticker = legs["ticker"].to_numpy(dtype=object)
    etp_kind = np.isin(kind, ETP_KINDS)
    etp_days = np.where(etp_kind, map_cells(ticker, lambda x: ETP_TARGET_DAYS.get(x, np.nan),
                                            np.nan, float), np.nan)
    f_cm = np.where(etp_kind, curve.constant_maturity(market.valuation_date,
                                                      np.nan_to_num(etp_days)), np.nan)
    etp_price = map_cells(ticker, market.etp_price, np.nan, float)
    for i in np.flatnonzero((kind == ETP_OPT) & np.isnan(etp_price) & ~drop):
        problems.append(Problem(int(rows[i]), "Underlying", (
            f"an option on {ticker[i]} needs the ETP's price: add a row with Field "
            f"{ticker[i]} and its price in Value to ALVH_MARKET")))
        drop[i] = True
    for i in np.flatnonzero(etp_kind & ~np.isfinite(f_cm) & ~drop):
        problems.append(Problem(int(rows[i]), "Underlying",
                                "ETP needs a VIX futures curve (ALVH_CURVE) with live futures"))
        drop[i] = True

    under = np.select([kind == SPX_OPT, kind == SPX_FUT, kind == ETP, kind == ETP_OPT],
                      [np.where(on_forward, fwd, s) * scale, s, given, etp_price],
                      fut_price_vix)
    names = _names(kind, instr, ticker, fut_expiry, interp, on_forward, expiry, etp_days)
    return Underlyings(kind, t, dte, under, on_forward, leg_rate, fut_price, fut_expiry,
                       fut_days, f_cm, etp_days, names, drop)


def _names(kind, instr, ticker, fut_expiry, interp, on_forward, expiry, etp_days):
    """Underlying column text: 'SPX', 'SPX/10', 'SPX fwd 2027-01-08', 'VX 2026-12-16',
    'VX interp 2026-12-23', 'VXX 30d CM'."""
    n = kind.size
    out = np.full(n, "SPX", dtype=object)
    xsp = instr == "XSP"
    out[xsp] = "SPX/10"
    day = lambda e: str(np.datetime64(e, "D"))  # noqa: E731
    for i in np.flatnonzero(on_forward):
        out[i] = f"{out[i]} fwd {day(expiry[i])}"
    vix = (kind == VIX_OPT) | (kind == FUTURE)
    out[vix] = map_cells(fut_expiry[vix], lambda e: f"VX {day(e)}", "")
    for i in np.flatnonzero(interp):
        out[i] = f"VX interp {day(fut_expiry[i])}"
    etp = np.isin(kind, ETP_KINDS)
    out[etp] = [f"{tk} {d:g}d CM" for tk, d in zip(ticker[etp], etp_days[etp], strict=True)]
    return out
