"""The one description of the ALVH workbook: sheets, named input tables, output blocks.

The template builder, the headless report, ``alvh-xl check`` and the Refresh macro all read
this module; no cell address is written anywhere else.

* ``INPUTS``: named tables the user edits (defined name → sheet, anchor, headers, sample rows).
* ``OUTPUTS``: blocks computed from the inputs. Each is one ALVH_* function call whose
  arguments are defined names or literals; the template stores it as a live (spilling)
  formula with its computed value, Refresh and the report write the same cells as values.
* ``NATIVES``: a few plain Excel formulas (SUM, SUMIF, ABS, IF) that cross-check the blocks;
  they sit outside every block, so Refresh never overwrites them.
* ``SERIES``: the Signals sheet's sample daily closes (values only, no header in the name).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ..book.positions import HEADERS as POSITION_HEADERS
from ..conventions import DEFAULT_VOL_SHIFTS, DEFAULT_WARN, PORTFOLIO
from ..risk.aggregation import LAYER_COLUMNS
from ..risk.valuation import LEG_COLUMNS

START, POSITIONS, MARKET, THRESHOLDS = "Start", "Positions", "Market", "Thresholds"
DASHBOARD, LEGS, SCENARIOS, CONDOR, SIGNALS, HISTORY = (
    "Dashboard", "Legs", "Scenarios", "Condor", "Signals", "History")
CONF = "xlwings.conf"
SHEETS = (START, DASHBOARD, POSITIONS, MARKET, THRESHOLDS, LEGS, SCENARIOS, CONDOR, SIGNALS,
          HISTORY, CONF)
INPUT_SHEETS = (POSITIONS, MARKET, THRESHOLDS)
OUTPUT_SHEETS = (DASHBOARD, LEGS, SCENARIOS, CONDOR, SIGNALS, HISTORY)

UNITS = ("Units: vega and vol exposure in $ per vol point; P&L, premium and $delta in $; "
         "theta in $ per calendar day; IV as a decimal (0.18 = 18 %).")

# Sheet title (row 1) and the short line under it (row 2).
SHEET_TITLES: dict[str, tuple[str, str]] = {
    START: ("ALVH risk desk: Adaptive Layered VIX Hedge", "Read me first."),
    DASHBOARD: ("ALVH Dashboard", ""),
    POSITIONS: ("Positions", "One row per leg; blank rows are skipped.\n"
                "Instrument: SPX, SPXW, VIX (option), VX, VXM (futures), ETP.\n"
                "Type: C or P for options; blank for futures and ETPs.\n"
                "Qty signed (negative = short); blank Multiplier = the default.\n"
                "IV as a decimal (0.18); blank IV is solved from Price.\n"
                "Underlying: a VIX option's future expiry (default: same expiry); an "
                "ETP's ticker.\n"
                "Row numbers in #ALVH! messages are this sheet's rows."),
    MARKET: ("Market", "Valuation date and time (New York), SPX and VIX levels, the VIX "
             "futures curve, and the term-structure weighting w = min(WeightCap, "
             "(TRefDays / max(tau, TauFloorDays))^Alpha)."),
    THRESHOLDS: ("Thresholds", "Flag: |vega - target| below Warn x Limit is OK, up to Limit "
                 "WATCH, above BREACH. Limits in $ per vol point; the PORTFOLIO Limit is a "
                 "fraction of the Basis layer's gross |vega|."),
    LEGS: ("Per-leg Greeks", "Position Greeks = unit Greek x multiplier x qty. Delta/Gamma "
           "per point of the leg's own underlying; Vega, Vanna per vol point; Theta, Charm "
           "per day; VolExposure = $ per point of the vol the leg is tied to."),
    SCENARIOS: ("Scenarios", "Full revaluation P&L ($): spot shifts in %, vol shifts in "
                "weighted vol points, DaysForward with time decay."),
    CONDOR: ("Iron condor", "Strikes and break-evens in SPX points; credit in points per "
             "condor; CreditUSD, max profit and max loss in $ for the whole position."),
    SIGNALS: ("Regime signals", "MACD(12,26,9) on the front VIX future, RSI(14) Wilder on "
              "VVIX (TA-Lib values); regime shift = MACD histogram expanding 3 days and VVIX "
              "RSI above 70 or below 30. Sample series: replace with your closes."),
    HISTORY: ("History", "One row per valuation date and layer; Refresh appends today's rows "
              "and replaces rows of the same date. Vega in $ per vol point, P&L in $."),
    CONF: ("", ""),
}


# Start sheet: ("h" heading | "p" paragraph | "b" bullet, text), then one line per sheet.
START_TEXT: tuple[tuple[str, str], ...] = (
    ("h", "What this workbook is"),
    ("p", "A risk desk for an Adaptive Layered VIX Hedge (ALVH): a short-volatility core (an "
          "SPX iron condor) whose negative vega is offset by layers of VIX instruments at "
          "staggered maturities (VIX call spreads, VIX calls or futures, vol ETPs). It shows "
          "the Greeks of every leg, net vega per layer and for the book (raw and "
          "term-structure weighted), vega by maturity bucket, vol-shock P&L by full "
          "revaluation, limit flags (OK / WATCH / BREACH), hedge sizing, the condor's "
          "break-evens, regime signals and a daily history."),
    ("h", "Three ways to use it"),
    ("b", "1. Excel with the alvh_xl add-in (Windows/Mac desktop): the ALVH_* formulas on the "
          "Dashboard and the other sheets recalculate live; the ALVH ribbon tab's Refresh "
          "button writes every block, stamps Last refresh and appends History."),
    ("b", "2. xlwings Lite (Excel on Windows, Mac or the web): install the xlwings Lite "
          "add-in, add the alvh-xl package, and the same ALVH_* functions and the Refresh "
          "script run in the browser."),
    ("b", "3. The command line, no Excel needed: `alvh-xl report THIS_FILE.xlsx` prints the "
          "dashboard and writes a filled copy plus charts; `alvh-xl check THIS_FILE.xlsx` "
          "lists every input problem (sheet, row, column, reason)."),
    ("p", "Without the add-in Excel still opens the file with the stored sample results; the "
          "ALVH_* cells show #NAME? only once Excel recalculates them without alvh_xl. "
          "LibreOffice recalculates array formulas on open: use `alvh-xl template --static` "
          "(values only) or the `alvh-xl report` workbook there."),
    ("h", "Units"),
    ("b", "Vega and vol exposure: $ per 1 vol point. SPX options: position vega; VIX "
          "options: Black-76 delta to the VIX future x 100 x qty; VX futures: multiplier x "
          "qty; ETPs: qty x price x leverage / constant-maturity future."),
    ("b", "Theta and charm per calendar day; rho per 1 % rate; IV as a decimal (0.18); P&L, "
          "premium and $delta in dollars; dates yyyy-mm-dd; times New York."),
    ("b", "Weighted net vega: each exposure x w = min(cap, (TRefDays / max(tau, floor))^"
          "Alpha); tau = expiry for SPX, future expiry + 30 days for VIX-linked legs."),
    ("h", "Sheets"),
)
SHEET_PURPOSE = (
    (DASHBOARD, "net vega raw and weighted, layers with limits and flags, buckets, "
                "vol-shock ladder, hedge sizing, charts"),
    (POSITIONS, "INPUT - the book, one row per leg (Excel Table, name ALVH_POSITIONS)"),
    (MARKET, "INPUT - valuation date, SPX, rates, VIX, VVIX, weighting parameters "
             "(ALVH_MARKET) and the VIX futures curve (ALVH_CURVE)"),
    (THRESHOLDS, "INPUT - limits per layer and for the portfolio (ALVH_THRESHOLDS), hedge "
                 "candidates (ALVH_HEDGES), named scenarios (ALVH_SCENARIOS)"),
    (LEGS, "per-leg Greeks, vol and vol-of-vol exposure, weights, buckets"),
    (SCENARIOS, "named scenarios (FOMC pair, crash, vol crush) and the spot x vol grid"),
    (CONDOR, "iron condor credit, max profit/loss, break-evens at expiry and T+0, "
             "migration under vol shifts"),
    (SIGNALS, "VIX-futures and VVIX closes with MACD(12,26,9), RSI(14) and the regime flag"),
    (HISTORY, "one row per date and layer, appended by Refresh"),
    (CONF, "xlwings settings: UDF Modules = alvh_xl.udfs"),
)


def cell_ref(anchor: str) -> tuple[int, int]:
    """'B3' → (row 3, column 2), both 1-based."""
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", anchor)
    if not m:
        raise ValueError(f"not an A1 cell: {anchor}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def col_letter(col: int) -> str:
    """1 → 'A', 28 → 'AB'."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(row: int, col: int, absolute: bool = False) -> str:
    """(3, 2) → 'B3' (or '$B$3')."""
    d = "$" if absolute else ""
    return f"{d}{col_letter(col)}{d}{row}"


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
    notes: tuple[str, ...] = ()        # one note per sample row, shown right of the table

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

    def column_range(self, header: str) -> str:
        """Sheet-qualified absolute range of a column's data rows: 'Thresholds!$A$5:$A$14'."""
        r, c = cell_ref(self.anchor)
        j = c + self.headers.index(header)
        return f"{quote_sheet(self.sheet)}!{a1(r + 1, j, True)}:{a1(r + self.n_rows - 1, j, True)}"


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

    def column_range(self, col: int, rows: int | None = None) -> str:
        """Relative range of the block's data rows (below the header) in 0-based column ``col``."""
        r, c = cell_ref(self.anchor)
        last = r + (rows or self.max_rows) - 1
        return f"{a1(r + 1, c + col)}:{a1(last, c + col)}"


@dataclass(frozen=True)
class Native:
    """A plain Excel formula (SUM, SUMIF, ABS, IF …) with a label in the cell to its left."""

    key: str
    sheet: str
    anchor: str
    formula: str
    label: str = ""


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


def quote_sheet(sheet: str) -> str:
    """Sheet name as written in a formula ('xlwings.conf' needs quotes, 'Legs' does not)."""
    return sheet if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", sheet) else f"'{sheet}'"


class Name(str):
    """A defined name used as a formula argument."""


P, M, C, T = Name("ALVH_POSITIONS"), Name("ALVH_MARKET"), Name("ALVH_CURVE"), Name(
    "ALVH_THRESHOLDS")
H, S = Name("ALVH_HEDGES"), Name("ALVH_SCENARIOS")
VIXF, VVIX = Name("ALVH_VIXFUT_SERIES"), Name("ALVH_VVIX_SERIES")

VALUATION_DATE = dt.date(2026, 11, 24)

# A one-lot ALVH book on 2026-11-24 (SPX 6712, VIX 16.9, curve in contango):
# Core: 45-DTE SPX iron condor 6150/6125 puts, 7050/7075 calls (25 wide), about -73 $/pt;
# VIX L1: front-month (Dec) VIX 19/24 call spread; VIX L2: second-month (Jan) VIX 22 calls;
# Tail: VXX shares (the 30-day constant-maturity point). Thresholds make L1 OK, Tail WATCH
# and L2 BREACH (over-hedged after the VIX rally that lifted its delta).
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
_MARKET_NOTES = (
    "date of the close being valued", "New York time (default 16:00)", "SPX index level",
    "continuous risk-free rate, decimal", "SPX dividend yield, decimal", "VIX index (spot)",
    "VVIX index", "weighting: reference maturity in days", "weighting: exponent "
    "(0.5 = square-root-of-time, 0 = parallel)", "weighting: shortest tau in days",
    "weighting: largest weight", "VIX option IV move per vol point of shift",
)
_SAMPLE_CURVE = (
    (dt.date(2026, 12, 16), 18.15), (dt.date(2027, 1, 20), 19.25), (dt.date(2027, 2, 17), 19.95),
    (dt.date(2027, 3, 17), 20.45), (dt.date(2027, 4, 21), 20.85), (dt.date(2027, 5, 19), 21.15),
    (dt.date(2027, 6, 16), 21.40), (dt.date(2027, 7, 21), 21.60),
)
_SAMPLE_THRESHOLDS = (
    ("VIX L1", 12, 25, 0.75, None), ("VIX L2", 12, 20, 0.75, None),
    ("Tail", 12, 14, 0.75, None), (PORTFOLIO, 0.08, 0, 0.75, "Core"),
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
    # Header in row 1: the row numbers in '#ALVH! row N' messages are the sheet's rows.
    InputTable("ALVH_POSITIONS", POSITIONS, "A1", POSITION_HEADERS, _SAMPLE_POSITIONS,
               spare_rows=40, excel_table="PositionsTable"),
    InputTable("ALVH_MARKET", MARKET, "A4", ("Field", "Value"), _SAMPLE_MARKET,
               title="Market inputs", notes=_MARKET_NOTES),
    InputTable("ALVH_CURVE", MARKET, "E4", ("Expiry", "Price"), _SAMPLE_CURVE, spare_rows=4,
               title="VIX futures curve"),
    InputTable("ALVH_THRESHOLDS", THRESHOLDS, "A4", ("Layer", "Limit", "Target", "Warn", "Basis"),
               _SAMPLE_THRESHOLDS, spare_rows=6, title="Limits per layer ($ per vol point)"),
    InputTable("ALVH_HEDGES", THRESHOLDS, "A18", POSITION_HEADERS, _SAMPLE_HEDGES, spare_rows=5,
               required=False, title="Hedge candidates (positions schema; Qty ignored)"),
    InputTable("ALVH_SCENARIOS", THRESHOLDS, "A32", ("Name", "SpotPct", "VolPts", "DaysForward"),
               _SAMPLE_SCENARIOS, spare_rows=5, required=False,
               title="Named scenarios (spot %, weighted vol points, days forward)"),
)
INPUT_BY_NAME = {t.name: t for t in INPUTS}

OUTPUTS: tuple[Output, ...] = (
    Output("netvega_raw", DASHBOARD, "B4", "ALVH_NETVEGA", (P, M, C), "Net vega (raw)",
           max_rows=1, max_cols=1),
    Output("netvega_weighted", DASHBOARD, "D4", "ALVH_NETVEGA", (P, M, C, "", True),
           "Net vega (weighted)", max_rows=1, max_cols=1),
    Output("layers", DASHBOARD, "A8", "ALVH_LAYERS", (P, M, C, T),
           "Layers and limits ($ per vol point; Delta = SPX $delta, Gamma = $gamma per 1 %)",
           max_rows=14, max_cols=10),
    Output("buckets", DASHBOARD, "A24", "ALVH_BUCKETS", (P, M, C),
           "Vol exposure by maturity bucket ($ per vol point)", max_rows=10, max_cols=12),
    Output("ladder", DASHBOARD, "A36", "ALVH_SHOCKPNL",
           (P, M, C, tuple(DEFAULT_VOL_SHIFTS), "abs", True),
           "Vol-shock ladder: full revaluation vs linear ($)", max_rows=10, max_cols=12),
    Output("hedges", DASHBOARD, "A48", "ALVH_HEDGE", (P, M, C, T, H),
           "Hedge sizing to the PORTFOLIO target (weighted vega)", max_rows=12, max_cols=12),
    Output("scenarios", SCENARIOS, "A4", "ALVH_SCENARIOPNL", (P, M, C, S),
           "Named scenarios: P&L ($), book and by layer", max_rows=15, max_cols=12),
    Output("grid", SCENARIOS, "A22", "ALVH_GRID", (P, M, C),
           "Spot x vol grid: P&L ($); spot shift % down, weighted vol points across",
           max_rows=14, max_cols=10),
    Output("condor", CONDOR, "A4", "ALVH_CONDOR", (P, M, C), "Iron condors",
           max_rows=8, max_cols=20),
    Output("breakevens", CONDOR, "A15", "ALVH_BREAKEVENS", (P, M, C),
           "T+0 break-even migration under vol shifts (SPX points)", max_rows=10, max_cols=3),
    Output("legs", LEGS, "A4", "ALVH_LEGS", (P, M, C), "Legs", max_rows=60,
           max_cols=len(LEG_COLUMNS)),
    Output("macd", SIGNALS, "E8", "ALVH_MACD", (VIXF,), "MACD(12,26,9), VX front",
           max_rows=130, max_cols=3),
    Output("rsi", SIGNALS, "I9", "ALVH_RSI", (VVIX,), "RSI(14) of VVIX", max_rows=130,
           max_cols=1),
    Output("regime", SIGNALS, "A5", "ALVH_REGIME", (VIXF, VVIX), "Regime", max_rows=1,
           max_cols=2),
)
OUTPUT_BY_KEY = {o.key: o for o in OUTPUTS}

# Series used by the Signals sheet: (sheet, first value cell); dates in the column left of
# the first series, headers in the row above.
SERIES = {"ALVH_VIXFUT_SERIES": (SIGNALS, "B9"), "ALVH_VVIX_SERIES": (SIGNALS, "C9")}
SERIES_LENGTH = 120

LAST_REFRESH = (DASHBOARD, "K2")      # "Last refresh" timestamp written by Refresh/report
VALUATION_CELL = (DASHBOARD, "K3")    # valuation date shown on the dashboard
# xlwings Lite's sheet button for the Refresh script: a text box whose hyperlink points at
# this cell, referenced as "[<shape name>]Dashboard!L2" (XlsxWriter names it after its index
# among the sheet's drawings; tests/test_template.py checks the name in the file).
LITE_BUTTON = (DASHBOARD, "L2", "TextBox 3")
MESSAGE_CELL = (DASHBOARD, "A2")      # readable status / error message of the last refresh
HISTORY_ANCHOR = (HISTORY, "A4")      # history table (one row per date and layer)

CONF_ROWS = (("UDF Modules", "alvh_xl.udfs"),)


def _natives() -> tuple[Native, ...]:
    layers, legs = OUTPUT_BY_KEY["layers"], OUTPUT_BY_KEY["legs"]
    th = INPUT_BY_NAME["ALVH_THRESHOLDS"]
    names = layers.column_range(LAYER_COLUMNS.index("Layer"))
    limits = layers.column_range(LAYER_COLUMNS.index("Limit"))
    raw = OUTPUT_BY_KEY["netvega_raw"].anchor
    target = (f'SUMIF({th.column_range("Layer")},"{PORTFOLIO}",'
              f'{th.column_range("Target")})')
    gap = f"ABS({raw}-{target})"
    warn = f'SUMIF({th.column_range("Layer")},"{PORTFOLIO}",{th.column_range("Warn")})'
    r_leg, c_leg = cell_ref(legs.anchor)

    def leg_sum(column: str) -> Native:
        j = LEG_COLUMNS.index(column)
        return Native(f"legs_sum_{column}", LEGS, a1(r_leg - 1, c_leg + j),
                      f"=SUM({legs.column_range(j)})", "Sum")

    return (
        Native("tolerance", DASHBOARD, "F4", f'=SUMIF({names},"{PORTFOLIO}",{limits})',
               "Tolerance"),
        Native("warn", DASHBOARD, "F5", f"=IF({warn}>0,{warn},{DEFAULT_WARN:g})", "Warn at"),
        Native("portfolio_flag", DASHBOARD, "H4",
               f'=IF({gap}<F5*F4,"OK",IF({gap}<=F4,"WATCH","BREACH"))', "Portfolio"),
        Native("headroom", DASHBOARD, "H5", f"=F4-{gap}", "Headroom"),
        leg_sum("VolExposure"),
        leg_sum("WeightedVolExposure"),
    )


NATIVES: tuple[Native, ...] = _natives()


@dataclass
class Layout:
    """Bundle of the description (lets tests substitute a modified layout)."""

    inputs: tuple[InputTable, ...] = INPUTS
    outputs: tuple[Output, ...] = OUTPUTS
    series: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(SERIES))
    natives: tuple[Native, ...] = NATIVES


LAYOUT = Layout()
