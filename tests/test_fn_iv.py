"""ALVH_IV as plain Python and through xlwings' custom-function machinery."""

import math

import numpy as np
import pytest
import QuantLib as ql
from xlcall import needs_xlwings, xl_call

from alvh_xl.xl.fn_pricing import ALVH_IV

S, K, T, R, Q, VOL = 6700.0, 6500.0, 45 / 365, 0.04, 0.013, 0.21


def _black(cp: str, fwd: float, k: float, t: float, vol: float, rate: float) -> float:
    """Independent reference price: QuantLib's BlackCalculator (discount e^{-rt})."""
    kind = ql.Option.Call if cp.upper().startswith("C") else ql.Option.Put
    return ql.BlackCalculator(ql.PlainVanillaPayoff(kind, k), fwd, vol * math.sqrt(t),
                              math.exp(-rate * t)).value()


def _price(cp="P", vol=VOL, k=K):
    """BSM price on spot = Black on the forward S·e^{(r-q)T} (QuantLib)."""
    return _black(cp, S * math.exp((R - Q) * T), k, T, vol, R)


def test_scalar_round_trip_bsm_and_black76():
    assert ALVH_IV(_price(), "P", S, K, T, R, Q) == pytest.approx(VOL, abs=1e-12)
    fwd = 19.0
    p = _black("C", fwd, 22.0, 30 / 365, 0.95, R)
    assert ALVH_IV(p, "Call", fwd, 22.0, 30 / 365, R, None, "black76") == \
        pytest.approx(0.95, abs=1e-12)


def test_ranges_broadcast_and_bad_elements_show_reasons():
    prices = [[_price("P", 0.18)], [_price("P", 0.25)], [0.0001], [S]]
    out = ALVH_IV(prices, "P", S, K, T, R, Q)
    assert out[0][0] == pytest.approx(0.18, abs=1e-12)
    assert out[1][0] == pytest.approx(0.25, abs=1e-12)
    assert isinstance(out[2][0], float) and out[2][0] < 0.05        # tiny price, low vol
    assert out[3][0] == "#ALVH! no solution: price at or above the no-arbitrage maximum"
    row = ALVH_IV([[_price("C", 0.2, 6000.0) - 500.0, 1.0, 1.0, 1.0]],
                  [["C", "C", "X", "C"]], S, 6000.0, [[T, T, T, 0.0]], R, Q)
    assert row[0][0] == "#ALVH! no solution: price below intrinsic value"
    assert row[0][1] == "#ALVH! no solution: price below intrinsic value"
    assert row[0][2] == '#ALVH! cp (column 3 of its range): expected C or P (Call/Put, or ' \
        '1/-1), got "X"'
    assert row[0][3] == "#ALVH! no solution: expired (t <= 0)"


def test_input_errors_name_the_argument():
    assert ALVH_IV(10.0, "C", -1.0, 100.0, 1.0) == \
        "#ALVH! underlying: expected a price > 0, got -1"
    assert ALVH_IV("abc", "C", 100.0, 100.0, 1.0) == \
        '#ALVH! price: expected a number, got "abc"'
    assert ALVH_IV(10.0, "C", 100.0, 100.0, 1.0, 0, 0, "sabr").startswith("#ALVH! model:")
    assert ALVH_IV([[1.0, 2.0]], "C", [[1.0], [2.0], [3.0]], [[100.0, 1.0, 2.0]], 1.0) \
        .startswith("#ALVH! ranges do not line up")
    assert ALVH_IV(None, "C", 100.0, 100.0, 1.0) == "#ALVH! price is blank"


def test_models_can_differ_per_cell():
    fwd = S * np.exp((R - Q) * T)
    p = _price("P")
    out = ALVH_IV(p, "P", [[S, fwd]], K, T, R, [[Q, 0.0]], [["bsm", "black76"]])
    assert out[0][0] == pytest.approx(VOL, abs=1e-12)
    assert out[0][1] == pytest.approx(VOL, abs=1e-10)


@needs_xlwings
def test_via_xlwings_machinery():
    import alvh_xl.udfs

    assert alvh_xl.udfs.ALVH_IV.__wrapped__ is ALVH_IV    # xl_call goes through alvh_xl.udfs
    call = xl_call
    got = call("ALVH_IV", _price(), "P", S, K, T, R, Q, "bsm")
    assert got == [[pytest.approx(VOL, abs=1e-12)]]
    col = call("ALVH_IV", [_price("P", 0.3), -1.0, _price("P", 0.15)], "P", S, K, T, R, Q, "bsm")
    assert col[0][0] == pytest.approx(0.3, abs=1e-12)
    assert col[1][0] == "#ALVH! price (row 2 of its range): expected a price >= 0, got -1"
    assert col[2][0] == pytest.approx(0.15, abs=1e-12)
    bad = call("ALVH_IV", 10.0, "C", 100.0, 100.0, 1.0, 0.0, 0.0, "heston")
    assert bad[0][0].startswith("#ALVH! model: expected one of")
