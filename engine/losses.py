"""Output layer / loss pairs and the targets each one trains on.

The kernels compute the loss and ``delta_out = dL/dz_out``; here live the codes, the output
width a data set needs, and the conversion of labels into target arrays.
"""

from __future__ import annotations

import numpy as np

from engine.codes import LossCode, code_of


def code(name: str) -> int:
    """Integer code the kernels dispatch on (``ValueError`` naming the choices if unknown)."""
    return int(code_of(LossCode, name, "model.loss"))


def n_outputs(name: str, task: str, n_classes: int, n_targets: int) -> int:
    """Width of the output layer for this loss and data set (``ValueError`` if they clash)."""
    code(name)
    if name == "mse":
        return n_targets if task == "regression" else n_classes
    if task != "classification":
        raise ValueError(f"model.loss: {name} needs a classification data set; use mse")
    if name == "sigmoid_bce":
        return 1 if n_classes == 2 else n_classes
    return n_classes


def targets(name: str, y: np.ndarray, n_out: int, dtype) -> np.ndarray:
    """(n, n_out) C-contiguous target array: one-hot labels, a 0/1 column, or the values."""
    if y.ndim == 2:
        return np.ascontiguousarray(y, dtype=dtype)
    if name == "sigmoid_bce" and n_out == 1:
        return y.astype(dtype).reshape(-1, 1)
    t = np.zeros((y.size, n_out), dtype=dtype)
    t[np.arange(y.size), y] = 1.0
    return t
