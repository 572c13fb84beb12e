"""Workbook I/O behind one small seam, and reading an ALVH workbook's inputs through it.

``WorkbookIO`` is "the current extent and values of named input X", "cells of a block at
sheet!A1", "write these values at sheet!cell". Implementations:

* ``CalamineWorkbook`` — a file read with python-calamine (fast, read-only: the report,
  ``check`` and ``snapshot``); Excel error cells, which calamine reads as "", are restored
  from the sheet XML (an error value is an error, never a blank);
* ``FileWorkbook`` — a file opened with openpyxl (read and write: Refresh on files, tests);
* ``XlwingsWorkbook`` (``xl.refresh``) — a live workbook (classic, Lite, Server).

Every input name refers to an Excel **Table** (``PositionsTable[#All]``), so rows typed under
it extend it in Excel; readers take the table's current extent. A whole-column name
(``Positions!$A:$N``) is read only to the sheet's used extent. A filled cell under or right
next to an input table but outside it is reported as a problem naming sheet!cell — never
skipped, never read as part of the table.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from xml.etree import ElementTree as ET

import pandas as pd

from ..book import (
    Curve,
    Market,
    Positions,
    Problem,
    Thresholds,
    parse_candidates,
    parse_curve,
    parse_market,
    parse_positions,
    parse_scenarios,
    parse_thresholds,
)
from ..book.cells import error_value, is_blank
from ..errors import InputError, MissingInputError, WorkbookError
from .layout import LAYOUT, Layout, a1, cell_ref

MAX_ROWS = 200_000               # rows read from any sheet: beyond this a workbook is refused
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_A1_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
_COLS = re.compile(r"^\$?([A-Z]{1,3}):\$?([A-Z]{1,3})$")
_TABLE_REF = re.compile(r"^([A-Za-z_\\][\w.\\]*)(?:\[(.*)\])?$")


class WorkbookIO(Protocol):
    """The seam: named-range reads and block writes (values only)."""

    def has_name(self, name: str) -> bool: ...

    def values(self, name: str) -> list[list[Any]]: ...

    def name_location(self, name: str) -> tuple[str, str]: ...

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]: ...

    def write(self, sheet: str, anchor: str, values: list[list[Any]],
              clear: tuple[int, int] = (0, 0)) -> None: ...


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
        table = _table(tables, m.group(1))
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


def _table(tables: dict[str, TableInfo], name: str) -> TableInfo | None:
    for key, t in tables.items():
        if key.casefold() == name.casefold():
            return t
    return None


def _table_part(t: TableInfo, spec: str, text: str) -> str:
    items = [s.strip().strip("[]") for s in re.split(r"\],\s*\[", spec.strip())] if spec else []
    part, column = "#Data", None
    for item in items:
        if item.startswith("#"):
            part = item
        elif item:
            column = item.replace("'", "")
    first, last = t.first_col, t.last_col
    if column is not None:
        names = [c.casefold() for c in t.columns]
        if column.casefold() not in names:
            raise WorkbookError(f"{text!r}: table {t.name} has no column {column!r}")
        first = last = t.first_col + names.index(column.casefold())
    top, bottom = {"#All": (t.header_row, t.last_row), "#Headers": (t.header_row,
                   t.header_row), "#Data": (t.header_row + 1, t.last_row)}.get(
        part, (None, None))
    if top is None:
        raise WorkbookError(f"{text!r}: unsupported table part {part}")
    bottom = max(bottom, top)
    return f"{a1(top, first)}:{a1(bottom, last)}"


def bounds(ref: str) -> tuple[int, int, int, int]:
    """(first row, first col, last row, last col) of 'A1:N49' (1-based)."""
    m = _A1_RANGE.match(ref.replace("$", ""))
    if not m:
        raise WorkbookError(f"not a cell range: {ref}")
    r0, c0 = int(m.group(2)), col_number(m.group(1))
    r1, c1 = (int(m.group(4)), col_number(m.group(3))) if m.group(3) else (r0, c0)
    return r0, c0, r1, c1


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
        self._load_package()
        try:
            self._book = python_calamine.CalamineWorkbook.from_path(str(self.path),
                                                                    load_tables=True)
        except Exception as exc:  # calamine raises its own types for broken packages
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


class FileWorkbook(_FileReader):
    """An .xlsx file opened with openpyxl (cached values, not formulas): a values-only copy,
    so Refresh writes every block, native cross-checks included, as values."""

    values_only = True

    def __init__(self, path: str | Path):
        import openpyxl

        self.path = Path(path)
        if not self.path.exists():
            raise WorkbookError(f"{self.path}: no such file")
        self._load_package()
        try:
            self.book = openpyxl.load_workbook(self.path, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a non-xlsx file
            raise WorkbookError(f"{self.path.name}: not a readable .xlsx workbook "
                                f"({type(exc).__name__})") from exc

    def tables(self) -> dict[str, TableInfo]:
        out = {}
        for ws in self.book.worksheets:
            for t in ws.tables.values():
                r0, c0, r1, c1 = bounds(t.ref)
                out[t.name] = TableInfo(t.name, ws.title, r0, c0, c1, r1,
                                        tuple(str(c.name) for c in t.tableColumns))
        return out

    def used_rows(self, sheet: str) -> int:
        return self.book[sheet].max_row if sheet in self.book.sheetnames else 0

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]:
        """Up to ``rows`` × ``cols`` cell values from ``anchor`` (stops at the sheet end)."""
        if sheet not in self.book.sheetnames:
            return []
        ws = self.book[sheet]
        r0, c0 = cell_ref(anchor)
        last = min(ws.max_row, r0 + rows - 1)
        return [[ws.cell(r, c).value for c in range(c0, c0 + cols)] for r in range(r0, last + 1)]

    def write(self, sheet: str, anchor: str, values: list[list[Any]],
              clear: tuple[int, int] = (0, 0)) -> None:
        """Write a block at ``anchor``; first blank the ``clear`` (rows, cols) area. Text is
        stored as text, whatever it starts with (never as a formula)."""
        ws = self.book[sheet] if sheet in self.book.sheetnames else self.book.create_sheet(sheet)
        r0, c0 = cell_ref(anchor)
        for r in range(clear[0]):
            for c in range(clear[1]):
                cell = ws.cell(r0 + r, c0 + c)
                if type(cell).__name__ != "MergedCell":
                    cell.value = None
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                cell = ws.cell(r0 + i, c0 + j)
                cell.value = v
                if isinstance(v, str):
                    cell.data_type = "s"         # '=…' stays text, not a formula

    def save(self, path: str | Path) -> None:
        self.book.save(path)


def open_workbook(path: str | Path) -> CalamineWorkbook:
    """A workbook file for reading (refuses what is not an .xlsx/.xlsm package)."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise WorkbookError(f"{path}: expected an .xlsx workbook")
    return CalamineWorkbook(path)


# ----------------------------------------------------------------------------- inputs


@dataclass
class WorkbookInputs:
    """Parsed input tables of an ALVH workbook and the raw cell values they came from.

    ``parsed``: name → parsed object, or the InputError that stopped it; ``left_out``:
    problems outside the positions table that leave something out (cells typed past a
    table); ``notes``: optional parts skipped (sheet or table absent).
    """

    raw: dict[str, list[list[Any]]]
    parsed: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, tuple[str, str]] = field(default_factory=dict)
    left_out: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def get(self, name: str) -> Any:
        """The parsed object of an input (None when absent); its error when it failed."""
        obj = self.parsed.get(name)
        if isinstance(obj, Exception):
            raise obj
        return obj

    def error(self, name: str) -> str:
        obj = self.parsed.get(name)
        return str(obj) if isinstance(obj, Exception) else ""

    @property
    def positions(self) -> Positions:
        return self.get("ALVH_POSITIONS")

    @property
    def market(self) -> Market:
        return self.get("ALVH_MARKET")

    @property
    def curve(self) -> Curve:
        return self.get("ALVH_CURVE")

    @property
    def thresholds(self) -> Thresholds | None:
        return self.parsed.get("ALVH_THRESHOLDS") if not self.error("ALVH_THRESHOLDS") \
            else None

    @property
    def hedges(self) -> Positions | None:
        return self.parsed.get("ALVH_HEDGES") if not self.error("ALVH_HEDGES") else None

    @property
    def scenarios(self) -> pd.DataFrame | None:
        return self.parsed.get("ALVH_SCENARIOS") if not self.error("ALVH_SCENARIOS") else None

    @property
    def problems(self) -> list[Problem]:
        pos = self.parsed.get("ALVH_POSITIONS")
        return [*(pos.problems if isinstance(pos, Positions) else []), *self.left_out]


_PARSERS = {
    "ALVH_POSITIONS": lambda raw, row: parse_positions(raw, first_row=row),
    "ALVH_MARKET": lambda raw, row: parse_market(raw, first_row=row),
    "ALVH_CURVE": lambda raw, row: parse_curve(raw, first_row=row),
    "ALVH_THRESHOLDS": lambda raw, row: parse_thresholds(raw, first_row=row),
    "ALVH_HEDGES": lambda raw, row: parse_candidates(raw, first_row=row),
    "ALVH_SCENARIOS": lambda raw, row: parse_scenarios(raw, first_row=row),
}
TABLE_WORD = {"ALVH_POSITIONS": "positions", "ALVH_MARKET": "market", "ALVH_CURVE": "curve",
              "ALVH_THRESHOLDS": "thresholds", "ALVH_HEDGES": "candidates",
              "ALVH_SCENARIOS": "scenarios", "ALVH_FORWARDS": "forwards",
              "ALVH_LAYERRULES": "layer rules"}


def read_inputs(source: WorkbookIO | str | Path, layout: Layout = LAYOUT) -> WorkbookInputs:
    """Read and parse every named input table; row numbers in problems are sheet rows.

    A required table missing makes it not an ALVH workbook (WorkbookError); an optional one
    missing is a note. A table that does not parse keeps its error (its blocks show it).
    """
    io = open_workbook(source) if isinstance(source, (str, Path)) else source
    missing = [t.name for t in layout.inputs if t.required and not io.has_name(t.name)]
    if missing:
        raise WorkbookError(f"not an ALVH workbook: missing defined name"
                            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    inputs = WorkbookInputs(raw={})
    for t in layout.inputs:
        if not io.has_name(t.name):
            inputs.notes.append(f"{t.name} is not in the workbook ({t.sheet} sheet): "
                                f"{TABLE_WORD.get(t.name, t.name)} skipped")
            continue
        try:
            sheet, ref = io.name_location(t.name)
            raw = io.values(t.name)
        except (WorkbookError, MissingInputError) as exc:
            if t.required:
                raise
            inputs.notes.append(f"{t.name}: {exc}; skipped")
            continue
        inputs.raw[t.name] = raw
        inputs.locations[t.name] = (sheet, ref)
        stray = stray_cells(io, t.name, sheet, ref, layout)
        parser = _PARSERS.get(t.name)
        if parser is not None:
            try:
                inputs.parsed[t.name] = parser(raw, bounds(ref)[0])
            except InputError as exc:
                inputs.parsed[t.name] = exc
        if t.name == "ALVH_POSITIONS" and isinstance(inputs.parsed.get(t.name), Positions):
            inputs.parsed[t.name].problems.extend(stray)
            inputs.parsed[t.name].problems.sort(key=lambda p: (p.row or 0))
        else:
            inputs.left_out.extend(stray)
    for name in layout.series:
        if io.has_name(name):
            try:
                inputs.raw[name] = io.values(name)
                inputs.locations[name] = io.name_location(name)
            except (WorkbookError, MissingInputError) as exc:
                inputs.notes.append(f"{name}: {exc}; signals skipped")
        else:
            inputs.notes.append(f"{name} is not in the workbook: signals skipped")
    return inputs


def read_named_inputs(book: Any, names: tuple[str, ...]) -> list[list[list[Any]]]:
    """Classic Excel, no-argument functions: the current values of these defined names."""
    from .refresh import XlwingsWorkbook

    io = XlwingsWorkbook(book)
    return [io.values(n) for n in names]


def stray_cells(io: Any, name: str, sheet: str, ref: str, layout: Layout = LAYOUT
                ) -> list[Problem]:
    """Filled cells under an input table (its columns, down to the sheet's used rows) or in
    the column right next to it, outside the table: each a problem naming sheet!cell."""
    r0, c0, r1, c1 = bounds(ref)
    used = io.used_rows(sheet) if hasattr(io, "used_rows") else r1
    below = io.read_block(sheet, a1(r1 + 1, c0), max(used - r1, 0), c1 - c0 + 2) \
        if used > r1 else []
    beside = io.read_block(sheet, a1(r0, c1 + 1), r1 - r0 + 1, 1)
    other = _occupied(io, sheet, name, layout)
    word = TABLE_WORD.get(name, name)
    out = []
    cells = [(r1 + 1 + i, c0 + j, v) for i, row in enumerate(below) for j, v in enumerate(row)]
    cells += [(r0 + i, c1 + 1, row[0]) for i, row in enumerate(beside) if row]
    seen = set()
    for r, c, v in cells:
        if is_blank(v) or (r, c) in seen or any(a <= r <= b and x <= c <= y
                                                  for a, x, b, y in other):
            continue
        seen.add((r, c))
        shown = error_value(v) or (f'"{v}"' if isinstance(v, str) else
                                   (v.isoformat() if isinstance(v, (dt.date, dt.time))
                                    else f"{v:g}" if isinstance(v, float) else f"{v}"))
        out.append(Problem(r, None, f"{sheet}!{a1(r, c)} holds {shown[:40]} outside the "
                           f"{word} table ({sheet}!{ref}); resize the table to include it "
                           "or clear the cell", True, word))
    return out


def _occupied(io: Any, sheet: str, name: str, layout: Layout) -> list[tuple[int, int, int, int]]:
    """Areas of a sheet that belong to something else: other tables, layout blocks, titles."""
    areas = []
    tables = io.tables() if hasattr(io, "tables") else {}
    for t in tables.values():
        if t.sheet == sheet:
            areas.append((t.header_row, t.first_col, t.last_row, t.last_col))
    for o in layout.outputs:
        if o.sheet == sheet:
            r, c = cell_ref(o.anchor)
            areas.append((r - 2, c, r + o.max_rows - 1, c + o.max_cols - 1))
    for n in layout.natives:
        if n.sheet == sheet:
            r, c = cell_ref(n.anchor)
            areas.append((r, c - 1, r, c))
    for t in layout.inputs:
        if t.sheet == sheet and t.name != name and t.title:
            r, c = cell_ref(t.anchor)
            areas.append((r - 2, c, r - 1, c + len(t.headers) - 1))
    return areas


def output_args(output, raw: dict[str, list[list[Any]]]) -> list[Any]:
    """The arguments Excel would pass to an output's function: range values or literals."""
    from .layout import Name

    args = []
    for a in output.args:
        if isinstance(a, Name):
            args.append(raw.get(a))
        else:
            args.append(a)
    return args


def stamp() -> dt.datetime:
    """Local wall-clock time of a refresh, to the second."""
    return dt.datetime.now().replace(microsecond=0)


__all__ = ["CalamineWorkbook", "FileWorkbook", "TableInfo", "WorkbookIO", "WorkbookInputs",
           "open_workbook", "read_inputs", "resolve", "stray_cells"]
