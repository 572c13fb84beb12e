"""Full-revaluation P&L under vol shifts, spot × vol grids and named scenarios (SPEC §6).

A scenario is (spot shift %, vol shift Δ, days forward). ``revalue`` reprices every leg under
every scenario it is given in one vectorised call (array shape (scenarios, legs)); P&L = new
value − base value. Ladders, grids and scenario sets go through ``full_pnl``, which calls
``revalue`` on blocks of at most ``BLOCK_CELLS`` scenario × leg values, so their memory does
not grow with scenarios × legs. Book totals are numpy's row sums of each block (the same
pairwise order as one all-at-once matrix, so the same bits); by-layer totals add each
layer's legs in book order with one ``np.bincount`` per block (linear in legs and layers;
the order numpy used for the former column gather whenever there were two or more scenarios).

Vol shift, mode ``abs`` (points) or ``rel`` (percent); weighting ``weighted`` uses the leg's
term-structure weight w, ``parallel`` uses 1:

* SPX/SPXW/XSP option: IV + w·Δ/100 (abs) or IV·(1 + w·Δ/100) (rel), on its underlying ×
  (1 + spot%) — spot (BSM) or, for a leg on an ALVH_FORWARDS forward, the forward scaled with
  spot (Black-76 at its own discount rate); XSP on SPX/10 alike;
* ES/MES future: price + S·spot% (delta 1 per SPX point; no vol, no decay);
* VX future: F + w·Δ (abs) or F·(1 + w·Δ/100) (rel);
* VIX option: repriced on its shifted future (listed or interpolated); its own IV moves by
  VolOfVolBeta·Δ;
* ETP: price × (1 + leverage · ΔF_cm / F_cm), F_cm shifted like a future with the ETP's w;
* option on an ETP: American, repriced on the ETP price moved as above (as ETP shares move),
  its own IV moved by VolOfVolBeta·Δ.

Shifted implied vols are floored at 0 (the deterministic limit), futures and the ETPs' curve
points at 0.01, and ETP prices at 0 (an ETP cannot lose more than it is worth; an option on
it is then priced on a price of MIN_ETP).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from ..book.cells import CellError, parse_numbers
from ..conventions import (
    DAYS_PER_YEAR,
    DEFAULT_SPOT_SHIFTS_PCT,
    DEFAULT_VOL_SHIFTS,
    MAX_ABS_SHIFT,
    MAX_REL_SHIFT,
)
from ..errors import InputError
from ..pricing.prices import black76_price, bsm_price
from .aggregation import layer_codes
from .valuation import ETP, ETP_OPT, FUTURE, SPX_FUT, SPX_OPT, VIX_OPT, BookValuation, LegState

MODES = ("abs", "rel")
WEIGHTINGS = ("weighted", "parallel")
MIN_FUTURE = 0.01
MIN_ETP = 1e-8             # ETP price an option on it is priced on when the ETP is wiped out
BLOCK_CELLS = 1 << 18      # scenario × leg values per block: 2 MB per temporary array


def revalue(state: LegState, *, vol_shift=0.0, spot_pct=0.0, days_forward=0.0, mode="abs",
            weighting="weighted", volvol_beta=0.0) -> np.ndarray:
    """Position values ($, scenarios × legs) under each scenario; 1-D scenario inputs
    broadcast (each of length 1 or the number of scenarios).

    Legs are handled one instrument kind at a time on (scenarios × legs-of-that-kind) arrays.
    Memory grows with scenarios × legs: for many of both, use ``full_pnl`` (blocks).
    """
    _check_choice(mode, MODES, "mode")
    _check_choice(weighting, WEIGHTINGS, "weighting")
    d = np.atleast_1d(np.asarray(vol_shift, dtype=float))[:, None]
    spot = np.atleast_1d(np.asarray(spot_pct, dtype=float))[:, None]
    days = np.atleast_1d(np.asarray(days_forward, dtype=float))[:, None]
    m = max(d.shape[0], spot.shape[0], days.shape[0])
    w = state.weight if weighting == "weighted" else np.ones(state.n)
    rel = mode == "rel"

    def move(level, eff):          # futures levels: eff in points (abs) or percent (rel)
        return level * (1.0 + eff / 100.0) if rel else level + eff

    def move_iv(iv, eff):          # decimal implied vols: eff in vol points or percent
        return iv * (1.0 + eff / 100.0) if rel else iv + eff / 100.0

    out = np.empty((m, state.n))
    kind = state.kind
    for on_fwd in (False, True):
        idx = np.flatnonzero((kind == SPX_OPT) & (state.on_forward == on_fwd))
        if idx.size:
            iv = np.maximum(move_iv(state.iv[idx], w[idx] * d), 0.0)
            s = state.under[idx] * (1.0 + spot / 100.0)
            t = state.t[idx] - days / DAYS_PER_YEAR
            out[:, idx] = (black76_price(state.cp[idx], s, state.strike[idx], t, iv,
                                         state.leg_rate[idx]) if on_fwd else
                           bsm_price(state.cp[idx], s, state.strike[idx], t, iv, state.rate,
                                     state.div))
    idx = np.flatnonzero(kind == SPX_FUT)
    if idx.size:
        live = state.t[idx] > 0
        out[:, idx] = state.fut_price[idx] + np.where(live, state.under[idx] * spot / 100.0,
                                                      0.0)
    idx = np.flatnonzero(kind == VIX_OPT)
    if idx.size:
        f = np.maximum(move(state.under[idx], w[idx] * d), MIN_FUTURE)
        iv = np.maximum(move_iv(state.iv[idx], volvol_beta * d), 0.0)
        t = state.t[idx] - days / DAYS_PER_YEAR
        out[:, idx] = black76_price(state.cp[idx], f, state.strike[idx], t, iv, state.rate)
    idx = np.flatnonzero(kind == FUTURE)
    if idx.size:
        out[:, idx] = np.maximum(move(state.under[idx], w[idx] * d), MIN_FUTURE)
    idx = np.flatnonzero(kind == ETP)
    if idx.size:
        f_cm = state.f_cm[idx]
        shifted = np.maximum(move(f_cm, w[idx] * d), MIN_FUTURE)   # the curve point, floored
        # An ETP cannot be worth less than zero, however far the futures fall.
        out[:, idx] = np.maximum(
            state.under[idx] * (1.0 + state.leverage[idx] * (shifted - f_cm) / f_cm), 0.0)
    idx = np.flatnonzero(kind == ETP_OPT)
    if idx.size:
        from ..pricing.american import american_price

        f_cm = state.f_cm[idx]
        shifted = np.maximum(move(f_cm, w[idx] * d), MIN_FUTURE)
        etp = np.maximum(state.under[idx] * (1.0 + state.leverage[idx] * (shifted - f_cm)
                                             / f_cm), MIN_ETP)
        iv = np.maximum(move_iv(state.iv[idx], volvol_beta * d), 0.0)
        t = state.t[idx] - days / DAYS_PER_YEAR
        out[:, idx] = american_price(state.cp[idx], etp, state.strike[idx], t, iv, state.rate,
                                     0.0)
    # An option already expired at the valuation time has settled: its intrinsic value on
    # today's underlying, which no scenario moves (vega 0 and no shock P&L). A live option
    # that expires within a scenario's days forward settles on the scenario's levels.
    done = np.flatnonzero(np.isin(kind, (SPX_OPT, VIX_OPT, ETP_OPT)) & (state.t <= 0))
    if done.size:
        out[:, done] = np.maximum(state.cp[done] * (state.under[done] - state.strike[done]),
                                  0.0)
    return out * state.units


def base_values(state: LegState) -> np.ndarray:
    """Position values with no shift, by the same arithmetic as ``revalue`` (so that a zero
    scenario gives exactly zero P&L)."""
    return revalue(state)[0]


def linear_pnl(state: LegState, vol_exposure: np.ndarray, vol_shift, *, mode="abs",
               weighting="weighted") -> np.ndarray:
    """Linear estimate per scenario × leg: vol exposure × the vol points each leg moves.

    In ``abs``/``weighted`` mode this sums to weighted net vega × Δ.
    """
    d = np.atleast_1d(np.asarray(vol_shift, dtype=float))[:, None]
    w = state.weight if weighting == "weighted" else 1.0
    eff = w * d
    if mode == "rel":
        level = np.select([state.kind == SPX_OPT, (state.kind == ETP) | (state.kind == ETP_OPT)],
                          [np.nan_to_num(state.iv) * 100.0, state.f_cm], state.under)
        eff = eff * level / 100.0
    return vol_exposure * eff


def full_pnl(state: LegState, *, vol_shift=0.0, spot_pct=0.0, days_forward=0.0, mode="abs",
             weighting="weighted", volvol_beta=0.0, groups: np.ndarray | None = None,
             group_count: int = 0, block_cells: int = BLOCK_CELLS
             ) -> tuple[np.ndarray, np.ndarray]:
    """Full-revaluation P&L ($) per scenario: the book total (scenarios,) and the total per
    group (scenarios × ``group_count``; legs with group code ``groups``, 0 … count − 1).

    Scenario inputs as in ``revalue``. Evaluated ``block_cells // legs`` scenarios (at least
    one) at a time: each block is ``revalue(...) − base_values(state)``, the book total its
    row sums (the bits of summing the all-at-once matrix), the group totals a bincount that
    adds each group's legs in book order. Peak memory: about ten arrays of ``block_cells``
    doubles (≈ 20 MB at the default), whatever the number of scenarios.
    """
    _check_choice(mode, MODES, "mode")
    _check_choice(weighting, WEIGHTINGS, "weighting")
    inputs = [np.atleast_1d(np.asarray(x, dtype=float)).ravel()
              for x in (vol_shift, spot_pct, days_forward)]
    count = np.broadcast_shapes(*(x.shape for x in inputs))[0]
    base = base_values(state)
    total = np.empty(count)
    by_group = np.zeros((count, group_count))
    for rows in row_blocks(count, state.n, block_cells):
        vol, spot, days = (x if x.size == 1 else x[rows] for x in inputs)
        pnl = revalue(state, vol_shift=vol, spot_pct=spot, days_forward=days, mode=mode,
                      weighting=weighting, volvol_beta=volvol_beta) - base
        total[rows] = pnl.sum(axis=1)
        if groups is not None:
            by_group[rows] = group_sums(pnl, groups, group_count)
    return total, by_group


def row_blocks(rows: int, cols: int, cells: int = BLOCK_CELLS) -> Iterator[slice]:
    """Consecutive slices of ``rows`` holding at most max(1, cells // cols) rows each."""
    step = max(1, cells // max(cols, 1))
    for start in range(0, rows, step):
        yield slice(start, min(start + step, rows))


def group_sums(values: np.ndarray, codes: np.ndarray, count: int) -> np.ndarray:
    """Sums of ``values`` (rows × legs) per group: (rows × count), each group's legs added in
    order (one ``np.bincount``, linear in legs and groups)."""
    rows = values.shape[0]
    if rows == 0 or count == 0:
        return np.zeros((rows, count))
    flat = (np.arange(rows)[:, None] * count + codes).ravel()
    return np.bincount(flat, weights=values.ravel(), minlength=rows * count).reshape(rows, count)


def shock_ladder(val: BookValuation, shifts=DEFAULT_VOL_SHIFTS, *, mode="abs",
                 weighting="weighted", by_layer=False) -> pd.DataFrame:
    """Shift, FullPnL, LinearPnL ($) (+ one full-P&L column per layer, in order of first
    appearance, when ``by_layer``)."""
    shifts = _as_shifts(shifts, "shifts")
    check_vol_shifts(shifts, mode)
    codes, layers = layer_codes(val) if by_layer else (None, [])
    full, per_layer = full_pnl(val.state, vol_shift=shifts, mode=mode, weighting=weighting,
                               volvol_beta=val.market.volvol_beta, groups=codes,
                               group_count=len(layers))
    exposure = val.legs["VolExposure"].to_numpy(float)
    lin = np.empty(shifts.size)
    for rows in row_blocks(shifts.size, val.state.n):
        lin[rows] = linear_pnl(val.state, exposure, shifts[rows], mode=mode,
                               weighting=weighting).sum(axis=1)
    out = pd.DataFrame({"Shift": shifts, "FullPnL": full, "LinearPnL": lin})
    return _with_columns(out, layers, per_layer)


def spot_vol_grid(val: BookValuation, spot_shifts_pct=DEFAULT_SPOT_SHIFTS_PCT,
                  vol_shifts=DEFAULT_VOL_SHIFTS, *, mode="abs",
                  weighting="weighted") -> pd.DataFrame:
    """Book P&L matrix ($): spot shifts (%) down the index, vol shifts across the columns."""
    spots = _as_shifts(spot_shifts_pct, "spot shifts")
    vols = _as_shifts(vol_shifts, "vol shifts")
    check_vol_shifts(vols, mode, "vol shifts")
    if ((spots <= -100) | (spots > MAX_REL_SHIFT)).any():
        raise InputError("spot shifts must lie in (-100, 1000] percent")
    ss, vv = np.meshgrid(spots, vols, indexing="ij")
    pnl, _ = full_pnl(val.state, vol_shift=vv.ravel(), spot_pct=ss.ravel(), mode=mode,
                      weighting=weighting, volvol_beta=val.market.volvol_beta)
    return pd.DataFrame(pnl.reshape(ss.shape), index=pd.Index(spots, name="SpotPct"),
                        columns=pd.Index(vols, name="VolPts"))


def named_scenarios(val: BookValuation, scenarios: pd.DataFrame) -> pd.DataFrame:
    """P&L ($) per named scenario (rows): Name, SpotPct, VolPts, DaysForward, PnL, then by
    layer (in order of first appearance).

    Vol shifts are weighted absolute points; DaysForward decays every option (expiries
    passed become intrinsic); VIX futures and ETP prices move only with vol, ES/MES only with
    spot.
    """
    check_vol_shifts(scenarios["vol_pts"].to_numpy(float), "abs", "scenarios VolPts")
    codes, layers = layer_codes(val)
    total, per_layer = full_pnl(val.state, vol_shift=scenarios["vol_pts"].to_numpy(float),
                                spot_pct=scenarios["spot_pct"].to_numpy(float),
                                days_forward=scenarios["days_forward"].to_numpy(float),
                                volvol_beta=val.market.volvol_beta, groups=codes,
                                group_count=len(layers))
    out = pd.DataFrame({"Name": scenarios["name"], "SpotPct": scenarios["spot_pct"],
                        "VolPts": scenarios["vol_pts"], "DaysForward": scenarios["days_forward"],
                        "PnL": total})
    return _with_columns(out, layers, per_layer)


def _with_columns(frame: pd.DataFrame, names: list[str], values: np.ndarray) -> pd.DataFrame:
    """``frame`` with one column per name (``values`` rows × names), added in one concat (a
    layer named like a fixed column, e.g. "PnL", is a column of its own, never written over
    the fixed one)."""
    if not names:
        return frame
    extra = pd.DataFrame(values, columns=names, index=frame.index)
    return pd.concat([frame, extra], axis=1)




def check_vol_shifts(shifts: np.ndarray, mode: str = "abs", name: str = "shifts") -> None:
    """Reject shifts no scenario means: beyond ±100 vol points, or relative ≤ −100 % / >
    +1000 % (a level cannot fall by 100 % or more)."""
    if mode == "rel":
        bad = (shifts <= -100.0) | (shifts > MAX_REL_SHIFT)
        why = "relative shifts must lie in (-100, 1000] percent"
    else:
        bad = np.abs(shifts) > MAX_ABS_SHIFT
        why = f"shifts must lie within ±{MAX_ABS_SHIFT:g} vol points"
    if bad.any():
        raise InputError(f"{name}: {why}, got {shifts[bad][0]:g}")


def _as_shifts(values, name: str) -> np.ndarray:
    """Shifts from a sequence or array (blanks skipped), read by the one list reader
    ``alvh_xl.book.cells.parse_numbers``."""
    try:
        out = parse_numbers(values, name)
    except CellError as exc:
        raise InputError(str(exc)) from None
    if out.size == 0:
        raise InputError(f"{name}: no values given")
    return out


def _check_choice(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise InputError(f"{name}: expected {' or '.join(allowed)}, got {value!r}")
