"""Initialiser statistics against their defining formulas, measured on large matrices."""

import numpy as np
import pytest

from engine.config import INITIALIZERS
from engine.initializers import init_weights

N_IN, N_OUT = 400, 300
EXPECTED_STD = {
    "xavier_normal": np.sqrt(2 / (N_IN + N_OUT)),
    "xavier_uniform": np.sqrt(2 / (N_IN + N_OUT)),
    "he_normal": np.sqrt(2 / N_IN),
    "he_uniform": np.sqrt(2 / N_IN),
    "lecun_normal": np.sqrt(1 / N_IN),
    "fan_in_normal": np.sqrt(1 / N_IN),  # sigma_w2 = 1 by default: LeCun
    "normal": 0.05,
    "uniform": 0.05 / np.sqrt(3),
    "zeros": 0.0,
}


@pytest.mark.parametrize("name", [n for n in INITIALIZERS if n != "orthogonal"])
def test_std_matches_formula(name):
    W = init_weights(name, N_IN, N_OUT, np.random.default_rng(0), scale=0.05)
    assert W.shape == (N_IN, N_OUT)
    assert W.std() == pytest.approx(EXPECTED_STD[name], rel=0.02, abs=1e-12)


@pytest.mark.parametrize(("n_in", "n_out"), [(50, 30), (30, 50), (40, 40)])
def test_orthogonal_has_orthonormal_rows_or_columns(n_in, n_out):
    W = init_weights("orthogonal", n_in, n_out, np.random.default_rng(0))
    gram = W.T @ W if n_in >= n_out else W @ W.T
    np.testing.assert_allclose(gram, np.eye(min(n_in, n_out)), atol=1e-12)


@pytest.mark.parametrize("sigma_w2", [0.5, 1.7, 4.0])
def test_fan_in_normal_and_orthogonal_take_sigma_w2(sigma_w2):
    W = init_weights("fan_in_normal", N_IN, N_OUT, np.random.default_rng(1), sigma_w2=sigma_w2)
    assert N_IN * W.var() == pytest.approx(sigma_w2, rel=0.02)
    Q = init_weights("orthogonal", N_OUT, N_IN, np.random.default_rng(1), sigma_w2=sigma_w2)
    np.testing.assert_allclose(Q @ Q.T, sigma_w2 * np.eye(N_OUT), atol=1e-12)


def test_sigma_b2_draws_gaussian_hidden_biases_around_bias_init():
    from engine.config import ExperimentConfig, updated
    from engine.session import Session

    base = {"model.depth": 3, "model.width": 512, "model.bias_init": 0.5}
    plain = Session(updated(ExperimentConfig(), **base)).net
    noisy = Session(updated(ExperimentConfig(), **base, **{"model.sigma_b2": 0.36})).net
    np.testing.assert_array_equal(noisy.W(0), plain.W(0))  # drawn before any bias
    for k in range(3):
        assert noisy.b(k).mean() == pytest.approx(0.5, abs=0.1)
        assert noisy.b(k).std() == pytest.approx(0.6, rel=0.1)
        assert np.all(plain.b(k) == 0.5)
    assert np.all(noisy.b(3) == 0.0)  # the output layer's bias stays 0


def test_unknown_initialiser_names_the_field():
    with pytest.raises(ValueError, match="model.init: unknown initialiser 'glorot'"):
        init_weights("glorot", 3, 3, np.random.default_rng(0))
