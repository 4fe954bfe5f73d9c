"""The desktop app driven as a new user drives it: menus, shortcuts, dialogs, own data.

Every test triggers the QAction, clicks or types into the widget; file dialogs and message
boxes are the only things replaced (by functions returning what a user would pick).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from gui_helpers import DEPTH, TIMEOUT, open_window, tiny
from PySide6 import QtGui
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMenu, QMessageBox

from engine import config as config_io
from engine.config import updated
from engine.presets import get_preset
from gui.controller import default_config
from gui.main_window import MainWindow


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
    qtbot.waitUntil(lambda: w.drawn_serial == latest(w).serial, timeout=TIMEOUT)


def shown_text(label: QLabel) -> str:
    """The text a user reads in ``label`` (rich text rendered to plain text)."""
    fmt = label.textFormat()
    if fmt == Qt.TextFormat.PlainText or (
        fmt == Qt.TextFormat.AutoText and not QtGui.Qt.mightBeRichText(label.text())
    ):
        return label.text()
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def flat(text: str) -> str:
    return " ".join(text.split())


# ----------------------------------------------------------------------------- 1. open / save


def test_file_open_action_asks_for_a_file_and_loads_it(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "deeper.toml"
    config_io.save(updated(window.controller.config, **{"model.depth": 5, "name": "deeper"}), path)
    asked = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: asked.append(a) or (str(path), "")
    )
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
    target = tmp_path / "saved"  # no suffix: the chosen filter decides
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "JSON (*.json)")
    )
    qtbot.keyClick(window.diagram.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = tmp_path / "saved.json"
    assert saved.is_file()
    assert config_io.load(saved) == window.controller.config


def test_save_action_writes_the_running_config_atomically(qtbot, window, tmp_path, monkeypatch):
    box = window.controls.model_activation
    box.setCurrentIndex(box.findData("tanh"))
    qtbot.waitUntil(lambda: latest(window).snapshot.activations[0] == "tanh", timeout=TIMEOUT)
    target = tmp_path / "mine.toml"
    target.write_text("old contents\n", encoding="utf-8")
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "TOML (*.toml)")
    )
    window.act_save.trigger()
    saved = config_io.load(target)
    assert saved == replace(window.controller.config, description=saved.description)
    assert "tanh" in saved.description  # edited: described as what it is now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]  # no temp file left
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


def test_open_a_bad_file_names_it_and_the_field_and_keeps_running(
    qtbot, window, tmp_path, monkeypatch, warnings
):
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\ndepth = "deep"\n', encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    before = window.controller.config
    gen = generation(window)
    window.act_open.trigger()
    assert len(warnings) == 1
    assert str(bad) in warnings[0]
    assert "model.depth" in warnings[0]
    window.act_step.trigger()  # the previous experiment still runs
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    assert generation(window) == gen
    assert window.controller.config == before
    assert window.controls.config() == before


def test_open_a_preset_file_with_title_and_compare(qtbot, window, monkeypatch, warnings):
    """A preset file is a config file too: File > Open takes it (its [compare] aside)."""
    preset = get_preset("residual")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(preset.path), ""))
    gen = generation(window)
    window.act_open.trigger()
    assert warnings == []
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert latest(window).snapshot.depth == preset.config().model.depth
    assert "model.residual=false,true" in window.statusBar().currentMessage()
    assert "Compare" in window.statusBar().currentMessage()


# ----------------------------------------------------------------------------- 2. own data


def write_csv(path, n: int = 60, header: bool = True) -> None:
    """Two blobs in 3 features; the label ("kind": a/b) in the middle column."""
    rng = np.random.default_rng(0)
    lines = ["x1,x2,kind,x3"] if header else []
    for i in range(n):
        c = i % 2
        x = rng.normal(2.0 * c, 0.5, 3)
        lines.append(f"{x[0]:.4f},{x[1]:.4f},{'ab'[c]},{x[2]:.4f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def pick_source(window: MainWindow, name: str) -> None:
    """Choose a data source in the combo box, as a click on its item does."""
    box = window.controls.data_name
    box.setCurrentIndex(box.findData(name))


def type_into(qtbot, edit, text: str) -> None:
    """Click into a text field, replace its text by typing, press Enter."""
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_choosing_csv_asks_for_the_file_and_builds_on_it(qtbot, window, tmp_path, monkeypatch):
    data = tmp_path / "blobs.csv"
    write_csv(data)
    asked = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: asked.append(a) or (str(data), "")
    )
    controls = window.controls
    assert not controls.path_edit.isVisibleTo(controls)
    gen = generation(window)
    pick_source(window, "csv")
    assert len(asked) == 1
    assert controls.path_edit.isVisibleTo(controls)
    assert controls.data_label_column.isVisibleTo(controls)
    # the default label column is the last one (x3, a number of 60 values): set the real one
    type_into(qtbot, controls.data_label_column, "kind")
    qtbot.waitUntil(lambda: latest(window).config.data.label_column == "kind", timeout=TIMEOUT)
    assert generation(window) > gen
    assert window.controller.config.data.path == str(data)
    assert window.diagram.canvas.widths[0] == 3  # x1, x2, x3
    assert window.diagram.canvas.widths[-1] == 2  # classes a, b
    assert not window.banner.isVisible() or window.banner.kind != "error"
    # Escape drops what was typed instead of applying it on leaving the field
    gen = generation(window)
    label = controls.data_label_column
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton)
    label.selectAll()
    qtbot.keyClicks(label, "nonsense")
    qtbot.keyClick(label, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not label.hasFocus(), timeout=TIMEOUT)
    settle(qtbot, window)
    assert label.text() == "kind"
    assert generation(window) == gen


def test_csv_without_a_file_waits_and_keeps_the_experiment(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))  # cancel
    before = window.controller.config
    gen = generation(window)
    pick_source(window, "csv")
    settle(qtbot, window)
    assert generation(window) == gen
    assert window.controller.config == before
    assert window.banner.kind != "error"  # no error: the file is still to come
    note = window.controls.path_note
    assert note.isVisibleTo(window.controls)
    assert "CSV file" in note.text()
    window.act_step.trigger()  # the previous experiment still runs
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    # typing the path (headerless file: label = last column) builds it
    data = tmp_path / "noheader.csv"
    write_csv(data, header=False)
    text = data.read_text().replace(",a,", ",").replace(",b,", ",")
    data.write_text("\n".join(f"{line},{i % 2}" for i, line in enumerate(text.splitlines())) + "\n")
    type_into(qtbot, window.controls.path_edit, str(data))
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert window.controller.config.data.name == "csv"
    assert not note.isVisibleTo(window.controls)


def test_a_bad_csv_is_named_and_the_previous_experiment_keeps_running(
    qtbot, window, tmp_path, monkeypatch
):
    bad = tmp_path / "ragged.csv"
    bad.write_text("a,b,label\n1,2,0\n3,4\n5,6,1\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    before = window.controller.config
    gen = generation(window)
    pick_source(window, "csv")
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=TIMEOUT)
    message = shown_text(window.banner.body)
    assert str(bad) in message
    assert "Not applied" in shown_text(window.banner.title)
    assert window.controller.config == before
    window.act_step.trigger()
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    assert generation(window) == gen
    # the choice stays on show to be corrected: fix the file, press Enter in the path field
    assert window.controls.data_name.currentData() == "csv"
    assert window.controls.path_edit.text() == str(bad)
    assert str(bad) in window.controls.path_note.text()
    write_csv(bad)
    type_into(qtbot, window.controls.data_label_column, "kind")
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert window.controller.config.data.path == str(bad)
    assert window.banner.kind != "error"
    assert not window.controls.error_label.isVisibleTo(window.controls)


def write_mnist_npz(path, n: int = 40) -> None:
    rng = np.random.default_rng(1)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        y_train=np.arange(n) % 10,
        x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        y_test=np.arange(10),
    )


def write_mnist_idx(folder, n: int = 40) -> None:
    rng = np.random.default_rng(2)
    folder.mkdir()
    for stem, m in (("train", n), ("t10k", 10)):
        images = rng.integers(0, 256, (m, 28, 28), dtype=np.uint8)
        labels = (np.arange(m) % 10).astype(np.uint8)
        (folder / f"{stem}-images-idx3-ubyte").write_bytes(
            b"\x00\x00\x08\x03" + np.array([m, 28, 28], ">u4").tobytes() + images.tobytes()
        )
        (folder / f"{stem}-labels-idx1-ubyte").write_bytes(
            b"\x00\x00\x08\x01" + np.array([m], ">u4").tobytes() + labels.tobytes()
        )


@pytest.mark.parametrize("form", ["npz", "idx folder"])
def test_choosing_mnist_takes_an_npz_or_a_folder_of_idx_files(
    qtbot, window, tmp_path, monkeypatch, form
):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.keras/datasets/mnist.npz
    if form == "npz":
        chosen = expected = tmp_path / "mnist.npz"
        write_mnist_npz(chosen)
    else:
        expected = tmp_path / "idx"
        write_mnist_idx(expected)
        chosen = expected / "train-labels-idx1-ubyte"  # any of the four stands for the folder
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(chosen), ""))
    gen = generation(window)
    pick_source(window, "mnist")
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert window.controller.config.data.path == str(expected)
    assert window.diagram.canvas.widths[0] == 784
    assert not window.controls.data_label_column.isVisibleTo(window.controls)


# ----------------------------------------------------------------------------- 3. keyboard


def test_typing_a_number_then_enter_gives_the_keys_back_to_the_transport(qtbot, window):
    spin = window.controls.model_depth
    gen = generation(window)
    type_into(qtbot, spin.lineEdit(), "4")  # digits still go into the spin box
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert spin.value() == 4
    assert latest(window).snapshot.depth == 4
    qtbot.waitUntil(lambda: not spin.hasFocus(), timeout=TIMEOUT)
    focus = QApplication.focusWidget()
    qtbot.keyClick(focus, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_R)
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 0, timeout=TIMEOUT)


def test_space_and_r_work_while_a_spin_box_has_the_focus(qtbot, window):
    """A click on a spin box's arrow leaves the focus in it: Space and R (never part of a
    number) still play and reset; the arrow keys keep moving the text cursor."""
    spin = window.controls.training_learning_rate
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=TIMEOUT)
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.controller.running, timeout=TIMEOUT)
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.controller.running, timeout=TIMEOUT)
    assert latest(window).snapshot.step > 0
    qtbot.keyClick(spin, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 0, timeout=TIMEOUT)
    spin.lineEdit().setCursorPosition(0)
    qtbot.keyClick(spin, Qt.Key.Key_Right)
    assert spin.lineEdit().cursorPosition() == 1
    assert spin.hasFocus()


def test_clicking_the_network_takes_the_focus_from_a_field(qtbot, window):
    spin = window.controls.model_width
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=TIMEOUT)
    qtbot.mouseClick(window.diagram.canvas, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    assert window.diagram.canvas.hasFocus()
    qtbot.keyClick(window.diagram.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)


def test_the_wheel_scrolls_the_panel_not_an_unfocused_field(qtbot, window):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    spin = window.controls.model_depth
    window.diagram.canvas.setFocus()

    def wheel(widget) -> None:
        pos = QPointF(widget.rect().center())
        QApplication.sendEvent(
            widget,
            QWheelEvent(
                pos,
                QPointF(widget.mapToGlobal(pos.toPoint())),
                QPoint(0, 0),
                QPoint(0, 120),
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
                Qt.ScrollPhase.NoScrollPhase,
                False,
            ),
        )

    wheel(spin)
    assert spin.value() == DEPTH
    spin.setFocus()
    wheel(spin)  # a focused field still takes the wheel
    assert spin.value() == DEPTH + 1


# ----------------------------------------------------------------------------- 4. readout


def test_hovering_a_toolbar_button_keeps_the_step_and_loss_readout(qtbot, window):
    window.act_step.trigger()
    qtbot.waitUntil(lambda: "step 1" in window.readout.text(), timeout=TIMEOUT)
    button = window.toolbar.widgetForAction(window.act_reset)
    qtbot.mouseMove(button)
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == window.act_reset.statusTip(), timeout=TIMEOUT
    )
    assert window.readout.isVisible()
    assert window.readout.visibleRegion().boundingRect().width() > 100
    assert "step 1" in window.readout.text()
    window.statusBar().showMessage("Saved somewhere.toml", 4000)  # messages show as well
    assert window.readout.isVisible()


# ----------------------------------------------------------------------------- 5. description


def test_the_description_follows_the_settings(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, default_config())
    controls = window.controls
    original = default_config().description
    assert "10 sigmoid layers" in shown_text(controls.about)
    box = controls.model_activation
    box.setCurrentIndex(box.findData("tanh"))
    qtbot.waitUntil(lambda: latest(window).snapshot.activations[0] == "tanh", timeout=TIMEOUT)
    about = shown_text(controls.about)
    assert "sigmoid layers" not in about
    assert "10 hidden tanh layers" in about
    assert "activation sigmoid \u2192 tanh" in about
    assert "modified" in shown_text(controls.about_title)
    # saved, the file describes what it holds, not the preset it came from
    target = tmp_path / "tanh.toml"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "TOML (*.toml)")
    )
    window.act_save.trigger()
    saved = config_io.load(target)
    assert saved.model.activation == "tanh"
    assert original not in saved.description
    assert "tanh" in saved.description
    # back to sigmoid: the experiment is the one described again
    box.setCurrentIndex(box.findData("sigmoid"))
    assert shown_text(controls.about) == original
    assert "modified" not in shown_text(controls.about_title)


# ----------------------------------------------------------------------------- 7. plain text


def test_descriptions_are_plain_text(qtbot, window):
    """The dying-ReLU description has "z < 0": everything after it must still show."""
    description = get_preset("dying_relu").description
    assert "z < 0" in description
    action = next(
        a
        for a in window.presets_menu.actions()
        if a.menu() is not None and a.menu().title() == get_preset("dying_relu").title
    )
    gen = generation(window)
    variant = next(
        a
        for a in action.menu().actions()
        if "relu" in a.text() and "leaky" not in a.text() and "prelu" not in a.text()
    )
    variant.trigger()
    qtbot.waitUntil(lambda: generation(window) > gen, timeout=TIMEOUT)
    assert flat(shown_text(window.controls.about)) == flat(description)
    assert flat(description) in flat(shown_text(window.banner.body))
    assert "dying" in shown_text(window.controls.about_title).lower()
    tip = QTextDocument()
    tip.setHtml(variant.toolTip())
    assert flat(description) in flat(tip.toPlainText())
    # edited, the preset's text no longer describes the experiment: the banner goes too
    window.controls.model_depth.setValue(4)
    assert not window.banner.isVisible()
    assert "dying" in shown_text(window.controls.about_title).lower()
    assert flat(description) not in flat(shown_text(window.controls.about))


# ----------------------------------------------------------------------------- 6. presets


def preset_submenu(window: MainWindow, name: str) -> QMenu:
    title = get_preset(name).title
    return next(
        a.menu()
        for a in window.presets_menu.actions()
        if a.menu() is not None and a.menu().title() == title
    )


@pytest.mark.parametrize(
    ("name", "field", "off"),
    [("residual", "residual", False), ("batch_norm", "batch_norm", "none")],
)
def test_comparison_preset_entries_load_what_they_say(qtbot, window, name, field, off):
    """Every entry loads its variant; only the one marked baseline lacks the countermeasure
    (the old "(as saved)" entry loaded the baseline under the preset's own name)."""
    menu = preset_submenu(window, name)
    loads = [a for a in menu.actions() if not a.isSeparator() and "side by side" not in a.text()]
    assert len(loads) >= 2
    assert not any("as saved" in a.text() for a in menu.actions())
    with_countermeasure = 0
    for action in loads:
        gen = generation(window)
        action.trigger()
        qtbot.waitUntil(lambda g=gen: generation(window) > g, timeout=TIMEOUT)
        value = getattr(window.controller.config.model, field)
        assert f"{field} = {str(value).lower()}" in action.text()
        assert window.controls.config() == window.controller.config
        if value == off:
            assert "baseline" in action.text()
        else:
            assert "baseline" not in action.text()
            with_countermeasure += 1
        assert latest(window).snapshot.depth == get_preset(name).config().model.depth
    assert with_countermeasure == len(loads) - 1


def test_comparison_preset_opens_side_by_side(qtbot, window):
    menu = preset_submenu(window, "residual")
    compare = next(a for a in menu.actions() if "side by side" in a.text())
    compare.trigger()
    other = window.teaching.compare_window
    qtbot.waitUntil(other.isVisible, timeout=TIMEOUT)
    assert other.vary() == list(get_preset("residual").vary)
    other.close()


def test_every_built_in_data_source_builds_from_the_combo_box(qtbot, window):
    """Regression data (surface) takes the mse loss before the rebuild, not after it."""
    box = window.controls.data_name
    for name in ("surface", "circles", "xor", "moons", "blobs", "breast_cancer", "digits"):
        gen = generation(window)
        box.setCurrentIndex(box.findData(name))
        qtbot.waitUntil(lambda g=gen: generation(window) > g, timeout=TIMEOUT)
        assert window.controller.config.data.name == name
        assert (window.controller.config.model.loss == "mse") == (name == "surface")
        assert window.banner.kind != "error"


def test_escape_in_a_spin_box_drops_the_typing(qtbot, window):
    spin = window.controls.model_width
    gen = generation(window)
    qtbot.mouseClick(spin.lineEdit(), Qt.MouseButton.LeftButton)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "999")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not spin.hasFocus(), timeout=TIMEOUT)
    settle(qtbot, window)
    assert spin.value() == 8
    assert spin.text() == "8"
    assert generation(window) == gen
