"""Edit a copy of an .xlsx workbook at the XML level, everything else kept byte for byte.

``read_table(path, name)`` reads an Excel Table's cells. ``edit_copy(src, dst, tables=…,
cells=…)`` writes a copy with the data body of named tables replaced and single cells set:

* a table's rows are matched to its columns by header name (case-insensitive); the table's
  ``ref``, its autoFilter, data validations and conditional formats that spanned its body,
  defined names equal to its old range, and the sheet's ``<dimension>`` follow its new size;
  cells of rows no longer in the table are cleared (their formatting kept); a table never
  grows over a filled cell, a merged cell or another table;
* text is written as text (an inline string), never as a formula, whatever it starts with;
  numbers as numbers; dates as serial numbers in the cell's date format (the column's, else
  a new ``yyyy-mm-dd`` style derived from the cell's); None clears a cell; unchanged cells
  keep their XML;
* every other part (charts, drawings, VBA, other sheets, styles except the added date style)
  is copied unchanged; the workbook asks Excel to recalculate on load (``fullCalcOnLoad``)
  so stale cached formula values are refreshed (LibreOffice Calc does not read that flag:
  it follows its own "recalculation on file load" setting); the calculation chain is
  dropped when a formula cell was overwritten (Excel rebuilds it);
* the copy is written to a temporary file beside ``dst`` and renamed into place; ``dst``
  may not be ``src``.

Returns the addresses (``Sheet!A1``) of the cells whose content changed.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..book.xlsx import bounds, cell_ref, col_letter, range_ref
from ..errors import InputError, WorkbookError, describe
from .xlsxpkg import (
    Cell,
    Package,
    SheetCells,
    SheetPart,
    TablePart,
    attrs,
    cell_value,
)
from .xlsxsplice import (
    TIME_FORMAT,
    DateStyles,
    cell_xml,
    drop_calc_chain,
    normalise,
    overlap,
    quote_sheet,
    rename_ranges,
    render_sheet,
    same_value,
    set_full_calc,
)


@dataclass(frozen=True)
class TableData:
    """An Excel Table's sheet, range, column names and data rows (cached values)."""

    sheet: str
    ref: str
    header: list[str]
    rows: list[list[Any]]


def read_table(path: str | Path, table_name: str) -> TableData:
    """The cells of the Table ``table_name`` (dates as dates where the cell shows a date)."""
    pkg = Package(_existing(Path(path)))
    sheet, table = pkg.table(table_name)
    cells = SheetCells(pkg.text(sheet.part), sheet.name)
    r1, c1, r2, c2 = bounds(table.ref)
    first, last = r1 + table.header_rows, r2 - table.totals_rows
    rows = [[cell_value(cells.cell(r, c), pkg) for c in range(c1, c2 + 1)]
            for r in range(first, last + 1)]
    return TableData(sheet.name, table.ref, list(table.columns), rows)


def table_names(path: str | Path) -> list[str]:
    """The names of the workbook's Excel Tables."""
    return [t.name for s in Package(_existing(Path(path))).sheets for t in s.tables]


def edit_copy(src: str | Path, dst: str | Path, *, tables: dict[str, list[list]] | None = None,
              cells: dict[tuple[str, str], Any] | None = None) -> list[str]:
    """Write ``dst``: a copy of ``src`` with table bodies replaced (``{name: [header, *rows]}``)
    and single cells set (``{(sheet, "B4"): value}``). Returns the changed cell addresses."""
    src, dst = Path(src), Path(dst)
    _check_paths(src, dst)
    editor = _Editor(Package(src))
    for name, data in (tables or {}).items():
        editor.replace_table(name, data)
    for (sheet, ref), value in (cells or {}).items():
        editor.set_cell(sheet, ref, value)
    parts, removed = editor.render()
    _write(editor.pkg, parts, removed, dst)
    return editor.changed


# ----------------------------------------------------------------------------- paths

def _existing(path: Path) -> Path:
    from ..fileio import input_workbook

    return input_workbook(path)


def _check_paths(src: Path, dst: Path) -> None:
    from ..fileio import output_file

    output_file(dst, what="copy", not_same_as=[_existing(src)])


def _write(pkg: Package, parts: dict[str, bytes], removed: set[str], dst: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent.resolve())
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as out:
            for info in pkg.infos:
                if info.filename in removed:
                    continue
                out.writestr(info, parts.get(info.filename, pkg.parts[info.filename]))
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------------- editor

class _Editor:
    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.sheets: dict[str, SheetCells] = {}
        self.writes: dict[str, dict[tuple[int, int], str]] = {}
        self.row_templates: dict[str, dict[int, str]] = {}
        self.table_xml: dict[str, str] = {}
        self.sqref_edits: dict[str, list[tuple[int, int, int, int, int]]] = {}
        self.name_edits: list[tuple[str, str, str]] = []
        self.changed: list[str] = []
        self.formula_touched = False
        self.styles = DateStyles(pkg)

    def _cells(self, sheet: SheetPart) -> SheetCells:
        if sheet.part not in self.sheets:
            self.sheets[sheet.part] = SheetCells(self.pkg.text(sheet.part), sheet.name)
        return self.sheets[sheet.part]

    # -- single cells
    def set_cell(self, sheet_name: str, ref: str, value: Any) -> None:
        sheet = self.pkg.sheet(sheet_name)
        row, col = cell_ref(ref)
        for table in sheet.tables:
            r1, c1, _, c2 = bounds(table.ref)
            if row == r1 and c1 <= col <= c2:
                raise WorkbookError(f"{sheet.name}!{ref} is a header of the table {table.name}; "
                                    f"rename columns in Excel")
        self._write(sheet, row, col, value, None)

    def _write(self, sheet: SheetPart, row: int, col: int, value: Any,
               column: list[Cell] | None) -> None:
        """Write one cell. ``column``: the styled cells of its table column, last row
        first, whose format a new cell takes (a date takes the column's date format)."""
        cells = self._cells(sheet)
        address = f"{col_letter(col)}{row}"
        old = cells.cell(row, col)
        kind, payload = normalise(value, f"{sheet.name}!{address}")
        if (row, col) in self.writes.get(sheet.part, {}):
            raise InputError(f"{sheet.name}!{address} is written twice in one edit")
        if same_value(old, kind, payload, self.pkg):
            return
        column = column or []
        base = old if old is not None and "s" in old.attrs else next(iter(column), None)
        style = int(base.attrs.get("s", "0")) if base is not None else 0
        if kind == "time" and style not in self.pkg.date_styles:
            style = self.styles.date_style(style, TIME_FORMAT)
        if kind == "date" and style not in self.pkg.date_styles:
            dated = [int(c.attrs["s"]) for c in column if int(c.attrs["s"]) in
                     self.pkg.date_styles]
            style = dated[0] if dated else self.styles.date_style(style)
        self.formula_touched |= old is not None and old.has_formula
        self.writes.setdefault(sheet.part, {})[(row, col)] = cell_xml(
            cells.prefix, address, kind, payload, style)
        self.changed.append(f"{quote_sheet(sheet.name)}!{address}")

    # -- tables
    def replace_table(self, name: str, data: list[list]) -> None:
        sheet, table = self.pkg.table(name)
        if table.header_rows != 1 or table.totals_rows:
            raise WorkbookError(f"table {table.name}: only tables with one header row and no "
                                f"totals row can be refilled")
        if not data:
            raise InputError(f"table {table.name}: the data needs a header row")
        r1, c1, r2, c2 = bounds(table.ref)
        mapping = self._columns(table, data[0])
        rows = [list(r) for r in data[1:]]
        for i, r in enumerate(rows, start=2):
            if len(r) > len(data[0]):
                raise InputError(f"table {table.name}: data row {i} has {len(r)} cells for "
                                 f"{len(data[0])} headers")
        last = r1 + max(len(rows), 1)
        self._check_room(sheet, table, r2, last, c1, c2)
        cells = self._cells(sheet)
        columns = [[c for r in range(r2, r1, -1) if (c := cells.cell(r, col)) is not None
                    and "s" in c.attrs] for col in range(c1, c2 + 1)]
        for i, r in enumerate(range(r1 + 1, last + 1)):
            values = rows[i] if i < len(rows) else []
            for j in range(c2 - c1 + 1):
                k = mapping.get(j)
                value = values[k] if k is not None and k < len(values) else None
                self._write(sheet, r, c1 + j, value, columns[j])
            if r > r2 and r2 > r1 and r2 in cells.rows:
                self.row_templates.setdefault(sheet.part, {})[r] = cells.rows[r2].attrs_text
        for r in range(last + 1, r2 + 1):
            for c in range(c1, c2 + 1):
                if cells.cell(r, c) is not None:
                    self._write(sheet, r, c, None, None)
        new_ref = range_ref(r1, c1, last, c2)
        if new_ref != table.ref:
            self._resize(sheet, table, new_ref, (r1 + 1, c1, r2, c2, last))

    def _columns(self, table: TablePart, header: list) -> dict[int, int]:
        names = [str(c).strip().casefold() for c in table.columns]
        mapping: dict[int, int] = {}
        for k, h in enumerate(header):
            key = str(h).strip().casefold() if h is not None else ""
            if key not in names:
                raise InputError(f"table {table.name} has no column {describe(h)} (columns: "
                                 f"{', '.join(table.columns)})")
            j = names.index(key)
            if j in mapping:
                raise InputError(f"table {table.name}: column {describe(h)} given twice")
            mapping[j] = k
        calc = [table.columns[j] for j in sorted(table.calculated) if j not in mapping]
        if calc:
            raise WorkbookError(f"table {table.name}: {', '.join(calc)} are calculated columns; "
                                f"refilling the table would leave their new rows empty")
        return mapping

    def _check_room(self, sheet: SheetPart, table: TablePart, old_last: int, last: int,
                    c1: int, c2: int) -> None:
        if last <= old_last:
            return
        grown = (old_last + 1, c1, last, c2)
        for other in sheet.tables:
            if other is not table and overlap(grown, bounds(other.ref)):
                raise WorkbookError(f"table {table.name} needs rows down to {last}, where the "
                                    f"table {other.name} ({other.ref}) is")
        cells = self._cells(sheet)
        for r in range(old_last + 1, last + 1):
            for c in range(c1, c2 + 1):
                cell = cells.cell(r, c)
                if cell is not None and not cell.is_empty:
                    raise WorkbookError(
                        f"table {table.name} needs rows down to {last}, but "
                        f"{sheet.name}!{col_letter(c)}{r} holds "
                        f"{describe(cell_value(cell, self.pkg))}; move it or the table")
        for ref in re.findall(r'<(?:\w+:)?mergeCell\s+ref="([^"]+)"', cells.xml):
            if overlap(grown, bounds(ref)):
                raise WorkbookError(f"table {table.name} needs rows down to {last}, where the "
                                    f"merged cells {sheet.name}!{ref} are")

    def _resize(self, sheet: SheetPart, table: TablePart, new_ref: str,
                span: tuple[int, int, int, int, int]) -> None:
        text = self.table_xml.get(table.part, self.pkg.text(table.part))
        text = re.sub(r'(<(?:\w+:)?table\b[^>]*?\bref=")[^"]*(")', rf"\g<1>{new_ref}\g<2>",
                      text, count=1)
        text = re.sub(r'(<(?:\w+:)?autoFilter\b[^>]*?\bref=")[^"]*(")', rf"\g<1>{new_ref}\g<2>",
                      text, count=1)
        r1, c1, _, c2 = bounds(new_ref)
        body = range_ref(r1 + 1, c1, bounds(new_ref)[2], c2)
        text = re.sub(r'(<(?:\w+:)?sortState\b[^>]*?\bref=")[^"]*(")', rf"\g<1>{body}\g<2>", text)
        self.table_xml[table.part] = text
        self.sqref_edits.setdefault(sheet.part, []).append(span)
        self.name_edits.append((sheet.name, table.ref, new_ref))

    # -- output
    def render(self) -> tuple[dict[str, bytes], set[str]]:
        parts: dict[str, bytes] = {}
        for part, cells in self.sheets.items():
            writes = self.writes.get(part, {})
            spans = self.sqref_edits.get(part, [])
            if writes:
                _check_formula_groups(cells, set(writes))
            if writes or spans:
                parts[part] = render_sheet(cells, writes, self.row_templates.get(part, {}),
                                            spans).encode("utf-8")
        parts.update({p: t.encode("utf-8") for p, t in self.table_xml.items()})
        parts.update(self.styles.render())
        removed: set[str] = set()
        wb = self.pkg.text(self.pkg.workbook_part)
        wb = set_full_calc(rename_ranges(wb, self.name_edits))
        parts[self.pkg.workbook_part] = wb.encode("utf-8")
        if self.formula_touched:
            removed |= drop_calc_chain(self.pkg, parts)
        return parts, removed


_F_TAG = re.compile(r"<(?:\w+:)?f\b([^>]*)")


def _check_formula_groups(cells: SheetCells, written: set[tuple[int, int]]) -> None:
    """Refuse writes that would break a formula shared by several cells: a shared formula's
    master (the cell holding its text) overwritten while cells that use it stay, or part of
    a multi-cell array formula (or spill) overwritten."""
    shared: dict[str, list[tuple[int, int]]] = {}
    masters: dict[str, tuple[int, int]] = {}
    for row in cells.rows.values():
        for cell in row.cells.values():
            m = _F_TAG.search(cell.inner)
            if m is None:
                continue
            a = attrs(m[1])
            here = (cell.row, cell.col)
            if a.get("t") == "shared" and "si" in a:
                shared.setdefault(a["si"], []).append(here)
                if "ref" in a:
                    masters[a["si"]] = here
            elif a.get("t") == "array" and "ref" in a:
                r1, c1, r2, c2 = bounds(a["ref"])
                block = {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
                hit = block & written
                if len(block) > 1 and hit and hit != block:
                    raise WorkbookError(
                        f"{cells.sheet}!{_address(min(hit))} is part of the array formula in "
                        f"{cells.sheet}!{_address(here)} ({a['ref']}); clear the whole array "
                        f"first")
    for si, master in masters.items():
        users = set(shared[si]) - written
        if master in written and users:
            raise WorkbookError(
                f"{cells.sheet}!{_address(master)} holds a formula shared with "
                f"{cells.sheet}!{_address(min(users))} and other cells; overwriting it would "
                f"break them")


def _address(cell: tuple[int, int]) -> str:
    return f"{col_letter(cell[1])}{cell[0]}"

