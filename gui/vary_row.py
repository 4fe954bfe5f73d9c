"""One "vary" line of the compare window: a config field and its comma-separated values."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from engine.compare import VARIABLE_FIELDS


class VaryRow(QWidget):
    """One "vary" line: a field and its comma-separated values."""

    changed = Signal()

    def __init__(self, optional: bool, choices=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.choices = choices or (lambda key: ())  # key -> its valid values (the hint)
        self.field = QComboBox()
        if optional:
            self.field.addItem("(nothing else)", "")
        for key in VARIABLE_FIELDS:
            self.field.addItem(key, key)
        self.values = QLineEdit()
        self.values.setPlaceholderText("values, comma-separated")
        self.hint = QLabel()
        self.hint.setStyleSheet("color: #666")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("and vary" if optional else "Vary"))
        layout.addWidget(self.field)
        layout.addWidget(QLabel("="))
        layout.addWidget(self.values, 1)
        layout.addWidget(self.hint)
        self.field.currentIndexChanged.connect(self._on_field)
        self.values.textChanged.connect(self.changed)
        self._on_field()

    def __repr__(self) -> str:
        return f"VaryRow({self.text()!r})"

    def _on_field(self) -> None:
        key = self.field.currentData()
        self.values.setEnabled(bool(key))
        options = self.choices(key)
        self.hint.setText(f"({', '.join(options)})" if options else "")
        self.hint.setToolTip(", ".join(options))
        self.changed.emit()

    def text(self) -> str:
        """``key=v1,v2`` or "" when unused."""
        key, values = self.field.currentData(), self.values.text().strip()
        return f"{key}={values}" if key and values else ""

    def set_text(self, item: str) -> None:
        """Show ``key=v1,v2`` (an empty string clears an optional row)."""
        key, _, values = (s.strip() for s in item.partition("="))
        i = self.field.findData(key)
        if i < 0 and key:
            # not a field that may vary: show it anyway, so the error under the rows names it
            self.field.addItem(key, key)
            i = self.field.count() - 1
        self.field.setCurrentIndex(max(i, 0))
        self.values.setText(values)
