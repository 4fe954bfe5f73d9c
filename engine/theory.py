"""What the chain rule predicts, from the factors a step measured, and the activation table.

Backprop multiplies one factor per layer: delta_k = (delta_{k+1} W_{k+1}^T) * f'(z_k).  Taking
norms, ||delta_k|| ~ ||delta_{k+1}|| * gain(W_{k+1}^T) * mean|f'(z_k)|, where the gain of W^T
on a random direction is ||W||_F / sqrt(n_out).  Then ||dL/dW_k|| = ||a_{k-1}^T delta_k|| ~
||a_{k-1}||_F ||delta_k||_F / sqrt(B) for batch rows that are not correlated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine import kernels as K
from engine.activations import ACTIVATIONS, param_value
from engine.config import ModelConfig


def chain_rule_delta(
    delta_out: float, fprime_mean: np.ndarray, weight_norm: np.ndarray, widths: np.ndarray
) -> np.ndarray:
    """Predicted ||delta_k|| for k = 0..L from ||delta_L|| and the per-layer factors.

    ``fprime_mean``, ``weight_norm``, ``widths``: (L+1,) per layer (the output entry of
    ``fprime_mean`` is unused).  Returns (L+1,) float64.
    """
    L = len(widths) - 1
    gain = np.asarray(weight_norm, float) / np.sqrt(np.asarray(widths, float))
    pred = np.empty(L + 1)
    pred[L] = delta_out
    for k in range(L - 1, -1, -1):
        pred[k] = pred[k + 1] * gain[k + 1] * fprime_mean[k]
    return pred


def chain_rule_prediction(
    layers: dict[str, np.ndarray], widths, batch: int, input_norm: float
) -> np.ndarray:
    """Predicted ||dL/dW_k|| (L+1,) from a snapshot's per-layer metrics.

    ``layers``: Snapshot.layers; ``input_norm``: ||x||_F of the batch (layer 0's input).
    """
    widths = np.asarray(widths, float)
    delta = chain_rule_delta(
        layers["delta_norm"][-1], layers["fprime_mean"], layers["weight_norm"], widths
    )
    a_rms2 = layers["act_mean"] ** 2 + layers["act_std"] ** 2  # mean of a^2 per layer
    a_norm = np.sqrt(batch * widths * a_rms2)  # ||a_k||_F
    inputs = np.concatenate([[input_norm], a_norm[:-1]])
    return inputs * delta / np.sqrt(batch)


def sigmoid_bound(anchor: float, anchor_layer: int, depth: int) -> np.ndarray:
    """anchor * 0.25^(anchor_layer - k): how fast sigmoid' <= 1/4 alone can shrink a gradient."""
    k = np.arange(depth + 1)
    return anchor * 0.25 ** (anchor_layer - k).astype(float)


@dataclass(frozen=True)
class ActivationRow:
    """One row of the seed articles' comparison table, with a measured relative cost."""

    name: str
    display: str
    formula: str
    output_range: str
    max_grad: float
    negative_side: str
    smooth: str
    ns_per_element: float
    relative_cost: float  # time / time of ReLU, same kernel, same machine


def _time_kernel(code: int, z: np.ndarray, repeats: int) -> float:
    y, fp = np.empty_like(z), np.empty_like(z)
    K.activate(code, 0.1, z, y, fp)  # compile / warm up
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        K.activate(code, 0.1, z, y, fp)
        best = min(best, time.perf_counter() - t0)
    return best / z.size * 1e9


def activation_table(n: int = 200_000, repeats: int = 5, seed: int = 0) -> list[ActivationRow]:
    """Every activation with its metadata and the measured cost of its f + f' kernel."""
    z = np.random.default_rng(seed).normal(0.0, 3.0, n)
    ns = {name: _time_kernel(a.code, z, repeats) for name, a in ACTIVATIONS.items()}
    defaults = ModelConfig()
    return [
        ActivationRow(
            a.name,
            a.display,
            a.formula,
            a.output_range,
            a.max_grad(param_value(a, defaults)),
            a.negative_side,
            a.smooth,
            ns[a.name],
            ns[a.name] / ns["relu"],
        )
        for a in ACTIVATIONS.values()
    ]
