"""Forward, discount and one implied vol per strike for each series of a Cboe chain.

A series is one expiry date and option root (SPX AM and SPXW PM on the same Friday are two
series: they settle at different times). For each:

* forward F and discount D from put–call parity on near-the-money two-sided strikes
  (:func:`alvh_xl.pricing.parity.implied_forward`) whose C − P market is at most 5 × as wide
  as the tightest strikes' (placeholder quotes 40 points wide carry no information); a fitted
  D above 1.2 (the forwards table's limit) is no forward. t is ACT/365 from the quote time to
  the settlement time on the New York wall clock, as the engine counts it (a DST change in
  between adds no hour), the rate −ln(D)/t;
* ``own_iv`` (and ``own_iv_bid``/``own_iv_ask``): Black-76 on F of each option's own mid
  (bid, ask), discounted with D;
* ``iv``: the strike's vol, as Cboe shows it — taken from the out-of-the-money option (put
  below F, call at or above F), which carries the information; by parity (C − P = D·(F − K))
  that vol prices the in-the-money option of the strike too. When the out-of-the-money option
  has no two-sided quote the in-the-money one is used. ``iv_from`` says which ("C"/"P", "" if
  none); ``iv_bid``/``iv_ask`` are that option's bid and ask vols, ``iv_width`` their
  difference (decimal vol; × 100 for vol points);
* ``delta``: forward delta ∂V/∂F ÷ D at ``iv`` (Cboe's Delta convention), per option.

Units: IVs decimal, prices in index points, t in years.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import NoSolutionError
from ..pricing import black76_greeks
from ..pricing.implied import solve_implied_vol
from ..pricing.parity import implied_forward
from .cboe import CboeChain, year_fraction
from .forwards import MAX_DISCOUNT

TIGHT_COUNT = 10         # strikes whose median C − P width sets the scale of a tight market
TIGHT_FACTOR = 5.0       # parity uses strikes at most this many times that width
VOL_COLUMNS = ("own_iv", "own_iv_bid", "own_iv_ask", "iv", "iv_from", "iv_bid", "iv_ask",
               "iv_width", "delta", "cboe_iv", "cboe_delta")


@dataclass(frozen=True)
class SeriesVols:
    """One series: its settlement, t (years), F, D (NaN if none; ``error`` says why) and its
    quotes with ``VOL_COLUMNS`` added."""

    expiry: dt.date
    root: str
    settlement: str
    expiry_time: dt.datetime
    t: float
    forward: float
    discount: float
    error: str
    quotes: pd.DataFrame


def analyse_chain(chain: CboeChain) -> list[SeriesVols]:
    """Forward, discount and vols of every series of ``chain`` (sorted by expiry, root)."""
    out = []
    for (expiry, root, when), q in chain.quotes.groupby(["expiry", "root", "expiry_time"],
                                                         sort=True):
        t = float(year_fraction(chain.quote_time, when)[0])
        out.append(_series(q.reset_index(drop=True), expiry, root, when, t))
    return out


def _series(q: pd.DataFrame, expiry: dt.date, root: str, when: dt.datetime,
            t: float) -> SeriesVols:
    q = q.rename(columns={"iv": "cboe_iv", "delta": "cboe_delta"})
    q = q.assign(**{c: np.nan for c in VOL_COLUMNS if c not in q.columns}).assign(iv_from="")
    settlement = str(q["settlement"].iloc[0])
    fwd = disc = math.nan
    error = ""
    if t <= 0:
        error = f"expired at the quote time (settled {when:%Y-%m-%d %H:%M %Z})"
    else:
        calls = q[q["type"] == "C"].set_index("strike")
        puts = q[q["type"] == "P"].set_index("strike").reindex(calls.index)
        both = (calls["two_sided"] & puts["two_sided"].fillna(False).astype(bool)).to_numpy()
        width = ((calls["ask"] - calls["bid"]) + (puts["ask"] - puts["bid"])).to_numpy()
        use = both & _tight(width, both)
        try:
            fit = implied_forward(calls.index, calls["mid"], puts["mid"], use)
            fwd, disc = fit.forward, fit.discount
            if not disc <= MAX_DISCOUNT:
                raise NoSolutionError(f"put-call parity gives discount {disc:.6g} (above "
                                      f"{MAX_DISCOUNT:g}): the quotes near the money are not "
                                      "consistent with parity")
        except NoSolutionError as exc:
            fwd = disc = math.nan
            error = str(exc)
    if error:
        return SeriesVols(expiry, root, settlement, when, t, fwd, disc, error, q)
    _fill_vols(q, fwd, disc, t)
    return SeriesVols(expiry, root, settlement, when, t, fwd, disc, "", q)


def _tight(width: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Strikes whose C − P market (call width + put width) is at most ``TIGHT_FACTOR`` × the
    median width of the ``TIGHT_COUNT`` tightest usable strikes: a 40-point-wide placeholder
    quote (XSP, far expiries) carries no parity information and must not steer the fit."""
    ok = usable & np.isfinite(width)
    if not ok.any():
        return ok
    reference = float(np.median(np.sort(width[ok])[:TIGHT_COUNT]))
    return ok & (width <= TIGHT_FACTOR * max(reference, 0.0))


def _fill_vols(q: pd.DataFrame, fwd: float, disc: float, t: float) -> None:
    """Own vols, the strike vol from the OTM option (ITM fallback) and deltas, in place."""
    rate = -math.log(disc) / t
    cp = np.where(q["type"] == "C", 1.0, -1.0)
    strike = q["strike"].to_numpy()
    for col, price in (("own_iv", "mid"), ("own_iv_bid", "bid"), ("own_iv_ask", "ask")):
        q[col] = solve_implied_vol(q[price].to_numpy(), cp, fwd, strike, t, rate,
                                   model="black76").vol
    usable = q["two_sided"].to_numpy() & np.isfinite(q["own_iv"].to_numpy())
    otm = np.where(strike >= fwd, cp > 0, cp < 0)
    # rank: OTM usable first, then ITM usable; pick per strike
    rank = np.where(usable & otm, 0, np.where(usable, 1, 2))
    order = np.lexsort((rank, strike))
    first = np.zeros(len(q), dtype=bool)
    sorted_strikes = strike[order]
    first[order[np.r_[True, sorted_strikes[1:] != sorted_strikes[:-1]]]] = True
    source = q[first & (rank < 2)].set_index("strike")
    for col, src in (("iv", "own_iv"), ("iv_bid", "own_iv_bid"), ("iv_ask", "own_iv_ask")):
        q[col] = q["strike"].map(source[src])
    q["iv_from"] = q["strike"].map(source["type"]).fillna("")
    q["iv_width"] = q["iv_ask"] - q["iv_bid"]
    ok = np.isfinite(q["iv"].to_numpy())
    if ok.any():
        greeks = black76_greeks(cp[ok], fwd, strike[ok], t, q["iv"].to_numpy()[ok], rate)
        delta = np.full(len(q), np.nan)
        delta[ok] = greeks.delta / disc
        q["delta"] = delta
