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

MAX_ROWS = 8          # longer lists are summarised in the terminal (the workbook has them all)
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


def condor_tables(d: Dashboard) -> list[Any]:
    """Condor figures, the T+0 break-even migration, and one line on the other groups."""
    rows = list(d.condors.itertuples(index=False))
    is_condor = [isinstance(r.MaxLoss, float) and np.isfinite(r.MaxLoss) for r in rows]
    condors = [r for r, ok in zip(rows, is_condor, strict=True) if ok]
    others = [r for r, ok in zip(rows, is_condor, strict=True) if not ok]
    out: list[Any] = []
    if condors:
        t = Table(title="Iron condors (strikes and break-evens in index points; profit/loss $)",
                  title_justify="left", header_style="bold cyan")
        for col in ("Strategy", "Puts", "Calls", "Credit", "Max profit $", "Max loss $",
                    "BE expiry", "BE T+0", "RoR", "P(between BEs)"):
            t.add_column(col, justify="left" if col == "Strategy" else "right")
        for r in condors[:MAX_ROWS]:
            t.add_row(str(r.Strategy), f"{r.LongPut:g}/{r.ShortPut:g}",
                      f"{r.ShortCall:g}/{r.LongCall:g}", fmt(r.Credit, 2), fmt(r.MaxProfit),
                      fmt(r.MaxLoss), f"{fmt(r.BreakevenLow, 0)}–{fmt(r.BreakevenHigh, 0)}",
                      f"{fmt(r.T0BreakevenLow, 0) or 'none'}–{fmt(r.T0BreakevenHigh, 0) or 'none'}",
                      f"{r.ReturnOnRisk:.1%}", f"{r.ProbBetween:.1%}")
        if len(condors) > MAX_ROWS:
            t.add_row(f"… {len(condors) - MAX_ROWS} more", *[""] * 9)
        out.append(t)
        for r in condors[:MAX_ROWS]:
            if r.Note:
                out.append(f"[yellow]{r.Strategy}[/]: {r.Note}")
    for name, mig in list(d.migration.items())[:MAX_ROWS]:
        m = Table(title=f"{name}: T+0 break-evens by vol shift (index points)",
                  title_justify="left", header_style="bold cyan")
        m.add_column("")
        for shift in mig["Shift"]:
            m.add_column(f"{shift:+g}", justify="right")
        for col, label in (("T0Low", "lower"), ("T0High", "upper")):
            m.add_row(label, *(fmt(v, 0) or "none ±50%" for v in mig[col]))
        out.append(m)
    if others:
        listed = "; ".join(f"{r.Strategy} ({str(r.Note).removeprefix('not an iron condor: ')})"
                           for r in others[:MAX_ROWS])
        more = f" and {len(others) - MAX_ROWS} more" if len(others) > MAX_ROWS else ""
        out.append(f"[dim]Not iron condors: {listed}{more}[/]")
    return out


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
        for item in condor_tables(d):
            con.print(item)
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
    for x in left[:MAX_ROWS]:
        con.print(f"[bold red]left out[/] {x}")
    for x in notes[:MAX_ROWS]:
        con.print(f"[yellow]note[/] {x}")
    if len(left) > MAX_ROWS or len(notes) > MAX_ROWS:
        con.print(f"({len(left)} rows left out and {len(notes)} notes in all: see "
                  "`alvh-xl report --json` or `alvh-xl check`)")
    con.print(f"[dim]{message}[/]")
    con.print(f"Wrote {out_book}" + (f" and {len(charts)} charts in {out_book.parent}"
                                     if charts else "") + f"  ({seconds:.2f} s)")
