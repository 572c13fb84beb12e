"""The positions table (SPEC §3): one row per leg, validated column by column.

Every unusable row becomes a ``Problem`` (row, column, reason) and is left out; the usable
rows are returned as a DataFrame with canonical lower-case columns:

row, layer, strategy, instrument, cp (+1 call, −1 put, 0 none), strike, expiry
(datetime64[D], NaT for ETPs), qty, multiplier, iv (NaN → solve from price), price,
entry_price, underlying (future expiry for VIX options, NaT otherwise), ticker (ETPs),
leverage, beta (NaN → weighting formula).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import (
    DEFAULT_MULTIPLIER,
    ETP_LEVERAGE,
    INSTRUMENTS,
    MAX_IV,
    OPTION_INSTRUMENTS,
)
from ..errors import describe
from .tables import Problem, RawTable, read_table, texts, to_date, to_dates, to_numbers

POSITION_COLUMNS = {
    "layer": "layer", "sleeve": "layer",
    "strategy": "strategy", "group": "strategy",
    "instrument": "instrument",
    "type": "type", "cp": "type", "callput": "type", "putcall": "type",
    "strike": "strike",
    "expiry": "expiry", "expiration": "expiry",
    "qty": "qty", "quantity": "qty",
    "multiplier": "multiplier", "mult": "multiplier",
    "iv": "iv", "impliedvol": "iv",
    "price": "price", "mid": "price",
    "entryprice": "entry_price",
    "underlying": "underlying",
    "leverage": "leverage",
    "beta": "beta",
}
REQUIRED = ("layer", "instrument", "qty")
_CP = {"C": 1.0, "CALL": 1.0, "P": -1.0, "PUT": -1.0}
HEADERS = ("Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier",
           "IV", "Price", "EntryPrice", "Underlying", "Leverage", "Beta")
_DISPLAY = {"layer": "Layer", "strategy": "Strategy", "instrument": "Instrument", "type": "Type",
            "strike": "Strike", "expiry": "Expiry", "qty": "Qty", "multiplier": "Multiplier",
            "iv": "IV", "price": "Price", "entry_price": "EntryPrice",
            "underlying": "Underlying", "leverage": "Leverage", "beta": "Beta"}


@dataclass
class Positions:
    """Usable legs plus the problems found (rows left out, and notes on rows kept)."""

    legs: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def left_out(self) -> list[Problem]:
        return [p for p in self.problems if p.left_out]


def parse_positions(source: Any, *, name: str = "positions", first_row: int = 1) -> Positions:
    """Parse and validate a positions table (2-D values, DataFrame or CSV path)."""
    raw = read_table(source, name, POSITION_COLUMNS, REQUIRED, first_row)
    return _validate(raw, name)


class _Checker:
    """Collects the first problem of each row; later checks skip rows already bad."""

    def __init__(self, raw: RawTable, table: str):
        self.raw, self.table = raw, table
        self.bad = np.zeros(len(raw), dtype=bool)
        self.problems: list[Problem] = []

    def flag(self, mask: np.ndarray, column: str, reason, *, left_out: bool = True) -> None:
        for i in np.flatnonzero(mask & ~self.bad if left_out else mask):
            text = reason(i) if callable(reason) else reason
            self.problems.append(Problem(int(self.raw.rows[i]), _DISPLAY.get(column, column),
                                         text, left_out, self.table))
        if left_out:
            self.bad |= mask


def _validate(raw: RawTable, table: str) -> Positions:
    n = len(raw)
    chk = _Checker(raw, table)
    cell = raw.get

    layer = texts(cell("layer"))
    chk.flag(layer == "", "layer", "Layer is blank; every leg belongs to a layer")

    instr_text = texts(cell("instrument"))
    instr = np.array([s.upper() for s in instr_text], dtype=object)
    known = np.isin(instr, INSTRUMENTS)
    chk.flag(~known, "instrument", lambda i: (
        f"unknown instrument {describe(instr_text[i])}; expected one of "
        f"{', '.join(INSTRUMENTS)}" if instr_text[i] else "Instrument is blank"))
    is_opt = np.isin(instr, OPTION_INSTRUMENTS)
    is_fut = np.isin(instr, ("VX", "VXM"))
    is_etp = instr == "ETP"

    type_text = texts(cell("type"))
    cp = np.array([_CP.get(s.upper(), np.nan) for s in type_text])
    chk.flag(is_opt & np.isnan(cp), "type", lambda i: (
        f"expected C or P (Call/Put), got {describe(type_text[i])}" if type_text[i]
        else "Type is blank; an option needs C or P"))
    cp = np.where(is_opt, np.nan_to_num(cp), 0.0)

    strike, strike_bad = to_numbers(cell("strike"))
    chk.flag(is_opt & strike_bad, "strike", lambda i: _not_number(cell("strike")[i]))
    chk.flag(is_opt & np.isnan(strike), "strike", "Strike is blank; an option needs a strike")
    chk.flag(is_opt & (strike <= 0), "strike", lambda i: f"Strike must be positive, got "
                                                          f"{strike[i]:g}")

    expiry, exp_bad = to_dates(cell("expiry"))
    needs_expiry = is_opt | is_fut
    chk.flag(needs_expiry & exp_bad, "expiry", lambda i: (
        f"expected a date (Excel date, serial number or YYYY-MM-DD), got "
        f"{describe(cell('expiry')[i])}"))
    chk.flag(needs_expiry & np.isnat(expiry), "expiry", "Expiry is blank")
    expiry = np.where(is_etp, np.datetime64("NaT"), expiry)

    qty, qty_bad = to_numbers(cell("qty"))
    chk.flag(qty_bad, "qty", lambda i: _not_number(cell("qty")[i]))
    chk.flag(np.isnan(qty), "qty", "Qty is blank")

    mult, mult_bad = to_numbers(cell("multiplier"))
    chk.flag(mult_bad, "multiplier", lambda i: _not_number(cell("multiplier")[i]))
    chk.flag(mult <= 0, "multiplier", lambda i: f"Multiplier must be positive, got {mult[i]:g}")
    default_mult = np.array([DEFAULT_MULTIPLIER.get(s, np.nan) for s in instr])
    mult = np.where(np.isnan(mult), default_mult, mult)

    iv, iv_bad = to_numbers(cell("iv"))
    chk.flag(is_opt & iv_bad, "iv", lambda i: _not_number(cell("iv")[i]))
    chk.flag(is_opt & (iv > MAX_IV), "iv", lambda i: (
        f"IV {iv[i]:g} is above {MAX_IV:g} (500 %); enter implied vol as a decimal, "
        f"e.g. {iv[i] / 100:g} for {iv[i]:g} %"))
    chk.flag(is_opt & (iv <= 0), "iv", lambda i: f"IV must be positive, got {iv[i]:g}")

    price, price_bad = to_numbers(cell("price"))
    chk.flag(price_bad, "price", lambda i: _not_number(cell("price")[i]))
    chk.flag(price < 0, "price", lambda i: f"Price must not be negative, got {price[i]:g}")
    chk.flag(is_opt & np.isnan(iv) & np.isnan(price), "iv",
             "IV and Price are both blank; give IV or a Price to solve it from")
    chk.flag(is_etp & np.isnan(price), "price", "an ETP row needs its Price")
    chk.flag(is_etp & (price == 0), "price", "an ETP's Price must be positive")

    entry, entry_bad = to_numbers(cell("entry_price"))
    chk.flag(entry_bad, "entry_price", lambda i: _not_number(cell("entry_price")[i]))

    under_cells = cell("underlying")
    under_text = texts(under_cells)
    ticker = np.where(is_etp, np.char.upper(under_text.astype(str)), "").astype(object)
    chk.flag(is_etp & (ticker == ""), "underlying", (
        f"an ETP row needs its ticker in Underlying ({', '.join(ETP_LEVERAGE)})"))
    chk.flag(is_etp & (ticker != "") & ~np.isin(ticker, list(ETP_LEVERAGE)), "underlying",
             lambda i: (f"unknown ETP ticker {describe(under_text[i])}; supported: "
                        f"{', '.join(ETP_LEVERAGE)}"))
    under_exp = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    for i in np.flatnonzero((instr == "VIX") & (under_text != "")):
        d = to_date(under_cells[i])
        if d is None:
            chk.flag(np.arange(n) == i, "underlying", (
                f"a VIX option's Underlying is the VIX future's expiry date, got "
                f"{describe(under_cells[i])}"))
        else:
            under_exp[i] = d

    lev, lev_bad = to_numbers(cell("leverage"))
    chk.flag(is_etp & lev_bad, "leverage", lambda i: _not_number(cell("leverage")[i]))
    default_lev = np.array([ETP_LEVERAGE.get(t, np.nan) for t in ticker])
    lev = np.where(is_etp, np.where(np.isnan(lev), default_lev, lev), np.nan)

    beta, beta_bad = to_numbers(cell("beta"))
    chk.flag(beta_bad, "beta", lambda i: _not_number(cell("beta")[i]))
    chk.flag(beta < 0, "beta", lambda i: f"Beta must not be negative, got {beta[i]:g}")

    good = ~chk.bad
    legs = pd.DataFrame({
        "row": raw.rows[good],
        "layer": layer[good],
        "strategy": texts(cell("strategy"))[good],
        "instrument": instr[good],
        "cp": cp[good],
        "strike": np.where(is_opt, strike, np.nan)[good],
        "expiry": expiry[good],
        "qty": qty[good],
        "multiplier": mult[good],
        "iv": np.where(is_opt, iv, np.nan)[good],
        "price": price[good],
        "entry_price": entry[good],
        "underlying": under_exp[good],
        "ticker": ticker[good],
        "leverage": lev[good],
        "beta": beta[good],
    })
    chk.problems.sort(key=lambda p: (p.row or 0))
    return Positions(legs.reset_index(drop=True), chk.problems)


def _not_number(v: Any) -> str:
    return f"expected a number, got {describe(v)}"
