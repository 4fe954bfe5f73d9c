"""Mean-field predictions for a lab network at initialisation: its (sigma_w^2, sigma_b^2)
points and the per-layer gradient-norm profile (Qt-free, NumPy).

Backward pass (Schoenholz et al. 2017, "Deep Information Propagation", eq. 9): with
delta_l = dL/dz_l = (delta_{l+1} W_{l+1}^T) * f'(z_l) and W_{l+1} ~ N(0, sigma_w^2 / N_l),
each unit of delta_{l+1} W_{l+1}^T has variance sigma_w^2 ||delta_{l+1}||^2 / N_l, so

    E||delta_l||^2 = sigma_w^2 E[f'(sqrt(q_l) z)^2] E||delta_{l+1}||^2 = chi(q_l) E||delta_{l+1}||^2

in total; per unit (Schoenholz's q~_l = E||delta_l||^2 / N_l) that is
q~_l = chi(q_l) (N_{l+1} / N_l) q~_{l+1}, the width ratio of the issue.  For one example
dL/dW_l = a_{l-1}^T delta_l has ||dL/dW_l||^2 = ||a_{l-1}||^2 ||delta_l||^2, with
||a_{l-1}||^2 = N_{l-1} E[f(sqrt(q_{l-1}) z)^2] (||x||^2 for the first layer).  Deep in an
equal-width net at q* the per-layer ratio ||dL/dW_l|| / ||dL/dW_{l+1}|| is sqrt(chi_1).

Residual connections, in the form engine.network builds them (a skip around each hidden
layer whose width equals its input's, the first one too when n_in = N_0):

    z_k = a_{k-1} W_k + b_k,   a_k = f(z_k) + a_{k-1},
    dL/da_{k-1} = delta_k W_k^T + dL/da_k,   delta_k = dL/da_k * f'(z_k).

Forwards, with p_k = ||a_k||^2 / N_k and m_k = the mean of a_k over its units (one example),
q_k = sigma_w^2 p_{k-1} + sigma_b^2 as before, and since z_k,i depends on a_{k-1,i} only
through one of N weights, f(z_k,i) and a_{k-1,i} are independent at infinite width:

    p_k = E[f(z_k)^2] + 2 E[f(z_k)] m_{k-1} + p_{k-1},   m_k = E[f(z_k)] + m_{k-1}

(p_{-1} = q_in, m_{-1} = the input's mean; without a skip p_k = E[f^2], m_k = E[f]).
Backwards, the cross term E[(delta_k W_k^T) . dL/da_k] is a sum of zero-mean weights times
quantities of the layers above (the gradient-independence assumption of the papers), so

    E||dL/da_{k-1}||^2 = (chi(q_k) + 1) E||dL/da_k||^2,

chi(q_k) = sigma_w^2 E[f'(z_k)^2]: the identity path keeps the gradient, chi_k adds to it
(Yang & Schoenholz 2017, "Mean field residual networks", for their form).  Then
||delta_k||^2 = E[f'(z_k)^2] ||dL/da_k||^2 and ||dL/dW_k||^2 = N_{k-1} p_{k-1} ||delta_k||^2.
Measured against the lab: tests/test_residual_line.py, tools/theory_agreement.py residual.

Where it applies: random Gaussian (or, for second moments, orthogonal) weights with zero
biases or N(0, sigma_b^2) biases, no batch norm, no dropout, at initialisation, wide layers
(finite width adds O(1/sqrt(N)) noise per layer), one example (a batch adds cross-example
terms (a_b . a_b')(delta_b . delta_b') that this ignores).  The output layer's gradient
depends on the loss, so the profile stops at the last hidden layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from engine.meanfield import _fns, chi, length_terms, normal_rule

# weight variance * fan_avg (xavier) or * fan_in (he, lecun), as engine.initializers draws:
# a uniform on [-a, a] has variance a^2 / 3, so he_uniform's a = sqrt(6 / fan_in) gives 2
_PER_FAN = {
    "xavier_normal": ("avg", 1.0),
    "xavier_uniform": ("avg", 1.0),
    "he_normal": ("in", 2.0),
    "he_uniform": ("in", 2.0),
    "lecun_normal": ("in", 1.0),
}


def init_sigma_w2(
    init: str, fan_in: int, fan_out: int, scale: float = 0.05, sigma_w2: float = 1.0
) -> float:
    """sigma_w^2 = fan_in Var(W_ij) of engine.initializers' ``init`` for one layer.

    He: 2; LeCun: 1; Xavier: 2 fan_in / (fan_in + fan_out) (1 for equal widths);
    fan_in_normal: ``sigma_w2``; "normal": fan_in scale^2; "uniform" on [-scale, scale]:
    fan_in scale^2 / 3; orthogonal with gain sqrt(sigma_w2): sigma_w2 min(1, fan_in / fan_out)
    (unit-norm columns or rows: same second moments as a Gaussian with that variance, which is
    all the length map sees; its Jacobian spectrum differs); zeros: 0.  ``ValueError`` for a
    name engine.initializers does not know.
    """
    if init in _PER_FAN:
        fan, value = _PER_FAN[init]
        return value * fan_in / (0.5 * (fan_in + fan_out)) if fan == "avg" else value
    table = {
        "normal": fan_in * scale**2,
        "uniform": fan_in * scale**2 / 3.0,
        "fan_in_normal": sigma_w2,
        "orthogonal": sigma_w2 * min(1.0, fan_in / fan_out),
        "zeros": 0.0,
    }
    if init not in table:
        raise ValueError(f"init_sigma_w2: unknown initialiser {init!r}")
    return float(table[init])


def model_points(model, widths: Sequence[int]) -> tuple[np.ndarray, float | None, str]:
    """(sigma_w^2 per layer (L+1,), sigma_b^2 or None, reason) of a ``ModelConfig``.

    ``widths``: (n_in, N_0, .., N_{L-1}, n_out).  sigma_b^2 is ``sigma_b2`` for ``bias_init = 0``; a
    constant bias b != 0 is not a N(0, sigma_b^2) draw (every unit has mean b), nor do batch
    norm fit these maps: then None and the reason in words.  Residual connections keep their
    points (:func:`residual_skips` says which layers add their input).
    """
    sw2 = np.array(
        [
            init_sigma_w2(model.init, a, b, model.init_scale, model.sigma_w2)
            for a, b in pairwise(widths)
        ]
    )
    if model.batch_norm != "none":
        return sw2, None, "batch norm renormalises each layer: not these maps"
    if model.bias_init != 0.0:
        return sw2, None, "a constant bias b != 0 shifts every unit's mean: not N(0, sigma_b^2)"
    return sw2, float(model.sigma_b2), ""


def _per_layer(activation, sigma_w2, n: int) -> tuple[list[str], np.ndarray]:
    """(n activation names, >= n sigma_w^2 values) from a name or list, a scalar or array."""
    acts = [activation] * n if isinstance(activation, str) else list(activation)
    sw2 = np.atleast_1d(np.asarray(sigma_w2, float))
    return acts, np.broadcast_to(sw2, (max(n, sw2.size),)) if sw2.size == 1 else sw2


def length_profile(activation, sigma_w2, sigma_b2, q_in: float, n_layers: int, param=None):
    """q_l, l = 0..L-1: the length map iterated from the input (not q*), (L,).

    ``activation``: a name or L names; ``sigma_w2``: a scalar or per layer (layer 0 first;
    entries past L unused); ``q_in`` = ||x||^2 / n_in, the input's mean square, so that
    q_0 = sigma_w^2[0] q_in + sigma_b^2.
    """
    acts, sw2 = _per_layer(activation, sigma_w2, n_layers)
    q = np.empty(n_layers)
    q[0] = sw2[0] * q_in + sigma_b2
    for k in range(1, n_layers):
        q[k] = sw2[k] * length_terms(_fns(acts[k - 1], param)[0], q[k - 1])[0] + sigma_b2
    return q


def residual_skips(model, widths: Sequence[int]) -> tuple[bool, ...]:
    """Per hidden layer (L,): does it add its input, as engine.network.layer_specs decides
    (``model.residual`` and the layer as wide as its input)?  ``widths``: (n_in, .., n_out)."""
    return tuple(bool(model.residual) and a == b for a, b in pairwise(widths[:-1]))


def mean_f(f, q) -> np.ndarray:
    """E[f(sqrt(q) z)], z ~ N(0, 1), broadcast over q."""
    z, w = normal_rule()
    return f(np.sqrt(np.maximum(np.asarray(q, float), 0.0))[..., None] * z) @ w


def grad_sq_profile(acts, params, sw2, sb2, skips, widths, q_in, m_in) -> np.ndarray:
    """||dL/dW_l||^2 / ||dL/da_{L-1}||^2 for the hidden layers l = 0..L-1, per example: (L, E).

    ``acts``, ``params``, ``skips``: per hidden layer (L,); ``sw2``: per layer, >= L entries
    (layer 0 first); ``widths`` (n_in, N_0, .., N_{L-1}); ``q_in``, ``m_in`` (E,): each
    example's ||x||^2 / n_in and mean(x) (the mean matters only for a skip at layer 0).
    The maps of the module doc, residual or not.
    """
    q_in = np.atleast_1d(np.asarray(q_in, float))
    p, m = q_in, np.broadcast_to(np.asarray(m_in, float), q_in.shape)
    act_sq, fp2 = [], []  # ||a_{l-1}||^2 and E[f'(z_l)^2] per example
    for k in range(len(widths) - 1):
        act_sq.append(widths[k] * p)
        q = sw2[k] * p + sb2
        f = _fns(acts[k], params[k])[0]
        f2, mu = length_terms(f, q)[0], mean_f(f, q)
        fp2.append(chi(acts[k], 1.0, q, params[k]))
        p, m = (f2 + 2.0 * mu * m + p, mu + m) if skips[k] else (f2, mu)
    grad_sq = np.empty((len(act_sq), q_in.size))
    g = np.ones_like(q_in)  # ||dL/da_l||^2 / ||dL/da_{L-1}||^2
    for k in range(len(act_sq) - 1, -1, -1):
        grad_sq[k] = act_sq[k] * fp2[k] * g
        g = g * (sw2[k] * fp2[k] + float(skips[k]))
    return grad_sq


def gradient_profile(
    activation, sigma_w2, sigma_b2, widths, q_in: float, param=None, skips=None, m_in=0.0
):
    """Predicted ||dL/dW_l|| / ||dL/dW_{L-1}|| for the hidden layers l = 0..L-1, (L,).

    ``widths`` = (n_in, N_0, .., N_{L-1}); ``sigma_w2``: a scalar or per layer (entry l+1
    scales delta_{l+1} W_{l+1}^T; the output layer's is not needed); ``activation``: a name
    or L names; ``skips``: per hidden layer, does it add its input (None: no skips);
    ``m_in``: the input's mean.  See the module doc for the derivation and where it applies.
    """
    widths = [int(w) for w in widths]
    n_layers = len(widths) - 1
    acts, sw2 = _per_layer(activation, sigma_w2, n_layers)
    skips = (False,) * n_layers if skips is None else tuple(skips)
    params = [param] * n_layers
    grad = np.sqrt(grad_sq_profile(acts, params, sw2, sigma_b2, skips, widths, q_in, m_in)[:, 0])
    return grad / grad[-1]
