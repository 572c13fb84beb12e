"""``alvh-xl check``: is this shared workbook a safe, usable ALVH workbook?

Checks, against the layout: the sheets and defined names exist and refer to the input
Tables, each input table has its headers, the ALVH_* formulas and the native cross-check
formulas are intact, every input row parses and values (the same reader, parsers and
valuation the report uses), nothing is typed outside an input table, and every layer has a
threshold row (naming the nearest limited layer when one is a small edit away). Every finding
names its sheet, cell/row and column; nothing is fixed or written. The report's own
values-only copy and `template --static` snapshot are recognised (their document property)
and their blocks may hold values.

Before anything is parsed, the package goes through the size guard and the shared-workbook
safety inspection (``tools.safety``): macros, links to other files, DDE, embedded objects,
connections, file hyperlinks, very hidden sheets and xlwings.conf settings that choose code
are errors.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ..book import Positions, Thresholds
from ..book.limits import nearest_layer
from ..book.tables import Problem, header_key
from ..book.xlsx import table_of
from ..conventions import PORTFOLIO
from ..errors import AlvhError, InputError
from ..xl import layout as L
from ..xl.workbook import CalamineWorkbook, _sheet_part, bounds, read_inputs
from .template import KIND_PROPERTY

VALUES_ONLY = {"report": "a values-only copy written by `alvh-xl report`",
               "static": "a values-only snapshot written by `alvh-xl template --static`"}


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
    kind: str = ""

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

    ``allow_values``: accept blocks holding values instead of formulas (a Refresh output);
    the report's own copy is recognised without it."""
    from .safety import inspect_workbook

    path = Path(path)
    unsafe = inspect_workbook(path)                   # size guard first, then the package
    io = CalamineWorkbook(path)                       # WorkbookError for unreadable files
    result = CheckResult(path, [], kind=workbook_kind(path))
    add = result.findings.append
    for f in unsafe:
        cell = f.location if f.sheet and f.location and _is_cell(f.location) else None
        add(Finding(f.sheet or f.part, None, None if cell else f.location,
                    f"unsafe to share ({f.kind}): {f.reason}", cell=cell))
    if result.kind in VALUES_ONLY:
        allow_values = True
        add(Finding(None, None, None, f"{VALUES_ONLY[result.kind]}: its blocks hold values, "
                    "not live formulas", severity="note"))
    for sheet in sorted({*(t.sheet for t in layout.inputs if t.required),
                         *(o.sheet for o in layout.outputs if o.sheet not in
                           L.OPTIONAL_SHEETS), L.CONF} - set(io.sheet_names())):
        add(Finding(sheet, None, None, "sheet is missing"))
    for sheet in sorted(set(L.OPTIONAL_SHEETS) - set(io.sheet_names())):
        add(Finding(sheet, None, None, "optional sheet is missing: its part of the dashboard "
                    "is skipped", severity="note"))
    _check_conf(io, add)
    result.names = _check_names(io, layout, add)
    result.formulas = _check_formulas(path, io, layout, add, allow_values)
    result.legs = _check_rows(io, layout, add)
    order = {s: i for i, s in enumerate(L.SHEETS)}
    result.findings.sort(key=lambda f: (f.severity != "error", order.get(f.sheet, 99),
                                        f.row or 0))
    return result


def workbook_kind(path: Path) -> str:
    """The ``ALVH.Kind`` document property ("template", "static", "report") or ''."""
    try:
        with zipfile.ZipFile(path) as z:
            if "docProps/custom.xml" not in z.namelist():
                return ""
            root = ET.fromstring(z.read("docProps/custom.xml"))
    except (zipfile.BadZipFile, ET.ParseError, OSError):
        return ""
    for prop in root:
        if prop.get("name") == KIND_PROPERTY:
            return "".join(prop.itertext()).strip()
    return ""


def _check_conf(io: CalamineWorkbook, add) -> None:
    if L.CONF not in io.sheet_names():
        return
    rows = io.read_block(L.CONF, L.CONF_ANCHOR, 50, 2)
    settings = {str(r[0]).strip(): r[1] for r in rows if r and r[0] is not None}
    for key, value in L.CONF_ROWS:
        if str(settings.get(key, "")).strip() != value:
            add(Finding(L.CONF, None, key, f"expected {key} = {value}, found "
                                           f"{settings.get(key)!r}"))


def _check_names(io: CalamineWorkbook, layout: L.Layout, add) -> int:
    """Defined names refer to their Excel Tables, with the layout's headers."""
    tables = io.tables()
    count = 0
    for t in layout.inputs:
        if not io.has_name(t.name):
            if t.required:
                add(Finding(None, None, None, f"defined name {t.name} is missing (the "
                                              "formulas and Refresh read it)"))
            continue
        count += 1
        try:
            sheet, ref = io.name_location(t.name)
        except AlvhError as exc:
            add(Finding(None, None, None, f"defined name {t.name}: {exc}"))
            continue
        text = io.name_text(t.name)
        if table_of(text, tables) is None:
            add(Finding(sheet, None, None, f"defined name {t.name} refers to {text}, a fixed "
                        f"range: rows typed under it are not read; make it {t.reference}",
                        severity="note"))
        header = io.values(t.name)[0] if io.values(t.name) else []
        aliases = column_aliases().get(t.name, {})
        have = {aliases.get(header_key(h), header_key(h)) for h in header}
        row = bounds(ref)[0]
        for h in t.headers:
            if aliases.get(header_key(h), header_key(h)) not in have and h != "Note":
                add(Finding(sheet, row, h, f"column {h} is missing from {t.name} (header row "
                                           f"{row}: {', '.join(str(x) for x in header if x)})"))
    for name in layout.series:
        if io.has_name(name):
            count += 1
        else:
            add(Finding(None, None, None, f"defined name {name} is missing: the Signals "
                        "blocks are skipped", severity="note"))
    return count


def formulas_at(path: Path, io: CalamineWorkbook, sheet: str) -> dict[str, str]:
    """A1 → formula text ('=…') of the formula cells of one sheet (read from its XML)."""
    part = _sheet_part(path, io._workbook_xml, sheet)
    if part is None:
        return {}
    with zipfile.ZipFile(path) as z:
        xml = z.read(part).decode("utf-8", "replace")
    out = {}
    for m in re.finditer(r'<c\b[^>]*\br="([A-Z]+\d+)"[^>]*>\s*<f\b[^>]*?(?:/>|>(.*?)</f>)',
                         xml, re.S):
        if m.group(2) is not None:
            out[m.group(1)] = "=" + html.unescape(m.group(2))
    return out


def _check_formulas(path: Path, io: CalamineWorkbook, layout: L.Layout, add,
                    allow_values: bool) -> int:
    checked = 0
    cells = [(o.sheet, o.anchor, o.formula, o.key, o.max_rows) for o in layout.outputs]
    cells += [(n.sheet, n.anchor, n.formula, n.label or n.key, 1) for n in layout.natives]
    found_by_sheet: dict[str, dict[str, str]] = {}
    for sheet, anchor, expected, what, rows in cells:
        if sheet not in io.sheet_names():
            continue
        checked += 1
        if sheet not in found_by_sheet:
            found_by_sheet[sheet] = formulas_at(path, io, sheet)
        found = found_by_sheet[sheet].get(anchor)
        if found is None:
            block = io.read_block(sheet, anchor, rows, 1)
            if allow_values and any(r and r[0] is not None for r in block):
                continue
            value = block[0][0] if block and block[0] else None
            state = "is empty" if value is None else f"holds a value ({_short(value)})"
            add(Finding(sheet, None, what, f"formula {expected} was removed: the cell {state}",
                        cell=anchor))
        elif normalize_formula(found) != normalize_formula(expected):
            add(Finding(sheet, None, what, f"formula changed: expected {expected}, found "
                                           f"{found}", cell=anchor))
    return checked


def _check_rows(io: CalamineWorkbook, layout: L.Layout, add) -> int:
    """Parse every table with the report's reader; list every bad row and stray cell."""
    try:
        inputs = read_inputs(io, layout)
    except AlvhError as exc:
        add(Finding(None, None, None, str(exc)))
        return 0
    positions = inputs.parsed.get("ALVH_POSITIONS")
    for name, obj in inputs.parsed.items():
        if isinstance(obj, InputError):
            sheet, ref = inputs.locations[name]
            add(_from_error(obj, sheet, ref, inputs.raw[name]))
    for p in inputs.left_out:
        name = f"ALVH_{p.table.upper()}".replace("CANDIDATES", "HEDGES")
        if _stray_cell(p.reason) or name not in inputs.locations:
            add(Finding(_sheet_of(p.reason), p.row, p.column, p.reason, _stray_cell(p.reason)))
        else:                                      # a bad row inside another input table
            sheet_, ref_ = inputs.locations[name]
            add(Finding(sheet_, p.row, p.column, p.reason, _cell(inputs.raw[name], ref_, p)))
    if not isinstance(positions, Positions):
        return 0
    sheet, ref = inputs.locations["ALVH_POSITIONS"]
    raw = inputs.raw["ALVH_POSITIONS"]
    for p in positions.problems:
        add(Finding(sheet, p.row, p.column, p.reason, _cell(raw, ref, p) or _stray_cell(
            p.reason), "error" if p.left_out else "note"))
    legs = 0
    if all(isinstance(inputs.parsed.get(n), object) and not isinstance(
            inputs.parsed.get(n), InputError) for n in ("ALVH_MARKET", "ALVH_CURVE")):
        from ..risk.valuation import value_book

        seen = set(positions.problems)
        forwards = inputs.parsed.get("ALVH_FORWARDS")       # its own error is listed above
        try:
            val = value_book(positions, inputs.market, inputs.curve,
                             None if isinstance(forwards, InputError) else forwards)
        except InputError as exc:                  # e.g. a forward 10x spot: book not valued
            where = inputs.locations.get("ALVH_FORWARDS")
            add(_from_error(exc, *where, inputs.raw["ALVH_FORWARDS"])
                if where and exc.reason.startswith("forwards") else
                Finding(None, exc.row, exc.column, exc.reason))
            return 0
        for p in val.problems:
            if p not in seen:
                name = f"ALVH_{p.table.upper()}"       # a note on another table: its cell
                at, cells = ((inputs.locations[name], inputs.raw.get(name))
                             if name in inputs.locations else ((sheet, ref), raw))
                add(Finding(at[0], p.row, p.column, p.reason, _cell(cells, at[1], p),
                            "error" if p.left_out else "note"))
        legs = len(val.legs)
        th = inputs.parsed.get("ALVH_THRESHOLDS")
        if isinstance(th, Thresholds):
            _check_limits(val, th, inputs.locations.get("ALVH_THRESHOLDS"),
                          inputs.raw.get("ALVH_THRESHOLDS"), add, (sheet, ref), raw)
    return legs


def _check_limits(val, th: Thresholds, where, raw, add, legs_at=None, legs_raw=None
                  ) -> None:
    """Each layer of the book has a threshold row, the PORTFOLIO basis is a layer of the book
    with vega; typos are named. A layer without a row is named at the Layer cell of its first
    leg (``legs_at``: the positions' (sheet, ref), ``legs_raw`` their cells)."""
    from ..risk.aggregation import basis_problem

    sheet = where[0] if where else L.THRESHOLDS
    no_basis = basis_problem(val, th)
    if no_basis:
        at = Problem(th.rows.get(PORTFOLIO.casefold()), "Basis", no_basis)
        add(Finding(sheet, at.row, at.column, no_basis,
                    _cell(raw, where[1], at) if where else None, severity="note"))
    limited = list(th.layers)
    for layer in dict.fromkeys(str(x) for x in val.legs["Layer"]):
        if th.for_layer(layer) is None:
            near = nearest_layer(layer, limited)
            hint = f"; did you mean {near!r}?" if near else ""
            rows = [int(r) for r in val.legs.loc[val.legs["Layer"] == layer, "Row"]]
            listed = ", ".join(map(str, rows[:5])) + (" …" if len(rows) > 5 else "")
            reason = (f"layer {layer!r} (leg{'s' if len(rows) > 1 else ''} in row"
                      f"{'s' if len(rows) > 1 else ''} {listed}) has no threshold row in "
                      f"{sheet}: it shows 'no limit' and is never flagged{hint}")
            first = Problem(rows[0], "Layer", reason) if rows else None
            if legs_at and first is not None:
                add(Finding(legs_at[0], first.row, "Layer", reason,
                            _cell(legs_raw, legs_at[1], first), severity="note"))
            else:
                add(Finding(sheet, None, "Layer", reason, severity="note"))


def _from_error(exc: InputError, sheet: str, ref: str, raw) -> Finding:
    """A table-level InputError (rows are sheet rows already; a Market field name becomes the
    row holding that field)."""
    row = exc.row
    if row is None and exc.column:
        header_row = bounds(ref)[0]
        for i, r in enumerate(raw):
            if r and header_key(r[0]) == header_key(exc.column):
                row = header_row + i
    return Finding(sheet, row, exc.column, exc.reason)


def _cell(raw, ref: str, p) -> str | None:
    """A1 address of a problem's cell, from its sheet row and its column header."""
    if p.row is None or not p.column or not raw:
        return None
    keys = [header_key(h) for h in raw[0]]
    if header_key(p.column) not in keys:
        return None
    first_col = bounds(ref)[1]
    return L.a1(p.row, first_col + keys.index(header_key(p.column)))


_STRAY = re.compile(r"^(.+?)!([A-Z]+\d+)(?::[A-Z]+\d+)? holds ")


def _sheet_of(reason: str) -> str | None:
    m = _STRAY.match(reason)
    return m.group(1) if m else None


def _stray_cell(reason: str) -> str | None:
    m = _STRAY.match(reason)
    return m.group(2) if m else None


def _is_cell(text: str) -> bool:
    return re.fullmatch(r"\$?[A-Z]{1,3}\$?\d+", text) is not None


def _short(v: Any) -> str:
    text = repr(v) if not isinstance(v, str) else f'"{v}"'
    return text if len(text) <= 30 else text[:27] + "..."


def column_aliases() -> dict[str, dict[str, str]]:
    """Per input name, the header spellings its reader accepts (``Mult`` for Multiplier …)."""
    from ..book.forwards import FORWARD_COLUMNS
    from ..book.limits import SCENARIO_COLUMNS, THRESHOLD_COLUMNS
    from ..book.market import CURVE_COLUMNS
    from ..book.positions import POSITION_COLUMNS
    from ..book.rules import RULE_COLUMNS

    return {"ALVH_POSITIONS": POSITION_COLUMNS, "ALVH_HEDGES": POSITION_COLUMNS,
            "ALVH_CURVE": CURVE_COLUMNS, "ALVH_FORWARDS": FORWARD_COLUMNS,
            "ALVH_LAYERRULES": RULE_COLUMNS, "ALVH_THRESHOLDS": THRESHOLD_COLUMNS,
            "ALVH_SCENARIOS": SCENARIO_COLUMNS}
