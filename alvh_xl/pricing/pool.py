"""The one thread pool of the pricing kernels (Greeks, implied vols).

numpy and scipy's special functions release the GIL, so large arrays evaluated in blocks on a
few threads run up to ~2× faster on two cores. Under Pyodide (xlwings Lite,
``sys.platform == "emscripten"``) no thread can be started: everything runs in the calling
thread there. Work submitted from inside a pool thread also runs inline, so a kernel that
calls another kernel can never wait on a pool that its own caller is occupying.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

THREADS = 1 if sys.platform == "emscripten" else max(1, min(4, os.cpu_count() or 1))
_PREFIX = "alvh-pricing"
_POOL: ThreadPoolExecutor | None = None
_LOCK = threading.Lock()


def run_blocks(work: Callable[[int, int], object], n: int, block: int,
               parallel_min: int) -> None:
    """Call ``work(lo, hi)`` for consecutive blocks of ``block`` elements covering [0, n).

    On the shared pool when ``n >= parallel_min`` and threads are available, otherwise one
    block after another in this thread. ``work`` writes its results itself (into arrays the
    caller owns); an exception in any block is raised here.
    """
    starts = range(0, n, block)
    if n >= parallel_min and THREADS > 1 and not _in_pool():
        list(_pool().map(lambda lo: work(lo, min(lo + block, n)), starts))
    else:
        for lo in starts:
            work(lo, min(lo + block, n))


def _in_pool() -> bool:
    return threading.current_thread().name.startswith(_PREFIX)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(THREADS, thread_name_prefix=_PREFIX)
    return _POOL
