"""A plain CSV of positions by symbol: a symbol column (OCC/OSI options such as
``SPXW  231215P04300000``, thinkorswim codes, futures such as ``/VXZ4``, ETP tickers) and a
signed quantity, optionally a price (mark) and a cost (entry), both per unit of the
underlying, and a multiplier (default: the contract's).

Headers (any case, spaces ignored): Symbol / OCC / OSI / Contract; Qty / Quantity /
Position; Price / Mark / Mid; Cost / EntryPrice / CostBasis / AvgPrice / TradePrice;
Multiplier. Other columns are named in the notes as not read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ...errors import InputError
from ..symbols import FUTURE_ROOTS, parse_symbol, stock
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

_COLUMNS = {
    "symbol": "symbol", "occ": "symbol", "osi": "symbol", "occsymbol": "symbol",
    "osisymbol": "symbol", "contract": "symbol",
    "qty": "qty", "quantity": "qty", "position": "qty", "pos": "qty",
    "price": "price", "mark": "price", "markprice": "price", "mid": "price",
    "cost": "cost", "entryprice": "cost", "costbasis": "cost", "costprice": "cost",
    "avgprice": "cost", "averageprice": "cost", "tradeprice": "cost",
    "multiplier": "multiplier", "mult": "multiplier",
}
_SIDE_COLUMNS = ("buysell", "action")
_CONTRACT_COLUMNS = ("strike", "strikeprice", "expiry", "expiration", "expirationdate", "exp",
                     "callput", "putcall", "callorput", "right")


def read_occ(path: Path, *, as_of: dt.date | None = None) -> BrokerImport:
    """Positions of a plain symbol + quantity CSV (``as_of`` anchors one-digit futures
    years, default today)."""
    path = Path(path)
    rows = csv_rows(read_text(path, "positions CSV"))
    start = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if start is None:
        raise InputError(f"positions CSV {path.name} is empty")
    keys = [_COLUMNS.get(column_key(c)) for c in rows[start]]
    missing = [c for c in ("symbol", "qty") if c not in keys]
    if missing:
        raise InputError(f"positions CSV {path.name} line {start + 1}: no {' or '.join(missing)} "
                         f"column (header: {', '.join(rows[start])})")
    sides = [c for c in rows[start] if column_key(c) in _SIDE_COLUMNS]
    if sides:
        raise InputError(f"positions CSV {path.name} line {start + 1}: a {sides[0]} column — "
                         f"quantities here are signed (negative = short), a column of sides "
                         f"is not read; give the Qty its sign and remove {sides[0]}")
    out = BrokerImport("occ", path, as_of)
    contract_columns = [c for c in rows[start] if column_key(c) in _CONTRACT_COLUMNS]
    unread = [c for c, k in zip(rows[start], keys, strict=True) if k is None and c.strip()]
    if unread:
        out.notes.append(f"columns not read: {', '.join(unread)}")
    for line, row in enumerate(rows[start + 1:], start=start + 2):
        if not any(c.strip() for c in row):
            continue
        rec = record(keys, row)
        text = rec.get("symbol", "")
        try:
            check_record(rec)
            if contract_columns and any(v.strip() for v in row):
                _check_contract_columns(text, contract_columns, row, rows[start], as_of)
            _add(out, f"line {line}", text, rec, as_of)
        except InputError as exc:
            out.unmapped.append(Skipped(f"line {line}", text, str(exc)))
    return out


def _check_contract_columns(text: str, columns: list[str], row: list[str], header: list[str],
                            as_of: dt.date | None) -> None:
    """A row that fills a Strike / Expiry / Call-Put column describes an option: its symbol
    must then be an option symbol (those columns are not read; a bare 'SPX' with them is not
    shares of SPX)."""
    filled = [c for c, v in zip(header, row, strict=False) if c in columns and v.strip()]
    if not filled:
        return
    try:
        sym = parse_symbol(text, as_of=as_of)
    except InputError:
        sym = None
    if sym is None or sym.kind not in ("option", "future_option"):
        raise InputError(f"the row fills {', '.join(filled)} but {text.strip()!r} is not an "
                         f"option symbol; give the OCC symbol (e.g. SPXW  231215P04300000) in "
                         f"the symbol column")


def _add(out: BrokerImport, where: str, text: str, rec: dict[str, str],
         as_of: dt.date | None) -> None:
    bare = text.strip().upper()
    if bare in FUTURE_ROOTS or bare.lstrip("/") in FUTURE_ROOTS:
        raise InputError(f"the future {bare} needs its contract month, e.g. /{bare.lstrip('/')}Z4")
    try:
        sym = parse_symbol(text, as_of=as_of)
    except InputError:
        if not bare.replace(".", "").isalnum():
            raise
        sym = stock(bare)
    qty = quantity(rec.get("qty"), "Qty")
    if qty == 0:
        out.notes.append(f"{where}: {text} has Qty 0 (no position)")
        return
    if not sym.in_universe:
        out.ignored.append(Skipped(where, text, outside_reason(sym)))
        return
    mult = multiplier(rec.get("multiplier"), sym.multiplier)
    out.legs.append(ImportedLeg(where, text, sym, qty, mult, number(rec.get("price"), "Price"),
                                number(rec.get("cost"), "Cost")))
