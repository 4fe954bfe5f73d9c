"""The mean-field phase diagram: the sigma_w^2 x sigma_b^2 plane of one activation.

A dumb panel: it draws what :mod:`engine.phase_view` computed (xi_c as a colour on a log
scale, the edge of chaos chi_1 = 1, the phases' names, the current init and the He / Xavier /
LeCun points) and reports the user's mouse: ``point_clicked(sigma_w2, sigma_b2)`` on a left
click inside the plane, ``hovered(sigma_w2, sigma_b2)`` as the cursor moves (at most 20 per
second); its owner answers the hover with :meth:`PhaseDiagram.set_hover`.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QWidget

from gui import theme
from gui.i18n import QT_TRANSLATE_NOOP, translate

TITLE = QT_TRANSLATE_NOOP("Plots", "Phase diagram (mean field at init)")
X_LABEL = "\u03c3w\u00b2"
Y_LABEL = "\u03c3b\u00b2"
BAR_LABEL = "\u03bec (layers)"
TOOLTIP = QT_TRANSLATE_NOOP(
    "Plots",
    "Mean-field phase diagram of a deep random net of this activation: x = \u03c3w\u00b2 "
    "(weight variance \u00d7 fan-in), y = \u03c3b\u00b2 (bias variance); colour = the depth "
    "scale \u03bec over which two inputs' correlation forgets its start (Schoenholz et al. 2017); "
    "red line = edge of chaos \u03c7\u2081 = 1. Left of it gradients vanish by "
    "\u221a\u03c7\u2081 per layer, right of it they explode. Star: this net's init; circles: "
    "standard inits. Click to use that (\u03c3w\u00b2, \u03c3b\u00b2); hover for the numbers.",
)
LEVELS = (-0.5, 3.3)  # log10 xi_c of the colour bar's ends: 0.3 .. >= 1000 layers
MARGIN = 0.05  # the view shows this fraction beyond the plane's sides: whole markers at 0
EDGE_NAME = "\u03c7\u2081 = 1"
EDGE_COLOUR = "#d62728"
_LABEL_FILL = (255, 255, 255, 190)
STAR_PX, REF_PX = 22, 10  # symbol sizes of the init's star and the references' circles
_GAP_PX = 3  # between a marker and its label


def _power_ticks(levels: tuple[float, float]) -> list[list[tuple[float, str]]]:
    """Colour-bar ticks 1, 10, 100, ">= 10^3" on a log10 axis."""
    lo, hi = math.ceil(levels[0]), math.floor(levels[1])
    ticks = [(float(k), f"{10**k:g}") for k in range(lo, hi)]
    ticks.append((float(hi), "\u2265" + theme.power_of_ten(hi)))  # short: the bar's axis is narrow
    return [ticks, []]


def _small(text: pg.TextItem) -> None:
    """Text inside the small plot: a point below the tick labels."""
    font = text.textItem.font()
    font.setPointSize(theme.TICK_PT - 1)
    text.setFont(font)


def _area(r: QRectF) -> float:
    return max(r.width(), 0.0) * max(r.height(), 0.0) if r.isValid() else 0.0


def _places(c: QPointF, w: float, h: float, r: float, box: QRectF):
    """Where a ``w`` x ``h`` label of a marker ``r`` pixels in radius at ``c`` may go, best
    first: over it, under it (centred where it fits in ``box``, else to one side), beside
    it (clear of a star drawn over a circle too), a line or two higher."""
    above, below = c.y() - r - _GAP_PX - h, c.y() + r + _GAP_PX
    centred = min(max(c.x() - w / 2, box.left()), box.right() - w)
    for top in (above, below):
        for left in (centred, c.x() - r, c.x() + r - w):
            yield QRectF(left, top, w, h)
    for gap in (r, STAR_PX / 2):
        for left in (c.x() + gap + _GAP_PX, c.x() - gap - _GAP_PX - w):
            yield QRectF(left, c.y() - h / 2, w, h)
    for lines in (1, 2):
        yield QRectF(centred, above - lines * h, w, h)


class PhaseDiagram(theme.PlotPanel):
    """xi_c over the sigma_w^2 x sigma_b^2 plane with the edge of chaos and the init points.

    ``set_map`` draws the plane (None: "computing"), ``set_points`` the markers or, when the
    net is outside the theory, the reason in words.  The view is fixed to the map's range
    (no pan or zoom: a click means "use this init").
    """

    point_clicked = Signal(float, float)
    hovered = Signal(float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.plot_item
        self.style_plot(TITLE, X_LABEL, Y_LABEL)
        item.vb.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")  # image[sigma_b2 row, sigma_w2 col]
        item.addItem(self.image)
        self.bar = theme.colour_bar(item, self.image, LEVELS, BAR_LABEL)
        axis = self.bar.getAxis("right")
        axis.setTicks(_power_ticks(LEVELS))
        # the top label sits at the very end of the bar: pyqtgraph would drop it as overflowing
        axis.setStyle(hideOverlappingLabels=False)
        self.edge = pg.PlotDataItem(pen=theme.mkpen(EDGE_COLOUR, 3.0), connect="finite")
        self.marker = pg.PlotDataItem(
            symbol="star", symbolSize=22, symbolBrush="w", symbolPen=pg.mkPen("k", width=1.5)
        )
        self.marker.setPen(None)
        self.refs = pg.PlotDataItem(
            symbol="o", symbolSize=10, symbolBrush=(255, 255, 255, 160), symbolPen="k"
        )
        self.refs.setPen(None)
        for z, it in enumerate((self.edge, self.refs, self.marker), start=2):
            it.setZValue(z)
            item.addItem(it)
        self.setToolTip(translate("Plots", TOOLTIP))
        self._texts: dict[str, list[pg.TextItem]] = {"regions": [], "points": [], "edge": []}
        self._note = self._text_item((0, 0))
        self._note.setParentItem(item.vb)  # in pixels: top-left of the plot, wrapped
        self._note.setPos(4, 2)
        item.vb.sigResized.connect(self._wrap_note)
        item.vb.sigResized.connect(lambda *_: self._place_point_labels())  # fit to the sides
        self.hover_label = self._text_item((0, 0))
        self.hover_label.setZValue(10)
        item.addItem(self.hover_label, ignoreBounds=True)
        self._item = item
        self._extent = (1.0, 1.0)
        self._drawn: object = None  # the map on show
        self._proxy = pg.SignalProxy(item.scene().sigMouseMoved, rateLimit=20, slot=self._moved)
        item.scene().sigMouseClicked.connect(self._clicked)
        self.reset()

    def __repr__(self) -> str:
        return f"PhaseDiagram(extent={self._extent}, note={self.note!r})"

    @staticmethod
    def _text_item(anchor) -> pg.TextItem:
        text = pg.TextItem("", color=theme.foreground(), anchor=anchor, fill=_LABEL_FILL)
        _small(text)
        text.setVisible(False)
        return text

    # --- public API ---------------------------------------------------------------------------
    @property
    def note(self) -> str:
        """The note in the plot's corner ("" when none): computing, or why no marker."""
        return self._note.toPlainText() if self._note.isVisible() else ""

    @property
    def has_map(self) -> bool:
        """Is a map on show (False while computing, after a reset, without a diagram)?"""
        return self._drawn is not None

    @property
    def extent(self) -> tuple[float, float]:
        """(sigma_w^2, sigma_b^2) at the plane's top-right corner (its origin is (0, 0))."""
        return self._extent

    def set_note(self, text: str) -> None:
        self._note.setText(text, color=theme.foreground())
        self._note.setVisible(bool(text))

    def retranslate_ui(self) -> None:
        super().retranslate_ui()
        self.setToolTip(translate("Plots", TOOLTIP))

    def set_map(self, m) -> None:
        """Draw an :class:`engine.phase_view.PhaseMap` (None: empty plane, "computing")."""
        if m is self._drawn:
            return
        self._drawn = m
        self._clear_texts("regions")
        self._clear_texts("edge")
        if m is None:
            self.image.clear()
            self.edge.setData([], [])
            return
        self.set_title(
            lambda: translate("Plots", "Phase diagram: {0} (mean field at init)").format(
                m.activation
            )
        )
        self.image.setImage(m.log_xi, autoLevels=False, levels=LEVELS)
        self.image.setRect(QRectF(0.0, 0.0, m.x_max, m.y_max))
        self.edge.setData(m.edge_w, m.edge_b)
        for text, x, y in m.labels:
            self._label("regions", text.replace(": ", "\n"), x, y, (0.5, 0.5))
        drawn = np.flatnonzero(np.isfinite(m.edge_w))
        if drawn.size:  # the curve's name beside it, below the corner note
            i = drawn[int(0.6 * (drawn.size - 1))]
            self._label("edge", EDGE_NAME, m.edge_w[i], m.edge_b[i], (-0.1, 0.0), EDGE_COLOUR)
        self._set_extent(m.x_max, m.y_max)
        self._place_point_labels()

    def set_points(self, marker, references, label: str = "") -> None:
        """The init's (sigma_w^2, sigma_b^2) (None: none) and (label, sigma_w^2, sigma_b^2)
        references, each labelled next to its point."""
        self.marker.setData(*(([marker[0]], [marker[1]]) if marker else ([], [])))
        self.refs.setData([r[1] for r in references], [r[2] for r in references])
        self._points = [(text, x, y) for text, x, y in references]
        self._has_marker = marker is not None
        if marker:
            self._points.append((label, *marker))
        self._place_point_labels()

    @property
    def hover_text(self) -> str:
        """The numbers shown at the cursor ("" when none)."""
        return self.hover_label.toPlainText() if self.hover_label.isVisible() else ""

    def set_hover(self, text: str, at: tuple[float, float] | None = None) -> None:
        """``text`` next to the point ``at`` (sigma_w^2, sigma_b^2), on the side towards the
        plane's centre so that it never runs out of the plot; "" hides it, and so does a
        mouse that has left the plot (an answer that comes late is not shown)."""
        text = text if self.plot.underMouse() else ""
        self.hover_label.setText(text, color=theme.foreground())
        self.hover_label.setVisible(bool(text))
        if text and at is not None:
            x, y = at
            right, low = x < 0.5 * self._extent[0], y < 0.5 * self._extent[1]
            self.hover_label.setAnchor((-0.05 if right else 1.05, 1.1 if low else -0.1))
            self.hover_label.setPos(x, y)

    def reset(self) -> None:
        """Empty plane, no points, no note, no hover text."""
        self._drawn = None
        self._clear_texts("regions")
        self._clear_texts("edge")
        self._points: list[tuple[str, float, float]] = []  # (label, sigma_w2, sigma_b2)
        self._has_marker = False
        self._clear_texts("points")
        self.image.clear()
        self.edge.setData([], [])
        self.marker.setData([], [])
        self.refs.setData([], [])
        self.set_note("")
        self.set_hover("")
        self.set_title(TITLE)
        self._set_extent(1.0, 1.0)

    def view_to_pixel(self, sigma_w2: float, sigma_b2: float) -> QPointF:
        """Where (sigma_w^2, sigma_b^2) is in the plot widget's pixels (tests, screenshots)."""
        scene = self._item.vb.mapViewToScene(QPointF(sigma_w2, sigma_b2))
        return self.plot.mapFromScene(scene)

    # --- drawing ------------------------------------------------------------------------------
    def _set_extent(self, x_max: float, y_max: float) -> None:
        self._extent = (float(x_max), float(y_max))
        dx, dy = MARGIN * x_max, MARGIN * y_max
        self._item.setRange(xRange=(-dx, x_max + dx), yRange=(-dy, y_max + dy), padding=0)

    def _label(
        self, kind: str, text: str, x: float, y: float, anchor, colour: str = ""
    ) -> pg.TextItem:
        """A text at (x, y), ``anchor`` its point there (TextItem's: (0, 0) top-left)."""
        t = pg.TextItem(fill=_LABEL_FILL)
        t.setText(text, color=colour or theme.foreground())
        _small(t)
        t.setAnchor(anchor)
        t.setPos(x, y)
        t.setZValue(6)
        self._item.addItem(t)
        t.updateTransform(force=True)  # in pixels now, not at the next paint: it is measured
        self._texts[kind].append(t)
        return t

    def _clear_texts(self, kind: str) -> None:
        for t in self._texts[kind]:
            self._item.removeItem(t)
        self._texts[kind] = []

    def _place_point_labels(self) -> None:
        """Each label at the first free place around its point (over, under, beside, a line
        higher), in pixels: covering no marker, no label placed before and nothing outside
        the plot.  The references' first, the init's last: it takes what they leave (a
        circle a hair from the star, as He by Xavier on sigmoid's wide plane, has no room)."""
        self._clear_texts("points")
        points = [(text, x, y, REF_PX) for text, x, y in self._points]
        if self._has_marker:
            points[-1] = (*points[-1][:3], STAR_PX)
        taken = [self._dot(x, y, size) for _, x, y, size in points]
        for text, x, y, size in points:
            t = self._label("points", text, x, y, (0.5, 0.5))
            t.setAnchor(self._free_anchor(t, x, y, size / 2, taken))
            taken.append(t.sceneBoundingRect())

    def _dot(self, x: float, y: float, size: float) -> QRectF:
        """The scene rectangle of a marker ``size`` pixels wide at (x, y)."""
        c = self._item.vb.mapViewToScene(QPointF(x, y))
        return QRectF(c.x() - size / 2, c.y() - size / 2, size, size)

    def _free_anchor(self, t: pg.TextItem, x: float, y: float, r: float, taken: list[QRectF]):
        """The anchor of ``t`` at (x, y), a marker ``r`` pixels in radius, whose rectangle is
        inside the plot and meets none of ``taken``; the least covering one if none is."""
        size = t.textItem.boundingRect()
        w, h = max(size.width(), 1.0), max(size.height(), 1.0)
        c = self._item.vb.mapViewToScene(QPointF(x, y))
        box = self._item.vb.sceneBoundingRect()
        best, least = None, math.inf
        for rect in _places(c, w, h, r, box):
            cover = sum(_area(rect.intersected(other)) for other in taken)
            cover += _area(rect) - _area(rect.intersected(box))  # outside the plot
            if cover < least:
                best, least = rect, cover
            if cover == 0:
                break
        return ((c.x() - best.left()) / w, (c.y() - best.top()) / h)

    def _wrap_note(self, *_) -> None:
        vb = self._item.vb
        self._note.setTextWidth(max(vb.width() - 8, 40))

    # --- mouse --------------------------------------------------------------------------------
    def _plane_point(self, scene_pos) -> tuple[float, float] | None:
        """(sigma_w^2, sigma_b^2) under a scene position, None outside the plane."""
        vb = self._item.vb
        if self._drawn is None or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        # the margin belongs to the nearest side (a click on a marker at sigma_b^2 = 0)
        x = float(np.clip(p.x(), 0.0, self._extent[0]))
        y = float(np.clip(p.y(), 0.0, self._extent[1]))
        return (x, y) if np.isfinite([x, y]).all() else None

    def leaveEvent(self, event) -> None:
        """The mouse left: no numbers linger (the scene reports moves inside it only)."""
        self.set_hover("")
        super().leaveEvent(event)

    def _moved(self, args) -> None:
        # a move the rate limit held back may come after the mouse has left
        point = self._plane_point(args[0]) if self.plot.underMouse() else None
        if point is None:
            self.set_hover("")
        else:
            self.hovered.emit(*point)

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._plane_point(event.scenePos())
        if point is not None:
            event.accept()
            self.point_clicked.emit(*point)
