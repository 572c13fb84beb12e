"""The layering of DESIGN.md, checked in fresh interpreters: the engine never imports
xlwings, the pricing core is pure numpy/scipy (no pandas, no dates), and CLI start-up stays
lazy (the `alvh-xl` parser imports no engine module)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def imported_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("module", ["alvh_xl.pricing", "alvh_xl.book", "alvh_xl.risk.valuation",
                                    "alvh_xl.risk.scenarios", "alvh_xl.risk.dashboard",
                                    "alvh_xl.risk.condor", "alvh_xl.risk.history",
                                    "alvh_xl.risk.indicators", "alvh_xl"])
def test_engine_never_imports_xlwings(module):
    mods = imported_after(f"import {module}")
    assert "xlwings" not in mods, f"{module} pulled in xlwings"


def test_pricing_core_is_pure_numpy_scipy():
    mods = imported_after("import alvh_xl.pricing")
    assert not {"pandas", "xlwings", "openpyxl", "matplotlib"} & mods


def test_excel_layer_is_where_xlwings_lives():
    assert "xlwings" in imported_after("import alvh_xl.udfs")


def test_cli_help_is_lazy():
    mods = imported_after("from alvh_xl.cli import build_parser\nbuild_parser(['--help'])")
    assert not {"xlwings", "pandas", "matplotlib", "alvh_xl.risk.valuation"} & mods


def test_no_test_module_imports_from_benchmarks():
    """Tests never depend on benchmarks/ (synthetic books live in alvh_xl.tools.synthetic)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    bench = {p.stem for p in (root / "benchmarks").glob("*.py")}
    found = []
    for path in sorted((root / "tests").glob("*.py")):
        if path.name == Path(__file__).name:          # this test names the folder itself
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Constant) and node.value == "benchmarks":
                names = ["benchmarks"]            # e.g. sys.path.insert(0, ROOT / "benchmarks")
            else:
                continue
            found += [f"{path.name}:{node.lineno} {n}" for n in names
                      if n.split(".")[0] in bench | {"benchmarks"}]
    assert not found, found


def test_report_runs_without_importing_xlwings(tmp_path):
    """`alvh-xl report` (and Calc's worker, which uses the same functions) never import
    xlwings: its import (with the matplotlib xlwings pulls in) is start-up time for nothing."""
    code = (f"from alvh_xl.cli import main\nassert main(['report', '--no-charts', '--json', "
            f"'--out', {str(tmp_path)!r}]) == 0")
    mods = imported_after(code)
    assert "xlwings" not in mods
    assert "alvh_xl.xl.pipeline" in mods                # the report did run the pipeline


def test_udfs_import_needs_no_matplotlib():
    """Excel imports alvh_xl.udfs at start-up: nothing of ours needs matplotlib there.
    (xlwings itself imports matplotlib when it is installed; blocked here, udfs still loads
    and registers every function.)"""
    code = ("sys.modules['matplotlib'] = None\nimport alvh_xl.udfs as u\n"
            "from alvh_xl.xl.functions import FUNCTIONS\n"
            "assert all(hasattr(u, n) for n in FUNCTIONS) and len(FUNCTIONS) > 15")
    mods = imported_after(code)
    assert "alvh_xl.udfs" in mods and "alvh_xl.charts" not in mods


def test_registry_reads_the_runtime_as_xlwings_does():
    code = ("import xlwings\nfrom alvh_xl.xl import registry\n"
            "assert registry.ON_SERVER == xlwings.on_server")
    imported_after(code)                                  # raises if the assertion fails
