"""Positions from broker exports: IBKR Flex (CSV, XML), thinkorswim statements, tastytrade
transaction history, and a plain CSV of OCC/OSI symbols. ``detect`` tells which one a file
is; ``read_positions`` reads it into a ``BrokerImport``; ``positions_table`` turns that into
rows of the positions table (SPEC §3) with layers from the rules table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ...errors import InputError, MissingInputError
from .cells import column_key, csv_rows, read_text
from .ibkr import read_ibkr
from .model import BrokerImport, ImportedLeg, Skipped
from .occ import read_occ
from .rows import PositionsImport, existing_strategies, positions_table
from .tastytrade import read_tastytrade
from .tos import read_tos

BROKERS = ("ibkr", "tos", "tastytrade", "occ")
_SYMBOL_HEADERS = ("symbol", "occ", "osi", "occsymbol", "osisymbol", "contract")
_QTY_HEADERS = ("qty", "quantity", "position", "pos")

__all__ = ["BROKERS", "BrokerImport", "ImportedLeg", "PositionsImport", "Skipped", "detect",
           "existing_strategies", "positions_table", "read_positions"]


def detect(path: Path) -> str:
    """Which export ``path`` is: 'ibkr', 'tos', 'tastytrade' or 'occ' (InputError if none)."""
    path = Path(path)
    if not path.is_file():
        raise MissingInputError(f"broker file not found: {path}")
    text = read_text(path, "broker file")
    head = text.lstrip()[:4000]
    if head.startswith("<"):
        if "<FlexQueryResponse" in head or "<FlexStatement" in head:
            return "ibkr"
        raise InputError(f"{path.name}: an XML file but not an IBKR Flex statement "
                         f"(<FlexQueryResponse>)")
    lines = [ln for ln in head.splitlines()[:6] if ln.strip()]
    if any("Position Statement for" in ln or "Account Statement for" in ln for ln in lines):
        return "tos"
    first = csv_rows(lines[0])[0] if lines else []
    keys = {column_key(c) for c in first}
    if any(_ibkr_header(ln) for ln in lines):
        return "ibkr"
    if {"date", "action", "symbol", "instrumenttype", "averageprice"} <= keys:
        return "tastytrade"
    if {"datetime", "transactioncode", "transactionsubcode", "buysell", "openclose"} <= keys:
        raise InputError(f"{path.name}: a tastyworks transaction history in the legacy layout "
                         f"(Date/Time, Transaction Code, …, Buy/Sell, Open/Close), which this "
                         f"does not read; download the history from tastytrade again (Date, "
                         f"Type, Sub Type, Action, Symbol, Instrument Type, …)")
    if keys & set(_SYMBOL_HEADERS) and keys & set(_QTY_HEADERS):
        return "occ"
    raise InputError(f"{path.name}: not a broker export this reads (IBKR Flex Open Positions "
                     f"CSV/XML, thinkorswim Position/Account Statement, tastytrade history, "
                     f"or a CSV with Symbol and Qty columns); first line: {lines[0][:80]!r}"
                     if lines else f"{path.name} is empty")


def _ibkr_header(line: str) -> bool:
    """An IBKR Flex header row: AssetClass, Symbol and Quantity (or Position), also after
    the HEADER,<section> prefix of exports with header and trailer records."""
    row = csv_rows(line)[0] if line.strip() else []
    if row[:1] and row[0].strip().upper() == "HEADER":
        row = row[2:]
    keys = {column_key(c) for c in row}
    return {"assetclass", "symbol"} <= keys and bool(keys & {"quantity", "position"})


def read_positions(path: Path, broker: str = "auto", *, as_of: dt.date | None = None
                   ) -> BrokerImport:
    """Read a broker export (``broker`` one of ``BROKERS`` or 'auto' to detect it).

    ``as_of`` anchors one-digit futures years for the plain CSV, which carries no date;
    the brokers' own files use their report date.
    """
    path = Path(path)
    if broker == "auto":
        broker = detect(path)
    elif not path.is_file():
        raise MissingInputError(f"broker file not found: {path}")
    if broker == "ibkr":
        return read_ibkr(path)
    if broker == "tos":
        return read_tos(path)
    if broker == "tastytrade":
        return read_tastytrade(path)
    if broker == "occ":
        return read_occ(path, as_of=as_of)
    raise InputError(f"broker {broker!r}: expected auto or one of {', '.join(BROKERS)}")
