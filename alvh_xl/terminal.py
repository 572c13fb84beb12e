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
        text = f"{v:,.{digits}f}"
        return text[1:] if text.startswith("-") and not text.strip("-0.,") else text
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


def condor_table(d: Dashboard) -> Table:
    """One line per Strategy group: wings, credit, risk, break-evens (expiry, T+0, by shift)."""
    t = Table(title="Iron condors (index points; $ for profit/loss)", title_justify="left",
              header_style="bold cyan")
    for col in ("Strategy", "Puts", "Calls", "Credit", "Max profit $", "Max loss $",
                "Break-evens expiry", "Break-evens T+0", "RoR", "P(between)", "Note"):
        t.add_column(col, justify="left" if col in ("Strategy", "Note") else "right")
    for r in d.condors.itertuples(index=False):
        if not isinstance(r.MaxLoss, float) or not np.isfinite(r.MaxLoss):
            t.add_row(str(r.Strategy), *[""] * 9, str(r.Note))
            continue
        t.add_row(str(r.Strategy), f"{r.LongPut:g}/{r.ShortPut:g}",
                  f"{r.ShortCall:g}/{r.LongCall:g}", fmt(r.Credit, 2), fmt(r.MaxProfit),
                  fmt(r.MaxLoss), f"{fmt(r.BreakevenLow, 1)} – {fmt(r.BreakevenHigh, 1)}",
                  f"{fmt(r.T0BreakevenLow, 1)} – {fmt(r.T0BreakevenHigh, 1)}",
                  f"{r.ReturnOnRisk:.1%}", f"{r.ProbBetween:.1%}", str(r.Note or ""))
    for name, mig in d.migration.items():
        row = "  ".join(f"{s:+g}: {fmt(lo, 0) or '—'}–{fmt(hi, 0) or '—'}"
                        for s, lo, hi in mig.itertuples(index=False))
        t.add_row(f"{name} T+0 by vol shift", *[""] * 9, row)
    return t


def print_dashboard(d: Dashboard, *, src: Path, out_book: Path, charts: list[Path],
                    seconds: float, message: str, console: Console | None = None) -> None:
    con = console or Console()
    if not con.is_terminal:
        con.width = max(con.width, 150)
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
        con.print(condor_table(d))
    if d.hedges is not None and len(d.hedges):
        h = d.hedges
        view = pd.DataFrame({
            "Candidate": h["Candidate"], "Trade": [f"{a} {abs(n):g}" if n else "none"
                                                   for a, n in zip(h["Action"], h["Contracts"],
                                                                   strict=True)],
            "$/pt per contract": h["ExposurePerContract"], "Weighted after": h["WeightedVegaAfter"],
            "Raw after": h["RawVegaAfter"], "Premium $": h["Premium"],
            "P&L vol -10": h["PnLDown10"], "P&L vol +10": h["PnLUp10"], "Effect": h["Effect"]})
        con.print(frame_table(view, "Hedge sizing: whole contracts to the portfolio target "
                              "(weighted net vega)",
                              {"$/pt per contract": 2, "Weighted after": 1, "Raw after": 1}))
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
