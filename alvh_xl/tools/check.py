"""``alvh-xl check``: is this shared workbook still a usable ALVH workbook?

Checks, against the layout: the sheets and defined names exist, each named input table
has its headers, the ALVH_* formulas and the native cross-check formulas are intact, and
every input row parses and values (the same parsers and valuation the functions use).
Before anything is parsed, the package goes through the size guard and the shared-workbook
safety inspection (``tools.safety``): macros, links to other files, DDE, embedded objects,
connections, file hyperlinks, very hidden sheets and xlwings.conf settings that choose code
are errors. Every finding names its sheet, cell/row and column; nothing is fixed or written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..book import (
    parse_candidates,
    parse_curve,
    parse_market,
    parse_positions,
    parse_scenarios,
    parse_thresholds,
)
from ..book.tables import header_key
from ..errors import AlvhError, InputError
from ..xl import layout as L
from ..xl.workbook import FileWorkbook

_PARSERS = {"ALVH_MARKET": parse_market, "ALVH_CURVE": parse_curve,
            "ALVH_THRESHOLDS": parse_thresholds, "ALVH_SCENARIOS": parse_scenarios}


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or, with ``severity='note'``, worth knowing) about the workbook."""

    sheet: str | None
    row: int | None
    column: str | None
    reason: str
    cell: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.sheet or "workbook"
        if self.cell:
            where += f"!{self.cell}"
        elif self.row is not None:
            where += f" row {self.row}"
        col = f" ({self.column})" if self.column else ""
        tag = "note: " if self.severity == "note" else ""
        return f"{where}{col}: {tag}{self.reason}"


@dataclass
class CheckResult:
    """All findings, plus what was checked (for the summary line)."""

    path: Path
    findings: list[Finding]
    names: int = 0
    formulas: int = 0
    legs: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def normalize_formula(text: Any) -> str:
    """Formula text comparable across writers: no '=', no _xlfn./_xludf. prefixes, no
    spaces outside strings, upper case outside strings."""
    if text is None:
        return ""
    s = str(getattr(text, "text", text)).strip()
    s = s[1:] if s.startswith("=") else s
    s = re.sub(r"_xl(fn|udf|ws)\.", "", s, flags=re.IGNORECASE)
    parts = re.split(r'("(?:[^"]|"")*")', s)
    return "".join(p if p.startswith('"') else re.sub(r"\s+", "", p).upper() for p in parts)


def check_workbook(path: str | Path, layout: L.Layout = L.LAYOUT, *,
                   allow_values: bool = False) -> CheckResult:
    """Every finding for the workbook at ``path`` (an empty error list means it is usable).

    ``allow_values``: accept blocks holding values instead of formulas (a Refresh/report
    output)."""
    import openpyxl

    from .safety import inspect_workbook

    path = Path(path)
    unsafe = inspect_workbook(path)                  # size guard first, then the package
    values = FileWorkbook(path)                      # WorkbookError for unreadable files
    formulas = openpyxl.load_workbook(path, data_only=False)
    result = CheckResult(path, [])
    add = result.findings.append
    for f in unsafe:
        cell = f.location if f.sheet and f.location and _is_cell(f.location) else None
        add(Finding(f.sheet or f.part, None, None if cell else f.location,
                    f"unsafe to share ({f.kind}): {f.reason}", cell=cell))
    for sheet in {*(t.sheet for t in layout.inputs), *(o.sheet for o in layout.outputs),
                  L.CONF} - set(formulas.sheetnames):
        add(Finding(sheet, None, None, "sheet is missing"))
    _check_conf(formulas, add)
    present = _check_names(values, layout, add)
    result.names = len(present)
    result.formulas = _check_formulas(formulas, layout, add, allow_values)
    result.legs = _check_rows(values, layout, present, add)
    result.findings.sort(key=lambda f: (f.severity != "error", L.SHEETS.index(f.sheet)
                                        if f.sheet in L.SHEETS else 99, f.row or 0))
    return result


def _check_conf(book, add) -> None:
    if L.CONF not in book.sheetnames:
        return
    ws = book[L.CONF]
    settings = {str(r[0]).strip(): r[1] for r in ws.iter_rows(values_only=True)
                if r and r[0] is not None}
    for key, value in L.CONF_ROWS:
        if str(settings.get(key, "")).strip() != value:
            add(Finding(L.CONF, None, key, f"expected {key} = {value}, found "
                                           f"{settings.get(key)!r}"))


def _check_names(io: FileWorkbook, layout: L.Layout, add) -> dict[str, tuple[str, str]]:
    """Defined names and table headers; returns name → (sheet, ref) of usable names."""
    present = {}
    for name in [t.name for t in layout.inputs] + list(layout.series):
        if not io.has_name(name):
            add(Finding(None, None, None, f"defined name {name} is missing (the formulas and "
                                          "Refresh read it)"))
            continue
        try:
            sheet, ref = io.name_location(name)
        except AlvhError as exc:
            add(Finding(None, None, None, str(exc)))
            continue
        if sheet not in io.book.sheetnames:
            add(Finding(sheet, None, None, f"defined name {name} points to a missing sheet"))
            continue
        present[name] = (sheet, ref)
    for t in layout.inputs:
        if t.name not in present:
            continue
        sheet, ref = present[t.name]
        header = io.values(t.name)[0] if io.values(t.name) else []
        have = {header_key(h) for h in header}
        row, col = L.cell_ref(ref.split(":")[0])
        for h in t.headers:
            if header_key(h) not in have:
                add(Finding(sheet, row, h, f"column {h} is missing from {t.name} (header row "
                                           f"{row}: {', '.join(str(x) for x in header if x)})"))
    return present


def _check_formulas(book, layout: L.Layout, add, allow_values: bool) -> int:
    checked = 0
    cells = [(o.sheet, o.anchor, o.formula, o.key, o.max_rows) for o in layout.outputs]
    cells += [(n.sheet, n.anchor, n.formula, n.label or n.key, 1) for n in layout.natives]
    for sheet, anchor, expected, what, rows in cells:
        if sheet not in book.sheetnames:
            continue
        checked += 1
        ws = book[sheet]
        value = ws[anchor].value
        found = getattr(value, "text", value)
        is_formula = isinstance(found, str) and found.startswith("=") or hasattr(value, "text")
        if not is_formula:
            r, c = L.cell_ref(anchor)
            if allow_values and any(ws.cell(r + i, c).value is not None for i in range(rows)):
                continue
            state = "is empty" if value is None else f"holds a value ({_short(value)})"
            add(Finding(sheet, None, what, f"formula {expected} was removed: the cell {state}",
                        cell=anchor))
        elif normalize_formula(found) != normalize_formula(expected):
            shown = found if str(found).startswith("=") else f"={found}"
            add(Finding(sheet, None, what, f"formula changed: expected {expected}, found "
                                           f"{shown}", cell=anchor))
    return checked


def _check_rows(io: FileWorkbook, layout: L.Layout, present, add) -> int:
    """Parse every table; positions and hedges list every bad row, the others the first."""
    parsed: dict[str, Any] = {}
    for t in layout.inputs:
        if t.name not in present:
            continue
        sheet, ref = present[t.name]
        header_row = L.cell_ref(ref.split(":")[0])[0]
        raw = io.values(t.name)
        if t.name in ("ALVH_POSITIONS", "ALVH_HEDGES"):
            try:
                parsed[t.name] = (parse_positions(raw, first_row=header_row)
                                  if t.name == "ALVH_POSITIONS"
                                  else parse_candidates(raw, first_row=header_row))
            except InputError as exc:
                add(_from_error(exc, sheet, header_row, raw))
                continue
            for p in parsed[t.name].problems:
                add(Finding(sheet, p.row, p.column, p.reason, _cell(raw, header_row, ref, p),
                            "error" if p.left_out else "note"))
            continue
        try:
            parsed[t.name] = _PARSERS[t.name](raw)
        except InputError as exc:
            add(_from_error(exc, sheet, header_row, raw))
    if {"ALVH_POSITIONS", "ALVH_MARKET", "ALVH_CURVE"} <= set(parsed):
        from ..risk.valuation import value_book

        pos = parsed["ALVH_POSITIONS"]
        seen = set(pos.problems)
        sheet, ref = present["ALVH_POSITIONS"]
        header_row = L.cell_ref(ref.split(":")[0])[0]
        raw = io.values("ALVH_POSITIONS")
        val = value_book(pos, parsed["ALVH_MARKET"], parsed["ALVH_CURVE"])
        for p in val.problems:
            if p not in seen:
                add(Finding(sheet, p.row, p.column, p.reason, _cell(raw, header_row, ref, p),
                            "error" if p.left_out else "note"))
        return len(val.legs)
    return 0


def _from_error(exc: InputError, sheet: str, header_row: int, raw) -> Finding:
    """A table-level InputError: rows counted from the header (1) become sheet rows; a
    Market field name becomes the row holding that field."""
    row = None if exc.row is None else header_row + exc.row - 1
    if row is None and exc.column:
        for i, r in enumerate(raw):
            if r and header_key(r[0]) == header_key(exc.column):
                row = header_row + i
    return Finding(sheet, row, exc.column, exc.reason)


def _cell(raw, header_row: int, ref: str, p) -> str | None:
    """A1 address of a problem's cell, from its sheet row and its column header."""
    if p.row is None or not p.column or not raw:
        return None
    keys = [header_key(h) for h in raw[0]]
    if header_key(p.column) not in keys:
        return None
    first_col = L.cell_ref(ref.split(":")[0])[1]
    return L.a1(p.row, first_col + keys.index(header_key(p.column)))


def _is_cell(text: str) -> bool:
    return re.fullmatch(r"\$?[A-Z]{1,3}\$?\d+", text) is not None


def _short(v: Any) -> str:
    text = repr(v) if not isinstance(v, str) else f'"{v}"'
    return text if len(text) <= 30 else text[:27] + "..."
