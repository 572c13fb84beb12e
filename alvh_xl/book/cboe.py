"""Reader for Cboe delayed-quote option chain downloads, in every layout seen in the wild.

Layouts (samples in tests/data/cboe/, provenance in tests/data/README.md):

* ``quotedata.csv`` (2021 on): an optional blank line, ``<INDEX NAME>,Last: 6711.2002,Change: …``,
  ``"Date: October 1, 2025 at 6:01 PM EDT",Bid: …``, then the header ``Expiration Date,Calls,
  Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,Last Sale,…``. The date
  line follows the browser's language and zone (Spanish, Russian, ``GMT-5``, see
  :mod:`alvh_xl.book.quote_time`). Excel re-saves add CRLF, trailing commas, a blank line
  written as ``,,,,`` and strikes without ".00"; some downloads lack IV/Delta/Gamma.
* legacy ``quotedata.dat`` (before 2021): ``^SPX (Standard & Poors 500 Index),2304.92,-104.47``,
  ``Mar 22 2020 @ 18:24 ET,Bid,…``, headers ``Vol``/``Open Int``, expiries ``04/17/2020``.
* reformatted chains (e.g. a VIX chain processed by its author): no preamble, headers such as
  ``Calls Bid``/``Puts IV``. Such a file has no quote time and no index level: the caller must
  give the quote time (``quote_time=``, the CLI's ``--quote-time``), or reading fails.

Columns are found by header name, never by position: a plain field name (``Bid``) belongs to the
side named by the nearest ``Calls``/``Puts`` column to its left, a prefixed one (``Puts Bid``)
to the side it names. Every option symbol is checked against its row (root, expiry, type,
strike). Settlement time by root (New York): SPX 09:30 (AM, Special Opening Quotation), SPXW
16:00, XSP 16:00 (PM), VIX and VIXW 09:30 — monthly and weekly VIX options both settle on the
Special Opening Quotation of VIX computed from the opening SPX prints on the expiry morning
(Cboe VIX options specifications; e.g. https://www.macroption.com/vix-options-settlement/).

Units: prices in index points, IV decimal (Cboe's own; NaN where Cboe prints 0), times aware
New York datetimes. ``mid`` is (bid + ask)/2 where 0 ≤ bid ≤ ask and ask > 0; ``two_sided``
marks quotes with bid > 0.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..conventions import AM_SETTLE, PM_SETTLE
from ..errors import InputError, MissingInputError
from .cells import to_numbers
from .quote_time import NEW_YORK, parse_quote_time

SETTLEMENT_BY_ROOT: dict[str, str] = {"SPX": "AM", "SPXW": "PM", "XSP": "PM", "VIX": "AM",
                                      "VIXW": "AM"}
_SIDE_FIELDS = {"last sale": "last", "last": "last", "net": "net", "change": "net",
                "bid": "bid", "ask": "ask", "volume": "volume", "vol": "volume", "iv": "iv",
                "implied volatility": "iv", "delta": "delta", "gamma": "gamma",
                "open interest": "open_interest", "open int": "open_interest",
                "oi": "open_interest"}
_NUMERIC = ("last", "net", "bid", "ask", "volume", "iv", "delta", "gamma", "open_interest")
_SIDES = {"calls": "C", "call": "C", "puts": "P", "put": "P"}
_SYMBOL = re.compile(r"^([A-Z]+)(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")
_EXPIRY_FORMATS = ("%a %b %d %Y", "%m/%d/%Y", "%Y-%m-%d")
_LAST = re.compile(r"^\s*last\s*:\s*(\S+)\s*$", re.IGNORECASE)
_LABEL = re.compile(r"^[^\W\d_]+\s*:")          # 'Bid: 4282.98' after the date line's date
COLUMNS = ("expiry", "root", "settlement", "expiry_time", "strike", "type", "symbol", "last",
           "net", "bid", "ask", "mid", "two_sided", "volume", "iv", "delta", "gamma",
           "open_interest", "line")


@dataclass(frozen=True)
class CboeChain:
    """A parsed chain: one row per option (columns ``COLUMNS``), quote time, index level.

    ``spot`` is NaN when the file has no index level; ``quote_time_from`` says whether the
    quote time is the file's own ("file") or the caller's ("caller"); ``notes`` lists what the
    reader noticed and did not use (unknown columns, crossed quotes, a weekend quote time, …).
    """

    quotes: pd.DataFrame
    quote_time: dt.datetime
    spot: float
    underlying: str
    source: str = ""
    layout: str = "quotedata"
    quote_time_from: str = "file"
    notes: tuple[str, ...] = field(default_factory=tuple)


def read_cboe_chain(source: str | Path | io.TextIOBase, *,
                    quote_time: dt.datetime | None = None) -> CboeChain:
    """Parse a Cboe chain download (path or open text stream) into a tidy CboeChain.

    ``quote_time`` (aware, or naive New York time) is required when the file has none and
    replaces the file's own otherwise (a note then shows both).
    """
    name = Path(str(getattr(source, "name", "<stream>") if hasattr(source, "read")
                    else source)).name
    try:
        text = source.read() if hasattr(source, "read") else Path(source).read_text(
            encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cboe chain: cannot read {source}: {exc}") from None
    rows, lines = _csv_rows(text.lstrip("\ufeff"))
    head = next((i for i, r in enumerate(rows) if any(_norm(c) == "expiration date" for c in r)),
                None)
    if head is None:
        raise MissingInputError(f"Cboe chain {name}: header line 'Expiration Date,Calls,…' "
                                "not found")
    notes: list[str] = []
    spot, underlying, file_time, layout = _preamble(rows[:head], lines[:head], name)
    when, time_from = _choose_time(file_time, quote_time, name, notes)
    quotes = _body(rows[head], rows[head + 1:], lines[head + 1:], name, notes)
    if not underlying:
        underlying = "/".join(sorted(set(quotes["root"])))
    if math.isnan(spot):
        notes.append(f"{name}: no index level ('Last:') in the file")
    if when.weekday() >= 5:
        notes.append(f"{name}: quote time {when:%a %Y-%m-%d %H:%M %Z} is a weekend; the quotes "
                     "are probably the previous session's close (give --quote-time to value "
                     "them at that close)")
    return CboeChain(quotes, when, spot, underlying, name, layout, time_from, tuple(notes))


def year_fraction(start: dt.datetime, end) -> np.ndarray:
    """ACT/365 years between New York wall-clock times (``end`` may be a sequence): calendar
    days plus the difference of the clock times, as the engine counts them
    (:func:`alvh_xl.risk.underlyings.years_to`); a DST change in between adds or removes no
    hour. Aware datetimes or Timestamps are taken in New York time, naive ones as New York."""
    ends = [end] if isinstance(end, dt.datetime) else list(end)
    origin = _new_york_wall(start)
    return np.array([(_new_york_wall(e) - origin).total_seconds() for e in ends]
                    ) / (365.0 * 86400.0)


def _new_york_wall(when) -> pd.Timestamp:
    stamp = pd.Timestamp(when)
    return stamp.tz_convert(NEW_YORK).tz_localize(None) if stamp.tzinfo else stamp


def _csv_rows(text: str) -> tuple[list[list[str]], list[int]]:
    """CSV rows and the 1-based file line on which each starts (quoted fields may span)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, lines, start = [], [], 1
    for row in reader:
        rows.append([c.strip() for c in row])
        lines.append(start)
        start = reader.line_num + 1
    return rows, lines


def _norm(text: str) -> str:
    return " ".join(str(text).lower().split())


def _preamble(rows: list[list[str]], lines: list[int], name: str
              ) -> tuple[float, str, dt.datetime | None, str]:
    """Index level, index name, quote time (None if absent) and layout from the lines above
    the header."""
    spot, underlying, when, layout = math.nan, "", None, "reformatted"
    for row, line in zip(rows, lines, strict=True):
        cells = [c for c in row if c]
        if not cells:
            continue
        last = next((m for c in cells if (m := _LAST.match(c))), None)
        if last:
            spot, underlying, layout = _number(last.group(1), name, line, "Last"), cells[0], \
                "quotedata"
        elif cells[0].startswith("^") and len(cells) > 1:          # legacy .dat title
            spot, layout = _number(cells[1], name, line, "index level"), "legacy-dat"
            inner = re.search(r"\((.+)\)", cells[0])
            underlying = inner.group(1).strip() if inner else cells[0].lstrip("^")
        elif _norm(cells[0]).startswith("date:") or "@" in cells[0]:
            try:
                when = parse_quote_time(_date_text(cells).replace("@", " "))
            except InputError as exc:
                raise InputError(f"Cboe chain {name} line {line}: {exc}") from None
        else:
            raise InputError(f"Cboe chain {name} line {line}: expected the index line ('…,Last: "
                             f"…') or the date line ('Date: …'), got {','.join(cells)[:60]!r}")
    return spot, underlying, when, layout


def _date_text(cells: list[str]) -> str:
    """The quote date of a date line: its first cell, joined with the cells after it up to the
    first labelled one (``Bid: …``) when the line starts with ``Date:`` — a date line saved
    without quotes is split at the comma of ``Date: 9 June 2023, 10:18 PM EDT``."""
    if not _norm(cells[0]).startswith("date:"):
        return cells[0]
    parts = [cells[0]]
    for cell in cells[1:]:
        if _LABEL.match(cell):
            break
        parts.append(cell)
    return ", ".join(parts)


def _choose_time(file_time: dt.datetime | None, given: dt.datetime | None, name: str,
                 notes: list[str]) -> tuple[dt.datetime, str]:
    if given is not None:
        given = given if given.tzinfo else given.replace(tzinfo=NEW_YORK)
        given = given.astimezone(NEW_YORK)
        if file_time is not None and file_time != given:
            notes.append(f"{name}: quote time {given:%Y-%m-%d %H:%M %Z} as given, not the "
                         f"file's {file_time:%Y-%m-%d %H:%M %Z}")
        return given, "caller"
    if file_time is None:
        raise MissingInputError(f"Cboe chain {name}: the file does not say when it was quoted "
                                "(no 'Date:' line); give the quote time (--quote-time "
                                "'YYYY-MM-DD HH:MM', New York)")
    return file_time, "file"


def _columns(header: list[str], name: str) -> tuple[dict[str, int], list[str]]:
    """Map (side, field) and the row keys to column indexes; list headers not used."""
    found: dict[str, int] = {}
    unused: list[str] = []
    side = None
    for j, raw in enumerate(header):
        h = _norm(raw)
        if not h:
            continue
        words = h.split(" ", 1)
        key = None
        if h in ("expiration date", "expiration", "expiry"):
            key = "expiry"
        elif h in ("strike", "strike price"):
            key = "strike"
        elif h in _SIDES:
            side = _SIDES[h]
            key = f"{side}:symbol"
        elif words[0] in _SIDES and len(words) == 2 and words[1] in _SIDE_FIELDS:
            key = f"{_SIDES[words[0]]}:{_SIDE_FIELDS[words[1]]}"
        elif h in _SIDE_FIELDS and side:
            key = f"{side}:{_SIDE_FIELDS[h]}"
        if key is None:
            unused.append(raw)
            continue
        if key in found:
            raise InputError(f"Cboe chain {name}: header {raw!r} (column {j + 1}) repeats column "
                             f"{found[key] + 1}")
        found[key] = j
    needed = ["expiry", "strike", *(f"{s}:{f}" for s in "CP" for f in ("symbol", "bid", "ask"))]
    missing = [k for k in needed if k not in found]
    if missing:
        raise MissingInputError(f"Cboe chain {name}: no column for {', '.join(missing)} in the "
                                f"header {','.join(header)[:120]!r}")
    return found, unused


def _body(header: list[str], rows: list[list[str]], lines: list[int], name: str,
          notes: list[str]) -> pd.DataFrame:
    cols, unused = _columns(header, name)
    if unused:
        notes.append(f"{name}: columns not used: {', '.join(repr(u) for u in unused)}")
    width = len(header)
    keep_rows, keep_lines = [], []
    for row, line in zip(rows, lines, strict=True):
        if not any(row):
            continue
        if any(row[width:]):
            raise InputError(f"Cboe chain {name} line {line}: {len(row)} cells, the header has "
                             f"{width}")
        keep_rows.append(row + [""] * (width - len(row)))
        keep_lines.append(line)
    if not keep_rows:
        raise MissingInputError(f"Cboe chain {name}: no option rows under the header")
    grid = np.array(keep_rows, dtype=object)
    line_no = np.array(keep_lines)
    expiry = _expiries(grid[:, cols["expiry"]], line_no, name)
    strike = _numbers(grid[:, cols["strike"]], line_no, name, "Strike")
    sides = []
    for kind in "CP":
        part = {"expiry": expiry, "strike": strike, "type": kind, "line": line_no,
                "symbol": grid[:, cols[f"{kind}:symbol"]].astype(str)}
        for fld in _NUMERIC:
            j = cols.get(f"{kind}:{fld}")
            part[fld] = (np.full(len(grid), np.nan) if j is None else
                         _numbers(grid[:, j], line_no, name, header[j]))
        sides.append(pd.DataFrame(part))
    missing = [f for f in ("iv", "delta", "gamma") if f"C:{f}" not in cols]
    if missing:
        notes.append(f"{name}: no {'/'.join(m.upper() for m in missing)} columns")
    quotes = pd.concat(sides, ignore_index=True)
    quotes["iv"] = quotes["iv"].where(quotes["iv"] > 0)
    quotes["root"] = _check_symbols(quotes, name)
    quotes["settlement"] = quotes["root"].map(SETTLEMENT_BY_ROOT)
    quotes["expiry_time"] = [dt.datetime.combine(d, AM_SETTLE if s == "AM" else PM_SETTLE,
                                                 tzinfo=NEW_YORK)
                             for d, s in zip(quotes["expiry"], quotes["settlement"], strict=True)]
    bid, ask = quotes["bid"], quotes["ask"]
    quotes["mid"] = np.where((bid >= 0) & (ask >= bid) & (ask > 0), 0.5 * (bid + ask), np.nan)
    quotes["two_sided"] = (bid > 0) & (ask >= bid)
    crossed = quotes[(bid > ask) & (ask > 0)]
    if len(crossed):
        notes.append(f"{name}: {len(crossed)} crossed quotes (bid > ask) have no mid, e.g. line "
                     f"{crossed['line'].iloc[0]}")
    quotes = quotes.sort_values(["expiry", "root", "strike", "type"], ignore_index=True)
    dup = quotes.duplicated(["expiry", "root", "strike", "type"], keep=False)
    if dup.any():
        first = quotes[dup].iloc[:2]
        raise InputError(f"Cboe chain {name}: {first['symbol'].iloc[0]} is quoted twice (lines "
                         f"{', '.join(str(v) for v in first['line'])})")
    return quotes[list(COLUMNS)]


def _expiries(cells: np.ndarray, lines: np.ndarray, name: str) -> np.ndarray:
    parsed: dict[str, dt.date] = {}
    for text in dict.fromkeys(cells):
        parsed[text] = _expiry(text)
    out = np.array([parsed[c] for c in cells], dtype=object)
    bad = np.array([d is None for d in out])
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"Cboe chain {name} line {lines[i]}: expiration date {cells[i]!r} is "
                         "not like 'Fri Apr 17 2026' or '04/17/2026'")
    return out


def _expiry(text: str) -> dt.date | None:
    for fmt in _EXPIRY_FORMATS:
        try:
            day = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if fmt.startswith("%a") and day.strftime("%a").lower() != text[:3].lower():
            return None                    # the weekday printed is not the date's weekday
        return day
    return None


def _numbers(cells: np.ndarray, lines: np.ndarray, name: str, column: str) -> np.ndarray:
    """A column's numbers (NaN for empty cells) by the one number reader (book.cells); the
    first cell that is not a number is an error naming its line and column."""
    out, why = to_numbers(cells)
    bad = np.flatnonzero(why != "")
    if bad.size:
        i = int(bad[0])
        raise InputError(f"Cboe chain {name} line {int(lines[i])} ({column}): {why[i]}")
    return out


def _number(text: str, name: str, line: int, column: str) -> float:
    """One header field (the index level) by the one number reader."""
    value = _numbers(np.array([text], dtype=object), np.array([line]), name, column)[0]
    if value != value:
        raise InputError(f"Cboe chain {name} line {line} ({column}): expected a number, got an "
                         "empty field")
    return float(value)


def _check_symbols(quotes: pd.DataFrame, name: str) -> pd.Series:
    """Root of each option symbol, after checking the symbol against its row."""
    parts = quotes["symbol"].str.upper().str.extract(_SYMBOL)
    unreadable = parts[0].isna()
    if unreadable.any():
        i = int(np.argmax(unreadable.to_numpy()))
        raise InputError(f"Cboe chain {name} line {quotes['line'][i]}: option symbol "
                         f"{quotes['symbol'][i]!r} is not like SPXW260417C06000000")
    sym_day = pd.to_datetime("20" + parts[1] + parts[2] + parts[3], format="%Y%m%d",
                             errors="coerce").dt.date
    agrees = ((sym_day == quotes["expiry"]) & (parts[4] == quotes["type"])
              & np.isclose(parts[5].astype(float) / 1000.0, quotes["strike"], rtol=0, atol=5e-4))
    if not agrees.all():
        i = int(np.argmax(~agrees.to_numpy()))
        raise InputError(f"Cboe chain {name} line {quotes['line'][i]}: symbol "
                         f"{quotes['symbol'][i]} does not match its row (expiry "
                         f"{quotes['expiry'][i]}, {quotes['type'][i]}, strike "
                         f"{quotes['strike'][i]:g})")
    unknown = sorted(set(parts[0]) - set(SETTLEMENT_BY_ROOT))
    if unknown:
        raise InputError(f"Cboe chain {name}: option root {unknown[0]} has no known settlement "
                         f"time (known: {', '.join(SETTLEMENT_BY_ROOT)})")
    return parts[0]
