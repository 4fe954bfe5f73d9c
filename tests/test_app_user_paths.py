"""The desktop app driven as a new user drives it: menus, shortcuts, dialogs, own data.

Every test triggers the QAction, clicks or types into the widget; file dialogs and message
boxes are the only things replaced (by functions returning what a user would pick).
"""

from __future__ import annotations

import html

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMenu, QMessageBox

from engine import config as config_io
from engine.config import ExperimentConfig, updated
from engine.presets import get_preset
from gui.app import pin_singletons
from gui.controller import default_config
from gui.main_window import MainWindow

pin_singletons()   # PySide6 6.12 on CPython 3.11 steals references to None (see gui.app)

TIMEOUT = 20_000   # ms; generous: a cold Numba cache compiles for ~20 s
DEPTH = 3


def tiny(**changes) -> ExperimentConfig:
    base = {"data.name": "spiral", "data.n_samples": 200, "model.depth": DEPTH,
            "model.width": 8, "training.batch_size": 16, "training.eval_every": 10}
    base.update(changes)
    return updated(ExperimentConfig(name="tiny"), **base)


def open_window(qtbot, config: ExperimentConfig) -> MainWindow:
    w = MainWindow(config=config)
    qtbot.addWidget(w)          # closed (and its worker stopped) after the test
    w.resize(1400, 900)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    return w


@pytest.fixture
def window(qtbot):
    return open_window(qtbot, tiny())


@pytest.fixture
def warnings(monkeypatch):
    """Texts of the QMessageBox warnings shown (instead of showing them)."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    return shown


def latest(w: MainWindow):
    return w.controller.latest


def generation(w: MainWindow) -> int:
    return latest(w).generation


def settle(qtbot, w: MainWindow, ms: int = 300) -> None:
    """Let queued commands reach the worker and its answers come back."""
    qtbot.wait(ms)
    qtbot.waitUntil(lambda: w._drawn_serial == latest(w).serial, timeout=TIMEOUT)


def shown_text(label: QLabel) -> str:
    """The text a user reads in ``label`` (rich text rendered to plain text)."""
    fmt = label.textFormat()
    if fmt == Qt.TextFormat.PlainText or (fmt == Qt.TextFormat.AutoText
                                          and not Qt.mightBeRichText(label.text())):
        return label.text()
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def flat(text: str) -> str:
    return " ".join(text.split())


# ----------------------------------------------------------------------------- 1. open / save

def test_file_open_action_asks_for_a_file_and_loads_it(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "deeper.toml"
    config_io.save(updated(window.controller.config, **{"model.depth": 5, "name": "deeper"}),
                   path)
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: asked.append(a) or (str(path), ""))
    gen = generation(window)
    window.act_open.trigger()
    assert len(asked) == 1
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert latest(window).snapshot.depth == 5
    assert window.controls.model_depth.value() == 5
    assert "deeper" in window.windowTitle()


def test_ctrl_o_and_ctrl_s_open_the_dialogs(qtbot, window, tmp_path, monkeypatch):
    src = tmp_path / "exp.json"
    config_io.save(updated(window.controller.config, **{"model.width": 6}), src)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(src), ""))
    gen = generation(window)
    window.diagram.canvas.setFocus()
    qtbot.keyClick(window.diagram.canvas, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert latest(window).snapshot.widths[0] == 6
    target = tmp_path / "saved"          # no suffix: the chosen filter decides
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "JSON (*.json)"))
    qtbot.keyClick(window.diagram.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = tmp_path / "saved.json"
    assert saved.is_file()
    assert config_io.load(saved) == window.controller.config


def test_save_action_writes_the_running_config_atomically(qtbot, window, tmp_path,
                                                          monkeypatch):
    box = window.controls.model_activation
    box.setCurrentIndex(box.findData("tanh"))
    qtbot.waitUntil(lambda: latest(window).snapshot.activations[0] == "tanh", timeout=TIMEOUT)
    target = tmp_path / "mine.toml"
    target.write_text("old contents\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "TOML (*.toml)"))
    window.act_save.trigger()
    assert config_io.load(target) == window.controller.config
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]   # no temp file left
    assert "mine.toml" in window.statusBar().currentMessage()
    # and it round-trips through File > Open
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    window.act_open.trigger()
    settle(qtbot, window)
    assert window.controller.config == config_io.load(target)


def test_cancelled_dialogs_change_nothing(qtbot, window, monkeypatch, warnings):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    gen = generation(window)
    window.act_open.trigger()
    window.act_save.trigger()
    settle(qtbot, window)
    assert generation(window) == gen
    assert warnings == []


def test_open_a_bad_file_names_it_and_the_field_and_keeps_running(qtbot, window, tmp_path,
                                                                  monkeypatch, warnings):
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\ndepth = "deep"\n', encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    before = window.controller.config
    gen = generation(window)
    window.act_open.trigger()
    assert len(warnings) == 1
    assert str(bad) in warnings[0]
    assert "model.depth" in warnings[0]
    window.act_step.trigger()           # the previous experiment still runs
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    assert generation(window) == gen
    assert window.controller.config == before
    assert window.controls.config() == before


def test_open_a_preset_file_with_title_and_compare(qtbot, window, monkeypatch, warnings):
    """A preset file is a config file too: File > Open takes it (its [compare] aside)."""
    preset = get_preset("residual")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(preset.path), ""))
    gen = generation(window)
    window.act_open.trigger()
    assert warnings == []
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert latest(window).snapshot.depth == preset.config().model.depth
