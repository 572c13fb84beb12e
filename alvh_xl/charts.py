"""PNG charts of the dashboard (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .conventions import DEFAULT_VOL_SHIFTS
from .risk.dashboard import EngineTables as Dashboard

COLORS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a5a5a5"]
# one distinct colour per layer: ours, then matplotlib's tab20 (darks, then lights)
LAYER_COLORS = COLORS + ["#d62728", "#17becf", "#e377c2", "#8c564b", "#bcbd22",
                         "#ff9896", "#98df8a", "#c5b0d5", "#ffbb78", "#9edae5", "#f7b6d2",
                         "#c49c94", "#dbdb8d", "#aec7e8"]


def layer_color(i: int) -> str:
    """The colour of the i-th layer in every chart (distinct for the first 21 layers)."""
    return LAYER_COLORS[i % len(LAYER_COLORS)]


def dollars(value: float, _pos: Any = None) -> str:
    """Axis tick label in whole dollars with thousands separators ('-1,250,000'), never
    matplotlib's scientific multiplier above the axis."""
    return f"{value:,.0f}"


def _dollar_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(dollars))


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "font.size": 9})
    return plt


def _save(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` atomically (a whole PNG or the previous file, never half)."""
    import matplotlib.pyplot as plt

    from .fileio import atomic_write

    fig.tight_layout()
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format=Path(path).suffix[1:] or "png"),
                     binary=True, what="chart")
    finally:
        plt.close(fig)
    return path


def warm_up() -> None:
    """Import matplotlib (and this module's engine types) ahead of the drawing: the report
    calls it first in its chart process, so the imports overlap its own reading."""
    _plt()


def write_charts(d: Dashboard, out_dir: Path, vix: Any = None, vvix: Any = None) -> list[Path]:
    """Write every chart that has data; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [buckets_chart(d, out_dir / "vega_by_bucket.png"),
             ladder_chart(d, out_dir / "shock_ladder.png")]
    if d.migration:
        paths.append(condor_chart(d, out_dir / "condor_pnl.png"))
    if vix is not None and vvix is not None:
        paths.append(signals_chart(vix, vvix, out_dir / "signals.png"))
    return paths


def buckets_chart(d: Dashboard, path: Path) -> Path:
    """Stacked bars: vol exposure ($/vol pt) per maturity bucket, one colour per layer."""
    plt = _plt()
    table = d.buckets[d.buckets["Bucket"] != "Total"]
    layers = [c for c in table.columns if c not in ("Bucket", "Total")]
    fig, ax = plt.subplots(figsize=(7.5, 4))
    x = np.arange(len(table))
    pos = np.zeros(len(table))
    neg = np.zeros(len(table))
    for i, layer in enumerate(layers):
        v = table[layer].to_numpy(float)
        base = np.where(v >= 0, pos, neg)
        ax.bar(x, v, bottom=base, label=layer, color=layer_color(i), width=0.65)
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    ax.plot(x, table["Total"].to_numpy(float), "k_", markersize=22, mew=2, label="Net")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, table["Bucket"])
    ax.set_ylabel("vol exposure ($ per vol point)")
    _dollar_axis(ax)
    ax.set_title("Vega by maturity bucket and layer")
    ax.legend(ncol=3, fontsize=8, loc="best")
    return _save(fig, path)


def ladder_chart(d: Dashboard, path: Path) -> Path:
    """Book full-revaluation P&L vs linear estimate per vol shift, and full P&L by layer."""
    plt = _plt()
    lad = d.ladder
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(lad["Shift"], lad["FullPnL"], "o-", color=COLORS[0], label="full revaluation")
    a1.plot(lad["Shift"], lad["LinearPnL"], "s--", color=COLORS[1],
            label="linear (weighted vega × shift)")
    a1.axhline(0, color="black", lw=0.8)
    a1.set_xlabel("vol shift (points, term-structure weighted)")
    a1.set_ylabel("P&L ($)")
    _dollar_axis(a1)
    _dollar_axis(a2)
    a1.set_title("Book: full vs linear")
    a1.legend(fontsize=8)
    layers = list(lad.columns[3:])
    width = 0.8 / max(len(layers), 1)
    x = np.arange(len(lad))
    for i, layer in enumerate(layers):
        a2.bar(x + (i - (len(layers) - 1) / 2) * width, lad[layer], width, label=layer,
               color=layer_color(i))
    a2.set_xticks(x, [f"{s:+g}" for s in lad["Shift"]])
    a2.axhline(0, color="black", lw=0.8)
    a2.set_xlabel("vol shift (points)")
    a2.set_title("Full-revaluation P&L by layer")
    a2.legend(fontsize=8, ncol=2)
    return _save(fig, path)


def condor_chart(d: Dashboard, path: Path) -> Path:
    """Each condor's P&L at expiry and T+0 vs SPX, with T+0 break-evens under vol shifts."""
    plt = _plt()
    names = list(d.migration)
    fig, axes = plt.subplots(1, len(names), figsize=(7.5 * len(names), 4.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        curves = condor_curves(d, name, DEFAULT_VOL_SHIFTS)
        spot = curves["spot"]
        ax.plot(spot, curves["expiry"], color="black", lw=1.6, label="at expiry")
        shifts = sorted(curves["t0"])
        cmap = plt.get_cmap("coolwarm")
        for i, s in enumerate(shifts):
            ax.plot(spot, curves["t0"][s], color=cmap(i / max(len(shifts) - 1, 1)),
                    lw=1.8 if s == 0 else 0.9, label=f"T+0 vol {s:+g}")
        mig = d.migration[name]
        for col in mig.columns[1:3]:
            for v in mig[col]:
                if isinstance(v, (int, float)) and np.isfinite(v):
                    ax.axvline(v, color="grey", lw=0.5, ls=":")
        index = curves["index"]
        ax.axvline(condor_level(d, name), color=COLORS[2], lw=1, label=f"{index} now")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel(f"{index} at horizon")
        ax.set_ylabel("P&L ($)")
        _dollar_axis(ax)
        ax.set_title(f"{name}: P&L at expiry and T+0 (dotted: T+0 break-evens per shift)")
        ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def condor_level(d: Dashboard, name: str) -> float:
    """Today's level of the condor's own index (SPX points, or XSP = SPX / 10)."""
    from .risk.condor import find_condors

    c, _, _ = find_condors(d.valuation)
    i = int(np.flatnonzero(c.strategy == name)[0])
    return float(d.valuation.market.spx_spot * c.scale[i])


def condor_curves(d: Dashboard, name: str, shifts) -> dict[str, Any]:
    """P&L ($) of one condor vs its own index ('spot' in SPX or XSP points, named by
    'index'): at expiry, and T+0 under each vol shift."""
    from .risk.condor import CP, SIGN, find_condors, t0_pnl

    c, _, _ = find_condors(d.valuation)
    i = int(np.flatnonzero(c.strategy == name)[0])
    k = c.strike[i]
    lo, hi = k[0] - 0.6 * (k[3] - k[0]), k[3] + 0.6 * (k[3] - k[0])
    spot = np.linspace(lo, hi, 400)
    units = c.multiplier[i] * c.count[i]
    intrinsic = np.maximum(CP * (spot[:, None] - k), 0.0)
    expiry = (c.credit[i] + (intrinsic * SIGN).sum(axis=1)) * units
    # t0_pnl takes SPX points: an XSP grid (own points) is SPX / 10
    t0 = t0_pnl(c, spot / c.scale[i], np.asarray(shifts, dtype=float))[i] * units
    return {"spot": spot, "expiry": expiry, "t0": dict(zip(shifts, t0, strict=True)),
            "index": "SPX" if c.scale[i] == 1 else "XSP"}


def signals_chart(vix: Any, vvix: Any, path: Path) -> Path:
    """VIX-future MACD(12,26,9) panel and VVIX RSI(14) panel with the 30/70 bands."""
    from .risk.dashboard import column
    from .risk.indicators import as_series, macd, rsi

    plt = _plt()
    v = as_series(column(vix), "vix_futures_series")
    w = as_series(column(vvix), "vvix_series")
    m, sig, hist = macd(v)
    r = rsi(w)
    fig, (a0, a1, a2) = plt.subplots(3, 1, figsize=(9, 6.5), sharex=True,
                                     gridspec_kw={"height_ratios": [2, 1.4, 1.4]})
    x = np.arange(v.size)
    a0.plot(x, v, color=COLORS[0], label="VIX future")
    a0.set_title("Regime signals")
    a0.legend(fontsize=8)
    a1.bar(x, hist, color=np.where(np.nan_to_num(hist) >= 0, COLORS[2], COLORS[1]), width=0.8,
           label="histogram")
    a1.plot(x, m, color=COLORS[0], lw=1, label="MACD")
    a1.plot(x, sig, color=COLORS[4], lw=1, label="signal")
    a1.legend(fontsize=8, ncol=3)
    a1.set_ylabel("MACD 12/26/9")
    xr = np.arange(w.size)
    a2.plot(xr, r, color=COLORS[3], label="VVIX RSI(14)")
    a2.axhline(70, color=COLORS[1], ls="--", lw=0.8)
    a2.axhline(30, color=COLORS[2], ls="--", lw=0.8)
    a2.set_ylim(0, 100)
    a2.set_ylabel("RSI")
    a2.legend(fontsize=8)
    a2.set_xlabel("day")
    return _save(fig, path)
