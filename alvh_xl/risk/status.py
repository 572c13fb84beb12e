"""The portfolio headline every surface shows: a flag on the whole book, or INCOMPLETE.

A number shown as the whole book must be the whole book: when any input row is left out
(a bad cell, a row typed past a table, a leg that cannot be valued) or any part of the
dashboard cannot be computed (a table that does not parse), the headline says INCOMPLETE with
the count and the first problem, instead of a flag computed on part of the book (SPEC §7).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..book import Thresholds
from ..errors import count
from .aggregation import INCOMPLETE, MEASURE_NAME, NO_LIMIT, basis_problem, portfolio_row
from .valuation import BookValuation


@dataclass(frozen=True)
class Headline:
    """The book's status: ``status`` is OK, WATCH, BREACH, "no limit" or INCOMPLETE.

    ``left_out``: input rows/cells left out; ``failed``: parts that could not be computed
    (name → reason); ``net``/``target``/``tolerance``/``headroom`` in $ per vol point on the
    PORTFOLIO ``measure`` (raw or weighted); ``message``: the first problem, or a summary.
    """

    status: str
    left_out: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    measure: str = "raw"
    net: float = float("nan")
    raw: float = float("nan")
    weighted: float = float("nan")
    target: float = 0.0
    tolerance: float = float("nan")
    headroom: float = float("nan")
    utilization: float = float("nan")
    legs: int = 0
    message: str = ""

    @property
    def text(self) -> str:
        """What the headline cell shows: 'BREACH', 'no limit', 'INCOMPLETE (2 left out)'."""
        if self.status != INCOMPLETE:
            return self.status
        parts = []
        if self.left_out:
            parts.append(f"{self.left_out} left out")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return f"{INCOMPLETE} ({', '.join(parts)})" if parts else INCOMPLETE

    @property
    def incomplete(self) -> bool:
        return self.status == INCOMPLETE

    def as_dict(self) -> dict:
        return {"status": self.status, "text": self.text, "left_out": self.left_out,
                "failed": dict(self.failed), "measure": self.measure, "net": self.net,
                "raw": self.raw, "weighted": self.weighted, "target": self.target,
                "tolerance": self.tolerance, "headroom": self.headroom,
                "utilization": self.utilization, "legs": self.legs, "message": self.message}


def headline(val: BookValuation | None, thresholds: Thresholds | None = None, *,
             failed: dict[str, str] | None = None) -> Headline:
    """The headline of a valuation. ``val`` None: the book itself could not be valued (its
    reason is in ``failed``). ``failed``: parts that did not compute, name → reason."""
    failed = dict(failed or {})
    if val is None:
        first = next(iter(failed.values()), "the book could not be valued")
        return Headline(INCOMPLETE, failed=failed,
                        message=f"{INCOMPLETE}: book not valued: {first}")
    port = portfolio_row(val, thresholds or Thresholds())
    left = [p for p in val.problems if p.left_out]
    common = dict(left_out=len(left), failed=failed, measure=port["measure"], net=port["net"],
                  raw=port["raw"], weighted=port["weighted"], target=port["target"],
                  tolerance=port["tolerance"], headroom=port["headroom"],
                  utilization=port["utilization"], legs=len(val.legs))
    if left or failed:
        problems = [str(p) for p in left] + [f"{k}: {v}" for k, v in failed.items()]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        what = []
        if left:
            what.append(f"{len(left)} input row{'s' if len(left) != 1 else ''} left out")
        if failed:
            what.append(f"{len(failed)} part{'s' if len(failed) != 1 else ''} not computed "
                        f"({', '.join(failed)})")
        return Headline(INCOMPLETE, **common, message=(
            f"{INCOMPLETE}: {' and '.join(what)}; the figures cover only what was valued. "
            f"First: {problems[0]}{more}"))
    name = MEASURE_NAME[port["measure"]].lower()
    if port["flag"] == NO_LIMIT:
        msg = (f"All {count(len(val.legs), 'leg')} valued; net {name} vega "
               f"{port['net']:+,.1f} $/pt; "
               f"{basis_problem(val, thresholds or Thresholds())}")
    else:
        msg = (f"{port['flag']}: all {count(len(val.legs), 'leg')} valued; net {name} vega "
               f"{port['net']:+,.1f} $/pt vs target {port['target']:g} ± "
               f"{port['tolerance']:,.1f} (headroom {port['headroom']:+,.1f})")
    return Headline(port["flag"], **common, message=msg)


def finite(x: float) -> float | None:
    """x, or None when it is NaN/inf (for cells and JSON)."""
    return float(x) if x is not None and np.isfinite(x) else None
