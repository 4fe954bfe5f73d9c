"""Shared builders for the window tests: a tiny experiment and a window that has drawn."""

from __future__ import annotations

from engine.config import ExperimentConfig, updated
from gui.main_window import MainWindow

TIMEOUT = 20_000  # ms; the kernels are compiled up front (conftest), this is for busy machines
DEPTH = 3


def tiny(**changes) -> ExperimentConfig:
    """A 3-layer net on 200 spiral points: builds and steps in milliseconds."""
    base = {
        "data.name": "spiral",
        "data.n_samples": 200,
        "model.depth": DEPTH,
        "model.width": 8,
        "training.batch_size": 16,
        "training.eval_every": 10,
    }
    base.update(changes)
    return updated(ExperimentConfig(name="tiny"), **base)


def open_window(qtbot, config: ExperimentConfig, size: tuple[int, int] = (1400, 900)) -> MainWindow:
    """The main window on ``config``, shown at ``size``, once its first frame is drawn."""
    w = MainWindow(config=config)
    qtbot.addWidget(w)  # closed (and its worker stopped) after the test
    w.resize(*size)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    return w
