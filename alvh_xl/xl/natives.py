"""Values of the layout's native Excel formulas (SUM over block columns), computed from the
output blocks the way Excel would: the template caches them, a values-only copy (the report
workbook) stores them."""

from __future__ import annotations

from typing import Any

from . import layout as L


def native_values(outputs: dict[str, list[list[Any]] | None],
                  layout: L.Layout = L.LAYOUT) -> dict[str, Any]:
    """What each native formula evaluates to on these blocks (SUM: numbers count, text and
    blanks are 0, rows past the block's area are not summed)."""
    out: dict[str, Any] = {}
    legs = outputs.get("legs") or []
    block = L.OUTPUT_BY_KEY["legs"]
    table = _table(legs[: block.max_rows]) if legs else {}
    for n in layout.natives:
        column = n.key.removeprefix("legs_sum_")
        out[n.key] = sum(_n(v) for v in table.get(column, []))
    return out


def _table(cells: list[list[Any]]) -> dict[str, list[Any]]:
    header = [str(h) for h in cells[0]]
    return {h: [r[j] if j < len(r) else None for r in cells[1:]] for j, h in enumerate(header)}


def _n(v: Any) -> float:
    """SUM semantics: numbers count, text and blanks are 0."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0
