"""Refresh: one code path for every runtime (classic Excel, xlwings Lite/Server, headless files).

``refresh_workbook(io)`` reads the named input tables, computes every output block of the
layout with the same ALVH_* functions the worksheet formulas call, writes them as values to
the output sheets only, appends or replaces the History rows of the valuation date, and
stamps "Last refresh", the valuation date and a status message. Input sheets are never written.

Runtimes: ``main()`` (classic; the ribbon's RunPython calls it) and ``refresh_script(book)``
(xlwings Lite/Server ``@script``) wrap an xlwings ``Book`` in ``XlwingsWorkbook``; the CLI
report wraps an .xlsx in ``FileWorkbook``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import xlwings as xw

from ..errors import AlvhError
from .cache import BOOKS, RESULTS
from .layout import (
    HISTORY_ANCHOR,
    LAST_REFRESH,
    LAYOUT,
    MESSAGE_CELL,
    VALUATION_CELL,
    Layout,
)
from .registry import script
from .workbook import WorkbookInputs, WorkbookIO, evaluate_output, read_inputs, stamp

Progress = Callable[[str], None]
HISTORY_MAX_ROWS = 5000


@dataclass
class RefreshResult:
    """What a refresh did: inputs parsed, blocks written, history rows, and the message shown."""

    inputs: WorkbookInputs | None
    outputs: dict[str, list[list[Any]]] = field(default_factory=dict)
    history_rows: int = 0
    message: str = ""
    ok: bool = True


def refresh_workbook(io: WorkbookIO, *, layout: Layout = LAYOUT, now: dt.datetime | None = None,
                     progress: Progress | None = None) -> RefreshResult:
    """Recompute and write every output block; returns what was done (never raises for
    expected input errors: the message cell says what is wrong)."""
    say = progress or (lambda _msg: None)
    now = now or stamp()
    BOOKS.clear()
    RESULTS.clear()
    try:
        say("ALVH: reading inputs…")
        inputs = read_inputs(io, layout)
    except AlvhError as exc:
        message = f"Refresh failed at {now:%Y-%m-%d %H:%M}: {exc}"
        io.write(*MESSAGE_CELL, [[message]])
        return RefreshResult(None, message=message, ok=False)
    result = RefreshResult(inputs)
    total = len(layout.outputs)
    for i, out in enumerate(layout.outputs, 1):
        say(f"ALVH: computing {out.title or out.key} ({i}/{total})…")
        cells = evaluate_output(out, inputs.raw)
        result.outputs[out.key] = cells
        io.write(out.sheet, out.anchor, _fit(cells, out.max_rows, out.max_cols),
                 clear=(out.max_rows, out.max_cols))
    say("ALVH: writing history…")
    result.history_rows = write_history(io, inputs)
    left_out = [p for p in inputs.problems if p.left_out]
    when = f"{now:%Y-%m-%d %H:%M}"
    if left_out:
        shown = "; ".join(str(p) for p in left_out[:3])
        more = f" (+{len(left_out) - 3} more)" if len(left_out) > 3 else ""
        result.message = (f"Refreshed {when} with {len(left_out)} row(s) left out: "
                          f"{shown}{more}")
        result.ok = False
    else:
        result.message = f"Refreshed {when}: all {len(inputs.positions.legs)} legs valued."
    io.write(*MESSAGE_CELL, [[result.message]])
    io.write(*LAST_REFRESH, [[now]])
    io.write(*VALUATION_CELL, [[inputs.market.valuation.date()]])
    say(result.message)
    return result


def _fit(cells: list[list[Any]], max_rows: int, max_cols: int) -> list[list[Any]]:
    """Cut a block to its area; say so in the last row when rows were cut."""
    rows = [r[:max_cols] for r in cells[:max_rows]]
    if len(cells) > max_rows and max_rows > 1:
        rows[-1] = [f"… {len(cells) - max_rows + 1} more rows: use the ALVH_* formula or the "
                    "CLI report for the full table"] + [None] * (len(rows[-1]) - 1)
    return rows


def history_rows(inputs: WorkbookInputs) -> list[list[Any]]:
    """Header + the History sheet rows (one per layer) of this valuation date."""
    from ..risk.history import history_sheet_rows, snapshot
    from ..risk.valuation import value_book

    val = value_book(inputs.positions, inputs.market, inputs.curve)
    table = history_sheet_rows(snapshot(val, inputs.thresholds))
    return [list(table.columns), *table.astype(object).where(table.notna(), None)
            .values.tolist()]


def write_history(io: WorkbookIO, inputs: WorkbookInputs) -> int:
    """Append this date's rows to the History block, replacing rows of the same date."""
    new = history_rows(inputs)
    header, body = new[0], new[1:]
    sheet, anchor = HISTORY_ANCHOR
    existing = [r for r in io.read_block(sheet, anchor, HISTORY_MAX_ROWS, len(header))
                if any(v not in (None, "") for v in r)]
    date_col = header.index("Date")
    today = str(inputs.market.valuation.date())
    kept = [r for r in existing[1:] if str(_iso(r[date_col])) != today] if existing else []
    rows = sorted(kept + body, key=lambda r: (str(_iso(r[date_col])),))
    io.write(sheet, anchor, [header, *rows], clear=(len(existing) + 1, len(header)))
    return len(body)


def _iso(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


class XlwingsWorkbook:
    """The seam over a live xlwings Book (classic COM, or Lite/Server remote book)."""

    def __init__(self, book: Any):
        self.book = book

    def has_name(self, name: str) -> bool:
        return any(n.name == name for n in self.book.names)

    def _range(self, name: str):
        return self.book.names[name].refers_to_range

    def name_location(self, name: str) -> tuple[str, str]:
        rng = self._range(name)
        return rng.sheet.name, rng.address.replace("$", "")

    def values(self, name: str) -> list[list[Any]]:
        return self._range(name).options(ndim=2).value

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]:
        rng = self.book.sheets[sheet].range(anchor)
        last = rng.end("down") if rng.value is not None else rng
        n = min(rows, max(1, last.row - rng.row + 1))
        return rng.resize(n, cols).options(ndim=2).value

    def write(self, sheet: str, anchor: str, values: list[list[Any]],
              clear: tuple[int, int] = (0, 0)) -> None:
        ws = self.book.sheets[sheet]
        if clear[0] and clear[1]:
            ws.range(anchor).resize(*clear).clear_contents()
        if values:
            ws.range(anchor).value = values


@contextlib.contextmanager
def excel_state(book: Any) -> Iterator[Callable[[str], None]]:
    """Classic Excel: screen updating off, manual calculation, status bar messages; all
    restored in ``finally``."""
    app = book.app
    saved = (app.screen_updating, app.calculation, app.status_bar)
    app.screen_updating = False
    app.calculation = "manual"

    def status(msg: str) -> None:
        app.status_bar = msg

    try:
        yield status
    finally:
        app.screen_updating, app.calculation, app.status_bar = saved


def main() -> None:
    """Refresh the calling workbook (classic Excel: the ALVH ribbon's Refresh button)."""
    import xlwings as xw

    book = xw.Book.caller()
    with excel_state(book) as status:
        result = refresh_workbook(XlwingsWorkbook(book), progress=status)
    if not result.ok:
        with contextlib.suppress(Exception):
            book.app.alert(result.message, title="ALVH Refresh")


@script
def refresh_script(book: xw.Book) -> None:
    """ALVH Refresh for xlwings Lite / Server (bound to the Dashboard's button)."""
    result = refresh_workbook(XlwingsWorkbook(book))
    if not result.ok:
        with contextlib.suppress(Exception):
            book.app.alert(result.message, title="ALVH Refresh")
