"""Mean-field signal propagation through a deep random network (Qt-free, NumPy).

A fully connected net with weights W_ij ~ N(0, sigma_w^2 / fan_in) and biases b_i ~
N(0, sigma_b^2) has, at infinite width, centred Gaussian pre-activations whose variance q_l
follows the *length map* (Poole et al. 2016, "Exponential expressivity in deep neural
networks through transient chaos", eq. 3; Schoenholz et al. 2017, "Deep Information
Propagation", eq. 1), with z ~ N(0, 1):

    q_{l+1} = L(q_l) = sigma_w^2 E[f(sqrt(q_l) z)^2] + sigma_b^2.

Two inputs' pre-activations have correlation c_l, which follows the *correlation map*
(Poole eq. 5, Schoenholz eq. 2).  With u_1 = sqrt(q) z_1, u_2 = sqrt(q) (c z_1 + sqrt(1 - c^2)
z_2) it is written here normalised by the next layer's length, so that c = 1 maps to 1
even where q* does not exist (it is Poole's form at q = q*):

    c' = M(c) = (sigma_w^2 E[f(u_1) f(u_2)] + sigma_b^2) / L(q),
    dM/dc = sigma_w^2 E[f'(u_1) f'(u_2)] q / L(q)          (Price's theorem).

At c = 1 and q = q* the slope is chi_1 = sigma_w^2 E[f'(sqrt(q*) z)^2] (Poole eq. 7,
Schoenholz eq. 3), also the factor by which E||delta||^2 grows per layer going backwards
(Schoenholz eq. 9; :mod:`engine.meanfield_net`).  chi_1 < 1: ordered phase (c* = 1 is
stable, gradients vanish); chi_1 > 1: chaotic (a c* < 1 attracts, gradients explode);
chi_1 = 1: the edge of chaos.  The depth scales (Schoenholz eqs. 5 and 8):

    xi_q = -1 / ln(chi_q),  chi_q = L'(q*) = chi_1 + sigma_w^2 E[f f''](q*)
    xi_c = -1 / ln(chi_c),  chi_c = M'(c*)  (= chi_1 at c* = 1: xi_c -> inf as chi_1 -> 1).

L'(q) is computed without f'' as sigma_w^2 E[f(u)^2 (z^2 - 1)] / (2 q) (the derivative of
the Gaussian density with respect to its variance), so it holds for kinked f too.

Quadrature.  Every kink of the lab's activations is at u = 0.  Plain Gauss-Hermite
converges only like 1/n across a kink (the ReLU arc-cosine kernel is off by ~1e-3 with
200 x 200 nodes: tests/test_meanfield.py), so expectations are split where the kinks are:
1-D over z > 0 and z < 0, each with a Gauss rule for the weight exp(-r^2/2) on (0, inf);
2-D in polar coordinates, Gauss-Legendre in the angle on the four arcs between the kink
rays times a Gauss rule for r exp(-r^2/2) on (0, inf).  Each piece is then analytic, and
the rules converge spectrally: ReLU and step closed forms to ~1e-13 (see the tests).
The Step activation's f' is a delta at 0: the lab's backward pass passes no gradient
through it (chi_1 = 0 here), while its correlation map's slope includes the delta.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermevander
from numpy.polynomial.legendre import leggauss

from engine.activations import get as get_activation
from engine.activations import param_value
from engine.config.types import ModelConfig

N_RADIAL = 24  # nodes per half-line: 48 nodes in 1-D (tests: <= 1e-12 against closed forms)
N_ANGLE = 24  # Gauss-Legendre nodes per arc: 4 * 24 * 24 = 2304 nodes per 2-D expectation
GRID_RULE = (8, 12)  # (angle, radial) nodes of the phase grid: 384 nodes, xi_c to ~1e-3
Q_MAX = 1e12  # a length beyond this is "unbounded"; maps are then evaluated here (large-q)
Q_MIN = 1e-30  # a length below this has converged to q* = 0
CRITICAL_TOL = 1e-9  # |chi_1 - 1| below this is "critical"
_NO_DERIVATIVE = frozenset({"step"})  # f' is a delta (the lab's backward pass drops it)

CONVERGED, UNBOUNDED, NOT_CONVERGED = 0, 1, 2
STATUS = ("converged", "unbounded", "not converged")


# --- quadrature ------------------------------------------------------------------------------
_legendre = functools.lru_cache(maxsize=16)(leggauss)


@functools.lru_cache(maxsize=32)
def half_line_rule(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """n-point Gauss rule for the weight r^k exp(-r^2/2) on (0, inf): (nodes, weights).

    Recurrence coefficients by the discretised Stieltjes procedure on Gauss-Legendre panels
    of unit length covering [0, R] (the weight is below 1e-40 beyond R), then Golub-Welsch.
    Integrates r^j exp(-r^2/2), j < 2n, to ~1e-15 relative (tests).
    """
    panels = math.ceil(math.sqrt(2.0 * (2 * n + k)) + 12.0)  # panels [j, j + 1] of [0, R]
    t, tw = leggauss(2 * n + 40)
    x = (np.arange(panels)[:, None] + 0.5 * (t + 1.0)).ravel()
    w = np.tile(0.5 * tw, panels) * x**k * np.exp(-0.5 * x * x)
    alpha, beta = np.zeros(n), np.zeros(n)
    p_prev, p = np.zeros_like(x), np.full_like(x, 1.0 / math.sqrt(w.sum()))
    for j in range(n):
        alpha[j] = np.sum(w * x * p * p)
        nxt = (x - alpha[j]) * p - math.sqrt(beta[j]) * p_prev
        norm = math.sqrt(np.sum(w * nxt * nxt))
        if j + 1 < n:
            beta[j + 1] = norm * norm
        p_prev, p = p, nxt / norm
    off = np.sqrt(beta[1:])
    nodes, vecs = np.linalg.eigh(np.diag(alpha) + np.diag(off, 1) + np.diag(off, -1))
    weights = w.sum() * vecs[0] ** 2
    nodes.flags.writeable = weights.flags.writeable = False
    return nodes, weights


def normal_rule(n: int = N_RADIAL) -> tuple[np.ndarray, np.ndarray]:
    """(z, w): 2n nodes, symmetric about the kink at 0, with E[g(z)] ~ sum w g(z)."""
    r, w = half_line_rule(n, 0)
    w = w / math.sqrt(2.0 * math.pi)
    return np.concatenate([-r[::-1], r]), np.concatenate([w[::-1], w])


def pair_rule(c, n_angle: int = N_ANGLE, n_radial: int = N_RADIAL):
    """(x1, x2, w) for E[g(x1, x2)] with x1, x2 standard normals of correlation c.

    Polar form x1 = r cos(t), x2 = r cos(t - phi), cos(phi) = c, density
    r exp(-r^2/2) dr dt / (2 pi); the angle is split at the rays where x1 = 0 or x2 = 0
    (the kinks of f(sqrt(q) x)).  Arrays of shape c.shape + (4 n_angle n_radial,).
    """
    phi = np.arccos(np.clip(np.asarray(c, float), -1.0, 1.0))[..., None]
    start = np.pi / 2 + np.array([0.0, 0.0, np.pi, np.pi]) + np.array([0, 1, 0, 1]) * phi
    length = np.where(np.arange(4) % 2 == 0, phi, np.pi - phi)  # arcs phi, pi - phi, ...
    t, tw = _legendre(n_angle)
    theta = start[..., None] + 0.5 * (t + 1.0) * length[..., None]  # (..., 4, n_angle)
    wt = 0.5 * tw * length[..., None] / (2.0 * np.pi)
    r, wr = half_line_rule(n_radial, 1)
    x1 = np.cos(theta)[..., None] * r
    x2 = np.cos(theta - phi[..., None])[..., None] * r
    w = wt[..., None] * wr
    shape = phi.shape[:-1] + (-1,)
    return x1.reshape(shape), x2.reshape(shape), w.reshape(shape)


# --- the activation --------------------------------------------------------------------------
def resolve_param(activation: str, param: float | None) -> float:
    """The activation's parameter; None means the lab's default (ModelConfig)."""
    if param is not None:
        return float(param)
    return param_value(get_activation(activation), ModelConfig())


def _fns(activation: str, param: float | None):
    act = get_activation(activation)
    p = resolve_param(activation, param)
    return (lambda u: act.f(u, p)), (lambda u: act.df(u, p))


# --- the maps --------------------------------------------------------------------------------
def _mean(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    return values @ w if w.ndim == 1 else np.sum(values * w, axis=-1)


def length_terms(f, q, rule=None):
    """(E[f(u)^2], dE[f(u)^2]/dq) at u = sqrt(q) z, broadcast over q."""
    z, w = rule or normal_rule()
    q = np.maximum(np.asarray(q, float), Q_MIN)
    f2 = f(np.sqrt(q)[..., None] * z) ** 2
    mean = _mean(f2, w)
    # E[z^2 - 1] = 0: subtracting f(0)^2 keeps d/dq accurate as q -> 0
    slope = _mean((f2 - f(np.zeros(1))[0] ** 2) * (z * z - 1.0), w) / (2.0 * q)
    return mean, slope


def length_map(activation, sigma_w2, sigma_b2, q, param=None):
    """q_{l+1} = sigma_w^2 E[f(sqrt(q_l) z)^2] + sigma_b^2 (Poole eq. 3), broadcast."""
    f, _ = _fns(activation, param)
    return np.asarray(sigma_w2) * length_terms(f, q)[0] + np.asarray(sigma_b2)


def chi(activation, sigma_w2, q, param=None, rule=None):
    """sigma_w^2 E[f'(sqrt(q) z)^2]: chi_1 at q = q* (Poole eq. 7); per-layer at q_l."""
    _, df = _fns(activation, param)
    z, w = rule or normal_rule()
    q = np.maximum(np.asarray(q, float), Q_MIN)
    return np.asarray(sigma_w2) * _mean(df(np.sqrt(q)[..., None] * z) ** 2, w)


def _corr_terms(activation, param, sw2, sb2, q, c, rule):
    """(M(c), dM/dc) of the normalised correlation map at length q, broadcast."""
    f, df = _fns(activation, param)
    q = np.maximum(np.asarray(q, float), Q_MIN)
    x1, x2, w = pair_rule(c, *rule)
    s = np.sqrt(q)[..., None]
    u1, u2 = s * x1, s * x2
    next_q = sw2 * length_terms(f, q)[0] + sb2
    value = (sw2 * _mean(f(u1) * f(u2), w) + sb2) / next_q
    if activation in _NO_DERIVATIVE:
        # f' = J delta(u), J the jump at 0: q E[f'(u_1) f'(u_2)] = J^2 q p(0, 0), with the
        # density of (u_1, u_2) at the origin p(0, 0) = 1 / (2 pi q sqrt(1 - c^2))
        jump = f(np.array([1e-300]))[0] - f(np.array([-1e-300]))[0]
        with np.errstate(divide="ignore"):
            dense = 1.0 / (2.0 * np.pi * np.sqrt(np.maximum(1.0 - np.asarray(c) ** 2, 0.0)))
        return value, sw2 * jump**2 * dense / next_q
    return value, sw2 * _mean(df(u1) * df(u2), w) * q / next_q


def correlation_map(activation, sigma_w2, sigma_b2, q, c, param=None, rule=(N_ANGLE, N_RADIAL)):
    """c_{l+1} = (sigma_w^2 E[f(u_1) f(u_2)] + sigma_b^2) / L(q) (Poole eq. 5 at q = q*)."""
    args = np.broadcast_arrays(*map(np.asarray, (sigma_w2, sigma_b2, q, c)))
    return _corr_terms(activation, param, *args, rule)[0]


def correlation_slope(activation, sigma_w2, sigma_b2, q, c, param=None, rule=(N_ANGLE, N_RADIAL)):
    """dc'/dc = sigma_w^2 E[f'(u_1) f'(u_2)] q / L(q) (Price's theorem; a step's f' is a
    delta at 0, which gives sigma_w^2 / (2 pi sqrt(1 - c^2) L(q)): inf at c = 1)."""
    args = np.broadcast_arrays(*map(np.asarray, (sigma_w2, sigma_b2, q, c)))
    return _corr_terms(activation, param, *args, rule)[1]


# --- fixed points ----------------------------------------------------------------------------
def q_fixed_point(activation, sigma_w2, sigma_b2, param=None, q0=1.0, tol=1e-13, max_iter=400):
    """(q*, status) of the length map from q0, broadcast over sigma_w^2, sigma_b^2.

    Safeguarded iteration: a Newton step where the map is flatter than the identity (the
    side of a stable fixed point), doubling where it is steeper and rising (so linear-growth
    activations reach Q_MAX fast), each step within a factor 8.  status: CONVERGED,
    UNBOUNDED (q > Q_MAX: q* = inf, e.g. ReLU with sigma_w^2 > 2) or NOT_CONVERGED.
    A plain iteration from q0 would meet the same fixed point: the map is increasing.
    """
    f, _ = _fns(activation, param)
    sw2, sb2 = np.broadcast_arrays(np.asarray(sigma_w2, float), np.asarray(sigma_b2, float))
    q = np.full(sw2.shape, float(q0))
    status = np.full(sw2.shape, NOT_CONVERGED)
    active = np.ones(sw2.shape, bool)
    rule = normal_rule()
    for _ in range(max_iter):
        if not active.any():
            break
        qa, a, b = q[active], sw2[active], sb2[active]
        mean, slope = length_terms(f, qa, rule)
        nxt = a * mean + b
        gap = nxt - qa
        s = a * slope
        newton = qa - gap / np.where(s < 1.0, s - 1.0, -1.0)
        step = np.where(s < 1.0, newton, np.where(gap > 0, np.maximum(nxt, 2 * qa), nxt))
        step = np.clip(step, qa / 8.0, 8.0 * qa + nxt)
        done = np.abs(gap) <= tol * (qa + b)
        tiny = step < Q_MIN
        big = step > Q_MAX
        q[active] = np.where(done, qa, np.where(tiny, 0.0, np.where(big, np.inf, step)))
        status[active] = np.where(done | tiny, CONVERGED, np.where(big, UNBOUNDED, NOT_CONVERGED))
        active[active] = ~(done | tiny | big)
    return q, status


def _c_fixed_point(activation, param, sw2, sb2, q, rule, tol=1e-12, max_iter=40):
    """c* < 1 of a map whose slope at c = 1 exceeds 1, by Newton from below.

    M(c) - c is convex on [0, 1] (M has non-negative Hermite-series coefficients in c) and
    non-negative at 0, so Newton from any c <= c* rises monotonically to the smaller root
    c*; :func:`_series_start` gives such a c close to c*, which saves half the 2-D work.
    """
    c = _series_start(activation, param, sw2, sb2, q)
    active = np.ones(sw2.shape, bool)
    for _ in range(max_iter):
        if not active.any():
            break
        ca = c[active]
        args = sw2[active], sb2[active], q[active]
        value, slope = _corr_terms(activation, param, *args, ca, rule)
        # from just above c* (the start's quadrature differs) a Newton step lands below it
        nxt = np.clip(ca - (value - ca) / np.minimum(slope - 1.0, -1e-12), 0.0, 1.0)
        c[active] = nxt
        active[active] = np.abs(nxt - ca) > tol
    return c


def _series_start(activation, param, sw2, sb2, q, k_max=24):
    """A lower bound of c*: the root of the map's Mehler series truncated at degree k_max.

    M(c) = sum_k b_k c^k with b_0 = (sigma_w^2 E[f(u)]^2 + sigma_b^2) / L(q) and
    b_k = sigma_w^2 E[f(u) He_k(z)]^2 / (k! L(q)) >= 0 (Mehler's formula), so on [0, 1]
    the truncation lies below M and its smallest fixed point below c*.  1-D integrals only.
    """
    f, _ = _fns(activation, param)
    z, w = normal_rule()
    fu = f(np.sqrt(np.maximum(q, Q_MIN))[:, None] * z)
    coef = (fu * w) @ hermevander(z, k_max)  # E[f(u) He_k(z)]
    fact = np.cumprod(np.concatenate([[1.0], np.arange(1.0, k_max + 1)]))
    b = sw2[:, None] * coef**2 / fact
    b[:, 0] += sb2
    b /= (sw2 * (fu * fu @ w) + sb2)[:, None]
    powers = np.arange(k_max + 1)
    c = np.zeros(sw2.shape)
    for _ in range(40):  # Newton on a convex polynomial from 0: monotone, cheap
        value = np.sum(b * c[:, None] ** powers, axis=1)
        slope = np.sum(b[:, 1:] * powers[1:] * c[:, None] ** (powers[1:] - 1), axis=1)
        c = np.clip(c - (value - c) / np.minimum(slope - 1.0, -1e-12), c, 1.0)
    return c


def solve(
    activation, sigma_w2, sigma_b2, param=None, q0=1.0, rule=(N_ANGLE, N_RADIAL), c_tol=1e-12
):
    """All mean-field quantities, broadcast over sigma_w^2 and sigma_b^2: a dict of arrays.

    Where q* is unbounded the maps are evaluated at Q_MAX (their large-q limit; the status
    says so).  In the ordered phase c* = 1 and chi_c = chi_1 (Schoenholz, also where q* = 0);
    in the chaotic phase c* and chi_c = M'(c*) come from the map.
    """
    shape = np.broadcast_shapes(np.shape(sigma_w2), np.shape(sigma_b2))
    sw2 = np.broadcast_to(np.asarray(sigma_w2, float), shape).ravel()
    sb2 = np.broadcast_to(np.asarray(sigma_b2, float), shape).ravel()
    q_star, status = q_fixed_point(activation, sw2, sb2, param, q0)
    q = np.where(np.isfinite(q_star), q_star, Q_MAX)
    f, _ = _fns(activation, param)
    chi_1 = chi(activation, sw2, q, param)
    chi_q = sw2 * length_terms(f, q)[1]
    c_star, chi_c = np.ones(sw2.shape), chi_1.copy()
    # M'(1) = chi_1 q / L(q): chi_1 at a finite q*, the large-q limit where q* is unbounded
    # (1 for ReLU: c = 1 then attracts, no faster than a power of the depth)
    slope_at_1 = chi_1 * np.maximum(q, Q_MIN) / (sw2 * length_terms(f, q)[0] + sb2)
    chi_c = np.where(np.isfinite(q_star), chi_c, slope_at_1)
    # a step's map has an infinite slope at c = 1 (arccos), so c = 1 never attracts
    split = (chi_1 > 1.0 + CRITICAL_TOL) & (slope_at_1 > 1.0 + CRITICAL_TOL)
    split |= activation in _NO_DERIVATIVE
    if split.any():
        args = sw2[split], sb2[split], q[split]
        c_star[split] = _c_fixed_point(activation, param, *args, rule, c_tol)
        chi_c[split] = correlation_slope(activation, *args, c_star[split], param, rule)
    phase = np.where(chi_1 > 1 + CRITICAL_TOL, 1, np.where(chi_1 < 1 - CRITICAL_TOL, -1, 0))
    out = dict(q_star=q_star, status=status, chi_1=chi_1, chi_q=chi_q, c_star=c_star)
    out.update(chi_c=chi_c, xi_q=depth_scale(chi_q), xi_c=depth_scale(chi_c), phase=phase)
    return {k: v.reshape(shape) for k, v in out.items()}


def depth_scale(chi_value) -> np.ndarray:
    """xi = -1 / ln(chi) (Schoenholz eqs. 5, 8) for chi < 1; inf from chi = 1 on (no
    exponential approach to the fixed point: the edge of chaos, or an unbounded q)."""
    x = np.asarray(chi_value, float)
    with np.errstate(divide="ignore"):
        return np.where(x >= 1.0 - CRITICAL_TOL, np.inf, -1.0 / np.log(np.maximum(x, 0.0)))


PHASES = {-1: "ordered", 0: "critical", 1: "chaotic"}


@dataclass(frozen=True)
class MeanField:
    """The mean-field picture of one (activation, sigma_w^2, sigma_b^2); see the module doc."""

    activation: str
    param: float
    sigma_w2: float
    sigma_b2: float
    q_star: float  # inf when the length map is unbounded
    status: str  # of the q* iteration: "converged", "unbounded", "not converged"
    chi_1: float
    chi_q: float
    c_star: float
    chi_c: float
    xi_q: float
    xi_c: float
    phase: str  # "ordered" (chi_1 < 1), "critical", "chaotic" (chi_1 > 1)

    @property
    def gradient_ratio(self) -> float:
        """sqrt(chi_1): ||dL/dW_l|| / ||dL/dW_{l+1}|| deep in an equal-width net."""
        return math.sqrt(self.chi_1)


def mean_field(activation: str, sigma_w2: float, sigma_b2: float, param=None, q0=1.0):
    """The :class:`MeanField` of one point; ``param`` None = the lab's default slope/alpha.

    ``q0``: where the length map starts; it matters only where the map has a continuum of
    fixed points (ReLU at sigma_w^2 = 2, sigma_b^2 = 0 keeps any q).
    """
    r = solve(activation, float(sigma_w2), float(sigma_b2), param, q0)
    return MeanField(
        activation,
        resolve_param(activation, param),
        float(sigma_w2),
        float(sigma_b2),
        float(r["q_star"]),
        STATUS[int(r["status"])],
        float(r["chi_1"]),
        float(r["chi_q"]),
        float(r["c_star"]),
        float(r["chi_c"]),
        float(r["xi_q"]),
        float(r["xi_c"]),
        PHASES[int(r["phase"])],
    )


# --- the phase diagram -----------------------------------------------------------------------
@dataclass(frozen=True)
class PhaseGrid:
    """chi_1, xi_c, q*, c* over sigma_b^2 (rows) x sigma_w^2 (columns)."""

    activation: str
    param: float
    sigma_w2: np.ndarray  # (n_w,)
    sigma_b2: np.ndarray  # (n_b,)
    chi_1: np.ndarray  # (n_b, n_w)
    xi_c: np.ndarray
    q_star: np.ndarray
    c_star: np.ndarray


def phase_grid(activation: str, sigma_w2, sigma_b2, param=None) -> PhaseGrid:
    """The phase diagram on a grid, vectorised over every point.

    A 60 x 60 grid (sigma_w^2 0.5..4, sigma_b^2 0..0.5) took 0.05-0.65 s per activation on
    the 2-core machine under load (tanh 0.55 s, step 0.64 s; ReLU-like 0.06 s): the cost
    is Newton for c* at the chaotic points, with the coarser 2-D rule GRID_RULE (xi_c within
    ~1e-3 of :func:`mean_field`'s, tests) and c* to 1e-9.
    """
    w = np.asarray(sigma_w2, float)
    b = np.asarray(sigma_b2, float)
    r = solve(activation, w[None, :], b[:, None], param, rule=GRID_RULE, c_tol=1e-9)
    p = resolve_param(activation, param)
    return PhaseGrid(activation, p, w, b, r["chi_1"], r["xi_c"], r["q_star"], r["c_star"])


def edge_of_chaos(activation: str, sigma_b2, param=None, lo=1e-2, hi=1e3, n_iter=60):
    """sigma_w^2 with chi_1 = 1 for each sigma_b^2 (bisection in log sigma_w^2, vectorised).

    NaN where chi_1 - 1 does not change sign on [lo, hi] (a step: chi_1 = 0 everywhere).
    Where the length map is bistable (GELU, SiLU at small sigma_b^2: q -> 0 from q0 = 1 on
    one side, q -> inf on the other) chi_1 jumps over 1 and the result is the jump's
    sigma_w^2; there chi_1 != 1 at the returned point (check with :func:`mean_field`).
    """
    b = np.asarray(sigma_b2, float)
    a_lo, a_hi = np.full(b.shape, math.log(lo)), np.full(b.shape, math.log(hi))

    def gap(log_w):
        w = np.exp(log_w)
        q, _ = q_fixed_point(activation, w, b, param)
        return chi(activation, w, np.where(np.isfinite(q), q, Q_MAX), param) - 1.0

    g_lo, g_hi = gap(a_lo), gap(a_hi)
    ok = np.sign(g_lo) != np.sign(g_hi)
    for _ in range(n_iter):
        mid = 0.5 * (a_lo + a_hi)
        g = gap(mid)
        below = np.sign(g) == np.sign(g_lo)
        a_lo, g_lo = np.where(below, mid, a_lo), np.where(below, g, g_lo)
        a_hi = np.where(below, a_hi, mid)
    return np.where(ok, np.exp(0.5 * (a_lo + a_hi)), np.nan)
