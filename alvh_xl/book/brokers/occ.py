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
from .cells import check_record, column_key, csv_rows, multiplier, number, read_text, record
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
    out = BrokerImport("occ", path, as_of)
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
            _add(out, f"line {line}", text, rec, as_of)
        except InputError as exc:
            out.unmapped.append(Skipped(f"line {line}", text, str(exc)))
    return out


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
    qty = number(rec.get("qty"), "Qty")
    if qty is None:
        raise InputError("Qty is blank")
    if qty == 0:
        out.notes.append(f"{where}: {text} has Qty 0 (no position)")
        return
    if not sym.in_universe:
        out.ignored.append(Skipped(where, text, outside_reason(sym)))
        return
    mult = multiplier(rec.get("multiplier"), sym.multiplier)
    out.legs.append(ImportedLeg(where, text, sym, qty, mult, number(rec.get("price"), "Price"),
                                number(rec.get("cost"), "Cost")))
