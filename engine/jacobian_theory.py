"""Predicted moments of J's squared singular values at initialisation (Qt-free, NumPy).

J = d a_{L-1} / d a_0 = prod_{k=1}^{L-1} W_k D_k (``engine.jacobian``), D_k = diag(f'(z_k)).
In the wide-net limit the W_k and D_k are asymptotically free (Pennington, Schoenholz &
Ganguli 2017, "Resurrecting the sigmoid ...", sec. 2; 2018, "The emergence of spectral
universality in deep networks"), so the spectrum of JJ^T is the free multiplicative
convolution of the W_k^T W_k and D_k^2 spectra: S_{JJ^T} = prod_k S_{W_k^T W_k} S_{D_k^2}.
Writing a spectrum's S-transform as S(z) = (1 / m_1) (1 - v z + O(z^2)), with mean m_1 and
normalised variance v = m_2 / m_1^2 - 1, the first two orders of that product give, for
lambda = sigma^2 (a squared singular value):

    E[lambda]   = prod_k chi_k,                    chi_k = sigma_w^2 mu_1(q_k)
    Var[lambda] = E[lambda]^2 sum_k (mu_2(q_k) / mu_1(q_k)^2 - 1 - s_1),

with mu_j(q) = E[f'(sqrt(q) z)^(2 j)], q_k the length profile of the actual input (the
length map iterated from ||x||^2 / n_in, engine.meanfield_net), and s_1 the S-transform's
first coefficient of W^T W scaled to mean 1: -1 for i.i.d. weights (Marchenko-Pastur at
ratio 1: normalised variance 1, also for uniform draws), 0 for orthogonal weights (W^T W
= sigma_w^2 I).  At criticality on the fixed point (chi_k = 1, q_k = q*) this is
Pennington et al.'s Var = L (mu_2 / mu_1^2 - 1 - s_1); away from it the form above (exact to
second order, as the second moment of a product of free elements is) applies layer by layer.

Only these two moments are predicted here, not the full density.  Where they apply: random
i.i.d. or orthogonal weights with N(0, sigma_b^2) biases, at initialisation, no batch norm,
no residual connections (dropout is off in the evaluation-mode J), the wide-net limit
(finite width N adds deviations that grow with depth / N; tests/test_jacobian.py measures
them).  The mean holds for unequal widths (times N_{L-1} / min(N_0, N_{L-1})); the variance
needs equal widths (a rectangular W^T W is Marchenko-Pastur at another ratio).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from engine.activations import get as get_activation
from engine.activations import param_value
from engine.jacobian import JacobianSample, session_sample
from engine.meanfield import length_terms, normal_rule
from engine.meanfield_net import model_points

#: under this width the prediction (a wide-net limit) gets a caveat in words
NARROW = 100
LABEL = "mean-field / free-probability prediction at init (wide-net limit)"


@dataclass(frozen=True)
class SpectrumPrediction:
    """E[lambda] and Var[lambda] of lambda = sigma^2 over J's singular values sigma."""

    mean: float  # NaN where not covered (``reason`` says why)
    var: float  # NaN where not covered or widths differ
    weights: str  # "orthogonal" or "i.i.d."
    chi: np.ndarray  # (L-1,) chi_k of the layers in J
    reason: str = ""  # why there is no prediction ("" when there is one)
    notes: tuple[str, ...] = ()  # caveats: training moved the weights, narrow layers, ...

    @property
    def sd(self) -> float:
        return math.sqrt(self.var) if self.var >= 0 else math.nan

    def __repr__(self) -> str:
        return f"SpectrumPrediction(mean={self.mean:.4g}, var={self.var:.4g}, {self.weights})"


def derivative_moments(df, q: float) -> tuple[float, float]:
    """(mu_1, mu_2) = (E[f'(u)^2], E[f'(u)^4]) at u = sqrt(q) z, z ~ N(0, 1)."""
    z, w = normal_rule()
    g2 = df(math.sqrt(max(q, 0.0)) * z) ** 2
    return float(g2 @ w), float((g2 * g2) @ w)


def layer_lengths(fns, sigma_w2, sigma_b2: float, q_in: float) -> np.ndarray:
    """q_k, k = 0..L-1, from ``q_in``; ``fns`` the L activations' f, ``sigma_w2`` (>= L,)."""
    q = np.empty(len(fns))
    q[0] = sigma_w2[0] * q_in + sigma_b2
    for k in range(1, len(fns)):
        q[k] = sigma_w2[k] * length_terms(fns[k - 1], q[k - 1])[0] + sigma_b2
    return q


def layer_terms(acts, params, sigma_w2, sigma_b2, q_in) -> tuple[np.ndarray, np.ndarray]:
    """(chi_k, mu_2 / mu_1^2 - 1) for the layers k = 1..L-1 of J, each (L-1,).

    ``acts``, ``params``: the L hidden layers' activation names and parameters;
    ``sigma_w2``: fan_in Var(W) per layer (>= L,).  A layer with f' = 0 (a step) has
    chi = 0 and spread 0 (J = 0).
    """
    funcs = [get_activation(a) for a in acts]
    fs = [lambda u, a=a, p=p: a.f(u, p) for a, p in zip(funcs, params, strict=True)]
    q = layer_lengths(fs, sigma_w2, sigma_b2, q_in)
    chi, spread = np.zeros(len(acts) - 1), np.zeros(len(acts) - 1)
    for k in range(1, len(acts)):
        mu1, mu2 = derivative_moments(lambda u, k=k: funcs[k].df(u, params[k]), q[k])
        chi[k - 1] = sigma_w2[k] * mu1
        spread[k - 1] = mu2 / mu1**2 - 1.0 if mu1 > 0 else 0.0
    return chi, spread


def predict(acts, params, sigma_w2, sigma_b2, q_in, widths, orthogonal) -> tuple[float, float]:
    """(E[lambda], Var[lambda]) of J = d a_{L-1} / d a_0 (module doc); arguments as
    :func:`layer_terms`, ``widths`` = (n_in, N_0, .., N_{L-1}).  Var is NaN unless
    N_0 = .. = N_{L-1}."""
    chi, spread = layer_terms(acts, params, sigma_w2, sigma_b2, q_in)
    hidden = list(widths[1:])
    mean = float(np.prod(chi)) * hidden[-1] / min(hidden[0], hidden[-1])
    s1 = 0.0 if orthogonal else -1.0
    var = mean**2 * float(np.sum(spread - s1)) if len(set(hidden)) == 1 else math.nan
    return mean, var


def model_prediction(model, widths, q_in: float, step: int = 0) -> SpectrumPrediction:
    """The prediction for a ``ModelConfig`` with ``widths`` = (n_in, N_0, .., N_{L-1}, n_out)
    and an input of mean square ``q_in``; ``step`` > 0 adds the caveat that training has
    moved the weights.  No prediction (NaN, ``reason``) where the theory does not apply."""
    layers = model.layers()
    acts = [layer.activation for layer in layers]
    params = [param_value(get_activation(a), model) for a in acts]
    weights = "orthogonal" if model.init == "orthogonal" else "i.i.d."
    sw2, sb2, why = model_points(model, widths)
    none = np.zeros(0)
    if len(acts) < 2:
        return SpectrumPrediction(math.nan, math.nan, weights, none, "needs >= 2 hidden layers")
    if sb2 is None:
        return SpectrumPrediction(math.nan, math.nan, weights, none, why)
    if model.residual:  # model_points covers them (the gradient line); these products not
        why = "residual connections: J is a product of (I + D W), not of D W"
        return SpectrumPrediction(math.nan, math.nan, weights, none, why)
    if model.init == "zeros":
        return SpectrumPrediction(math.nan, math.nan, weights, none, "zero weights: J = 0")
    if not math.isfinite(q_in):
        return SpectrumPrediction(math.nan, math.nan, weights, none, "no input sample")
    mean, var = predict(acts, params, sw2, sb2, q_in, widths[:-1], weights == "orthogonal")
    notes = []
    if step > 0:
        notes.append(f"training has moved the weights (step {step}): predicted for init")
    hidden = widths[1:-1]
    if len(set(hidden)) > 1:
        notes.append("unequal widths: mean predicted, variance not")
    if min(hidden) < NARROW:
        notes.append(f"narrow layers (N = {min(hidden)}): finite-width deviations")
    chi = layer_terms(acts, params, sw2, sb2, q_in)[0]
    return SpectrumPrediction(mean, var, weights, chi, "", tuple(notes))


@dataclass(frozen=True)
class JacobianSpectrum:
    """One computation: the measured singular values and the prediction at init."""

    sample: JacobianSample
    prediction: SpectrumPrediction | None
    seconds: float  # how long the computation took (worker thread)
    mode: str = ""  # how batch norm / dropout enter J, in words ("" without them)


def session_spectrum(session) -> JacobianSpectrum:
    """J's singular values of ``session`` now, and the prediction for its init."""
    t0 = time.perf_counter()
    sample = session_sample(session)
    prediction = None
    if not sample.reason:
        widths = [session.X.shape[1]] + [sp.n_out for sp in session.net.specs]
        prediction = model_prediction(session.config.model, widths, sample.q_in, sample.step)
    m = session.config.model
    mode = ""
    if m.batch_norm != "none" or m.dropout > 0:
        mode = "J in evaluation mode: batch norm with its running statistics, no dropout"
    return JacobianSpectrum(sample, prediction, time.perf_counter() - t0, mode)
