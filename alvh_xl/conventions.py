"""Units, defaults and instrument conventions shared by every layer (SPEC §3–§7).

Units are a contract:

* vega, vanna are per 1 vol point (0.01 in decimal vol); volga per vol point squared;
* theta and charm are per calendar day (1/365 year);
* rho is per 1 % (0.01) change in the risk-free rate;
* position Greeks are unit Greeks × multiplier × qty (dollars).
"""

from __future__ import annotations

import datetime as dt

GREEKS: tuple[str, ...] = (
    "price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm",
)

DAYS_PER_YEAR = 365.0       # ACT/365
VOL_POINT = 0.01            # one vol point in decimal vol
RATE_POINT = 0.01           # rho is per 1 % rate move

# Settlement times (New York wall clock).
AM_SETTLE = dt.time(9, 30)
PM_SETTLE = dt.time(16, 0)
DEFAULT_VALUATION_TIME = dt.time(16, 0)

# Instruments (SPEC §3). Keys are the canonical instrument codes.
# XSP: mini-SPX options (European, PM-settled) on SPX/10; ES / MES: S&P 500 futures (SPX
# dollar delta only); ETP: shares, or an American option on the ETP when Type is C/P.
INSTRUMENTS = ("SPX", "SPXW", "XSP", "VIX", "VX", "VXM", "ES", "MES", "ETP")
INSTRUMENT_ALIASES = {code: code for code in INSTRUMENTS}
DEFAULT_MULTIPLIER = {"SPX": 100.0, "SPXW": 100.0, "XSP": 100.0, "VIX": 100.0, "VX": 1000.0,
                      "VXM": 100.0, "ES": 50.0, "MES": 5.0, "ETP": 1.0}
ETP_OPTION_MULTIPLIER = 100.0   # an option on an ETP delivers 100 shares
SETTLEMENT_TIME = {"SPX": AM_SETTLE, "SPXW": PM_SETTLE, "XSP": PM_SETTLE, "VIX": AM_SETTLE,
                   "VX": AM_SETTLE, "VXM": AM_SETTLE, "ES": AM_SETTLE, "MES": AM_SETTLE,
                   "ETP": PM_SETTLE}
OPTION_INSTRUMENTS = ("SPX", "SPXW", "XSP", "VIX")   # always options (ETP: when Type is C/P)
SPX_OPTIONS = ("SPX", "SPXW", "XSP")                 # European options on the S&P 500 index
SPX_FUTURES = ("ES", "MES")                          # S&P 500 futures: delta only
VIX_FUTURES = ("VX", "VXM")
INDEX_SCALE = {"SPX": 1.0, "SPXW": 1.0, "XSP": 0.1}  # underlying = SPX (or its forward) × this

# Vol ETPs: constant-maturity point they track (calendar days) and daily leverage.
ETP_TARGET_DAYS = {"VXX": 30.0, "VIXY": 30.0, "UVXY": 30.0, "SVXY": 30.0, "VIXM": 150.0}
ETP_LEVERAGE = {"VXX": 1.0, "VIXY": 1.0, "UVXY": 1.5, "SVXY": -0.5, "VIXM": 1.0}

VIX_WINDOW_DAYS = 30.0      # a VIX-linked leg measures vol over [expiry, expiry + 30d]

# Net-vega weighting defaults (SPEC §5): w = min(cap, (T_ref / max(tau, floor)) ** alpha).
DEFAULT_WEIGHTING = {"TRefDays": 30.0, "Alpha": 0.5, "TauFloorDays": 7.0, "WeightCap": 3.0,
                     "VolOfVolBeta": 0.0}

# Maturity buckets: inclusive day ranges 0–7, 8–30, 31–60, 61–90, 91–180, 180+.
DEFAULT_BUCKET_EDGES: tuple[float, ...] = (7, 30, 60, 90, 180)

# Limits (SPEC §7).
DEFAULT_LAYER_LIMIT = 12.0
DEFAULT_WARN = 0.75
DEFAULT_PORTFOLIO_TOLERANCE = 0.08
DEFAULT_BASIS_LAYER = "Core"
PORTFOLIO = "PORTFOLIO"
FLAGS = ("OK", "WATCH", "BREACH")

# Scenarios (SPEC §6).
DEFAULT_VOL_SHIFTS: tuple[float, ...] = (-10, -5, -2, 0, 2, 5, 10)
DEFAULT_SPOT_SHIFTS_PCT: tuple[float, ...] = (-10, -8, -6, -4, -2, 0, 2, 4, 6, 8, 10)
MAX_ABS_SHIFT = 100.0       # vol points; beyond this a shift is a typo, not a scenario
MAX_REL_SHIFT = 1000.0      # percent (spot shifts, relative vol shifts): a level cannot rise more

# Regime signals (SPEC §8).
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
RSI_PERIOD = 14
REGIME_DAYS = 3
RSI_HIGH, RSI_LOW = 70.0, 30.0

# Call/put: these spellings (any case, blanks around allowed) or the numbers 1 / -1; the
# template offers them in the Type column's list.
CALL_PUT_CHOICES = ("C", "P", "Call", "Put")
CALL_PUT = {s.upper(): 1.0 if s[0] == "C" else -1.0 for s in CALL_PUT_CHOICES}
CALL_PUT_EXPECTED = "C or P (Call/Put, or 1/-1)"

# Sanity bounds on inputs.
MAX_IV = 5.0                # IV above this (e.g. 18 typed for 18 %) is rejected
MAX_T_YEARS = 100.0         # time to expiry, years
MAX_ABS_RATE = 1.0          # |rate| below this: a decimal (4 typed for 4 % is rejected)
MAX_ABS_DIV = 1.0           # |dividend yield| below this, in the pricing functions
MAX_SPX_DIV_YIELD = 0.2     # the market's SPX DivYield (about 1.3 %) lies within ±20 %
# Sizes beyond these are typos, not positions: their products would overflow or drown the book.
MAX_QTY = 1e7               # contracts (or shares) per row
MAX_MULTIPLIER = 1e6
MAX_STRIKE = 1e7
MAX_PRICE = 1e9             # per unit
MAX_LEVERAGE = 10.0         # ETP daily leverage
MAX_BETA = 100.0            # weight override

ERROR_PREFIX = "#ALVH!"
