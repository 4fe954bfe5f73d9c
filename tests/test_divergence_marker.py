"""The step where a run diverged is marked on the loss and accuracy plots (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import TIMEOUT, open_window

from engine.config import ExperimentConfig, updated
from gui import export, theme
from gui.panels.curves import CurvePlot

theme.configure_pyqtgraph(light=True)


def diverging() -> ExperimentConfig:
    """An identity network with MSE and a learning rate of 1: NaN within ~10 steps."""
    return updated(
        ExperimentConfig(name="diverging"),
        **{
            "data.name": "spiral",
            "data.n_samples": 200,
            "model.depth": 3,
            "model.width": 8,
            "model.activation": "identity",
            "model.loss": "mse",
            "training.batch_size": 16,
            "training.learning_rate": 1.0,
            "training.eval_every": 0,
        },
    )


@pytest.fixture
def window(qtbot):
    return open_window(qtbot, diverging())


def test_divergence_is_marked_on_loss_and_accuracy(qtbot, window, tmp_path):
    w = window
    assert w.loss_plot.event is None
    w.act_play.trigger()
    qtbot.waitUntil(
        lambda: w.controller.latest.snapshot.divergence is not None and not w.controller.running,
        timeout=TIMEOUT,
    )
    qtbot.waitUntil(lambda: w.drawn_serial == w.controller.latest.serial, timeout=TIMEOUT)
    step = w.controller.latest.snapshot.divergence.step
    for name, panel in (("loss", w.loss_plot), ("accuracy", w.accuracy_plot)):
        w.docks[name].raise_()  # a tab behind catches up with the marker
        qtbot.waitUntil(lambda p=panel: p.event is not None, timeout=TIMEOUT)
        assert panel.event == (step, f"diverged at step {step}")
        assert panel.event_line.isVisible()
        assert panel.event_line.label.isVisible()
        # the line is inside the plot's x range, so it is always in view
        qtbot.waitUntil(
            lambda p=panel: p.plot_item.viewRange()[0][0] < step < p.plot_item.viewRange()[0][1],
            timeout=TIMEOUT,
        )
    # it is part of an export
    export.export_plot(w.loss_plot, tmp_path / "loss.svg")
    assert f"diverged at step {step}" in (tmp_path / "loss.svg").read_text()
    # a fresh start (R) removes it
    w.act_reset.trigger()
    qtbot.waitUntil(
        lambda: (
            w.controller.latest.snapshot.step == 0 and w.drawn_serial == w.controller.latest.serial
        ),
        timeout=TIMEOUT,
    )
    qtbot.waitUntil(lambda: w.loss_plot.event is None, timeout=TIMEOUT)


def test_curve_plot_event_line(qtbot):
    plot = CurvePlot("Loss", "loss", log_y=True)
    qtbot.addWidget(plot)
    plot.set_data({"train": (np.arange(1, 11), np.linspace(1, 0.5, 10))})
    plot.set_event(11, "diverged at step 11")
    assert plot.event == (11.0, "diverged at step 11")
    plot.set_event(None)
    assert plot.event is None
    plot.set_event(5, "x")
    plot.reset()
    assert plot.event is None
