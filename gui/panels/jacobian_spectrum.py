"""Histogram of the singular values of the hidden-to-hidden Jacobian, with the prediction.

A dumb panel: :func:`gui.jacobian_view.spectrum_view` says what to draw.  The singular
values span decades (a Gaussian deep net: 10^-16 .. 10), so the x axis is logarithmic.  The
prediction is a dashed line at the predicted RMS singular value sqrt(E[sigma^2]) and a band
sqrt(E[sigma^2] -+ sd[sigma^2]); the words (what is drawn, measured vs predicted, and where
the prediction does not apply) sit below the plot, wrapped to the dock's width (no legend:
it took half of a small dock).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QWidget

from gui import theme
from gui.i18n import QT_TRANSLATE_NOOP, translate
from gui.panels.histogram import HistogramPanel

TITLE = QT_TRANSLATE_NOOP("Plots", "Singular values of d a_L-1 / d a_0")
KEY = QT_TRANSLATE_NOOP(
    "Plots", "prediction at init (wide nets):\ndashed RMS \u03c3, band \u00b11 sd"
)  # fits ~250 px


class JacobianSpectrum(HistogramPanel):
    """Bars of singular-value counts on log bins (the histogram panel's, binned by the view
    model), the predicted RMS line and band, and a note below."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(TITLE, QT_TRANSLATE_NOOP("Plots", "\u03c3 (log scale)"), parent)
        item = self.plot_item
        band = pg.mkColor(theme.color(1))
        band.setAlpha(45)
        self.band = pg.LinearRegionItem(movable=False, brush=band, pen=pg.mkPen(None))
        self.band.setZValue(-5)
        item.addItem(self.band)
        self.rms = pg.PlotDataItem(pen=theme.mkpen(theme.color(1), 2.0, "dash"))
        item.addItem(self.rms)
        # names the dashed line and band inside the plot, so an exported image says it too
        self.key = pg.TextItem(translate("Plots", KEY), color=theme.color(1), anchor=(0, 0))
        self.key.setParentItem(item.vb)
        self.key.setPos(4, 2)
        key_font = QFont()
        key_font.setPointSizeF(theme.TICK_PT)  # the axes' size: a key, not a title
        self.key.setFont(key_font)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setContentsMargins(6, 2, 6, 4)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        font = self.note.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)  # the plot keeps most of a small dock
        self.note.setFont(font)
        # the words scroll when the dock is small: the plot keeps at least 60% of the height
        self.note_area = QScrollArea()
        self.note_area.setWidget(self.note)
        self.note_area.setWidgetResizable(True)
        self.note_area.setFrameShape(QFrame.Shape.NoFrame)
        self.layout().addWidget(self.note_area)
        self.text = ""
        self.reset()

    def __repr__(self) -> str:
        return f"JacobianSpectrum(title={self.title!r})"

    def retranslate_ui(self) -> None:
        super().retranslate_ui()
        if hasattr(self, "key"):  # the base class retranslates before this one is built
            self.key.setText(translate("Plots", KEY))

    def set_data(self, title, edges, counts, rms: float, band, text: str) -> None:
        """Draw one :class:`gui.jacobian_view.SpectrumView` (``edges`` None: note only)."""
        self.set_title(title)
        self.text = text
        self.note.setText(text)
        self.note.setToolTip(text)
        if edges is None:
            self.bars.clear()
            self._hide_prediction()
            return
        self.bars.setData(edges, counts)
        top = float(np.max(counts)) if len(counts) else 1.0
        if not math.isfinite(rms):
            self._hide_prediction()
            return
        self.rms.setData([rms, rms], [0.0, 1.05 * max(top, 1.0)])
        self.key.show()
        lo, hi = band
        if math.isfinite(hi):
            lo = lo if lo > 0 else float(edges[0])  # mean - sd < 0: the band runs off the left
            self.band.setRegion((math.log10(lo), math.log10(hi)))  # log-mode x: log10 units
            self.band.show()
        else:
            self.band.hide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.note_area.setMaximumHeight(max(int(0.4 * self.height()), 40))

    def _hide_prediction(self) -> None:
        self.rms.clear()
        self.key.hide()
        self.band.hide()

    def reset(self) -> None:
        """No bars, no prediction, the first title, a unit view on the log axis."""
        super().reset()
        self._hide_prediction()
        self.text = ""
        self.note.setText("")
        self.log_x = True
        self.plot_item.setLogMode(x=True, y=False)
