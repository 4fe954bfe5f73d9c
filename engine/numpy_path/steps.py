"""The loss and update phases and the fused passes in NumPy (``engine/kernels/loss.py``,
``optim.py`` and ``fused.py``): same arguments, buffers, metrics and checks."""

from __future__ import annotations

import math

import numpy as np

from engine.codes import LossCode, OptCode, Phase, Quantity
from engine.kernels import layout as lay  # the kernels' buffer layout
from engine.metrics import Metric
from engine.numpy_path.activation import sigmoid_parts
from engine.numpy_path.layers import (
    backward_layer,
    flag,
    forward_layer,
    l2_norm,
    sum_sq,
    view,
    weights,
)


# --- loss ------------------------------------------------------------------------------------
def _softmax_ce(z, T, p, d):
    """(summed row losses, correct rows); p = softmax(z), d = (p - t) / B."""
    lse = z.max(axis=1, keepdims=True)
    lse = lse + np.log(np.exp(z - lse).sum(axis=1, keepdims=True))
    p[...] = np.exp(z - lse)
    d[...] = (p - T) * (1.0 / len(z))
    loss = float(np.sum(-(T * (z - lse)).sum(axis=1)))
    best = T[np.arange(len(z)), np.argmax(z, axis=1)]
    return loss, float(np.count_nonzero(best == T.max(axis=1)))


def _sigmoid_bce(z, T, p, d):
    B, n = z.shape
    p[...] = sigmoid_parts(z.astype(np.float64))[0]
    d[...] = (p - T) * (1.0 / (B * n))
    terms = np.maximum(z, 0.0) - z * T + np.log1p(np.exp(-np.abs(z)))
    hits = ((p > 0.5) == (T > 0.5)).sum(axis=1) / n
    return float(np.sum(terms.sum(axis=1) / n)), float(hits.sum())


def _mse(z, T, p, d):
    B, n = z.shape
    p[...] = z
    r = z - T
    d[...] = 2.0 * r * (1.0 / (B * n))
    return float(np.sum((r * r).sum(axis=1) / n)), 0.0


_LOSSES = {LossCode.SOFTMAX_CE: _softmax_ce, LossCode.SIGMOID_BCE: _sigmoid_bce, LossCode.MSE: _mse}


def loss_phase(T, params, itab, ws, hp, ip, out, status) -> bool:
    """Phase ``loss``: out[0] = mean loss (+ L2 term), out[1] = number of correct examples."""
    B = T.shape[0]
    L = itab.shape[0] - 1
    fn = _LOSSES.get(int(ip[lay.I_LOSS]))
    if fn is None:
        raise ValueError("unknown loss code (not a member of engine.codes.LossCode)")
    z, p, d = (view(ws, kind, L, itab, B) for kind in (lay.K_Z, lay.K_Y, lay.K_DZ))
    with np.errstate(all="ignore"):
        loss, correct = fn(z, T, p, d)
        loss /= B
        if hp[lay.H_WD] > 0.0:
            loss += 0.5 * hp[lay.H_WD] * sum(sum_sq(weights(params, itab, k)) for k in range(L + 1))
    out[0], out[1] = loss, correct
    return math.isfinite(loss) or flag(status, Phase.LOSS, L, Quantity.LOSS)


# --- update ----------------------------------------------------------------------------------
def _clip(grads, hp) -> float:
    """Clip by value, then by global norm; returns the raw global norm."""
    norm = l2_norm(grads)
    v = hp[lay.H_CLIP_VALUE]
    if v > 0.0:
        np.clip(grads, -v, v, out=grads)
    c = hp[lay.H_CLIP_NORM]
    if c > 0.0:
        clipped = l2_norm(grads)
        if clipped > c:
            grads *= c / clipped
    return norm


def _step(code, g, m, v, hp):
    """The optimiser's step for gradients g, updating the moments m, v in place."""
    lr = hp[lay.H_LR]
    if code == OptCode.SGD:
        return -lr * g
    if code in (OptCode.MOMENTUM, OptCode.NESTEROV):
        mu = hp[lay.H_MOM]
        m[...] = mu * m - lr * g
        return mu * m - lr * g if code == OptCode.NESTEROV else m.astype(np.float64)
    if code == OptCode.RMSPROP:
        rho = hp[lay.H_RHO]
        v[...] = rho * v + (1.0 - rho) * g * g
        return -lr * g / (np.sqrt(v) + hp[lay.H_EPS])
    if code == OptCode.ADAM:
        b1, b2, t = hp[lay.H_B1], hp[lay.H_B2], hp[lay.H_T]
        alpha = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)  # Keras' bias correction
        v[...] = b2 * v + (1.0 - b2) * g * g
        m[...] = b1 * m + (1.0 - b1) * g
        return -alpha * m / (np.sqrt(v) + hp[lay.H_EPS])
    raise ValueError("unknown optimiser code (not a member of engine.codes.OptCode)")


def _apply(params, grads, m, v, lo, hi, code, hp) -> tuple[float, float]:
    """Update params[lo:hi]; returns (sum of squared steps, sum of squared old values)."""
    p = params[lo:hi]
    s_old = sum_sq(p)
    d = _step(code, grads[lo:hi], m[lo:hi], v[lo:hi], hp)
    p += d
    return sum_sq(d), s_old


def _weight_metrics(mtab, k, w, s_step: float, s_old: float) -> float:
    """||W_k|| and ||Delta W_k|| / ||W_k|| into the metric table; returns ||W_k||."""
    w_norm = l2_norm(w)
    ratio = math.sqrt(s_step) / math.sqrt(s_old) if s_old > 0.0 else math.inf
    mtab[k, [Metric.WEIGHT_NORM, Metric.UPDATE_RATIO]] = w_norm, ratio
    return w_norm


def update(params, grads, m, v, itab, mtab, hp, ip, out, status) -> bool:
    """Phase ``update``: clip, step every parameter, record ||W_k|| and ||dW_k|| / ||W_k||;
    stops at the first layer whose weights turn NaN/Inf, as the kernel does."""
    with np.errstate(all="ignore"):
        out[2] = _clip(grads, hp)
        code = int(ip[lay.I_OPT])
        for k, row in enumerate(itab):
            w0 = int(row[lay.W_OFF])
            w1 = w0 + int(row[lay.N_IN] * row[lay.N_OUT])
            steps = _apply(params, grads, m, v, w0, w1, code, hp)  # weights, then the rest
            _apply(params, grads, m, v, w1, int(row[lay.END]), code, hp)
            if not math.isfinite(_weight_metrics(mtab, k, params[w0:w1], *steps)):
                return flag(status, Phase.UPDATE, k, Quantity.WEIGHTS)
    return True


# --- fused passes ----------------------------------------------------------------------------
def forward_loss(X, T, params, itab, ftab, ws, bns, mtab, hp, ip, out, status) -> bool:
    """Every forward phase, then the loss phase."""
    for k in range(itab.shape[0]):
        if not forward_layer(k, X, params, itab, ftab, ws, bns, mtab, hp, ip, status):
            return False
    return loss_phase(T, params, itab, ws, hp, ip, out, status)


def backward(X, params, grads, itab, ftab, ws, bns, mtab, hp, status) -> bool:
    """Every backward phase, output layer first."""
    for k in range(itab.shape[0] - 1, -1, -1):
        if not backward_layer(k, X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
            return False
    return True


def train_step(X, T, params, grads, m, v, itab, ftab, ws, bns, mtab, hp, ip, out, status) -> bool:
    """One mini-batch: forward, loss, backward, update; stops at the first NaN/Inf."""
    if not forward_loss(X, T, params, itab, ftab, ws, bns, mtab, hp, ip, out, status):
        return False
    if not backward(X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
        return False
    return update(params, grads, m, v, itab, mtab, hp, ip, out, status)
