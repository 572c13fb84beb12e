"""One pipeline for the report and Refresh: read once, value once, render many ways.

``build_dashboard(inputs)`` values the book once and computes, from that one valuation, every
output block of the layout (by calling the very ALVH_* functions a worksheet formula calls,
which find the parsed inputs and the valuation here instead of redoing them), the engine tables
(terminal, JSON, charts) and the portfolio headline. The terminal, the JSON, the filled
workbook and the headline cells all render this one ``Dashboard``, so they cannot disagree.

A block whose inputs are absent (an optional sheet deleted) is skipped with a note; a block
that fails makes the headline INCOMPLETE, as does any input row left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..book import Positions
from ..errors import AlvhError, InputError
from ..risk.dashboard import EngineTables, clean, engine_json, engine_tables
from ..risk.status import Headline, headline
from ..risk.valuation import BookValuation, value_book
from .cells import error_text, pipeline
from .functions import FUNCTIONS
from .layout import LAYOUT, Layout, Name, Output
from .workbook import TABLE_WORD, WorkbookInputs, output_args

BOOK = ("ALVH_POSITIONS", "ALVH_MARKET", "ALVH_CURVE")
FORWARDS = "ALVH_FORWARDS"     # optional: every book function takes it as its last argument
# The part of the dashboard a block belongs to (its name in the headline's failures).
BLOCK_PART = {"hedges": "hedges", "scenarios": "scenarios", "macd": "signals",
              "rsi": "signals", "regime": "signals", "layers": "thresholds"}


@dataclass
class Context:
    """What the ALVH functions find while the pipeline evaluates its blocks: the parsed
    inputs and the valuation, by the identity of the raw cell lists it hands them."""

    inputs: WorkbookInputs
    val: BookValuation | None
    book_error: InputError | None = None
    headline: Headline | None = None

    def owns(self, positions: Any, market: Any, curve: Any, forwards: Any = None) -> bool:
        raw = self.inputs.raw
        return forwards is raw.get(FORWARDS) and all(
            a is not None and a is raw.get(n)
            for a, n in zip((positions, market, curve), BOOK, strict=True))

    def valuation_for(self, positions: Any, market: Any, curve: Any,
                      forwards: Any = None) -> BookValuation | None:
        if not self.owns(positions, market, curve, forwards):
            return None
        if self.val is None:
            raise self.book_error or InputError("the book could not be valued")
        return self.val

    def parsed_for(self, values: Any) -> tuple[bool, Any]:
        for name, raw in self.inputs.raw.items():
            if raw is values and name in self.inputs.parsed:
                return True, self.inputs.parsed[name]
        return False, None


@dataclass
class Dashboard:
    """Everything one run computed: blocks (output key → 2-D cells, None when skipped), the
    engine tables (None when the book was not valued), the headline and notes."""

    inputs: WorkbookInputs
    val: BookValuation | None
    engine: EngineTables | None
    blocks: dict[str, list[list[Any]] | None]
    headline: Headline
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    layout: Layout = field(default_factory=lambda: LAYOUT)

    @property
    def failed_blocks(self) -> dict[str, str]:
        """Output key → its '#ALVH!' text, for blocks that show an error."""
        return {k: c[0][0] for k, c in self.blocks.items() if c and _is_error(c)}


def build_dashboard(inputs: WorkbookInputs, layout: Layout = LAYOUT) -> Dashboard:
    """Value the book once; compute every block, the engine tables and the headline."""
    val, book_error = _value(inputs)
    failed = _table_failures(inputs)
    notes = list(inputs.notes)
    if inputs.marks is not None:
        notes[:0] = [*inputs.marks.problems, inputs.marks.summary(), *inputs.marks.notes]
    engine = None
    if val is not None:
        try:
            engine = engine_tables(val, inputs.thresholds, inputs.hedges, inputs.scenarios,
                                   inputs.raw.get("ALVH_VIXFUT_SERIES"),
                                   inputs.raw.get("ALVH_VVIX_SERIES"))
        except AlvhError:        # e.g. signals series that do not compute: failures below
            engine = engine_tables(val, inputs.thresholds, inputs.hedges, inputs.scenarios)
    ctx = Context(inputs, val, book_error)
    blocks: dict[str, list[list[Any]] | None] = {}
    skipped: dict[str, str] = {}
    status_blocks = [o for o in layout.outputs if o.function == "ALVH_STATUS"]
    with pipeline(ctx):
        for out in layout.outputs:
            if out.function == "ALVH_STATUS":
                continue
            blocks[out.key] = _evaluate(out, inputs, notes, skipped)
        for key, cells in blocks.items():
            if cells and _is_error(cells) and not _incomplete_error(cells):
                part = BLOCK_PART.get(key, key)
                reason = cells[0][0].removeprefix("#ALVH!").strip()
                explained = any(reason.startswith(why[:60]) for why in failed.values())
                if part not in failed and not explained and val is not None:
                    failed[part] = reason
        head = _headline(val, inputs, failed, book_error)
        ctx.headline = head
        for out in status_blocks:
            blocks[out.key] = _evaluate(out, inputs, notes, skipped)
    return Dashboard(inputs, val, engine, blocks, head, notes, skipped, layout)


def _value(inputs: WorkbookInputs) -> tuple[BookValuation | None, InputError | None]:
    for name in (*BOOK, FORWARDS):
        err = inputs.parsed.get(name)
        if isinstance(err, InputError):
            return None, err
    try:
        return value_book(inputs.positions, inputs.market, inputs.curve,
                          inputs.parsed.get(FORWARDS)), None
    except InputError as exc:
        return None, exc


def _table_failures(inputs: WorkbookInputs) -> dict[str, str]:
    """Optional tables that are present but do not parse (their blocks fail too)."""
    out = {}
    for name in ("ALVH_THRESHOLDS", "ALVH_HEDGES", "ALVH_SCENARIOS"):
        why = inputs.error(name)
        if why:
            out[TABLE_WORD[name].replace("candidates", "hedges")] = why
    return out


def _headline(val, inputs: WorkbookInputs, failed: dict[str, str], book_error) -> Headline:
    if val is None:
        return headline(None, failed={"book": str(book_error)})
    extra = inputs.left_out
    if extra:           # cells typed past an input table (not positions): rows left out
        val = BookValuation(val.legs, val.state, val.market, [*val.problems, *extra],
                            val.curve, val.forwards)
    return headline(val, inputs.thresholds, failed=failed)


def _evaluate(out: Output, inputs: WorkbookInputs, notes: list[str],
              skipped: dict[str, str]) -> list[list[Any]] | None:
    """Cells of one block exactly as its worksheet formula returns them; None when an input
    it needs is absent from the workbook (an optional sheet or table deleted)."""
    absent = [a for a in out.args if isinstance(a, Name) and a not in inputs.raw
              and not _optional_in(out, a)]
    if absent:
        why = f"{', '.join(absent)} not in the workbook"
        skipped[out.key] = why
        notes.append(f"{out.sheet}!{out.anchor} ({out.title or out.key}) skipped: {why}")
        return None
    return evaluate_output(out, inputs.raw)


def evaluate_output(out: Output, raw: dict[str, list[list[Any]]]) -> list[list[Any]]:
    """Cells of one block exactly as its worksheet formula returns them, from the raw cell
    values of the workbook's names (inside a pipeline run, the pipeline's parsed inputs and
    valuation are used; outside, the function parses and values them itself)."""
    try:
        result = FUNCTIONS[out.function](*output_args(out, raw))
    except AlvhError as exc:                       # defensive: functions return error text
        result = error_text(exc)
    if not isinstance(result, list):
        return [[result]]
    return [row if isinstance(row, list) else [row] for row in result]


def _optional_in(out: Output, name: Name) -> bool:
    """ALVH_STATUS takes the optional tables as optional arguments; every book function takes
    ALVH_FORWARDS as an optional one (absent: legs on spot)."""
    return (out.function == "ALVH_STATUS" and name not in BOOK) or name == FORWARDS


def _incomplete_error(cells: list[list[Any]]) -> bool:
    """A block that refuses to show a book total because rows were left out (ALVH_NETVEGA):
    already counted as left-out rows, not a part that failed."""
    return str(cells[0][0]).startswith("#ALVH! INCOMPLETE:")


def _is_error(cells: list[list[Any]]) -> bool:
    first = cells[0][0] if cells and cells[0] else None
    return isinstance(first, str) and first.startswith("#ALVH!")


def to_json(d: Dashboard) -> dict[str, Any]:
    """The `alvh-xl report --json` object: headline, engine tables, blocks, problems."""
    out: dict[str, Any] = {"headline": d.headline.as_dict()}
    if d.engine is not None:
        out.update(engine_json(d.engine))
    else:
        out.update({"valuation_date": None, "net_vega": None, "layers": [], "portfolio": None})
    problems = [*d.inputs.problems] if d.val is None else [*d.val.problems,
                                                           *d.inputs.left_out]
    out["rows_left_out"] = [{"row": p.row, "column": p.column, "reason": p.reason,
                             "table": p.table} for p in problems if p.left_out]
    out["notes"] = [{"row": p.row, "column": p.column, "reason": p.reason, "table": p.table}
                    for p in problems if not p.left_out] + [{"row": None, "column": None,
                                                            "reason": n} for n in d.notes]
    out["marks"] = None if d.inputs.marks is None else {
        "changed": d.inputs.marks.changed, "tables": {
            k: len(v) for k, v in d.inputs.marks.tables.items()},
        "problems": d.inputs.marks.problems}
    out["failed_blocks"] = d.failed_blocks
    out["blocks"] = d.blocks
    return clean(out)


def positions_of(inputs: WorkbookInputs) -> Positions | None:
    obj = inputs.parsed.get("ALVH_POSITIONS")
    return obj if isinstance(obj, Positions) else None
