"""Price + all Greeks: alvh_xl vs py_vollib_vectorized 0.1.1 vs a QuantLib per-option loop.

* ours: ``bsm_greeks`` — price, delta, gamma, vega, theta, rho, vanna, volga, charm (analytic).
* py_vollib_vectorized: ``vectorized_black_scholes_merton`` (price) + ``get_all_greeks``
  (delta, gamma, theta, rho, vega; its Greeks are finite differences).
* QuantLib 1.44: ``BlackCalculator`` per option (value, delta, gamma, vega, theta, rho, vanna,
  volga) — its cheapest per-option path. Timed on a sample and extrapolated to n.

Every timing is the best of several runs after a warm-up (numba compiles on first use).
Run through ``python benchmarks/run.py``; this module can also be run on its own.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import timing

from alvh_xl.pricing import bsm_greeks

QL_SAMPLE = 2000


def make_options(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """SPX-like options: S 6700, K/S 0.7..1.3, 1 day..2 years, vol 8..80 %, r 4 %, q 1.3 %."""
    rng = np.random.default_rng(seed)
    w = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    return {"w": w, "flag": np.where(w > 0, "c", "p"), "s": np.full(n, 6700.0),
            "k": 6700.0 * rng.uniform(0.7, 1.3, n), "t": rng.uniform(1 / 365, 2.0, n),
            "vol": rng.uniform(0.08, 0.8, n), "r": 0.04, "q": 0.013}


def best_of(f: Callable[[], object], repeat: int, min_time: float = 0.0) -> float:
    """Best wall time of ``repeat`` calls after a warm-up (more while under ``min_time``)."""
    return timing.best_of(f, repeat, min_time=min_time)


def ours(o):
    return bsm_greeks(o["w"], o["s"], o["k"], o["t"], o["vol"], o["r"], o["q"])


def peer(o):
    import py_vollib_vectorized as pvv

    price = pvv.vectorized_black_scholes_merton(o["flag"], o["s"], o["k"], o["t"], o["r"],
                                                o["vol"], o["q"], return_as="numpy")
    greeks = pvv.get_all_greeks(o["flag"], o["s"], o["k"], o["t"], o["r"], o["vol"], o["q"],
                                model="black_scholes_merton", return_as="dict")
    return price, greeks


def quantlib_loop(o, count: int) -> float:
    """Seconds for ``count`` options through QuantLib's BlackCalculator, one at a time."""
    import QuantLib as ql

    call, put = ql.Option.Call, ql.Option.Put
    r, q = o["r"], o["q"]
    t0 = time.perf_counter()
    for i in range(count):
        s, k, t, v = float(o["s"][i]), float(o["k"][i]), float(o["t"][i]), float(o["vol"][i])
        bc = ql.BlackCalculator(ql.PlainVanillaPayoff(call if o["w"][i] > 0 else put, k),
                                s * math.exp((r - q) * t), v * math.sqrt(t), math.exp(-r * t))
        (bc.value(), bc.delta(s), bc.gamma(s), bc.vega(t), bc.theta(s, t), bc.rho(t),
         bc.vanna(s, t), bc.volga(t))
    return time.perf_counter() - t0


def have_peer() -> bool:
    try:
        import py_vollib_vectorized  # noqa: F401
    except Exception:  # ImportError, or numba failing to compile its kernels
        return False
    return True


def run_greeks_bench(sizes=(1_000, 100_000, 1_000_000)) -> list[dict]:
    """One dict per size: seconds for ours / peer / QuantLib (extrapolated), price agreement."""
    with_peer = have_peer()
    if with_peer:
        peer(make_options(100))          # numba compiles here, outside the timings
    rows = []
    for n in sizes:
        o = make_options(n)
        repeat = 5 if n >= 1_000_000 else 7
        row = {"n": n, "ours_s": best_of(lambda o=o: ours(o), repeat, min_time=2.0)}
        if with_peer:
            row["peer_s"] = best_of(lambda o=o: peer(o), 3 if n >= 1_000_000 else 5, 0.2)
            price, _ = peer(o)
            row["price_diff"] = float(np.max(np.abs(np.asarray(price).ravel() - ours(o).price)))
        sample = min(n, QL_SAMPLE)
        row["ql_s"] = min(quantlib_loop(o, sample) for _ in range(3)) * n / sample
        row["ql_sampled"] = sample < n
        rows.append(row)
    return rows


def peak_memory(n: int = 1_000_000) -> dict:
    """Peak memory of price + all Greeks for ``n`` options, measured in a fresh subprocess."""
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import bench_greeks as b; b._child_peak({n})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _high_water_mb() -> float:
    """Peak resident memory of this process in MB (VmHWM; ru_maxrss survives exec on Linux)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(x.split()[1]) for x in f if x.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_peak(n: int) -> None:
    import tracemalloc

    o = make_options(n)
    ours(make_options(10))
    before = _high_water_mb()
    tracemalloc.start()
    result = ours(o)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    after = _high_water_mb()
    print(json.dumps({"n": n, "tracemalloc_peak_mb": traced, "max_rss_mb": after,
                      "rss_growth_mb": after - before,
                      "result_mb": sum(x.nbytes for x in result) / 2**20}))


if __name__ == "__main__":
    for r in run_greeks_bench():
        print(r)
    print(peak_memory())
