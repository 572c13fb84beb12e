"""Is a shared workbook safe to open? Findings from the xlsx/xlsm package, never executed.

``inspect_workbook(path)`` runs the size guard, then reads the zip package's parts with the
standard library (zipfile + ElementTree; nothing is evaluated, no macro or link is followed)
and lists every way the workbook could run code, reach outside itself or hide something:

========================  ==================================================================
kind                      what
========================  ==================================================================
``vba``                   a VBA project (``vbaProject.bin``, by name, content type or
                          relationship, also inside a renamed .xlsx), or macros attached to
                          form controls and shapes
``macro-sheet``           Excel 4.0 macro sheets and ``Auto_Open``-style names
``external-link``         links to other workbooks: ``externalLinks/`` parts, ``[1]``
                          references in formulas and defined names, UNC paths
                          (``\\\\host\\share``) and ``file:`` URLs anywhere in them
``dde``                   DDE/OLE formulas (``=cmd|' /C calc'!A0``, ``DDE(…)``,
                          ``DDEAUTO``) and ``ddeLink`` / ``oleLink`` parts
``external-call``         formulas calling out: ``WEBSERVICE``, ``RTD``, ``CALL``,
                          ``REGISTER.ID``, ``EXEC``
``embedded``              embedded objects (``embeddings/``), ``oleObjects``, ActiveX
``connection``            data connections (``connections.xml``) and web/query tables
``file-link``             hyperlinks to ``file:``, UNC or local paths (cell hyperlinks,
                          ``HYPERLINK()`` formulas, any external relationship that is not an
                          http(s)/mailto hyperlink)
``very-hidden``           sheets with ``state="veryHidden"``
``xlwings-conf``          an ``xlwings.conf`` sheet choosing an interpreter, a PYTHONPATH, a
                          conda env or UDF modules other than ``alvh_xl.udfs``
========================  ==================================================================

``strip_copy`` (``tools.strip``) writes a copy without any of them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from ..xlsx_package import NS_MAIN, Package, Rel, guard_workbook, open_package

UDF_MODULE = "alvh_xl.udfs"
CONF_SHEET = "xlwings.conf"
#: xlwings.conf keys (upper case, as xlwings' VBA reads them) that choose what code runs.
CODE_KEYS = {
    "INTERPRETER": "chooses the Python interpreter",
    "INTERPRETER_WIN": "chooses the Python interpreter",
    "INTERPRETER_MAC": "chooses the Python interpreter",
    "PYTHONPATH": "adds to the Python path",
    "ONEDRIVE_CONSUMER_WIN": "adds to the Python path",
    "ONEDRIVE_CONSUMER_MAC": "adds to the Python path",
    "ONEDRIVE_COMMERCIAL_WIN": "adds to the Python path",
    "ONEDRIVE_COMMERCIAL_MAC": "adds to the Python path",
    "SHAREPOINT_WIN": "adds to the Python path",
    "SHAREPOINT_MAC": "adds to the Python path",
    "CONDA PATH": "chooses a conda installation",
    "CONDA ENV": "chooses a conda environment",
}
SAFE_URL = re.compile(r"^(https?|mailto):", re.IGNORECASE)
VBA_TYPES = ("application/vnd.ms-office.vbaproject",
             "application/vnd.ms-office.vbaprojectsignature",
             "application/vnd.ms-excel.vbadata+xml")
MACRO_SHEET_TYPES = ("application/vnd.ms-excel.macrosheet+xml",
                     "application/vnd.ms-excel.intlmacrosheet+xml")
AUTO_NAMES = re.compile(r"^(_xlnm\.)?auto_(open|close|activate|deactivate)", re.IGNORECASE)
#: relationship types → (kind, what) of the part they point to
PART_KINDS = {
    "vbaProject": ("vba", "a VBA macro project"),
    "vbaProjectSignature": ("vba", "a VBA project signature"),
    "wordVbaData": ("vba", "VBA data"),
    "xlMacrosheet": ("macro-sheet", "an Excel 4.0 macro sheet"),
    "xlIntlMacrosheet": ("macro-sheet", "an Excel 4.0 macro sheet"),
    "externalLink": ("external-link", "a link to another workbook"),
    "oleObject": ("embedded", "an embedded OLE object"),
    "package": ("embedded", "an embedded file"),
    "activeXControl": ("embedded", "an ActiveX control"),
    "activeXControlBinary": ("embedded", "an ActiveX control binary"),
    "connections": ("connection", "data connections"),
    "queryTable": ("connection", "a query table (data from outside the workbook)"),
}


@dataclass(frozen=True)
class SafetyFinding:
    """Something in the package that runs code, reaches outside the workbook or hides."""

    kind: str
    part: str                 # the package part it was found in
    sheet: str | None         # the sheet that part belongs to, if any
    location: str | None      # a cell ("B7"), "name X", "relationship rId3", …
    reason: str

    def __str__(self) -> str:
        where = self.sheet if self.sheet else self.part
        if self.location:
            where += f"!{self.location}" if self.sheet and _is_cell(self.location) \
                else f" ({self.location})"
        return f"{where}: {self.reason}"


def _is_cell(text: str) -> bool:
    return re.fullmatch(r"\$?[A-Z]{1,3}\$?\d+(:\$?[A-Z]{1,3}\$?\d+)?", text) is not None


# --------------------------------------------------------------------------- formulas

_DQ_STRING = re.compile(r'"(?:[^"]|"")*"')
_SQ_NAME = re.compile(r"'(?:[^']|'')*'")
_EXTERNAL_INDEX = re.compile(r"(?<![\w.\]])\[([1-9]\d*)\]")
_UNC = re.compile(r"\\\\[^\\/\s\"']+[\\/]")
_CALLS = re.compile(r"(?<![\w.])(?:_xl(?:fn|ws)\.)?(DDE|DDEAUTO|DDEINITIATE|CALL|REGISTER|"
                    r"REGISTER\.ID|EXEC|RTD|WEBSERVICE)\s*\(", re.IGNORECASE)
_HYPERLINK = re.compile(r"(?<![\w.])(?:_xlfn\.)?HYPERLINK\s*\(", re.IGNORECASE)
_PATHLIKE = re.compile(r'^"(?:[A-Za-z]:[\\/]|\\\\|\.\.?[\\/]|/|file:)', re.IGNORECASE)


def formula_threats(text: str) -> list[tuple[str, str]]:
    """(kind, reason) for each dangerous construct in one formula or defined-name text
    (without the leading '='); [] for ordinary formulas."""
    out: list[tuple[str, str]] = []
    strings = _DQ_STRING.findall(text)
    code = _DQ_STRING.sub('""', text)
    bare = _SQ_NAME.sub("''", code)                      # sheet names quoted '…' removed
    if "|" in bare:
        app = re.search(r"([\w.']*)\s*\|", code)
        out.append(("dde", f"DDE formula (runs {app.group(1) if app else 'a program'} "
                           f"through '|'): ={_short(text)}"))
    call = _CALLS.search(code)
    if call:
        name = call.group(1).upper()
        kind = "dde" if name.startswith("DDE") else "external-call"
        out.append((kind, f"formula calls {name}(): ={_short(text)}"))
    ext = _EXTERNAL_INDEX.search(code)
    if ext:
        out.append(("external-link", f"formula refers to external workbook [{ext.group(1)}]: "
                                     f"={_short(text)}"))
    if _UNC.search(text):
        out.append(("external-link", f"formula refers to a network path: ={_short(text)}"))
    elif re.search(r"file:", text, re.IGNORECASE):
        out.append(("file-link", f"formula refers to a file: URL: ={_short(text)}"))
    elif _HYPERLINK.search(code) and any(_PATHLIKE.match(s) for s in strings):
        out.append(("file-link", f"HYPERLINK to a local file: ={_short(text)}"))
    return out


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- inspection

def inspect_workbook(path: str | Path) -> list[SafetyFinding]:
    """Every finding in the workbook at ``path`` ([] if it is safe to share).

    ``WorkbookError`` (from the size guard) if the package is too big or not a workbook."""
    guard_workbook(path)
    with open_package(path) as zf:
        pkg = Package(zf, Path(path).name)
        return _Inspector(pkg).run()


class _Inspector:
    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.found: dict[tuple[str, str, str | None], SafetyFinding] = {}
        self.links: dict[str, dict[str, str]] = {}       # sheet part → r:id → hyperlink cell
        self.sheets = pkg.sheets()
        self.sheet_of = {s.part.lower(): s.name for s in self.sheets if s.part}
        self.types = pkg.content_types()

    def add(self, kind: str, part: str, location: str | None, reason: str) -> None:
        sheet = self.sheet_of.get(part.lower())
        key = (kind, part.lower(), location)
        self.found.setdefault(key, SafetyFinding(kind, part, sheet, location, reason))

    def run(self) -> list[SafetyFinding]:
        self.parts()
        self.workbook()
        for sheet in self.sheets:
            if sheet.part:
                self.sheet(sheet.part, sheet.name)
        for name in self.pkg.names.values():
            low = name.lower()
            if low.startswith("xl/charts/") and low.endswith(".xml"):
                self.chart(name)
            elif low.startswith("xl/externallinks/") and low.endswith(".xml"):
                self.external_link(name)
            elif low == "xl/connections.xml":
                self.connections(name)
            elif low.startswith("xl/querytables/") and low.endswith(".xml"):
                self.query_table(name)
            elif low.startswith("xl/ctrlprops/") and low.endswith(".xml"):
                self.macro_attributes(name, "form control")
            elif low.startswith("xl/drawings/") and low.endswith(".xml"):
                self.macro_attributes(name, "shape")
            elif low.endswith(".vml"):
                self.vml(name)
        self.relationships()            # last: only parts nothing above has reported
        return list(self.found.values())

    # -- parts and relationships
    def parts(self) -> None:
        for name in self.pkg.names.values():
            low, ctype = name.lower(), self.types.get(name.lower(), "").lower()
            if posixpath.basename(low).startswith("vbaproject") or ctype in VBA_TYPES:
                self.add("vba", name, None, "VBA macro project (runs code when macros are "
                                            "enabled)")
            elif ctype in MACRO_SHEET_TYPES:
                self.add("macro-sheet", name, None, "Excel 4.0 macro sheet")
            elif low.startswith("xl/embeddings/"):
                self.add("embedded", name, None, "embedded object")
            elif low.startswith("xl/activex/"):
                self.add("embedded", name, None, "ActiveX control")

    def relationships(self) -> None:
        for rels in self.pkg.all_rels().values():
            for rel in rels:
                self.relationship(rel)

    def relationship(self, rel: Rel) -> None:
        where = rel.source or "package"
        if rel.external:
            if rel.type == "hyperlink":
                if not SAFE_URL.match(rel.target.strip()):
                    cell = self.links.get(rel.source.lower(), {}).get(rel.id)
                    self.add("file-link", where, cell or f"relationship {rel.id}",
                             f"hyperlink to '{rel.target}' (a file or program, not a web page)")
            elif rel.type == "oleObject":
                self.add("dde", where, f"relationship {rel.id}",
                         f"linked OLE object '{rel.target}'")
            elif not (rel.type.startswith(("externalLinkPath", "xlExternalLinkPath"))
                      and rel.source.lower().startswith("xl/externallinks/")):
                self.add("file-link", where, f"relationship {rel.id}",
                         f"{rel.type} loaded from outside the workbook: '{rel.target}'")
            return
        reported = any(key[1] == rel.target.lower() for key in self.found)
        if rel.type in PART_KINDS and self.pkg.has(rel.target) and not reported:
            kind, what = PART_KINDS[rel.type]
            if rel.type == "externalLink":
                paths = [r.target for r in self.pkg.rels(rel.target) if r.external]
                what += f" '{paths[0]}'" if paths else ""
            self.add(kind, rel.target, None, what)

    # -- workbook
    def workbook(self) -> None:
        part = self.pkg.workbook_part()
        for s in self.sheets:
            if s.state == "veryHidden":
                self.add("very-hidden", part, f"sheet '{s.name}'",
                         f"sheet '{s.name}' is very hidden (Excel's Unhide does not show it)")
            if s.kind in ("xlMacrosheet", "xlIntlMacrosheet"):
                self.add("macro-sheet", part, f"sheet '{s.name}'",
                         f"sheet '{s.name}' is an Excel 4.0 macro sheet")
        for el in self.pkg.xml(part).iter(f"{{{NS_MAIN}}}definedName"):
            name, text = el.get("name", ""), el.text or ""
            if AUTO_NAMES.match(name):
                self.add("macro-sheet", part, f"name {name}",
                         f"defined name {name} runs a macro when the workbook opens")
            for kind, reason in formula_threats(text):
                self.add(kind, part, f"name {name}", f"defined name {name}: {reason}")

    # -- sheets
    def sheet(self, part: str, name: str) -> None:
        """Formulas, OLE objects, controls and hyperlinks of one sheet (streamed); the
        settings if it is the xlwings.conf sheet."""
        cell: str | None = None
        conf = name.casefold() == CONF_SHEET
        conf_cells: dict[str, tuple[bool, str]] = {}
        links = self.links.setdefault(part.lower(), {})
        with self.pkg.open(part) as fh:
            for event, el in ET.iterparse(fh, events=("start", "end")):
                tag = el.tag.rsplit("}", 1)[-1]
                if event == "start":
                    if tag == "c":
                        cell = el.get("r")
                    continue
                if tag == "f" and el.text:
                    for kind, reason in formula_threats(el.text):
                        self.add(kind, part, cell, reason)
                elif tag in ("formula", "formula1", "formula2") and el.text:
                    for kind, reason in formula_threats(el.text):
                        self.add(kind, part, "conditional formatting or data validation",
                                 reason)
                elif tag == "oleObject":
                    link = f" linked to '{el.get('link')}'" if el.get("link") else ""
                    self.add("embedded", part, f"shape {el.get('shapeId', '?')}",
                             f"OLE object '{el.get('progId', '?')}'{link}")
                elif tag == "control":
                    self.add("embedded", part, f"shape {el.get('shapeId', '?')}",
                             f"ActiveX control '{el.get('name', '?')}'")
                elif tag == "hyperlink":
                    rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
                    if rid:
                        links[rid] = el.get("ref", "")
                elif tag == "c" and conf and cell:
                    conf_cells[cell] = _cell_text(el)
                elif tag == "row":
                    el.clear()
        if conf:
            self.conf(part, conf_cells)

    def conf(self, part: str, cells: dict[str, tuple[bool, str]]) -> None:
        """Findings for the xlwings.conf sheet: keys in column A, values in column B."""
        shared = self.shared_strings() if any(s for s, _ in cells.values()) else []

        def text(ref: str) -> str:
            is_shared, v = cells.get(ref, (False, ""))
            if is_shared:
                i = v.strip()
                return shared[int(i)] if i.isdigit() and int(i) < len(shared) else ""
            return v

        for ref in sorted((r for r in cells if re.fullmatch(r"A\d+", r)),
                          key=lambda r: int(r[1:])):
            key, value = text(ref).strip(), text(f"B{ref[1:]}").strip()
            upper = key.upper()
            if upper in CODE_KEYS and value:
                self.add("xlwings-conf", part, ref, f"{CONF_SHEET} setting {key} "
                         f"{CODE_KEYS[upper]}: '{value}'")
            elif upper == "UDF MODULES" and value != UDF_MODULE:
                self.add("xlwings-conf", part, ref, f"{CONF_SHEET} setting {key} imports "
                         f"'{value}' (only '{UDF_MODULE}' is expected)")

    def shared_strings(self) -> list[str]:
        part = next((r.target for r in self.pkg.rels(self.pkg.workbook_part())
                     if r.type == "sharedStrings" and not r.external), None)
        if not part or not self.pkg.has(part):
            return []
        out = []
        with self.pkg.open(part) as fh:
            for _, el in ET.iterparse(fh):
                if el.tag.rsplit("}", 1)[-1] == "si":
                    out.append(_rich_text(el))
                    el.clear()
        return out

    # -- other parts
    def chart(self, part: str) -> None:
        for el in self.pkg.xml(part).iter():
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "f" and el.text:
                for kind, reason in formula_threats(el.text):
                    self.add(kind, part, "series", f"chart {reason}")

    def external_link(self, part: str) -> None:
        for el in self.pkg.xml(part).iter():
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "ddeLink":
                self.add("dde", part, None, f"DDE link to {el.get('ddeService', '')}|"
                                            f"{el.get('ddeTopic', '')}")
            elif tag == "oleLink":
                self.add("dde", part, None, f"OLE link ({el.get('progId', '')})")

    def connections(self, part: str) -> None:
        for el in self.pkg.xml(part).iter(f"{{{NS_MAIN}}}connection"):
            name = el.get("name", "?")
            detail = ""
            for child in el:
                tag = child.tag.rsplit("}", 1)[-1]
                if tag == "webPr" and child.get("url"):
                    detail = f" fetching '{child.get('url')}'"
                elif tag == "textPr" and child.get("sourceFile"):
                    detail = f" reading '{child.get('sourceFile')}'"
                elif tag == "dbPr":
                    detail = f" to '{_short(child.get('connection', ''), 60)}'"
            self.add("connection", part, f"connection '{name}'",
                     f"data connection '{name}'{detail} (refreshes from outside the workbook)")

    def query_table(self, part: str) -> None:
        root = self.pkg.xml(part)
        self.add("connection", part, None,
                 f"query table '{root.get('name', '')}' (data from outside the workbook)")

    def macro_attributes(self, part: str, what: str) -> None:
        for el in self.pkg.xml(part).iter():
            macro = el.get("macro")
            if macro:
                self.add("vba", part, None, f"{what} runs macro '{macro}' when clicked")

    def vml(self, part: str) -> None:
        text = self.pkg.read(part).decode("utf-8", errors="replace")
        for m in re.finditer(r"<(?:\w+:)?FmlaMacro>([^<]+)<", text):
            self.add("vba", part, None, f"form control runs macro '{m.group(1)}' when clicked")


def _local(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _rich_text(el: ET.Element) -> str:
    """Text of a shared or inline string (<t>, or runs <r><t>; phonetic hints skipped)."""
    parts = []
    for child in el:
        if _local(child) == "t":
            parts.append(child.text or "")
        elif _local(child) == "r":
            parts.extend(t.text or "" for t in child if _local(t) == "t")
    return "".join(parts)


def _cell_text(c: ET.Element) -> tuple[bool, str]:
    """(is a shared-string index?, text) of a cell: an inline string or its cached value."""
    for child in c:
        if _local(child) == "is":
            return False, _rich_text(child)
        if _local(child) == "v":
            return c.get("t") == "s", child.text or ""
    return False, ""


def findings_by_kind(findings: Iterable[SafetyFinding]) -> dict[str, list[SafetyFinding]]:
    """Findings grouped by kind (in the order first seen)."""
    out: dict[str, list[SafetyFinding]] = {}
    for f in findings:
        out.setdefault(f.kind, []).append(f)
    return out
