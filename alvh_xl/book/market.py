"""Market inputs: the `Field | Value` table (ALVH_MARKET) and the VIX futures curve (ALVH_CURVE)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..conventions import DEFAULT_VALUATION_TIME, DEFAULT_WEIGHTING
from ..errors import InputError, MissingInputError, describe
from .tables import header_key, read_table, to_cells, to_date, to_dates, to_numbers, to_time

_FIELDS = {
    "valuationdate": "ValuationDate", "valuationtime": "ValuationTime", "spxspot": "SpxSpot",
    "rate": "Rate", "divyield": "DivYield", "vixspot": "VixSpot", "vvix": "Vvix",
    "spxforward": "SpxForward", "forwardexpiry": "ForwardExpiry",
    "trefdays": "TRefDays", "alpha": "Alpha", "taufloordays": "TauFloorDays",
    "weightcap": "WeightCap", "volofvolbeta": "VolOfVolBeta",
}
_NUMERIC = ("SpxSpot", "Rate", "DivYield", "VixSpot", "Vvix", "SpxForward", "TRefDays", "Alpha",
            "TauFloorDays", "WeightCap", "VolOfVolBeta")


@dataclass(frozen=True)
class Market:
    """Market state at the valuation date-time (New York wall clock). Rates are decimals."""

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

    @property
    def valuation_date(self) -> np.datetime64:
        return np.datetime64(self.valuation.date(), "D")


def parse_market(source: Any) -> Market:
    """Parse the two-column `Field | Value` table.

    A field given twice, or a field name this table does not know (a misspelt `Rate` would
    otherwise silently price at 0 %), is an error naming its row.
    """
    cells = to_cells(source, "market")
    offset = 1
    if cells and len(cells[0]) >= 2 and header_key(cells[0][0]) == "field":
        cells, offset = cells[1:], 2
    values: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for i, row in enumerate(cells):
        if not row or row[0] in (None, ""):
            continue
        key = _FIELDS.get(header_key(row[0]))
        if key is None:
            raise InputError(f"market: unknown field {describe(row[0])}; fields are "
                             f"{', '.join(dict.fromkeys(_FIELDS.values()))}",
                             row=i + offset, column="Field")
        if key in seen:
            raise InputError(f"market: {key} is given twice (rows {seen[key]} and "
                             f"{i + offset})", row=i + offset, column="Field")
        seen[key] = i + offset
        values[key] = row[1] if len(row) > 1 else None
    if "ValuationDate" not in values or values["ValuationDate"] in (None, ""):
        raise MissingInputError("market: ValuationDate is missing", column="ValuationDate")
    if "SpxSpot" not in values or values["SpxSpot"] in (None, ""):
        raise MissingInputError("market: SpxSpot is missing", column="SpxSpot")
    date = to_date(values["ValuationDate"])
    if date is None:
        raise InputError(f"market ValuationDate: expected a date, got "
                         f"{describe(values['ValuationDate'])}", column="ValuationDate")
    raw_time = values.get("ValuationTime")
    time = to_time(raw_time) if raw_time not in (None, "") else DEFAULT_VALUATION_TIME
    if time is None:
        raise InputError(f"market ValuationTime: expected a time such as 16:00, got "
                         f"{describe(raw_time)}", column="ValuationTime")
    if isinstance(values["ValuationDate"], dt.datetime) and raw_time in (None, ""):
        if values["ValuationDate"].time() != dt.time(0, 0):
            time = values["ValuationDate"].time()
    nums: dict[str, float] = {}
    for key in _NUMERIC:
        v = values.get(key)
        arr, bad = to_numbers(np.array([v], dtype=object))
        if bad[0]:
            raise InputError(f"market {key}: expected a number, got {describe(v)}", column=key)
        if not np.isnan(arr[0]):
            nums[key] = float(arr[0])
    serial = values["ValuationDate"]
    if (raw_time in (None, "") and isinstance(serial, (int, float)) and not isinstance(
            serial, bool) and serial % 1):       # an Excel serial date-time, e.g. 46350.6667
        time = to_time(serial % 1) or time
    valuation = dt.datetime.combine(date.astype(dt.date), time)
    for key in ("Rate", "DivYield"):
        if key in nums and abs(nums[key]) >= 1:
            raise InputError(f"market {key} is a decimal (0.04 for 4 %), got {nums[key]:g}",
                             column=key)
    spot = nums["SpxSpot"]
    if spot <= 0:
        raise InputError(f"market SpxSpot must be positive, got {spot:g}", column="SpxSpot")
    rate = nums.get("Rate", 0.0)
    div = nums.get("DivYield", 0.0)
    if "SpxForward" in nums:
        div = _div_from_forward(nums["SpxForward"], values.get("ForwardExpiry"), valuation,
                                spot, rate)
    for key, lo in (("TRefDays", 0.0), ("TauFloorDays", 0.0), ("WeightCap", 0.0)):
        if key in nums and nums[key] <= lo:
            raise InputError(f"market {key} must be positive, got {nums[key]:g}", column=key)
    if nums.get("Alpha", 0.0) < 0:
        raise InputError(f"market Alpha must not be negative, got {nums['Alpha']:g}",
                         column="Alpha")
    return Market(
        valuation=valuation, spx_spot=spot, rate=rate, div_yield=div,
        vix_spot=nums.get("VixSpot", float("nan")), vvix=nums.get("Vvix", float("nan")),
        t_ref_days=nums.get("TRefDays", DEFAULT_WEIGHTING["TRefDays"]),
        alpha=nums.get("Alpha", DEFAULT_WEIGHTING["Alpha"]),
        tau_floor_days=nums.get("TauFloorDays", DEFAULT_WEIGHTING["TauFloorDays"]),
        weight_cap=nums.get("WeightCap", DEFAULT_WEIGHTING["WeightCap"]),
        volvol_beta=nums.get("VolOfVolBeta", DEFAULT_WEIGHTING["VolOfVolBeta"]),
    )


def _div_from_forward(fwd: float, expiry_cell: Any, valuation: dt.datetime, spot: float,
                      rate: float) -> float:
    """Continuous dividend yield implied by an SPX forward to ForwardExpiry (16:00)."""
    expiry = to_date(expiry_cell)
    if expiry is None:
        raise InputError("market SpxForward needs ForwardExpiry (the forward's date)",
                         column="ForwardExpiry")
    t = (dt.datetime.combine(expiry.astype(dt.date), dt.time(16)) - valuation
         ).total_seconds() / (365 * 86400)
    if t <= 0 or fwd <= 0:
        raise InputError("market SpxForward needs a positive forward and a future ForwardExpiry",
                         column="SpxForward")
    return rate - float(np.log(fwd / spot)) / t


@dataclass(frozen=True)
class Curve:
    """VIX futures settlement prices by expiry date (sorted, unique)."""

    expiries: np.ndarray      # datetime64[D]
    prices: np.ndarray        # float

    def price_at(self, expiries: np.ndarray) -> np.ndarray:
        """Price of the future expiring on each date (NaN where the curve has none)."""
        expiries = np.asarray(expiries, dtype="datetime64[D]")
        if len(self.expiries) == 0:
            return np.full(expiries.shape, np.nan)
        idx = np.clip(np.searchsorted(self.expiries, expiries), 0, len(self.expiries) - 1)
        return np.where(self.expiries[idx] == expiries, self.prices[idx], np.nan)

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


def parse_curve(source: Any) -> Curve:
    """Parse `Expiry | Price` rows of VIX futures."""
    raw = read_table(source, "curve", {"expiry": "expiry", "expiration": "expiry",
                                       "price": "price", "settle": "price"},
                     ("expiry", "price"))
    exp, exp_bad = to_dates(raw.get("expiry"))
    px, px_bad = to_numbers(raw.get("price"))
    for i in range(len(raw)):
        r = int(raw.rows[i])
        if exp_bad[i] or np.isnat(exp[i]):
            raise InputError(f"curve: expected an expiry date, got "
                             f"{describe(raw.get('expiry')[i])}", row=r, column="Expiry")
        if px_bad[i] or np.isnan(px[i]) or px[i] <= 0:
            raise InputError(f"curve: expected a positive futures price, got "
                             f"{describe(raw.get('price')[i])}", row=r, column="Price")
    order = np.argsort(exp, kind="stable")
    exp, px = exp[order], px[order]
    dup = exp[1:] == exp[:-1]
    if dup.any():
        raise InputError(f"curve: expiry {exp[1:][dup][0]} appears twice", column="Expiry")
    return Curve(exp, px)

