"""The lesson panel wraps its text to the dock's width: nothing cut off on the right, no
horizontal scroll bar (a vertical one when the text is long is fine)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QPushButton, QScrollArea

from gui import teaching


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


@pytest.mark.parametrize("width", [270, 320, 420])
def test_every_lesson_fits_a_narrow_dock(qtbot, width):
    w = QMainWindow()
    qtbot.addWidget(w)
    w.setCentralWidget(QLabel("centre"))
    teaching.install(w)
    w.resize(1366, 768)
    w.show()
    qtbot.waitExposed(w)
    w.teaching.start_lesson(0)
    dock = w.teaching.lesson_dock
    w.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
    settle()
    panel = w.teaching.lesson_panel
    scroll = dock.widget()
    assert isinstance(scroll, QScrollArea)
    assert abs(dock.width() - width) <= 12, dock.width()
    room = scroll.viewport().width()
    for index in range(len(panel.lessons)):
        panel.show_lesson(index, setup=False)
        settle()
        assert not scroll.horizontalScrollBar().isVisible(), f"lesson {index + 1}"
        assert panel.width() <= room, (index + 1, panel.width(), room)
        for child in panel.findChildren(QLabel) + panel.findChildren(QPushButton):
            if child.isVisible():
                right = child.mapTo(panel, QPoint(child.width(), 0)).x()
                assert right <= room, (index + 1, child.text()[:30], right, room)
