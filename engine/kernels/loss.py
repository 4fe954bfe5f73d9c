"""The loss phase: output activation, loss value, correct count and delta_out = dL/dz_out."""

from __future__ import annotations

import math

from engine.codes import LossCode, Phase, Quantity
from engine.kernels.elementary import exp, sigmoid
from engine.kernels.layout import H_WD, I_LOSS, K_DZ, K_Y, K_Z, flag, jit, sum_sq, view, weights


@jit
def _softmax_ce_row(z, t, p, d, inv_b):
    """Row loss and hit of softmax + cross-entropy; p = e / sum e with e = exp(z - max z).

    One exp per entry and one log per row, the exp the kernels' own (vectorisable, ~1 ulp):
    the libm calls of exp(z - lse) cost a tiny net more than its matrix products.
    """
    m = z.max()
    s = 0.0
    for j in range(z.size):
        e = exp(z[j] - m)
        p[j] = e
        s += e
    lse = m + math.log(s)
    loss = 0.0
    best = 0
    for j in range(z.size):
        p[j] = p[j] / s
        d[j] = (p[j] - t[j]) * inv_b
        loss -= t[j] * (z[j] - lse)
        if z[j] > z[best]:
            best = j
    return loss, 1.0 if t[best] == t.max() else 0.0


@jit
def _sigmoid_bce_row(z, t, p, d, inv_bn):
    loss = 0.0
    hits = 0.0
    for j in range(z.size):
        x = z[j]
        p[j] = sigmoid(x)
        d[j] = (p[j] - t[j]) * inv_bn
        # log(1 + e^-|x|) form never takes log(0)
        loss += max(x, 0.0) - x * t[j] + math.log1p(math.exp(-abs(x)))
        hits += 1.0 if (p[j] > 0.5) == (t[j] > 0.5) else 0.0
    return loss / z.size, hits / z.size


@jit
def _mse_row(z, t, p, d, inv_bn):
    loss = 0.0
    for j in range(z.size):
        p[j] = z[j]
        r = z[j] - t[j]
        d[j] = 2.0 * r * inv_bn
        loss += r * r
    return loss / z.size, 0.0


@jit
def _l2_penalty(params, itab):
    s = 0.0
    for k in range(itab.shape[0]):
        s += sum_sq(weights(params, itab, k))
    return s


@jit
def loss_rows(z, T, p, d, code):
    """(summed loss, correct rows) of the batch ``z`` (B, n) against targets ``T`` for the
    loss ``code`` (a :class:`~engine.codes.LossCode`); fills the outputs ``p`` and dL/dz
    ``d``, each row already divided by the batch (and, per unit, by n)."""
    B, n = z.shape
    loss = 0.0
    correct = 0.0
    for i in range(B):
        if code == LossCode.SOFTMAX_CE:
            li, ci = _softmax_ce_row(z[i], T[i], p[i], d[i], 1.0 / B)
        elif code == LossCode.SIGMOID_BCE:
            li, ci = _sigmoid_bce_row(z[i], T[i], p[i], d[i], 1.0 / (B * n))
        elif code == LossCode.MSE:
            li, ci = _mse_row(z[i], T[i], p[i], d[i], 1.0 / (B * n))
        else:
            raise ValueError("unknown loss code (not a member of engine.codes.LossCode)")
        loss += li
        correct += ci
    return loss, correct


@jit
def loss_phase(T, params, itab, ws, hp, ip, out, status):
    """Phase ``loss``: out[0] = mean loss (+ L2 term), out[1] = number of correct examples.

    ``ip[I_LOSS]`` is a :class:`~engine.codes.LossCode`; any other value raises ``ValueError``.
    """
    B = T.shape[0]
    L = itab.shape[0] - 1
    z = view(ws, K_Z, L, itab, B)
    p = view(ws, K_Y, L, itab, B)
    d = view(ws, K_DZ, L, itab, B)
    loss, correct = loss_rows(z, T, p, d, ip[I_LOSS])
    loss /= B
    if hp[H_WD] > 0.0:
        loss += 0.5 * hp[H_WD] * _l2_penalty(params, itab)
    out[0] = loss
    out[1] = correct
    return math.isfinite(loss) or flag(status, Phase.LOSS, L, Quantity.LOSS)
