"""Per-layer gradient norm on a log axis: the picture of a vanishing (or exploding) gradient."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QWidget

from gui import theme
from gui.i18n import QT_TRANSLATE_NOOP

DEFAULT_TITLE = QT_TRANSLATE_NOOP("Plots", "Gradient norm per layer")
DEFAULT_Y_LABEL = "||dL/dW|| (Frobenius)"
#: floor used when no series has a single positive finite value
ABSOLUTE_FLOOR = 1e-300


class GradientChart(theme.PlotPanel):
    """Per-layer gradient norm: x = layer (h1 .. hL, out), log y, one line per series.

    Values that a log axis cannot show are drawn at the edge and marked: exact zeros (a dead
    layer) drop to a floor one decade below the smallest positive value, marked with a
    triangle; NaN (a diverged run) leaves a gap marked with a cross at the floor; +inf is
    marked with a cross at a ceiling one decade above the largest value.
    """

    def __init__(self, parent: QWidget | None = None, title: str = DEFAULT_TITLE):
        super().__init__(parent)
        item = self.plot_item
        item.setLogMode(x=False, y=True)
        item.showGrid(x=True, y=True, alpha=0.15)
        self.style_plot(title, QT_TRANSLATE_NOOP("Plots", "layer"), "")
        self.legend = theme.add_legend(item)
        self._item = item
        self._series: dict[str, pg.PlotDataItem] = {}
        self._overlays: dict[str, pg.PlotDataItem] = {}
        self._spare: list[pg.PlotDataItem] = []  # removed series items, reused first
        self._styles: dict[int, tuple] = {}  # id(item) -> last style applied (colour, ...)
        self._x = np.arange(16, dtype=np.float64)
        self._labels: tuple[str, ...] = ()
        self._n = 0
        self._floor = ABSOLUTE_FLOOR
        # one marker item per kind for all series: markers coloured per point
        self._zero_marks = pg.PlotDataItem(pen=None, symbol="t", symbolSize=12)
        self._bad_marks = pg.PlotDataItem(pen=None, symbol="x", symbolSize=13)
        for marks in (self._zero_marks, self._bad_marks):
            marks.setZValue(10)
            item.addItem(marks)
        self._legend_key: tuple = ()
        # why there is no theory line ("no mean-field line: batch norm"), top left of the plot
        self._note = pg.TextItem("", color=theme.foreground(), anchor=(0, 0))
        self._note.setParentItem(item.vb)
        self._note.setPos(4, 2)
        self._note.setVisible(False)
        # the note wraps at the plot's width instead of running out of it
        item.vb.sigResized.connect(self._wrap_note)
        self._y_label = DEFAULT_Y_LABEL
        self._y_label_shown = ""
        self._fit_y_label()
        self.set_title(title)

    def __repr__(self) -> str:
        return (
            f"GradientChart(layers={self._n}, series={list(self._series)}, "
            f"overlays={list(self._overlays)})"
        )

    @property
    def series(self) -> Mapping[str, pg.PlotDataItem]:
        """The measured lines on the chart, by name (read-only)."""
        return MappingProxyType(self._series)

    @property
    def overlays(self) -> Mapping[str, pg.PlotDataItem]:
        """The theory lines on the chart, by name (read-only)."""
        return MappingProxyType(self._overlays)

    @property
    def note(self) -> str:
        """The note shown in the plot ("" when none)."""
        return self._note.toPlainText() if self._note.isVisible() else ""

    # --- public API ---------------------------------------------------------------------------
    def set_note(self, text: str) -> None:
        """A short note in the plot's top-left corner, e.g. why a theory line is absent
        ("" hides it)."""
        if text != self.note:
            self._note.setText(text, color=theme.foreground())
        self._note.setVisible(bool(text))

    def _wrap_note(self, *_) -> None:
        self._note.setTextWidth(max(self._item.vb.width() - 8, 40))

    def set_y_label(self, text: str) -> None:
        """Y axis label; the default is ``||dL/dW|| (Frobenius)``.  On a plot too short for
        it, a parenthesised part is left out ("||dL/dW||") rather than cut off."""
        self._y_label = text
        self._y_label_shown = ""
        self._fit_y_label()

    def _fit_y_label(self) -> None:
        text = self._y_label
        font = QFont()
        font.setPointSizeF(theme.LABEL_PT)
        room = self._item.vb.height() if self._item.vb.height() > 0 else self.plot.height()
        if QFontMetricsF(font).horizontalAdvance(text) > room and " (" in text:
            text = text[: text.index(" (")]
        if text != self._y_label_shown:
            self._y_label_shown = text
            self.set_axis_label("left", text)

    def set_data(
        self,
        series: Mapping[str, np.ndarray],
        labels: Sequence[str],
        *,
        align: str = "input",
        computed: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Draw ``series`` (name -> (L+1,) values, one per layer) against ``labels`` (L+1,).

        A series may be shorter than ``labels`` (runs of different depths in one chart):
        ``align="input"`` puts its first value at the first label, ``align="output"`` its
        last value at the last label.  Positions it does not cover are not drawn.

        ``computed`` (optional) maps a series name to a bool array like its values: False
        marks a value not computed yet (before the first step, or a layer the step-through
        has not reached).  Those are simply not drawn: no point, no NaN marker.
        """
        if align not in ("input", "output"):
            raise ValueError(f"align must be 'input' or 'output', got {align!r}")
        n = len(labels)
        self._set_layers(labels)
        arrays = {name: self._as_row(v, n, name) for name, v in series.items()}
        pending = {
            name: ~np.asarray(computed[name], dtype=bool).ravel()
            for name in arrays
            if computed is not None and name in computed
        }
        for name, todo in pending.items():
            if todo.shape != arrays[name].shape:
                raise ValueError(
                    f"series {name!r}: computed mask of shape {todo.shape} for "
                    f"{len(arrays[name])} values"
                )
            arrays[name] = np.where(todo, np.nan, arrays[name])
        self._floor = _floor_of(arrays.values())
        ceiling = _ceiling_of(arrays.values(), self._floor)
        for name in [s for s in self._series if s not in arrays]:
            self._drop_series(name)
        zx, zy, zb, bx, by, bb = [], [], [], [], [], []
        symbol_size = 7 if n <= 30 else 4
        restyled = False
        for i, (name, v) in enumerate(arrays.items()):
            start = n - len(v) if align == "output" else 0
            x = self._x[start : start + len(v)]
            c = theme.color(i)
            it = self._series.get(name) or self._new_series(name)
            if self._styles.get(id(it)) != (c, symbol_size):
                # restyling makes the item rebuild its curve and symbols: only on a change
                self._styles[id(it)] = (c, symbol_size)
                restyled = True
                it.setPen(theme.mkpen(c, 2.0))
                it.setSymbolBrush(c)
                it.setSymbolSize(symbol_size)
            zero = v == 0.0
            todo = pending.get(name, np.zeros(len(v), dtype=bool))
            bad = (~np.isfinite(v) | (v < 0)) & ~todo
            y = v.copy()
            y[zero] = self._floor
            y[bad | todo] = np.nan  # a gap: the line must not invent a value
            if (bad | todo).all():
                # nothing drawable; an all-NaN item also makes pyqtgraph warn on every paint
                it.setData([], [])
            else:
                it.setData(x, y)
            if zero.any():
                zx.append(x[zero])
                zy.append(np.full(int(zero.sum()), self._floor))
                zb.extend([c] * int(zero.sum()))
            if bad.any():
                bx.append(x[bad])
                by.append(np.where(v[bad] == np.inf, ceiling, self._floor))
                bb.extend([c] * int(bad.sum()))
        self._set_marks(self._zero_marks, zx, zy, zb)
        self._set_marks(self._bad_marks, bx, by, bb)
        self._sync_legend()
        if restyled:  # a sample draws its line's style: repaint it, the legend may be the same
            for sample, _ in self.legend.items:
                sample.update()

    def set_overlay(self, name: str, values: np.ndarray | None, style: str = "dash") -> None:
        """A theory curve over the layers (``style``: dash, dot, dashdot, solid); None removes.

        Values that are not positive and finite leave gaps (a bound that underflowed).
        """
        if values is None:
            it = self._overlays.pop(name, None)
            if it is not None:
                self._item.removeItem(it)
                self._sync_legend()
            return
        v = np.asarray(values, dtype=np.float64).ravel()
        it = self._overlays.get(name)
        if it is None:
            it = pg.PlotDataItem(connect="finite")
            it.setZValue(5)
            self._overlays[name] = it
            self._item.addItem(it)
        c = theme.OVERLAY_COLORS[list(self._overlays).index(name) % len(theme.OVERLAY_COLORS)]
        if self._styles.get(id(it)) != (c, style):
            self._styles[id(it)] = (c, style)
            it.setPen(theme.mkpen(c, 2.0, style))
        if len(v) > len(self._x):
            self._grow(len(v))
        y = _positive_or_nan(v)
        if np.isnan(y).all():
            it.setData([], [])
        else:
            it.setData(self._x[: len(v)], y)
        self._sync_legend()

    def reset(self) -> None:
        """Back to an empty chart: series, overlays, markers and layer labels removed (the
        items are kept for reuse)."""
        for name in list(self._series):
            self._drop_series(name)
        for it in self._overlays.values():
            self._item.removeItem(it)
        self._overlays.clear()
        self.set_note("")
        self._zero_marks.setData([], [])
        self._bad_marks.setData([], [])
        self._labels, self._n = (), 0
        self._item.getAxis("bottom").setTicks([[], []])
        self.reset_view()
        self._sync_legend()

    def set_layers(self, labels: Sequence[str]) -> None:
        """Show the layer axis of ``labels`` (before any data: a fresh network)."""
        self._set_layers(labels)

    # --- internals ----------------------------------------------------------------------------
    def _as_row(self, values, n: int, name: str) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64).ravel()
        if len(v) > n:
            raise ValueError(f"series {name!r}: {len(v)} values for {n} layer labels")
        return v

    def _grow(self, n: int) -> None:
        self._x = np.arange(max(n, 2 * len(self._x)), dtype=np.float64)

    def _set_layers(self, labels: Sequence[str]) -> None:
        labels = tuple(labels)
        if labels == self._labels:
            return
        self._labels, self._n = labels, len(labels)
        if self._n > len(self._x):
            self._grow(self._n)
        self._update_ticks()
        self._item.setXRange(-0.5, max(self._n - 0.5, 0.5), padding=0.02)

    def _update_ticks(self) -> None:
        # about one label per 60 px keeps "h100" from colliding with its neighbours
        max_ticks = max(4, min(16, self.plot.width() // 60))
        self._item.getAxis("bottom").setTicks(theme.layer_ticks(self._labels, max_ticks))

    def refit(self) -> None:
        """Title, legend and layer ticks to the current width."""
        super().refit()
        if self._labels:
            self._update_ticks()
        # once the plot has laid out (a new legend row changes the plot's height)
        QTimer.singleShot(0, self, self._fit_y_label)

    def _new_series(self, name: str) -> pg.PlotDataItem:
        it = (
            self._spare.pop()
            if self._spare
            else pg.PlotDataItem(symbol="o", symbolPen=pg.mkPen("w", width=0.8), connect="finite")
        )
        self._series[name] = it
        self._item.addItem(it)
        return it

    def _drop_series(self, name: str) -> None:
        self._spare.append(self.recycle(self._series.pop(name)))

    def marker_points(self, kind: str = "bad") -> np.ndarray:
        """x positions (layer indices) of the "bad" (NaN / inf) or "zero" markers drawn."""
        marks = self._bad_marks if kind == "bad" else self._zero_marks
        return np.array([] if marks.xData is None else marks.xData, dtype=np.float64)

    def series_points(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the points of series ``name`` that are drawn (finite y)."""
        it = self._series.get(name)
        if it is None or it.xData is None:
            return np.zeros(0), np.zeros(0)
        x, y = np.asarray(it.xData, dtype=np.float64), np.asarray(it.yData, dtype=np.float64)
        ok = np.isfinite(y)
        return x[ok], y[ok]

    @staticmethod
    def _set_marks(marks: pg.PlotDataItem, xs: list, ys: list, brushes: list) -> None:
        if not xs:
            marks.setData([], [])
            return
        colors = [pg.mkColor(b) for b in brushes]
        marks.setData(
            np.concatenate(xs),
            np.concatenate(ys),
            symbolBrush=colors,
            symbolPen=[pg.mkPen(theme.foreground(), width=1)] * len(colors),
        )

    def _sync_legend(self) -> None:
        """Rebuild the legend only when its entries change (it creates label items)."""
        entries: list[tuple[pg.PlotDataItem, str]] = list(
            (it, name) for name, it in self._series.items()
        )
        entries += [(it, name) for name, it in self._overlays.items()]
        if self._zero_marks.xData is not None and len(self._zero_marks.xData):
            entries.append((self._zero_marks, "exactly 0 (drawn at floor)"))
        if self._bad_marks.xData is not None and len(self._bad_marks.xData):
            entries.append((self._bad_marks, "NaN / inf"))
        key = tuple((id(it), name) for it, name in entries)
        if key == self._legend_key:
            return
        self._legend_key = key
        self.legend.clear()
        for it, name in entries:
            self.legend.addItem(it, name)
        self.legend.setVisible(len(entries) > 1)
        self.refit()


def _floor_of(arrays) -> float:
    """One decade below the smallest positive finite value (ABSOLUTE_FLOOR if none)."""
    smallest = math.inf
    for v in arrays:
        ok = v[np.isfinite(v) & (v > 0)]
        if len(ok):
            smallest = min(smallest, float(ok.min()))
    if not math.isfinite(smallest):
        return ABSOLUTE_FLOOR
    return max(10.0 ** (math.floor(math.log10(smallest)) - 1), ABSOLUTE_FLOOR)


def _ceiling_of(arrays, floor: float) -> float:
    """One decade above the largest finite value (where +inf is drawn)."""
    largest = 0.0
    for v in arrays:
        ok = v[np.isfinite(v) & (v > 0)]
        if len(ok):
            largest = max(largest, float(ok.max()))
    if largest <= 0:
        return floor * 10.0
    return min(10.0 ** (math.floor(math.log10(largest)) + 2), 1e300)


def _positive_or_nan(v: np.ndarray) -> np.ndarray:
    out = v.copy()
    out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out
