"""Activation registry: name -> integer code, display metadata and NumPy reference functions.

The Numba kernels select an activation by its integer ``code`` (a Python function can't be
passed into a cached kernel).  The NumPy ``f`` / ``df`` here are the slow, readable
reference: tests check the kernels against them and the GUI plots them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erf = np.vectorize(math.erf, otypes=[float])


@dataclass(frozen=True)
class Activation:
    """Metadata of one hidden-layer activation ``f`` and its reference derivative ``df``."""

    name: str
    code: int  # integer the kernels dispatch on
    display: str
    formula: str
    output_range: str
    f: Callable[[np.ndarray, float], np.ndarray]  # f(z, param)
    df: Callable[[np.ndarray, float], np.ndarray]  # f'(z, param)
    param: str = ""  # name of the ModelConfig field giving ``param``, if any
    negative_side: str = ""  # gradient for z < 0, in words (seed 003's comparison table)
    smooth: str = ""

    def max_grad(self, param: float = 0.0) -> float:
        """max |f'(z)| over z, from a dense grid (exact at the grid's resolution).

        Cached per (activation, parameter): a network asks once per layer, and a grid of
        160k points per layer made a 100000-layer network take minutes to build.
        """
        return _max_grad(self, float(param))

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, code={self.code})"


def _sigmoid(z, p=0.0):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for any z


def _gelu(z, p=0.0):
    return 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))


def _dgelu(z, p=0.0):
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * pdf


def _gelu_tanh(z, p=0.0):
    return 0.5 * z * (1.0 + np.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z**3)))


def _dgelu_tanh(z, p=0.0):
    t = np.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z**3))
    dt = (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z * z)
    return 0.5 * (1.0 + t) + 0.5 * z * dt


def _softplus(z, p=0.0):
    return np.logaddexp(0.0, z)


def _elu(z, a):
    return np.where(z > 0, z, a * np.expm1(np.minimum(z, 0.0)))


def _delu(z, a):
    return np.where(z > 0, 1.0, a * np.exp(np.minimum(z, 0.0)))


_TABLE = [
    Activation(
        "identity",
        0,
        "Identity",
        "f(z) = z",
        "(-inf, inf)",
        lambda z, p=0.0: z * 1.0,
        lambda z, p=0.0: np.ones_like(z * 1.0),
        negative_side="1",
        smooth="yes",
    ),
    Activation(
        "step",
        1,
        "Step (Heaviside)",
        "f(z) = 1 if z > 0 else 0",
        "{0, 1}",
        lambda z, p=0.0: (z > 0) * 1.0,
        lambda z, p=0.0: np.zeros_like(z * 1.0),
        negative_side="0 (no gradient anywhere)",
        smooth="no (discontinuous)",
    ),
    Activation(
        "sigmoid",
        2,
        "Sigmoid",
        "f(z) = 1 / (1 + e^-z)",
        "(0, 1)",
        _sigmoid,
        lambda z, p=0.0: _sigmoid(z) * (1.0 - _sigmoid(z)),
        negative_side="-> 0 (saturates)",
        smooth="yes",
    ),
    Activation(
        "tanh",
        3,
        "Tanh",
        "f(z) = tanh(z)",
        "(-1, 1)",
        lambda z, p=0.0: np.tanh(z),
        lambda z, p=0.0: 1.0 - np.tanh(z) ** 2,
        negative_side="-> 0 (saturates)",
        smooth="yes",
    ),
    Activation(
        "relu",
        4,
        "ReLU",
        "f(z) = max(0, z)",
        "[0, inf)",
        lambda z, p=0.0: np.maximum(z, 0.0),
        lambda z, p=0.0: (z > 0) * 1.0,
        negative_side="0",
        smooth="no (kink at 0)",
    ),
    Activation(
        "leaky_relu",
        5,
        "Leaky ReLU",
        "f(z) = z if z > 0 else a z  (a fixed)",
        "(-inf, inf)",
        lambda z, a: np.where(z > 0, z, a * z),
        lambda z, a: np.where(z > 0, 1.0, a),
        param="leaky_slope",
        negative_side="fixed a (e.g. 0.01)",
        smooth="no (kink at 0)",
    ),
    Activation(
        "prelu",
        6,
        "PReLU",
        "f(z) = z if z > 0 else a z  (a learned)",
        "(-inf, inf)",
        lambda z, a: np.where(z > 0, z, a * z),
        lambda z, a: np.where(z > 0, 1.0, a),
        param="prelu_init",
        negative_side="learned a",
        smooth="no (kink at 0)",
    ),
    Activation(
        "elu",
        7,
        "ELU",
        "f(z) = z if z > 0 else a (e^z - 1)",
        "(-a, inf)",
        _elu,
        _delu,
        param="elu_alpha",
        negative_side="a e^z -> 0",
        smooth="C1 (a = 1)",
    ),
    Activation(
        "selu",
        8,
        "SELU",
        "f(z) = l z if z > 0 else l a (e^z - 1)",
        "(-l a, inf)",
        lambda z, p=0.0: _SELU_SCALE * _elu(z, _SELU_ALPHA),
        lambda z, p=0.0: _SELU_SCALE * _delu(z, _SELU_ALPHA),
        negative_side="l a e^z -> 0",
        smooth="no (kink at 0)",
    ),
    Activation(
        "gelu",
        9,
        "GELU (erf)",
        "f(z) = z Phi(z)",
        "(-0.17, inf)",
        _gelu,
        _dgelu,
        negative_side="small, non-zero near 0",
        smooth="yes",
    ),
    Activation(
        "gelu_tanh",
        10,
        "GELU (tanh approx.)",
        "f(z) = z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))",
        "(-0.17, inf)",
        _gelu_tanh,
        _dgelu_tanh,
        negative_side="small, non-zero near 0",
        smooth="yes",
    ),
    Activation(
        "silu",
        11,
        "SiLU / Swish",
        "f(z) = z sigmoid(z)",
        "(-0.28, inf)",
        lambda z, p=0.0: z * _sigmoid(z),
        lambda z, p=0.0: _sigmoid(z) * (1.0 + z * (1.0 - _sigmoid(z))),
        negative_side="small, non-zero near 0",
        smooth="yes",
    ),
    Activation(
        "softplus",
        12,
        "Softplus",
        "f(z) = log(1 + e^z)",
        "(0, inf)",
        _softplus,
        lambda z, p=0.0: _sigmoid(z),
        negative_side="sigmoid(z) -> 0",
        smooth="yes",
    ),
]

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in _TABLE}
BY_CODE: dict[int, Activation] = {a.code: a for a in _TABLE}


@functools.lru_cache(maxsize=256)
def _max_grad(act: Activation, param: float) -> float:
    z = np.linspace(-8.0, 8.0, 160_001)
    return float(np.max(np.abs(act.df(z, param))))


def get(name: str) -> Activation:
    """Look up an activation by name; ``ValueError`` names the valid choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation: unknown name {name!r}; expected one of {', '.join(ACTIVATIONS)}"
        ) from None


def param_value(act: Activation, model) -> float:
    """The activation's parameter (slope / alpha) taken from a ``ModelConfig``."""
    return float(getattr(model, act.param)) if act.param else 0.0
