"""Early-exercise boundary of an American put, vectorised over options.

Method: Andersen, Lake & Offengelter, "High-performance American option pricing" (J. Comp.
Finance 20(1), 2016): the boundary as the fixed point of an integral equation, collocated at
Chebyshev nodes in √τ and started from Li's QD+ approximation (Li 2010, ALO §5.1). Everything
is per unit of strike (K = 1) for a put with rate r > 0 and dividend yield q ≥ 0; calls
reach it through put–call symmetry (:mod:`alvh_xl.pricing.american`).

Representation (ALO §5): B(τ) = X·exp(−√H(τ)), X = min(1, r/q) the boundary at expiry, H a
polynomial of degree ``NODES`` in ζ = 2√(τ/T) − 1 (Chebyshev extrema; H = 0 at τ = 0). At
each node the boundary solves B(τ) = e^{−(r−q)τ} N(τ, B)/D(τ, B), in one of two forms
(d±(t, z) = (ln z + (r − q ± σ²/2)t)/(σ√t), the integrals over u in [0, τ] with
z = B(τ)/B(u) and lag τ − u):

* smooth pasting (ALO "FP-B"), used when 2r/σ² ≤ ``VALUE_FORM_RHO``:
  N = φ(d₋(τ, B))/(σ√τ) + r ∫ e^{ru} φ(d₋)/(σ√(τ−u)) du,
  D = φ(d₊(τ, B))/(σ√τ) + Φ(d₊(τ, B)) + q ∫ e^{qu} [Φ(d₊) + φ(d₊)/(σ√(τ−u))] du;
  it converges fastest, but diverges at low vol (2r/σ² ≳ 50: the boundary hugs X);
* value matching (ALO "FP-A"), used above: N = Φ(d₋(τ, B)) + r ∫ e^{ru} Φ(d₋) du,
  D = Φ(d₊(τ, B)) + q ∫ e^{qu} Φ(d₊) du — stable there.

Each sweep takes one Jacobi–Newton step per node (ALO §6.1, the derivative of the terms
outside the integrals). The integrals use ``QUAD`` Gauss–Legendre points in s with lag
τ − u = τ sin²(πs/2), which removes the 1/√(τ−u) singularity and the √u behaviour of B at
u = 0; H at the quadrature points comes from one constant interpolation matrix, so a sweep
is a matrix product and a dozen array operations per point.

The sizes were chosen against QuantLib 1.44 (tests/test_american.py prints the accuracy
table); the iteration count is fixed, so the result is a smooth function of the inputs.
Options are solved ``CHUNK`` at a time. Puts without dividend in the usual range are not
solved per option but read from :mod:`alvh_xl.pricing.boundary_table`, built by this solver.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.polynomial import chebyshev
from numpy.polynomial.legendre import leggauss
from scipy.special import ndtr

NODES = 10           # degree of H in ζ (nodes τ_0 = 0, …, τ_n = T)
QUAD = 4             # Gauss–Legendre points per node in the fixed-point integrals
FINAL = 12           # Gauss–Legendre points of the early-exercise premium integral
QD_STEPS = 2         # Halley steps on the QD+ equation for the starting boundary
SWEEPS = 2           # Jacobi–Newton fixed-point sweeps
VALUE_FORM_RHO = 20.0  # value-matching form where 2r/σ² exceeds this
CHUNK = 1024        # options per solve: the (nodes × points, options) work arrays stay in
                    # cache, and their matrix products below OpenBLAS's threading threshold
INV_SQRT_2PI = 0.3989422804014327
EXP_MIN = -700.0    # e^-700 ≈ 1e-304: as good as 0, and no subnormal (slow) results
CDF_MAX = 37.0      # Φ(−37) ≈ 6e-300


class Scheme(NamedTuple):
    """Constant nodes, weights and interpolation matrices (times as fractions of T)."""

    frac: np.ndarray          # (n, 1) τ_i/T, nodes i = 1..n
    interp: np.ndarray        # (n·l, n) H at the quadrature points from H at nodes 1..n
    inv_sqrt_lag: np.ndarray  # (n·l, 1) 1/√(lag/T), lag = τ_i − u_ij
    lag: np.ndarray           # (n·l, 1) lag/T
    sqrt_lag: np.ndarray      # (n·l, 1) √(lag/T)
    start: np.ndarray         # (n·l, 1) u_ij/T
    log_w_pdf: np.ndarray     # (n·l, 1) ln of the weights of ∫ … dm/√m, per √τ_i
    w_pdf: np.ndarray         # (n·l, 1) weights of ∫ … dm/√m, per √τ_i
    w_cdf: np.ndarray         # (n·l, 1) weights of ∫ … dm, per τ_i
    final_frac: np.ndarray    # (p, 1) t_k/T of the premium integral
    final_w: np.ndarray       # (p, 1) weights of ∫₀^T … dt, per T
    final_sqrt: np.ndarray    # (p, 1) √(t_k/T)
    final_interp: np.ndarray  # (p, n) H at τ = T − t_k from H at nodes 1..n
    end_slope: np.ndarray     # (n,) d√H/dζ at ζ = 1 (τ = T) from √H at nodes 1..n


@lru_cache(maxsize=4)
def scheme(nodes: int = NODES, quad: int = QUAD, final: int = FINAL) -> Scheme:
    """Nodes, weights and interpolation matrices for the given sizes (cached)."""
    z = -np.cos(np.pi * np.arange(nodes + 1) / nodes)       # ascending: z_0 = −1 is τ = 0
    frac = ((1.0 + z[1:]) / 2.0) ** 2
    y, wy = leggauss(quad)
    half = np.pi * (1.0 + y) / 4.0                            # πs/2, s in (0, 1)
    lag = frac[:, None] * np.sin(half) ** 2                   # (τ − u)/T
    start = frac[:, None] - lag                               # u/T = τ/T · cos²(πs/2)
    interp = _chebyshev_matrix(z, 2.0 * np.sqrt(start.ravel()) - 1.0)[:, 1:]
    w_pdf = np.pi / 2.0 * np.cos(half) * wy                   # dm/√m = √τ π/2 cos(πs/2) ds
    w_cdf = np.pi / 4.0 * np.sin(2.0 * half) * wy             # dm = τ π/2 sin(πs) ds
    x, wx = leggauss(final)
    half = np.pi * (1.0 + x) / 4.0
    final_frac = np.sin(half) ** 4                            # t/T = sin⁴(πs/2)
    final_w = np.pi * np.sin(half) ** 3 * np.cos(half) * wx   # dt/T
    final_interp = _chebyshev_matrix(z, 2.0 * np.sqrt(1.0 - final_frac) - 1.0)[:, 1:]
    to_coef = np.linalg.inv(chebyshev.chebvander(z, nodes))   # node values → coefficients
    slope = np.array([chebyshev.chebval(1.0, chebyshev.chebder(e)) for e in np.eye(nodes + 1)])

    def col(a):
        return np.ascontiguousarray(np.broadcast_to(a, lag.shape)).reshape(-1, 1)

    return Scheme(frac[:, None], np.ascontiguousarray(interp), col(1.0 / np.sqrt(lag)),
                  col(lag), col(np.sqrt(lag)), col(start), col(np.log(w_pdf)), col(w_pdf),
                  col(w_cdf), final_frac[:, None], final_w[:, None],
                  (np.sin(half) ** 2)[:, None],
                  np.ascontiguousarray(final_interp), (slope @ to_coef)[1:])


def _chebyshev_matrix(nodes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Barycentric interpolation weights (len(points), len(nodes)) on Chebyshev extrema."""
    n = nodes.size - 1
    w = (-1.0) ** np.arange(n + 1)
    w[0] *= 0.5
    w[-1] *= 0.5
    diff = points[:, None] - nodes[None, :]
    exact = np.abs(diff) < 1e-15
    c = w / np.where(exact, 1.0, diff)
    m = c / c.sum(axis=1, keepdims=True)
    hit = exact.any(axis=1)
    m[hit] = exact[hit]
    return m


# ----------------------------------------------------------------------------- boundary

def expiry_boundary(r: np.ndarray, q: np.ndarray) -> np.ndarray:
    """ln X with X = B(0⁺)/K = min(1, r/q)."""
    return np.where(q > r, np.log(r / np.where(q > r, q, 1.0)), 0.0)


def value_form(r: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """Where the value-matching form is used (2r/σ² > VALUE_FORM_RHO; see module doc)."""
    return 2.0 * r > VALUE_FORM_RHO * vol * vol


def put_boundary(r: np.ndarray, q: np.ndarray, vol: np.ndarray, t: np.ndarray,
                 by_value: np.ndarray | None = None) -> np.ndarray:
    """√H at nodes 1..n, shape (NODES, m): B(τ_i)/K = X·exp(−√H_i) (√H_0 = 0 at τ = 0).

    Inputs are 1-D arrays of one length: r > 0, q ≥ 0, vol > 0, t > 0 (years). ``by_value``
    (default :func:`value_form`) picks the fixed-point form per option; pass the same mask
    for bumped inputs so a finite difference never compares the two forms.
    """
    if by_value is None:
        by_value = value_form(r, vol)
    if not by_value.any():
        return _solve(r, q, vol, t, value=False)
    if by_value.all():
        return _solve(r, q, vol, t, value=True)
    out = np.empty((NODES, r.size))
    for sel, value in ((np.flatnonzero(~by_value), False), (np.flatnonzero(by_value), True)):
        out[:, sel] = _solve(r[sel], q[sel], vol[sel], t[sel], value)
    return out


def _solve(r, q, vol, t, value: bool) -> np.ndarray:
    if r.size > CHUNK:
        return np.concatenate([_solve(r[i:i + CHUNK], q[i:i + CHUNK], vol[i:i + CHUNK],
                                      t[i:i + CHUNK], value)
                               for i in range(0, r.size, CHUNK)], axis=1)
    sweep = _Sweep(scheme(), r, q, vol, t)
    root = np.maximum(sweep.ln_x - _qd_plus(r, q, vol, sweep.tau, sweep.ln_x), 0.0)
    for _ in range(SWEEPS):
        root = sweep(root, value)
    return root


class _Sweep:
    """One solve's constant arrays (options along the last axis); calling it applies one
    Jacobi–Newton sweep to √H at nodes 1..n."""

    def __init__(self, sch: Scheme, r, q, vol, t) -> None:
        self.sch, self.r, self.q, self.vol, self.t = sch, r, q, vol, t
        self.ln_x = expiry_boundary(r, q)
        self.tau = sch.frac * t                               # (n, m)
        self.vol_tau = vol * np.sqrt(self.tau)                # σ√τ
        self.drift_tau = (r - q - 0.5 * vol * vol) * self.tau
        self.carry = -(r - q) * self.tau                      # ln e^{−(r−q)τ}
        self.inv_vol_lag = outer(sch.inv_sqrt_lag, 1.0 / (vol * np.sqrt(t)))  # 1/(σ√lag)
        self.shift = outer(sch.lag, (r - q - 0.5 * vol * vol) * t)          # drift × lag
        self.has_q = bool(np.any(q != 0.0))
        self.tau_rep = np.repeat(self.tau, sch.lag.shape[0] // self.tau.shape[0], axis=0)
        if self.has_q:
            self.vol_lag = outer(sch.sqrt_lag, vol * np.sqrt(t))  # σ√lag

    def __call__(self, root: np.ndarray, value: bool) -> np.ndarray:
        sch, n = self.sch, self.tau.shape[0]
        m = root.shape[1]
        d = sch.interp @ (root * root)                        # H at the quadrature points
        np.maximum(d, 0.0, out=d)
        np.sqrt(d, out=d)
        cube = d.reshape(n, -1, m)
        cube -= root[:, None, :]                              # ln B_i − ln B(u_ij)
        d += self.shift
        d *= self.inv_vol_lag                                 # d₋ at the quadrature points
        d_plus = d + self.vol_lag if self.has_q else None
        ln_b = self.ln_x - root
        d0m = (ln_b + self.drift_tau) / self.vol_tau          # d₋(τ_i, B_i/K)
        d0p = d0m + self.vol_tau
        phi_m, phi_p = norm_pdf(d0m), norm_pdf(d0p)
        if value:
            num, den = self._value(d, d_plus, d0m, d0p)
            # f′·B/f = B ∂ln(N/D)/∂B, from the terms outside the integrals
            dlog = (phi_m / num - phi_p / den) / self.vol_tau
        else:
            num, den = self._pasting(d, d_plus, phi_m, phi_p, d0p)
            var_tau = self.vol_tau * self.vol_tau
            dlog = (phi_p * d0p / var_tau - phi_p / self.vol_tau) / den \
                - phi_m * d0m / var_tau / num
        ratio = np.exp(self.carry - ln_b) * num / den         # f(B)/B
        # Jacobi–Newton: B ← B − (f − B)/(f′ − 1), relative to B
        step = 1.0 - (ratio - 1.0) / (ratio * dlog - 1.0)
        good = step > 0.0                                     # False for NaN too
        ln_new = ln_b + np.log(np.where(good, step, ratio))
        return np.maximum(self.ln_x - np.minimum(ln_new, self.ln_x), 0.0)

    def _sum(self, points: np.ndarray) -> np.ndarray:
        return points.reshape(self.tau.shape[0], -1, points.shape[1]).sum(axis=1)

    def _value(self, d, d_plus, d0m, d0p):
        """N, D of the value-matching form."""
        sch = self.sch
        if not hasattr(self, "w_num"):
            self.w_num = np.exp(outer(sch.start, self.r * self.t)) * (sch.w_cdf * self.r)
            self.w_num *= self.tau_rep                        # r e^{ru} dm weights
            if self.has_q:
                self.w_den = np.exp(outer(sch.start, self.q * self.t)) * (sch.w_cdf * self.q)
                self.w_den *= self.tau_rep
        points = norm_cdf(d)
        points *= self.w_num
        num = norm_cdf(d0m) + self._sum(points)
        den = norm_cdf(d0p)
        if self.has_q:
            points = norm_cdf(d_plus)
            points *= self.w_den
            den += self._sum(points)
        return num, den

    def _pasting(self, d, d_plus, phi_m, phi_p, d0p):
        """N, D of the smooth-pasting form."""
        sch = self.sch
        if not hasattr(self, "offset"):                       # r u + ln w, for e^{ru}φ(d₋)
            self.offset = outer(sch.start, self.r * self.t) + sch.log_w_pdf
            self.pdf_scale = np.sqrt(self.tau) * (INV_SQRT_2PI * self.r / self.vol)
            if self.has_q:
                growth = np.exp(outer(sch.start, self.q * self.t))      # e^{qu}
                self.q_cdf = growth * sch.w_cdf * self.tau_rep * self.q
                self.q_pdf = growth * sch.w_pdf * np.sqrt(self.tau_rep) * (
                    INV_SQRT_2PI * self.q / self.vol)
        points = np.square(d)
        points *= -0.5
        points += self.offset
        clamped_exp(points, out=points)                              # w e^{ru} e^{−d₋²/2}
        num = phi_m / self.vol_tau + self._sum(points) * self.pdf_scale
        den = phi_p / self.vol_tau + norm_cdf(d0p)
        if self.has_q:
            points = self.q_cdf * norm_cdf(d_plus)
            square = np.square(d_plus)
            square *= -0.5
            points += self.q_pdf * clamped_exp(square)
            den += self._sum(points)
        return num, den


def outer(col: np.ndarray, row) -> np.ndarray:
    """col (k, 1) × row (m,) as a (k, m) array (BLAS; broadcasting a column is slower)."""
    return col @ np.reshape(row, (1, -1))


def _qd_plus(r, q, vol, tau, ln_x) -> np.ndarray:
    """ln B/K at each node from Li's QD+ equation (as in ALO §5.1), by Halley steps from a
    closed form. With P = e^{−qτ}Φ(−d₊), M = e^{−rτ}Φ(−d₋), G = e^{−qτ}φ(d₊)/v (v = σ√τ)
    and E = sG, the equation f(s) = 0 at the boundary s = B/K reads
    f = c₁s − c₂sP + c₃M − β − c₄E, and (using e^{−rτ}φ(d₋) = s e^{−qτ}φ(d₊))
    f′ = c₁ − c₂P + G·A, A = c₂ − c₃ − c₄(1 − d₊/v),
    f″ = (G/s)(c₂ − (d₊/v)A + c₄/v²).
    """
    var = vol * vol
    v = vol * np.sqrt(tau)
    inv_v = 1.0 / v
    dr = np.exp(-r * tau)
    dq = np.exp(-q * tau)
    omega = 2.0 * (r - q) / var
    hh = -np.expm1(-r * tau)                                  # 1 − e^{−rτ}
    root = np.sqrt((omega - 1.0) ** 2 + 8.0 * r / (var * hh))
    lam = 0.5 * (1.0 - omega - root)
    lam_p = 2.0 * r / (var * hh * hh * root)
    alpha = 2.0 * dr * r / (var * (2.0 * lam + omega - 1.0))
    beta = alpha * (1.0 / hh + lam_p / (2.0 * lam + omega - 1.0)) - lam
    k_theta = alpha / (r * dr)                                # α/(r e^{−rτ})
    c1 = 1.0 + beta
    c2 = c1 + k_theta * q
    c3 = beta + alpha / dr
    c4 = 0.5 * var * k_theta
    c4_v2 = c4 * inv_v * inv_v
    d_off = (r - q) * tau * inv_v + 0.5 * v                   # d₊ = ln s/v + d_off
    ln_s = _closed_form_start(r, q, vol, tau, ln_x)
    ln_min = ln_x - 27.6                                      # 1e-12 X
    for _ in range(QD_STEPS):
        s = np.exp(ln_s)
        dp = ln_s * inv_v + d_off
        p = norm_cdf(-dp)
        p *= dq                                               # P
        m = norm_cdf(v - dp)
        m *= dr                                               # M = e^{−rτ}Φ(−d₋)
        g = norm_pdf(dp)
        g *= dq * inv_v                                       # G
        f = (c1 - c2 * p - c4 * g) * s + c3 * m - beta
        w = dp * inv_v
        a = c2 - c3 - c4 + c4 * w
        fp = c1 - c2 * p + g * a
        fpp = g / s * (c2 - w * a + c4_v2)
        step = f / fp / (1.0 - 0.5 * f * fpp / (fp * fp))
        s_new = s - np.where(np.isfinite(step), step, 0.0)
        ln_s = np.maximum(np.log(np.maximum(s_new, 1e-300)), ln_min)
    return ln_s


def _closed_form_start(r, q, vol, tau, ln_x) -> np.ndarray:
    """ln B/K from Bjerksund & Stensland's (1993) trigger, through put–call symmetry."""
    var = vol * vol
    a = (r - q) / var - 0.5
    lam = -a - np.sqrt(a * a + 2.0 * r / var)                 # perpetual put root, < 0
    ci = (lam - 1.0) / lam                                    # K / B∞
    c0 = np.exp(-ln_x)                                        # K / X
    hx = -((q - r) * tau + 2.0 * vol * np.sqrt(tau)) / ((ci - c0) * c0)
    trigger = c0 - (ci - c0) * np.expm1(np.clip(hx, EXP_MIN, 0.0))   # in [c0, ci]
    return np.minimum(-np.log(trigger), ln_x)


def clamped_exp(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """eˣ with arguments below −700 raised to −700 (e^-700 ≈ 1e-304: as good as 0 here, and
    exp of a subnormal result is ~50× slower)."""
    x = np.maximum(x, EXP_MIN, out=out)
    return np.exp(x, out=x)


def norm_pdf(d: np.ndarray) -> np.ndarray:
    """Standard normal density."""
    e = np.square(d)
    e *= -0.5
    clamped_exp(e, out=e)
    e *= INV_SQRT_2PI
    return e


def norm_cdf(d: np.ndarray) -> np.ndarray:
    """Standard normal distribution (arguments clipped to ±37: no subnormal results)."""
    return ndtr(np.clip(d, -CDF_MAX, CDF_MAX))
