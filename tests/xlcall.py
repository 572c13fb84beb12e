"""Call an ALVH_* function through xlwings' own custom-function machinery (Office.js path)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import HAVE_XLWINGS_KEY

needs_xlwings = pytest.mark.skipif(
    not HAVE_XLWINGS_KEY,
    reason="XLWINGS_LICENSE_KEY not set (xlwings' server machinery needs its noncommercial key;"
    " .ci/run sets it)",
)


def as_range(value):
    """What Excel sends for an argument: a 2-D list (a scalar is a 1×1 range)."""
    if isinstance(value, list):
        return value if value and isinstance(value[0], list) else [[v] for v in value]
    return [[value]]


def xl_call(func_name: str, *args):
    """Run ``alvh_xl.udfs.<func_name>(*args)`` via xlwings.server.custom_functions_call."""
    import xlwings
    from xlwings.server import custom_functions_call

    import alvh_xl.udfs as udfs

    data = {
        "func_name": func_name,
        "args": [as_range(a) for a in args],
        "version": xlwings.__version__,
        "client": "Office.js",
        "runtime": "1.4",
        "culture_info_name": "en-US",
        "date_format": "M/d/yyyy",
        "caller_address": "Sheet1!A1",
    }
    return asyncio.run(custom_functions_call(data, udfs))
