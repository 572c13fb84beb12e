"""Workbook I/O behind one small seam, and reading an ALVH workbook's inputs through it.

``WorkbookIO`` is "the current extent and values of named input X", "cells of a block at
sheet!A1", "write these values at sheet!cell". Implementations:

* ``CalamineWorkbook`` — a file read with python-calamine (fast, read-only: the report,
  ``check`` and ``snapshot``); Excel error cells, which calamine reads as "", are restored
  from the sheet XML (an error value is an error, never a blank);
* ``FileWorkbook`` — a file opened with openpyxl (read and write: Refresh on files, tests);
* ``XlwingsWorkbook`` (``xl.refresh``) — a live workbook (classic, Lite, Server).

Every input name refers to an Excel **Table** (``PositionsTable[#All]``), so rows typed under
it extend it in Excel; readers take the table's current extent. A whole-column name
(``Positions!$A:$N``) is read only to the sheet's used extent. A filled cell under or right
next to an input table but outside it is reported as a problem naming sheet!cell — never
skipped, never read as part of the table.
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
from ..book.cells import error_value, is_blank
from ..book.forwards import Forwards, parse_forwards
from ..book.rules import parse_layer_rules
from ..book.xlsx import (  # noqa: F401 (re-exported: the file side of the seam)
    CalamineWorkbook,
    TableInfo,
    _FileReader,
    _sheet_part,
    bounds,
    resolve,
)
from ..errors import InputError, MissingInputError, WorkbookError
from ..xlsx_package import guard_workbook
from .layout import LAYOUT, Layout, a1, cell_ref


class WorkbookIO(Protocol):
    """The seam: named-range reads and block writes (values only)."""

    def has_name(self, name: str) -> bool: ...

    def values(self, name: str) -> list[list[Any]]: ...

    def name_location(self, name: str) -> tuple[str, str]: ...

    def read_block(self, sheet: str, anchor: str, rows: int, cols: int) -> list[list[Any]]: ...

    def write(self, sheet: str, anchor: str, values: list[list[Any]],
              clear: tuple[int, int] = (0, 0)) -> None: ...


# ----------------------------------------------------------------------------- files


class FileWorkbook(_FileReader):
    """An .xlsx file opened with openpyxl (cached values, not formulas): a values-only copy,
    so Refresh writes every block, native cross-checks included, as values."""

    values_only = True

    def __init__(self, path: str | Path):
        import openpyxl

        self.path = Path(path)
        if not self.path.exists():
            raise WorkbookError(f"{self.path}: no such file")
        guard_workbook(self.path)
        self._load_package()
        try:
            self.book = openpyxl.load_workbook(self.path, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a non-xlsx file
            raise WorkbookError(f"{self.path.name}: not a readable .xlsx workbook "
                                f"({type(exc).__name__})") from exc

    def tables(self) -> dict[str, TableInfo]:
        out = {}
        for ws in self.book.worksheets:
            for t in ws.tables.values():
                r0, c0, r1, c1 = bounds(t.ref)
                out[t.name] = TableInfo(t.name, ws.title, r0, c0, c1, r1,
                                        tuple(str(c.name) for c in t.tableColumns))
        return out

    def used_rows(self, sheet: str) -> int:
        return self.book[sheet].max_row if sheet in self.book.sheetnames else 0

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
        """Write a block at ``anchor``; first blank the ``clear`` (rows, cols) area. Text is
        stored as text, whatever it starts with (never as a formula)."""
        ws = self.book[sheet] if sheet in self.book.sheetnames else self.book.create_sheet(sheet)
        r0, c0 = cell_ref(anchor)
        for r in range(clear[0]):
            for c in range(clear[1]):
                cell = ws.cell(r0 + r, c0 + c)
                if type(cell).__name__ != "MergedCell":
                    cell.value = None
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                cell = ws.cell(r0 + i, c0 + j)
                cell.value = v
                if isinstance(v, str):
                    cell.data_type = "s"         # '=…' stays text, not a formula

    def resize_table(self, name: str, ref: str) -> None:
        """Make the Excel Table behind input ``name`` cover ``ref`` (header row included)."""
        from .layout import INPUT_BY_NAME

        table = INPUT_BY_NAME[name].excel_table
        for ws in self.book.worksheets:
            if table in ws.tables:
                ws.tables[table].ref = ref
                if ws.tables[table].autoFilter is not None:
                    ws.tables[table].autoFilter.ref = ref
                return
        raise WorkbookError(f"no Excel Table {table} in the workbook")

    def save(self, path: str | Path) -> None:
        self.book.save(path)


def open_workbook(path: str | Path) -> CalamineWorkbook:
    """A workbook file for reading (refuses what is not an .xlsx/.xlsm package)."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise WorkbookError(f"{path}: expected an .xlsx workbook")
    return CalamineWorkbook(path)


# ----------------------------------------------------------------------------- inputs


@dataclass
class WorkbookInputs:
    """Parsed input tables of an ALVH workbook and the raw cell values they came from.

    ``parsed``: name → parsed object, or the InputError that stopped it; ``left_out``:
    problems outside the positions table that leave something out (cells typed past a
    table); ``notes``: optional parts skipped (sheet or table absent); ``stray``: per table,
    the cells typed next to it (problems), kept so a re-parse keeps them; ``marks``: the
    :class:`~alvh_xl.xl.marking.MarkPlan` applied (None when nothing was marked).
    """

    raw: dict[str, list[list[Any]]]
    parsed: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, tuple[str, str]] = field(default_factory=dict)
    left_out: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stray: dict[str, list[Problem]] = field(default_factory=dict)
    marks: Any = None

    def get(self, name: str) -> Any:
        """The parsed object of an input (None when absent); its error when it failed."""
        obj = self.parsed.get(name)
        if isinstance(obj, Exception):
            raise obj
        return obj

    def error(self, name: str) -> str:
        obj = self.parsed.get(name)
        return str(obj) if isinstance(obj, Exception) else ""

    @property
    def positions(self) -> Positions:
        return self.get("ALVH_POSITIONS")

    @property
    def market(self) -> Market:
        return self.get("ALVH_MARKET")

    @property
    def curve(self) -> Curve:
        return self.get("ALVH_CURVE")

    @property
    def forwards(self) -> Forwards | None:
        """ALVH_FORWARDS (None when the workbook has none; its error when it failed)."""
        return self.get("ALVH_FORWARDS")

    @property
    def thresholds(self) -> Thresholds | None:
        return self.parsed.get("ALVH_THRESHOLDS") if not self.error("ALVH_THRESHOLDS") \
            else None

    @property
    def hedges(self) -> Positions | None:
        return self.parsed.get("ALVH_HEDGES") if not self.error("ALVH_HEDGES") else None

    @property
    def scenarios(self) -> pd.DataFrame | None:
        return self.parsed.get("ALVH_SCENARIOS") if not self.error("ALVH_SCENARIOS") else None

    @property
    def problems(self) -> list[Problem]:
        pos = self.parsed.get("ALVH_POSITIONS")
        return [*(pos.problems if isinstance(pos, Positions) else []), *self.left_out]


_PARSERS = {
    "ALVH_POSITIONS": lambda raw, row: parse_positions(raw, first_row=row),
    "ALVH_MARKET": lambda raw, row: parse_market(raw, first_row=row),
    "ALVH_CURVE": lambda raw, row: parse_curve(raw, first_row=row),
    "ALVH_THRESHOLDS": lambda raw, row: parse_thresholds(raw, first_row=row),
    "ALVH_HEDGES": lambda raw, row: parse_candidates(raw, first_row=row),
    "ALVH_SCENARIOS": lambda raw, row: parse_scenarios(raw, first_row=row),
    "ALVH_LAYERRULES": lambda raw, row: parse_layer_rules(raw, name="LayerRulesTable",
                                                          first_row=row),
    "ALVH_FORWARDS": lambda raw, row: parse_forwards(raw, first_row=row),
}
NOT_THE_BOOK = ("ALVH_LAYERRULES",)     # inputs the valuation never reads
TABLE_WORD = {"ALVH_POSITIONS": "positions", "ALVH_MARKET": "market", "ALVH_CURVE": "curve",
              "ALVH_THRESHOLDS": "thresholds", "ALVH_HEDGES": "candidates",
              "ALVH_SCENARIOS": "scenarios", "ALVH_FORWARDS": "forwards",
              "ALVH_LAYERRULES": "layer rules"}


def read_inputs(source: WorkbookIO | str | Path, layout: Layout = LAYOUT) -> WorkbookInputs:
    """Read and parse every named input table; row numbers in problems are sheet rows.

    A required table missing makes it not an ALVH workbook (WorkbookError); an optional one
    missing is a note. A table that does not parse keeps its error (its blocks show it).
    """
    io = open_workbook(source) if isinstance(source, (str, Path)) else source
    missing = [t.name for t in layout.inputs if t.required and not io.has_name(t.name)]
    if missing:
        raise WorkbookError(f"not an ALVH workbook: missing defined name"
                            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    inputs = WorkbookInputs(raw={})
    for t in layout.inputs:
        if not io.has_name(t.name):
            inputs.notes.append(f"{t.name} is not in the workbook ({t.sheet} sheet): "
                                f"{TABLE_WORD.get(t.name, t.name)} skipped")
            continue
        try:
            sheet, ref = io.name_location(t.name)
            raw = io.values(t.name)
        except (WorkbookError, MissingInputError) as exc:
            if t.required:
                raise WorkbookError(f"{t.name} (the {t.sheet} sheet's {t.excel_table}): {exc}; "
                                    f"restore the {t.sheet} sheet from `alvh-xl template`"
                                    ) from None
            inputs.notes.append(f"{t.name}: {exc}; skipped")
            continue
        inputs.raw[t.name] = raw
        inputs.locations[t.name] = (sheet, ref)
        inputs.stray[t.name] = stray_cells(io, t.name, sheet, ref, layout)
        _parse(inputs, t.name)
    for name in layout.series:
        if io.has_name(name):
            try:
                inputs.raw[name] = io.values(name)
                inputs.locations[name] = io.name_location(name)
            except (WorkbookError, MissingInputError) as exc:
                inputs.notes.append(f"{name}: {exc}; signals skipped")
        else:
            inputs.notes.append(f"{name} is not in the workbook: signals skipped")
    return inputs


def _parse(inputs: WorkbookInputs, name: str) -> None:
    """Parse one input table from ``inputs.raw``; its stray cells join the positions'
    problems (legs left out) or ``inputs.left_out``, and so do hedge candidate rows that
    cannot be used (rows left out, like a cell typed next to the hedges table)."""
    parser = _PARSERS.get(name)
    if parser is not None:
        try:
            inputs.parsed[name] = parser(inputs.raw[name], bounds(inputs.locations[name][1])[0])
        except InputError as exc:
            inputs.parsed[name] = exc
    stray = inputs.stray.get(name, [])
    if name == "ALVH_POSITIONS" and isinstance(inputs.parsed.get(name), Positions):
        inputs.parsed[name].problems.extend(stray)
        inputs.parsed[name].problems.sort(key=lambda p: (p.row or 0))
    elif name in NOT_THE_BOOK:          # not valued: what is typed there is a note
        inputs.notes.extend(p.reason for p in stray)
        if isinstance(inputs.parsed.get(name), Exception):
            inputs.notes.append(f"{inputs.parsed[name]} (import-positions --into uses it)")
    else:
        inputs.left_out.extend(stray)
    if name == "ALVH_HEDGES" and isinstance(inputs.parsed.get(name), Positions):
        inputs.left_out.extend(p for p in inputs.parsed[name].problems if p.left_out)
        inputs.left_out.extend(_unvalued_candidates(inputs))


def _unvalued_candidates(inputs: WorkbookInputs) -> list:
    """Candidate rows that parse but cannot be valued on the workbook's market (none when
    the market or curve does not parse: the book's own failure says so)."""
    from ..risk.hedging import unvalued_candidates

    market, curve = inputs.parsed.get("ALVH_MARKET"), inputs.parsed.get("ALVH_CURVE")
    forwards = inputs.parsed.get("ALVH_FORWARDS")
    if isinstance(market, Exception) or isinstance(curve, Exception) or market is None \
            or curve is None:
        return []
    try:
        return unvalued_candidates(inputs.parsed["ALVH_HEDGES"], market, curve,
                                   forwards if isinstance(forwards, Forwards) else None)
    except InputError:                     # the hedges block fails and says why
        return []


# A candidate's valuation depends on these: when one is parsed again, so are the candidates.
_CANDIDATE_INPUTS = ("ALVH_MARKET", "ALVH_CURVE", "ALVH_FORWARDS")


def reparse(inputs: WorkbookInputs, raw: dict[str, list[list[Any]]], names: set[str],
            layout: Layout = LAYOUT) -> WorkbookInputs:
    """A copy of ``inputs`` holding ``raw``, the tables ``names`` parsed again (in layout
    order; the hedge candidates too when the market they are valued on changed)."""
    if "ALVH_HEDGES" in raw and "ALVH_HEDGES" in inputs.locations and \
            any(n in names for n in _CANDIDATE_INPUTS):
        names = {*names, "ALVH_HEDGES"}
    order = [t.name for t in layout.inputs]
    names = sorted(names, key=lambda n: order.index(n) if n in order else len(order))
    out = WorkbookInputs(raw=raw, parsed=dict(inputs.parsed), locations=dict(inputs.locations),
                         left_out=[p for p in inputs.left_out
                                   if not any(p in inputs.stray.get(n, []) for n in names)
                                   and not (p.table == "candidates" and "ALVH_HEDGES" in names)],
                         notes=list(inputs.notes), stray=dict(inputs.stray))
    for name in names:
        _parse(out, name)
    return out


def read_named_inputs(book: Any, names: tuple[str, ...]) -> list[list[list[Any]]]:
    """Classic Excel, no-argument functions: the current values of these defined names."""
    from .refresh import XlwingsWorkbook

    io = XlwingsWorkbook(book)
    return [io.values(n) for n in names]


def stray_cells(io: Any, name: str, sheet: str, ref: str, layout: Layout = LAYOUT
                ) -> list[Problem]:
    """Values typed under an input table (in its columns, down to the sheet's used rows) or
    in the column right next to it, outside the table: one problem per row (naming its
    cells, sheet!A1:N1) — each such row is left out, never read silently."""
    r0, c0, r1, c1 = bounds(ref)
    used = io.used_rows(sheet) if hasattr(io, "used_rows") else r1
    below = io.read_block(sheet, a1(r1 + 1, c0), max(used - r1, 0), c1 - c0 + 2) \
        if used > r1 else []
    beside = io.read_block(sheet, a1(r0, c1 + 1), r1 - r0 + 1, 1)
    other = _occupied(io, sheet, name, layout)
    word = TABLE_WORD.get(name, name)
    rows: dict[int, list[tuple[int, Any]]] = {}
    cells = [(r1 + 1 + i, c0 + j, v) for i, row in enumerate(below) for j, v in enumerate(row)]
    cells += [(r0 + i, c1 + 1, row[0]) for i, row in enumerate(beside) if row]
    for r, c, v in cells:
        if is_blank(v) or any(a <= r <= b and x <= c <= y for a, x, b, y in other):
            continue
        if c not in (c for c, _ in rows.get(r, [])):
            rows.setdefault(r, []).append((c, v))
    out = []
    for r in sorted(rows):
        found = sorted(rows[r], key=lambda cv: cv[0])
        (first, v), last = found[0], found[-1][0]
        where = f"{sheet}!{a1(r, first)}" + (f":{a1(r, last)}" if last != first else "")
        shown = error_value(v) or (f'"{v}"' if isinstance(v, str) else
                                   (v.isoformat() if isinstance(v, (dt.date, dt.time))
                                    else f"{v:g}" if isinstance(v, float) else f"{v}"))
        what = f"holds {shown[:40]}" if len(found) == 1 else f"holds {len(found)} values"
        out.append(Problem(r, None, f"{where} {what} outside the {word} table "
                           f"({sheet}!{ref}); resize the table to include it or clear it",
                           True, word))
    return out


def _occupied(io: Any, sheet: str, name: str, layout: Layout) -> list[tuple[int, int, int, int]]:
    """Areas of a sheet that belong to something else: other tables, layout blocks, titles."""
    areas = []
    tables = io.tables() if hasattr(io, "tables") else {}
    for t in tables.values():
        if t.sheet == sheet:
            areas.append((t.header_row, t.first_col, t.last_row, t.last_col))
    for o in layout.outputs:
        if o.sheet == sheet:
            r, c = cell_ref(o.anchor)
            areas.append((r - 2, c, r + o.max_rows - 1, c + o.max_cols - 1))
    for n in layout.natives:
        if n.sheet == sheet:
            r, c = cell_ref(n.anchor)
            areas.append((r, c - 1, r, c))
    for t in layout.inputs:
        if t.sheet == sheet and t.name != name and t.title:
            r, c = cell_ref(t.anchor)
            areas.append((r - 2, c, r - 1, c + len(t.headers) - 1))
    return areas


def output_args(output, raw: dict[str, list[list[Any]]]) -> list[Any]:
    """The arguments Excel would pass to an output's function: range values or literals."""
    from .layout import Name

    args = []
    for a in output.args:
        if isinstance(a, Name):
            args.append(raw.get(a))
        else:
            args.append(a)
    return args


def stamp() -> dt.datetime:
    """Local wall-clock time of a refresh, to the second."""
    return dt.datetime.now().replace(microsecond=0)


__all__ = ["CalamineWorkbook", "FileWorkbook", "TableInfo", "WorkbookIO", "WorkbookInputs",
           "open_workbook", "read_inputs", "resolve", "stray_cells"]
