"""The one thread pool of the pricing kernels (alvh_xl.pricing.pool): every block exactly once,
threads only for large inputs and never under Pyodide or from inside the pool, results equal
to the single-threaded ones to the bit."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from alvh_xl.pricing import bsm_greeks, pool, solve_implied_vol


def _record(n: int, block: int, parallel_min: int):
    seen, threads = [], set()
    lock = threading.Lock()

    def work(lo: int, hi: int) -> None:
        with lock:
            seen.append((lo, hi))
            threads.add(threading.current_thread().name)

    pool.run_blocks(work, n, block, parallel_min)
    return sorted(seen), threads


@pytest.mark.parametrize("n, block", [(0, 4), (1, 4), (10, 4), (12, 4), (100_003, 4096)])
def test_blocks_cover_the_range_exactly_once(n, block):
    seen, _ = _record(n, block, parallel_min=8)
    expect = [(lo, min(lo + block, n)) for lo in range(0, n, block)]
    assert seen == expect


def test_small_inputs_stay_in_the_calling_thread():
    _, threads = _record(1000, 100, parallel_min=10_000)
    assert threads == {threading.current_thread().name}


@pytest.mark.skipif(pool.THREADS < 2, reason="one CPU: the pool is never used")
def test_large_inputs_use_the_pool():
    _, threads = _record(1000, 10, parallel_min=100)
    assert all(t.startswith("alvh-pricing") for t in threads)


def test_no_threads_when_the_platform_has_none(monkeypatch):
    """Pyodide (sys.platform emscripten) gets THREADS = 1: everything runs inline."""
    monkeypatch.setattr(pool, "THREADS", 1)
    _, threads = _record(1000, 10, parallel_min=100)
    assert threads == {threading.current_thread().name}


def test_work_submitted_from_the_pool_runs_inline():
    """A kernel calling a kernel from a pool thread never waits on the pool it occupies."""
    inner_threads = []

    def outer(lo: int, hi: int) -> None:
        seen, threads = _record(50, 5, parallel_min=10)
        assert len(seen) == 10
        inner_threads.append((threading.current_thread().name, threads))

    pool.run_blocks(outer, 40, 10, parallel_min=1)
    for name, threads in inner_threads:
        assert threads == {name}


def test_threaded_results_equal_single_threaded(monkeypatch):
    rng = np.random.default_rng(7)
    n = 140_000                                        # above both kernels' thresholds
    k = rng.uniform(50.0, 150.0, n)
    vol = rng.uniform(0.05, 1.0, n)
    threaded = bsm_greeks("P", 100.0, k, 0.5, vol, 0.03, 0.01)
    iv = solve_implied_vol(threaded.price, "P", 100.0, k, 0.5, 0.03, 0.01)
    monkeypatch.setattr(pool, "THREADS", 1)
    single = bsm_greeks("P", 100.0, k, 0.5, vol, 0.03, 0.01)
    iv_single = solve_implied_vol(single.price, "P", 100.0, k, 0.5, 0.03, 0.01)
    for name in threaded._fields:
        np.testing.assert_array_equal(getattr(threaded, name), getattr(single, name), name)
    np.testing.assert_array_equal(iv.vol, iv_single.vol)
    np.testing.assert_array_equal(iv.status, iv_single.status)
