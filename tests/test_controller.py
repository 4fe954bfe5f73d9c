"""The controller runs a Session in its worker thread and reports with Qt signals; no widgets."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import tiny

from engine.config import updated
from gui.controller import Controller, default_config, needs_rebuild
from gui.frames import MAX_DRAWN, Frame, boundary_grid, drawn_units

TIMEOUT = 20_000  # ms; generous: a cold Numba cache compiles for ~20 s


@pytest.fixture
def controller(qtbot):
    """A started controller whose first frame has arrived; shut down afterwards."""
    c = Controller(tiny())
    try:
        with qtbot.waitSignal(c.snapshot_ready, timeout=TIMEOUT) as first:
            c.start()
        assert first.args[0].reason == "built"
        yield c
    finally:
        assert c.shutdown()


def next_frame(qtbot, c: Controller, action, check=lambda f: True) -> Frame:
    """Run ``action`` and return the first frame after it that passes ``check``."""
    with qtbot.waitSignal(
        c.snapshot_ready, timeout=TIMEOUT, check_params_cb=lambda f: check(f)
    ) as blocker:
        action()
    return blocker.args[0]


def test_first_frame_describes_the_built_network(controller):
    f = controller.latest
    snap = f.snapshot
    assert snap.step == 0
    assert snap.depth == 3
    assert not f.running
    assert f.input_width == 2
    assert [len(d) for d in f.drawn] == [2, 8, 8, 8, 3]
    assert [e.shape for e in f.edge_grads] == [(2, 8), (8, 8), (8, 8), (8, 3)]
    assert all(np.all(e >= 0) for e in f.edge_weights)
    assert f.boundary is not None
    assert f.boundary.probs.shape == (80, 80, 3)


def test_step_advances_one_batch_and_carries_the_selected_layers_arrays(qtbot, controller):
    f = next_frame(qtbot, controller, controller.step)
    assert f.reason == "step"
    assert f.snapshot.step == 1
    assert {"z", "fprime", "delta", "dW"} <= set(f.layer_arrays)
    assert f.layer_arrays["delta"].shape == (16, 8)
    f = next_frame(qtbot, controller, lambda: controller.select_layer(3))
    assert f.selected == 3
    assert f.layer_arrays["delta"].shape == (16, 3)


def test_step_phase_walks_forward_then_backward_then_update(qtbot, controller):
    phases = []
    controller.phase_changed.connect(lambda p, k: phases.append((p, k)))
    n_phases = 2 * (3 + 1) + 2
    for _ in range(n_phases):
        f = next_frame(qtbot, controller, controller.step_phase, lambda f: f.reason == "phase")
    qtbot.waitUntil(lambda: len(phases) == n_phases, timeout=TIMEOUT)
    assert phases[:4] == [("forward", 0), ("forward", 1), ("forward", 2), ("forward", 3)]
    assert phases[4] == ("loss", 3)
    assert phases[5:9] == [("backward", 3), ("backward", 2), ("backward", 1), ("backward", 0)]
    assert phases[-1] == ("update", -1)
    assert f.snapshot.step == 1
    assert f.snapshot.phase == "idle"


def test_mid_step_snapshot_reports_the_phase(qtbot, controller):
    for _ in range(6):  # forward x4, loss, backward of the output layer
        f = next_frame(qtbot, controller, controller.step_phase, lambda f: f.reason == "phase")
    assert (f.snapshot.phase, f.snapshot.phase_layer) == ("backward", 3)
    assert f.snapshot.phase_result.index == 5


def test_play_trains_between_frames_and_pause_stops(qtbot, controller):
    frames = []
    controller.snapshot_ready.connect(frames.append)
    with qtbot.waitSignal(controller.running_changed, timeout=TIMEOUT):
        controller.play()
    qtbot.waitUntil(lambda: bool(frames) and frames[-1].snapshot.step > 300, timeout=TIMEOUT)
    with qtbot.waitSignal(controller.running_changed, timeout=TIMEOUT) as stopped:
        controller.pause()
    assert stopped.args == [False]
    # many steps per frame: the worker does not emit every step
    assert frames[-1].snapshot.step > 3 * len(frames)
    f = next_frame(qtbot, controller, controller.request_frame)
    step = f.snapshot.step
    f = next_frame(qtbot, controller, controller.request_frame)
    assert f.snapshot.step == step
    assert not f.running
    assert len(f.snapshot.history_steps) > 0
    assert f.snapshot.history_grad_norm.shape[1] == 4


def test_learning_rate_is_live(qtbot, controller):
    gen = controller.latest.generation
    f = next_frame(qtbot, controller, lambda: controller.set_learning_rate(0.5))
    assert f.snapshot.learning_rate == 0.5
    assert f.generation == gen
    assert not controller.apply_config(
        updated(controller.config, **{"training.learning_rate": 0.25})
    )
    f = next_frame(
        qtbot, controller, controller.request_frame, lambda f: f.snapshot.learning_rate == 0.25
    )
    assert f.generation == gen


def test_architecture_change_rebuilds(qtbot, controller):
    gen = controller.latest.generation
    with qtbot.waitSignal(controller.rebuilt, timeout=TIMEOUT):
        assert controller.apply_config(
            updated(controller.config, **{"model.depth": 5, "model.activation": "relu"})
        )
    f = next_frame(qtbot, controller, controller.request_frame)
    assert f.generation == gen + 1
    assert f.snapshot.depth == 5
    assert f.snapshot.activations[:5] == ("relu",) * 5


def test_reset_gives_fresh_weights_and_history(qtbot, controller):
    next_frame(qtbot, controller, controller.step)
    f = next_frame(qtbot, controller, controller.reset, lambda f: f.reason == "built")
    assert f.snapshot.step == 0
    assert len(f.snapshot.history_steps) == 0


def test_bad_data_reports_an_error_and_keeps_the_session(qtbot, controller):
    bad = updated(controller.config, **{"data.name": "csv", "data.path": "/no/such/file.csv"})
    errors = []
    controller.error.connect(errors.append)
    with qtbot.waitSignal(controller.config_reverted, timeout=TIMEOUT):
        controller.rebuild(bad)
    assert len(errors) == 1
    assert "/no/such/file.csv" in errors[0]
    assert controller.config.data.name == "spiral"
    f = next_frame(qtbot, controller, controller.step)
    assert f.snapshot.step == 1


def test_run_epoch_stops_at_the_epoch_boundary(qtbot, controller):
    spe = controller.latest.snapshot.steps_per_epoch
    f = next_frame(
        qtbot, controller, controller.run_epoch, lambda f: not f.running and f.snapshot.step > 0
    )
    assert f.snapshot.step == spe
    assert f.snapshot.epoch == 1


def test_divergence_stops_the_run_and_is_reported(qtbot):
    c = Controller(
        tiny(
            **{
                "model.loss": "mse",
                "model.activation": "relu",
                "model.init": "he_normal",
                "training.learning_rate": 1e4,
            }
        )
    )
    try:
        with qtbot.waitSignal(c.snapshot_ready, timeout=TIMEOUT):
            c.start()
        with qtbot.waitSignal(c.diverged, timeout=TIMEOUT) as d:
            c.play()
        assert "NaN/Inf" in d.args[0].message
        qtbot.waitUntil(lambda: not c.running, timeout=TIMEOUT)
    finally:
        c.shutdown()


def test_speed_cap_limits_steps_per_second(qtbot, controller):
    controller.set_speed(20.0)
    controller.play()
    qtbot.wait(600)
    controller.pause()
    f = next_frame(qtbot, controller, controller.request_frame, lambda f: not f.running)
    assert 3 <= f.snapshot.step <= 30
    with pytest.raises(ValueError, match="speed"):
        controller.set_speed(0)


def test_needs_rebuild_only_ignores_the_learning_rate():
    cfg = default_config()
    assert not needs_rebuild(cfg, updated(cfg, **{"training.learning_rate": 0.01}))
    assert needs_rebuild(cfg, updated(cfg, **{"model.depth": 3}))
    assert needs_rebuild(cfg, updated(cfg, **{"training.optimizer": "adam"}))
    assert needs_rebuild(None, cfg)


def test_drawn_units_and_grid():
    assert list(drawn_units(5)) == [0, 1, 2, 3, 4]
    d = drawn_units(100)
    assert len(d) == MAX_DRAWN
    assert d[0] == 0
    assert d[-1] == 99
    assert np.all(np.diff(d) > 0)
    xs, ys = boundary_grid(np.array([[0.0, -1.0], [1.0, 1.0]]), n=5)
    assert xs[0] < 0 < 1 < xs[-1]
    assert ys[0] < -1
    assert len(xs) == len(ys) == 5


def test_default_config_is_a_deep_sigmoid_net():
    cfg = default_config()
    assert cfg.model.depth == 10
    assert cfg.model.activation == "sigmoid"
    assert cfg.data.name in ("digits", "spiral")
