"""`python -m alvh_xl.calc.worker`: the process that runs ALVH_* functions for LibreOffice Calc.

The Calc add-in (alvh_xl.calc.component, inside LibreOffice's Python) starts this module with
the interpreter recorded when the add-in was built and talks to it over stdin/stdout with the
length-prefixed JSON messages of ``alvh_xl.calc.client``. Arguments arrive as Calc hands them
over (2-D lists of numbers, text and None; dates as serial numbers; an omitted argument as
None) and are passed on the way xlwings' Office.js runtime passes them, so every function
answers exactly as in Excel, '#ALVH! …' texts included. Results go back as plain values: dates
as serial numbers (days since 1899-12-30), NaN as an empty cell.

The list of functions is the registry's (``alvh_xl.xl.functions.FUNCTIONS``), the same plain
functions alvh_xl.udfs registers for xlwings.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from .client import read_frame, write_frame

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
PREFIX = "ALVH_"


def functions() -> dict[str, Callable[..., Any]]:
    """Every ALVH_* Excel function, by name (the one registry all surfaces share)."""
    from ..xl.functions import FUNCTIONS

    return dict(FUNCTIONS)


def call(f: Callable[..., Any], args: list[Any]) -> Any:
    """``f`` applied to Calc's argument values (results cached by value, as in Excel),
    returning plain cell values cut to the template's block of that function: Calc shows an
    array formula's result only over its stored range, so a longer result says so in its last
    row instead of being cut silently."""
    from ..xl.frames import fit_to_block
    from ..xl.registry import call as cached

    return to_cells(fit_to_block(f.__name__, cached(f.__name__, *prepare(f, args))))


def prepare(f: Callable[..., Any], args: list[Any]) -> list[Any]:
    """Calc's arguments as xlwings' Office.js runtime hands them to a function.

    An omitted argument, or a single empty cell, takes the parameter's default; every other
    argument becomes a 2-D list (a scalar is a 1×1 range, a 1-D list one row), as the
    registry's ``ndim=2`` declares.
    """
    params = list(inspect.signature(f).parameters.values())
    if len(args) > len(params):
        raise TypeError(f"{f.__name__} takes {len(params)} arguments, got {len(args)}")
    out = []
    for p, a in zip(params, list(args) + [None] * (len(params) - len(args)), strict=True):
        if _single(a) is None:
            out.append(None if p.default is inspect.Parameter.empty else p.default)
        elif not isinstance(a, (list, tuple)):
            out.append([[a]])
        elif a and all(isinstance(r, (list, tuple)) for r in a):
            out.append([list(r) for r in a])
        else:
            out.append([list(a)])
    return out


def _single(a: Any) -> Any:
    """The value of a 1×1 (or 1-element) argument; other arguments unchanged."""
    if isinstance(a, (list, tuple)) and len(a) == 1:
        a = a[0]
        if isinstance(a, (list, tuple)) and len(a) == 1:
            a = a[0]
    return a


def to_cells(result: Any) -> Any:
    """A function's result as JSON-safe cell values (a scalar, or rows of cells)."""
    if isinstance(result, (list, tuple)):
        rows = result if result and all(isinstance(r, (list, tuple)) for r in result) \
            else [result]
        return [[cell(v) for v in row] for row in rows]
    return cell(result)


def cell(v: Any) -> Any:
    """One value: float/int/str/bool, None for empty; dates and times as serial numbers."""
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else cell(v.astype("datetime64[us]").item())
    if hasattr(v, "item") and not isinstance(v, (dt.date, dt.time)):     # numpy scalars
        v = v.item()
        if isinstance(v, (str, bool)) or v is None:
            return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dt.datetime):
        if v != v:                                     # pandas NaT
            return None
        return (v.replace(tzinfo=None) - EXCEL_EPOCH) / dt.timedelta(days=1)
    if isinstance(v, dt.date):
        return float((v - EXCEL_EPOCH.date()).days)
    if isinstance(v, dt.time):
        return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
    if isinstance(v, dt.timedelta):
        return v / dt.timedelta(days=1)
    raise TypeError(f"cannot put a {type(v).__name__} in a cell: {v!r}")


def serve(inp, out, table: dict[str, Callable[..., Any]]) -> int:
    """Answer requests until the add-in closes the pipe."""
    while True:
        message = read_frame(inp)
        if message is None:
            return 0
        name = message.get("call")
        f = table.get(name)
        if f is None:
            reply = {"value": f"#ALVH! this alvh_xl ({_version()}) has no function {name}; "
                              "rebuild the add-in with `alvh-xl calc install`"}
        else:
            try:
                reply = {"value": call(f, message.get("args") or [])}
            except Exception as exc:       # a bug in alvh_xl: loud in Calc, traceback logged
                traceback.print_exc(file=sys.stderr)
                sys.stderr.flush()
                reply = {"bug": f"{name}: {type(exc).__name__}: {exc}"}
        write_frame(out, reply)


def _version() -> str:
    from .. import __version__

    return f"alvh_xl {__version__}"


def main() -> int:
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())    # stray prints go to the log
    inp = sys.stdin.buffer
    print(f"alvh_xl Calc worker: pid {os.getpid()}, {sys.executable} {sys.version.split()[0]}",
          file=sys.stderr, flush=True)
    try:
        table = functions()
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        write_frame(out, {"fatal": f"cannot import alvh_xl in {sys.executable}: "
                                   f"{type(exc).__name__}: {exc}"})
        return 1
    write_frame(out, {"ready": {"python": sys.executable, "version": _version(),
                                "functions": sorted(table)}})
    return serve(inp, out, table)


if __name__ == "__main__":
    sys.exit(main())
