"""Tables as Excel hands them over: header row + data rows, parsed column by column.

Accepted sources: a 2-D list of cell values (Excel/xlwings, openpyxl), a pandas DataFrame,
a path to a .csv file, or a path to an .xlsx/.xlsm file (``book.xlsx`` = the first sheet's
used range; ``book.xlsx#Target`` = the workbook's defined name ``Target``, else the sheet
``Target``). Headers match case-insensitively, ignoring spaces and underscores.

Cells are converted a whole column at a time, vectorised: numbers by one float cast,
dates and texts through the column's distinct values (``pd.factorize``), so a 100,000-row
table costs a few array passes. Every unusable cell becomes a ``Problem`` naming its row
(sheet row number; the header is ``first_row``) and column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, MissingInputError, WorkbookError, describe
from .cells import errors_in, factorize, is_blank, text_of, to_dates, to_numbers

_XLSX = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Problem:
    """One unusable (or noteworthy) input cell. ``left_out`` rows do not compute."""

    row: int | None
    column: str | None
    reason: str
    left_out: bool = True
    table: str = "positions"
    layer: str = ""                  # the row's Layer text, when it has one

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else self.table
        if self.row is not None and self.table not in ("positions", ""):
            where = f"{self.table} {where}"
        col = f" ({self.column})" if self.column else ""
        return f"{where}{col}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason,
                "left_out": self.left_out}


def header_key(text: Any) -> str:
    """Header text compared: lower case, no spaces or underscores ('Entry Price' → 'entryprice')."""
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


# ----------------------------------------------------------------------------- sources

def to_cells(source: Any, name: str) -> list[list[Any]]:
    """Rows of cells (header first) from a 2-D list, DataFrame, CSV or xlsx path."""
    header, body, _ = to_grid(source, name)
    return [list(header), *body.tolist()]


def to_grid(source: Any, name: str) -> tuple[list[Any], np.ndarray, int | None]:
    """Header cells, the data cells as a 2-D object array (header width), and the sheet row
    of the header when the source knows it (xlsx), else None."""
    first_row = None
    if isinstance(source, pd.DataFrame):
        body = np.empty(source.shape, dtype=object)
        for j in range(source.shape[1]):
            col = source.iloc[:, j].to_numpy(dtype=object)
            body[:, j] = np.where(pd.isna(col), None, col)
        return list(source.columns), body, None
    if isinstance(source, (str, Path)):
        text = str(source)
        base, target = text, ""
        if "#" in text and not _exists(text):
            base, _, target = text.rpartition("#")
        if base.lower().endswith(".csv"):
            return to_grid(_read_csv(Path(base), name), name)
        if base.lower().endswith(_XLSX):
            cells, first_row = read_xlsx(Path(base), target or None, name)
            source = cells
    if isinstance(source, np.ndarray):
        source = source.tolist()
    if not isinstance(source, (list, tuple)) or not source:
        raise MissingInputError(f"{name}: expected a table with a header row, got "
                                f"{describe(source)}")
    if not isinstance(source[0], (list, tuple)):
        return list(source), np.empty((0, len(source)), dtype=object), first_row
    header = list(source[0])
    return header, _body(source[1:], len(header)), first_row


def _exists(text: str) -> bool:
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


def _body(rows: Any, width: int) -> np.ndarray:
    """Data rows as an (n, width) object array; short rows padded with None, long ones cut."""
    n = len(rows)
    out = np.empty((n, width), dtype=object)
    if n == 0 or width == 0:
        return out
    lengths = set(map(len, rows))
    if lengths == {width}:
        try:
            out[:] = rows
            return out
        except ValueError:                     # a cell holding a sequence: fill row by row
            pass
    for i, r in enumerate(rows):
        r = list(r)[:width]
        out[i, : len(r)] = r
    return out


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    if not path.exists():
        raise MissingInputError(f"{name}: file not found: {path}")
    df = pd.read_csv(path, dtype=object, keep_default_na=False)
    return df.replace({"": None})


def read_xlsx(path: Path, target: str | None, name: str) -> tuple[list[list[Any]], int]:
    """Cell values of a defined name (a table's current extent), a sheet's used range
    (``target``) or the first sheet, and the sheet row number of their first row. Formulas
    give their last computed values; Excel error cells their error text."""
    from .xlsx import CalamineWorkbook, a1, bounds

    if not path.exists():
        raise MissingInputError(f"{name}: file not found: {path}")
    try:
        book = CalamineWorkbook(path)
    except WorkbookError as exc:
        raise InputError(f"{name}: cannot read {path.name} as an Excel workbook ({exc})") \
            from None
    if target and book.has_name(target):
        sheet, ref = book.name_location(target)
        return book.values(target), bounds(ref)[0]
    sheets = book.sheet_names()
    if target and target not in sheets:
        raise MissingInputError(f"{name}: {path.name} has no defined name or sheet {target!r} "
                                f"(sheets: {', '.join(sheets)})")
    sheet = target or sheets[0]
    rows = book.read_block(sheet, a1(1, 1), book.used_rows(sheet), book.used_cols(sheet))
    first = 1
    while rows and all(v is None for v in rows[0]):            # the used range, less blanks
        rows.pop(0)
        first += 1
    lead = min((next((j for j, v in enumerate(r) if v is not None), len(r)) for r in rows),
               default=0)
    rows = [r[lead:] for r in rows]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows, first


# ----------------------------------------------------------------------------- header

def read_table(source: Any, name: str, canonical: dict[str, str], required: tuple[str, ...],
               first_row: int = 1) -> RawTable:
    """Parse a header row into canonical column names; skip fully blank rows.

    ``canonical`` maps header keys (see ``header_key``) to canonical names. Unknown headers
    are ignored (a trader's own columns), unless one is a small edit away from a column the
    table lacks ('Multiplir'): its values would be silently unread, so that, a duplicate or a
    missing required column raises an ``InputError``.
    ``first_row`` is the sheet row of the header (an xlsx source supplies its own).
    """
    header, body, sheet_row = to_grid(source, name)
    if sheet_row is not None:
        first_row = sheet_row
    index: dict[str, int] = {}
    unknown: list[str] = []
    for j, h in enumerate(header):
        key = canonical.get(header_key(h))
        if key is None:
            unknown += [] if is_blank(h) else [str(h)]
            continue
        if key in index:
            raise InputError(f"{name}: duplicate column {describe(str(h))} (table columns "
                             f"{index[key] + 1} and {j + 1}); keep one")
        index[key] = j
    _refuse_misspelt(unknown, canonical, index, name)
    missing = [c for c in required if c not in index]
    if missing:
        raise MissingInputError(
            f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(header row has: {', '.join(str(h) for h in header if h not in (None, ''))})")
    keep = np.zeros(body.shape[0], dtype=bool)
    order = [index[c] for c in required] + [j for j in range(body.shape[1])]
    for j in dict.fromkeys(order):         # required columns first: most rows settle there
        todo = np.flatnonzero(~keep)
        if todo.size == 0:
            break
        keep[todo] = ~blank_mask(body[todo, j])
    rows = first_row + 1 + np.flatnonzero(keep)
    body = body[keep]
    return RawTable({key: body[:, j] for key, j in index.items()}, rows, name)


def _refuse_misspelt(unknown: list[str], canonical: dict[str, str], index: dict[str, int],
                     name: str) -> None:
    """InputError for the first unknown header that looks like a misspelt absent column: at
    most one edit from it (two for names of 8 characters or more; names under 4 characters,
    such as a broker's 'ID', are never taken for a typo)."""
    absent = [k for k, v in canonical.items() if v not in index]
    for h in unknown:
        key = header_key(h)
        near = nearest_name(key, absent, 2 if len(key) >= 8 else 1) if len(key) >= 4 else None
        if near is not None:
            raise InputError(f"{name}: column {describe(h)} is not a column of this table; "
                             f"did you mean {describe(near)}? Rename it: its values are not "
                             "read otherwise")


def nearest_name(name: str, options: list[str], max_edits: int = 2) -> str | None:
    """The option a small edit away from ``name`` (not equal to it), if any: at most
    ``max_edits`` single-character insertions, deletions or substitutions (any case)."""
    best, best_d = None, max_edits + 1
    for option in options:
        d = _edits(name.casefold(), option.casefold(), best_d)
        if 0 < d < best_d:
            best, best_d = option, d
    return best


def _edits(a: str, b: str, cap: int) -> int:
    """Levenshtein distance of a and b, stopping at ``cap``."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) >= cap:
            return cap
        prev = cur
    return min(prev[-1], cap)


# ----------------------------------------------------------------------------- cells


def _na(cells: np.ndarray) -> np.ndarray:
    return np.asarray(pd.isna(cells), dtype=bool)


def _kind(cells: np.ndarray) -> str:
    return pd.api.types.infer_dtype(cells, skipna=True)


def blank_mask(cells: np.ndarray) -> np.ndarray:
    """True where a cell is blank: None, NaN, NaT or whitespace-only text."""
    na = _na(cells)
    if _kind(cells) not in ("string", "mixed", "mixed-integer", "unknown-array"):
        return na
    try:
        codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    except TypeError:                           # an unhashable cell: one by one
        return np.fromiter((is_blank(v) for v in cells), bool, len(cells))
    return na | np.append([is_blank(u) for u in uniques], True)[codes]


def map_cells(cells: np.ndarray, fn: Callable[[Any], Any], blank: Any, dtype: Any = object
              ) -> np.ndarray:
    """``fn`` applied to each distinct value of a column (``blank`` for None/NaN), vectorised."""
    codes, uniques = factorize(np.asarray(cells, dtype=object))
    table = np.empty(len(uniques) + 1, dtype=dtype)
    table[:-1] = [fn(u) for u in uniques]
    table[-1] = blank
    return table[codes]


def texts(cells: np.ndarray) -> np.ndarray:
    """Stripped text of each cell ('' for blanks); numbers formatted without '.0'."""
    return map_cells(np.asarray(cells, dtype=object), text_of, "")


__all__ = ["Problem", "RawTable", "blank_mask", "errors_in", "header_key", "map_cells",
           "read_table", "text_of", "texts", "to_cells", "to_dates", "to_grid", "to_numbers"]
