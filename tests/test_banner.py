"""The message banner: descriptions are plain text (a "<" does not cut them, issue 13), and
a long one is folded to a few lines so it leaves room for the network on a small screen."""

from __future__ import annotations

import html

import pytest
from PySide6.QtGui import QTextDocument

from engine.config import ExperimentConfig, updated
from engine.presets import load_preset
from gui.main_window import MainWindow
from gui.panels.status import Banner

TIMEOUT = 20_000
LONG = html.escape(" ".join(["The gradient shrinks by f'(z) <= 0.25 at every layer."] * 12))


def shown_text(banner: Banner) -> str:
    doc = QTextDocument()
    doc.setHtml(banner.body.text())
    return doc.toPlainText()


def test_long_text_is_folded_and_unfolds(qtbot):
    banner = Banner()
    qtbot.addWidget(banner)
    banner.resize(600, 200)
    banner.show()
    banner.show_message("info", "title", LONG)
    qtbot.waitUntil(lambda: banner.more.isVisible())
    assert banner.folded
    lines = banner.body_area.height() / banner.body.fontMetrics().lineSpacing()
    assert 2.5 <= lines <= Banner.FOLDED_LINES + 0.6
    banner.more.click()
    assert not banner.folded
    assert banner.more.text() == "less"
    banner.show_message("info", "short", "One line.")  # a new message starts folded
    assert not banner.more.isVisible()
    assert not banner.folded


@pytest.fixture
def window(qtbot):
    cfg = updated(
        ExperimentConfig(name="tiny"),
        **{
            "data.name": "spiral",
            "data.n_samples": 200,
            "model.depth": 2,
            "model.width": 8,
            "training.batch_size": 16,
        },
    )
    w = MainWindow(config=cfg)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    return w


def test_preset_description_is_plain_text(qtbot, window):
    description = load_preset("dying_relu").description.strip()
    assert "<" in description
    window.load_preset("dying_relu")
    assert window.banner.isVisible()
    assert shown_text(window.banner) == description


def test_error_message_is_plain_text(window):
    window.controller.error.emit("data.path: expected a file, got <stdin>\nsecond line")
    text = shown_text(window.banner)
    assert "got <stdin>" in text
    assert "second line" in text
