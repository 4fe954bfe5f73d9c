"""Step inspector: why one backward time step shrinks (or keeps) the gradient.

For a backward step of the recurrent step-through it lists the phase's own numbers
(||dL/dh_t||, ||dL/dh_(t-1)||, their ratio and the per-step factor's norms), a chart of the
factor (the RNN's diag(f'(z_t)) W_hh^T as an image in diverging colours centred on 0; the
LSTM's forget gate or the GRU's update gate per unit as bars) and the sentence that says
why.  Between backward steps it says what the next phase does, with no numbers of an
earlier phase.  A dumb widget: the text comes from :func:`gui.unrolled_view.step_explanation`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from engine.recurrent.snapshot import RecurrentSnapshot, TimePhase
from gui import theme
from gui.panels.forms import fill_with_scroll
from gui.panels.inspector import value_row
from gui.unrolled_view import StepExplanation, StepRow, step_explanation

__all__ = ["StepInspector"]

#: diverging colour map of the factor image: blue < 0 < red, white at 0
DIVERGING_COLORMAP = "CET-D1"
MAX_ROWS = 8  # rows of numbers kept ready (the RNN shows 6)
CHART_HEIGHT = 240  # px


class _MatrixChart(theme.PlotPanel):
    """The factor matrix as an image, colours centred on 0, with its colour bar."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.plot_item
        theme.style_plot(item, "", "unit j of h\u209c\u208b\u2081", "unit i of h\u209c")
        self.image = pg.ImageItem(axisOrder="row-major")  # image[i, j] = M[i, j]
        item.addItem(self.image)
        self.bar = theme.colour_bar(item, self.image, (-1.0, 1.0), "")  # named in the title
        self.bar.setColorMap(pg.colormap.get(DIVERGING_COLORMAP))
        item.invertY(True)  # row 0 on top, as a matrix is written
        item.setAspectLocked(True)  # square cells
        item.setMouseEnabled(x=False, y=False)

    def set_matrix(self, M: np.ndarray, title: str) -> None:
        m = float(np.nanmax(np.abs(M))) if M.size and np.isfinite(M).any() else 1.0
        levels = (-max(m, 1e-300), max(m, 1e-300))  # symmetric: 0 is white
        self.image.setImage(np.where(np.isfinite(M), M, np.nan), autoLevels=False, levels=levels)
        self.bar.setLevels(levels)
        self.image.setRect(-0.5, -0.5, M.shape[1], M.shape[0])
        self.plot_item.setRange(
            xRange=(-0.5, M.shape[1] - 0.5), yRange=(-0.5, M.shape[0] - 0.5), padding=0
        )
        self.set_title(title)


class _GateChart(theme.PlotPanel):
    """A gate's batch mean per unit as bars, on 0..1 with a dashed line at 1."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.plot_item
        theme.style_plot(item, "", "unit", "gate (batch mean)")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=theme.color(0))
        item.addItem(self.bars)
        item.addItem(pg.InfiniteLine(1.0, angle=0, pen=theme.mkpen("#777777", 1.0, "dash")))
        item.setMouseEnabled(x=False, y=False)

    def set_gates(self, values: np.ndarray, title: str) -> None:
        x = np.arange(len(values), dtype=np.float64)
        self.bars.setOpts(x=x, height=np.nan_to_num(values, nan=0.0), width=0.7)
        self.plot_item.setRange(xRange=(-0.6, len(values) - 0.4), yRange=(0.0, 1.05), padding=0)
        self.set_title(title)


class StepInspector(QWidget):
    """One recurrent step-through phase explained: numbers, chart and the reason."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.header = QLabel()
        self.text = QLabel()
        for label in (self.header, self.text):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(0)
        self._rows = [value_row() for _ in range(MAX_ROWS)]
        for i, (frame, *_) in enumerate(self._rows):
            grid.addWidget(frame, i, 0)
        self.matrix = _MatrixChart()
        self.gates = _GateChart()
        self.charts = QStackedWidget()
        self.charts.addWidget(self.matrix)
        self.charts.addWidget(self.gates)
        self.charts.setFixedHeight(CHART_HEIGHT)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        for part in (self.header, grid_host, self.text, self.charts):
            layout.addWidget(part)
        layout.addStretch(1)  # the text stays on top when there is no chart
        fill_with_scroll(self, body)
        self._explanation = step_explanation(None, "", None)
        self.cell = ""  # the row name last shown ("RNN (tanh)", "LSTM", ...)
        self.set_data(None, "", None)

    def __repr__(self) -> str:
        return f"StepInspector({self._explanation.title[:40]!r})"

    # --- API ---------------------------------------------------------------------------------
    def set_data(
        self, phase: TimePhase | None, cell: str, snapshot: RecurrentSnapshot | None
    ) -> None:
        """Explain ``phase`` (the step-through's last phase, None between steps) of the row
        named ``cell`` ("RNN (tanh)", "LSTM", ...); ``snapshot`` names the next phase."""
        self.cell = cell
        self.show_explanation(step_explanation(phase, cell, snapshot))

    def show_explanation(self, e: StepExplanation) -> None:
        """Show an already built explanation."""
        self._explanation = e
        self.header.setText(f"<span style='font-size:110%'>{e.title}</span>")
        for i, (frame, name, value, note) in enumerate(self._rows):
            row: StepRow | None = e.rows[i] if i < len(e.rows) else None
            frame.setVisible(row is not None)
            if row is not None:
                name.setText(row.symbol)
                value.setText(row.text)
                note.setText(row.meaning)
        self.text.setText(e.text)
        self.charts.setVisible(bool(e.chart))
        if e.chart == "matrix":
            self.matrix.set_matrix(np.asarray(e.chart_data, dtype=np.float64), e.chart_title)
            self.charts.setCurrentWidget(self.matrix)
        elif e.chart == "gates":
            self.gates.set_gates(np.asarray(e.chart_data, dtype=np.float64), e.chart_title)
            self.charts.setCurrentWidget(self.gates)

    @property
    def explanation(self) -> StepExplanation:
        return self._explanation

    def values(self) -> dict[str, str]:
        """Row key -> the value text on screen (visible rows only)."""
        return {
            row.key: self._rows[i][2].text()
            for i, row in enumerate(self._explanation.rows[:MAX_ROWS])
        }

    def reset(self) -> None:
        """No run yet."""
        self.set_data(None, "", None)
