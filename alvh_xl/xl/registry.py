"""The one place that attaches xlwings metadata to ALVH_* Excel functions.

``excel(**arg_docs)`` wraps a plain function with the '#ALVH!' error boundary, declares every
argument as a 2-D range (so a row stays a row) with its Function Wizard text, and registers it
with whichever xlwings runtime is active (classic COM UDFs, xlwings Server/Lite ``@func``).

``workbook_inputs=(names…)``: when the leading range arguments are all omitted, classic
Windows xlwings reads them from the calling workbook's defined names (through xlwings' hidden
``caller`` argument; the function is then volatile so it recalculates with the sheet). Runtimes
that cannot read the workbook from a function answer with a '#ALVH!' text saying so.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import xlwings as xw

from ..errors import MissingInputError
from .cells import excel_function

MAX_DOC = 255
WORKBOOK_INPUTS = ("ALVH_POSITIONS", "ALVH_MARKET", "ALVH_CURVE")
ON_SERVER = bool(getattr(xw, "on_server", False))
CLASSIC = sys.platform.startswith("win") and not ON_SERVER


def excel(workbook_inputs: tuple[str, ...] | None = None,
          **arg_docs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for an Excel function; keyword names must match the function's parameters."""

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        if f.__doc__ and len(f.__doc__) > MAX_DOC:
            raise ValueError(f"{f.__name__}: docstring longer than {MAX_DOC} characters")
        missing = set(arg_docs) - set(inspect.signature(f).parameters)
        if missing:
            raise ValueError(f"{f.__name__}: docs for unknown parameters {sorted(missing)}")
        inner = _reading_workbook(f, workbook_inputs) if workbook_inputs else f
        wrapped = excel_function(inner)
        wrapped.__alvh_arg_docs__ = dict(arg_docs)
        for name, doc in reversed(list(arg_docs.items())):
            wrapped = xw.arg(name, ndim=2, doc=doc)(wrapped)
        if workbook_inputs and CLASSIC:
            return xw.func(volatile=True)(wrapped)
        return xw.func(wrapped)

    return deco


def _reading_workbook(f: Callable[..., Any], names: tuple[str, ...]) -> Callable[..., Any]:
    params = list(inspect.signature(f).parameters.values())
    k = len(names)
    example = f"={f.__name__}({', '.join(names)})"

    @functools.wraps(f)
    def wrapper(*args):
        caller = args[len(params)] if CLASSIC and len(args) > len(params) else None
        args = list(args[: len(params)])
        args += [p.default for p in params[len(args):]]
        if all(a is None for a in args[:k]):
            if caller is None:
                raise MissingInputError(
                    f"pass the input ranges, e.g. {example}; this Excel runtime cannot read "
                    "the workbook's names from a function")
            args[:k] = [_named_range_values(caller, n) for n in names]
        return f(*args)

    if CLASSIC:
        caller = inspect.Parameter("caller", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                   default=None)
        wrapper.__signature__ = inspect.Signature([*params, caller])
    return wrapper


def _named_range_values(caller: Any, name: str) -> Any:
    """Values of a workbook-level defined name, as a 2-D list (classic xlwings)."""
    book = caller.sheet.book
    try:
        rng = book.names[name].refers_to_range
    except Exception as exc:  # COM raises its own error types for a missing name
        raise MissingInputError(f"the workbook has no name {name}") from exc
    return rng.options(ndim=2).value


def script(button: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a workbook script: xlwings Lite/Server ``@script`` (optionally bound to a sheet
    button, "[shape name]Sheet!A1"); classic xlwings runs it through RunPython instead."""

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        if CLASSIC or button is None:
            return xw.script(f)
        return xw.script(button=button)(f)

    return deco
