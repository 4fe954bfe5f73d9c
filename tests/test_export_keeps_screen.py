"""Exporting a plot never changes the plot on screen (issue 13: it stayed clipped at the
export size), and the file has the size asked for."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow

from gui import export, theme
from gui.panels.curves import CurvePlot
from gui.panels.gradient_chart import GradientChart

theme.configure_pyqtgraph(light=True)
LABELS = [f"hidden {k}" for k in range(1, 11)] + ["output"]


def screen_state(panel) -> dict:
    """Everything that decides how the panel looks on screen."""
    view = panel.plot
    return {
        "view": view.size().toTuple(),
        "scene": view.sceneRect().getRect(),
        "item": panel.plot_item.geometry().getRect(),
        "ranges": [vb.viewRange() for vb in view.scene().items() if isinstance(vb, pg.ViewBox)],
    }


def chart_with_legend() -> GradientChart:
    """A chart whose legend (4 entries) is one row wide at export size, 4 rows on screen."""
    chart = GradientChart()
    values = 0.3 ** np.arange(11, 0, -1)
    chart.set_data({"||dL/dW_k||": values, "||\u03b4_k||": 2 * values}, LABELS)
    chart.set_overlay("mean field at init", values * 1.1)
    chart.set_overlay("a dotted overlay", 0.25 ** np.arange(11, 0, -1), "dot")
    return chart


@pytest.mark.parametrize("size", [(291, 384), (700, 420)])
def test_export_leaves_the_on_screen_plot_unchanged(qtbot, tmp_path, size):
    window = QMainWindow()
    qtbot.addWidget(window)
    chart = chart_with_legend()
    window.setCentralWidget(chart)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    before = screen_state(chart)
    assert before["item"][2:] == before["view"]  # the plot fills its view
    for suffix, width in ((".png", 1200), (".svg", 1200), (".png", 500)):
        path = tmp_path / f"chart{suffix}"
        export.export_plot(chart, path, width=width)
        assert screen_state(chart) == before, suffix
        QApplication.processEvents()
        assert screen_state(chart) == before, suffix
        if suffix == ".png":
            img = QImage(str(path))
            assert img.width() == width
            # the figure has the plot's on-screen aspect, a tall plot's made square
            lo, hi = export.EXPORT_ASPECT
            aspect = min(max(size[1] / size[0], lo), hi)
            assert abs(img.height() - width * aspect) <= 2
    grabbed = chart.plot.grab().toImage()
    assert grabbed.size() == chart.plot.size()
    # the legend scales with the rest of an exported figure (pyqtgraph's floats unscaled)
    flags = chart.legend.flags()
    assert not flags & chart.legend.GraphicsItemFlag.ItemIgnoresTransformations


def test_export_of_a_panel_behind_a_tab_leaves_it_laid_out_for_its_dock(qtbot, tmp_path):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QLabel("centre"))
    front, behind = CurvePlot("Loss", "loss"), CurvePlot("Accuracy", "accuracy")
    docks = []
    for title, panel in (("Loss", front), ("Accuracy", behind)):
        dock = QDockWidget(title, window)
        dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        docks.append(dock)
        panel.set_data({"train": (np.arange(1, 51), np.linspace(1.0, 0.1, 50))})
    window.tabifyDockWidget(*docks)
    docks[0].raise_()
    window.resize(700, 500)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    before = behind.plot.size().toTuple()
    export.export_plot(behind, tmp_path / "acc.png", width=900)
    assert QImage(str(tmp_path / "acc.png")).width() == 900
    assert behind.plot.size().toTuple() == before
    docks[1].raise_()
    qtbot.waitUntil(lambda: behind.plot.size() == behind.size())
    state = screen_state(behind)
    assert state["item"][2:] == state["view"]
