"""Hidden-layer activations in NumPy: value and derivative by code, in the kernels' forms.

The same formulas as ``engine/kernels/activation.py`` and ``elementary.py`` (u = e^-|z|
forms for sigmoid / tanh / softplus, expm1 for ELU / SELU and tanh near 0, erfc for GELU),
so both paths keep full relative precision near 0 and in the tails and agree to rounding.
"""

from __future__ import annotations

import math

import numpy as np

from engine.codes import SELU_ALPHA, SELU_SCALE, ActCode

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def sigmoid_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sigma(x), sigma'(x)) from u = e^-|x|: no 1 - s that rounds to 0 in a tail."""
    u = np.exp(-np.abs(x))
    r = 1.0 / (1.0 + u)
    return np.where(x >= 0.0, 1.0, u) * r, u * r * r


def _tanh_parts(x):
    a = -2.0 * np.abs(x)
    u, m = np.exp(a), np.expm1(a)
    r = 1.0 / (2.0 + m)
    t = -m * r
    return np.where(x >= 0.0, t, -t), 4.0 * u * r * r


def _elu_parts(x, a, lam):
    xm = np.minimum(x, 0.0)
    pos = x > 0.0
    return lam * np.where(pos, x, a * np.expm1(xm)), lam * np.where(pos, 1.0, a * np.exp(xm))


def _gelu_parts(x):
    from scipy.special import erfc  # imported on first use (0.5 s)

    xc = np.clip(x, -40.0, 40.0)
    phi = np.exp(-0.5 * xc * xc) * _INV_SQRT_2PI
    cdf = 0.5 * erfc(-x * _INV_SQRT2)  # not (1 + erf) / 2, which cancels for z << 0
    return x * cdf, cdf + x * phi


def _gelu_tanh_parts(x):
    """x sigma(2w), w = k (x + c x^3): 1 + tanh w would cancel for z << 0."""
    xc = np.clip(x, -1e3, 1e3)
    w2 = 2.0 * _SQRT_2_OVER_PI * (xc + _GELU_C * xc**3)
    s, ds = sigmoid_parts(w2)
    dw = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * xc * xc)
    return x * s, s + 2.0 * xc * ds * dw


def _softplus_parts(x):
    u = np.exp(-np.abs(x))
    return np.maximum(x, 0.0) + np.log1p(u), np.where(x >= 0.0, 1.0, u) / (1.0 + u)


def _leaky_parts(x, p):
    pos = x > 0.0
    return np.where(pos, x, p * x), np.where(pos, 1.0, p)


def _silu_parts(x):
    s, ds = sigmoid_parts(x)
    return x * s, s + x * ds


_PARTS = {
    ActCode.IDENTITY: lambda x, p: (x, np.ones_like(x)),
    ActCode.STEP: lambda x, p: ((x > 0.0) * 1.0, np.zeros_like(x)),
    ActCode.SIGMOID: lambda x, p: sigmoid_parts(x),
    ActCode.TANH: lambda x, p: _tanh_parts(x),
    ActCode.RELU: lambda x, p: (np.maximum(x, 0.0), (x > 0.0) * 1.0),
    ActCode.LEAKY_RELU: _leaky_parts,
    ActCode.PRELU: _leaky_parts,
    ActCode.ELU: lambda x, p: _elu_parts(x, p, 1.0),
    ActCode.SELU: lambda x, p: _elu_parts(x, SELU_ALPHA, SELU_SCALE),
    ActCode.GELU: lambda x, p: _gelu_parts(x),
    ActCode.GELU_TANH: lambda x, p: _gelu_tanh_parts(x),
    ActCode.SILU: lambda x, p: _silu_parts(x),
    ActCode.SOFTPLUS: lambda x, p: _softplus_parts(x),
}


def apply_activation(code: int, p: float, z: np.ndarray, y: np.ndarray, fp: np.ndarray) -> None:
    """y = f(z), fp = f'(z) for activation ``code`` with parameter ``p`` (slope / alpha),
    written into ``y`` and ``fp``; an unknown code raises ``ValueError``."""
    parts = _PARTS.get(int(code))
    if parts is None:
        raise ValueError("unknown activation code (not a member of engine.codes.ActCode)")
    with np.errstate(all="ignore"):
        value, slope = parts(z, p)
    y[...] = value
    fp[...] = slope


def activate(code: int, p: float, z: np.ndarray, y: np.ndarray, fp: np.ndarray) -> None:
    """The NumPy twin of :func:`engine.kernels.activate`."""
    apply_activation(code, p, z, y, fp)
