"""The Jacobian spectrum dock: opened from the View menu, drawn after a step with the
prediction (or the reason there is none), computed in the worker thread only while shown,
reset on a rebuild, exported with the other plots; and its Qt-free view model."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from gui_helpers import TIMEOUT, open_window, tiny

from engine.jacobian_theory import session_spectrum as compute
from engine.session import Session
from gui.jacobian_view import JacobianSampler, spectrum_view


def _open_from_view_menu(qtbot, w):
    """Trigger the View menu's entry for the dock, as a user does."""
    action = next(a for a in w.view_menu.actions() if a.text().startswith("Jacobian spectrum"))
    if not action.isChecked():
        action.trigger()
    w.docks["jacobian"].raise_()
    qtbot.waitUntil(lambda: w._visible("jacobian"), timeout=TIMEOUT)
    return action


def _sampler(w) -> JacobianSampler:
    return w.controller._worker.worker.adapter.packer.jacobian


def _step_and_wait(qtbot, w, step: int):
    w.act_step.trigger()
    qtbot.waitUntil(
        lambda: (j := w.controller.latest.jacobian) is not None and j.sample.step >= step,
        timeout=TIMEOUT,
    )
    w.draw_panel("jacobian", w.controller.latest)


def test_dock_opens_from_the_view_menu_and_draws_after_a_step(qtbot):
    w = open_window(qtbot, tiny(**{"model.init": "orthogonal", "model.activation": "tanh"}))
    panel = w.jacobian_spectrum
    assert not w.docks["jacobian"].isVisible()  # closed until the View menu opens it
    assert _sampler(w).computed == 0  # not shown: never computed
    _open_from_view_menu(qtbot, w)
    _step_and_wait(qtbot, w, 1)
    assert panel.bars.xData is not None
    assert len(panel.bars.xData) > 1
    assert "step 1" in panel.title
    assert "J = d a_L-1 / d a_0 of 8 examples" in panel.text
    assert "mean-field / free-probability prediction at init (wide-net limit)" in panel.text
    assert "training has moved the weights (step 1)" in panel.text
    assert "narrow layers" in panel.text  # 8 units: far from the wide-net limit
    assert panel.rms.xData is not None  # the prediction's line is drawn
    # computed in the worker thread, never in the GUI thread, once per step at most
    s = _sampler(w)
    assert threading.get_ident() not in s.threads
    assert 1 <= s.computed <= 2


def test_nothing_is_computed_while_the_dock_is_hidden(qtbot):
    w = open_window(qtbot, tiny())
    action = _open_from_view_menu(qtbot, w)
    _step_and_wait(qtbot, w, 1)
    action.trigger()  # hide it again
    qtbot.waitUntil(lambda: not w.controller._worker.worker.adapter.jacobian.wanted)
    before = _sampler(w).computed
    for _ in range(3):
        w.act_step.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.snapshot.step >= 4, timeout=TIMEOUT)
    assert _sampler(w).computed == before


def test_outside_the_theory_the_panel_says_why(qtbot, tmp_path):
    w = open_window(qtbot, tiny(**{"model.batch_norm": "pre"}))
    _open_from_view_menu(qtbot, w)
    _step_and_wait(qtbot, w, 1)
    panel = w.jacobian_spectrum
    assert "no prediction: batch norm" in panel.text
    assert panel.rms.xData is None or len(panel.rms.xData) == 0
    assert panel.bars.xData is not None  # the measured spectrum is still drawn
    written = {p.name for p in w.export_plots(tmp_path)}
    assert {"jacobian_spectrum.png", "jacobian_spectrum.svg"} <= written
    # a rebuild forgets the old spectrum
    w.apply_config(tiny(**{"model.depth": 4}))
    qtbot.waitUntil(lambda: w.controller.latest.depth == 4, timeout=TIMEOUT)
    assert "step 1" not in panel.title  # reset (then redrawn for the new net at step 0)


# --- the view model, without a window ---------------------------------------------------------
def test_view_model_bins_every_singular_value_and_states_the_prediction():
    s = Session(tiny(**{"model.depth": 5, "model.width": 12, "model.activation": "relu"}))
    spec = compute(s)
    v = spectrum_view(spec)
    n_zero = spec.sample.sv.size - int(v.counts.sum())
    assert n_zero == np.count_nonzero(spec.sample.sv <= 1e-12 * spec.sample.sv.max())
    assert "i.i.d. weights" in v.text
    assert math.isclose(v.rms, math.sqrt(spec.prediction.mean))
    lo, hi = v.band
    assert lo <= v.rms <= hi
    assert (
        "J not computed: needs >= 2"
        in spectrum_view(compute(Session(tiny(**{"model.depth": 1})))).text
    )
    assert spectrum_view(None).edges is None


def test_sampler_computes_once_per_step_and_only_when_wanted():
    s = Session(tiny())
    sampler = JacobianSampler()
    assert sampler.latest(s, 0.0, False) is None  # not wanted
    sampler.request.wanted = True
    first = sampler.latest(s, 0.0, False)
    assert sampler.latest(s, 1.0, False) is first  # same step: kept
    s.step()
    assert sampler.latest(s, 0.1, True) is first  # playing, too soon: kept
    assert sampler.latest(s, 5.0, True) is not first
    assert sampler.computed == 2


# --- the CLI ----------------------------------------------------------------------------------
def _vglab_run(out, *extra):
    root = Path(__file__).resolve().parents[1]
    argv = [sys.executable, str(root / "main.py"), "run", "seed000_deep_activations"]
    argv += ["--set", "model.activation=tanh", "--steps", "5", "--out", str(out), "--quiet"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(argv + list(extra), cwd=root, env=env, capture_output=True, timeout=300)


def test_vglab_run_writes_the_jacobian_figure_when_the_net_has_one(tmp_path):
    from PySide6.QtGui import QImage

    proc = _vglab_run(tmp_path / "deep", "--set", "model.depth=4")
    assert proc.returncode == 0, proc.stderr
    png = tmp_path / "deep" / "jacobian_spectrum.png"
    assert (tmp_path / "deep" / "jacobian_spectrum.svg").is_file()
    image = QImage(str(png))
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, 600, 7)}
    assert len(colours) > 3  # drawn, not blank
    # one hidden layer: no hidden-to-hidden J, no figure (and no error)
    proc = _vglab_run(tmp_path / "shallow", "--set", "model.depth=1")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "shallow" / "jacobian_spectrum.png").exists()
    assert (tmp_path / "shallow" / "loss.png").is_file()
