"""Recurrent gradients: every parameter against central differences (float64) and against the
independent NumPy reference (tests/reference_rnn.py), for RNN / LSTM / GRU, stacked or not."""

from __future__ import annotations

import numpy as np
import pytest
import reference_rnn as ref

from engine.config import ExperimentConfig, updated
from engine.recurrent import RecurrentSession

CASES = [
    ("rnn", 1, "tanh", "mse"),
    ("rnn", 2, "sigmoid", "softmax_ce"),
    ("rnn", 1, "elu", "mse"),
    ("rnn", 2, "gelu", "mse"),
    ("rnn", 1, "leaky_relu", "softmax_ce"),
    ("rnn", 1, "softplus", "mse"),
    ("lstm", 1, "tanh", "mse"),
    ("lstm", 2, "tanh", "softmax_ce"),
    ("gru", 1, "tanh", "mse"),
    ("gru", 2, "tanh", "softmax_ce"),
]


def make_session(cell, depth, act, loss, T=6, width=5, dtype="float64", **more):
    task = "adding" if loss == "mse" else "memory"
    config = updated(
        ExperimentConfig(name=f"{cell}-{depth}"),
        **{
            "recurrent.cell": cell,
            "recurrent.task": task,
            "recurrent.seq_len": T,
            "recurrent.n_symbols": 3,
            "recurrent.rnn_activation": act,
            "recurrent.forget_bias": 0.5,
            "model.loss": loss,
            "model.depth": depth,
            "model.width": width,
            "model.init": "normal",
            "model.init_scale": 0.6,
            "model.bias_init": 0.1,
            "model.dtype": dtype,
            "data.n_samples": 40,
            "training.batch_size": 4,
            **more,
        },
    )
    return RecurrentSession(config)


def batch(s):
    """A fixed (T, B, d) batch of training sequences and its targets."""
    return np.ascontiguousarray(s.X[:4].transpose(1, 0, 2)), s.T[:4]


def engine_loss(s, X, Tgt) -> float:
    bufs = s._buffer(X.shape[1])
    for k in range(s.depth):
        assert s.passes.forward(bufs, X, k)
    assert s.passes.loss(bufs, Tgt, train=False)
    return float(s.passes.out[0])


def engine_grads(s, X, Tgt) -> np.ndarray:
    bufs = s._buffer(X.shape[1])
    p = s.passes
    assert all(p.forward(bufs, X, k) for k in range(s.depth))
    assert p.loss(bufs, Tgt)
    assert all(p.backward_layer(bufs, X, k) for k in range(s.depth - 1, -1, -1))
    return s.net.grads.copy()


def reference(s, X, Tgt):
    net = s.net
    layers = [{"Wx": net.Wx(k), "Wh": net.Wh(k), "b": net.b(k)} for k in range(net.depth)]
    return ref.forward_backward(
        net.cell,
        layers,
        net.V,
        net.c,
        X.transpose(1, 0, 2),
        Tgt,
        s.config.model.loss,
        net.activation,
        net.act_param,
    )


@pytest.mark.parametrize(("cell", "depth", "act", "loss"), CASES)
def test_every_gradient_matches_central_differences(cell, depth, act, loss):
    s = make_session(cell, depth, act, loss)
    X, Tgt = batch(s)
    grads = engine_grads(s, X, Tgt)
    params = s.net.params
    eps = 1e-6
    numeric = np.empty_like(grads)
    for i in range(params.size):
        old = params[i]
        params[i] = old + eps
        up = engine_loss(s, X, Tgt)
        params[i] = old - eps
        down = engine_loss(s, X, Tgt)
        params[i] = old
        numeric[i] = (up - down) / (2 * eps)
    scale = np.abs(grads).max()
    assert scale > 1e-3  # a gradient that is all zero would pass trivially
    np.testing.assert_allclose(grads, numeric, rtol=1e-5, atol=1e-8 * scale)


@pytest.mark.parametrize(("cell", "depth", "act", "loss"), CASES)
def test_every_gradient_matches_the_numpy_reference(cell, depth, act, loss):
    s = make_session(cell, depth, act, loss, T=9)
    X, Tgt = batch(s)
    value, ref_grads, (dV, dc), gh = reference(s, X, Tgt)
    assert engine_loss(s, X, Tgt) == pytest.approx(value, rel=1e-12)
    grads = engine_grads(s, X, Tgt)
    net = s.net
    for k in range(net.depth):
        g = net.layer_grads(k)
        nx, nh = net.Wx(k).size, net.Wh(k).size
        np.testing.assert_allclose(
            g[:nx].reshape(net.Wx(k).shape), ref_grads[k]["Wx"], rtol=1e-9, atol=1e-14
        )
        np.testing.assert_allclose(
            g[nx : nx + nh].reshape(net.Wh(k).shape), ref_grads[k]["Wh"], rtol=1e-9, atol=1e-14
        )
        np.testing.assert_allclose(g[nx + nh :], ref_grads[k]["b"], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        grads[net.itab[-1, 2] : net.itab[-1, 2] + dV.size], dV.ravel(), rtol=1e-10
    )
    np.testing.assert_allclose(net.dc(), dc, rtol=1e-10, atol=1e-15)
    # ||dL/dh_t|| per layer and time step, the curve the GUI draws
    measured = np.array([lay["gh"] for lay in s._buffer(4).layers])
    np.testing.assert_allclose(measured, gh, rtol=1e-10)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_float32_gradients_agree_with_float64(cell):
    lo = make_session(cell, 2, "tanh", "mse", dtype="float32")
    hi = make_session(cell, 2, "tanh", "mse")
    np.testing.assert_array_equal(lo.net.params, hi.net.params.astype(np.float32))
    g32 = engine_grads(lo, *batch(lo))
    g64 = engine_grads(hi, *batch(hi))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=1e-5 * np.abs(g64).max())
