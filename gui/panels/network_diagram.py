"""Network diagram: layers as columns of nodes, edges coloured by the size of their gradient.

A dumb widget.  It is told the architecture (:meth:`NetworkDiagram.set_architecture`), the
per-layer gradient norms and the |dL/dW| (or |W|) of the edges between drawn units
(:meth:`NetworkDiagram.set_data`), and which layer a step-through is at
(:meth:`NetworkDiagram.set_highlight`).  It emits :attr:`NetworkDiagram.layer_clicked` and
:attr:`NetworkDiagram.edge_mode_changed`; it never looks at the engine.

Edge colour and width follow log10 of the value on a scale shared by all layers, so a
vanishing gradient literally fades out going from the output back to the input.  Columns
are painted with QPainter (one ``drawLines`` call per colour bin): with 100 layers the
canvas scrolls horizontally and only the visible columns are painted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import Retranslatable, translate
from gui.panels.network_canvas import Canvas, ColorBar
from gui.panels.network_geometry import MIN_SPACING, NOT_COMPUTED, fmt_norm

__all__ = ["NOT_COMPUTED", "NetworkDiagram"]


class NetworkDiagram(Retranslatable, QWidget):
    """The network as columns of nodes; edges coloured by |dL/dW| (or |W|), log scale.

    Column 0 is the input, column k+1 is layer k (k = 0..L-1 hidden, L = output).
    Signals: ``layer_clicked(int)`` (layer index k), ``edge_mode_changed(str)`` ("grad" or
    "weight": the owner then sends the matching edge values).
    """

    layer_clicked = Signal(int)
    edge_mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._mode = "grad"
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)  # a narrow window wraps the title, never clips it
        self.title.setMinimumWidth(120)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.colorbar = ColorBar()
        grad_btn, weight_btn = QRadioButton("|dL/dW|"), QRadioButton("|W|")
        self._buttons = (grad_btn, weight_btn)
        grad_btn.setChecked(True)
        self._modes = QButtonGroup(self)
        self._modes.addButton(grad_btn, 0)
        self._modes.addButton(weight_btn, 1)
        self._modes.idToggled.connect(self._on_mode)
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addWidget(self.title, 1)
        self._edges_label = QLabel()
        header.addWidget(self._edges_label)
        header.addWidget(grad_btn)
        header.addWidget(weight_btn)
        header.addSpacing(8)
        header.addWidget(self.colorbar)
        self.canvas = Canvas()
        self.canvas.clicked.connect(self.layer_clicked)
        self.canvas.levels_changed.connect(self.colorbar.set_levels)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.viewport().installEventFilter(self)  # refit when the viewport resizes
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.scroll, 1)
        self.retranslate_ui()

    def retranslate_ui(self) -> None:
        """The header's words in the current language (the canvas paints its own)."""
        grad_btn, weight_btn = self._buttons
        tip = translate("NetworkDiagram", "Colour edges by the size of their weight gradient")
        grad_btn.setToolTip(tip)
        weight_btn.setToolTip(
            translate("NetworkDiagram", "Colour edges by the size of the weight itself")
        )
        self._edges_label.setText(translate("NetworkDiagram", "edges:"))
        self._update_title()
        self.canvas.update()

    def __repr__(self) -> str:
        return f"NetworkDiagram(columns={self.canvas.n_cols}, mode={self._mode!r})"

    # --- API ---------------------------------------------------------------------------------
    @property
    def edge_mode(self) -> str:
        """ "grad" (|dL/dW|) or "weight" (|W|)."""
        return self._mode

    def set_edge_mode(self, mode: str) -> None:
        if mode not in ("grad", "weight"):
            raise ValueError(f"edge mode: expected 'grad' or 'weight', got {mode!r}")
        self._modes.button(0 if mode == "grad" else 1).setChecked(True)

    def set_architecture(
        self, widths: Sequence[int], activations: Sequence[str], labels: Sequence[str]
    ) -> None:
        """Columns: ``widths`` (L+2,) input first; ``activations`` and ``labels`` the same
        length (the input's activation is "")."""
        if not len(widths) == len(activations) == len(labels):
            raise ValueError(
                f"set_architecture: widths, activations and labels must have the "
                f"same length, got {len(widths)}, {len(activations)}, {len(labels)}"
            )
        c = self.canvas
        c.widths, c.activations, c.labels = (
            [int(w) for w in widths],
            list(activations),
            list(labels),
        )
        c.norms = np.full(max(len(widths) - 1, 0), np.nan)
        c.norm_texts = [NOT_COMPUTED] * len(c.norms)
        c.edges, c._bins, c._bins_key, c._pending = [], {}, 0, None
        c.highlight = (-1, None)
        c.selected = min(c.selected, len(widths) - 2)
        self._fit()
        c.update()

    def set_data(
        self,
        grad_norms: np.ndarray,
        edge_values: Sequence[np.ndarray] | None,
        computed: np.ndarray | None = None,
    ) -> None:
        """``grad_norms`` (L+1,) per layer; ``edge_values`` (L+1) arrays (n_in_drawn,
        n_out_drawn) of non-negative values for the edges into each layer, or None.

        ``computed`` (L+1,) bool marks the layers whose gradient has been computed (None: all);
        the others show a dash, not "NaN": nothing went wrong there yet.  An edge array of
        None is drawn grey (no value).
        """
        c = self.canvas
        norms = np.asarray(grad_norms, dtype=np.float64)
        done = np.ones(len(norms), dtype=bool) if computed is None else np.asarray(computed)
        norms = np.where(done, norms, np.nan)
        texts = [
            fmt_norm(float(v)) if ok else NOT_COMPUTED for v, ok in zip(norms, done, strict=True)
        ]
        numbers_changed = texts != c.norm_texts
        c.norms, c.norm_texts = norms, texts
        if edge_values is not None:
            drawn = c.n_drawn()
            edges = [
                np.asarray(e, dtype=np.float64)
                if e is not None and np.shape(e) == (drawn[k], drawn[k + 1])
                else None
                for k, e in enumerate(list(edge_values)[: max(c.n_cols - 1, 0)])
            ]
            c.set_edges(edges)  # the edges are redrawn at most every SCENE_INTERVAL
        # the numbers follow every frame, when their two printed digits change
        if numbers_changed:
            c.update(c.norms_rect())

    def set_highlight(self, layer: int, direction: str | None) -> None:
        """Mark the step-through position: layer k and "forward" / "backward" / "loss" /
        "update" (None clears it).  Scrolls the layer into view."""
        c = self.canvas
        if c.highlight == (layer, direction):
            return
        c.highlight = (int(layer), direction)
        if direction is not None and 0 <= layer + 1 < c.n_cols:
            self.scroll.ensureVisible(int(c.column_x(layer + 1)), 0, int(MIN_SPACING * 2), 0)
        c.update()

    def set_selected(self, layer: int) -> None:
        """Outline layer k (the one the inspector shows)."""
        if self.canvas.selected != layer:
            self.canvas.selected = int(layer)
            self.canvas.update()

    def reset(self) -> None:
        """Forget the data (keeps the architecture)."""
        c = self.canvas
        c.norms = np.full(max(c.n_cols - 1, 0), np.nan)
        c.norm_texts = [NOT_COMPUTED] * len(c.norms)
        c.set_edges([])
        c._apply_edges()
        c._bins_key = 0  # the next values are drawn at once
        c.highlight = (-1, None)
        c.update()

    # --- export ------------------------------------------------------------------------------
    def render_pixmap(self, scale: float = 2.0) -> QPixmap:
        """The whole diagram (all columns, even those scrolled out of view) as a pixmap."""
        c = self.canvas
        size = c.size()
        pix = QPixmap(int(size.width() * scale), int(size.height() * scale))
        pix.setDevicePixelRatio(scale)
        pix.fill(QColor("white"))
        painter = QPainter(pix)
        try:
            c.paint(painter, QRectF(0, 0, size.width(), size.height()))
        finally:
            painter.end()
        return pix

    def render_to(self, painter: QPainter) -> QSize:
        """Paint the whole diagram on ``painter`` (e.g. a QSvgGenerator's); returns its size."""
        c = self.canvas
        c.paint(painter, QRectF(0, 0, c.width(), c.height()))
        return c.size()

    # --- internals ---------------------------------------------------------------------------
    def _fit(self) -> None:
        self.canvas.viewport_width = float(self.scroll.viewport().width())
        self.canvas.relayout()
        self._update_title()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            self._fit()
        return super().eventFilter(obj, event)

    def _on_mode(self, button_id: int, checked: bool) -> None:
        if not checked:
            return
        self._mode = "grad" if button_id == 0 else "weight"
        self._update_title()
        self.edge_mode_changed.emit(self._mode)

    def _update_title(self) -> None:
        n = max(self.canvas.n_cols - 2, 0)
        what = "|dL/dW|" if self._mode == "grad" else "|W|"
        shown = ""
        if n == 1:
            shown = translate("NetworkDiagram", " \u2014 1 hidden layer")
        elif n:
            shown = translate("NetworkDiagram", " \u2014 {0} hidden layers").format(n)
        network = translate("NetworkDiagram", "Network")
        edges = translate("NetworkDiagram", " \u00b7 edges: {0}, log scale").format(what)
        self.title.setText(f"<b>{network}</b>{shown}{edges}")
        self.title.setToolTip(
            translate(
                "NetworkDiagram",
                "Edge colour and width follow the size of each weight's "
                "gradient (or of the weight). Click a layer to inspect it.",
            )
        )
