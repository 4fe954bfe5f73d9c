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

Where it applies: random Gaussian (or, for second moments, orthogonal) weights with zero
biases or N(0, sigma_b^2) biases, no batch norm, no residual connections, no dropout, at
initialisation, wide layers (finite width adds O(1/sqrt(N)) noise per layer), one example
(a batch adds cross-example terms (a_b . a_b')(delta_b . delta_b') that this ignores).  The
output layer's gradient depends on the loss, so the profile stops at the last hidden layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from engine.meanfield import _fns, chi, length_terms

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
    norm or residual connections fit these maps: then None and the reason in words.
    """
    sw2 = np.array(
        [
            init_sigma_w2(model.init, a, b, model.init_scale, model.sigma_w2)
            for a, b in pairwise(widths)
        ]
    )
    if model.batch_norm != "none":
        return sw2, None, "batch norm renormalises each layer: not these maps"
    if model.residual:
        return sw2, None, "residual connections add the identity: not these maps"
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


def gradient_profile(activation, sigma_w2, sigma_b2, widths, q_in: float, param=None):
    """Predicted ||dL/dW_l|| / ||dL/dW_{L-1}|| for the hidden layers l = 0..L-1, (L,).

    ``widths`` = (n_in, N_0, .., N_{L-1}); ``sigma_w2``: a scalar or per layer (entry l+1
    scales delta_{l+1} W_{l+1}^T; the output layer's is not needed); ``activation``: a name
    or L names.  See the module doc for the derivation and where it applies.
    """
    widths = [int(w) for w in widths]
    n_layers = len(widths) - 1
    acts, sw2 = _per_layer(activation, sigma_w2, n_layers)
    q = length_profile(acts, sw2, sigma_b2, q_in, n_layers, param)
    mean_f2 = [length_terms(_fns(acts[k], param)[0], q[k])[0] for k in range(n_layers - 1)]
    act_sq = np.array([widths[0] * q_in] + [widths[k + 1] * m for k, m in enumerate(mean_f2)])
    delta_sq = np.ones(n_layers)  # ||delta_l||^2 / ||delta_{L-1}||^2
    for k in range(n_layers - 2, -1, -1):
        delta_sq[k] = delta_sq[k + 1] * chi(acts[k], sw2[k + 1], q[k], param)
    grad = np.sqrt(act_sq * delta_sq)  # ||a_{l-1}|| ||delta_l||
    return grad / grad[-1]
