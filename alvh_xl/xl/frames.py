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
    for record in frame.itertuples(index=False, name=None):
        rows.append([cell_value(v) for v in record])
    width = len(rows[0])
    for p in problems or []:
        label = "Left out" if p.left_out else "Note"
        rows.append([label, str(p)] + [None] * (width - 2) if width >= 2 else [f"{label}: {p}"])
    return rows


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
