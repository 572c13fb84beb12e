"""The dashboard in a terminal (rich): flags coloured, numbers right-aligned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from .risk.dashboard import Dashboard

FLAG_STYLE = {"OK": "bold green", "WATCH": "bold yellow", "BREACH": "bold white on red"}


def fmt(v: Any, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return f"{v:,.{digits}f}"
    return str(v)


def flag_text(flag: Any) -> str:
    flag = flag or ""
    style = FLAG_STYLE.get(flag)
    return f"[{style}] {flag} [/]" if style else ""


def frame_table(df: pd.DataFrame, title: str, digits: dict[str, int] | None = None,
                flags: tuple[str, ...] = ("Flag",)) -> Table:
    digits = digits or {}
    t = Table(title=title, title_justify="left", header_style="bold cyan")
    for c in df.columns:
        t.add_column(str(c), justify="left" if df[c].dtype == object else "right")
    for row in df.itertuples(index=False):
        t.add_row(*(flag_text(v) if c in flags else fmt(v, digits.get(c, 0))
                    for c, v in zip(df.columns, row, strict=True)))
    return t


def print_dashboard(d: Dashboard, *, src: Path, out_book: Path, charts: list[Path],
                    seconds: float, message: str, console: Console | None = None) -> None:
    con = console or Console()
    m = d.valuation.market
    p = d.portfolio
    head = (f"[bold]ALVH dashboard[/]  {src.name}  valuation {m.valuation:%Y-%m-%d %H:%M}  "
            f"SPX {m.spx_spot:,.2f}  VIX {fmt(m.vix_spot, 2)}  VVIX {fmt(m.vvix, 1)}\n"
            f"Net vega raw [bold]{p['net']:+,.1f}[/] $/vol pt   weighted "
            f"[bold]{p['weighted']:+,.1f}[/] $/vol pt   portfolio {flag_text(p['flag'])} "
            f"(|net − {p['target']:g}| vs {fmt(p['tolerance'], 1)} = "
            f"{d.thresholds.portfolio_tolerance:.0%} of {p['basis_layer']} gross "
            f"{fmt(p['basis'], 1)})")
    con.print(Panel(head, expand=False))
    con.print(frame_table(d.layers, "Layers ($ per vol point; Delta = SPX $ delta, Gamma = $ "
                          "per 1% move, Theta $/day)",
                          {"Utilization": 2, "Limit": 1, "RawVega": 1, "WeightedVega": 1,
                           "VolOfVolVega": 1}))
    con.print(frame_table(d.buckets, "Vega by maturity bucket ($ per vol point)",
                          dict.fromkeys(d.buckets.columns, 1)))
    con.print(frame_table(d.ladder, "Vol-shock ladder (P&L $, full revaluation vs linear)"))
    if d.scenarios is not None:
        con.print(frame_table(d.scenarios, "Named scenarios (P&L $)",
                              {"SpotPct": 1, "VolPts": 1}))
    if d.condors is not None and len(d.condors):
        con.print(frame_table(d.condors, "Iron condors", dict.fromkeys(d.condors.columns, 2)))
        for name, mig in d.migration.items():
            con.print(frame_table(mig, f"{name}: T+0 break-evens by vol shift", {"Shift": 0}))
    if d.hedges is not None and len(d.hedges):
        con.print(frame_table(d.hedges, "Hedge suggestions (to the portfolio target, weighted)",
                              {"ExposurePerContract": 2, "WeightedVegaAfter": 1,
                               "RawVegaAfter": 1, "Residual": 1}))
    if d.signals is not None:
        style = "bold red" if d.signals.flag else "green"
        con.print(Panel(f"[{style}]{'REGIME' if d.signals.flag else 'normal'}[/]: "
                        f"{d.signals.sentence}", title="Regime signals", expand=False))
    left = [x for x in d.problems if x.left_out]
    notes = [x for x in d.problems if not x.left_out]
    for x in left:
        con.print(f"[bold red]left out[/] {x}")
    for x in notes:
        con.print(f"[yellow]note[/] {x}")
    con.print(f"[dim]{message}[/]")
    con.print(f"Wrote {out_book}" + (f" and {len(charts)} charts in {out_book.parent}"
                                     if charts else "") + f"  ({seconds:.2f} s)")
