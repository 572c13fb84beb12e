"""Workbook I/O behind one small seam, and what every surface does with it.

``WorkbookIO`` is "read the values of named range X" / "write these values at sheet!cell".
``FileWorkbook`` implements it with openpyxl (headless CLI, tests); ``xl.refresh`` has the
xlwings implementation (live Excel: classic, Lite, Server). ``read_inputs`` parses the named
input tables; ``evaluate_outputs`` computes every output block of the layout by calling the
same ALVH_* functions a worksheet formula would, with the same 2-D values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ..book import (
    Curve,
    Market,
    Positions,
    Problem,
    Thresholds,
    parse_candidates,
    parse_curve,
    parse_market,
    parse_positions,
    parse_scenarios,
    parse_thresholds,
)
from ..errors import MissingInputError, WorkbookError
from .layout import INPUT_BY_NAME, LAYOUT, Layout, Name, Output, cell_ref


class WorkbookIO(Protocol):
    """The seam: named-range reads and block writes (values only)."""

    def has_name(self, name: str) -> bool: ...

    def values(self, name: str) -> list[list[Any]]: ...

    def name_location(self, name: str) -> tuple[str, str]: ...

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]: ...

    def write(self, sheet: str, anchor: str, values: list[list[Any]],
              clear: tuple[int, int] = (0, 0)) -> None: ...


class FileWorkbook:
    """An .xlsx file opened with openpyxl (cached values, not formulas): a values-only copy,
    so Refresh writes every block, native cross-checks included, as values."""

    values_only = True

    def __init__(self, path: str | Path):
        import openpyxl

        self.path = Path(path)
        if not self.path.exists():
            raise WorkbookError(f"{self.path}: no such file")
        try:
            self.book = openpyxl.load_workbook(self.path, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a non-xlsx file
            raise WorkbookError(f"{self.path.name}: not a readable .xlsx workbook "
                                f"({type(exc).__name__})") from exc

    def has_name(self, name: str) -> bool:
        return name in self.book.defined_names

    def name_location(self, name: str) -> tuple[str, str]:
        """(sheet, 'A3:N51') of a workbook-level defined name."""
        if not self.has_name(name):
            raise MissingInputError(f"the workbook has no defined name {name}")
        dests = list(self.book.defined_names[name].destinations)
        if len(dests) != 1:
            raise WorkbookError(f"defined name {name} does not refer to one range")
        sheet, ref = dests[0]
        return sheet, ref.replace("$", "")

    def values(self, name: str) -> list[list[Any]]:
        sheet, ref = self.name_location(name)
        if sheet not in self.book.sheetnames:
            raise WorkbookError(f"defined name {name} points to a missing sheet {sheet!r}")
        cells = self.book[sheet][ref]
        if not isinstance(cells, tuple):
            return [[cells.value]]
        if cells and not isinstance(cells[0], tuple):
            cells = (cells,)
        return [[c.value for c in row] for row in cells]

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]:
        """Up to ``rows`` × ``cols`` cell values from ``anchor`` (stops at the sheet end)."""
        if sheet not in self.book.sheetnames:
            return []
        ws = self.book[sheet]
        r0, c0 = cell_ref(anchor)
        last = min(ws.max_row, r0 + rows - 1)
        return [[ws.cell(r, c).value for c in range(c0, c0 + cols)] for r in range(r0, last + 1)]

    def write(self, sheet: str, anchor: str, values: list[list[Any]],
              clear: tuple[int, int] = (0, 0)) -> None:
        """Write a block at ``anchor``; first blank the ``clear`` (rows, cols) area."""
        ws = self.book[sheet] if sheet in self.book.sheetnames else self.book.create_sheet(sheet)
        r0, c0 = cell_ref(anchor)
        for r in range(clear[0]):
            for c in range(clear[1]):
                cell = ws.cell(r0 + r, c0 + c)
                if type(cell).__name__ != "MergedCell":
                    cell.value = None
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                ws.cell(r0 + i, c0 + j).value = _excel_value(v)

    def save(self, path: str | Path) -> None:
        self.book.save(path)


def _excel_value(v: Any) -> Any:
    if isinstance(v, dict) and "basicValue" in v:      # xlwings FormattedNumber
        return v["basicValue"]
    return v


@dataclass
class WorkbookInputs:
    """Parsed input tables of an ALVH workbook and the raw cell values they came from."""

    raw: dict[str, list[list[Any]]]
    positions: Positions
    market: Market
    curve: Curve
    thresholds: Thresholds | None = None
    hedges: Positions | None = None
    scenarios: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)


def read_inputs(source: WorkbookIO | str | Path, layout: Layout = LAYOUT) -> WorkbookInputs:
    """Read and parse every named input table; row numbers in problems are sheet rows."""
    io = FileWorkbook(source) if isinstance(source, (str, Path)) else source
    missing = [t.name for t in layout.inputs if t.required and not io.has_name(t.name)]
    if missing:
        raise WorkbookError(f"not an ALVH workbook: missing defined name"
                            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    raw = {t.name: io.values(t.name) for t in layout.inputs if io.has_name(t.name)}
    for name in layout.series:
        if io.has_name(name):
            raw[name] = io.values(name)

    def first_row(name: str) -> int:
        sheet, ref = io.name_location(name)
        return cell_ref(ref.split(":")[0])[0]

    positions = parse_positions(raw["ALVH_POSITIONS"], first_row=first_row("ALVH_POSITIONS"))
    inputs = WorkbookInputs(raw=raw, positions=positions, market=parse_market(raw["ALVH_MARKET"]),
                            curve=parse_curve(raw["ALVH_CURVE"]))
    if "ALVH_THRESHOLDS" in raw:
        inputs.thresholds = parse_thresholds(raw["ALVH_THRESHOLDS"])
    if "ALVH_HEDGES" in raw:
        inputs.hedges = parse_candidates(raw["ALVH_HEDGES"], first_row=first_row("ALVH_HEDGES"))
    if "ALVH_SCENARIOS" in raw:
        inputs.scenarios = parse_scenarios(raw["ALVH_SCENARIOS"])
    inputs.problems = list(positions.problems)
    return inputs


def output_args(output: Output, raw: dict[str, list[list[Any]]]) -> list[Any]:
    """The arguments Excel would pass to an output's function: range values or literals."""
    args = []
    for a in output.args:
        if isinstance(a, Name):
            if a not in raw:
                raise MissingInputError(f"{output.key}: the workbook has no defined name {a}")
            args.append(raw[a])
        else:
            args.append(a)
    return args


def evaluate_output(output: Output, raw: dict[str, list[list[Any]]]) -> list[list[Any]]:
    """Cells of one output block, exactly as the worksheet formula would return them."""
    from .. import udfs

    result = getattr(udfs, output.function)(*output_args(output, raw))
    if not isinstance(result, list):
        return [[result]]
    return [row if isinstance(row, list) else [row] for row in result]


def evaluate_outputs(raw: dict[str, list[list[Any]]],
                     layout: Layout = LAYOUT) -> dict[str, list[list[Any]]]:
    """Every output block of the layout (key → 2-D cells)."""
    return {o.key: evaluate_output(o, raw) for o in layout.outputs}


def stamp() -> dt.datetime:
    """Local wall-clock time of a refresh, to the second."""
    return dt.datetime.now().replace(microsecond=0)


__all__ = ["FileWorkbook", "WorkbookIO", "WorkbookInputs", "evaluate_output",
           "evaluate_outputs", "read_inputs", "INPUT_BY_NAME"]
