from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..book.cells import position
from ..conventions import CALL_PUT_EXPECTED, GREEKS, MAX_IV
from ..pricing import american_greeks, black76_greeks, bsm_greeks
from ..pricing.implied import OK, STATUS, solve_implied_vol
from ..pricing.inputs import domain_of, outside_domain
from .cells import (
    broadcast,
    calls_puts,
    domain_errors,
    first_error,
    grid,
    numbers,
    spill,
    texts,
)
from .registry import excel

_GREEK_INDEX = {g.upper(): i for i, g in enumerate(GREEKS)}
_MODELS = {"BSM": "bsm", "BS": "bsm", "BLACK76": "black76", "BLACK": "black76", "B76": "black76",
           "AMERICAN": "american"}

_DOC_GREEK = "price, delta, gamma, vega, theta, rho, vanna, volga or charm (a range spills)"
_DOC_CP = CALL_PUT_EXPECTED
_DOC_T = "time to expiry in years (ACT/365)"
_DOC_VOL = "implied vol as a decimal, e.g. 0.18"
_DOC_RATE = "risk-free rate, decimal, continuous (default 0)"


@excel(greek=_DOC_GREEK, cp=_DOC_CP, spot="underlying spot price", strike="strike price",
       t_years=_DOC_T, vol=_DOC_VOL, rate=_DOC_RATE,
       div="dividend yield, decimal, continuous (default 0)")
def ALVH_BSM(greek, cp, spot, strike, t_years, vol, rate=0.0, div=0.0):
    """Black-Scholes-Merton price or Greek per unit. Vega/vanna per vol point, volga per point², theta/charm per day, rho per 1% rate. Ranges broadcast and spill."""
    return _greeks_cells(greek, cp, spot, strike, t_years, vol, rate, div, model="bsm")


@excel(greek=_DOC_GREEK, cp=_DOC_CP, spot="underlying spot price (e.g. the ETP)",
       strike="strike price", t_years=_DOC_T, vol=_DOC_VOL,
       rate="risk-free rate, decimal, continuous, >= 0 (default 0)",
       div="dividend yield, decimal, continuous, >= 0 (default 0; ETPs pay none)")
def ALVH_AMERICAN(greek, cp, spot, strike, t_years, vol, rate=0.0, div=0.0):
    """American option (e.g. on a vol ETP) price or Greek per unit, same units as ALVH_BSM. Without dividend a call equals the BSM call. Ranges broadcast and spill."""
    return _greeks_cells(greek, cp, spot, strike, t_years, vol, rate, div, model="american")


@excel(greek=_DOC_GREEK, cp=_DOC_CP, fwd="forward or futures price", strike="strike price",
       t_years=_DOC_T, vol=_DOC_VOL, rate=_DOC_RATE)
def ALVH_BLACK76(greek, cp, fwd, strike, t_years, vol, rate=0.0):
    """Black-76 price or Greek on a forward (delta/gamma to the forward; rho holds it fixed). Vega per vol point, theta per day. Ranges broadcast and spill."""
    return _greeks_cells(greek, cp, fwd, strike, t_years, vol, rate, 0.0, model="black76")


FRACTION_ROLES = ("vol", "rate", "div")          # decimals: '18%' is 0.18 here


def argument(value: Any, name: str, role: str, *, default: float | None = None,
             american: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One numeric argument of a pricing function: its floats and error grid, each cell
    parsed by the one cell reader and checked against the one pricing domain
    (``alvh_xl.pricing.inputs.DOMAINS``: role underlying, strike, t, vol, rate, div or price).
    Vol, rate and div are fractions, so text such as '18%' reads as 0.18 (SPEC §3)."""
    vals, errs = numbers(value, name, default, percent=role in FRACTION_ROLES)
    good = ~outside_domain(role, vals, american=american)
    return vals, domain_errors(errs, vals, good, name,
                               domain_of(role, american=american).expected)


def _greeks_cells(greek, cp, s, k, t, vol, rate, div, *, model):
    under = "fwd" if model == "black76" else "spot"
    american = model == "american"
    g_idx, g_err = texts(greek, "greek", _GREEK_INDEX)
    w, w_err = calls_puts(cp)
    s, s_err = argument(s, under, "underlying")
    k, k_err = argument(k, "strike", "strike")
    t, t_err = argument(t, "t_years", "t")
    v, v_err = argument(vol, "vol", "vol")
    r, r_err = argument(rate, "rate", "rate", default=0.0, american=american)
    q, q_err = argument(div, "div", "div", default=0.0, american=american)
    shape = broadcast({"greek": g_idx.shape, "cp": w.shape, under: s.shape, "strike": k.shape,
                       "t_years": t.shape, "vol": v.shape, "rate": r.shape, "div": q.shape})
    errs = first_error(g_err, w_err, s_err, k_err, t_err, v_err, r_err, q_err, shape=shape)
    ok = errs == ""
    out = np.full(shape, np.nan)
    if ok.any():
        b = [np.broadcast_to(a, shape)[ok] for a in (w, s, k, t, v, r, q)]
        if model == "black76":
            res = black76_greeks(b[0], b[1], b[2], b[3], b[4], b[5])
        elif american:
            res = american_greeks(*b)
        else:
            res = bsm_greeks(*b)
        table = np.stack(res)
        which = np.broadcast_to(g_idx, shape)[ok].astype(int)
        out[ok] = table[which, np.arange(which.size)]
    return spill(out, errs)


@excel(price="option price per unit of underlying", cp=_DOC_CP,
       underlying="spot (bsm) or forward (black76)", strike="strike price", t_years=_DOC_T,
       rate=_DOC_RATE, div="dividend yield, decimal, continuous (default 0; not black76)",
       model="bsm (default), black76 or american")
def ALVH_IV(price, cp, underlying, strike, t_years, rate=0.0, div=0.0, model="bsm"):
    """Implied vol (decimal) of an option price: BSM on spot with dividend yield, Black-76 on a forward, or American on spot. No solution (e.g. price below intrinsic) gives #ALVH! with the reason. Ranges broadcast and spill."""
    model_cells = grid(model)
    model_cells[np.vectorize(lambda v: v is None or (isinstance(v, str) and not v.strip()),
                             otypes=[bool])(model_cells)] = "bsm"
    m, m_err = texts(model_cells, "model", _MODELS)
    w, w_err = calls_puts(cp)
    p, p_err = argument(price, "price", "price")
    s, s_err = argument(underlying, "underlying", "underlying")
    k, k_err = argument(strike, "strike", "strike")
    t, t_err = argument(t_years, "t_years", "t")
    r, r_err = argument(rate, "rate", "rate", default=0.0)
    q, q_err = argument(div, "div", "div", default=0.0)
    shape = broadcast({"price": p.shape, "cp": w.shape, "underlying": s.shape,
                       "strike": k.shape, "t_years": t.shape, "rate": r.shape, "div": q.shape,
                       "model": m.shape})
    models = np.broadcast_to(m, shape)
    american = models == "american"
    if american.any():                    # the American domain: no negative carry
        r_err = np.where(american, argument(rate, "rate", "rate", default=0.0,
                                            american=True)[1], r_err)
        q_err = np.where(american, argument(div, "div", "div", default=0.0,
                                            american=True)[1], q_err)
    errs = first_error(m_err, w_err, p_err, s_err, k_err, t_err, r_err, q_err, shape=shape)
    _per_model(errs, models == "black76", q, "div", lambda x: x != 0.0,
               "0 or blank with black76 (the forward already carries the dividend)")
    out = np.full(shape, np.nan)
    ok = errs == ""
    for name in ("bsm", "black76", "american"):
        sel = ok & (models == name)
        if not sel.any():
            continue
        b = [np.broadcast_to(a, shape)[sel] for a in (p, w, s, k, t, r, q)]
        res = solve_implied_vol(*b, model=name)
        vol, status = res.vol, res.status.copy()
        too_high = (status == OK) & (vol > MAX_IV)
        why = np.full(vol.shape, "", dtype=object)
        failed = np.flatnonzero(status != OK)
        why[failed] = [f"no solution: {STATUS[int(c)]}" for c in status[failed]]
        why[too_high] = TOO_HIGH
        out[sel] = np.where(why == "", vol, np.nan)
        errs[sel] = why
    return spill(out, errs)


TOO_HIGH = (f"no solution: the implied vol is above {MAX_IV:g} ({MAX_IV:.0%}), beyond what "
            "ALVH_BSM takes; check the price and t_years")


def _per_model(errs: np.ndarray, where: np.ndarray, vals: np.ndarray, name: str,
               fails: Callable[[np.ndarray], np.ndarray], expected: str) -> None:
    """Errors (in place) for result cells of one model whose argument ``vals`` fails a rule
    of that model, naming the argument's own cell."""
    spread = np.broadcast_to(vals, errs.shape)
    bad = where & (errs == "") & fails(spread)
    for idx in zip(*np.nonzero(bad), strict=True):
        own = tuple(i if n > 1 else 0 for i, n in zip(idx, vals.shape, strict=True))
        errs[idx] = (f"{name}{position(vals.shape, own)}: expected {expected}, got "
                     f"{spread[idx]:g}")
