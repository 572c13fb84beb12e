"""`alvh-xl mark WORKBOOK --chain FILE … --out COPY`: mark a book from Cboe chain downloads.

Writes, in a copy of the workbook (never the workbook read): SpxSpot (the Value cell of the
``SpxSpot`` row of ``MarketTable``), the body of ``ForwardsTable`` (Expiry | Forward |
Discount of every SPX series), and the Price and IV cells of each option leg of
``PositionsTable`` that has a two-sided quote no wider than ``--max-width`` vol points. No other
cell is touched. Prints the cells changed, the legs with no quote (and why), the legs whose
market is too wide, and notes. See :mod:`alvh_xl.book.marks` for the conventions.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from ..book.cboe import read_cboe_chain
from ..book.marks import DEFAULT_MAX_WIDTH, DEFAULT_MAX_WIDTH_VIX, Marks, mark_positions
from ..book.positions import parse_positions
from ..book.quote_time import parse_user_quote_time
from ..book.tables import header_key
from ..errors import InputError, MissingInputError

POSITIONS_TABLE, MARKET_TABLE, FORWARDS_TABLE = "PositionsTable", "MarketTable", "ForwardsTable"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workbook", metavar="WORKBOOK", help="the ALVH workbook to mark (read "
                        "only)")
    parser.add_argument("--chain", metavar="FILE", action="append", required=True,
                        help="Cboe chain download (SPX/SPXW/XSP or VIX); repeat for several")
    parser.add_argument("--out", metavar="COPY", required=True, help="the marked copy to write")
    parser.add_argument("--max-width", type=float, default=DEFAULT_MAX_WIDTH, metavar="W",
                        help="legs whose bid/ask vol market is wider than W vol points are "
                             f"listed, not marked (default {DEFAULT_MAX_WIDTH:g}; SPX, SPXW, XSP)")
    parser.add_argument("--max-width-vix", type=float, default=DEFAULT_MAX_WIDTH_VIX,
                        metavar="W", help="the same for VIX options (vol-of-vol; default "
                        f"{DEFAULT_MAX_WIDTH_VIX:g})")
    parser.add_argument("--quote-time", metavar="'YYYY-MM-DD HH:MM'",
                        help="when the chains were quoted (New York time unless an offset is "
                             "given): needed for a chain file that does not say; replaces the "
                             "files' own times")


def run(args: argparse.Namespace) -> int:
    _check_paths(args)
    from ..tools.xlsxedit import edit_copy, read_table

    when = parse_user_quote_time(args.quote_time) if args.quote_time else None
    chains = [read_cboe_chain(Path(f), quote_time=when) for f in args.chain]
    positions_table = read_table(args.workbook, POSITIONS_TABLE)
    header_row, first_col = _origin(positions_table.ref)
    positions = parse_positions([list(positions_table.header), *positions_table.rows],
                                first_row=header_row)
    marks = mark_positions(positions, chains, max_width=args.max_width,
                           max_width_vix=args.max_width_vix)
    cells, skipped = _leg_cells(positions_table, first_col, marks)
    tables: dict[str, list[list[Any]]] = {}
    spot_cell = _spot_cell(args.workbook, read_table, marks, skipped)
    if spot_cell:
        cells[spot_cell] = marks.spot
    if marks.forwards.empty:
        skipped.append(f"{FORWARDS_TABLE}: no SPX forward in the chains given; left as it is")
    else:
        tables[FORWARDS_TABLE] = [["Expiry", "Forward", "Discount"], *(
            [e, float(f), float(d)] for e, f, d in zip(
                marks.forwards["expiry"], marks.forwards["forward"], marks.forwards["discount"],
                strict=True))]
    changed = edit_copy(args.workbook, args.out, tables=tables or None, cells=cells or None)
    for chain in chains:
        for note in chain.notes:
            print(f"note: {note}", file=sys.stderr)
    _print(args.out, changed, marks, skipped, positions)
    return 0


def _check_paths(args: argparse.Namespace) -> None:
    """PathError (exit 2) for a workbook or chain that cannot be read, or a copy that cannot
    be written (or would overwrite an input)."""
    from ..fileio import input_file, input_workbook, output_file

    src = input_workbook(args.workbook)
    chains = [input_file(f, "chain file") for f in args.chain]
    output_file(args.out, what="copy", not_same_as=[src, *chains])


def _origin(ref: str) -> tuple[int, int]:
    """Sheet row of a table's header and its first column (1-based) from 'A1:N49'."""
    from openpyxl.utils.cell import range_boundaries

    min_col, min_row, _, _ = range_boundaries(ref)
    return int(min_row), int(min_col)


def _leg_cells(table, first_col: int, marks: Marks) -> tuple[dict, list[str]]:
    from openpyxl.utils.cell import get_column_letter

    keys = [header_key(h) for h in table.header]
    cells: dict[tuple[str, str], Any] = {}
    skipped: list[str] = []
    for name, field in (("Price", "price"), ("IV", "iv")):
        if name.lower() not in keys:
            if not marks.legs.empty:
                raise MissingInputError(f"{POSITIONS_TABLE} has no {name} column to write the "
                                        "marks into")
            continue
        letter = get_column_letter(first_col + keys.index(name.lower()))
        for row, value in zip(marks.legs["row"], marks.legs[field], strict=True):
            cells[(table.sheet, f"{letter}{int(row)}")] = float(value)
    return cells, skipped


def _spot_cell(workbook: str, read_table, marks: Marks, skipped: list[str]):
    from openpyxl.utils.cell import get_column_letter

    if not math.isfinite(marks.spot):
        skipped.append(f"{MARKET_TABLE} SpxSpot: no SPX chain with an index level; left as it is")
        return None
    market = read_table(workbook, MARKET_TABLE)
    header_row, first_col = _origin(market.ref)
    keys = [header_key(h) for h in market.header]
    if "field" not in keys or "value" not in keys:
        raise MissingInputError(f"{MARKET_TABLE}: expected the columns Field and Value, got "
                                f"{', '.join(str(h) for h in market.header)}")
    f, v = keys.index("field"), keys.index("value")
    rows = [i for i, r in enumerate(market.rows) if header_key(r[f] if f < len(r) else "")
            == "spxspot"]
    if not rows:
        skipped.append(f"{MARKET_TABLE} has no SpxSpot row; SpxSpot {marks.spot:g} not written")
        return None
    if len(rows) > 1:
        raise InputError(f"{MARKET_TABLE}: SpxSpot is given twice (sheet rows "
                         f"{', '.join(str(header_row + 1 + i) for i in rows)})")
    return (market.sheet, f"{get_column_letter(first_col + v)}{header_row + 1 + rows[0]}")


def _print(out: str, changed: list[str], marks: Marks, skipped: list[str], positions) -> None:
    print(f"wrote {out}: {len(changed)} cells changed")
    if changed:
        print("changed: " + ", ".join(changed))
    if math.isfinite(marks.spot):
        print(f"SpxSpot {marks.spot:g}")
    for f in marks.forwards.itertuples(index=False):
        print(f"forward {f.expiry.isoformat()} {f.root} ({f.settlement}): F {f.forward:.4f}, "
              f"D {f.discount:.6f}")
    for leg in marks.legs.itertuples(index=False):
        print(f"row {leg.row}: {leg.instrument} {leg.expiry.isoformat()} {leg.strike:g} "
              f"{leg.type} ({leg.symbol}) Price {leg.price:g}, IV {leg.iv:.4f} (from the "
              f"{leg.iv_from} on forward {leg.forward:.4f}), width {leg.width:.2f} vol pts")
    for title, items in (("no quote", marks.unquoted), ("too wide to trust", marks.too_wide)):
        print(f"{title}: {len(items)} leg{'s' if len(items) != 1 else ''}")
        for row, reason in items:
            print(f"  row {row}: {reason}")
    for text in skipped:
        print(f"not written: {text}")
    for p in positions.left_out:
        print(f"not marked (the positions reader left the row out): {p}")
    for note in marks.notes:
        print(f"note: {note}")
