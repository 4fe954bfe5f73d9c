"""The painted part of the network diagram: the canvas of columns and edges, and the colour bar.

:class:`~gui.panels.network_diagram.NetworkDiagram` owns both; the numbers they paint with
come from :mod:`gui.panels.network_geometry`.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QLinearGradient,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.i18n import translate
from gui.panels.network_geometry import (
    MAX_NODES,
    N_BINS,
    NOT_COMPUTED,
    SCENE_INTERVAL,
    ColumnLayout,
    log_levels,
    normalise,
)

# pale (tiny value) -> saturated (large value): small gradients fade into the background
_ANCHORS = [
    (0.00, "#e3e7ec"),
    (0.30, "#a6c4e0"),
    (0.55, "#4f86c6"),
    (0.78, "#6a3d9a"),
    (1.00, "#d62728"),
]
_ACTIVATION_COLORS = {
    "sigmoid": "#f28e2b",
    "tanh": "#e15759",
    "step": "#9c755f",
    "identity": "#bab0ac",
    "relu": "#4e79a7",
    "leaky_relu": "#76b7b2",
    "prelu": "#59a14f",
    "elu": "#edc948",
    "selu": "#b07aa1",
    "gelu": "#ff9da7",
    "gelu_tanh": "#ff9da7",
    "silu": "#8cd17d",
    "softplus": "#d4a6c8",
}
_SHORT = {"sigmoid": "sigmoid", "identity": "linear", "leaky_relu": "leaky", "gelu_tanh": "gelu~"}
# step-through phase -> (colour, text) of the band over the column being computed
_DIRECTION = {
    "forward": ("#2ca02c", "forward \u2192"),
    "backward": ("#d62728", "\u2190 backward"),
    "loss": ("#9467bd", "loss"),
    "update": ("#1f77b4", "update"),
}


def _colormap(n: int = N_BINS) -> list[QColor]:
    """``n`` colours interpolated along the anchors."""
    pos = np.array([p for p, _ in _ANCHORS])
    rgb = np.array([QColor(c).getRgbF()[:3] for _, c in _ANCHORS])
    t = np.linspace(0.0, 1.0, n)
    cols = np.column_stack([np.interp(t, pos, rgb[:, i]) for i in range(3)])
    return [QColor.fromRgbF(*c) for c in cols]


COLORMAP = _colormap()


class Canvas(QWidget):
    """The painted diagram.  Holds only what it was given; computes only geometry."""

    clicked = Signal(int)
    levels_changed = Signal(float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumHeight(240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.widths: list[int] = []
        self.activations: list[str] = []
        self.labels: list[str] = []
        self.norms = np.zeros(0)
        self.norm_texts: list[str] = []
        self.edges: list[np.ndarray | None] = []
        self.levels = (-6.0, 0.0)
        self.highlight: tuple[int, str | None] = (-1, None)
        self.selected = -1
        self.viewport_width = 800.0
        self._layout: ColumnLayout | None = None
        self._lines: dict[int, list[QLineF]] = {}
        self._bins: dict[int, np.ndarray] = {}
        self._bins_key = 0
        self._layout_serial = 0
        self._cache: QPixmap | None = None  # everything but the gradient-norm numbers
        self._cache_key: tuple = ()
        self._cache_rect = QRect()
        self._cache_bins = 0
        self._cache_time = -math.inf
        self._scene_timer = QTimer(self)
        self._scene_timer.setSingleShot(True)
        self._scene_timer.timeout.connect(self._scene_due)
        self._pending: list[np.ndarray | None] | None = None
        self._pens = [QPen(c, 1.0) for c in COLORMAP]
        self._text_colors = [c.darker(170) for c in COLORMAP]
        self._grey = QColor("#6b6b6b")
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(7.5, self._font.pointSizeF() * 0.9))
        self._bold = QFont(self._font)
        self._bold.setBold(True)

    # --- state -------------------------------------------------------------------------------
    @property
    def n_cols(self) -> int:
        return len(self.widths)

    def n_drawn(self) -> list[int]:
        return [min(w, MAX_NODES) for w in self.widths]

    def relayout(self) -> None:
        """Recompute the geometry for the current viewport width and height."""
        if not self.widths:
            self._layout = None
            self._layout_serial += 1
            self.setMinimumWidth(0)
            return
        lay = ColumnLayout(self.n_drawn(), self.viewport_width, max(self.height(), 240))
        self._layout = lay
        self._layout_serial += 1
        self._lines.clear()
        self.setMinimumWidth(int(math.ceil(lay.width)))

    def layout_geometry(self) -> ColumnLayout | None:
        return self._layout

    def set_edges(self, edges: list[np.ndarray | None]) -> None:
        """Keep new edge values; they are binned when the scene is next rendered (lazily:
        while training, many frames arrive between two renders of the edges)."""
        self._pending = edges
        if self._cache is None or self._bins_key == 0:
            self._apply_edges()  # the first values are shown at once
            self.update()
        elif not self._scene_timer.isActive():
            due = self._cache_time + SCENE_INTERVAL - time.perf_counter()
            self._scene_timer.start(max(0, int(1000 * due)))

    def _apply_edges(self) -> bool:
        """Bin the pending edge values on one shared log scale; True if the picture changed."""
        edges, self._pending = self._pending, None
        if edges is None:
            return False
        self.edges = edges
        present = [e for e in edges if e is not None]
        self.levels = log_levels(present)
        lo, hi = self.levels
        self._bins = {}
        if present:
            flat = np.concatenate([e.ravel() for e in present])
            bins = np.minimum((normalise(flat, lo, hi) * N_BINS).astype(np.int64), N_BINS - 1)
            parts = np.split(bins, np.cumsum([e.size for e in present])[:-1])
            ks = [k for k, e in enumerate(edges) if e is not None]
            self._bins = {k: b.reshape(edges[k].shape) for k, b in zip(ks, parts, strict=True)}
        key = hash((self.levels, *(b.tobytes() for b in self._bins.values())))
        changed = key != self._bins_key
        self._bins_key = key
        self.levels_changed.emit(*self.levels)
        return changed

    def _scene_due(self) -> None:
        if self._pending is not None and self._apply_edges():
            self.update()

    def norms_rect(self) -> QRect:
        """The strip of the gradient-norm numbers (repainted alone when only they change)."""
        if self._layout is None:
            return self.rect()
        y = int(self._layout.bottom + 34)
        return QRect(0, y, self.width(), 18)

    def column_x(self, col: int) -> float:
        return float(self._layout.xs[col]) if self._layout is not None else 0.0

    # --- Qt ----------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(800, 320)

    def resizeEvent(self, event) -> None:
        if self._layout is None or abs(self._layout.height - max(self.height(), 240)) > 0.5:
            self.relayout()
        super().resizeEvent(event)

    def mousePressEvent(self, event) -> None:
        lay = self._layout
        if lay is not None and event.button() == Qt.MouseButton.LeftButton:
            col = lay.column_at(event.position().x())
            if col >= 1:
                self.clicked.emit(col - 1)
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        lay = self._layout
        col = lay.column_at(event.position().x()) if lay is not None else -1
        if col >= 1:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            k = col - 1
            text = self.norm_texts[k] if k < len(self.norm_texts) else NOT_COMPUTED
            if text == NOT_COMPUTED:
                text = "not computed yet"
            self.setToolTip(
                f"<b>{self.labels[col]}</b>: {self.widths[col]} units, "
                f"{self.activations[col] or 'input'}<br>||dL/dW|| = {text}"
                "<br><i>click to inspect this layer</i>"
            )
        else:
            self.unsetCursor()
            self.setToolTip("")
        super().mouseMoveEvent(event)

    def paintEvent(self, event) -> None:
        """Blit the cached scene (re-rendered only when edges, layout or highlight change),
        then draw the numbers, which change every frame."""
        rect = event.rect()
        key = (self._layout_serial, self.highlight, self.selected, self.devicePixelRatioF())
        now = time.perf_counter()
        stale_colours = self._bins_key != self._cache_bins
        if (
            self._cache is None
            or key != self._cache_key
            or stale_colours
            or not self._cache_rect.contains(rect)
        ):
            self._apply_edges()  # re-rendering anyway: use the newest edge values
            area = self.visibleRegion().boundingRect().united(rect)
            area = area.intersected(self.rect())
            dpr = self.devicePixelRatioF()
            pix = QPixmap(max(1, int(area.width() * dpr)), max(1, int(area.height() * dpr)))
            pix.setDevicePixelRatio(dpr)
            painter = QPainter(pix)
            try:
                painter.translate(-area.topLeft())
                self.paint_scene(painter, QRectF(area))
            finally:
                painter.end()
            self._cache, self._cache_key, self._cache_rect = pix, key, area
            self._cache_bins, self._cache_time = self._bins_key, now
            rect = area  # the whole cached area is new: show all of it
        painter = QPainter(self)
        try:
            src = rect.translated(-self._cache_rect.topLeft())
            painter.drawPixmap(
                rect,
                self._cache,
                QRect(
                    int(src.x() * self._cache.devicePixelRatio()),
                    int(src.y() * self._cache.devicePixelRatio()),
                    int(src.width() * self._cache.devicePixelRatio()),
                    int(src.height() * self._cache.devicePixelRatio()),
                ),
            )
            self.paint_numbers(painter, QRectF(rect))
        finally:
            painter.end()

    # --- painting ----------------------------------------------------------------------------
    def _visible_columns(self, clip: QRectF) -> list[int]:
        lay = self._layout
        pad = lay.spacing
        return [
            c for c in range(self.n_cols) if clip.left() - pad <= lay.xs[c] <= clip.right() + pad
        ]

    def paint(self, p: QPainter, clip: QRectF) -> None:
        """Paint everything intersecting ``clip`` (the whole diagram for exports)."""
        self._apply_edges()
        self.paint_scene(p, clip)
        self.paint_numbers(p, clip)

    def paint_scene(self, p: QPainter, clip: QRectF) -> None:
        """Background, step-through band, edges, nodes and labels of the visible columns."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.fillRect(clip, QColor("white"))
        lay = self._layout
        if lay is None:
            p.setPen(QColor("#666"))
            p.drawText(
                QRectF(self.rect()),
                Qt.AlignmentFlag.AlignCenter,
                translate("NetworkDiagram", "Building the network\u2026"),
            )
            return
        visible = self._visible_columns(clip)
        if not visible:
            return
        self._paint_bands(p, lay, visible)
        for c in visible:
            if c + 1 < self.n_cols:
                self._paint_edges(p, lay, c)
        for c in visible:
            self._paint_column(p, lay, c)

    def paint_numbers(self, p: QPainter, clip: QRectF) -> None:
        """The gradient norm under each layer, coloured like its edges."""
        lay = self._layout
        if lay is None:
            return
        p.setFont(self._font)
        w = lay.spacing - 4
        y = lay.bottom + 35
        t = normalise(self.norms, *self.levels)  # one colour per layer, vectorised
        bins = np.minimum((t * N_BINS).astype(np.int64), N_BINS - 1)
        for c in self._visible_columns(clip):
            k = c - 1
            if k < 0 or k >= len(self.norms):
                continue
            p.setPen(self._text_colors[bins[k]] if t[k] > 0.3 else self._grey)
            text = self.norm_texts[k] if k < len(self.norm_texts) else NOT_COMPUTED
            p.drawText(QRectF(lay.xs[c] - w / 2, y, w, 15), Qt.AlignmentFlag.AlignHCenter, text)

    def _paint_bands(self, p: QPainter, lay: ColumnLayout, visible: list[int]) -> None:
        """Selected layer (outline) and step-through position (tinted band + arrow)."""
        half = lay.spacing * 0.42
        if self.selected >= 0 and self.selected + 1 in visible:
            x = lay.xs[self.selected + 1]
            p.setPen(QPen(QColor("#555555"), 1.2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            box = QRectF(x - half, lay.top - 6, 2 * half, lay.height - lay.top + 4)
            # the first and last columns sit closer to the edge than half a spacing: the box
            # stops at the edge instead of being cut off there
            p.drawRoundedRect(box.intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1)), 6, 6)
        layer, direction = self.highlight
        if direction is None:
            return
        color, text = _DIRECTION.get(direction, ("#1f77b4", direction))
        band = QColor(color)
        band.setAlphaF(0.13)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(band)
        cols = list(range(1, self.n_cols)) if direction == "update" else [layer + 1]
        for c in cols:
            if c in visible and 0 <= c < self.n_cols:
                p.drawRoundedRect(QRectF(lay.xs[c] - half, 4, 2 * half, lay.height - 8), 8, 8)
        c = visible[len(visible) // 2] if direction == "update" else layer + 1
        if c in visible and 0 <= c < self.n_cols:
            p.setFont(self._bold)
            p.setPen(QColor(color))
            p.drawText(QRectF(lay.xs[c] - 70, 6, 140, 16), Qt.AlignmentFlag.AlignCenter, text)

    def _paint_edges(self, p: QPainter, lay: ColumnLayout, k: int) -> None:
        """Edges of layer k (columns k -> k+1), grouped by colour bin: one call per bin."""
        bins = self._bins.get(k)
        if k not in self._lines:
            self._lines[k] = [QLineF(*line) for line in lay.lines(k)]
        lines = self._lines[k]
        if bins is None or bins.size != len(lines):
            p.setPen(QPen(QColor("#dde1e6"), 0.8))
            p.drawLines(lines)
            return
        flat = bins.ravel()
        # faint edges first, so strong ones are drawn on top
        for b in np.unique(flat):
            pen = self._pens[b]
            pen.setWidthF(0.5 + 2.2 * b / (N_BINS - 1))
            p.setPen(pen)
            idx = np.flatnonzero(flat == b)
            p.drawLines([lines[i] for i in idx])

    def _short_labels(self, fm: QFontMetrics, w: float) -> bool:
        """Use "h3" for every layer once any "hidden N" label is too wide for its column."""
        return any(fm.horizontalAdvance(lbl) > w for lbl in self.labels)

    def _paint_column(self, p: QPainter, lay: ColumnLayout, c: int) -> None:
        x, ys, r = lay.xs[c], lay.ys[c], lay.radius
        act = self.activations[c]
        fill = QColor(_ACTIVATION_COLORS.get(act, "#c7c7c7")) if c > 0 else QColor("#d0d0d0")
        if c == self.n_cols - 1:
            fill = QColor("#7f7f7f")
        p.setPen(QPen(QColor("#333333"), 0.9))
        p.setBrush(QBrush(fill))
        for y in ys:
            p.drawEllipse(QPointF(x, y), r, r)
        fm = QFontMetrics(self._font)
        w = lay.spacing - 4
        p.setFont(self._font)
        p.setPen(QColor("#555555"))
        extra = self.widths[c] - len(ys)
        if extra > 0:
            p.drawText(
                QRectF(x - w / 2, ys[-1] + r + 2, w, 14),
                Qt.AlignmentFlag.AlignHCenter,
                more if fm.horizontalAdvance(more := f"+{extra} more") <= w else f"+{extra}",
            )
        # activation name above the column (the output's softmax/sigmoid lives in the loss)
        top = "input" if c == 0 else ("output" if c == self.n_cols - 1 else _SHORT.get(act, act))
        p.drawText(
            QRectF(x - w / 2, 22, w, 16),
            Qt.AlignmentFlag.AlignHCenter,
            fm.elidedText(top, Qt.TextElideMode.ElideRight, int(w)),
        )
        # layer name and its gradient norm below
        label = self.labels[c]
        if self._short_labels(fm, w):
            label = label.replace("hidden ", "h")
        selected = c - 1 == self.selected
        p.setFont(self._bold if selected else self._font)
        p.setPen(QColor("#222222"))
        base = lay.bottom + 20
        p.drawText(
            QRectF(x - w / 2, base, w, 15),
            Qt.AlignmentFlag.AlignHCenter,
            fm.elidedText(label, Qt.TextElideMode.ElideRight, int(w)),
        )


class ColorBar(QWidget):
    """Horizontal legend of the log colour scale: decades from ``lo`` to ``hi``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.levels = (-6.0, 0.0)
        self.setFixedHeight(34)
        self.setMinimumWidth(170)

    def set_levels(self, lo: float, hi: float) -> None:
        if (lo, hi) != self.levels:
            self.levels = (lo, hi)
            self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            bar = QRectF(22, 4, self.width() - 44, 10)
            grad = QLinearGradient(bar.topLeft(), bar.topRight())
            for i, c in enumerate(COLORMAP):
                grad.setColorAt(i / (len(COLORMAP) - 1), c)
            p.fillRect(bar, grad)
            p.setPen(QColor("#888"))
            p.drawRect(bar)
            lo, hi = self.levels
            n = int(round(hi - lo))
            # a label is ~40 px wide: label every decade only when they fit
            step = max(1, math.ceil(n * 44 / max(bar.width(), 1.0)))
            font = QFont(self.font())
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
            p.setFont(font)
            p.setPen(QColor("#444"))
            for i in range(0, n + 1, step):
                x = bar.left() + bar.width() * i / max(n, 1)
                p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3))
                p.drawText(
                    QRectF(x - 24, bar.bottom() + 3, 48, 14),
                    Qt.AlignmentFlag.AlignCenter,
                    f"1e{int(lo) + i}",
                )
        finally:
            p.end()
