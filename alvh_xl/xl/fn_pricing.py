"""ALVH_BSM, ALVH_BLACK76, ALVH_AMERICAN, ALVH_IV: per-option Excel functions that broadcast
like arithmetic."""

from __future__ import annotations

import numpy as np

from ..conventions import GREEKS, MAX_IV
from ..pricing import american_greeks, black76_greeks, bsm_greeks
from ..pricing.implied import OK, STATUS, solve_implied_vol
from .cells import broadcast, domain_errors, first_error, grid, numbers, spill, texts
from .registry import excel

_GREEK_INDEX = {g.upper(): i for i, g in enumerate(GREEKS)}
_CP = {"C": 1.0, "CALL": 1.0, "P": -1.0, "PUT": -1.0, "1": 1.0, "-1": -1.0}
_MODELS = {"BSM": "bsm", "BS": "bsm", "BLACK76": "black76", "BLACK": "black76", "B76": "black76",
           "AMERICAN": "american"}

_DOC_GREEK = "price, delta, gamma, vega, theta, rho, vanna, volga or charm (a range spills)"
_DOC_CP = "C or P (Call/Put, 1/-1)"
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


def _greeks_cells(greek, cp, s, k, t, vol, rate, div, *, model):
    under = "fwd" if model == "black76" else "spot"
    g_idx, g_err = texts(greek, "greek", _GREEK_INDEX)
    w, w_err = texts(cp, "cp", _CP)
    s, s_err = numbers(s, under)
    k, k_err = numbers(k, "strike")
    t, t_err = numbers(t, "t_years")
    v, v_err = numbers(vol, "vol")
    r, r_err = numbers(rate, "rate", default=0.0)
    q, q_err = numbers(div, "div", default=0.0)
    shape = broadcast({"greek": g_idx.shape, "cp": w.shape, under: s.shape, "strike": k.shape,
                       "t_years": t.shape, "vol": v.shape, "rate": r.shape, "div": q.shape})
    s_err = domain_errors(s_err, s, s > 0, f"{under} must be positive")
    k_err = domain_errors(k_err, k, k > 0, "strike must be positive")
    v_err = domain_errors(v_err, v, v >= 0, "vol must not be negative")
    v_err = domain_errors(v_err, v, v <= MAX_IV, f"vol above {MAX_IV:g} (500 %): enter vol as a "
                    "decimal, e.g. 0.18 for 18 %")
    t_err = domain_errors(t_err, t, t <= 100, "t_years is in years, at most 100")
    r_err = domain_errors(r_err, r, np.abs(r) < 1, "rate is a decimal: 0.04 for 4 %")
    q_err = domain_errors(q_err, q, np.abs(q) < 1, "div is a decimal: 0.013 for 1.3 %")
    if model == "american":
        r_err = domain_errors(r_err, r, r >= 0, "rate must not be negative for American options")
        q_err = domain_errors(q_err, q, q >= 0, "div must not be negative for American options")
    errs = first_error(g_err, w_err, s_err, k_err, t_err, v_err, r_err, q_err, shape=shape)
    ok = errs == ""
    out = np.full(shape, np.nan)
    if ok.any():
        b = [np.broadcast_to(a, shape)[ok] for a in (w, s, k, t, v, r, q)]
        b[0] = b[0].astype(float)
        if model == "black76":
            res = black76_greeks(b[0], b[1], b[2], b[3], b[4], b[5])
        elif model == "american":
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
    w, w_err = texts(cp, "cp", _CP)
    p, p_err = numbers(price, "price")
    s, s_err = numbers(underlying, "underlying")
    k, k_err = numbers(strike, "strike")
    t, t_err = numbers(t_years, "t_years")
    r, r_err = numbers(rate, "rate", default=0.0)
    q, q_err = numbers(div, "div", default=0.0)
    shape = broadcast({"price": p.shape, "cp": w.shape, "underlying": s.shape,
                       "strike": k.shape, "t_years": t.shape, "rate": r.shape, "div": q.shape,
                       "model": m.shape})
    s_err = domain_errors(s_err, s, s > 0, "underlying must be positive")
    k_err = domain_errors(k_err, k, k > 0, "strike must be positive")
    errs = first_error(m_err, w_err, p_err, s_err, k_err, t_err, r_err, q_err, shape=shape)
    out = np.full(shape, np.nan)
    ok = errs == ""
    models = np.broadcast_to(m, shape)
    for name in ("bsm", "black76", "american"):
        sel = ok & (models == name)
        if not sel.any():
            continue
        b = [np.broadcast_to(a, shape)[sel] for a in (p, w, s, k, t, r, q)]
        res = solve_implied_vol(b[0], b[1].astype(float), *b[2:], model=name)
        out[sel] = res.vol
        why = np.array([f"no solution: {STATUS[int(c)]}" for c in res.status], dtype=object)
        sub = errs[sel]
        sub[res.status != OK] = why[res.status != OK]
        errs[sel] = sub
    return spill(out, errs)
