"""A read-only table of one row per compared variant, with the variant's colour as a swatch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class SummaryTable(QWidget):
    """Rows of text under a header; the first column may carry a colour swatch.

    Dumb: it shows the strings it is given (``set_rows``) and keeps its cell items, so a
    redraw several times a second only changes text.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self._header: tuple[str, ...] = ()
        self._swatches: dict[str, QIcon] = {}

    def __repr__(self) -> str:
        return f"SummaryTable({self.table.rowCount()}x{self.table.columnCount()})"

    @property
    def header(self) -> tuple[str, ...]:
        return self._header

    def rows(self) -> list[list[str]]:
        """The text of every cell, row by row (what the user sees)."""
        t = self.table
        return [
            [t.item(r, c).text() if t.item(r, c) else "" for c in range(t.columnCount())]
            for r in range(t.rowCount())
        ]

    def set_rows(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        colors: Sequence[str] | None = None,
        tooltips: Mapping[int, str] | None = None,
        header_tips: Sequence[str] | None = None,
        highlight: Sequence[bool] | None = None,
    ) -> None:
        """Show ``rows`` (lists of text) under ``header``.

        ``colors``: a swatch colour per row (first column); ``tooltips``: row -> tooltip;
        ``header_tips``: one tooltip per column; ``highlight``: rows drawn as warnings.
        """
        t = self.table
        header = tuple(header)
        if header != self._header:
            self._header = header
            t.setColumnCount(len(header))
            t.setHorizontalHeaderLabels(list(header))
        if header_tips:
            for c, tip in enumerate(header_tips):
                t.horizontalHeaderItem(c).setToolTip(tip)
        if t.rowCount() != len(rows):
            t.setRowCount(len(rows))
        warn = QBrush(QColor("#fde0d9"))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = t.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    align = Qt.AlignmentFlag.AlignLeft if c == 0 else Qt.AlignmentFlag.AlignRight
                    item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                    t.setItem(r, c, item)
                if item.text() != str(text):
                    item.setText(str(text))
                if tooltips and r in tooltips:
                    item.setToolTip(tooltips[r])
                if highlight is not None:
                    item.setBackground(warn if highlight[r] else QBrush())
            if colors is not None:
                t.item(r, 0).setIcon(self._swatch(colors[r]))

    def _swatch(self, color: str) -> QIcon:
        if color not in self._swatches:
            pm = QPixmap(12, 12)
            pm.fill(QColor(color))
            self._swatches[color] = QIcon(pm)
        return self._swatches[color]

    def reset(self) -> None:
        """No rows (the header stays)."""
        self.table.setRowCount(0)
