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
from ..book.rules import RULE_HEADERS, default_rules_table
from ..book.xlsx import a1, cell_ref, col_letter  # noqa: F401 (the layout's A1 helpers)
from ..conventions import DEFAULT_VOL_SHIFTS, PORTFOLIO
from ..risk.aggregation import LAYER_COLUMNS
from ..risk.hedging import HEDGE_COLUMNS
from ..risk.valuation import LEG_COLUMNS

START, POSITIONS, MARKET, THRESHOLDS, HEDGES = (
    "Start", "Positions", "Market", "Thresholds", "Hedges")
DASHBOARD, LEGS, SCENARIOS, CONDOR, SIGNALS, HISTORY = (
    "Dashboard", "Legs", "Scenarios", "Condor", "Signals", "History")
CONF = "xlwings.conf"
SHEETS = (START, DASHBOARD, POSITIONS, MARKET, THRESHOLDS, HEDGES, SCENARIOS, LEGS, CONDOR,
          SIGNALS, HISTORY, CONF)
INPUT_SHEETS = (POSITIONS, MARKET, THRESHOLDS, HEDGES)
OUTPUT_SHEETS = (DASHBOARD, LEGS, SCENARIOS, CONDOR, SIGNALS, HISTORY)
OPTIONAL_SHEETS = (HEDGES, SCENARIOS, CONDOR, SIGNALS)     # a missing one skips its part

UNITS = ("Units: vega and vol exposure in $ per vol point; P&L, premium and $delta in $; "
         "theta in $ per calendar day; IV as a decimal (0.18 = 18 %).")

# Sheet title (row 1) and the short line under it (row 2).
SHEET_TITLES: dict[str, tuple[str, str]] = {
    START: ("ALVH risk desk: Adaptive Layered VIX Hedge", "Read me first."),
    DASHBOARD: ("ALVH Dashboard", ""),
    POSITIONS: ("Positions", "One row per leg; blank rows are skipped.\n"
                "Instrument: SPX, SPXW, XSP (mini-SPX, strikes in SPX/10 points), VIX "
                "(option), VX, VXM (VIX futures), ES, MES (S&P futures: SPX delta only), "
                "ETP.\n"
                "Type: C or P for options; blank for futures and ETP shares; C or P on an ETP "
                "row makes it an (American) option on that ETP.\n"
                "Qty signed (negative = short); blank Multiplier = the default (SPX, XSP, VIX "
                "and ETP options 100, VX 1000, VXM 100, ES 50, MES 5, ETP shares 1).\n"
                "IV as a decimal (0.18); blank IV is solved from Price.\n"
                "Underlying: a VIX option's future expiry (default: same expiry; a weekly "
                "without a listed future uses the forward interpolated between the two "
                "futures around it); an ETP's ticker (its options take the ETP price from "
                "the Market sheet's VXX, UVXY … rows).\n"
                "Row numbers in #ALVH! messages are this sheet's rows.\n"
                "LayerRulesTable (left of this text): the layer alvh-xl import-positions "
                "gives each imported leg, first matching rule wins (Instrument, Root, expiry "
                "range, Strategy; blank matches anything; VIX L{n} numbers VIX expiries in "
                "order). The book itself never reads it."),
    MARKET: ("Market", "Valuation date and time (New York), SPX and VIX levels, ETP prices by "
             "ticker (VXX, UVXY … for options on them), the VIX futures curve, optional SPX "
             "forwards (Expiry | Forward | Discount: SPX/SPXW/XSP legs of a listed expiry "
             "are priced Black-76 on them, the others on spot with Rate and DivYield; "
             "alvh-xl mark fills them from a Cboe chain), and the term-structure weighting "
             "w = min(WeightCap, (TRefDays / max(tau, TauFloorDays))^Alpha).\n"
             "ChainFile / CurveFile: Cboe chain downloads / CFE settlement files (';' "
             "between several, relative to this workbook's folder) that Refresh and "
             "alvh-xl report mark the book from first: SpxSpot, the forwards and the curve "
             "of ValuationDate, and the legs' Price and IV when MarkPrices is TRUE. Files "
             "of another day are refused."),
    THRESHOLDS: ("Thresholds", "Flag: |vega - target| below Warn x Limit is OK, up to Limit "
                 "WATCH, above BREACH, on the row's Measure (Raw or Weighted vega). Limits in "
                 "$ per vol point; the PORTFOLIO Limit is a fraction of the Basis layer's "
                 "|vega|. A layer without a row here shows 'no limit'."),
    HEDGES: ("Hedge candidates", "Positions schema, Qty ignored: each row is sized in whole "
             "contracts to bring net vega to the PORTFOLIO target on its Measure."),
    LEGS: ("Per-leg Greeks", "Position Greeks = unit Greek x multiplier x qty. Delta/Gamma "
           "per point of the leg's own underlying; Vega, Vanna per vol point; Theta, Charm "
           "per day; VolExposure = $ per point of the vol the leg is tied to."),
    SCENARIOS: ("Scenarios", "Named scenarios (input table at A1): SpotPct in %, VolPts in "
                "weighted vol points, DaysForward with time decay. P&L by full revaluation."),
    CONDOR: ("Iron condor", "Strikes and break-evens in SPX points; credit in points per "
             "condor; CreditUSD, max profit and max loss in $ for the whole position."),
    SIGNALS: ("Regime signals", "MACD(12,26,9) on the front VIX future, RSI(14) Wilder on "
              "VVIX (TA-Lib values); regime shift = MACD histogram expanding 3 days and VVIX "
              "RSI above 70 or below 30. Sample series (table at A1): paste your closes."),
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
    ("p", "Every input is an Excel Table starting in row 1 of its sheet: rows typed right "
          "under a table extend it, and row numbers in #ALVH! messages are the sheet's rows. "
          "A value typed outside a table is never read silently: the Dashboard headline says "
          "INCOMPLETE and names the cell. Without the add-in Excel still opens the file with "
          "the stored sample results."),
    ("h", "Units"),
    ("b", "Vega and vol exposure: $ per 1 vol point. SPX and XSP options: position vega; "
          "VIX options: Black-76 delta to the VIX future x 100 x qty; VX futures: multiplier "
          "x qty; ETPs: qty x price x leverage / constant-maturity future; options on ETPs: "
          "their delta x 100 x qty x the ETP's exposure per share (their own vega is "
          "vol-of-vol, like a VIX option's); ES/MES futures: none (SPX $delta only)."),
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
    (MARKET, "INPUT - valuation date, SPX, rates, VIX, VVIX, ETP prices, weighting "
             "parameters (ALVH_MARKET), the VIX futures curve (ALVH_CURVE) and optional SPX "
             "forwards (ALVH_FORWARDS)"),
    (THRESHOLDS, "INPUT - limits per layer and for the portfolio (ALVH_THRESHOLDS)"),
    (HEDGES, "INPUT - hedge candidates (ALVH_HEDGES)"),
    (SCENARIOS, "INPUT named scenarios (ALVH_SCENARIOS) with their P&L, and the spot x vol "
                "grid"),
    (LEGS, "per-leg Greeks, vol and vol-of-vol exposure, weights, buckets"),
    (CONDOR, "iron condor credit, max profit/loss, break-evens at expiry and T+0, "
             "migration under vol shifts"),
    (SIGNALS, "INPUT VIX-futures and VVIX closes (SignalsTable) with MACD(12,26,9), RSI(14) "
              "and the regime flag"),
    (HISTORY, "one row per date and layer, appended by Refresh"),
    (CONF, "xlwings settings: UDF Modules = alvh_xl.udfs"),
)


@dataclass(frozen=True)
class InputTable:
    """A named input: an Excel Table (header row at ``anchor``, sample rows, spare blank rows)
    and the defined name that refers to all of it (``<excel_table>[#All]``)."""

    name: str
    sheet: str
    anchor: str
    headers: tuple[str, ...]
    sample: tuple[tuple[Any, ...], ...]
    excel_table: str
    spare_rows: int = 0
    required: bool = True
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

    @property
    def reference(self) -> str:
        """What the defined name refers to: the whole table (header and data), so it grows
        with the table. Written ``T[[#Headers],[#Data]]`` rather than ``T[#All]``, the same
        range in Excel, because LibreOffice Calc 7.4 resolves only the former in names."""
        return f"{self.excel_table}[[#Headers],[#Data]]"


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
H, S, F = Name("ALVH_HEDGES"), Name("ALVH_SCENARIOS"), Name("ALVH_FORWARDS")
VIXF, VVIX = Name("ALVH_VIXFUT_SERIES"), Name("ALVH_VVIX_SERIES")

VALUATION_DATE = dt.date(2026, 11, 24)

# A one-lot ALVH book on 2026-11-24 (SPX 6712, VIX 16.9, curve in contango), one leg of each
# kind of instrument:
# Core: 45-DTE SPX iron condor 6150/6125 puts, 7050/7075 calls (25 wide), about -73 $/pt, the
#   same condor in XSP (mini-SPX, strikes in SPX/10 points, about a tenth of its vega) and one
#   long MES future (SPX $delta only);
# VIX L1: front-month (Dec) VIX 19/24 call spread and a long VIX weekly 13 put (Dec 23: no
#   listed future, valued on the forward interpolated between Dec and Jan; it lowers the layer's
#   exposure); VIX L2: second-month (Jan) VIX 22 calls;
# Tail: VXX shares (the 30-day constant-maturity point) and a VXX 65/75 call spread (American
#   options on VXX, on the VXX price of the Market sheet).
# Thresholds make Core and L1 OK, Tail WATCH and L2 BREACH (over-hedged after the VIX rally
# that lifted its delta); the PORTFOLIO is in BREACH.
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
    ("Tail", "VXX", "ETP", None, None, None, 3, None, None, 44.8, 43.9, "VXX", None, None),
    ("Core", "IC-XSP", "XSP", "P", 615, dt.date(2027, 1, 8), -1, None, 0.205, None, 3.14,
     None, None, None),
    ("Core", "IC-XSP", "XSP", "P", 612, dt.date(2027, 1, 8), 1, None, 0.21, None, 2.80,
     None, None, None),
    ("Core", "IC-XSP", "XSP", "C", 705, dt.date(2027, 1, 8), -1, None, 0.118, None, 1.41,
     None, None, None),
    ("Core", "IC-XSP", "XSP", "C", 708, dt.date(2027, 1, 8), 1, None, 0.116, None, 1.02,
     None, None, None),
    ("Core", "Delta", "MES", None, None, dt.date(2026, 12, 18), 1, None, None, 6724.0, 6690.0,
     None, None, None),
    ("VIX L1", "Wkly-Dec", "VIX", "P", 13, dt.date(2026, 12, 23), 1, None, 0.78, None, 0.12,
     None, None, None),
    ("Tail", "CS-VXX", "ETP", "C", 65, dt.date(2027, 1, 15), 1, None, 0.85, None, 1.20,
     "VXX", None, None),
    ("Tail", "CS-VXX", "ETP", "C", 75, dt.date(2027, 1, 15), -1, None, 0.90, None, 0.65,
     "VXX", None, None),
)
_SAMPLE_MARKET = (
    ("ValuationDate", VALUATION_DATE, "date of the close being valued"),
    ("ValuationTime", dt.time(16, 0), "New York time (default 16:00)"),
    ("SpxSpot", 6712.4, "SPX index level"),
    ("Rate", 0.0385, "continuous risk-free rate, decimal"),
    ("DivYield", 0.0125, "SPX dividend yield, decimal"),
    ("VixSpot", 16.9, "VIX index (spot)"),
    ("Vvix", 92.5, "VVIX index"),
    ("TRefDays", 30, "weighting: reference maturity in days"),
    ("Alpha", 0.5, "weighting: exponent (0.5 = square-root-of-time, 0 = parallel)"),
    ("TauFloorDays", 7, "weighting: shortest tau in days"),
    ("WeightCap", 3, "weighting: largest weight"),
    ("VolOfVolBeta", 0, "VIX and ETP option IV move per vol point of shift"),
    ("VXX", 44.8, "VXX price, for options on VXX (add UVXY, SVXY … the same way)"),
    ("ChainFile", None, "Cboe chain download(s) Refresh marks from (SpxSpot, forwards); "
                        "';' between several; relative to this workbook's folder"),
    ("CurveFile", None, "CFE settlement CSV(s): Refresh fills the curve of ValuationDate"),
    ("MarkPrices", False, "TRUE: Refresh also fills the legs' Price and IV from ChainFile"),
)
_SAMPLE_CURVE = (
    (dt.date(2026, 12, 16), 18.15), (dt.date(2027, 1, 20), 19.25), (dt.date(2027, 2, 17), 19.95),
    (dt.date(2027, 3, 17), 20.45), (dt.date(2027, 4, 21), 20.85), (dt.date(2027, 5, 19), 21.15),
    (dt.date(2027, 6, 16), 21.40), (dt.date(2027, 7, 21), 21.60),
)
_SAMPLE_THRESHOLDS = (
    ("Core", 30, -75, 0.75, "Raw", None), ("VIX L1", 12, 25, 0.75, "Raw", None),
    ("VIX L2", 12, 20, 0.75, "Raw", None), ("Tail", 12, 14, 0.75, "Raw", None),
    (PORTFOLIO, 0.08, 0, 0.75, "Raw", "Core"),
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
    ("Hedge", None, "ETP", "C", 50, dt.date(2027, 1, 15), 0, None, 0.8, None, None, "VXX",
     None, None),
)
_SAMPLE_SCENARIOS = (
    ("FOMC hawkish", -2, 5, 1), ("FOMC dovish", 1.5, -3, 1), ("Vol crush", 1, -5, 0),
    ("Crash", -8, 15, 0), ("Weekend decay", 0, 0, 3),
)
SERIES_LENGTH = 120
SERIES_COLUMNS = ("Date", "VXFront", "VVIX")

INPUTS: tuple[InputTable, ...] = (
    # Every table's header is in row 1: row numbers in '#ALVH! row N' messages are the
    # sheet's rows, for the report and the live formulas alike.
    InputTable("ALVH_POSITIONS", POSITIONS, "A1", POSITION_HEADERS, _SAMPLE_POSITIONS,
               "PositionsTable", spare_rows=40),
    InputTable("ALVH_MARKET", MARKET, "A1", ("Field", "Value", "Note"), _SAMPLE_MARKET,
               "MarketTable"),
    InputTable("ALVH_CURVE", MARKET, "E1", ("Expiry", "Price"), _SAMPLE_CURVE, "CurveTable",
               spare_rows=4),
    # Optional SPX forwards (alvh-xl mark fills them from a Cboe chain): legs of an expiry
    # listed here are priced Black-76 on that forward and discount, the others on spot.
    InputTable("ALVH_FORWARDS", MARKET, "H1", ("Expiry", "Forward", "Discount"), (),
               "ForwardsTable", spare_rows=8, required=False),
    # Optional rules `alvh-xl import-positions --into` assigns imported legs to layers by.
    InputTable("ALVH_LAYERRULES", POSITIONS, "P1", RULE_HEADERS,
               tuple(tuple(v if v != "" else None for v in r) for r in default_rules_table()[1:]),
               "LayerRulesTable",
               spare_rows=6, required=False),
    InputTable("ALVH_THRESHOLDS", THRESHOLDS, "A1", ("Layer", "Limit", "Target", "Warn",
                                                     "Measure", "Basis"),
               _SAMPLE_THRESHOLDS, "ThresholdsTable", spare_rows=6),
    InputTable("ALVH_HEDGES", HEDGES, "A1", POSITION_HEADERS, _SAMPLE_HEDGES, "HedgesTable",
               spare_rows=5, required=False),
    InputTable("ALVH_SCENARIOS", SCENARIOS, "A1", ("Name", "SpotPct", "VolPts", "DaysForward"),
               _SAMPLE_SCENARIOS, "ScenariosTable", spare_rows=5, required=False),
    InputTable("ALVH_SIGNALS", SIGNALS, "A1", SERIES_COLUMNS, (), "SignalsTable",
               spare_rows=SERIES_LENGTH, required=False),
)
INPUT_BY_NAME = {t.name: t for t in INPUTS}
# Help text of an input sheet: (sheet, cell) right of its tables, past the gap column.
HELP = {POSITIONS: "W1", MARKET: "L1", THRESHOLDS: "H1", HEDGES: "P1"}

# Daily series of the Signals sheet: one column each of SignalsTable.
SERIES = {"ALVH_VIXFUT_SERIES": ("SignalsTable", "VXFront"),
          "ALVH_VVIX_SERIES": ("SignalsTable", "VVIX")}

# Every book function takes the optional SPX forwards (ALVH_FORWARDS) as its last argument;
# "" stands for an argument left at its default.
STATUS_ARGS = (P, M, C, T, H, S, VIXF, VVIX, F)
OUTPUTS: tuple[Output, ...] = (
    Output("message", DASHBOARD, "A2", "ALVH_STATUS", ("message", *STATUS_ARGS), "",
           max_rows=1, max_cols=1),
    Output("netvega_raw", DASHBOARD, "B4", "ALVH_NETVEGA", (P, M, C, "", False, F),
           "Net vega (raw)", max_rows=1, max_cols=1),
    Output("netvega_weighted", DASHBOARD, "D4", "ALVH_NETVEGA", (P, M, C, "", True, F),
           "Net vega (weighted)", max_rows=1, max_cols=1),
    Output("tolerance", DASHBOARD, "F4", "ALVH_STATUS", ("tolerance", *STATUS_ARGS), "",
           max_rows=1, max_cols=1),
    Output("status", DASHBOARD, "H4", "ALVH_STATUS", ("flag", *STATUS_ARGS), "",
           max_rows=1, max_cols=1),
    Output("headroom", DASHBOARD, "H5", "ALVH_STATUS", ("headroom", *STATUS_ARGS), "",
           max_rows=1, max_cols=1),
    Output("layers", DASHBOARD, "A8", "ALVH_LAYERS", (P, M, C, T, F),
           "Layers and limits ($ per vol point; Delta = SPX $delta, Gamma = $gamma per 1 %)",
           max_rows=14, max_cols=len(LAYER_COLUMNS)),
    Output("buckets", DASHBOARD, "A24", "ALVH_BUCKETS", (P, M, C, "", F),
           "Vol exposure by maturity bucket ($ per vol point)", max_rows=10, max_cols=12),
    Output("ladder", DASHBOARD, "A36", "ALVH_SHOCKPNL",
           (P, M, C, tuple(DEFAULT_VOL_SHIFTS), "abs", True, "weighted", F),
           "Vol-shock ladder: full revaluation vs linear ($)", max_rows=10, max_cols=12),
    Output("hedges", DASHBOARD, "A48", "ALVH_HEDGE", (P, M, C, T, H, F),
           "Hedge sizing to the PORTFOLIO target (on its Measure)", max_rows=12,
           max_cols=len(HEDGE_COLUMNS)),
    Output("scenarios", SCENARIOS, "F3", "ALVH_SCENARIOPNL", (P, M, C, S, F),
           "Named scenarios: P&L ($), book and by layer", max_rows=15, max_cols=12),
    Output("grid", SCENARIOS, "F22", "ALVH_GRID", (P, M, C, "", "", F),
           "Spot x vol grid: P&L ($); spot shift % down, weighted vol points across",
           max_rows=14, max_cols=10),
    Output("condor", CONDOR, "A4", "ALVH_CONDOR", (P, M, C, "", F), "Iron condors",
           max_rows=12, max_cols=20),
    Output("breakevens", CONDOR, "A19", "ALVH_BREAKEVENS", (P, M, C, "", "", F),
           "T+0 break-even migration under vol shifts (SPX points)", max_rows=10, max_cols=3),
    Output("legs", LEGS, "A4", "ALVH_LEGS", (P, M, C, F), "Legs", max_rows=60,
           max_cols=len(LEG_COLUMNS)),
    Output("regime", SIGNALS, "F3", "ALVH_REGIME", (VIXF, VVIX), "Regime (last day)",
           max_rows=1, max_cols=2),
    Output("macd", SIGNALS, "F8", "ALVH_MACD", (VIXF,), "MACD(12,26,9), VX front",
           max_rows=SERIES_LENGTH + 1, max_cols=3),
    Output("rsi", SIGNALS, "J8", "ALVH_RSI", (VVIX,), "RSI(14) of VVIX",
           max_rows=SERIES_LENGTH, max_cols=1),
)
OUTPUT_BY_KEY = {o.key: o for o in OUTPUTS}

LAST_REFRESH = (DASHBOARD, "K2")      # "Last refresh" timestamp written by Refresh/report
VALUATION_CELL = (DASHBOARD, "K3")    # valuation date shown on the dashboard
# xlwings Lite's sheet button for the Refresh script: a text box whose hyperlink points at
# this cell, referenced as "[<shape name>]Dashboard!L2" (XlsxWriter names it after its index
# among the sheet's drawings; tests/test_template.py checks the name in the file).
LITE_BUTTON = (DASHBOARD, "L2", "TextBox 3")
MESSAGE_CELL = (DASHBOARD, "A2")      # the headline message (ALVH_STATUS "message")
HISTORY_ANCHOR = (HISTORY, "A4")      # history table (one row per date and layer)
HISTORY_TITLE_CELL = (HISTORY, "A3")  # its title (the template's says its rows are a sample)

CONF_ROWS = (("UDF Modules", "alvh_xl.udfs"),)
CONF_ANCHOR = "A1"                    # xlwings.conf: key | value rows from here

# Sheet furniture: what the template builder places outside the blocks and tables.
TITLE_CELL = "A1"                     # each output sheet's title; its short line below it
# The Dashboard cards (outputs above), each with a caption above it and a unit line below.
DASHBOARD_CARDS: tuple[tuple[str, str, str], ...] = (
    ("netvega_raw", "NET VEGA RAW", "$/vol pt, sum of exposures"),
    ("netvega_weighted", "NET VEGA WEIGHTED", "$/vol pt, term-structure weighted"),
    ("tolerance", "TOLERANCE ±", "$/vol pt on the PORTFOLIO measure"),
    ("status", "PORTFOLIO CHECK", ""),  # the headroom output sits under the status card
)
BOOK_LABEL = (DASHBOARD, "A4")        # "Book", left of the cards
UNITS_CELL = (DASHBOARD, "A6")        # the units line (UNITS)
FROZEN_ROWS = {DASHBOARD: 6}          # rows kept in view above the blocks
DASHBOARD_CHARTS = ("P7", "P30")      # vega by bucket, shock ladder: right of the widest block
SIGNALS_TITLE = (SIGNALS, "L1")       # the Signals title, above its charts
SIGNALS_CHARTS = ("L8", "L24")        # the two series, the MACD histogram
# Column widths set by design rather than by contents (A: labels; K: Last refresh and
# valuation date; L: the Lite button).
COLUMN_WIDTHS: dict[str, dict[str, float]] = {DASHBOARD: {"A": 19.0, "K": 18.0, "L": 34.0},
                                              START: {"A": 16.0, "B": 100.0}}
PRINT_AREAS = {DASHBOARD: "A1:AB60"}
PRINT_LAST_COLUMN = {SCENARIOS: "Q", SIGNALS: "T"}   # their print areas end with the data


def _natives() -> tuple[Native, ...]:
    """Plain Excel cross-checks of the blocks: the legs' vol exposures sum to net vega."""
    legs = OUTPUT_BY_KEY["legs"]
    r_leg, c_leg = cell_ref(legs.anchor)

    def leg_sum(column: str) -> Native:
        j = LEG_COLUMNS.index(column)
        return Native(f"legs_sum_{column}", LEGS, a1(r_leg - 1, c_leg + j),
                      f"=SUM({legs.column_range(j)})", "Sum")

    return (leg_sum("VolExposure"), leg_sum("WeightedVolExposure"))


NATIVES: tuple[Native, ...] = _natives()


@dataclass
class Layout:
    """Bundle of the description (lets tests substitute a modified layout)."""

    inputs: tuple[InputTable, ...] = INPUTS
    outputs: tuple[Output, ...] = OUTPUTS
    series: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(SERIES))
    natives: tuple[Native, ...] = NATIVES


LAYOUT = Layout()
