"""The condor chart's curves are drawn in the condor's own index points (issue 9 item 10).

Seen in the report's condor_pnl.png: the IC-XSP panel ran to 7,000 ('SPX now' at 6,712 on an
XSP axis of 612-708) and its T+0 curves lay flat at the maximum loss, because the XSP grid
(own points) was handed to the T+0 pricer as SPX points. Reference: the T+0 P&L at today's
level with no vol shift equals the four legs' P&L, Σ Qty·Multiplier·(Price − EntryPrice), from
the valuation's Legs table (priced leg by leg, not by the condor module).
"""

from __future__ import annotations

import numpy as np
import pytest

from alvh_xl.charts import condor_curves, condor_level
from alvh_xl.commands.report import bundled_template
from alvh_xl.xl.pipeline import build_dashboard
from alvh_xl.xl.workbook import read_inputs

TOL = 0.05          # $, per condor: the curve is linearly interpolated between grid points


@pytest.fixture(scope="module")
def engine():
    return build_dashboard(read_inputs(bundled_template())).engine


@pytest.mark.parametrize("name,points_per_spx", [("IC-Jan", 1.0), ("IC-XSP", 0.1)])
def test_t0_curve_at_todays_level_is_the_legs_pnl(engine, name, points_per_spx):
    legs = engine.valuation.legs
    mine = legs[legs["Strategy"] == name]
    assert len(mine) == 4, mine
    want = float(mine["PnL"].sum())
    level = condor_level(engine, name)
    spx = engine.valuation.market.spx_spot
    assert level == pytest.approx(spx * points_per_spx), (name, level, spx)
    curves = condor_curves(engine, name, (0.0,))
    spot = curves["spot"]
    assert spot[0] < level < spot[-1], (name, level, spot[[0, -1]])
    got = float(np.interp(level, spot, curves["t0"][0.0]))
    assert abs(got - want) <= TOL, (f"{name}: T+0 P&L at {level:.2f} = {got:.4f} $, legs' "
                                    f"P&L {want:.4f} $, tolerance {TOL}")


def test_layers_get_distinct_colours_and_axes_read_in_dollars():
    """Nine layers drew Core and the eighth layer in one navy (7 colours cycled); axes of
    $ per vol point showed matplotlib's '1e7' multiplier above them."""
    from alvh_xl.charts import LAYER_COLORS, dollars, layer_color

    first = [layer_color(i) for i in range(21)]
    assert len(set(first)) == 21 == len(set(LAYER_COLORS)), first
    assert dollars(-58_251_865.7) == "-58,251,866" and dollars(0.0) == "0"
