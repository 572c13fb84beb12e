"""The ALVH ribbon add-in ``alvh_xl.xlam`` and the xlwings settings it needs (desktop Excel).

The add-in is xlwings' ribbon add-in template (``quickstart_addin_ribbon.xlam`` in the
installed xlwings package) with parts replaced through :mod:`zipfile` only:

* its ribbon (customUI) part becomes ``alvh_xl/tools/ribbon.xml``: an "ALVH" tab whose Refresh
  button calls the template's ``RibbonMyAddin.RunMain``, which runs
  ``import <file stem>; <file stem>.main()`` -- hence the file name ``alvh_xl.xlam``;
* with ``settings``, its configuration sheet is activated and filled (the template's VBA has
  ``PROJECT_NAME = "myaddin"``, so the sheet is ``myaddin.conf``; the template ships it
  disabled as ``_myaddin.conf``). That is how the add-in finds a Python interpreter.

Classic worksheet functions go through the xlwings add-in, which reads xlwings' user config
file (``"KEY","VALUE"`` lines; keys ``INTERPRETER_WIN``/``INTERPRETER_MAC``, ``UDF MODULES``).
``merge_config`` changes those keys and keeps every other line the user has.
"""

from __future__ import annotations

import os
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape

from ..errors import InputError, WorkbookError

ADDIN_FILE = "alvh_xl.xlam"
TEMPLATE_FILE = "quickstart_addin_ribbon.xlam"
UDF_MODULE = "alvh_xl.udfs"
PROJECT_NAME = "myaddin"
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
DISABLED_CONFIG_SHEET = f"_{CONFIG_SHEET}"

_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_RIBBON_REL = "/relationships/ui/extensibility"
_OFFICE_DOC_REL = "/relationships/officeDocument"
_CONFIG_VALUES = re.compile(r'"[^"]*"')  # as xlwings.utils.read_user_config


def template_path() -> Path:
    """xlwings' ribbon add-in template inside the installed xlwings package."""
    import xlwings

    path = Path(xlwings.__file__).with_name(TEMPLATE_FILE)
    if not path.is_file():
        raise WorkbookError(f"xlwings {xlwings.__version__} has no {TEMPLATE_FILE} at {path}")
    return path


def ribbon_xml() -> bytes:
    """The ALVH ribbon (customUI XML) shipped with the package."""
    return Path(__file__).with_name("ribbon.xml").read_bytes()


def relationships(zf: zipfile.ZipFile, rels_part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, zip part name) of every relationship in one ``.rels`` part."""
    base = posixpath.dirname(posixpath.dirname(rels_part))
    out = []
    for rel in ET.fromstring(zf.read(rels_part)).iter(f"{_PKG_RELS}Relationship"):
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(base, target))
        out.append((rel.get("Id", ""), rel.get("Type", ""), part))
    return out


def ribbon_part(zf: zipfile.ZipFile) -> str:
    """Zip name of the package's ribbon (customUI) part, found through ``_rels/.rels``."""
    parts = [p for _, t, p in relationships(zf, "_rels/.rels") if t.endswith(_RIBBON_REL)]
    if len(parts) != 1:
        raise WorkbookError(f"expected one ribbon part in the add-in template, found {parts}")
    return parts[0]


def config_sheet_part(zf: zipfile.ZipFile) -> tuple[str, str, str]:
    """(workbook part, current sheet name, worksheet part) of the add-in's config sheet."""
    [book] = [p for _, t, p in relationships(zf, "_rels/.rels") if t.endswith(_OFFICE_DOC_REL)]
    rels = {i: p for i, _, p in relationships(
        zf, posixpath.join(posixpath.dirname(book), "_rels", posixpath.basename(book) + ".rels"))}
    for sheet in ET.fromstring(zf.read(book)).iter(f"{_MAIN}sheet"):
        if sheet.get("name") in (CONFIG_SHEET, DISABLED_CONFIG_SHEET):
            return book, sheet.get("name", ""), rels[sheet.get(f"{_DOC_RELS}id", "")]
    raise WorkbookError(f"the add-in template has no {DISABLED_CONFIG_SHEET} sheet")


def config_sheet_xml(template_sheet: bytes, settings: Mapping[str, str]) -> bytes:
    """The template's config worksheet with its cells replaced by ``settings`` (A: key, B: value,
    rows 1..n without gaps: the VBA reads A1 down to the last filled cell)."""
    rows = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{escape(k)}</t></is></c>'
        f'<c r="B{i}" t="inlineStr"><is><t>{escape(v)}</t></is></c></row>'
        for i, (k, v) in enumerate(settings.items(), start=1))
    text = template_sheet.decode("utf-8")
    data = f"<sheetData>{rows}</sheetData>"
    dim = f'<dimension ref="A1:B{max(len(settings), 1)}" />'
    # function replacements: values are paths, whose backslashes re would read as escapes
    text, n_data = re.subn(r"<sheetData\s*/>|<sheetData>.*?</sheetData>", lambda _: data, text,
                           flags=re.S)
    text, n_dim = re.subn(r'<dimension ref="[^"]*"\s*/>', lambda _: dim, text)
    if (n_data, n_dim) != (1, 1):
        raise WorkbookError("unexpected layout of the add-in template's config sheet")
    return text.encode("utf-8")


def addin_settings(interpreter_win: str | None = None, interpreter_mac: str | None = None,
                   udf_modules: str = UDF_MODULE) -> dict[str, str]:
    """Config-sheet rows (key names as in the template's sheet; the VBA upper-cases them)."""
    rows = {"Interpreter_Win": interpreter_win, "Interpreter_Mac": interpreter_mac,
            "UDF Modules": udf_modules}
    return {k: v for k, v in rows.items() if v}


def build_addin(out_dir: str | os.PathLike[str], settings: Mapping[str, str] | None = None,
                template: Path | None = None) -> Path:
    """Write ``out_dir/alvh_xl.xlam``; ``settings`` (if any) fill its config sheet."""
    from ..fileio import atomic_write

    out = Path(out_dir) / ADDIN_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(template or template_path()) as src:
        new = {ribbon_part(src): ribbon_xml()}
        if settings:
            book, name, sheet = config_sheet_part(src)
            old = f'name="{name}"'.encode()
            book_xml = src.read(book)
            if book_xml.count(old) != 1:
                raise WorkbookError(f"cannot rename the {name} sheet of the add-in template")
            new[book] = book_xml.replace(old, f'name="{CONFIG_SHEET}"'.encode())
            new[sheet] = config_sheet_xml(src.read(sheet), settings)

        def write(fh) -> None:
            with zipfile.ZipFile(fh, "w") as dst:
                for info in src.infolist():
                    copy = zipfile.ZipInfo(info.filename, info.date_time)
                    copy.compress_type = info.compress_type
                    copy.external_attr = info.external_attr
                    dst.writestr(copy, new.get(info.filename) or src.read(info))

        atomic_write(out, write, binary=True, what="add-in")
    return out


# --- xlwings' user config file -----------------------------------------------------------

def user_config_path(platform: str, home: Path) -> Path:
    """xlwings.conf location (xlwings.USER_CONFIG_FILE: Excel's sandbox on macOS)."""
    if platform == "darwin":
        return home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf"
    return home / ".xlwings" / "xlwings.conf"


def interpreter_key(platform: str) -> str:
    """The interpreter setting xlwings' VBA reads on this platform."""
    return "INTERPRETER_MAC" if platform == "darwin" else "INTERPRETER_WIN"


def parse_config(text: str) -> dict[str, str]:
    """Settings of an xlwings.conf text, keys lower-cased (as xlwings reads them)."""
    out = {}
    for line in text.splitlines():
        values = _CONFIG_VALUES.findall(line)
        if len(values) >= 2:
            out[values[0].strip('"').lower()] = values[1].strip('"')
    return out


def merge_config(text: str, updates: Mapping[str, str | None]) -> str:
    """``text`` with each key of ``updates`` set (or removed when None); other lines kept."""
    for key, value in updates.items():
        if '"' in key or (value is not None and '"' in value):
            raise InputError(f"xlwings.conf cannot hold a double quote: {key}={value}")
    lowered = {k.lower() for k in updates}
    kept = []
    for line in text.splitlines():
        values = _CONFIG_VALUES.findall(line)
        if values and values[0].strip('"').lower() in lowered or not line.strip():
            continue
        kept.append(line)
    kept += [f'"{k}","{v}"' for k, v in updates.items() if v is not None]
    return "".join(line + "\n" for line in kept)


def with_udf_module(current: str | None, present: bool, module: str = UDF_MODULE) -> str | None:
    """A ';'-separated UDF MODULES value with ``module`` added or removed (others kept)."""
    mods = [m.strip() for m in (current or "").split(";") if m.strip() and m.strip() != module]
    if present:
        mods.append(module)
    return ";".join(mods) or None


def install_updates(text: str, platform: str, interpreter: str) -> dict[str, str | None]:
    """Settings that point xlwings at ``interpreter`` and add alvh_xl.udfs to UDF MODULES."""
    current = parse_config(text).get("udf modules")
    return {interpreter_key(platform): interpreter,
            "UDF MODULES": with_udf_module(current, present=True)}


def remove_updates(text: str) -> dict[str, str | None]:
    """Settings that take alvh_xl.udfs out of UDF MODULES (the interpreter is left alone)."""
    return {"UDF MODULES": with_udf_module(parse_config(text).get("udf modules"), present=False)}
