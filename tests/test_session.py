"""Session behaviour: fused step == step-through, determinism, divergence, bounded history."""

import math
import tracemalloc

import numpy as np
import pytest
from engine_helpers import config, toy_dataset
from reference_mlp import sgd_steps

from engine.session import LAYER_METRICS, Session


def _session(**changes):
    return Session(config(**changes), toy_dataset())


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"model.batch_norm": "pre", "training.optimizer": "adam"},
        {"model.activation": "prelu", "model.dropout": 0.2, "training.optimizer": "nesterov"},
        {"model.residual": True, "training.clip_norm": 0.1, "model.batch_norm": "post"},
    ],
)
def test_stepper_matches_fused_step_at_every_phase(changes):
    fused, manual = _session(**changes), _session(**changes)
    for _ in range(3):
        fused.step()
        results = []
        while True:
            results.append(manual.step_phase())
            if manual.next_phase() == ("forward", 0):
                break
        ws = fused._workspaces[16]  # the fused step's intermediates for the same batch
        for r in results:
            if r.phase == "forward":
                np.testing.assert_allclose(r.arrays["z"], ws.get("z", r.layer), rtol=0, atol=1e-12)
            if r.phase == "backward":
                np.testing.assert_allclose(r.arrays["delta"], ws.get("delta", r.layer), atol=1e-12)
        assert [r.phase for r in results][:1] == ["forward"]
        assert results[-1].phase == "update"
    np.testing.assert_allclose(manual.net.params, fused.net.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(manual.mtab, fused.mtab, rtol=0, atol=1e-12)
    assert manual.step_count == fused.step_count == 3


def test_phase_results_expose_the_chain_rule_factors():
    s = _session()
    results = [s.step_phase() for _ in range(2 * (s.depth + 1) + 2)]
    back = [r for r in results if r.phase == "backward" and r.layer == 1][0]
    assert {"incoming", "fprime", "delta", "dW", "db"} <= set(back.arrays)
    # delta_k = (dL/da_k) * f'(z_k): recompute it from the exposed factors
    np.testing.assert_allclose(
        back.arrays["incoming"] * back.arrays["fprime"], back.arrays["delta"], atol=1e-15
    )
    assert back.norms["dW"] == pytest.approx(np.linalg.norm(back.arrays["dW"]))
    assert results[-1].phase == "update"
    assert s.step_count == 1


def test_engine_matches_numpy_reference_over_sgd_steps():
    """Three SGD steps of the engine equal three steps of a plain-NumPy MLP."""
    s = _session(**{"training.learning_rate": 0.5})
    ks = range(s.depth + 1)
    Ws0, bs0 = [s.net.W(k).copy() for k in ks], [s.net.b(k).copy() for k in ks]
    batches = []
    for _ in range(3):
        X, T, _ws = s._next_batch()
        s.step_count += 1  # advance the batch order without training
        batches.append((X.copy(), T.copy()))
    fresh = _session(**{"training.learning_rate": 0.5})
    fresh.run(3)
    Ws, bs = sgd_steps(Ws0, bs0, batches, lr=0.5)
    for k in ks:
        np.testing.assert_allclose(fresh.net.W(k), Ws[k], rtol=0, atol=1e-12)
        np.testing.assert_allclose(fresh.net.b(k), bs[k], rtol=0, atol=1e-12)


def test_same_config_and_seed_is_bit_identical():
    a, b = _session(**{"model.dropout": 0.1}), _session(**{"model.dropout": 0.1})
    a.run(40)
    b.run(40)
    assert np.array_equal(a.trace.view()[1], b.trace.view()[1], equal_nan=True)
    assert np.array_equal(a.net.params, b.net.params)
    c = _session(**{"model.dropout": 0.1, "training.seed": 1})
    c.run(40)
    assert not np.array_equal(a.net.params[: c.net.params.size], c.net.params)


def test_forward_overflow_names_the_layer():
    s = _session(**{"model.activation": "relu"})
    s.net.W(2)[:] = 1e308  # layer 2's product overflows; layers 0 and 1 stay finite
    assert not s.step()
    d = s.divergence
    assert (d.phase, d.layer, d.quantity) == ("forward", 2, "pre-activation z")
    assert d.step == 1
    assert "hidden 3" in d.message
    assert "NaN/Inf" in d.message
    assert not s.step()
    assert s.step_count == 1


def test_huge_init_and_learning_rate_stop_with_the_first_bad_layer():
    s = _session(
        **{
            "model.init": "normal",
            "model.init_scale": 30.0,
            "model.activation": "leaky_relu",
            "training.learning_rate": 1e6,
        }
    )
    s.run(500)
    d = s.divergence
    assert d is not None
    if d.phase == "update":  # the named layer is the first whose weights became non-finite
        finite = [bool(np.isfinite(s.net.W(k)).all()) for k in range(s.depth + 1)]
        assert not finite[d.layer]
        assert all(finite[: d.layer])
    elif d.phase == "forward":
        ws = s._workspaces[16]
        assert (
            not np.isfinite(ws.get("z", d.layer)).all()
            or not np.isfinite(ws.get("a", d.layer)).all()
        )
        assert all(np.isfinite(ws.get("a", k)).all() for k in range(d.layer))
    else:
        pytest.fail(f"unexpected divergence phase: {d.message}")


def test_history_memory_is_bounded_over_100k_steps():
    s = Session(
        config(
            **{"model.depth": 1, "model.width": 2, "logging.history": 256, "training.batch_size": 4}
        ),
        toy_dataset(n=20),
    )
    s.run(1000)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    assert s.run(100_000) == 100_000
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(st.size_diff for st in after.compare_to(before, "filename"))
    assert growth < 256 * 1024, growth
    steps, rows = s.trace.view()
    assert len(steps) <= 256
    assert steps[-1] > 90_000
    assert np.all(np.diff(steps) > 0)


def test_learning_rate_applies_mid_run_and_rejects_bad_values():
    s = _session()
    s.run(2)
    s.learning_rate = 0.01
    s.run(1)
    assert s.snapshot().history_scalars[-1, 3] == 0.01
    with pytest.raises(ValueError, match="training.learning_rate"):
        s.learning_rate = -1.0


def test_snapshot_is_immutable_and_complete():
    s = _session(**{"training.eval_every": 5})
    s.run(10)
    snap = s.snapshot()
    assert set(snap.layers) == set(LAYER_METRICS)
    assert snap.layers["grad_norm"].shape == (s.depth + 1,)
    with pytest.raises(ValueError, match="read-only"):
        snap.layers["grad_norm"][0] = 1.0
    assert snap.history_grad_norm.shape == (10, s.depth + 1)
    assert list(snap.eval_steps) == [5, 10]
    assert 0 <= snap.test_accuracy <= 1
    with pytest.raises(AttributeError):
        snap.step = 3


def test_float32_tracks_float64():
    a, b = _session(), _session(**{"model.dtype": "float32"})
    a.run(20)
    b.run(20)
    assert b.net.params.dtype == np.float32
    np.testing.assert_allclose(b.net.params, a.net.params, rtol=1e-3, atol=1e-4)


def test_eval_mode_is_deterministic_and_uses_running_stats():
    s = _session(**{"model.batch_norm": "pre", "model.dropout": 0.5, "training.eval_every": 0})
    s.run(30)
    assert s.evaluate() == s.evaluate()
    probs = s.predict(s.dataset.X_test)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_regression_has_no_accuracy():
    s = Session(config(**{"model.loss": "mse"}), toy_dataset(task="regression"))
    s.run(5)
    assert math.isnan(s.accuracy)
    assert math.isfinite(s.loss)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"model.width": 0}, "model.width"),
        ({"model.activation": "relu6"}, "model.activation"),
        ({"training.learning_rate": -0.1}, "training.learning_rate"),
        ({"model.hidden": ({"width": 4}, {"width": 5})}, "model.hidden[1].width"),
    ],
)
def test_invalid_arguments_name_the_field(changes, field):
    from engine.config import LayerConfig

    if "model.hidden" in changes:
        changes = {
            "model.hidden": tuple(LayerConfig(**h) for h in changes["model.hidden"]),
            "model.residual": True,
        }
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        _session(**changes)


def test_build_network_rejects_mismatched_residual_widths_directly():
    from engine.config import LayerConfig, ModelConfig
    from engine.network import build_network

    m = ModelConfig(hidden=(LayerConfig(8), LayerConfig(4)), residual=True)
    with pytest.raises(ValueError, match=r"model.hidden\[1\].width"):
        build_network(m, 3, 2, seed=0)
    with pytest.raises(ValueError, match="activation"):
        build_network(ModelConfig(activation="nope"), 3, 2, seed=0)


def test_warm_up_says_nothing_when_the_kernels_are_loaded():
    """The "compiling kernels" notice is for a cold cache only (conftest compiled them)."""
    from engine.config import ExperimentConfig
    from engine.datasets import load_dataset
    from engine.session import warm_up

    cfg = ExperimentConfig()
    said = []
    assert warm_up(cfg, load_dataset(cfg.data, cfg.model.dtype), said.append) == 0.0
    assert said == []
