"""The module users put in xlwings' "UDF Modules" setting: every ALVH_* Excel function.

Each function is a thin adapter (alvh_xl.xl.fn_*): it converts what Excel hands over,
calls the engine, and returns values or '#ALVH! …' text.
"""

from .xl.fn_book import (  # noqa: F401
    ALVH_BUCKETS,
    ALVH_FLAG,
    ALVH_HEDGE,
    ALVH_LAYERS,
    ALVH_LEGS,
    ALVH_NETVEGA,
)
from .xl.fn_condor import ALVH_BREAKEVENS, ALVH_CONDOR  # noqa: F401
from .xl.fn_pricing import ALVH_AMERICAN, ALVH_BLACK76, ALVH_BSM, ALVH_IV  # noqa: F401
from .xl.fn_scenarios import ALVH_GRID, ALVH_SCENARIOPNL, ALVH_SHOCKPNL  # noqa: F401
from .xl.fn_signals import ALVH_MACD, ALVH_REGIME, ALVH_RSI  # noqa: F401
