"""gui.worker drives a RecurrentSession unchanged: build, step, step-through, play, divergence.

The adapter here is the thinnest one possible (what the app's Recurrent mode will write):
it builds a RecurrentSession from a config and sends its snapshot as the frame.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Signal

from engine.config import ExperimentConfig, updated
from engine.recurrent import RecurrentSession, RecurrentSnapshot
from gui.adapter import Adapter
from gui.worker import Command, WorkerController

TIMEOUT = 20_000  # ms (the first build may compile the kernels)


class RecurrentAdapter(Adapter):
    noun = "recurrent net"

    def build(self, spec, load, warm):
        return RecurrentSession(spec)

    def frame(self, target, spec, info):
        return info.reason, target.snapshot(with_history=info.reason != "phase")

    def step_phase(self, target):
        result = target.step_phase()
        return None if result is None else (result.phase, result.layer)


class RecurrentController(WorkerController):
    frame_ready = Signal(object)

    def __init__(self):
        super().__init__(RecurrentAdapter(), 30.0, "vglab-test-recurrent")
        self.phases = []
        self.diverged = []
        w = self._worker.worker
        w.phase.connect(lambda phase, layer: self.phases.append((phase, layer)))
        w.diverged.connect(lambda name, d: self.diverged.append(d))

    def _publish(self, frame) -> None:
        self.frame_ready.emit(frame)

    def build(self, spec) -> None:
        self._send(Command.BUILD, spec)


def spec(**more):
    return updated(
        ExperimentConfig(name="w"),
        **{
            "recurrent.cell": "lstm",
            "recurrent.seq_len": 6,
            "model.loss": "mse",
            "model.depth": 1,
            "model.width": 4,
            "data.n_samples": 64,
            "training.batch_size": 8,
            **more,
        },
    )


def next_frame(qtbot, c, action, check=lambda f: True):
    with qtbot.waitSignal(c.frame_ready, timeout=TIMEOUT, check_params_cb=check) as blocker:
        action()
    return blocker.args[0]


@pytest.fixture
def controller(qtbot):
    c = RecurrentController()
    c.start()
    try:
        reason, snap = next_frame(qtbot, c, lambda: c.build(spec()))
        assert reason == "built"
        assert isinstance(snap, RecurrentSnapshot)
        yield c
    finally:
        assert c.shutdown()


def test_step_and_the_backward_time_steps_through_the_worker(qtbot, controller):
    reason, snap = next_frame(qtbot, controller, controller.step)
    assert (reason, snap.step) == ("step", 1)
    for _ in range(3):  # forward, loss, backward t = 6
        reason, snap = next_frame(qtbot, controller, controller.step_phase)
    assert controller.phases == [("forward", 0), ("loss", 1), ("backward", 0)]
    assert snap.phase == "backward"
    assert snap.phase_result.time == 5
    assert snap.next_phase == "backward layer 1 t=5"


def test_play_trains_and_pause_stops(qtbot, controller):
    _, snap = next_frame(qtbot, controller, controller.play, lambda f: f[1].step >= 20)
    next_frame(qtbot, controller, controller.pause, lambda f: not controller.running)
    assert snap.history_grad_h.shape[1] == 6


def test_a_divergence_is_reported_with_its_time_step(qtbot):
    c = RecurrentController()
    c.start()
    try:
        bad = spec(
            **{
                "recurrent.cell": "rnn",
                "recurrent.rnn_activation": "relu",  # h_t grows ~10x per step and overflows
                "model.init": "normal",
                "model.init_scale": 3.0,
                "model.width": 32,
                "recurrent.seq_len": 600,
            }
        )
        next_frame(qtbot, c, lambda: c.build(bad))
        _, snap = next_frame(qtbot, c, c.step)
        assert snap.divergence is not None
        assert c.diverged[0].time == snap.divergence.time >= 0
    finally:
        assert c.shutdown()
