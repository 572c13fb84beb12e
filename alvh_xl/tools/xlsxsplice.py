"""Text-level edits of .xlsx package parts for ``xlsxedit``: cell XML for a value, a
worksheet's ``<sheetData>`` rebuilt from changed rows (untouched rows copied as they were),
sqrefs and defined names that follow a resized table, ``calcPr fullCalcOnLoad``, dropping the
calculation chain, and a ``yyyy-mm-dd`` date style added to styles.xml. Each works on the
part's text with targeted substitutions, so nothing else in the part changes."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from typing import Any

import numpy as np

from ..book.xlsx import bounds, col_letter, range_ref
from ..errors import InputError, WorkbookError, describe
from .xlsxpkg import (
    EXCEL_EPOCH,
    Cell,
    Package,
    SheetCells,
    attrs,
    cell_value,
)

DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "hh:mm"
_BAD_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CALC_SUCCESSORS = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr",
                    "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects",
                    "extLst")


def normalise(value: Any, where: str) -> tuple[str, Any]:
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
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise InputError(f"{where}: {value} has a time zone; Excel times have none")
        return "time", (value.hour * 3600 + value.minute * 60 + value.second
                        + value.microsecond / 1e6) / 86400.0
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


def same_value(old: Cell | None, kind: str, payload: Any, pkg: Package) -> bool:
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
            return normalise(before, "")[1] == payload
        return False
    if kind == "time":
        if isinstance(before, dt.datetime):
            before = before.time()
        return isinstance(before, dt.time) and normalise(before, "")[1] == payload
    return isinstance(before, (int, float)) and not isinstance(before, bool) \
        and float(before) == payload


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def quote_sheet(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) else \
        "'" + name.replace("'", "''") + "'"


def cell_xml(p: str, ref: str, kind: str, payload: Any, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if kind == "blank":
        return f'<{p}c r="{ref}"{s}/>' if style else ""
    if kind == "bool":
        return f'<{p}c r="{ref}"{s} t="b"><{p}v>{int(payload)}</{p}v></{p}c>'
    if kind in ("number", "date", "time"):
        return f'<{p}c r="{ref}"{s}><{p}v>{_number_text(payload)}</{p}v></{p}c>'
    return (f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">'
            f'{_escape(payload)}</{p}t></{p}is></{p}c>')


def render_sheet(cells: SheetCells, writes: dict[tuple[int, int], str],
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
    text = range_ref(r1, c1, r2, c2)
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
            a, b, c, d = bounds(ref)
            if a == first and c == old_last and c1 <= b and d <= c2:
                ref = _ref_text(first, b, max(new_last, first), d)
            out.append(ref)
        return " ".join(out)

    tail = re.sub(r'(<(?:\w+:)?(?:dataValidation|conditionalFormatting)\b[^>]*?\bsqref=")'
                  r'([^"]*)(")', lambda m: m[1] + fix(m[2]) + m[3], tail)
    return re.sub(r"(<xm:sqref>)(.*?)(</xm:sqref>)", lambda m: m[1] + fix(m[2]) + m[3], tail)


def rename_ranges(wb: str, edits: list[tuple[str, str, str]]) -> str:
    """Defined names whose whole formula is a table's old range follow the table."""
    for sheet, old, new in edits:
        r1, c1, r2, c2 = bounds(old)
        n1, m1, n2, m2 = bounds(new)
        old_abs = f"${col_letter(c1)}${r1}:${col_letter(c2)}${r2}"
        new_abs = f"${col_letter(m1)}${n1}:${col_letter(m2)}${n2}"
        for prefix in {quote_sheet(sheet), "'" + sheet.replace("'", "''") + "'"}:
            wb = re.sub(rf"(<(?:\w+:)?definedName\b[^>]*>){re.escape(prefix + '!' + old_abs)}"
                        rf"(</(?:\w+:)?definedName>)", rf"\g<1>{prefix}!{new_abs}\g<2>", wb)
    return wb


def set_full_calc(wb: str) -> str:
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


def drop_calc_chain(pkg: Package, parts: dict[str, bytes]) -> set[str]:
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


class DateStyles:
    """Date (and time) styles added to styles.xml: one ``yyyy-mm-dd`` (``hh:mm``) copy of
    each base cell style."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.part = pkg.styles_part()
        self.added: dict[tuple[int, str], int] = {}
        self.text: str | None = None

    def date_style(self, base: int, code: str = DATE_FORMAT) -> int:
        if (base, code) in self.added:
            return self.added[(base, code)]
        if self.part is None or self.part not in self.pkg.parts:
            raise WorkbookError(f"{self.pkg.path.name} has no styles part to add a date format to")
        text = self.text if self.text is not None else self.pkg.text(self.part)
        text, fmt_id = _date_numfmt(text, code)
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
        self.added[(base, code)] = index
        self.pkg.date_styles.add(index)
        return index

    def render(self) -> dict[str, bytes]:
        return {self.part: self.text.encode("utf-8")} if self.text is not None else {}


def _date_numfmt(text: str, code: str = DATE_FORMAT) -> tuple[str, int]:
    """styles.xml with the number format ``code`` (reused when present) and its id."""
    fmts = re.findall(r'<(?:\w+:)?numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"',
                      text)
    for fid, found in fmts:
        if found == code:
            return text, int(fid)
    fmt_id = max([163, *(int(f) for f, _ in fmts)]) + 1
    m = re.search(r"<(\w+:)?numFmts\b([^>]*)>(.*?)</(\w+:)?numFmts>", text, re.DOTALL)
    if m:
        p = m[1] or ""
        head = re.sub(r'\bcount="\d+"', f'count="{len(fmts) + 1}"', m[2])
        new = f'<{p}numFmt numFmtId="{fmt_id}" formatCode="{code}"/>'
        return text[:m.start()] + f"<{p}numFmts{head}>{m[3]}{new}</{p}numFmts>" + \
            text[m.end():], fmt_id
    root = re.search(r"<(\w+:)?styleSheet\b[^>]*>", text)
    p = root[1] or ""
    new = f'<{p}numFmts count="1"><{p}numFmt numFmtId="{fmt_id}" formatCode="{code}"/>' \
          f"</{p}numFmts>"
    return text[:root.end()] + new + text[root.end():], fmt_id
