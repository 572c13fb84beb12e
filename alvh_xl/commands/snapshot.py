"""`alvh-xl snapshot WORKBOOK [--history FILE]`: value the workbook's book and append one
snapshot (per layer vega, shocks, flags; per leg price, IV and Greeks) to its history CSV."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workbook", help="ALVH workbook (.xlsx) to value")
    parser.add_argument("--history", metavar="FILE",
                        help="history CSV (default: <workbook name>_history.csv beside it)")


def run(args: argparse.Namespace) -> int:
    from ..risk.history import append_snapshot, default_history_path, read_history, snapshot
    from ..risk.valuation import value_book
    from ..xl.workbook import read_inputs

    inputs = read_inputs(args.workbook)
    val = value_book(inputs.positions, inputs.market, inputs.curve)
    snap = snapshot(val, inputs.thresholds)
    path = Path(args.history) if args.history else default_history_path(args.workbook)
    date = snap["Date"].iat[0]
    replaced = path.exists() and bool((read_history(path)["Date"] == date).any())
    history = append_snapshot(path, snap)
    levels = snap["Level"].value_counts()
    print(f"{path}: snapshot {date} {'replaced' if replaced else 'appended'} "
          f"({len(snap)} rows: {_count(levels.get('layer', 0), 'layer')}, "
          f"{_count(levels.get('leg', 0), 'leg')}); "
          f"history holds {_count(history['Date'].nunique(), 'date')}")
    left_out = [p for p in val.problems if p.left_out]
    for p in left_out:
        print(f"  left out: {p}")
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
