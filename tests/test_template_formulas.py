"""The template evaluated by an independent spreadsheet engine (the `formulas` package).

Each ALVH_* function is registered through a thin adapter that hands it what Excel's
Office.js runtime would: ranges as 2-D lists, dates as serial numbers, times as day
fractions, whole numbers as floats, blank cells as None. The engine resolves the defined
names, evaluates every ALVH formula and every native formula (SUM, SUMIF, ABS, IF) that reads
the spilled blocks, and the results must equal the values stored in the file and the
`alvh-xl report --json` numbers.

Limitation of `formulas`: it sizes a dynamic array by the range stored in the file, so the
adapter also records each function's full returned array, compared with the stored block.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

formulas = pytest.importorskip("formulas")
sh = pytest.importorskip("schedula")

from formulas.functions import Array, wrap_ranges_func  # noqa: E402
from formulas.tokens.operand import XlError  # noqa: E402

from alvh_xl.xl import layout as L  # noqa: E402

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
ABS_TOL = 1e-7           # $ per vol point / $; same engine, different input types


def to_python(v):
    """One cell as an Excel runtime hands it to Python (EMPTY → None, numpy → float)."""
    if v is sh.EMPTY:
        return None
    if isinstance(v, np.ndarray):
        return to_python(v.item())
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (np.floating, np.integer)):
        return float(v)
    return v


def to_grid(v):
    """A range or array constant as a 2-D list; a scalar stays a scalar."""
    if isinstance(v, np.ndarray) and np.asarray(v).ndim:
        a = np.asarray(v, dtype=object)
        a = a.reshape(1, -1) if a.ndim == 1 else a
        return [[to_python(x) for x in row] for row in a]
    return to_python(v)


def to_cell(v):
    """A returned value as the spreadsheet shows it (None/NaN/NaT → empty text)."""
    if v is None or (not isinstance(v, (str, bool)) and v != v):
        return ""
    return v


RETURNED: dict[tuple, list[list]] = {}


def adapter(name: str, fn):
    def call(*args):
        grids = [to_grid(a) for a in args]
        out = fn(*grids)
        out = out if isinstance(out, list) else [[out]]
        RETURNED[(name, repr(grids))] = out
        width = max(len(r) for r in out)
        res = np.empty((len(out), width), dtype=object)
        res[:] = ""
        for i, r in enumerate(out):
            res[i, : len(r)] = [to_cell(v) for v in r]
        return res.view(Array)
    return wrap_ranges_func(call)


def names_resolved(path: Path, out: Path) -> Path:
    """A copy whose defined names refer to the ranges Excel resolves their structured
    references to (``T[#All]`` → the table's range, ``T[Col]`` → the column's data cells):
    the `formulas` engine does not read structured references."""
    import re

    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.load_workbook(path)
    tables = {t.name: (ws.title, t) for ws in wb.worksheets for t in ws.tables.values()}
    for name, defn in list(wb.defined_names.items()):
        m = re.fullmatch(r"(\w+)\[(.+)\]", defn.attr_text)
        if m is None:
            continue
        sheet, t = tables[m.group(1)]
        first, last = t.ref.split(":")
        (r1, c1), (r2, c2) = L.cell_ref(first), L.cell_ref(last)
        if m.group(2) != "#All":
            j = [c.name for c in t.tableColumns].index(m.group(2))
            r1, c1, c2 = r1 + 1, c1 + j, c1 + j
        ref = f"{L.quote_sheet(sheet)}!{L.a1(r1, c1, True)}:{L.a1(r2, c2, True)}"
        del wb.defined_names[name]
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    from alvh_xl.xl.functions import FUNCTIONS

    functions = formulas.get_functions()
    saved = {o.function: functions.get(o.function) for o in L.OUTPUTS}
    for o in L.OUTPUTS:
        functions[o.function] = adapter(o.function, FUNCTIONS[o.function])
    book = names_resolved(TEMPLATE, tmp_path_factory.mktemp("eval") / "template.xlsx")
    try:
        model = formulas.ExcelModel().loads(str(book)).finish()
        sol = model.calculate()
    finally:
        for k, v in saved.items():
            if v is None:
                functions.pop(k, None)
            else:
                functions[k] = v
    out = {}
    for key, value in sol.items():
        text = str(key)
        if "!" in text and "]" in text:
            sheet = text.split("]")[1].split("'")[0]
            out[(sheet.upper(), text.split("!")[1])] = value
    return out


@pytest.fixture(scope="module")
def stored():
    return openpyxl.load_workbook(TEMPLATE, data_only=True)


def stored_cell(v):
    if isinstance(v, dt.datetime):
        return v.date()
    return "" if v is None else v


def engine_cell(v):
    """An engine result cell as a Python value (errors stay XlError)."""
    return to_python(v)


def close(a, b) -> bool:
    if isinstance(a, dt.date) and isinstance(b, (int, float)) and not isinstance(b, bool):
        a = (dt.datetime(a.year, a.month, a.day) - EXCEL_EPOCH).days
    if isinstance(b, dt.date) and isinstance(a, (int, float)) and not isinstance(a, bool):
        b = (dt.datetime(b.year, b.month, b.day) - EXCEL_EPOCH).days
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= ABS_TOL * max(1.0, abs(a), abs(b))
    return a == b


@pytest.fixture(scope="module")
def refs():
    book = openpyxl.load_workbook(TEMPLATE)
    return {o.key: getattr(book[o.sheet][o.anchor].value, "ref", o.anchor) for o in L.OUTPUTS}


@pytest.mark.parametrize("key", [o.key for o in L.OUTPUTS])
def test_alvh_formula_evaluates_to_the_stored_block(key, solution, stored, refs):
    out = L.OUTPUT_BY_KEY[key]
    ref = refs[key]
    value = solution.get((out.sheet.upper(), ref))
    assert value is not None, f"formulas did not evaluate {out.sheet}!{ref}"
    grid = np.asarray(value.value if hasattr(value, "value") else value, dtype=object)
    grid = grid.reshape(1, -1) if grid.ndim == 1 else grid
    first, last = (ref.split(":") + [ref])[:2]
    (r0, c0), (r1, c1) = L.cell_ref(first), L.cell_ref(last)
    ws = stored[out.sheet]
    assert grid.shape == (r1 - r0 + 1, c1 - c0 + 1)
    bad = []
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            got = engine_cell(grid[i, j])
            assert not isinstance(got, XlError), f"{key}: {got} at row {i} col {j}"
            want = stored_cell(ws.cell(r0 + i, c0 + j).value)
            if not close(got, want):
                bad.append((L.a1(r0 + i, c0 + j), got, want))
    assert not bad, f"{key}: {bad[:5]}"


def test_full_returned_arrays_fit_the_stored_spill(solution, refs):
    """The engine clips/pads to the stored range; the functions' own arrays must fit it."""
    by_function = {}
    for (name, _), cells in RETURNED.items():
        by_function.setdefault(name, []).append((len(cells), max(len(r) for r in cells)))
    for out in L.OUTPUTS:
        ref = refs[out.key]
        first, last = (ref.split(":") + [ref])[:2]
        shape = (L.cell_ref(last)[0] - L.cell_ref(first)[0] + 1,
                 L.cell_ref(last)[1] - L.cell_ref(first)[1] + 1)
        assert shape in by_function[out.function], (out.key, shape, by_function[out.function])


@pytest.mark.parametrize("native", L.NATIVES, ids=[n.key for n in L.NATIVES])
def test_native_formula_evaluates_to_its_stored_value(native, solution, stored):
    value = solution[(native.sheet.upper(), native.anchor)]
    got = engine_cell(np.asarray(value.value if hasattr(value, "value") else value,
                                 dtype=object).ravel()[0])
    assert not isinstance(got, XlError), (native.key, got)
    want = stored[native.sheet][native.anchor].value
    assert close(got, want), (native.key, got, want)


def test_engine_results_equal_the_report_json(solution, refs, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(TEMPLATE),
                           "--out", str(tmp_path), "--json", "--no-charts"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)

    def grid(key_or_cell: str) -> np.ndarray:
        where = refs.get(key_or_cell, key_or_cell)
        out = L.OUTPUT_BY_KEY.get(key_or_cell)
        v = solution[((out.sheet if out else L.DASHBOARD).upper(), where)]
        g = np.asarray(v.value, dtype=object)
        return np.vectorize(to_python, otypes=[object])(g.reshape(1, -1) if g.ndim == 1 else g)

    assert grid("B4")[0, 0] == pytest.approx(data["net_vega"]["raw"], abs=1e-9)
    assert grid("D4")[0, 0] == pytest.approx(data["net_vega"]["weighted"], abs=1e-9)
    assert grid("F4")[0, 0] == pytest.approx(data["portfolio"]["tolerance"], abs=1e-9)
    assert grid("H4")[0, 0] == data["portfolio"]["flag"] == data["headline"]["text"]
    assert grid("A2")[0, 0] == data["headline"]["message"]
    layers = grid("layers")
    flag = list(layers[0]).index("Flag")
    assert [r["layer"] for r in data["layers"]] == list(layers[1:-1, 0])
    assert [r["raw_vega"] for r in data["layers"]] == pytest.approx(
        list(layers[1:-1, 1]), abs=1e-9)
    assert [r["flag"] for r in data["layers"]] == [f or None for f in layers[1:-1, flag]]
    ladder = grid("ladder")
    assert [r["shift"] for r in data["shocks"]] == list(ladder[1:, 0])
    assert [r["full_pnl"] for r in data["shocks"]] == pytest.approx(list(ladder[1:, 1]),
                                                                    abs=1e-6)
    assert [r["linear_pnl"] for r in data["shocks"]] == pytest.approx(list(ladder[1:, 2]),
                                                                      abs=1e-6)
    engine_grid = grid("grid")
    assert np.asarray(data["grid"]["pnl"], dtype=float) == pytest.approx(
        engine_grid[1:, 1:].astype(float), abs=1e-6)
