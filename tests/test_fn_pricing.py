"""ALVH_BSM / ALVH_BLACK76 as plain Python and through xlwings' custom-function machinery.

Reference: the engine itself (bsm_greeks, black76_greeks, checked against QuantLib in
test_greeks.py); the Excel layer must return exactly its numbers (equality, no tolerance),
shaped like Excel broadcasting, with '#ALVH! …' text only in the cells that are bad.
"""

from __future__ import annotations

import numpy as np
import pytest
from xlcall import needs_xlwings, xl_call

from alvh_xl.conventions import GREEKS
from alvh_xl.pricing import black76_greeks, bsm_greeks
from alvh_xl.xl.fn_pricing import ALVH_BLACK76, ALVH_BSM


def direct(name, *args):
    return {"ALVH_BSM": ALVH_BSM, "ALVH_BLACK76": ALVH_BLACK76}[name](*args)


def through_xlwings(name, *args):
    out = xl_call(name, *args)
    return out[0][0] if out == [[out[0][0]]] else out   # a 1×1 range comes back as [[x]]


CALLERS = [pytest.param(direct, id="python"),
           pytest.param(through_xlwings, id="xlwings", marks=needs_xlwings)]


def as_array(result) -> np.ndarray:
    return np.array(result, dtype=object)


@pytest.mark.parametrize("call", CALLERS)
def test_scalar_equals_engine_for_every_greek(call):
    g = bsm_greeks("P", 6700.0, 6500.0, 0.3, 0.18, 0.04, 0.013)
    b = black76_greeks("C", 21.5, 25.0, 0.1, 0.9, 0.04)
    for name in GREEKS:
        assert call("ALVH_BSM", name, "P", 6700.0, 6500.0, 0.3, 0.18, 0.04, 0.013) == float(
            getattr(g, name))
        assert call("ALVH_BLACK76", name, "C", 21.5, 25.0, 0.1, 0.9, 0.04) == float(
            getattr(b, name))


@pytest.mark.parametrize("call", CALLERS)
def test_column_of_strikes_spills_a_column(call):
    strikes = [[90.0], [100.0], [110.0]]
    out = call("ALVH_BSM", "delta", "C", 100.0, strikes, 0.5, 0.2, 0.03, 0.01)
    expected = bsm_greeks("C", 100.0, [90.0, 100.0, 110.0], 0.5, 0.2, 0.03, 0.01).delta
    assert as_array(out).shape == (3, 1)
    np.testing.assert_array_equal(as_array(out)[:, 0].astype(float), expected)


@pytest.mark.parametrize("call", CALLERS)
def test_greek_row_times_strike_column_broadcasts(call):
    names = [list(GREEKS)]                                  # 1 × 9 row of names
    strikes = [[90.0], [100.0], [110.0], [120.0]]          # 4 × 1 column
    out = as_array(call("ALVH_BSM", names, "P", 100.0, strikes, 0.25, 0.3, 0.02, 0.0))
    assert out.shape == (4, 9)
    g = bsm_greeks("P", 100.0, [90.0, 100.0, 110.0, 120.0], 0.25, 0.3, 0.02, 0.0)
    np.testing.assert_array_equal(out.astype(float), np.stack(g).T)


@pytest.mark.parametrize("call", CALLERS)
def test_greek_names_and_cp_in_any_case(call):
    ref = float(bsm_greeks("C", 100.0, 105.0, 1.0, 0.2).vega)
    for greek in ("vega", "VEGA", " Vega "):
        for cp in ("C", "c", "Call", "CALL", 1.0, 1):
            assert call("ALVH_BSM", greek, cp, 100.0, 105.0, 1.0, 0.2) == ref


@pytest.mark.parametrize("call", CALLERS)
def test_blank_rate_and_div_default_to_zero(call):
    ref = float(bsm_greeks("C", 100.0, 105.0, 1.0, 0.2, 0.0, 0.0).price)
    assert call("ALVH_BSM", "price", "C", 100.0, 105.0, 1.0, 0.2, None, None) == ref
    assert call("ALVH_BSM", "price", "C", 100.0, 105.0, 1.0, 0.2, "", None) == ref
    assert direct("ALVH_BSM", "price", "C", 100.0, 105.0, 1.0, 0.2) == ref
    assert call("ALVH_BLACK76", "price", "C", 100.0, 105.0, 1.0, 0.2, None) == float(
        black76_greeks("C", 100.0, 105.0, 1.0, 0.2, 0.0).price)


@pytest.mark.parametrize("call", CALLERS)
def test_bad_elements_get_their_own_error_text(call):
    strikes = [[90.0], ["abc"], [110.0], [None]]
    vols = [[0.2], [0.2], [-0.1], [0.2]]
    out = as_array(call("ALVH_BSM", "price", "C", 100.0, strikes, 0.5, vols))
    assert out.shape == (4, 1)
    assert out[0, 0] == float(bsm_greeks("C", 100.0, 90.0, 0.5, 0.2).price)
    assert out[1, 0] == '#ALVH! strike (row 2 of its range): expected a number, got "abc"'
    assert out[2, 0] == ("#ALVH! vol (row 3 of its range): expected a decimal vol from 0 to 5 "
                         "(0.18 for 18 %), got -0.1")
    assert out[3, 0] == "#ALVH! strike (row 4 of its range) is blank"


@pytest.mark.parametrize("call", CALLERS)
def test_unknown_greek_and_cp_are_per_cell_errors(call):
    out = as_array(call("ALVH_BSM", [["delta", "speed"]], [["C"], ["Straddle"]], 100.0, 100.0,
                        1.0, 0.2))
    assert out.shape == (2, 2)
    assert out[0, 0] == float(bsm_greeks("C", 100.0, 100.0, 1.0, 0.2).delta)
    assert out[0, 1].startswith("#ALVH! greek (column 2 of its range): expected one of") \
        and '"speed"' in out[0, 1]
    assert out[1, 0] == ('#ALVH! cp (row 2 of its range): expected C or P (Call/Put, or 1/-1), '
                         'got "Straddle"')
    assert out[1, 1].startswith("#ALVH! greek")              # first error of the cell wins


@pytest.mark.parametrize("call", CALLERS)
def test_shape_mismatch_is_one_clear_message(call):
    out = call("ALVH_BSM", "price", "C", 100.0, [[90.0], [100.0]], [[0.1], [0.2], [0.3]], 0.2)
    assert out == "#ALVH! ranges do not line up: strike 2x1, t_years 3x1"


@pytest.mark.parametrize("call", CALLERS)
def test_black76_negative_forward_names_fwd(call):
    out = as_array(call("ALVH_BLACK76", "price", "P", [[20.0], [-1.0]], 22.0, 0.1, 0.8))
    assert out[0, 0] == float(black76_greeks("P", 20.0, 22.0, 0.1, 0.8).price)
    assert out[1, 0] == "#ALVH! fwd (row 2 of its range): expected a price > 0, got -1"


@pytest.mark.parametrize("func", [ALVH_BSM, ALVH_BLACK76])
def test_wizard_text_fits_255_characters(func):
    assert func.__doc__ and len(func.__doc__) <= 255


@needs_xlwings
@pytest.mark.parametrize("func", [ALVH_BSM, ALVH_BLACK76])
def test_every_argument_is_documented_and_converted_at_our_boundary(func):
    from alvh_xl import udfs
    from alvh_xl.xl.registry import ON_SERVER

    meta = getattr(udfs, func.__name__).__xlfunc__     # attached by xlwings' @func
    assert all(a["doc"] for a in meta["args"])
    # on the server every argument arrives raw (our conversion); classic ranges stay 2-D
    want = {"convert": "raw"} if ON_SERVER else {"ndim": 2}
    assert all(want.items() <= a["options"].items() for a in meta["args"])
    assert [a["name"] for a in meta["args"]][:2] == ["greek", "cp"]


def test_vol_typed_in_percent_is_caught():
    from alvh_xl.udfs import ALVH_BLACK76, ALVH_BSM

    assert ALVH_BSM("price", "C", 100, 100, 1, 18) == \
        "#ALVH! vol: expected a decimal vol from 0 to 5 (0.18 for 18 %), got 18"
    assert ALVH_BLACK76("vega", "P", 19, 20, 0.1, 95).startswith("#ALVH! vol: expected a decimal")
    assert isinstance(ALVH_BSM("price", "C", 100, 100, 1, 4.0), float)   # 400 % is allowed


def test_rate_and_div_typed_in_percent_are_caught():
    from alvh_xl.udfs import ALVH_BSM

    assert ALVH_BSM("price", "C", 100, 100, 1, 0.2, 4) == \
        "#ALVH! rate: expected a decimal rate between -1 and 1 (0.04 for 4 %), got 4"
    assert ALVH_BSM("price", "C", 100, 100, 1, 0.2, 0.04, 1.3) == \
        "#ALVH! div: expected a decimal yield between -1 and 1 (0.013 for 1.3 %), got 1.3"


@pytest.mark.parametrize("call", CALLERS)
def test_percent_text_reads_as_a_fraction_in_vol_rate_and_div(call):
    """SPEC §3: '18%' where a fraction is expected — as in the positions' IV and the Market's
    Rate/DivYield cells, a pricing function's vol, rate and div take '20%' as 0.20."""
    ref = float(bsm_greeks("C", 6700.0, 6650.0, 0.1, 0.2, 0.04, 0.0125).price)
    got = call("ALVH_BSM", "price", "C", 6700.0, 6650.0, 0.1, "20%", "4%", "1.25%")
    assert got == pytest.approx(ref, rel=1e-15), (got, ref)
    b76 = float(black76_greeks("P", 19.25, 18.0, 0.15, 0.85, 0.0385).price)
    got = call("ALVH_BLACK76", "price", "P", 19.25, 18.0, 0.15, "85%", "3.85%")
    assert got == pytest.approx(b76, rel=1e-15), (got, b76)
    for where in ("spot", "strike"):                   # not a fraction: '%' is an error there
        args = [6700.0, 6650.0]
        args[where == "strike"] = "6700%"
        assert "percentage" in str(call("ALVH_BSM", "price", "C", *args, 0.1, 0.2)), where
