"""Forward and backward through one layer in NumPy: ``engine/kernels/layers.py`` line for line.

Same arguments, same buffers (``ws``, ``bns``, ``mtab``, ``status``), same metrics and the
same first-NaN/Inf checks as the compiled phases, written as whole-array NumPy operations.
"""

from __future__ import annotations

import math

import numpy as np

from engine.codes import BnCode, Phase, Quantity
from engine.kernels import layout as lay  # the kernels' buffer layout
from engine.metrics import Metric
from engine.numpy_path.activation import apply_activation

_F64 = np.float64


# --- layout helpers (engine/kernels/layout.py) -------------------------------------------
def view(ws, kind, k, itab, B):
    """The (B, n_k) block of workspace ``kind`` for layer k."""
    n = int(itab[k, lay.N_OUT])
    off = B * int(itab[k, lay.COL])
    return ws[kind, off : off + B * n].reshape(B, n)


def weights(buf, itab, k):
    """W_k (n_in, n_out) as a view of ``params`` or ``grads``."""
    n_in, n_out, off = int(itab[k, lay.N_IN]), int(itab[k, lay.N_OUT]), int(itab[k, lay.W_OFF])
    return buf[off : off + n_in * n_out].reshape(n_in, n_out)


def vec(buf, off, n):
    return buf[int(off) : int(off) + int(n)]


def layer_input(X, ws, itab, k, B):
    return X if k == 0 else view(ws, lay.K_A, k - 1, itab, B)


def sum_sq(a) -> float:
    """Sum of squares in float64 (not np.dot: a BLAS call per tiny vector, threaded at that,
    costs ~100x more on a busy machine)."""
    f = a.ravel().astype(_F64, copy=False)
    return float((f * f).sum())


def l2_norm(a) -> float:
    """Frobenius norm; rescaled when the plain sum of squares of finite entries overflows."""
    with np.errstate(all="ignore"):
        s = sum_sq(a)
        if math.isfinite(s):
            return math.sqrt(s)
        f = np.abs(a.ravel().astype(_F64, copy=False))
        if np.isnan(f).any():
            return math.nan
        m = float(f.max())
        if not math.isfinite(m):
            return m
        return m * math.sqrt(float(np.sum((f / m) ** 2)))


def mean_std(a) -> tuple[float, float, bool]:
    """(mean, std, every entry finite), summed about a sample value as the kernel does."""
    f = a.ravel().astype(_F64, copy=False)
    with np.errstate(all="ignore"):
        shift = float(f[0])
        d = f - shift
        s, s2 = float(d.sum()), float((d * d).sum())
        m = s / f.size
        var = max(s2 / f.size - m * m, 0.0)
    return shift + m, math.sqrt(var), bool(np.isfinite(f).all())


def flag(status, phase, k, quantity) -> bool:
    """Record where a step diverged; returns False so a phase can ``return flag(...)``."""
    status[0], status[1], status[2] = phase, k, quantity
    return False


# --- batch normalisation -----------------------------------------------------------------
def bn_forward(x, out, xh, gamma, beta, bns, col, train, momentum, eps):
    B, n = x.shape
    cols = slice(col, col + n)
    if train:  # corrected two-pass moments, as _batch_moments
        m0 = x.sum(axis=0, dtype=_F64) / B
        d = x - m0
        c = d.sum(axis=0) / B
        mean, var = m0 + c, np.maximum((d * d).sum(axis=0) / B - c * c, 0.0)
        bns[lay.RUN_MEAN, cols] = momentum * bns[lay.RUN_MEAN, cols] + (1 - momentum) * mean
        bns[lay.RUN_VAR, cols] = momentum * bns[lay.RUN_VAR, cols] + (1 - momentum) * var
    else:
        mean, var = bns[lay.RUN_MEAN, cols].astype(_F64), bns[lay.RUN_VAR, cols].astype(_F64)
    inv = 1.0 / np.sqrt(var + eps)
    bns[lay.BN_MEAN, cols], bns[lay.BN_INV, cols] = mean, inv
    xh[...] = (x - mean) * inv
    out[...] = gamma * xh + beta


def bn_backward(dout, xh, gamma, bns, col, dx, dgamma, dbeta):
    """Training-mode batch-norm backward (the batch statistics depend on x too)."""
    B, n = dout.shape
    sg = dout.sum(axis=0, dtype=_F64)
    sgx = (dout * xh).sum(axis=0, dtype=_F64)
    dgamma[...], dbeta[...] = sgx, sg
    scale = gamma * bns[lay.BN_INV, col : col + n] / B
    dx[...] = scale * (B * dout - sg - xh * sgx)


def _layer_bn(x, out, k, params, itab, ws, bns, hp, train, B):
    n = itab[k, lay.N_OUT]
    gamma, beta = vec(params, itab[k, lay.G_OFF], n), vec(params, itab[k, lay.BE_OFF], n)
    xh = view(ws, lay.K_XH, k, itab, B)
    bn_forward(
        x,
        out,
        xh,
        gamma,
        beta,
        bns,
        int(itab[k, lay.COL]),
        train,
        hp[lay.H_BN_MOM],
        hp[lay.H_BN_EPS],
    )


def _layer_bn_back(dout, dx, k, params, grads, itab, ws, bns, B):
    n, g_off, be_off = itab[k, lay.N_OUT], itab[k, lay.G_OFF], itab[k, lay.BE_OFF]
    xh, gamma = view(ws, lay.K_XH, k, itab, B), vec(params, g_off, n)
    col = int(itab[k, lay.COL])
    bn_backward(dout, xh, gamma, bns, col, dx, vec(grads, g_off, n), vec(grads, be_off, n))


# --- forward ---------------------------------------------------------------------------------
def _linear(a_prev, W, b, out):
    np.dot(a_prev, W, out)
    out += b


def _forward_metrics(k, y, a, z, fp, max_grad, mtab) -> int:
    """Per-layer forward metrics; returns the first non-finite quantity code (0 if none)."""
    mtab[k, Metric.ACT_MEAN], mtab[k, Metric.ACT_STD], a_ok = mean_std(a)
    mtab[k, Metric.Z_MEAN], mtab[k, Metric.Z_STD], z_ok = mean_std(z)
    g = np.abs(fp)
    mtab[k, Metric.FPRIME_MEAN] = g.sum(dtype=_F64) / g.size
    mtab[k, Metric.SATURATED] = np.count_nonzero(g <= 0.01 * max_grad) / g.size
    mtab[k, Metric.DEAD] = np.count_nonzero(~(y != 0.0).any(axis=0)) / y.shape[1]
    return 0 if z_ok and a_ok else (Quantity.Z if not z_ok else Quantity.ACT)


def forward_layer(k, X, params, itab, ftab, ws, bns, mtab, hp, ip, status) -> bool:
    """Phase ``forward(k)``: z_k, a_k = f(z_k) and f'(z_k).  Returns False on NaN/Inf."""
    B = X.shape[0]
    L = itab.shape[0] - 1
    a_prev = layer_input(X, ws, itab, k, B)
    W, b = weights(params, itab, k), vec(params, itab[k, lay.B_OFF], itab[k, lay.N_OUT])
    bn, train = itab[k, lay.BN], ip[lay.I_TRAIN] != 0
    z = view(ws, lay.K_Z, k, itab, B)
    with np.errstate(all="ignore"):
        if bn == BnCode.PRE:
            u = view(ws, lay.K_U, k, itab, B)
            _linear(a_prev, W, b, u)
            _layer_bn(u, z, k, params, itab, ws, bns, hp, train, B)
        else:
            _linear(a_prev, W, b, z)
        if k == L:  # output logits; the loss phase applies softmax / sigmoid
            if not ip[lay.I_RECORD]:
                return True
            mean, std, z_ok = mean_std(z)
            mtab[k, [Metric.Z_MEAN, Metric.Z_STD, Metric.ACT_MEAN, Metric.ACT_STD]] = (
                mean,
                std,
                mean,
                std,
            )
            return z_ok or flag(status, Phase.FORWARD, k, Quantity.Z)
        y, fp = view(ws, lay.K_Y, k, itab, B), view(ws, lay.K_FP, k, itab, B)
        p = params[itab[k, lay.P_OFF]] if itab[k, lay.P_OFF] >= 0 else ftab[k, lay.ACT_P]
        apply_activation(itab[k, lay.ACT], float(p), z, y, fp)
        h = y
        if bn == BnCode.POST:
            h = view(ws, lay.K_H, k, itab, B)
            _layer_bn(y, h, k, params, itab, ws, bns, hp, train, B)
        a = view(ws, lay.K_A, k, itab, B)
        if itab[k, lay.DROP] != 0 and train:  # inverted dropout keeps E[a] unchanged
            a[...] = h * view(ws, lay.K_MASK, k, itab, B) * (1.0 / (1.0 - ftab[k, lay.DROP_P]))
        else:
            a[...] = h
        if itab[k, lay.RES]:
            a += a_prev
        if ip[lay.I_RECORD]:
            bad = _forward_metrics(k, y, a, z, fp, ftab[k, lay.MAX_GRAD], mtab)
            if bad:
                return flag(status, Phase.FORWARD, k, bad)
    return True


# --- backward --------------------------------------------------------------------------------
def _hidden_delta(k, params, grads, itab, ftab, ws, bns, mtab, B):
    """delta_k = dL/dz_k from dL/da_k; fills the lay.BN-post and PReLU gradients on the way."""
    dh = view(ws, lay.K_GA, k, itab, B)
    if itab[k, lay.DROP]:
        ga, dh = dh, view(ws, lay.K_DH, k, itab, B)
        dh[...] = ga * view(ws, lay.K_MASK, k, itab, B) * (1.0 / (1.0 - ftab[k, lay.DROP_P]))
    dy = dh
    if itab[k, lay.BN] == BnCode.POST:
        dy = view(ws, lay.K_DY, k, itab, B)
        _layer_bn_back(dh, dy, k, params, grads, itab, ws, bns, B)
    dz = view(ws, lay.K_DZ, k, itab, B)
    np.multiply(dy, view(ws, lay.K_FP, k, itab, B), dz)
    if itab[k, lay.P_OFF] >= 0:  # dL/dalpha = sum over z <= 0 of dL/dy * z
        z = view(ws, lay.K_Z, k, itab, B)
        g = float(np.sum(np.where(z <= 0.0, dy * z, 0.0), dtype=_F64))
        grads[itab[k, lay.P_OFF]] = g
        mtab[k, Metric.PRELU_GRAD] = g
    return dz


def backward_layer(k, X, params, grads, itab, ftab, ws, bns, mtab, hp, status) -> bool:
    """Phase ``backward(k)``: delta_k, dL/dW_k, dL/db_k and dL/da_{k-1} = delta_k W_k^T."""
    B = X.shape[0]
    L = itab.shape[0] - 1
    n = itab[k, lay.N_OUT]
    with np.errstate(all="ignore"):
        if k == L:
            dz = view(ws, lay.K_DZ, k, itab, B)
        else:
            dz = _hidden_delta(k, params, grads, itab, ftab, ws, bns, mtab, B)
        du = dz
        if itab[k, lay.BN] == BnCode.PRE:
            du = view(ws, lay.K_DU, k, itab, B)
            _layer_bn_back(dz, du, k, params, grads, itab, ws, bns, B)
        W, dW = weights(params, itab, k), weights(grads, itab, k)
        np.dot(layer_input(X, ws, itab, k, B).T, du, dW)
        if hp[lay.H_WD] > 0.0:
            dW += hp[lay.H_WD] * W
        db = vec(grads, itab[k, lay.B_OFF], n)
        db[...] = du.sum(axis=0)
        if k > 0:  # hand dL/da_{k-1} to the layer below; the skip path adds dL/da_k unchanged
            ga_prev = view(ws, lay.K_GA, k - 1, itab, B)
            np.dot(du, W.T, ga_prev)
            if itab[k, lay.RES]:
                ga_prev += view(ws, lay.K_GA, k, itab, B)
    delta = l2_norm(dz)
    mtab[k, Metric.DELTA_NORM] = delta
    mtab[k, Metric.DELTA_RMS] = delta / math.sqrt(dz.size)
    mtab[k, Metric.INCOMING_NORM] = l2_norm(view(ws, lay.K_GA, k, itab, B)) if k < L else delta
    mtab[k, Metric.GRAD_NORM] = l2_norm(dW)
    mtab[k, Metric.BIAS_GRAD_NORM] = l2_norm(db)
    if not math.isfinite(delta):
        return flag(status, Phase.BACKWARD, k, Quantity.DELTA)
    if not math.isfinite(mtab[k, Metric.GRAD_NORM] + mtab[k, Metric.BIAS_GRAD_NORM]):
        return flag(status, Phase.BACKWARD, k, Quantity.GRAD)
    return True
