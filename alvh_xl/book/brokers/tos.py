"""thinkorswim Position Statement and Account Statement CSV exports.

Both are several CSV tables one after another, each under a title line and separated by a
blank line; money is printed ``$1,234.50`` / ``($255.50)``, numbers ``+1`` / ``.755``; the
file may start with a BOM and a disclaimer line.

Position Statement (``Position Statement for … on 2/20/15 12:10:29``):
  * "Equities and Equity Options" (``Instrument, Qty, Days, Trade Price, Mark, …``): a group
    row per underlying (``VXX``), then its stock row (the company name; Qty 0 when no shares
    are held), then its option legs ``100 MAR 15 37 CALL`` / ``100 (Weeklys) 27 FEB 15 …``.
    The leg's expiry follows the monthly rule of its underlying (checked against ``Days``,
    which may count to the Saturday after a Friday expiry).
  * "Futures and Futures Options" (``Instrument, Exp, SPC, Qty, …``): a group row per root
    (``/VX``), then one row per contract with its ``Exp`` (``MAR 15``) and ``SPC``
    (``1/1000`` = multiplier 1000).
  * "Forex": currency pairs, outside the ALVH universe.
Account Statement (``Account Statement for … through 6/21/22``): the position tables
"Equities"/"Others" (``Symbol, Description, Qty, Trade Price, Mark, …``), "Options" (``Symbol,
Option Code, Exp, Strike, Type, Qty, Trade Price, Mark, …``), "Futures" (``Symbol,
Description, SPC, Exp, Qty, …``) and "Futures Options"; every other table (cash, order and
trade history, P&L, summaries) holds no positions and is named in the notes.

``Mark`` and ``Trade Price`` are per unit (ToS's P/L Open = (Mark − Trade Price) × Qty ×
multiplier); they become Price and EntryPrice.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError, describe
from ..symbols import (
    MONTH_CODES,
    MONTH_NAMES,
    Symbol,
    future_root,
    parse_symbol,
    parse_tos_description,
    stock,
)
from .cells import column_key, csv_rows, money, number, read_text
from .model import BrokerImport, ImportedLeg, Skipped, outside_reason

_STATEMENT_DATE = re.compile(r"\b(?:on|through)\s+(\d{1,2}/\d{1,2}/\d{2,4})", re.IGNORECASE)
_LEG_TEXT = re.compile(r"^\d.*\b(CALL|PUT)$", re.IGNORECASE)
_MONTH_YEAR = re.compile(r"^([A-Z]{3})\s+(\d{2})$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([A-Z]{3})\s+(\d{2})$")
_SPC = re.compile(r"^1/(\d+(?:\.\d+)?)$")
_GROUP = re.compile(r"^/?[A-Z][A-Z0-9.]{0,9}$|^\$[A-Z0-9.]+$")   # SPX, /MES, BRK.B, $SPX.X
_DESC_MONTH = re.compile(r"\b([A-Za-z]{3})-(\d{4}|\d{2})\b")      # Mar-22, Mar-2015


@dataclass
class _Table:
    title: str
    first_line: int                 # file line of the header
    header: list[str]               # column keys
    rows: list[tuple[int, list[str]]]

    def cell(self, row: list[str], key: str) -> str:
        try:
            return row[self.header.index(key)].strip()
        except (ValueError, IndexError):
            return ""


def read_tos(path: Path) -> BrokerImport:
    """Open positions of a thinkorswim Position Statement or Account Statement CSV."""
    path = Path(path)
    rows = csv_rows(read_text(path, "thinkorswim statement"))
    head = next((r[0] for r in rows[:5] if r and "Statement for" in r[0]), None)
    if head is None:
        raise InputError(f"thinkorswim {path.name}: no 'Position Statement for …' or 'Account "
                         f"Statement for …' line in the first 5 lines")
    as_of = _statement_date(head)
    out = BrokerImport("tos", path, as_of)
    kind = "Position Statement" if "Position Statement" in head else "Account Statement"
    tables, loose = _tables(rows)
    skipped_tables = []
    for table in tables:
        reader = _reader(kind, table)
        if reader is None:
            skipped_tables.append(table.title or f"table at line {table.first_line}")
            continue
        reader(table, as_of, out)
    out.notes.insert(0, f"thinkorswim {kind} of {as_of}; position tables read: "
                        f"{', '.join(t.title for t in tables if _reader(kind, t)) or 'none'}")
    if skipped_tables:
        out.notes.append(f"tables holding no positions, not read: {', '.join(skipped_tables)}")
    if loose:
        out.notes.append(f"{len(loose)} account lines outside the tables, not positions: "
                         f"{', '.join(loose)}")
    return out


def _statement_date(line: str) -> dt.date | None:
    m = _STATEMENT_DATE.search(line)
    if not m:
        return None
    month, day, year = (int(x) for x in m[1].split("/"))
    return dt.date(year + 2000 if year < 100 else year, month, day)


def _tables(rows: list[list[str]]) -> tuple[list[_Table], list[str]]:
    """Title line + header + rows up to a blank line; other non-blank lines are 'loose'."""
    tables: list[_Table] = []
    loose: list[str] = []
    i, n = 0, len(rows)
    while i < n:
        cells = [c.strip() for c in rows[i]]
        filled = [c for c in cells if c]
        nxt = [c.strip() for c in rows[i + 1]] if i + 1 < n else []
        if len(filled) == 1 and cells[0] and sum(bool(c) for c in nxt) >= 3:
            header = [column_key(c) for c in nxt]
            body, j = [], i + 2
            while j < n and any(c.strip() for c in rows[j]):
                body.append((j + 1, rows[j]))
                j += 1
            tables.append(_Table(cells[0], i + 2, header, body))
            i = j
            continue
        if filled and "Statement for" not in cells[0] and i > 0:
            loose.append(filled[0])
        i += 1
    return tables, loose


def _reader(kind: str, table: _Table):
    h, title = table.header, table.title.lower()
    if kind == "Position Statement":
        if "forex" in title:
            return _forex
        if h[:1] == ["instrument"] and "exp" in h and "spc" in h:
            return _ps_futures
        if h[:1] == ["instrument"] and "qty" in h:
            return _ps_equities
        return None
    if h[:2] == ["symbol", "optioncode"]:
        return _as_future_options if "future" in title else _as_options
    if h[:1] == ["symbol"] and "spc" in h and "exp" in h:
        return _as_futures
    if h[:3] == ["symbol", "description", "qty"]:
        return _as_equities
    return None


def _totals(row: list[str]) -> bool:
    return any("OVERALL TOTALS" in c.upper() for c in row[:3])


# ----------------------------------------------------------------------------- Position Statement

def _ps_equities(table: _Table, as_of: dt.date | None, out: BrokerImport) -> None:
    """Group rows (a ticker or /ROOT, Qty blank or the net position) each followed by their
    legs. TD Ameritrade's layout puts a description row under every group row (the shares,
    Qty 0 when none are held; for a /ROOT group the contract, ``Micro E-mini S&P 500, Mar-22``);
    Schwab's layout has no description row and prints the shares on the group row itself."""
    group: tuple[int, list[str], str] | None = None       # (line, row, name)
    described, placeholders = False, 0

    def close_group() -> None:
        """Schwab layout: a group row without a description row holds its own shares."""
        if group is None or described:
            return
        line, row, name = group
        try:
            if number(table.cell(row, "qty"), "Qty"):
                if name.startswith("/"):
                    raise InputError("a futures group row without its contract row")
                _add(out, f"line {line}", name, stock(name), table, row, 1.0)
        except InputError as exc:
            out.unmapped.append(Skipped(f"line {line}", name, str(exc)))

    for line, row in table.rows:
        where, name = f"line {line}", table.cell(row, "instrument")
        if _totals(row):
            continue
        if _GROUP.match(name):
            close_group()
            group, described = (line, row, name), False
            continue
        label = f"{group[2]} {name}" if group else name
        try:
            if group is None:
                raise InputError("a row before any underlying's group row")
            if _LEG_TEXT.match(name):
                sym = _check_days(parse_tos_description(name, group[2]),
                                  table.cell(row, "days"), as_of)
                _add(out, where, label, sym, table, row, sym.multiplier)
                continue
            if described:
                raise InputError(f"a second description row under the group row {group[2]}")
            described = True
            if group[2].startswith("/"):
                sym = _future_from_description(group[2], name, table.cell(row, "days"), as_of)
                _add(out, where, f"{group[2]} ({name})", sym, table, row, sym.multiplier)
                continue
            if not number(table.cell(row, "qty"), "Qty"):
                placeholders += 1
                continue
            _add(out, where, f"{group[2]} ({name})", stock(group[2]), table, row, 1.0)
        except InputError as exc:
            out.unmapped.append(Skipped(where, label, str(exc)))
    close_group()
    if placeholders:
        out.notes.append(f"{table.title}: {placeholders} stock rows with Qty 0 under option "
                         f"groups (no shares held)")


def _future_from_description(group: str, text: str, days: str, as_of: dt.date | None
                             ) -> Symbol:
    """A future in the equities table: its /ROOT group row and the contract month in the
    description (``Micro E-mini S&P 500, Mar-22 (prev. /MESH2)``), checked against Days."""
    m = _DESC_MONTH.search(text)
    if not m or m[1].upper() not in MONTH_NAMES:
        raise InputError(f"future {group}: no contract month like Mar-22 in {describe(text)}")
    sym = _future_from_exp(group, f"{m[1].upper()} {int(m[2]) % 100:02d}", as_of)
    if sym.in_universe and sym.expiry is not None:
        _check_days(sym, days, as_of)
    return sym


def _check_days(sym: Symbol, days: str, as_of: dt.date | None) -> Symbol:
    n = number(days, "Days")
    if n is None or as_of is None:
        return sym
    implied = as_of + dt.timedelta(days=n)
    # Days counts to the expiry, to the Saturday after it (old Friday expiries), or to the
    # last trading day before it (AM-settled SPX monthlies: Thursday before the Friday).
    if (implied - sym.expiry).days not in (-1, 0, 1):
        raise InputError(f"expiry {sym.expiry} by the {sym.root} monthly rule, but Days {n:g} "
                         f"from {as_of} gives {implied}")
    return sym


def _ps_futures(table: _Table, as_of: dt.date | None, out: BrokerImport) -> None:
    group = ""
    for line, row in table.rows:
        where, name = f"line {line}", table.cell(row, "instrument")
        if _totals(row):
            continue
        if name.startswith("/"):
            group = name
            continue
        text = f"{group} {table.cell(row, 'exp')}".strip()
        try:
            if not group:
                raise InputError("contract row before any /ROOT group row")
            mult = _spc(table.cell(row, "spc"))
            sym = _future_from_exp(group, table.cell(row, "exp"), as_of)
            _add(out, where, text, sym, table, row, mult)
        except InputError as exc:
            out.unmapped.append(Skipped(where, text or name, str(exc)))


def _forex(table: _Table, as_of: dt.date | None, out: BrokerImport) -> None:
    is_pair, flat = True, 0
    for line, row in table.rows:
        if _totals(row):
            continue
        if is_pair:
            qty = number(table.cell(row, "qty"), "Qty")
            if qty:
                out.ignored.append(Skipped(f"line {line}", table.cell(row, "instrument"),
                                           f"forex position {qty:+g}: not an ALVH instrument"))
            else:
                flat += 1
        is_pair = not is_pair
    if flat:
        out.notes.append(f"{table.title}: {flat} currency pairs with Qty 0")


# ----------------------------------------------------------------------------- Account Statement

def _as_equities(table: _Table, as_of: dt.date | None, out: BrokerImport) -> None:
    for line, row in table.rows:
        if _totals(row):
            continue
        ticker = table.cell(row, "symbol")
        try:
            qty = number(table.cell(row, "qty"), "Qty")
            if qty:
                _add(out, f"line {line}", ticker, stock(ticker), table, row, 1.0)
        except InputError as exc:
            out.unmapped.append(Skipped(f"line {line}", ticker, str(exc)))


def _as_options(table: _Table, as_of: dt.date | None, out: BrokerImport) -> None:
    for line, row in table.rows:
        if _totals(row):
            continue
        code = table.cell(row, "optioncode")
        try:
            sym = parse_symbol(code, as_of=as_of)
            exp = _exp_date(table.cell(row, "exp"))
            strike = number(table.cell(row, "strike"), "Strike")
            cp = table.cell(row, "type").upper()[:1]
            if (exp and exp != sym.expiry) or (strike is not None and strike != sym.strike) \
                    or (cp and cp != sym.cp):
                raise InputError(f"Exp/Strike/Type columns ({table.cell(row, 'exp')}, "
                                 f"{strike:g}, {cp}) disagree with the option code")
            _add(out, f"line {line}", code, sym, table, row, sym.multiplier)
        except InputError as exc:
            out.unmapped.append(Skipped(f"line {line}", code, str(exc)))


def _as_future_options(table: _Table, as_of: dt.date | None, out: BrokerImport) -> None:
    for line, row in table.rows:
        if not _totals(row):
            out.ignored.append(Skipped(f"line {line}", table.cell(row, "optioncode"),
                                       "option on a future: not an ALVH instrument"))


def _as_futures(table: _Table, as_of: dt.date | None, out: BrokerImport) -> None:
    for line, row in table.rows:
        if _totals(row):
            continue
        code = table.cell(row, "symbol")
        try:
            sym = parse_symbol(code, kind="future", as_of=as_of)
            month = _exp_month(table.cell(row, "exp"))
            if month and sym.contract_month and month != sym.contract_month:
                raise InputError(f"Exp {table.cell(row, 'exp')} disagrees with the symbol")
            _add(out, f"line {line}", code, sym, table, row, _spc(table.cell(row, "spc")))
        except InputError as exc:
            out.unmapped.append(Skipped(f"line {line}", code, str(exc)))


# ----------------------------------------------------------------------------- shared

def _add(out: BrokerImport, where: str, text: str, sym: Symbol, table: _Table, row: list[str],
         mult: float | None) -> None:
    qty = number(table.cell(row, "qty"), "Qty")
    if not qty:
        out.notes.append(f"{where}: {text} has Qty 0 (no position)")
        return
    if not sym.in_universe:
        out.ignored.append(Skipped(where, text, outside_reason(sym)))
        return
    if sym.expiry is None and sym.kind != "stock":
        raise InputError("no expiry")
    mark = money(table.cell(row, "mark"), "Mark")
    trade = money(table.cell(row, "tradeprice"), "Trade Price")
    out.legs.append(ImportedLeg(where, text, sym, qty, mult or sym.multiplier, mark, trade))


def _spc(text: str) -> float | None:
    if not text:
        return None
    m = _SPC.match(text.strip())
    if not m:
        raise InputError(f"SPC: expected 1/<multiplier> such as 1/1000, got {describe(text)}")
    return float(m[1])


def _exp_month(text: str) -> tuple[int, int] | None:
    s = " ".join(text.upper().split())
    if not s:
        return None
    m = _MONTH_YEAR.match(s)
    if not m or m[1] not in MONTH_NAMES:
        raise InputError(f"Exp: expected a contract month like MAR 15, got {describe(text)}")
    return 2000 + int(m[2]), MONTH_NAMES.index(m[1]) + 1


def _exp_date(text: str) -> dt.date | None:
    s = " ".join(text.upper().split())
    if not s:
        return None
    m = _DAY_MONTH_YEAR.match(s)
    if not m or m[2] not in MONTH_NAMES:
        raise InputError(f"Exp: expected a date like 17 MAR 26, got {describe(text)}")
    return dt.date(2000 + int(m[3]), MONTH_NAMES.index(m[2]) + 1, int(m[1]))


def _future_from_exp(group: str, exp: str, as_of: dt.date | None) -> Symbol:
    """A Position Statement future: its /ROOT group row plus the row's Exp (MAR 15)."""
    root = group.lstrip("/")
    try:
        sym = parse_symbol(group, kind="future", as_of=as_of)     # /VXH15, or a bare /VX
    except InputError:
        return future_root(root)                 # e.g. /6J: outside the universe either way
    if sym.contract_month is not None or not sym.in_universe:
        return sym
    month = _exp_month(exp)
    if month is None:
        raise InputError(f"{group}: the row has no Exp (contract month)")
    year, m = month
    return parse_symbol(f"{root}{MONTH_CODES[m - 1]}{year % 100:02d}", kind="future")
