"""The unrolled diagram and the step inspector, driven by real RNN / LSTM / GRU sessions.

Clicks and tooltips go through qtbot; every size from 300x150 to 1900x500 is laid out and
painted, and no two of the texts the diagram draws may overlap.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip
from test_unrolled_view import NAMES, backward_phase, lock_step, reference_forward, session

from engine.recurrent import RecurrentDivergence
from gui import theme
from gui.inspector_model import format_value
from gui.panels.network_geometry import normalise
from gui.panels.step_inspector import StepInspector
from gui.panels.unrolled_diagram import UnrolledDiagram
from gui.unrolled_view import NOT_COMPUTED_TEXT, unrolled_view

SIZES = [(300, 150), (420, 180), (640, 260), (900, 300), (1300, 420), (1900, 500)]


def stepped_view(seq_len: int, steps_back: int, cells=("rnn", "lstm", "gru")):
    """The lock-step view ``steps_back`` backward steps into a step-through."""
    sessions = {NAMES[c]: session(c, seq_len=seq_len) for c in cells}
    for s in sessions.values():
        s.run(1)
    for _ in range(2 + steps_back):  # forward, loss, then backward steps
        phases = {name: s.step_phase() for name, s in sessions.items()}
    snaps = {name: s.snapshot() for name, s in sessions.items()}
    return unrolled_view(snaps, next(iter(phases.values())))


@pytest.fixture(scope="module")
def views():
    """T -> a view in the middle of the backward pass (T = 500 with one row)."""
    return {
        12: stepped_view(12, 4),
        200: stepped_view(200, 60),
        500: stepped_view(500, 250, cells=("rnn",)),
    }


def diagram(qtbot, view, size=(900, 300)) -> UnrolledDiagram:
    d = UnrolledDiagram()
    qtbot.addWidget(d)
    d.set_data(view)
    d.resize(*size)
    d.show()
    qtbot.waitExposed(d)
    return d


@pytest.mark.parametrize(("T", "size"), [(12, (900, 300)), (12, (300, 150)), (200, (1900, 500))])
def test_a_click_on_a_box_emits_its_time_step(qtbot, views, T, size):
    d = diagram(qtbot, views[T], size)
    for r, t in [(0, 0), (1, T // 2), (2, T - 1), (0, 7)]:
        with qtbot.waitSignal(d.time_clicked, timeout=1000) as blocker:
            qtbot.mouseClick(d, Qt.MouseButton.LeftButton, pos=d.box_rect(r, t).center().toPoint())
        assert blocker.args == [t]
    with qtbot.assertNotEmitted(d.time_clicked):  # the header is not a time step
        qtbot.mouseClick(d, Qt.MouseButton.LeftButton, pos=QPoint(size[0] // 2, 4))


@pytest.mark.parametrize("T", [12, 200, 500])
def test_no_two_texts_overlap_at_any_size_and_the_time_labels_thin_out(qtbot, views, T):
    view = views[T]
    d = diagram(qtbot, view)
    for w, h in SIZES:
        d.resize(w, h)
        labels = d.label_rects()
        for (a, ta), (b, tb) in itertools.combinations(labels, 2):
            assert not a.intersects(b), f"{w}x{h}: {ta!r} overlaps {tb!r}"
        for rect, text in labels:
            assert QRectF(0, 0, w, h).contains(rect), f"{w}x{h}: {text!r} sticks out"
        texts = [t for _, t in labels]
        assert "t=1" in texts
        assert str(T) in texts
        assert str(view.time + 1) in texts
        axis = [int(t) for t in texts if t.isdigit()]
        assert len(axis) < T or T == 12  # long sequences: only some steps are labelled
        assert any(t.startswith("\u2190 backward") for t in texts)  # the caption
        last = d.box_rect(0, T - 1).center()  # computed: a colour of the scale, not grey
        assert d.grab().toImage().pixelColor(int(last.x()), int(last.y())).saturation() > 40


def test_an_all_nan_view_renders_not_computed_boxes(qtbot):
    snaps = {name: s.snapshot() for name, s in lock_step().items()}
    d = diagram(qtbot, unrolled_view(snaps, None))
    for w, h in SIZES:
        d.resize(w, h)
        image = d.grab().toImage()
        assert not image.isNull()
        c = d.box_rect(1, 4).center()
        grey = image.pixelColor(int(c.x()), int(c.y()))
        # hatched grey: no colour of the scale, no text "nan"
        assert grey.saturation() < 20, f"{w}x{h}: {grey.name()}"
        assert all("nan" not in t.lower() for _, t in d.label_rects())
    assert NOT_COMPUTED_TEXT in d.tooltip_at(d.box_rect(0, 3).center())


def test_boxes_are_coloured_by_log10_norm_on_the_shared_scale(qtbot):
    sessions = lock_step()
    for s in sessions.values():
        s.run(2)
    view = unrolled_view({n: s.snapshot() for n, s in sessions.items()}, None)
    d = diagram(qtbot, view, (1300, 420))
    image = d.grab().toImage()
    lut = pg.colormap.get(theme.LAYER_COLORMAP).getLookupTable(0.0, 1.0, 64, alpha=False)
    shade = normalise(view.grad_h, *view.levels)
    for r, t in itertools.product(range(3), range(view.seq_len)):
        corner = d.box_rect(r, t).topLeft()
        got = image.pixelColor(int(corner.x()) + 4, int(corner.y()) + 4)
        want = QColor(*(int(v) for v in lut[int(round(shade[r, t] * 63))]))
        diff = max(abs(got.red() - want.red()), abs(got.green() - want.green()))
        assert diff <= 3, f"row {r} t={t}: {got.name()} != {want.name()}"


def test_the_tooltip_names_t_the_norm_and_the_gate(qtbot, views):
    view = views[12]
    d = diagram(qtbot, view)
    box = d.box_rect(1, 9)
    tip = d.tooltip_at(box.center())
    assert "t = 10" in tip
    assert format_value(float(view.grad_h[1, 9]), "e") in tip
    assert format_value(float(view.gate[1, 9]), "f") in tip
    pos = box.center().toPoint()
    QApplication.sendEvent(d, QHelpEvent(QEvent.Type.ToolTip, pos, d.mapToGlobal(pos)))
    assert QToolTip.text() == tip
    assert d.tooltip_at(d.rect().topLeft().toPointF()) == ""


def test_a_diverged_row_shows_its_message(qtbot, views):
    view = views[12]
    d_ = RecurrentDivergence(3, "backward", 0, "gradient dL/dh_t", 1, time=5)
    bad = dataclasses.replace(view, diverged=(False, True, False), messages=("", d_.message, ""))
    d = diagram(qtbot, bad, (1300, 420))
    assert any(t.startswith("diverged at step 3") for _, t in d.label_rects())


# --- the step inspector --------------------------------------------------------------------------
def inspector(qtbot) -> StepInspector:
    w = StepInspector()
    qtbot.addWidget(w)
    w.resize(380, 720)
    w.show()
    return w


def test_the_inspector_shows_the_rnn_factor_and_its_independent_spectral_norm(qtbot):
    s, phase = backward_phase("rnn")
    w = inspector(qtbot)
    w.set_data(phase, "RNN (tanh)", s.snapshot())
    shown = w.values()
    for key, kind in [("dh_norm", "e"), ("dh_prev_norm", "e"), ("gain", "f")]:
        assert shown[key] == format_value(phase.norms[key], kind)
    _, cache = reference_forward(s)
    fp = (1.0 - np.tanh(cache[phase.time]["z"]) ** 2).mean(axis=0)
    M = np.diag(fp) @ s.net.Wh(0).T
    assert shown["factor_spectral"] == format_value(np.linalg.norm(M, 2), "f")
    assert shown["factor_fro"] == format_value(np.linalg.norm(M), "f")
    assert not w.charts.isHidden()
    np.testing.assert_allclose(w.matrix.image.image, M, rtol=1e-10)
    lo, hi = w.matrix.image.levels
    assert lo == -hi == pytest.approx(-np.abs(M).max())  # white at 0
    assert "spectral" in w.text.text() or "\u03c3" in w.text.text()


def test_the_inspector_shows_the_lstm_forget_gate_per_unit_then_forgets_it(qtbot):
    s, phase = backward_phase("lstm")
    w = inspector(qtbot)
    w.set_data(phase, "LSTM", s.snapshot())
    assert w.cell == "LSTM"
    _, cache = reference_forward(s)
    np.testing.assert_allclose(
        w.gates.bars.opts["height"], cache[phase.time]["f"].mean(axis=0), rtol=1e-10
    )
    assert w.values()["forget_gate_mean"] == format_value(phase.norms["forget_gate_mean"], "f")
    assert w.charts.currentWidget() is w.gates
    old = w.values()
    s2 = session("lstm")
    s2.run(1)
    fwd = s2.step_phase()  # a forward phase: no numbers of the backward step stay on screen
    w.set_data(fwd, "LSTM", s2.snapshot())
    assert w.values() == {}
    assert all(frame.isHidden() for frame, *_ in w._rows)
    assert w.charts.isHidden()
    assert "Next: <b>loss read-out</b>" in w.text.text()
    assert not any(v in w.text.text() for v in old.values())
    w.set_data(None, "", None)
    assert "forward layer 1" in w.text.text()


def test_the_diagram_renders_for_export_at_twice_the_pixels(qtbot, views):
    d = diagram(qtbot, views[200], (640, 260))
    pix = d.render_pixmap(2.0)
    assert (pix.width(), pix.height()) == (1280, 520)
    image = pix.toImage()
    last = d.box_rect(2, 199).center() * 2  # computed: a colour of the scale
    assert image.pixelColor(int(last.x()), int(last.y())).saturation() > 40
