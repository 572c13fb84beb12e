"""Bounded memory and linear costs for scenario work (issue 9 item 7, issue 13 item 4).

Each case is run by ours (the package) and by the peer — a copy, kept below, of the
functions as they were before blocks and bincount grouping (the all-at-once
scenarios × legs matrix, one column scan per layer, one break-even search over every
shift at once) — each in its own fresh subprocess on the same inputs, in the same run:

* ``spot_vol_grid`` on a valued 100,000-leg book × 21 spot × 21 vol shifts, and the Excel
  function ``ALVH_GRID`` on the same size from a cold cache (parse + value + grid; the peer
  has its grid swapped in): target ≤ 300 MB above the inputs, results identical to the bit;
* by-layer P&L with one layer per leg (16,000 layers): ``shock_ladder(by_layer=True)``
  (7 shifts) and ``named_scenarios`` (3 scenarios): target ≤ 2 s for both together;
* break-even migration of one iron condor over 10,000 vol shifts: target ≤ 64 MB.

Memory: tracemalloc peak during the call (numpy reports its buffers to tracemalloc) and the
growth of the resident set's high-water mark (VmHWM, reset just before the call through
/proc/self/clear_refs). Time: one call, after a warm-up on a small input.

Run alone with ``python benchmarks/bench_scale.py``; ``run.py`` includes it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from alvh_xl.book import parse_curve, parse_market, parse_positions, parse_scenarios
from alvh_xl.risk import condor, scenarios
from alvh_xl.risk.valuation import BookValuation, value_book

HERE = Path(__file__).parent

GRID_LEGS = 100_000
LAYER_LEGS = 16_000
BREAKEVEN_SHIFTS = 10_000
TARGET_GRID_MB = 300.0
TARGET_LAYERS_S = 2.0
TARGET_BREAKEVEN_MB = 64.0
SCENARIOS = [["Name", "SpotPct", "VolPts", "DaysForward"], ["Crash", -8, 12, 0],
             ["FOMC", 1.5, -3, 1], ["Weekend", 0, 0, 3]]


# ---- the peer: the functions as they were before blocks (kept here, not in the package) ----

def old_shock_ladder(val: BookValuation, shifts, *, by_layer=False) -> pd.DataFrame:
    shifts = scenarios._as_shifts(shifts, "shifts")
    scenarios.check_vol_shifts(shifts, "abs")
    base = scenarios.base_values(val.state)
    full = scenarios.revalue(val.state, vol_shift=shifts,
                             volvol_beta=val.market.volvol_beta) - base
    lin = scenarios.linear_pnl(val.state, val.legs["VolExposure"].to_numpy(float), shifts)
    out = pd.DataFrame({"Shift": shifts, "FullPnL": full.sum(axis=1),
                        "LinearPnL": lin.sum(axis=1)})
    if by_layer:
        for layer, cols in _old_layer_columns(val).items():
            out[layer] = full[:, cols].sum(axis=1)
    return out


def old_spot_vol_grid(val: BookValuation, spot_shifts_pct, vol_shifts) -> pd.DataFrame:
    spots = scenarios._as_shifts(spot_shifts_pct, "spot shifts")
    vols = scenarios._as_shifts(vol_shifts, "vol shifts")
    ss, vv = np.meshgrid(spots, vols, indexing="ij")
    base = scenarios.base_values(val.state)
    pnl = (scenarios.revalue(val.state, vol_shift=vv.ravel(), spot_pct=ss.ravel(),
                             volvol_beta=val.market.volvol_beta) - base).sum(axis=1)
    return pd.DataFrame(pnl.reshape(ss.shape), index=pd.Index(spots, name="SpotPct"),
                        columns=pd.Index(vols, name="VolPts"))


def old_named_scenarios(val: BookValuation, table: pd.DataFrame) -> pd.DataFrame:
    base = scenarios.base_values(val.state)
    full = scenarios.revalue(val.state, vol_shift=table["vol_pts"].to_numpy(float),
                             spot_pct=table["spot_pct"].to_numpy(float),
                             days_forward=table["days_forward"].to_numpy(float),
                             volvol_beta=val.market.volvol_beta) - base
    out = pd.DataFrame({"Name": table["name"], "SpotPct": table["spot_pct"],
                        "VolPts": table["vol_pts"], "DaysForward": table["days_forward"],
                        "PnL": full.sum(axis=1)})
    for layer, cols in _old_layer_columns(val).items():
        out[layer] = full[:, cols].sum(axis=1)
    return out


def _old_layer_columns(val: BookValuation) -> dict[str, np.ndarray]:
    layers = val.legs["Layer"].to_numpy(dtype=object)
    return {layer: np.flatnonzero(layers == layer) for layer in dict.fromkeys(layers)}


def old_t0_breakevens(c: condor.Condors, shifts) -> tuple[np.ndarray, np.ndarray]:
    shifts = np.asarray(shifts, dtype=float)
    points = condor.GRID_POINTS
    grid = c.spot * np.linspace(1 - condor.SEARCH_FRACTION, 1 + condor.SEARCH_FRACTION, points)
    pos = condor.t0_pnl(c, grid, shifts) > 0
    up = ~pos[..., :-1] & pos[..., 1:]
    down = pos[..., :-1] & ~pos[..., 1:]
    has_low = up.any(axis=-1) & ~pos[..., 0]
    has_high = down.any(axis=-1) & ~pos[..., -1]
    i_low = np.argmax(up, axis=-1)
    i_high = points - 2 - np.argmax(down[..., ::-1], axis=-1)
    neg_end = np.stack([grid[i_low], grid[i_high + 1]], axis=-1)
    pos_end = np.stack([grid[i_low + 1], grid[i_high]], axis=-1)
    for _ in range(condor.BISECTIONS):
        mid = 0.5 * (neg_end + pos_end)
        gain = condor.t0_pnl(c, mid, shifts) > 0
        pos_end = np.where(gain, mid, pos_end)
        neg_end = np.where(gain, neg_end, mid)
    root = 0.5 * (neg_end + pos_end)
    return np.where(has_low, root[..., 0], np.nan), np.where(has_high, root[..., 1], np.nan)


# ---- inputs ----

def book_with_layers(n: int, one_layer_per_leg: bool) -> BookValuation:
    from bench_scenarios import CURVE, MARKET, random_book

    rows = random_book(n, seed=3)
    if one_layer_per_leg:
        for i, row in enumerate(rows[1:]):
            row[0] = f"Layer {i + 1}"
    return value_book(parse_positions(rows), parse_market(MARKET), parse_curve(CURVE))


def condor_book() -> BookValuation:
    from bench_scenarios import CURVE, MARKET

    head = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "IV",
            "EntryPrice"]
    legs = [["Core", "IC-Jan", "SPX", t, k, dt.date(2027, 1, 8), q, v, e] for t, k, q, v, e in (
        ("P", 6250, 10, 0.20, 35.0), ("P", 6300, -10, 0.19, 40.0),
        ("C", 7050, -10, 0.12, 20.0), ("C", 7100, 10, 0.115, 12.0))]
    return value_book(parse_positions([head, *legs]), parse_market(MARKET), parse_curve(CURVE))


# ---- the cases: (name, inputs, ours, peer); each returns a numeric array to compare ----

def _grid_inputs(n: int = GRID_LEGS):
    return book_with_layers(n, False), np.linspace(-10, 10, 21)


def _grid(impl: str, inputs) -> np.ndarray:
    val, shifts = inputs
    fn = scenarios.spot_vol_grid if impl == "ours" else old_spot_vol_grid
    return fn(val, shifts, shifts).to_numpy()


def _excel_grid_inputs(n: int = GRID_LEGS):
    from alvh_xl.tools.synthetic import curve_table, make_book, market_table

    return (make_book(n), market_table(), curve_table(), [[float(x)] for x in range(-10, 11)],
            [[float(x) for x in range(-10, 11)]])


def _excel_grid(impl: str, inputs) -> np.ndarray:
    """ALVH_GRID from a cold cache: parse, value and grid (the peer's grid swapped in)."""
    from alvh_xl.xl import cache, fn_scenarios

    cache.BOOKS.clear()
    cache.RESULTS.clear()
    if impl == "peer":
        fn_scenarios.spot_vol_grid = old_spot_vol_grid
    cells = fn_scenarios.ALVH_GRID(*inputs)
    if isinstance(cells, str):
        raise RuntimeError(cells)
    return np.array([row[1:] for row in cells[1:22]], dtype=float)


def _layers_inputs(n: int = LAYER_LEGS):
    return book_with_layers(n, True), parse_scenarios(SCENARIOS)


def _layers(impl: str, inputs) -> np.ndarray:
    val, table = inputs
    if impl == "ours":
        ladder = scenarios.shock_ladder(val, by_layer=True)
        named = scenarios.named_scenarios(val, table)
    else:
        ladder = old_shock_ladder(val, scenarios.DEFAULT_VOL_SHIFTS, by_layer=True)
        named = old_named_scenarios(val, table)
    return np.concatenate([ladder.to_numpy(float).ravel(),
                           named.iloc[:, 1:].to_numpy(float).ravel()])


def _breakeven_inputs(count: int = BREAKEVEN_SHIFTS):
    return condor_book(), np.linspace(-20, 20, count)


def _breakevens(impl: str, inputs) -> np.ndarray:
    val, shifts = inputs
    if impl == "ours":
        table = condor.breakeven_migration(val, "IC-Jan", shifts)
        return table[["T0Low", "T0High"]].to_numpy()
    low, high = old_t0_breakevens(condor.find_condors(val)[0], shifts)
    return np.stack([low[0], high[0]], axis=1)


CASES = {
    "grid": (_grid_inputs, _grid, lambda: _grid_inputs(500)),
    "excel_grid": (_excel_grid_inputs, _excel_grid, lambda: _excel_grid_inputs(500)),
    "layers": (_layers_inputs, _layers, lambda: _layers_inputs(50)),
    "breakevens": (_breakeven_inputs, _breakevens, lambda: _breakeven_inputs(10)),
}


def _status(key: str) -> float:
    """A /proc/self/status field in MB (Linux)."""
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith(key)) / 1024


def _child(case: str, impl: str, out: str) -> None:
    """Run one case in this (fresh) process; print a JSON line, save the result to ``out``."""
    make, run, warm = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        run(impl, warm())
    inputs = make()
    rss_before = _status("VmRSS:")
    Path("/proc/self/clear_refs").write_text("5")      # reset VmHWM to the current RSS
    tracemalloc.start()
    t0 = time.perf_counter()
    with warnings.catch_warnings():     # the peer's column-at-a-time frame warns (fragmented)
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        result = run(impl, inputs)
    seconds = time.perf_counter() - t0
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    np.save(out, np.asarray(result, dtype=float))
    print(json.dumps({"seconds": seconds, "traced_mb": traced,
                      "rss_growth_mb": _status("VmHWM:") - rss_before}))


def measure(case: str, impl: str, folder: Path) -> dict:
    """Run ``case`` with ``impl`` ("ours" or "peer") in a fresh subprocess."""
    out = folder / f"{case}-{impl}.npy"
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_scale as b; "
            f"b._child({case!r}, {impl!r}, {str(out)!r})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"bench_scale {case}/{impl} failed:\n{done.stderr}")
    res = json.loads(done.stdout.strip().splitlines()[-1])
    res["result"] = np.load(out)
    return res


def identical(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape and the same bits in every element (NaN where NaN)."""
    return a.shape == b.shape and a.tobytes() == b.tobytes()


TITLES = {
    "grid": f"spot_vol_grid, {GRID_LEGS:,} legs × 21 × 21 (book valued)",
    "excel_grid": f"ALVH_GRID cold: parse + value + grid, {GRID_LEGS:,} legs",
    "layers": f"by-layer ladder (7) + scenarios (3), {LAYER_LEGS:,} layers",
    "breakevens": f"break-even migration, {BREAKEVEN_SHIFTS:,} vol shifts",
}


def run_scale_bench() -> list[dict]:
    """One dict per case: ours and peer measurements, ratios, target, bit-identity."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            ours = measure(case, "ours", Path(tmp))
            peer = measure(case, "peer", Path(tmp))
            if case in ("grid", "excel_grid"):
                target, met = f"≤ {TARGET_GRID_MB:g} MB", max(
                    ours["traced_mb"], ours["rss_growth_mb"]) <= TARGET_GRID_MB
            elif case == "layers":
                target, met = f"≤ {TARGET_LAYERS_S:g} s", ours["seconds"] <= TARGET_LAYERS_S
            else:
                target, met = f"≤ {TARGET_BREAKEVEN_MB:g} MB", max(
                    ours["traced_mb"], ours["rss_growth_mb"]) <= TARGET_BREAKEVEN_MB
            rows.append({"case": TITLES[case], "ours": ours, "peer": peer, "target": target,
                         "met": met, "identical": identical(ours["result"], peer["result"]),
                         "max_diff": float(np.nanmax(np.abs(ours["result"] - peer["result"]),
                                                     initial=0.0))})
    return rows


if __name__ == "__main__":
    for r in run_scale_bench():
        o, p = r["ours"], r["peer"]
        print(f"{r['case']}: ours {o['seconds']:.2f} s, {o['traced_mb']:.0f} MB traced, "
              f"{o['rss_growth_mb']:.0f} MB RSS; peer {p['seconds']:.2f} s, "
              f"{p['traced_mb']:.0f} MB traced, {p['rss_growth_mb']:.0f} MB RSS; "
              f"target {r['target']} {'OK' if r['met'] else 'MISSED'}; "
              f"identical {r['identical']} (max |diff| {r['max_diff']:.1e})")
