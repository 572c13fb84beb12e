"""Build ``workbooks/alvh_template.xlsx`` from the layout (XlsxWriter, macro-free).

Every ALVH_* block is a live dynamic-array formula stored with its computed result: the
anchor cell carries the formula and the top-left value, the rest of the spill is stored as
plain values (what Excel itself saves), so Excel before recalculation, LibreOffice and file
previews all show the sample's numbers. The values come from ``evaluate_outputs`` on the
same 2-D cells the file contains (dates as the datetimes openpyxl reads back).

The writer is deterministic: fixed document dates, empty author, no absolute paths.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from ..conventions import INSTRUMENTS
from ..xl import layout as L
from ..xl.natives import native_values
from ..xl.workbook import evaluate_outputs, read_inputs
from .sample import SampleBook, sample_raw, sample_series  # noqa: F401 (re-exported)

NAVY, BLUE, LIGHT, INPUT_FILL, GREY = "#1F3864", "#2F5597", "#D9E1F2", "#FFF8DC", "#595959"
FLAG_COLOURS = {"OK": ("#C6EFCE", "#006100"), "WATCH": ("#FFEB9C", "#9C5700"),
                "BREACH": ("#FFC7CE", "#9C0006"), "REGIME SHIFT": ("#FFC7CE", "#9C0006"),
                "NORMAL": ("#C6EFCE", "#006100")}
BUILD_TIME = dt.datetime(2026, 11, 24, 18, 0, 0)   # fixed: the file is byte-reproducible
EXCEL_CALC_ID = 191029                               # Excel 2019 / Microsoft 365
TYPE_CHOICES = ("C", "P", "Call", "Put")

# Number formats by column header (output blocks and input tables).
VEGA, USD, NUM2, PCT = "#,##0.0;[Red]-#,##0.0", "$#,##0;[Red]-$#,##0", "#,##0.00", "0.0%"
FORMATS: dict[str, str] = {
    **dict.fromkeys(("RawVega", "WeightedVega", "VolOfVolVega", "VolExposure",
                     "WeightedVolExposure", "VolOfVolExposure", "ExposurePerContract",
                     "WeightedVegaAfter", "RawVegaAfter", "Residual", "Limit"), VEGA),
    **dict.fromkeys(("PnL", "FullPnL", "LinearPnL", "Premium", "PnLDown10", "PnLUp10",
                     "Value", "CreditUSD", "MaxProfit", "MaxLoss", "Extrinsic"), USD),
    **dict.fromkeys(("Price", "UnderlyingPrice", "EntryPrice", "Credit", "Leverage", "Beta",
                     "Weight", "Rho", "Vanna", "Volga", "Charm", "Gamma", "Delta", "Vega",
                     "Theta", "MACD", "Signal", "Hist", "T0Low", "T0High", "BreakevenLow",
                     "BreakevenHigh", "T0BreakevenLow", "T0BreakevenHigh"), NUM2),
    **dict.fromkeys(("Utilization", "ReturnOnRisk", "ProbBetween"), "0%"),
    **dict.fromkeys(("Expiry", "Date"), "yyyy-mm-dd"),
    "IV": PCT, "T": "0.000", "DTE": "0", "MaturityDays": "0", "Qty": "#,##0;[Red]-#,##0",
    "Contracts": "+#,##0;[Red]-#,##0;0", "Shift": "+0;-0;0", "SpotPct": '+0.0"%";-0.0"%";0"%"',
    "VolPts": "+0.0;-0.0;0", "DaysForward": "0", "Multiplier": "#,##0", "Strike": "General",
    "Row": "0", "Field": "@",
}
# Layer-level blocks: $delta, $gamma and theta are dollars.
BLOCK_FORMATS = {"layers": {"Delta": USD, "Gamma": USD, "Theta": USD}}
BLOCK_DEFAULT = {"buckets": VEGA, "ladder": USD, "scenarios": USD, "grid": USD, "legs": NUM2,
                 "macd": NUM2, "rsi": "0.0"}
INPUT_FORMATS = {"Limit": "General", "Target": "General", "Warn": "0.00"}
MARKET_FORMATS = {"ValuationDate": "yyyy-mm-dd", "ValuationTime": "hh:mm", "SpxSpot": NUM2,
                  "Rate": "0.00%", "DivYield": "0.00%", "VixSpot": NUM2, "Vvix": NUM2,
                  "Alpha": NUM2, "VolOfVolBeta": NUM2}
SHEET_WIDTH = {L.POSITIONS: 14, L.MARKET: 6, L.THRESHOLDS: 12, L.LEGS: 24, L.SCENARIOS: 9,
               L.CONDOR: 19, L.SIGNALS: 12, L.HISTORY: 15}
WRAP_BLOCKS: tuple[str, ...] = ()
ALIGN = {"Flag": {"align": "center", "bold": True}, "Action": {"align": "center"},
         "Effect": {"indent": 1}, "Note": {"indent": 1}, "Status": {"align": "center"}}
WIDTHS = {"Layer": 11, "Strategy": 11, "Instrument": 10, "Type": 6, "Strike": 9, "Expiry": 11,
          "Qty": 7, "Multiplier": 10, "IV": 8, "Price": 9, "EntryPrice": 10, "Underlying": 12,
          "Leverage": 9, "Beta": 7}


# --------------------------------------------------------------------------- the writer


class _Writer:
    """Formats (created once per style) and the cell-writing helpers of one workbook."""

    def __init__(self, wb):
        self.wb = wb
        self._cache: dict[tuple, Any] = {}

    def fmt(self, **props) -> Any:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({"font_name": "Calibri", "font_size": 10,
                                                   **props})
        return self._cache[key]

    def num(self, num_format: str | None, **props) -> Any:
        return self.fmt(num_format=num_format or "General", **props)

    def head(self) -> Any:
        return self.fmt(bold=True, font_color="#FFFFFF", bg_color=NAVY, border=1,
                        border_color="#BFBFBF", text_wrap=True, valign="vcenter")

    def out_head(self) -> Any:
        return self.fmt(bold=True, font_color=NAVY, bg_color=LIGHT, bottom=2,
                        bottom_color=NAVY, text_wrap=True, valign="vcenter")

    def put(self, ws, row: int, col: int, value: Any, cell_format=None) -> None:
        """Write a value of any type (0-based row/col); None leaves a formatted blank."""
        if is_missing(value):
            ws.write_blank(row, col, None, cell_format)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, cell_format)
        elif isinstance(value, (dt.date, dt.time)):
            ws.write_datetime(row, col, value, cell_format)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            ws.write_number(row, col, float(value), cell_format)
        else:
            ws.write_string(row, col, str(value), cell_format)

    def titles(self, ws, sheet: str) -> None:
        title, line = L.SHEET_TITLES[sheet]
        ws.write_string(0, 0, title, self.fmt(bold=True, font_size=16, font_color=NAVY))
        if line:
            width = SHEET_WIDTH.get(sheet, 10)
            ws.merge_range(1, 0, 1, width - 1, line, self.fmt(
                italic=True, font_color=GREY, text_wrap=True, valign="top"))
            ws.set_row(1, 27)
        ws.set_row(0, 24)

    def block_title(self, ws, anchor: str, text: str) -> None:
        r, c = L.cell_ref(anchor)
        ws.write_string(r - 2, c - 1, text, self.fmt(bold=True, font_size=12, font_color=BLUE))


def is_missing(v: Any) -> bool:
    """None, NaN or NaT (an engine table's missing value): written as an empty cell."""
    return v is None or (not isinstance(v, (str, bool)) and v != v)


def _cached(v: Any) -> Any:
    """Cached value of a formula cell as XlsxWriter stores it (str or number)."""
    if is_missing(v):
        return ""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return (dt.datetime(v.year, v.month, v.day) - dt.datetime(1899, 12, 30)).days
    return v


def write_output(w: _Writer, ws, out: L.Output, cells: list[list[Any]],
                 live: bool = True) -> tuple[int, int]:
    """Formula at the anchor + stored spill values, formatted over the block's whole area
    (``live=False``: the anchor holds its value, no formula). Returns the block's (rows, cols).
    """
    r0, c0 = (x - 1 for x in L.cell_ref(out.anchor))
    n_rows, n_cols = len(cells), max(len(r) for r in cells)
    header = [str(h) for h in cells[0]] if n_rows > 1 and all(
        isinstance(h, str) for h in cells[0]) else None
    overrides = BLOCK_FORMATS.get(out.key, {})
    default = BLOCK_DEFAULT.get(out.key, NUM2)

    def col_format(j: int, row: int) -> Any:
        if header is not None and row == 0:
            return w.out_head() if j < n_cols else None
        name = header[j] if header is not None and j < len(header) else ""
        extra = {"text_wrap": True, "valign": "top"} if out.key in WRAP_BLOCKS else {}
        extra.update(ALIGN.get(name, {}))
        return w.num(overrides.get(name, FORMATS.get(name, default)), **extra)

    area_rows = max(out.max_rows, n_rows)
    for i in range(area_rows):
        for j in range(max(out.max_cols, n_cols) if out.max_rows > 1 else n_cols):
            if i >= n_rows or j >= len(cells[i]):
                ws.write_blank(r0 + i, c0 + j, None, col_format(j, i))
    if header is not None:
        ws.set_row(r0, 27)
    if live:
        ws.write_dynamic_array_formula(r0, c0, r0 + n_rows - 1, c0 + n_cols - 1, out.formula,
                                       col_format(0, 0), _cached(cells[0][0]))
    for i, row in enumerate(cells):
        for j, v in enumerate(row):
            if i or j or not live:
                w.put(ws, r0 + i, c0 + j, v, col_format(j, i))
    return n_rows, n_cols


def write_input(w: _Writer, ws, table: L.InputTable) -> None:
    """Header + sample rows + spare rows, light input fill, per-column formats."""
    r0, c0 = (x - 1 for x in L.cell_ref(table.anchor))
    if table.title:
        w.block_title(ws, table.anchor, table.title)
    market = table.name == "ALVH_MARKET"
    rows = list(table.sample) + [(None,) * len(table.headers)] * table.spare_rows
    for j, h in enumerate(table.headers):
        ws.write_string(r0, c0 + j, h, w.head())
    for i, row in enumerate(rows, 1):
        for j, v in enumerate(row):
            fmt = (MARKET_FORMATS.get(row[0], "General") if market and j == 1
                   else INPUT_FORMATS.get(table.headers[j],
                                          FORMATS.get(table.headers[j], "General")))
            w.put(ws, r0 + i, c0 + j, v, w.num(fmt, bg_color=INPUT_FILL, border=1,
                                                border_color="#D9D9D9"))
    for i, note in enumerate(table.notes, 1):
        ws.write_string(r0 + i, c0 + len(table.headers), note,
                        w.fmt(italic=True, font_color=GREY))


def build_template(path: str | Path, layout: L.Layout = L.LAYOUT, *, live: bool = True) -> Path:
    """Write the ALVH template workbook to ``path`` and return it.

    ``live=False`` writes a static snapshot: every block as values, no ALVH_* formulas (for
    viewers that recalculate array formulas without alvh_xl, such as LibreOffice)."""
    import io

    import xlsxwriter

    from ..fileio import atomic_write

    path = Path(path)
    raw = sample_raw(layout)
    outputs = evaluate_outputs(raw, layout)
    buffer = io.BytesIO()                   # written to `path` atomically once complete
    wb = xlsxwriter.Workbook(buffer, {"strings_to_numbers": False,
                                         "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"title": "ALVH risk desk template", "subject": "Adaptive Layered VIX "
                       "Hedge: net vega by layer, shocks, limits, hedge sizing",
                       "author": "", "company": "", "manager": "", "comments": "",
                       "keywords": "ALVH, VIX, vega, xlwings", "created": BUILD_TIME})
    # Keep the stored results on open: no forced full recalculation, and the calc engine id
    # of current Excel (an older id makes Excel recalculate everything on load, which shows
    # #NAME? where alvh_xl is not installed). Live inputs still recalculate as usual.
    wb.set_calc_mode("auto", calc_id=EXCEL_CALC_ID)
    wb.calc_on_load = False
    w = _Writer(wb)
    sheets = {name: wb.add_worksheet(name) for name in L.SHEETS}
    for name, ws in sheets.items():
        if name in (L.START, L.DASHBOARD):
            ws.hide_gridlines(2)
        if name != L.CONF:
            if name != L.POSITIONS:            # its table starts in row 1 (see layout)
                w.titles(ws, name)
            ws.set_landscape()
            ws.set_paper(9)
            ws.fit_to_pages(1, 0)
            ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
            ws.set_footer("&L&8ALVH risk desk&C&8&A&R&8page &P of &N")
    for t in layout.inputs:
        write_input(w, sheets[t.sheet], t)
        wb.define_name(t.name, f"={L.quote_sheet(t.sheet)}!{_abs(t.ref)}")
    shapes = {}
    for out in layout.outputs:
        ws = sheets[out.sheet]
        if out.title and out.max_rows > 1:
            w.block_title(ws, out.anchor, out.title)
        shapes[out.key] = write_output(w, ws, out, outputs[out.key], live)
    _positions_sheet(w, sheets[L.POSITIONS], layout)
    _market_sheet(w, sheets[L.MARKET])
    _thresholds_sheet(w, sheets[L.THRESHOLDS])
    _dashboard_sheet(w, sheets[L.DASHBOARD], outputs, shapes, live)
    _natives(w, sheets, raw, outputs, layout)
    _legs_sheet(w, sheets[L.LEGS], outputs)
    _scenarios_sheet(w, sheets[L.SCENARIOS], outputs, shapes)
    _condor_sheet(w, sheets[L.CONDOR])
    _signals_sheet(w, wb, sheets[L.SIGNALS], layout, shapes)
    _history_sheet(w, sheets[L.HISTORY], raw, layout)
    _start_sheet(w, sheets[L.START])
    for i, (key, value) in enumerate(L.CONF_ROWS):
        sheets[L.CONF].write_string(i, 0, key, w.fmt(bold=True))
        sheets[L.CONF].write_string(i, 1, value)
    sheets[L.CONF].set_column(0, 1, 22)
    sheets[L.START].activate()
    wb.close()
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()), binary=True, what="template")
    return path


def _abs(ref: str) -> str:
    return ":".join(L.a1(*L.cell_ref(p), absolute=True) for p in ref.split(":"))


# --------------------------------------------------------------------------- sheets


def _positions_sheet(w: _Writer, ws, layout: L.Layout) -> None:
    t = next(t for t in layout.inputs if t.name == "ALVH_POSITIONS")
    r0, c0 = (x - 1 for x in L.cell_ref(t.anchor))
    last = r0 + t.n_rows - 1
    ws.add_table(r0, c0, last, c0 + len(t.headers) - 1, {
        "name": t.excel_table, "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h} for h in t.headers]})
    write_input(w, ws, t)            # values over the table body (the table keeps them)
    for j, h in enumerate(t.headers):
        ws.set_column(c0 + j, c0 + j, WIDTHS.get(h, 10))
    ws.set_column(0, 0, 12)
    ws.freeze_panes(r0 + 1, 0)
    col = {h: c0 + j for j, h in enumerate(t.headers)}
    ws.data_validation(r0 + 1, col["Instrument"], last, col["Instrument"], {
        "validate": "list", "source": list(INSTRUMENTS),
        "input_title": "Instrument", "input_message": "SPX/SPXW option, VIX option, VX or "
        "VXM future, ETP (ticker in Underlying)",
        "error_title": "Instrument", "error_message": "Choose SPX, SPXW, VIX, VX, VXM or ETP."})
    ws.data_validation(r0 + 1, col["Type"], last, col["Type"], {
        "validate": "list", "source": list(TYPE_CHOICES), "ignore_blank": True,
        "input_title": "Type", "input_message": "C or P for options; blank for futures and "
        "ETPs", "error_title": "Type", "error_message": "C, P, Call or Put (blank for "
        "futures and ETPs)."})
    ws.data_validation(r0 + 1, col["IV"], last, col["IV"], {
        "validate": "decimal", "criteria": "between", "minimum": 0.0001, "maximum": 5,
        "error_type": "warning", "input_title": "IV", "input_message": "decimal (0.18 = 18 %);"
        " blank = solve from Price", "error_title": "IV", "error_message": "IV is a decimal "
        "between 0 and 5 (0.18 = 18 %)."})
    ws.repeat_rows(r0)
    guide = c0 + len(t.headers) + 1
    title, text = L.SHEET_TITLES[L.POSITIONS]
    ws.write_string(r0, guide, title, w.fmt(bold=True, font_size=14, font_color=NAVY))
    for i, line in enumerate(text.split("\n"), 1):
        ws.write_string(r0 + i, guide, line, w.fmt(italic=True, font_color=GREY))
    ws.set_column(guide, guide, 62)
    ws.print_area(0, 0, r0 + len(t.sample) + 3, guide)


def _market_sheet(w: _Writer, ws) -> None:
    ws.set_column("A:A", 15)
    ws.set_column("B:B", 12)
    ws.set_column("C:C", 46)
    ws.set_column("D:D", 3)
    ws.set_column("E:F", 11)
    ws.freeze_panes(4, 0)


def _thresholds_sheet(w: _Writer, ws) -> None:
    ws.set_column("A:A", 16)
    ws.set_column("B:N", 11)
    ws.set_column("D:D", 12)


def _dashboard_sheet(w: _Writer, ws, outputs, shapes, live: bool) -> None:
    big = w.num(VEGA, bold=True, font_size=20, font_color=NAVY, align="center",
                valign="vcenter", bg_color=LIGHT, border=1, border_color=NAVY)
    caption = w.fmt(bold=True, font_color=GREY, font_size=8, align="center", valign="bottom")
    small = w.fmt(italic=True, font_color=GREY, font_size=8, align="center")
    for col, text in ((1, "NET VEGA RAW"), (3, "NET VEGA WEIGHTED"), (5, "TOLERANCE ±"),
                      (7, "PORTFOLIO CHECK")):
        ws.write_string(2, col, text, caption)
    for key in ("netvega_raw", "netvega_weighted"):
        out = L.OUTPUT_BY_KEY[key]
        r, c = (x - 1 for x in L.cell_ref(out.anchor))
        v = outputs[key][0][0]
        if live:
            ws.write_dynamic_array_formula(r, c, r, c, out.formula, big, _cached(v))
        else:
            w.put(ws, r, c, v, big)
    ws.write_string(3, 0, "Book", w.fmt(bold=True, font_size=12, font_color=NAVY,
                                        valign="vcenter"))
    ws.write_string(4, 1, "$/vol pt, sum of exposures", small)
    ws.write_string(4, 3, "$/vol pt, term-structure weighted", small)
    ws.set_row(3, 36)
    msg_r, msg_c = (x - 1 for x in L.cell_ref(L.MESSAGE_CELL[1]))
    how = ("formulas are live (ALVH_*); Refresh or `alvh-xl report` writes the same blocks "
           "as values." if live else "static snapshot: values only, no formulas.")
    ws.write_string(msg_r, msg_c, f"Template sample, valued on {L.VALUATION_DATE:%Y-%m-%d}: "
                    f"{how}", w.fmt(italic=True, font_color=BLUE))
    ws.write_string(5, 0, L.UNITS, w.fmt(italic=True, font_color=GREY, font_size=8))
    for (_sheet, anchor), text, value, fmt in (
            (L.LAST_REFRESH, "Last refresh", "not yet", "yyyy-mm-dd hh:mm"),
            (L.VALUATION_CELL, "Valuation date", L.VALUATION_DATE, "yyyy-mm-dd")):
        r, c = (x - 1 for x in L.cell_ref(anchor))
        ws.write_string(r, c - 1, text, w.fmt(bold=True, font_color=GREY, align="right"))
        w.put(ws, r, c, value, w.num(fmt, bold=True, align="left"))
    ws.set_column("A:A", 19)
    ws.set_column("B:I", 12.5)
    ws.set_column("J:J", 13)
    ws.set_column("K:K", 18)       # Last refresh (yyyy-mm-dd hh:mm)
    ws.set_column("L:L", 34)
    ws.set_column("M:M", 2)
    ws.freeze_panes(6, 0)
    # Flags: colour by text (works on live and stored values).
    layers = L.OUTPUT_BY_KEY["layers"]
    flag_col = layers.column_range(9)
    _flag_rules(w, ws, flag_col)
    _flag_rules(w, ws, "H4")
    _charts(w, ws, shapes)
    _lite_button(w, ws)
    ws.print_area("A1:T60")
    ws.fit_to_pages(1, 1)


def _flag_rules(w: _Writer, ws, ref: str) -> None:
    for text, (bg, fg) in FLAG_COLOURS.items():
        ws.conditional_format(ref, {"type": "cell", "criteria": "equal to",
                                    "value": f'"{text}"',
                                    "format": w.wb.add_format({"bg_color": bg,
                                                               "font_color": fg,
                                                               "bold": True})})


def _lite_button(w: _Writer, ws) -> None:
    """The Dashboard's Refresh button for xlwings Lite (a hyperlinked text box)."""
    sheet, cell, _name = L.LITE_BUTTON
    r, c = (x - 1 for x in L.cell_ref(cell))
    ws.insert_textbox(r, c, "Refresh (xlwings Lite)", {
        "width": 230, "height": 30, "x_offset": 4, "y_offset": 2,
        "url": f"internal:'{sheet}'!{cell}", "tip": "Runs alvh_xl's refresh_script in xlwings Lite",
        "font": {"bold": True, "color": "white", "size": 10},
        "align": {"vertical": "middle", "horizontal": "center"},
        "fill": {"color": NAVY}, "line": {"none": True},
        "description": "Refresh button for xlwings Lite"})


def _charts(w: _Writer, ws, shapes) -> None:
    """Native charts: vega by bucket x layer (stacked columns), ladder full vs linear."""
    sheet = L.DASHBOARD
    b = L.OUTPUT_BY_KEY["buckets"]
    br, bc = (x - 1 for x in L.cell_ref(b.anchor))
    rows, cols = shapes["buckets"]
    last = br + rows - 2                      # skip the Total row
    chart = w.wb.add_chart({"type": "column", "subtype": "stacked"})
    for j in range(1, cols - 1):              # one series per layer (not Total)
        chart.add_series({"name": [sheet, br, bc + j],
                          "categories": [sheet, br + 1, bc, last, bc],
                          "values": [sheet, br + 1, bc + j, last, bc + j],
                          "gap": 60})
    chart.set_title({"name": "Vol exposure by bucket and layer ($/vol pt)",
                     "name_font": {"size": 11, "color": NAVY}})
    chart.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True,
                      "line": {"color": "#E0E0E0"}}})
    chart.set_x_axis({"label_position": "low"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 330})
    ws.insert_chart("L7", chart, {"x_offset": 10, "y_offset": 4})

    lad = L.OUTPUT_BY_KEY["ladder"]
    lr, lc = (x - 1 for x in L.cell_ref(lad.anchor))
    rows, _ = shapes["ladder"]
    line = w.wb.add_chart({"type": "line"})
    for j, colour, dash in ((1, NAVY, "solid"), (2, "#C00000", "dash")):
        line.add_series({"name": [sheet, lr, lc + j],
                         "categories": [sheet, lr + 1, lc, lr + rows - 1, lc],
                         "values": [sheet, lr + 1, lc + j, lr + rows - 1, lc + j],
                         "line": {"color": colour, "width": 2.25, "dash_type": dash},
                         "marker": {"type": "circle", "size": 5,
                                    "fill": {"color": colour}, "border": {"color": colour}}})
    line.set_title({"name": "Vol-shock ladder: full revaluation vs linear ($)",
                    "name_font": {"size": 11, "color": NAVY}})
    line.set_x_axis({"name": "weighted vol shift (points)", "num_format": "+0;-0;0",
                     "label_position": "low"})
    line.set_y_axis({"num_format": "$#,##0", "major_gridlines": {"visible": True,
                     "line": {"color": "#E0E0E0"}}})
    line.set_legend({"position": "bottom"})
    line.set_size({"width": 620, "height": 330})
    ws.insert_chart("L30", line, {"x_offset": 10, "y_offset": 4})


def _natives(w: _Writer, sheets, raw, outputs, layout: L.Layout) -> None:
    """Plain Excel formulas with values computed here the way Excel computes them."""
    values = native_values(outputs, raw, layout)
    card = {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter",
            "border": 1, "border_color": NAVY}
    fmts = {"tolerance": w.num(VEGA, font_color=NAVY, bg_color=LIGHT, **card),
            "warn": w.num('"warn at "0%', italic=True, font_color=GREY, font_size=8,
                          align="center"),
            "portfolio_flag": w.fmt(**card),
            "headroom": w.num('"headroom "#,##0.0;[Red]"headroom "-#,##0.0', italic=True,
                              font_size=8, align="center")}
    for n in layout.natives:
        ws = sheets[n.sheet]
        r, c = (x - 1 for x in L.cell_ref(n.anchor))
        fmt = fmts.get(n.key, w.num(VEGA, bold=True))
        ws.write_formula(r, c, n.formula, fmt, _cached(values[n.key]))
        if n.sheet == L.LEGS:
            ws.write_string(r, c - 1, "Sum:", w.fmt(bold=True, align="right"))


def _legs_sheet(w: _Writer, ws, outputs) -> None:
    ws.set_column("A:A", 5)
    ws.set_column("B:D", 10)
    ws.set_column("E:E", 5)
    ws.set_column("F:AG", 10)
    ws.set_column("L:L", 13)
    ws.set_row(3, 28)
    ws.freeze_panes(4, 2)
    out = L.OUTPUT_BY_KEY["legs"]
    ws.set_paper(8)                        # A3: 33 columns stay readable on one page width
    ws.print_area(0, 0, out.max_rows + 3, out.max_cols - 1)
    ws.repeat_rows(3)


def _scenarios_sheet(w: _Writer, ws, outputs, shapes) -> None:
    ws.set_column("A:A", 16)
    ws.set_column("B:L", 11)
    g = L.OUTPUT_BY_KEY["grid"]
    r, c = (x - 1 for x in L.cell_ref(g.anchor))
    rows, cols = shapes["grid"]
    ws.conditional_format(r + 1, c + 1, r + rows - 1, c + cols - 1, {
        "type": "3_color_scale", "min_color": "#F8696B", "mid_type": "num", "mid_value": 0,
        "mid_color": "#FFFFFF", "max_color": "#63BE7B"})
    for j in range(1, cols):
        ws.write_number(r, c + j, float(outputs["grid"][0][j]), w.num(
            '"vol "+0;"vol "-0;"vol "0', bold=True, font_color=NAVY, bg_color=LIGHT,
            bottom=2, bottom_color=NAVY, align="right"))
    for i in range(1, rows):
        ws.write_number(r + i, c, float(outputs["grid"][i][0]), w.num(
            '"spot "+0"%";"spot "-0"%";"spot "0"%"', bold=True, font_color=NAVY,
            bg_color=LIGHT))
    ws.print_area(0, 0, r + g.max_rows, 11)


def _condor_sheet(w: _Writer, ws) -> None:
    ws.set_column("A:A", 12)
    ws.set_column("B:C", 15)
    ws.set_column("D:R", 11)
    ws.set_column("S:S", 50)


def _signals_sheet(w: _Writer, wb, ws, layout: L.Layout, shapes) -> None:
    series = sample_series()
    (sheet, first), = [(s, a) for n, (s, a) in layout.series.items()
                       if n == "ALVH_VIXFUT_SERIES"]
    r0, c0 = (x - 1 for x in L.cell_ref(first))
    head = w.head()
    ws.write_string(r0 - 2, 0, "Sample daily closes", w.fmt(bold=True, font_size=12,
                                                               font_color=BLUE))
    ws.write_string(r0 - 1, c0 - 1, "Date", head)
    for i, d in enumerate(series["dates"]):
        ws.write_datetime(r0 + i, c0 - 1, d, w.num("yyyy-mm-dd"))
    for name, (_, anchor) in layout.series.items():
        r, c = (x - 1 for x in L.cell_ref(anchor))
        ws.write_string(r - 1, c, {"ALVH_VIXFUT_SERIES": "VX front",
                                   "ALVH_VVIX_SERIES": "VVIX"}[name], head)
        for i, v in enumerate(series[name]):
            ws.write_number(r + i, c, float(v), w.num(NUM2, bg_color=INPUT_FILL))
        wb.define_name(name, f"={sheet}!{L.a1(r + 1, c + 1, True)}:"
                             f"{L.a1(r + L.SERIES_LENGTH, c + 1, True)}")
    rsi = L.OUTPUT_BY_KEY["rsi"]
    r, c = (x - 1 for x in L.cell_ref(rsi.anchor))
    ws.write_string(r - 1, c, "RSI(14)", w.out_head())
    ws.write_string(r - 2, c, "VVIX RSI", w.fmt(bold=True, font_size=12, font_color=BLUE))
    reg = L.OUTPUT_BY_KEY["regime"]
    r, c = (x - 1 for x in L.cell_ref(reg.anchor))
    ws.write_string(r - 1, c, "Flag", w.out_head())
    ws.write_string(r - 1, c + 1, "Why", w.out_head())
    ws.write_string(r - 2, c, "Regime (last day)", w.fmt(bold=True, font_size=12,
                                                         font_color=BLUE))
    _flag_rules(w, ws, L.a1(r + 1, c + 1))
    ws.set_column("A:A", 14)
    ws.set_column("B:C", 9)
    ws.set_column("D:D", 2)
    ws.set_column("E:G", 9)
    ws.set_column("H:H", 2)
    ws.set_column("I:I", 9)
    ws.set_column("J:J", 2)
    ws.set_column("K:K", 14)
    ws.set_column("L:L", 60)
    ws.freeze_panes(r0, 0)
    chart = wb.add_chart({"type": "line"})
    n = L.SERIES_LENGTH
    chart.add_series({"name": [sheet, r0 - 1, c0], "categories": [sheet, r0, c0 - 1,
                      r0 + n - 1, c0 - 1], "values": [sheet, r0, c0, r0 + n - 1, c0],
                      "line": {"color": NAVY, "width": 1.5}})
    chart.add_series({"name": [sheet, r0 - 1, c0 + 1], "categories": [sheet, r0, c0 - 1,
                      r0 + n - 1, c0 - 1], "values": [sheet, r0, c0 + 1, r0 + n - 1, c0 + 1],
                      "y2_axis": True, "line": {"color": "#C55A11", "width": 1.25}})
    chart.set_title({"name": "VX front (left) and VVIX (right)",
                     "name_font": {"size": 11, "color": NAVY}})
    chart.set_x_axis({"date_axis": True, "num_format": "mmm-yy", "major_unit": 1,
                      "major_unit_type": "months"})
    vx, vvix = series["ALVH_VIXFUT_SERIES"], series["ALVH_VVIX_SERIES"]
    chart.set_y_axis({"num_format": "0", "min": 5 * int(vx.min() // 5),
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    chart.set_y2_axis({"num_format": "0", "min": 10 * int(vvix.min() // 10)})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 520, "height": 300})
    ws.insert_chart("K8", chart)
    hist = wb.add_chart({"type": "column"})
    m = L.OUTPUT_BY_KEY["macd"]
    mr, mc = (x - 1 for x in L.cell_ref(m.anchor))
    hist.add_series({"name": "MACD histogram", "categories": [sheet, r0, c0 - 1, r0 + n - 1,
                     c0 - 1], "values": [sheet, mr + 1, mc + 2, mr + n, mc + 2],
                     "fill": {"color": "#8FAADC"}, "gap": 30,
                     "invert_if_negative": False})
    hist.set_title({"name": "MACD(12,26,9) histogram of VX front",
                    "name_font": {"size": 11, "color": NAVY}})
    hist.set_x_axis({"date_axis": True, "num_format": "mmm-yy", "major_unit": 1,
                     "major_unit_type": "months", "label_position": "low"})
    hist.set_legend({"none": True})
    hist.set_size({"width": 520, "height": 240})
    ws.insert_chart("K24", hist)
    ws.print_area(0, 0, r0 + n, 11)


def _history_sheet(w: _Writer, ws, raw, layout: L.Layout) -> None:
    from ..xl.refresh import history_rows

    rows = history_rows(read_inputs(SampleBook(raw, layout), layout))
    sheet, anchor = L.HISTORY_ANCHOR
    r0, c0 = (x - 1 for x in L.cell_ref(anchor))
    w.block_title(ws, anchor, f"Sample: the rows Refresh writes for {L.VALUATION_DATE}")
    header = [str(h) for h in rows[0]]
    for j, h in enumerate(header):
        ws.write_string(r0, c0 + j, h, w.out_head())
    for i, row in enumerate(rows[1:], 1):
        for j, v in enumerate(row):
            fmt = "0%" if header[j] == "Utilization" else (
                USD if header[j].startswith("Shock") or header[j] == "Theta" else
                FORMATS.get(header[j], "General"))
            w.put(ws, r0 + i, c0 + j, v, w.num(fmt))
    if "Flag" in header:
        j = header.index("Flag")
        _flag_rules(w, ws, f"{L.a1(r0 + 2, c0 + j + 1)}:{L.a1(r0 + 5000, c0 + j + 1)}")
    ws.set_column(0, 0, 11)
    ws.set_column(1, len(header), 11)
    ws.freeze_panes(r0 + 1, 2)
    ws.set_row(r0, 28)


def _start_sheet(w: _Writer, ws) -> None:
    ws.set_column("A:A", 16)
    ws.set_column("B:B", 100)
    row = 2
    for kind, text in L.START_TEXT:
        if kind == "h":
            row += 1
            ws.write_string(row, 0, text, w.fmt(bold=True, font_size=12, font_color=BLUE))
        else:
            ws.merge_range(row, 0, row, 1, text, w.fmt(text_wrap=True, valign="top",
                                                       indent=1 if kind == "b" else 0))
            ws.set_row(row, 15 * max(1, -(-len(text) // 125)))
        row += 1
    link = w.fmt(font_color="#0563C1", underline=1, bold=True)
    for sheet, text in L.SHEET_PURPOSE:
        ws.write_url(row, 0, f"internal:{L.quote_sheet(sheet)}!A1", link, sheet)
        ws.write_string(row, 1, text, w.fmt(text_wrap=True))
        row += 1
    ws.print_area(0, 0, row, 1)
    ws.fit_to_pages(1, 1)
    ws.set_portrait()
