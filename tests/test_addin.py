"""The ALVH ribbon add-in (alvh_xl.xlam) and `alvh-xl addin build|install|remove|status`.

The add-in is checked against what Excel will use: the Office customUI schema
(tests/data/customui/customUI.xsd), the template's VBA as oletools reads it, and xlwings' own
config reader and CLI. Install/remove/status are exercised on Linux through their platform
branches with a stand-in for the xlwings CLI (no Excel here).
"""

from __future__ import annotations

import argparse
import copy
import inspect
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from lxml import etree

from alvh_xl.commands import addin as cmd
from alvh_xl.tools import addin

XS = "{http://www.w3.org/2001/XMLSchema}"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
# Callback attributes of [MS-CUSTOMUI] (every ST_Delegate attribute); onLoad lives on customUI.
CALLBACK = re.compile(r"^(on[A-Z]\w*|get[A-Z]\w*|loadImage)$")


# --- fixtures ------------------------------------------------------------------------------

def customui_schema() -> etree.XMLSchema:
    """Microsoft's customUI.xsd, minus the redundant attribute re-declarations libxml2 rejects.

    .NET (which Office's tools use) accepts an extension re-declaring an attribute its base
    type already has; libxml2 reports "Duplicate attribute use". Each reported duplicate is
    dropped from the extension (an attribute group is first expanded in place), so the set of
    allowed attributes is unchanged.
    """
    doc = etree.parse(str(DATA / "customui" / "customUI.xsd"))
    root = doc.getroot()
    groups = {g.get("name"): g for g in root.iter(f"{XS}attributeGroup") if g.get("name")}

    def declares(el, name):
        if el.tag == f"{XS}attribute":
            return el.get("name") == name
        if el.tag == f"{XS}attributeGroup" and el.get("ref"):
            return any(declares(c, name) for c in groups[el.get("ref")])
        return False

    for _ in range(100):
        try:
            return etree.XMLSchema(doc)
        except etree.XMLSchemaParseError as exc:
            m = re.search(r"complex type '(\w+)': Duplicate attribute use '(\w+)'", str(exc))
            if not m:
                raise
            ext = root.find(f"{XS}complexType[@name='{m[1]}']/{XS}complexContent/{XS}extension")
            [hit] = [c for c in ext if declares(c, m[2])]
            i = ext.index(hit)
            ext.remove(hit)
            if hit.tag == f"{XS}attributeGroup":
                members = [c for c in groups[hit.get("ref")]
                           if c.tag in (f"{XS}attribute", f"{XS}attributeGroup")]
                keep = [c for c in members
                        if not (c.tag == f"{XS}attribute" and c.get("name") == m[2])]
                for j, c in enumerate(keep):  # a nested group is expanded on a later pass
                    ext.insert(i + j, copy.deepcopy(c))
    raise AssertionError("customUI.xsd did not compile after 100 fixes")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return customui_schema()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return addin.build_addin(tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="module")
def configured(tmp_path_factory) -> Path:
    return addin.build_addin(tmp_path_factory.mktemp("conf"),
                             addin.addin_settings(interpreter_win=r"C:\Py 3\python.exe"))


@pytest.fixture(scope="module")
def vba(built) -> dict[str, str]:
    """VBA module file name (e.g. 'RibbonMyAddin.bas') -> source text, as olevba reads it."""
    with warnings.catch_warnings():  # oletools' pyparsing calls are deprecated, not ours
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(built))
    try:
        return {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def ribbon_of(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read(addin.ribbon_part(zf)))


def procedure(vba: dict[str, str], module: str, name: str) -> re.Match | None:
    """The header and body of Sub/Function `name` in VBA module `module`."""
    code = vba.get(f"{module}.bas") or vba.get(f"{module}.cls") or ""
    return re.search(rf"^\s*(?:Public\s+|Private\s+)?(Sub|Function)\s+{name}\s*\(([^)]*)\)"
                     rf"(.*?)^\s*End\s+\1", code, flags=re.M | re.S | re.I)


# --- the built file ------------------------------------------------------------------------

def test_built_addin_is_the_template_with_only_the_ribbon_replaced(built):
    template = addin.template_path()
    with zipfile.ZipFile(built) as new, zipfile.ZipFile(template) as old:
        assert new.testzip() is None
        assert built.name == "alvh_xl.xlam"
        assert [i.filename for i in new.infolist()] == [i.filename for i in old.infolist()]
        part = addin.ribbon_part(new)
        changed = [n for n in new.namelist() if new.read(n) != old.read(n)]
        assert changed == [part]
        assert new.read(part) == (ROOT / "alvh_xl" / "tools" / "ribbon.xml").read_bytes()
        assert [i.compress_type for i in new.infolist()] == [
            i.compress_type for i in old.infolist()]


def test_ribbon_part_is_reached_through_the_templates_relationship(built):
    with zipfile.ZipFile(built) as zf:
        rels = addin.relationships(zf, "_rels/.rels")
        [(_, rel_type, part)] = [r for r in rels if r[1].endswith("/ui/extensibility")]
        assert part == addin.ribbon_part(zf) == "customUI/customUI.xml"
    with zipfile.ZipFile(addin.template_path()) as zf:
        template_root = etree.fromstring(zf.read(part))
    # same relationship type and root namespace as the template, which Excel already loads
    assert rel_type == "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
    assert etree.QName(ribbon_of(built)).namespace == etree.QName(template_root).namespace


def test_ribbon_validates_against_the_office_customui_schema(schema, built):
    repo_xml = etree.parse(str(ROOT / "alvh_xl" / "tools" / "ribbon.xml")).getroot()
    assert schema.validate(repo_xml), schema.error_log
    assert schema.validate(ribbon_of(built)), schema.error_log
    broken = copy.deepcopy(repo_xml)
    broken.find(f".//{{{CUSTOMUI_NS}}}button").set("size", "huge")
    assert not schema.validate(broken)  # the schema does check attribute values


def test_ribbon_has_an_alvh_tab_with_a_large_refresh_button(built):
    root = ribbon_of(built)
    ns = {"c": CUSTOMUI_NS}
    [tab] = root.findall(".//c:tab", ns)
    assert tab.get("label") == "ALVH"
    [button] = tab.findall(".//c:button", ns)
    assert (button.get("label"), button.get("size"), button.get("onAction")) == (
        "Refresh", "large", "RibbonMyAddin.RunMain")
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))


def test_every_ribbon_callback_exists_in_the_addins_vba(built, vba):
    callbacks = [(el.tag, attr, value) for el in ribbon_of(built).iter()
                 for attr, value in el.attrib.items() if CALLBACK.match(attr)]
    assert callbacks, "the ribbon names no callback"
    assert procedure(vba, "RibbonMyAddin", "NoSuchMacro") is None  # the lookup can fail
    for _tag, attr, value in callbacks:
        module, _, name = value.rpartition(".")
        found = procedure(vba, module, name)
        assert found, f"{attr}={value}: no such procedure in the add-in's VBA {sorted(vba)}"
        if attr == "onAction":  # a button's onAction is Sub name(control As IRibbonControl)
            assert found[1].lower() == "sub"
            assert re.fullmatch(r"\s*(ByRef\s+|ByVal\s+)?\w+\s+As\s+IRibbonControl\s*",
                                found[2], flags=re.I), found[0]


def test_refresh_runs_alvh_xl_main_because_of_the_file_name(built, vba):
    body = procedure(vba, "RibbonMyAddin", "RunMain")[3]
    # mymodule = Left(ThisWorkbook.Name, (InStrRev(ThisWorkbook.Name, ".", -1, vbTextCompare) - 1))
    stem = re.search(r"(\w+)\s*=\s*Left\(ThisWorkbook\.Name,\s*\(InStrRev\(ThisWorkbook\.Name,"
                     r'\s*"\.",\s*-1,\s*vbTextCompare\)\s*-\s*1\)\)', body)
    # RunPython "import " & mymodule & ";" & mymodule & ".main()"
    call = re.search(r'RunPython\s+"import "\s*&\s*(\w+)\s*&\s*";"\s*&\s*(\w+)\s*&\s*'
                     r'"\.main\(\)"', body)
    assert stem and call and stem[1] == call[1] == call[2], body
    module = built.name[: built.name.rfind(".")]  # what Left/InStrRev computes
    assert f"import {module};{module}.main()" == "import alvh_xl;alvh_xl.main()"
    import alvh_xl

    assert callable(alvh_xl.main)
    required = [p for p in inspect.signature(alvh_xl.main).parameters.values()
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert required == []


def test_config_sheet_is_the_one_the_addins_vba_reads(configured, vba):
    xlwings_bas = vba["xlwings.bas"]
    project = re.search(r'PROJECT_NAME As String = "(\w+)"', xlwings_bas)[1]
    assert project == addin.PROJECT_NAME
    assert 'Sheets(PROJECT_NAME & ".conf")' in xlwings_bas
    keys_read = {k.upper() for k in re.findall(r'GetConfig\("([^"]+)"', xlwings_bas)}
    with zipfile.ZipFile(configured) as zf, zipfile.ZipFile(addin.template_path()) as old:
        assert zf.testzip() is None
        book, name, part = addin.config_sheet_part(zf)
        assert name == f"{project}.conf"
        assert addin.config_sheet_part(old)[1] == f"_{project}.conf"  # disabled in the template
        changed = {n for n in zf.namelist() if zf.read(n) != old.read(n)}
        assert changed == {addin.ribbon_part(zf), book, part}
        assert old.read(book).replace(b'"_myaddin.conf"', b'"myaddin.conf"') == zf.read(book)
        sheet = etree.fromstring(zf.read(part))
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rows = [[c.findtext(f"{main}is/{main}t") for c in row.iter(f"{main}c")]
            for row in sheet.iter(f"{main}row")]
    refs = [c.get("r") for c in sheet.iter(f"{main}c")]
    assert refs == ["A1", "B1", "A2", "B2"]  # contiguous from A1: GetConfigFromSheet's range
    assert dict(rows) == {"Interpreter_Win": r"C:\Py 3\python.exe", "UDF Modules": "alvh_xl.udfs"}
    assert {k.upper() for k, _ in rows} <= keys_read
    assert sheet.find(f"{main}sheetPr").get("codeName") == "Sheet2"  # VBA document module kept


# --- xlwings.conf --------------------------------------------------------------------------

USER_CONF = '"LICENSE_KEY","abc"\n\n"udf modules","mymod"\n"INTERPRETER_WIN","C:\\old.exe"\n'


def test_parse_config_reads_like_xlwings(tmp_path, monkeypatch):
    import xlwings
    from xlwings import utils

    conf = tmp_path / "xlwings.conf"
    conf.write_text(USER_CONF)
    monkeypatch.setattr(xlwings, "USER_CONFIG_FILE", str(conf))
    assert addin.parse_config(USER_CONF) == utils.read_user_config() == {
        "license_key": "abc", "udf modules": "mymod", "interpreter_win": "C:\\old.exe"}


def test_install_and_remove_updates_keep_the_users_other_settings():
    text = addin.merge_config(USER_CONF, addin.install_updates(USER_CONF, "win32", "C:\\py.exe"))
    assert addin.parse_config(text) == {"license_key": "abc", "interpreter_win": "C:\\py.exe",
                                        "udf modules": "mymod;alvh_xl.udfs"}
    assert text.count("\n") == 3 and "\n\n" not in text
    again = addin.merge_config(text, addin.install_updates(text, "win32", "C:\\py.exe"))
    assert addin.parse_config(again) == addin.parse_config(text)  # idempotent
    removed = addin.merge_config(text, addin.remove_updates(text))
    assert addin.parse_config(removed) == {"license_key": "abc", "interpreter_win": "C:\\py.exe",
                                           "udf modules": "mymod"}
    alone = addin.merge_config("", addin.install_updates("", "darwin", "/usr/bin/python3"))
    assert alone == '"INTERPRETER_MAC","/usr/bin/python3"\n"UDF MODULES","alvh_xl.udfs"\n'
    assert addin.merge_config(alone, addin.remove_updates(alone)) == (
        '"INTERPRETER_MAC","/usr/bin/python3"\n')


def test_config_values_with_quotes_are_refused():
    from alvh_xl.errors import InputError

    with pytest.raises(InputError):
        addin.merge_config("", {"INTERPRETER_WIN": 'C:\\a"b.exe'})


def test_user_config_paths_follow_xlwings(tmp_path):
    import xlwings

    assert addin.user_config_path("win32", tmp_path) == tmp_path / ".xlwings" / "xlwings.conf"
    assert addin.user_config_path("darwin", tmp_path) == (
        tmp_path / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf")
    # this (non-macOS) platform: xlwings computes the same path from the real home folder
    assert str(addin.user_config_path(sys.platform, Path.home())) == xlwings.USER_CONFIG_FILE
    assert addin.interpreter_key("darwin") == "INTERPRETER_MAC"
    assert addin.interpreter_key("win32") == "INTERPRETER_WIN"


# --- the command ---------------------------------------------------------------------------

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    return parser.parse_args(argv)


def no_runner(*_a, **_k):
    raise AssertionError("the xlwings CLI must not run on an unsupported platform")


@pytest.mark.parametrize("action", ["install", "remove", "status"])
def test_linux_prints_one_sentence_and_fails(action, tmp_path, capsys):
    assert cmd.run(parse(action), platform="linux", home=tmp_path, runner=no_runner) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.rstrip().endswith(".") and err.count(". ") == 0
    assert "Windows or macOS" in err and f"addin {action}" in err
    assert list(tmp_path.iterdir()) == []  # no config written


def test_build_command_writes_the_addin_anywhere(tmp_path, capsys):
    assert cmd.run(parse("build", "--out", str(tmp_path)), platform="linux") == 0
    assert capsys.readouterr().out.strip() == f"Wrote {tmp_path / 'alvh_xl.xlam'}"
    assert cmd.run(parse("build", "--out", str(tmp_path / "c"), "--interpreter-mac",
                         "/opt/py/bin/python"), platform="linux") == 0
    with zipfile.ZipFile(tmp_path / "c" / "alvh_xl.xlam") as zf:
        assert b"/opt/py/bin/python" in zf.read(addin.config_sheet_part(zf)[2])


class FakeXlwingsCli:
    """Stands in for `python -m xlwings.cli addin …`: a start-up folder and xlwings' messages."""

    def __init__(self, startup: Path):
        self.startup = startup
        self.calls: list[list[str]] = []
        self.installed_bytes = b""

    def __call__(self, argv, capture_output, text):
        assert capture_output and text
        self.calls.append(argv)
        assert argv[:5] == [sys.executable, "-m", "xlwings.cli", "addin", argv[4]]
        action, flag, file = argv[4:7]
        assert flag == "--file"
        target = self.startup / Path(file).name
        if action == "install":
            self.installed_bytes = Path(file).read_bytes()
            target.write_bytes(self.installed_bytes)
            out = "Successfully installed the xlwings add-in! Please restart Excel."
        elif action == "remove":
            target.unlink()
            out = "Successfully removed the add-in!"
        else:
            out = (f"The add-in is installed at {target}" if target.exists()
                   else "The add-in is not installed.")
        return subprocess.CompletedProcess(argv, 0, stdout=out + "\n", stderr="")


@pytest.mark.parametrize("platform,key", [("win32", "INTERPRETER_WIN"),
                                          ("darwin", "INTERPRETER_MAC")])
def test_install_status_remove_on_windows_and_macos(platform, key, tmp_path, capsys):
    home, startup = tmp_path / "home", tmp_path / "XLSTART"
    startup.mkdir()
    conf = addin.user_config_path(platform, home)
    conf.parent.mkdir(parents=True)
    conf.write_text('"LICENSE_KEY","abc"\n"UDF MODULES","mymod"\n')
    cli = FakeXlwingsCli(startup)

    assert cmd.run(parse("install"), platform=platform, home=home, runner=cli) == 0
    assert [c[4:6] + [Path(c[6]).name] for c in cli.calls] == [
        ["install", "--file", "alvh_xl.xlam"], ["status", "--file", "alvh_xl.xlam"]]
    assert (startup / "alvh_xl.xlam").is_file()
    installed = tmp_path / "installed.xlam"
    installed.write_bytes(cli.installed_bytes)
    with zipfile.ZipFile(installed) as zf:
        sheet = zf.read(addin.config_sheet_part(zf)[2]).decode()
    assert f"<t>{key.title()}</t>" in sheet and f"<t>{sys.executable}</t>" in sheet
    assert addin.parse_config(conf.read_text()) == {
        "license_key": "abc", key.lower(): sys.executable, "udf modules": "mymod;alvh_xl.udfs"}

    capsys.readouterr()
    assert cmd.run(parse("status"), platform=platform, home=home, runner=cli) == 0
    out = capsys.readouterr().out
    assert f"The add-in is installed at {startup / 'alvh_xl.xlam'}" in out
    assert f"{key} = {sys.executable} (this Python)" in out
    assert "UDF MODULES includes alvh_xl.udfs" in out

    assert cmd.run(parse("remove"), platform=platform, home=home, runner=cli) == 0
    assert not (startup / "alvh_xl.xlam").exists()
    assert addin.parse_config(conf.read_text()) == {
        "license_key": "abc", key.lower(): sys.executable, "udf modules": "mymod"}


def test_install_fails_when_xlwings_did_not_install(tmp_path, capsys):
    def broken(argv, capture_output, text):
        out = "PermissionError(13)" if argv[4] == "install" else "The add-in is not installed."
        return subprocess.CompletedProcess(argv, 0, stdout=out, stderr="")

    assert cmd.run(parse("install"), platform="win32", home=tmp_path, runner=broken) == 1
    assert "did not install alvh_xl.xlam" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # config untouched


@pytest.mark.parametrize("action", ["install", "remove", "status"])
def test_the_installed_xlwings_cli_takes_the_flags_we_pass(action):
    done = subprocess.run(cmd.xlwings_command("addin", action, "--help"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--file" in done.stdout


def test_alvh_xl_cli_registers_the_addin_and_lite_commands(capsys):
    from alvh_xl import cli

    assert cli.COMMANDS["addin"][0] == "alvh_xl.commands.addin"
    assert cli.COMMANDS["lite"][0] == "alvh_xl.commands.lite"
    if sys.platform.startswith("linux"):
        assert cli.main(["addin", "status"]) == 1
        assert "needs desktop Excel" in capsys.readouterr().err


def test_the_wheel_ships_alvh_xl_xl_and_the_ribbon():
    import tomllib
    from setuptools import find_packages

    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = find_packages(str(ROOT), include=conf["packages"]["find"]["include"])
    assert "alvh_xl.xl" in packages  # needs alvh_xl/xl/__init__.py
    patterns = conf["package-data"]["alvh_xl"]
    assert (ROOT / "alvh_xl" / "tools" / "ribbon.xml") in {
        f for p in patterns for f in (ROOT / "alvh_xl").glob(p)}
