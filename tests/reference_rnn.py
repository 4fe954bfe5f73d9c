"""A slow, plain-NumPy recurrent net: the independent oracle for engine.recurrent (no shared code).

Batch-major (B, T, d) sequences, one matrix per gate, backpropagation through time written
from the cell equations.  Only the parameter layout is shared with the engine, so gradients
can be compared entry by entry: per layer ``Wx`` (n_in, G*H), ``Wh`` (H, G*H) with the gate
blocks in the order RNN z; LSTM i, f, g, o; GRU r, z, n, and ``b`` (G*H, + b_hn for the GRU).
"""

from __future__ import annotations

import numpy as np

from engine.activations import ACTIVATIONS

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _blocks(M, H, G):
    return [M[..., g * H : (g + 1) * H] for g in range(G)]


def _loss(y, target, loss):
    """(loss, dL/dy) of the read-out y (B, n_out)."""
    B, n = y.shape
    if loss == "mse":
        return np.mean((y - target) ** 2), 2.0 * (y - target) / (B * n)
    e = np.exp(y - y.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return -np.mean(np.sum(target * np.log(p), axis=1)), (p - target) / B


def _layer_forward(cell, act, param, W, x_seq):
    """Hidden states (B, T+1, H) and a per-step cache for the backward pass."""
    Wx, Wh, b = W["Wx"], W["Wh"], W["b"]
    B, T, _ = x_seq.shape
    H = Wh.shape[0]
    G = GATES[cell]
    f = ACTIVATIONS[act].f
    hs = np.zeros((B, T + 1, H))
    c = np.zeros((B, H))
    cache = []
    for t in range(T):
        x, h = x_seq[:, t], hs[:, t]
        if cell == "rnn":
            z = x @ Wx + h @ Wh + b
            hs[:, t + 1] = f(z, param)
            cache.append({"z": z})
        elif cell == "lstm":
            pi, pf, pg, po = (
                x @ wx + h @ wh + bb
                for wx, wh, bb in zip(
                    _blocks(Wx, H, G), _blocks(Wh, H, G), _blocks(b, H, G), strict=True
                )
            )
            i, fg, g, o = _sig(pi), _sig(pf), np.tanh(pg), _sig(po)
            c_prev = c
            c = fg * c_prev + i * g
            hs[:, t + 1] = o * np.tanh(c)
            cache.append({"i": i, "f": fg, "g": g, "o": o, "c": c, "c_prev": c_prev})
        else:
            wxr, wxz, wxn = _blocks(Wx, H, G)
            whr, whz, whn = _blocks(Wh, H, G)
            br, bz, bn, bhn = _blocks(b, H, G + 1)
            r = _sig(x @ wxr + h @ whr + br)
            u = _sig(x @ wxz + h @ whz + bz)
            hn = h @ whn + bhn
            n = np.tanh(x @ wxn + bn + r * hn)
            hs[:, t + 1] = (1.0 - u) * n + u * h
            cache.append({"r": r, "u": u, "n": n, "hn": hn})
    return hs, cache


def _layer_backward(cell, act, param, W, x_seq, hs, cache, dh_ext):
    """Gradients of one layer's parameters, and dL/dx (B, T, n_in), from dL/dh_t (B, T, H)."""
    Wx, Wh = W["Wx"], W["Wh"]
    B, T, _ = x_seq.shape
    H = Wh.shape[0]
    G = GATES[cell]
    df = ACTIVATIONS[act].df
    grads = {k: np.zeros_like(v) for k, v in W.items()}
    dx = np.zeros_like(x_seq)
    dh_next = np.zeros((B, H))
    dc_next = np.zeros((B, H))
    gh = np.zeros(T)
    for t in range(T - 1, -1, -1):
        x, h = x_seq[:, t], hs[:, t]
        dh = dh_ext[:, t] + dh_next
        gh[t] = np.linalg.norm(dh)
        k = cache[t]
        if cell == "rnn":
            dpre_x = dpre_h = dh * df(k["z"], param)
            dh_direct = 0.0
        elif cell == "lstm":
            tc = np.tanh(k["c"])
            dc = dc_next + dh * k["o"] * (1 - tc**2)
            dpre_x = dpre_h = np.concatenate(
                [
                    dc * k["g"] * k["i"] * (1 - k["i"]),
                    dc * k["c_prev"] * k["f"] * (1 - k["f"]),
                    dc * k["i"] * (1 - k["g"] ** 2),
                    dh * tc * k["o"] * (1 - k["o"]),
                ],
                axis=1,
            )
            dc_next = dc * k["f"]
            dh_direct = 0.0
        else:
            r, u, n, hn = k["r"], k["u"], k["n"], k["hn"]
            dn_pre = dh * (1 - u) * (1 - n**2)
            dr_pre = dn_pre * hn * r * (1 - r)
            du_pre = dh * (h - n) * u * (1 - u)
            dpre_x = np.concatenate([dr_pre, du_pre, dn_pre], axis=1)
            dpre_h = np.concatenate([dr_pre, du_pre, dn_pre * r], axis=1)
            grads["b"][G * H :] += (dn_pre * r).sum(axis=0)
            dh_direct = dh * u
        grads["Wx"] += x.T @ dpre_x
        grads["Wh"] += h.T @ dpre_h
        grads["b"][: G * H] += dpre_x.sum(axis=0)
        dx[:, t] = dpre_x @ Wx.T
        dh_next = dh_direct + dpre_h @ Wh.T
    return grads, dx, gh


def forward_backward(cell, layers, V, c, X, target, loss="mse", act="tanh", param=0.0):
    """Loss, per-layer gradient dicts, (dV, dc) and ||dL/dh_t|| (depth, T) of a stacked net.

    ``layers``: [{"Wx", "Wh", "b"}] bottom first; ``X`` (B, T, d); the read-out uses the top
    layer's last hidden state.
    """
    inputs, states, caches = [], [], []
    x = X
    for W in layers:
        hs, cache = _layer_forward(cell, act, param, W, x)
        inputs.append(x)
        states.append(hs)
        caches.append(cache)
        x = hs[:, 1:]
    h_last = states[-1][:, -1]
    y = h_last @ V + c
    value, dy = _loss(y, target, loss)
    dV, dc = h_last.T @ dy, dy.sum(axis=0)
    dh_ext = np.zeros_like(states[-1][:, 1:])
    dh_ext[:, -1] = dy @ V.T
    grads, ghs = [None] * len(layers), [None] * len(layers)
    for k in range(len(layers) - 1, -1, -1):
        grads[k], dh_ext, ghs[k] = _layer_backward(
            cell, act, param, layers[k], inputs[k], states[k], caches[k], dh_ext
        )
    return value, grads, (dV, dc), np.array(ghs)
