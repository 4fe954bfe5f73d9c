"""'Not computed yet' is drawn as empty, never as a divergence (issue 13).

Before the first step every per-layer metric is NaN in the session's table, and during the
first step-through the layers not reached yet are too.  The panels must show those as
nothing (no point, no NaN marker, a dash), and keep the NaN markers for values a
computation really produced.
"""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import DEPTH, TIMEOUT, open_window, tiny

from engine.session import LAYER_METRICS, Session
from gui import theme
from gui.main_window import MainWindow
from gui.panels.gradient_chart import GradientChart
from gui.panels.inspector import Inspector
from gui.panels.network_diagram import NOT_COMPUTED, NetworkDiagram

theme.configure_pyqtgraph(light=True)
DASH = "\u2014"


def labels(depth: int) -> list[str]:
    return [f"hidden {k + 1}" for k in range(depth)] + ["output"]


# --- engine: the snapshot says what is computed ------------------------------------------------
def test_snapshot_marks_what_each_phase_computed():
    s = Session(tiny())
    snap = s.snapshot()
    for metric in LAYER_METRICS:
        assert not snap.is_computed(metric).any(), metric
        assert np.isnan(snap.layers[metric]).all(), metric
    s.step_phase()  # forward hidden 1
    snap = s.snapshot()
    assert snap.is_computed("fprime_mean").tolist() == [True, False, False, False]
    assert not snap.is_computed("grad_norm").any()
    while s.next_phase() != ("backward", DEPTH - 1):  # through the loss and backward output
        s.step_phase()
    snap = s.snapshot()
    assert snap.is_computed("grad_norm").tolist() == [False, False, False, True]
    assert np.isfinite(snap.layers["grad_norm"][snap.is_computed("grad_norm")]).all()
    while s.next_phase() != ("forward", 0):
        s.step_phase()
    snap = s.snapshot()
    for metric in ("grad_norm", "delta_norm", "weight_norm", "update_ratio", "z_mean"):
        assert snap.is_computed(metric).all(), metric
        assert np.isfinite(snap.layers[metric]).all(), metric
    # the output layer has no f'(z); sigmoid layers have no PReLU gradient: never computed
    assert snap.is_computed("fprime_mean").tolist() == [True, True, True, False]
    assert not snap.is_computed("prelu_grad").any()


def test_fused_step_that_diverges_marks_the_phases_up_to_the_failure():
    s = Session(
        tiny(**{"model.init": "normal", "model.init_scale": 1e200, "model.activation": "relu"})
    )
    assert not s.step()
    snap = s.snapshot()
    d = snap.divergence
    assert d is not None
    assert d.phase == "forward"
    fwd = snap.is_computed("z_mean")
    assert fwd[: d.layer + 1].all()
    assert not fwd[d.layer + 1 :].any()
    assert not snap.is_computed("grad_norm").any()


# --- panels ------------------------------------------------------------------------------------
def test_gradient_chart_draws_nothing_for_values_not_computed(qtbot):
    chart = GradientChart()
    qtbot.addWidget(chart)
    nan = np.full(DEPTH + 1, np.nan)
    chart.set_data({"g": nan}, labels(DEPTH), computed={"g": np.zeros(DEPTH + 1, bool)})
    assert len(chart.marker_points("bad")) == 0
    assert len(chart.series_points("g")[0]) == 0
    assert "NaN / inf" not in [lbl.text for _, lbl in chart.legend.items]
    # half-way through a step-through: the computed layers are drawn, the others are not
    v = np.array([np.nan, np.nan, 1e-3, 1e-2])
    chart.set_data({"g": v}, labels(DEPTH), computed={"g": ~np.isnan(v)})
    assert chart.series_points("g")[0].tolist() == [2.0, 3.0]
    assert len(chart.marker_points("bad")) == 0
    # a NaN that a computation produced is a divergence: marked
    v = np.array([np.nan, np.inf, 1e-3, 1e-2])
    chart.set_data({"g": v}, labels(DEPTH), computed={"g": np.ones(DEPTH + 1, bool)})
    assert chart.marker_points("bad").tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="computed mask"):
        chart.set_data({"g": v}, labels(DEPTH), computed={"g": np.ones(2, bool)})


def test_diagram_prints_a_dash_not_nan_for_layers_not_computed(qtbot):
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.set_architecture(
        [2, 8, 8, 8, 3], ["", "sigmoid", "sigmoid", "sigmoid", "linear"], ["input", *labels(DEPTH)]
    )
    assert d.canvas.norm_texts == [NOT_COMPUTED] * (DEPTH + 1)
    nan = np.full(DEPTH + 1, np.nan)
    d.set_data(nan, None, computed=np.zeros(DEPTH + 1, bool))
    assert d.canvas.norm_texts == [NOT_COMPUTED] * (DEPTH + 1)
    d.set_data(
        np.array([np.nan, np.nan, 2e-3, 1.0]), None, computed=np.array([False, False, True, True])
    )
    assert d.canvas.norm_texts == [NOT_COMPUTED, NOT_COMPUTED, "2.0e-03", "1.0e+00"]
    d.set_data(np.array([np.nan, np.inf, 2e-3, 1.0]), None)  # diverged: say so
    assert d.canvas.norm_texts[:2] == ["NaN", "inf"]


def test_inspector_dash_for_not_computed_nan_for_a_real_nan(qtbot):
    ins = Inspector()
    qtbot.addWidget(ins)
    ins.set_data(
        "hidden 1",
        "sigmoid",
        {"W": (2, 8)},
        {"grad_norm": None, "delta_norm": float("nan"), "fprime_mean": 0.2},
    )
    shown = ins.values()
    assert shown["grad_norm"] == DASH
    assert shown["delta_norm"] == "NaN"
    assert shown["fprime_mean"] == "0.2"


# --- the main window, before the first step and mid step-through --------------------------------
@pytest.fixture
def window(qtbot):
    return open_window(qtbot, tiny())


def no_nan_shown(w: MainWindow) -> None:
    assert len(w.gradient_chart.marker_points("bad")) == 0
    assert "NaN" not in w.diagram.canvas.norm_texts
    assert "nan" not in w.diagram.canvas.norm_texts
    assert "NaN" not in w.inspector.values().values()


def test_window_before_the_first_step_shows_no_divergence_markers(window):
    assert window.controller.latest.snapshot.step == 0
    no_nan_shown(window)
    assert window.diagram.canvas.norm_texts == [NOT_COMPUTED] * (DEPTH + 1)
    assert set(window.inspector.values().values()) == {DASH, f"{DASH} / {DASH}"}
    for name in ("||dL/dW_k||", "||\u03b4_k||"):
        assert len(window.gradient_chart.series_points(name)[0]) == 0
    assert "z 16 \u00d7 8" in window.inspector.header.text()


def test_window_mid_step_phase_draws_only_the_layers_reached(qtbot, window):
    # forward through every layer, the loss, backward through the output and hidden 3
    n = (DEPTH + 1) + 1 + 2
    for i in range(n):
        window.act_phase.trigger()
        qtbot.waitUntil(
            lambda i=i: (
                window.controller.latest.snapshot.phase_result is not None
                and window.controller.latest.snapshot.phase_result.index == i
                and window.drawn_serial == window.controller.latest.serial
            ),
            timeout=TIMEOUT,
        )
        no_nan_shown(window)
    x, y = window.gradient_chart.series_points("||dL/dW_k||")
    assert x.tolist() == [2.0, 3.0]
    assert (y > 0).all()
    texts = window.diagram.canvas.norm_texts
    assert texts[:2] == [NOT_COMPUTED] * 2
    assert NOT_COMPUTED not in texts[2:]
    shown = window.inspector.values()  # hidden 1: forward done, backward not
    assert shown["fprime_mean"] != DASH
    assert shown["grad_norm"] == DASH
    window.act_step.trigger()  # finish the step: everything drawn
    qtbot.waitUntil(
        lambda: (
            window.controller.latest.snapshot.step == 1
            and window.drawn_serial == window.controller.latest.serial
        ),
        timeout=TIMEOUT,
    )
    assert window.gradient_chart.series_points("||dL/dW_k||")[0].tolist() == [0, 1, 2, 3]
    assert NOT_COMPUTED not in window.diagram.canvas.norm_texts
    no_nan_shown(window)
