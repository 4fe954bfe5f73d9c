"""After a rebuild every panel shows the new network and nothing of the old one (issue 13)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from gui_helpers import TIMEOUT, open_window, tiny
from test_legend_colours import assert_legend_matches_curves

from engine.config import ExperimentConfig
from gui import theme
from gui.main_window import MainWindow
from gui.panels.curves import CurvePlot
from gui.panels.gradient_chart import GradientChart
from gui.panels.heatmap import LayerHeatmap
from gui.panels.histogram import HistogramPanel

theme.configure_pyqtgraph(light=True)
NEW_LABELS = ["h1", "h2", "h3", "out"]


def config(depth: int) -> ExperimentConfig:
    return tiny(
        name="rebuild", **{"model.depth": depth, "data.n_samples": 240, "training.eval_every": 5}
    )


def tick_labels(panel, axis: str) -> list[str]:
    """Every tick label the axis shows (major and minor)."""
    ticks = panel.plot.getPlotItem().getAxis(axis)._tickLevels or []
    return [text for level in ticks for _, text in level if text]


def drawn_items(panel) -> list:
    """Items of the panel's plot that hold data (curves, bars, images)."""
    out = []
    for item in panel.plot.getPlotItem().items:
        if isinstance(item, pg.PlotDataItem | pg.PlotCurveItem):
            if item.xData is not None and len(item.xData):
                out.append(item)
        elif isinstance(item, pg.ImageItem) and item.image is not None and item.image.size:
            out.append(item)
    return out


@pytest.fixture
def window(qtbot):
    return open_window(qtbot, config(10), (1500, 950))


def drawn_now(w: MainWindow) -> bool:
    return w.drawn_serial == w.controller.latest.serial


def test_depth_change_resets_every_panel(qtbot, window):
    w = window
    w.docks["delta_hist"].raise_()
    w.select_layer(8)  # hidden 9: only the old network has it
    w.act_epoch.trigger()
    qtbot.waitUntil(
        lambda: (
            w.controller.latest.snapshot.epoch == 1 and not w.controller.running and drawn_now(w)
        ),
        timeout=TIMEOUT,
    )
    for name in ("gradients", "heatmap", "loss", "accuracy", "delta_hist", "fprime_hist"):
        w.draw_panel(name, w.controller.latest)
    old_steps = w.controller.latest.snapshot.step
    assert old_steps > 10
    assert drawn_items(w.heatmap)
    assert drawn_items(w.loss_plot)
    assert drawn_items(w.delta_hist)
    assert "h10" in tick_labels(w.heatmap, "left")

    gen = w.controller.latest.generation
    w.controls.model_depth.setValue(3)  # through the controls, as a user does
    qtbot.waitUntil(
        lambda: (
            w.controller.latest.generation > gen
            and drawn_now(w)
            and w.controller.latest.snapshot.depth == 3
        ),
        timeout=TIMEOUT,
    )

    assert tick_labels(w.gradient_chart, "bottom") == NEW_LABELS
    assert tick_labels(w.heatmap, "left") == NEW_LABELS
    assert not drawn_items(w.heatmap)
    x0, x1 = w.gradient_chart.plot.getPlotItem().viewRange()[0]
    assert x0 < 0 < 3 < x1 < 4
    for panel in (w.loss_plot, w.accuracy_plot):
        assert not drawn_items(panel), panel
        assert panel.plot.getPlotItem().viewRange()[0][1] < old_steps / 2, panel
    for panel in (w.delta_hist, w.fprime_hist):
        assert not drawn_items(panel), panel
        assert panel.title == panel.base_title
    assert len(w.diagram.canvas.widths) == 3 + 2
    assert w.selected_layer == 3
    assert "output" in w.inspector.header.text()
    assert "hidden 9" not in w.inspector.header.text()
    assert set(w.inspector.values().values()) <= {"\u2014", "\u2014 / \u2014"}

    # the first step of the new network draws 3 layers + output everywhere
    w.act_step.trigger()
    qtbot.waitUntil(
        lambda: w.controller.latest.snapshot.step == 1 and drawn_now(w), timeout=TIMEOUT
    )
    w.draw_panel("heatmap", w.controller.latest)
    assert w.heatmap.image.image.shape == (1, 4)
    assert w.loss_plot.plot.getPlotItem().viewRange()[0][1] < old_steps / 2


# --- each panel's reset forgets everything it showed --------------------------------------------
def test_gradient_chart_reset_forgets_the_layers(qtbot):
    chart = GradientChart()
    qtbot.addWidget(chart)
    chart.set_data(
        {"g": 10.0 ** -np.arange(11.0)}, [f"hidden {k}" for k in range(1, 11)] + ["output"]
    )
    chart.reset()
    assert tick_labels(chart, "bottom") == []
    assert not drawn_items(chart)


def test_heatmap_reset_forgets_the_layer_labels_and_set_layers_shows_new_ones(qtbot):
    hm = LayerHeatmap()
    qtbot.addWidget(hm)
    hm.resize(500, 400)
    labels10 = [f"hidden {k}" for k in range(1, 11)] + ["output"]
    hm.set_data(np.arange(1, 6), np.ones((5, 11)), labels10)
    hm.reset()
    assert tick_labels(hm, "left") == []
    hm.set_layers(["hidden 1", "hidden 2", "hidden 3", "output"])
    assert tick_labels(hm, "left") == NEW_LABELS
    assert hm.plot.getPlotItem().viewRange()[1] == pytest.approx([-0.5, 3.5])


def test_curve_reset_forgets_the_axes(qtbot):
    curves = CurvePlot("Loss", "loss", log_y=True)
    qtbot.addWidget(curves)
    curves.resize(400, 300)
    curves.show()
    curves.set_data({"train": (np.arange(1, 5001), np.linspace(3, 0.01, 5000))})
    curves.plot.getPlotItem().vb.autoRange()
    assert curves.plot.getPlotItem().viewRange()[0][1] > 4000
    curves.reset()
    assert curves.plot.getPlotItem().viewRange()[0][1] < 10
    curves.set_data({"train": (np.arange(1, 21), np.linspace(3, 1, 20))})
    qtbot.waitUntil(lambda: 15 < curves.plot.getPlotItem().viewRange()[0][1] < 40)


def test_histogram_reset_forgets_bars_axes_and_log_mode(qtbot):
    h = HistogramPanel("delta", "|delta|")
    qtbot.addWidget(h)
    h.set_data(10.0 ** -np.linspace(1, 9, 500), log_x=True)
    h.reset()
    assert not drawn_items(h)
    assert h.title == "delta"
    assert not h.log_x
    assert h.plot.getPlotItem().viewRange()[0] == pytest.approx([0.0, 1.0])


def test_a_rebuild_shows_the_empty_heatmap_and_a_legend_like_the_curves(qtbot):
    w = open_window(qtbot, config(4), (1366, 768))
    for _ in range(3):
        w.act_step.trigger()
    qtbot.waitUntil(
        lambda: w.controller.latest.snapshot.step == 3 and drawn_now(w), timeout=TIMEOUT
    )
    w.draw_panel("heatmap", w.controller.latest)
    assert w.heatmap.levels != (-8.0, 0.0)  # the run's own scale
    assert_legend_matches_curves(w.gradient_chart)
    gen = w.controller.latest.generation
    box = w.controls.model_activation
    box.setCurrentIndex(box.findData("relu"))
    qtbot.waitUntil(lambda: w.controller.latest.generation > gen and drawn_now(w), timeout=TIMEOUT)
    fresh = LayerHeatmap()
    qtbot.addWidget(fresh)
    assert w.heatmap.levels == fresh.levels == (-8.0, 0.0)
    assert tuple(w.heatmap.bar.levels()) == (-8.0, 0.0)
    x0, x1 = w.heatmap.plot.getPlotItem().viewRange()[0]
    assert 0.0 <= x0 < x1, (x0, x1)
    assert not [t for t in tick_labels(w.heatmap, "bottom") if t.startswith(("-", "\u2212"))]
    assert_legend_matches_curves(w.gradient_chart)
