"""Histogram of one batch array (delta, f'(z), ...), optionally of |values| on log bins."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from gui import theme
from gui.i18n import QT_TRANSLATE_NOOP, translate


class HistogramPanel(theme.PlotPanel):
    """A stepped, filled bar histogram of ``values``.

    With ``log_x`` it histograms |values| on log10-spaced bins against a log axis: vanishing
    gradients spread over many decades that linear bins would squash into one bar.  Exact
    zeros have no place on a log axis; their share is reported in the title instead
    ("12% exactly zero"), as is the count of NaN/inf values, which are never binned.
    """

    def __init__(self, title: str, x_label: str, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.plot_item
        item.showGrid(x=True, y=True, alpha=0.15)
        self.style_plot(title, x_label, QT_TRANSLATE_NOOP("Plots", "count"))
        c = pg.mkColor(theme.color(0))
        fill = pg.mkColor(c)
        fill.setAlpha(110)
        self.bars = pg.PlotDataItem(
            stepMode="center",
            fillLevel=0,
            fillOutline=True,
            brush=fill,
            pen=theme.mkpen(theme.color(0), 1.0),
        )
        item.addItem(self.bars)
        self.base_title = self._initial_title = title
        self.log_x = False
        self.zero_fraction = 0.0
        self.n_nonfinite = 0
        self._item = item
        self.set_title(title)

    def __repr__(self) -> str:
        return f"HistogramPanel({self.base_title!r}, log_x={self.log_x})"

    def set_data(self, values: np.ndarray, bins: int = 50, log_x: bool = False) -> None:
        """Histogram ``values`` into ``bins`` bins (of |values| on log10 bins if ``log_x``)."""
        v = np.asarray(values, dtype=np.float64).ravel()
        finite = np.isfinite(v)
        self.n_nonfinite = int(v.size - np.count_nonzero(finite))
        v = v[finite]
        if log_x != self.log_x:
            self.log_x = log_x
            self._item.setLogMode(x=log_x, y=False)
        notes = []
        if log_x:
            v = np.abs(v)
            zero = v == 0.0
            n_zero = int(np.count_nonzero(zero))
            self.zero_fraction = n_zero / max(v.size, 1)
            if n_zero:
                zero_note = translate("Plots", "{0} exactly zero")
                notes.append(zero_note.format(_percent(self.zero_fraction)))
            v = v[~zero]
        else:
            self.zero_fraction = float(np.mean(v == 0.0)) if v.size else 0.0
        if self.n_nonfinite:
            notes.append(f"{self.n_nonfinite} NaN/inf")
        base = self.base_title
        self.set_title(
            lambda: translate("Plots", base) + (f"  ({', '.join(notes)})" if notes else "")
        )
        if v.size == 0:
            self.bars.clear()
            return
        edges = _log_edges(v, bins) if log_x else _linear_edges(v, bins)
        counts, _ = np.histogram(v, bins=edges)
        self.bars.setData(edges, counts.astype(np.float64))

    def set_base_title(self, title: str) -> None:
        """The title without the notes (e.g. naming the layer shown)."""
        if title != self.base_title:
            self.base_title = title
            self.set_title(title)

    def reset(self) -> None:
        """No bars, the first title, linear axis with a unit range."""
        self.base_title = self._initial_title
        self.bars.clear()
        self.zero_fraction = 0.0
        self.n_nonfinite = 0
        if self.log_x:
            self.log_x = False
            self._item.setLogMode(x=False, y=False)
        self.reset_view()
        self.set_title(self.base_title)


def _percent(f: float) -> str:
    """12%, 0.3%, <0.1%: small but non-zero shares must not read as 0%."""
    p = 100.0 * f
    if p >= 10 or p == 0:
        return f"{p:.0f}%"
    if p >= 0.1:
        return f"{p:.1f}%"
    return "<0.1%"


def _linear_edges(v: np.ndarray, bins: int) -> np.ndarray:
    lo, hi = float(v.min()), float(v.max())
    if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1e-300):
        half = max(abs(lo) * 0.05, 0.5) if lo != 0 else 0.5
        lo, hi = lo - half, hi + half
    return np.linspace(lo, hi, max(int(bins), 1) + 1)


def _log_edges(v: np.ndarray, bins: int) -> np.ndarray:
    vmin, vmax = float(v.min()), float(v.max())
    lo, hi = math.log10(vmin), math.log10(vmax)
    if hi - lo < 1e-9:
        return np.logspace(lo - 0.5, hi + 0.5, max(int(bins), 1) + 1)
    edges = np.logspace(lo, hi, max(int(bins), 1) + 1)
    edges[0], edges[-1] = vmin, vmax  # 10 ** log10(x) may miss x by one ulp
    return edges
