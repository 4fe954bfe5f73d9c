"""Unrolled diagram: recurrent nets drawn through time, one row per cell (RNN, LSTM, GRU).

A dumb widget: :meth:`UnrolledDiagram.set_data` takes an :class:`~gui.unrolled_view.UnrolledView`
and the widget paints it; a click on a time step emits :attr:`UnrolledDiagram.time_clicked`.
Per row and time step t a box h_t coloured by log10 ||dL/dh_t|| (the theme's colour map, one
scale shared by all rows, its bar in the header), arrows h_(t-1) -> h_t, the inputs x_t
below (when there is room), the read-out after the last step (the loss reads h_T) and a
strip of the gate that carries the gradient back (forget / update gate, or the RNN's f').
Boxes the backward pass has not reached yet are hatched grey.  With hundreds of steps the
boxes become strips and the time labels thin out (t=1, every k-th, T, and the current t);
:class:`~gui.panels.unrolled_layout.UnrolledLayout` places every text so none overlaps another.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui import theme
from gui.panels.network_canvas import _DIRECTION
from gui.panels.network_geometry import normalise
from gui.panels.unrolled_layout import PAD, UnrolledLayout
from gui.unrolled_view import NON_FINITE, NOT_COMPUTED, UnrolledView, unrolled_view

__all__ = ["UnrolledDiagram"]

N_COLOURS = 64
_GATE_RAMP = ("#f4f2f8", "#3f007d")  # light -> dark purple: apart from the gradient's viridis
_GREY, _HATCH, _BAD = QColor("#ececec"), QColor("#a0a0a0"), QColor("#d62728")
_PALE_RED = QColor("#fbe3e3")
_TEXT, _MUTED = QColor("#222222"), QColor("#666666")


def _colour_table() -> np.ndarray:
    """(N_COLOURS, 3) uint8: the theme's colour map (:data:`gui.theme.LAYER_COLORMAP`)."""
    cmap = pg.colormap.get(theme.LAYER_COLORMAP)
    return np.asarray(cmap.getLookupTable(0.0, 1.0, N_COLOURS, alpha=False), dtype=np.uint8)


def _gate_table() -> np.ndarray:
    """(N_COLOURS, 3) uint8: the gate strip's ramp from light (0) to dark (1)."""
    ends = np.array([QColor(c).getRgb()[:3] for c in _GATE_RAMP], dtype=np.float64)
    a = np.linspace(0.0, 1.0, N_COLOURS)[:, None]
    return np.round(ends[0] + a * (ends[1] - ends[0])).astype(np.uint8)


def _rgb(c: QColor) -> np.ndarray:
    return np.array(c.getRgb()[:3], dtype=np.uint8)


def _row_image(rgb: np.ndarray) -> QImage:
    """A (T, 3) uint8 row of colours as a T x 1 image (drawn scaled to the row)."""
    a = rgb.astype(np.uint32)
    argb = (0xFF000000 | (a[:, 0] << 16) | (a[:, 1] << 8) | a[:, 2]).astype(np.uint32)
    return QImage(argb.tobytes(), len(argb), 1, 4 * len(argb), QImage.Format.Format_RGB32).copy()


class UnrolledDiagram(QWidget):
    """The recurrent nets unrolled in time.  Signal ``time_clicked(int)``: 0-based t."""

    time_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(7.5, self._font.pointSizeF() * 0.9))
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._colours = _colour_table()
        self._gates = _gate_table()
        self._qcolours = [QColor(int(r), int(g), int(b)) for r, g, b in self._colours]
        self._view = unrolled_view({}, None)
        self._layout: UnrolledLayout | None = None

    def __repr__(self) -> str:
        v = self._view
        return f"UnrolledDiagram(rows={v.rows}, T={v.seq_len}, t={v.time}, {v.direction})"

    # --- API ---------------------------------------------------------------------------------
    @property
    def view(self) -> UnrolledView:
        return self._view

    def set_data(self, view: UnrolledView) -> None:
        """Show ``view`` (see :func:`gui.unrolled_view.unrolled_view`)."""
        self._view = view
        self._layout = None
        self.update()

    def reset(self) -> None:
        """No run: an empty diagram."""
        self.set_data(unrolled_view({}, None))

    def geometry_now(self) -> UnrolledLayout:
        """The layout for the current size (what is painted; the tests read its texts)."""
        lay = self._layout
        if lay is None or (lay.w, lay.h) != (self.width(), self.height()):
            lay = UnrolledLayout(
                self._view, self.width(), self.height(),
                QFontMetricsF(self._font), QFontMetricsF(self._bold),
            )  # fmt: skip
            self._layout = lay
        return lay

    def box_rect(self, row: int, t: int) -> QRectF:
        """Where the box of ``row`` at 0-based ``t`` is drawn (widget coordinates)."""
        return self.geometry_now().box(row, t)

    def label_rects(self) -> list[tuple[QRectF, str]]:
        """Every text the diagram draws, with its rectangle."""
        return [(rect, text) for rect, text, _ in self.geometry_now().texts]

    def tooltip_at(self, pos: QPointF) -> str:
        """The tooltip over ``pos``: t, ||dL/dh_t|| and the gate of that box ("" if none)."""
        lay = self.geometry_now()
        t, r = lay.column_at(pos.x(), pos.y()), lay.row_at(pos.y())
        if t < 0 or not 0 <= r < self._view.n_rows:
            return ""
        return self._view.tooltip(r, t)

    # --- export (as gui.panels.network_diagram.NetworkDiagram) ---------------------------------
    def render_pixmap(self, scale: float = 2.0) -> QPixmap:
        """The diagram at its current size, ``scale`` times the pixels (for PNG export)."""
        pix = QPixmap(int(self.width() * scale), int(self.height() * scale))
        pix.setDevicePixelRatio(scale)
        pix.fill(QColor("white"))
        painter = QPainter(pix)
        try:
            self.paint(painter)
        finally:
            painter.end()
        return pix

    def render_to(self, painter: QPainter) -> QSize:
        """Paint the diagram on ``painter`` (e.g. a QSvgGenerator's); returns its size."""
        self.paint(painter)
        return self.size()

    # --- Qt ----------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(900, 90 + 80 * max(self._view.n_rows, 1))

    def resizeEvent(self, event) -> None:
        self._layout = None
        super().resizeEvent(event)

    def mousePressEvent(self, event) -> None:
        pos = event.position()
        t = self.geometry_now().column_at(pos.x(), pos.y())
        if event.button() == Qt.MouseButton.LeftButton and t >= 0:
            self.time_clicked.emit(t)
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        hit = self.geometry_now().column_at(pos.x(), pos.y()) >= 0
        self.setCursor(Qt.CursorShape.PointingHandCursor if hit else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        try:
            self.paint(p)
        finally:
            p.end()

    # --- painting ----------------------------------------------------------------------------
    def paint(self, p: QPainter) -> None:
        """Paint the whole diagram at the widget's size (also for exports)."""
        lay, v = self.geometry_now(), self._view
        p.fillRect(QRectF(0, 0, lay.w, lay.h), QColor("white"))
        if v.n_rows == 0 or v.seq_len == 0:
            p.setPen(_MUTED)
            p.setFont(self._font)
            p.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter, "No recurrent run yet")
            return
        self._paint_band(p, lay)
        for r in range(v.n_rows):
            self._paint_strip(p, lay, r)
            self._paint_boxes(p, lay, r)
            self._paint_links(p, lay, r)
        self._paint_bar(p, lay)
        self._paint_texts(p, lay)

    def _paint_band(self, p: QPainter, lay: UnrolledLayout) -> None:
        """The step-through's place: the column of t (backward), every column (forward) or
        the read-out (loss), tinted in the direction's colour."""
        v = self._view
        colour = QColor(_DIRECTION.get(v.phase, ("#1f77b4", ""))[0])
        colour.setAlphaF(0.16)
        height = lay.bottom - lay.top
        if v.phase == "backward" and v.time >= 0:
            band = QRectF(lay.col_x(v.time), lay.top, lay.pitch, height)
            band.adjust(-min(3.0, lay.gap / 2), 0, min(3.0, lay.gap / 2), 0)
        elif v.phase == "forward":
            band = QRectF(lay.x0, lay.top, lay.x1 - lay.x0, height)
        elif v.phase == "loss" and v.readout:
            band = QRectF(lay.w - PAD - lay.rw - 3, lay.top, lay.rw + 6, height)
        else:
            return
        p.fillRect(band, colour)

    def _paint_strip(self, p: QPainter, lay: UnrolledLayout, r: int) -> None:
        """The gate strip: one pixel per step in an image scaled to the row's width."""
        v, row = self._view, lay.rows[r]
        g = v.gate[r]
        lo, hi = v.gate_levels
        with np.errstate(invalid="ignore"):
            a = np.clip(np.nan_to_num((g - lo) / max(hi - lo, 1e-12)), 0.0, 1.0)
        rgb = self._gates[np.round(a * (N_COLOURS - 1)).astype(np.int64)]
        rgb[~np.isfinite(g)] = _rgb(_GREY)
        target = QRectF(lay.x0, row["strip"], lay.x1 - lay.x0, row["strip_h"])
        p.drawImage(target, _row_image(rgb))

    def _paint_boxes(self, p: QPainter, lay: UnrolledLayout, r: int) -> None:
        """Boxes h_t: colour by log10 ||dL/dh_t||, hatched grey where not computed yet,
        red cross-hatched where NaN/inf; the current t outlined.  Narrow strips (no gap
        between them) are one image scaled to the row."""
        v = self._view
        states = v.states(r)
        idx = np.round(normalise(v.grad_h[r], *v.levels) * (N_COLOURS - 1)).astype(np.int64)
        rgb = self._colours[idx]
        rgb[states == NOT_COMPUTED] = _rgb(_GREY)
        rgb[states == NON_FINITE] = _rgb(_PALE_RED)
        if lay.gap == 0:
            first, last = lay.box(r, 0), lay.box(r, v.seq_len - 1)
            p.drawImage(first.united(last), _row_image(rgb))
        else:
            fills = self._qcolours + [_GREY, _PALE_RED]
            idx[states == NOT_COMPUTED], idx[states == NON_FINITE] = N_COLOURS, N_COLOURS + 1
            for t in range(v.seq_len):
                p.fillRect(lay.box(r, t), fills[idx[t]])
        # hatching: per box when boxes are wide, else over each run of equal states (strips
        # narrower than the pattern would show none of it)
        for state, colour, style in (
            (NOT_COMPUTED, _HATCH, Qt.BrushStyle.BDiagPattern),
            (NON_FINITE, _BAD, Qt.BrushStyle.DiagCrossPattern),
        ):
            for t0, t1 in _runs(list(states == state), per_item=lay.pitch >= 8):
                p.fillRect(lay.box(r, t0).united(lay.box(r, t1)), QBrush(colour, style))
        if lay.pitch >= 10:  # outlines on narrow strips would hide their colour
            p.setPen(QPen(QColor("#555555"), 0.8))
            p.setBrush(Qt.BrushStyle.NoBrush)
            for t in range(v.seq_len):
                p.drawRect(lay.box(r, t))
        if v.time >= 0:
            colour = QColor(_DIRECTION.get(v.phase, ("#1f77b4", ""))[0])
            p.setPen(QPen(colour, 2.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(lay.box(r, v.time).adjusted(-1, -1, 1, 1))

    def _paint_links(self, p: QPainter, lay: UnrolledLayout, r: int) -> None:
        """Arrows h_(t-1) -> h_t (where boxes have gaps for them), inputs x_t, the read-out."""
        v, row = self._view, lay.rows[r]
        mid = row["box"] + row["box_h"] / 2
        grey = QColor("#555555")
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(grey, 1.0))
        p.setBrush(grey)
        if lay.gap >= 10:
            for t in range(1, v.seq_len):
                _arrow(
                    p,
                    QPointF(lay.box(r, t - 1).right() + 1, mid),
                    QPointF(lay.box(r, t).left() - 1, mid),
                )
        if row["inputs"] > 0:
            y_in = row["box"] + row["box_h"] + row["inputs"]
            radius = min(4.0, lay.pitch * 0.2)
            for t in range(v.seq_len):
                cx = lay.box(r, t).center().x()
                p.drawEllipse(QPointF(cx, y_in - radius), radius, radius)
                _arrow(
                    p,
                    QPointF(cx, y_in - 2 * radius - 1),
                    QPointF(cx, row["box"] + row["box_h"] + 1),
                )
        if v.readout:
            out = lay.readout(r)
            last = lay.box(r, v.seq_len - 1)
            _arrow(p, QPointF(last.right() + 1, mid), QPointF(out.left() - 1, mid))
            p.setBrush(QColor("#7f7f7f"))
            p.setPen(QPen(QColor("#333333"), 0.9))
            p.drawRoundedRect(out, 3, 3)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_bar(self, p: QPainter, lay: UnrolledLayout) -> None:
        """The shared colour scale, the gate strip's scale and the "not computed" sample."""
        for ramp, kind in zip(lay.ramps, lay.ramp_kinds, strict=True):
            p.drawImage(ramp, _row_image(self._colours if kind == "bar" else self._gates))
            p.setPen(QPen(QColor("#888888"), 0.8))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(ramp)
        bar = lay.bar
        lo, hi = self._view.levels
        n = int(round(hi - lo))
        for i in range(1, n):  # one tick per decade
            x = bar.left() + bar.width() * i / n
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() - 3))
        if not lay.sample.isEmpty():
            p.fillRect(lay.sample, _GREY)
            p.fillRect(lay.sample, QBrush(_HATCH, Qt.BrushStyle.BDiagPattern))
            p.drawRect(lay.sample)

    def _paint_texts(self, p: QPainter, lay: UnrolledLayout) -> None:
        direction = QColor(_DIRECTION.get(self._view.phase, ("#1f77b4", ""))[0])
        pens = {
            "caption": _TEXT, "row": _TEXT, "axis": _MUTED, "carrier": _MUTED,
            "legend": _MUTED, "bar": _MUTED, "now": direction, "bad": _BAD,
            "value": _TEXT, "value-light": QColor("white"),
        }  # fmt: skip
        for rect, text, role in lay.texts:
            bold = role in ("row", "now", "caption")
            p.setFont(self._bold if bold else self._font)
            if role == "bad":
                p.fillRect(rect.adjusted(-2, 0, 2, 0), QColor(255, 255, 255, 220))
            p.setPen(pens.get(role, _TEXT))
            align = (
                Qt.AlignmentFlag.AlignLeft
                if role in ("row", "carrier")
                else Qt.AlignmentFlag.AlignHCenter
            )
            p.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter, text)


def _runs(flags: list[bool], per_item: bool) -> list[tuple[int, int]]:
    """(first, last) index of each run of True in ``flags`` (each True alone: ``per_item``)."""
    idx = [i for i, f in enumerate(flags) if f]
    if per_item:
        return [(i, i) for i in idx]
    runs: list[tuple[int, int]] = []
    for i in idx:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _arrow(p: QPainter, a: QPointF, b: QPointF) -> None:
    """A line from ``a`` to ``b`` with a small filled head at ``b`` (pen and brush set)."""
    p.drawLine(a, b)
    d = b - a
    length = max((d.x() ** 2 + d.y() ** 2) ** 0.5, 1e-9)
    ux, uy = d.x() / length, d.y() / length
    size = min(5.0, 0.5 * length)
    base = QPointF(b.x() - ux * size, b.y() - uy * size)
    side = QPointF(-uy * size * 0.5, ux * size * 0.5)
    p.drawPolygon(QPolygonF([b, base + side, base - side]))
