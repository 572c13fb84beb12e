"""Price-only fast path for full revaluation (same model and edge cases as greeks.py).

``black_price(cp, fwd, strike, t, vol, discount)`` is the undiscounted-forward Black formula
times the discount factor; BSM on spot is the same with fwd = S·e^{(r−q)t}, discount e^{−rt}.
No input checks: callers pass arrays already validated (scenario engine).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr


def black_price(cp, fwd, strike, t, vol, discount) -> np.ndarray:
    """Discounted Black price per unit; t ≤ 0 → intrinsic max(cp(F−K), 0) undiscounted;
    vol = 0 → discounted intrinsic of the forward."""
    cp, fwd, strike, t, vol, discount = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (cp, fwd, strike, t, vol, discount)))
    live = t > 0
    sig = vol * np.sqrt(np.where(live, t, 0.0))
    has = sig > 0
    s = np.where(has, sig, 1.0)
    x = np.log(fwd / strike)
    d1 = np.where(has, x / s + 0.5 * s, np.where(x > 0, np.inf, np.where(x < 0, -np.inf, 0.0)))
    d2 = np.where(has, d1 - s, d1)
    price = discount * cp * (fwd * ndtr(cp * d1) - strike * ndtr(cp * d2))
    price = np.maximum(price, 0.0)
    return np.where(live, price, np.maximum(cp * (fwd - strike), 0.0))


def bsm_price(cp, spot, strike, t, vol, rate=0.0, div=0.0) -> np.ndarray:
    """BSM price per unit on spot with continuous dividend yield (see ``black_price``)."""
    t = np.asarray(t, dtype=float)
    tt = np.maximum(t, 0.0)
    fwd = np.where(t > 0, spot * np.exp((rate - div) * tt), spot)
    return black_price(cp, fwd, strike, t, vol, np.exp(-rate * tt))


def black76_price(cp, fwd, strike, t, vol, rate=0.0) -> np.ndarray:
    """Black-76 price per unit on a forward, discounted at ``rate``."""
    tt = np.maximum(np.asarray(t, dtype=float), 0.0)
    return black_price(cp, fwd, strike, t, vol, np.exp(-rate * tt))
