"""Values of the layout's native Excel formulas (SUM, SUMIF, ABS, IF …), computed from the
output blocks the way Excel would: the template caches them, a values-only copy (the report
workbook) stores them."""

from __future__ import annotations

from typing import Any

from . import layout as L


def native_values(outputs, raw, layout: L.Layout = L.LAYOUT) -> dict[str, Any]:
    """What each native formula evaluates to on these blocks (the template's cached values)."""
    layers = _table(outputs["layers"])
    th = _table(raw["ALVH_THRESHOLDS"])
    port = next(i for i, v in enumerate(layers["Layer"]) if v == L.PORTFOLIO)
    tolerance = _n(layers["Limit"][port])

    def sumif(table, col):
        return sum(_n(v) for k, v in zip(table["Layer"], table[col], strict=True)
                   if k == L.PORTFOLIO)

    warn = sumif(th, "Warn")
    warn = warn if warn > 0 else 0.75
    gap = abs(_n(outputs["netvega_raw"][0][0]) - sumif(th, "Target"))
    flag = "OK" if gap < warn * tolerance else "WATCH" if gap <= tolerance else "BREACH"
    legs = _table(outputs["legs"])
    return {"tolerance": tolerance, "warn": warn, "portfolio_flag": flag,
            "headroom": tolerance - gap,
            "legs_sum_VolExposure": sum(_n(v) for v in legs["VolExposure"]),
            "legs_sum_WeightedVolExposure": sum(_n(v) for v in legs["WeightedVolExposure"])}


def _table(cells: list[list[Any]]) -> dict[str, list[Any]]:
    header = [str(h) for h in cells[0]]
    return {h: [r[j] if j < len(r) else None for r in cells[1:]] for j, h in enumerate(header)}


def _n(v: Any) -> float:
    """SUM/SUMIF semantics: numbers count, text and blanks are 0."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0
