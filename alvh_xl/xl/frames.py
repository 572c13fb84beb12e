"""Engine tables → 2-D cell values: header row, NaN as empty cells, dates as dates,
and a footer naming the rows the engine left out (or noted)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ..book import Problem


def frame_to_cells(df: pd.DataFrame, problems: list[Problem] | None = None,
                   *, index: bool = False) -> list[list[Any]]:
    """Header + rows; NaN/NaT → None (an empty cell); then 'Left out'/'Note' footer rows."""
    frame = df.reset_index() if index else df
    rows = [[str(c) for c in frame.columns]]
    columns = [column_cells(frame.iloc[:, j]) for j in range(frame.shape[1])]
    rows.extend(map(list, zip(*columns, strict=True)))
    width = len(rows[0])
    for p in problems or []:
        label = "Left out" if p.left_out else "Note"
        rows.append([label, str(p)] + [None] * (width - 2) if width >= 2 else [f"{label}: {p}"])
    return rows


def column_cells(col: pd.Series) -> list[Any]:
    """One column as Python cell values, a whole column at a time: floats with NaN → None,
    whole-number ints, dates as dates, NaT → None; other columns cell by cell."""
    kind = col.dtype.kind
    if kind == "f":
        arr = col.to_numpy(dtype=float)
        out = arr.astype(object)
        out[np.isnan(arr)] = None
        return out.tolist()
    if kind in "iu":
        return col.to_numpy().tolist()
    if kind == "b":
        return col.to_numpy().tolist()
    if kind == "M":
        days = col.to_numpy(dtype="datetime64[D]")
        out = days.astype(object)              # datetime.date objects (NaT → None)
        out[np.isnat(days)] = None
        return out.tolist()
    return [cell_value(v) for v in col.to_numpy(dtype=object)]


def cell_value(v: Any) -> Any:
    """One value as Excel takes it: float/int/str/bool/date, None for missing."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (np.floating, float)):
        return None if v != v else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else v.astype("datetime64[D]").astype(dt.date)
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.date()
    return v


FULL_TABLE = "use the ALVH_* formula in a larger range or the CLI report for the full table"


def fit(cells: list[list[Any]], max_rows: int, max_cols: int, full_table: str = FULL_TABLE
        ) -> list[list[Any]]:
    """Cut a block to its area and pad it to a rectangle (spreadsheets refuse ragged rows).

    Never a silent cut: when rows or columns do not fit, the block's last row says how many
    rows and which columns (by their header) were left out, and ``full_table`` (where the
    whole table is); that note takes the last row of the area when the table fills it."""
    hidden = [str(h) for h in cells[0][max_cols:]] if cells else []
    cut_rows = len(cells) > max_rows
    if max_rows <= 1 or not (cut_rows or hidden):
        kept = cells[:max_rows]
    else:
        kept = cells[:min(len(cells), max_rows - 1)]
    rows = [list(r[:max_cols]) for r in kept]
    width = max(map(len, rows), default=0)
    rows = [r + [None] * (width - len(r)) for r in rows]
    if len(rows) == len(cells) and not hidden or max_rows <= 1:
        return rows
    what = []
    if len(rows) < len(cells):
        n = len(cells) - len(rows)
        what.append(f"{n} more row{'s' if n != 1 else ''}")
    if hidden:
        n = len(hidden)
        what.append(f"{n} more column{'s' if n != 1 else ''} ({', '.join(hidden)})")
    rows.append([f"… {' and '.join(what)}: {full_table}"] + [None] * (width - 1))
    return rows


def fit_to_block(function: str, result: Any) -> Any:
    """A result cut to the layout's block of ``function`` (when one block holds it)."""
    from .layout import LAYOUT

    blocks = [o for o in LAYOUT.outputs if o.function == function and o.max_rows > 1]
    if len(blocks) != 1 or not isinstance(result, list):
        return result
    return fit(result, blocks[0].max_rows, blocks[0].max_cols)
