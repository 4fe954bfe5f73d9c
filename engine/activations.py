"""Activation registry: display metadata and NumPy reference functions per activation code.

The Numba kernels select an activation by its integer ``code`` (a Python function can't be
passed into a cached kernel); each entry's name is its :class:`~engine.codes.ActCode` member's.
The NumPy ``f`` / ``df`` here are the slow, readable reference: tests check the kernels
against them and the GUI plots them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.codes import SELU_ALPHA, SELU_SCALE, ActCode

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _erf(x):
    """erf as a ufunc: ~50x faster than np.vectorize(math.erf) (the mean-field grids call
    GELU's f on millions of points); scipy.special is imported on first use (0.5 s)."""
    from scipy.special import erf

    return erf(x)


@dataclass(frozen=True)
class Activation:
    """Metadata of one hidden-layer activation ``f`` and its reference derivative ``df``."""

    kind: ActCode  # the code the kernels dispatch on; its lower-case name is the config name
    display: str
    formula: str
    output_range: str
    f: Callable[[np.ndarray, float], np.ndarray]  # f(z, param)
    df: Callable[[np.ndarray, float], np.ndarray]  # f'(z, param)
    param: str = ""  # name of the ModelConfig field giving ``param``, if any
    negative_side: str = ""  # gradient for z < 0, in words (seed 003's comparison table)
    smooth: str = ""

    @property
    def name(self) -> str:
        return self.kind.name.lower()

    @property
    def code(self) -> int:
        """``kind`` as a plain int: an IntEnum argument would make Numba compile a kernel again."""
        return int(self.kind)

    def max_grad(self, param: float = 0.0) -> float:
        """max |f'(z)| over z, from a dense grid (exact at the grid's resolution).

        Cached per (activation, parameter): a network asks once per layer, and a grid of
        160k points per layer made a 100000-layer network take minutes to build.
        """
        return _max_grad(self, float(param))

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, code={self.code})"


def _identity(z, p=0.0):
    return z * 1.0  # a float copy, whatever z was


def _one(z, p=0.0):
    return np.ones_like(z * 1.0)


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


def _leaky(z, a):
    return np.where(z > 0, z, a * z)


def _dleaky(z, a):
    return np.where(z > 0, 1.0, a)


def _elu(z, a):
    return np.where(z > 0, z, a * np.expm1(np.minimum(z, 0.0)))


def _delu(z, a):
    return np.where(z > 0, 1.0, a * np.exp(np.minimum(z, 0.0)))


_TABLE = [
    Activation(
        ActCode.IDENTITY,
        "Identity",
        "f(z) = z",
        "(-inf, inf)",
        _identity,
        _one,
        negative_side="1",
        smooth="yes",
    ),
    Activation(
        ActCode.STEP,
        "Step (Heaviside)",
        "f(z) = 1 if z > 0 else 0",
        "{0, 1}",
        lambda z, p=0.0: (z > 0) * 1.0,
        lambda z, p=0.0: np.zeros_like(z * 1.0),
        negative_side="0 (no gradient anywhere)",
        smooth="no (discontinuous)",
    ),
    Activation(
        ActCode.SIGMOID,
        "Sigmoid",
        "f(z) = 1 / (1 + e^-z)",
        "(0, 1)",
        _sigmoid,
        lambda z, p=0.0: _sigmoid(z) * (1.0 - _sigmoid(z)),
        negative_side="-> 0 (saturates)",
        smooth="yes",
    ),
    Activation(
        ActCode.TANH,
        "Tanh",
        "f(z) = tanh(z)",
        "(-1, 1)",
        lambda z, p=0.0: np.tanh(z),
        lambda z, p=0.0: 1.0 - np.tanh(z) ** 2,
        negative_side="-> 0 (saturates)",
        smooth="yes",
    ),
    Activation(
        ActCode.RELU,
        "ReLU",
        "f(z) = max(0, z)",
        "[0, inf)",
        lambda z, p=0.0: np.maximum(z, 0.0),
        lambda z, p=0.0: (z > 0) * 1.0,
        negative_side="0",
        smooth="no (kink at 0)",
    ),
    Activation(
        ActCode.LEAKY_RELU,
        "Leaky ReLU",
        "f(z) = z if z > 0 else a z  (a fixed)",
        "(-inf, inf)",
        _leaky,
        _dleaky,
        param="leaky_slope",
        negative_side="fixed a (e.g. 0.01)",
        smooth="no (kink at 0)",
    ),
    Activation(
        ActCode.PRELU,
        "PReLU",
        "f(z) = z if z > 0 else a z  (a learned)",
        "(-inf, inf)",
        _leaky,
        _dleaky,
        param="prelu_init",
        negative_side="learned a",
        smooth="no (kink at 0)",
    ),
    Activation(
        ActCode.ELU,
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
        ActCode.SELU,
        "SELU",
        "f(z) = l z if z > 0 else l a (e^z - 1)",
        "(-l a, inf)",
        lambda z, p=0.0: SELU_SCALE * _elu(z, SELU_ALPHA),
        lambda z, p=0.0: SELU_SCALE * _delu(z, SELU_ALPHA),
        negative_side="l a e^z -> 0",
        smooth="no (kink at 0)",
    ),
    Activation(
        ActCode.GELU,
        "GELU (erf)",
        "f(z) = z Phi(z)",
        "(-0.17, inf)",
        _gelu,
        _dgelu,
        negative_side="small, non-zero near 0",
        smooth="yes",
    ),
    Activation(
        ActCode.GELU_TANH,
        "GELU (tanh approx.)",
        "f(z) = z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))",
        "(-0.17, inf)",
        _gelu_tanh,
        _dgelu_tanh,
        negative_side="small, non-zero near 0",
        smooth="yes",
    ),
    Activation(
        ActCode.SILU,
        "SiLU / Swish",
        "f(z) = z sigmoid(z)",
        "(-0.28, inf)",
        lambda z, p=0.0: z * _sigmoid(z),
        lambda z, p=0.0: _sigmoid(z) * (1.0 + z * (1.0 - _sigmoid(z))),
        negative_side="small, non-zero near 0",
        smooth="yes",
    ),
    Activation(
        ActCode.SOFTPLUS,
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
