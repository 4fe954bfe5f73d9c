"""Weight initialisers (Keras conventions), all drawn from an explicit ``numpy`` Generator."""

from __future__ import annotations

import math

import numpy as np


def _normal(rng, shape, std):
    return rng.normal(0.0, std, size=shape)


def _uniform(rng, shape, limit):
    return rng.uniform(-limit, limit, size=shape)


def _orthogonal(rng, shape, gain=1.0):
    """Saxe et al. (2014): a (semi-)orthogonal matrix from the QR of a Gaussian one."""
    n_in, n_out = shape
    a = rng.normal(size=(max(n_in, n_out), min(n_in, n_out)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
    return gain * (q if n_in >= n_out else q.T)


def init_weights(
    name: str,
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    scale: float = 0.05,
    sigma_w2: float = 1.0,
) -> np.ndarray:
    """A (n_in, n_out) float64 weight matrix; ``scale`` is the std / limit of normal / uniform,
    ``sigma_w2`` the fan-in variance of fan_in_normal (N(0, sigma_w2 / n_in), the mean-field
    parameterisation: He is 2, LeCun 1) and the squared gain of orthogonal."""
    shape = (n_in, n_out)
    fan_avg = 0.5 * (n_in + n_out)
    table = {
        "xavier_normal": lambda: _normal(rng, shape, math.sqrt(1.0 / fan_avg)),
        "xavier_uniform": lambda: _uniform(rng, shape, math.sqrt(3.0 / fan_avg)),
        "he_normal": lambda: _normal(rng, shape, math.sqrt(2.0 / n_in)),
        "he_uniform": lambda: _uniform(rng, shape, math.sqrt(6.0 / n_in)),
        "lecun_normal": lambda: _normal(rng, shape, math.sqrt(1.0 / n_in)),
        "fan_in_normal": lambda: _normal(rng, shape, math.sqrt(sigma_w2 / n_in)),
        "normal": lambda: _normal(rng, shape, scale),
        "uniform": lambda: _uniform(rng, shape, scale),
        "orthogonal": lambda: _orthogonal(rng, shape, math.sqrt(sigma_w2)),
        "zeros": lambda: np.zeros(shape),
    }
    if name not in table:
        raise ValueError(
            f"model.init: unknown initialiser {name!r}; expected one of " + ", ".join(table)
        )
    return table[name]()
