"""`alvh-xl demo`: price a few SPX and VIX options and show every Greek in SPEC §4 units."""

from __future__ import annotations

import argparse

from ..conventions import GREEKS
from ..pricing import black76_greeks, bsm_greeks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spot", type=float, default=6700.0, help="SPX spot (default 6700)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    spot = args.spot
    strikes = [round(spot * m / 5) * 5 for m in (0.9, 0.95, 1.0, 1.05)]
    rows = [("SPX 45d put", "bsm", "P", spot, strikes[0], 45 / 365, 0.24),
            ("SPX 45d put", "bsm", "P", spot, strikes[1], 45 / 365, 0.20),
            ("SPX 45d call", "bsm", "C", spot, strikes[3], 45 / 365, 0.13),
            ("VIX 30d call", "black76", "C", 19.0, 22.0, 30 / 365, 0.95)]
    table = Table(title="alvh-xl pricing demo: per unit; rate 4 %, div 1.3 %; vega per vol "
                        "point, theta per day", title_justify="left")
    table.add_column("", style="bold")
    results = []
    for name, model, cp, s, k, t, vol in rows:
        table.add_column(f"{name}\nK {k:g}, IV {vol:.0%}\n{model}", justify="right")
        results.append(bsm_greeks(cp, s, k, t, vol, 0.04, 0.013) if model == "bsm"
                       else black76_greeks(cp, s, k, t, vol, 0.04))
    for i, greek in enumerate(GREEKS):
        table.add_row(greek, *(f"{float(g[i]):.4f}" for g in results))
    Console().print(table)
    return 0
