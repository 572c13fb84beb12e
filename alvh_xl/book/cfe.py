"""The VIX futures curve (expiry → settlement price) of one day from Cboe CFE files.

Files, recognised by their header (samples in tests/data/cfe/):

* daily settlement CSV ``Product,Symbol,Expiration Date,Price``: one row per contract on one
  day. Symbols carry a one-digit year (``VX/V6`` = Oct 2026) and weeklies a week number
  (``VX40/V6``). The file does not print its trade date: it is taken from a ``YYYY-MM-DD`` in
  the file name when there is one. CFE's file is known to print the front month's price for
  weeklies, so a weekly whose price equals another contract's in the same file is not trusted:
  it is left out and listed unless the caller opts in (``trust_weeklies``).
* per-contract history CSV ``Trade Date,Futures,Open,High,Low,Close,Settle,…`` (one contract,
  one row per day). The expiry comes from the file name ``VX_YYYY-MM-DD.csv``, else from the
  last trade date (said in a note). Open/Close are 0 on days without trades: only ``Settle``
  is used. The row on the expiry date holds the final settlement (the Special Opening
  Quotation, 09:30 New York).
* the final-settlement archive ``Symbol,SettlementMonth,SettlementYear,…,SettlementPrice``:
  final settlements of delisted contracts only, never a curve for a day;
  :func:`read_final_settlements` reads it. VX contracts up to March 2007 were quoted on ten
  times the VIX (the index was rescaled in March 2007): ``vix_points`` divides them by 10.

A future is on the curve of date D when it settled on D and expires after D. Futures that
expired on or before D, or had no settlement on D, are left out and listed with the reason.
Prices in VIX points; expiries are dates (the futures settle at 09:30 New York).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError, MissingInputError
from .cells import CellError, parse_number

MONTH_CODES = "FGHJKMNQUVXZ"
_SYMBOL = re.compile(r"^([A-Z]+?)(\d{1,2})?/([FGHJKMNQUVXZ])(\d{1,2})$")
_NAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_HISTORY_NAME = re.compile(r"^VX_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE)
RESCALE_MONTH = (2007, 3)          # VX settlements up to this month are 10 × VIX
RESCALE_DAY = dt.date(2007, 3, 26)  # VX prices of trade dates before it are 10 × VIX
_PREAMBLE = 2                      # lines above the header that are skipped (a disclaimer)


@dataclass(frozen=True)
class LeftOut:
    """A contract not on the curve, and why."""

    contract: str
    expiry: dt.date | None
    source: str
    reason: str

    def __str__(self) -> str:
        when = f" (expiry {self.expiry.isoformat()})" if self.expiry else ""
        return f"{self.contract}{when} in {self.source}: {self.reason}"


@dataclass(frozen=True)
class CfeCurve:
    """Curve of one date: ``points`` (expiry, price, contract, source; sorted by expiry)."""

    date: dt.date
    points: pd.DataFrame
    left_out: list[LeftOut] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_cfe_curve(paths: Sequence[str | Path], date: dt.date, *,
                   trust_weeklies: bool = False) -> CfeCurve:
    """The VX curve on ``date`` from daily-settlement and per-contract history files."""
    points: list[dict] = []
    left: list[LeftOut] = []
    notes: list[str] = []
    for path in paths:
        path = Path(path)
        header, rows = _read_rows(path)
        kind = _kind(header, path)
        if kind == "settlement":
            _from_settlement(path, header, rows, date, trust_weeklies, points, left, notes)
        elif kind == "history":
            _from_history(path, header, rows, date, points, left, notes)
        else:
            raise InputError(f"{path.name} is the CFE final-settlement archive: it holds final "
                             "settlements of expired contracts, not a curve for a date")
    frame = pd.DataFrame(points, columns=["expiry", "price", "contract", "source"])
    frame = _merge_duplicates(frame, notes)
    return CfeCurve(date, frame.sort_values("expiry", ignore_index=True), left, notes)


def read_final_settlements(path: str | Path) -> pd.DataFrame:
    """The CFE final-settlement archive: symbol, year, month, product_type, price (as
    printed), vix_points (VX up to March 2007 divided by 10, others as printed), description."""
    path = Path(path)
    header, rows = _read_rows(path)
    if _kind(header, path) != "archive":
        raise InputError(f"{path.name}: not the CFE final-settlement archive (header "
                         f"{','.join(header)[:80]!r})")
    col = _column_index(header, path, ("symbol", "settlementmonth", "settlementyear",
                                       "producttype", "settlementprice", "productdescription"))
    out = []
    for line, row in rows:
        symbol = row[col["symbol"]]
        year = int(_number(row[col["settlementyear"]], path, line, "SettlementYear"))
        month = int(_number(row[col["settlementmonth"]], path, line, "SettlementMonth"))
        price = _number(row[col["settlementprice"]], path, line, "SettlementPrice")
        rescaled = symbol == "VX" and (year, month) <= RESCALE_MONTH
        out.append({"symbol": symbol, "year": year, "month": month,
                    "product_type": row[col["producttype"]], "price": price,
                    "vix_points": price / 10.0 if rescaled else price,
                    "description": row[col["productdescription"]].strip(), "line": line})
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- files

def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = [(reader.line_num, [c.strip() for c in r]) for r in reader]
    rows = [(n, r) for n, r in rows if any(r)]
    if not rows:
        raise MissingInputError(f"{path.name}: the file is empty")
    # Cboe's archive files start with a one-line disclaimer ("CFE data is compiled for the
    # convenience of site visitors …") above the header
    start = next((i for i, (_, r) in enumerate(rows[:_PREAMBLE + 1]) if _known(r)), 0)
    return rows[start][1], rows[start + 1:]


def _known(header: list[str]) -> bool:
    try:
        _kind(header, Path(""))
    except InputError:
        return False
    return True


def _key(text: str) -> str:
    return "".join(text.split()).lower()


def _kind(header: list[str], path: Path) -> str:
    keys = {_key(h) for h in header}
    if {"symbol", "expirationdate", "price"} <= keys:
        return "settlement"
    if {"tradedate", "settle"} <= keys:
        return "history"
    if {"settlementmonth", "settlementyear", "settlementprice"} <= keys:
        return "archive"
    raise InputError(f"{path.name}: not a CFE file this reader knows (expected a daily "
                     "settlement 'Product,Symbol,Expiration Date,Price', a contract history "
                     "'Trade Date,Futures,…,Settle,…' or the final-settlement archive); header "
                     f"{','.join(header)[:80]!r}")


def _column_index(header: list[str], path: Path, needed: tuple[str, ...]) -> dict[str, int]:
    index: dict[str, int] = {}
    for j, h in enumerate(header):
        if _key(h) in index:
            raise InputError(f"{path.name}: column {h!r} appears twice")
        index[_key(h)] = j
    missing = [n for n in needed if n not in index]
    if missing:
        raise MissingInputError(f"{path.name}: no column {', '.join(missing)}")
    return index


def _cell(row: list[str], j: int) -> str:
    return row[j] if j < len(row) else ""


def _number(text: str, path: Path, line: int, column: str) -> float:
    """One field by the one number reader (book.cells); an empty field is an error too."""
    try:
        value = parse_number(text)
    except CellError as exc:
        raise InputError(f"{path.name} line {line} ({column}): {exc}") from None
    if value is None:
        raise InputError(f"{path.name} line {line} ({column}): expected a number, got an empty "
                         "field")
    return value


def _date(text: str, path: Path, line: int, column: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InputError(f"{path.name} line {line} ({column}): expected a date YYYY-MM-DD, got "
                     f"{text!r}")


# ----------------------------------------------------------------------------- settlement

def _from_settlement(path: Path, header: list[str], rows, date: dt.date, trust_weeklies: bool,
                     points: list[dict], left: list[LeftOut], notes: list[str]) -> None:
    col = _column_index(header, path, ("symbol", "expirationdate", "price"))
    named = _NAME_DATE.search(path.name)
    if named:
        file_date = dt.date(*(int(g) for g in named.groups()))
        if file_date != date:
            raise InputError(f"{path.name} is the settlement of {file_date.isoformat()} (the date "
                             f"in its name), not of {date.isoformat()}")
    else:
        notes.append(f"{path.name}: the file does not say its trade date; taken as "
                     f"{date.isoformat()}")
    contracts = []
    for line, row in rows:
        product = _cell(row, col["product"]) if "product" in col else "VX"
        symbol = _cell(row, col["symbol"])
        if product != "VX":            # listed, not read: other products print '7,147.2500*'
            left.append(LeftOut(symbol, None, path.name,
                                f"product {product!r} is not the VX future"))
            continue
        expiry = _date(_cell(row, col["expirationdate"]), path, line, "Expiration Date")
        price = _settlement_price(_cell(row, col["price"]), symbol, path, line, notes)
        weekly = _check_symbol(symbol, expiry, path, line)
        contracts.append((symbol, expiry, price, weekly))
    prices: dict[float, list[str]] = {}
    for symbol, _, price, _ in contracts:
        if math.isfinite(price):
            prices.setdefault(price, []).append(symbol)
    for symbol, expiry, price, weekly in contracts:
        out = LeftOut(symbol, expiry, path.name, "")
        if expiry <= date:
            left.append(_reason(out, _expired(expiry, date, price)))
        elif not (price > 0):
            left.append(_reason(out, f"no settlement price on {date.isoformat()}"))
        elif weekly and len(prices[price]) > 1:
            same = ", ".join(s for s in prices[price] if s != symbol)
            text = (f"its price {price:g} equals {same}'s; CFE's file prints the front month's "
                    "price for weeklies")
            if trust_weeklies:
                notes.append(f"{symbol}: {text} — kept as asked (--trust-weeklies)")
                points.append(_point(expiry, price, symbol, path))
            else:
                left.append(_reason(out, f"{text}, so it is not trusted (--trust-weeklies "
                                         "keeps it)"))
        else:
            points.append(_point(expiry, price, symbol, path))


def _settlement_price(text: str, symbol: str, path: Path, line: int, notes: list[str]) -> float:
    """A VX row's Price (NaN if blank). Cboe's settlement page and its CSV mark some prices
    with a trailing '*' (e.g. ``21.9532*``): the number is used and a note shows the text."""
    if not text:
        return math.nan
    if text.endswith("*"):
        price = _number(text[:-1].rstrip(), path, line, "Price")
        notes.append(f"{symbol}: Price printed as {text!r} in {path.name} line {line} (Cboe's "
                     f"'*' marker); {price:g} is used")
        return price
    return _number(text, path, line, "Price")


def _check_symbol(symbol: str, expiry: dt.date, path: Path, line: int) -> bool:
    """True for a weekly; checks the month code and the year digit(s) against the expiry."""
    m = _SYMBOL.match(symbol.upper())
    if not m:
        raise InputError(f"{path.name} line {line} (Symbol): {symbol!r} is not like VX/V6 or "
                         "VX40/V6")
    _, week, month_code, year = m.groups()
    if (MONTH_CODES.index(month_code) + 1 != expiry.month
            or int(year) != expiry.year % (10 ** len(year))):
        raise InputError(f"{path.name} line {line}: symbol {symbol} (month {month_code}, year "
                         f"{year}) does not match its expiration date {expiry.isoformat()}")
    return week is not None


def _reason(out: LeftOut, reason: str) -> LeftOut:
    return LeftOut(out.contract, out.expiry, out.source, reason)


def _expired(expiry: dt.date, date: dt.date, price: float) -> str:
    if expiry == date:
        final = f" (final settlement {price:g})" if math.isfinite(price) else ""
        return f"expired that morning at the 09:30 final settlement{final}"
    return f"expired on {expiry.isoformat()}"


def _point(expiry: dt.date, price: float, contract: str, path: Path) -> dict:
    return {"expiry": expiry, "price": price, "contract": contract, "source": path.name}


# ----------------------------------------------------------------------------- history

def _from_history(path: Path, header: list[str], rows, date: dt.date, points: list[dict],
                  left: list[LeftOut], notes: list[str]) -> None:
    col = _column_index(header, path, ("tradedate", "settle"))
    days = [(_date(_cell(r, col["tradedate"]), path, n, "Trade Date"), n, r) for n, r in rows]
    if not days:
        raise MissingInputError(f"{path.name}: no rows under the header")
    seen: dict[dt.date, int] = {}
    for day, line, _ in days:
        if day in seen:
            raise InputError(f"{path.name}: trade date {day.isoformat()} appears twice (lines "
                             f"{seen[day]} and {line})")
        seen[day] = line
    named = _HISTORY_NAME.match(path.name)
    last_day = max(d for d, _, _ in days)
    if named:
        expiry = dt.date.fromisoformat(named.group(1))
        if last_day > expiry:
            raise InputError(f"{path.name}: trade date {last_day.isoformat()} is after the "
                             f"expiry {expiry.isoformat()} in the file name")
    else:
        expiry = last_day
        notes.append(f"{path.name}: expiry taken as the last trade date {expiry.isoformat()} "
                     "(the name is not VX_YYYY-MM-DD.csv)")
    label = _cell(days[0][2], col["futures"]) if "futures" in col else ""
    contract = f"VX {expiry.isoformat()}" + (f" ({label})" if label else "")
    row = next(((line, r) for d, line, r in days if d == date), None)
    settle = math.nan
    if row is not None and _cell(row[1], col["settle"]):
        settle = _number(_cell(row[1], col["settle"]), path, row[0], "Settle")
        if date < RESCALE_DAY:
            notes.append(f"{path.name}: Settle {settle:g} on {date.isoformat()} is quoted on ten "
                         f"times the VIX (before the rescale of {RESCALE_DAY.isoformat()}); "
                         f"divided by 10")
            settle /= 10.0
    out = LeftOut(contract, expiry, path.name, "")
    first_day = min(d for d, _, _ in days)
    if expiry <= date:
        left.append(_reason(out, _expired(expiry, date, settle)))
    elif row is None:
        where = (f"the file starts on {first_day.isoformat()}" if date < first_day else
                 f"the file ends on {last_day.isoformat()}" if date > last_day else
                 "no row for that date")
        left.append(_reason(out, f"no settlement on {date.isoformat()} ({where})"))
    elif not (settle > 0):
        left.append(_reason(out, f"no settlement on {date.isoformat()} (Settle is "
                                 f"{_cell(row[1], col['settle']) or 'blank'})"))
    else:
        points.append(_point(expiry, settle, contract, path))


def _merge_duplicates(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """One row per expiry: the same price from several files is kept once; different prices
    for one expiry are an error naming both files."""
    keep = []
    for expiry, group in frame.groupby("expiry", sort=True):
        prices = group["price"].unique()
        if len(prices) > 1:
            detail = "; ".join(f"{p:g} ({c}, {s})" for p, c, s in
                               zip(group["price"], group["contract"], group["source"],
                                   strict=True))
            raise InputError(f"two different prices for the VX future expiring "
                             f"{expiry.isoformat()}: {detail}")
        if len(group) > 1:
            notes.append(f"expiry {expiry.isoformat()}: same price {prices[0]:g} in "
                         f"{', '.join(group['source'])}; kept once")
        keep.append(group.index[0])
    return frame.loc[keep]
