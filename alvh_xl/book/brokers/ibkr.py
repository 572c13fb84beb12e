"""Interactive Brokers Flex Query "Open Positions": the CSV export and the Activity Flex XML.

Columns are found by name (CSV ``AssetClass, Symbol, Quantity, MarkPrice, …``; XML attributes
``assetCategory, symbol, position, markPrice, …``). Per asset class: OPT → an option from
its OCC symbol, checked against the Strike/Expiry/Put/Call columns; FUT → a future from its
symbol with the Expiry column as its date; STK → ETP shares for the vol ETPs, other stocks
ignored; FOP (options on futures), CASH (forex) and anything else ignored. SUMMARY rows are
used; LOT rows only for a contract without a SUMMARY row.

Units: ``MarkPrice`` is per unit when ``PositionValue = MarkPrice × Quantity × Multiplier``
(per contract when it equals ``MarkPrice × Quantity``, then divided by the multiplier); the
entry price is ``CostBasisMoney / (Quantity × Multiplier)`` — per unit whichever unit IBKR
used for ``CostBasisPrice`` — and includes commissions, as IBKR's cost basis does.
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from ...errors import InputError, describe
from ..symbols import Symbol, parse_symbol, stock
from .cells import (
    check_record,
    column_key,
    csv_rows,
    multiplier,
    number,
    quantity,
    read_text,
    record,
)
from .model import BrokerImport, ImportedLeg, Skipped, outside_reason

# canonical key ← XML attribute / CSV header (compared by ``column_key``)
_ALIASES = {"assetcategory": "assetclass", "position": "quantity", "currency": "currencyprimary"}
_NEEDED = ("assetclass", "symbol", "quantity")
_FRAMES = {"BOF", "BOA", "BOS", "EOS", "EOA", "EOF"}     # header and trailer records
_POSITION_CODES = {"POST", "OPEN POSITIONS"}
# columns of the Flex sections that also carry AssetClass, Symbol and Quantity but are not
# open positions (Trades, Transfers, Prior Period Positions, Corporate Actions, …)
_OTHER_SECTIONS = {"tradeid", "tradeprice", "tradedate", "datetime", "buysell",
                   "transactiontype", "transactionid", "direction", "priormtmpnl", "actionid"}
_IGNORED_CLASSES = {"FOP": "option on a future: not an ALVH instrument",
                    "FSFOP": "option on a future: not an ALVH instrument",
                    "CASH": "forex: not an ALVH instrument",
                    "BOND": "bond: not an ALVH instrument",
                    "WAR": "warrant: not an ALVH instrument",
                    "CFD": "CFD: not an ALVH instrument",
                    "FUND": "fund: not an ALVH instrument",
                    "CMDTY": "commodity: not an ALVH instrument"}


def read_ibkr(path: Path) -> BrokerImport:
    """Open positions of an IBKR Flex CSV or Activity Flex XML file."""
    path = Path(path)
    text = read_text(path, "IBKR Flex")
    notes: list[str] = []
    if text.lstrip().startswith("<"):
        records = _xml_records(text, path)
    else:
        records, notes = _csv_records(text, path)
    as_of = _report_date(records)
    out = BrokerImport("ibkr", path, as_of, notes=notes)
    summarised = {r.get("conid") for _, r in records if r.get("levelofdetail", "SUMMARY")
                  .upper() == "SUMMARY"}
    for where, rec in records:
        detail = rec.get("levelofdetail", "SUMMARY").upper() or "SUMMARY"
        label = rec.get("symbol", "") or rec.get("description", "")
        if detail != "SUMMARY" and rec.get("conid") in summarised:
            out.notes.append(f"{where}: {detail} row of {label.strip()} left to its SUMMARY row")
            continue
        try:
            _map(where, rec, as_of, out)
        except InputError as exc:
            out.unmapped.append(Skipped(where, label.strip(), str(exc)))
    return out


def _xml_records(text: str, path: Path) -> list[tuple[str, dict[str, str]]]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"IBKR Flex XML {path.name}: not well-formed XML ({exc})") from None
    sections = root.findall(".//OpenPositions")
    if not sections:
        raise InputError(f"IBKR Flex XML {path.name}: no <OpenPositions> section; add Open "
                         f"Positions to the Flex query")
    out = []
    for section in sections:
        for i, el in enumerate(section.findall("OpenPosition"), start=1):
            rec = {_key(k): (v or "").strip() for k, v in el.attrib.items()}
            out.append((f"OpenPosition {i}", rec))
    return out


def _csv_records(text: str, path: Path) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """The Open Positions rows of a Flex CSV, and notes on the rows of other sections.

    A Flex CSV may hold several sections, each under its own header row (Trades, Transfers
    and Prior Period Positions have AssetClass, Symbol and Quantity too); with "header and
    trailer records" on, rows are framed by BOF/BOA/BOS/EOS/EOA/EOF lines and each header
    and data row starts with HEADER/DATA and the section code (POST = Open Positions).
    """
    header: list[str] | None = None
    section, positions, found = "", False, False
    other: dict[str, int] = {}
    out = []
    for line, row in enumerate(csv_rows(text), start=1):
        if not any(c.strip() for c in row):
            continue
        first = row[0].strip().upper()
        if first in _FRAMES:
            continue
        if first in ("HEADER", "DATA") and len(row) > 1:
            code, row = row[1].strip(), row[2:]
            if first == "HEADER":
                header, section = [_key(c) for c in row], f"section {code}"
                positions = code.upper() in _POSITION_CODES and all(k in header for k in _NEEDED)
                found = found or positions
                continue
            if header is None or section != f"section {code}":
                raise InputError(f"IBKR Flex CSV {path.name} line {line}: a DATA row of section "
                                 f"{code} without its HEADER row")
        else:
            keys = [_key(c) for c in row]
            if "clientaccountid" in keys or {"assetclass", "symbol"} <= set(keys):
                header, section = keys, f"section with header {', '.join(row[:5])}, …"
                positions = all(k in keys for k in _NEEDED) and not set(keys) & _OTHER_SECTIONS
                found = found or positions
                continue
        if header is None:
            raise InputError(f"IBKR Flex CSV {path.name} line {line}: no header row with "
                             f"AssetClass, Symbol and Quantity before the data; export the "
                             f"Open Positions section with its header")
        if positions:
            out.append((f"line {line}", record(header, row)))
        else:
            other[section] = other.get(section, 0) + 1
    if not found:
        raise InputError(f"IBKR Flex CSV {path.name}: no Open Positions header row with "
                         f"AssetClass, Symbol and Quantity")
    notes = [f"{n} rows of another Flex section, not positions, not read ({where})"
             for where, n in other.items()]
    return out, notes


def _key(name: str) -> str:
    k = column_key(name)
    return _ALIASES.get(k, k)


def _report_date(records: list[tuple[str, dict[str, str]]]) -> dt.date | None:
    dates = {r.get("reportdate", "") for _, r in records} - {""}
    if len(dates) > 1:
        raise InputError(f"IBKR Flex: positions of several report dates "
                         f"({', '.join(sorted(dates))}); export one day")
    return _date(dates.pop(), "ReportDate") if dates else None


def _date(text: str, column: str) -> dt.date:
    s = text.strip().split(";")[0]
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise InputError(f"{column}: expected a date like 2025-11-21 or 20251121, got {describe(text)}")


def _map(where: str, rec: dict[str, str], as_of: dt.date | None, out: BrokerImport) -> None:
    check_record(rec)
    cls = rec.get("assetclass", "").upper()
    text = rec.get("symbol", "")
    qty = quantity(rec.get("quantity"), "Quantity")
    if qty == 0:
        out.notes.append(f"{where}: {text} has Quantity 0 (no position)")
        return
    if cls == "OPT":
        sym = _checked_option(parse_symbol(text, as_of=as_of), rec)
    elif cls == "FUT":
        sym = _future(text, rec, as_of)
    elif cls == "STK":
        sym = stock(text)
    else:
        reason = _IGNORED_CLASSES.get(cls, f"asset class {cls or 'blank'}: not an ALVH "
                                           f"instrument")
        out.ignored.append(Skipped(where, text, reason))
        return
    if not sym.in_universe:
        out.ignored.append(Skipped(where, text, outside_reason(sym)))
        return
    mult = multiplier(rec.get("multiplier"), sym.multiplier)
    price, entry, notes = _prices(rec, qty, mult)
    out.notes.extend(f"{where}: {text}: {n}" for n in notes)
    out.legs.append(ImportedLeg(where, text, sym, qty, mult, price, entry))


def _checked_option(sym: Symbol, rec: dict[str, str]) -> Symbol:
    strike = number(rec.get("strike"), "Strike")
    if strike is not None and not math.isclose(strike, sym.strike, rel_tol=1e-9):
        raise InputError(f"Strike column {strike:g} disagrees with the symbol's {sym.strike:g}")
    if rec.get("expiry") and _date(rec["expiry"], "Expiry") != sym.expiry:
        raise InputError(f"Expiry column {rec['expiry']} disagrees with the symbol's "
                         f"{sym.expiry}")
    cp = rec.get("putcall", "").upper()[:1]
    if cp and cp != sym.cp:
        raise InputError(f"Put/Call column {rec['putcall']} disagrees with the symbol's {sym.cp}")
    return sym


def _future(text: str, rec: dict[str, str], as_of: dt.date | None) -> Symbol:
    sym = parse_symbol(text, kind="future", as_of=as_of)
    if not rec.get("expiry"):
        if sym.expiry is None:
            raise InputError("a future without an Expiry column or a contract month")
        return sym
    expiry = _date(rec["expiry"], "Expiry")
    if sym.expiry is not None and sym.expiry != expiry:
        raise InputError(f"Expiry column {expiry} disagrees with {sym.expiry}, the expiry of "
                         f"{text} by the exchange's rule")
    return replace(sym, expiry=expiry)


def _prices(rec: dict[str, str], qty: float, mult: float
            ) -> tuple[float | None, float | None, list[str]]:
    notes = []
    mark = number(rec.get("markprice"), "MarkPrice")
    value = number(rec.get("positionvalue"), "PositionValue")
    price = mark
    if mark is not None and value is not None and mult != 1:
        if _close(value, mark * qty * mult):
            price = mark
        elif _close(value, mark * qty):
            price = mark / mult
        else:
            notes.append(f"MarkPrice {mark:g} × Quantity {qty:g} × Multiplier {mult:g} ≠ "
                         f"PositionValue {value:g}; Price left blank")
            price = None
    money = number(rec.get("costbasismoney"), "CostBasisMoney")
    entry = money / (qty * mult) if money is not None else None
    if entry is None and rec.get("costbasisprice"):
        notes.append("no CostBasisMoney column: EntryPrice left blank (CostBasisPrice's unit, "
                     "per share or per contract, cannot be told)")
    return price, entry, notes


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=0.011)
