"""Shared builders for the window tests: a tiny experiment and a window that has drawn."""

from __future__ import annotations

from engine_helpers import tiny  # noqa: F401 -- the window tests' experiment

from engine.config import ExperimentConfig
from gui.main_window import MainWindow

TIMEOUT = 20_000  # ms; the kernels are compiled up front (conftest), this is for busy machines
DEPTH = 3  # tiny()'s depth


def open_window(qtbot, config: ExperimentConfig, size: tuple[int, int] = (1400, 900)) -> MainWindow:
    """The main window on ``config``, shown at ``size``, once its first frame is drawn."""
    w = MainWindow(config=config)
    qtbot.addWidget(w)  # closed (and its worker stopped) after the test
    w.resize(*size)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    return w
