"""float32 nets compute sigmoid and tanh in float32: fast, and still right to a few ulp."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import toy_dataset

from engine.activations import get as get_activation
from engine.config import ExperimentConfig, updated
from engine.kernels.activation import apply_activation
from engine.session import Session

#: float32 ulp the float32 forms may be off the float64 ones (rounded): measured <= 6
MAX_ULP = 8


def _inputs() -> np.ndarray:
    """Normal values, the tails down to underflow, and +-[1e-45, 1] (subnormals included)."""
    rng = np.random.default_rng(0)
    tiny = np.geomspace(1e-45, 1.0, 4000)
    z = np.concatenate(
        [rng.normal(0.0, 3.0, 20000), rng.uniform(-120.0, 120.0, 20000), tiny, -tiny, [0.0, -0.0]]
    )
    return z.astype(np.float32)


def _ulp_error(got: np.ndarray, ref: np.ndarray) -> float:
    """Largest |got - ref| in float32 ulp of ref (the smallest subnormal near 0)."""
    spacing = np.maximum(np.spacing(np.abs(ref.astype(np.float32))), np.float32(2.0**-149))
    return float(np.max(np.abs(got.astype(np.float64) - ref) / spacing))


def _activate(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, fp = np.empty_like(z), np.empty_like(z)
    apply_activation(get_activation(name).code, 0.0, z, y, fp)
    return y, fp


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_float32_activation_is_within_a_few_ulp_of_float64(name):
    z = _inputs()
    y, fp = _activate(name, z)
    y64, fp64 = _activate(name, z.astype(np.float64))
    assert y.dtype == fp.dtype == np.float32
    assert _ulp_error(y, y64) <= MAX_ULP
    assert _ulp_error(fp, fp64) <= MAX_ULP


def test_float32_tanh_is_exact_near_zero():
    z = np.geomspace(1e-38, 1e-4, 200).astype(np.float32)
    y, fp = _activate("tanh", z)
    np.testing.assert_allclose(y, z, rtol=2e-7)  # tanh z = z (1 - z^2/3 ...)
    np.testing.assert_allclose(fp, 1.0, rtol=2.5e-7)  # 1 - z^2, a float32 ulp or two
    y, _ = _activate("tanh", -z)
    np.testing.assert_allclose(y, -z, rtol=2e-7)


def test_float32_sigmoid_gradient_keeps_the_far_tail():
    # sigma'(-90) = e^-90 ~ 8e-40 is a float32 subnormal: it must not flush to 0
    z = np.array([-90.0, -100.0, 90.0], dtype=np.float32)
    _, fp = _activate("sigmoid", z)
    _, fp64 = _activate("sigmoid", z.astype(np.float64))
    assert fp[0] > 0.0
    assert fp[2] > 0.0
    assert _ulp_error(fp, fp64) <= MAX_ULP


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_float32_session_tracks_float64_and_keeps_float32_arrays(activation):
    def session(dtype):
        cfg = updated(
            ExperimentConfig(),
            **{
                "model.depth": 4,
                "model.width": 16,
                "model.activation": activation,
                "model.dtype": dtype,
                "training.batch_size": 16,
                "training.eval_every": 0,
            },
        )
        return Session(cfg, toy_dataset())

    a, b = session("float64"), session("float32")
    a.run(20)
    b.run(20)
    net = b.net
    arrays = (net.params, net.grads, net.bns, b.opt.m, b.opt.v, b.X)
    assert {x.dtype for x in arrays} == {np.dtype(np.float32)}  # no float64 copies
    assert all(ws.ws.dtype == np.float32 for ws in b._workspaces.values())
    np.testing.assert_allclose(b.net.params, a.net.params, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(b.mtab, a.mtab, rtol=2e-2, atol=1e-6)
