"""Reading an .xlsx package at the XML level, for ``xlsxedit``: parts, relationships, sheets
and their tables, styles (which number formats are dates), shared strings, and a worksheet's
rows and cells located by character offsets so an editor can splice new cell XML in while
every other byte of the part stays as it was (namespace declarations, extensions, ``mc:``
markup that a DOM round trip through ElementTree would lose)."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..book.xlsx import cell_ref
from ..errors import WorkbookError

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_N = {"m": MAIN, "r": REL, "p": PKG_REL}
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_ATTR = re.compile(r"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# built-in number formats that show dates or times (ECMA-376 §18.8.30, plus East-Asian ids)
_DATE_FMT_IDS = set(range(14, 23)) | set(range(27, 37)) | {45, 46, 47} | set(range(50, 59))


def attrs(text: str) -> dict[str, str]:
    """Attributes of a start tag's text (entities left as written)."""
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(text)}


def unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&#13;", "\r").replace("&#10;", "\n")
            .replace("&#9;", "\t").replace("&amp;", "&"))


# ----------------------------------------------------------------------------- package

@dataclass
class TablePart:
    part: str
    name: str
    ref: str
    columns: list[str]
    calculated: set[int]            # 0-based indexes of calculated columns
    header_rows: int
    totals_rows: int


@dataclass
class SheetPart:
    name: str
    part: str
    tables: list[TablePart] = field(default_factory=list)


class Package:
    """The parts of an .xlsx file (bytes by name), with sheets, tables, styles resolved."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            with zipfile.ZipFile(self.path) as zf:
                self.infos = zf.infolist()
                self.parts = {i.filename: zf.read(i) for i in self.infos}
        except (zipfile.BadZipFile, OSError) as exc:
            raise WorkbookError(f"{self.path.name} is not an .xlsx workbook ({exc})") from None
        self.workbook_part = self._office_document()
        self.sheets = self._sheets()
        self.shared_strings = self._shared_strings()
        self.date_styles, self.style_count = self._styles()

    def text(self, part: str) -> str:
        return self.parts[part].decode("utf-8")

    def xml(self, part: str) -> ET.Element:
        return ET.fromstring(self.parts[part])

    def rels(self, part: str) -> list[tuple[str, str, str]]:
        """(Id, Type, absolute target part) of a part's relationships."""
        folder, name = posixpath.split(part)
        rel_part = posixpath.join(folder, "_rels", name + ".rels")
        if rel_part not in self.parts:
            return []
        out = []
        for rel in self.xml(rel_part).findall("p:Relationship", _N):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            out.append((rel.get("Id", ""), rel.get("Type", ""), full))
        return out

    def _office_document(self) -> str:
        for _, kind, target in self.rels(""):
            if kind.endswith("/officeDocument"):
                return target
        if "xl/workbook.xml" in self.parts:
            return "xl/workbook.xml"
        raise WorkbookError(f"{self.path.name}: no workbook part in the package")

    def _sheets(self) -> list[SheetPart]:
        targets = {rid: t for rid, kind, t in self.rels(self.workbook_part)
                   if kind.endswith("/worksheet")}
        out = []
        for el in self.xml(self.workbook_part).findall("m:sheets/m:sheet", _N):
            part = targets.get(el.get(f"{{{REL}}}id", ""))
            if part is None:                  # chart sheets, dialog sheets: no cells to edit
                continue
            sheet = SheetPart(el.get("name", ""), part)
            for _, kind, tpart in self.rels(part):
                if kind.endswith("/table"):
                    sheet.tables.append(self._table(tpart))
            out.append(sheet)
        return out

    def _table(self, part: str) -> TablePart:
        el = self.xml(part)
        cols = el.findall("m:tableColumns/m:tableColumn", _N)
        calculated = {i for i, c in enumerate(cols)
                      if c.find("m:calculatedColumnFormula", _N) is not None}
        return TablePart(part, el.get("displayName") or el.get("name", ""), el.get("ref", ""),
                         [c.get("name", "") for c in cols], calculated,
                         int(el.get("headerRowCount", "1")), int(el.get("totalsRowCount", "0")))

    def _shared_strings(self) -> list[str]:
        part = next((t for _, k, t in self.rels(self.workbook_part)
                     if k.endswith("/sharedStrings")), None)
        if part is None or part not in self.parts:
            return []
        return ["".join(t.text or "" for t in [*si.findall("m:t", _N),
                                                *si.findall("m:r/m:t", _N)])
                for si in self.xml(part).findall("m:si", _N)]

    def styles_part(self) -> str | None:
        return next((t for _, k, t in self.rels(self.workbook_part) if k.endswith("/styles")),
                    None)

    def _styles(self) -> tuple[set[int], int]:
        part = self.styles_part()
        if part is None or part not in self.parts:
            return set(), 0
        root = self.xml(part)
        custom = {int(f.get("numFmtId", "0")): f.get("formatCode", "")
                  for f in root.findall("m:numFmts/m:numFmt", _N)}
        xfs = root.findall("m:cellXfs/m:xf", _N)
        dates = {i for i, xf in enumerate(xfs)
                 if is_date_format(int(xf.get("numFmtId", "0")), custom)}
        return dates, len(xfs)

    def table(self, name: str) -> tuple[SheetPart, TablePart]:
        for sheet in self.sheets:
            for table in sheet.tables:
                if table.name.casefold() == name.casefold():
                    return sheet, table
        names = [t.name for s in self.sheets for t in s.tables]
        raise WorkbookError(f"{self.path.name} has no table {name!r} (tables: "
                            f"{', '.join(names) or 'none'})")

    def sheet(self, name: str) -> SheetPart:
        for sheet in self.sheets:
            if sheet.name.casefold() == name.casefold():
                return sheet
        raise WorkbookError(f"{self.path.name} has no worksheet {name!r} (sheets: "
                            f"{', '.join(s.name for s in self.sheets)})")


def is_date_format(fmt_id: int, custom: dict[int, str]) -> bool:
    """True when a number format shows a date/time (built-in id or a custom code with
    d, m, y, h or s outside quoted text, escapes and [colour]/[condition] brackets)."""
    if fmt_id in custom:
        code = re.sub(r'"[^"]*"|\\.|\[(?!h\]|m\]|s\])[^\]]*\]', "", custom[fmt_id].lower())
        code = code.split(";")[0]
        return bool(re.search(r"[dmyhs]", code)) and "general" not in code
    return fmt_id in _DATE_FMT_IDS


# ----------------------------------------------------------------------------- worksheet cells

@dataclass
class Cell:
    """A ``<c>`` element: its text span in the part, attributes and inner XML."""

    row: int
    col: int
    start: int
    end: int
    attrs: dict[str, str]
    inner: str

    @property
    def has_formula(self) -> bool:
        return "<f" in self.inner and re.search(r"<(\w+:)?f[\s>/]", self.inner) is not None

    @property
    def is_empty(self) -> bool:
        return not self.has_formula and re.search(r"<(\w+:)?(v|is)[\s>]", self.inner) is None


@dataclass
class Row:
    number: int
    start: int
    end: int
    attrs_text: str
    cells: dict[int, Cell]


class SheetCells:
    """The ``<sheetData>`` of a worksheet part: rows and cells with their offsets."""

    def __init__(self, xml: str, sheet: str):
        self.xml, self.sheet = xml, sheet
        m = re.search(r"<(?:(\w+):)?sheetData\b[^>]*?(/?)>", xml)
        if m is None:
            raise WorkbookError(f"sheet {sheet}: no <sheetData> element")
        self.prefix = f"{m[1]}:" if m[1] else ""
        self.open_start, self.open_end = m.start(), m.end()
        self.self_closing = m[2] == "/"
        if self.self_closing:
            self.body_start = self.body_end = m.end()
        else:
            close = xml.index(f"</{self.prefix}sheetData>", m.end())
            self.body_start, self.body_end = m.end(), close
        self.rows = self._rows()

    def _rows(self) -> dict[int, Row]:
        p = re.escape(self.prefix)
        row_re = re.compile(rf"<{p}row\b([^>]*?)(?:/>|>(.*?)</{p}row>)", re.DOTALL)
        cell_re = re.compile(rf"<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)", re.DOTALL)
        rows: dict[int, Row] = {}
        for m in row_re.finditer(self.xml, self.body_start, self.body_end):
            a = attrs(m[1])
            if "r" not in a:
                raise WorkbookError(f"sheet {self.sheet}: a row without its number (r=); "
                                    f"re-save the workbook in Excel first")
            number = int(a["r"])
            cells = {}
            if m[2]:
                base = m.start(2)
                for c in cell_re.finditer(m[2]):
                    ca = attrs(c[1])
                    if "r" not in ca:
                        raise WorkbookError(f"sheet {self.sheet} row {number}: a cell without "
                                            f"its address (r=); re-save the workbook in Excel")
                    r, col = cell_ref(ca["r"])
                    cells[col] = Cell(r, col, base + c.start(), base + c.end(), ca, c[2] or "")
            rows[number] = Row(number, m.start(), m.end(), m[1], cells)
        return rows

    def cell(self, row: int, col: int) -> Cell | None:
        r = self.rows.get(row)
        return r.cells.get(col) if r else None


def cell_value(cell: Cell | None, pkg: Package) -> Any:
    """The value a cell shows (a formula's cached value): None, str, bool, int/float, or a
    date/datetime for a number in a date format; an error cell gives its text ('#N/A')."""
    if cell is None:
        return None
    kind = cell.attrs.get("t", "n")
    if kind == "inlineStr":
        return unescape("".join(re.findall(r"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>",
                                           cell.inner, re.DOTALL)))
    m = re.search(r"<(?:\w+:)?v(?:\s[^>]*)?>(.*?)</(?:\w+:)?v>", cell.inner, re.DOTALL)
    if m is None:
        return None
    raw = unescape(m[1])
    if kind == "s":
        return pkg.shared_strings[int(raw)]
    if kind in ("str", "e"):
        return raw
    if kind == "b":
        return raw.strip() == "1"
    number = float(raw)
    if int(cell.attrs.get("s", "0")) in pkg.date_styles:
        when = EXCEL_EPOCH + dt.timedelta(days=number)
        return when.date() if number == int(number) else when
    return int(number) if re.fullmatch(r"-?\d+", raw.strip()) else number
