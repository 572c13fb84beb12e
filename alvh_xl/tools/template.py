"""Build ALVH workbooks from the layout (XlsxWriter, macro-free): the template and the
report's values-only copy.

``write_workbook`` lays out every sheet of ``xl/layout.py``: each input as an Excel Table
whose defined name refers to the whole table (``PositionsTable[#All]``, so it grows), and each
output block either as a live dynamic-array ALVH_* formula stored with its computed result
(the template) or as plain values (the report copy). Only the layout's own formulas are ever
written as formulas; every text a user typed is written as text.

The template's values come from the same pipeline as the report (``xl/pipeline``) on the
sample inputs. The writer is deterministic: fixed document dates, empty author, no paths.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..conventions import CALL_PUT_CHOICES, INSTRUMENTS
from ..xl import layout as L
from ..xl.natives import native_values
from .sample import SampleBook, sample_raw, sample_rows, sample_series  # noqa: F401
from .xlsxstyle import (
    BLOCK_DEFAULT,
    BLOCK_FORMATS,
    BLUE,
    CENTRED,
    FLAG_COLOURS,
    FORMATS,
    GREY,
    INPUT_FILL,
    INPUT_FORMATS,
    LIGHT,
    MARKET_FORMATS,
    NAVY,
    NUM2,
    USD,
    VEGA,
    Widths,
    Writer,
    cached,
    column_width,
    display_width,
    is_missing,
    is_numeric_column,
)

BUILD_TIME = dt.datetime(2026, 11, 24, 18, 0, 0)   # fixed: the file is byte-reproducible
EXCEL_CALC_ID = 191029                               # Excel 2019 / Microsoft 365
KIND_PROPERTY = "ALVH.Kind"        # "template", "static" or "report" (the last two: values only)


def build_template(path: str | Path, layout: L.Layout = L.LAYOUT, *, live: bool = True) -> Path:
    """Write the ALVH template workbook to ``path`` and return it.

    ``live=False`` writes a static snapshot: every block as values, no ALVH_* formulas."""
    from ..xl.history_block import SAMPLE_TITLE, history_rows
    from ..xl.pipeline import build_dashboard
    from ..xl.workbook import read_inputs

    raw = sample_raw(layout)
    inputs = read_inputs(SampleBook(raw, layout), layout)
    dash = build_dashboard(inputs, layout)
    history = history_rows(inputs, dash.val)
    title = f"{SAMPLE_TITLE}{L.VALUATION_DATE}"
    from ..fileio import atomic_write

    return atomic_write(path, lambda fh: write_workbook(
        fh, raw, dash.blocks, layout=layout, live=live, history=history, history_title=title,
        kind="template" if live else "static"), binary=True, what="template")


def write_workbook(path: Any, raw: dict[str, list[list[Any]]],
                   blocks: dict[str, list[list[Any]] | None], *, layout: L.Layout = L.LAYOUT,
                   live: bool, history: list[list[Any]] | None = None,
                   history_title: str = "", kind: str = "template",
                   stamp: dt.datetime | None = None, valuation: dt.date | None = None) -> Path:
    """Write a workbook of the layout: input tables holding ``raw`` (name → 2-D cells with
    header), output blocks holding ``blocks`` (live formulas with these cached results, or
    values), the History rows and the stamps. ``path``: a file name or a binary file object.
    Returns ``path``."""
    import xlsxwriter

    target = str(path) if isinstance(path, (str, Path)) else path
    wb = xlsxwriter.Workbook(target, {"strings_to_numbers": False,
                                         "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"title": "ALVH risk desk", "subject": "Adaptive Layered VIX Hedge: net "
                       "vega by layer, shocks, limits, hedge sizing", "author": "",
                       "company": "", "manager": "", "comments": "",
                       "keywords": "ALVH, VIX, vega, xlwings", "created": BUILD_TIME})
    wb.set_custom_property(KIND_PROPERTY, kind)
    # Keep the stored results on open: no forced full recalculation, and the calc engine id
    # of current Excel (an older id makes Excel recalculate everything on load).
    wb.set_calc_mode("auto", calc_id=EXCEL_CALC_ID)
    wb.calc_on_load = False
    w = Writer(wb)
    sheets = {name: wb.add_worksheet(name) for name in L.SHEETS}
    widths = {name: Widths() for name in L.SHEETS}
    for name, ws in sheets.items():
        _page(w, ws, name)
    for t in layout.inputs:
        rows = raw.get(t.name)
        rows = rows[1:] if rows else sample_rows(t)
        write_table(w, sheets[t.sheet], t, rows, widths[t.sheet])
        wb.define_name(t.name, f"={t.reference}")
    for name, (table, column) in layout.series.items():
        wb.define_name(name, f"={table}[{column}]")
    shapes = {}
    for out in layout.outputs:
        cells = blocks.get(out.key)
        if cells is None:
            cells = [[None]]
        ws = sheets[out.sheet]
        if out.title and out.max_rows > 1:
            block_title(w, ws, out.anchor, out.title)
        shapes[out.key] = write_output(w, ws, out, cells, live, widths[out.sheet])
    _natives(w, sheets, blocks, layout, live, widths)
    _help(w, sheets, widths)
    _dashboard(w, sheets[L.DASHBOARD], shapes, live, stamp, valuation)
    _positions_validation(w, sheets[L.POSITIONS], layout, raw)
    _scenarios(w, sheets[L.SCENARIOS], blocks, shapes)
    _signals(w, wb, sheets[L.SIGNALS], layout, raw, shapes)
    _history(w, sheets[L.HISTORY], history, history_title, widths[L.HISTORY])
    _start(w, sheets[L.START])
    conf_r, conf_c = (x - 1 for x in L.cell_ref(L.CONF_ANCHOR))
    for i, (key, value) in enumerate(L.CONF_ROWS):
        sheets[L.CONF].write_string(conf_r + i, conf_c, key, w.fmt(bold=True))
        sheets[L.CONF].write_string(conf_r + i, conf_c + 1, value)
    sheets[L.CONF].set_column(conf_c, conf_c + 1, 22)
    for name, ws in sheets.items():
        if name not in (L.START, L.CONF):
            widths[name].apply(ws, _fixed_widths(name))
    for name, ws in sheets.items():
        if name in (L.POSITIONS, L.MARKET, L.THRESHOLDS, L.HEDGES):
            ws.freeze_panes(1, 0)
    sheets[L.START].activate()
    wb.close()
    return path


def _fixed_widths(sheet: str) -> dict[int, float] | None:
    """The layout's design widths of a sheet's columns, by 0-based column."""
    fixed = L.COLUMN_WIDTHS.get(sheet)
    return {L.cell_ref(f"{c}1")[1] - 1: w for c, w in fixed.items()} if fixed else None


def _cell(anchor: str) -> tuple[int, int]:
    """0-based (row, column) of an A1 cell of the layout."""
    r, c = L.cell_ref(anchor)
    return r - 1, c - 1


def _page(w: Writer, ws, name: str) -> None:
    if name in (L.START, L.DASHBOARD):
        ws.hide_gridlines(2)
    if name == L.CONF:
        return
    if name in (L.DASHBOARD, L.LEGS, L.CONDOR, L.HISTORY, L.START):
        title, line = L.SHEET_TITLES[name]
        r, c = _cell(L.TITLE_CELL)
        ws.write_string(r, c, title, w.fmt(bold=True, font_size=16, font_color=NAVY))
        ws.set_row(r, 24)
        if line and name != L.DASHBOARD:
            ws.write_string(r + 1, c, line, w.fmt(italic=True, font_color=GREY))
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.set_footer("&L&8ALVH risk desk&C&8&A&R&8page &P of &N")


def block_title(w: Writer, ws, anchor: str, text: str) -> None:
    r, c = L.cell_ref(anchor)
    ws.write_string(r - 2, c - 1, text, w.fmt(bold=True, font_size=12, font_color=BLUE))


# --------------------------------------------------------------------------- inputs


def write_table(w: Writer, ws, table: L.InputTable, rows: list[list[Any]],
                widths: Widths) -> None:
    """An input as an Excel Table: header + data rows (at least one), input fill, formats."""
    r0, c0 = (x - 1 for x in L.cell_ref(table.anchor))
    n = len(table.headers)
    rows = [list(r[:n]) + [None] * (n - len(r[:n])) for r in rows] or [[None] * n]
    market = table.name == "ALVH_MARKET"
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(n)]
    numeric = [is_numeric_column(list(col)) for col in columns]
    ws.add_table(r0, c0, r0 + len(rows), c0 + n - 1, {
        "name": table.excel_table, "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h, "header_format": w.head(numeric[j])}
                    for j, h in enumerate(table.headers)]})
    for j, h in enumerate(table.headers):
        widths.add_header(c0 + j, h)
    def number_format(j: int, row: list[Any]) -> str:
        if market and j == 1:
            return MARKET_FORMATS.get(row[0], "General")
        return INPUT_FORMATS.get(table.headers[j], FORMATS.get(table.headers[j], "General"))

    def cell_format(fmt: str, j: int) -> Any:
        extra = {"align": "left"} if market and j == 1 else {}
        return w.num(fmt, bg_color=INPUT_FILL, border=1, border_color="#D9D9D9", **extra)

    put = w.put
    if market:                                  # a format per row in the Value column
        for i, row in enumerate(rows, 1):
            for j, v in enumerate(row):
                fmt = number_format(j, row)
                put(ws, r0 + i, c0 + j, v, cell_format(fmt, j))
                widths.add(c0 + j, display_width(v, fmt))
    else:                                       # one format per column
        fmts = [number_format(j, []) for j in range(n)]
        cell_fmts = [cell_format(f, j) for j, f in enumerate(fmts)]
        for i, row in enumerate(rows, 1):
            for j, v in enumerate(row):
                put(ws, r0 + i, c0 + j, v, cell_fmts[j])
        for j in range(n):
            widths.add(c0 + j, column_width(list(columns[j]), fmts[j]))
    ws.set_row(r0, 20)


def _positions_validation(w: Writer, ws, layout: L.Layout, raw) -> None:
    t = next(t for t in layout.inputs if t.name == "ALVH_POSITIONS")
    r0, c0 = (x - 1 for x in L.cell_ref(t.anchor))
    last = r0 + max(len(raw.get(t.name, [])) - 1, 1)
    col = {h: c0 + j for j, h in enumerate(t.headers)}
    ws.data_validation(r0 + 1, col["Instrument"], last, col["Instrument"], {
        "validate": "list", "source": list(INSTRUMENTS),
        "input_title": "Instrument", "input_message": "SPX/SPXW/XSP option, VIX option, VX or "
        "VXM future, ES or MES future (delta only), ETP (ticker in Underlying; shares, or an "
        "option when Type is C/P)", "error_type": "warning",
        "error_title": "Instrument", "error_message": "Choose one of the listed instruments."})
    ws.data_validation(r0 + 1, col["Type"], last, col["Type"], {
        "validate": "list", "source": list(CALL_PUT_CHOICES), "ignore_blank": True,
        "input_title": "Type", "input_message": "C or P for options (also on an ETP); blank "
        "for futures and ETP shares", "error_title": "Type", "error_message": "C, P, Call or "
        "Put (blank for futures and ETP shares)."})
    ws.data_validation(r0 + 1, col["IV"], last, col["IV"], {
        "validate": "decimal", "criteria": "between", "minimum": 0.0001, "maximum": 5,
        "error_type": "warning", "input_title": "IV", "input_message": "decimal (0.18 = 18 %);"
        " blank = solve from Price", "error_title": "IV", "error_message": "IV is a decimal "
        "between 0 and 5 (0.18 = 18 %)."})
    ws.repeat_rows(r0)


def _help(w: Writer, sheets, widths) -> None:
    """Each input sheet's explanation, right of its tables (outside every table's reach)."""
    for sheet, cell in L.HELP.items():
        title, text = L.SHEET_TITLES[sheet]
        r, c = (x - 1 for x in L.cell_ref(cell))
        ws = sheets[sheet]
        ws.write_string(r, c, title, w.fmt(bold=True, font_size=14, font_color=NAVY))
        for i, line in enumerate(text.split("\n"), 1):
            ws.write_string(r + i, c, line, w.fmt(italic=True, font_color=GREY,
                                                  text_wrap=True, valign="top"))
            ws.set_row(r + i, 15 * max(1, -(-len(line) // 70)))
        widths[sheet].add(c, 72.0, cap=80.0)


# --------------------------------------------------------------------------- outputs


def write_output(w: Writer, ws, out: L.Output, cells: list[list[Any]], live: bool,
                 widths: Widths) -> tuple[int, int]:
    """Formula at the anchor + stored spill values (``live``), or values only, formatted over
    the block's whole area. Returns the block's (rows, cols)."""
    r0, c0 = (x - 1 for x in L.cell_ref(out.anchor))
    n_rows, n_cols = len(cells), max(len(r) for r in cells)
    if out.max_rows == 1 and out.max_cols == 1:          # a single-cell card
        fmt = card_format(w, out.key)
        value = cells[0][0]
        if out.key in CARD_NUMBERS and isinstance(value, (int, float)) \
                and not isinstance(value, bool):      # 20 pt: twice the table font's width
            widths.add(c0, display_width(value, VEGA) * CARD_FONT / 10)
        if live:
            ws.write_dynamic_array_formula(r0, c0, r0, c0, out.formula, fmt,
                                           cached(cells[0][0]))
        else:
            w.put(ws, r0, c0, cells[0][0], fmt)
        return 1, 1
    header = [str(h) for h in cells[0]] if n_rows > 1 and all(
        isinstance(h, str) for h in cells[0]) else None
    overrides = BLOCK_FORMATS.get(out.key, {})
    default = BLOCK_DEFAULT.get(out.key, NUM2)
    body = [r for r in cells[1:] if r and r[0] not in ("Left out", "Note")] if header else []
    numeric = [is_numeric_column([r[j] if j < len(r) else None for r in body])
               for j in range(n_cols)] if header else [False] * n_cols

    def col_format(j: int, row: int) -> Any:
        if header is not None and row == 0:
            name = header[j] if j < len(header) else ""
            return w.out_head(numeric[j] if j < n_cols else False,
                              "center" if name in CENTRED else None)
        name = header[j] if header is not None and j < len(header) else ""
        extra = {"align": "center"} if name in CENTRED else {}
        if name in ("Effect", "Note", "Why"):
            extra = {"indent": 1}
        return w.num(overrides.get(name, FORMATS.get(name, default)), **extra)

    if header is not None:
        ws.set_row(r0, 27)
        for j, h in enumerate(header):
            widths.add_header(c0 + j, h)
    if live:
        # The array's stored range is the block's whole area (sized with room): Excel spills
        # to the result on its first recalculation; LibreOffice Calc, which has no spill,
        # evaluates the formula over exactly this range (an add-in result longer than it says
        # so in its last row, see xl.frames.fit_to_block).
        rows, cols = max(out.max_rows, n_rows), max(out.max_cols, n_cols)
        ws.write_dynamic_array_formula(r0, c0, r0 + rows - 1, c0 + cols - 1, out.formula,
                                       col_format(0, 0), cached(cells[0][0]))
    area_rows = max(out.max_rows, n_rows)             # formatted blanks past the result (after
    for i in range(area_rows):                        # the formula: it pads its range with 0)
        for j in range(max(out.max_cols, n_cols) if out.max_rows > 1 else n_cols):
            if i >= n_rows or j >= len(cells[i]):
                ws.write_blank(r0 + i, c0 + j, None, col_format(j, i))
    head_fmts = [col_format(j, 0) for j in range(n_cols)]
    body_fmts = [col_format(j, 1) for j in range(n_cols)]
    put = w.put
    for i, row in enumerate(cells):
        fmts = head_fmts if i == 0 else body_fmts
        for j, v in enumerate(row):
            if not live and i and is_missing(v):
                continue                # a values-only body: an empty cell looks the same
            if i or j or not live:
                put(ws, r0 + i, c0 + j, v, fmts[j])
    if out.max_rows > 1:                       # widths from the body (not footers), by column
        rows = [r for r in cells[1:] if not (header is not None and r and r[0] in
                                              ("Left out", "Note"))]
        for j in range(n_cols):
            name = header[j] if header is not None and j < len(header) else ""
            fmt = overrides.get(name, FORMATS.get(name, default))
            widths.add(c0 + j, column_width([r[j] for r in rows if j < len(r)], fmt))
    return n_rows, n_cols


def _natives(w: Writer, sheets, blocks, layout: L.Layout, live: bool, widths) -> None:
    """Plain Excel cross-checks (SUM over block columns) with their values computed here."""
    values = native_values(blocks, layout)
    for n in layout.natives:
        ws = sheets[n.sheet]
        r, c = (x - 1 for x in L.cell_ref(n.anchor))
        fmt = w.num(VEGA, bold=True)
        if live:
            ws.write_formula(r, c, n.formula, fmt, cached(values[n.key]))
        else:
            w.put(ws, r, c, values[n.key], fmt)
        ws.write_string(r, c - 1, f"{n.label}:", w.fmt(bold=True, align="right"))


def _dashboard(w: Writer, ws, shapes, live: bool, stamp, valuation) -> None:
    caption = w.fmt(bold=True, font_color=GREY, font_size=8, align="center", valign="bottom")
    small = w.fmt(italic=True, font_color=GREY, font_size=8, align="center")
    cards = [(_cell(L.OUTPUT_BY_KEY[key].anchor), text, unit)
             for key, text, unit in L.DASHBOARD_CARDS]
    for (r, c), text, _ in cards:
        ws.write_string(r - 1, c, text, caption)
    ws.write_string(*_cell(L.BOOK_LABEL[1]), "Book", w.fmt(bold=True, font_size=12,
                                                           font_color=NAVY, valign="vcenter"))
    for (r, c), _, unit in cards:
        if unit:
            ws.write_string(r + 1, c, unit, small)
        ws.set_row(r, 36)
    ws.write_string(*_cell(L.UNITS_CELL[1]), L.UNITS, w.fmt(italic=True, font_color=GREY,
                                                            font_size=8))
    for (_sheet, anchor), text, value, fmt in (
            (L.LAST_REFRESH, "Last refresh", stamp or "not yet", "yyyy-mm-dd hh:mm"),
            (L.VALUATION_CELL, "Valuation date", valuation or L.VALUATION_DATE, "yyyy-mm-dd")):
        r, c = (x - 1 for x in L.cell_ref(anchor))
        ws.write_string(r, c - 1, text, w.fmt(bold=True, font_color=GREY, align="right"))
        w.put(ws, r, c, value, w.num(fmt, bold=True, align="left"))
    ws.freeze_panes(L.FROZEN_ROWS[L.DASHBOARD], 0)
    layers = L.OUTPUT_BY_KEY["layers"]
    from ..risk.aggregation import LAYER_COLUMNS
    from ..risk.hedging import HEDGE_COLUMNS

    _flag_rules(w, ws, layers.column_range(LAYER_COLUMNS.index("Flag")))
    _flag_rules(w, ws, L.OUTPUT_BY_KEY["hedges"].column_range(HEDGE_COLUMNS.index("FlagAfter")))
    _flag_rules(w, ws, L.OUTPUT_BY_KEY["status"].anchor, begins=True)
    _charts(w, ws, shapes)
    _lite_button(w, ws)
    ws.print_area(L.PRINT_AREAS[L.DASHBOARD])
    ws.fit_to_pages(1, 1)


CARD_FONT = 20                                   # points; the tables use 10
CARD_NUMBERS = ("netvega_raw", "netvega_weighted", "tolerance")


def card_format(w: Writer, key: str) -> Any:
    """The big Dashboard cards (net vega, tolerance, status) and the small lines under them."""
    card = dict(bold=True, font_size=CARD_FONT, font_color=NAVY, align="center",
                valign="vcenter", bg_color=LIGHT, border=1, border_color=NAVY)
    if key in CARD_NUMBERS:
        return w.num(VEGA, **card)
    if key == "status":
        return w.fmt(**{**card, "font_size": 14, "text_wrap": True})
    if key == "headroom":
        return w.num('"headroom "#,##0.0;[Red]"headroom "-#,##0.0', italic=True, font_size=8,
                     align="center")
    return w.fmt(italic=True, font_color=BLUE)              # the message line


def _flag_rules(w: Writer, ws, ref: str, begins: bool = False) -> None:
    for text, (bg, fg) in FLAG_COLOURS.items():
        fmt = w.wb.add_format({"bg_color": bg, "font_color": fg, "bold": True})
        if begins:
            ws.conditional_format(ref, {"type": "text", "criteria": "begins with",
                                        "value": text, "format": fmt})
        else:
            ws.conditional_format(ref, {"type": "cell", "criteria": "equal to",
                                        "value": f'"{text}"', "format": fmt})


def _lite_button(w: Writer, ws) -> None:
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


def _charts(w: Writer, ws, shapes) -> None:
    """Native charts: vega by bucket x layer (stacked columns), ladder full vs linear. A block
    that shows an error (the book could not be valued) has no data: its chart is left out
    (a chart without series is not a valid chart part)."""
    sheet = L.DASHBOARD
    b = L.OUTPUT_BY_KEY["buckets"]
    br, bc = (x - 1 for x in L.cell_ref(b.anchor))
    rows, cols = shapes["buckets"]
    if rows < 3 or cols < 3 or shapes["ladder"][0] < 2:     # a block shows #ALVH!: no chart
        return
    last = br + rows - 2                      # skip the Total row
    if cols < 3 or rows < 3:                  # no layer column, no bucket row: an error cell
        return
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
    ws.insert_chart(L.DASHBOARD_CHARTS[0], chart, {"x_offset": 10, "y_offset": 4})

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
    ws.insert_chart(L.DASHBOARD_CHARTS[1], line, {"x_offset": 10, "y_offset": 4})


def _scenarios(w: Writer, ws, blocks, shapes) -> None:
    g = L.OUTPUT_BY_KEY["grid"]
    r, c = (x - 1 for x in L.cell_ref(g.anchor))
    rows, cols = shapes["grid"]
    cells = blocks.get("grid") or [[None]]
    ws.conditional_format(r + 1, c + 1, r + rows - 1, c + cols - 1, {
        "type": "3_color_scale", "min_color": "#F8696B", "mid_type": "num", "mid_value": 0,
        "mid_color": "#FFFFFF", "max_color": "#63BE7B"})
    for j in range(1, cols):
        v = cells[0][j] if j < len(cells[0]) else None
        if isinstance(v, (int, float)):
            ws.write_number(r, c + j, float(v), w.num(
                '"vol "+0;"vol "-0;"vol "0', bold=True, font_color=NAVY, bg_color=LIGHT,
                bottom=2, bottom_color=NAVY, align="right"))
    for i in range(1, rows):
        v = cells[i][0] if i < len(cells) and cells[i] else None
        if isinstance(v, (int, float)):
            ws.write_number(r + i, c, float(v), w.num(
                '"spot "+0"%";"spot "-0"%";"spot "0"%"', bold=True, font_color=NAVY,
                bg_color=LIGHT, align="right"))
    ws.print_area(0, 0, r + g.max_rows, _last_column(L.SCENARIOS))


def _signals(w: Writer, wb, ws, layout: L.Layout, raw, shapes) -> None:
    t = L.INPUT_BY_NAME["ALVH_SIGNALS"]
    r0, c0 = (x - 1 for x in L.cell_ref(t.anchor))
    n = max(len(raw.get(t.name, [])) - 1, 1)
    sheet = t.sheet
    reg = L.OUTPUT_BY_KEY["regime"]
    r, c = (x - 1 for x in L.cell_ref(reg.anchor))
    ws.write_string(r - 1, c, "Flag", w.out_head())
    ws.write_string(r - 1, c + 1, "Why", w.out_head())
    _flag_rules(w, ws, L.a1(r + 1, c + 1))
    rsi = L.OUTPUT_BY_KEY["rsi"]
    r, c = (x - 1 for x in L.cell_ref(rsi.anchor))
    ws.write_string(r - 1, c, "RSI(14)", w.out_head(True))
    chart = wb.add_chart({"type": "line"})
    for j, (colour, y2) in ((1, (NAVY, False)), (2, ("#C55A11", True))):
        chart.add_series({"name": [sheet, r0, c0 + j], "categories": [sheet, r0 + 1, c0,
                          r0 + n, c0], "values": [sheet, r0 + 1, c0 + j, r0 + n, c0 + j],
                          "y2_axis": y2, "line": {"color": colour, "width": 1.5}})
    chart.set_title({"name": "VX front (left) and VVIX (right)",
                     "name_font": {"size": 11, "color": NAVY}})
    chart.set_x_axis({"date_axis": True, "num_format": "mmm-yy", "major_unit": 1,
                      "major_unit_type": "months"})
    chart.set_y_axis({"num_format": "0", "major_gridlines": {"visible": True,
                      "line": {"color": "#E0E0E0"}}})
    chart.set_y2_axis({"num_format": "0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 520, "height": 300})
    ws.insert_chart(L.SIGNALS_CHARTS[0], chart)
    hist = wb.add_chart({"type": "column"})
    m = L.OUTPUT_BY_KEY["macd"]
    mr, mc = (x - 1 for x in L.cell_ref(m.anchor))
    hist.add_series({"name": "MACD histogram", "categories": [sheet, r0 + 1, c0, r0 + n, c0],
                     "values": [sheet, mr + 1, mc + 2, mr + n, mc + 2],
                     "fill": {"color": "#8FAADC"}, "gap": 30, "invert_if_negative": False})
    hist.set_title({"name": "MACD(12,26,9) histogram of VX front",
                    "name_font": {"size": 11, "color": NAVY}})
    hist.set_x_axis({"date_axis": True, "num_format": "mmm-yy", "major_unit": 1,
                     "major_unit_type": "months", "label_position": "low"})
    hist.set_legend({"none": True})
    hist.set_size({"width": 520, "height": 240})
    ws.insert_chart(L.SIGNALS_CHARTS[1], hist)
    tr, tc = _cell(L.SIGNALS_TITLE[1])
    ws.write_string(tr, tc, L.SHEET_TITLES[L.SIGNALS][0], w.fmt(bold=True, font_size=14,
                                                               font_color=NAVY))
    ws.write_string(tr + 1, tc, L.SHEET_TITLES[L.SIGNALS][1], w.fmt(italic=True,
                                                                    font_color=GREY))
    ws.print_area(0, 0, r0 + n, _last_column(L.SIGNALS))


def _history(w: Writer, ws, rows: list[list[Any]] | None, title: str, widths: Widths) -> None:
    sheet, anchor = L.HISTORY_ANCHOR
    r0, c0 = (x - 1 for x in L.cell_ref(anchor))
    if title:
        block_title(w, ws, anchor, title)
    if not rows:
        return
    header = [str(h) for h in rows[0]]
    numeric = [is_numeric_column([r[j] for r in rows[1:]]) for j in range(len(header))]
    for j, h in enumerate(header):
        ws.write_string(r0, c0 + j, h, w.out_head(numeric[j], "center" if h in CENTRED
                                                  else None))
        widths.add_header(c0 + j, h)
    for i, row in enumerate(rows[1:], 1):
        for j, v in enumerate(row):
            fmt = "0%" if header[j] == "Utilization" else (
                USD if header[j].startswith("Shock") or header[j] == "Theta" else
                FORMATS.get(header[j], "General"))
            extra = {"align": "center"} if header[j] in CENTRED else {}
            w.put(ws, r0 + i, c0 + j, v, w.num(fmt, **extra))
            widths.add(c0 + j, display_width(v, fmt))
    if "Flag" in header:
        j = header.index("Flag")
        _flag_rules(w, ws, f"{L.a1(r0 + 2, c0 + j + 1)}:{L.a1(r0 + 5000, c0 + j + 1)}")
    ws.freeze_panes(r0 + 1, 2)
    ws.set_row(r0, 28)


def _last_column(sheet: str) -> int:
    """0-based last column of a sheet's print area (the layout's letter)."""
    return L.cell_ref(f"{L.PRINT_LAST_COLUMN[sheet]}1")[1] - 1


def _start(w: Writer, ws) -> None:
    for col, width in _fixed_widths(L.START).items():
        ws.set_column(col, col, width)
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
