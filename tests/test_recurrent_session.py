"""RecurrentSession: the Steppable protocol, the step-through, snapshots, divergence, tasks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.config import ConfigError, ExperimentConfig, updated, validate
from engine.recurrent import (
    ADDING_BASELINE_MSE,
    RecurrentDivergence,
    RecurrentSession,
    RecurrentSnapshot,
    load_task,
)
from engine.recurrent.passes import phases
from engine.steppable import Steppable


def config(cell="rnn", **more):
    base = {
        "recurrent.cell": cell,
        "recurrent.seq_len": 12,
        "model.loss": "mse",
        "model.width": 8,
        "model.depth": 1,
        "data.n_samples": 96,
        "training.batch_size": 16,
        "training.optimizer": "adam",
        "training.learning_rate": 0.01,
    }
    return updated(ExperimentConfig(name=cell), **{**base, **more})


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_session_is_a_steppable_and_its_snapshot_holds_the_time_curves(cell):
    s = RecurrentSession(config(cell, **{"model.depth": 2}))
    assert isinstance(s, Steppable)
    assert s.run(5) == 5
    assert s.step_count == 5
    assert s.steps_per_epoch == math.ceil(77 / 16)
    snap = s.snapshot()
    assert isinstance(snap, RecurrentSnapshot)
    assert snap.grad_h.shape == snap.gate_mean.shape == (2, 12)
    assert np.isfinite(snap.grad_h).all()
    assert (snap.grad_h > 0).all()
    assert not snap.grad_h.flags.writeable
    assert snap.history_grad_h.shape == (5, 12)
    np.testing.assert_array_equal(snap.history_grad_h[-1], snap.grad_h[-1])
    assert snap.history_scalars.shape == (5, 4)
    assert snap.grad_norm.shape == snap.weight_norm.shape == (3,)
    assert snap.layer_labels == ("layer 1", "layer 2", "read-out")
    if cell != "rnn":  # gates are sigmoids: strictly inside (0, 1)
        assert ((snap.gate_mean > 0) & (snap.gate_mean < 1)).all()
    assert cell in repr(s)
    assert "T=12" in repr(snap)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_through_is_bit_identical_to_the_fused_step(cell):
    fused = RecurrentSession(config(cell, **{"model.depth": 2}))
    manual = RecurrentSession(config(cell, **{"model.depth": 2}))
    fused.run(3)
    manual.run(2)
    plan = phases(2, 12)
    assert len(plan) == 2 + 1 + 2 * 12 + 1
    seen = []
    for _ in plan:
        seen.append(manual.next_phase())
        result = manual.step_phase()
        assert result is not None
    assert manual.step_count == 3
    assert seen[0] == ("forward", 0)
    assert seen[2] == ("loss", 2)
    assert seen[3] == ("backward", 1)
    np.testing.assert_array_equal(manual.net.params, fused.net.params)
    np.testing.assert_array_equal(manual.snapshot().grad_h, fused.snapshot().grad_h)
    assert manual.loss == fused.loss


def test_backward_phases_go_back_one_time_step_with_the_rnn_factor():
    s = RecurrentSession(config("rnn"))
    for _ in range(2):  # forward, loss
        s.step_phase()
    snap = s.snapshot()
    assert np.isnan(snap.grad_h).all()  # nothing computed yet this step
    r = s.step_phase()
    assert (r.phase, r.layer, r.time) == ("backward", 0, 11)
    assert r.text == "backward layer 1 t=12 (3/15)"
    r = s.step_phase()
    assert r.time == 10
    snap = s.snapshot()
    assert np.isnan(snap.grad_h[0, :10]).all()
    assert np.isfinite(snap.grad_h[0, 10:]).all()
    assert snap.phase == "backward"
    assert snap.next_phase == "backward layer 1 t=10"
    # the factor diag(mean f'(z_t)) W_hh^T and its norms, from the session's own arrays
    fp = s._bufs.layers[0]["D"][10].mean(axis=0)
    M = fp[:, None] * s.net.Wh(0).T
    np.testing.assert_allclose(r.arrays["factor"], M)
    assert r.norms["factor_spectral"] == pytest.approx(np.linalg.norm(M, 2))
    assert r.norms["factor_fro"] == pytest.approx(np.linalg.norm(M))
    # the measured gain: ||dL/dh_{t-1}|| / ||dL/dh_t|| carried back by this step
    assert r.norms["gain"] == pytest.approx(r.norms["dh_prev_norm"] / r.norms["dh_norm"])
    np.testing.assert_allclose(
        r.arrays["dL/dh_t-1"], (r.arrays["dL/dh_t"] * s._bufs.layers[0]["D"][10]) @ s.net.Wh(0).T
    )


@pytest.mark.parametrize(("cell", "gate"), [("lstm", "forget_gate"), ("gru", "update_gate")])
def test_gated_cells_show_their_carrier_gate_in_the_step_through(cell, gate):
    s = RecurrentSession(config(cell))
    for _ in range(3):
        r = s.step_phase()
    assert r.phase == "backward"
    g = r.arrays[gate]
    assert g.shape == (16, 8)
    assert r.norms[f"{gate}_mean"] == pytest.approx(g.mean())
    assert s.snapshot().gate_mean[0, -1] == pytest.approx(g.mean())


def test_divergence_names_step_layer_time_step_and_quantity():
    s = RecurrentSession(
        config(
            "rnn",
            **{
                "recurrent.rnn_activation": "relu",
                "model.init": "normal",
                "model.init_scale": 3.0,
                "recurrent.seq_len": 600,
                "model.width": 32,
            },
        )
    )
    assert s.run(10) < 10
    d = s.divergence
    assert isinstance(d, RecurrentDivergence)
    # relu h_t grows ~10x per step: it overflows in the forward pass, long before t = 600
    assert (d.phase, d.layer, d.step) == ("forward", 0, 1)
    assert 100 < d.time < 600
    assert d.quantity in ("hidden state h_t", "pre-activation z_t")
    assert f"at time step {d.time + 1}" in d.message
    assert "layer 1" in d.message
    assert s.divergences == {"rnn": d}
    assert not s.step()
    assert s.diverged


def test_adding_problem_data_and_its_baseline():
    data = load_task(config(**{"data.n_samples": 4000, "recurrent.seq_len": 30}))
    X, y = data.X_train, data.y_train
    assert X.shape == (3200, 30, 2)
    assert y.shape == (3200, 1)
    assert (X[:, :, 1].sum(axis=1) == 2).all()  # two markers
    assert (X[:, :15, 1].sum(axis=1) == 1).all()  # one in each half
    np.testing.assert_allclose(y[:, 0], (X[:, :, 0] * X[:, :, 1]).sum(axis=1))
    # answering the mean sum 1.0 scores the baseline MSE Var(u1 + u2) = 1/6
    assert np.mean((y - 1.0) ** 2) == pytest.approx(ADDING_BASELINE_MSE, rel=0.05)


def test_memory_task_data():
    cfg = config(
        **{"recurrent.task": "memory", "model.loss": "softmax_ce", "recurrent.n_symbols": 5}
    )
    data = load_task(cfg)
    X, y = data.X_train, data.y_train
    assert X.shape[2] == 6
    assert data.n_classes == 5
    np.testing.assert_array_equal(X[:, 0, :5].argmax(axis=1), y)
    assert (X[:, -1, 5] == 1).all()
    assert (X[:, :-1, 5] == 0).all()
    assert (X[:, :-1].sum(axis=2) == 1).all()
    again = load_task(cfg)
    np.testing.assert_array_equal(again.X_test, data.X_test)


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError) as info:
        validate(
            config(
                "lstm",
                **{"model.loss": "softmax_ce", "model.batch_norm": "pre", "recurrent.seq_len": 1},
            )
        )
    assert info.value.errors == [
        "recurrent.seq_len: must be in [2, 5000], got 1",
        "model.batch_norm: not available with recurrent.cell = 'lstm'; expected 'none'",
        'model.loss: recurrent.task = "adding" is a regression task and needs "mse", '
        "got 'softmax_ce'",
    ]
    with pytest.raises(ConfigError, match="recurrent.cell: expected"):
        RecurrentSession(config("none"))


def test_learning_rate_is_live_and_evaluation_leaves_the_training_state():
    s = RecurrentSession(config("gru", **{"training.eval_every": 0}))
    s.run(3)
    s.learning_rate = 0.5
    assert s.opt.learning_rate == 0.5
    before = s.snapshot()
    loss, acc = s.evaluate()
    assert math.isfinite(loss)
    assert 0 <= acc <= 1
    after = s.snapshot()
    np.testing.assert_array_equal(after.gate_mean, before.gate_mean)
    assert after.test_loss == loss
    assert after.eval_steps.tolist() == [3]


def test_divergence_quantities_read_as_words():
    from engine.recurrent.snapshot import quantity_name

    lstm = ("input gate i", "forget gate f", "candidate g", "output gate o")
    assert quantity_name("forward", 1, lstm) == "pre-activation of the forget gate f"
    assert quantity_name("backward", 3, lstm) == "gradient of the output gate o"
    assert quantity_name("forward", -2, lstm) == "cell state c_t"
    assert quantity_name("backward", -1, ("z",)) == "gradient dL/dh_t"
    assert quantity_name("backward", 0, ("z",)) == "delta dL/dz_t"
    d = RecurrentDivergence(7, "forward", 0, "pre-activation of the forget gate f", 2, time=40)
    assert d.message == (
        "diverged at step 7: pre-activation of the forget gate f of layer 1 at time step 41 "
        "became NaN/Inf during the forward phase"
    )


@pytest.mark.parametrize(
    ("task", "loss"), [("memory", "mse"), ("memory", "softmax_ce"), ("adding", "mse")]
)
def test_correct_answers_are_argmax_hits_or_within_the_adding_tolerance(task, loss):
    s = RecurrentSession(config(**{"recurrent.task": task, "model.loss": loss}))
    s.step_phase()  # forward
    s.step_phase()  # loss
    P, Tgt = s._bufs.P, s._pending[3]
    if task == "memory":
        hits = np.sum(P.argmax(axis=1) == Tgt.argmax(axis=1))
    else:
        hits = np.sum(np.abs(P - Tgt)[:, 0] < 0.04)
    assert s.passes.out[1] == hits
