"""The positions table (SPEC §3): one row per leg, validated column by column.

Every unusable row becomes a ``Problem`` (row, column, reason) and is left out; the usable
rows are returned as a DataFrame with canonical lower-case columns:

row, layer, strategy, instrument, cp (+1 call, −1 put, 0 none), strike, expiry
(datetime64[D], NaT for ETP shares), qty, multiplier, iv (NaN → solve from price), price,
entry_price, underlying (future expiry for VIX options, NaT otherwise), ticker (ETPs and
options on them), leverage, beta (NaN → weighting formula).

Instruments (SPEC §3): SPX/SPXW/XSP and VIX options need Type, Strike, Expiry and IV or Price;
an ``ETP`` row is shares (Type blank, Price required) or, with Type C/P, an American option on
the ETP (Strike, Expiry, IV or Price; the ETP's own price comes from the market table; default
multiplier 100); VX/VXM and ES/MES futures need an Expiry (ES/MES Price is optional: their
risk is SPX dollar delta).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import (
    DEFAULT_MULTIPLIER,
    ETP_LEVERAGE,
    ETP_OPTION_MULTIPLIER,
    INSTRUMENTS,
    MAX_BETA,
    MAX_IV,
    MAX_LEVERAGE,
    MAX_MULTIPLIER,
    MAX_PRICE,
    MAX_QTY,
    MAX_STRIKE,
    OPTION_INSTRUMENTS,
    SPX_FUTURES,
    VIX_FUTURES,
)
from ..errors import describe
from .cells import CellError, error_reason, error_value, errors_in, parse_cp, to_dates, to_numbers
from .tables import Problem, RawTable, map_cells, read_table, texts

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
HEADERS = ("Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier",
           "IV", "Price", "EntryPrice", "Underlying", "Leverage", "Beta")
TEXT_COLUMNS = ("layer", "strategy", "instrument", "type", "underlying")
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
                    default_layer: str | None = None,
                    require_price: bool = True) -> Positions:
    """Parse and validate a positions table (2-D values, DataFrame, CSV or xlsx path).

    ``default_qty``/``default_layer`` fill blank (or absent) Qty/Layer cells instead of
    rejecting the row: hedge candidates use the positions schema with Qty ignored.
    ``require_price=False`` keeps option rows whose IV and Price are both blank (marking
    from a chain fills them; valuing needs one of them).
    """
    required = tuple(c for c in REQUIRED if not (
        (c == "qty" and default_qty is not None) or (c == "layer" and default_layer)))
    raw = read_table(source, name, POSITION_COLUMNS, required, first_row)
    return _validate(raw, name, default_qty, default_layer, require_price)


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
        self.layers = np.full(len(raw), "", dtype=object)

    def flag(self, mask: np.ndarray, column: str, reason, *, left_out: bool = True) -> None:
        for i in np.flatnonzero(mask & ~self.bad if left_out else mask):
            text = reason(i) if callable(reason) else reason
            self.problems.append(Problem(int(self.raw.rows[i]), _DISPLAY.get(column, column),
                                         text, left_out, self.table, str(self.layers[i])))
        if left_out:
            self.bad |= mask

    def reasons(self, reasons: np.ndarray, column: str, where: np.ndarray | bool = True) -> None:
        """Flag the cells whose parse reason is not empty (restricted to ``where``)."""
        self.flag((reasons != "") & where, column, lambda i: reasons[i])

    def error_cells(self) -> None:
        """A cell holding an Excel error value (#N/A, #REF!, …) in a text column leaves its
        row out, named (numeric and date columns say so through their own parse)."""
        for key in TEXT_COLUMNS:
            cells = self.raw.columns.get(key)
            if cells is not None:
                err = map_cells(cells, lambda v: error_value(v) or "", "")
                bad = err != ""
                if bad.any():
                    self.flag(bad, key, lambda i, e=err: error_reason(e[i]))


def _member(values: np.ndarray, allowed: tuple[str, ...]) -> np.ndarray:
    return map_cells(values, lambda s: s in allowed, False, bool)


def _upper(values: np.ndarray) -> np.ndarray:
    return map_cells(values, lambda s: s.upper(), "")


def _cp(text: str) -> float:
    try:
        return parse_cp(text)
    except CellError:
        return np.nan


def _validate(raw: RawTable, table: str, default_qty: float | None = None,
              default_layer: str | None = None, require_price: bool = True) -> Positions:
    chk = _Checker(raw, table)
    cell = raw.get
    layer = texts(np.where(errors_in(cell("layer")), None, cell("layer")))
    if default_layer:
        layer = np.where(layer == "", default_layer, layer)
    chk.layers = layer
    chk.error_cells()
    chk.flag(layer == "", "layer", "Layer is blank; every leg belongs to a layer")

    instr_text = texts(cell("instrument"))
    instr = _upper(instr_text)
    known = _member(instr, INSTRUMENTS)
    chk.flag(~known, "instrument", lambda i: (
        f"unknown instrument {describe(instr_text[i])}; expected one of "
        f"{', '.join(INSTRUMENTS)}" if instr_text[i] else "Instrument is blank"))
    is_etp = instr == "ETP"
    type_text = texts(cell("type"))
    etp_option = is_etp & (type_text != "")        # C/P on an ETP row: an option on the ETP
    is_opt = _member(instr, OPTION_INSTRUMENTS) | etp_option
    is_fut = _member(instr, VIX_FUTURES + SPX_FUTURES)
    is_shares = is_etp & ~etp_option

    for key, label, who, needs in (("type", "Type", "an option", is_opt),
                                   ("strike", "Strike", "an option", is_opt),
                                   ("expiry", "Expiry", "an option or future",
                                    is_opt | is_fut)):
        if key not in raw.columns:
            chk.flag(needs, key, f"the table has no {label} column; {who} needs one")

    cp = map_cells(type_text, _cp, np.nan, float)
    chk.flag(is_opt & np.isnan(cp), "type", lambda i: (
        f"expected C or P (Call/Put{'; blank for ETP shares' if is_etp[i] else ''}), got "
        f"{describe(type_text[i])}" if type_text[i]
        else "Type is blank; an option needs C or P"))
    cp = np.where(is_opt, np.nan_to_num(cp), 0.0)

    strike, why = to_numbers(cell("strike"))
    chk.reasons(why, "strike", is_opt)
    chk.flag(is_opt & np.isnan(strike), "strike", "Strike is blank; an option needs a strike")
    chk.flag(is_opt & ((strike <= 0) | (strike > MAX_STRIKE)), "strike", lambda i: (
        f"Strike must be positive, got {strike[i]:g}" if strike[i] <= 0 else
        f"Strike {strike[i]:g} is not a sane strike (at most {MAX_STRIKE:g})"))

    needs_expiry = is_opt | is_fut
    expiry, why = to_dates(cell("expiry"))
    chk.reasons(why, "expiry", needs_expiry)
    chk.flag(needs_expiry & np.isnat(expiry), "expiry", "Expiry is blank")
    expiry = np.where(is_shares, np.datetime64("NaT"), expiry)

    qty, why = to_numbers(cell("qty"))
    if default_qty is not None:
        qty = np.where(np.isnan(qty) & (why == ""), default_qty, qty)
    chk.reasons(why, "qty")
    chk.flag(np.isnan(qty), "qty", "Qty is blank")
    chk.flag(np.abs(qty) > MAX_QTY, "qty", lambda i: (
        f"Qty {qty[i]:g} is not a sane position size (at most {MAX_QTY:g} contracts)"))

    mult, why = to_numbers(cell("multiplier"))
    chk.reasons(why, "multiplier")
    chk.flag((mult <= 0) | (mult > MAX_MULTIPLIER), "multiplier", lambda i: (
        f"Multiplier must be positive, got {mult[i]:g}" if mult[i] <= 0 else
        f"Multiplier {mult[i]:g} is not a sane contract size (at most {MAX_MULTIPLIER:g})"))
    default_mult = map_cells(instr, lambda s: DEFAULT_MULTIPLIER.get(s, np.nan), np.nan, float)
    default_mult = np.where(etp_option, ETP_OPTION_MULTIPLIER, default_mult)
    mult = np.where(np.isnan(mult), default_mult, mult)

    iv, why = to_numbers(cell("iv"), percent=True)
    chk.reasons(why, "iv", is_opt)
    chk.flag(is_opt & (iv > MAX_IV), "iv", lambda i: (
        f"IV {iv[i]:g} is above {MAX_IV:g} (500 %); enter implied vol as a decimal, "
        f"e.g. {iv[i] / 100:g} for {iv[i]:g} %"))
    chk.flag(is_opt & (iv <= 0), "iv", lambda i: f"IV must be positive, got {iv[i]:g}")

    price, why = to_numbers(cell("price"))
    chk.reasons(why, "price")
    chk.flag((price < 0) | (price > MAX_PRICE), "price", lambda i: (
        f"Price must not be negative, got {price[i]:g}" if price[i] < 0 else
        f"Price {price[i]:g} is not a sane price (at most {MAX_PRICE:g})"))
    chk.flag(is_opt & np.isnan(iv) & np.isnan(price) & require_price, "iv",
             "IV and Price are both blank; give IV or a Price to solve it from")
    chk.flag(is_shares & np.isnan(price), "price", "an ETP row needs its Price")
    chk.flag(is_shares & (price == 0), "price", "an ETP's Price must be positive")

    entry, why = to_numbers(cell("entry_price"))
    chk.reasons(why, "entry_price")
    chk.flag(np.abs(entry) > MAX_PRICE, "entry_price", lambda i: (
        f"EntryPrice {entry[i]:g} is not a sane price (at most {MAX_PRICE:g})"))

    under_cells = cell("underlying")
    under_text = texts(under_cells)
    ticker = np.where(is_etp, _upper(under_text), "").astype(object)
    chk.flag(is_etp & (ticker == ""), "underlying", lambda i: (
        f"an ETP {'option' if etp_option[i] else 'row'} needs its ticker in Underlying "
        f"({', '.join(ETP_LEVERAGE)})"))
    chk.flag(is_etp & (ticker != "") & ~_member(ticker, tuple(ETP_LEVERAGE)), "underlying",
             lambda i: (f"unknown ETP ticker {describe(under_text[i])}; supported: "
                        f"{', '.join(ETP_LEVERAGE)}"))
    vix_under = (instr == "VIX") & (under_text != "")
    under_exp, why = to_dates(np.where(vix_under, under_cells, None))
    chk.flag(vix_under & ((why != "") | np.isnat(under_exp)), "underlying", lambda i: (
        f"a VIX option's Underlying is the VIX future's expiry date, got "
        f"{describe(under_cells[i])}"))

    lev, why = to_numbers(cell("leverage"))
    chk.reasons(why, "leverage", is_etp)
    chk.flag(is_etp & (np.abs(lev) > MAX_LEVERAGE), "leverage", lambda i: (
        f"Leverage {lev[i]:g} is not a sane daily leverage (within ±{MAX_LEVERAGE:g})"))
    default_lev = map_cells(ticker, lambda t: ETP_LEVERAGE.get(t, np.nan), np.nan, float)
    lev = np.where(is_etp, np.where(np.isnan(lev), default_lev, lev), np.nan)

    beta, why = to_numbers(cell("beta"))
    chk.reasons(why, "beta")
    chk.flag((beta < 0) | (beta > MAX_BETA), "beta", lambda i: (
        f"Beta must not be negative, got {beta[i]:g}" if beta[i] < 0 else
        f"Beta {beta[i]:g} is not a sane weight (at most {MAX_BETA:g})"))

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
