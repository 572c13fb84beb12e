"""`alvh-xl mark WORKBOOK --chain FILE … --out COPY`: mark a book from Cboe chain downloads.

Writes, in a copy of the workbook (never the workbook read): SpxSpot (the Value cell of the
``SpxSpot`` row of ``MarketTable``), the body of ``ForwardsTable`` (Expiry | Forward |
Discount of every SPX series), and the Price and IV cells of each option leg of
``PositionsTable`` that has a two-sided quote no wider than ``--max-width`` vol points. No other
cell is touched — except ValuationDate/ValuationTime with ``--set-valuation``. Prints the
cells changed, the legs with no quote (and why), the legs whose market is too wide, and notes.

The same code as Refresh's marks (:mod:`alvh_xl.xl.marking`): a chain quoted on another day
than the workbook's ValuationDate is refused (nothing is written, exit 1) unless
``--set-valuation`` moves the valuation to the chains' quote time. See
:mod:`alvh_xl.book.marks` for the conventions.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from ..book.marks import DEFAULT_MAX_WIDTH, DEFAULT_MAX_WIDTH_VIX
from ..book.quote_time import parse_user_quote_time
from ..book.xlsx import a1


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
    parser.add_argument("--set-valuation", action="store_true",
                        help="set ValuationDate/ValuationTime to the chains' quote time "
                             "(otherwise a chain of another day than ValuationDate is "
                             "refused)")


def run(args: argparse.Namespace) -> int:
    _check_paths(args)
    from ..tools.xlsxedit import edit_copy
    from ..xl.layout import INPUT_BY_NAME, LAYOUT
    from ..xl.marking import MarkOptions, plan_marks
    from ..xl.workbook import open_workbook, read_inputs

    inputs = read_inputs(open_workbook(args.workbook), LAYOUT)
    inputs.get("ALVH_MARKET")                   # a market table that does not read: its error
    options = MarkOptions(
        chain_paths=tuple(str(Path(f).resolve()) for f in args.chain), curve_paths=(),
        mark_prices=True, max_width=args.max_width, max_width_vix=args.max_width_vix,
        quote_time=parse_user_quote_time(args.quote_time) if args.quote_time else None,
        set_valuation=args.set_valuation, chain_label="--chain",
        other_day_hint="mark from a chain of the valuation date, or pass --set-valuation to "
                       "value the book at the chain's quote time")
    plan = plan_marks(inputs, None, options)
    if plan.problems:
        for problem in plan.problems:
            print(f"alvh-xl mark: {problem}", file=sys.stderr)
        print(f"alvh-xl mark: nothing written ({len(plan.problems)} problem"
              f"{'s' if len(plan.problems) != 1 else ''})", file=sys.stderr)
        return 1
    cells = {(c.sheet, a1(c.row, c.col)): c.new for c in plan.cells}
    tables = {INPUT_BY_NAME[name].excel_table: [list(INPUT_BY_NAME[name].headers), *rows]
              for name, rows in plan.tables.items()}
    changed = edit_copy(args.workbook, args.out, tables=tables or None, cells=cells or None)
    _print(args.out, changed, plan)
    return 0


def _check_paths(args: argparse.Namespace) -> None:
    """PathError (exit 2) for a workbook or chain that cannot be read, or a copy that cannot
    be written (or would overwrite an input)."""
    from ..fileio import input_file, input_workbook, output_file

    src = input_workbook(args.workbook)
    chains = [input_file(f, "chain file") for f in args.chain]
    output_file(args.out, what="copy", not_same_as=[src, *chains])


def _print(out: str, changed: list[str], plan: Any) -> None:
    from ..xl.marking import cell_ranges

    print(f"wrote {out}: {len(changed)} cells changed")
    if changed:
        print("changed: " + cell_ranges(changed))
    marks = plan.marks
    if marks is not None and math.isfinite(marks.spot):
        print(f"SpxSpot {marks.spot:g}")
    for f in (marks.forwards.itertuples(index=False) if marks is not None else ()):
        print(f"forward {f.expiry.isoformat()} {f.root} ({f.settlement}): F {f.forward:.4f}, "
              f"D {f.discount:.6f}")
    for leg in (marks.legs.itertuples(index=False) if marks is not None else ()):
        print(f"row {leg.row}: {leg.instrument} {leg.expiry.isoformat()} {leg.strike:g} "
              f"{leg.type} ({leg.symbol}) Price {leg.price:g}, IV {leg.iv:.4f} (from the "
              f"{leg.iv_from} on forward {leg.forward:.4f}), width {leg.width:.2f} vol pts")
    if marks is not None:
        for title, items in (("no quote", marks.unquoted), ("too wide to trust",
                                                             marks.too_wide)):
            print(f"{title}: {len(items)} leg{'s' if len(items) != 1 else ''}")
            for row, reason in items:
                print(f"  row {row}: {reason}")
    for p in getattr(plan.positions, "left_out", []):
        print(f"not marked (the positions reader left the row out): {p}")
    for note in plan.notes:
        if not note.startswith("not marked"):        # listed above
            print(f"note: {note}")
    if plan.moved is not None:
        old, new = (d.isoformat() for d in plan.moved)
        print(f"note: CurveTable, VixSpot, Vvix, Rate, DivYield and the ETP prices still hold "
              f"what was typed for {old}; update them for {new} (the curve: alvh-xl curve "
              f"--date {new} FILE --into {out} --out …)")
