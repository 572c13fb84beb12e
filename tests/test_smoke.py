import numpy as np

from alvh_xl.pricing import black76_greeks, bsm_greeks


def test_haug_black76_row():
    # Haug: Black-76, F = K = 19, r = 0.10, T = 0.75, sigma = 0.28 -> 1.7011 (QuantLib test suite)
    assert abs(float(black76_greeks("C", 19, 19, 0.75, 0.28, 0.10).price) - 1.7011) < 5e-5


def test_expired_is_intrinsic_with_zero_greeks():
    g = bsm_greeks(["C", "P"], 100.0, [90.0, 110.0], 0.0, 0.2, 0.05)
    assert np.allclose(g.price, [10.0, 10.0])
    assert np.all(np.stack(g[1:]) == 0.0)
