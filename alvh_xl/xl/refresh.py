"""Refresh: one code path for every runtime (classic Excel, xlwings Lite/Server, headless files).

``refresh_workbook(io)`` reads the named input tables, computes every output block of the
layout with the same ALVH_* functions the worksheet formulas call, writes them as values to
the output sheets only, appends or replaces the History rows of the valuation date, and
stamps "Last refresh", the valuation date and a status message. Input sheets are never written.
Expected problems (a bad input row, a missing name) never raise: the message cell says what
is wrong, and every block that can still be computed is written.

Runtimes: ``main()`` (classic; the ribbon's RunPython calls it) and ``refresh_script(book)``
(xlwings Lite/Server ``@script``) wrap an xlwings ``Book`` in ``XlwingsWorkbook``; the CLI
report wraps an .xlsx in ``FileWorkbook``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlwings as xw

from ..conventions import ERROR_PREFIX
from ..errors import AlvhError, WorkbookError
from ..risk.aggregation import INCOMPLETE
from .cache import BOOKS, RESULTS
from .frames import fit
from .history_block import (
    HISTORY_MAX_ROWS,
    HISTORY_TITLE,
    history_cell_notes,
    history_rows,
    merge_history,
    read_title,
    sample_date,
)
from .layout import (
    HISTORY_ANCHOR,
    HISTORY_TITLE_CELL,
    LAST_REFRESH,
    LAYOUT,
    LITE_BUTTON,
    MESSAGE_CELL,
    VALUATION_CELL,
    Layout,
    Output,
)
from .marking import mark_inputs
from .pipeline import Dashboard, build_dashboard
from .registry import script
from .workbook import WorkbookInputs, WorkbookIO, read_inputs, stamp

Progress = Callable[[str], None]
TITLE = "ALVH Refresh"


@dataclass
class RefreshResult:
    """What a refresh did: the dashboard computed, blocks written, history rows, message.

    ``errors``: output key → the '#ALVH! …' text its block shows instead of values;
    ``live``: output keys left to their live ALVH_* formulas (not overwritten).
    """

    inputs: WorkbookInputs | None
    outputs: dict[str, list[list[Any]]] = field(default_factory=dict)
    history_rows: int = 0
    message: str = ""
    ok: bool = True
    errors: dict[str, str] = field(default_factory=dict)
    live: list[str] = field(default_factory=list)
    dashboard: Dashboard | None = None


def refresh_workbook(io: WorkbookIO, *, layout: Layout = LAYOUT, now: dt.datetime | None = None,
                     progress: Progress | None = None) -> RefreshResult:
    """Recompute and write every output block; returns what was done (never raises for
    expected input errors: the message cell says what is wrong)."""
    say = progress or (lambda _msg: None)
    now = now or stamp()
    when = f"{now:%Y-%m-%d %H:%M}"
    BOOKS.clear()
    RESULTS.clear()
    try:
        say("ALVH: reading inputs…")
        inputs = read_inputs(io, layout)
    except AlvhError as exc:
        # An ALVH workbook (every required name defined) that cannot be read is INCOMPLETE
        # and its cards are retracted; nothing more is written into one that is not.
        alvh = all(io.has_name(t.name) for t in layout.inputs if t.required)
        message = f"{INCOMPLETE + ': ' if alvh else ''}Refresh failed at {when}: {exc}"
        io.write(*MESSAGE_CELL, [[message]])
        if alvh:
            _retract_headline(io, layout)
        say(message)
        return RefreshResult(None, message=message, ok=False)
    say("ALVH: marking the book from the files the Market sheet names…")
    inputs = mark_inputs(inputs, workbook_folder(io), layout, io=io)
    say("ALVH: valuing the book and computing the blocks…")
    dash = build_dashboard(inputs, layout)
    result = RefreshResult(inputs, dashboard=dash)
    sheets = _sheets(io)
    for out in layout.outputs:
        cells = dash.blocks.get(out.key)
        if sheets is not None and out.sheet not in sheets:
            continue                   # an optional sheet deleted: its part is skipped
        if cells is None:              # its input is absent: say so where the block was
            cells = [[f"Skipped: {dash.skipped.get(out.key, 'input absent')}"]]
        result.outputs[out.key] = cells
        if cells and cells[0] and isinstance(cells[0][0], str) and \
                cells[0][0].startswith(ERROR_PREFIX):
            result.errors[out.key] = cells[0][0]
        if _holds_live_formula(io, out):
            result.live.append(out.key)    # Excel recalculates it; never overwrite a formula
            continue
        io.write(out.sheet, out.anchor, fit(cells, out.max_rows, out.max_cols),
                 clear=(out.max_rows, out.max_cols))
    if getattr(io, "values_only", False):
        _write_native_values(io, result, inputs, layout)
    say("ALVH: writing history…")
    notes = list(dash.notes)
    if dash.val is not None:
        try:
            result.history_rows = write_history(io, inputs, dash.val, notes)
        except AlvhError as exc:
            notes.append(f"History not updated: {exc}")
    else:
        notes.append("History not updated: the book was not valued")
    head = dash.headline
    failures = [*(inputs.marks.problems if inputs.marks else []),
                *(n for n in notes if n.startswith("History not updated"))]
    result.ok = not head.incomplete and not failures
    result.message = f"Refreshed {when}. {head.message}"
    if notes:
        result.message += " Notes: " + joined_notes(notes)
        message = message_block(layout)
        if message is not None and not _holds_live_formula(io, message):
            io.write(*MESSAGE_CELL, [[head.message + " Notes: " + joined_notes(notes)]])
    io.write(*LAST_REFRESH, [[now]])
    if dash.val is not None:
        io.write(*VALUATION_CELL, [[dash.val.market.valuation.date()]])
    say(result.message)
    return result


MAX_NOTES_CHARS = 2000       # of notes in the message cell (Excel holds 32,767 per cell)


def joined_notes(notes: list[str]) -> str:
    """Notes for the message cell, ' | '-separated, the tail counted rather than cut mid-way."""
    out, used = [], 0
    for i, n in enumerate(notes):
        if used + len(n) > MAX_NOTES_CHARS and out:
            rest = len(notes) - i
            out.append(f"and {rest} more note{'s' if rest != 1 else ''} (alvh-xl report "
                       "--json lists them all)")
            break
        out.append(n)
        used += len(n) + 3
    return " | ".join(out)


def workbook_folder(io: Any) -> Path | None:
    """The folder of the workbook (relative ChainFile/CurveFile names); None when the
    runtime has no file system path for it (xlwings Lite, a workbook never saved)."""
    path = getattr(io, "path", None)
    if path is None and hasattr(io, "book"):
        full = str(getattr(io.book, "fullname", "") or "")
        path = Path(full) if full and Path(full).is_absolute() else None
    return Path(path).resolve().parent if path is not None else None


def message_block(layout: Layout) -> Output | None:
    """The layout's message block (the headline message at MESSAGE_CELL), if any."""
    return next((o for o in layout.outputs if (o.sheet, o.anchor) == MESSAGE_CELL), None)


HEADLINE_FUNCTIONS = ("ALVH_STATUS", "ALVH_NETVEGA")     # the Dashboard's cards


def _retract_headline(io: WorkbookIO, layout: Layout) -> None:
    """The workbook could not be read: the headline cards holding values from an earlier
    Refresh (no live formula) must not keep showing its flag and net vega as today's."""
    sheets = _sheets(io)
    for out in layout.outputs:
        if sheets is not None and out.sheet not in sheets:
            continue
        if out.function not in HEADLINE_FUNCTIONS or (out.sheet, out.anchor) == MESSAGE_CELL \
                or _holds_live_formula(io, out):
            continue
        text = INCOMPLETE if out.key == "status" else \
            f"{ERROR_PREFIX} not computed: Refresh could not read the workbook (see message)"
        io.write(out.sheet, out.anchor, [[text]], clear=(1, 1))


def _sheets(io: WorkbookIO) -> set[str] | None:
    names = getattr(io, "sheet_names", None)
    return set(names()) if names else None


def _write_native_values(io: WorkbookIO, result: RefreshResult, inputs: WorkbookInputs,
                         layout: Layout) -> None:
    """A values-only copy holds the native cross-check cells as values too, recomputed here
    from the fresh blocks; live workbooks keep their Excel formulas."""
    from .natives import native_values

    values = native_values(result.outputs, layout)
    for n in layout.natives:
        io.write(n.sheet, n.anchor, [[values.get(n.key)]])


def _holds_live_formula(io: WorkbookIO, out: Output) -> bool:
    """True when the block's anchor holds its own ALVH_* formula (a live, spilling workbook in
    classic Excel). Seams that cannot read formulas (files opened for values, xlwings'
    remote engine) answer None: the block then receives static values."""
    read = getattr(io, "formula_at", None)
    formula = read(out.sheet, out.anchor) if read else None
    return bool(formula) and out.function in str(formula).upper()


def write_history(io: WorkbookIO, inputs: WorkbookInputs, val: Any,
                  notes: list[str] | None = None) -> int:
    """Write this date's rows into the History block, replacing rows of the same date.

    Older rows are kept, matched to the current header by column name, and everything is
    sorted by date; a kept cell holding text or an error where a number belongs is named in
    ``notes``. Returns the number of rows written for this date.
    """
    new = history_rows(inputs, val)
    sheet, anchor = HISTORY_ANCHOR
    block = io.read_block(sheet, anchor, HISTORY_MAX_ROWS, len(new[0]))
    day = val.market.valuation.date()
    sample = sample_date(read_title(io))
    rows = merge_history(block, new, day, sample)
    if notes is not None:
        notes.extend(history_cell_notes(block, new[0], day))
        if sample and sample != day.isoformat():
            notes.append(f"History: the template's sample rows of {sample} were removed")
    io.write(sheet, anchor, rows, clear=(len(block), len(new[0])))
    if sample:
        io.write(*HISTORY_TITLE_CELL, [[HISTORY_TITLE]])
    return len(new) - 1


class XlwingsWorkbook:
    """The seam over a live xlwings Book (classic COM, or Lite/Server remote book)."""

    def __init__(self, book: Any):
        self.book = book

    def has_name(self, name: str) -> bool:
        return any(n.name == name for n in self.book.names)

    @property
    def reads_back_writes(self) -> bool:
        """Whether a read after a write sees it: desktop Excel (COM) does; xlwings' remote
        engine (Lite/Server) queues writes as actions and reads the payload it was sent."""
        return getattr(getattr(self.book.app, "engine", None), "name", None) == "excel"

    def _range(self, name: str):
        try:
            return self.book.names[name].refers_to_range
        except Exception as exc:  # COM and the remote engine raise their own types
            raise WorkbookError(f"defined name {name} does not refer to one range") from exc

    def name_location(self, name: str) -> tuple[str, str]:
        rng = self._range(name)
        return rng.sheet.name, rng.address.replace("$", "")

    def values(self, name: str) -> list[list[Any]]:
        """Current values of the name (a table's whole extent); Excel errors as their text."""
        return self._range(name).options(ndim=2, err_to_str=True).value

    def sheet_names(self) -> list[str]:
        return [ws.name for ws in self.book.sheets]

    def used_rows(self, sheet: str) -> int:
        ws = self._sheet(sheet)
        return ws.used_range.last_cell.row if ws is not None else 0

    def _sheet(self, sheet: str, create: bool = False):
        for ws in self.book.sheets:
            if ws.name.casefold() == sheet.casefold():
                return ws
        return self.book.sheets.add(sheet, after=self.book.sheets[-1]) if create else None

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]:
        """Rows from ``anchor`` down to the sheet's last used row (≤ ``rows``): a blank row
        inside the block does not end it (End(xlDown) would stop there, and the rows below
        would be written over)."""
        ws = self._sheet(sheet)
        if ws is None:
            return []
        top = ws.range(anchor)
        n = max(1, min(rows, ws.used_range.last_cell.row - top.row + 1))
        return top.resize(n, cols).options(ndim=2, err_to_str=True).value

    def formula_at(self, sheet: str, anchor: str) -> str | None:
        """The formula in one cell where the engine can read it synchronously (desktop Excel,
        engine "excel"); None on xlwings' remote engine (Lite/Server), whose payload carries
        values only."""
        if getattr(getattr(self.book.app, "engine", None), "name", None) != "excel":
            return None
        ws = self._sheet(sheet)
        formula = ws.range(anchor).formula if ws is not None else None
        return formula if isinstance(formula, str) and formula.startswith("=") else None

    def write(self, sheet: str, anchor: str, values: list[list[Any]],
              clear: tuple[int, int] = (0, 0)) -> None:
        """Write values; text that Excel would take as a formula (or a number, a date) is
        written with Excel's own leading apostrophe, so it stays the text it is."""
        ws = self._sheet(sheet, create=True)
        if clear[0] and clear[1]:
            ws.range(anchor).resize(*clear).clear_contents()
        if values:
            ws.range(anchor).value = [[as_text_cell(v) for v in row] for row in values]


    def resize_table(self, name: str, ref: str) -> None:
        """Make the Excel Table behind input ``name`` cover ``ref`` (header row included);
        xlwings' Table.resize (classic and remote engines)."""
        from .layout import INPUT_BY_NAME

        sheet, _ = self.name_location(name)
        ws = self._sheet(sheet)
        ws.tables[INPUT_BY_NAME[name].excel_table].resize(ws.range(ref))


def as_text_cell(v: Any) -> Any:
    """A value as Excel stores it when typed: strings beginning with '=', '+', '-', '@', a
    quote, a tab or a carriage return (OWASP's formula-injection prefixes) get Excel's leading
    apostrophe (the cell shows the text, never runs it)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "'", "\t", "\r"):
        return "'" + v
    return v


@contextlib.contextmanager
def excel_state(book: Any) -> Iterator[Callable[[str], None]]:
    """Classic Excel: screen updating off, manual calculation, status bar messages; each
    setting is restored in ``finally`` (one failing restore does not stop the others)."""
    app = book.app
    saved: list[tuple[str, Any]] = []
    try:
        saved.append(("status_bar", app.status_bar))
    except Exception:  # an engine without a status bar: nothing to show or restore
        pass
    for attr, value in (("screen_updating", False), ("calculation", "manual")):
        try:
            saved.append((attr, getattr(app, attr)))
            setattr(app, attr, value)
        except Exception:  # cosmetic/speed settings: refresh without them
            pass

    def status(msg: str) -> None:
        with contextlib.suppress(Exception):
            app.status_bar = msg

    failed: list[Exception] = []
    try:
        yield status
    finally:
        for attr, value in reversed(saved):
            try:
                setattr(app, attr, value)
            except Exception as exc:
                failed.append(exc)
    if failed:
        raise failed[0]


def _refresh_book(book: Any, progress: Progress | None = None) -> RefreshResult:
    """Refresh an xlwings Book; an unexpected error (a bug) still ends as a readable message
    in the message cell instead of a silent failure."""
    io = XlwingsWorkbook(book)
    try:
        return refresh_workbook(io, progress=progress)
    except Exception as exc:
        traceback.print_exc()
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        message = (f"Refresh failed: internal error {type(exc).__name__}: {exc} "
                   f"({Path(frame.filename).name}:{frame.lineno}); please report it")
        with contextlib.suppress(Exception):
            io.write(*MESSAGE_CELL, [[message]])
        return RefreshResult(None, message=message, ok=False)


def _alert(book: Any, result: RefreshResult) -> None:
    if not result.ok:
        with contextlib.suppress(Exception):
            book.app.alert(result.message, title=TITLE)


def main() -> None:
    """Refresh the calling workbook (classic Excel: the ALVH ribbon's Refresh button)."""
    book = xw.Book.caller()
    with excel_state(book) as status:
        result = _refresh_book(book, progress=status)
    _alert(book, result)


@script(button=f"[{LITE_BUTTON[2]}]{LITE_BUTTON[0]}!{LITE_BUTTON[1]}")
def refresh_script(book: xw.Book) -> None:
    """ALVH Refresh for xlwings Lite / Server (bound to the Dashboard's button)."""
    _alert(book, _refresh_book(book))
