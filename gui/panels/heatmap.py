"""Layer x step heatmap of log10(gradient norm): where and when the gradient vanished."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from gui import theme
from gui.i18n import QT_TRANSLATE_NOOP

DEFAULT_TITLE = QT_TRANSLATE_NOOP("Plots", "Gradient norm per layer over training")
DEFAULT_BAR_LABEL = "log\u2081\u2080 ||dL/dW||"
#: colour range (log10 units) of a heatmap with no data
EMPTY_LEVELS = (-8.0, 0.0)


class LayerHeatmap(theme.PlotPanel):
    """Image of log10(value): x = training step, y = layer (h1 at the bottom, out on top).

    Exact zeros (a dead layer) are drawn in the lowest colour; NaN and inf (a diverged run)
    are left transparent, i.e. background.  A colour bar sits inside the plot item so it is
    part of every export.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        title: str = DEFAULT_TITLE,
        bar_label: str = DEFAULT_BAR_LABEL,
    ):
        super().__init__(parent)
        item = self.plot_item
        self.style_plot(
            title, QT_TRANSLATE_NOOP("Plots", "training step"), QT_TRANSLATE_NOOP("Plots", "layer")
        )
        self.image = pg.ImageItem(axisOrder="col-major")  # image[step, layer]
        item.addItem(self.image)
        self.bar = theme.colour_bar(item, self.image, EMPTY_LEVELS, bar_label)
        self._item = item
        self._buf = np.empty((0, 0))  # reused while the shape stays the same
        self._labels: tuple[str, ...] = ()
        self._levels = EMPTY_LEVELS
        self._empty_view()
        self.set_title(title)

    def __repr__(self) -> str:
        return f"LayerHeatmap(shape={self._buf.shape}, levels={self._levels})"

    @property
    def levels(self) -> tuple[float, float]:
        """(low, high) of the colour scale in log10 units, as last drawn."""
        return self._levels

    @property
    def shape(self) -> tuple[int, ...]:
        """(steps, layers) of the image on show; (0, 0) when empty."""
        return self._buf.shape

    def set_data(
        self,
        steps: np.ndarray,
        values: np.ndarray,
        labels: Sequence[str],
        levels: tuple[float, float] | None = None,
    ) -> None:
        """Draw ``values`` (n steps, L+1 layers) recorded at ``steps`` (n,).

        ``levels`` is the colour range in log10 units (shared between figures to compare
        runs); None picks it from the finite data.
        """
        steps = np.asarray(steps, dtype=np.float64).ravel()
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[0] != len(steps) or values.shape[1] != len(labels):
            raise ValueError(
                f"values must be (n_steps={len(steps)}, n_layers={len(labels)}), got {values.shape}"
            )
        n, m = values.shape
        if n == 0 or m == 0:
            self.reset()
            return
        values, steps = _uniform_columns(values, steps)
        if self._buf.shape != values.shape:
            self._buf = np.empty(values.shape)
        img = self._buf
        with np.errstate(divide="ignore", invalid="ignore"):
            np.log10(values, out=img)
        lo, hi = levels if levels is not None else auto_levels(img)
        # zero -> -inf: drawn at the bottom of the scale ("vanished"); NaN/inf stay NaN,
        # which the image item leaves transparent
        img[img == -np.inf] = lo
        img[~np.isfinite(img)] = np.nan
        self._levels = (float(lo), float(hi))
        self.image.setImage(img, autoLevels=False, levels=self._levels)
        self.bar.setLevels(self._levels)
        dx = (steps[-1] - steps[0]) / (len(steps) - 1) if len(steps) > 1 else 1.0
        x0 = steps[0] - dx / 2
        self.image.setRect(QRectF(x0, -0.5, dx * len(steps), float(m)))
        self._set_layers(labels)
        self._item.setXRange(x0, x0 + dx * len(steps), padding=0)
        self._item.setYRange(-0.5, m - 0.5, padding=0)

    def reset(self) -> None:
        """Empty image, no layer labels, axes back to a unit range, the colour bar back to
        its empty range: nothing of the previous run stays."""
        self.image.clear()
        # the image's placement: an empty image at the old run's first step would pull the
        # auto range to its x (negative step ticks) before the first step is drawn
        self.image.resetTransform()
        self._levels = EMPTY_LEVELS
        self.bar.setLevels(EMPTY_LEVELS)
        self._buf = np.empty((0, 0))
        self._labels = ()
        self._item.getAxis("left").setTicks([[], []])
        self._empty_view()

    def _empty_view(self) -> None:
        """A unit view, no auto range: set_data places the image itself, and auto range
        would centre the empty image on 0 (step ticks "-0.4", "-0.2" before any step)."""
        self._item.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0)

    def set_layers(self, labels: Sequence[str]) -> None:
        """Show the layer axis of ``labels`` (before any history: a fresh network)."""
        self._set_layers(labels)
        if self.image.image is None:
            self._item.setYRange(-0.5, len(labels) - 0.5, padding=0)

    def _set_layers(self, labels: Sequence[str]) -> None:
        labels = tuple(labels)
        if labels == self._labels:
            return
        self._labels = labels
        self._update_ticks()

    def _update_ticks(self) -> None:
        # labels ~ 22 px apart at most, so "h100" never collides with its neighbour
        max_ticks = max(3, min(30, (self.plot.height() - 80) // 26))
        self._item.getAxis("left").setTicks(theme.layer_ticks(self._labels, max_ticks))

    def refit(self) -> None:
        """Title and layer ticks to the current size."""
        super().refit()
        if self._labels:
            self._update_ticks()


def auto_levels(log_values: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite entries (a unit range around a constant; (-8, 0) if none)."""
    finite = log_values[np.isfinite(log_values)]
    if finite.size == 0:
        return (-8.0, 0.0)
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-9:
        return (lo - 0.5, hi + 0.5)
    return (lo, hi)


def shared_levels(arrays) -> tuple[float, float]:
    """Colour range (log10 units) covering the positive finite values of several runs."""
    lo, hi = math.inf, -math.inf
    for v in arrays:
        v = np.asarray(v, dtype=np.float64)
        ok = v[np.isfinite(v) & (v > 0)]
        if ok.size:
            lo, hi = min(lo, float(np.log10(ok.min()))), max(hi, float(np.log10(ok.max())))
    if not math.isfinite(lo):
        return (-8.0, 0.0)
    if hi - lo < 1e-9:
        return (lo - 0.5, hi + 0.5)
    return (lo, hi)


def _uniform_columns(values: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Resample rows onto evenly spaced steps when the recorded steps are not even.

    An image has equal-width columns.  The history is evenly spaced (it drops every other
    row when full), except while it is being compacted; then each column shows the last
    recorded row at or before its step.
    """
    if len(steps) < 3:
        return values, steps
    d = np.diff(steps)
    if d.min() > 0 and d.max() - d.min() <= 1e-6 * max(abs(d.max()), 1.0):
        return values, steps
    grid = np.linspace(steps[0], steps[-1], len(steps))
    idx = np.clip(np.searchsorted(steps, grid, side="right") - 1, 0, len(steps) - 1)
    return values[idx], grid
