"""Numba kernels against the NumPy reference functions, and the references against calculus."""

import numpy as np
import pytest

from engine import kernels as K
from engine.activations import ACTIVATIONS, get
from engine.history import Trace

Z = np.linspace(-6, 6, 2401) + 1e-3  # the offset keeps every point off the kinks at 0


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_kernel_matches_reference(name):
    act = ACTIVATIONS[name]
    p = 0.2 if act.param else 0.0
    y, fp = np.empty_like(Z), np.empty_like(Z)
    K.activate(act.code, p, Z, y, fp)
    np.testing.assert_allclose(y, act.f(Z, p), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fp, act.df(Z, p), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_reference_derivative_is_the_derivative(name):
    act = ACTIVATIONS[name]
    p = 0.2 if act.param else 0.0
    h = 1e-6
    numeric = (act.f(Z + h, p) - act.f(Z - h, p)) / (2 * h)
    np.testing.assert_allclose(act.df(Z, p), numeric, rtol=1e-6, atol=1e-8)


def test_extreme_inputs_stay_finite():
    z = np.array([-1e4, -800.0, 800.0, 1e4])
    for act in ACTIVATIONS.values():
        y, fp = np.empty_like(z), np.empty_like(z)
        K.activate(act.code, 1.0, z, y, fp)
        assert np.isfinite(fp).all(), act.name
        if act.name not in ("identity", "relu", "leaky_relu", "prelu", "elu", "selu"):
            assert np.isfinite(y).all(), act.name


def test_max_grad_metadata():
    assert get("sigmoid").max_grad() == pytest.approx(0.25)
    assert get("tanh").max_grad() == pytest.approx(1.0)
    assert get("step").max_grad() == 0.0
    assert get("relu").max_grad() == 1.0
    with pytest.raises(ValueError, match="activation: unknown name 'swoosh'"):
        get("swoosh")


def test_trace_keeps_an_evenly_spaced_bounded_record():
    t = Trace(8, (2,))
    for step in range(1, 101):
        t.append(step, (step, -step))
    steps, rows = t.view()
    assert len(steps) <= 8
    assert steps[0] == 1
    assert len(set(np.diff(steps))) == 1  # evenly spaced
    assert np.array_equal(rows[:, 0], steps)
    assert t.nbytes == 8 * 8 + 8 * 2 * 8
