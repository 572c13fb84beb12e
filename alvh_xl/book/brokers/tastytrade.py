"""tastytrade CSV transaction history (``Date, Type, Sub Type, Action, Symbol, Instrument
Type, Description, Value, Quantity, Average Price, …, Multiplier, …``).

A transaction history, not a position statement: every Trade and Receive Deliver row
(expirations, assignments) is netted in time order into the positions open at the file's
last transaction, which is the import's date. ``Quantity`` is unsigned, the ``Action``
(BUY_…/SELL_…) gives the side; an expiration without an Action closes what is open.

Units: the entry price is per unit — the trade price printed in the Description
(``Sold 2 /MESU4 … Put 4650.00 @ 22.0``), else ``|Average Price| / multiplier``, because
``Average Price`` and ``Value`` are dollars per contract (22.0 points × $5 = 110.00). The
``Multiplier`` column says 1 for futures options, so the contract's own multiplier is used
(MES 5, ES 50); for equity options the column (100). The average-cost method prices a
position built by several trades. A history has no marks: Price stays blank.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InputError
from ..symbols import Symbol, parse_symbol, stock
from .cells import check_record, column_key, csv_rows, multiplier, number, read_text, record
from .model import BrokerImport, ImportedLeg, Skipped, outside_reason

_NEEDED = ("date", "type", "action", "symbol", "instrumenttype", "quantity")
_AT_PRICE = re.compile(r"@\s*([-+]?\d*\.?\d+)\s*$")
_KINDS = {"EQUITY OPTION": None, "FUTURE OPTION": None, "FUTURE": "future",
          "EQUITY": "stock"}
_POSITION_TYPES = ("TRADE", "RECEIVE DELIVER")


@dataclass
class _Position:
    text: str
    symbol: Symbol
    multiplier: float
    qty: float = 0.0
    entry: float | None = None
    lines: list[int] = field(default_factory=list)


def read_tastytrade(path: Path) -> BrokerImport:
    """Positions open at the end of a tastytrade transaction-history CSV."""
    path = Path(path)
    rows = csv_rows(read_text(path, "tastytrade CSV"))
    if not rows or not all(k in [column_key(c) for c in rows[0]] for k in _NEEDED):
        raise InputError(f"tastytrade {path.name}: the first line is not the transaction "
                         f"header (Date, Type, Sub Type, Action, Symbol, Instrument Type, …)")
    header = [column_key(c) for c in rows[0]]
    records = []
    for line, row in enumerate(rows[1:], start=2):
        if any(c.strip() for c in row):
            rec = record(header, row)
            records.append((_when(rec.get("date", ""), line), -line, line, rec))
    records.sort(key=lambda r: (r[0], r[1]))          # the file lists the newest first
    as_of = records[-1][0].date() if records else None
    out = BrokerImport("tastytrade", path, as_of)
    positions: dict[str, _Position] = {}
    broken: dict[str, list[int]] = {}        # contract → its lines that could not be read
    other: dict[str, int] = {}
    for when, _, line, rec in records:
        kind = rec.get("type", "").upper()
        if kind not in _POSITION_TYPES:
            other[rec.get("type") or "blank"] = other.get(rec.get("type") or "blank", 0) + 1
            continue
        try:
            _apply(rec, line, when.date(), positions, out)
        except InputError as exc:
            text = " ".join(rec.get("symbol", "").split())
            broken.setdefault(text, []).append(line)
            out.unmapped.append(Skipped(f"line {line}", text, str(exc)))
    for text, bad in broken.items():        # a net without one of its trades is not known
        pos = positions.pop(text, None)
        if pos is not None and pos.lines:
            out.unmapped.append(Skipped(
                f"line{'s' if len(pos.lines) > 1 else ''} {', '.join(map(str, pos.lines))}",
                text, f"not netted: line{'s' if len(bad) > 1 else ''} "
                      f"{', '.join(map(str, bad))} of this contract could not be read, so its "
                      f"position is not known"))
    _finish(positions, out)
    trades = sum(len(p.lines) for p in positions.values())
    out.notes.insert(0, f"tastytrade transaction history: {trades} trade/expiration rows netted "
                        f"into the positions open after the last one ({as_of}); Price (the mark) "
                        f"is not in a history and is left blank")
    if other:
        out.notes.append("rows that move no position: " + ", ".join(
            f"{n} × {k}" for k, n in sorted(other.items())))
    return out


def _when(text: str, line: int) -> dt.datetime:
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise InputError(f"tastytrade line {line}: Date {text!r} is not like "
                     f"2024-05-23T17:05:16+0200")


def _apply(rec: dict[str, str], line: int, day: dt.date, positions: dict[str, _Position],
           out: BrokerImport) -> None:
    check_record(rec)
    text = " ".join(rec.get("symbol", "").split())
    itype = rec.get("instrumenttype", "").upper()
    if itype not in _KINDS:
        out.ignored.append(Skipped(f"line {line}", text, f"instrument type "
                                   f"{rec.get('instrumenttype') or 'blank'}: not an ALVH "
                                   f"instrument"))
        return
    pos = positions.get(text)
    if pos is None:
        sym = stock(text) if itype == "EQUITY" else parse_symbol(text, kind=_KINDS[itype],
                                                                 as_of=day)
        pos = positions[text] = _Position(text, sym, _multiplier(sym, rec))
    n = number(rec.get("quantity"), "Quantity")
    if n is None or n < 0:
        raise InputError(f"Quantity {rec.get('quantity')!r}: expected an unsigned number")
    action = rec.get("action", "").upper()
    if action.startswith("BUY"):
        signed = n
    elif action.startswith("SELL"):
        signed = -n
    elif rec.get("type", "").upper() == "RECEIVE DELIVER" and pos.qty:
        signed = -math.copysign(min(n, abs(pos.qty)), pos.qty)   # expiry/assignment closes
    else:
        raise InputError(f"Action {rec.get('action')!r}: expected BUY_… or SELL_…")
    price = _unit_price(rec, pos, out, line)
    pos.lines.append(line)
    opening = pos.qty == 0 or math.copysign(1, signed) == math.copysign(1, pos.qty)
    if opening:
        if price is None:
            pos.entry = None
        elif pos.entry is not None or pos.qty == 0:
            held = abs(pos.qty)
            pos.entry = ((pos.entry or 0.0) * held + price * abs(signed)) / (held + abs(signed))
        pos.qty += signed
        return
    left = pos.qty + signed
    if left and math.copysign(1, left) != math.copysign(1, pos.qty):
        pos.entry = price                                   # crossed through zero
    pos.qty = left if abs(left) > 1e-12 else 0.0


def _multiplier(sym: Symbol, rec: dict[str, str]) -> float:
    if sym.kind in ("option", "stock"):
        column = multiplier(rec.get("multiplier"), None)
        if column is not None:
            return column
    if sym.multiplier is None:
        raise InputError(f"no known multiplier for {sym.root}")
    return sym.multiplier


def _unit_price(rec: dict[str, str], pos: _Position, out: BrokerImport, line: int
                ) -> float | None:
    m = _AT_PRICE.search(rec.get("description", ""))
    at = float(m[1]) if m else None
    avg = number(rec.get("averageprice"), "Average Price")
    per_unit = abs(avg) / pos.multiplier if avg is not None and pos.symbol.kind != "future" \
        else None
    if at is not None and per_unit is not None and not math.isclose(at, per_unit,
                                                                    rel_tol=1e-6, abs_tol=1e-9):
        out.notes.append(f"line {line}: {pos.text}: trade price @ {at:g} in the Description but "
                         f"|Average Price| / {pos.multiplier:g} = {per_unit:g}; the Description's "
                         f"price is used")
    if at is not None:
        return at
    if rec.get("type", "").upper() == "RECEIVE DELIVER":
        return None
    return per_unit


def _finish(positions: dict[str, _Position], out: BrokerImport) -> None:
    closed = []
    for pos in positions.values():
        lines = ", ".join(map(str, sorted(pos.lines)))
        where = f"line{'s' if len(pos.lines) > 1 else ''} {lines}"
        if pos.qty == 0:
            closed.append(f"{pos.text} ({where})")
        elif not pos.symbol.in_universe:
            out.ignored.append(Skipped(where, pos.text, f"{pos.qty:+g} × "
                                       f"{outside_reason(pos.symbol)}"))
        else:
            out.legs.append(ImportedLeg(where, pos.text, pos.symbol, pos.qty, pos.multiplier,
                                        None, pos.entry))
    if closed:
        out.notes.append(f"{len(closed)} contracts opened and closed within the history (no "
                         f"position at its end): {'; '.join(closed)}")
