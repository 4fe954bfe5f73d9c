"""Training curves (loss, accuracy, ...) against the step, one line per named series."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from gui import theme
from gui.i18n import QT_TRANSLATE_NOOP

#: curves with more points than this are drawn 1 px wide (see set_data)
LONG_CURVE = 1000
#: colour of the event line (divergence)
EVENT_COLOR = "#c0392b"


class CurvePlot(theme.PlotPanel):
    """Named series of (steps, values) against the training step.

    A series keeps its item (and colour) from call to call and is removed when its name is
    no longer given.  Long curves are clipped to the view and peak-downsampled, so a
    100 000-point history draws as fast as a short one.  On a log axis, values <= 0 are
    left out (gaps) rather than breaking the axis.
    """

    def __init__(
        self,
        title: str,
        y_label: str,
        log_y: bool = False,
        parent: QWidget | None = None,
        x_label: str = QT_TRANSLATE_NOOP("Plots", "training step"),
    ):
        super().__init__(parent)
        item = self.plot_item
        item.setLogMode(x=False, y=log_y)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.style_plot(title, x_label, y_label)
        self.legend = theme.add_legend(item)
        self.log_y = log_y
        self._item = item
        self._series: dict[str, pg.PlotDataItem] = {}
        self._colors: dict[str, int] = {}  # name -> palette index, stable across calls
        self._spare: list[pg.PlotDataItem] = []
        self._legend_key: tuple[str, ...] = ()
        # where the run diverged: a dashed vertical line with its label (hidden until then)
        self.event_line = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=theme.mkpen(EVENT_COLOR, 1.5, "dash"),
            label="",
            labelOpts={
                "position": 0.9,
                "color": EVENT_COLOR,
                "fill": pg.mkBrush(255, 255, 255, 210),
                "anchors": [(1, 0.5), (1, 0.5)],
            },
        )
        self.event_line.setZValue(20)
        self.event_line.setVisible(False)
        item.addItem(self.event_line)  # in the x range: the marker is always in view
        self.set_title(title)

    def __repr__(self) -> str:
        return f"CurvePlot(series={list(self._series)}, log_y={self.log_y})"

    @property
    def series(self) -> Mapping[str, pg.PlotDataItem]:
        """The curves on the plot, by name (read-only)."""
        return MappingProxyType(self._series)

    def set_data(
        self,
        series: Mapping[str, tuple[np.ndarray, np.ndarray]],
        styles: Mapping[str, Mapping] | None = None,
    ) -> None:
        """Draw ``series``: name -> (steps (n,), values (n,)).

        ``styles`` (optional) maps a name to ``{"color": str, "dash": bool, "width": float}``;
        by default each new name takes the next palette colour, solid.
        """
        styles = styles or {}
        for name in [s for s in self._series if s not in series]:
            self._drop(name)
        for name, (steps, values) in series.items():
            x = np.asarray(steps, dtype=np.float64).ravel()
            y = np.asarray(values, dtype=np.float64).ravel()
            if len(x) != len(y):
                raise ValueError(f"series {name!r}: {len(x)} steps but {len(y)} values")
            if self.log_y:
                y = np.where(y > 0, y, np.nan)  # no log of <= 0: leave a gap
            y = np.where(np.isfinite(y), y, np.nan)
            it = self._series.get(name)
            if it is None:
                it = self._new(name)
            st = styles.get(name, {})
            c = st.get("color") or theme.color(self._colors[name])
            width = st.get("width", 2.0)
            if len(x) > LONG_CURVE:
                # Qt draws antialiased lines wider than 1 px ~7x slower: a 4000-point
                # noisy history took 40 ms a frame at width 2, 6 ms at width 1
                width = min(width, 1.0)
            it.setPen(theme.mkpen(c, width, "dash" if st.get("dash") else "solid"))
            # a lone point has no line to show: give it a symbol
            it.setSymbol("o" if np.count_nonzero(np.isfinite(y)) == 1 else None)
            it.setSymbolBrush(c)
            if np.isnan(y).all():
                # nothing drawable; an all-NaN item also makes pyqtgraph warn on every paint
                it.setData([], [])
            else:
                it.setData(x, y)
        self._sync_legend()

    def set_event(self, step: float | None, text: str = "") -> None:
        """Mark ``step`` with a dashed vertical line labelled ``text`` (None removes it)."""
        line = self.event_line
        if step is None:
            line.setVisible(False)
            line.label.setFormat("")
            return
        line.setPos(float(step))
        line.setVisible(True)  # first: a hidden label ignores a new text
        line.label.setFormat(text)

    @property
    def event(self) -> tuple[float, str] | None:
        """(step, text) of the event line shown, or None."""
        if not self.event_line.isVisible():
            return None
        return float(self.event_line.value()), self.event_line.label.format

    def reset(self) -> None:
        """Remove every series (their items are kept for reuse), the event line, and forget
        the axes' range."""
        for name in list(self._series):
            self._drop(name)
        self._colors.clear()
        self.set_event(None)
        self.reset_view()
        self._sync_legend()

    def _new(self, name: str) -> pg.PlotDataItem:
        it = self._spare.pop() if self._spare else pg.PlotDataItem(connect="finite")
        self._series[name] = it
        if name not in self._colors:
            used = set(self._colors.values())
            self._colors[name] = next(i for i in range(len(self._colors) + 1) if i not in used)
        self._item.addItem(it)
        return it

    def _drop(self, name: str) -> None:
        self._spare.append(self.recycle(self._series.pop(name)))

    def _sync_legend(self) -> None:
        key = tuple(self._series)
        if key == self._legend_key:
            return
        self._legend_key = key
        self.legend.clear()
        for name, it in self._series.items():
            self.legend.addItem(it, name)
        self.legend.setVisible(len(key) > 0)
        self.refit()
