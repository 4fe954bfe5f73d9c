"""Decision boundary of a 2-D classifier: the predicted field with the data points on top."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from gui import theme
from gui.i18n import QT_TRANSLATE_NOOP

FIELD_WHITE = 0.55  # the field is the class colour mixed with this much white


def _light(c: str, white: float = FIELD_WHITE) -> QColor:
    q = pg.mkColor(c)
    return QColor(*(round(v + (255 - v) * white) for v in (q.red(), q.green(), q.blue())))


class DecisionBoundary(theme.PlotPanel):
    """The classifier's output on a grid as an image, the training points on top, equal
    aspect.

    ``scores`` is either P(class 1) in [0, 1] (drawn from class-0 colour through white to
    class-1 colour, with the p = 0.5 contour and a colour bar) or an integer class map
    (each class in a light version of its point colour).  A float array holding only whole
    numbers counts as a class map; for two classes both readings draw the same picture.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        title: str = QT_TRANSLATE_NOOP("Plots", "Decision boundary"),
    ):
        super().__init__(parent)
        item = self.plot_item
        item.setAspectLocked(True, ratio=1.0)
        self.style_plot(title, "x\u2081", "x\u2082")
        lo, hi = _light(theme.color(0)), _light(theme.color(1))
        self._cmap = pg.ColorMap([0.0, 0.5, 1.0], [lo, QColor(255, 255, 255), hi])
        self.prob_image = pg.ImageItem(axisOrder="row-major")
        self.class_image = pg.ImageItem(axisOrder="row-major")
        for img in (self.prob_image, self.class_image):
            img.setZValue(-10)
            item.addItem(img)
        self.contour = pg.IsocurveItem(
            level=0.5, pen=theme.mkpen(theme.foreground(), 1.5), axisOrder="row-major"
        )
        self.contour.setParentItem(self.prob_image)
        self.contour.setPos(0.5, 0.5)  # isocurve vertices sit on pixel centres
        self.bar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap=self._cmap,
            interactive=False,
            width=14,
            pen=theme.foreground(),
        )
        self.bar.setImageItem(self.prob_image, insert_in=item)
        self.bar.getAxis("right").setLabel(
            "P(class 1)", **{"font-size": f"{theme.LABEL_PT}pt", "color": theme.foreground()}
        )
        self.bar.setVisible(False)
        self.legend = theme.add_legend(item, columns=5)
        self._points: list[pg.ScatterPlotItem] = []  # one per class, created on demand
        self._n_legend = -1
        self._rgba = np.zeros((0, 0, 4), dtype=np.uint8)
        self._item = item
        self.mode = "empty"
        self.set_title(title)

    def __repr__(self) -> str:
        return f"DecisionBoundary(mode={self.mode!r}, classes={len(self._points)})"

    @property
    def points(self) -> tuple[pg.ScatterPlotItem, ...]:
        """The scatter of the data, one item per class."""
        return tuple(self._points)

    @staticmethod
    def grid(X: np.ndarray, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
        """An (n, n) meshgrid (xx, yy) covering the points X (m, 2) with a 10% margin."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] < 2 or len(X) == 0:
            raise ValueError(f"X must be (m >= 1, 2), got {X.shape}")
        axes = []
        for j in range(2):
            col = X[:, j][np.isfinite(X[:, j])]
            lo, hi = (float(col.min()), float(col.max())) if col.size else (-1.0, 1.0)
            pad = 0.1 * (hi - lo) if hi > lo else 0.5
            axes.append(np.linspace(lo - pad, hi + pad, int(n)))
        xx, yy = np.meshgrid(axes[0], axes[1])
        return xx, yy

    def set_data(
        self, xx: np.ndarray, yy: np.ndarray, scores: np.ndarray, X: np.ndarray, y: np.ndarray
    ) -> None:
        """Field ``scores`` (ny, nx) on the meshgrid ``xx``/``yy``; points ``X`` (n, 2), ``y``."""
        xx, yy = np.asarray(xx, dtype=np.float64), np.asarray(yy, dtype=np.float64)
        scores = np.asarray(scores)
        if not (xx.shape == yy.shape == scores.shape) or scores.ndim != 2:
            raise ValueError(
                f"xx {xx.shape}, yy {yy.shape} and scores {scores.shape} must be "
                f"the same (ny, nx) shape"
            )
        ny, nx = scores.shape
        x0, x1, y0, y1 = xx[0, 0], xx[0, -1], yy[0, 0], yy[-1, 0]
        dx = (x1 - x0) / (nx - 1) if nx > 1 else 1.0
        dy = (y1 - y0) / (ny - 1) if ny > 1 else 1.0
        rect = QRectF(x0 - dx / 2, y0 - dy / 2, dx * nx, dy * ny)
        y_int = np.asarray(y).astype(np.int64).ravel()
        n_classes = int(max(y_int.max(initial=-1), 1)) + 1
        if _is_class_map(scores):
            self._draw_classes(scores, rect, n_classes)
        else:
            self._draw_probabilities(scores.astype(np.float64), rect)
        self._draw_points(np.asarray(X, dtype=np.float64), y_int, n_classes)
        self._item.setRange(rect, padding=0.02)

    def reset(self) -> None:
        """No field, no points."""
        self.prob_image.clear()
        self.class_image.clear()
        self.contour.setData(None)
        self.bar.setVisible(False)
        for sc in self._points:
            sc.clear()
        self.mode = "empty"

    # --- internals ----------------------------------------------------------------------------
    def _draw_probabilities(self, p: np.ndarray, rect: QRectF) -> None:
        self.mode = "probability"
        p = np.where(np.isfinite(p), np.clip(p, 0.0, 1.0), np.nan)
        self.class_image.clear()
        self.class_image.setVisible(False)
        self.prob_image.setVisible(True)
        self.prob_image.setImage(p, autoLevels=False, levels=(0.0, 1.0))
        self.prob_image.setRect(rect)
        # contour of a field with NaN holes: treat holes as undecided (0.5 never crosses)
        self.contour.setData(np.nan_to_num(p, nan=0.5))
        self.bar.setVisible(True)

    def _draw_classes(self, scores: np.ndarray, rect: QRectF, n_classes: int) -> None:
        self.mode = "classes"
        cls = np.nan_to_num(scores.astype(np.float64), nan=-1).astype(np.int64)
        n_classes = max(n_classes, int(cls.max(initial=0)) + 1)
        lut = np.zeros((n_classes + 1, 4), dtype=np.uint8)  # last row: unknown -> clear
        for k in range(n_classes):
            q = _light(theme.color(k))
            lut[k] = (q.red(), q.green(), q.blue(), 255)
        if self._rgba.shape[:2] != cls.shape:
            self._rgba = np.zeros((*cls.shape, 4), dtype=np.uint8)
        np.take(lut, np.where(cls >= 0, cls, n_classes), axis=0, out=self._rgba)
        self.prob_image.clear()
        self.prob_image.setVisible(False)
        self.contour.setData(None)
        self.bar.setVisible(False)
        self.class_image.setVisible(True)
        self.class_image.setImage(self._rgba, autoLevels=False, levels=(0, 255))
        self.class_image.setRect(rect)

    def _draw_points(self, X: np.ndarray, y: np.ndarray, n_classes: int) -> None:
        while len(self._points) < n_classes:
            k = len(self._points)
            sc = pg.ScatterPlotItem(
                size=7,
                pen=pg.mkPen(theme.foreground(), width=0.7),
                brush=pg.mkBrush(theme.color(k)),
                symbol="o",
            )
            sc.setZValue(10)
            self._item.addItem(sc)
            self._points.append(sc)
        for k, sc in enumerate(self._points):
            pts = X[y == k] if len(X) == len(y) else X[:0]
            pts = pts[np.all(np.isfinite(pts), axis=1)] if len(pts) else pts
            if len(pts):
                sc.setData(pts[:, 0], pts[:, 1])
            else:
                sc.clear()
        if n_classes != self._n_legend:
            self._n_legend = n_classes
            self.legend.clear()
            for k in range(n_classes):
                self.legend.addItem(self._points[k], f"class {k}")
            self.legend.setVisible(n_classes > 0)
            self.refit()
            # the new labels know their width only once laid out: fit again after that
            QTimer.singleShot(0, self, self.refit)


def _is_class_map(scores: np.ndarray) -> bool:
    """Integer dtype, or floats that are all whole numbers (NaN aside)."""
    if scores.dtype.kind in "iub":
        return True
    finite = scores[np.isfinite(scores)]
    return finite.size > 0 and bool(np.all(finite == np.round(finite)))
