"""The Calc extension alvh_xl.oxt: its type library, configuration and runtime files.

* The .rdb writer (alvh_xl.tools.unoidl) reproduces, byte for byte, what LibreOffice's SDK
  (``unoidl-write``) made of tests/data/unoidl_reference.idl; where the SDK is installed the
  add-in's own interface is compiled by ``unoidl-write`` too and read back by ``unoidl-read``.
* The Function Wizard texts and Excel names come from alvh_xl.udfs (taken at test time, so
  functions added later are covered): one CalcAddIns.xcu entry per ALVH_* function, its
  docstring, its parameters in order with their ``__alvh_arg_docs__``.
* The files LibreOffice's Python runs are Python 3.8 and import nothing outside the standard
  library and pyuno.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import DATA
from lxml import etree

from alvh_xl import udfs
from alvh_xl.calc import worker
from alvh_xl.cli import main
from alvh_xl.tools import calc as build
from alvh_xl.tools import libreoffice as lo
from alvh_xl.tools.unoidl import Interface, Method, interface_idl, write_rdb

NAMES = sorted(n for n, f in vars(udfs).items() if n.startswith("ALVH_") and callable(f))
OOR = "{http://openoffice.org/2001/registry}"
SDK_BIN = Path("/usr/lib/libreoffice/sdk/bin")
UNOIDL_WRITE = shutil.which("unoidl-write") or (
    str(SDK_BIN / "unoidl-write") if (SDK_BIN / "unoidl-write").is_file() else None)
UNOIDL_READ = shutil.which("unoidl-read") or (
    str(SDK_BIN / "unoidl-read") if (SDK_BIN / "unoidl-read").is_file() else None)
TYPES_RDB = Path("/usr/lib/libreoffice/program/types.rdb")
needs_sdk = pytest.mark.skipif(
    not (UNOIDL_WRITE and UNOIDL_READ and TYPES_RDB.is_file()),
    reason="LibreOffice SDK (unoidl-write/unoidl-read, package libreoffice-dev) not installed;"
           " the committed reference .rdb still checks the writer")
XI = "com.sun.star.uno.XInterface"


def _comment(rdb: bytes) -> str:
    """The free-form comment after the header (``\\0** … **\\0``)."""
    end = rdb.index(b"**\0", 16)
    return rdb[20:end - 1].decode("ascii")


def test_writer_matches_the_sdk_reference():
    """tests/data/unoidl_reference.idl as Interface objects → the SDK's bytes exactly."""
    reference = (DATA / "unoidl_reference.rdb").read_bytes()
    any2 = "[][]any"
    interfaces = [
        Interface("org.alvh.calc.XAlvhFunctions", (
            Method("ALVH_LAYERS", any2, (("positions", "any"), ("market", "any"),
                                         ("curve", "any"), ("thresholds", "any"))),
            Method("ALVH_FLAG", any2, (("value", "any"), ("limit", "any"), ("warn", "any"))),
            Method("ALVH_SUM", "double", (("values", "[][]double"),)))),
        Interface("org.alvh.calc.XAlvhMore", (
            Method("count", "any", ()),
            Method("reset", "void", (("level", "long"), ("reason", "string"))))),
        Interface("zeta.XLast", (Method("ok", "boolean", (("value", "any"),)),)),
    ]
    ours = write_rdb(interfaces, comment=_comment(reference))
    assert ours == reference, _first_difference(ours, reference)


def _first_difference(a: bytes, b: bytes) -> str:
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return (f"lengths {len(a)} (ours) vs {len(b)} (unoidl-write); first difference at byte "
            f"{i}: ours {a[i:i + 16]!r} vs reference {b[i:i + 16]!r}")


def test_writer_rejects_what_it_cannot_write():
    with pytest.raises(ValueError, match="identifier"):
        write_rdb([Interface("org.alvh.X-Y", ())])
    for bad in ("t_years", "a_B", "A__B", "AB_", "_a", "x_1"):   # unoidl-write refuses these
        with pytest.raises(ValueError, match="identifier"):
            write_rdb([Interface("a.X", (Method("f", "any", ((bad, "any"),)),))])
    assert [build.uno_name(p) for p in ("t_years", "spot_shifts_pct", "series")] == [
        "tYears", "spotShiftsPct", "series"]
    with pytest.raises(ValueError, match="duplicate method"):
        write_rdb([Interface("a.X", (Method("f", "any", ()), Method("f", "any", ())))])
    with pytest.raises(ValueError, match="not a module"):
        write_rdb([Interface("a.X", ()), Interface("a.X.Y", ())])


@needs_sdk
def test_sdk_compiles_the_addin_interface_to_the_same_bytes(tmp_path):
    itf = build.interface(build.function_specs())
    idl = tmp_path / "alvh.idl"
    idl.write_text(interface_idl(itf))
    ref = tmp_path / "sdk.rdb"
    proc = subprocess.run([UNOIDL_WRITE, str(TYPES_RDB), str(idl), str(ref)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr + idl.read_text()
    reference = ref.read_bytes()
    ours = write_rdb([itf], comment=_comment(reference))
    assert ours == reference, _first_difference(ours, reference)


@needs_sdk
def test_sdk_reads_the_built_type_library(tmp_path):
    oxt = build.build_calc_addin(tmp_path, "/opt/python/bin/python3")
    rdb = tmp_path / "alvh_calc.rdb"
    rdb.write_bytes(zipfile.ZipFile(oxt).read("alvh_calc.rdb"))
    proc = subprocess.run([UNOIDL_READ, str(rdb)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name in NAMES:
        params = ", ".join(f"[in] any {build.uno_name(p)}"
                           for p in inspect.signature(getattr(udfs, name)).parameters)
        assert f"sequence< sequence< any > > {name}({params});" in proc.stdout, (
            name, proc.stdout)


@pytest.fixture(scope="module")
def oxt(tmp_path_factory) -> zipfile.ZipFile:
    path = build.build_calc_addin(tmp_path_factory.mktemp("oxt"), "/opt/python/bin/python3",
                                  call_timeout=42)
    return zipfile.ZipFile(path)


def test_manifest_lists_the_files_it_ships(oxt):
    manifest = etree.fromstring(oxt.read("META-INF/manifest.xml"))
    ns = "{http://openoffice.org/2001/manifest}"
    entries = {e.get(f"{ns}full-path"): e.get(f"{ns}media-type") for e in manifest}
    assert entries == {
        "alvh_calc.rdb": "application/vnd.sun.star.uno-typelibrary;type=RDB",
        "alvh_calc.py": "application/vnd.sun.star.uno-component;type=Python",
        "CalcAddIns.xcu": "application/vnd.sun.star.configuration-data",
        "Jobs.xcu": "application/vnd.sun.star.configuration-data"}
    names = set(oxt.namelist())
    assert set(entries) <= names
    assert {"description.xml", "alvh_calc.json", "pythonpath/alvh_calc_client.py"} <= names
    desc = etree.fromstring(oxt.read("description.xml"))
    ns = "{http://openoffice.org/extensions/description/2006}"
    assert desc.find(f"{ns}identifier").get("value") == build.EXTENSION_ID


def test_function_wizard_texts_come_from_the_registry(oxt):
    xcu = etree.fromstring(oxt.read("CalcAddIns.xcu"))
    service = xcu.find(f"node[@{OOR}name='AddInInfo']/node[@{OOR}name='{build.SERVICE}']")
    functions = service.find(f"node[@{OOR}name='AddInFunctions']")
    found = [n.get(f"{OOR}name") for n in functions]
    assert found == NAMES

    def prop(node, name):
        values = node.findall(f"prop[@{OOR}name='{name}']/value")
        assert len(values) == 1, (node.get(f"{OOR}name"), name)
        return values[0].text or "", values[0].get("{http://www.w3.org/XML/1998/namespace}lang")

    for node in functions:
        name = node.get(f"{OOR}name")
        f = getattr(udfs, name)
        assert prop(node, "DisplayName") == (name, "en-US")
        assert prop(node, "CompatibilityName") == (name, "en-US")      # the xlsx name
        assert prop(node, "Description")[0] == " ".join(f.__doc__.split())
        assert len(prop(node, "Description")[0]) <= 255
        params = node.find(f"node[@{OOR}name='Parameters']")
        python_names = list(inspect.signature(f).parameters)
        # node names = the interface's parameter names (how Calc matches them)
        assert [p.get(f"{OOR}name") for p in params] == [build.uno_name(p) for p in python_names]
        for p, pname in zip(params, python_names, strict=True):
            assert prop(p, "DisplayName")[0] == pname
            assert prop(p, "Description")[0] == f.__alvh_arg_docs__.get(pname, "")


def test_runtime_config_records_the_interpreter(oxt):
    config = json.loads(oxt.read("alvh_calc.json"))
    assert config["python"] == "/opt/python/bin/python3"
    assert config["worker_args"] == list(build.WORKER_ARGS)
    assert config["call_timeout"] == 42 and config["start_timeout"] > 0
    assert [f["name"] for f in config["functions"]] == NAMES
    assert all(f["params"] == list(inspect.signature(getattr(udfs, f["name"])).parameters)
               for f in config["functions"])
    assert sorted(worker.functions()) == NAMES
    jobs = etree.fromstring(oxt.read("Jobs.xcu"))
    services = jobs.findall(f".//prop[@{OOR}name='Service']/value")
    assert [s.text for s in services] == [config["resolve_job"]]
    assert jobs.find(f".//node[@{OOR}name='onDocumentAdded']") is not None


def test_files_for_libreoffice_python_are_plain(oxt):
    """LibreOffice's Python may be 3.8 without numpy: stdlib + pyuno only, 3.8 grammar."""
    allowed = set(sys.stdlib_module_names) | {"uno", "unohelper", "com", "alvh_calc_client"}
    for member in ("alvh_calc.py", "pythonpath/alvh_calc_client.py"):
        source = oxt.read(member).decode("utf-8")
        tree = ast.parse(source, feature_version=(3, 8))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
        assert imported <= allowed, (member, imported - allowed)
        compile(source, member, "exec")


def test_build_is_reproducible(tmp_path):
    a = build.build_calc_addin(tmp_path / "a", "/usr/bin/python3").read_bytes()
    b = build.build_calc_addin(tmp_path / "b", "/usr/bin/python3").read_bytes()
    assert a == b


def test_cli_build_records_this_python(tmp_path, capsys):
    assert main(["calc", "build", "--out", str(tmp_path)]) == 0
    assert f"Wrote {tmp_path / build.OXT_NAME}" in capsys.readouterr().out
    config = json.loads(zipfile.ZipFile(tmp_path / build.OXT_NAME).read("alvh_calc.json"))
    assert config["python"] == sys.executable


# --- running LibreOffice's programs (alvh_xl.tools.libreoffice) ----------------------------

def test_office_env_leaves_virtual_environments_out(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    base = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "VIRTUAL_ENV": str(venv),
            "PYTHONHOME": "/x", "PYTHONPATH": "/y", "HOME": "/home/u"}
    env = lo.office_env(base)
    assert env == {"PATH": "/usr/bin:/bin", "HOME": "/home/u"}


def test_unopkg_runs_as_the_profile_owner_when_root(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    owned = tmp_path / "profile"                  # parent owned by the user running pytest
    uid = tmp_path.stat().st_uid
    if uid == 0:                                  # running as root: give it an owner
        import pwd

        nobody = pwd.getpwnam("nobody")
        os.chown(tmp_path, nobody.pw_uid, nobody.pw_gid)
        uid = nobody.pw_uid
    assert lo.run_as_for(owned).uid == uid
    assert lo.run_as_for(owned, shared=True) == lo.RunAs()
    for refused in (None, Path("/no-such-dir/profile")):   # default profile; root-owned "/"
        with pytest.raises(lo.OfficeError, match="refuses per-user extensions when run as root"):
            lo.run_as_for(refused)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert lo.run_as_for(None) == lo.RunAs()


def test_recalc_on_load_is_set_once(tmp_path):
    xcu = tmp_path / "user" / "registrymodifications.xcu"
    xcu.parent.mkdir()
    xcu.write_text('<?xml version="1.0"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/'
                   'registry">\n<item oor:path="/x"><prop oor:name="y"><value>1</value></prop>'
                   '</item>\n</oor:items>\n')
    lo.set_recalc_on_load(tmp_path, 1)
    lo.set_recalc_on_load(tmp_path)
    root = etree.fromstring(xcu.read_bytes())
    values = {p.get(f"{OOR}name"): p.findtext("value") for p in root.iter("prop")}
    assert values == {"y": "1", "OOXMLRecalcMode": "0", "ODFRecalcMode": "0"}
    assert len(root) == 3
    with pytest.raises(lo.OfficeError, match="not a LibreOffice"):
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "user").mkdir()
        (tmp_path / "other" / "user" / "registrymodifications.xcu").write_text("<x/>")
        lo.set_recalc_on_load(tmp_path / "other")
    with pytest.raises(lo.OfficeError, match="no such program"):
        lo.find_program("unopkg", str(tmp_path / "unopkg"))


@pytest.mark.parametrize("python", ["/no-such-dir/python3", "no-such-python-anywhere"])
def test_install_refuses_a_python_that_cannot_run(tmp_path, capsys, python):
    """`calc install --python` records the interpreter the worker runs; one that does not
    exist must be refused, not installed with "the ALVH blocks compute in Calc"."""
    code = main(["calc", "install", "--python", python, "--profile", str(tmp_path / "p")])
    captured = capsys.readouterr()
    assert code == 2, (code, captured.out, captured.err)
    assert "Installed" not in captured.out
    assert python in captured.err and "Python that has alvh_xl" in captured.err, captured.err
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(("remove_exit", "said"), [
    (0, "Removed org.alvh.calc from"),                 # it was installed: now it is not
    (1, "org.alvh.calc was not installed in")])         # nothing to remove
def test_calc_remove_says_whether_it_removed_anything(tmp_path, monkeypatch, capsys,
                                                     remove_exit, said):
    """`alvh-xl calc remove` printed "is not installed" both after removing the extension and
    when there was none (review finding). A stand-in unopkg: `remove` exits ``remove_exit``
    (LibreOffice's unopkg exits 1 with "no such extension deployed"), `list` lists nothing."""
    from alvh_xl.cli import main
    from alvh_xl.tools import libreoffice as lo

    unopkg = tmp_path / "unopkg"
    unopkg.write_text(f'#!/bin/sh\n[ "$1" = remove ] && exit {remove_exit}\nexit 0\n')
    unopkg.chmod(0o755)
    monkeypatch.setattr(lo, "run_as_for", lambda profile, shared=False: lo.RunAs())
    profile = tmp_path / "profile"
    assert main(["calc", "remove", "--profile", str(profile), "--unopkg", str(unopkg)]) == 0
    out = capsys.readouterr().out
    assert out == f"{said} {profile}.\n", out


def test_calc_as_root_with_a_root_owned_profile_names_that_profile(tmp_path, monkeypatch):
    """As root, `--profile DIR` owned by root is refused by unopkg; the message named no
    folder and told the user to pass --profile, which they had done (review finding)."""
    from alvh_xl.tools import libreoffice as lo

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(lo, "_owner", lambda path: (0, 0))
    profile = tmp_path / "profile"
    with pytest.raises(lo.OfficeError) as err:
        lo.run_as_for(profile)
    text = str(err.value)
    assert f"--profile {profile}" in text and "owned by root" in text, text
    with pytest.raises(lo.OfficeError) as err:            # no --profile: the default one
        lo.run_as_for(None)
    assert "with --profile" in str(err.value) and "owned by root" not in str(err.value)
