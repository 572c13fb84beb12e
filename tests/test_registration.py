"""Every ALVH_* function in alvh_xl.udfs registers with each xlwings runtime.

* Classic Windows UDFs: xlwings' own ``udfs.generate_vba_wrapper`` (what "Import Functions"
  runs) on Linux, with pywin32 replaced by stub modules and alvh_xl's registry switched to its
  Windows branch. Runs in a subprocess so the stubs never reach this test session.
* xlwings Server/Lite: ``custom_functions_meta`` (the Office.js registration), and the
  ``main.py`` that `alvh-xl lite` prints, as Lite sees it.

The lists are taken from alvh_xl.udfs at run time, so functions added later are covered.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types

import pytest
from conftest import ROOT
from xlcall import needs_xlwings

from alvh_xl import udfs
from alvh_xl.tools import lite

NAMES = sorted(n for n, f in vars(udfs).items() if n.startswith("ALVH_") and callable(f))
MAX_DOC = 255  # Excel's limit for MacroOptions' Description and ArgumentDescriptions
DEFAULT_ARG_DOC = re.compile(r"^Positional argument \d+$")  # xlwings' text when no doc is given

# [MS-VBAL] 3.3.5.2 reserved-identifier (statement and marker keywords, operators, reserved
# names, special forms, type and literal identifiers, Rem, implementation-reserved,
# future-reserved): none may name a VBA function or parameter.
VBA_RESERVED = {w.lower() for w in """
    Call Case Close Const Declare DefBool DefByte DefCur DefDate DefDbl DefInt DefLng
    DefLngLng DefLngPtr DefObj DefSng DefStr DefVar Dim Do Else ElseIf End EndIf Enum Erase
    Event Exit For Friend Function Get Global GoSub GoTo If Implements Input Let Lock Loop
    LSet Next On Open Option Print Private Public Put RaiseEvent ReDim Resume Return RSet
    Seek Select Set Static Stop Sub Type Unlock Wend While With Write Any As ByRef ByVal
    Each In New Shared Until WithEvents Optional ParamArray Preserve Spc Tab Then To
    AddressOf And Eqv Imp Is Like Mod Not Or TypeOf Xor Abs CBool CByte CCur CDate CDbl CDec
    CInt CLng CLngLng CLngPtr CSng CStr CVar CVErr Date Debug DoEvents Fix Int Len LenB Me
    PSet Scale Sgn String Array Circle InputB LBound UBound Boolean Byte Currency Double
    Integer Long LongLong LongPtr Single Variant True False Nothing Empty Null Rem Attribute
    LINEINPUT VB_Base VB_Control VB_Creatable VB_Customizable VB_Description VB_Exposed
    VB_Ext_Key VB_GlobalNameSpace VB_HelpID VB_Invoke_Func VB_Invoke_Property
    VB_Invoke_PropertyPut VB_Invoke_PropertyPutRef VB_MemberFlags VB_Name VB_PredeclaredId
    VB_ProcData VB_TemplateDerived VB_UserMemId VB_VarDescription VB_VarHelpID
    VB_VarMemberFlags VB_VarProcData VB_VarUserMemId CDecl Decimal DefDec
""".split()}
VBA_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,254}$")

CLASSIC_HARNESS = r"""
import inspect, io, json, sys, types

# pywin32 stand-ins: just what importing xlwings.udfs touches
for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})
sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
sys.modules["win32com"].client = sys.modules["win32com.client"]

import xlwings as xw
import xlwings.udfs as classic

# what `import xlwings` binds on Windows with pywin32 (xlwings/__init__.py)
xw.func, xw.arg, xw.ret, xw.script = classic.xlfunc, classic.xlarg, classic.xlret, classic.xlsub
import alvh_xl.xl.registry as registry

registry.CLASSIC = True  # sys.platform == "win32" and not on a server
import alvh_xl.udfs as udfs


class AddinBook:  # the COM workbook the wrapper is generated for
    Name = "alvh_xl.xlam"


vba = io.StringIO()
classic.generate_vba_wrapper("alvh_xl.udfs", udfs, vba, AddinBook())
meta = {}
for name, f in vars(udfs).items():
    if name.startswith("ALVH_") and hasattr(f, "__xlfunc__"):
        x = f.__xlfunc__
        meta[name] = {
            "doc": x["ret"]["doc"], "volatile": x["volatile"], "sub": x["sub"],
            "args": [{"name": a["name"], "doc": a["doc"], "vba": a["vba"],
                      "optional": "optional" in a, "ndim": a["options"].get("ndim")}
                     for a in x["args"]],
            "kinds": [p.kind.name for p in inspect.signature(f).parameters.values()],
        }
print(json.dumps({"vba": vba.getvalue(), "meta": meta}))
"""


@pytest.fixture(scope="module")
def classic():
    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_ON_SERVER"}
    done = subprocess.run([sys.executable, "-c", CLASSIC_HARNESS], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def vba_blocks(vba: str) -> dict[str, tuple[str, str]]:
    """Function name -> (parameter list, body) of each generated VBA Function."""
    blocks = re.findall(r"^Function (\w+)\(([^)]*)\)\n(.*?)^End Function", vba, re.M | re.S)
    return {name: (params, body) for name, params, body in blocks}


def test_every_function_gets_a_classic_vba_wrapper(classic):
    assert NAMES, "alvh_xl.udfs has no ALVH_* function"
    assert sorted(classic["meta"]) == NAMES  # each one carries classic xlwings metadata
    blocks = vba_blocks(classic["vba"])
    assert sorted(blocks) == NAMES
    assert len({n.lower() for n in blocks}) == len(blocks)  # VBA is case-insensitive
    assert "Sub " not in classic["vba"]


def test_classic_wrappers_match_the_python_signatures(classic):
    for name, (params, body) in vba_blocks(classic["vba"]).items():
        meta = classic["meta"][name]
        assert set(meta["kinds"]) == {"POSITIONAL_OR_KEYWORD"}, (name, meta["kinds"])
        visible = [a for a in meta["args"] if not a["vba"]]
        hidden = [a for a in meta["args"] if a["vba"]]
        assert [a["name"] for a in hidden] in ([], ["caller"]), name
        expected = ", ".join(("Optional " if a["optional"] else "") + a["name"] for a in visible)
        assert params == expected, name
        # VBA hands Python the visible arguments, then Nothing where xlwings puts the caller
        passed = ", ".join([a["name"] for a in visible] + ["Nothing"] * len(hidden))
        assert (f'{name} = XLPy.CallUDF("alvh_xl.udfs", "{name}", Array({passed}), '
                f"ActiveWorkbook, Application.Caller)") in body
        # reading the workbook's names through the caller needs a recalculating (volatile) cell
        assert ("Application.Volatile" in body) == bool(hidden) == meta["volatile"], name
        assert all(a["ndim"] == 2 for a in visible), name  # every range stays 2-D


def test_classic_names_and_descriptions_fit_excel(classic):
    for name, meta in classic["meta"].items():
        assert VBA_IDENTIFIER.match(name) and name.lower() not in VBA_RESERVED
        assert 0 < len(meta["doc"].strip()) <= MAX_DOC, name
        for arg in meta["args"]:
            if arg["vba"]:
                continue
            assert VBA_IDENTIFIER.match(arg["name"]), (name, arg["name"])
            assert arg["name"].lower() not in VBA_RESERVED, (name, arg["name"])
            assert arg["name"].lower() != name.lower()
            assert 0 < len(arg["doc"]) <= MAX_DOC, (name, arg["name"])
            assert not DEFAULT_ARG_DOC.match(arg["doc"]), f"{name}({arg['name']}) has no doc"


@needs_xlwings
def test_server_and_lite_registration_describes_every_function_and_parameter():
    from xlwings.server import custom_functions_meta

    meta = custom_functions_meta(udfs)
    functions = {f["name"]: f for f in meta["functions"]}
    by_excel_name = {n.upper(): n for n in NAMES}
    assert sorted(functions) == sorted(by_excel_name)
    for name, f in functions.items():
        assert 0 < len(f["description"].strip()) <= MAX_DOC, name
        python_params = list(getattr(udfs, by_excel_name[name]).__xlfunc__["argmap"])
        assert [p["name"] for p in f["parameters"]] == python_params
        assert "caller" not in python_params, name  # only classic Windows has a caller
        for p in f["parameters"]:
            assert p["description"].strip(), (name, p["name"])
            assert not DEFAULT_ARG_DOC.match(p["description"]), (name, p["name"])
            assert len(p["description"]) <= MAX_DOC, (name, p["name"])
            assert p["dimensionality"] == "matrix", (name, p["name"])


# --- xlwings Lite --------------------------------------------------------------------------

def test_lite_requirements_name_alvh_xl_only():
    import alvh_xl

    assert lite.requirements_txt() == f"alvh-xl=={alvh_xl.__version__}\n"
    url = "https://example.org/alvh_xl-0.1.0-py3-none-any.whl"
    assert lite.requirements_txt(url) == url + "\n"


@pytest.mark.parametrize("url", [
    "http://example.org/alvh_xl-0.1.0-py3-none-any.whl",     # Excel fetches HTTPS only
    "example.org/alvh_xl-0.1.0-py3-none-any.whl",
    "https://example.org/alvh_xl-0.1.0.tar.gz",              # not a wheel
    "dist/alvh_xl-0.1.0-py3-none-any.whl"])
def test_lite_wheel_must_be_an_https_wheel_address(url, capsys):
    """`alvh-xl lite --wheel` is documented as "an HTTPS address Excel may fetch": anything
    else is refused with the reason, not written into requirements.txt (review finding)."""
    from alvh_xl.cli import main
    from alvh_xl.errors import InputError

    with pytest.raises(InputError, match="--wheel"):
        lite.requirements_txt(url)
    assert main(["lite", "--wheel", url]) == 1
    captured = capsys.readouterr()
    assert "==> requirements.txt" not in captured.out
    assert f"--wheel {url}" in captured.err and "https://" in captured.err, captured.err


def test_lite_main_py_imports_every_function_and_the_refresh_script():
    text = lite.main_py()
    code = compile(text, "main.py", "exec")
    imported = set(code.co_names)
    assert set(NAMES) <= imported
    assert "refresh_script" in imported
    assert "from alvh_xl.xl.refresh import refresh_script" in text


@needs_xlwings
def test_lite_registers_what_main_py_imports():
    from xlwings.server import custom_functions_meta, custom_scripts_meta

    main = types.ModuleType("main")
    exec(compile(lite.main_py(), "main.py", "exec"), main.__dict__)
    functions = [f["name"] for f in custom_functions_meta(main)["functions"]]
    assert sorted(functions) == sorted(n.upper() for n in NAMES)
    scripts = [s["function_name"] for s in custom_scripts_meta(main)]
    assert scripts == ["refresh_script"]


RUNTIME_ONLY = r"""
import sys
# packages only the tests or benchmarks use, which Pyodide may lack: importing them must fail
for name in ("QuantLib", "talib", "formulas", "hypothesis", "lxml", "oletools", "py_vollib",
             "py_vollib_vectorized", "pytest"):
    sys.modules[name] = None
import alvh_xl.udfs, alvh_xl.xl.refresh
print("ok")
"""


def test_what_lite_imports_needs_no_test_only_package():
    done = subprocess.run([sys.executable, "-c", RUNTIME_ONLY], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


PYODIDE_THREADS = r"""
import os, sys, threading
import numpy as np, scipy.special  # loaded as on any platform

def no_threads(self):  # Pyodide has no pthreads: starting a thread fails
    raise RuntimeError("can't start new thread")

threading.Thread.start = no_threads
os.cpu_count = lambda: 4  # whatever the browser reports
sys.platform = "emscripten"  # what alvh_xl sees inside xlwings Lite
from alvh_xl.pricing import bsm_greeks, implied_vol

n = 70_000  # above the engine's threading threshold
k = np.linspace(80.0, 120.0, n)
g = bsm_greeks("C", 100.0, k, 0.5, 0.2, 0.03, 0.01)
iv = implied_vol(g.price, "C", 100.0, k, 0.5, 0.03, 0.01)
ok = np.isfinite(iv)
print(ok.sum() > 0.9 * n and float(np.max(np.abs(iv[ok] - 0.2))) < 1e-6)
"""


def test_the_engine_runs_without_threads_as_in_pyodide():
    """xlwings Lite runs Pyodide, where threads cannot start: large arrays must still work."""
    done = subprocess.run([sys.executable, "-c", PYODIDE_THREADS], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"


def test_alvh_xl_is_pure_python():
    compiled = [p for p in (ROOT / "alvh_xl").rglob("*")
                if p.suffix in {".so", ".pyd", ".dll", ".dylib", ".c", ".pyx"}]
    assert compiled == []
