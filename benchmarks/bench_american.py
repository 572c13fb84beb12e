"""American options (issue 11): price + all Greeks for 1e5 options on a vol ETP, ours vs a
QuantLib per-option loop, with the European kernel as a floor. Target: ≤ 0.5 s for 1e5.

* ours: ``american_greeks`` (price, delta, gamma, vega, theta, rho, vanna, volga, charm) and
  ``american_price`` alone, best and median of ``REPEAT`` calls after a warm-up (the warm-up
  builds the exercise-boundary table, timed on its own as ``table_s``);
* QuantLib 1.44: ``QdFpAmericanEngine`` (its "fast" scheme, ALO like ours) per option, the
  price and 8 bumped prices (spot ±, vol ±, rate ±, vol+spot ±: delta, gamma, vega, volga, rho,
  vanna by central differences; no theta/charm, which would need dates) — timed on a sample
  and extrapolated to n;
* floor: ``bsm_greeks`` on the same options (European, analytic).

Cases: an ETP book (VXX-like spot 20, K/S 0.5–2, 1 day–2 years, vol 30–250 %, rate 0–6 %,
no dividend, half calls — which are then European — half puts); puts only (every option
American); and puts and calls with a dividend yield (0.5–8 %: every option American, the
boundary solved per option, and rho needs one more solve). Plus scenario repricing:
``american_price`` on 21 spot scenarios × 5,000 ETP options (puts and calls), broadcast.

The machine's load average (``os.getloadavg``) is recorded beside every case: on a shared
machine the times move with it. Run through ``python benchmarks/run.py`` or on its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import timing

from alvh_xl.pricing import (
    american_greeks,
    american_price,
    boundary_table,
    bsm_greeks,
    pool,
)

QL_SAMPLE = 200
REPEAT = 7
TARGET_S = 0.5                  # seconds for price + all Greeks of 1e5 options
CASES = {"ETP book: puts and calls, no dividend": "book",
         "puts only, no dividend": "puts",
         "puts and calls, dividend 0.5-8 %": "div"}
SCENARIOS, LEGS = 21, 5000


def make_options(n: int, case: str, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = -np.ones(n) if case == "puts" else np.where(rng.random(n) < 0.5, 1.0, -1.0)
    s = np.full(n, 20.0)
    return {"w": w, "s": s, "k": s * np.exp(rng.uniform(np.log(0.5), np.log(2.0), n)),
            "days": rng.integers(1, 731, n), "vol": rng.uniform(0.3, 2.5, n),
            "r": rng.uniform(0.0, 0.06, n),
            "q": rng.uniform(0.005, 0.08, n) if case == "div" else np.zeros(n)}


def _args(o):
    return o["w"], o["s"], o["k"], o["days"] / 365.0, o["vol"], o["r"], o["q"]


def timings(f: Callable[[], object], repeat: int = REPEAT) -> tuple[float, float]:
    """(best, median) wall seconds of ``repeat`` calls after one warm-up call."""
    times = timing.wall_times(f, repeat)
    return min(times), float(np.median(times))


def load() -> float:
    """1-minute load average (nan where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def quantlib_loop(o, count: int) -> float:
    """Seconds for ``count`` options through QdFpAmericanEngine (price + 8 bumped prices)."""
    import QuantLib as ql

    today = ql.Date(2, 1, 2025)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    spot, vol, rate, div = (ql.SimpleQuote(0.0) for _ in range(4))
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(spot),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(div), dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(rate), dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(),
                                                           ql.QuoteHandle(vol), dc)))
    engine = ql.QdFpAmericanEngine(process, ql.QdFpAmericanEngine.fastScheme())
    t0 = time.perf_counter()
    for i in range(count):
        s, v = float(o["s"][i]), float(o["vol"][i])
        spot.setValue(s)
        vol.setValue(v)
        rate.setValue(float(o["r"][i]))
        div.setValue(float(o["q"][i]))
        kind = ql.Option.Call if o["w"][i] > 0 else ql.Option.Put
        option = ql.VanillaOption(ql.PlainVanillaPayoff(kind, float(o["k"][i])),
                                  ql.AmericanExercise(today, today + int(o["days"][i])))
        option.setPricingEngine(engine)
        option.NPV()
        for quote, base, h in ((spot, s, 1e-3 * s), (vol, v, 1e-3), (rate, float(o["r"][i]),
                                                                      1e-4)):
            for x in (base + h, base - h):
                quote.setValue(x)
                option.NPV()
            quote.setValue(base)
        for x in (s + 1e-3 * s, s - 1e-3 * s):          # vanna: delta at vol + h
            spot.setValue(x)
            vol.setValue(v + 1e-3)
            option.NPV()
        spot.setValue(s)
        vol.setValue(v)
    return time.perf_counter() - t0


def have_quantlib() -> bool:
    try:
        import QuantLib  # noqa: F401
    except ImportError:
        return False
    return True


def table_seconds() -> float:
    """Seconds to build the exercise-boundary table (once per process, on first use)."""
    t0 = time.perf_counter()
    boundary_table._build()
    return time.perf_counter() - t0


def scenario_args(seed: int = 4):
    """21 spot scenarios (−50 % … +50 %) × LEGS ETP options, as broadcastable arrays."""
    rng = np.random.default_rng(seed)
    cp = np.where(rng.random(LEGS) < 0.5, 1.0, -1.0)[None, :]
    k = 20.0 * np.exp(rng.uniform(np.log(0.5), np.log(2.0), LEGS))[None, :]
    t = rng.integers(1, 731, LEGS)[None, :] / 365.0
    vol = rng.uniform(0.3, 2.5, LEGS)[None, :]
    spot = 20.0 * (1.0 + np.linspace(-0.5, 0.5, SCENARIOS))[:, None]
    return cp, spot, k, t, vol, 0.04, 0.0


def run_american_bench(n: int = 100_000) -> list[dict]:
    """One dict per case: seconds for ours (Greeks and price: best and median), QuantLib
    (extrapolated), BSM, and the load average; the last dict is the scenario repricing."""
    rows = []
    table_s = table_seconds()
    for label, case in CASES.items():
        o = make_options(n, case)
        args = _args(o)
        row = {"case": label, "n": n, "load": load(), "table_s": table_s,
               "threads": pool.THREADS}
        row["greeks_s"], row["greeks_median_s"] = timings(lambda a=args: american_greeks(*a))
        row["price_s"], row["price_median_s"] = timings(lambda a=args: american_price(*a))
        row["bsm_s"] = timings(lambda a=args: bsm_greeks(*a))[0]
        if have_quantlib():
            sample = min(n, QL_SAMPLE)
            row["ql_s"] = min(quantlib_loop(o, sample) for _ in range(2)) * n / sample
        rows.append(row)
    args = scenario_args()
    best, median = timings(lambda: american_price(*args))
    rows.append({"case": f"scenarios: american_price, {SCENARIOS} spots × {LEGS:,} options",
                 "n": SCENARIOS * LEGS, "load": load(), "price_s": best,
                 "price_median_s": median})
    return rows


if __name__ == "__main__":
    print(f"threads {pool.THREADS}, cores {os.cpu_count()}; table built in "
          f"{table_seconds():.3f} s (once per process)")
    for r in run_american_bench():
        if "greeks_s" not in r:
            print(f"{r['case']}: price {r['price_s']:.3f} s (median {r['price_median_s']:.3f})"
                  f" [load {r['load']:.2f}]")
            continue
        extra = f", QuantLib {r['ql_s']:.1f} s" if "ql_s" in r else ""
        print(f"{r['case']}: greeks {r['greeks_s']:.3f} s (median {r['greeks_median_s']:.3f}),"
              f" price {r['price_s']:.3f} s (median {r['price_median_s']:.3f}), "
              f"bsm {r['bsm_s']:.3f} s{extra} (n = {r['n']:,}; target {TARGET_S} s: "
              f"{'met' if r['greeks_s'] <= TARGET_S else 'NOT met'}) [load {r['load']:.2f}]")
