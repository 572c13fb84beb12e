"""Marking the book from the files the Market table names, before it is valued.

When ``MarketTable`` has a ``ChainFile`` (Cboe chain downloads, ``;``-separated) and/or a
``CurveFile`` (CFE settlement or per-contract history CSVs, ``;``-separated), Refresh and
``alvh-xl report`` first mark the book from them:

* ChainFile → ``SpxSpot`` (the SPX chain's index level) and the body of ``ForwardsTable``
  (parity forward and discount of every SPX series), and — only when ``MarkPrices`` is TRUE —
  the Price and IV cells of each option leg with a two-sided quote that is not too wide
  (:mod:`alvh_xl.book.marks`, the same code as ``alvh-xl mark``);
* CurveFile → the body of ``CurveTable``: the VX settlements of the valuation date
  (:mod:`alvh_xl.book.cfe`, the same code as ``alvh-xl curve``).

No other cell is touched: not a leg's quantity or strike, not a Price or IV cell of a leg
the chains do not quote (those are listed), not a cell holding a formula (classic Excel).
Relative file names are taken from the workbook's folder. A chain quoted on another day
than ``ValuationDate`` is not used (a stale chain would mark the book silently wrong), nor a
curve file with no settlement that day; each such file is a problem that the headline
message carries, and Refresh alerts.

:func:`plan_marks` is pure (it reads the named files, writes nothing) and returns a
:class:`MarkPlan`; :func:`marked_inputs` gives the inputs as they read once the plan is
applied; :func:`write_marks` applies it to a live workbook (Refresh).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..book.cells import is_blank
from ..book.market import Market
from ..book.positions import Positions
from ..book.tables import header_key
from ..book.xlsx import a1, bounds
from ..errors import AlvhError

CHAIN, CURVE, FORWARDS = "ChainFile", "CurveFile", "ALVH_FORWARDS"
MAX_LISTED = 12                  # cell ranges named in the message before "… and N more"


@dataclass(frozen=True)
class CellMark:
    """One cell to change: sheet row/column (1-based), the value there and the new one."""

    sheet: str
    row: int
    col: int
    old: Any
    new: Any

    @property
    def address(self) -> str:
        return f"{self.sheet}!{a1(self.row, self.col)}"


@dataclass
class MarkPlan:
    """What marking changes: single cells, whole table bodies (name → rows under the header),
    what it found (``notes``) and what it could not use (``problems``)."""

    cells: list[CellMark] = field(default_factory=list)
    tables: dict[str, list[list[Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    locations: dict[str, tuple[str, str]] = field(default_factory=dict)
    marks: Any = None                    # the chains' Marks (book.marks), when chains were read
    positions: Any = None                # the positions the chains marked (Positions)
    moved: tuple[dt.date, dt.date] | None = None   # set_valuation: ValuationDate (from, to)

    @property
    def empty(self) -> bool:
        return not self.cells and not self.tables

    @property
    def changed(self) -> list[str]:
        """Addresses of the single cells changed (Sheet!A1)."""
        return [c.address for c in self.cells]

    def summary(self) -> str:
        """One sentence: what was marked, the cells changed (as ranges)."""
        locations = self.locations
        parts = []
        if self.cells:
            parts.append(f"{len(self.cells)} cell{'s' if len(self.cells) != 1 else ''} "
                         f"changed ({cell_ranges([c.address for c in self.cells])})")
        for name, rows in self.tables.items():
            sheet, ref = locations.get(name, ("?", "?"))
            parts.append(f"{name.removeprefix('ALVH_').title()} table {sheet}!{ref} now "
                         f"{len(rows)} row{'s' if len(rows) != 1 else ''}")
        return "Marked: " + ("; ".join(parts) if parts else "nothing changed")


def cell_ranges(addresses: list[str]) -> str:
    """'Positions!J6', 'Positions!J7', 'Positions!K6' → 'Positions!J6:J7, K6' (runs of rows
    per column, at most MAX_LISTED named)."""
    from ..book.xlsx import cell_ref

    by_col: dict[tuple[str, str], list[int]] = {}
    for address in addresses:
        sheet, _, ref = address.rpartition("!")
        r, c = cell_ref(ref)
        by_col.setdefault((sheet, ref.rstrip("0123456789")), []).append(r)
    runs, last_sheet = [], None
    for (sheet, letters), rows in by_col.items():
        rows.sort()
        start = prev = rows[0]
        for r in [*rows[1:], None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            text = f"{letters}{start}" + (f":{letters}{prev}" if prev != start else "")
            runs.append(text if sheet == last_sheet else f"{sheet}!{text}")
            last_sheet = sheet
            if r is not None:
                start = prev = r
    shown = ", ".join(runs[:MAX_LISTED])
    return shown + (f" and {len(runs) - MAX_LISTED} more" if len(runs) > MAX_LISTED else "")


@dataclass(frozen=True)
class MarkOptions:
    """How to mark, when not from the Market table (``alvh-xl mark``): these chain / curve
    files instead of ChainFile / CurveFile, Price/IV marked or not, the chains' quote time,
    the widest vol markets trusted (vol points), and whether a chain of another day than
    ValuationDate moves ValuationDate/ValuationTime to its quote time instead of being
    refused."""

    chain_paths: tuple[str, ...] | None = None
    curve_paths: tuple[str, ...] | None = None
    mark_prices: bool | None = None
    quote_time: dt.datetime | None = None
    max_width: float | None = None
    max_width_vix: float | None = None
    set_valuation: bool = False
    chain_label: str = CHAIN                 # how problems name the chains: cell or option
    other_day_hint: str = "mark from a chain of the valuation date"


def plan_marks(inputs: Any, folder: Path | None, options: MarkOptions = MarkOptions()
               ) -> MarkPlan | None:
    """The marks the Market table (or ``options``) asks for; None when there is nothing to
    mark from.

    ``inputs``: :class:`~alvh_xl.xl.workbook.WorkbookInputs`; ``folder``: where relative file
    names are looked up (None: only absolute names can be read, e.g. xlwings Lite)."""
    market = inputs.parsed.get("ALVH_MARKET")
    if not isinstance(market, Market):
        return None
    chains = options.chain_paths if options.chain_paths is not None else market.chain_files
    curves = options.curve_paths if options.curve_paths is not None else market.curve_files
    if not (chains or curves):
        return None
    plan = MarkPlan()
    if chains:
        _plan_chains(plan, inputs, market, folder, chains, options)
    if curves:
        _plan_curve(plan, inputs, market, folder, curves)
    return plan


def _path(name: str, what: str, folder: Path | None, plan: MarkPlan) -> Path | None:
    from ..fileio import input_file

    p = Path(name).expanduser()
    if not p.is_absolute():
        if folder is None:
            plan.problems.append(f"{what} {name}: a relative name needs the workbook's folder, "
                                 "which this runtime does not have; give the full path")
            return None
        p = folder / p
    try:
        return input_file(p, what)
    except AlvhError as exc:
        plan.problems.append(str(exc))
        return None


def _plan_chains(plan: MarkPlan, inputs: Any, market: Market, folder: Path | None,
                 names: tuple[str, ...], options: MarkOptions) -> None:
    from ..book.cboe import read_cboe_chain
    from ..book.marks import DEFAULT_MAX_WIDTH, DEFAULT_MAX_WIDTH_VIX, mark_positions
    from ..book.quote_time import NEW_YORK
    from ..errors import MissingInputError

    day = market.valuation.date()
    label = options.chain_label
    chains = []
    for name in names:
        path = _path(name, label, folder, plan)
        if path is None:
            continue
        try:
            try:
                chain = read_cboe_chain(path, quote_time=options.quote_time)
            except MissingInputError:            # no 'Date:' line: quoted at valuation time
                if options.set_valuation:
                    raise
                chain = read_cboe_chain(path, quote_time=market.valuation)
                plan.notes.append(f"{label} {path.name} does not say when it was quoted; "
                                  "taken as the valuation time "
                                  f"{market.valuation:%Y-%m-%d %H:%M}")
        except AlvhError as exc:
            text = str(exc)                      # the reader's message names the file
            plan.problems.append(f"{label}: {text}" if path.name in text
                                 else f"{label} {path.name}: {text}")
            continue
        quoted = chain.quote_time.astimezone(NEW_YORK).date()
        if quoted != day and not options.set_valuation:
            plan.problems.append(f"{label} {path.name} was quoted on {quoted.isoformat()}, the "
                                 f"valuation date is {day.isoformat()}: not used "
                                 f"({options.other_day_hint})")
            continue
        chains.append(chain)
        plan.notes.extend(chain.notes)
    if not chains:
        return
    if options.set_valuation:
        _plan_valuation(plan, inputs, market, max(c.quote_time for c in chains))
    positions = _positions_to_mark(inputs)
    if not isinstance(positions, Positions):
        plan.problems.append(f"{label}: the positions table did not read, so no leg was marked")
        positions = Positions(pd.DataFrame({"cp": []}))
    plan.positions = positions
    try:
        marks = mark_positions(
            positions, chains,
            max_width=options.max_width if options.max_width is not None else DEFAULT_MAX_WIDTH,
            max_width_vix=(options.max_width_vix if options.max_width_vix is not None
                           else DEFAULT_MAX_WIDTH_VIX))
    except AlvhError as exc:
        plan.problems.append(f"{label}: {exc}")
        return
    plan.marks = marks
    plan.notes.extend(marks.notes)
    if math.isfinite(marks.spot):
        cell = _market_value_cell(inputs, "spxspot")
        if cell is None:
            plan.problems.append(f"MarketTable has no SpxSpot row; SpxSpot {marks.spot:g} from "
                                 "the chain not written")
        else:
            _change(plan, cell, marks.spot)
    if not marks.forwards.empty:
        if FORWARDS not in inputs.raw:
            plan.notes.append("the workbook has no ForwardsTable: the chain's SPX forwards "
                              "were not written (SPX legs stay on spot)")
        else:
            plan.tables[FORWARDS] = [[e, float(f), float(d)] for e, f, d in zip(
                marks.forwards["expiry"], marks.forwards["forward"], marks.forwards["discount"],
                strict=True)]
    for row, reason in marks.unquoted:
        plan.notes.append(f"not marked: Positions row {row}: {reason}")
    for row, reason in marks.too_wide:
        plan.notes.append(f"not marked (market too wide): Positions row {row}: {reason}")
    mark_prices = market.mark_prices if options.mark_prices is None else options.mark_prices
    if not mark_prices:
        if not marks.legs.empty:
            plan.notes.append(f"MarkPrices is FALSE: the Price/IV cells of {len(marks.legs)} "
                              "quoted legs were left as typed")
        return
    columns = _table_columns(inputs, "ALVH_POSITIONS")
    sheet = inputs.locations["ALVH_POSITIONS"][0]
    raw = inputs.raw["ALVH_POSITIONS"]
    top = bounds(inputs.locations["ALVH_POSITIONS"][1])[0]
    for field_name, header in (("price", "price"), ("iv", "iv")):
        col = columns.get(header)
        if col is None:
            plan.problems.append(f"PositionsTable has no {'IV' if header == 'iv' else 'Price'} "
                                 "column to write the marks into")
            continue
        j = col - bounds(inputs.locations["ALVH_POSITIONS"][1])[1]
        for row, value in zip(marks.legs["row"], marks.legs[field_name], strict=True):
            old = raw[int(row) - top][j]
            _change(plan, CellMark(sheet, int(row), col, old, float(value)), float(value))


def _positions_to_mark(inputs: Any) -> Any:
    """The positions as marking reads them: an option leg whose IV and Price are both blank
    (as imported from a broker file without marks) is kept, since the marks fill them."""
    from ..book.positions import parse_positions

    parsed = inputs.parsed.get("ALVH_POSITIONS")
    if not isinstance(parsed, Positions):
        return parsed
    top = bounds(inputs.locations["ALVH_POSITIONS"][1])[0]
    return parse_positions(inputs.raw["ALVH_POSITIONS"], first_row=top, require_price=False)


def _plan_valuation(plan: MarkPlan, inputs: Any, market: Market, when: dt.datetime) -> None:
    """ValuationDate / ValuationTime set to ``when`` (New York) when they differ from it."""
    from ..book.quote_time import NEW_YORK

    local = when.astimezone(NEW_YORK)
    for key, value in (("valuationdate", dt.datetime.combine(local.date(), dt.time())),
                       ("valuationtime", dt.time(local.hour, local.minute))):
        cell = _market_value_cell(inputs, key)
        if cell is None:
            plan.problems.append(f"MarketTable has no {key.replace('valuation', 'Valuation')} "
                                 "row to set")
        elif not _same_moment(cell.old, value):
            plan.cells.append(replace(cell, new=value))
    plan.notes.append(f"valuation set to the chains' quote time {local:%Y-%m-%d %H:%M} "
                      f"New York (was {market.valuation:%Y-%m-%d %H:%M})")
    if local.date() != market.valuation.date():
        plan.moved = (market.valuation.date(), local.date())


def _same_moment(old: Any, new: dt.datetime | dt.time) -> bool:
    """A date cell on the same day / a time cell at the same minute (a time read back from a
    file may come as a date-time on Excel's day 0)."""
    if isinstance(new, dt.datetime):
        return isinstance(old, dt.date) and old.isoformat()[:10] == new.date().isoformat()
    if isinstance(old, dt.datetime):
        old = old.time()
    return isinstance(old, dt.time) and (old.hour, old.minute) == (new.hour, new.minute)


def _plan_curve(plan: MarkPlan, inputs: Any, market: Market, folder: Path | None,
                names: tuple[str, ...]) -> None:
    from ..book.cfe import read_cfe_curve

    paths = [p for p in (_path(n, CURVE, folder, plan) for n in names) if p]
    if not paths:
        return
    day = market.valuation.date()
    try:
        curve = read_cfe_curve(paths, day)
    except AlvhError as exc:
        plan.problems.append(f"{CURVE}: {exc}")
        return
    plan.notes.extend(f"{CURVE}: {n}" for n in curve.notes)
    plan.notes.extend(f"{CURVE} left out: {item}" for item in curve.left_out)
    if curve.points.empty:
        plan.problems.append(f"{CURVE}: no VX future settled on {day.isoformat()} in "
                             f"{', '.join(p.name for p in paths)}; the curve was not changed")
        return
    plan.tables["ALVH_CURVE"] = [[e, float(p)] for e, p in zip(
        curve.points["expiry"], curve.points["price"], strict=True)]


def _table_columns(inputs: Any, name: str) -> dict[str, int]:
    """Header key → sheet column of an input table."""
    header = inputs.raw[name][0] if inputs.raw.get(name) else []
    first_col = bounds(inputs.locations[name][1])[1]
    return {header_key(h): first_col + j for j, h in enumerate(header) if not is_blank(h)}


def _market_value_cell(inputs: Any, key: str) -> CellMark | None:
    raw = inputs.raw.get("ALVH_MARKET") or []
    if not raw:
        return None
    cols = _table_columns(inputs, "ALVH_MARKET")
    if "field" not in cols or "value" not in cols:
        return None
    r0, c0, _, _ = bounds(inputs.locations["ALVH_MARKET"][1])
    f, v = cols["field"] - c0, cols["value"] - c0
    for i, row in enumerate(raw[1:], start=1):
        if isinstance(row[f], str) and header_key(row[f]) == key:
            return CellMark(inputs.locations["ALVH_MARKET"][0], r0 + i, cols["value"], row[v],
                            None)
    return None


def _change(plan: MarkPlan, cell: CellMark, value: float) -> None:
    if isinstance(cell.old, (int, float)) and not isinstance(cell.old, bool) and \
            float(cell.old) == value:
        return                                   # already this value: not a change
    plan.cells.append(replace(cell, new=value))


def marked_inputs(inputs: Any, plan: MarkPlan, layout: Any) -> Any:
    """The inputs as the workbook reads once ``plan`` is written: changed tables re-parsed
    (their stray-cell problems kept)."""
    from .workbook import reparse

    raw = {k: [list(r) for r in v] for k, v in inputs.raw.items()}
    touched = set()
    for c in plan.cells:
        name = next(n for n, (sheet, ref) in inputs.locations.items()
                    if sheet == c.sheet and _inside(ref, c.row, c.col))
        r0, c0, _, _ = bounds(inputs.locations[name][1])
        raw[name][c.row - r0][c.col - c0] = c.new
        touched.add(name)
    for name, rows in plan.tables.items():
        header = raw[name][0]
        keys = [header_key(h) for h in header]
        width = len(header)
        body = []
        for row in rows:
            out = [None] * width
            for h, v in zip(_table_headers(name), row, strict=True):
                if header_key(h) in keys:
                    out[keys.index(header_key(h))] = v
            body.append(out)
        old = len(raw[name]) - 1
        raw[name] = [header, *body, *([[None] * width] * max(old - len(body), 0))]
        touched.add(name)
    return reparse(inputs, raw, touched, layout)


def _table_headers(name: str) -> tuple[str, ...]:
    return {"ALVH_CURVE": ("Expiry", "Price"),
            FORWARDS: ("Expiry", "Forward", "Discount")}[name]


def _inside(ref: str, row: int, col: int) -> bool:
    r0, c0, r1, c1 = bounds(ref)
    return r0 <= row <= r1 and c0 <= col <= c1


def mark_inputs(inputs: Any, folder: Path | None, layout: Any, io: Any = None,
                options: MarkOptions = MarkOptions()) -> Any:
    """Mark the book from its ChainFile / CurveFile, the one path of Refresh and the report.

    With ``io`` (Refresh) the changed cells and tables are written into the workbook and the
    inputs read back from it; without (the report, whose source is read-only) they are the
    inputs as they read once marked. The result's ``marks`` holds the plan and the problems
    (files not used, cells not written); the inputs are returned unchanged when the Market
    table names no file."""
    from .workbook import read_inputs

    plan = plan_marks(inputs, folder, options)
    if plan is None:
        return inputs
    marked = marked_inputs(inputs, plan, layout) if not plan.empty else inputs
    if io is not None and not plan.empty:
        plan.problems += write_marks(io, inputs, plan, marked)   # drops what it did not write
        # classic Excel and files read back what was written; xlwings' remote engine only
        # queues the writes, so there the inputs are the marked ones computed here
        marked = read_inputs(io, layout) if getattr(io, "reads_back_writes", True) else \
            marked_inputs(inputs, plan, layout)
    plan.locations = dict(inputs.locations)
    marked.marks = plan
    return marked


def write_marks(io: Any, inputs: Any, plan: MarkPlan, marked: Any) -> list[str]:
    """Write ``plan`` into a live workbook: each changed cell alone, each table body (the
    table resized when it must grow). Returns problems (a table that would grow over a filled
    cell, a cell holding a formula) — what they name is not written, and is taken out of
    ``plan``."""
    problems = []
    formula_at = getattr(io, "formula_at", None)
    written = []
    for c in plan.cells:
        formula = formula_at(c.sheet, a1(c.row, c.col)) if formula_at else None
        if formula:
            problems.append(f"{c.address} holds a formula ({formula[:30]}); not overwritten")
            continue
        io.write(c.sheet, a1(c.row, c.col), [[c.new]])
        written.append(c)
    plan.cells = written
    for name, rows in list(plan.tables.items()):
        sheet, ref = inputs.locations[name]
        r0, c0, r1, c1 = bounds(ref)
        body = marked.raw[name][1:]
        need = r0 + max(len(rows), 1)
        if need > r1:
            below = io.read_block(sheet, a1(r1 + 1, c0), need - r1, c1 - c0 + 1)
            filled = [(r1 + 1 + i, c0 + j) for i, row in enumerate(below)
                      for j, v in enumerate(row) if not is_blank(v)]
            if filled:
                problems.append(f"{name.removeprefix('ALVH_').title()}Table would grow over "
                                f"{sheet}!{a1(*filled[0])}; not written")
                del plan.tables[name]
                continue
            io.resize_table(name, f"{a1(r0, c0)}:{a1(need, c1)}")
        io.write(sheet, a1(r0 + 1, c0), body[:max(need, r1) - r0],
                 clear=(max(need, r1) - r0, c1 - c0 + 1))
    return problems
