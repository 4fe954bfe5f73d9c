"""Analytic gradients of every layer type against central finite differences (float64)."""

import numpy as np
import pytest
from engine_helpers import Problem, config, relative_error
from reference_mlp import forward_backward

from engine.activations import ACTIVATIONS

VARIANTS = {
    "plain": {},
    "bn_pre": {"model.batch_norm": "pre"},
    "bn_post": {"model.batch_norm": "post"},
    "residual": {"model.residual": True},
    "dropout": {"model.dropout": 0.3},
    "weight_decay": {"training.weight_decay": 0.01},
}


def _check(cfg, tol=1e-6):
    prob = Problem(cfg)
    analytic = prob.gradient()
    numeric = prob.numeric_gradient()
    err = relative_error(analytic, numeric)
    assert err < tol, f"relative error {err:.3g}"
    return analytic


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_hidden_layers_match_finite_differences(act, variant):
    # a bias away from 0 keeps z off the kinks (a unit whose inputs are all 0 sits at z = b)
    cfg = config(
        **{
            "model.activation": act,
            "model.init": "he_normal",
            "model.bias_init": 0.1,
            **VARIANTS[variant],
        }
    )
    analytic = _check(cfg)
    if act == "step" and variant not in ("bn_post", "residual", "weight_decay"):
        # below a step layer nothing can learn: only the output layer gets a gradient
        prob = Problem(cfg)
        prob.gradient()
        assert np.all(prob.net.dW(0) == 0)
    assert np.isfinite(analytic).all()


@pytest.mark.parametrize("loss", ["softmax_ce", "sigmoid_bce", "mse"])
def test_every_loss_matches_finite_differences(loss):
    _check(config(**{"model.loss": loss, "model.activation": "tanh"}))


def test_prelu_slope_gradient_is_checked():
    cfg = config(**{"model.activation": "prelu", "model.prelu_init": 0.1})
    prob = Problem(cfg)
    analytic = prob.gradient()
    numeric = prob.numeric_gradient()
    slots = [prob.net.itab[k, 6] for k in range(prob.net.depth)]  # P_OFF column
    assert all(s >= 0 for s in slots)
    assert relative_error(analytic[slots], numeric[slots]) < 1e-6
    assert np.any(analytic[slots] != 0)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "gelu"])
def test_each_layer_matches_numpy_reference_even_when_tiny(act):
    """Per-layer gradients down to 1e-12 agree with a plain-NumPy backprop to 1e-12 relative."""
    cfg = config(**{"model.depth": 12, "model.width": 5, "model.activation": act})
    prob = Problem(cfg)
    prob.gradient()
    net = prob.net
    ks = range(net.depth + 1)
    _, dWs, dbs, _ = forward_backward(
        [net.W(k).copy() for k in ks], [net.b(k).copy() for k in ks], prob.X, prob.T, act
    )
    for k in ks:
        assert relative_error(net.dW(k), dWs[k]) < 1e-12, k
        assert relative_error(net.db(k), dbs[k]) < 1e-12, k
    if act == "sigmoid":  # the point of float64: a vanished gradient is still measured exactly
        assert np.linalg.norm(dWs[0]) < 1e-6 * np.linalg.norm(dWs[net.depth - 1])
