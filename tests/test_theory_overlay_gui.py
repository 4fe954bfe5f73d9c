"""The main window's gradient chart draws the mean-field line at init, or says why not."""

from __future__ import annotations

import numpy as np
from gui_helpers import TIMEOUT, open_window, tiny

from engine.theory_lines import WIDE_LABEL


def _stepped(qtbot, **changes):
    w = open_window(qtbot, tiny(**{"model.activation": "sigmoid", "model.depth": 6, **changes}))
    assert not w.gradient_chart.overlays  # before step 1 there is nothing to anchor to
    w.act_step.trigger()
    qtbot.waitUntil(
        lambda: (f := w.controller.latest).snapshot.step == 1 and w.drawn_serial == f.serial,
        timeout=TIMEOUT,
    )
    return w, w.controller.latest


def test_sigmoid_net_shows_the_mean_field_line(qtbot):
    w, frame = _stepped(qtbot)
    assert frame.overlays.reason == ""
    assert list(w.gradient_chart.overlays) == [WIDE_LABEL]  # width 8: the wide-net caveat
    drawn = w.gradient_chart.overlays[WIDE_LABEL]
    expected = frame.overlays.curves[WIDE_LABEL]
    np.testing.assert_allclose(drawn.yData[:6], expected[:6])
    # anchored at step 1's last hidden layer, as measured
    assert expected[5] == frame.snapshot.layers["grad_norm"][5]
    assert w.gradient_chart.note == ""


def test_batch_norm_net_shows_no_line_and_the_reason(qtbot):
    w, frame = _stepped(qtbot, **{"model.batch_norm": "pre"})
    assert not w.gradient_chart.overlays
    assert frame.overlays.curves == {}
    assert w.gradient_chart.note.startswith("no mean-field line:")
    assert "batch norm" in w.gradient_chart.note
    assert frame.overlays.reason == w.gradient_chart.note
