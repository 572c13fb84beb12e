"""P&L attribution between two history snapshots, per layer (SPEC §8).

For every leg held on both dates (the same contract in the same layer: Instrument, Type,
Strike, Expiry and what it is written on — an ETP's ticker, a VIX leg's future expiry; how an
SPX leg is priced, on spot or on a forward, does not make it another leg), with the quantity and
Greeks of the earlier snapshot (ΔU: move of the leg's own underlying — SPX spot (SPX/10 for
XSP, the forward for a leg priced on ALVH_FORWARDS), its VIX future (listed or interpolated),
or the ETP price; ΔIV: move of its implied vol, decimal; d: calendar days elapsed between the
two valuation date-times):

* Realised = Qty·Multiplier·(Price_to − Price_from)   ($)
* SPX/SPXW/XSP options and ES/MES futures: Delta = Delta·ΔU;  Vega = Vega·ΔIV·100 (vol
  points; 0 for futures)
* VIX-linked legs (VIX options, VX/VXM futures, ETPs and options on them — all Instrument
  VIX, VX, VXM or ETP): their first-order move with their future (or ETP price) is their *vol
  exposure* at work, so it is reported as Vega = Delta·ΔU, not as Delta (SPEC §5: this is
  what offsets the condor's vega); a VIX or ETP option's own implied-vol move is VolOfVol =
  Vega·ΔIV·100
* Gamma = ½·Gamma·ΔU²;  Theta = Theta·d
* Unexplained = Realised − (Delta + Gamma + Vega + VolOfVol + Theta)   (cross terms, higher
  orders, rate moves, expiries), so the parts sum to Realised exactly.

Legs opened or closed
between the dates carry no P&L here (their closing or opening trade is not in the history);
they are counted in NewLegs / ClosedLegs. Resized counts legs whose quantity changed; their
P&L is that of the earlier quantity. A contract held on both dates in another layer (a layer
renamed, a leg moved) is the same leg: its P&L is in its earlier layer, which counts it in
Moved. LeftOut (TOTAL row only) counts the input rows the two snapshots left out (a bad cell):
a leg in such a row shows as closed or new, so a pair with LeftOut > 0 is incomplete.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..errors import InputError

TOTAL = "TOTAL"
PARTS = ("Delta", "Gamma", "Vega", "VolOfVol", "Theta")
VIX_LINKED = ("VIX", "VX", "VXM", "ETP")
ATTRIBUTION_COLUMNS = ("From", "To", "Days", "Layer", "Realised", *PARTS, "Unexplained",
                       "Legs", "NewLegs", "ClosedLegs", "Resized", "Moved", "LeftOut")
_NEEDED = ("Layer", "Instrument", "Type", "Strike", "Expiry", "Underlying", "Qty",
           "Multiplier", "Price", "UnderlyingPrice", "IV", "Delta", "Gamma", "Vega", "Theta")


def snapshot_dates(history: pd.DataFrame) -> list[str]:
    """ISO dates of the snapshots in a history frame, oldest first."""
    return sorted(history["Date"].dropna().unique().tolist())


def attribute(history: pd.DataFrame, date_from=None, date_to=None) -> pd.DataFrame:
    """Attribution per layer (then a TOTAL row) for each pair of snapshots.

    With both dates: the one pair date_from → date_to (both must be snapshot dates).
    Otherwise: every consecutive pair of snapshots dated within [date_from, date_to].
    Columns ATTRIBUTION_COLUMNS; P&L in $, Days in calendar days.
    """
    missing = [c for c in _NEEDED if c not in history.columns]
    if missing:
        raise InputError(f"history: no leg data for attribution (missing {', '.join(missing)})")
    dates = snapshot_dates(history)
    lo, hi = iso_date(date_from, "from"), iso_date(date_to, "to")
    if lo is not None and hi is not None:
        for d in (lo, hi):
            if d not in dates:
                raise InputError(f"history: no snapshot dated {d}; snapshots: "
                                 f"{_list(dates)}")
        if lo >= hi:
            raise InputError(f"history: --from {lo} must be before --to {hi}")
        pairs = [(lo, hi)]
    else:
        window = [d for d in dates if (lo is None or d >= lo) and (hi is None or d <= hi)]
        if len(window) < 2:
            raise InputError(f"history: attribution needs two snapshots, found "
                             f"{len(window)} in the range asked ({_list(dates) or 'none'})")
        pairs = list(zip(window[:-1], window[1:], strict=True))
    stamps = _stamps(history)
    legs = history[history["Level"] == "leg"]
    by_date = dict(tuple(legs.groupby("Date", sort=False)))
    empty = legs.iloc[0:0]
    book = history[history["Level"] == "book"]
    left_out = dict(zip(book["Date"], pd.to_numeric(
        book["LeftOut"] if "LeftOut" in book.columns else pd.Series(0.0, index=book.index),
        errors="coerce").fillna(0.0), strict=True))
    return pd.concat([attribute_pair(by_date.get(a, empty), by_date.get(b, empty),
                                     stamps[a], stamps[b],
                                     left_out=left_out.get(a, 0.0) + left_out.get(b, 0.0))
                      for a, b in pairs], ignore_index=True)


def attribute_pair(legs_from: pd.DataFrame, legs_to: pd.DataFrame, start: pd.Timestamp,
                   end: pd.Timestamp, *, left_out: float = 0.0) -> pd.DataFrame:
    """Attribution of the leg rows of the snapshot valued at ``start`` to the one at ``end``;
    ``left_out``: input rows the two snapshots left out (shown on the TOTAL row)."""
    days = (end - start).total_seconds() / 86400.0
    id_from, id_to = _match_ids(legs_from, legs_to)
    left = legs_from[list(_NEEDED)].assign(_id=id_from)
    right = legs_to[["Layer", "Qty", "Price", "UnderlyingPrice", "IV"]].assign(_id=id_to)
    m = left.merge(right, on="_id", how="outer", suffixes=("", "_to"), indicator=True)
    both = (m["_merge"] == "both").to_numpy()
    num = lambda c: m[c].to_numpy(float)  # noqa: E731
    d_u = num("UnderlyingPrice_to") - num("UnderlyingPrice")
    d_iv = np.nan_to_num(num("IV_to") - num("IV"))
    vix = m["Instrument"].isin(VIX_LINKED).to_numpy()
    first_order = num("Delta") * d_u
    own_vega = num("Vega") * d_iv * 100.0
    parts = pd.DataFrame({
        "Layer": m["Layer"].fillna(m["Layer_to"]),
        "Realised": num("Qty") * num("Multiplier") * (num("Price_to") - num("Price")),
        "Delta": np.where(vix, 0.0, first_order),
        "Gamma": 0.5 * num("Gamma") * d_u ** 2,
        "Vega": np.where(vix, first_order, own_vega),
        "VolOfVol": np.where(vix, own_vega, 0.0),
        "Theta": num("Theta") * days,
    })
    parts.loc[~both, ["Realised", *PARTS]] = 0.0
    parts["Unexplained"] = parts["Realised"] - parts[list(PARTS)].sum(axis=1)
    parts["Legs"] = both.astype(int)
    parts["NewLegs"] = (m["_merge"] == "right_only").to_numpy().astype(int)
    parts["ClosedLegs"] = (m["_merge"] == "left_only").to_numpy().astype(int)
    parts["Resized"] = (both & (num("Qty") != num("Qty_to"))).astype(int)
    parts["Moved"] = (both & (m["Layer"] != m["Layer_to"]).to_numpy()).astype(int)
    order = list(dict.fromkeys([*legs_from["Layer"], *legs_to["Layer"]]))
    table = parts.groupby("Layer", sort=False).sum().reindex(order, fill_value=0)
    table.loc[TOTAL] = table.sum(axis=0)
    table["LeftOut"] = np.nan
    table.loc[TOTAL, "LeftOut"] = left_out
    table = table.rename_axis("Layer").reset_index()
    table.insert(0, "Days", days)
    table.insert(0, "To", end.date().isoformat())
    table.insert(0, "From", start.date().isoformat())
    return table[list(ATTRIBUTION_COLUMNS)]


def contract_ids(legs: pd.DataFrame) -> pd.Series:
    """What a leg row holds, whatever it is priced on: Instrument|Type|Strike|Expiry|written-on
    (an ETP's ticker, a VIX-linked leg's future expiry, nothing for SPX/XSP/ES/MES legs, whose
    Underlying text says only whether spot or a forward priced them)."""
    under = legs["Underlying"].fillna("").astype(str).str.split()
    instrument = legs["Instrument"].fillna("").astype(str)
    written_on = np.where(instrument == "ETP", under.str[0],
                          np.where(instrument.isin(VIX_LINKED), under.str[-1], ""))
    k = pd.to_numeric(legs["Strike"], errors="coerce").to_numpy(float)
    strike = np.where(np.isnan(k), "", np.char.mod("%g", np.nan_to_num(k)))
    expiry = pd.to_datetime(legs["Expiry"], errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    return (instrument + "|" + legs["Type"].fillna("").astype(str) + "|" + strike + "|"
            + expiry + "|" + pd.Series(written_on, index=legs.index).fillna("").astype(str))


def _match_ids(legs_from: pd.DataFrame, legs_to: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Ids pairing the rows of two snapshots: the same contract in the same layer first, then
    the same contract left unpaired on both sides (a renamed layer, a leg moved)."""
    ca, cb = contract_ids(legs_from), contract_ids(legs_to)
    la = _numbered(legs_from["Layer"].astype(str) + "|" + ca)
    lb = _numbered(legs_to["Layer"].astype(str) + "|" + cb)
    held_a, held_b = la.isin(lb), lb.isin(la)
    moved_a = "\x1f" + _numbered(ca[~held_a])
    moved_b = "\x1f" + _numbered(cb[~held_b])
    return la.where(held_a, moved_a), lb.where(held_b, moved_b)


def _numbered(ids: pd.Series) -> pd.Series:
    """``ids`` with '#2', '#3' … on repeats (two rows of one contract stay two legs)."""
    nth = ids.groupby(ids).cumcount()
    return ids.where(nth == 0, ids + "#" + (nth + 1).astype(str))


def iso_date(value, name: str = "date") -> str | None:
    """A date given as text, date or datetime → 'YYYY-MM-DD' (None stays None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).date().isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise InputError(f"{name}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _stamps(history: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Valuation date-time of each snapshot (Date + Time; Time missing → midnight)."""
    first = history.drop_duplicates("Date")
    times = first["Time"] if "Time" in first.columns else pd.Series("", index=first.index)
    return {d: pd.Timestamp(f"{d} {t if isinstance(t, str) else ''}".strip())
            for d, t in zip(first["Date"], times, strict=True)}


def _list(dates: list[str]) -> str:
    return ", ".join(dates) if len(dates) <= 6 else f"{', '.join(dates[:3])} … {dates[-1]}"
