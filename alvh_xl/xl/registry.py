"""The one place that attaches xlwings metadata to ALVH_* Excel functions.

``excel(**arg_docs)`` wraps a plain function with the '#ALVH!' error boundary, declares every
argument as a 2-D range (so a row stays a row) with its Function Wizard text, and registers it
with whichever xlwings runtime is active (classic COM UDFs, xlwings Server/Lite ``@func``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xlwings as xw

from .cells import excel_function

MAX_DOC = 255


def excel(**arg_docs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for an Excel function; keyword names must match the function's parameters."""

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        if f.__doc__ and len(f.__doc__) > MAX_DOC:
            raise ValueError(f"{f.__name__}: docstring longer than {MAX_DOC} characters")
        wrapped = excel_function(f)
        for name, doc in reversed(list(arg_docs.items())):
            wrapped = xw.arg(name, ndim=2, doc=doc)(wrapped)
        return xw.func(wrapped)

    return deco


def script(f: Callable[..., Any]) -> Callable[..., Any]:
    """Register a workbook script (xlwings Lite/Server ``@script``; a no-op elsewhere)."""
    return xw.script(f)
