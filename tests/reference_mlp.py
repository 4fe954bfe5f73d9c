"""A slow, plain-NumPy MLP: the independent oracle for the kernels (no shared code)."""

from __future__ import annotations

import numpy as np

from engine.activations import ACTIVATIONS


def forward_backward(Ws, bs, X, T, act="sigmoid", param=0.0):
    """Softmax cross-entropy MLP.  Returns (loss, dWs, dbs, zs) with plain matrix algebra."""
    f, df = ACTIVATIONS[act].f, ACTIVATIONS[act].df
    a, zs, inputs = X, [], []
    for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        inputs.append(a)
        z = a @ W + b
        zs.append(z)
        a = z if k == len(Ws) - 1 else f(z, param)
    logits = a - a.max(axis=1, keepdims=True)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(T * np.log(p), axis=1))
    delta = (p - T) / len(X)
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for k in range(len(Ws) - 1, -1, -1):
        dWs[k] = inputs[k].T @ delta
        dbs[k] = delta.sum(axis=0)
        if k:
            delta = (delta @ Ws[k].T) * df(zs[k - 1], param)
    return loss, dWs, dbs, zs


def sgd_steps(Ws, bs, batches, lr, act="sigmoid"):
    """Plain SGD over the given (X, T) batches; returns the final weights and biases."""
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]
    for X, T in batches:
        _, dWs, dbs, _ = forward_backward(Ws, bs, X, T, act)
        for k in range(len(Ws)):
            Ws[k] -= lr * dWs[k]
            bs[k] -= lr * dbs[k]
    return Ws, bs


def batch_norm(x, gamma, beta, eps):
    """Training-mode batch norm over axis 0, textbook two-pass float64: (out, x_hat, 1/std)."""
    mean = x.mean(axis=0)
    inv = 1.0 / np.sqrt(((x - mean) ** 2).mean(axis=0) + eps)
    x_hat = (x - mean) * inv
    return gamma * x_hat + beta, x_hat, inv


def batch_norm_backward(dout, x_hat, inv, gamma):
    """(dL/dx, dL/dgamma, dL/dbeta) of :func:`batch_norm`, by the chain rule through the mean
    and the variance written out term by term (not the kernels' folded form)."""
    B = len(dout)
    dx_hat = dout * gamma
    d_var = np.sum(dx_hat * x_hat, axis=0) * -0.5 * inv**2  # dL/dvar, via x_hat = d inv
    d_mean = -np.sum(dx_hat, axis=0) * inv  # the var term's mean part is 0
    dx = dx_hat * inv + d_var * 2.0 * x_hat / (inv * B) + d_mean / B
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)
