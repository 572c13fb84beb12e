"""The dashboard in a terminal (rich): the headline first, every number and flag whole.

Tables are split into several narrower ones (repeating their first column) when they would
not fit the terminal, so nothing is ever cut to "…". Text that came from a workbook cell is
always shown literally (never read as rich markup).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

MAX_ROWS = 8          # longer lists are summarised in the terminal (the workbook has them all)
FLAG_STYLE = {"OK": "bold green", "WATCH": "bold yellow", "BREACH": "bold white on red",
              "INCOMPLETE": "bold white on dark_orange3", "no limit": "dim"}
PAD = 3               # a column's padding and rule in a SIMPLE_HEAD table


def fmt(v: Any, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        text = f"{v:,.{digits}f}"
        return text[1:] if text.startswith("-") and not text.strip("-0.,") else text
    return str(v)


def trade_text(action: str, contracts: float) -> str:
    """'BUY 22,904,200' / 'SELL 3' / 'none': whole contracts with thousands separators."""
    return f"{action} {abs(contracts):,.0f}" if contracts else "none"


def flag_cell(flag: Any) -> Text:
    text = str(flag or "")
    style = FLAG_STYLE.get(text.split(" (")[0])
    return Text(text, style=style or "")


def split_tables(df: pd.DataFrame, title: str, width: int, digits: dict[str, int] | None = None,
                 flags: tuple[str, ...] = ("Flag",), rename: dict[str, str] | None = None
                 ) -> list[Table]:
    """``df`` as one or more rich tables no wider than ``width``: numbers right-aligned and
    whole, flags coloured, the first column repeated in each part."""
    digits = digits or {}
    rename = rename or {}
    cols = list(df.columns)
    shown = {c: [flag_cell(v) if c in flags else Text(fmt(v, digits.get(c, 0)))
                 for v in df[c]] for c in cols}
    need = {c: max([cell_len(rename.get(c, str(c)))] + [t.cell_len for t in shown[c]]) + PAD
            for c in cols}                     # terminal columns: CJK characters take two
    parts, current = [], [cols[0]]
    used = need[cols[0]]
    for c in cols[1:]:
        if used + need[c] > width and len(current) > 1:
            parts.append(current)
            current, used = [cols[0]], need[cols[0]]
        current.append(c)
        used += need[c]
    parts.append(current)
    tables = []
    for k, part in enumerate(parts):
        t = Table(title=Text(title if k == 0 else f"{title} (continued)"), title_justify="left",
                  header_style="bold cyan", box=box.SIMPLE_HEAD, pad_edge=False)
        for c in part:
            numeric = pd.api.types.is_numeric_dtype(df[c]) and c not in flags
            t.add_column(Text(rename.get(c, str(c))), justify="right" if numeric else "left",
                         no_wrap=True, min_width=need[c] - PAD)
        for i in range(len(df)):
            t.add_row(*(shown[c][i] for c in part))
        tables.append(t)
    return tables


def print_dashboard(d: Any, *, src: Path, out_book: Path, charts: list[Path],
                    seconds: float, console: Console | None = None) -> None:
    """The pipeline's Dashboard: headline and problems first, then the tables."""
    con = console or Console()
    width = con.width
    head = d.headline
    lines = Text()
    lines.append("ALVH dashboard  ", style="bold")
    lines.append(src.name)
    if d.val is not None:
        m = d.val.market
        lines.append(f"  valuation {m.valuation:%Y-%m-%d %H:%M}  SPX {m.spx_spot:,.2f}  VIX "
                     f"{fmt(m.vix_spot, 2)}  VVIX {fmt(m.vvix, 1)}")
    lines.append("\nPortfolio ")
    lines.append_text(flag_cell(head.text))
    if d.val is not None:
        lines.append(f"  net vega raw {head.raw:+,.1f}  weighted {head.weighted:+,.1f} $/pt")
        if np.isfinite(head.tolerance):
            lines.append(f"  ({head.measure}: |net − {head.target:,.1f}| vs "
                         f"{head.tolerance:,.1f})")
    lines.append("\n")
    lines.append(head.message, style="bold" if head.incomplete else "")
    con.print(Panel(lines, expand=False, width=min(width, 120)))
    problems = [p for p in (d.val.problems if d.val is not None else d.inputs.problems)
                if p.left_out] + list(d.inputs.left_out)
    for p in problems[:MAX_ROWS]:
        con.print(Text("left out ", style="bold red") + Text(str(p)))
    refused = list(d.inputs.marks.problems) if d.inputs.marks is not None else []
    for text in refused:                        # ChainFile / CurveFile not used: stale marks
        con.print(Text("not marked ", style="bold red") + Text(text))
    for key, text in d.failed_blocks.items():
        out = next(o for o in d.layout.outputs if o.key == key)
        con.print(Text(f"not computed {out.sheet}!{out.anchor} ", style="bold red")
                  + Text(text))
    if len(problems) > MAX_ROWS:
        con.print(f"({len(problems)} rows left out in all: see `alvh-xl report --json` or "
                  "`alvh-xl check`)")
    e = d.engine
    if e is not None:
        layers = e.layers[["Layer", "RawVega", "WeightedVega", "VolOfVolVega", "Target",
                           "Limit", "Utilization", "Flag"]]
        for t in split_tables(layers, "Layers ($ per vol point)", width,
                              {"RawVega": 1, "WeightedVega": 1, "VolOfVolVega": 1,
                               "Target": 1, "Limit": 1, "Utilization": 2},
                              rename={"RawVega": "Raw", "WeightedVega": "Weighted",
                                      "VolOfVolVega": "VolOfVol", "Utilization": "Util"}):
            con.print(t)
        for t in split_tables(e.buckets, "Vega by maturity bucket ($ per vol point)", width,
                              dict.fromkeys(e.buckets.columns, 1)):
            con.print(t)
        for t in split_tables(e.ladder, "Vol-shock ladder (P&L $, full revaluation vs "
                              "linear)", width):
            con.print(t)
        if e.scenarios is not None:
            for t in split_tables(e.scenarios, "Named scenarios (P&L $)", width,
                                  {"SpotPct": 1, "VolPts": 1}):
                con.print(t)
        for item in condor_tables(e, width):
            con.print(item)
        if e.hedges is not None and len(e.hedges):
            h = e.hedges
            view = pd.DataFrame({
                "Candidate": h["Candidate"],
                "Trade": [trade_text(a, n)
                          for a, n in zip(h["Action"], h["Contracts"], strict=True)],
                "$/pt each": h["ExposurePerContract"], "Raw after": h["RawVegaAfter"],
                "Wtd after": h["WeightedVegaAfter"], "Flag after": h["FlagAfter"],
                "Premium paid $": h["PremiumPaid"], "P&L vol-10": h["PnLDown10"],
                "P&L vol+10": h["PnLUp10"]})
            measure = str(h["Measure"].iat[0]).lower()
            for t in split_tables(view, f"Hedge sizing: whole contracts to the portfolio "
                                  f"target ({measure} vega)", width,
                                  {"$/pt each": 2, "Raw after": 1, "Wtd after": 1},
                                  flags=("Flag after",)):
                con.print(t)
        if e.signals is not None:
            style = "bold red" if e.signals.flag else "green"
            body = Text("REGIME" if e.signals.flag else "normal", style=style)
            body.append(": " + e.signals.sentence)
            con.print(Panel(body, title="Regime signals", expand=False))
    notes = [p for p in (d.val.problems if d.val is not None else []) if not p.left_out]
    for x in notes[:MAX_ROWS]:
        con.print(Text("note ", style="yellow") + Text(str(x)))
    for n in d.notes:
        if n not in refused:                    # shown under the headline
            con.print(Text("note ", style="yellow") + Text(n))
    con.print(Text(f"Wrote {out_book}" + (f" and {len(charts)} charts in {out_book.parent}"
                                          if charts else "") + f"  ({seconds:.2f} s)",
                   style="dim"))


def condor_tables(e: Any, width: int) -> list[Any]:
    """Condor figures, the T+0 break-even migration, and one line on the other groups."""
    if e.condors is None or not len(e.condors):
        return []
    rows = list(e.condors.itertuples(index=False))
    is_condor = [isinstance(r.MaxLoss, float) and np.isfinite(r.MaxLoss) for r in rows]
    condors = [r for r, ok in zip(rows, is_condor, strict=True) if ok]
    others = [r for r, ok in zip(rows, is_condor, strict=True) if not ok]
    out: list[Any] = []
    if condors:
        view = pd.DataFrame({
            "Strategy": [str(r.Strategy) for r in condors[:MAX_ROWS]],
            "Puts": [f"{r.LongPut:g}/{r.ShortPut:g}" for r in condors[:MAX_ROWS]],
            "Calls": [f"{r.ShortCall:g}/{r.LongCall:g}" for r in condors[:MAX_ROWS]],
            "Credit": [r.Credit for r in condors[:MAX_ROWS]],
            "Max profit $": [r.MaxProfit for r in condors[:MAX_ROWS]],
            "Max loss $": [r.MaxLoss for r in condors[:MAX_ROWS]],
            "BE expiry": [f"{fmt(r.BreakevenLow)}–{fmt(r.BreakevenHigh)}"
                          for r in condors[:MAX_ROWS]],
            "BE T+0": [f"{fmt(r.T0BreakevenLow) or 'none'}–{fmt(r.T0BreakevenHigh) or 'none'}"
                       for r in condors[:MAX_ROWS]],
            "RoR": [f"{r.ReturnOnRisk:.1%}" for r in condors[:MAX_ROWS]],
            "P(between)": [f"{r.ProbBetween:.1%}" for r in condors[:MAX_ROWS]]})
        out += split_tables(view, "Iron condors (strikes and break-evens in index points)",
                            width, {"Credit": 2})
        for r in condors[:MAX_ROWS]:
            if r.Note:
                out.append(Text(f"{r.Strategy}: ", style="yellow") + Text(str(r.Note)))
    for name, mig in list(e.migration.items())[:MAX_ROWS]:
        view = pd.DataFrame({"": ["lower", "upper"], **{
            f"{s:+g}": [fmt(lo) or "none", fmt(hi) or "none"]
            for s, lo, hi in zip(mig["Shift"], mig["T0Low"], mig["T0High"], strict=True)}})
        out += split_tables(view, f"{name}: T+0 break-evens by vol shift (index points)",
                            width)
    if others:
        listed = "; ".join(f"{r.Strategy} ({str(r.Note).removeprefix('not an iron condor: ')})"
                           for r in others[:MAX_ROWS])
        more = f" and {len(others) - MAX_ROWS} more" if len(others) > MAX_ROWS else ""
        out.append(Text(f"Not iron condors: {listed}{more}", style="dim"))
    return out
