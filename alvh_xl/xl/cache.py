"""Evaluate a book once per distinct input: a small LRU cache keyed on the cell values.

Many cells reference the same ranges (=ALVH_NETVEGA(...) per layer, ALVH_LAYERS, ALVH_BUCKETS);
each call converts its ranges to a hashable key and reuses the valuation when the values are
unchanged. Bounded in size, so memory stays flat however long Excel runs.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

MAX_ENTRIES = 32


def freeze(value: Any) -> Hashable:
    """Hashable copy of Excel cell values (nested lists → tuples; NaN-safe)."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("nd", value.shape, freeze(value.tolist()))
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, (str, int, float, bool, dt.date, dt.time)) or value is None:
        return value
    return repr(value)


class LRU:
    """Least-recently-used cache of computed results."""

    def __init__(self, size: int = MAX_ENTRIES):
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key in self._data:
            self._data.move_to_end(key)
            self.hits += 1
            return self._data[key]
        self.misses += 1
        value = compute()
        self._data[key] = value
        if len(self._data) > self.size:
            self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        self._data.clear()
        self.hits = self.misses = 0


BOOKS = LRU()      # (positions, market, curve) → Book (valuation and parsed inputs)
RESULTS = LRU()    # (function name, all arguments) → final cell values
