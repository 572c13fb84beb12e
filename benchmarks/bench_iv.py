"""Implied vol: alvh_xl ``implied_vol`` vs py_vollib_vectorized 0.1.1 (Let's Be Rational, numba).

Cases (prices from our own pricer at known vols, calls and puts):

* ``spx``: SPX-like, BSM on spot — K/S 0.7..1.3, 1 day..2 years, vol 8..80 %, r 4 %, q 1.3 %;
* ``wide``: the accuracy domain — t 1 minute..5 years, vol 0.5..400 %, K/S 0.1..10,
  r −1..8 %, q 0..5 % (many prices there carry no vol information: both sides return NaN
  or junk for those; errors are measured only where vega per vol point ≥ 1e-8·S).

Each row: (case, n, ours_s, peer_s, speed-up peer_s/ours_s, max |our vol − true vol| where
vega per point ≥ 1e-8·S). Times are the best of several runs after a warm-up (numba compiles
on first use). Peer optional: ``pip install py_vollib_vectorized==0.1.1`` then
``pip install --force-reinstall --no-deps py_lets_be_rational==1.0.1`` (last).
Run standalone: ``python benchmarks/bench_iv.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import timing

from alvh_xl.pricing import bsm_greeks, implied_vol


def make_case(case: str, n: int, seed: int = 3) -> dict[str, np.ndarray]:
    """Inputs and true vols for ``case`` ('spx' or 'wide')."""
    rng = np.random.default_rng(seed)
    w = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    if case == "spx":
        s = np.full(n, 6700.0)
        k = s * rng.uniform(0.7, 1.3, n)
        t = rng.uniform(1 / 365, 2.0, n)
        vol = rng.uniform(0.08, 0.8, n)
        r, q = np.full(n, 0.04), np.full(n, 0.013)
    elif case == "wide":
        s = np.full(n, 100.0)
        k = s * np.exp(rng.uniform(np.log(0.1), np.log(10.0), n))
        t = np.exp(rng.uniform(np.log(1 / 525600), np.log(5.0), n))
        vol = np.exp(rng.uniform(np.log(0.005), np.log(4.0), n))
        r, q = rng.uniform(-0.01, 0.08, n), rng.uniform(0.0, 0.05, n)
    else:
        raise ValueError(f"unknown case {case!r}")
    g = bsm_greeks(w, s, k, t, vol, r, q)
    otm = w * (s * np.exp((r - q) * t) - k) <= 0
    return {"w": w, "flag": np.where(w > 0, "c", "p"), "s": s, "k": k, "t": t, "vol": vol,
            "r": r, "q": q, "price": g.price, "matters": g.vega >= 1e-8 * s, "otm": otm}


def _best_of(f: Callable[[], object], repeat: int) -> float:
    return timing.best_of(f, repeat)


def _peer():
    try:
        import py_vollib_vectorized  # noqa: F401  (imported lazily: it patches py_vollib)
        from py_vollib_vectorized import vectorized_implied_volatility
    except Exception:                                   # not installed or fails to compile
        return None
    return vectorized_implied_volatility


def run_iv_bench(sizes=(100_000, 1_000_000), cases=("spx", "wide"), repeat: int = 5,
                 details: list | None = None) -> list[tuple]:
    """Rows (case, n, ours_s, peer_s, speed-up, max_abs_err); peer columns None if absent.

    ``details``, if given, receives one dict per row with the peer's own max error and the
    counts of NaN results on both sides.
    """
    peer = _peer()
    rows = []
    for case in cases:
        for n in sizes:
            c = make_case(case, int(n))

            def ours(c=c):
                return implied_vol(c["price"], c["w"], c["s"], c["k"], c["t"], c["r"], c["q"])

            ours_s = _best_of(ours, repeat)
            mine = ours()
            err = float(np.max(np.abs(mine - c["vol"])[c["matters"]]))
            peer_s = ratio = peer_err = None
            peer_nan = None
            if peer is not None:
                def theirs(c=c):
                    return peer(c["price"], c["s"], c["k"], c["t"], c["r"], c["flag"], q=c["q"],
                                model="black_scholes_merton", return_as="numpy",
                                on_error="ignore")

                peer_s = _best_of(theirs, repeat)
                ratio = peer_s / ours_s
                other = np.asarray(theirs(), dtype=float).ravel()
                peer_err = float(np.nanmax(np.abs(other - c["vol"])[c["matters"]]))
                peer_nan = int(np.isnan(other[c["matters"]]).sum())
            rows.append((case, int(n), ours_s, peer_s, ratio, err))
            if details is not None:
                otm = c["matters"] & c["otm"]
                details.append({"case": case, "n": int(n), "peer_max_abs_err": peer_err,
                                "ours_max_abs_err_otm": float(np.max(np.abs(mine - c["vol"])[otm])),
                                "ours_nan_where_vega_matters": int(np.isnan(mine[c["matters"]])
                                                                   .sum()),
                                "peer_nan_where_vega_matters": peer_nan,
                                "vega_matters": int(c["matters"].sum())})
    return rows


def main() -> None:
    details: list[dict] = []
    rows = run_iv_bench(details=details)
    print(f"{'case':<5} {'n':>10} {'ours':>10} {'peer':>10} {'speed-up':>9} "
          f"{'max err ours':>13} {'(OTM only)':>11} {'max err peer':>13}")
    for (case, n, ours_s, peer_s, ratio, err), d in zip(rows, details, strict=True):
        peer_txt = f"{peer_s * 1e3:8.1f}ms" if peer_s else "       n/a"
        ratio_txt = f"{ratio:8.2f}×" if ratio else "      n/a"
        perr = d["peer_max_abs_err"]
        print(f"{case:<5} {n:>10,} {ours_s * 1e3:8.1f}ms {peer_txt} {ratio_txt} {err:13.1e} "
              f"{d['ours_max_abs_err_otm']:11.1e} {perr if perr is None else f'{perr:13.1e}'}")
    print("errors: max |vol − true| where vega per vol point ≥ 1e-8·S (ITM prices carry the "
          "input-rounding term ε·p/vega).")


if __name__ == "__main__":
    main()
