"""First launch: the window draws from the NumPy path at once, then switches to the kernels.

The kernels are not "loaded" in this process for these tests (engine.warmup's registry is
emptied), so the window starts as on a cold cache: on NumPy, with a compile process
(engine.precompile) asked for the kernels.  That process is real in the first test (the
on-disk cache is warm, so it only loads), and a stand-in whose stages the test fires in
the second.
"""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import TIMEOUT, tiny

from engine import precompile, warmup
from engine.session import Session
from gui.main_window import MainWindow

#: ms: the compile process starts Python, imports Numba and loads the cached kernels: ~3 s
#: on a quiet machine, 30 s and more on a busy one
LOAD_TIMEOUT = 180_000


@pytest.fixture
def cold(monkeypatch):
    """Kernels not loaded in this process, nor marked cached by a compile process."""
    monkeypatch.setattr(precompile, "cached", lambda key: False)
    monkeypatch.setattr(warmup, "_warmed", set())
    monkeypatch.setattr(warmup, "_many_step", {})
    monkeypatch.setattr(warmup, "_loading", set())


class StandIn:
    """A Precompiler whose stages the test reports by hand."""

    def __init__(self):
        self.listeners: list = []
        self.keys: list[tuple] = []

    def request(self, key, listener):
        self.keys.append(key)
        self.listeners.append(listener)

    def report(self, stage: str) -> None:
        for listener in self.listeners:
            listener(stage, self.keys[0])


def window(qtbot, cfg) -> MainWindow:
    w = MainWindow(config=cfg)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    return w


def drawn_frames(w: MainWindow) -> list:
    """Every frame the window draws, in order."""
    frames = []
    draw = w.pacer.draw
    w.pacer.draw = lambda f: (frames.append(f), draw(f))
    return frames


def test_first_frame_comes_from_numpy_then_training_goes_on_with_the_kernels(
    qtbot, cold, monkeypatch
):
    monkeypatch.setattr(precompile, "_shared", precompile.Precompiler(rest=False))
    cfg = tiny(**{"training.eval_every": 0})  # SGD: rounding differences stay rounding
    #                                              (Adam's normalised steps magnify them)
    w = window(qtbot, cfg)
    frames = drawn_frames(w)
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)
    assert frames[0].snapshot.backend == "numpy"
    assert frames[0].snapshot.depth == 3
    assert frames[0].boundary is not None
    w.act_play.trigger()  # trains on NumPy until the kernels are in
    qtbot.waitUntil(lambda: frames[-1].snapshot.backend == "numba", timeout=LOAD_TIMEOUT)
    dataset = w.controller._worker.worker.target.dataset
    # the many-step kernel comes after the switch: it was never loaded, so the session took
    # single steps for good
    qtbot.waitUntil(lambda: warmup.many_step_ready(cfg, dataset), timeout=LOAD_TIMEOUT)
    qtbot.waitUntil(lambda: frames[-1].snapshot.step > 200, timeout=TIMEOUT)
    w.act_play.trigger()
    steps = [f.snapshot.step for f in frames]
    assert steps == sorted(steps)  # never back to 0: the same run goes on
    assert any(f.snapshot.backend == "numpy" and f.snapshot.step > 0 for f in frames)
    # every step, before and after the switch, is the step a kernels-only run takes
    last = frames[-1].snapshot
    ref = Session(cfg, w.controller._worker.worker.target.dataset)
    ref.run(int(last.history_steps[-1]))
    np.testing.assert_allclose(
        last.history_scalars[:, 0], ref.scalar_trace.view()[1][:, 0], rtol=1e-9
    )  # a jump or a restart would be O(1) apart


def test_the_banner_says_compiling_until_the_kernels_are_in(qtbot, cold, monkeypatch):
    stand_in = StandIn()
    monkeypatch.setattr(precompile, "_shared", stand_in)
    w = window(qtbot, tiny())
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    assert stand_in.keys == [("float64", True, True)]
    stand_in.report("compiling")
    qtbot.waitUntil(lambda: "running on NumPy meanwhile" in w.banner.title.text(), timeout=TIMEOUT)
    assert w.busy.pending
    stand_in.report("phases")
    qtbot.waitUntil(lambda: w.controller.latest.snapshot.backend == "numba", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not w.busy.pending, timeout=TIMEOUT)
    assert "running on NumPy" not in w.banner.title.text() or w.banner.isHidden()


def test_a_warm_cache_loads_in_process_without_numpy_or_a_compile_process(qtbot, monkeypatch):
    """Once a compile process has marked the cache (every later launch), the window loads the
    kernels itself (~1 s) and trains on them from the first frame: starting a process only to
    find the cache warm made warm launches slower than before the NumPy path."""
    monkeypatch.setattr(warmup, "_warmed", set())
    monkeypatch.setattr(warmup, "_many_step", {})
    monkeypatch.setattr(warmup, "_loading", set())
    stand_in = StandIn()
    monkeypatch.setattr(precompile, "_shared", stand_in)
    marker = precompile.marker(("float64", True, True))
    had = marker.is_file()
    precompile._mark(("float64", True, True))
    try:
        assert precompile.cached(("float64", True, True))
        w = window(qtbot, tiny())
        frames = drawn_frames(w)
        qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)
        assert frames[0].snapshot.backend == "numba"
        assert stand_in.keys == []  # no compile process asked for
        assert "NumPy" not in w.banner.title.text() or w.banner.isHidden()
    finally:
        if not had:
            marker.unlink()
