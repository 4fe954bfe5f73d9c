"""Hidden-layer activations: value and derivative together, one vectorisable loop per code."""

from __future__ import annotations

import math

from engine.codes import SELU_ALPHA, SELU_SCALE, ActCode
from engine.kernels.elementary import (
    exp,
    exp_expm1,
    gelu_erf,
    gelu_tanh,
    sigmoid_any,
    sigmoid_parts,
    tanh_any,
)
from engine.kernels.layout import flat, jit, jit_exact


@jit_exact
def _gelu_erf_loop(zf, yf, ff):
    for i in range(zf.size):
        yf[i], ff[i] = gelu_erf(zf[i])


@jit_exact
def _gelu_tanh_loop(zf, yf, ff):
    for i in range(zf.size):
        yf[i], ff[i] = gelu_tanh(zf[i])


@jit
def apply_activation(code, p, z, y, fp):
    """y = f(z), fp = f'(z) for activation ``code`` with parameter ``p`` (slope / alpha).

    z, y, fp are C-contiguous arrays of one shape.  The branch on ``code`` sits outside the
    loops so each loop is branch-light and vectorises.  Every formula keeps full relative
    precision near z = 0 and in the tails (tests/test_precision.py): the lab exists to show
    tiny gradients, so they must be the true ones.  An unknown code raises ``ValueError``.
    """
    zf, yf, ff = flat(z), flat(y), flat(fp)
    n = zf.size
    if code == ActCode.IDENTITY:
        for i in range(n):
            yf[i], ff[i] = zf[i], 1.0
    elif code == ActCode.STEP:  # flat everywhere, so no gradient ever flows
        for i in range(n):
            yf[i], ff[i] = (1.0 if zf[i] > 0.0 else 0.0), 0.0
    elif code == ActCode.SIGMOID:
        for i in range(n):
            yf[i], ff[i] = sigmoid_any(zf[i])
    elif code == ActCode.TANH:
        for i in range(n):
            yf[i], ff[i] = tanh_any(zf[i])
    elif code == ActCode.RELU:
        for i in range(n):
            x = zf[i]
            yf[i], ff[i] = (x if x > 0.0 else 0.0), (1.0 if x > 0.0 else 0.0)
    elif code == ActCode.LEAKY_RELU or code == ActCode.PRELU:  # fixed / learned slope p
        for i in range(n):
            x = zf[i]
            yf[i], ff[i] = (x if x > 0.0 else p * x), (1.0 if x > 0.0 else p)
    elif code == ActCode.ELU or code == ActCode.SELU:  # p = alpha; selu: fixed alpha, lambda
        a, lam = (p, 1.0) if code == ActCode.ELU else (SELU_ALPHA, SELU_SCALE)
        for i in range(n):
            x = zf[i]
            e, m = exp_expm1(x if x < 0.0 else 0.0)
            yf[i] = lam * (x if x > 0.0 else a * m)  # a (e^z - 1) would cancel near 0
            ff[i] = lam * (1.0 if x > 0.0 else a * e)
    elif code == ActCode.GELU:  # exact erf form
        _gelu_erf_loop(zf, yf, ff)
    elif code == ActCode.GELU_TANH:  # tanh approximation
        _gelu_tanh_loop(zf, yf, ff)
    elif code == ActCode.SILU:  # swish: f' = s + z s (1 - s), the last factor without cancelling
        for i in range(n):
            x = zf[i]
            s, ds = sigmoid_parts(x)
            yf[i], ff[i] = x * s, s + x * ds
    elif code == ActCode.SOFTPLUS:  # log(1 + e^z), written so it never overflows
        for i in range(n):
            x = zf[i]
            u = exp(-abs(x))
            yf[i] = max(x, 0.0) + math.log1p(u)
            ff[i] = (1.0 if x >= 0.0 else u) / (1.0 + u)
    else:
        raise ValueError("unknown activation code (not a member of engine.codes.ActCode)")


@jit
def activate(code, p, z, y, fp):
    """Public entry to the training loops' activation code (tests and the gallery use it)."""
    apply_activation(code, p, z, y, fp)
