"""Shared look of every plot: palette, pyqtgraph defaults, fonts, legends and layer ticks.

The panels and the figure set (gui.figures) style themselves through these helpers only, so
the live app and exported figures for slides and papers look the same.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol as draw_symbol
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from engine.labels import short_layer_label
from gui.i18n import Retranslatable, translate

#: Okabe-Ito: eight colours that stay distinguishable under the common colour-vision
#: deficiencies.  Ordered so the first few contrast best on white (yellow, the weakest on
#: white, comes last).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black (white on a dark background, see color())
    "#F0E442",  # yellow
)

#: pyqtgraph colour map of the layer x step heatmaps: perceptually uniform, prints in grey
LAYER_COLORMAP = "viridis"

#: neutral colours for theory overlays, distinct from the data series
OVERLAY_COLORS: tuple[str, ...] = ("#333333", "#999999", "#CC79A7")

TICK_PT = 10
LABEL_PT = 11
TITLE_PT = 12

_state = {"light": True}


def color(i: int) -> str:
    """Colour of series ``i`` (cycles through :data:`PALETTE`)."""
    c = PALETTE[i % len(PALETTE)]
    if c == "#000000" and not _state["light"]:
        return "#FFFFFF"  # black would vanish on the dark background
    return c


def is_light() -> bool:
    """Was :func:`configure_pyqtgraph` last called for a light background (the default)?"""
    return _state["light"]


def configure_pyqtgraph(light: bool = True) -> None:
    """Global pyqtgraph defaults: white background / black text for light, antialiasing on.

    Must run before the plots are created: a PlotWidget reads its background when built.
    """
    _state["light"] = bool(light)
    pg.setConfigOptions(
        background="w" if light else "#1e1e1e",
        foreground="k" if light else "#dddddd",
        antialias=True,
    )


def foreground() -> str:
    """Text / axis colour of the current theme."""
    return "#000000" if _state["light"] else "#dddddd"


def mkpen(c: str, width: float = 2.0, style: str = "solid") -> pg.QtGui.QPen:
    """A cosmetic pen; ``style`` is one of solid, dash, dot, dashdot."""
    styles = {
        "solid": Qt.PenStyle.SolidLine,
        "dash": Qt.PenStyle.DashLine,
        "dot": Qt.PenStyle.DotLine,
        "dashdot": Qt.PenStyle.DashDotLine,
    }
    if style not in styles:
        raise ValueError(f"pen style must be one of {sorted(styles)}, got {style!r}")
    pen = pg.mkPen(c, width=width, style=styles[style])
    pen.setCosmetic(True)
    return pen


def style_plot(item: pg.PlotItem, title: str, x_label: str, y_label: str) -> None:
    """Readable fonts for ticks, axis labels and title (sized for slides, not just screens)."""
    tick_font = QFont()
    tick_font.setPointSize(TICK_PT)
    for side in ("left", "bottom", "right", "top"):
        axis = item.getAxis(side)
        axis.setStyle(tickFont=tick_font, tickTextOffset=4)
        # enableAutoSIPrefix would rescale "1e-6" ticks into micro-units: wrong for norms
        axis.enableAutoSIPrefix(False)
    set_axis_label(item, "bottom", x_label)
    set_axis_label(item, "left", y_label)
    set_title(item, title)


def set_axis_label(item: pg.PlotItem, side: str, text: str) -> None:
    """Axis label in the theme's font size (units belong in the text, e.g. "step").

    Plain text: pyqtgraph labels are HTML, so "<" and "&" are escaped here.
    """
    item.setLabel(
        side,
        html.escape(text, quote=False),
        **{"font-size": f"{LABEL_PT}pt", "color": foreground()},
    )


def set_title(item: pg.PlotItem, text: str) -> None:
    """Plot title (plain text, escaped like the axis labels) in the theme's font size."""
    item.setTitle(html.escape(text, quote=False), size=f"{TITLE_PT}pt", color=foreground())


class _Sample(pg.ItemSample):
    """A legend sample that draws a line's symbol from the line's own style.

    The stock sample reads the symbol from the line's scatter item, which takes a new
    style only with data: an empty line restyled for a new run (or created just now) was
    shown with the old run's (or the default grey) symbol colour.
    """

    def paint(self, p, *args) -> None:
        item = self.item
        if not isinstance(item, pg.PlotDataItem) or not item.isVisible():
            super().paint(p, *args)
            return
        opts = item.opts
        p.setRenderHint(p.RenderHint.Antialiasing)
        p.setPen(pg.mkPen(opts["pen"]))
        p.drawLine(0, 11, 20, 11)
        if opts["symbol"] is not None:
            brush, pen = opts["symbolBrush"], opts["symbolPen"]
            # a list: one per point (the zero / NaN markers); the legend shows the first
            brush = (brush or [None])[0] if isinstance(brush, list) else brush
            pen = (pen or [None])[0] if isinstance(pen, list) else pen
            p.translate(10, 10)
            draw_symbol(p, opts["symbol"], opts["symbolSize"], pg.mkPen(pen), pg.mkBrush(brush))


class FillSample(_Sample):
    """Legend sample for a filled area (histogram): a filled box, not a line with a wedge."""

    def paint(self, p, *args):
        opts = self.item.opts
        p.setPen(pg.mkPen(opts.get("pen")))
        p.setBrush(pg.mkBrush(opts.get("fillBrush") or opts.get("brush")))
        p.drawRect(pg.QtCore.QRectF(2, 4, 16, 12))


_SUPERSCRIPT = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def power_of_ten(exponent: int) -> str:
    """10 ** exponent as text: "1", "10", "10\u207b\u00b3", ..."""
    if exponent == 0:
        return "1"
    if exponent == 1:
        return "10"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


class Axis(pg.AxisItem):
    """An axis with tidy log-mode labels: decimals from 0.001 to 1000, powers of ten beyond
    ("10\u207b\u2076"), and of the in-between ticks (shown when few decades are visible)
    only 2x and 5x are labelled, so the labels never pile up."""

    _fallback_step = 0.0  # > 0 while less than a decade is visible (see logTickValues)

    def tickSpacing(self, minVal, maxVal, size):
        """pyqtgraph's spacing, widened on a short horizontal axis until the labels fit.

        pyqtgraph always draws its top tick level, however crowded: on a 100-pixel-wide
        heatmap "50", "100" and "150" ran into one "50100150".
        """
        levels = super().tickSpacing(minVal, maxVal, size)
        if (
            self.orientation not in ("bottom", "top")
            or self.logMode
            or not levels
            or not (math.isfinite(minVal) and math.isfinite(maxVal))
            or size <= 0
        ):
            return levels
        fm = QFontMetricsF(self.style.get("tickFont") or self.font())
        span = abs(maxVal - minVal)

        def crowded(step: float) -> bool:
            # the widest label: the tick of largest magnitude, with the step's decimals
            ticks = (math.ceil(minVal / step) * step, math.floor(maxVal / step) * step)
            text = max(
                (f"{t:.{max(0, -math.floor(math.log10(step) + 1e-9))}f}" for t in ticks), key=len
            )
            width = fm.horizontalAdvance(text.replace("-", "\u2212")) + 14
            return span / step > max(1.0, size / width)

        def inside(step: float) -> int:
            return math.floor(maxVal / step) - math.ceil(minVal / step) + 1

        major = levels[0][0]
        if not crowded(major):
            return levels
        while crowded(major):
            wider = _nice_linear_step(major * 1.01)
            if inside(wider) < 1:
                break  # keep at least one labelled tick
            major = wider
        return [(major, 0)]

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        inside = [v for _, level in ticks for v in level if minVal <= v <= maxVal]
        self._fallback_step = 0.0
        if len(inside) >= 2 or not (math.isfinite(minVal) and math.isfinite(maxVal)):
            return ticks
        # under a decade in view (a loss between 0.9 and 1.3): log ticks would leave one
        # label or none, so put evenly spaced round values there instead
        lo, hi = 10.0**minVal, 10.0**maxVal
        step = _nice_linear_step((hi - lo) / 4)
        values = np.arange(math.ceil(lo / step) * step, hi, step)
        values = values[values > 0]
        self._fallback_step = step
        return [(None, list(np.log10(values)))]

    def logTickStrings(self, values, scale, spacing):
        if self._fallback_step > 0:
            decimals = max(0, -math.floor(math.log10(self._fallback_step) + 1e-9))
            return [f"{10.0 ** float(v) * scale:.{decimals}f}" for v in values]
        logs = [float(v) + math.log10(scale) for v in values]
        nice = [_is_nice(v) for v in logs]
        if sum(nice) < 2:
            # a narrow range (0.7, 0.8, 0.9): label every tick, or there would be none
            return [_log_label(v) for v in logs]
        return [_log_label(v) if ok else "" for v, ok in zip(logs, nice, strict=True)]


def _mantissa_exponent(log_value: float) -> tuple[float, int]:
    e = math.floor(log_value + 1e-9)
    return round(10.0 ** (log_value - e), 6), e


def _is_nice(log_value: float) -> bool:
    """Is 10 ** log_value 1, 2 or 5 times a power of ten?"""
    m, _ = _mantissa_exponent(log_value)
    return any(abs(m - k) < 1e-6 for k in (1.0, 2.0, 5.0, 10.0))


def _log_label(log_value: float) -> str:
    """10 ** log_value as a decimal from 0.001 to 1000, else as m\u00d710\u207f."""
    m, e = _mantissa_exponent(log_value)
    if abs(m - 10.0) < 1e-6:
        m, e = 1.0, e + 1
    if -3 <= e <= 3:
        return f"{m * 10.0**e:.4g}"
    if abs(m - 1.0) < 1e-6:
        return power_of_ten(e)
    return f"{m:g}\u00d7{power_of_ten(e)}"


def _nice_linear_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    if not raw > 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= raw)


def axis_items() -> dict[str, Axis]:
    """Fresh axes for a new PlotWidget: ``pg.PlotWidget(axisItems=theme.axis_items())``."""
    return {side: Axis(side) for side in ("left", "bottom")}


class _LayoutLegend(pg.LegendItem):
    """A legend that lives in the plot's grid layout (below the axes) instead of floating
    over the data: it can never cover a curve, in the app or in an exported figure."""

    max_columns = 4

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the stock legend floats at a fixed pixel size over a zoomable view; in the layout
        # it must scale with everything else, or an exported figure (rendered scaled) gets
        # a legend at a fraction of the size of its axis labels
        self.setFlag(self.GraphicsItemFlag.ItemIgnoresTransformations, False)

    def updateSize(self) -> None:
        # the stock legend sets its own geometry at (0, 0); in a layout the layout decides
        self.updateGeometry()

    def fit(self, width: float) -> None:
        """As many columns (up to ``max_columns``) as fit in ``width`` pixels."""
        widths = [
            sample.boundingRect().width() + label.minimumWidth() for sample, label in self.items
        ]
        if not widths:
            return
        spacing = self.layout.horizontalSpacing()
        for cols in range(min(self.max_columns, len(widths)), 0, -1):
            total = sum(max(widths[j::cols]) for j in range(cols)) + (2 * cols - 1) * spacing
            if total <= width or cols == 1:
                self.setColumnCount(cols)
                return


def colour_bar(item: pg.PlotItem, image: pg.ImageItem, levels, label: str) -> pg.ColorBarItem:
    """A colour bar for ``image`` inside ``item`` (so it is part of every export), its axis in
    the theme's fonts and labelled ``label``; no SI prefixes (its values are often log10)."""
    bar = pg.ColorBarItem(
        values=levels, colorMap=LAYER_COLORMAP, interactive=False, width=16, pen=foreground()
    )
    bar.setImageItem(image, insert_in=item)
    axis = bar.getAxis("right")
    # log10 values: an SI prefix would turn -0.1..-0.6 into "-100..-600 (x0.001)"
    axis.enableAutoSIPrefix(False)
    axis.setStyle(tickFont=item.getAxis("left").style["tickFont"])
    axis.setLabel(label, **{"font-size": f"{LABEL_PT}pt", "color": foreground()})
    return bar


def add_legend(item: pg.PlotItem, columns: int = 4) -> pg.LegendItem:
    """A legend below the plot's bottom axis (row 4 of the PlotItem grid), at most ``columns``
    entries per row (fewer when the plot is narrow, see :class:`PlotPanel`)."""
    legend = _LayoutLegend(
        sampleType=_Sample,
        colCount=columns,
        labelTextSize=f"{TICK_PT}pt",
        labelTextColor=foreground(),
        horSpacing=12,
        verSpacing=-4,
    )
    legend.max_columns = columns
    # fixed size policy: the legend keeps its natural width, centred, instead of stretching;
    # it spans the axis columns too, so a narrow plot still has room for two entries a row
    legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    item.layout.addItem(legend, 4, 0, 1, 3, alignment=Qt.AlignmentFlag.AlignHCenter)
    legend.setVisible(False)
    return legend


def _title_never_sets_the_width(label: pg.LabelItem) -> None:
    """Stop a title from imposing its text width as the plot's minimum width.

    pyqtgraph's LabelItem makes its text width a hard minimum; in a narrow dock that pushes
    the whole plot (colour bar included) out of view.  :func:`fit_title` shrinks the font
    instead.
    """
    original = label.updateMin

    def update_min() -> None:
        original()
        label.setMinimumWidth(0)
        label._sizeHint[Qt.SizeHint.MinimumSize] = (0, label.minimumHeight())

    label.updateMin = update_min


def fit_title(item: pg.PlotItem, text: str, width: float) -> None:
    """Set the title in the theme's size, or smaller (down to 7 pt) if it is wider than
    ``width``: a narrow dock shows the whole title instead of cutting both ends off."""
    font = QFont()
    font.setPointSizeF(TITLE_PT)
    natural = QFontMetricsF(font).horizontalAdvance(text)
    room = max(width - 20.0, 40.0)
    pt = TITLE_PT if natural <= room else max(7.0, TITLE_PT * room / natural)
    item.setTitle(html.escape(text, quote=False), size=f"{pt:.1f}pt", color=foreground())


class PlotPanel(Retranslatable, QWidget):
    """Base of the plot panels: one ``pg.PlotWidget`` (attribute ``plot``) filling the widget,
    themed axes, and a title and legend that adapt to the width.

    Titles and axis labels are given as source texts (English, marked with
    ``QT_TRANSLATE_NOOP("Plots", ...)``) and shown in the current language, again after a
    language change; a title with numbers in it is given as a function that builds it
    (from ``translate`` calls).  An export draws the plot as shown: in its language.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(axisItems=axis_items())
        self.plot_item: pg.PlotItem = self.plot.getPlotItem()
        self.plot_item.setMenuEnabled(False)
        _title_never_sets_the_width(self.plot_item.titleLabel)
        self.legend: pg.LegendItem | None = None
        self._title = ""
        self._title_source: str | Callable[[], str] = ""
        self._axis_sources: dict[str, str] = {}
        self._title_key: tuple[str, int] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        # refit when the plot itself changes size: the panel's resizeEvent can come before
        # its layout has resized the plot, which left titles fitted to the old width
        self.plot.installEventFilter(self)

    def recycle(self, item: pg.PlotDataItem) -> pg.PlotDataItem:
        """Take a line off the plot and empty it, to be reused for the next one (creating
        plot items is slow; pyqtgraph's advice is to create once and setData)."""
        self.plot_item.removeItem(item)
        item.setData([], [])
        return item

    def eventFilter(self, obj, event) -> bool:
        if obj is self.plot and event.type() == QEvent.Type.Resize:
            # after the plot has laid out its axes for the new size (title: plot column)
            QTimer.singleShot(0, self, self.refit)
        return False

    @property
    def title(self) -> str:
        """The plot title as plain text."""
        return self._title

    def set_title(self, title: str | Callable[[], str]) -> None:
        """Plot title (plain text; shown in exports too): a source text, translated in
        context ``Plots``, or a function returning the text in the current language."""
        self._title_source = title
        self._title = title() if callable(title) else translate("Plots", title)
        self._fit_title()

    def style_plot(self, title: str, x_label: str, y_label: str) -> None:
        """:func:`style_plot` with source texts, shown in the current language."""
        style_plot(self.plot_item, "", "", "")
        self.set_axis_label("bottom", x_label)
        self.set_axis_label("left", y_label)
        self.set_title(title)

    def set_axis_label(self, side: str, text: str) -> None:
        """Axis label from a source text (context ``Plots``), kept across language changes."""
        self._axis_sources[side] = text
        set_axis_label(self.plot_item, side, translate("Plots", text) if text else "")

    def retranslate_ui(self) -> None:
        """Title and axis labels in the current language."""
        for side, text in self._axis_sources.items():
            self.set_axis_label(side, text)
        self.set_title(self._title_source)

    def _title_width(self) -> float:
        """Room for the title: it is centred over the data area (not over the whole plot:
        axes and colour bar are at the sides), so it may reach only as far as the nearer
        edge of the widget on both sides."""
        geo = self.plot_item.vb.geometry()
        full = float(self.plot.width())
        if not 0 < geo.width() <= full:
            return max(full - 60.0, 40.0)
        centre = geo.center().x() + self.plot_item.pos().x()
        return max(2.0 * min(centre, full - centre), 40.0)

    def _fit_title(self) -> None:
        # panels retitle on every frame (histogram notes): lay the text out only on a change
        width = self._title_width()
        key = (self._title, width)
        if key != self._title_key:
            self._title_key = key
            fit_title(self.plot_item, self._title, width)

    def refit(self) -> None:
        """Fit title and legend to the plot's width (after a resize or new legend entries).

        The plot's own width, not the panel's: an export lays out a hidden plot by itself.
        """
        self._fit_title()
        if self.legend is not None:
            self.legend.fit(self.plot.width() - 16)
            self._fit_to_view()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.refit()

    def _fit_to_view(self) -> None:
        """Lay the plot out to its view again if it is wider than the view.

        The view sizes the plot only when the view is resized, and a plot is never made
        narrower than its minimum: while a legend had more columns than fit, the plot was
        laid out wider than its view (right edge clipped) and stayed so after the legend
        refitted.
        """
        view, item = self.plot, self.plot_item
        if item.geometry().width() > view.width() + 0.5:
            item.updateGeometry()  # drop the size hints cached with the wider legend
            item.layout.invalidate()
            item.setGeometry(QRectF(0, 0, view.width(), view.height()))

    def reset_view(self) -> None:
        """Forget the axes' ranges: a unit view that follows the next data (auto range).

        Without data an auto-ranging view keeps its old range, so after a rebuild the axes
        would still show the previous run's steps and values.
        """
        self.plot_item.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0)
        self.plot_item.enableAutoRange()


def nice_step(n: int, max_ticks: int) -> int:
    """Smallest of 1, 2, 5, 10, 20, 50, ... giving at most ``max_ticks`` ticks over n items."""
    if n <= max_ticks:
        return 1
    raw = n / max(max_ticks, 1)
    base = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * base >= raw:
            return int(m * base)
    return int(10 * base)


def layer_ticks(labels: Sequence[str], max_ticks: int = 12) -> list[list[tuple[float, str]]]:
    """Ticks [major, minor] for a layer axis at 0..L.

    All layers are labelled when they fit; otherwise the first layer, every ``step``-th
    (h10, h20, ...) and the last are, and the rest get unlabelled minor ticks.
    """
    n = len(labels)
    short = [short_layer_label(s) for s in labels]
    step = nice_step(n, max_ticks)
    if step == 1:
        return [[(float(i), s) for i, s in enumerate(short)], []]
    # label layers 1, step, 2 step, ... (1-based, as humans count layers) and the last one
    idx = [0] + [i for i in range(step - 1, n - 1, step) if i > 0]
    idx = [i for i in idx if n - 1 - i >= step / 2] + [n - 1]
    major = [(float(i), short[i]) for i in idx]
    labelled = set(idx)
    minor = [(float(i), "") for i in range(n) if i not in labelled]
    return [major, minor]
