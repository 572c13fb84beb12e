"""The one description of the ALVH workbook: sheets, named input tables, output blocks.

The template builder, the headless report, ``alvh-xl check`` and the Refresh macro all read
this module; no cell address is written anywhere else.

* ``INPUTS``: named tables the user edits (defined name → sheet, anchor, headers, sample rows).
* ``OUTPUTS``: blocks computed from the inputs. Each is one ALVH_* function call whose
  arguments are defined names or literals; the template stores it as a live (spilling)
  formula with its computed value, Refresh and the report write the same cells as values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ..book.positions import HEADERS as POSITION_HEADERS

START, POSITIONS, MARKET, THRESHOLDS = "Start", "Positions", "Market", "Thresholds"
DASHBOARD, LEGS, SCENARIOS, CONDOR, SIGNALS, HISTORY = (
    "Dashboard", "Legs", "Scenarios", "Condor", "Signals", "History")
CONF = "xlwings.conf"
SHEETS = (START, DASHBOARD, POSITIONS, MARKET, THRESHOLDS, LEGS, SCENARIOS, CONDOR, SIGNALS,
          HISTORY, CONF)
INPUT_SHEETS = (POSITIONS, MARKET, THRESHOLDS)
OUTPUT_SHEETS = (DASHBOARD, LEGS, SCENARIOS, CONDOR, SIGNALS, HISTORY)


def cell_ref(anchor: str) -> tuple[int, int]:
    """'B3' → (row 3, column 2), both 1-based."""
    m = re.fullmatch(r"([A-Z]+)(\d+)", anchor)
    if not m:
        raise ValueError(f"not an A1 cell: {anchor}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def col_letter(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass(frozen=True)
class InputTable:
    """A named input table: header row at ``anchor``, sample rows, and spare blank rows."""

    name: str
    sheet: str
    anchor: str
    headers: tuple[str, ...]
    sample: tuple[tuple[Any, ...], ...]
    spare_rows: int = 0
    required: bool = True
    excel_table: str | None = None     # name of the Excel Table object, if any
    title: str = ""

    @property
    def n_rows(self) -> int:
        """Rows covered by the defined name, header included."""
        return 1 + len(self.sample) + self.spare_rows

    @property
    def ref(self) -> str:
        """A1 range of the defined name (without sheet), e.g. 'A3:N60'."""
        r, c = cell_ref(self.anchor)
        return (f"{self.anchor}:{col_letter(c + len(self.headers) - 1)}"
                f"{r + self.n_rows - 1}")


@dataclass(frozen=True)
class Output:
    """One ALVH_* call placed at ``anchor`` (a spilling formula in the template)."""

    key: str
    sheet: str
    anchor: str
    function: str
    args: tuple[Any, ...]                # defined names (str starting 'ALVH_') or literals
    title: str = ""
    max_rows: int = 60                   # rows Refresh clears before writing
    max_cols: int = 16

    @property
    def formula(self) -> str:
        return f"={self.function}({','.join(_literal(a) for a in self.args)})"


def _literal(a: Any) -> str:
    if isinstance(a, Name):
        return str(a)
    if isinstance(a, bool):
        return "TRUE" if a else "FALSE"
    if isinstance(a, (int, float)):
        return f"{a:g}"
    if isinstance(a, tuple):
        return "{" + ",".join(_literal(x) for x in a) + "}"
    return '"' + str(a).replace('"', '""') + '"'


class Name(str):
    """A defined name used as a formula argument."""


P, M, C, T = Name("ALVH_POSITIONS"), Name("ALVH_MARKET"), Name("ALVH_CURVE"), Name(
    "ALVH_THRESHOLDS")
H, S = Name("ALVH_HEDGES"), Name("ALVH_SCENARIOS")
VIXF, VVIX = Name("ALVH_VIXFUT_SERIES"), Name("ALVH_VVIX_SERIES")

VALUATION_DATE = dt.date(2026, 11, 24)

_SAMPLE_POSITIONS = (
    # Layer, Strategy, Instrument, Type, Strike, Expiry, Qty, Mult, IV, Price, Entry, Underlying,
    # Leverage, Beta
    ("Core", "IC-Jan", "SPXW", "P", 6150, dt.date(2027, 1, 8), -1, None, 0.205, None, 31.4,
     None, None, None),
    ("Core", "IC-Jan", "SPXW", "P", 6125, dt.date(2027, 1, 8), 1, None, 0.21, None, 28.6,
     None, None, None),
    ("Core", "IC-Jan", "SPXW", "C", 7050, dt.date(2027, 1, 8), -1, None, 0.118, None, 14.1,
     None, None, None),
    ("Core", "IC-Jan", "SPXW", "C", 7075, dt.date(2027, 1, 8), 1, None, 0.116, None, 10.9,
     None, None, None),
    ("VIX L1", "CS-Dec", "VIX", "C", 19, dt.date(2026, 12, 16), 1, None, 0.82, None, 1.35,
     None, None, None),
    ("VIX L1", "CS-Dec", "VIX", "C", 24, dt.date(2026, 12, 16), -1, None, 0.98, None, 0.42,
     None, None, None),
    ("VIX L2", "Calls-Jan", "VIX", "C", 22, dt.date(2027, 1, 20), 1, None, 0.88, None, 1.10,
     None, None, None),
    ("Tail", "VXX", "ETP", None, None, None, 10, None, None, 44.8, 43.9, "VXX", None, None),
)
_SAMPLE_MARKET = (
    ("ValuationDate", VALUATION_DATE), ("ValuationTime", dt.time(16, 0)), ("SpxSpot", 6712.4),
    ("Rate", 0.0385), ("DivYield", 0.0125), ("VixSpot", 16.9), ("Vvix", 92.5),
    ("TRefDays", 30), ("Alpha", 0.5), ("TauFloorDays", 7), ("WeightCap", 3),
    ("VolOfVolBeta", 0),
)
_SAMPLE_CURVE = (
    (dt.date(2026, 12, 16), 18.15), (dt.date(2027, 1, 20), 19.25), (dt.date(2027, 2, 17), 19.95),
    (dt.date(2027, 3, 17), 20.45), (dt.date(2027, 4, 21), 20.85), (dt.date(2027, 5, 19), 21.15),
    (dt.date(2027, 6, 16), 21.40), (dt.date(2027, 7, 21), 21.60),
)
_SAMPLE_THRESHOLDS = (
    ("VIX L1", 12, 15, 0.75, None), ("VIX L2", 12, 20, 0.75, None),
    ("Tail", 12, 10, 0.75, None), ("PORTFOLIO", 0.08, 0, 0.75, "Core"),
)
_SAMPLE_HEDGES = (
    ("Hedge", None, "VIX", "C", 21, dt.date(2027, 1, 20), 0, None, 0.86, None, None, None, None,
     None),
    ("Hedge", None, "VIX", "P", 17, dt.date(2027, 1, 20), 0, None, 0.62, None, None, None, None,
     None),
    ("Hedge", None, "VXM", None, None, dt.date(2027, 2, 17), 0, None, None, None, None, None,
     None, None),
    ("Hedge", None, "ETP", None, None, None, 0, None, None, 44.8, None, "VXX", None, None),
    ("Hedge", None, "ETP", None, None, None, 0, None, None, 31.2, None, "UVXY", None, None),
)
_SAMPLE_SCENARIOS = (
    ("FOMC hawkish", -2, 5, 1), ("FOMC dovish", 1.5, -3, 1), ("Vol crush", 1, -5, 0),
    ("Crash", -8, 15, 0), ("Weekend decay", 0, 0, 3),
)

INPUTS: tuple[InputTable, ...] = (
    InputTable("ALVH_POSITIONS", POSITIONS, "A3", POSITION_HEADERS, _SAMPLE_POSITIONS,
               spare_rows=40, excel_table="Positions", title="Positions: one row per leg"),
    InputTable("ALVH_MARKET", MARKET, "A3", ("Field", "Value"), _SAMPLE_MARKET,
               title="Market inputs"),
    InputTable("ALVH_CURVE", MARKET, "D3", ("Expiry", "Price"), _SAMPLE_CURVE, spare_rows=4,
               title="VIX futures curve"),
    InputTable("ALVH_THRESHOLDS", THRESHOLDS, "A3", ("Layer", "Limit", "Target", "Warn", "Basis"),
               _SAMPLE_THRESHOLDS, spare_rows=6, title="Limits per layer ($ per vol point)"),
    InputTable("ALVH_HEDGES", THRESHOLDS, "A16", POSITION_HEADERS, _SAMPLE_HEDGES, spare_rows=5,
               required=False, title="Hedge candidates (Qty ignored)"),
    InputTable("ALVH_SCENARIOS", THRESHOLDS, "A32", ("Name", "SpotPct", "VolPts", "DaysForward"),
               _SAMPLE_SCENARIOS, spare_rows=5, required=False, title="Named scenarios"),
)
INPUT_BY_NAME = {t.name: t for t in INPUTS}

OUTPUTS: tuple[Output, ...] = (
    Output("netvega_raw", DASHBOARD, "B4", "ALVH_NETVEGA", (P, M, C), "Net vega (raw)",
           max_rows=1, max_cols=1),
    Output("netvega_weighted", DASHBOARD, "D4", "ALVH_NETVEGA", (P, M, C, "", True),
           "Net vega (weighted)", max_rows=1, max_cols=1),
    Output("layers", DASHBOARD, "A8", "ALVH_LAYERS", (P, M, C, T), "Layers and limits",
           max_rows=20, max_cols=10),
    Output("buckets", DASHBOARD, "A30", "ALVH_BUCKETS", (P, M, C), "Vega by maturity bucket",
           max_rows=12, max_cols=12),
    Output("ladder", DASHBOARD, "A44", "ALVH_SHOCKPNL", (P, M, C, "", "abs", True),
           "Vol-shock ladder (full revaluation vs linear)", max_rows=10, max_cols=12),
    Output("hedges", DASHBOARD, "A56", "ALVH_HEDGE", (P, M, C, T, H),
           "Hedge sizing", max_rows=12, max_cols=12),
    Output("scenarios", SCENARIOS, "A3", "ALVH_SCENARIOPNL", (P, M, C, S), "Named scenarios",
           max_rows=15, max_cols=12),
    Output("grid", SCENARIOS, "A20", "ALVH_GRID", (P, M, C), "Spot x vol grid (P&L $)",
           max_rows=14, max_cols=10),
    Output("condor", CONDOR, "A3", "ALVH_CONDOR", (P, M, C), "Iron condors",
           max_rows=8, max_cols=16),
    Output("breakevens", CONDOR, "A14", "ALVH_BREAKEVENS", (P, M, C), "T+0 break-even migration",
           max_rows=10, max_cols=3),
    Output("legs", LEGS, "A3", "ALVH_LEGS", (P, M, C), "Per-leg Greeks", max_rows=60,
           max_cols=33),
    Output("macd", SIGNALS, "D3", "ALVH_MACD", (VIXF,), "MACD(12,26,9) of the VIX future",
           max_rows=130, max_cols=3),
    Output("rsi", SIGNALS, "H3", "ALVH_RSI", (VVIX,), "RSI(14) of VVIX", max_rows=130,
           max_cols=1),
    Output("regime", SIGNALS, "J3", "ALVH_REGIME", (VIXF, VVIX), "Regime", max_rows=2,
           max_cols=2),
)
OUTPUT_BY_KEY = {o.key: o for o in OUTPUTS}

# Series used by the Signals sheet (sample data written by the template).
SERIES = {"ALVH_VIXFUT_SERIES": (SIGNALS, "A4"), "ALVH_VVIX_SERIES": (SIGNALS, "B4")}
SERIES_LENGTH = 120

LAST_REFRESH = (DASHBOARD, "H2")      # "Last refresh" timestamp written by Refresh/report
VALUATION_CELL = (DASHBOARD, "H3")    # valuation date shown on the dashboard
MESSAGE_CELL = (DASHBOARD, "A2")      # readable status / error message of the last refresh
HISTORY_ANCHOR = (HISTORY, "A3")      # history table (one row per date and layer)

CONF_ROWS = (("UDF Modules", "alvh_xl.udfs"),)


@dataclass
class Layout:
    """Bundle of the description (lets tests substitute a modified layout)."""

    inputs: tuple[InputTable, ...] = INPUTS
    outputs: tuple[Output, ...] = OUTPUTS
    series: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(SERIES))


LAYOUT = Layout()
