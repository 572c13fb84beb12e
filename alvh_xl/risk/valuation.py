"""Valuation of a book: per-leg prices, position Greeks, vol exposures and weights (SPEC §4–§5).

One vectorised pass per book. ``LegState`` keeps the numpy arrays that full revaluation
(``revalue``) needs, so scenarios reprice every leg under every shift in one call.

Instrument kinds and what "vol exposure" ($ per +1 point of the vol the leg is tied to) means:

* SPX option (BSM on spot): position vega, per point of its own implied vol;
* VIX option (Black-76 on the VIX future of its expiry): delta to the future × mult × qty;
  its Black-76 vega is reported apart as vol-of-vol exposure;
* VX / VXM future: mult × qty;
* vol ETP: qty × mult × price × leverage / F_cm (F_cm: constant-maturity futures level).

The additive columns that are summed into layer, bucket and book totals (VolExposure,
WeightedVolExposure, VolOfVolExposure, Theta) are put on an exact-sum grid (``exact_grid``,
a change below 5e-16 of the book's gross), so every way of adding them up agrees exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..book import Curve, Market, Positions, Problem
from ..book.tables import map_cells
from ..conventions import (
    DAYS_PER_YEAR,
    DEFAULT_BUCKET_EDGES,
    ETP_TARGET_DAYS,
    SETTLEMENT_TIME,
    VIX_WINDOW_DAYS,
)
from ..pricing import black76_greeks, bsm_greeks

SPX_OPT, VIX_OPT, FUTURE, ETP = 0, 1, 2, 3
_KIND = {"SPX": SPX_OPT, "SPXW": SPX_OPT, "VIX": VIX_OPT, "VX": FUTURE, "VXM": FUTURE, "ETP": ETP}

LEG_COLUMNS = ("Row", "Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty",
               "Multiplier", "DTE", "T", "Underlying", "UnderlyingPrice", "IV", "Price", "Value",
               "Delta", "Gamma", "Vega", "Theta", "Rho", "Vanna", "Volga", "Charm",
               "VolExposure", "VolOfVolExposure", "Weight", "WeightedVolExposure", "Extrinsic",
               "MaturityDays", "Bucket", "PnL", "Status")


@dataclass
class LegState:
    """Per-leg arrays needed to revalue the book (one entry per leg, SPEC units)."""

    kind: np.ndarray          # SPX_OPT / VIX_OPT / FUTURE / ETP
    cp: np.ndarray            # +1 call, −1 put, 0 otherwise
    strike: np.ndarray
    t: np.ndarray             # years to settlement (ACT/365); ≤ 0 expired
    iv: np.ndarray            # decimal implied vol (NaN for non-options)
    under: np.ndarray         # S (SPX), F (VIX option, future), ETP price
    f_cm: np.ndarray          # ETP: constant-maturity futures level tracked (NaN otherwise)
    leverage: np.ndarray      # ETP leverage (NaN otherwise)
    units: np.ndarray         # multiplier × qty
    weight: np.ndarray        # term-structure weight w
    rate: float
    div: float

    @property
    def n(self) -> int:
        return int(self.kind.size)


@dataclass
class BookValuation:
    """Per-leg results (``legs``, columns LEG_COLUMNS) plus the state to revalue them."""

    legs: pd.DataFrame
    state: LegState
    market: Market
    problems: list[Problem] = field(default_factory=list)
    curve: Curve | None = None


def weights(tau_days: np.ndarray, market: Market, beta: np.ndarray | None = None) -> np.ndarray:
    """w = min(cap, (T_ref / max(τ, τ_floor))^α); a given Beta overrides w (SPEC §5)."""
    tau = np.maximum(np.asarray(tau_days, dtype=float), market.tau_floor_days)
    w = np.minimum(market.weight_cap, (market.t_ref_days / tau) ** market.alpha)
    if beta is not None:
        w = np.where(np.isnan(beta), w, beta)
    return w


def bucket_labels(edges: tuple[float, ...] = DEFAULT_BUCKET_EDGES) -> list[str]:
    """Labels of inclusive day buckets: edges (7, 30) → '0-7d', '8-30d', '31d+'."""
    labels, lo = [], 0
    for e in edges:
        labels.append(f"{lo:g}-{e:g}d")
        lo = e + 1
    labels.append(f"{edges[-1]:g}d+" if edges else "all")
    return labels


def bucket_index(days: np.ndarray, edges: tuple[float, ...] = DEFAULT_BUCKET_EDGES) -> np.ndarray:
    """Bucket number of each maturity in whole calendar days (bucket i holds days ≤ edges[i])."""
    return np.searchsorted(np.asarray(edges, dtype=float), np.asarray(days, dtype=float),
                           side="left")


def value_book(positions: Positions, market: Market, curve: Curve) -> BookValuation:
    """Value every usable leg; legs that cannot be valued become problems (left out)."""
    legs = positions.legs
    problems = list(positions.problems)
    n = len(legs)
    instr = legs["instrument"].to_numpy(dtype=object)
    kind = map_cells(instr, _KIND.__getitem__, -1, np.int8)
    val_date = market.valuation_date
    expiry = legs["expiry"].to_numpy(dtype="datetime64[D]")
    settle_h = map_cells(instr, lambda s: _hours(SETTLEMENT_TIME[s]), np.nan, float)
    t = _years_to(expiry, settle_h, market.valuation)
    dte = (expiry - val_date).astype("timedelta64[D]").astype(float)

    # Underlying of each leg.
    fut_expiry = np.where(np.isnat(legs["underlying"].to_numpy(dtype="datetime64[D]")), expiry,
                          legs["underlying"].to_numpy(dtype="datetime64[D]"))
    # One clock for τ (SPEC §5): fractional days from the valuation date-time to settlement.
    fut_days = _years_to(fut_expiry, np.full(n, _hours(SETTLEMENT_TIME["VX"])),
                         market.valuation) * DAYS_PER_YEAR
    fut_price = curve.price_at(fut_expiry)
    ticker = legs["ticker"].to_numpy(dtype=object)
    etp_days = map_cells(ticker, lambda s: ETP_TARGET_DAYS.get(s, np.nan), np.nan, float)
    f_cm = np.where(kind == ETP, curve.constant_maturity(val_date, np.nan_to_num(etp_days)),
                    np.nan)
    under = np.select([kind == SPX_OPT, kind == ETP], [market.spx_spot,
                      legs["price"].to_numpy(float)], fut_price)
    expired = (t <= 0) & (kind != ETP)
    vix_linked = (kind == VIX_OPT) | (kind == FUTURE)
    if np.isfinite(market.vix_spot):
        under = np.where(vix_linked & expired & np.isnan(under), market.vix_spot, under)

    drop = np.zeros(n, dtype=bool)
    rows = legs["row"].to_numpy()
    for i in np.flatnonzero(vix_linked & np.isnan(under)):
        what = "VIX option" if kind[i] == VIX_OPT else "VIX future"
        problems.append(Problem(int(rows[i]), "Underlying" if kind[i] == VIX_OPT else "Expiry",
                                f"{what} needs the VIX future expiring {fut_expiry[i]} in "
                                f"ALVH_CURVE; the curve has "
                                f"{', '.join(str(e) for e in curve.expiries) or 'no futures'}"))
        drop[i] = True
    for i in np.flatnonzero((kind == ETP) & ~np.isfinite(f_cm)):
        problems.append(Problem(int(rows[i]), "Underlying",
                                "ETP needs a VIX futures curve (ALVH_CURVE) with live futures"))
        drop[i] = True

    # Implied vols: given, or solved from Price.
    iv = legs["iv"].to_numpy(dtype=float).copy()
    is_opt = (kind == SPX_OPT) | (kind == VIX_OPT)
    solve = is_opt & np.isnan(iv) & ~drop & ~expired
    if solve.any():
        iv[solve], reasons = _solve_iv(legs, kind, under, t, market, solve)
        for i, reason in zip(np.flatnonzero(solve), reasons, strict=True):
            if reason:
                problems.append(Problem(int(rows[i]), "Price",
                                        f"Price {legs['price'].iat[i]:g} gives no implied vol: "
                                        f"{reason}"))
                drop[i] = True
    for i in np.flatnonzero(expired & ~drop):
        problems.append(Problem(int(rows[i]), "Expiry",
                                f"expired on {expiry[i]}: valued at intrinsic, Greeks 0",
                                left_out=False))

    keep = ~drop
    if not keep.all():
        legs, kind, t, dte, fut_days, under, iv = (
            legs[keep].reset_index(drop=True), kind[keep], t[keep], dte[keep], fut_days[keep],
            under[keep], iv[keep])
        f_cm, etp_days, expired, fut_expiry = f_cm[keep], etp_days[keep], expired[keep], \
            fut_expiry[keep]
    is_opt = (kind == SPX_OPT) | (kind == VIX_OPT)
    iv_shown = np.where(is_opt, iv, np.nan)
    iv = np.where(is_opt & expired & np.isnan(iv), 0.0, iv_shown)   # expired: IV not used

    units = legs["multiplier"].to_numpy(float) * legs["qty"].to_numpy(float)
    tau = np.select([kind == SPX_OPT, kind == ETP],
                    [t * DAYS_PER_YEAR, etp_days + VIX_WINDOW_DAYS], fut_days + VIX_WINDOW_DAYS)
    state = LegState(kind=kind, cp=legs["cp"].to_numpy(float), strike=legs["strike"].to_numpy(
        float), t=t, iv=iv, under=under, f_cm=f_cm, leverage=legs["leverage"].to_numpy(float),
        units=units, weight=weights(tau, market, legs["beta"].to_numpy(float)),
        rate=market.rate, div=market.div_yield)
    unit = unit_greeks(state)
    table = _leg_table(legs, state, unit, iv_shown, dte, etp_days, fut_expiry, expired)
    problems.sort(key=lambda p: (p.row or 0))
    return BookValuation(table, state, market, problems, curve)


def exact_grid(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to a power-of-two grid on which every sum of them is exact.

    The step is 2^(E−51) with 2^E ≥ Σ|x|: the rounded values are integer multiples k·step
    with Σ|k| < 2^53, so every partial sum of them is a representable number and any subset
    summed in any order gives the same, exact result (layer, bucket and book totals agree to
    the last bit). Each value moves by at most step/2 ≤ 4.5e-16 × Σ|x|. NaNs pass through.
    """
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    gross = float(np.abs(x[finite]).sum())
    if gross == 0.0 or not np.isfinite(gross):
        return x
    step = 2.0 ** (np.ceil(np.log2(gross)) - 51)
    return np.where(finite, np.round(x / step) * step, x)


def _hours(t: dt.time) -> float:
    """Hours after midnight of a wall-clock time."""
    return t.hour + t.minute / 60.0 + t.second / 3600.0


def _years_to(expiry: np.ndarray, settle_h: np.ndarray, valuation: dt.datetime) -> np.ndarray:
    """ACT/365 years from the valuation date-time to each expiry's settlement time (hours)."""
    days = (expiry - np.datetime64(valuation.date(), "D")).astype("timedelta64[D]").astype(float)
    val_h = _hours(valuation.time())
    return (days + (settle_h - val_h) / 24.0) / DAYS_PER_YEAR


def _solve_iv(legs, kind, under, t, market, mask):
    from ..pricing.implied import explain, solve_implied_vol

    price = legs["price"].to_numpy(float)[mask]
    cp = legs["cp"].to_numpy(float)[mask]
    k = legs["strike"].to_numpy(float)[mask]
    is_spx = kind[mask] == SPX_OPT
    out = np.full(mask.sum(), np.nan)
    status = np.zeros(mask.sum(), dtype=int)
    for model, sel in (("bsm", is_spx), ("black76", ~is_spx)):
        if sel.any():
            res = solve_implied_vol(price[sel], cp[sel], under[mask][sel], k[sel], t[mask][sel],
                                    market.rate, market.div_yield if model == "bsm" else 0.0,
                                    model=model)
            out[sel], status[sel] = res.vol, res.status
    reasons = ["" if s == 0 and np.isfinite(v) else explain(s) for s, v in zip(status, out,
                                                                               strict=True)]
    return out, reasons


def unit_greeks(s: LegState, under: np.ndarray | None = None, iv: np.ndarray | None = None,
                t: np.ndarray | None = None) -> np.ndarray:
    """(9, …) array of per-unit price and Greeks for every leg (broadcast over scenarios).

    Futures: price F, delta 1. ETPs: price P, delta 1 (per $ of ETP price). Options: BSM or
    Black-76 per SPEC §4. Optional ``under``/``iv``/``t`` override the base state (shape
    (m, n) for m scenarios).
    """
    under = s.under if under is None else under
    iv = s.iv if iv is None else iv
    t = s.t if t is None else t
    shape = np.broadcast_shapes(np.shape(under), np.shape(iv), np.shape(t), (s.n,))
    out = np.zeros((9, *shape))
    kind = np.broadcast_to(s.kind, shape)
    for k, fn in ((SPX_OPT, bsm_greeks), (VIX_OPT, black76_greeks)):
        m = kind == k
        if m.any():
            args = [np.broadcast_to(a, shape)[m] for a in (s.cp, under, s.strike, t, iv)]
            res = (fn(*args, s.rate, s.div) if k == SPX_OPT else fn(*args, s.rate))
            out[:, m] = np.stack(res)
    lin = (kind == FUTURE) | (kind == ETP)
    out[0][lin] = np.broadcast_to(under, shape)[lin]
    out[1][lin] = 1.0
    return out


def exposures(s: LegState, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vol exposure and vol-of-vol exposure per leg ($ per vol point, SPEC §5)."""
    vol_exp = np.select(
        [s.kind == SPX_OPT, s.kind == VIX_OPT, s.kind == FUTURE, s.kind == ETP],
        [unit[3] * s.units, unit[1] * s.units, s.units,
         s.units * s.under * s.leverage / np.where(s.kind == ETP, s.f_cm, 1.0)])
    live = (s.t > 0) | (s.kind == ETP)          # expired legs carry no exposure
    volvol = np.where(s.kind == VIX_OPT, unit[3] * s.units, 0.0)
    return np.where(live, vol_exp, 0.0), volvol


def _leg_table(legs, s: LegState, unit, iv_shown, dte, etp_days, fut_expiry, expired):
    vol_exp, volvol = exposures(s, unit)
    n = s.n
    intrinsic = np.maximum(s.cp * (s.under - s.strike), 0.0)
    is_opt = (s.kind == SPX_OPT) | (s.kind == VIX_OPT)
    extrinsic = np.where(is_opt, (unit[0] - intrinsic) * s.units, 0.0)
    bucket_days = np.where(s.kind == ETP, etp_days, dte)
    labels = np.array(bucket_labels(), dtype=object)
    entry = legs["entry_price"].to_numpy(float)
    ticker = legs["ticker"].to_numpy(dtype=object)
    under_name = np.full(n, "SPX", dtype=object)
    etp = s.kind == ETP
    under_name[etp] = map_cells(ticker[etp], lambda tk: f"{tk} {ETP_TARGET_DAYS[tk]:g}d CM", "")
    vix = (s.kind == VIX_OPT) | (s.kind == FUTURE)
    under_name[vix] = map_cells(fut_expiry[vix], lambda e: f"VX {np.datetime64(e, 'D')}", "")
    cp_text = np.select([s.cp > 0, s.cp < 0], ["C", "P"], "")
    g = unit * s.units
    return pd.DataFrame({
        "Row": legs["row"].to_numpy(), "Layer": legs["layer"].to_numpy(),
        "Strategy": legs["strategy"].to_numpy(), "Instrument": legs["instrument"].to_numpy(),
        "Type": cp_text, "Strike": s.strike,
        "Expiry": legs["expiry"].to_numpy(dtype="datetime64[D]"),
        "Qty": legs["qty"].to_numpy(float), "Multiplier": legs["multiplier"].to_numpy(float),
        "DTE": np.where(etp, np.nan, dte), "T": np.where(etp, np.nan, s.t),
        "Underlying": under_name, "UnderlyingPrice": s.under, "IV": iv_shown, "Price": unit[0],
        "Value": g[0], "Delta": g[1], "Gamma": g[2], "Vega": g[3], "Theta": exact_grid(g[4]),
        "Rho": g[5], "Vanna": g[6], "Volga": g[7], "Charm": g[8],
        "VolExposure": exact_grid(vol_exp), "VolOfVolExposure": exact_grid(volvol),
        "Weight": s.weight, "WeightedVolExposure": exact_grid(s.weight * vol_exp),
        "Extrinsic": extrinsic, "MaturityDays": bucket_days,
        "Bucket": labels[bucket_index(bucket_days)] if n else np.array([], dtype=object),
        "PnL": (unit[0] - entry) * s.units,
        "Status": np.where(expired, "expired", "ok").astype(object),
    }, columns=list(LEG_COLUMNS))
