"""Build ``alvh_xl.oxt``: the LibreOffice Calc extension that provides every ALVH_* function.

Everything comes from alvh_xl.udfs (the registry that also feeds xlwings): function names,
parameter names, the docstring (Function Wizard text) and ``__alvh_arg_docs__``. The
extension holds

* ``alvh_calc.rdb``: the UNO interface ``org.alvh.calc.XAlvhFunctions``, one method per
  function, every parameter and the result of type ``any`` (so each argument takes a cell, a
  range or an inline array, may be omitted, and a result can be a scalar or an array),
  written by alvh_xl.tools.unoidl (no LibreOffice SDK needed);
* ``CalcAddIns.xcu``: display names, descriptions and ``CompatibilityName`` = the function's
  own name, which is how Calc maps ``=ALVH_LAYERS(…)`` in an .xlsx file to the add-in;
* ``alvh_calc.py`` (alvh_xl.calc.component) + ``pythonpath/alvh_calc_client.py``
  (alvh_xl.calc.client) for LibreOffice's Python, and ``alvh_calc.json`` naming the user's
  interpreter that runs ``python -m alvh_xl.calc.worker``.

The archive is deterministic: fixed member order and timestamps.
"""

from __future__ import annotations

import inspect
import json
import sys
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .. import __version__
from ..xl.layout import LAYOUT
from .unoidl import Interface, Method, write_rdb

OXT_NAME = "alvh_xl.oxt"
EXTENSION_ID = "org.alvh.calc"
INTERFACE = "org.alvh.calc.XAlvhFunctions"
SERVICE = "org.alvh.calc.Functions"
RESOLVE_JOB = "org.alvh.calc.ResolveNames"     # the on-load job of alvh_xl.calc.component
CATEGORY = "Add-In"
# Every argument is ``any``: Calc then passes a number, a text, or a 2-D array for a cell range
# or an inline array, and None for an omitted argument (all are optional in the Wizard). The
# result is always a 2-D array (1×1 for a scalar): Calc takes a ``sequence<sequence<any>>``
# as a matrix, and pyuno can only return that type when the interface declares it.
RESULT_TYPE = "[][]any"
# ``python -m alvh_xl.calc.worker``, except that the folder LibreOffice runs in is not put on
# sys.path (a folder named alvh_xl there would be imported instead of the installed package).
WORKER_ARGS = ("-c", "import sys; del sys.path[0]; from alvh_xl.calc.worker import main; "
                     "sys.exit(main())")
START_TIMEOUT = 120.0      # s: starting Python and importing numpy/pandas/scipy/alvh_xl
CALL_TIMEOUT = 600.0       # s: one function call (a hung worker is stopped after this)
RETRY_AFTER = 15.0         # s: after a failed restart, calls answer the cause at once
ZIP_TIME = (2026, 11, 24, 18, 0, 0)
CALC_DIR = Path(__file__).resolve().parent.parent / "calc"


def function_specs() -> list[dict[str, Any]]:
    """Name, parameters, description and argument texts of every ALVH_* function."""
    from ..calc.worker import functions

    specs = []
    for name, f in sorted(functions().items()):
        docs = getattr(f, "__alvh_arg_docs__", {})
        params = list(inspect.signature(f).parameters)
        if len({uno_name(p) for p in params}) != len(params):
            raise ValueError(f"{name}: parameter names {params} clash as UNO names")
        specs.append({"name": name, "params": params,
                      "description": " ".join((f.__doc__ or "").split()),
                      "arg_docs": {p: docs.get(p, "") for p in params}})
    return specs


def uno_name(param: str) -> str:
    """A Python parameter name as a UNO identifier: ``t_years`` → ``tYears`` (UNO names that
    start lower-case may not contain underscores); the Wizard still shows ``t_years``."""
    head, *rest = param.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def interface(specs: list[dict[str, Any]]) -> Interface:
    """The UNO interface: ``sequence<sequence<any>> NAME([in] any p1, …)`` per function."""
    return Interface(INTERFACE, tuple(
        Method(s["name"], RESULT_TYPE, tuple((uno_name(p), "any") for p in s["params"]))
        for s in specs))


def config(specs: list[dict[str, Any]], python: str, *, start_timeout: float = START_TIMEOUT,
           call_timeout: float = CALL_TIMEOUT, log: str | None = None) -> dict[str, Any]:
    """``alvh_calc.json``: what the component needs at run time."""
    return {"alvh_xl": __version__, "python": python, "worker_args": list(WORKER_ARGS),
            "start_timeout": start_timeout, "call_timeout": call_timeout,
            "retry_after": RETRY_AFTER, "log": log, "interface": INTERFACE,
            "service": SERVICE, "resolve_job": RESOLVE_JOB,
            "pad_rows": max(o.max_rows for o in LAYOUT.outputs),
            "pad_cols": max(o.max_cols for o in LAYOUT.outputs),
            "functions": [{"name": s["name"], "params": s["params"]} for s in specs]}


def addins_xcu(specs: list[dict[str, Any]]) -> str:
    """CalcAddIns.xcu: Function Wizard texts and the Excel (compatibility) names."""

    def prop(name: str, value: str, lang: str | None = "en-US") -> str:
        attr = f" xml:lang={quoteattr(lang)}" if lang else ""
        return (f'<prop oor:name="{name}"><value{attr}>{escape(value)}</value></prop>')

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<oor:component-data xmlns:oor="http://openoffice.org/2001/registry" '
           'xmlns:xs="http://www.w3.org/2001/XMLSchema" oor:name="CalcAddIns" '
           'oor:package="org.openoffice.Office">',
           ' <node oor:name="AddInInfo">',
           f'  <node oor:name={quoteattr(SERVICE)} oor:op="replace">',
           '   <node oor:name="AddInFunctions">']
    for s in specs:
        out.append(f'    <node oor:name={quoteattr(s["name"])} oor:op="replace">')
        out.append("     " + prop("DisplayName", s["name"]))
        out.append("     " + prop("Description", s["description"]))
        out.append("     " + prop("Category", CATEGORY, None))
        out.append("     " + prop("CompatibilityName", s["name"]))
        out.append('     <node oor:name="Parameters">')
        for p in s["params"]:
            out.append(f'      <node oor:name={quoteattr(uno_name(p))} oor:op="replace">')
            out.append("       " + prop("DisplayName", p))
            out.append("       " + prop("Description", s["arg_docs"][p]))
            out.append("      </node>")
        out.append("     </node>")
        out.append("    </node>")
    out += ["   </node>", "  </node>", " </node>", "</oor:component-data>", ""]
    return "\n".join(out)


JOBS_XCU = f"""<?xml version="1.0" encoding="UTF-8"?>
<oor:component-data xmlns:oor="http://openoffice.org/2001/registry"
    xmlns:xs="http://www.w3.org/2001/XMLSchema" oor:name="Jobs" oor:package="org.openoffice.Office">
 <node oor:name="Jobs">
  <node oor:name="AlvhResolveNames" oor:op="replace">
   <prop oor:name="Service"><value>{RESOLVE_JOB}</value></prop>
  </node>
 </node>
 <node oor:name="Events">
  <node oor:name="onDocumentAdded" oor:op="fuse">
   <node oor:name="JobList">
    <node oor:name="AlvhResolveNames" oor:op="replace"/>
   </node>
  </node>
 </node>
</oor:component-data>
"""


def description_xml() -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<description xmlns="http://openoffice.org/extensions/description/2006"
             xmlns:d="http://openoffice.org/extensions/description/2006"
             xmlns:xlink="http://www.w3.org/1999/xlink">
  <identifier value="{EXTENSION_ID}"/>
  <version value="{__version__}"/>
  <display-name>
    <name lang="en">ALVH risk desk functions (alvh_xl {__version__})</name>
  </display-name>
  <platform value="all"/>
  <dependencies>
    <l:LibreOffice-minimal-version xmlns:l="http://libreoffice.org/extensions/description/2011"
        value="6.0" d:name="LibreOffice 6.0"/>
  </dependencies>
</description>
"""


MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="http://openoffice.org/2001/manifest">
 <manifest:file-entry manifest:full-path="alvh_calc.rdb"
  manifest:media-type="application/vnd.sun.star.uno-typelibrary;type=RDB"/>
 <manifest:file-entry manifest:full-path="alvh_calc.py"
  manifest:media-type="application/vnd.sun.star.uno-component;type=Python"/>
 <manifest:file-entry manifest:full-path="CalcAddIns.xcu"
  manifest:media-type="application/vnd.sun.star.configuration-data"/>
 <manifest:file-entry manifest:full-path="Jobs.xcu"
  manifest:media-type="application/vnd.sun.star.configuration-data"/>
</manifest:manifest>
"""


def oxt_members(python: str, **options: Any) -> dict[str, bytes]:
    """Archive path → bytes of every file in the extension."""
    specs = function_specs()
    return {
        "META-INF/manifest.xml": MANIFEST.encode(),
        "description.xml": description_xml().encode(),
        "alvh_calc.rdb": write_rdb([interface(specs)]),
        "CalcAddIns.xcu": addins_xcu(specs).encode(),
        "Jobs.xcu": JOBS_XCU.encode(),
        "alvh_calc.json": (json.dumps(config(specs, python, **options), indent=1)
                           + "\n").encode(),
        "alvh_calc.py": (CALC_DIR / "component.py").read_bytes(),
        "pythonpath/alvh_calc_client.py": (CALC_DIR / "client.py").read_bytes(),
    }


def build_calc_addin(out_dir: str | Path, python: str | None = None, **options: Any) -> Path:
    """Write ``out_dir/alvh_xl.oxt`` for the interpreter ``python`` (default: this one)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / OXT_NAME
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in oxt_members(python or sys.executable, **options).items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return path
