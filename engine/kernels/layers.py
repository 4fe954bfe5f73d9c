"""Forward and backward through one layer (the step-through phases), batch norm included.

For hidden layer k (``a_{-1}`` is the input x; see ``engine.network``)::

    z_k = a_{k-1} W_k + b_k            (or BN(a_{k-1} W_k + b_k) with batch_norm = "pre")
    a_k = dropout(f_k(z_k)) [+ a_{k-1}] (BN after f_k with "post"; "+ a_{k-1}" if residual)
    delta_k = dL/dz_k = (dL/da_k) * f'(z_k),  dL/dW_k = a_{k-1}^T delta_k

Each phase writes its per-layer metrics into ``mtab`` and returns False at the first NaN/Inf,
after recording where in ``status``.
"""

from __future__ import annotations

import math

from engine.codes import BnCode, Phase, Quantity
from engine.kernels.activation import apply_activation
from engine.kernels.layout import (
    ACT,
    ACT_P,
    B_OFF,
    BE_OFF,
    BN,
    BN_INV,
    BN_MEAN,
    COL,
    DROP,
    DROP_P,
    G_OFF,
    H_BN_EPS,
    H_BN_MOM,
    H_WD,
    I_RECORD,
    I_TRAIN,
    K_A,
    K_DH,
    K_DU,
    K_DY,
    K_DZ,
    K_FP,
    K_GA,
    K_H,
    K_MASK,
    K_U,
    K_XH,
    K_Y,
    K_Z,
    MAX_GRAD,
    N_OUT,
    P_OFF,
    RES,
    RUN_MEAN,
    RUN_VAR,
    flag,
    jit,
    l2_norm,
    layer_input,
    mean_std,
    vec,
    view,
    weights,
)
from engine.kernels.products import matmul, matmul_nt, matmul_tn
from engine.metrics import Metric


# --- batch normalisation over the batch axis --------------------------------------------------
@jit
def _batch_moments(x, j):
    """(mean, biased variance) of column j by the corrected two-pass algorithm.

    E[x^2] - E[x]^2 cancels when the mean dwarfs the spread (data offset by 1e4 std loses 8
    digits of the variance); sums of d = x - mean do not, and the second pass's sum of d also
    corrects the rounding error of the first mean (Chan, Golub & LeVeque 1983).
    """
    B = x.shape[0]
    s = 0.0
    for i in range(B):
        s += x[i, j]
    m0 = s / B
    sd = 0.0
    sd2 = 0.0
    for i in range(B):
        d = x[i, j] - m0
        sd += d
        sd2 += d * d
    c = sd / B
    return m0 + c, max(sd2 / B - c * c, 0.0)


@jit
def bn_forward(x, out, xh, gamma, beta, bns, col, train, momentum, eps):
    B, n = x.shape
    for j in range(n):
        if train:
            mean, var = _batch_moments(x, j)
            bns[RUN_MEAN, col + j] = momentum * bns[RUN_MEAN, col + j] + (1 - momentum) * mean
            bns[RUN_VAR, col + j] = momentum * bns[RUN_VAR, col + j] + (1 - momentum) * var
        else:
            mean = bns[RUN_MEAN, col + j]
            var = bns[RUN_VAR, col + j]
        inv = 1.0 / math.sqrt(var + eps)
        bns[BN_MEAN, col + j] = mean
        bns[BN_INV, col + j] = inv
        for i in range(B):
            xh[i, j] = (x[i, j] - mean) * inv
            out[i, j] = gamma[j] * xh[i, j] + beta[j]


@jit
def bn_backward(dout, xh, gamma, bns, col, dx, dgamma, dbeta):
    """Training-mode batch-norm backward (the batch statistics depend on x too)."""
    B, n = dout.shape
    for j in range(n):
        sg = 0.0
        sgx = 0.0
        for i in range(B):
            sg += dout[i, j]
            sgx += dout[i, j] * xh[i, j]
        dgamma[j] = sgx
        dbeta[j] = sg
        scale = gamma[j] * bns[BN_INV, col + j] / B
        for i in range(B):
            dx[i, j] = scale * (B * dout[i, j] - sg - xh[i, j] * sgx)


@jit
def _layer_bn_forward(x, out, k, params, itab, ws, bns, hp, train, B):
    """Batch norm of layer k, x -> out, with the layer's gamma, beta and statistics."""
    n = itab[k, N_OUT]
    gamma, beta = vec(params, itab[k, G_OFF], n), vec(params, itab[k, BE_OFF], n)
    xh = view(ws, K_XH, k, itab, B)
    bn_forward(x, out, xh, gamma, beta, bns, itab[k, COL], train, hp[H_BN_MOM], hp[H_BN_EPS])


@jit
def _layer_bn_backward(dout, dx, k, params, grads, itab, ws, bns, B):
    """dL/dx of layer k's batch norm from dL/dout; fills dL/dgamma and dL/dbeta."""
    n, g_off, be_off = itab[k, N_OUT], itab[k, G_OFF], itab[k, BE_OFF]
    xh, gamma = view(ws, K_XH, k, itab, B), vec(params, g_off, n)
    bn_backward(dout, xh, gamma, bns, itab[k, COL], dx, vec(grads, g_off, n), vec(grads, be_off, n))


# --- forward through one layer --------------------------------------------------------------
@jit
def _linear(a_prev, W, b, out):
    matmul(a_prev, W, out)
    B, n = out.shape
    for i in range(B):
        for j in range(n):
            out[i, j] += b[j]


@jit
def _act_param(params, itab, ftab, k):
    if itab[k, P_OFF] >= 0:
        return float(params[itab[k, P_OFF]])
    return ftab[k, ACT_P]


@jit
def _combine(h, a_prev, mask, a, drop, p_drop, residual):
    """a = dropout(h) + a_prev (residual); inverted dropout keeps E[a] unchanged."""
    B, n = h.shape
    scale = 1.0 / (1.0 - p_drop)
    for i in range(B):
        for j in range(n):
            v = h[i, j] * mask[i, j] * scale if drop else h[i, j]
            a[i, j] = v + a_prev[i, j] if residual else v


@jit
def _forward_metrics(k, y, a, z, fp, max_grad, mtab):
    """Per-layer forward metrics; returns the first non-finite quantity code (0 if none)."""
    mtab[k, Metric.ACT_MEAN], mtab[k, Metric.ACT_STD], a_ok = mean_std(a)
    mtab[k, Metric.Z_MEAN], mtab[k, Metric.Z_STD], z_ok = mean_std(z)
    B, n = fp.shape
    s = 0.0
    sat = 0
    for i in range(B):
        for j in range(n):
            g = abs(fp[i, j])
            s += g
            if g <= 0.01 * max_grad:  # a step layer (max 0) counts as fully saturated
                sat += 1
    mtab[k, Metric.FPRIME_MEAN] = s / (B * n)
    mtab[k, Metric.SATURATED] = sat / (B * n)
    dead = 0
    for j in range(n):
        alive = False
        for i in range(B):
            if y[i, j] != 0.0:
                alive = True
                break
        if not alive:
            dead += 1
    mtab[k, Metric.DEAD] = dead / n
    return 0 if z_ok and a_ok else (Quantity.Z if not z_ok else Quantity.ACT)


@jit
def forward_layer(k, X, params, itab, ftab, ws, bns, mtab, hp, ip, status):
    """Phase ``forward(k)``: z_k, a_k = f(z_k) and f'(z_k).  Returns False on NaN/Inf."""
    B = X.shape[0]
    L = itab.shape[0] - 1
    a_prev = layer_input(X, ws, itab, k, B)
    W = weights(params, itab, k)
    b = vec(params, itab[k, B_OFF], itab[k, N_OUT])
    bn, train = itab[k, BN], ip[I_TRAIN] != 0
    z = view(ws, K_Z, k, itab, B)
    if bn == BnCode.PRE:
        u = view(ws, K_U, k, itab, B)
        _linear(a_prev, W, b, u)
        _layer_bn_forward(u, z, k, params, itab, ws, bns, hp, train, B)
    else:
        _linear(a_prev, W, b, z)
    if k == L:  # output logits; the loss phase applies softmax / sigmoid
        if not ip[I_RECORD]:
            return True
        mtab[k, Metric.Z_MEAN], mtab[k, Metric.Z_STD], z_ok = mean_std(z)
        mtab[k, Metric.ACT_MEAN], mtab[k, Metric.ACT_STD] = (
            mtab[k, Metric.Z_MEAN],
            mtab[k, Metric.Z_STD],
        )
        return z_ok or flag(status, Phase.FORWARD, k, Quantity.Z)
    y = view(ws, K_Y, k, itab, B)
    fp = view(ws, K_FP, k, itab, B)
    apply_activation(itab[k, ACT], _act_param(params, itab, ftab, k), z, y, fp)
    h = y
    if bn == BnCode.POST:
        h = view(ws, K_H, k, itab, B)
        _layer_bn_forward(y, h, k, params, itab, ws, bns, hp, train, B)
    a = view(ws, K_A, k, itab, B)
    _combine(
        h,
        a_prev,
        view(ws, K_MASK, k, itab, B),
        a,
        itab[k, DROP] != 0 and train,
        ftab[k, DROP_P],
        itab[k, RES] != 0,
    )
    if ip[I_RECORD]:
        bad = _forward_metrics(k, y, a, z, fp, ftab[k, MAX_GRAD], mtab)
        if bad:
            return flag(status, Phase.FORWARD, k, bad)
    return True


# --- backward through one layer -------------------------------------------------------------
@jit
def _mul(a, b, out):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] * b[i, j]


@jit
def _dropout_back(ga, mask, dh, p_drop):
    scale = 1.0 / (1.0 - p_drop)
    for i in range(ga.shape[0]):
        for j in range(ga.shape[1]):
            dh[i, j] = ga[i, j] * mask[i, j] * scale


@jit
def _column_sums(a, out):
    out[:] = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[j] += a[i, j]


@jit
def _prelu_grad(dy, z):
    """dL/dalpha = sum over z <= 0 of dL/dy * z."""
    s = 0.0
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            if z[i, j] <= 0.0:
                s += dy[i, j] * z[i, j]
    return s


@jit
def _hidden_delta(k, params, grads, itab, ftab, ws, bns, mtab, B):
    """delta_k = dL/dz_k from dL/da_k; fills the BN-post and PReLU gradients on the way."""
    dh = view(ws, K_GA, k, itab, B)
    if itab[k, DROP]:
        dh = view(ws, K_DH, k, itab, B)
        _dropout_back(view(ws, K_GA, k, itab, B), view(ws, K_MASK, k, itab, B), dh, ftab[k, DROP_P])
    dy = dh
    if itab[k, BN] == BnCode.POST:
        dy = view(ws, K_DY, k, itab, B)
        _layer_bn_backward(dh, dy, k, params, grads, itab, ws, bns, B)
    dz = view(ws, K_DZ, k, itab, B)
    _mul(dy, view(ws, K_FP, k, itab, B), dz)
    if itab[k, P_OFF] >= 0:
        g = _prelu_grad(dy, view(ws, K_Z, k, itab, B))
        grads[itab[k, P_OFF]] = g
        mtab[k, Metric.PRELU_GRAD] = g
    return dz


@jit
def backward_layer(k, X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
    """Phase ``backward(k)``: delta_k, dL/dW_k, dL/db_k and dL/da_{k-1} = delta_k W_k^T."""
    B = X.shape[0]
    L = itab.shape[0] - 1
    n = itab[k, N_OUT]
    dz = (
        view(ws, K_DZ, k, itab, B)
        if k == L
        else _hidden_delta(k, params, grads, itab, ftab, ws, bns, mtab, B)
    )
    du = dz
    if itab[k, BN] == BnCode.PRE:
        du = view(ws, K_DU, k, itab, B)
        _layer_bn_backward(dz, du, k, params, grads, itab, ws, bns, B)
    W = weights(params, itab, k)
    dW = weights(grads, itab, k)
    matmul_tn(layer_input(X, ws, itab, k, B), du, dW)
    if hp[H_WD] > 0.0:
        dW += hp[H_WD] * W
    db = vec(grads, itab[k, B_OFF], n)
    _column_sums(du, db)
    if k > 0:  # hand dL/da_{k-1} to the layer below; the skip path adds dL/da_k unchanged
        ga_prev = view(ws, K_GA, k - 1, itab, B)
        matmul_nt(du, W, ga_prev)
        if itab[k, RES]:
            ga_prev += view(ws, K_GA, k, itab, B)
    mtab[k, Metric.DELTA_NORM] = l2_norm(dz)
    mtab[k, Metric.DELTA_RMS] = mtab[k, Metric.DELTA_NORM] / math.sqrt(dz.size)
    mtab[k, Metric.INCOMING_NORM] = (
        l2_norm(view(ws, K_GA, k, itab, B)) if k < L else mtab[k, Metric.DELTA_NORM]
    )
    mtab[k, Metric.GRAD_NORM] = l2_norm(dW)
    mtab[k, Metric.BIAS_GRAD_NORM] = l2_norm(db)
    if not math.isfinite(mtab[k, Metric.DELTA_NORM]):
        return flag(status, Phase.BACKWARD, k, Quantity.DELTA)
    if not math.isfinite(mtab[k, Metric.GRAD_NORM] + mtab[k, Metric.BIAS_GRAD_NORM]):
        return flag(status, Phase.BACKWARD, k, Quantity.GRAD)
    return True
