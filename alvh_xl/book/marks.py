"""Marks for a book from Cboe chains: SPX spot, SPX forwards, and each option leg's price and vol.

:func:`mark_positions` is pure: it reads nothing and writes nothing. Given the parsed positions
and one or more chains (SPX/SPXW/XSP and VIX/VIXW) it returns

* ``spot``: the SPX index level ('Last') of the SPX chain (the latest-quoted one if several);
* ``forwards``: Expiry | Forward | Discount of every SPX series, from put–call parity
  (:mod:`alvh_xl.book.chain_vols`). Where an SPX (AM) and an SPXW (PM) series share a date the
  AM series is taken (the table has one row per date) and a note gives both;
* per option leg (by its sheet row): Price = the mid of its two-sided quote; IV = the strike's
  out-of-the-money vol (Black-76 on the series' parity forward; that vol prices both the call
  and the put by parity) — for SPX/SPXW/XSP legs whose date is in ``forwards``, solved on that
  row's forward (÷ 10 for XSP) and discount, which the engine values them on, so the vol
  reprices the mid; the width of the vol's market (ask vol − bid vol, vol points);
* ``unquoted``: option legs with no usable quote, and why; ``too_wide``: legs whose vol
  market is wider than ``max_width`` vol points (``max_width_vix`` for VIX options, whose
  vol-of-vol near 100 % trades many points wide) — neither kind gets a mark.

VIX options: their IV is Black-76 on the parity forward of their own series in the VIX chain
(the VIX future of that expiry the options imply, settled 09:30 on the expiry), not on the
workbook's futures curve; ``legs["forward"]`` shows it so it can be set beside the curve.
Instruments SPX/SPXW/XSP match roots SPX, SPXW, XSP; a leg typed SPX whose date has only an
SPXW series (or the reverse) is marked from it with a note, since its settlement time differs.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..pricing.implied import solve_implied_vol
from .cboe import CboeChain
from .chain_vols import SeriesVols, analyse_chain
from .positions import Positions

DEFAULT_MAX_WIDTH = 2.0           # vol points, SPX/SPXW/XSP options
DEFAULT_MAX_WIDTH_VIX = 15.0      # vol points of vol-of-vol (VIX options trade near 100 %)
_ROOTS = {"SPX": ("SPX", "SPXW"), "SPXW": ("SPXW", "SPX"), "XSP": ("XSP",),
          "VIX": ("VIX", "VIXW")}
_SPX_ROOTS = ("SPX", "SPXW")
_TABLE_ROOTS = ("SPX", "SPXW", "XSP")     # valued on the forwards table's row of their date
LEG_COLUMNS = ("row", "instrument", "type", "strike", "expiry", "root", "symbol", "price",
               "iv", "iv_from", "width", "forward", "chain")


@dataclass(frozen=True)
class Marks:
    """What the chains say about a book (see the module docstring). ``unquoted`` and
    ``too_wide`` are (sheet row, reason) pairs; ``width`` is in vol points."""

    spot: float
    forwards: pd.DataFrame
    legs: pd.DataFrame
    unquoted: list[tuple[int, str]] = field(default_factory=list)
    too_wide: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def mark_positions(positions: Positions, chains: Sequence[CboeChain], *,
                   max_width: float = DEFAULT_MAX_WIDTH,
                   max_width_vix: float = DEFAULT_MAX_WIDTH_VIX) -> Marks:
    """Marks for the option legs of ``positions`` from ``chains`` (see module docstring).

    ``max_width``/``max_width_vix``: widest vol market (vol points) trusted for SPX-family and
    VIX options.
    """
    for name, value in (("max_width", max_width), ("max_width_vix", max_width_vix)):
        if not value > 0:
            raise InputError(f"{name} must be a positive number of vol points, got {value}")
    notes: list[str] = []
    series = _series_by_key(chains, notes)
    spot = _spot(chains, notes)
    forwards = _forwards(series, notes)
    table = {row.expiry: (row.forward, row.discount)
             for row in forwards.itertuples(index=False)}
    legs, unquoted, too_wide = _mark_legs(positions.legs, series, (max_width, max_width_vix),
                                          notes, table)
    return Marks(spot, forwards, legs, unquoted, too_wide, notes)


def _series_by_key(chains: Sequence[CboeChain], notes: list[str]
                   ) -> dict[tuple[str, dt.date], tuple[SeriesVols, CboeChain]]:
    """(root, expiry) → series; a series in several chains is taken from the latest-quoted."""
    out: dict[tuple[str, dt.date], tuple[SeriesVols, CboeChain]] = {}
    for chain in sorted(chains, key=lambda c: c.quote_time):
        for s in analyse_chain(chain):
            key = (s.root, s.expiry)
            if not s.error and s.discount > 1.0 + 1e-6:
                notes.append(f"{s.root} {s.expiry.isoformat()}: the parity fit gives discount "
                             f"{s.discount:.6f} > 1 (a negative rate: the quotes near the money "
                             "are wide); its vols use it")
            if key in out:
                notes.append(f"{s.root} {s.expiry.isoformat()} is in {out[key][1].source} and "
                             f"{chain.source}; marked from {chain.source} (quoted later)")
            out[key] = (s, chain)
    times = [c.quote_time for c in chains]
    if times and max(times) - min(times) > dt.timedelta(hours=1):
        notes.append("the chains were quoted at different times: " + ", ".join(
            f"{c.source} {c.quote_time:%Y-%m-%d %H:%M %Z}" for c in chains))
    return out


def _spot(chains: Sequence[CboeChain], notes: list[str]) -> float:
    spx = [c for c in chains if set(c.quotes["root"]) & set(_SPX_ROOTS)
           and math.isfinite(c.spot)]
    if not spx:
        notes.append("no SPX chain with an index level: SpxSpot not marked")
        return math.nan
    latest = max(spx, key=lambda c: c.quote_time)
    if len({c.spot for c in spx}) > 1:
        notes.append(f"SPX chains show different index levels; SpxSpot from {latest.source} "
                     "(quoted last)")
    return float(latest.spot)


def _forwards(series, notes: list[str]) -> pd.DataFrame:
    rows: dict[dt.date, dict] = {}
    for (root, expiry), (s, chain) in sorted(series.items(), key=lambda kv: kv[0][1]):
        if root not in _SPX_ROOTS:
            continue
        if s.error:
            notes.append(f"no forward for {root} {expiry.isoformat()}: {s.error}")
            continue
        row = {"expiry": expiry, "forward": s.forward, "discount": s.discount, "root": root,
               "settlement": s.settlement, "source": chain.source}
        other = rows.get(expiry)
        if other is not None:
            am, pm = (other, row) if other["root"] == "SPX" else (row, other)
            notes.append(f"{expiry.isoformat()}: SPX (AM) forward {am['forward']:.4f} discount "
                         f"{am['discount']:.6f} and SPXW (PM) {pm['forward']:.4f} / "
                         f"{pm['discount']:.6f}; the forwards table takes the AM series")
            row = am
        rows[expiry] = row
    return pd.DataFrame(list(rows.values()), columns=["expiry", "forward", "discount", "root",
                                                      "settlement", "source"])


def _mark_legs(legs: pd.DataFrame, series, widths: tuple[float, float], notes: list[str],
               table: dict[dt.date, tuple[float, float]]):
    marked: list[dict] = []
    unquoted: list[tuple[int, str]] = []
    too_wide: list[tuple[int, str]] = []
    options = legs[legs["cp"] != 0]
    for leg in options.itertuples(index=False):
        row = int(leg.row)
        kind = "C" if leg.cp > 0 else "P"
        expiry = pd.Timestamp(leg.expiry).date()
        label = f"{leg.instrument} {expiry.isoformat()} {leg.strike:g} {kind}"
        roots = _ROOTS.get(leg.instrument)
        if roots is None:
            unquoted.append((row, f"{label}: no Cboe index chain carries {leg.instrument} "
                                  "options"))
            continue
        found = next(((r, series[(r, expiry)]) for r in roots if (r, expiry) in series), None)
        if found is None:
            unquoted.append((row, f"{label}: no {'/'.join(roots)} series expiring "
                                  f"{expiry.isoformat()} in the chains given"))
            continue
        root, (s, chain) = found
        if root != roots[0] and leg.instrument in _SPX_ROOTS:
            notes.append(f"row {row}: {label} marked from the {root} series "
                         f"({s.settlement}-settled); the chains have no {roots[0]} series that "
                         f"day — type {root} in Instrument if that is the option held")
        if s.error:
            unquoted.append((row, f"{label}: {s.error}"))
            continue
        q = s.quotes[(s.quotes["type"] == kind) & np.isclose(s.quotes["strike"], leg.strike,
                                                             rtol=0, atol=1e-6)]
        if q.empty:
            unquoted.append((row, f"{label}: strike not listed in {chain.source}"))
            continue
        quote = q.iloc[0]
        reason = _unusable(quote)
        if reason:
            unquoted.append((row, f"{label}: {reason}"))
            continue
        width = 100.0 * float(quote["iv_width"])
        fwd, iv = s.forward, float(quote["iv"])
        if root in _TABLE_ROOTS and expiry in table:
            fwd, iv = _vol_on_table(s, leg.strike, quote["iv_from"], table[expiry], root)
            if math.isnan(iv):
                unquoted.append((row, f"{label}: the {quote['iv_from']} mid gives no implied "
                                      f"vol on the forwards table's forward {fwd:.4f}"))
                continue
        mark = {"row": row, "instrument": leg.instrument, "type": kind, "strike": leg.strike,
                "expiry": expiry, "root": root, "symbol": quote["symbol"],
                "price": float(quote["mid"]), "iv": iv,
                "iv_from": quote["iv_from"], "width": width, "forward": fwd,
                "chain": chain.source}
        max_width = widths[1] if root.startswith("VIX") else widths[0]
        if not width <= max_width:
            text = "no ask vol" if math.isnan(width) else f"{width:.2f} vol points wide"
            too_wide.append((row, f"{label}: {text} (bid {quote['bid']:g}, ask "
                                  f"{quote['ask']:g}; mid {mark['price']:g}, IV "
                                  f"{mark['iv']:.4f}); above the {max_width:g} allowed"))
            continue
        marked.append(mark)
    return pd.DataFrame(marked, columns=list(LEG_COLUMNS)), unquoted, too_wide


def _vol_on_table(s: SeriesVols, strike: float, side: str, fwd_disc: tuple[float, float],
                  root: str) -> tuple[float, float]:
    """(forward, vol) of the strike's ``side`` mid on the forwards table's forward (÷ 10 for
    XSP) and discount — what the engine values SPX/SPXW/XSP legs of that date on (SPEC §4),
    so the marked vol reprices the mid there; the series' own parity forward can differ (the
    table keeps the AM series of a date, XSP's own parity is noisier)."""
    fwd = fwd_disc[0] * (0.1 if root == "XSP" else 1.0)
    q = s.quotes[(s.quotes["type"] == side) & np.isclose(s.quotes["strike"], strike, rtol=0,
                                                         atol=1e-6)]
    rate = -math.log(fwd_disc[1]) / s.t
    vol = solve_implied_vol(q["mid"].to_numpy()[:1], 1.0 if side == "C" else -1.0, fwd,
                            strike, s.t, rate, model="black76").vol
    return fwd, float(vol[0]) if vol.size else math.nan


def _unusable(quote: pd.Series) -> str:
    if not quote["two_sided"]:
        return (f"no two-sided quote (bid {quote['bid']:g}, ask {quote['ask']:g}): no mid to "
                "mark")
    if math.isnan(quote["iv"]):
        return (f"mid {quote['mid']:g} gives no implied vol on the parity forward (outside the "
                "no-arbitrage bounds)")
    return ""
