"""Reader for Cboe's delayed-quote option chain export ("quotedata.csv").

Layout: line 1 blank; line 2 ``<INDEX NAME>,Last: 6711.2002,Change: …``; line 3
``"Date: October 1, 2025 at 6:01 PM EDT",Bid: …,Ask: …``; line 4 the header; then one row
per expiry and strike with the call and the put side by side (Last Sale, Net, Bid, Ask,
Volume, IV, Delta, Gamma, Open Interest each). Expiries read like ``Fri Apr 17 2026``.

Settlement follows the option root in the symbol: SPX (and VIX) are AM-settled (09:30 New
York on the expiry date), SPXW and other roots PM-settled (16:00). Times are timezone-aware
New York datetimes; IV and delta are Cboe's own (IV decimal, 0 where Cboe shows none).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..conventions import AM_SETTLE, PM_SETTLE, SETTLEMENT_TIME
from ..errors import InputError, MissingInputError

NEW_YORK = ZoneInfo("America/New_York")
_SIDE = ("symbol", "last", "net", "bid", "ask", "volume", "iv", "delta", "gamma",
         "open_interest")
_HEADER_START = "expiration date"
_LAST = re.compile(r"last:\s*([-+0-9.,]+)", re.IGNORECASE)
_DATE = re.compile(r"date:\s*(.+?)\s+at\s+(\d{1,2}:\d{2}\s*[AP]M)\s*([A-Z]{2,4})?",
                   re.IGNORECASE)
_ROOT = re.compile(r"^([A-Z]+?)\d{6}[CP]\d+$")
COLUMNS = ("expiry", "root", "settlement", "expiry_time", "strike", "type", "symbol", "last",
           "net", "bid", "ask", "mid", "volume", "iv", "delta", "gamma", "open_interest")


@dataclass(frozen=True)
class CboeChain:
    """A parsed chain: one row per option (columns ``COLUMNS``), quote time, index level."""

    quotes: pd.DataFrame
    quote_time: dt.datetime
    spot: float
    underlying: str


def read_cboe_chain(source: str | Path | io.TextIOBase) -> CboeChain:
    """Parse a quotedata.csv file (path or open text stream) into a tidy CboeChain."""
    try:
        text = source.read() if hasattr(source, "read") else Path(source).read_text(
            encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cboe chain: cannot read {source}: {exc}") from None
    lines = text.splitlines()
    head = next((i for i, ln in enumerate(lines) if ln.strip().lower().startswith(_HEADER_START)),
                None)
    if head is None or head < 2:
        raise MissingInputError("Cboe chain: header line 'Expiration Date,Calls,…' not found "
                                "after the index and date lines")
    title, date_line = lines[head - 2], lines[head - 1]
    spot_match = _LAST.search(title)
    if not spot_match:
        raise InputError(f"Cboe chain line {head - 1}: no 'Last:' index level in {title[:60]!r}")
    spot = float(spot_match.group(1).replace(",", ""))
    quote_time = _quote_time(date_line, head)
    raw = pd.read_csv(io.StringIO("\n".join(lines[head + 1:])), header=None, dtype=str,
                      skip_blank_lines=True, keep_default_na=False)
    if raw.shape[1] < 22:
        raise InputError(f"Cboe chain: expected 22 columns (calls and puts side by side), "
                         f"got {raw.shape[1]}")
    raw = raw[raw[0].str.strip() != ""]
    expiry = pd.to_datetime(raw[0].str.strip(), format="%a %b %d %Y", errors="coerce")
    if expiry.isna().any():
        bad = raw[0][expiry.isna()].iloc[0]
        raise InputError(f"Cboe chain: expiration date {bad!r} is not like 'Fri Apr 17 2026'",
                         row=int(expiry.isna().to_numpy().argmax()) + head + 2)
    strike = pd.to_numeric(raw[11], errors="coerce")
    sides = []
    for kind, first in (("C", 1), ("P", 12)):
        side = pd.DataFrame({name: raw[first + j].str.strip() for j, name in enumerate(_SIDE)})
        for name in _SIDE[1:]:
            side[name] = pd.to_numeric(side[name].str.replace(",", ""), errors="coerce")
        side.insert(0, "type", kind)
        side.insert(0, "strike", strike)
        side.insert(0, "expiry", expiry.dt.date)
        sides.append(side)
    quotes = pd.concat(sides, ignore_index=True)
    quotes["root"] = quotes["symbol"].map(_root)
    quotes["settlement"] = np.where(quotes["root"].map(_settle_time) == AM_SETTLE, "AM", "PM")
    quotes["expiry_time"] = [dt.datetime.combine(d, AM_SETTLE if s == "AM" else PM_SETTLE,
                                                 tzinfo=NEW_YORK)
                             for d, s in zip(quotes["expiry"], quotes["settlement"], strict=True)]
    quotes["mid"] = np.where((quotes["bid"] >= 0) & (quotes["ask"] >= quotes["bid"])
                             & (quotes["ask"] > 0), 0.5 * (quotes["bid"] + quotes["ask"]), np.nan)
    quotes = quotes.sort_values(["expiry", "root", "strike", "type"], ignore_index=True)
    return CboeChain(quotes[list(COLUMNS)], quote_time, spot, title.split(",")[0].strip())


def year_fraction(start: dt.datetime, end) -> np.ndarray:
    """ACT/365 years between aware datetimes (``end`` may be a sequence)."""
    ends = [end] if isinstance(end, dt.datetime) else list(end)
    return np.array([(e - start).total_seconds() for e in ends]) / (365.0 * 86400.0)


def _quote_time(line: str, head: int) -> dt.datetime:
    m = _DATE.search(line)
    if not m:
        raise InputError(f"Cboe chain line {head}: no 'Date: <Month d, yyyy> at <h:mm AM>' in "
                         f"{line[:60]!r}")
    try:
        naive = dt.datetime.strptime(f"{m.group(1).strip()} {m.group(2).upper()}",
                                     "%B %d, %Y %I:%M %p")
    except ValueError:
        raise InputError(f"Cboe chain line {head}: cannot read the date {m.group(0)!r}") from None
    return naive.replace(tzinfo=NEW_YORK)


def _root(symbol: str) -> str:
    m = _ROOT.match(str(symbol).strip().upper())
    return m.group(1) if m else ""


def _settle_time(root: str) -> dt.time:
    return SETTLEMENT_TIME.get(root, PM_SETTLE)
