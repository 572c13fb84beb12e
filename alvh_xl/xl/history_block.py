"""The workbook's History block: this valuation's rows (one per layer, then PORTFOLIO) and the
block after adding them to the rows already there. Shared by Refresh and the report copy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import WorkbookError
from .layout import HISTORY_ANCHOR, HISTORY_TITLE_CELL, a1, cell_ref
from .workbook import WorkbookInputs

HISTORY_MAX_ROWS = 20_000          # History rows read back (header included): ~16 years
TEXT_COLUMNS = ("Date", "Layer", "Flag")    # every other History column holds numbers
SAMPLE_TITLE = "Sample: the rows Refresh writes for "       # + the sample's ISO date
HISTORY_TITLE = "History: one row per valuation date and layer ($ per vol point, P&L in $)"


def sample_date(title: Any) -> str | None:
    """The ISO date of the template's sample History rows when ``title`` (the block's title
    cell) still says they are a sample; None once a real valuation was written."""
    text = str(title or "")
    return text[len(SAMPLE_TITLE):].strip() or None if text.startswith(SAMPLE_TITLE) else None


def read_title(io: Any) -> Any:
    """The History block's title cell (None when the sheet is missing)."""
    cells = io.read_block(*HISTORY_TITLE_CELL, 1, 1)
    return cells[0][0] if cells and cells[0] else None


def history_rows(inputs: WorkbookInputs, val: Any) -> list[list[Any]]:
    """Header + the History sheet rows (one per layer, then PORTFOLIO) of this valuation."""
    from ..risk.history import history_sheet_rows, snapshot

    table = history_sheet_rows(snapshot(val, inputs.thresholds))
    return [list(table.columns), *table.astype(object).where(table.notna(), None)
            .values.tolist()]


def merge_history(block: list[list[Any]], new: list[list[Any]], date: dt.date,
                  sample: str | None = None) -> list[list[Any]]:
    """The History block after adding ``new`` (header + rows of ``date``) to the rows read
    from a workbook (``block``, header first): other dates kept by column name, same date
    replaced, sorted by date, dates as date cells. ``sample`` (:func:`sample_date`): the
    template's sample rows of that ISO date are dropped — they describe the sample book, not
    the trader's. A column of ``block`` that is not a History column and holds values (the
    user's own) stops the update (``WorkbookError`` naming it): rewriting the block without it
    would lose what was typed there."""
    header, body = new[0], [list(r) for r in new[1:]]
    sheet, anchor = HISTORY_ANCHOR
    if len(block) >= HISTORY_MAX_ROWS:
        raise WorkbookError(f"{sheet} holds {HISTORY_MAX_ROWS - 1} rows or more; move older "
                            "rows to another sheet")
    kept: list[list[Any]] = []
    if block and any(v not in (None, "") for v in block[0]):
        old_header = [str(v).strip() if v is not None else "" for v in block[0]]
        if "Date" not in old_header:
            raise WorkbookError(f"{sheet}!{anchor} does not hold the History header (Date, "
                                "Layer, …)")
        where = {h: j for j, h in enumerate(old_header) if h}
        r0, c0 = cell_ref(anchor)
        for j, h in enumerate(old_header):
            if h not in header and any(r[j] not in (None, "") for r in block):
                raise WorkbookError(
                    f"{sheet}!{a1(r0, c0 + j)} {h or '(no header)'!r} is not a History "
                    f"column and holds values; move it right of column "
                    f"{a1(r0, c0 + len(header) - 1)[:-len(str(r0))]} or clear it")
        today = date.isoformat()
        for r in block[1:]:
            if any(v not in (None, "") for v in r) and \
                    _iso(r[where["Date"]]) not in (today, sample):
                kept.append([r[where[h]] if h in where else None for h in header])
    date_col = header.index("Date")
    rows = sorted(kept + body, key=lambda r: str(_iso(r[date_col])))
    for r in rows:                      # a real date cell, not text, whatever was read back
        r[date_col] = _as_date(r[date_col])
    return [list(header), *rows]


def history_cell_notes(block: list[list[Any]], header: list[str], date: dt.date) -> list[str]:
    """Notes naming each cell of the rows kept from ``block`` (other dates than ``date``) that
    holds text or an Excel error where a History number belongs: kept as typed, and said."""
    if not block or "Date" not in [str(v).strip() if v is not None else "" for v in block[0]]:
        return []
    sheet, anchor = HISTORY_ANCHOR
    r0, c0 = cell_ref(anchor)
    old = [str(v).strip() if v is not None else "" for v in block[0]]
    numeric = [j for j, h in enumerate(old) if h in header and h not in TEXT_COLUMNS]
    notes = []
    for i, r in enumerate(block[1:], start=1):
        if _iso(r[old.index("Date")]) == date.isoformat():
            continue                                  # replaced by this valuation's rows
        for j in numeric:
            v = r[j]
            if v not in (None, "") and (isinstance(v, bool) or not isinstance(v, (int, float))):
                notes.append(f"{sheet}!{a1(r0 + i, c0 + j)} holds {v!r} where {old[j]} (a "
                             "number) belongs; kept as typed")
    return notes


def _as_date(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip()[:10])
        except ValueError:
            return v
    return v


def _iso(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v
