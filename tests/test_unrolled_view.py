"""The recurrent panels' Qt-free model: the unrolled view and the step inspector's text.

Real RecurrentSessions (RNN, LSTM, GRU in lock-step) are stepped into the backward pass; the
view is checked against their snapshots, the inspector's numbers against the phase's norms,
and the RNN's spectral norm against a factor rebuilt from the plain-NumPy reference forward.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import reference_rnn as ref

from engine.config import ExperimentConfig, updated
from engine.recurrent import RecurrentDivergence, RecurrentSession
from gui.inspector_model import format_value
from gui.unrolled_view import (
    NON_FINITE,
    NOT_COMPUTED,
    NOT_COMPUTED_TEXT,
    VALUE,
    step_explanation,
    unrolled_view,
)

NAMES = {"rnn": "RNN (tanh)", "lstm": "LSTM", "gru": "GRU"}
T = 10


def session(cell: str, depth: int = 1, seq_len: int = T, act: str = "tanh") -> RecurrentSession:
    config = updated(
        ExperimentConfig(name=cell),
        **{
            "recurrent.cell": cell,
            "recurrent.rnn_activation": act,
            "recurrent.seq_len": seq_len,
            "model.width": 8,
            "model.depth": depth,
            "model.loss": "mse",
            "data.n_samples": 64,
            "training.batch_size": 16,
        },
    )
    return RecurrentSession(config)


def lock_step(depth: int = 1, seq_len: int = T) -> dict[str, RecurrentSession]:
    return {NAMES[c]: session(c, depth, seq_len) for c in ("rnn", "lstm", "gru")}


def phase_all(sessions: dict[str, RecurrentSession]) -> dict:
    """One step-through phase of every session (as the lock-step window does)."""
    return {name: s.step_phase() for name, s in sessions.items()}


def snapshots(sessions: dict[str, RecurrentSession]) -> dict:
    return {name: s.snapshot() for name, s in sessions.items()}


def test_before_the_first_step_every_box_is_not_computed_and_the_scale_is_finite():
    view = unrolled_view(snapshots(lock_step()), None)
    assert view.rows == ("RNN (tanh)", "LSTM", "GRU")
    assert view.grad_h.shape == view.gate.shape == (3, T)
    assert np.isnan(view.grad_h).all()
    assert {view.state(r, t) for r in range(3) for t in range(T)} == {NOT_COMPUTED}
    lo, hi = view.levels
    assert math.isfinite(lo)
    assert math.isfinite(hi)
    assert lo < hi
    assert (view.time, view.direction, view.phase) == (-1, "idle", "")
    assert NOT_COMPUTED_TEXT in view.caption
    tip = view.tooltip(0, 3)
    assert "t = 4" in tip
    assert NOT_COMPUTED_TEXT in tip
    assert "nan" not in tip.lower()
    assert view.carriers == ("mean f'(z_t)", "mean forget gate f_t", "mean update gate z_t")
    assert view.strip_name(1) == "forget gate f_t"


def test_the_backward_pass_fills_grad_h_from_the_last_step_back():
    sessions = lock_step()
    for s in sessions.values():
        s.run(2)
    phases = phase_all(sessions)  # forward layer 1
    view = unrolled_view(snapshots(sessions), phases["LSTM"])
    assert (view.direction, view.phase, view.time) == ("forward", "forward", -1)
    assert np.isnan(view.grad_h).all()  # the step-through forgot the last step's gradients
    assert np.isfinite(view.gate).all()  # ... the forward pass has computed the gates
    phases = phase_all(sessions)  # loss
    assert unrolled_view(snapshots(sessions), phases["GRU"]).direction == "forward"
    for k in range(4):
        phases = phase_all(sessions)
        snaps = snapshots(sessions)
        view = unrolled_view(snaps, phases["RNN (tanh)"])
        t = T - 1 - k
        assert (view.direction, view.phase, view.time) == ("backward", "backward", t)
        assert view.caption.startswith("\u2190 backward")
        assert f"t={t + 1}" in view.caption
        for r, (name, snap) in enumerate(snaps.items()):
            np.testing.assert_array_equal(view.grad_h[r], snap.grad_h[-1])
            np.testing.assert_array_equal(view.gate[r], snap.gate_mean[-1])
            assert np.isnan(view.grad_h[r, :t]).all()
            assert np.isfinite(view.grad_h[r, t:]).all()
            # the box just computed holds that phase's ||dL/dh_t|| = the norm of its array (the
            # kernel's own sum, so equal up to rounding)
            p = phases[name]
            assert view.grad_h[r, t] == pytest.approx(p.norms["dh_norm"], rel=1e-12)
            assert view.grad_h[r, t] == pytest.approx(np.linalg.norm(p.arrays["dL/dh_t"]))
            assert view.state(r, t) == VALUE
            assert view.state(r, 0) == NOT_COMPUTED
        finite = view.grad_h[np.isfinite(view.grad_h)]
        lo, hi = view.levels
        assert hi - 1 < np.log10(finite.max()) <= hi  # the top decade holds the largest
        assert lo < hi
        tip = view.tooltip(1, t)
        assert format_value(float(view.grad_h[1, t]), "e") in tip
        assert format_value(float(view.gate[1, t]), "f") in tip


def test_the_colour_scale_ignores_zeros_nan_and_inf():
    snap = session("rnn").snapshot()
    g = np.array([[np.nan, 0.0, 1e-3, 2e-2, np.inf, 0.5, np.nan, 1e-4, 3e-3, 0.1]])
    view = unrolled_view({"a": dataclasses.replace(snap, grad_h=g)}, None)
    lo, hi = view.levels
    assert hi == 0.0
    assert lo <= -4.0
    assert view.below_scale  # the zero is drawn in the lowest colour
    assert view.state(0, 4) == NON_FINITE  # an overflow, not "not computed"
    assert view.state(0, 0) == NOT_COMPUTED
    zeros = unrolled_view({"a": dataclasses.replace(snap, grad_h=np.zeros((1, T)))}, None)
    assert all(math.isfinite(v) for v in zeros.levels)
    assert zeros.below_scale
    assert zeros.caption  # no error, a caption


def test_a_diverged_row_says_so_and_its_nan_boxes_are_not_called_not_computed():
    snaps = snapshots(lock_step())
    d = RecurrentDivergence(3, "forward", 0, "hidden state h_t", 1, time=41)
    snaps["LSTM"] = dataclasses.replace(snaps["LSTM"], divergence=d)
    view = unrolled_view(snaps, None)
    assert view.diverged == (False, True, False)
    assert view.messages[1] == d.message
    assert view.messages[0] == ""
    assert view.state(1, 0) == NON_FINITE
    assert view.state(0, 0) == NOT_COMPUTED
    assert d.message in view.tooltip(1, 0)


def test_a_stacked_net_shows_the_chosen_layer_and_marks_t_only_in_that_layer():
    sessions = lock_step(depth=2)
    for _ in range(2 + 1 + 3):  # forward x2, loss, three backward steps of the top layer
        phases = phase_all(sessions)
    snaps = snapshots(sessions)
    top = unrolled_view(snaps, phases["GRU"])
    bottom = unrolled_view(snaps, phases["GRU"], layer=0)
    assert top.time == T - 3
    assert top.readout
    assert top.layer_label == "layer 2"
    assert bottom.time == -1
    assert not bottom.readout
    assert bottom.layer_label == "layer 1"
    for r, snap in enumerate(snaps.values()):
        np.testing.assert_array_equal(bottom.grad_h[r], snap.grad_h[0])
        np.testing.assert_array_equal(top.grad_h[r], snap.grad_h[1])


def backward_phase(cell: str, steps_back: int = 3, act: str = "tanh"):
    """A session in its step-through, ``steps_back`` backward steps done, and the phase."""
    s = session(cell, act=act)
    s.run(2)
    for _ in range(2 + steps_back):
        phase = s.step_phase()
    assert phase.phase == "backward"
    return s, phase


def reference_forward(s: RecurrentSession):
    """The step-through batch run through the plain-NumPy reference: (hs, cache)."""
    X = s._pending[2].transpose(1, 0, 2)  # the batch being stepped through, (B, T, d)
    net = s.net
    W = {"Wx": net.Wx(0), "Wh": net.Wh(0), "b": net.b(0)}
    return ref._layer_forward(net.cell, net.activation, net.act_param, W, X)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


#: the RNN's activation and its slope in closed form (sigmoid' <= 1/4: a factor below 1)
SLOPES = {
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "sigmoid": lambda z: _sigmoid(z) * (1.0 - _sigmoid(z)),
}


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_the_rnn_explanation_shows_the_phase_norms_and_an_independent_spectral_norm(act):
    s, phase = backward_phase("rnn", act=act)
    e = step_explanation(phase, f"RNN ({act})", s.snapshot())
    values = {r.key: r.value for r in e.rows}
    for key in ("dh_norm", "dh_prev_norm", "gain", "factor_spectral", "factor_fro"):
        assert values[key] == phase.norms[key]
        assert e.values()[key] == format_value(phase.norms[key], "e" if "dh" in key else "f")
    # the factor rebuilt from the reference forward: f'(z_t) in closed form, batch mean
    _, cache = reference_forward(s)
    fp = SLOPES[act](cache[phase.time]["z"]).mean(axis=0)
    M = np.diag(fp) @ s.net.Wh(0).T
    assert values["factor_spectral"] == pytest.approx(np.linalg.norm(M, 2), rel=1e-10)
    assert values["factor_fro"] == pytest.approx(np.linalg.norm(M), rel=1e-10)
    assert values["fprime_mean"] == pytest.approx(fp.mean(), rel=1e-10)
    assert e.chart == "matrix"
    np.testing.assert_allclose(e.chart_data, M, rtol=1e-10)
    sigma = values["factor_spectral"]
    assert (sigma < 1) == (act == "sigmoid")  # both sentences are exercised
    assert format_value(sigma, "f") in e.text
    assert ("&lt; 1" in e.text) == (sigma < 1)
    assert "batch-mean" in e.text
    if sigma < 1:  # the bound over the steps still to go: sigma ** t
        assert format_value(sigma**phase.time, "e") in e.text
        g = np.random.default_rng(0).normal(size=(50, len(fp)))  # any gradient shrinks
        assert (
            np.linalg.norm(g @ M, axis=1) <= sigma * np.linalg.norm(g, axis=1) * (1 + 1e-12)
        ).all()


@pytest.mark.parametrize(
    ("cell", "key", "ref_key"), [("lstm", "forget_gate", "f"), ("gru", "update_gate", "u")]
)
def test_gated_explanations_show_the_carrier_gate_per_unit(cell, key, ref_key):
    s, phase = backward_phase(cell, steps_back=2)
    e = step_explanation(phase, NAMES[cell], s.snapshot())
    assert e.chart == "gates"
    _, cache = reference_forward(s)
    per_unit = cache[phase.time][ref_key].mean(axis=0)
    np.testing.assert_allclose(e.chart_data, per_unit, rtol=1e-10)
    values = {r.key: r.value for r in e.rows}
    assert values[f"{key}_mean"] == phase.norms[f"{key}_mean"]
    assert values[f"{key}_mean"] == pytest.approx(per_unit.mean(), rel=1e-10)
    assert values["gain"] == phase.norms["gain"]
    assert ("forget gate" if cell == "lstm" else "update gate") in e.chart_title
    # the product over the steps still to go back: mean gate ** (t - 1)
    assert format_value(values[f"{key}_mean"] ** phase.time, "e") in e.text


@pytest.mark.parametrize("steps", [1, 2])  # after the forward, after the loss
def test_other_phases_say_what_comes_next_without_numbers(steps):
    s = session("lstm")
    s.run(1)
    for _ in range(steps):
        phase = s.step_phase()
    e = step_explanation(phase, "LSTM", s.snapshot())
    assert e.rows == ()
    assert e.chart == ""
    assert e.chart_data is None
    nxt = s.snapshot().next_phase
    assert f"Next: <b>{nxt}</b>" in e.text
    assert ("starts the backward pass" in e.text) == (nxt.startswith("loss"))
    idle = step_explanation(None, "LSTM", None)
    assert idle.rows == ()
    assert "Next: <b>forward layer 1</b>" in idle.text
