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


def test_unknown_initialiser_names_the_field():
    with pytest.raises(ValueError, match="model.init: unknown initialiser 'glorot'"):
        init_weights("glorot", 3, 3, np.random.default_rng(0))
