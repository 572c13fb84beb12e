"""`alvh-xl attribution HISTORY [--from DATE] [--to DATE] [--json]`: P&L per layer between
snapshots, split into delta, gamma, vega, theta and the unexplained rest."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

NOTE = ("Realised: P&L of legs held on both dates at the earlier quantity, in the earlier "
        "layer (Moved: legs now in another layer). Legs opened or closed in between are "
        "counted, their P&L is not included.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("history", help="history CSV written by `alvh-xl snapshot`")
    parser.add_argument("--from", dest="date_from", metavar="DATE",
                        help="first snapshot date (YYYY-MM-DD)")
    parser.add_argument("--to", dest="date_to", metavar="DATE",
                        help="last snapshot date; with --from: one pair from → to, otherwise "
                             "every consecutive pair in the range")
    parser.add_argument("--json", action="store_true", help="print JSON records instead")


def run(args: argparse.Namespace) -> int:
    from ..fileio import input_file
    from ..risk.attribution import attribute
    from ..risk.history import read_history

    table = attribute(read_history(input_file(args.history, "history")), args.date_from,
                      args.date_to)
    if args.json:
        print(table.to_json(orient="records", double_precision=10))
        return 0
    from rich.console import Console

    console = Console()
    if not console.is_terminal:                 # piped or captured: do not squeeze to 80
        console = Console(width=160)
    print_attribution(table, console)
    return 0


def print_attribution(table: pd.DataFrame, console: Console) -> None:
    """One table per pair of dates ($), split into parts that repeat the Layer column when
    wider than the console, so every number is printed whole."""
    from ..terminal import split_tables

    money = ("Realised", "Delta", "Gamma", "Vega", "VolOfVol", "Theta", "Unexplained")
    counts = ("Legs", "NewLegs", "ClosedLegs", "Resized", "Moved")
    for (start, end), part in table.groupby(["From", "To"], sort=False):
        days = float(part["Days"].iat[0])
        shown = part[["Layer", *money, *counts]].reset_index(drop=True)
        for out in split_tables(shown, f"P&L attribution {start} → {end} ({days:g} days, $)",
                                console.width, dict.fromkeys(money, 2), flags=()):
            if len(out.rows) > 1:                   # the last row is TOTAL: rule above it
                out.rows[-2].end_section = True
            console.print(out)
        left_out = part["LeftOut"].iat[-1] if "LeftOut" in part.columns else 0
        if left_out and left_out > 0:
            console.print(f"INCOMPLETE {start} → {end}: the snapshots left out "
                          f"{left_out:g} input row{'s' if left_out != 1 else ''} (see "
                          "`alvh-xl snapshot`); legs in those rows count as closed or new "
                          "above, not as held.", markup=False)
    console.print(NOTE)
