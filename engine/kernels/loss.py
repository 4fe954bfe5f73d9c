"""The loss phase: output activation, loss value, correct count and delta_out = dL/dz_out."""

from __future__ import annotations

import math

from engine.codes import LossCode, Phase, Quantity
from engine.kernels.elementary import exp, sigmoid
from engine.kernels.layout import H_WD, I_LOSS, K_DZ, K_Y, K_Z, flag, jit, sum_sq, view, weights


@jit
def _softmax_ce(z, T, p, d, inv_b):
    """(summed loss, correct rows) of softmax + cross-entropy over the batch; p = e / sum e
    with e = exp(z - max z), d = (p - t) / B.

    Whole-batch loops (no per-row views or calls), one exp per entry and one log per row,
    the exp the kernels' own (~1 ulp): on a tiny net libm's exp / log and the per-row calls
    cost as much as the matrix products.
    """
    B, n = z.shape
    loss = 0.0
    correct = 0.0
    for i in range(B):
        m = z[i, 0]
        best = 0
        t_max = T[i, 0]
        for j in range(1, n):
            if z[i, j] > m:
                m = z[i, j]
                best = j
            t_max = max(t_max, T[i, j])
        s = 0.0
        for j in range(n):
            e = exp(z[i, j] - m)
            p[i, j] = e
            s += e
        lse = m + math.log(s)
        for j in range(n):
            p[i, j] = p[i, j] / s
            d[i, j] = (p[i, j] - T[i, j]) * inv_b
            loss -= T[i, j] * (z[i, j] - lse)
        correct += 1.0 if T[i, best] == t_max else 0.0
    return loss, correct


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
    if code == LossCode.SOFTMAX_CE:
        return _softmax_ce(z, T, p, d, 1.0 / B)
    for i in range(B):
        if code == LossCode.SIGMOID_BCE:
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
