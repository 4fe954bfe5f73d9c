"""The one training worker (gui.worker) driving a fake steppable: no Numba, no session.

Commands, play/pause, speed, epochs, divergence, the build-error messages, the frame rate
and the shutdown at exit, checked on :mod:`fakes` so every test runs in milliseconds.
"""

from __future__ import annotations

import threading
import time

import pytest
from fakes import FakeAdapter, FakeSpec, FakeSteppable
from PySide6.QtCore import QCoreApplication, Signal

from engine.config import ConfigError
from engine.datasets import DataError
from engine.steppable import Steppable
from gui.pacing import FRAME_MARGIN
from gui.worker import SPEEDS, Command, WorkerController, run_in_background

TIMEOUT = 5_000  # ms


class FakeController(WorkerController):
    """The thinnest adapter over the worker: what the two real controllers add to it."""

    frame_ready = Signal(object)

    def __init__(self, fps: float = 30.0):
        super().__init__(FakeAdapter(), fps, "vglab-test-worker")
        w = self._worker.worker
        self.adapter = w.adapter
        self.diverged, self.phases, self.built, self.reverted = [], [], [], []
        w.diverged.connect(lambda name, d: self.diverged.append((name, d)))
        w.phase.connect(lambda phase, layer: self.phases.append((phase, layer)))
        w.built.connect(self.built.append)
        w.reverted.connect(self.reverted.append)

    def _publish(self, frame) -> None:
        self.frame_ready.emit(frame)

    def build(self, spec: FakeSpec) -> None:
        self._send(Command.BUILD, spec)


@pytest.fixture
def fake(qtbot):
    """A started controller over a built FakeSteppable; shut down afterwards."""
    c = FakeController()
    c.start()
    try:
        with qtbot.waitSignal(c.frame_ready, timeout=TIMEOUT) as first:
            c.build(FakeSpec())
        assert first.args[0].reason == "built"
        yield c
    finally:
        assert c.shutdown()


def frame_after(qtbot, c, action, check=lambda f: True):
    """Run ``action``; the first frame after it that passes ``check``."""
    with qtbot.waitSignal(c.frame_ready, timeout=TIMEOUT, check_params_cb=check) as blocker:
        action()
    return blocker.args[0]


def test_the_fake_and_both_sessions_are_steppables():
    from engine_helpers import config, toy_dataset

    from engine.compare import CompareSession
    from engine.session import Session

    data = toy_dataset()
    assert isinstance(FakeSteppable(), Steppable)
    assert isinstance(Session(config(), data), Steppable)
    cs = CompareSession(config(), ["model.activation=sigmoid,tanh"], data)
    assert isinstance(cs, Steppable)
    assert not cs.diverged
    assert cs.divergences == {}


def test_step_and_phase_commands(qtbot, fake):
    f = frame_after(qtbot, fake, fake.step)
    assert (f.reason, f.step, f.running) == ("step", 1, False)
    f = frame_after(qtbot, fake, fake.step_phase)
    assert (f.reason, f.step) == ("phase", 1)
    assert fake.phases == [("forward", 0)]
    # a step finishes the half-done step-through: 3 more phases, no new mini-batch
    f = frame_after(qtbot, fake, fake.step)
    assert f.step == 2


def test_commands_are_enum_members_and_a_string_is_refused(qtbot, fake):
    assert {c.name for c in Command} >= {"PLAY", "PAUSE", "STEP", "PHASE", "BUILD", "QUIT"}
    with qtbot.waitSignal(fake.error, timeout=TIMEOUT) as blocker:
        fake._worker.send("play")
    assert blocker.args[0].startswith("Internal error in the fake thread: KeyError")
    assert not fake.running
    f = frame_after(qtbot, fake, fake.step)  # the worker survives it
    assert f.step == 1


def test_play_and_pause(qtbot, fake):
    with qtbot.waitSignal(fake.running_changed, timeout=TIMEOUT) as on:
        fake.play()
    assert on.args == [True]
    assert fake.running
    frame_after(qtbot, fake, lambda: None, lambda f: f.running and f.step > 100)
    f = frame_after(qtbot, fake, lambda: None)
    assert (f.reason, f.running) == ("play", True)
    with qtbot.waitSignal(fake.running_changed, timeout=TIMEOUT) as off:
        fake.pause()
    assert off.args == [False]
    qtbot.waitUntil(lambda: not fake.latest.running, timeout=TIMEOUT)
    stopped = fake.latest.step
    fake.request_frame()
    f = frame_after(qtbot, fake, fake.request_frame)
    assert f.step == stopped  # paused: no step since


def test_toggle_play_follows_the_running_state(qtbot, fake):
    with qtbot.waitSignal(fake.running_changed, timeout=TIMEOUT):
        fake.toggle_play()
    assert fake.running
    with qtbot.waitSignal(fake.running_changed, timeout=TIMEOUT):
        fake.toggle_play()
    assert not fake.running


def test_an_epoch_and_an_advance_stop_exactly_where_asked(qtbot, fake):
    frame_after(qtbot, fake, fake.step)
    f = frame_after(qtbot, fake, fake.run_epoch, lambda f: not f.running and f.step > 1)
    assert f.step == 10  # the end of the first epoch (10 steps per epoch)
    f = frame_after(qtbot, fake, lambda: fake._send(Command.ADVANCE, 25))
    qtbot.waitUntil(lambda: not fake.running and fake.latest.step == 35, timeout=TIMEOUT)


def test_the_speed_cap_bounds_steps_per_second(qtbot, fake):
    fake.set_speed(20.0)
    frame_after(qtbot, fake, fake.play, lambda f: f.running)
    t0, s0 = time.perf_counter(), fake.latest.step
    qtbot.wait(1000)
    rate = (fake.latest.step - s0) / (time.perf_counter() - t0)
    fake.pause()
    assert 10 <= rate <= 25
    with pytest.raises(ValueError, match="speed"):
        fake.set_speed(0)


def test_speeds_are_one_list_slowest_first_ending_at_max():
    rates = [r for _, r in SPEEDS]
    assert rates[-1] is None
    assert rates[:-1] == sorted(rates[:-1])


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ConfigError(["model.depth: must be >= 1, got 0"]), "Invalid fake settings:\nmodel.depth"),
        (DataError("data.path: no such file"), "Cannot load the data set: data.path"),
        (MemoryError("too big"), "Cannot build the fake: too big"),
    ],
)
def test_build_errors_become_user_messages_and_keep_the_old_model(qtbot, fake, error, message):
    frame_after(qtbot, fake, fake.step)
    with qtbot.waitSignal(fake.error, timeout=TIMEOUT) as blocker:
        fake.build(FakeSpec(name="bad", error=error))
    assert blocker.args[0].startswith(message)
    qtbot.waitUntil(lambda: len(fake.reverted) == 1, timeout=TIMEOUT)
    assert fake.reverted[0].name == "fake"  # the spec still running
    f = frame_after(qtbot, fake, fake.step)
    assert (f.step, f.spec_name, f.generation) == (2, "fake", 1)


def test_a_bug_while_building_is_an_internal_error(qtbot, fake):
    with qtbot.waitSignal(fake.error, timeout=TIMEOUT) as blocker:
        fake.build(FakeSpec(error=RuntimeError("oops")))
    assert blocker.args[0] == "Internal error in the fake thread: RuntimeError: oops"


def test_reset_builds_the_live_spec_again(qtbot, fake):
    frame_after(qtbot, fake, fake.step)
    fake._send(Command.LEARNING_RATE, 0.5)
    f = frame_after(qtbot, fake, fake.reset, lambda f: f.reason == "built")
    assert (f.step, f.generation, f.spec_name) == (0, 2, "fake lr=0.5")


def test_a_divergence_stops_playing_and_is_reported_once(qtbot, fake):
    frame_after(qtbot, fake, lambda: fake.build(FakeSpec(diverge_at=7)))
    frame_after(qtbot, fake, fake.play, lambda f: not f.running and f.step == 7)
    assert [(n, d.step) for n, d in fake.diverged] == [("fake", 7)]
    fake.play()  # nothing left to train: stays paused
    f = frame_after(qtbot, fake, fake.request_frame)
    assert not f.running
    assert not fake.running
    frame_after(qtbot, fake, fake.step)
    assert len(fake.diverged) == 1


def test_frames_are_paced_while_playing(qtbot):
    fps = 20.0
    c = FakeController(fps=fps)
    c.start()
    frames = []
    try:
        frame_after(qtbot, c, lambda: c.build(FakeSpec(step_seconds=1e-4)))
        c.frame_ready.connect(frames.append)
        frame_after(qtbot, c, c.play, lambda f: f.running)
        t0 = time.perf_counter()
        n0 = len(frames)
        qtbot.wait(1500)
        elapsed = time.perf_counter() - t0
        count = len(frames) - n0
        c.pause()
    finally:
        assert c.shutdown()
    assert count <= FRAME_MARGIN * fps * elapsed + 2  # never faster than the rule
    assert count >= 0.3 * fps * elapsed  # and they keep coming


def test_every_worker_shuts_down_when_the_application_quits(qtbot):
    c = FakeController()
    c.start()
    frame_after(qtbot, c, lambda: c.build(FakeSpec()))
    assert c._thread.isRunning()
    QCoreApplication.instance().aboutToQuit.emit()
    assert not c._thread.isRunning()
    assert c.shutdown()  # again: nothing left to stop


def test_run_in_background_hands_the_result_to_this_thread(qtbot):
    got = []
    main = threading.current_thread()
    with qtbot.waitSignal(
        run_in_background(lambda: threading.current_thread() is not main, None).done,
        timeout=TIMEOUT,
    ) as blocker:
        pass
    assert blocker.args == [True]  # fn ran elsewhere
    job = run_in_background(lambda: 1 / 0, lambda r: got.append((r, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
    assert isinstance(got[0][0], ZeroDivisionError)
    assert got[0][1] is main
    assert not job.thread.isRunning()
