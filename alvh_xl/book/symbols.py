"""One parser for the instrument symbols brokers and exchanges print.

Accepted forms (``parse_symbol``):

* OCC/OSI option symbols, padded or not: ``SPXW  231215P04300000``, ``SPXW231215P04300000``
  (root, YYMMDD, C/P, strike × 1000 on 8 digits);
* thinkorswim option codes: ``.SPXW231215P4300``, ``UVXY170915P27`` (strike as printed);
* futures: ``/VXZ4``, ``VXZ24``, ``VXZ4``, ``/ESZ4``, ``MESU4``, CFE's ``VX/V6`` and weekly
  ``VX40/V6`` (week 40, October 2026), IBKR's weekly ``VX40V6``; a bare root (``VX``, ``ES``)
  only with ``kind="future"``, its expiry then comes from the broker's own column;
* tastytrade futures options: ``./MESU4 MESU4 240920P5050`` (the space optional);
* a bare ticker with ``kind="stock"`` (``VXX`` → ETP shares).

``parse_tos_description`` reads thinkorswim's leg text ``100 MAR 15 115 CALL`` or
``100 (Weeklys) 27 FEB 15 115 CALL`` with the underlying taken from the group row above it.

One-digit futures years (``Z4``) are read in the ten-year window starting the year before
``as_of`` (default today): on 2026-10-05 ``K7`` is May 2027 and ``Z5`` December 2025.

Each parse returns a frozen ``Symbol``; ``instrument`` is the ALVH instrument code (SPEC §3)
or ``""`` for anything outside the ALVH universe (other underlyings, options on futures).
Unusable text raises an ``InputError`` naming the symbol and the forms expected. The
``format_*`` functions write a ``Symbol`` back in each notation (``parse`` ∘ ``format`` is
the identity, property-tested).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from ..conventions import ETP_LEVERAGE
from ..errors import InputError, describe
from .calendar import (
    quarterly_future_expiry,
    spx_monthly_expiry,
    vx_expiry,
    vx_weekly_expiry,
)

MONTH_CODES = "FGHJKMNQUVXZ"                       # January … December
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
               "DEC")
ETP_TICKERS: tuple[str, ...] = tuple(ETP_LEVERAGE)
# option root → ALVH instrument
OPTION_ROOTS = {"SPX": "SPX", "SPXW": "SPXW", "XSP": "XSP", "VIX": "VIX", "VIXW": "VIX",
                **{t: "ETP" for t in ETP_TICKERS}}
FUTURE_ROOTS = {"VX": "VX", "VXM": "VXM", "ES": "ES", "MES": "MES"}
# default contract multipliers (SPEC §3); ETP shares 1, options on ETPs 100
DEFAULT_MULTIPLIER = {"SPX": 100.0, "SPXW": 100.0, "XSP": 100.0, "VIX": 100.0, "VX": 1000.0,
                      "VXM": 100.0, "ES": 50.0, "MES": 5.0}
ETP_SHARE_MULTIPLIER, OPTION_MULTIPLIER = 1.0, 100.0
FUTURE_OPTION_MULTIPLIER = {"ES": 50.0, "MES": 5.0}   # dollars per index point
WEEKLY_TAGS = ("WEEKLYS", "QUARTERLYS", "EOM")
KINDS = ("option", "future", "future_option", "stock")

_OCC = re.compile(r"^(?P<root>[A-Z0-9]{1,6}?)\s*(?P<date>\d{6})(?P<cp>[CP])(?P<strike>\d{8})$")
_TOS = re.compile(r"^(?:\.(?P<droot>[A-Z0-9]+?)|(?P<root>[A-Z]+))(?P<date>\d{6})(?P<cp>[CP])"
                  r"(?P<strike>\d+(?:\.\d+)?)$")
_FUT = re.compile(r"^/?(?P<root>[A-Z][A-Z0-9]{0,3}?)(?P<week>\d{2})?/?(?P<m>[FGHJKMNQUVXZ])"
                  r"(?P<y>\d{1,2})$")
_FUT_OPT = re.compile(r"^\./?(?P<fut>[A-Z][A-Z0-9]*?[FGHJKMNQUVXZ]\d{1,2})\s*(?P<code>[A-Z0-9]+)"
                      r"\s+(?P<date>\d{6})(?P<cp>[CP])(?P<strike>\d+(?:\.\d+)?)$")
_TICKER = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")
_DESC = re.compile(r"^(?P<mult>\d+(?:\.\d+)?)\s+(?:\((?P<tag>[^)]*)\)\s+)?(?:(?P<day>\d{1,2})\s+)?"
                   r"(?P<mon>[A-Z]{3})\s+(?P<yy>\d{2})\s+(?P<strike>\d*\.?\d+)\s+"
                   r"(?P<cp>CALL|PUT)$")
_EXPECTED = ("an OCC option symbol ('SPXW  231215P04300000'), a thinkorswim code "
             "('.SPXW231215P4300'), a future ('/VXZ4', 'VXZ24', 'VX40/V6') or a tastytrade "
             "futures option ('./MESU4 MESU4 240920P5050')")


@dataclass(frozen=True)
class Symbol:
    """A parsed instrument symbol.

    ``kind``: option, future, future_option or stock. ``root``: the traded root (SPXW, VIXW,
    VX, MES, a ticker). ``underlying``: the ETP ticker for ETPs and their options, the future
    (``MESU4``) for futures options, else the root's index. ``instrument``: ALVH code or "".
    ``cp``: "C", "P" or "". ``strike`` in index points / dollars; ``expiry`` the expiry or
    last trading day (None when the text does not say); ``contract_month`` (year, month) of a
    future; ``multiplier``: the contract's default multiplier (None when unknown); ``week``:
    the CFE weekly label number; ``is_weekly``: a series other than the standard monthly.
    """

    kind: str
    root: str
    underlying: str
    instrument: str
    cp: str = ""
    strike: float | None = None
    expiry: dt.date | None = None
    contract_month: tuple[int, int] | None = None
    multiplier: float | None = None
    week: int | None = None
    is_weekly: bool = False

    @property
    def in_universe(self) -> bool:
        return bool(self.instrument)


# ----------------------------------------------------------------------------- parsing

def parse_symbol(text: str, *, kind: str | None = None, as_of: dt.date | None = None) -> Symbol:
    """Parse any supported symbol (module docstring). ``kind`` ("future", "stock") tells how
    to read a bare root or ticker; ``as_of`` anchors one-digit futures years."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    raw = text if isinstance(text, str) else ""
    s = " ".join(raw.upper().split())
    if not s:
        raise InputError(f"symbol {describe(text)} is blank; expected {_EXPECTED}")
    if s.startswith("./"):
        return _parse_future_option(s, raw)
    m = _OCC.match(s)
    if m:
        return _option(m["root"], _yymmdd(m["date"], raw), m["cp"], int(m["strike"]) / 1000.0)
    m = _TOS.match(s)
    if m:
        root = m["droot"] or m["root"]
        return _option(root, _yymmdd(m["date"], raw), m["cp"], float(m["strike"]))
    if kind == "stock" and _TICKER.match(s):
        return stock(s)
    m = _FUT.match(s)
    if m and (m["week"] is None or m["root"] in ("VX",)):
        return _future(m["root"], m["m"], m["y"], m["week"], raw, as_of)
    bare = s.lstrip("/")
    if kind == "future" and re.fullmatch(r"[A-Z][A-Z0-9]{0,3}", bare):
        return future_root(bare)
    if kind is None and _TICKER.match(s):
        raise InputError(f"symbol {describe(raw)} is a bare ticker or root; say whether it is "
                         f"a stock or a future (the broker's asset class), or use {_EXPECTED}")
    raise InputError(f"symbol {describe(raw)} is not {_EXPECTED}")


def stock(ticker: str) -> Symbol:
    """Shares of ``ticker``: ETP shares (instrument ETP, multiplier 1) or outside the universe."""
    t = ticker.upper()
    etp = t in ETP_TICKERS
    return Symbol("stock", t, t, "ETP" if etp else "", multiplier=ETP_SHARE_MULTIPLIER)


def future_root(root: str) -> Symbol:
    """A future known only by its root (expiry from elsewhere)."""
    r = root.upper().lstrip("/")
    return Symbol("future", r, _future_underlying(r), FUTURE_ROOTS.get(r, ""),
                  multiplier=DEFAULT_MULTIPLIER.get(FUTURE_ROOTS.get(r, "")))


def parse_tos_description(text: str, underlying: str, *, kind: str = "option") -> Symbol:
    """thinkorswim leg text under its group row: ``100 MAR 15 115 CALL`` (standard monthly:
    third Friday, VIX: the VX expiry of the month) or ``100 (Weeklys) 27 FEB 15 115 CALL``;
    an untagged leg whose printed day is not the standard monthly's is that day's weekly.

    ``underlying`` is the group row's symbol (``SPX``, ``VIX``, ``VXX``; ``$SPX.X`` is read
    as ``SPX``). Weekly-type series (Weeklys, Quarterlys, EOM) of SPX and VIX are the SPXW
    and VIXW roots. The leading number is the contract multiplier.
    """
    s = " ".join(str(text).upper().split())
    group = _group_symbol(underlying)
    m = _DESC.match(s)
    if not m:
        raise InputError(f"thinkorswim leg {describe(text)} is not like '100 MAR 15 115 CALL' "
                         f"or '100 (Weeklys) 27 FEB 15 115 CALL'")
    tag = (m["tag"] or "").strip().upper()
    if tag and tag not in WEEKLY_TAGS:
        raise InputError(f"thinkorswim leg {describe(text)}: series ({m['tag']}) is not one of "
                         f"(Weeklys), (Quarterlys), (EOM)")
    if m["mon"] not in MONTH_NAMES:
        raise InputError(f"thinkorswim leg {describe(text)}: {m['mon']} is not a month")
    year, month = 2000 + int(m["yy"]), MONTH_NAMES.index(m["mon"]) + 1
    if tag and not m["day"]:
        raise InputError(f"thinkorswim leg {describe(text)}: a ({m['tag']}) series needs the "
                         f"day of expiry ('27 FEB 15')")
    root = group
    standard = (vx_expiry if group == "VIX" else spx_monthly_expiry)(year, month)
    if tag or (m["day"] and int(m["day"]) != standard.day):
        # a tagged series, or a printed day that is not the standard monthly's (thinkorswim
        # leaves holiday-shifted weeklies untagged, e.g. SPY '100 18 JAN 22 477 PUT'): the
        # day printed is the expiry, of the weekly-type root (SPXW, VIXW; PM for SPXW)
        root = {"SPX": "SPXW", "VIX": "VIXW"}.get(group, group)
        expiry = _date(year, month, int(m["day"]), text)
    else:
        expiry = standard
    sym = _option(root, expiry, m["cp"][0], float(m["strike"]))
    return _replace(sym, multiplier=float(m["mult"]))


def _group_symbol(text: str) -> str:
    g = str(text).strip().upper()
    if g.startswith("$") and g.endswith(".X"):
        g = g[1:-2]
    if not _TICKER.match(g):
        raise InputError(f"thinkorswim group row {describe(text)} is not an underlying symbol")
    return g


def _option(root: str, expiry: dt.date, cp: str, strike: float) -> Symbol:
    instrument = OPTION_ROOTS.get(root, "")
    underlying = root if instrument == "ETP" else {"SPXW": "SPX", "VIXW": "VIX"}.get(root, root)
    mult = DEFAULT_MULTIPLIER.get(instrument, OPTION_MULTIPLIER)
    standard = (vx_expiry if underlying == "VIX" else spx_monthly_expiry)(expiry.year,
                                                                           expiry.month)
    return Symbol("option", root, underlying, instrument, cp, strike, expiry, None, mult, None,
                  expiry != standard)


def _future(root: str, code: str, year_text: str, week: str | None, raw: str,
            as_of: dt.date | None) -> Symbol:
    month = MONTH_CODES.index(code) + 1
    year = _year(year_text, as_of)
    base = future_root(root)
    if week is not None:
        expiry = vx_weekly_expiry(year, int(week))
        if expiry.month != month:
            raise InputError(f"future {describe(raw)}: week {week} of {year} falls in "
                             f"{MONTH_NAMES[expiry.month - 1]}, not in month {code}")
        return _replace(base, expiry=expiry, contract_month=(year, month), week=int(week),
                        is_weekly=True)
    expiry = None
    if base.instrument in ("VX", "VXM"):
        expiry = vx_expiry(year, month)
    elif base.instrument in ("ES", "MES"):
        if month % 3:
            raise InputError(f"future {describe(raw)}: {root} trades only the quarterly months "
                             f"H, M, U, Z, not {code}")
        expiry = quarterly_future_expiry(year, month)
    return _replace(base, expiry=expiry, contract_month=(year, month))


def _parse_future_option(s: str, raw: str) -> Symbol:
    m = _FUT_OPT.match(s)
    if not m:
        raise InputError(f"futures option {describe(raw)} is not like "
                         f"'./MESU4 MESU4 240920P5050'")
    fut = _FUT.match(m["fut"])
    if fut is None:
        raise InputError(f"futures option {describe(raw)}: {m['fut']} is not a future")
    expiry = _yymmdd(m["date"], raw)
    year = _year(fut["y"], None, start=expiry.year)   # the future expires on/after its option
    root = fut["root"]
    return Symbol("future_option", m["code"], f"{root}{fut['m']}{fut['y']}", "", m["cp"],
                  float(m["strike"]), expiry,
                  (year, MONTH_CODES.index(fut["m"]) + 1), FUTURE_OPTION_MULTIPLIER.get(root),
                  None, m["code"] != m["fut"])


def _future_underlying(root: str) -> str:
    return {"VX": "VIX", "VXM": "VIX", "ES": "SPX", "MES": "SPX"}.get(root, root)


def _year(text: str, as_of: dt.date | None, start: int | None = None) -> int:
    """Year of a futures code: two digits → 20YY; one digit → the year ending in it within
    the ten years from ``start`` (default: the year before ``as_of``, itself default today)."""
    if len(text) == 2:
        return 2000 + int(text)
    if start is None:
        start = (as_of or dt.date.today()).year - 1
    return start + (int(text) - start) % 10


def _yymmdd(text: str, raw: str) -> dt.date:
    return _date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]), raw)


def _date(year: int, month: int, day: int, raw: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InputError(f"symbol {describe(raw)}: {year:04d}-{month:02d}-{day:02d} is not a "
                         f"date") from None


def _replace(sym: Symbol, **changes) -> Symbol:
    return replace(sym, **changes)


# ----------------------------------------------------------------------------- formatting

def _strike_text(strike: float) -> str:
    return f"{strike:.3f}".rstrip("0").rstrip(".")


def format_occ(sym: Symbol, *, padded: bool = True) -> str:
    """OCC/OSI symbol: root padded to 6 characters (or not), YYMMDD, C/P, strike × 1000."""
    _need(sym, "option", "an OCC symbol")
    milli = round(sym.strike * 1000)
    if not 0 <= milli < 10**8 or len(sym.root) > 6:
        raise InputError(f"{sym.root} {sym.strike}: does not fit an OCC symbol")
    root = sym.root.ljust(6) if padded else sym.root
    return f"{root}{sym.expiry:%y%m%d}{sym.cp}{milli:08d}"


def format_tos_code(sym: Symbol) -> str:
    """thinkorswim option code ``.SPXW231215P4300``."""
    _need(sym, "option", "a thinkorswim code")
    return f".{sym.root}{sym.expiry:%y%m%d}{sym.cp}{_strike_text(sym.strike)}"


def format_tos_description(sym: Symbol) -> tuple[str, str]:
    """thinkorswim (group symbol, leg text): ('SPX', '100 (Weeklys) 15 DEC 23 4300 PUT')."""
    _need(sym, "option", "a thinkorswim leg")
    group = sym.underlying
    mult = _strike_text(sym.multiplier or OPTION_MULTIPLIER)
    mon = MONTH_NAMES[sym.expiry.month - 1]
    right = "CALL" if sym.cp == "C" else "PUT"
    weekly_root = sym.root in ("SPXW", "VIXW") or (sym.is_weekly and sym.root == group)
    if weekly_root:
        when = f"(Weeklys) {sym.expiry.day} {mon} {sym.expiry:%y}"
    elif sym.is_weekly:
        raise InputError(f"{sym.root} {sym.expiry}: a {sym.root} option off the standard monthly "
                         f"date has no thinkorswim leg text")
    else:
        when = f"{mon} {sym.expiry:%y}"
    return group, f"{mult} {when} {_strike_text(sym.strike)} {right}"


def format_future(sym: Symbol, style: str = "slash") -> str:
    """A future as ``/VXZ4`` (slash), ``VXZ24`` (two_digit), ``VXZ4`` (one_digit) or CFE's
    ``VX/Z4`` / ``VX40/V6`` (cfe)."""
    if sym.kind != "future" or sym.contract_month is None:
        raise InputError(f"{sym.root}: not a future with a contract month")
    year, month = sym.contract_month
    code = MONTH_CODES[month - 1]
    week = f"{sym.week:02d}" if sym.week is not None else ""
    if style == "cfe":
        return f"{sym.root}{week}/{code}{year % 10}"
    if week:
        raise InputError(f"{sym.root}{week}: a weekly future has only the CFE form")
    if style == "slash":
        return f"/{sym.root}{code}{year % 10}"
    if style == "two_digit":
        return f"{sym.root}{code}{year % 100:02d}"
    if style == "one_digit":
        return f"{sym.root}{code}{year % 10}"
    raise ValueError(f"style must be slash, two_digit, one_digit or cfe, got {style!r}")


def _need(sym: Symbol, kind: str, what: str) -> None:
    if sym.kind != kind or sym.expiry is None or sym.strike is None:
        raise InputError(f"{sym.root}: only an option with expiry and strike has {what}")
