"""The one list of ALVH_* Excel functions, and how each Excel runtime calls them.

``@excel(**arg_docs)`` marks a plain function in ``xl/fn_*.py``: it gets the '#ALVH!' error
boundary and goes into ``FUNCTIONS`` (Excel name → plain function). Python callers — the
report/Refresh pipeline, tests, the LibreOffice Calc worker — call these plain functions with
2-D lists of cell values and get Python values back (dates as dates, blanks as None).

``registered(f)`` is what ``alvh_xl.udfs`` exports for xlwings, per runtime:

* **xlwings Server / Lite** (Office.js): arguments arrive raw (``xw.arg(..., "raw")``) and are
  normalised here once, column by column, instead of by xlwings' per-cell conversion (whose
  ``utils.is_jsnull`` tries ``from pyodide.ffi import JsNull`` for every cell outside Pyodide,
  ~90 µs each — xlwings 0.36.17–0.37.8; under Pyodide xlwings' own check still runs for every
  cell). Results are cached by their raw arguments and converted for Office.js by
  ``office_js_cells()`` (dates → formatted numbers, blanks → "", NaN → "").
* **classic Windows Excel** (COM): xlwings' standard conversion, 2-D ranges, Excel errors as
  text (``err_to_str``); with ``workbook_inputs`` the function may be called without its range
  arguments and reads the calling workbook's defined names through xlwings' hidden
  ``caller`` (volatile, so it recalculates with the sheet).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from ..errors import AlvhError, MissingInputError
from .cache import RESULTS, freeze
from .cells import error_text, excel_function, pipeline_active
from .officejs import from_officejs, reading_arguments, to_officejs

MAX_DOC = 255
WORKBOOK_INPUTS = ("ALVH_POSITIONS", "ALVH_MARKET", "ALVH_CURVE")
# Optional inputs the no-argument classic form also reads, when the workbook has the name:
# parameter → defined name.
OPTIONAL_WORKBOOK_INPUTS = {"forwards": "ALVH_FORWARDS"}
# xlwings decides its runtime from this variable when it is imported (``xlwings.on_server``);
# read the same way here so that the engine's users (the report, Calc) never import xlwings.
ON_SERVER = os.environ.get("XLWINGS_ON_SERVER") == "true"
CLASSIC = sys.platform.startswith("win") and not ON_SERVER
IN_PYODIDE = sys.platform == "emscripten"

FUNCTIONS: dict[str, Callable[..., Any]] = {}


def excel(workbook_inputs: tuple[str, ...] | None = None,
          **arg_docs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an Excel function (keyword names must match the function's parameters)."""

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        if f.__doc__ and len(f.__doc__) > MAX_DOC:
            raise ValueError(f"{f.__name__}: docstring longer than {MAX_DOC} characters")
        missing = set(arg_docs) - set(inspect.signature(f).parameters)
        if missing:
            raise ValueError(f"{f.__name__}: docs for unknown parameters {sorted(missing)}")
        plain = excel_function(_needing_inputs(f, workbook_inputs) if workbook_inputs else f)
        plain.__alvh_arg_docs__ = dict(arg_docs)
        plain.__alvh_workbook_inputs__ = workbook_inputs
        FUNCTIONS[f.__name__] = plain
        return plain

    return deco


def _needing_inputs(f: Callable[..., Any], names: tuple[str, ...]) -> Callable[..., Any]:
    """Omitted leading range arguments are an error saying how to pass them (only classic
    Excel's registered wrapper can fill them from the workbook's names)."""
    k = len(names)
    example = f"={f.__name__}({', '.join(names)})"

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        if len(args) < k or all(a is None for a in args[:k]):
            raise MissingInputError(
                f"pass the input ranges, e.g. {example}; this Excel runtime cannot read the "
                "workbook's names from a function")
        return f(*args, **kwargs)

    return wrapper


def call(name: str, *args: Any) -> Any:
    """Call an ALVH function by name from Python with cached results (raw 2-D values in)."""
    f = FUNCTIONS[name]
    key = (name, tuple(freeze(a) for a in args))
    return RESULTS.get_or_compute(key, lambda: f(*args))


def registered(plain: Callable[..., Any]) -> Callable[..., Any]:
    """The xlwings-registered version of a plain ALVH function for the active runtime."""
    import xlwings as xw
    name = plain.__name__
    docs = plain.__alvh_arg_docs__
    names = plain.__alvh_workbook_inputs__
    params = list(inspect.signature(plain).parameters.values())
    if ON_SERVER:
        fn = _server(plain, params)
    else:
        fn = _classic(plain, params, names) if names else _cached(plain, params)
    fn.__alvh_arg_docs__ = docs
    for arg, doc in reversed(list(docs.items())):
        if ON_SERVER:
            fn = xw.arg(arg, "raw", doc=doc)(fn)
        else:
            fn = xw.arg(arg, ndim=2, err_to_str=True, doc=doc)(fn)
    if ON_SERVER:
        fn = xw.ret(office_js_cells())(fn)
    if names and CLASSIC:
        return xw.func(volatile=True)(fn)
    fn = xw.func(fn)
    fn.__name__ = name
    return fn


def _signature(f: Callable[..., Any], params: list[inspect.Parameter]) -> None:
    f.__signature__ = inspect.Signature(params)


def _server(plain, params):
    """Office.js: raw arguments keyed as they come, normalised only on a cache miss."""

    @functools.wraps(plain)
    def fn(*args):
        with reading_arguments():          # each range scanned for plain numbers once
            if IN_PYODIDE:                 # JsNull cells: normalise (xlwings' check) first
                args = tuple(from_officejs(a) for a in args)
            key = (plain.__name__, tuple(freeze(a) for a in args))
            return RESULTS.get_or_compute(
                key, lambda: plain(*(from_officejs(a) for a in args)))

    _signature(fn, params)
    return fn


def _cached(plain, params):
    @functools.wraps(plain)
    def fn(*args):
        if pipeline_active():
            return plain(*args)
        key = (plain.__name__, tuple(freeze(a) for a in args))
        return RESULTS.get_or_compute(key, lambda: plain(*args))

    _signature(fn, params)
    return fn


def _classic(plain, params, names: tuple[str, ...]):
    """Classic Excel: omitted leading range arguments are read from the workbook's names."""
    k = len(names)
    optional = [j for j, p in enumerate(params) if p.name in OPTIONAL_WORKBOOK_INPUTS]

    @functools.wraps(plain)
    def fn(*args):
        caller = args[len(params)] if CLASSIC and len(args) > len(params) else None
        args = list(args[: len(params)])
        args += [p.default for p in params[len(args):]]
        if caller is not None and all(a is None for a in args[:k]):
            from .workbook import read_named_inputs

            book = caller.sheet.book
            try:
                args[:k] = read_named_inputs(book, names)
                for j in optional:
                    name = OPTIONAL_WORKBOOK_INPUTS[params[j].name]
                    if args[j] is None and any(n.name == name for n in book.names):
                        args[j] = read_named_inputs(book, (name,))[0]
            except AlvhError as exc:
                return error_text(exc)
        key = (plain.__name__, tuple(freeze(a) for a in args))
        return RESULTS.get_or_compute(key, lambda: plain(*args))

    extra = [inspect.Parameter("caller", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                               default=None)] if CLASSIC else []
    _signature(fn, [*params, *extra])
    return fn


@functools.cache
def office_js_cells() -> type:
    """The return converter for xlwings Server/Lite: our cells → what Office.js accepts (a
    subclass of xlwings' Converter, built when first needed so that importing this module
    does not import xlwings)."""
    import xlwings as xw

    class OfficeJsCells(xw.conversion.Converter):
        base = xw.conversion.RawValueAccessor

        @staticmethod
        def write_value(value, options):
            return to_officejs(value, options.get("runtime"), options.get("date_format"))

    return OfficeJsCells


def script(button: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a workbook script: xlwings Lite/Server ``@script`` (optionally bound to a sheet
    button, "[shape name]Sheet!A1"); classic xlwings runs it through RunPython instead."""

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        import xlwings as xw

        if CLASSIC or button is None:
            return xw.script(f)
        return xw.script(button=button)(f)

    return deco
