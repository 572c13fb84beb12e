"""An .xlsx/.xlsm file as a zip package, read with the standard library only and never
executed: the size guard every reader runs first, the sheet map, and a sheet's used extent.

``guard_workbook(path)`` refuses, within seconds and with one sentence (``WorkbookError``), a
package that would make a reader (openpyxl, calamine, our own scans) use gigabytes: parts that
decompress to more than ``MAX_TOTAL_BYTES`` in all, a part compressed more than
``MAX_RATIO`` : 1 (a zip bomb), more than ``MAX_PARTS`` parts, a sheet with a row number or a
``<dimension>`` past ``MAX_ROWS``, more than ``MAX_CELLS`` cells, or an XML part with a DTD
(entity expansion). The limits leave about 10× room over what real workbooks need (measured
on this machine): the report of a 10,000-leg book is 29 parts, 3.9 MB uncompressed (the
Positions sheet 3.6 MB, compressed 8.4 : 1 at most), 10,000 rows and ~150,000 cells.

Nothing here trusts the zip's own size fields alone: reads go through :mod:`zipfile`, which
stops at the declared size (and fails on a CRC mismatch), and the sheet scans stream.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from .errors import WorkbookError

MAX_TOTAL_BYTES = 200_000_000     # all parts, uncompressed (10,000 legs: 3.9 MB)
MAX_RATIO = 200                   # compression ratio of one part over 1 MB (real: ≤ 11)
RATIO_MIN_BYTES = 1_000_000
MAX_PARTS = 5_000                 # (real: 29)
MAX_ROWS = 200_000                # per sheet: row numbers and the declared dimension
MAX_CELLS = 3_000_000             # all sheets (10,000 legs: ~150,000)
MAX_CENTRAL_DIRECTORY = 8_000_000
_CHUNK = 1 << 20
_MAX_TAG_BYTES = 4 << 20          # a text run or tag longer than this is not Excel's

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e7 else f"{n / 1e6:,.1f} MB"


# --------------------------------------------------------------------------- package map

@dataclass(frozen=True)
class Rel:
    """One relationship of a part: id, type (last path segment, e.g. 'worksheet'), target
    (a part name inside the package, or the raw text for external targets), external?"""

    id: str
    type: str
    target: str
    external: bool
    source: str          # the part whose .rels file holds it ('' for the package)


@dataclass(frozen=True)
class Sheet:
    name: str
    part: str            # e.g. 'xl/worksheets/sheet1.xml' ('' if the relationship is broken)
    state: str           # 'visible', 'hidden' or 'veryHidden'
    kind: str            # relationship type: 'worksheet', 'chartsheet', 'xlMacrosheet', …
    index: int


class Package:
    """Read-only view of an open zip package: part names (case-insensitive), relationships,
    content types, the workbook part and its sheets."""

    def __init__(self, zf: zipfile.ZipFile, label: str = "workbook"):
        self.zf, self.label = zf, label
        self.names = {i.filename.lower(): i.filename for i in zf.infolist()}

    def has(self, part: str) -> bool:
        return part.lower() in self.names

    def read(self, part: str) -> bytes:
        try:
            return self.zf.read(self.names[part.lower()])
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise self.corrupt(part, exc) from exc

    def corrupt(self, part: str, exc: Exception) -> WorkbookError:
        return WorkbookError(f"{self.label}: not a readable .xlsx workbook (part {part} is "
                             f"damaged: {exc})")

    def open(self, part: str):
        return self.zf.open(self.names[part.lower()])

    def xml(self, part: str) -> ET.Element:
        try:
            return ET.fromstring(self.read(part))
        except ET.ParseError as exc:
            raise WorkbookError(f"{self.label}: not a readable .xlsx workbook (part {part}: "
                                f"{exc})") from exc

    def rels(self, part: str) -> list[Rel]:
        """Relationships of ``part`` ('' for the package's own ``_rels/.rels``)."""
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", f"{name}.rels")
        if not self.has(rels_part):
            return []
        out = []
        for el in self.xml(rels_part):
            if el.tag != f"{{{NS_PKG_REL}}}Relationship":
                continue
            target = el.get("Target", "")
            external = el.get("TargetMode", "") == "External"
            if not external:
                target = resolve_target(part, target)
            out.append(Rel(el.get("Id", ""), el.get("Type", "").rsplit("/", 1)[-1], target,
                           external, part))
        return out

    def all_rels(self) -> dict[str, list[Rel]]:
        """Every part's relationships: source part name (lower case; '' for the package)
        → its relationships."""
        return {rels_source(n).lower(): self.rels(rels_source(n))
                for n in self.names.values() if n.lower().endswith(".rels")}

    def content_types(self) -> dict[str, str]:
        """Part name (lower case) → content type, defaults by extension applied."""
        if not self.has("[Content_Types].xml"):
            return {}
        root = self.xml("[Content_Types].xml")
        defaults = {el.get("Extension", "").lower(): el.get("ContentType", "")
                    for el in root if el.tag == f"{{{NS_CT}}}Default"}
        out = {low: defaults.get(posixpath.splitext(low)[1][1:], "")
               for low in self.names}
        for el in root:
            if el.tag == f"{{{NS_CT}}}Override":
                out[el.get("PartName", "").lstrip("/").lower()] = el.get("ContentType", "")
        return out

    def workbook_part(self) -> str:
        for rel in self.rels(""):
            if rel.type == "officeDocument" and not rel.external:
                return rel.target
        return "xl/workbook.xml"

    def sheets(self) -> list[Sheet]:
        wb = self.workbook_part()
        if not self.has(wb):
            raise WorkbookError(f"{self.label}: not a readable .xlsx workbook (no workbook "
                                f"part {wb})")
        by_id = {r.id: r for r in self.rels(wb)}
        out = []
        for i, el in enumerate(self.xml(wb).iter(f"{{{NS_MAIN}}}sheet")):
            rel = by_id.get(el.get(f"{{{NS_REL}}}id", ""))
            part = rel.target if rel and not rel.external and self.has(rel.target) else ""
            out.append(Sheet(el.get("name", ""), part, el.get("state", "visible"),
                             rel.type if rel else "", i))
        return out


def rels_source(rels_part: str) -> str:
    """The part a relationships part describes: 'xl/_rels/workbook.xml.rels' →
    'xl/workbook.xml'; '_rels/.rels' → '' (the package)."""
    folder = posixpath.dirname(posixpath.dirname(rels_part))
    name = posixpath.basename(rels_part)[: -len(".rels")]
    return posixpath.join(folder, name) if name else ""


def resolve_target(source: str, target: str) -> str:
    """Part name of a relationship target, relative to its source part's folder."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def open_package(path: str | Path) -> zipfile.ZipFile:
    """The zip file at ``path`` (``WorkbookError`` if it is not a readable zip package)."""
    path = Path(path)
    _check_central_directory(path)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise WorkbookError(f"{path.name}: not a readable .xlsx workbook ({exc})") from exc


def _check_central_directory(path: Path) -> None:
    """Refuse a central directory too big to list, before zipfile builds it in memory."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise WorkbookError(f"{path.name}: not a readable .xlsx workbook (not a zip package)")
    entries, cd_size = struct.unpack("<HI", tail[at + 10: at + 16])
    if entries != 0xFFFF and entries > MAX_PARTS or (
            cd_size != 0xFFFFFFFF and cd_size > MAX_CENTRAL_DIRECTORY):
        raise WorkbookError(f"{path.name}: refused before reading: the package lists "
                            f"{entries:,} parts ({_mb(cd_size)} of directory); an ALVH "
                            f"workbook has at most {MAX_PARTS:,}")


# --------------------------------------------------------------------------- the guard

def guard_workbook(path: str | Path) -> None:
    """Refuse (``WorkbookError``, one sentence) a workbook too big or too odd to parse.

    Run before any reader opens the file; takes well under a second on real workbooks and a
    few seconds at most on hostile ones (nothing is decompressed beyond the limits)."""
    path = Path(path)
    refuse = f"{path.name}: refused before reading:"
    with open_package(path) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_PARTS:
            raise WorkbookError(f"{refuse} it has {len(infos):,} parts (an ALVH workbook has "
                                f"at most {MAX_PARTS:,})")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            raise WorkbookError(f"{refuse} its parts would decompress to {_mb(total)} "
                                f"(limit {_mb(MAX_TOTAL_BYTES)} for an ALVH workbook)")
        for i in infos:
            ratio = i.file_size / max(i.compress_size, 1)
            if i.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO:
                raise WorkbookError(f"{refuse} part {i.filename} is compressed {ratio:,.0f} : 1 "
                                    f"({_mb(i.compress_size)} → {_mb(i.file_size)}), like a "
                                    "zip bomb")
        pkg = Package(zf, path.name)
        for i in infos:
            if i.filename.lower().endswith((".xml", ".rels", ".vml")):
                _check_no_dtd(pkg, i.filename, refuse)
        cells = 0
        for sheet in pkg.sheets():
            if not sheet.part:
                continue
            scan = scan_sheet(pkg, sheet.part, refuse)
            for what, rows in (("declares a used range down to row", scan.dimension_rows),
                               ("has a row", scan.max_row)):
                if rows > MAX_ROWS:
                    raise WorkbookError(f"{refuse} sheet {sheet.name!r} {what} {rows:,} (an "
                                        f"ALVH workbook uses at most {MAX_ROWS:,} rows); "
                                        "clear the cells below its data")
            cells += scan.cells
            if cells > MAX_CELLS:
                raise WorkbookError(f"{refuse} it holds more than {MAX_CELLS:,} cells (sheet "
                                    f"{sheet.name!r} reached {cells:,})")


def _check_no_dtd(pkg: Package, part: str, refuse: str) -> None:
    try:
        with pkg.open(part) as fh:
            head = fh.read(65_536)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise pkg.corrupt(part, exc) from exc
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4]:
        head = head.decode("utf-16", errors="ignore").encode()
    root = re.search(rb"<[A-Za-z_]", head)
    prolog = head[: root.start()] if root else head
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise WorkbookError(f"{refuse} part {part} declares a DTD (entities), which Excel "
                            "never writes")


@dataclass
class SheetScan:
    """What a streaming pass over a sheet's XML found."""

    max_row: int = 0             # highest row number: explicit, or at least the row count
    dimension_rows: int = 0      # last row of the <dimension ref=…> declaration
    cells: int = 0               # <c> elements
    cells_with_ref: int = 0      # <c> elements with an r="A1" attribute


_P = rb"<(?:[A-Za-z_][\w.-]*:)?"                     # an element, any namespace prefix
_START = re.compile(_P + rb"(c|row)[\s/>]")
_CELL_REF = re.compile(_P + rb"c\s[^>]*?(?<=\s)r\s*=\s*[\"']\$?[A-Za-z]{1,3}\$?(\d{1,9})[\"']")
_ROW_REF = re.compile(_P + rb"row\s[^>]*?(?<=\s)r\s*=\s*[\"'](\d{1,9})[\"']")
_DIMENSION = re.compile(_P + rb"dimension\s[^>]*?(?<=\s)ref\s*=\s*[\"']([^\"']*)[\"']")


def chunks(pkg: Package, part: str, refuse: str = "") -> Iterator[bytes]:
    """The part's bytes in pieces of about 1 MB, each cut just before a '<' so that no tag is
    split (XML never has a raw '<' inside a tag or a text)."""
    carry = b""
    with pkg.open(part) as fh:
        while True:
            try:
                chunk = fh.read(_CHUNK)
            except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                raise pkg.corrupt(part, exc) from exc
            if not chunk:
                if carry:
                    yield carry
                return
            buf = carry + chunk
            cut = buf.rfind(b"<")
            if cut < 0:                          # text only: no tag starts here
                carry = b""
                continue
            if cut > 0:
                yield buf[:cut]
            carry = buf[cut:]                    # an unfinished tag (or the last one)
            if len(carry) > _MAX_TAG_BYTES:
                raise WorkbookError(f"{refuse or pkg.label + ':'} part {part} has a tag or "
                                    f"text longer than {_mb(_MAX_TAG_BYTES)}")


def _max_int(found: list[bytes]) -> int:
    return max(map(int, found), default=0)


def scan_sheet(pkg: Package, part: str, refuse: str = "") -> SheetScan:
    """Rows, declared dimension and cell count of one sheet part, streamed."""
    scan = SheetScan()
    rows = 0
    for i, buf in enumerate(chunks(pkg, part, refuse)):
        if i == 0:
            dim = _DIMENSION.search(buf)
            if dim:
                scan.dimension_rows = _max_int(re.findall(rb"\d+", dim.group(1)))
        starts = _START.findall(buf)
        n_cells = starts.count(b"c")
        scan.cells += n_cells
        rows += len(starts) - n_cells
        refs = _CELL_REF.findall(buf)
        scan.cells_with_ref += len(refs)
        scan.max_row = max(scan.max_row, _max_int(refs), _max_int(_ROW_REF.findall(buf)))
    scan.max_row = max(scan.max_row, rows)
    return scan


# --------------------------------------------------------------------------- used extent

_FILLED_CELL = re.compile(_P + rb"c\s[^>]*?(?<=\s)r\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?(\d{1,9})"
                          rb"[\"'][^>]*(?<!/)>\s*" + _P + rb"(?:v|f|is)[\s/>]")
_EXTENT_TAG = re.compile(_P + rb"(row|c|v|f|is)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_R_ATTR = re.compile(rb"(?<=\s)r\s*=\s*[\"']\$?([A-Za-z]{0,3})\$?(\d{1,9})[\"']")


def used_extent(path: str | Path, sheet: str) -> tuple[int, int]:
    """(last row, last column), 1-based, of the cells of ``sheet`` that hold a value or a
    formula — (0, 0) for an empty sheet. Formatting alone does not count, so a whole-column
    name such as ``Positions!$A:$N`` can be clamped to ``$A$1:$N$<last row>``.

    Streams the sheet's XML (run ``guard_workbook`` first); ``WorkbookError`` if the
    workbook has no such sheet. Cells without an ``r`` attribute (legal, placed after the
    previous cell) are followed exactly, on a slower path."""
    with open_package(path) as zf:
        pkg = Package(zf, Path(path).name)
        found = [s for s in pkg.sheets() if s.name.casefold() == sheet.casefold()]
        if not found or not found[0].part:
            raise WorkbookError(f"{Path(path).name}: no sheet {sheet!r}")
        part = found[0].part
        scan = scan_sheet(pkg, part)
        if scan.cells != scan.cells_with_ref:
            return _extent_in_order(pkg, part)
        last_row = last_col = 0
        for buf in chunks(pkg, part):
            for letters, digits in _FILLED_CELL.findall(buf):
                last_row = max(last_row, int(digits))
                last_col = max(last_col, column_number(letters.decode()))
        return last_row, last_col


def _extent_in_order(pkg: Package, part: str) -> tuple[int, int]:
    """``used_extent`` walking rows and cells in document order (positions implied)."""
    last_row = last_col = row = col = cell_row = cell_col = 0
    for buf in chunks(pkg, part):
        for m in _EXTENT_TAG.finditer(buf):
            name = m.group(1)
            if name == b"row":
                r = _R_ATTR.search(m.group(2))
                row, col = (int(r.group(2)) if r else row + 1), 0
            elif name == b"c":
                r = _R_ATTR.search(m.group(2))
                if r and r.group(1):
                    cell_col, cell_row = column_number(r.group(1).decode()), int(r.group(2))
                else:
                    cell_col, cell_row = col + 1, row
                col = cell_col
            else:                                    # <v>, <f> or <is>: the cell has content
                last_row, last_col = max(last_row, cell_row), max(last_col, cell_col)
    return last_row, last_col


def column_number(letters: str) -> int:
    """'A' → 1, 'N' → 14, 'XFD' → 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n
