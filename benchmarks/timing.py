"""Wall-clock timing shared by the benchmarks (imported with this folder on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wall_times(f: Callable[[], object], repeat: int, *, warm_up: bool = True,
               setup: Callable[[], object] | None = None, min_time: float = 0.0
               ) -> list[float]:
    """Seconds of each of ``repeat`` calls of ``f`` (more calls while their total is under
    ``min_time``); ``warm_up``: one untimed call first; ``setup`` before each call, untimed."""
    if warm_up:
        f()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeat or time.perf_counter() - start < min_time:
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return times


def best_of(f: Callable[[], object], repeat: int, **options) -> float:
    """Best wall time (seconds) of :func:`wall_times`."""
    return min(wall_times(f, repeat, **options))
