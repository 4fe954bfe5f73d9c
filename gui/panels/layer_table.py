"""The per-layer table of the experiment controls: one row of width and activation per
hidden layer, each cell a control built from the field table."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QHeaderView, QTableWidget, QWidget

from engine.config import LayerConfig
from gui.panels.forms import control_for, set_combo


class LayerTable(QTableWidget):
    """Rows ``h1, h2, ...`` of (units, activation); ``edited`` on any cell edit.

    ``watch`` is called with every cell widget made (the owner's key and wheel filter).
    """

    edited = Signal()

    def __init__(self, watch: Callable[[QWidget], None], parent: QWidget | None = None):
        super().__init__(0, 2, parent)
        self._watch = watch
        self.setHorizontalHeaderLabels(["units", "activation"])
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setDefaultSectionSize(24)
        self.setMinimumHeight(120)

    def __repr__(self) -> str:
        return f"LayerTable({self.rowCount()} layers)"

    def fill(self, layers: tuple[LayerConfig, ...], activation: str) -> None:
        """Show ``layers``; a layer without its own activation shows ``activation``."""
        blocker = QSignalBlocker(self)
        self.setRowCount(len(layers))
        for i, layer in enumerate(layers):
            self._row(i, layer, activation)
        self.setVerticalHeaderLabels([f"h{i + 1}" for i in range(len(layers))])
        del blocker

    def _row(self, i: int, layer: LayerConfig, activation: str) -> None:
        width, act = self.cellWidget(i, 0), self.cellWidget(i, 1)
        if width is None:
            width, act = control_for("model.width"), control_for("model.activation")
            width.valueChanged.connect(self.edited)
            act.currentIndexChanged.connect(self.edited)
            self._watch(width)
            self._watch(act)
            self.setCellWidget(i, 0, width)
            self.setCellWidget(i, 1, act)
        with QSignalBlocker(width), QSignalBlocker(act):
            width.setValue(layer.width)
            set_combo(act, layer.activation or activation)

    def layers(self) -> list[LayerConfig]:
        """The layers the rows show."""
        return [
            LayerConfig(self.cellWidget(i, 0).value(), self.cellWidget(i, 1).currentData())
            for i in range(self.rowCount())
        ]

    def resize_to(self, depth: int, width: int, activation: str, changed: str = "") -> None:
        """``depth`` rows: new ones take ``width`` / ``activation``; ``changed`` ("width",
        "activation" or "all") sets that setting in every row."""
        layers = [] if changed == "all" else self.layers()
        if changed == "width":
            layers = [LayerConfig(width, la.activation) for la in layers]
        elif changed == "activation":
            layers = [LayerConfig(la.width, activation) for la in layers]
        layers = (layers + [LayerConfig(width, activation)] * depth)[:depth]
        self.fill(tuple(layers), activation)
