"""Trainability heatmap: training accuracy over a (sigma_w^2, depth) grid, with the
mean-field boundary 6 xi_c and xi_c drawn over it (a dumb panel: it draws a SweepView)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from gui import theme
from gui.sweep_view import (
    AXIS_NAMES,
    BOUNDARY_NAME,
    DEEPEST_NAME,
    DIVERGED_NAME,
    XI_NAME,
    SweepView,
    sweep_view,
)

BOUNDARY_COLOR = "#e8413c"  # red: stands out on every viridis colour
BAR_LABEL = "training accuracy"


class SweepMap(theme.PlotPanel):
    """x: the first grid field (one cell per value), y: depth; colour: training accuracy
    (0..1, colour bar inside the plot so every export has it).  Cells not run yet and
    diverged nets are left blank; diverged ones get a cross."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.plot_item
        theme.style_plot(
            item, "Trainability", AXIS_NAMES["model.sigma_w2"], AXIS_NAMES["model.depth"]
        )
        self.image = pg.ImageItem(axisOrder="col-major")  # image[x cell, y cell]
        item.addItem(self.image)
        self.bar = theme.colour_bar(item, self.image, (0.0, 1.0), BAR_LABEL)
        self.boundary = item.plot([], [], pen=theme.mkpen(BOUNDARY_COLOR, 3.0), connect="finite")
        self.xi = item.plot([], [], pen=theme.mkpen(BOUNDARY_COLOR, 2.0, "dash"), connect="finite")
        self.deepest = pg.ScatterPlotItem(
            symbol="o", size=9, brush=pg.mkBrush("w"), pen=pg.mkPen("k", width=1.5)
        )
        self.diverged = pg.ScatterPlotItem(
            symbol="x", size=11, brush=pg.mkBrush("#555555"), pen=pg.mkPen("#555555")
        )
        item.addItem(self.deepest)
        item.addItem(self.diverged)
        self.legend = theme.add_legend(item, columns=4)
        self.legend.addItem(self.boundary, BOUNDARY_NAME)
        self.legend.addItem(self.xi, XI_NAME)
        self.legend.addItem(self.deepest, DEEPEST_NAME)
        self.legend.addItem(self.diverged, DIVERGED_NAME)
        self.legend.setVisible(True)
        self.view: SweepView | None = None
        self.set_title("Trainability")

    def __repr__(self) -> str:
        return f"SweepMap({self.view!r})"

    def set_data(self, view: SweepView) -> None:
        """Draw ``view`` (cells, curves, markers, ticks, labels, title)."""
        self.view = view
        item = self.plot_item
        nx, ny = view.accuracy.shape
        self.image.setImage(view.accuracy, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(-0.5, -0.5, float(nx), float(ny)))
        self.boundary.setData(view.curve_x, view.boundary_y)
        self.xi.setData(view.curve_x, view.xi_y)
        self.deepest.setData(*view.deepest)
        self.diverged.setData(*view.diverged)
        item.getAxis("bottom").setTicks([view.x_ticks, []])
        item.getAxis("left").setTicks([view.y_ticks, []])
        theme.set_axis_label(item, "bottom", view.x_label)
        theme.set_axis_label(item, "left", view.y_label)
        item.setRange(xRange=(-0.5, nx - 0.5), yRange=(-0.5, ny - 0.5), padding=0)
        self.set_title(view.title)

    def reset(self) -> None:
        self.view = None
        self.image.clear()
        for curve in (self.boundary, self.xi):
            curve.setData([], [])
        for points in (self.deepest, self.diverged):
            points.setData([], [])


def sweep_figure(result, size: tuple[int, int] = (1000, 640), light: bool = True) -> SweepMap:
    """The heatmap of a sweep result as a standalone figure (for the CLI's files), in the
    light theme like :func:`gui.figures.build_figures`."""
    from gui.figures import ensure_app

    ensure_app()
    theme.configure_pyqtgraph(light=light)
    fig = SweepMap()
    fig.resize(*size)
    fig.plot.resize(*size)
    fig.set_data(sweep_view(result))
    return fig
