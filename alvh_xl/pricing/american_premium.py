"""Value of an American put from its exercise boundary: European put + early-exercise
premium (ALO eq. 9), per unit of strike, with analytic derivatives in x = ln(S/K).

premium = ∫₀^T [r e^{−rt} Φ(−d₋(t, S/B(T−t))) − q S e^{−qt} Φ(−d₊(t, S/B(T−t)))] dt,
d±(t, z) = (ln z + (r − q ± σ²/2)t)/(σ√t), integrated with ``FINAL`` Gauss–Legendre points in
s, t = T sin⁴(πs/2) (t^{1/4} spacing near t = 0, where the integrand rises steeply when S is
just above B(T); √(T − t) smooth near t = T, where B(T − t) has its √u behaviour). Every term
is a Φ or φ of an argument linear in x, so its x-derivatives are Hermite polynomials times φ:
one boundary gives the value and its first derivatives at no extra boundary cost.
"""

from __future__ import annotations

from math import comb

import numpy as np
from scipy.special import erfcx, ndtr

from .exercise_boundary import (
    CDF_MAX,
    INV_SQRT_2PI,
    expiry_boundary,
    norm_cdf,
    norm_pdf,
    outer,
    scheme,
)

_SQRT_HALF = 0.7071067811865476
_TANGENT_MIN_SIG = 1e-4      # σ√T below which the premium has no tangent part


def put_x_derivatives(x, r, q, vol, t, root, order: int) -> tuple[np.ndarray, np.ndarray]:
    """European put + early-exercise premium per unit strike and its x-derivatives
    (x = ln S/K), and where x ≤ ln B(T) (exercise now).

    Returns (f, exercise): f has shape (order+1, m) with rows f, ∂ₓf, …; ``root`` from
    :func:`put_boundary`. f is the formula value everywhere (a smooth function of every
    input); the American price is 1 − eˣ where ``exercise`` is True.

    The premium integrand steepens without bound as S approaches B(T) from above (∂ₓᵏ of it
    peaks at t ≈ (ln(S/B(T))/σ)²). The part with the boundary frozen to its tangent at
    τ = T, ln B(T − t) ≈ ln B(T) + βt, is integrated in closed form
    (:func:`_tangent_premium`); the fixed points only see the difference, which vanishes
    like t² at t = 0. Without this, gamma within a few % of B(T) was off by up to 50 %.
    """
    sch = scheme()
    h = root * root
    ln_x = expiry_boundary(r, q)
    ln_bt = ln_x - root[-1]                                   # ln B(T)/K
    beta = np.einsum("k,km->m", sch.end_slope, root) / t    # −d ln B/dτ at τ = T
    has_q = bool(np.any(q != 0.0))
    out = np.array(_terms(x, 0.0, r, q, vol, t, np.exp(-r * t), np.exp(-q * t), order))
    # the tangent part where it is well conditioned (σ√T below 1e-4 is a deterministic
    # option for every purpose; its closed form would cancel huge terms)
    tangent = vol * np.sqrt(t) >= _TANGENT_MIN_SIG
    sel = slice(None) if tangent.all() else np.flatnonzero(tangent)
    if tangent.any():
        out[:, sel] += _tangent_premium(*(v[sel] for v in (x, ln_bt, beta, r, q, vol, t)),
                                        order, has_q)
    out += _quadrature(x, ln_x, ln_bt, beta, h, r, q, vol, t, order, tangent, has_q)
    return out, x <= ln_bt


def _quadrature(x, ln_x, ln_bt, beta, h, r, q, vol, t, order, tangent, has_q) -> np.ndarray:
    """x-derivatives 0..order (≤ 3) of the premium integral with the true boundary minus the
    same integral with the tangent boundary ln B(T) + βt (where ``tangent``), by ``FINAL``
    Gauss–Legendre points: both at the same times t_p, so they share v_p = σ√t_p and the
    weights, and every sum is Σ_p weight_p · (term(true) − term(tangent)).

    With n = −d₋ = (ln b − x − μt)/v (μ = r − q − σ²/2) and φ = φ(d₋):
    ∂ₓᵏ Φ(−d₋) = −∂ₓ^{k−1}φ / v and ∂ₓʲφ = φ Pⱼ(n) / vʲ, P₀ = 1, P₁ = n, P₂ = n² − 1;
    the q terms as in :func:`_terms`.
    """
    sch = scheme()
    p, m = sch.final_frac.shape[0], x.size
    inv_v = outer(1.0 / sch.final_sqrt, 1.0 / (vol * np.sqrt(t)))    # 1/v at the points
    tk = outer(sch.final_frac, t)
    root = np.einsum("pk,km->pm", sch.final_interp, h)        # (no BLAS: its threads)
    np.maximum(root, 0.0, out=root)
    np.sqrt(root, out=root)                                   # √H at τ = T − t_p
    n = np.empty((2, p, m))                                   # true, tangent boundary
    np.subtract(ln_x - x, root, out=n[0])                     # ln b − x, ln b = ln X − √H
    np.multiply(beta, tk, out=n[1])
    n[1] += ln_bt - x                                         # ln b = ln B(T) + βt
    n *= inv_v
    n -= outer(sch.final_sqrt, (r - q - 0.5 * vol * vol) * np.sqrt(t) / vol)   # μt/v
    if has_q:
        n_plus = n - 1.0 / inv_v                              # −d₊ = −d₋ − v
        np.clip(n_plus, -CDF_MAX, CDF_MAX, out=n_plus)
    np.clip(n, -CDF_MAX, CDF_MAX, out=n)
    kept = None if tangent.all() else tangent                 # elsewhere no tangent part

    def gap(pair: np.ndarray) -> np.ndarray:                  # true − tangent
        out = pair[0] - pair[1]
        if kept is not None:
            out[:, ~kept] = pair[0][:, ~kept]
        return out

    def total(weight: np.ndarray, pair: np.ndarray) -> np.ndarray:
        return np.einsum("pm,pm->m", weight, gap(pair))

    a = outer(sch.final_w, t)                                 # dt weights
    if has_q:
        c = a * q * np.exp(-q * tk)
    a *= r
    a *= np.exp(-r * tk)                                      # × r e^{−rt}
    rows = np.empty((order + 1, m))
    rows[0] = total(a, ndtr(n))
    terms = []                                                # φ Pⱼ(n), j < order
    if order:
        phi = np.square(n)
        phi *= -0.5
        np.exp(phi, out=phi)
        phi *= INV_SQRT_2PI
        terms.append(phi)
        a *= inv_v
        rows[1] = -total(a, phi)
    if order > 1:
        terms.append(phi * n)
        a *= inv_v
        rows[2] = -total(a, terms[1])
    if order > 2:
        terms.append(phi * (np.square(n) - 1.0))
        a *= inv_v
        rows[3] = -total(a, terms[2])
    if has_q:                                                 # − c eˣ Φ(−d₊)
        rows -= np.exp(x) * total(c, ndtr(n_plus))
        # ∂ₓᵏ(eˣΦ(−d₊)) = eˣΦ(−d₊) − e^{ln b − (r−q)t}/v · Σ_{j<k} ∂ₓʲφ
        level = np.stack([ln_x - root, ln_bt + beta * tk])
        level -= (r - q) * tk
        np.exp(level, out=level)
        c *= inv_v
        acc = 0.0
        for k in range(1, order + 1):
            acc = acc + terms[k - 1] * inv_v ** (k - 1)
            rows[k] += total(c, level * acc)
    return rows


def _tangent_premium(x, ln_b, beta, r, q, vol, t, order, has_q) -> np.ndarray:
    """x-derivatives 0..order of ∫₀^T [r e^{−rt}Φ(−d₋) − q eˣe^{−qt}Φ(−d₊)] dt in closed
    form, for the boundary ln B = ln_b + βt.

    With a = (x − ln_b)/σ, b = (r − q − σ²/2 − β)/σ, d₋ = a/√t + b√t, the r part is
    λI(a, b) with λ = r, I(a, b) = ∫₀^T e^{−λt}Φ(−(a + bt)/√t) dt; the q part is eˣ·λI with
    λ = q and b + σ. For a ≥ 0, integrating by parts and completing the square
    (c = √(b² + 2λ)):
    λI = ½(1 − b/c) e^{−a(b+c)} Φ((cT − a)/√T) + ½(1 + b/c) e^{−a(b−c)} Φ(−(cT + a)/√T)
         − e^{−λT} Φ(−(a + bT)/√T);
    for a < 0, Φ(−y) = 1 − Φ(y) gives λI(a, b) = 1 − e^{−λT} − λI(−a, −b). Each term is
    C e^{−κa} Φ(w), w linear in a (∂w/∂a = g = −1/√T), bounded for a ≥ 0 (κ ≥ 0, or w < 0
    with the tail through erfcx), and
    ∂ₐⁿ[e^{−κa}Φ(w)] = e^{−κa}[(−κ)ⁿΦ(w) + φ(w) Qₙ(w)],
    Q₀ = 0, Qₙ₊₁ = (−κ)ⁿ g + (−κ − g w) Qₙ + g Qₙ′.
    """
    a = (x - ln_b) / vol
    b = (r - q - 0.5 * vol * vol - beta) / vol
    if not has_q:
        out = _lambda_integral(a, b[None], r[None], t, order)[:, 0]
    else:
        both = _lambda_integral(a, np.stack([b, b + vol]), np.stack([r, q]), t, order)
        out, part = both[:, 0], both[:, 1]
        part[:, q == 0.0] = 0.0              # λ = 0: exactly 0 (the terms cancel to rounding)
        # ∂ₐᵏ(eˣ P) with eˣ = e^{ln_b + σa}: Leibniz, ∂ₐʲ eˣ = σʲ eˣ
        ex = np.exp(x)
        for k in range(order, -1, -1):
            acc = 0.0
            for j in range(k + 1):
                acc = acc + comb(k, j) * vol ** (k - j) * part[j]
            out[k] -= ex * acc
    inv_vol = 1.0 / vol
    for k in range(1, order + 1):
        out[k] *= inv_vol ** k                                # ∂ₓ = ∂ₐ/σ
    return out


def _lambda_integral(a, b, lam, t, order) -> np.ndarray:
    """a-derivatives 0..order of λ∫₀^T e^{−λt}Φ(−(a + bt)/√t) dt (see _tangent_premium) for
    a, t of shape (m,) and n integrals b, λ of shape (n, m): shape (order + 1, n, m)."""
    mirror = a < 0.0
    a = np.abs(a)
    b = np.where(mirror, -b, b)
    sqrt_t = np.sqrt(t)
    g = -1.0 / sqrt_t
    c = np.hypot(b, np.sqrt(2.0 * lam))
    ratio = b / np.maximum(c, 1e-300)
    # its three terms C e^{−κa}Φ(w), stacked on a leading axis
    scale = np.stack([0.5 * (1.0 - ratio), 0.5 * (1.0 + ratio), -np.exp(-lam * t)])
    kappa = np.stack([b + c, b - c, np.zeros_like(b)])
    w = np.stack([(c * t - a) / sqrt_t, -(c * t + a) / sqrt_t, -(a + b * t) / sqrt_t])
    out = np.empty((order + 1, *b.shape))
    with np.errstate(under="ignore"):
        ka = kappa * a
        e_pdf = np.exp(-ka - 0.5 * w * w)
        e_pdf *= INV_SQRT_2PI                                     # e^{−κa}φ(w)
        # e^{−κa}Φ(w): for w < 0 as ½ erfcx(−w/√2) e^{−κa − w²/2} (no overflow of e^{−κa})
        tail = w < 0.0
        e_cdf = np.empty_like(w)
        e_cdf[tail] = erfcx(w[tail] * -_SQRT_HALF) * e_pdf[tail] * (0.5 / INV_SQRT_2PI)
        body = ~tail
        e_cdf[body] = np.exp(-ka[body]) * ndtr(w[body])
        poly = []                                                 # coefficients of Qₙ
        power = np.ones_like(kappa)                               # (−κ)ⁿ
        for k in range(order + 1):
            q_val = 0.0
            for j in reversed(range(len(poly))):
                q_val = q_val * w + poly[j]
            out[k] = (scale * (power * e_cdf + e_pdf * q_val)).sum(axis=0)
            if k == order:
                break
            nxt = [0.0] * (len(poly) + 1)
            nxt[0] = power * g
            for j, cf in enumerate(poly):
                nxt[j] = nxt[j] - kappa * cf
                nxt[j + 1] = nxt[j + 1] - g * cf
                if j:
                    nxt[j - 1] = nxt[j - 1] + j * g * cf
            poly = nxt
            power = -kappa * power
    if mirror.any():                                              # a < 0: reflect
        for k in range(order + 1):
            out[k] *= np.where(mirror, -((-1.0) ** k), 1.0)
        out[0] += np.where(mirror, -np.expm1(-lam * t), 0.0)
    return out


def _terms(x, ln_b, r, q, vol, t, a, c, order, first=0, summed=False) -> list[np.ndarray]:
    """x-derivatives first..order of a·Φ(−d₋) − c·eˣΦ(−d₊) (c None: 0), level ln_b, horizon
    t; summed: each row added up over axis 0 (the quadrature points).

    With ψ = φ(d₋), v = σ√t: ∂ₓΦ(−d₋) = −ψ/v, ∂ₓ^k ψ = (−1/v)^k He_k(d₋) ψ, and
    ∂ₓ(eˣΦ(−d₊)) = eˣΦ(−d₊) − βψ with β = e^{ln_b − (r−q)t}/v, since eˣφ(d₊) = v β ψ.
    """
    v = vol * np.sqrt(t)
    d = (x - ln_b + (r - q - 0.5 * vol * vol) * t) / v
    rows = []
    if first == 0:
        value = norm_cdf(-d)
        value *= a
        rows.append(value)
    if order:
        inv_v = 1.0 / v
        psi = norm_pdf(d)
        dpsi = [psi]                                          # ∂ₓ^k ψ, k < order
        if order > 1:
            g = psi * inv_v
            dpsi.append(-g * d)
        if order > 2:
            g *= inv_v
            d2 = d * d
            dpsi.append(g * (d2 - 1.0))
        if order > 3:
            dpsi.append(-(g * inv_v) * d * (d2 - 3.0))
        scale = a * inv_v
        rows += [-scale * dpsi[k - 1] for k in range(max(first, 1), order + 1)]
    if c is not None:
        cp = norm_cdf(-(d + v))
        cp *= np.exp(x)
        cp *= c
        if first == 0:
            rows[0] -= cp
        if order:
            beta = c * np.exp(ln_b - (r - q) * t) * inv_v
            acc = 0.0
            for k in range(1, order + 1):
                acc = acc + dpsi[k - 1]
                if k >= first:
                    rows[k - first] = rows[k - first] - cp + beta * acc
    if summed:
        return [row.sum(axis=0) for row in rows]
    return [np.broadcast_to(row, np.shape(x)) for row in rows]
