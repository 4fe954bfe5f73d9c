"""The update phase: gradient clipping, then the optimiser over the flat parameter vector.

Keras' formulas; ``m`` is the velocity / first moment and ``v`` the second moment, both (P,)
like ``params`` (see ``engine.optimizers``).
"""

from __future__ import annotations

import math

from engine.codes import OptCode, Phase, Quantity
from engine.kernels.layout import (
    END,
    H_B1,
    H_B2,
    H_CLIP_NORM,
    H_CLIP_VALUE,
    H_EPS,
    H_LR,
    H_MOM,
    H_RHO,
    H_T,
    I_OPT,
    N_IN,
    N_OUT,
    W_OFF,
    flag,
    jit,
    l2_norm,
    sum_sq,
)
from engine.metrics import Metric


@jit
def _clip(grads, hp):
    """Clip by value, then by global norm; returns the raw global norm."""
    norm = l2_norm(grads)
    v = hp[H_CLIP_VALUE]
    if v > 0.0:
        for i in range(grads.size):
            grads[i] = min(max(grads[i], -v), v)
    c = hp[H_CLIP_NORM]
    if c > 0.0:
        clipped = l2_norm(grads)
        if clipped > c:
            grads *= c / clipped
    return norm


@jit
def _sgd(p, g, m, v, hp):
    lr = hp[H_LR]
    s = 0.0
    for i in range(p.size):
        d = -lr * g[i]
        p[i] += d
        s += d * d
    return s


@jit
def _momentum(p, g, m, v, hp, nesterov):
    lr, mu = hp[H_LR], hp[H_MOM]
    s = 0.0
    for i in range(p.size):
        m[i] = mu * m[i] - lr * g[i]
        d = mu * m[i] - lr * g[i] if nesterov else m[i]
        p[i] += d
        s += d * d
    return s


@jit
def _rmsprop(p, g, m, v, hp):
    lr, rho, eps = hp[H_LR], hp[H_RHO], hp[H_EPS]
    s = 0.0
    for i in range(p.size):
        v[i] = rho * v[i] + (1.0 - rho) * g[i] * g[i]
        d = -lr * g[i] / (math.sqrt(v[i]) + eps)
        p[i] += d
        s += d * d
    return s


@jit
def _adam(p, g, m, v, hp):
    b1, b2, eps, t = hp[H_B1], hp[H_B2], hp[H_EPS], hp[H_T]
    alpha = hp[H_LR] * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)  # Keras' bias correction
    s = 0.0
    for i in range(p.size):
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i]
        m[i] = b1 * m[i] + (1.0 - b1) * g[i]
        d = -alpha * m[i] / (math.sqrt(v[i]) + eps)
        p[i] += d
        s += d * d
    return s


@jit
def _apply(params, grads, m, v, lo, hi, code, hp):
    """Update params[lo:hi]; returns (sum of squared steps, sum of squared old values)."""
    p, g, mm, vv = params[lo:hi], grads[lo:hi], m[lo:hi], v[lo:hi]
    s_old = sum_sq(p)
    if code == OptCode.SGD:
        s_step = _sgd(p, g, mm, vv, hp)
    elif code == OptCode.MOMENTUM or code == OptCode.NESTEROV:
        s_step = _momentum(p, g, mm, vv, hp, code == OptCode.NESTEROV)
    elif code == OptCode.RMSPROP:
        s_step = _rmsprop(p, g, mm, vv, hp)
    elif code == OptCode.ADAM:
        s_step = _adam(p, g, mm, vv, hp)
    else:
        raise ValueError("unknown optimiser code (not a member of engine.codes.OptCode)")
    return s_step, s_old


@jit
def update(params, grads, m, v, itab, mtab, hp, ip, out, status):
    """Phase ``update``: clip, step every parameter, record ||W_k|| and ||dW_k|| / ||W_k||.

    ``ip[I_OPT]`` is an :class:`~engine.codes.OptCode`; any other value raises ``ValueError``.
    """
    out[2] = _clip(grads, hp)
    code = ip[I_OPT]
    for k in range(itab.shape[0]):
        w0 = itab[k, W_OFF]
        w1 = w0 + itab[k, N_IN] * itab[k, N_OUT]
        s_step, s_old = _apply(params, grads, m, v, w0, w1, code, hp)
        _apply(params, grads, m, v, w1, itab[k, END], code, hp)
        w_norm = l2_norm(params[w0:w1])
        mtab[k, Metric.WEIGHT_NORM] = w_norm
        mtab[k, Metric.UPDATE_RATIO] = (
            math.sqrt(s_step) / math.sqrt(s_old) if s_old > 0.0 else math.inf
        )
        if not math.isfinite(w_norm):
            return flag(status, Phase.UPDATE, k, Quantity.WEIGHTS)
    return True
