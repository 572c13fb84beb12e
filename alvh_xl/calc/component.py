"""UNO component of the ALVH Calc add-in: runs inside LibreOffice's own Python.

Shipped in alvh_xl.oxt as ``alvh_calc.py`` next to ``alvh_calc.json`` (written by
``alvh-xl calc build``: the interpreter to run, the timeouts, and every function with its
parameter names, taken from alvh_xl.udfs). It declares one method per ALVH_* function on the
interface of the extension's type library; each call is forwarded to the worker process
(``python -m alvh_xl.calc.worker`` of the recorded interpreter) and its cells come back as a
Calc array. A second component, a job run whenever a document has been loaded, re-enters
formulas whose ALVH_* names LibreOffice did not resolve on import. Standard library + pyuno
only, Python 3.8 syntax: LibreOffice's Python may be another version than the user's,
without numpy.
"""

from __future__ import annotations

import json
import os

import uno
import unohelper
from alvh_calc_client import (
    WorkerBug,
    WorkerClient,
    WorkerUnavailable,
    default_log_path,
    resolve_names,
)
from com.sun.star.task import XJob
from com.sun.star.uno import RuntimeException

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "alvh_calc.json"), encoding="utf-8") as _f:
    CONFIG = json.load(_f)

LOG_PATH = CONFIG.get("log") or default_log_path()
# LibreOffice may point these at its own Python; the user's interpreter needs its own.
_DROP_ENV = ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONEXECUTABLE")
_client = None


def client() -> WorkerClient:
    """The one worker client of this LibreOffice process (the worker starts on first call)."""
    global _client
    if _client is None:
        env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
        _client = WorkerClient([CONFIG["python"], *CONFIG["worker_args"]],
                               start_timeout=CONFIG["start_timeout"],
                               call_timeout=CONFIG["call_timeout"],
                               retry_after=CONFIG["retry_after"], log_path=LOG_PATH, env=env)
    return _client


def plain(value):
    """A Calc argument as plain Python values: nested tuples become lists."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def to_calc(value, rows: int = 0, cols: int = 0) -> tuple:
    """Worker cells as a Calc result: a 2-D tuple; a table is padded to ``rows`` × ``cols``.

    Empty cells and the padding are "" (an empty Any would show as 0 in an array formula);
    the padding keeps the cells of an array range beyond the table blank instead of #N/A.
    A scalar becomes a 1×1 array (not padded: per-cell formulas stay cheap).
    """
    if not isinstance(value, list):
        return (("" if value is None else value,),)
    width = max(cols, max((len(r) for r in value), default=0), 1)
    out = [tuple("" if v is None else v for v in row) + ("",) * (width - len(row))
           for row in value]
    out += [("",) * width] * (rows - len(out))
    return tuple(out) if out else (("",),)


def invoke(name: str, args: tuple):
    """Run one function in the worker; an unavailable worker answers '#ALVH! …' text, a bug
    in alvh_xl raises (Calc shows #VALUE!; the traceback is in the worker log)."""
    try:
        value = client().call(name, [plain(a) for a in args])
    except WorkerUnavailable as exc:
        return ((str(exc),),)
    except WorkerBug as exc:
        raise RuntimeException(f"alvh_xl: {exc} (traceback in {LOG_PATH})", None) from None
    return to_calc(value, CONFIG["pad_rows"], CONFIG["pad_cols"])


def _method(name: str, n_params: int):
    def method(self, *args):
        if len(args) != n_params:
            raise RuntimeException(f"{name} takes {n_params} arguments, got {len(args)}", None)
        return invoke(name, args)

    method.__name__ = name
    return method


class AlvhFunctions(unohelper.Base, uno.getClass(CONFIG["interface"])):
    """The add-in object Calc creates; its ALVH_* methods are added from the config."""

    def __init__(self, ctx):
        self.ctx = ctx


for _spec in CONFIG["functions"]:
    setattr(AlvhFunctions, _spec["name"], _method(_spec["name"], len(_spec["params"])))

FORMULA_CELLS = 16            # com.sun.star.sheet.CellFlags.FORMULA


class ResolveNamesJob(unohelper.Base, XJob):
    """After every document load ("onDocumentAdded"): re-enter formulas whose ALVH_* calls
    Calc left unresolved.

    LibreOffice versions that do not apply add-in compatibility names when importing .xlsx
    (7.4 does not) read ``=ALVH_LAYERS(…)`` as an unknown name (#NAME?). Entering the same
    formula through the API resolves it; nothing else in the document changes, the undo list
    stays empty and an unmodified document stays unmodified. Where LibreOffice resolves the
    names itself, this finds nothing to do.
    """

    def __init__(self, ctx):
        self.ctx = ctx

    def execute(self, arguments):
        model = None
        for arg in arguments:
            if arg.Name == "Environment":
                model = next((v.Value for v in arg.Value if v.Name == "Model"), None)
        if model is None or not model.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
            return None
        resolve_document(model, [f["name"] for f in CONFIG["functions"]])
        return None


def resolve_document(model, names) -> int:
    """Re-enter every formula of ``model`` that calls one of ``names`` unresolved; returns
    how many formulas (an array formula counts once) were re-entered."""
    was_modified = model.isModified()
    undo = model.getUndoManager()
    undo.lock()
    count = 0
    try:
        for sheet in model.getSheets():
            count += _resolve_sheet(sheet, names)
    finally:
        undo.unlock()
    if count and not was_modified:
        model.setModified(False)
    return count


def _resolve_sheet(sheet, names) -> int:
    cells = sheet.queryContentCells(FORMULA_CELLS)
    if not cells.getCount():
        return 0
    done_arrays, count = set(), 0
    for address in cells.getRangeAddresses():
        block = sheet.getCellRangeByPosition(address.StartColumn, address.StartRow,
                                             address.EndColumn, address.EndRow)
        for i, row in enumerate(block.getFormulaArray()):
            for j, formula in enumerate(row):
                fixed = resolve_names(formula, names)
                if fixed is None:
                    continue
                cell = block.getCellByPosition(j, i)
                if fixed.startswith("{"):
                    cursor = sheet.createCursorByRange(cell)
                    cursor.collapseToCurrentArray()
                    key = cursor.AbsoluteName
                    if key in done_arrays:
                        continue
                    done_arrays.add(key)
                    cursor.setArrayFormula(fixed[1:-1])
                else:
                    cell.setFormula(fixed)
                count += 1
    return count


g_ImplementationHelper = unohelper.ImplementationHelper()
g_ImplementationHelper.addImplementation(
    AlvhFunctions, CONFIG["service"], ("com.sun.star.sheet.AddIn", CONFIG["service"]))
g_ImplementationHelper.addImplementation(
    ResolveNamesJob, CONFIG["resolve_job"], ("com.sun.star.task.Job",))
