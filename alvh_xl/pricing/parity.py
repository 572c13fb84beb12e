"""Implied forward and discount factor of one expiry from call and put mid prices.

Put–call parity for European options: C − P = D·(F − K). Regressing y = mid(C) − mid(P) on
the strike K near the money gives slope −D and intercept D·F. The fit is robust:

1. keep strikes where both sides have finite mids (the caller says which are two-sided);
2. take the ``n_strikes`` strikes nearest the money (first guess: smallest |C − P|);
3. Theil–Sen: D = −median of pairwise slopes, D·F = median of y + D·K;
4. re-centre the window on that F, repeat, then drop points whose residual exceeds
   ``trim`` robust standard deviations (1.4826·MAD, floored at 1e-9·K) and refit by
   ordinary least squares on the rest.

Units: prices and strikes in currency units; the discount factor is e^{−r·t} (no unit).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import NoSolutionError


class ParityFit(NamedTuple):
    """Forward F, discount factor D, the strikes used and their residuals (currency units)."""

    forward: float
    discount: float
    strikes: np.ndarray
    residuals: np.ndarray


def implied_forward(strikes, call_mid, put_mid, two_sided=None, *, n_strikes: int = 10,
                    trim: float = 3.0) -> ParityFit:
    """Fit C − P = D·F − D·K on the ``n_strikes`` two-sided strikes nearest the money.

    ``two_sided`` (bool per strike, default: all with finite positive mids) marks strikes with
    a bid on both the call and the put. Raises NoSolutionError with fewer than 2 usable strikes
    or a non-positive fitted discount/forward.
    """
    k = np.asarray(strikes, dtype=float).ravel()
    y = np.asarray(call_mid, dtype=float).ravel() - np.asarray(put_mid, dtype=float).ravel()
    use = np.isfinite(k) & np.isfinite(y) & (k > 0)
    if two_sided is not None:
        use &= np.asarray(two_sided, dtype=bool).ravel()
    k, y = k[use], y[use]
    if np.unique(k).size < 2:
        raise NoSolutionError("put-call parity needs call and put quotes on at least 2 strikes")
    centre = k[np.argmin(np.abs(y))]
    for _ in range(2):
        near = _nearest(k, centre, n_strikes)
        disc, level = _theil_sen(k[near], y[near])
        if not disc > 0:
            break
        centre = level / disc
    near = _nearest(k, centre, n_strikes)
    kn, yn = k[near], y[near]
    resid = yn - (level - disc * kn)
    mad = 1.4826 * np.median(np.abs(resid - np.median(resid)))
    keep = np.abs(resid) <= trim * max(mad, 1e-9 * float(np.median(kn)))
    if np.unique(kn[keep]).size >= 2:
        slope, level = np.polyfit(kn[keep], yn[keep], 1)
        disc = -slope
    else:
        keep = np.ones(kn.size, dtype=bool)
    if not (disc > 0 and level > 0):
        raise NoSolutionError(f"put-call parity gives discount {disc:.6g} and D*F {level:.6g}; "
                              "the quotes are not consistent with parity")
    order = np.argsort(kn[keep])
    used = kn[keep][order]
    return ParityFit(float(level / disc), float(disc), used,
                     (yn[keep] - (level - disc * kn[keep]))[order])


def _nearest(k: np.ndarray, centre: float, n: int) -> np.ndarray:
    return np.argsort(np.abs(k - centre), kind="stable")[:max(2, n)]


def _theil_sen(k: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Discount D = −median pairwise slope and D·F = median(y + D·K)."""
    i, j = np.triu_indices(k.size, 1)
    dk = k[j] - k[i]
    ok = dk != 0
    disc = -float(np.median((y[j] - y[i])[ok] / dk[ok]))
    return disc, float(np.median(y + disc * k))
