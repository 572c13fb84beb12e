"""Valuation of a book: per-leg prices, position Greeks, vol exposures and weights (SPEC §4–§5).

One vectorised pass per book. ``LegState`` keeps the numpy arrays that full revaluation
(``revalue``) needs, so scenarios reprice every leg under every shift in one call. What each
leg is priced on (spot or forward, listed or interpolated future, ETP price) is decided in
``underlyings.resolve``.

Instrument kinds and what "vol exposure" ($ per +1 point of the vol the leg is tied to) means:

* SPX/SPXW/XSP option (BSM on spot, or Black-76 on an ALVH_FORWARDS forward): position vega,
  per point of its own implied vol;
* VIX option (Black-76 on the VIX future of its expiry, or an interpolated forward): delta to
  the future × mult × qty; its Black-76 vega is reported apart as vol-of-vol exposure;
* VX / VXM future: mult × qty;
* vol ETP: qty × mult × price × leverage / F_cm (F_cm: constant-maturity futures level);
* option on a vol ETP (American): its delta × mult × qty × price × leverage / F_cm (the ETP
  shares it is worth, times one share's exposure); its own vega is vol-of-vol exposure;
* ES / MES future: none (SPX dollar delta only: Delta = mult × qty per index point).

Delta and Gamma are per unit of the leg's own underlying (UnderlyingPrice): SPX spot, SPX/10
for XSP, the forward for legs on a forward, the future for VIX legs, the ETP price; so
Delta × UnderlyingPrice is the leg's dollar delta in every case.

The additive columns that are summed into layer, bucket and book totals (VolExposure,
WeightedVolExposure, VolOfVolExposure, Theta) are put on an exact-sum grid (``exact_grid``,
a change below 5e-16 of the book's gross), so every way of adding them up agrees exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..book import Curve, Market, Positions, Problem
from ..book.forwards import Forwards
from ..conventions import DAYS_PER_YEAR, DEFAULT_BUCKET_EDGES, VIX_WINDOW_DAYS
from ..pricing import black76_greeks, bsm_greeks
from .underlyings import (  # noqa: F401 (kinds re-exported for scenarios, aggregation, …)
    ETP,
    ETP_KINDS,
    ETP_OPT,
    FUTURE,
    KIND,
    OPTION_KINDS,
    SPX_FUT,
    SPX_OPT,
    VIX_OPT,
    resolve,
)

LEG_COLUMNS = ("Row", "Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty",
               "Multiplier", "DTE", "T", "Underlying", "UnderlyingPrice", "IV", "Price", "Value",
               "Delta", "Gamma", "Vega", "Theta", "Rho", "Vanna", "Volga", "Charm",
               "VolExposure", "VolOfVolExposure", "Weight", "WeightedVolExposure", "Extrinsic",
               "MaturityDays", "Bucket", "PnL", "Status")


@dataclass
class LegState:
    """Per-leg arrays needed to revalue the book (one entry per leg, SPEC units)."""

    kind: np.ndarray          # SPX_OPT / VIX_OPT / FUTURE / ETP / ETP_OPT / SPX_FUT
    cp: np.ndarray            # +1 call, −1 put, 0 otherwise
    strike: np.ndarray
    t: np.ndarray             # years to settlement (ACT/365); ≤ 0 expired
    iv: np.ndarray            # decimal implied vol (NaN for non-options)
    under: np.ndarray         # S (or S/10, F, F/10: SPX options; S: ES/MES), F (VIX), ETP price
    f_cm: np.ndarray          # ETP kinds: constant-maturity futures level tracked (NaN otherwise)
    leverage: np.ndarray      # ETP kinds: leverage (NaN otherwise)
    units: np.ndarray         # multiplier × qty
    weight: np.ndarray        # term-structure weight w
    rate: float
    div: float
    on_forward: np.ndarray | None = None   # SPX options priced Black-76 on a forward
    leg_rate: np.ndarray | None = None     # per-leg discount rate (forward legs: −ln D / t)
    fut_price: np.ndarray | None = None    # ES/MES futures price per unit (NaN otherwise)

    def __post_init__(self) -> None:
        n = self.kind.size
        if self.on_forward is None:
            self.on_forward = np.zeros(n, dtype=bool)
        if self.leg_rate is None:
            self.leg_rate = np.full(n, float(self.rate))
        if self.fut_price is None:
            self.fut_price = np.full(n, np.nan)

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
    forwards: Forwards | None = None


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


def value_book(positions: Positions, market: Market, curve: Curve,
               forwards: Forwards | None = None) -> BookValuation:
    """Value every usable leg; legs that cannot be valued become problems (left out).

    ``forwards`` (ALVH_FORWARDS, optional): SPX/SPXW/XSP legs whose expiry it holds are
    priced Black-76 on that forward and discount; a forward implausibly far from SPX spot is
    an InputError naming its row.
    """
    if forwards is not None and len(forwards):
        forwards.check_spot(market.spx_spot)
    legs = positions.legs
    problems = list(positions.problems)
    for expiry, row in curve.expired_before(market.valuation_date):
        problems.append(Problem(row, "Expiry", f"the future expiring {expiry} expired before "
                                f"the valuation date {market.valuation_date}: not used (a row "
                                "left over, or a curve of another day?)", left_out=False,
                                table="curve"))
    u = resolve(legs, market, curve, forwards, problems)
    kind, t = u.kind, u.t
    expired = (t <= 0) & (kind != ETP)
    drop = u.drop.copy()
    rows = legs["row"].to_numpy()

    # Implied vols: given, or solved from Price.
    iv = legs["iv"].to_numpy(dtype=float).copy()
    is_opt = np.isin(kind, OPTION_KINDS)
    solve = is_opt & np.isnan(iv) & ~drop & ~expired
    if solve.any():
        iv[solve], reasons = _solve_iv(legs, u, market, solve)
        for i, reason in zip(np.flatnonzero(solve), reasons, strict=True):
            if reason:
                problems.append(Problem(int(rows[i]), "Price",
                                        f"Price {legs['price'].iat[i]:g} gives no implied vol: "
                                        f"{reason}"))
                drop[i] = True
    expiry = legs["expiry"].to_numpy(dtype="datetime64[D]")
    for i in np.flatnonzero(expired & ~drop):
        problems.append(Problem(int(rows[i]), "Expiry",
                                f"expired on {expiry[i]}: valued at intrinsic, Greeks 0",
                                left_out=False))

    keep = ~drop
    if not keep.all():
        legs = legs[keep].reset_index(drop=True)
        u = _subset(u, keep)
        iv, expired = iv[keep], expired[keep]
    kind, t = u.kind, u.t
    is_opt = np.isin(kind, OPTION_KINDS)
    iv_shown = np.where(is_opt, iv, np.nan)
    iv = np.where(is_opt & expired & np.isnan(iv), 0.0, iv_shown)   # expired: IV not used

    units = legs["multiplier"].to_numpy(float) * legs["qty"].to_numpy(float)
    etp_kind = np.isin(kind, ETP_KINDS)
    tau = np.select([(kind == SPX_OPT) | (kind == SPX_FUT), etp_kind],
                    [t * DAYS_PER_YEAR, u.etp_days + VIX_WINDOW_DAYS],
                    u.fut_days + VIX_WINDOW_DAYS)
    state = LegState(kind=kind, cp=legs["cp"].to_numpy(float), strike=legs["strike"].to_numpy(
        float), t=t, iv=iv, under=u.under, f_cm=u.f_cm,
        leverage=legs["leverage"].to_numpy(float), units=units,
        weight=weights(tau, market, legs["beta"].to_numpy(float)), rate=market.rate,
        div=market.div_yield, on_forward=u.on_forward, leg_rate=u.leg_rate,
        fut_price=u.fut_price)
    unit = unit_greeks(state)
    table = _leg_table(legs, state, unit, iv_shown, u, expired)
    problems.sort(key=lambda p: (p.row or 0))
    return BookValuation(table, state, market, problems, curve, forwards)


def _subset(u, keep: np.ndarray):
    """The legs ``keep`` of an ``Underlyings``."""
    return type(u)(**{k: v[keep] for k, v in vars(u).items()})


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


def _solve_iv(legs: pd.DataFrame, u, market: Market, mask: np.ndarray):
    """Implied vols of the legs ``mask`` from their Price: BSM (SPX on spot), Black-76 (SPX on
    a forward, VIX options), American (options on ETPs)."""
    from ..pricing.implied import explain, solve_implied_vol

    price = legs["price"].to_numpy(float)[mask]
    cp = legs["cp"].to_numpy(float)[mask]
    k = legs["strike"].to_numpy(float)[mask]
    kind, under, t, rate = u.kind[mask], u.under[mask], u.t[mask], u.leg_rate[mask]
    on_fwd = u.on_forward[mask]
    out = np.full(mask.sum(), np.nan)
    status = np.zeros(mask.sum(), dtype=int)
    for model, sel, div in (("bsm", (kind == SPX_OPT) & ~on_fwd, market.div_yield),
                            ("black76", (kind == VIX_OPT) | on_fwd, 0.0),
                            ("american", kind == ETP_OPT, 0.0)):
        if sel.any():
            res = solve_implied_vol(price[sel], cp[sel], under[sel], k[sel], t[sel], rate[sel],
                                    div, model=model)
            out[sel], status[sel] = res.vol, res.status
    reasons = ["" if s == 0 and np.isfinite(v) else explain(s) for s, v in zip(status, out,
                                                                               strict=True)]
    return out, reasons


def unit_greeks(s: LegState, under: np.ndarray | None = None, iv: np.ndarray | None = None,
                t: np.ndarray | None = None) -> np.ndarray:
    """(9, …) array of per-unit price and Greeks for every leg (broadcast over scenarios).

    VIX futures: price F, delta 1. ETP shares: price P, delta 1 (per $ of ETP price). ES/MES:
    price = the futures price (moved 1:1 with SPX), delta 1 per index point. Options: BSM,
    Black-76 or American per SPEC §4. Optional ``under``/``iv``/``t`` override the base state
    (shape (m, n) for m scenarios).
    """
    from ..pricing.american import american_greeks

    under = s.under if under is None else under
    iv = s.iv if iv is None else iv
    t = s.t if t is None else t
    shape = np.broadcast_shapes(np.shape(under), np.shape(iv), np.shape(t), (s.n,))
    out = np.zeros((9, *shape))
    kind = np.broadcast_to(s.kind, shape)
    fwd = np.broadcast_to(s.on_forward, shape)
    spot_model = (kind == SPX_OPT) & ~fwd
    black = (kind == VIX_OPT) | ((kind == SPX_OPT) & fwd)
    for m, fn, extra in ((spot_model, bsm_greeks, (s.rate, s.div)),
                         (black, black76_greeks, (s.leg_rate,)),
                         (kind == ETP_OPT, american_greeks, (s.rate, 0.0))):
        if m.any():
            args = [np.broadcast_to(a, shape)[m] for a in (s.cp, under, s.strike, t, iv)]
            more = [np.broadcast_to(a, shape)[m] if np.ndim(a) else a for a in extra]
            out[:, m] = np.stack(fn(*args, *more))
    lin = (kind == FUTURE) | (kind == ETP)
    out[0][lin] = np.broadcast_to(under, shape)[lin]
    out[1][lin] = 1.0
    es = kind == SPX_FUT
    if es.any():
        b = lambda a: np.broadcast_to(a, shape)[es]  # noqa: E731
        out[0][es] = b(s.fut_price) + b(under) - b(s.under)
        out[1][es] = np.where(b(t) > 0, 1.0, 0.0)
    return out


def exposures(s: LegState, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vol exposure and vol-of-vol exposure per leg ($ per vol point, SPEC §5)."""
    etp = np.isin(s.kind, ETP_KINDS)
    per_share = s.under * s.leverage / np.where(etp, s.f_cm, 1.0)   # one ETP share's exposure
    vol_exp = np.select(
        [s.kind == SPX_OPT, s.kind == VIX_OPT, s.kind == FUTURE, s.kind == ETP,
         s.kind == ETP_OPT],
        [unit[3] * s.units, unit[1] * s.units, s.units, s.units * per_share,
         unit[1] * s.units * per_share], 0.0)
    live = (s.t > 0) | (s.kind == ETP)          # expired legs carry no exposure
    volvol = np.where((s.kind == VIX_OPT) | (s.kind == ETP_OPT), unit[3] * s.units, 0.0)
    return np.where(live, vol_exp, 0.0), volvol


def _leg_table(legs, s: LegState, unit, iv_shown, u, expired):
    vol_exp, volvol = exposures(s, unit)
    n = s.n
    intrinsic = np.maximum(s.cp * (s.under - s.strike), 0.0)
    is_opt = np.isin(s.kind, OPTION_KINDS)
    extrinsic = np.where(is_opt, (unit[0] - intrinsic) * s.units, 0.0)
    etp_kind = np.isin(s.kind, ETP_KINDS)
    bucket_days = np.where(etp_kind, u.etp_days, u.dte)
    labels = np.array(bucket_labels(), dtype=object)
    entry = legs["entry_price"].to_numpy(float)
    shares = s.kind == ETP
    cp_text = np.select([s.cp > 0, s.cp < 0], ["C", "P"], "")
    g = unit * s.units
    return pd.DataFrame({
        "Row": legs["row"].to_numpy(), "Layer": legs["layer"].to_numpy(),
        "Strategy": legs["strategy"].to_numpy(), "Instrument": legs["instrument"].to_numpy(),
        "Type": cp_text, "Strike": s.strike,
        "Expiry": legs["expiry"].to_numpy(dtype="datetime64[D]"),
        "Qty": legs["qty"].to_numpy(float), "Multiplier": legs["multiplier"].to_numpy(float),
        "DTE": np.where(shares, np.nan, u.dte), "T": np.where(shares, np.nan, s.t),
        "Underlying": u.names, "UnderlyingPrice": s.under, "IV": iv_shown, "Price": unit[0],
        "Value": g[0], "Delta": g[1], "Gamma": g[2], "Vega": g[3], "Theta": exact_grid(g[4]),
        "Rho": g[5], "Vanna": g[6], "Volga": g[7], "Charm": g[8],
        "VolExposure": exact_grid(vol_exp), "VolOfVolExposure": exact_grid(volvol),
        "Weight": s.weight, "WeightedVolExposure": exact_grid(s.weight * vol_exp),
        "Extrinsic": extrinsic, "MaturityDays": bucket_days,
        "Bucket": labels[bucket_index(bucket_days)] if n else np.array([], dtype=object),
        "PnL": (unit[0] - entry) * s.units,
        "Status": np.where(expired, "expired", "ok").astype(object),
    }, columns=list(LEG_COLUMNS))
