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
  is copied unchanged; the workbook asks Excel/Calc to recalculate on load
  (``fullCalcOnLoad``) so cached formula values are refreshed; the calculation chain is
  dropped when a formula cell was overwritten (Excel rebuilds it);
* the copy is written to a temporary file beside ``dst`` and renamed into place; ``dst``
  may not be ``src``.

Returns the addresses (``Sheet!A1``) of the cells whose content changed.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, PathError, WorkbookError, describe
from .xlsxpkg import (
    EXCEL_EPOCH,
    Cell,
    Package,
    SheetCells,
    SheetPart,
    TablePart,
    attrs,
    cell_value,
    col_letters,
    parse_range,
    range_text,
    split_ref,
)

DATE_FORMAT = "yyyy-mm-dd"
_BAD_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CALC_SUCCESSORS = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr",
                    "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects",
                    "extLst")


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
    r1, c1, r2, c2 = parse_range(table.ref)
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
    if not path.is_file():
        raise PathError(f"workbook not found: {path}")
    return path


def _check_paths(src: Path, dst: Path) -> None:
    _existing(src)
    if dst.resolve() == src.resolve() or (dst.exists() and os.path.samefile(src, dst)):
        raise PathError(f"the output {dst} is the workbook being read; name a new file")
    if not dst.parent.resolve().is_dir():
        raise PathError(f"the output folder {dst.parent} does not exist")
    if dst.exists() and not dst.is_file():
        raise PathError(f"the output {dst} exists and is not a file")


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


# ----------------------------------------------------------------------------- values

def _normalise(value: Any, where: str) -> tuple[str, Any]:
    """(kind, payload): blank, bool, number (float), date (serial float), text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "blank", None
    if isinstance(value, (bool, np.bool_)):
        return "bool", bool(value)
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return "blank", None
        value = value.astype("datetime64[us]").item()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise InputError(f"{where}: {value} has a time zone; Excel dates have none")
        return "date", (value - EXCEL_EPOCH).total_seconds() / 86400.0
    if isinstance(value, dt.date):
        return "date", float((value - EXCEL_EPOCH.date()).days)
    if isinstance(value, (int, float, np.integer, np.floating)):
        x = float(value)
        if math.isnan(x):
            return "blank", None
        if not math.isfinite(x):
            raise InputError(f"{where}: {value} is not a finite number")
        return "number", x
    if isinstance(value, str):
        if _BAD_XML_CHARS.search(value):
            raise InputError(f"{where}: {describe(value)} holds a control character a workbook "
                             f"cannot store")
        return "text", value
    raise InputError(f"{where}: cannot write {type(value).__name__} {describe(value)} to a cell")


def _number_text(x: float) -> str:
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _same(old: Cell | None, kind: str, payload: Any, pkg: Package) -> bool:
    """True when the cell already shows this value (so its XML can stay as it is)."""
    if old is not None and old.has_formula:
        return False
    before = cell_value(old, pkg)
    if kind == "blank":
        return before is None
    if kind == "text":
        return isinstance(before, str) and old.attrs.get("t") in ("s", "inlineStr") \
            and before == payload
    if kind == "bool":
        return isinstance(before, bool) and before == payload
    if kind == "date":
        if isinstance(before, (dt.date, dt.datetime)):
            return _normalise(before, "")[1] == payload
        return False
    return isinstance(before, (int, float)) and not isinstance(before, bool) \
        and float(before) == payload


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
        self.styles = _Styles(pkg)

    def _cells(self, sheet: SheetPart) -> SheetCells:
        if sheet.part not in self.sheets:
            self.sheets[sheet.part] = SheetCells(self.pkg.text(sheet.part), sheet.name)
        return self.sheets[sheet.part]

    # -- single cells
    def set_cell(self, sheet_name: str, ref: str, value: Any) -> None:
        sheet = self.pkg.sheet(sheet_name)
        row, col = split_ref(ref)
        for table in sheet.tables:
            r1, c1, _, c2 = parse_range(table.ref)
            if row == r1 and c1 <= col <= c2:
                raise WorkbookError(f"{sheet.name}!{ref} is a header of the table {table.name}; "
                                    f"rename columns in Excel")
        self._write(sheet, row, col, value, None)

    def _write(self, sheet: SheetPart, row: int, col: int, value: Any,
               template: Cell | None) -> None:
        cells = self._cells(sheet)
        address = f"{col_letters(col)}{row}"
        old = cells.cell(row, col)
        kind, payload = _normalise(value, f"{sheet.name}!{address}")
        if (row, col) in self.writes.get(sheet.part, {}):
            raise InputError(f"{sheet.name}!{address} is written twice in one edit")
        if _same(old, kind, payload, self.pkg):
            return
        base = old if old is not None and "s" in old.attrs else template
        style = int(base.attrs.get("s", "0")) if base is not None else 0
        if kind == "date" and style not in self.pkg.date_styles:
            tstyle = int(template.attrs.get("s", "0")) if template is not None else 0
            style = tstyle if tstyle in self.pkg.date_styles else self.styles.date_style(style)
        self.formula_touched |= old is not None and old.has_formula
        self.writes.setdefault(sheet.part, {})[(row, col)] = _cell_xml(
            cells.prefix, address, kind, payload, style)
        self.changed.append(f"{_quote_sheet(sheet.name)}!{address}")

    # -- tables
    def replace_table(self, name: str, data: list[list]) -> None:
        sheet, table = self.pkg.table(name)
        if table.header_rows != 1 or table.totals_rows:
            raise WorkbookError(f"table {table.name}: only tables with one header row and no "
                                f"totals row can be refilled")
        if not data:
            raise InputError(f"table {table.name}: the data needs a header row")
        r1, c1, r2, c2 = parse_range(table.ref)
        mapping = self._columns(table, data[0])
        rows = [list(r) for r in data[1:]]
        for i, r in enumerate(rows, start=2):
            if len(r) > len(data[0]):
                raise InputError(f"table {table.name}: data row {i} has {len(r)} cells for "
                                 f"{len(data[0])} headers")
        last = r1 + max(len(rows), 1)
        self._check_room(sheet, table, r2, last, c1, c2)
        cells = self._cells(sheet)
        for i, r in enumerate(range(r1 + 1, last + 1)):
            values = rows[i] if i < len(rows) else []
            for j in range(c2 - c1 + 1):
                k = mapping.get(j)
                value = values[k] if k is not None and k < len(values) else None
                self._write(sheet, r, c1 + j, value, cells.cell(r2, c1 + j) if r2 > r1 else None)
            if r > r2 and r2 > r1 and r2 in cells.rows:
                self.row_templates.setdefault(sheet.part, {})[r] = cells.rows[r2].attrs_text
        for r in range(last + 1, r2 + 1):
            for c in range(c1, c2 + 1):
                if cells.cell(r, c) is not None:
                    self._write(sheet, r, c, None, None)
        new_ref = range_text(r1, c1, last, c2)
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
        cells = self._cells(sheet)
        for r in range(old_last + 1, last + 1):
            for c in range(c1, c2 + 1):
                cell = cells.cell(r, c)
                if cell is not None and not cell.is_empty:
                    raise WorkbookError(
                        f"table {table.name} needs rows down to {last}, but "
                        f"{sheet.name}!{col_letters(c)}{r} holds "
                        f"{describe(cell_value(cell, self.pkg))}; move it or the table")
        grown = (old_last + 1, c1, last, c2)
        for other in sheet.tables:
            if other is not table and _overlap(grown, parse_range(other.ref)):
                raise WorkbookError(f"table {table.name} needs rows down to {last}, where the "
                                    f"table {other.name} ({other.ref}) is")
        for ref in re.findall(r'<(?:\w+:)?mergeCell\s+ref="([^"]+)"', cells.xml):
            if _overlap(grown, parse_range(ref)):
                raise WorkbookError(f"table {table.name} needs rows down to {last}, where the "
                                    f"merged cells {sheet.name}!{ref} are")

    def _resize(self, sheet: SheetPart, table: TablePart, new_ref: str,
                span: tuple[int, int, int, int, int]) -> None:
        text = self.table_xml.get(table.part, self.pkg.text(table.part))
        text = re.sub(r'(<(?:\w+:)?table\b[^>]*?\bref=")[^"]*(")', rf"\g<1>{new_ref}\g<2>",
                      text, count=1)
        text = re.sub(r'(<(?:\w+:)?autoFilter\b[^>]*?\bref=")[^"]*(")', rf"\g<1>{new_ref}\g<2>",
                      text, count=1)
        r1, c1, _, c2 = parse_range(new_ref)
        body = range_text(r1 + 1, c1, parse_range(new_ref)[2], c2)
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
            if writes or spans:
                parts[part] = _render_sheet(cells, writes, self.row_templates.get(part, {}),
                                            spans).encode("utf-8")
        parts.update({p: t.encode("utf-8") for p, t in self.table_xml.items()})
        parts.update(self.styles.render())
        removed: set[str] = set()
        wb = self.pkg.text(self.pkg.workbook_part)
        wb = _set_full_calc(_rename_ranges(wb, self.name_edits))
        parts[self.pkg.workbook_part] = wb.encode("utf-8")
        if self.formula_touched:
            removed |= _drop_calc_chain(self.pkg, parts)
        return parts, removed


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _quote_sheet(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) else \
        "'" + name.replace("'", "''") + "'"


def _cell_xml(p: str, ref: str, kind: str, payload: Any, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if kind == "blank":
        return f'<{p}c r="{ref}"{s}/>' if style else ""
    if kind == "bool":
        return f'<{p}c r="{ref}"{s} t="b"><{p}v>{int(payload)}</{p}v></{p}c>'
    if kind in ("number", "date"):
        return f'<{p}c r="{ref}"{s}><{p}v>{_number_text(payload)}</{p}v></{p}c>'
    return (f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">'
            f'{_escape(payload)}</{p}t></{p}is></{p}c>')


def _render_sheet(cells: SheetCells, writes: dict[tuple[int, int], str],
                  templates: dict[int, str], spans: list[tuple[int, int, int, int, int]]) -> str:
    p, xml = cells.prefix, cells.xml
    by_row: dict[int, dict[int, str]] = {}
    for (r, c), text in writes.items():
        by_row.setdefault(r, {})[c] = text
    out, extent = [], [None, None, None, None]
    for number in sorted(set(cells.rows) | set(by_row)):
        row = cells.rows.get(number)
        new = by_row.get(number)
        if new is None:
            out.append(xml[row.start:row.end])
            cols = list(row.cells)
        else:
            texts = {c: xml[cell.start:cell.end] for c, cell in (row.cells.items() if row else ())}
            texts.update(new)
            texts = {c: t for c, t in texts.items() if t}
            head = row.attrs_text if row else templates.get(number, "")
            head = re.sub(r'\s(r|spans)="[^"]*"', "", head)
            if not texts and row is None:
                continue
            body = "".join(texts[c] for c in sorted(texts))
            out.append(f'<{p}row r="{number}"{head}>{body}</{p}row>' if body
                       else f'<{p}row r="{number}"{head}/>')
            cols = list(texts)
        if cols:
            _grow(extent, number, min(cols), max(cols))
    if cells.self_closing:
        head = xml[:cells.open_start] + f"<{p}sheetData>"
        tail = f"</{p}sheetData>" + xml[cells.open_end:]
    else:
        head, tail = xml[:cells.body_start], xml[cells.body_end:]
    if extent[0] is not None:
        ref = _ref_text(extent[0], extent[2], extent[1], extent[3])
        head = re.sub(r'(<(?:\w+:)?dimension\b[^>]*?\bref=")[^"]*(")', rf"\g<1>{ref}\g<2>", head,
                      count=1)
    for span in spans:
        tail = _move_sqrefs(tail, span)
    return head + "".join(out) + tail


def _ref_text(r1: int, c1: int, r2: int, c2: int) -> str:
    """A range as Excel writes it: 'A1:N5', or 'B2' for a single cell."""
    text = range_text(r1, c1, r2, c2)
    a, b = text.split(":")
    return a if a == b else text


def _grow(extent: list, row: int, lo: int, hi: int) -> None:
    extent[0] = row if extent[0] is None else min(extent[0], row)
    extent[1] = row if extent[1] is None else max(extent[1], row)
    extent[2] = lo if extent[2] is None else min(extent[2], lo)
    extent[3] = hi if extent[3] is None else max(extent[3], hi)


def _move_sqrefs(tail: str, span: tuple[int, int, int, int, int]) -> str:
    """Data validations / conditional formats that covered a table column's whole old body
    (rows first..old_last) now cover its new body (rows first..new_last)."""
    first, c1, old_last, c2, new_last = span

    def fix(refs: str) -> str:
        out = []
        for ref in refs.split():
            a, b, c, d = parse_range(ref)
            if a == first and c == old_last and c1 <= b and d <= c2:
                ref = _ref_text(first, b, max(new_last, first), d)
            out.append(ref)
        return " ".join(out)

    tail = re.sub(r'(<(?:\w+:)?(?:dataValidation|conditionalFormatting)\b[^>]*?\bsqref=")'
                  r'([^"]*)(")', lambda m: m[1] + fix(m[2]) + m[3], tail)
    return re.sub(r"(<xm:sqref>)(.*?)(</xm:sqref>)", lambda m: m[1] + fix(m[2]) + m[3], tail)


def _rename_ranges(wb: str, edits: list[tuple[str, str, str]]) -> str:
    """Defined names whose whole formula is a table's old range follow the table."""
    for sheet, old, new in edits:
        r1, c1, r2, c2 = parse_range(old)
        n1, m1, n2, m2 = parse_range(new)
        old_abs = f"${col_letters(c1)}${r1}:${col_letters(c2)}${r2}"
        new_abs = f"${col_letters(m1)}${n1}:${col_letters(m2)}${n2}"
        for prefix in {_quote_sheet(sheet), "'" + sheet.replace("'", "''") + "'"}:
            wb = re.sub(rf"(<(?:\w+:)?definedName\b[^>]*>){re.escape(prefix + '!' + old_abs)}"
                        rf"(</(?:\w+:)?definedName>)", rf"\g<1>{prefix}!{new_abs}\g<2>", wb)
    return wb


def _set_full_calc(wb: str) -> str:
    m = re.search(r"<(\w+:)?calcPr\b([^>]*?)(/?)>", wb)
    if m:
        a = attrs(m[2])
        if a.get("fullCalcOnLoad") in ("1", "true"):
            return wb
        inner = re.sub(r'\sfullCalcOnLoad="[^"]*"', "", m[2])
        return wb[:m.start()] + f'<{m[1] or ""}calcPr{inner} fullCalcOnLoad="1"{m[3]}>' + \
            wb[m.end():]
    root = re.search(r"<(\w+:)?workbook\b", wb)
    p = (root[1] or "") if root else ""
    for name in _CALC_SUCCESSORS:
        hit = re.search(rf"<{re.escape(p)}{name}\b", wb)
        if hit:
            return wb[:hit.start()] + f'<{p}calcPr fullCalcOnLoad="1"/>' + wb[hit.start():]
    end = wb.rindex(f"</{p}workbook>")
    return wb[:end] + f'<{p}calcPr fullCalcOnLoad="1"/>' + wb[end:]


def _drop_calc_chain(pkg: Package, parts: dict[str, bytes]) -> set[str]:
    chain = next((t for _, k, t in pkg.rels(pkg.workbook_part) if k.endswith("/calcChain")),
                 None)
    if chain is None:
        return set()
    folder, name = os.path.split(pkg.workbook_part)
    rels_part = f"{folder}/_rels/{name}.rels"
    rels = pkg.text(rels_part)
    rels = re.sub(r'<Relationship\b[^>]*?Type="[^"]*/calcChain"[^>]*/>', "", rels)
    parts[rels_part] = rels.encode("utf-8")
    types = pkg.text("[Content_Types].xml")
    types = re.sub(rf'<Override\b[^>]*?PartName="/{re.escape(chain)}"[^>]*/>', "", types)
    parts["[Content_Types].xml"] = types.encode("utf-8")
    return {chain}


class _Styles:
    """Date styles added to styles.xml: one ``yyyy-mm-dd`` copy of each base cell style."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.part = pkg.styles_part()
        self.added: dict[int, int] = {}
        self.text: str | None = None

    def date_style(self, base: int) -> int:
        if base in self.added:
            return self.added[base]
        if self.part is None or self.part not in self.pkg.parts:
            raise WorkbookError(f"{self.pkg.path.name} has no styles part to add a date format to")
        text = self.text if self.text is not None else self.pkg.text(self.part)
        text, fmt_id = _date_numfmt(text)
        m = re.search(r"<(\w+:)?cellXfs\b([^>]*)>(.*?)</(\w+:)?cellXfs>", text, re.DOTALL)
        if m is None:
            raise WorkbookError(f"{self.pkg.path.name}: styles.xml has no cellXfs")
        p = m[1] or ""
        xfs = re.findall(rf"<{re.escape(p)}xf\b[^>]*?(?:/>|>.*?</{re.escape(p)}xf>)", m[3],
                         re.DOTALL)
        template = xfs[base] if base < len(xfs) else f'<{p}xf numFmtId="0"/>'
        new = re.sub(r'\s(numFmtId|applyNumberFormat)="[^"]*"', "", template, count=2)
        new = re.sub(rf"^<{re.escape(p)}xf\b", f'<{p}xf numFmtId="{fmt_id}" '
                                               f'applyNumberFormat="1"', new)
        index = len(xfs)
        head = re.sub(r'\bcount="\d+"', f'count="{index + 1}"', m[2])
        text = (text[:m.start()] + f"<{p}cellXfs{head}>{m[3]}{new}</{p}cellXfs>" +
                text[m.end():])
        self.text = text
        self.added[base] = index
        self.pkg.date_styles.add(index)
        return index

    def render(self) -> dict[str, bytes]:
        return {self.part: self.text.encode("utf-8")} if self.text is not None else {}


def _date_numfmt(text: str) -> tuple[str, int]:
    """styles.xml with a ``yyyy-mm-dd`` number format (reused when present) and its id."""
    fmts = re.findall(r'<(?:\w+:)?numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"',
                      text)
    for fid, code in fmts:
        if code == DATE_FORMAT:
            return text, int(fid)
    fmt_id = max([163, *(int(f) for f, _ in fmts)]) + 1
    m = re.search(r"<(\w+:)?numFmts\b([^>]*)>(.*?)</(\w+:)?numFmts>", text, re.DOTALL)
    if m:
        p = m[1] or ""
        head = re.sub(r'\bcount="\d+"', f'count="{len(fmts) + 1}"', m[2])
        new = f'<{p}numFmt numFmtId="{fmt_id}" formatCode="{DATE_FORMAT}"/>'
        return text[:m.start()] + f"<{p}numFmts{head}>{m[3]}{new}</{p}numFmts>" + \
            text[m.end():], fmt_id
    root = re.search(r"<(\w+:)?styleSheet\b[^>]*>", text)
    p = root[1] or ""
    new = f'<{p}numFmts count="1"><{p}numFmt numFmtId="{fmt_id}" formatCode="{DATE_FORMAT}"/>' \
          f"</{p}numFmts>"
    return text[:root.end()] + new + text[root.end():], fmt_id
