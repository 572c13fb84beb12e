"""`alvh-xl chain FILE`: one implied vol per strike from a Cboe chain download, beside Cboe's.

Per series (expiry and root; settlement SPX/VIX/VIXW AM 09:30, SPXW/XSP PM 16:00 New York) the
forward F and discount D come from put–call parity on near-the-money two-sided quotes. Each
strike gets ONE vol: Black-76 on F of the out-of-the-money option's mid (put below F, call at
or above it), the right vol for both options of the strike by parity; the in-the-money
option's own-mid vol is shown in its own column. t is ACT/365 from the quote time to
settlement. Delta is the forward delta N(±d1) = (Black-76 ∂V/∂F)/D at the strike vol, the
convention of Cboe's Delta column; the engine's ∂V/∂S (SPEC §4) is that delta × D·F/S, S the
file's 'Last' level (the table title prints the factor).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np
import pandas as pd

from ..book.cboe import CboeChain, read_cboe_chain
from ..book.chain_vols import SeriesVols, analyse_chain
from ..book.quote_time import parse_user_quote_time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="Cboe delayed-quote download "
                        "(quotedata.csv, the legacy quotedata.dat, or a reformatted chain)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.add_argument("--strikes", type=int, default=0, metavar="N",
                        help="table: show only the N strikes nearest the forward (default all)")
    parser.add_argument("--quote-time", metavar="'YYYY-MM-DD HH:MM'",
                        help="when the quotes were taken (New York time unless an offset is "
                             "given); required when the file does not say, replaces the "
                             "file's own otherwise")


def run(args: argparse.Namespace) -> int:
    from ..fileio import input_file

    path = input_file(args.file, "chain file")
    when = parse_user_quote_time(args.quote_time) if args.quote_time else None
    chain = read_cboe_chain(path, quote_time=when)
    for note in chain.notes:
        print(f"note: {note}", file=sys.stderr)
    series = analyse_chain(chain)
    summary = summarise(chain, series)
    if args.json:
        print(json.dumps({"expiries": [_series_json(s) for s in series], "summary": summary},
                         allow_nan=False))
    else:
        _print_tables(chain, series, summary, args.strikes)
    return 0


def comparable(quotes: pd.DataFrame) -> pd.Series:
    """Quotes to compare with Cboe: two-sided, Cboe IV shown, 0.02 < |Cboe delta| < 0.98."""
    return (quotes["two_sided"] & quotes["cboe_iv"].notna()
            & (quotes["cboe_delta"].abs() > 0.02) & (quotes["cboe_delta"].abs() < 0.98))


def summarise(chain: CboeChain, series: list[SeriesVols]) -> dict:
    """|IV − Cboe IV| (strike vol and own-mid vol) and |Δ − Cboe Δ| over comparable quotes."""
    q = pd.concat([s.quotes for s in series], ignore_index=True)
    use = comparable(q)
    div = (q["iv"] - q["cboe_iv"]).abs()[use]
    own = (q["own_iv"] - q["cboe_iv"]).abs()[use]
    ddel = (q["delta"] - q["cboe_delta"]).abs()[use]
    return {"quote_time": chain.quote_time.isoformat(), "quote_time_from": chain.quote_time_from,
            "spot": _num(chain.spot), "options": len(q), "two_sided": int(q["two_sided"].sum()),
            "compared": int(use.sum()), "without_iv": int(div.isna().sum()),
            "p95_abs_iv_diff": _pct(div, 95), "median_abs_iv_diff": _pct(div, 50),
            "max_abs_iv_diff": _num(div.max()), "p95_abs_own_iv_diff": _pct(own, 95),
            "p95_abs_delta_diff": _pct(ddel, 95), "max_abs_delta_diff": _num(ddel.max()),
            "series_without_forward": [f"{s.expiry.isoformat()} {s.root}: {s.error}"
                                       for s in series if s.error]}


def _pct(values: pd.Series, p: float) -> float | None:
    v = values.dropna().to_numpy()
    return _num(np.percentile(v, p)) if v.size else None


def _num(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _series_json(s: SeriesVols) -> dict:
    q = s.quotes
    rows = [{"strike": float(k), "type": c, "iv": _num(iv), "iv_from": src or None,
             "own_iv": _num(own), "delta": _num(d), "cboe_iv": _num(civ),
             "cboe_delta": _num(cd)}
            for k, c, iv, src, own, d, civ, cd in zip(
                q["strike"], q["type"], q["iv"], q["iv_from"], q["own_iv"], q["delta"],
                q["cboe_iv"], q["cboe_delta"], strict=True)]
    return {"expiry": s.expiry_time.isoformat(), "root": s.root, "t": s.t,
            "forward": _num(s.forward), "discount": _num(s.discount), "error": s.error or None,
            "rows": rows}


def _print_tables(chain: CboeChain, series: list[SeriesVols], summary: dict, near: int) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(escape(f"{chain.underlying}  last {chain.spot:g}  quotes at "
                         f"{chain.quote_time:%Y-%m-%d %H:%M %Z} ({chain.quote_time_from})"))
    for s in series:
        title = f"{s.root} {s.expiry_time:%a %d %b %Y %H:%M %Z}  t = {s.t:.6f} y  "
        if s.error:
            console.print(escape(title + s.error))
            continue
        factor = s.discount * s.forward / chain.spot if math.isfinite(chain.spot) else math.nan
        title += (f"F = {s.forward:.4f}  D = {s.discount:.6f}  ∂V/∂S = Δ × {factor:.5f}")
        console.print(escape(title))
        table = Table(box=box.SIMPLE_HEAD, padding=0,
                      collapse_padding=True, pad_edge=False)
        for col in ("strike", "IV%", "from", "Cboe C", "Cboe P", "ITM IV%", "C Δ", "Cboe",
                    "P Δ", "Cboe"):
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col) + 1)
        calls = s.quotes[s.quotes["type"] == "C"].set_index("strike")
        puts = s.quotes[s.quotes["type"] == "P"].set_index("strike").reindex(calls.index)
        strikes = calls.index.to_numpy()
        if near > 0:
            strikes = np.sort(strikes[np.argsort(np.abs(strikes - s.forward))[:near]])
        for k in strikes:
            c, p = calls.loc[k], puts.loc[k]
            itm = c if k < s.forward else p
            table.add_row(f"{k:g}", _fmt(100 * c["iv"], 2), c["iv_from"],
                          _fmt(100 * c["cboe_iv"], 2), _fmt(100 * p["cboe_iv"], 2),
                          _fmt(100 * itm["own_iv"], 2), _fmt(c["delta"], 3),
                          _fmt(c["cboe_delta"], 3), _fmt(p["delta"], 3),
                          _fmt(p["cboe_delta"], 3))
        console.print(table)
    m = summary
    if not m["compared"]:
        has_cboe = any(s.quotes["cboe_iv"].notna().any() for s in series)
        console.print("compared with Cboe: 0 quotes (" + (
            "no two-sided quote with Cboe's IV and 0.02 < |Δ| < 0.98" if has_cboe else
            "the file has no Cboe IV/Delta columns") + ")")
        sys.stdout.flush()
        return
    console.print(f"compared with Cboe (two-sided, 0.02 < |Δ| < 0.98): {m['compared']} quotes; "
                  f"|IV − Cboe| p95 {_fmt(m['p95_abs_iv_diff'])}, median "
                  f"{_fmt(m['median_abs_iv_diff'])}, max {_fmt(m['max_abs_iv_diff'])}; own-mid "
                  f"IV p95 {_fmt(m['p95_abs_own_iv_diff'])}; |Δ − Cboe| p95 "
                  f"{_fmt(m['p95_abs_delta_diff'])}")
    sys.stdout.flush()


def _fmt(v, digits: int = 4) -> str:
    return "" if v is None or not math.isfinite(float(v)) else f"{float(v):.{digits}f}"
