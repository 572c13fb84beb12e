"""`alvh-xl attribution HISTORY [--from DATE] [--to DATE] [--json]`: P&L per layer between
snapshots, split into delta, gamma, vega, theta and the unexplained rest."""

from __future__ import annotations

import argparse

NOTE = ("Realised: P&L of legs held on both dates at the earlier quantity. Legs opened or "
        "closed in between are counted, their P&L is not included.")


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
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not console.is_terminal:                 # piped or captured: do not squeeze to 80
        console = Console(width=160)
    money = ("Realised", "Delta", "Gamma", "Vega", "VolOfVol", "Theta", "Unexplained")
    counts = ("Legs", "NewLegs", "ClosedLegs", "Resized")
    for (start, end), part in table.groupby(["From", "To"], sort=False):
        days = float(part["Days"].iat[0])
        out = Table(title=Text(f"P&L attribution {start} → {end} ({days:g} days, $)"))
        for col in ("Layer", *money, *counts):
            out.add_column(col, justify="left" if col == "Layer" else "right")
        records = part.to_dict("records")
        for i, rec in enumerate(records):          # the last row is TOTAL: rule above it
            out.add_row(Text(str(rec["Layer"])), *(f"{rec[c]:,.2f}" for c in money),
                        *(str(int(rec[c])) for c in counts), end_section=i == len(records) - 2)
        console.print(out)
    console.print(NOTE)
    return 0
