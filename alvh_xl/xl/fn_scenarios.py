"""Close-of-day reconciliation functions: vol-shock ladder, spot × vol grid, named scenarios."""

from __future__ import annotations

from typing import Any

from ..conventions import DEFAULT_SPOT_SHIFTS_PCT, DEFAULT_VOL_SHIFTS
from ..errors import InputError, describe
from ..risk.scenarios import MODES, WEIGHTINGS, named_scenarios, shock_ladder, spot_vol_grid
from .cells import number_list, omitted, scalar_text
from .fn_book import DOC_CURVE, DOC_FWD, DOC_MKT, DOC_POS, boolean, scenarios_from, valuation
from .frames import frame_to_cells
from .registry import excel


def shifts_arg(values: Any, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    """Numbers from a range/array constant (blanks skipped); default when omitted."""
    return tuple(number_list(values, name, default).tolist())


def choice_arg(value: Any, name: str, allowed: tuple[str, ...], expected: str) -> str:
    """One of ``allowed`` (any case); blank → the first; otherwise an InputError."""
    text = scalar_text(value, name).lower()          # an Excel error value is an error
    if not text:
        return allowed[0]
    if text not in allowed:
        raise InputError(f"{name}: expected {expected}, got {describe(text)}")
    return text


def mode_arg(value: Any) -> str:
    return choice_arg(value, "mode", MODES, "abs (vol points) or rel (percent)")


def weighting_arg(value: Any) -> str:
    return choice_arg(value, "weighting", WEIGHTINGS, "weighted or parallel")


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE,
       shifts="vol shifts, default -10,-5,-2,0,2,5,10",
       mode="abs = vol points (default), rel = percent",
       by_layer="TRUE adds one full-P&L column per layer",
       weighting="weighted (default: term-structure weights) or parallel", forwards=DOC_FWD)
def ALVH_SHOCKPNL(positions, market, curve, shifts=None, mode="abs", by_layer=False,
                  weighting="weighted", forwards=None):
    """Vol-shock ladder: full-revaluation P&L ($) vs linear estimate (weighted vega x shift) per shift, term-structure weighted; optional columns by layer."""
    def compute():
        val = valuation(positions, market, curve, forwards)
        table = shock_ladder(val, shifts_arg(shifts, "shifts", DEFAULT_VOL_SHIFTS),
                             mode=mode_arg(mode), by_layer=boolean(by_layer, "by_layer"),
                             weighting=weighting_arg(weighting))
        return frame_to_cells(table, val.problems)
    return compute()


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE,
       spot_shifts_pct="SPX spot shifts in %, default -10..10 step 2",
       vol_shifts="vol shifts in points, default -10,-5,-2,0,2,5,10", forwards=DOC_FWD)
def ALVH_GRID(positions, market, curve, spot_shifts_pct=None, vol_shifts=None, forwards=None):
    """Book P&L ($, full revaluation) on a grid: SPX spot shifts (%) down the first column, weighted vol shifts (points) across the header row."""
    def compute():
        val = valuation(positions, market, curve, forwards)
        table = spot_vol_grid(val, shifts_arg(spot_shifts_pct, "spot_shifts_pct",
                                              DEFAULT_SPOT_SHIFTS_PCT),
                              shifts_arg(vol_shifts, "vol_shifts", DEFAULT_VOL_SHIFTS))
        header = [["Spot% \\ Vol"] + [float(v) for v in table.columns]]
        body = [[float(s)] + [float(x) for x in row] for s, row in zip(
            table.index, table.to_numpy(), strict=True)]
        return header + body + frame_to_cells(table.iloc[:0], val.problems, index=True)[1:]
    return compute()


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE,
       scenarios="Name|SpotPct|VolPts|DaysForward table (ALVH_SCENARIOS)", forwards=DOC_FWD)
def ALVH_SCENARIOPNL(positions, market, curve, scenarios, forwards=None):
    """P&L ($) per named scenario (spot %, weighted vol points, days forward with time decay), for the book and by layer."""
    def compute():
        val = valuation(positions, market, curve, forwards)
        if omitted(scenarios):
            raise InputError("scenarios: pass a Name|SpotPct|VolPts|DaysForward table")
        table = named_scenarios(val, scenarios_from(scenarios))
        return frame_to_cells(table, val.problems)
    return compute()


__all__ = ["ALVH_GRID", "ALVH_SCENARIOPNL", "ALVH_SHOCKPNL"]
