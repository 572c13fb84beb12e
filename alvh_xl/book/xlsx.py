"""Reading .xlsx files: one reader for every part of the project that reads a workbook file.

``CalamineWorkbook`` reads cell values with python-calamine (fast, read-only) and restores the
Excel error values calamine reads as blanks (from the sheet XML: an error cell is an error,
never a blank). Defined names resolve to ranges: an A1 range, whole columns (clamped to the
sheet's used rows) or a structured reference to an Excel Table (``T[#All]``, ``T[Col]`` …), so
a name that refers to a table follows the table as it grows.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ..errors import MissingInputError, WorkbookError
from ..xlsx_package import guard_workbook

MAX_ROWS = 200_000               # rows read from any sheet: beyond this a workbook is refused
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_A1_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
_CELL = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")
_COLS = re.compile(r"^\$?([A-Z]{1,3}):\$?([A-Z]{1,3})$")
_TABLE_REF = re.compile(r"^([A-Za-z_\\][\w.\\]*)(?:\[(.*)\])?$")




def cell_ref(anchor: str) -> tuple[int, int]:
    """'B3' (also '$B$3', 'b3') → (row 3, column 2), both 1-based: the one reader of A1
    addresses. WorkbookError for anything else."""
    m = _CELL.fullmatch(anchor.strip().upper())
    if not m or int(m.group(2)) < 1:
        raise WorkbookError(f"{anchor!r} is not a cell address like B7")
    return int(m.group(2)), col_number(m.group(1))


def col_letter(col: int) -> str:
    """1 → 'A', 28 → 'AB'."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(row: int, col: int, absolute: bool = False) -> str:
    """(3, 2) → 'B3' (or '$B$3')."""
    d = "$" if absolute else ""
    return f"{d}{col_letter(col)}{d}{row}"


def range_ref(r1: int, c1: int, r2: int, c2: int, absolute: bool = False) -> str:
    """(1, 1, 5, 14) → 'A1:N5' (or '$A$1:$N$5')."""
    return f"{a1(r1, c1, absolute)}:{a1(r2, c2, absolute)}"


# ----------------------------------------------------------------------------- references


@dataclass(frozen=True)
class TableInfo:
    """An Excel Table: sheet, header row and column span (1-based), last row (data included)
    and its column headers."""

    name: str
    sheet: str
    header_row: int
    first_col: int
    last_col: int
    last_row: int
    columns: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{a1(self.header_row, self.first_col)}:{a1(self.last_row, self.last_col)}"


def col_number(letters: str) -> int:
    """'A' → 1, 'AA' → 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def resolve(text: str, tables: dict[str, TableInfo], used_rows=None) -> tuple[str, str]:
    """(sheet, 'A1:N49') of a defined name's formula: a range ('Positions!$A$1:$N$49'),
    whole columns (clamped to the sheet's used rows), or a structured reference to a table
    (``T``, ``T[#All]``, ``T[#Data]``, ``T[#Headers]``, ``T[Col]``, ``T[[#All],[Col]]``)."""
    text = text.strip().lstrip("=")
    m = _TABLE_REF.match(text)
    if m and "!" not in text:
        table = table_of(text, tables)
        if table is None:
            raise WorkbookError(f"the reference {text!r} names no table in the workbook")
        return table.sheet, _table_part(table, m.group(2) or "#Data", text)
    if "!" not in text:
        raise WorkbookError(f"the name's reference {text!r} is not a range or a table")
    sheet, ref = text.rsplit("!", 1)
    sheet = sheet.strip("'").replace("''", "'")
    ref = ref.replace("$", "")
    cols = _COLS.match(ref)
    if cols:
        last = used_rows(sheet) if used_rows else 1
        return sheet, f"{cols.group(1)}1:{cols.group(2)}{max(last, 1)}"
    if not _A1_RANGE.match(ref):
        raise WorkbookError(f"the name's reference {text!r} is not one range")
    return sheet, ref


def table_of(text: str, tables: dict[str, TableInfo]) -> TableInfo | None:
    """The Excel Table a defined name's formula refers to by a structured reference
    (``T``, ``T[#All]``, ``T[[#Headers],[#Data]]`` …; names compared case-insensitively), or
    None when the formula is a range or names no table."""
    text = text.strip().lstrip("=")
    m = _TABLE_REF.match(text)
    if not m or "!" in text:
        return None
    name = m.group(1).casefold()
    return next((t for key, t in tables.items() if key.casefold() == name), None)


def _table_part(t: TableInfo, spec: str, text: str) -> str:
    """The range of a structured-reference specifier: ``#All``, ``#Data``, ``#Headers`` (or
    ``[#Headers],[#Data]`` together), optionally with one column: ``[#Data],[Col]``, ``Col``."""
    items = [s.strip().strip("[]") for s in re.split(r"\],\s*\[", spec.strip())] if spec else []
    parts, column = set(), None
    for item in items:
        if item.startswith("#"):
            parts.add(item.lower())
        elif item:
            column = item.replace("'", "")
    first, last = t.first_col, t.last_col
    if column is not None:
        names = [c.casefold() for c in t.columns]
        if column.casefold() not in names:
            raise WorkbookError(f"{text!r}: table {t.name} has no column {column!r}")
        first = last = t.first_col + names.index(column.casefold())
    parts = parts or {"#data"}
    if parts in ({"#all"}, {"#headers", "#data"}):
        top, bottom = t.header_row, t.last_row
    elif parts == {"#data"}:
        top, bottom = t.header_row + 1, t.last_row
    elif parts == {"#headers"}:
        top = bottom = t.header_row
    else:
        raise WorkbookError(f"{text!r}: unsupported table parts {', '.join(sorted(parts))}")
    bottom = max(bottom, top)
    return f"{a1(top, first)}:{a1(bottom, last)}"


def bounds(ref: str) -> tuple[int, int, int, int]:
    """(first row, first col, last row, last col) of 'A1:N49' (1-based; a single cell is a
    1×1 range, a range written corner to corner the other way round is the same range)."""
    a, colon, b = ref.partition(":")
    try:
        r1, c1 = cell_ref(a)
        r2, c2 = cell_ref(b if colon else a)
    except WorkbookError:
        raise WorkbookError(f"not a cell range: {ref}") from None
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


# ----------------------------------------------------------------------------- files


class _FileReader:
    """Shared logic of the file readers: names and tables from the package, cells per sheet."""

    path: Path

    def _load_package(self) -> None:
        try:
            with zipfile.ZipFile(self.path) as z:
                self._workbook_xml = z.read("xl/workbook.xml")
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise WorkbookError(f"{self.path.name}: not a readable .xlsx workbook "
                                f"({type(exc).__name__})") from None
        root = ET.fromstring(self._workbook_xml)
        self._names = {}
        for dn in root.iterfind("m:definedNames/m:definedName", _NS):
            if dn.get("localSheetId") is None and dn.text:
                self._names[dn.get("name")] = dn.text
        self._states = {s.get("name"): s.get("state", "visible")
                        for s in root.iterfind("m:sheets/m:sheet", _NS)}

    def sheet_names(self) -> list[str]:
        return list(self._states)

    def has_name(self, name: str) -> bool:
        return any(k.casefold() == name.casefold() for k in self._names)

    def name_text(self, name: str) -> str:
        for k, v in self._names.items():
            if k.casefold() == name.casefold():
                return v
        raise MissingInputError(f"the workbook has no defined name {name}")

    def name_location(self, name: str) -> tuple[str, str]:
        """(sheet, 'A1:N49') of a defined name: its table's current extent."""
        sheet, ref = resolve(self.name_text(name), self.tables(), self.used_rows)
        if sheet not in self._states:
            raise WorkbookError(f"defined name {name} points to a missing sheet {sheet!r}")
        r0, c0, r1, c1 = bounds(ref)
        last = min(r1, max(self.used_rows(sheet), r0))        # never past the used rows
        return sheet, f"{a1(r0, c0)}:{a1(last, c1)}"

    def values(self, name: str) -> list[list[Any]]:
        sheet, ref = self.name_location(name)
        r0, c0, r1, c1 = bounds(ref)
        return self.read_block(sheet, a1(r0, c0), r1 - r0 + 1, c1 - c0 + 1)


class CalamineWorkbook(_FileReader):
    """An .xlsx read with python-calamine (values as last computed; read-only)."""

    values_only = True

    def __init__(self, path: str | Path):
        import python_calamine

        self.path = Path(path)
        if not self.path.is_file():
            raise WorkbookError(f"{self.path}: no such file")
        guard_workbook(self.path)            # a zip bomb or absurd sheet: refused in seconds
        self._load_package()
        try:
            self._book = python_calamine.CalamineWorkbook.from_path(str(self.path),
                                                                    load_tables=True)
        except Exception as exc:  # calamine raises its own types for broken packages
            part = re.search(r"xl/(?:macrosheets|dialogsheets)/\S+\.xml", str(exc))
            if part:
                raise WorkbookError(
                    f"{self.path.name} holds an Excel 4.0 macro sheet ({part.group(0)}), which "
                    f"is not read; `alvh-xl check {self.path.name} --strip CLEAN.xlsx` writes a "
                    "copy without it") from None
            raise WorkbookError(f"{self.path.name}: not a readable .xlsx workbook "
                                f"({type(exc).__name__}: {exc})") from None
        self._cells: dict[str, tuple[int, int, list[list[Any]]]] = {}
        self._tables: dict[str, TableInfo] | None = None

    def tables(self) -> dict[str, TableInfo]:
        if self._tables is None:
            self._tables = {}
            for name in self._book.table_names:
                t = self._book.get_table_by_name(name)
                (r0, c0), (r1, c1) = t.start, t.end
                self._tables[name] = TableInfo(name, t.sheet, r0, c0 + 1, c1 + 1,
                                               max(r1 + 1, r0), tuple(map(str, t.columns)))
        return self._tables

    def _sheet(self, sheet: str) -> tuple[int, int, list[list[Any]]]:
        if sheet not in self._cells:
            if sheet not in self._states:
                raise WorkbookError(f"the workbook has no sheet {sheet!r}")
            ws = self._book.get_sheet_by_name(sheet)
            r1 = (ws.end or (0, 0))[0]
            if r1 + 1 > MAX_ROWS:
                raise WorkbookError(f"sheet {sheet!r} runs to row {r1 + 1:,}; an ALVH workbook "
                                    f"reads at most {MAX_ROWS:,} rows")
            # skip_empty_area=False: rows and columns from A1, so indices are sheet cells
            rows = ws.to_python(skip_empty_area=False) if ws.height else []
            rows = [[None if v == "" else v for v in r] for r in rows]
            self._restore_errors(sheet, rows)
            self._cells[sheet] = (0, 0, rows)
        return self._cells[sheet]

    def _restore_errors(self, sheet: str, rows: list[list[Any]]) -> None:
        """calamine reads error cells as blanks: put the error text back (from the XML)."""
        for (r, c), err in _error_cells(self.path, self._workbook_xml, sheet).items():
            while len(rows) < r:
                rows.append([])
            row = rows[r - 1]
            if len(row) < c:
                row.extend([None] * (c - len(row)))
            row[c - 1] = err

    def used_rows(self, sheet: str) -> int:
        return len(self._sheet(sheet)[2]) if sheet in self._states else 0

    def used_cols(self, sheet: str) -> int:
        return max(map(len, self._sheet(sheet)[2]), default=0) if sheet in self._states else 0

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]:
        """Up to ``rows`` × ``cols`` cell values from ``anchor`` (stops at the used rows)."""
        if sheet not in self._states:
            return []
        _, _, cells = self._sheet(sheet)
        r0, c0 = cell_ref(anchor)
        out = []
        for r in range(r0, min(r0 + rows, len(cells) + 1)):
            row = cells[r - 1]
            out.append([row[c - 1] if c - 1 < len(row) else None
                        for c in range(c0, c0 + cols)])
        return out


def _error_cells(path: Path, workbook_xml: bytes, sheet: str) -> dict[tuple[int, int], str]:
    """(row, col) → Excel error text of the cells of one sheet stored as errors (t="e")."""
    target = _sheet_part(path, workbook_xml, sheet)
    if target is None:
        return {}
    with zipfile.ZipFile(path) as z:
        xml = z.read(target)
    if b't="e"' not in xml:
        return {}
    out = {}
    for m in re.finditer(rb'<c\b([^>]*)>(.*?)</c>', xml, re.S):
        attrs = m.group(1)
        if b't="e"' not in attrs:
            continue
        ref = re.search(rb'\br="([A-Z]+)(\d+)"', attrs)
        val = re.search(rb"<v>([^<]*)</v>", m.group(2))
        if ref and val:
            out[(int(ref.group(2)), col_number(ref.group(1).decode()))] = \
                val.group(1).decode()
    return out


def _sheet_part(path: Path, workbook_xml: bytes, sheet: str) -> str | None:
    root = ET.fromstring(workbook_xml)
    rid = None
    for s in root.iterfind("m:sheets/m:sheet", _NS):
        if s.get("name") == sheet:
            rid = s.get("{http://schemas.openxmlformats.org/officeDocument/2006/"
                        "relationships}id")
    if rid is None:
        return None
    with zipfile.ZipFile(path) as z:
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target").lstrip("/")
            return target if target.startswith("xl/") else f"xl/{target}"
    return None


