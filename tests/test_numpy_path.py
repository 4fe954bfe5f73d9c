"""The NumPy backend (engine/numpy_path) against the compiled kernels and the NumPy reference.

Oracles: the kernels themselves (a session on each backend, same config, same steps: every
buffer agrees to rounding), and tests/reference_mlp.py (the plain matrix-algebra MLP).  A
session that switches backend mid-run ends exactly where one that never switched does.
"""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import config, toy_dataset
from reference_mlp import forward_backward

from engine import kernels as K
from engine import numpy_path
from engine.activations import ACTIVATIONS
from engine.session import Session

STEPS = 6
RTOL = 1e-11  # float64: the two paths differ only in the order of their sums


def pair(cfg, data=None, steps: int = STEPS, task: str = "classification"):
    """(compiled, numpy) sessions of ``cfg`` after ``steps`` fused steps each."""
    data = data or toy_dataset(task=task)
    a, b = Session(cfg, data), Session(cfg, data, backend="numpy")
    for s in (a, b):
        for _ in range(steps):
            s.step()
    return a, b


def state(s: Session) -> dict[str, np.ndarray]:
    """Every buffer a step writes, as float64."""
    return {
        "params": s.net.params,
        "grads": s.net.grads,
        "m": s.opt.m,
        "v": s.opt.v,
        "bns": s.net.bns,
        "mtab": s.mtab,
        "out": s.out,
        "history": s.history("grad_norm")[1],
        "scalars": s.scalar_trace.view()[1],
    }


def assert_same(a: Session, b: Session, rtol: float = RTOL) -> None:
    assert a.step_count == b.step_count
    assert (a.divergence is None) == (b.divergence is None)
    for name, x in state(a).items():
        y = state(b)[name]
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        # absolute floor: a few ulp of the buffer's largest entry (values that cancel to ~0)
        scale = np.nanmax(np.abs(x), initial=0.0) if np.isfinite(x).any() else 0.0
        np.testing.assert_allclose(y, x, rtol=rtol, atol=1e-13 * scale, err_msg=name)


@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_every_activation_trains_alike_on_both_backends(act):
    assert_same(*pair(config(**{"model.activation": act, "training.optimizer": "momentum"})))


@pytest.mark.parametrize("loss", ["softmax_ce", "sigmoid_bce", "mse"])
def test_every_loss_trains_alike(loss):
    task = "regression" if loss == "mse" else "classification"
    assert_same(*pair(config(**{"model.loss": loss, "model.activation": "tanh"}), task=task))


@pytest.mark.parametrize("opt", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_every_optimiser_trains_alike(opt):
    cfg = config(**{"training.optimizer": opt, "training.learning_rate": 0.01})
    assert_same(*pair(cfg))


@pytest.mark.parametrize(
    "changes",
    [
        {"model.batch_norm": "pre", "model.activation": "relu"},
        {"model.batch_norm": "post", "model.activation": "elu"},
        {"model.residual": True, "model.activation": "gelu"},
        {"model.dropout": 0.3, "model.activation": "selu"},
        {"training.clip_norm": 0.05, "training.clip_value": 0.01},
        {"training.weight_decay": 0.01, "training.optimizer": "adam"},
        {"model.activation": "prelu", "model.batch_norm": "pre", "model.dropout": 0.2},
        {"model.init": "normal", "model.init_scale": 1e-9, "model.activation": "tanh"},
    ],
    ids=lambda c: ",".join(f"{k.split('.')[-1]}={v}" for k, v in c.items()),
)
def test_features_train_alike(changes):
    """Batch norm, residual, dropout, clipping, weight decay, PReLU, tiny init."""
    cfg = config(**{"training.batch_size": 25, **changes})  # 96 rows: a short last batch
    assert_same(*pair(cfg, steps=8))


def test_float32_trains_alike_to_float32_rounding():
    a, b = pair(config(**{"model.dtype": "float32", "model.activation": "tanh"}))
    assert b.net.params.dtype == np.float32
    assert_same(a, b, rtol=2e-4)


def test_the_step_through_computes_the_same_phases():
    cfg = config(**{"model.batch_norm": "post", "model.residual": True, "model.width": 4})
    data = toy_dataset(n_features=4)
    a, b = Session(cfg, data), Session(cfg, data, backend="numpy")
    for _ in range(2 * (2 * a.depth + 4)):
        ra, rb = a.step_phase(), b.step_phase()
        assert (ra.phase, ra.layer) == (rb.phase, rb.layer)
        for name, x in ra.arrays.items():
            np.testing.assert_allclose(rb.arrays[name], x, rtol=RTOL, atol=1e-15, err_msg=name)
    assert_same(a, b)


def test_evaluation_and_prediction_agree():
    a, b = pair(config(**{"model.batch_norm": "pre"}))
    np.testing.assert_allclose(b.evaluate("test"), a.evaluate("test"), rtol=RTOL)
    X = toy_dataset().X_test
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=RTOL)


def test_divergence_is_caught_at_the_same_place():
    for lr in (1e3, 1e8):  # overflows in a forward pass, in the loss
        cfg = config(
            **{"training.learning_rate": lr, "model.activation": "identity", "model.loss": "mse"}
        )
        a, b = pair(cfg, steps=10, task="regression")
        assert a.divergence is not None
        assert b.divergence == a.divergence


def test_switching_backend_mid_step_continues_the_same_run():
    """numpy for 3 steps and half a step-through, then the kernels: the same run as one
    that ran on the kernels throughout (parameters, moments, RNGs, step count, history)."""
    cfg = config(**{"training.optimizer": "adam", "model.dropout": 0.1, "training.batch_size": 25})
    data = toy_dataset()
    ref, s = Session(cfg, data), Session(cfg, data, backend="numpy")
    for x in (ref, s):
        for _ in range(3):
            x.step()
        for _ in range(5):
            x.step_phase()
    s.use_backend("numba")
    assert s.backend == "numba"
    assert s.snapshot().backend == "numba"
    for x in (ref, s):
        x.run(20)  # finishes the step-through, then compiled chunks
    assert s.step_count == ref.step_count == 23  # the half-done step counts as one of 20
    assert_same(ref, s)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend: expected one of numba, numpy"):
        Session(config(), toy_dataset(), backend="cuda")


def test_gradients_match_the_reference_mlp():
    """Fresh weights, one batch: the NumPy path's dL/dW and dL/db against reference_mlp."""
    cfg = config(**{"model.activation": "tanh", "training.learning_rate": 1e-300})
    s = Session(cfg, toy_dataset(), backend="numpy")
    Ws = [s.net.W(k).copy() for k in range(s.depth + 1)]
    bs = [s.net.b(k).copy() for k in range(s.depth + 1)]
    s.step()
    X, T = s._batch_x, s.T[s._order[: len(s._batch_x)]]
    loss, dWs, dbs, _ = forward_backward(Ws, bs, X, T, act="tanh")
    assert s.loss == pytest.approx(loss, rel=1e-13)
    for k in range(s.depth + 1):
        np.testing.assert_allclose(s.net.dW(k), dWs[k], rtol=1e-11, atol=1e-17)
        np.testing.assert_allclose(s.net.db(k), dbs[k], rtol=1e-11, atol=1e-17)


@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_activation_values_and_slopes_match_the_kernels_near_zero_and_in_the_tails(act):
    a = ACTIVATIONS[act]
    mags = np.concatenate([[0.0], np.logspace(-300, -1, 40), np.linspace(0.1, 30, 60)])
    z = np.concatenate([-mags[::-1], mags])
    p = 0.2 if a.param else 0.0
    out = {}
    for name, backend in (("numba", K), ("numpy", numpy_path)):
        y, fp = np.empty_like(z), np.empty_like(z)
        backend.activate(a.code, p, z, y, fp)
        out[name] = y, fp
    # GELU's tails (f ~ 1e-140 at z = -25) magnify the rounding of z^2 / 2: ~1e-13 apart;
    # the kernels' exp flushes subnormal results to 0, NumPy's keeps them
    for got, want in zip(out["numpy"], out["numba"], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
