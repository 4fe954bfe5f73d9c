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
