"""The phenomenon the product exists to show is visible in the engine's own numbers."""

import numpy as np
import pytest
from engine_helpers import config

from engine.config import DataConfig
from engine.datasets import load_dataset
from engine.session import Session


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataConfig(name="digits"))


def _first_and_last_hidden(digits, act, init):
    cfg = config(
        **{
            "model.depth": 20,
            "model.width": 32,
            "model.activation": act,
            "model.init": init,
            "training.batch_size": 64,
        }
    )
    s = Session(cfg, digits)
    result = None
    while s.next_phase()[0] != "update":  # one fixed batch, forward and backward only
        result = s.step_phase()
    assert result.phase == "backward"
    assert result.layer == 0
    g = s.snapshot(with_history=False).layers["grad_norm"]
    return g[0], g[s.depth - 1]


def test_deep_sigmoid_gradient_vanishes_towards_the_input(digits):
    first, last = _first_and_last_hidden(digits, "sigmoid", "xavier_normal")
    assert first * 1000 < last, (first, last)


def test_relu_with_he_keeps_gradients_flowing(digits):
    first, last = _first_and_last_hidden(digits, "relu", "he_normal")
    assert 0.1 < first / last < 10, (first, last)


def test_sigmoid_derivative_factors_bound_the_decay(digits):
    """Each sigmoid layer multiplies delta by f'(z) <= 1/4: mean f' sits below the bound."""
    cfg = config(
        **{
            "model.depth": 20,
            "model.width": 32,
            "model.activation": "sigmoid",
            "training.batch_size": 64,
        }
    )
    s = Session(cfg, digits)
    s.step()
    fp = s.snapshot(with_history=False).layers["fprime_mean"][:-1]
    assert np.all(fp <= 0.25)
    assert np.all(fp > 0.1)


def test_step_activation_cannot_learn(digits):
    s = Session(config(**{"model.activation": "step", "model.bias_init": 0.1}), digits)
    s.run(5)
    g = s.snapshot(with_history=False).layers
    assert np.all(g["grad_norm"][:-1] == 0)
    assert g["grad_norm"][-1] > 0
    assert np.all(g["saturated"][:-1] == 1.0)
