"""The update kernel against plain-NumPy optimiser formulas (Keras conventions) and clipping."""

import numpy as np
import pytest

from engine import kernels as K
from engine.config import LayerConfig, ModelConfig, TrainingConfig
from engine.metrics import Metric
from engine.network import build_network
from engine.optimizers import Optimizer


def _reference(name, p, grads, t):
    """Keras-style optimisers, written out independently for three steps of given grads."""
    p = p.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    lr, mu, rho, b1, b2, eps = t.learning_rate, t.momentum, t.rho, t.beta1, t.beta2, t.epsilon
    for step, g in enumerate(grads, start=1):
        if name == "sgd":
            p -= lr * g
        elif name == "momentum":
            m = mu * m - lr * g
            p += m
        elif name == "nesterov":
            m = mu * m - lr * g
            p += mu * m - lr * g
        elif name == "rmsprop":
            v = rho * v + (1 - rho) * g**2
            p -= lr * g / (np.sqrt(v) + eps)
        else:
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g**2
            p -= lr * np.sqrt(1 - b2**step) / (1 - b1**step) * m / (np.sqrt(v) + eps)
    return p


def _net():
    return build_network(ModelConfig(hidden=(LayerConfig(5), LayerConfig(4))), 3, 2, seed=0)


def _run_updates(t: TrainingConfig, net, grads):
    opt = Optimizer(t, net.n_params, net.dtype)
    mtab = np.zeros((net.depth + 1, K.N_METRICS))
    ip = np.array([0, opt.code, 1, 1], dtype=np.int64)
    out, status = np.zeros(3), np.zeros(3, dtype=np.int64)
    for step, g in enumerate(grads, start=1):
        net.grads[:] = g
        opt.begin_step(step)
        assert K.update(
            net.params, net.grads, opt.m, opt.v, net.itab, mtab, opt.hp, ip, out, status
        )
    return mtab, out


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_optimiser_matches_reference(name):
    net = _net()
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=net.n_params) for _ in range(3)]
    t = TrainingConfig(optimizer=name, learning_rate=0.05)
    expected = _reference(name, net.params, grads, t)
    _run_updates(t, net, grads)
    np.testing.assert_allclose(net.params, expected, rtol=1e-12, atol=1e-15)


def test_update_ratio_and_weight_norm_metrics():
    net = _net()
    w_old = [net.W(k).copy() for k in range(3)]
    g = np.random.default_rng(1).normal(size=net.n_params)
    mtab, _ = _run_updates(TrainingConfig(learning_rate=0.1), net, [g])
    for k in range(3):
        step = net.W(k) - w_old[k]
        assert mtab[k, Metric.UPDATE_RATIO] == pytest.approx(
            np.linalg.norm(step) / np.linalg.norm(w_old[k])
        )
        assert mtab[k, Metric.WEIGHT_NORM] == pytest.approx(np.linalg.norm(net.W(k)))


def test_clip_by_global_norm():
    net = _net()
    p0 = net.params.copy()
    g = np.random.default_rng(2).normal(size=net.n_params) * 10
    _, out = _run_updates(TrainingConfig(learning_rate=1.0, clip_norm=0.5), net, [g])
    assert out[2] == pytest.approx(np.linalg.norm(g))  # the raw norm is reported
    np.testing.assert_allclose(p0 - net.params, g * 0.5 / np.linalg.norm(g), rtol=1e-12)


def test_clip_by_value():
    net = _net()
    p0 = net.params.copy()
    g = np.random.default_rng(3).normal(size=net.n_params)
    _run_updates(TrainingConfig(learning_rate=1.0, clip_value=0.2), net, [g])
    np.testing.assert_allclose(p0 - net.params, np.clip(g, -0.2, 0.2), rtol=1e-12)


def test_unknown_optimiser_names_the_field():
    with pytest.raises(ValueError, match="training.optimizer"):
        Optimizer(TrainingConfig(optimizer="adagrad"), 3, np.float64)
