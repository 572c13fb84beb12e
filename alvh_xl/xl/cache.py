"""Evaluate a book once per distinct input: small LRU caches keyed on the cell values.

Many cells reference the same ranges (=ALVH_NETVEGA(...) per layer, ALVH_LAYERS, ALVH_BUCKETS);
each call converts its ranges to a hashable key and reuses the valuation when the values are
unchanged. Bounded in entries and in cached cells, so memory stays flat however long Excel
runs (a 100,000-leg book takes its share, not 32 copies of itself).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .officejs import gc_paused, numeric_block

MAX_ENTRIES = 32
MAX_CELLS = 4_000_000          # input cells behind the cached entries of one cache
_PLAIN = frozenset({str, float, int, type(None), dt.datetime, dt.date, dt.time})
_NUMBERS = frozenset({float, int})


class FloatBlock(NamedTuple):
    """Key of a rectangle of plain numbers: its shape and the bytes of its float64 values
    (8 bytes a cell instead of a Python tuple per row)."""

    rows: int
    cols: int
    data: bytes


def freeze(value: Any) -> Hashable:
    """Hashable copy of Excel cell values (nested lists → tuples).

    Equal keys mean equal inputs: booleans are tagged (``True == 1`` in Python, but TRUE is
    not the number 1 in a Qty cell). 2-D lists of plain cells (str, float, int, None, dates)
    take a fast path of C-level passes; there a NaN cell at worst makes a lookup miss. A
    rectangle of floats and ints (a column of prices, strikes …) becomes a ``FloatBlock``.
    """
    if isinstance(value, list) and value and set(map(type, value)) == {list}:
        types = set(map(type, chain.from_iterable(value)))
        if types <= _NUMBERS:
            block = numeric_block(value)
            if block is not None:
                return FloatBlock(*block.shape, block.tobytes())
        if types <= _PLAIN:
            with gc_paused():
                return tuple(map(tuple, value))
    return _freeze(value)


def _freeze(value: Any) -> Hashable:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("nd", value.shape, _freeze(value.tolist()))
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, (str, int, float, dt.date, dt.time)) or value is None:
        return value
    if isinstance(value, (np.integer, np.floating)):
        return _freeze(value.item())
    if isinstance(value, pd.DataFrame):
        return ("df", _freeze(list(value.columns)), _freeze(value.to_numpy(object).tolist()))
    if isinstance(value, (np.datetime64, pd.Timestamp)):
        return ("dt", str(value))
    return object()            # unknown type: a key equal to nothing, so never a stale hit


def cells_in(key: Hashable) -> int:
    """Rough size of a key: the number of cells in its nested tuples."""
    if isinstance(key, FloatBlock):
        return max(key.rows * key.cols, 1)
    if not isinstance(key, tuple):
        return 1
    if key and set(map(type, key)) == {tuple} and not any(type(c) is tuple for c in key[0]):
        return max(sum(map(len, key)), 1)          # a 2-D table: rows of cells
    return max(sum(cells_in(k) for k in key), 1)


class LRU:
    """Least-recently-used cache of computed results, bounded in entries and input cells."""

    def __init__(self, size: int = MAX_ENTRIES, max_cells: int = MAX_CELLS):
        self.size, self.max_cells = size, max_cells
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self.cells = 0
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        hit = self._data.get(key)
        if hit is not None:
            self._data.move_to_end(key)
            self.hits += 1
            return hit[0]
        self.misses += 1
        value = compute()
        weight = cells_in(key)
        if weight > self.max_cells:        # too big to keep: compute every time
            return value
        self._data[key] = (value, weight)
        self.cells += weight
        while len(self._data) > self.size or self.cells > self.max_cells:
            _, (_, w) = self._data.popitem(last=False)
            self.cells -= w
        return value

    def clear(self) -> None:
        self._data.clear()
        self.cells = 0
        self.hits = self.misses = 0


BOOKS = LRU()      # (positions, market, curve) → BookValuation
RESULTS = LRU()    # (function name, all arguments) → final cell values
