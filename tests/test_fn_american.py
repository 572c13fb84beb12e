"""ALVH_AMERICAN and ALVH_IV(model="american") as plain Python and through xlwings' machinery.

Reference: the engine itself (american_greeks, checked against QuantLib in test_american.py).
The Excel layer must return its numbers, shaped like Excel broadcasting, with '#ALVH! …' text
only in the cells that are bad. The engine evaluates a batch with BLAS matrix products, whose
rounding may depend on the batch (last bit), so batches are compared at 1e-13 relative;
a single cell equals the engine's scalar exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from xlcall import needs_xlwings, xl_call

from alvh_xl.conventions import GREEKS
from alvh_xl.pricing import american_greeks, american_price, bsm_greeks
from alvh_xl.xl.fn_pricing import ALVH_AMERICAN, ALVH_IV

S, K, T, R, VOL = 18.4, 22.0, 120 / 365, 0.043, 1.05     # a VXX-like put, in the money


def direct(name, *args):
    return {"ALVH_AMERICAN": ALVH_AMERICAN, "ALVH_IV": ALVH_IV}[name](*args)


def through_xlwings(name, *args):
    out = xl_call(name, *args)
    return out[0][0] if out == [[out[0][0]]] else out   # a 1×1 range comes back as [[x]]


CALLERS = [pytest.param(direct, id="python"),
           pytest.param(through_xlwings, id="xlwings", marks=needs_xlwings)]


def as_array(result) -> np.ndarray:
    return np.array(result, dtype=object)


@pytest.mark.parametrize("call", CALLERS)
def test_scalar_equals_engine_for_every_greek(call):
    g = american_greeks("P", S, K, T, VOL, R, 0.0)
    for name in GREEKS:
        got = call("ALVH_AMERICAN", name, "P", S, K, T, VOL, R, 0.0)
        assert got == float(getattr(g, name)), (name, got, float(getattr(g, name)))


@pytest.mark.parametrize("call", CALLERS)
def test_call_without_dividend_is_the_bsm_call(call):
    for name in GREEKS:
        got = call("ALVH_AMERICAN", name, "C", S, K, T, VOL, R)
        assert got == float(getattr(bsm_greeks("C", S, K, T, VOL, R, 0.0), name)), name


@pytest.mark.parametrize("call", CALLERS)
def test_greek_row_times_strike_column_broadcasts(call):
    names = [list(GREEKS)]                                  # 1 × 9 row of names
    strikes = [[14.0], [18.0], [22.0], [30.0]]              # 4 × 1 column
    out = as_array(call("ALVH_AMERICAN", names, "P", S, strikes, T, VOL, R, 0.0))
    assert out.shape == (4, 9)
    g = american_greeks("P", S, [14.0, 18.0, 22.0, 30.0], T, VOL, R, 0.0)
    np.testing.assert_allclose(out.astype(float), np.stack(g).T, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("call", CALLERS)
def test_blank_rate_and_div_default_to_zero(call):
    ref = float(american_greeks("P", S, K, T, VOL, 0.0, 0.0).price)
    assert call("ALVH_AMERICAN", "price", "P", S, K, T, VOL, None, None) == ref
    assert direct("ALVH_AMERICAN", "price", "P", S, K, T, VOL) == ref


@pytest.mark.parametrize("call", CALLERS)
def test_bad_elements_get_their_own_error_text(call):
    strikes = [[20.0], ["abc"], [22.0], [None], [24.0], [25.0]]
    vols = [[1.0], [1.0], [-0.1], [1.0], [1.0], [1.0]]
    rates = [[R], [R], [R], [R], [-0.01], [R]]
    divs = [[0.0], [0.0], [0.0], [0.0], [0.0], [-0.02]]
    out = as_array(call("ALVH_AMERICAN", "price", "P", S, strikes, T, vols, rates, divs))
    assert out.shape == (6, 1)
    assert out[0, 0] == pytest.approx(float(american_price("P", S, 20.0, T, 1.0, R)),
                                      rel=1e-13)
    assert out[1, 0] == '#ALVH! strike (row 2 of its range): expected a number, got "abc"'
    assert out[2, 0] == ("#ALVH! vol (row 3 of its range): expected a decimal vol from 0 to 5 "
                         "(0.18 for 18 %), got -0.1")
    assert out[3, 0] == "#ALVH! strike (row 4 of its range) is blank"
    assert out[4, 0] == ("#ALVH! rate (row 5 of its range): expected a decimal rate from 0 to "
                         "below 1 (0.04 for 4 %; American options take no negative rate), "
                         "got -0.01")
    assert out[5, 0] == ("#ALVH! div (row 6 of its range): expected a decimal yield from 0 to "
                         "below 1 (American options take no negative yield), got -0.02")


@pytest.mark.parametrize("call", CALLERS)
def test_percent_typed_inputs_are_caught(call):
    assert call("ALVH_AMERICAN", "price", "P", S, K, T, 105).startswith(
        "#ALVH! vol: expected a decimal vol from 0 to 5")
    assert call("ALVH_AMERICAN", "price", "P", S, K, T, VOL, 4.3).startswith(
        "#ALVH! rate: expected a decimal rate from 0 to below 1")


def test_wizard_text_fits_255_characters():
    assert ALVH_AMERICAN.__doc__ and len(ALVH_AMERICAN.__doc__) <= 255
    assert ALVH_IV.__doc__ and len(ALVH_IV.__doc__) <= 255


@needs_xlwings
def test_every_argument_is_documented_and_converted_at_our_boundary():
    from alvh_xl import udfs
    from alvh_xl.xl.registry import ON_SERVER

    meta = udfs.ALVH_AMERICAN.__xlfunc__                # attached by xlwings' @func
    assert all(a["doc"] for a in meta["args"])
    want = {"convert": "raw"} if ON_SERVER else {"ndim": 2}
    assert all(want.items() <= a["options"].items() for a in meta["args"])
    assert [a["name"] for a in meta["args"]] == ["greek", "cp", "spot", "strike", "t_years",
                                                 "vol", "rate", "div"]


# ----------------------------------------------------------------------------- ALVH_IV

@pytest.mark.parametrize("call", CALLERS)
def test_iv_round_trip_american(call):
    vols = [0.45, 0.9, 1.6]
    prices = [[float(american_price("P", S, K, T, v, R))] for v in vols]
    out = as_array(call("ALVH_IV", prices, "P", S, K, T, R, 0.0, "american"))
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out[:, 0].astype(float), vols, rtol=0, atol=1e-9)


@pytest.mark.parametrize("call", CALLERS)
def test_iv_american_reasons(call):
    intrinsic = K - S
    row = [[intrinsic - 0.5, K + 1.0, 1.0, 1.0]]
    out = as_array(call("ALVH_IV", row, "P", S, K, T, [[R, R, R, -0.01]], 0.0, "American"))
    assert out[0, 0] == "#ALVH! no solution: price below intrinsic value"
    assert out[0, 1] == "#ALVH! no solution: price at or above the no-arbitrage maximum"
    assert out[0, 2] == "#ALVH! no solution: price below intrinsic value"
    # the same words as ALVH_AMERICAN's for a negative rate (one domain for both)
    assert out[0, 3] == ("#ALVH! rate (column 4 of its range): expected a decimal rate from 0 "
                         "to below 1 (0.04 for 4 %; American options take no negative rate), "
                         "got -0.01")


def test_iv_models_can_differ_per_cell():
    p = float(american_price("P", S, K, T, VOL, R))
    out = ALVH_IV(p, "P", S, K, T, R, 0.0, [["american", "bsm"]])
    assert out[0][0] == pytest.approx(VOL, abs=1e-9)
    assert out[0][1] > VOL               # the European vol of an American price is higher
