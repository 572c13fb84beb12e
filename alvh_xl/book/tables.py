"""Tables as Excel hands them over: header row + data rows, parsed column by column.

Accepted sources: a 2-D list of cell values (Excel/xlwings, openpyxl), a pandas DataFrame,
or a path to a .csv file. Headers match case-insensitively, ignoring spaces and underscores.
Cells are converted a whole column at a time; every unusable cell becomes a ``Problem``
naming its row (1-based, header = ``first_row``) and column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, MissingInputError, describe

EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


@dataclass(frozen=True)
class Problem:
    """One unusable (or noteworthy) input cell. ``left_out`` rows do not compute."""

    row: int | None
    column: str | None
    reason: str
    left_out: bool = True
    table: str = "positions"

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else self.table
        col = f" ({self.column})" if self.column else ""
        return f"{where}{col}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason,
                "left_out": self.left_out}


def header_key(text: Any) -> str:
    return "".join(str(text).split()).replace("_", "").lower() if text is not None else ""


@dataclass
class RawTable:
    """Cells of a table by canonical column name, with sheet row numbers of the data rows."""

    columns: dict[str, np.ndarray]
    rows: np.ndarray
    name: str

    def __len__(self) -> int:
        return int(self.rows.size)

    def get(self, key: str) -> np.ndarray:
        """Object array of a column's cells (all None when the column is absent)."""
        col = self.columns.get(key)
        return col if col is not None else np.full(len(self), None, dtype=object)


def to_cells(source: Any, name: str) -> list[list[Any]]:
    """Rows of cells (header first) from a 2-D list, DataFrame or CSV path."""
    if isinstance(source, pd.DataFrame):
        body = source.astype(object).where(source.notna(), None).values.tolist()
        return [list(source.columns), *body]
    if isinstance(source, (str, Path)) and str(source).lower().endswith(".csv"):
        path = Path(source)
        if not path.exists():
            raise MissingInputError(f"{name}: file not found: {path}")
        df = pd.read_csv(path, dtype=object, keep_default_na=False)
        df = df.replace({"": None})
        return to_cells(df, name)
    if isinstance(source, np.ndarray):
        source = source.tolist()
    if not isinstance(source, (list, tuple)) or not source:
        raise MissingInputError(f"{name}: expected a table with a header row, got "
                                f"{describe(source)}")
    if not isinstance(source[0], (list, tuple)):
        return [list(source)]
    return [list(r) for r in source]


def read_table(source: Any, name: str, canonical: dict[str, str], required: tuple[str, ...],
               first_row: int = 1) -> RawTable:
    """Parse a header row into canonical column names; skip fully blank rows.

    ``canonical`` maps header keys (see ``header_key``) to canonical names. Unknown headers
    are ignored; a duplicate or a missing required column raises ``MissingInputError``.
    """
    cells = to_cells(source, name)
    header = cells[0]
    index: dict[str, int] = {}
    for j, h in enumerate(header):
        key = canonical.get(header_key(h))
        if key is None:
            continue
        if key in index:
            raise InputError(f"{name}: duplicate column {describe(str(h))}", column=key)
        index[key] = j
    missing = [c for c in required if c not in index]
    if missing:
        raise MissingInputError(
            f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(header row has: {', '.join(str(h) for h in header if h not in (None, ''))})")
    body = cells[1:]
    width = len(header)
    keep = [i for i, r in enumerate(body) if any(not _blank(v) for v in r)]
    rows = np.array([first_row + 1 + i for i in keep], dtype=int)
    columns = {}
    for key, j in index.items():
        col = np.empty(len(keep), dtype=object)
        col[:] = [body[i][j] if j < len(body[i]) and j < width else None for i in keep]
        columns[key] = col
    return RawTable(columns, rows, name)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v)


def blank_mask(cells: np.ndarray) -> np.ndarray:
    return np.fromiter((_blank(v) for v in cells), bool, cells.size)


def to_numbers(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Floats of a column (NaN for blanks) and a mask of non-blank cells that are not numbers."""
    vals = pd.to_numeric(pd.Series(cells, dtype=object).map(_numeric_or_text),
                         errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(vals) & ~blank_mask(cells)
    return vals, bad


def _numeric_or_text(v: Any) -> Any:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return v.strip().replace(",", "")
    return v


def to_dates(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """datetime64[D] of a column of dates (Excel serials, date/datetime, ISO text).

    Returns the dates (NaT for blanks) and a mask of non-blank cells that are not dates.
    """
    out = np.full(cells.size, np.datetime64("NaT"), dtype="datetime64[D]")
    bad = np.zeros(cells.size, dtype=bool)
    for i, v in enumerate(cells):
        d = to_date(v)
        if d is None:
            bad[i] = not _blank(v)
        else:
            out[i] = d
    return out, bad


def to_date(v: Any) -> np.datetime64 | None:
    """One cell as a calendar date, or None when it is blank or not a date."""
    if _blank(v) or isinstance(v, bool):
        return None
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return np.datetime64(v.date(), "D")
    if isinstance(v, dt.date):
        return np.datetime64(v, "D")
    if isinstance(v, np.datetime64):
        return v.astype("datetime64[D]")
    if isinstance(v, (int, float, np.integer, np.floating)):
        if not (1 <= v < 2958466):           # Excel's valid serial range
            return None
        return EXCEL_EPOCH + np.timedelta64(int(np.floor(v)), "D")
    if isinstance(v, str):
        text = v.strip()
        try:
            return np.datetime64(pd.Timestamp(text).date(), "D")
        except (ValueError, TypeError):
            try:
                return to_date(float(text))
            except ValueError:
                return None
    return None


def to_time(v: Any) -> dt.time | None:
    """A time of day from an Excel fraction (0.6667), a time/datetime, or 'HH:MM' text."""
    if _blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.time()
    if isinstance(v, dt.time):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        frac = float(v) % 1.0 if v >= 1 else float(v)
        seconds = round(frac * 86400)
        if seconds >= 86400:
            return None
        return (dt.datetime.min + dt.timedelta(seconds=seconds)).time()
    if isinstance(v, str):
        for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p"):
            try:
                return dt.datetime.strptime(v.strip(), fmt).time()
            except ValueError:
                pass
    return None


def texts(cells: np.ndarray) -> np.ndarray:
    """Stripped text of each cell ('' for blanks); numbers formatted without '.0'."""
    out = np.empty(cells.size, dtype=object)
    for i, v in enumerate(cells):
        if _blank(v):
            out[i] = ""
        elif isinstance(v, float) and v.is_integer():
            out[i] = str(int(v))
        else:
            out[i] = str(v).strip()
    return out
