"""Numba kernels of the recurrent cells: forward and backward through time, one layer at a time.

Private by convention (callers go through :mod:`engine.recurrent.network` and
:mod:`engine.recurrent.session`).  Arrays are time-major and C-contiguous, of one float dtype;
for one layer with ``G`` gate blocks of ``H`` units and ``n_in`` inputs:

* ``X``   (T, B, n_in)   the layer's input sequence (the data, or the layer below's ``Hs[1:]``)
* ``Wx``  (n_in, G*H), ``Wh`` (H, G*H), ``b`` (G*H [+ H for the GRU's recurrent bias b_hn])
* ``Hs``  (T+1, B, H)    hidden states, ``Hs[0] = 0`` and ``Hs[t+1] = h_t``
* ``Cs``  (T+1, B, H)    LSTM cell states (unused by the other cells)
* ``A``   (T, B, G*H)    pre-activations; the GRU's n block holds ``h W_hn + b_hn`` instead
* ``S``, ``D`` (T, B, G*H) gate values and the derivative of their activation
* ``Y``   (T, B, H)      LSTM: tanh(c_t)
* ``E``   (T, B, H)      external dL/dh_t (read-out or the layer above); ``dX`` (T, B, n_in)
* ``carry`` (2, B, H)    dL/dh_{t-1} and dL/dc_{t-1} handed from step t to step t-1
* ``dA``, ``dAh`` (T, B, G*H) dL/d(pre-activations) per step, of the input and the recurrent
  products (one array but for the GRU); ``Hprev`` = ``Hs[:-1]``

Gate order (columns of W): RNN ``z``; LSTM ``i, f, g, o``; GRU ``r, z, n`` (PyTorch's GRU:
``n = tanh(x W_xn + b_n + r * (h W_hn + b_hn))``, ``h_t = (1 - z) n + z h_{t-1}``).

``status`` (4,) int64: (:class:`~engine.codes.Phase`, layer, time step, quantity) of the first
NaN/Inf; quantity ``>= 0`` is a gate index, :data:`Q_HIDDEN` / :data:`Q_CELL` a state.
The step-through calls :func:`backward_step` once per time step; :func:`backward_layer`
loops over the very same function, so both paths give bit-identical numbers.
"""

from __future__ import annotations

import math

import numpy as np

from engine.codes import ActCode, Phase
from engine.kernels.activation import apply_activation
from engine.kernels.layout import jit, l2_norm
from engine.kernels.loss import loss_rows
from engine.recurrent import _cache  # noqa: F401  (before the first @jit: see its docstring)

CELL_RNN, CELL_LSTM, CELL_GRU = range(3)
Q_HIDDEN, Q_CELL = -1, -2  # status[3] for a state rather than a gate


@jit
def _flag(status, phase, layer, t, quantity):
    status[0], status[1], status[2], status[3] = phase, layer, t, quantity
    return False


@jit
def _finite_block(a, lo, hi):
    """True when every a[:, lo:hi] is finite."""
    for i in range(a.shape[0]):
        for j in range(lo, hi):
            if not math.isfinite(a[i, j]):
                return False
    return True


@jit
def _check_gates(a, H, layer, t, phase, status):
    """Flag the first gate block of ``a`` (B, G*H) holding NaN/Inf."""
    for g in range(a.shape[1] // H):
        if not _finite_block(a, g * H, (g + 1) * H):
            return _flag(status, phase, layer, t, g)
    return True


@jit
def _activate_block(code, p, a, s, d, lo, hi):
    """s = f(a), d = f'(a) on columns lo:hi of the (B, G*H) arrays (through contiguous
    copies: the activation kernel works on flat views)."""
    av = a[:, lo:hi].copy()
    sv = np.empty_like(av)
    dv = np.empty_like(av)
    apply_activation(code, p, av, sv, dv)
    s[:, lo:hi] = sv
    d[:, lo:hi] = dv


# ----------------------------------------------------------------------------- forward


@jit
def _rnn_forward(t, act, p, Hs, A, S, D):
    B, H = Hs.shape[1], Hs.shape[2]
    a, s, d = A[t], S[t], D[t]
    apply_activation(act, p, a, s, d)
    for i in range(B):
        for j in range(H):
            Hs[t + 1, i, j] = s[i, j]


@jit
def _lstm_forward(t, Hs, Cs, A, S, D, Y):
    B, H = Hs.shape[1], Hs.shape[2]
    a, s, d = A[t], S[t], D[t]
    _activate_block(ActCode.SIGMOID, 0.0, a, s, d, 0, 2 * H)  # i, f
    _activate_block(ActCode.TANH, 0.0, a, s, d, 2 * H, 3 * H)  # g
    _activate_block(ActCode.SIGMOID, 0.0, a, s, d, 3 * H, 4 * H)  # o
    for i in range(B):
        for j in range(H):
            c = s[i, H + j] * Cs[t, i, j] + s[i, j] * s[i, 2 * H + j]
            Cs[t + 1, i, j] = c
            y = math.tanh(c)
            Y[t, i, j] = y
            Hs[t + 1, i, j] = s[i, 3 * H + j] * y


@jit
def _gru_forward(t, ah, Hs, A, S, D):
    """``A[t]`` holds x W_x + b on entry; ``ah`` = h_{t-1} W_h with b_hn added to its n block."""
    B, H = Hs.shape[1], Hs.shape[2]
    a, s, d = A[t], S[t], D[t]
    for i in range(B):
        for j in range(2 * H):
            a[i, j] += ah[i, j]
    _activate_block(ActCode.SIGMOID, 0.0, a, s, d, 0, 2 * H)  # r, z
    n_pre = np.empty((B, H), dtype=a.dtype)
    for i in range(B):
        for j in range(H):
            n_pre[i, j] = a[i, 2 * H + j] + s[i, j] * ah[i, 2 * H + j]
            a[i, 2 * H + j] = ah[i, 2 * H + j]  # kept for the backward pass (dL/dr)
    n_val = np.empty_like(n_pre)
    n_der = np.empty_like(n_pre)
    apply_activation(ActCode.TANH, 0.0, n_pre, n_val, n_der)
    for i in range(B):
        for j in range(H):
            s[i, 2 * H + j], d[i, 2 * H + j] = n_val[i, j], n_der[i, j]
            z = s[i, H + j]
            Hs[t + 1, i, j] = (1.0 - z) * n_val[i, j] + z * Hs[t, i, j]


@jit
def forward_layer(cell, act, p, layer, X, Wx, Wh, b, Hs, Cs, A, S, D, Y, gate_mean, status):
    """Phase ``forward`` of one layer over the whole sequence; False at the first NaN/Inf.

    ``gate_mean`` (T,) float64 gets the batch mean per time step of the gate that carries the
    gradient: the LSTM forget gate f_t, the GRU update gate z_t, the RNN's f'(z_t).
    """
    T, B, H = X.shape[0], X.shape[1], Hs.shape[2]
    GH = Wx.shape[1]
    bh = np.zeros(GH, dtype=b.dtype)
    if cell == CELL_GRU:
        bh[2 * H :] = b[GH:]
    # the input's share of every step in one product: it does not depend on h
    A.reshape((T * B, GH))[:] = np.dot(X.reshape((T * B, X.shape[2])), Wx) + b[:GH]
    for t in range(T):
        a = A[t]
        if cell == CELL_GRU:
            ah = np.dot(Hs[t], Wh) + bh
            if not _check_gates(ah, H, layer, t, Phase.FORWARD, status):
                return False
            _gru_forward(t, ah, Hs, A, S, D)
        else:
            a += np.dot(Hs[t], Wh)
            if not _check_gates(a, H, layer, t, Phase.FORWARD, status):
                return False
            if cell == CELL_LSTM:
                _lstm_forward(t, Hs, Cs, A, S, D, Y)
            else:
                _rnn_forward(t, act, p, Hs, A, S, D)
        gate = 0 if cell == CELL_RNN else 1
        src = S[t] if cell != CELL_RNN else D[t]
        gate_mean[t] = np.mean(src[:, gate * H : (gate + 1) * H].astype(np.float64))
        if cell == CELL_LSTM and not math.isfinite(l2_norm(Cs[t + 1])):
            return _flag(status, Phase.FORWARD, layer, t, Q_CELL)
        if not math.isfinite(l2_norm(Hs[t + 1])):
            return _flag(status, Phase.FORWARD, layer, t, Q_HIDDEN)
    return True


# ----------------------------------------------------------------------------- backward


@jit
def _rnn_gates(t, dh, D, da):
    """dL/dz_t = dL/dh_t * f'(z_t)."""
    d = D[t]
    for i in range(dh.shape[0]):
        for j in range(dh.shape[1]):
            da[i, j] = dh[i, j] * d[i, j]


@jit
def _lstm_gates(t, dh, carry, Cs, S, D, Y, da):
    """dL/d(pre-activations) of i, f, g, o from dL/dh_t and the carried dL/dc_t; carry[1]
    becomes dL/dc_{t-1} = dL/dc_t * f_t."""
    B, H = dh.shape[0], dh.shape[1]
    s, d = S[t], D[t]
    for i in range(B):
        for j in range(H):
            y = Y[t, i, j]
            o = s[i, 3 * H + j]
            dc = carry[1, i, j] + dh[i, j] * o * (1.0 - y * y)
            da[i, j] = dc * s[i, 2 * H + j] * d[i, j]  # i
            da[i, H + j] = dc * Cs[t, i, j] * d[i, H + j]  # f
            da[i, 2 * H + j] = dc * s[i, j] * d[i, 2 * H + j]  # g
            da[i, 3 * H + j] = dh[i, j] * y * d[i, 3 * H + j]  # o
            carry[1, i, j] = dc * s[i, H + j]


@jit
def _gru_gates(t, dh, Hs, A, S, D, da, dah, dh_prev):
    """dL/d(input pre-activations) ``da`` and dL/d(recurrent pre-activations) ``dah`` of
    r, z, n; ``dh_prev`` gets the direct path dL/dh_t * z_t."""
    B, H = dh.shape[0], dh.shape[1]
    a, s, d = A[t], S[t], D[t]
    for i in range(B):
        for j in range(H):
            r, z, n = s[i, j], s[i, H + j], s[i, 2 * H + j]
            dn = dh[i, j] * (1.0 - z) * d[i, 2 * H + j]
            dr = dn * a[i, 2 * H + j] * d[i, j]
            dz = dh[i, j] * (Hs[t, i, j] - n) * d[i, H + j]
            da[i, j], da[i, H + j], da[i, 2 * H + j] = dr, dz, dn
            dah[i, j], dah[i, H + j], dah[i, 2 * H + j] = dr, dz, dn * r
            dh_prev[i, j] = dh[i, j] * z


@jit
def _weight_grads(X, Hprev, Wx, dA, dAh, grads, dX, gru):
    """dL/dWx, dL/dWh, dL/db summed over every time step in one product each, and dL/dX.

    Run once the backward pass of the layer has reached t = 0 (``dA``, ``dAh`` hold the
    pre-activation gradients of every step).
    """
    T, B, n_in = X.shape[0], X.shape[1], X.shape[2]
    H, GH = Hprev.shape[2], Wx.shape[1]
    nx, nh = n_in * GH, H * GH
    da = dA.reshape((T * B, GH))
    dah = dAh.reshape((T * B, GH))
    grads[:nx].reshape((n_in, GH))[:] += np.dot(X.reshape((T * B, n_in)).T, da)
    grads[nx : nx + nh].reshape((H, GH))[:] += np.dot(Hprev.reshape((T * B, H)).T, dah)
    db = grads[nx + nh :]
    for i in range(T * B):
        for j in range(GH):
            db[j] += da[i, j]
        if gru:
            for j in range(H):
                db[GH + j] += dah[i, 2 * H + j]
    dX.reshape((T * B, n_in))[:] = np.dot(da, Wx.T)


@jit
def backward_step(
    cell, layer, t, X, Wx, Wh, Hs, Hprev, Cs, A, S, D, Y, E, carry, dA, dAh, grads, dX, gh, status
):
    """Phase ``backward`` of one layer at time step t (call for t = T-1 down to 0).

    dL/dh_t = E[t] + carry[0] (the loss or the layer above, plus step t+1); ``gh[t]`` gets its
    norm, ``dA[t]`` / ``dAh[t]`` the gradients of the input / recurrent pre-activations
    (the same array but for the GRU), carry[0] = dL/dh_{t-1}.  At t = 0 the layer's
    ``grads`` = (dWx (n_in, G*H), dWh (H, G*H), db) flattened in that order, and ``dX``,
    are accumulated from every step (:func:`_weight_grads`).  False at the first NaN/Inf.
    """
    B, H = Hs.shape[1], Hs.shape[2]
    dh = E[t] + carry[0]
    gh[t] = l2_norm(dh)
    if not math.isfinite(gh[t]):
        return _flag(status, Phase.BACKWARD, layer, t, Q_HIDDEN)
    da = dA[t]
    dah = dAh[t]
    dh_prev = np.zeros((B, H), dtype=dh.dtype)
    if cell == CELL_LSTM:
        _lstm_gates(t, dh, carry, Cs, S, D, Y, da)
    elif cell == CELL_GRU:
        _gru_gates(t, dh, Hs, A, S, D, da, dah, dh_prev)
    else:
        _rnn_gates(t, dh, D, da)
    if not _check_gates(da, H, layer, t, Phase.BACKWARD, status):
        return False
    carry[0] = dh_prev + np.dot(dah, Wh.T)
    if t == 0:
        _weight_grads(X, Hprev, Wx, dA, dAh, grads, dX, cell == CELL_GRU)
    return True


@jit
def backward_layer(
    cell, layer, X, Wx, Wh, Hs, Hprev, Cs, A, S, D, Y, E, carry, dA, dAh, grads, dX, gh, status
):
    """Phase ``backward`` of one layer over every time step, last first (fused path)."""
    for t in range(X.shape[0] - 1, -1, -1):
        if not backward_step(
            cell, layer, t, X, Wx, Wh, Hs, Hprev, Cs, A, S, D, Y, E, carry, dA, dAh, grads, dX,
            gh, status,
        ):  # fmt: skip
            return False
    return True


# ----------------------------------------------------------------------------- read-out


@jit
def readout_loss(h, V, c, Tgt, P, dZ, code, out, status, layer):
    """z = h V + c, the loss of ``code`` (a :class:`~engine.codes.LossCode`), dL/dz in ``dZ``.

    out[0] = mean loss, out[1] = correct examples.  ``P`` gets the outputs (probabilities).
    """
    B = Tgt.shape[0]
    Z = np.dot(h, V) + c
    loss, correct = loss_rows(Z, Tgt, P, dZ, code)
    out[0] = loss / B
    out[1] = correct
    if not math.isfinite(out[0]):
        return _flag(status, Phase.LOSS, layer, -1, Q_HIDDEN)
    return True


@jit
def readout_backward(h, V, dZ, dV, dc, dh):
    """dL/dV = h^T dZ, dL/dc = sum of dZ, dL/dh_T = dZ V^T."""
    dV += np.dot(h.T, dZ)
    for i in range(dZ.shape[0]):
        for j in range(dZ.shape[1]):
            dc[j] += dZ[i, j]
    dh[:] = np.dot(dZ, V.T)
