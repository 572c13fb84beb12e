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
from .tables import Problem, RawTable, map_cells, read_table, texts, to_dates, to_numbers

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


def parse_positions(source: Any, *, name: str = "positions", first_row: int = 1,
                    default_qty: float | None = None,
                    default_layer: str | None = None) -> Positions:
    """Parse and validate a positions table (2-D values, DataFrame, CSV or xlsx path).

    ``default_qty``/``default_layer`` fill blank (or absent) Qty/Layer cells instead of
    rejecting the row: hedge candidates use the positions schema with Qty ignored.
    """
    required = tuple(c for c in REQUIRED if not (
        (c == "qty" and default_qty is not None) or (c == "layer" and default_layer)))
    raw = read_table(source, name, POSITION_COLUMNS, required, first_row)
    return _validate(raw, name, default_qty, default_layer)


def parse_candidates(source: Any, *, first_row: int = 1) -> Positions:
    """Hedge candidates (ALVH_HEDGES): the positions schema, Qty ignored (blank allowed),
    Layer optional (blank → 'Hedge')."""
    return parse_positions(source, name="candidates", first_row=first_row, default_qty=1.0,
                           default_layer="Hedge")


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


def _member(values: np.ndarray, allowed: tuple[str, ...]) -> np.ndarray:
    return map_cells(values, lambda s: s in allowed, False, bool)


def _upper(values: np.ndarray) -> np.ndarray:
    return map_cells(values, lambda s: s.upper(), "")


def _validate(raw: RawTable, table: str, default_qty: float | None = None,
              default_layer: str | None = None) -> Positions:
    chk = _Checker(raw, table)
    cell = raw.get

    layer = texts(cell("layer"))
    if default_layer:
        layer = np.where(layer == "", default_layer, layer)
    chk.flag(layer == "", "layer", "Layer is blank; every leg belongs to a layer")

    instr_text = texts(cell("instrument"))
    instr = _upper(instr_text)
    known = _member(instr, INSTRUMENTS)
    chk.flag(~known, "instrument", lambda i: (
        f"unknown instrument {describe(instr_text[i])}; expected one of "
        f"{', '.join(INSTRUMENTS)}" if instr_text[i] else "Instrument is blank"))
    is_opt = _member(instr, OPTION_INSTRUMENTS)
    is_fut = _member(instr, ("VX", "VXM"))
    is_etp = instr == "ETP"

    for key, label, who, needs in (("type", "Type", "an option", is_opt),
                                   ("strike", "Strike", "an option", is_opt),
                                   ("expiry", "Expiry", "an option or future",
                                    is_opt | is_fut)):
        if key not in raw.columns:
            chk.flag(needs, key, f"the table has no {label} column; {who} needs one")

    type_text = texts(cell("type"))
    cp = map_cells(type_text, lambda s: _CP.get(s.upper(), np.nan), np.nan, float)
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
    if default_qty is not None:
        qty = np.where(np.isnan(qty) & ~qty_bad, default_qty, qty)
    chk.flag(qty_bad, "qty", lambda i: _not_number(cell("qty")[i]))
    chk.flag(np.isnan(qty), "qty", "Qty is blank")

    mult, mult_bad = to_numbers(cell("multiplier"))
    chk.flag(mult_bad, "multiplier", lambda i: _not_number(cell("multiplier")[i]))
    chk.flag(mult <= 0, "multiplier", lambda i: f"Multiplier must be positive, got {mult[i]:g}")
    default_mult = map_cells(instr, lambda s: DEFAULT_MULTIPLIER.get(s, np.nan), np.nan, float)
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
    ticker = np.where(is_etp, _upper(under_text), "").astype(object)
    chk.flag(is_etp & (ticker == ""), "underlying", (
        f"an ETP row needs its ticker in Underlying ({', '.join(ETP_LEVERAGE)})"))
    chk.flag(is_etp & (ticker != "") & ~_member(ticker, tuple(ETP_LEVERAGE)), "underlying",
             lambda i: (f"unknown ETP ticker {describe(under_text[i])}; supported: "
                        f"{', '.join(ETP_LEVERAGE)}"))
    vix_under = (instr == "VIX") & (under_text != "")
    under_exp, under_bad = to_dates(np.where(vix_under, under_cells, None))
    chk.flag(vix_under & (under_bad | np.isnat(under_exp)), "underlying", lambda i: (
        f"a VIX option's Underlying is the VIX future's expiry date, got "
        f"{describe(under_cells[i])}"))

    lev, lev_bad = to_numbers(cell("leverage"))
    chk.flag(is_etp & lev_bad, "leverage", lambda i: _not_number(cell("leverage")[i]))
    default_lev = map_cells(ticker, lambda t: ETP_LEVERAGE.get(t, np.nan), np.nan, float)
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
