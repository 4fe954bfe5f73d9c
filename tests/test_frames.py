"""Frames and the frame scheduler without Qt: what the worker packs, checked against NumPy."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import config
from fakes import FakeSteppable

from engine.compare import CompareSession
from engine.session import Session
from gui.frames import (
    MAX_DRAWN,
    FrameInfo,
    FramePacker,
    compare_frame,
    drawn_units,
    phase_text,
)
from gui.pacing import FRAME_MARGIN, FrameScheduler

ROOT = Path(__file__).resolve().parent.parent


def spiral(**changes):
    base = {"data.name": "spiral", "data.n_samples": 200, "model.depth": 2, "model.width": 40}
    base.update(changes)
    return config(**base)


def info(reason: str = "step", running: bool = False, now: float = 0.0) -> FrameInfo:
    return FrameInfo(generation=1, serial=1, reason=reason, running=running, now=now)


def test_frames_and_pacing_import_no_qt():
    modules = ("gui.frames", "gui.pacing", "engine.steppable")
    code = f"import sys, {', '.join(modules)}; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert set(modules) <= set(loaded)
    assert not [m for m in loaded if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph")]


def test_a_packed_frame_holds_the_drawn_units_of_every_weight_matrix():
    s = Session(spiral())
    for _ in range(3):
        s.step()
    f = FramePacker(s).frame(info(), s.config)
    assert f.snapshot.step == 3
    assert [len(d) for d in f.drawn] == [2, MAX_DRAWN, MAX_DRAWN, 3]
    for k, (g, w) in enumerate(zip(f.edge_grads, f.edge_weights, strict=True)):
        rows, cols = f.drawn[k], f.drawn[k + 1]
        np.testing.assert_array_equal(w, np.abs(s.net.W(k))[rows][:, cols])
        np.testing.assert_array_equal(g, np.abs(s.net.dW(k))[rows][:, cols])
    n = len(f.snapshot.history_steps)
    assert n == 3
    assert f.snapshot.history_grad_norm.shape == (n, s.depth + 1)


def test_drawn_units_are_evenly_spread_and_keep_both_ends():
    d = drawn_units(40)
    assert len(d) == MAX_DRAWN
    assert (d[0], d[-1]) == (0, 39)
    assert np.all(np.diff(d) >= 2)
    np.testing.assert_array_equal(drawn_units(5), np.arange(5))


def test_the_boundary_is_the_network_output_on_the_grid():
    s = Session(spiral())
    s.step()
    b = FramePacker(s).frame(info(), s.config).boundary
    i, j = 17, 61
    point = np.array([[b.xs[j], b.ys[i]]])
    np.testing.assert_allclose(b.probs[i, j], s.predict(point)[0])
    X = s.dataset.X_train
    assert b.xs[0] < X[:, 0].min()
    assert b.xs[-1] > X[:, 0].max()


def test_the_boundary_waits_while_playing_and_follows_when_paused():
    s = Session(spiral())
    p = FramePacker(s)
    first = p.decision_boundary(playing=True, now=10.0)
    s.step()
    assert p.decision_boundary(playing=True, now=10.1) is first  # too soon
    assert p.decision_boundary(playing=False, now=10.1) is not first  # paused: fresh


def test_a_compare_frame_names_every_variant_and_its_phase():
    cs = CompareSession(spiral(), ["model.activation=sigmoid,tanh"])
    results = cs.step_phase()
    f = compare_frame(cs, info("phase"), phase_text(cs, results))
    assert f.names == cs.names
    assert f.phase.startswith("forward hidden 1 (1/")
    assert set(f.snapshots) == set(cs.names)
    assert f.step == 0


def test_the_scheduler_sends_frames_at_the_margin_above_the_redraw_rate():
    pace = FrameScheduler(fps=25)
    assert pace.interval == pytest.approx(1 / (FRAME_MARGIN * 25))
    assert pace.wait_time(0, playing=False, dirty=False) is None  # block until a command
    assert pace.wait_time(0, playing=False, dirty=True) == 0.0
    assert pace.wait_time(0, playing=True, dirty=False) == 0.0  # uncapped
    pace.last_emit = -math.inf
    assert pace.due(in_flight=False)
    assert not pace.due(in_flight=True)  # back-pressure


def test_the_speed_cap_counts_from_the_restart():
    pace = FrameScheduler(fps=30)
    pace.speed = 10.0
    pace.restart(step_count=100)
    assert not pace.over_speed(100)  # the first step goes at once
    assert pace.steps_allowed(100) == 1  # and only it
    assert pace.over_speed(101)  # the next waits for its 1/10 s
    assert 0 < pace.wait_time(100, playing=True, dirty=False) <= pace.interval
    with pytest.raises(ValueError, match="fps"):
        FrameScheduler(0)


def test_the_fake_steppable_finishes_a_half_done_step_through():
    f = FakeSteppable(n_phases=4)
    f.step_phase()
    assert f.next_phase() == ("loss", 1)
    assert f.step()
    assert (f.step_count, f.phase_index) == (1, 0)
    assert f.run(5) == 5
