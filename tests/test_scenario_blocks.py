"""Scenario work in blocks (issue 9 item 7, issue 13 item 4): grids, ladders, scenario sets and
break-even searches evaluate a bounded block at a time and give the same bits as before.

References, written out here and not taken from the code under test:

* the all-at-once computation: ``revalue`` on every scenario at once (one scenarios × legs
  matrix) minus the base values, numpy's row sums for the book, the column gather
  ``full[:, cols].sum(axis=1)`` for each layer (what the package did before blocks);
* a leg-by-leg Python sum per layer (the order ``np.bincount`` adds in);
* for break-evens, one search over every shift at once (the package's inner search on all
  pairs) and, for the roots themselves, tests/test_condor.py (QuantLib, brentq).

Comparisons are bit for bit (``tobytes``) unless a tolerance is stated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_condor import CURVE, ENTRY, HEAD, MKT, ic
from test_condor import book as condor_book

from alvh_xl.book import parse_curve, parse_market, parse_positions, parse_scenarios
from alvh_xl.errors import InputError
from alvh_xl.risk import condor, scenarios
from alvh_xl.risk.history import shock_column, snapshot
from alvh_xl.risk.scenarios import (
    BLOCK_CELLS,
    base_values,
    full_pnl,
    named_scenarios,
    revalue,
    row_blocks,
    shock_ladder,
    spot_vol_grid,
)
from alvh_xl.risk.valuation import value_book
from alvh_xl.tools.synthetic import curve_table, make_book, market_table
from alvh_xl.xl.fn_condor import ALVH_BREAKEVENS

SPOTS = np.linspace(-10, 10, 21)
VOLS = np.linspace(-10, 10, 21)


def valued(n: int, seed: int = 7, one_layer_per_leg: bool = False):
    rows = make_book(n, seed=seed)
    if one_layer_per_leg:
        for i, row in enumerate(rows[1:]):
            row[0] = f"L{i + 1}"
    return value_book(parse_positions(rows), parse_market(market_table()),
                      parse_curve(curve_table()))


def all_at_once(val, **scenario):
    """The pre-block computation: (book totals, {layer: totals}, the P&L matrix)."""
    full = revalue(val.state, volvol_beta=val.market.volvol_beta, **scenario) \
        - base_values(val.state)
    layers = val.legs["Layer"].to_numpy(dtype=object)
    by_layer = {layer: full[:, np.flatnonzero(layers == layer)].sum(axis=1)
                for layer in dict.fromkeys(layers)}
    return full.sum(axis=1), by_layer, full


def assert_same_bits(got, want, what: str) -> None:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    same = got.shape == want.shape and got.tobytes() == want.tobytes()
    if not same:
        diff = np.abs(got - want) if got.shape == want.shape else None
        pytest.fail(f"{what}: not bit-identical\nexpected {want!r}\ncalculated {got!r}\n"
                    f"max |diff| {None if diff is None else np.nanmax(diff)!r} (tolerance 0)")


def test_block_plan():
    assert [(s.start, s.stop) for s in row_blocks(7, 3, 6)] == [(0, 2), (2, 4), (4, 6), (6, 7)]
    assert [(s.start, s.stop) for s in row_blocks(3, 10, 4)] == [(0, 1), (1, 2), (2, 3)]
    assert list(row_blocks(0, 5)) == []
    assert [(s.start, s.stop) for s in row_blocks(2, 0)] == [(0, 2)]


# Book sizes around the default block boundary of a 21 × 21 grid (441 scenarios): 594 legs
# fit in one block, 595 and 596 need two, 1,500 legs four.
@pytest.mark.parametrize("legs, blocks", [(1, 1), (2, 1), (9, 1), (594, 1), (595, 2),
                                          (596, 2), (1_500, 3)])
def test_grid_has_the_bits_of_the_all_at_once_grid(legs, blocks):
    assert len(list(row_blocks(SPOTS.size * VOLS.size, legs, BLOCK_CELLS))) == blocks
    val = valued(legs, seed=legs)
    grid = spot_vol_grid(val, SPOTS, VOLS)
    ss, vv = np.meshgrid(SPOTS, VOLS, indexing="ij")
    total, _, _ = all_at_once(val, vol_shift=vv.ravel(), spot_pct=ss.ravel())
    assert_same_bits(grid.to_numpy(), total.reshape(ss.shape), f"grid, {legs} legs")


@pytest.mark.parametrize("block_cells", [1, 36, 37, 38, 74, 111, 37 * 23 - 1, 37 * 23, 10**9])
def test_every_block_size_gives_the_same_bits(block_cells):
    """37 legs in 8 layers, 23 scenarios with spot, vol and days: blocks of 1 scenario, just
    under / at / over one and several scenarios, and everything at once."""
    val = valued(37, seed=3)
    rng = np.random.default_rng(5)
    sc = {"vol_shift": rng.uniform(-20, 20, 23), "spot_pct": rng.uniform(-15, 15, 23),
          "days_forward": rng.choice([0.0, 1.0, 7.0, 40.0], 23)}
    codes, names = pd.factorize(val.legs["Layer"].to_numpy(dtype=object), sort=False)
    total, per_layer = full_pnl(val.state, **sc, volvol_beta=val.market.volvol_beta,
                                groups=codes, group_count=len(names), block_cells=block_cells)
    ref_total, ref_layers, full = all_at_once(val, **sc)
    assert_same_bits(total, ref_total, f"book totals, block_cells={block_cells}")
    assert list(ref_layers) == list(names)
    for j, name in enumerate(names):
        assert_same_bits(per_layer[:, j], ref_layers[name], f"layer {name}")
        cols = np.flatnonzero(codes == j)
        leg_by_leg = []
        for row in full:
            acc = 0.0
            for c in cols:
                acc += row[c]
            leg_by_leg.append(acc)
        assert_same_bits(per_layer[:, j], leg_by_leg, f"layer {name} vs leg-by-leg sum")


def test_one_scenario_by_layer_is_the_leg_by_leg_sum():
    """With a single scenario the old column gather summed pairwise; blocks add leg by leg:
    the same to rounding (1e-12 relative of the layer's gross)."""
    val = valued(400, seed=11)
    codes, names = pd.factorize(val.legs["Layer"].to_numpy(dtype=object), sort=False)
    _, per_layer = full_pnl(val.state, vol_shift=[4.0], groups=codes, group_count=len(names),
                            volvol_beta=val.market.volvol_beta)
    _, ref_layers, full = all_at_once(val, vol_shift=[4.0])
    for j, name in enumerate(names):
        part = full[0, codes == j]
        assert per_layer[0, j] == pytest.approx(ref_layers[name][0],
                                                abs=1e-12 * np.abs(part).sum()), name
        assert_same_bits(per_layer[0, j], float(np.cumsum(part)[-1]), f"layer {name}")


@pytest.mark.parametrize("legs", [1, 50, 777])
def test_ladder_and_named_scenarios_have_the_old_bits(legs):
    val = valued(legs, seed=legs + 1)
    shifts = [-10.0, -5.0, -2.0, 0.0, 2.0, 5.0, 10.0]
    lad = shock_ladder(val, shifts, by_layer=True)
    total, layers, _ = all_at_once(val, vol_shift=np.array(shifts))
    assert_same_bits(lad["FullPnL"], total, "FullPnL")
    assert list(lad.columns) == ["Shift", "FullPnL", "LinearPnL", *layers]
    for name, ref in layers.items():
        assert_same_bits(lad[name], ref, f"ladder layer {name}")
    lin = scenarios.linear_pnl(val.state, val.legs["VolExposure"].to_numpy(float), shifts)
    assert_same_bits(lad["LinearPnL"], lin.sum(axis=1), "LinearPnL")

    table = parse_scenarios([["Name", "SpotPct", "VolPts", "DaysForward"], ["Crash", -8, 12, 0],
                             ["FOMC", 1.5, -3, 1], ["Weekend", 0, 0, 3]])
    named = named_scenarios(val, table)
    total, layers, _ = all_at_once(val, vol_shift=table["vol_pts"].to_numpy(float),
                                   spot_pct=table["spot_pct"].to_numpy(float),
                                   days_forward=table["days_forward"].to_numpy(float))
    assert list(named.columns) == ["Name", "SpotPct", "VolPts", "DaysForward", "PnL", *layers]
    assert_same_bits(named["PnL"], total, "scenario PnL")
    for name, ref in layers.items():
        assert_same_bits(named[name], ref, f"scenario layer {name}")


def test_one_layer_per_leg_columns_are_the_legs_own_pnl():
    val = valued(3_000, seed=2, one_layer_per_leg=True)
    lad = shock_ladder(val, by_layer=True)
    _, _, full = all_at_once(val, vol_shift=np.array(lad["Shift"], dtype=float))
    assert list(lad.columns[3:]) == [f"L{i + 1}" for i in range(3_000)]
    assert_same_bits(lad.iloc[:, 3:].to_numpy(), full, "per-leg layers")


def test_blocks_are_bounded(monkeypatch):
    """No revalue call holds more than max(block, legs) scenario × leg values (the old grid
    priced all 441 × legs at once)."""
    calls = []
    real = scenarios.revalue

    def spy(state, **kw):
        out = real(state, **kw)
        calls.append(out.shape)
        return out

    monkeypatch.setattr(scenarios, "revalue", spy)
    val = valued(2_000, seed=4)
    grid = spot_vol_grid(val, SPOTS, VOLS)
    assert grid.shape == (21, 21)
    big = [s for s in calls if s[0] > 1]
    assert sum(s[0] for s in big) == 441
    assert max(r * n for r, n in big) <= BLOCK_CELLS, calls


def test_snapshot_shocks_are_the_ladder_by_layer():
    val = valued(300, seed=9)
    snap = snapshot(val)
    lad = shock_ladder(val, by_layer=True)
    for j, shift in enumerate(lad["Shift"]):
        col = shock_column(float(shift))
        book = snap.loc[snap["Level"] == "book", col].to_numpy()
        assert_same_bits(book, lad["FullPnL"].to_numpy()[[j]], f"book {col}")
        layers = snap[snap["Level"] == "layer"].set_index("Key")[col]
        for name in lad.columns[3:]:
            assert_same_bits(layers[name], lad[name].iat[j], f"{name} {col}")


# ---- break-even migration ----

def test_breakevens_in_blocks_have_the_bits_of_one_search(monkeypatch):
    val = condor_book(*ic(entry=ENTRY),
                      *ic(name="IC-Feb", expiry="2027-02-19", strikes=(6100, 6200, 7150, 7250)),
                      *ic(name="IC-Mar", expiry="2027-03-19", strikes=(6000, 6150, 7250, 7400)))
    c = condor.find_condors(val)[0]
    shifts = np.linspace(-30, 30, 150)
    pairs = []
    real = condor.t0_pnl

    def spy(part, spots, shifts_):
        pairs.append(part.size * np.size(shifts_))
        return real(part, spots, shifts_)

    low_ref, high_ref = condor._search_breakevens(c, shifts)     # every pair at once
    monkeypatch.setattr(condor, "t0_pnl", spy)
    low, high = condor.t0_breakevens(c, shifts)
    assert max(pairs) <= condor.SEARCH_BLOCK, max(pairs)
    assert np.isfinite(low).sum() > 100 and np.isnan(high).sum() > 0   # both kinds covered
    assert_same_bits(low, low_ref, "T0 low")
    assert_same_bits(high, high_ref, "T0 high")


def test_too_many_shifts_is_an_input_error_naming_the_argument():
    val = condor_book(*ic(entry=ENTRY))
    many = np.zeros(condor.MAX_BREAKEVEN_SHIFTS + 1)
    with pytest.raises(InputError, match=r"^shifts: at most 10,000 vol shifts, got 10,001"):
        condor.breakeven_migration(val, "IC-Jan", many)
    with pytest.raises(InputError, match=r"^shifts: at most 10,000"):
        condor.condor_report(val, many)
    out = ALVH_BREAKEVENS([HEAD, *ic(entry=ENTRY)], MKT, CURVE, "IC-Jan",
                          [[0.0]] * (condor.MAX_BREAKEVEN_SHIFTS + 1))
    assert out == ("#ALVH! vol_shifts: at most 10,000 vol shifts, got 10,001 (each shift is "
                   "its own break-even search)")



def test_a_layer_named_like_a_fixed_column_never_replaces_it():
    rows = make_book(40, seed=8)
    for row in rows[1:11]:
        row[0] = "PnL"
    for row in rows[11:21]:
        row[0] = "FullPnL"
    val = value_book(parse_positions(rows), parse_market(market_table()),
                     parse_curve(curve_table()))
    table = parse_scenarios([["Name", "SpotPct", "VolPts", "DaysForward"], ["Up", 2, 3, 0],
                             ["Down", -2, -3, 0]])
    named = named_scenarios(val, table)
    total, layers, _ = all_at_once(val, vol_shift=[3.0, -3.0], spot_pct=[2.0, -2.0])
    assert list(named.columns[:6]) == ["Name", "SpotPct", "VolPts", "DaysForward", "PnL", "PnL"]
    assert_same_bits(named.iloc[:, 4], total, "book PnL")
    assert_same_bits(named.iloc[:, 5], layers["PnL"], "layer PnL")
    lad = shock_ladder(val, [-5.0, 5.0], by_layer=True)
    assert list(lad.columns[:4]) == ["Shift", "FullPnL", "LinearPnL", "PnL"]
    assert lad.columns[4] == "FullPnL"
    assert_same_bits(lad.iloc[:, 1], all_at_once(val, vol_shift=[-5.0, 5.0])[0], "FullPnL")
