"""The plot panels (offscreen): normal and hostile data, 1 and 100 layers, items made once."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from engine.activations import ACTIVATIONS
from gui import export, theme
from gui.panels.activation_view import ActivationView
from gui.panels.curves import CurvePlot
from gui.panels.decision_boundary import DecisionBoundary
from gui.panels.gradient_chart import GradientChart
from gui.panels.heatmap import LayerHeatmap, auto_levels, shared_levels
from gui.panels.histogram import HistogramPanel

theme.configure_pyqtgraph(light=True)
RNG = np.random.default_rng(0)


def labels(depth: int) -> list[str]:
    return [f"hidden {k + 1}" for k in range(depth)] + ["output"]


def hostile(n: int) -> np.ndarray:
    """Positive values with an exact zero, a NaN and an inf mixed in (where they fit)."""
    v = 10.0 ** -np.arange(n, 0, -1, dtype=np.float64)
    for i, bad in zip((0, n // 2, n - 1), (0.0, np.nan, np.inf), strict=True):
        if i < n:
            v[i] = bad
    return v


def item_counts(panel) -> tuple[int, int]:
    """(items in the PlotItem, items in the whole scene): neither may grow with updates."""
    return len(panel.plot.getPlotItem().items), len(panel.plot.scene().items())


def show(qtbot, panel, size=(700, 420)):
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    return panel


def drawn(panel, path) -> int:
    """Export the panel and return the number of distinct colours in the PNG."""
    export.export_plot(panel.plot, path, width=600)
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    assert img.width() == 600
    px = np.frombuffer(img.constBits(), np.uint32, count=img.width() * img.height())
    return len(np.unique(px))


def curve_ys(item: pg.PlotDataItem) -> np.ndarray:
    return np.asarray(item.getData()[1], dtype=np.float64)


# --- theme --------------------------------------------------------------------------------------


def test_palette_and_layer_ticks():
    assert len(theme.PALETTE) == 8
    assert len(set(theme.PALETTE)) == 8
    assert theme.color(0) == theme.color(8)
    assert all(pg.mkColor(c).isValid() for c in theme.PALETTE)
    pg.colormap.get(theme.LAYER_COLORMAP)  # a colour map pyqtgraph knows
    major, minor = theme.layer_ticks(labels(3))
    assert [t for _, t in major] == ["h1", "h2", "h3", "out"]
    assert minor == []
    major, minor = theme.layer_ticks(labels(100), max_ticks=12)
    texts = [t for _, t in major]
    assert texts[0] == "h1"
    assert texts[-1] == "out"
    assert "h50" in texts
    assert len(major) <= 12
    assert len(major) + len(minor) == 101
    assert "h100" not in texts  # would sit right next to "out"


def test_log_axis_labels(qtbot):
    axis = theme.Axis("left")
    assert axis.logTickStrings([-6.0, 0.0, 2.0, np.log10(5e-2), np.log10(3.0)], 1.0, 1.0) == [
        "10\u207b\u2076",
        "1",
        "100",
        "0.05",
        "",
    ]


# --- gradient chart -----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [0, 1, 10, 100])
def test_gradient_chart_normal_and_hostile_data(qtbot, tmp_path, depth):
    chart = show(qtbot, GradientChart())
    n = depth + 1
    good = 0.5 ** np.arange(n, 0, -1)
    chart.set_data({"grad": good, "bad": hostile(n)}, labels(depth))
    item = chart.plot.getPlotItem()
    assert item.ctrl.logYCheck.isChecked()  # log y axis
    ys = curve_ys(chart.series["grad"])
    assert np.allclose(10**ys, good)
    bad_y = curve_ys(chart.series["bad"])
    assert np.all(np.isfinite(bad_y) | np.isnan(bad_y))  # no inf reaches the axis
    if n >= 3:
        assert len(chart.marker_points("zero")) == 1
        assert len(chart.marker_points("bad")) == 2  # the NaN and the inf
    assert chart.legend.isVisible()
    assert drawn(chart, tmp_path / "g.png") > 8


def test_gradient_chart_all_zero_or_nan_does_not_break_the_axis(qtbot, tmp_path):
    chart = show(qtbot, GradientChart())
    chart.set_data({"zeros": np.zeros(5)}, labels(4))
    assert len(chart.marker_points("zero")) == 5
    chart.set_data({"nan": np.full(5, np.nan)}, labels(4))
    assert len(chart.marker_points("bad")) == 5
    assert drawn(chart, tmp_path / "z.png") > 3


def test_gradient_chart_items_made_once_and_series_removed(qtbot):
    chart = show(qtbot, GradientChart())
    chart.set_data({"a": np.ones(11), "b": np.ones(11)}, labels(10))
    chart.set_overlay("theory", np.ones(11))
    first = chart.series["a"]
    counts = item_counts(chart)
    for i in range(50):
        v = RNG.uniform(0.1, 1, 11)
        v[i % 11] = 0.0 if i % 2 else np.nan
        chart.set_data({"a": v, "b": v * 2}, labels(10))
        chart.set_overlay("theory", v * 3)
        chart.set_overlay("bound", v if i % 2 else None, style="dot")
    chart.set_overlay("bound", None)
    chart.set_data({"a": np.ones(11), "b": np.ones(11)}, labels(10))
    assert chart.series["a"] is first
    assert item_counts(chart) == counts
    chart.set_data({"a": np.ones(11)}, labels(10))
    assert "b" not in chart.series
    assert len(chart.plot.getPlotItem().items) == counts[0] - 1


def test_gradient_chart_overlay_legend_title_and_reset(qtbot):
    chart = show(qtbot, GradientChart())
    chart.set_data({"only": np.ones(4)}, labels(3))
    assert not chart.legend.isVisible()  # one series: no legend
    chart.set_overlay("mean field at init", np.array([0.0, 1e-3, 1e-2, 1e-1]))
    assert chart.legend.isVisible()
    ov = chart.overlays["mean field at init"]
    assert ov.opts["pen"].style() == pg.QtCore.Qt.PenStyle.DashLine
    assert np.isnan(curve_ys(ov)[0])  # 0 is a gap on a log axis
    chart.set_overlay("mean field at init", None)
    assert "mean field at init" not in chart.overlays
    chart.set_note("no mean-field line: batch norm")
    assert chart.note == "no mean-field line: batch norm"
    chart.set_title("Deep sigmoid")
    chart.set_y_label("||delta||")
    assert "Deep sigmoid" in chart.plot.getPlotItem().titleLabel.text
    assert "||delta||" in chart.plot.getPlotItem().getAxis("left").labelText
    chart.reset()
    assert chart.series == {}
    assert chart.overlays == {}
    assert chart.note == ""  # reset clears the note too
    assert not chart.legend.isVisible()
    with pytest.raises(ValueError, match="3 layer labels"):
        chart.set_data({"long": np.ones(5)}, labels(2))


def test_gradient_chart_aligns_shorter_series_at_the_output(qtbot):
    chart = show(qtbot, GradientChart())
    chart.set_data({"deep": np.ones(6), "shallow": np.ones(3)}, labels(5), align="output")
    assert list(chart.series["shallow"].xData) == [3.0, 4.0, 5.0]


# --- heatmap ------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [0, 1, 10, 100])
def test_heatmap_normal_and_hostile(qtbot, tmp_path, depth):
    heat = show(qtbot, LayerHeatmap())
    n = 40
    steps = np.arange(1, n + 1) * 10
    values = np.outer(np.linspace(1, 2, n), 0.5 ** np.arange(depth + 1, 0, -1))
    values[5, 0] = 0.0
    values[6, -1] = np.nan
    values[7, 0] = np.inf
    heat.set_data(steps, values, labels(depth))
    img = heat.image.image
    assert img.shape == (n, depth + 1)
    lo, hi = heat.levels
    assert lo < hi
    assert np.isfinite(lo)
    assert np.isfinite(hi)
    assert img[5, 0] == lo  # zero: the bottom of the scale
    assert np.isnan(img[6, -1])
    assert np.isnan(img[7, 0])
    assert heat.bar.levels() == pytest.approx((lo, hi))
    major = heat.plot.getPlotItem().getAxis("left")._tickLevels[0]
    assert major[-1][1] == "out"
    assert len(major) <= 30
    assert drawn(heat, tmp_path / "h.png") > 8


def test_heatmap_levels_given_auto_and_shared(qtbot):
    heat = show(qtbot, LayerHeatmap())
    steps = np.arange(5)
    values = np.full((5, 3), 1e-3)
    heat.set_data(steps, values, labels(2), levels=(-6.0, 0.0))
    assert heat.levels == (-6.0, 0.0)
    heat.set_data(steps, values, labels(2))
    assert heat.levels == pytest.approx((-3.5, -2.5))  # constant data: a unit range
    assert auto_levels(np.full((2, 2), np.nan)) == (-8.0, 0.0)
    assert shared_levels(
        [np.array([[1e-4, 1.0]]), np.array([[0.0, 1e2, np.nan]])]
    ) == pytest.approx((-4.0, 2.0))


def test_heatmap_uneven_steps_and_single_step(qtbot):
    heat = show(qtbot, LayerHeatmap())
    steps = np.array([1, 2, 3, 4, 6, 8, 10, 12])
    heat.set_data(steps, np.ones((8, 3)), labels(2))
    rect = heat.image.mapRectToParent(heat.image.boundingRect())
    assert rect.left() < 1
    assert rect.right() > 12
    heat.set_data(np.array([7]), np.array([[0.5]]), ["output"])
    assert heat.image.image.shape == (1, 1)
    with pytest.raises(ValueError, match="n_steps"):
        heat.set_data(np.arange(3), np.ones((4, 2)), labels(1))


def test_heatmap_items_made_once_and_reset(qtbot):
    heat = show(qtbot, LayerHeatmap())
    heat.set_data(np.arange(10), np.ones((10, 4)), labels(3))
    counts = item_counts(heat)
    for i in range(50):
        n = 10 + i
        heat.set_data(np.arange(n), RNG.uniform(1e-6, 1, (n, 4)), labels(3))
    assert item_counts(heat) == counts
    heat.reset()
    assert heat.image.image is None
    assert item_counts(heat) == counts


# --- curves -------------------------------------------------------------------------------------


def test_curves_reuse_items_and_drop_missing_names(qtbot, tmp_path):
    plot = show(qtbot, CurvePlot("Loss", "loss", log_y=True))
    s = np.arange(100.0)
    plot.set_data({"train": (s, np.exp(-s / 30)), "test": (s[::10], np.exp(-s[::10] / 40))})
    train = plot.series["train"]
    counts = item_counts(plot)
    for i in range(50):
        plot.set_data({"train": (s, np.exp(-s / (30 + i))), "test": (s[::10], s[::10] + 1)})
    assert plot.series["train"] is train
    assert item_counts(plot) == counts
    plot.set_data({"train": (s, np.exp(-s / 30))})
    assert list(plot.series) == ["train"]
    assert len(plot.plot.getPlotItem().items) == counts[0] - 1
    assert drawn(plot, tmp_path / "c.png") > 8


def test_curves_hostile_values_and_styles(qtbot):
    plot = show(qtbot, CurvePlot("Loss", "loss", log_y=True))
    y = np.array([1.0, 0.0, -1.0, np.nan, np.inf, 0.5])
    plot.set_data({"x": (np.arange(6), y)}, styles={"x": {"color": "#ff0000", "dash": True}})
    ys = curve_ys(plot.series["x"])
    assert np.isfinite(ys[[0, 5]]).all()
    assert np.isnan(ys[1:5]).all()
    assert plot.series["x"].opts["pen"].style() == pg.QtCore.Qt.PenStyle.DashLine
    lin = show(qtbot, CurvePlot("Accuracy", "accuracy"))
    lin.set_data({"acc": (np.arange(3), np.full(3, np.nan))})
    lin.set_data({"one": (np.array([5]), np.array([0.5]))})  # a lone point gets a symbol
    assert lin.series["one"].opts["symbol"] == "o"
    with pytest.raises(ValueError, match="3 steps but 2 values"):
        lin.set_data({"bad": (np.arange(3), np.ones(2))})


def test_curves_long_history_is_clipped_and_downsampled(qtbot):
    plot = show(qtbot, CurvePlot("Loss", "loss"))
    s = np.arange(200_000.0)
    plot.set_data({"train": (s, np.sin(s / 1000))})
    it = plot.series["train"]
    assert it.opts["clipToView"]
    assert it.opts["autoDownsample"]
    assert it.opts["downsampleMethod"] == "peak"
    plot.reset()
    assert plot.series == {}


# --- histogram ----------------------------------------------------------------------------------


def test_histogram_linear_and_log(qtbot, tmp_path):
    h = show(qtbot, HistogramPanel("delta", "|delta|"))
    h.set_data(RNG.normal(size=1000), bins=30)
    x, y = h.bars.getData()
    assert len(y) == 30
    assert y.sum() == 1000
    values = np.concatenate([10.0 ** RNG.uniform(-12, -2, 880), np.zeros(120)])
    h.set_data(values, bins=40, log_x=True)
    assert h.zero_fraction == pytest.approx(0.12)
    assert "12% exactly zero" in h.plot.getPlotItem().titleLabel.text
    assert h.bars.getData()[1].sum() == 880
    assert drawn(h, tmp_path / "h.png") > 8


@pytest.mark.parametrize("log_x", [False, True])
def test_histogram_hostile_values(qtbot, log_x):
    h = show(qtbot, HistogramPanel("f'", "f'(z)"))
    h.set_data(np.array([np.nan, np.inf, -np.inf, 1.0, 2.0]), log_x=log_x)
    assert h.n_nonfinite == 3
    assert "3 NaN/inf" in h.plot.getPlotItem().titleLabel.text
    h.set_data(np.zeros(10), log_x=log_x)  # all zero: nothing to bin on a log axis
    if log_x:
        assert h.bars.xData is None
        assert "100% exactly zero" in h.plot.getPlotItem().titleLabel.text
    h.set_data(np.full(7, 3.0), log_x=log_x)  # constant: one visible bar
    assert h.bars.getData()[1].sum() == 7
    h.set_data(np.array([]), log_x=log_x)
    assert h.bars.xData is None


def test_histogram_items_made_once_and_reset(qtbot):
    h = show(qtbot, HistogramPanel("delta", "|delta|"))
    h.set_data(np.ones(3))
    counts = item_counts(h)
    for i in range(50):
        h.set_data(RNG.normal(size=100) * (i % 3), bins=20 + i, log_x=bool(i % 2))
    assert item_counts(h) == counts
    h.reset()
    assert h.bars.xData is None
    assert h.plot.getPlotItem().titleLabel.text == "delta"


# --- activation view ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_view_draws_every_activation(qtbot, name):
    view = show(qtbot, ActivationView())
    act = ACTIVATIONS[name]
    param = {"leaky_relu": 0.01, "prelu": 0.25, "elu": 1.0}.get(name, 0.0)
    view.set_activation(name, param)
    assert view.max_line.value() == pytest.approx(act.max_grad(param), rel=1e-3, abs=1e-6)
    view.set_preactivations(RNG.normal(0, 4, 500))
    assert 0.0 <= view.flat_fraction <= 1.0
    x, y = view.hist.getData()
    lo, hi = view.y_range
    assert y.min() >= lo - 1e-12
    assert y.max() <= lo + 0.41 * (hi - lo)


def test_activation_view_saturation_share_and_reset(qtbot, tmp_path):
    view = show(qtbot, ActivationView())
    view.set_activation("sigmoid")
    view.set_preactivations(np.array([-50.0, -10.0, 10.0, 0.5]))  # 3 of 4 saturated
    assert view.flat_fraction == pytest.approx(0.75)
    assert "75% of z" in view.plot.getPlotItem().titleLabel.text
    view.set_activation("relu")  # the kept z is re-measured
    assert view.flat_fraction == pytest.approx(0.5)  # z < 0 is flat for ReLU
    view.set_preactivations(np.array([np.nan, np.inf]))
    assert view.hist.xData is None
    view.set_preactivations(None)
    assert view.hist.xData is None
    assert drawn(view, tmp_path / "a.png") > 8
    counts = item_counts(view)
    for i in range(50):
        view.set_activation(("tanh", "relu", "gelu")[i % 3])
        view.set_preactivations(RNG.normal(size=200))
    assert item_counts(view) == counts
    view.reset()
    assert view.f_curve.xData is None
    with pytest.raises(ValueError, match="unknown activation"):
        view.set_activation("softmax")


# --- decision boundary --------------------------------------------------------------------------


def blobs(n=120, k=2):
    X = RNG.normal(size=(n, 2))
    y = (np.arctan2(X[:, 1], X[:, 0]) + np.pi) // (2 * np.pi / k)
    return X, np.clip(y, 0, k - 1).astype(np.int64)


def test_boundary_grid_covers_the_points():
    X, _ = blobs()
    xx, yy = DecisionBoundary.grid(X, n=30)
    assert xx.shape == yy.shape == (30, 30)
    assert xx.min() < X[:, 0].min()
    assert xx.max() > X[:, 0].max()
    assert yy.min() < X[:, 1].min()
    assert yy.max() > X[:, 1].max()
    xx, yy = DecisionBoundary.grid(np.zeros((3, 2)), n=5)  # one point: still a grid
    assert xx.max() > xx.min()
    with pytest.raises(ValueError, match="X must be"):
        DecisionBoundary.grid(np.zeros((0, 2)))


def test_boundary_probabilities_and_class_maps(qtbot, tmp_path):
    view = show(qtbot, DecisionBoundary(), size=(500, 500))
    X, y = blobs()
    xx, yy = DecisionBoundary.grid(X, n=40)
    p = 1 / (1 + np.exp(-3 * xx))
    p[0, 0] = np.nan
    view.set_data(xx, yy, p, X, y)
    assert view.mode == "probability"
    assert view.bar.isVisible()
    assert view.plot.getPlotItem().getViewBox().state["aspectLocked"] == 1.0
    assert sum(len(sc.data) for sc in view.points) == len(X)
    assert drawn(view, tmp_path / "p.png") > 8
    X3, y3 = blobs(k=3)
    classes = (xx > 0).astype(np.int64) + (yy > 0)
    view.set_data(xx, yy, classes, X3, y3)
    assert view.mode == "classes"
    assert not view.bar.isVisible()
    assert len(view.points) == 3
    view.set_data(xx, yy, classes.astype(np.float64), X3, y3)  # float class map (argmax)
    assert view.mode == "classes"
    assert drawn(view, tmp_path / "c.png") > 8


def test_boundary_items_made_once_and_reset(qtbot):
    view = show(qtbot, DecisionBoundary())
    X, y = blobs()
    xx, yy = DecisionBoundary.grid(X, n=20)
    view.set_data(xx, yy, np.full(xx.shape, 0.3), X, y)
    view.set_data(xx, yy, np.zeros(xx.shape, dtype=int), X, y)
    counts = item_counts(view)
    for i in range(50):
        scores = RNG.random(xx.shape) if i % 2 else RNG.integers(0, 2, xx.shape)
        view.set_data(xx, yy, scores, X, y)
    assert item_counts(view) == counts
    view.reset()
    assert view.prob_image.image is None
    assert view.class_image.image is None
    assert all(len(sc.data) == 0 for sc in view.points)
    with pytest.raises(ValueError, match="same"):
        view.set_data(xx, yy, np.zeros((3, 3)), X, y)
