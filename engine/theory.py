"""The activation table: every activation's metadata and the measured cost of its kernel.

(The gradient chart's theory line is :mod:`engine.theory_lines`.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine import kernels as K
from engine.activations import ACTIVATIONS, param_value
from engine.config import ModelConfig


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
