"""``strip_copy``: a copy of a shared workbook without anything ``inspect_workbook`` finds.

Values are kept. The package is rewritten part by part with small, local text edits (the XML
is never re-serialised, so namespaces and Excel's extension markup stay as they were):

* dropped parts: VBA projects, external-link parts, embedded objects and ActiveX controls,
  data connections and query tables — with their relationships and content types;
* cells whose formula refers to another workbook, a network path or a ``file:`` URL, calls
  DDE/RTD/WEBSERVICE/…, keep their cached value and lose the formula; so do defined names
  (removed), chart series (cached points kept as literals), validation and conditional
  formatting rules (removed);
* hyperlinks to files or programs, and every other relationship to outside the workbook,
  are removed; http(s) and mailto hyperlinks stay;
* very hidden sheets become hidden; Excel 4.0 macro sheets become empty hidden worksheets;
  macros assigned to shapes and form controls are unassigned;
* the ``xlwings.conf`` sheet is reduced to ``UDF Modules = alvh_xl.udfs``.

The copy is written atomically and inspected again before it replaces anything: if a finding
is left (an exotic construct this module does not know how to remove) nothing is written and
``WorkbookError`` names it.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, unescape

from ..errors import PathError, WorkbookError
from ..fileio import atomic_write, input_workbook, output_file
from ..xlsx_package import Package, Rel, open_package, rels_source
from .safety import (
    AUTO_NAMES,
    CONF_SHEET,
    MACRO_SHEET_TYPES,
    PART_KINDS,
    SAFE_URL,
    VBA_TYPES,
    SafetyFinding,
    formula_threats,
    inspect_workbook,
)

WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
PRINTER_SETTINGS_TYPE = \
    "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"
REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_MACRO_WORKBOOK_TYPES = re.compile(r"application/vnd\.ms-excel\.(sheet|template|addin)"
                                   r"\.macroEnabled\.main\+xml", re.IGNORECASE)
_ATTRS = r"(?:[^>\"']|\"[^\"]*\"|'[^']*')*?"          # a tag's attributes, quotes respected


def strip_copy(src: str | Path, dst: str | Path) -> list[SafetyFinding]:
    """Write ``dst`` (an .xlsx, never ``src``) as ``src`` without any safety finding; return
    the findings that were removed. ``PathError`` for unusable paths, ``WorkbookError`` for
    packages refused by the size guard or that could not be cleaned."""
    src = input_workbook(src)
    dst = output_file(dst, what="stripped copy", not_same_as=[src])
    if dst.suffix.lower() != ".xlsx":
        raise PathError(f"stripped copy {dst}: give it an .xlsx name (it holds no macros)")
    findings = inspect_workbook(src)                    # runs the size guard first
    with open_package(src) as zf:
        plan = _Plan(Package(zf, src.name))
        atomic_write(dst, plan.write, binary=True, what="stripped copy", verify=_verify)
    return findings


def _verify(tmp: Path) -> None:
    left = inspect_workbook(tmp)
    if left:
        raise WorkbookError(f"could not strip {left[0]}"
                            f"{f' (and {len(left) - 1} more)' if len(left) > 1 else ''}; "
                            "nothing was written")


def _rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels").lower()


class _Plan:
    """What to drop and edit, decided once from the package."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        types = pkg.content_types()
        self.sheets = pkg.sheets()
        self.drop: set[str] = set()
        for name in pkg.names.values():
            low, ctype = name.lower(), types.get(name.lower(), "").lower()
            if (posixpath.basename(low).startswith("vbaproject") or ctype in VBA_TYPES
                    or low.startswith(("xl/embeddings/", "xl/activex/", "xl/externallinks/",
                                       "xl/querytables/")) or low == "xl/connections.xml"):
                self.drop.add(low)
        self.macro_sheets = {s.part.lower() for s in self.sheets if s.part and (
            s.kind in ("xlMacrosheet", "xlIntlMacrosheet")
            or types.get(s.part.lower(), "").lower() in MACRO_SHEET_TYPES)}
        self.rels = pkg.all_rels()
        for rels in self.rels.values():
            for rel in rels:
                if not rel.external and rel.type in PART_KINDS \
                        and rel.target.lower() not in self.macro_sheets:
                    self.drop.add(rel.target.lower())
        self.drop |= {_rels_part(p) for p in list(self.drop)}
        self.drop |= {_rels_part(p) for p in self.macro_sheets}
        self.removed_ids = {source: {r.id for r in rels if self._remove(r)}
                            for source, rels in self.rels.items()}
        self.conf_part = next((s.part.lower() for s in self.sheets
                               if s.part and s.name.casefold() == CONF_SHEET), None)
        self.workbook = pkg.workbook_part().lower()
        self.sheet_parts = {s.part.lower() for s in self.sheets if s.part}
        self.macro_rel_ids = {r.id for r in self.rels.get(self.workbook, [])
                              if r.target.lower() in self.macro_sheets}

    def _remove(self, rel: Rel) -> bool:
        if rel.external:
            return not (rel.type == "hyperlink" and SAFE_URL.match(rel.target.strip()))
        if rel.target.lower() in self.macro_sheets:
            return False
        return rel.type in PART_KINDS or rel.target.lower() in self.drop

    # -- writing
    def write(self, fh: IO[bytes]) -> None:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as out:
            for info in self.pkg.zf.infolist():
                low = info.filename.lower()
                if low in self.drop:
                    continue
                data = self.transform(low, self.pkg.read(info.filename))
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.compress_type = zipfile.ZIP_DEFLATED
                copy.external_attr = info.external_attr
                out.writestr(copy, data)

    def transform(self, low: str, data: bytes) -> bytes:
        if low == "[content_types].xml":
            edit = self.content_types
        elif low.endswith(".rels"):
            edit = self.relationships_of(rels_source(low))
        elif low == self.workbook:
            edit = self.workbook_xml
        elif low in self.macro_sheets:
            return _EMPTY_SHEET
        elif low in self.sheet_parts:
            edit = self.sheet_xml(low)
        elif low.startswith("xl/charts/") and low.endswith(".xml"):
            edit = self.chart_xml(low)
        elif low.startswith("xl/ctrlprops/") and low.endswith(".xml"):
            edit = _no_macro_attribute
        elif low.startswith("xl/tables/") and low.endswith(".xml"):
            edit = _no_query_table
        elif low.endswith(".vml"):
            edit = _no_vml_macro
        elif low.endswith(".xml"):
            edit = self.other_xml(low)
        else:
            return data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data                 # not UTF-8: left as is (the final check decides)
        return edit(text).encode("utf-8")

    def content_types(self, text: str) -> str:
        def override(m: re.Match[str]) -> str:
            part = (_attr(m.group(0), "PartName") or "").lstrip("/").lower()
            if part in self.drop:
                return ""
            if part in self.macro_sheets:
                return _set_attr(m.group(0), "ContentType", WORKSHEET_TYPE)
            if part == self.workbook:
                return _MACRO_WORKBOOK_TYPES.sub(WORKBOOK_TYPE, m.group(0))
            return m.group(0)

        def default(m: re.Match[str]) -> str:
            ctype = (_attr(m.group(0), "ContentType") or "").lower()
            return _set_attr(m.group(0), "ContentType", PRINTER_SETTINGS_TYPE) \
                if ctype in VBA_TYPES else m.group(0)

        text = _element_re("Override").sub(override, text)
        return _element_re("Default").sub(default, text)

    def relationships_of(self, source: str):
        gone = self.removed_ids.get(source, set())
        macro = self.macro_rel_ids if source == self.workbook else set()

        def edit(text: str) -> str:
            def one(m: re.Match[str]) -> str:
                rid = _attr(m.group(0), "Id")
                if rid in gone:
                    return ""
                if rid in macro:
                    return _set_attr(m.group(0), "Type", REL_WORKSHEET)
                return m.group(0)
            return _element_re("Relationship").sub(one, text)
        return edit

    def workbook_xml(self, text: str) -> str:
        text = _remove_elements(text, "externalReferences")

        def name(m: re.Match[str]) -> str:
            label = _attr(m.group(0), "name") or ""
            body = unescape(m.group("body") or "", {"&quot;": '"', "&apos;": "'"})
            return "" if AUTO_NAMES.match(label) or formula_threats(body) else m.group(0)

        text = _element_re("definedName").sub(name, text)
        text = _remove_empty(text, "definedNames")

        def sheet(m: re.Match[str]) -> str:
            tag = m.group(0)
            rid = next((v for k, v in _attrs(tag).items() if k.endswith(":id")), None)
            if _attr(tag, "state") == "veryHidden" or rid in self.macro_rel_ids:
                return _set_attr(tag, "state", "hidden")
            return tag
        return re.sub(r"<(?:\w+:)?sheet(?=[\s/>])" + _ATTRS + r"/?>", sheet, text)

    def sheet_xml(self, part: str):
        gone = self.removed_ids.get(part, set())

        def edit(text: str) -> str:
            text = _strip_formulas(text)
            text = _remove_elements(text, "oleObjects")
            text = _remove_elements(text, "controls")
            text = _element_re("hyperlink").sub(
                lambda m: "" if _rel_id(m.group(0)) in gone else m.group(0), text)
            text = _remove_empty(text, "hyperlinks")
            text = _remove_threat_rules(text, "dataValidation", "dataValidations")
            text = _remove_threat_rules(text, "cfRule", "conditionalFormatting")
            if part == self.conf_part:
                text = _reduce_conf(text)
            return _blank_rel_ids(text, gone)
        return edit

    def chart_xml(self, part: str):
        gone = self.removed_ids.get(part, set())

        def edit(text: str) -> str:
            text = _chart_literals(text)
            text = _element_re("externalData").sub(
                lambda m: "" if _rel_id(m.group(0)) in gone else m.group(0), text)
            return _blank_rel_ids(text, gone)
        return edit

    def other_xml(self, part: str):
        gone = self.removed_ids.get(part, set())
        return lambda text: _blank_rel_ids(_blank_macro_attribute(text), gone)


# --------------------------------------------------------------------------- XML text edits

def _element_re(name: str) -> re.Pattern[str]:
    """One element ``name`` (any prefix): self-closing, or with a body (no nesting of the
    same name)."""
    return re.compile(rf"<(?P<p>(?:\w+:)?){name}(?=[\s/>]){_ATTRS}"
                      rf"(?:/>|>(?P<body>.*?)</(?P=p){name}>)", re.DOTALL)


def _attrs(tag: str) -> dict[str, str]:
    start = tag.split(">", 1)[0]
    return {k: v1 if v1 or not v2 else v2 for k, v1, v2 in
            re.findall(r"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", start)}


def _attr(tag: str, name: str) -> str | None:
    return _attrs(tag).get(name)


def _set_attr(tag: str, name: str, value: str) -> str:
    pattern = re.compile(rf"(\s{re.escape(name)}\s*=\s*)(\"[^\"]*\"|'[^']*')")
    head, sep, rest = tag.partition(">")
    if pattern.search(head):
        head = pattern.sub(lambda m: f'{m.group(1)}"{value}"', head, count=1)
    else:
        closing = head.endswith("/")
        head = (head[:-1] if closing else head) + f' {name}="{value}"' + ("/" if closing else "")
    return head + sep + rest


def _rel_id(tag: str) -> str | None:
    return next((v for k, v in _attrs(tag).items() if k.endswith(":id")), None)


def _remove_elements(text: str, name: str) -> str:
    return _element_re(name).sub("", text)


def _remove_empty(text: str, name: str) -> str:
    return re.sub(rf"<(?P<p>(?:\w+:)?){name}(?=[\s/>]){_ATTRS}(?:/>|>\s*</(?P=p){name}>)",
                  "", text)


def _blank_rel_ids(text: str, gone: set[str]) -> str:
    if not gone:
        return text
    return re.sub(r"(\s\w+:(?:id|embed|link|pict)\s*=\s*\")([^\"]*)(\")",
                  lambda m: m.group(1) + m.group(3) if m.group(2) in gone else m.group(0), text)


def _blank_macro_attribute(text: str) -> str:
    return re.sub(r"(\smacro\s*=\s*)(\"[^\"]*\"|'[^']*')", r'\1""', text)


def _no_macro_attribute(text: str) -> str:
    return re.sub(r"\smacro\s*=\s*(\"[^\"]*\"|'[^']*')", "", text)


def _no_query_table(text: str) -> str:
    return re.sub(r"\s(tableType\s*=\s*\"queryTable\"|queryTableFieldId\s*=\s*\"\d+\"|"
                  r"connectionId\s*=\s*\"\d+\")", "", text)


def _no_vml_macro(text: str) -> str:
    return re.sub(r"<(?P<p>(?:\w+:)?)FmlaMacro>.*?</(?P=p)FmlaMacro>", "", text,
                  flags=re.DOTALL)


def _formula_text(body: str) -> str:
    cdata = re.fullmatch(r"\s*<!\[CDATA\[(.*)\]\]>\s*", body, re.DOTALL)
    return cdata.group(1) if cdata else unescape(body, {"&quot;": '"', "&apos;": "'"})


_CELL = re.compile(rf"<(?P<p>(?:\w+:)?)c(?=[\s/>])(?P<attrs>{_ATTRS})"
                   rf"(?:/>|>(?P<body>.*?)</(?P=p)c>)", re.DOTALL)
_F = re.compile(rf"<(?P<p>(?:\w+:)?)f(?=[\s/>])(?P<attrs>{_ATTRS})"
                rf"(?:/>|>(?P<body>.*?)</(?P=p)f>)", re.DOTALL)


def _strip_formulas(text: str) -> str:
    """Formulas that ``formula_threats`` flags (and every cell of their shared-formula
    groups) removed; the cells keep their cached values."""
    bad_groups, any_bad = set(), False
    for f in _F.finditer(text):
        if f.group("body") and formula_threats(_formula_text(f.group("body"))):
            any_bad = True
            attrs = _attrs("<f " + f.group("attrs") + ">")
            if attrs.get("t") == "shared" and "si" in attrs:
                bad_groups.add(attrs["si"])
    if not any_bad:
        return text

    def cell(m: re.Match[str]) -> str:
        body = m.group("body")
        if not body or "f" not in body:
            return m.group(0)
        f = _F.search(body)
        if not f:
            return m.group(0)
        attrs = _attrs("<f " + f.group("attrs") + ">")
        threat = bool(f.group("body")) and bool(formula_threats(_formula_text(f.group("body"))))
        if not threat and not (attrs.get("t") == "shared" and attrs.get("si") in bad_groups):
            return m.group(0)
        p = m.group("p")
        body = body[: f.start()] + body[f.end():]
        head = f"<{p}c{m.group('attrs')}>"
        if _attr(head, "t") == "str":                 # a formula's text result → inline text
            v = re.search(rf"<{p}v\b[^>]*>(.*?)</{p}v>", body, re.DOTALL)
            head = _set_attr(head, "t", "inlineStr")
            body = f'<{p}is><{p}t xml:space="preserve">{v.group(1) if v else ""}</{p}t></{p}is>'
        return f"{head}{body}</{p}c>"

    return _CELL.sub(cell, text)


def _remove_threat_rules(text: str, rule: str, container: str) -> str:
    def one(m: re.Match[str]) -> str:
        formulas = re.findall(r"<(?:\w+:)?formula\d?>(.*?)</(?:\w+:)?formula\d?>",
                              m.group("body") or "", re.DOTALL)
        return "" if any(formula_threats(_formula_text(f)) for f in formulas) else m.group(0)

    text = _element_re(rule).sub(one, text)
    return _remove_empty(text, container)


def _reduce_conf(text: str) -> str:
    """The xlwings.conf sheet's cells replaced by the settings alvh_xl needs (the layout's
    ``CONF_ROWS`` at ``CONF_ANCHOR``)."""
    from ..xl import layout as L

    p = re.match(r"(?:<\?[^>]*\?>\s*)?<(\w+:)?worksheet\b", text)
    prefix = p.group(1) or "" if p else ""
    r0, c0 = L.cell_ref(L.CONF_ANCHOR)

    def cell(r: int, c: int, value: str) -> str:
        return (f'<{prefix}c r="{L.a1(r, c)}" t="inlineStr"><{prefix}is><{prefix}t>'
                f"{escape(value)}</{prefix}t></{prefix}is></{prefix}c>")

    rows = "".join(f'<{prefix}row r="{r0 + i}">{cell(r0 + i, c0, key)}'
                   f"{cell(r0 + i, c0 + 1, value)}</{prefix}row>"
                   for i, (key, value) in enumerate(L.CONF_ROWS))
    extent = f"{L.a1(r0, c0)}:{L.a1(r0 + len(L.CONF_ROWS) - 1, c0 + 1)}"
    data = f"<{prefix}sheetData>{rows}</{prefix}sheetData>"
    text = re.sub(rf"<{prefix}sheetData\b{_ATTRS}(?:/>|>.*?</{prefix}sheetData>)",
                  lambda _: data, text, count=1, flags=re.DOTALL)
    return re.sub(rf"<{prefix}dimension\b{_ATTRS}/>", f'<{prefix}dimension ref="{extent}"/>',
                  text, count=1)


def _chart_literals(text: str) -> str:
    """Chart series whose reference ``formula_threats`` flags become literal points (their
    cached values)."""
    def one(m: re.Match[str]) -> str:
        p, kind, ref, cache = m.group("p"), m.group("kind"), m.group("f"), m.group("cache")
        if not formula_threats(_formula_text(ref)):
            return m.group(0)
        inner = cache if cache is not None else f'<{p}ptCount val="0"/>'
        return f"<{p}{kind}Lit>{inner}</{p}{kind}Lit>"

    pattern = re.compile(
        r"<(?P<p>(?:\w+:)?)(?P<kind>num|str)Ref>\s*<(?P=p)f>(?P<f>.*?)</(?P=p)f>\s*"
        r"(?:<(?P=p)(?P=kind)Cache>(?P<cache>.*?)</(?P=p)(?P=kind)Cache>\s*)?"
        r"(?:<(?P=p)extLst>.*?</(?P=p)extLst>\s*)?</(?P=p)(?P=kind)Ref>", re.DOTALL)
    return pattern.sub(one, text)


_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData/></worksheet>")
