"""MACD, RSI and the vol regime flag (SPEC §8), with TA-Lib's exact seeding and alignment.

Units: inputs are price levels (VIX futures, VVIX); MACD and its signal/histogram are in the
same price units; RSI is 0–100. Outputs have the input's length, NaN where TA-Lib has no value
(its "lookback"): MACD(12,26,9) starts at index 33, RSI(14) at index 14.

TA-Lib conventions reproduced here (ta_MACD.c, ta_EMA.c, ta_RSI.c, default compatibility,
unstable period 0):

* EMA with k = 2/(period+1), seeded with the simple mean of the ``period`` values ending at its
  first output index;
* MACD: both EMAs start at index slow−1, the fast one seeded on closes slow−fast … slow−1
  (14…25 for 12/26); the signal EMA is seeded with the mean of the first ``signal`` MACD
  values; MACD, signal and histogram are all reported from index slow−1+signal−1;
* RSI: Wilder's smoothing (1/period) of gains and losses seeded with their simple means over
  the first ``period`` changes; 0 when average gain + loss is below 1e-8 (a flat series).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..book.cells import CellError, parse_number
from ..conventions import (
    MACD_FAST,
    MACD_SIGNAL,
    MACD_SLOW,
    REGIME_DAYS,
    RSI_HIGH,
    RSI_LOW,
    RSI_PERIOD,
)
from ..errors import InputError, describe

_TA_ZERO = 1e-8  # TA-Lib's TA_IS_ZERO threshold


def as_series(values: Any, name: str = "series", label: str = "value", where: str = ""
              ) -> np.ndarray:
    """1-D float array of a price series; InputError naming the first bad position (1-based).

    Numeric text ("12.5") is read as a number; blanks, NaN, infinities, booleans and other
    text are errors, e.g. 'series: row 5 is text "abc"' with ``label="row"`` (``where``
    follows the position, e.g. " of its range").
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        arr = values.astype(float)
        if arr.ndim != 1:
            raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}")
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{name}: {label} {i + 1}{where} {_what(arr[i])}")
    else:
        cells = np.asarray(values, dtype=object)
        if cells.ndim != 1:
            raise InputError(f"{name} must be one-dimensional, got shape {cells.shape}")
        arr = np.empty(cells.size)
        for i, v in enumerate(cells):
            try:
                x = parse_number(v)
            except CellError as exc:
                raise InputError(f"{name}: {label} {i + 1}{where}: {exc}") from None
            if x is None:
                raise InputError(f"{name}: {label} {i + 1}{where} is blank")
            arr[i] = x
    if arr.size == 0:
        raise InputError(f"{name} is empty")
    return arr


def _what(v: float) -> str:
    return "is not a number (NaN)" if v != v else "is infinite"


def whole_number(value: Any, name: str, minimum: int) -> int:
    """An integer parameter (12, 12.0 or "12") of at least ``minimum``, else InputError."""
    try:
        x = parse_number(value)
    except CellError as exc:
        if "error" in str(exc):                     # an Excel error value: say which
            raise InputError(f"{name}: {exc}") from None
        x = None
    if x is None or not float(x).is_integer() or x < minimum:
        shown = describe(value) if not isinstance(value, float) else f"{value:g}"
        raise InputError(f"{name} must be a whole number ≥ {minimum}, got {shown}")
    return int(x)


def _ema_from(x: np.ndarray, period: int, start: int) -> np.ndarray:
    """EMA (k = 2/(period+1)) whose value at ``start`` is mean(x[start-period+1 : start+1])."""
    out = np.full(x.size, np.nan)
    seed = x[start - period + 1: start + 1].sum() / period
    out[start] = seed
    if start + 1 < x.size:
        out[start + 1:] = _smooth(x[start + 1:], 2.0 / (period + 1), seed)
    return out


def _smooth(x: np.ndarray, k: float, seed: float) -> np.ndarray:
    """y_t = y_{t-1} + k·(x_t − y_{t-1}) from y = seed, TA-Lib's own update order.

    A recursive filter is one pass over time; it runs as a plain loop over the series (a few
    thousand points at most) instead of importing scipy.signal, whose import alone costs ~1 s
    of the CLI's start-up.
    """
    out = np.empty(x.size)
    y = float(seed)
    for i, v in enumerate(x.tolist()):
        y += k * (v - y)
        out[i] = y
    return out


def ema_talib(x: Any, period: int) -> np.ndarray:
    """TA-Lib EMA: NaN for the first period−1 values, then SMA-seeded exponential average."""
    arr = as_series(x)
    period = whole_number(period, "period", 2)
    if arr.size < period:
        raise InputError(f"series needs at least {period} values for EMA({period}), "
                         f"got {arr.size}")
    return _ema_from(arr, period, period - 1)


def macd_lookback(fast: int = MACD_FAST, slow: int = MACD_SLOW,
                  signal: int = MACD_SIGNAL) -> int:
    """Index of TA-Lib's first MACD value (33 for 12/26/9)."""
    return slow - 1 + signal - 1


def macd(close: Any, fast: int = MACD_FAST, slow: int = MACD_SLOW, signal: int = MACD_SIGNAL,
         *, name: str = "close", label: str = "value",
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MACD line, signal, histogram) as TA-Lib's MACD, in price units; NaN before the lookback."""
    x = as_series(close, name, label)
    fast = whole_number(fast, "fast", 2)
    slow = whole_number(slow, "slow", 2)
    signal = whole_number(signal, "signal", 1)
    if fast >= slow:
        raise InputError(f"fast ({fast}) must be shorter than slow ({slow})")
    first = macd_lookback(fast, slow, signal)
    if x.size <= first:
        raise InputError(f"{name} needs at least {first + 1} values for "
                         f"MACD({fast},{slow},{signal}), got {x.size}")
    start = slow - 1
    line = _ema_from(x, fast, start) - _ema_from(x, slow, start)
    sig = np.full(x.size, np.nan)
    sig[start:] = _ema_from(line[start:], signal, signal - 1)
    line[:first] = np.nan
    return line, sig, line - sig


def _wilder(x: np.ndarray, period: int) -> np.ndarray:
    """Wilder average: mean of the first ``period`` values, then a ← a + (x − a)/period."""
    seed = x[:period].sum() / period
    return np.concatenate(([seed], _smooth(x[period:], 1.0 / period, seed)))


def rsi(close: Any, period: int = RSI_PERIOD, *, name: str = "close",
        label: str = "value") -> np.ndarray:
    """TA-Lib RSI (Wilder), 0–100; NaN for the first ``period`` values."""
    x = as_series(close, name, label)
    period = whole_number(period, "period", 2)
    if x.size <= period:
        raise InputError(f"{name} needs at least {period + 1} values for RSI({period}), "
                         f"got {x.size}")
    d = np.diff(x)
    gain = _wilder(np.where(d > 0, d, 0.0), period)
    loss = _wilder(np.where(d < 0, -d, 0.0), period)
    total = gain + loss
    flat = np.abs(total) < _TA_ZERO
    out = np.full(x.size, np.nan)
    out[period:] = np.where(flat, 0.0, 100.0 * gain / np.where(flat, 1.0, total))
    return out


@dataclass(frozen=True)
class Regime:
    """Regime flag on the last day, the sentence explaining it, and what it was built from.

    ``expanding_days``: consecutive days, up to the last, on which the MACD histogram kept its
    sign and grew in magnitude (k days = k such changes); ``hist_from`` is the histogram the
    day before that run (the previous day when there is none), ``hist_last`` the last value.
    ``direction`` is "up" (positive histogram: rising vol momentum), "down" or "".
    ``rsi_zone`` is "high" (> RSI_HIGH), "low" (< RSI_LOW) or "" for VVIX RSI on its last day.
    """

    flag: bool
    sentence: str
    direction: str
    expanding_days: int
    days_needed: int
    hist_from: float
    hist_last: float
    rsi_last: float
    rsi_zone: str

    @property
    def expanding(self) -> bool:
        return self.expanding_days >= self.days_needed

    @property
    def rsi_extreme(self) -> bool:
        return self.rsi_zone != ""


def expansion_run(hist: np.ndarray) -> int:
    """Trailing count of days on which ``hist`` kept a non-zero sign and grew in magnitude."""
    h = hist[~np.isnan(hist)]
    s = np.sign(h)
    grew = (s[1:] == s[:-1]) & (s[1:] != 0) & (np.abs(h[1:]) > np.abs(h[:-1]))
    stops = np.flatnonzero(~grew)
    return int(grew.size - (stops[-1] + 1) if stops.size else grew.size)


def regime(vix_futures: Any, vvix: Any, k: int = REGIME_DAYS, *, fast: int = MACD_FAST,
           slow: int = MACD_SLOW, signal: int = MACD_SIGNAL, rsi_period: int = RSI_PERIOD,
           label: str = "value") -> Regime:
    """Flag when the VIX-futures MACD histogram has expanded k days in a row with one sign and
    VVIX RSI is above RSI_HIGH or below RSI_LOW, both on the last value of each series."""
    k = whole_number(k, "k", 1)
    fut = as_series(vix_futures, "vix_futures", label)
    fast, slow = whole_number(fast, "fast", 2), whole_number(slow, "slow", 2)
    signal = whole_number(signal, "signal", 1)
    need = macd_lookback(fast, slow, signal) + 1 + k
    if fut.size < need:
        raise InputError(f"vix_futures needs at least {need} values for MACD({fast},{slow},"
                         f"{signal}) and {k} days of histogram changes, got {fut.size}")
    hist = macd(fut, fast, slow, signal, name="vix_futures", label=label)[2]
    r = float(rsi(vvix, rsi_period, name="vvix", label=label)[-1])
    run = expansion_run(hist)
    h_from, h_last = float(hist[-1 - max(run, 1)]), float(hist[-1])
    direction = {1.0: "up", -1.0: "down"}.get(float(np.sign(h_last)), "")
    zone = "high" if r > RSI_HIGH else "low" if r < RSI_LOW else ""
    flag = run >= k and zone != ""
    macd_text = _macd_words(run, k, h_from, h_last)
    rsi_text = _rsi_words(r, zone)
    if flag:
        sentence = f"{macd_text} and {rsi_text}: vol regime turning {direction}"
    else:
        sentence = f"No regime signal: {macd_text}; {rsi_text}"
    return Regime(flag, sentence, direction, run, k, h_from, h_last, r, zone)


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _macd_words(run: int, k: int, h_from: float, h_last: float) -> str:
    arrow = f"({_fmt(h_from)} → {_fmt(h_last)})"
    sign = "positive" if h_last > 0 else "negative"
    if run >= k:
        return f"MACD histogram expanding {sign} for {run} day{'s' * (run != 1)} {arrow}"
    if run > 0:
        return (f"MACD histogram expanding {sign} for only {run} day{'s' * (run != 1)} "
                f"({k} needed) {arrow}")
    if h_last == 0:
        return f"MACD histogram at zero {arrow}"
    if h_from == 0:
        return f"MACD histogram turned {sign} {arrow}"
    if np.sign(h_from) != np.sign(h_last):
        return f"MACD histogram changed sign {arrow}"
    return f"MACD histogram contracting {sign} {arrow}"


def _rsi_words(r: float, zone: str) -> str:
    if zone == "high":
        return f"VVIX RSI {r:.1f} > {RSI_HIGH:g}"
    if zone == "low":
        return f"VVIX RSI {r:.1f} < {RSI_LOW:g}"
    return f"VVIX RSI {r:.1f} within {RSI_LOW:g}–{RSI_HIGH:g}"
