"""`alvh-xl snapshot WORKBOOK [--history FILE]`: value the workbook's book (marked first from
the Market table's ChainFile / CurveFile, as the report and Refresh do) and append one
snapshot (per layer vega, shocks, flags; per leg price, IV and Greeks) to its history CSV.

Both paths are checked before anything is read (a folder, FIFO or device such as /dev/full,
a missing folder, the history = the workbook: one sentence, exit 2). The history is updated
under a lock: a second run at the same time waits for the first and says so on stderr."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workbook", help="ALVH workbook (.xlsx) to value")
    parser.add_argument("--history", metavar="FILE",
                        help="history CSV (default: <workbook name>_history.csv beside it)")


def run(args: argparse.Namespace) -> int:
    from ..fileio import input_workbook, output_file
    from ..risk.history import default_history_path, snapshot, update_history
    from ..risk.valuation import value_book
    from ..xl.layout import LAYOUT
    from ..xl.marking import mark_inputs
    from ..xl.workbook import read_inputs
    from ..xlsx_package import guard_workbook

    workbook = input_workbook(args.workbook)
    path = Path(args.history) if args.history else default_history_path(workbook)
    output_file(path, what="history", not_same_as=[workbook])
    guard_workbook(workbook)
    inputs = mark_inputs(read_inputs(workbook), workbook.resolve().parent, LAYOUT)
    val = value_book(inputs.positions, inputs.market, inputs.curve, inputs.forwards)
    past = [p for p in inputs.left_out if p.table != "candidates"]   # e.g. a curve cell
    val = replace(val, problems=[*val.problems, *past])             # counted in LeftOut
    snap = snapshot(val, inputs.thresholds)
    date = snap["Date"].iat[0]
    update = update_history(path, snap, on_wait=lambda text: print(
        f"alvh-xl snapshot: {text}", file=sys.stderr, flush=True))
    history, replaced = update.frame, update.replaced
    levels = snap["Level"].value_counts()
    print(f"{path}: snapshot {date} {'replaced' if replaced else 'appended'} "
          f"({len(snap)} rows: {_count(levels.get('layer', 0), 'layer')}, "
          f"{_count(levels.get('leg', 0), 'leg')}); "
          f"history holds {_count(history['Date'].nunique(), 'date')}")
    if inputs.marks is not None:              # ChainFile / CurveFile, as the report marks
        for problem in inputs.marks.problems:
            print(f"  not marked: {problem}")
        print(f"  {inputs.marks.summary()}")
    left_out = [p for p in val.problems if p.left_out]
    for p in left_out:
        print(f"  left out: {p}")
    if inputs.error("ALVH_THRESHOLDS"):
        print(f"  thresholds not used (layers recorded as 'no limit', the PORTFOLIO on the "
              f"default tolerance): {inputs.error('ALVH_THRESHOLDS')}")
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
