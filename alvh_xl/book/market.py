"""Market inputs: the `Field | Value` table (ALVH_MARKET) and the VIX futures curve (ALVH_CURVE)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..conventions import (
    DEFAULT_VALUATION_TIME,
    DEFAULT_WEIGHTING,
    ETP_LEVERAGE,
    MAX_ABS_RATE,
    MAX_SPX_DIV_YIELD,
)
from ..errors import InputError, MissingInputError, describe
from .cells import (
    CellError,
    error_reason,
    error_value,
    is_blank,
    is_number,
    parse_bool,
    parse_date,
    parse_number,
    parse_time,
    text_of,
    to_dates,
    to_numbers,
)
from .tables import header_key, read_table, to_cells

MAX_VIX_FUTURE = 500.0                         # a VIX future above this is a typo

_FIELDS = {
    "valuationdate": "ValuationDate", "valuationtime": "ValuationTime", "spxspot": "SpxSpot",
    "rate": "Rate", "divyield": "DivYield", "vixspot": "VixSpot", "vvix": "Vvix",
    "spxforward": "SpxForward", "forwardexpiry": "ForwardExpiry",
    "trefdays": "TRefDays", "alpha": "Alpha", "taufloordays": "TauFloorDays",
    "weightcap": "WeightCap", "volofvolbeta": "VolOfVolBeta",
    "chainfile": "ChainFile", "curvefile": "CurveFile", "markprices": "MarkPrices",
}
_NUMERIC = ("SpxSpot", "Rate", "DivYield", "VixSpot", "Vvix", "SpxForward", "TRefDays", "Alpha",
            "TauFloorDays", "WeightCap", "VolOfVolBeta")
_FRACTIONS = ("Rate", "DivYield")             # '4%' reads as 0.04 here
MAX_RATE = MAX_ABS_RATE                        # |Rate| below 100 %
MAX_DIV = MAX_SPX_DIV_YIELD                    # |DivYield| within 20 % (SPX: about 1.3 %)


@dataclass(frozen=True)
class Market:
    """Market state at the valuation date-time (New York wall clock). Rates are decimals.

    ``etp_prices``: ETP price per ticker (VXX, UVXY, …) for options on ETPs; ``chain_files`` /
    ``curve_files``: files Refresh marks the book from (``;``-separated in the cell);
    ``mark_prices``: whether it may change the legs' Price/IV cells.
    """

    valuation: dt.datetime
    spx_spot: float
    rate: float = 0.0
    div_yield: float = 0.0
    vix_spot: float = float("nan")
    vvix: float = float("nan")
    t_ref_days: float = DEFAULT_WEIGHTING["TRefDays"]
    alpha: float = DEFAULT_WEIGHTING["Alpha"]
    tau_floor_days: float = DEFAULT_WEIGHTING["TauFloorDays"]
    weight_cap: float = DEFAULT_WEIGHTING["WeightCap"]
    volvol_beta: float = DEFAULT_WEIGHTING["VolOfVolBeta"]
    etp_prices: tuple[tuple[str, float], ...] = ()
    chain_files: tuple[str, ...] = ()
    curve_files: tuple[str, ...] = ()
    mark_prices: bool = False

    @property
    def valuation_date(self) -> np.datetime64:
        return np.datetime64(self.valuation.date(), "D")

    def etp_price(self, ticker: str) -> float:
        """The market price of an ETP by ticker (NaN when not given)."""
        return dict(self.etp_prices).get(ticker.upper(), float("nan"))


def parse_market(source: Any, *, first_row: int = 1) -> Market:
    """Parse the `Field | Value [| Note]` table (extra columns are ignored).

    A field given twice, or a field name this table does not know (a misspelt `Rate` would
    otherwise silently price at 0 %), is an error naming its row; so is a value that is not
    what the field expects. ``first_row`` is the sheet row of the table's first row.
    """
    cells = to_cells(source, "market")
    offset = first_row
    if cells and len(cells[0]) >= 2 and header_key(cells[0][0]) == "field":
        cells, offset = cells[1:], first_row + 1
    values: dict[str, Any] = {}
    rows: dict[str, int] = {}
    etps: dict[str, float] = {}
    for i, row in enumerate(cells):
        if not row or is_blank(row[0]):
            continue
        r = i + offset
        err = error_value(row[0])
        if err:
            raise InputError(f"market: {error_reason(err)}", row=r, column="Field")
        key = _FIELDS.get(header_key(row[0]))
        ticker = text_of(row[0]).upper()
        if key is None and ticker in ETP_LEVERAGE:
            key = ticker
        if key is None:
            raise InputError(f"market: unknown field {describe(row[0])}; fields are "
                             f"{', '.join(dict.fromkeys(_FIELDS.values()))} and ETP prices by "
                             f"ticker ({', '.join(ETP_LEVERAGE)})", row=r, column="Field")
        if key in rows:
            raise InputError(f"market: {key} is given twice (rows {rows[key]} and {r})", row=r,
                             column="Field")
        rows[key] = r
        values[key] = row[1] if len(row) > 1 else None
        if key in ETP_LEVERAGE:
            etps[key] = _positive(values[key], key, r)

    def fail(key: str, reason: str, sep: str = " ") -> InputError:
        return InputError(f"market {key}{sep}{reason}", row=rows.get(key), column="Value")

    def number(key: str) -> float | None:
        try:
            return parse_number(values.get(key), percent=key in _FRACTIONS)
        except CellError as exc:
            raise fail(key, str(exc), ": ") from None

    for key in ("ValuationDate", "SpxSpot"):
        if is_blank(values.get(key)):
            raise MissingInputError(f"market: {key} is missing", row=rows.get(key),
                                    column=key if key not in rows else "Value")
    try:
        date = parse_date(values["ValuationDate"])
    except CellError as exc:
        raise fail("ValuationDate", str(exc), ": ") from None
    try:
        time = parse_time(values.get("ValuationTime"))
    except CellError as exc:
        raise fail("ValuationTime", str(exc), ": ") from None
    if time is None:
        time = DEFAULT_VALUATION_TIME
        stamp = values["ValuationDate"]
        if isinstance(stamp, dt.datetime) and stamp.time() != dt.time(0, 0):
            time = stamp.time()
        elif is_number(stamp) and float(stamp) % 1:   # an Excel serial date-time, 46350.6667
            time = parse_time(float(stamp) % 1) or time
    valuation = dt.datetime.combine(date.astype(dt.date), time)
    nums = {key: x for key in _NUMERIC if (x := number(key)) is not None}
    if abs(nums.get("Rate", 0.0)) >= MAX_RATE:
        raise fail("Rate", f"is a decimal (0.04 for 4 %), got {nums['Rate']:g}")
    if abs(nums.get("DivYield", 0.0)) > MAX_DIV:
        raise fail("DivYield", f"is a decimal (0.013 for 1.3 %) within ±{MAX_DIV:g}, got "
                               f"{nums['DivYield']:g}")
    spot = nums["SpxSpot"]
    if spot <= 0:
        raise fail("SpxSpot", f"must be positive, got {spot:g}")
    rate = nums.get("Rate", 0.0)
    div = nums.get("DivYield", 0.0)
    if "SpxForward" in nums:
        if "DivYield" in nums:
            raise fail("SpxForward", "and DivYield are both given; keep one")
        div = _div_from_forward(nums["SpxForward"], values.get("ForwardExpiry"), valuation,
                                spot, rate, fail)
    for key in ("TRefDays", "TauFloorDays", "WeightCap"):
        if key in nums and nums[key] <= 0:
            raise fail(key, f"must be positive, got {nums[key]:g}")
    if nums.get("Alpha", 0.0) < 0:
        raise fail("Alpha", f"must not be negative, got {nums['Alpha']:g}")
    try:
        mark = parse_bool(values.get("MarkPrices"), default=False)
    except CellError as exc:
        raise fail("MarkPrices", str(exc), ": ") from None
    chains, curves = (tuple(p.strip() for p in text_of(values.get(k)).split(";") if p.strip())
                      for k in ("ChainFile", "CurveFile"))
    return Market(
        valuation=valuation, spx_spot=spot, rate=rate, div_yield=div,
        vix_spot=nums.get("VixSpot", float("nan")), vvix=nums.get("Vvix", float("nan")),
        t_ref_days=nums.get("TRefDays", DEFAULT_WEIGHTING["TRefDays"]),
        alpha=nums.get("Alpha", DEFAULT_WEIGHTING["Alpha"]),
        tau_floor_days=nums.get("TauFloorDays", DEFAULT_WEIGHTING["TauFloorDays"]),
        weight_cap=nums.get("WeightCap", DEFAULT_WEIGHTING["WeightCap"]),
        volvol_beta=nums.get("VolOfVolBeta", DEFAULT_WEIGHTING["VolOfVolBeta"]),
        etp_prices=tuple(sorted(etps.items())), chain_files=chains,
        curve_files=curves, mark_prices=mark,
    )


def _positive(v: Any, key: str, row: int) -> float:
    try:
        x = parse_number(v)
    except CellError as exc:
        raise InputError(f"market {key} price: {exc}", row=row, column="Value") from None
    if x is None or x <= 0:
        raise InputError(f"market {key}: an ETP price must be a positive number, got "
                         f"{describe(v)}", row=row, column="Value")
    return x


def _div_from_forward(fwd: float, expiry_cell: Any, valuation: dt.datetime, spot: float,
                      rate: float, fail) -> float:
    """Continuous dividend yield implied by an SPX forward to ForwardExpiry (16:00); a
    forward implying a yield DivYield would reject (e.g. 67500 typed for 6750) is an error."""
    try:
        expiry = parse_date(expiry_cell)
    except CellError as exc:
        raise fail("ForwardExpiry", str(exc), ": ") from None
    if expiry is None:
        raise fail("ForwardExpiry", "is missing: SpxForward needs the forward's date")
    t = (dt.datetime.combine(expiry.astype(dt.date), dt.time(16)) - valuation
         ).total_seconds() / (365 * 86400)
    if t <= 0:
        raise fail("ForwardExpiry", "must be after the valuation date-time")
    if fwd <= 0:
        raise fail("SpxForward", f"must be positive, got {fwd:g}")
    div = rate - float(np.log(fwd / spot)) / t
    if abs(div) > MAX_DIV:
        raise fail("SpxForward", f"{fwd:g} implies a dividend yield of {div:.1%} against spot "
                                 f"{spot:g} (DivYield must lie within ±{MAX_DIV:.0%}); check "
                                 "the forward", ": ")
    return div


@dataclass(frozen=True)
class Curve:
    """VIX futures settlement prices by expiry date (sorted, unique)."""

    expiries: np.ndarray      # datetime64[D]
    prices: np.ndarray        # float
    rows: np.ndarray | None = None    # sheet row of each point (None: not from a sheet)

    def expired_before(self, valuation_date: np.datetime64) -> list[tuple[np.datetime64,
                                                                          int | None]]:
        """(expiry, sheet row) of the futures that expired before ``valuation_date``: the
        curve's methods never use them (a row left over, or a curve of another day)."""
        stale = np.flatnonzero(self.expiries < valuation_date)
        return [(self.expiries[i], None if self.rows is None else int(self.rows[i]))
                for i in stale]

    def price_at(self, expiries: np.ndarray) -> np.ndarray:
        """Price of the future expiring on each date (NaN where the curve has none)."""
        expiries = np.asarray(expiries, dtype="datetime64[D]")
        if len(self.expiries) == 0:
            return np.full(expiries.shape, np.nan)
        idx = np.clip(np.searchsorted(self.expiries, expiries), 0, len(self.expiries) - 1)
        return np.where(self.expiries[idx] == expiries, self.prices[idx], np.nan)

    def interpolated(self, valuation_date: np.datetime64, expiries: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Forward for dates without a listed future (VIX weeklies, SPEC §4): linear in
        calendar days between the two live futures (expiry ≥ ``valuation_date``) that
        bracket each date, flat beyond the curve's ends.

        Returns (price, beyond): ``beyond`` is True where the date lies before the first or
        after the last live future (the flat extrapolation callers must say they used). A date
        on the curve gets that future's price exactly. NaN where no future is live.
        """
        expiries = np.asarray(expiries, dtype="datetime64[D]")
        live = self.expiries >= valuation_date
        x = self.expiries[live].astype("int64").astype(float)
        if x.size == 0:
            return np.full(expiries.shape, np.nan), np.zeros(expiries.shape, dtype=bool)
        days = expiries.astype("int64").astype(float)
        beyond = (days < x[0]) | (days > x[-1])
        return np.interp(days, x, self.prices[live]), beyond

    def constant_maturity(self, valuation_date: np.datetime64, days: np.ndarray,
                          shifts: np.ndarray | None = None) -> np.ndarray:
        """Futures level at valuation + ``days`` calendar days, linear in days, flat at ends.

        Only futures not yet expired count. ``shifts`` (one per curve point) are added first.
        """
        live = self.expiries >= valuation_date
        x = (self.expiries[live] - valuation_date).astype(float)
        y = self.prices[live] if shifts is None else (self.prices + shifts)[live]
        if x.size == 0:
            return np.full(np.shape(days), np.nan)
        return np.interp(days, x, y)


CURVE_COLUMNS = {"expiry": "expiry", "expiration": "expiry", "price": "price",
                 "settle": "price"}


def parse_curve(source: Any, *, first_row: int = 1) -> Curve:
    """Parse `Expiry | Price` rows of VIX futures (``first_row``: the header's sheet row)."""
    raw = read_table(source, "curve", CURVE_COLUMNS, ("expiry", "price"), first_row)
    exp, exp_why = to_dates(raw.get("expiry"))
    px, px_why = to_numbers(raw.get("price"))
    for i in range(len(raw)):
        r = int(raw.rows[i])
        if exp_why[i] or np.isnat(exp[i]):
            raise InputError(f"curve: {exp_why[i] or 'Expiry is blank'}", row=r,
                             column="Expiry")
        if px_why[i] or np.isnan(px[i]) or not 0 < px[i] <= MAX_VIX_FUTURE:
            why = px_why[i] or (f"expected a positive futures price (at most "
                                f"{MAX_VIX_FUTURE:g}), got {describe(raw.get('price')[i])}")
            raise InputError(f"curve: {why}", row=r, column="Price")
    order = np.argsort(exp, kind="stable")
    exp, px, rows = exp[order], px[order], np.asarray(raw.rows, dtype=int)[order]
    dup = exp[1:] == exp[:-1]
    if dup.any():
        raise InputError(f"curve: expiry {exp[1:][dup][0]} appears twice", column="Expiry")
    return Curve(exp, px, rows)

