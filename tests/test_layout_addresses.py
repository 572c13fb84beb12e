"""xl/layout.py is the one place that knows cell addresses (DESIGN.md: one description of the
workbook): no other module of the package writes an A1 address as a string literal."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

A1 = re.compile(r"\$?[A-Z]{1,3}\$?[1-9]\d{0,6}(:\$?[A-Z]{1,3}\$?[1-9]\d{0,6})?")
ALLOWED = {"alvh_xl/xl/layout.py"}
# Codes that look like addresses but are not cells: the Black-76 model's short name, and a
# futures contract month (/VXZ4) in a broker reader's message.
NOT_CELLS = {"B76", "Z4"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def test_no_cell_address_outside_the_layout():
    found = []
    for path in sorted((ROOT / "alvh_xl").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docs and A1.fullmatch(node.value)
                    and node.value not in NOT_CELLS):
                found.append(f"{rel}:{node.lineno}: {node.value!r}")
    assert not found, "cell addresses outside xl/layout.py:\n" + "\n".join(found)
