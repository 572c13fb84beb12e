"""The workbook's History block: this valuation's rows (one per layer, then PORTFOLIO) and the
block after adding them to the rows already there. Shared by Refresh and the report copy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import WorkbookError
from .layout import HISTORY_ANCHOR
from .workbook import WorkbookInputs

HISTORY_MAX_ROWS = 20_000          # History rows read back (header included): ~16 years


def history_rows(inputs: WorkbookInputs, val: Any) -> list[list[Any]]:
    """Header + the History sheet rows (one per layer, then PORTFOLIO) of this valuation."""
    from ..risk.history import history_sheet_rows, snapshot

    table = history_sheet_rows(snapshot(val, inputs.thresholds))
    return [list(table.columns), *table.astype(object).where(table.notna(), None)
            .values.tolist()]


def merge_history(block: list[list[Any]], new: list[list[Any]], date: dt.date
                  ) -> list[list[Any]]:
    """The History block after adding ``new`` (header + rows of ``date``) to the rows read
    from a workbook (``block``, header first): other dates kept by column name, same date
    replaced, sorted by date, dates as date cells."""
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
        today = date.isoformat()
        for r in block[1:]:
            if any(v not in (None, "") for v in r) and _iso(r[where["Date"]]) != today:
                kept.append([r[where[h]] if h in where else None for h in header])
    date_col = header.index("Date")
    rows = sorted(kept + body, key=lambda r: str(_iso(r[date_col])))
    for r in rows:                      # a real date cell, not text, whatever was read back
        r[date_col] = _as_date(r[date_col])
    return [list(header), *rows]


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
