"""The main window end to end (offscreen): build, rebuild, step through, play, export, presets."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from gui_helpers import DEPTH, TIMEOUT, open_window, tiny
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import config as config_io
from engine.config import updated
from engine.session import Divergence
from gui import export
from gui.main_window import MainWindow


@pytest.fixture
def window(qtbot):
    return open_window(qtbot, tiny())


def latest(w: MainWindow):
    return w.controller.latest


def has_data(panel) -> bool:
    """Does the panel's plot hold any drawn data (curve points, image, bars)?"""

    def filled(item) -> bool:
        if isinstance(item, pg.PlotDataItem | pg.PlotCurveItem):
            return item.xData is not None and len(item.xData) > 0
        if isinstance(item, pg.ImageItem):
            return item.image is not None and item.image.size > 0
        if isinstance(item, pg.BarGraphItem):
            return item.opts.get("height") is not None and len(item.opts["height"]) > 0
        return False

    return any(filled(item) for item in panel.plot.getPlotItem().items)


def image_is_drawn(path) -> bool:
    """A readable image with real content (many distinct colours, not a blank canvas)."""
    img = QImage(str(path))
    if img.isNull() or img.width() < 50 or img.height() < 50:
        return False
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(img.constBits(), np.uint32, count=img.width() * img.height())
    return len(np.unique(pixels)) > 8


def test_opens_on_the_experiment_and_draws_the_network(window):
    canvas = window.diagram.canvas
    assert canvas.widths == [2, 8, 8, 8, 3]
    assert canvas.activations[1:-1] == ["sigmoid"] * DEPTH
    assert "tiny" in window.windowTitle()
    assert "step 0" in window.readout.text()
    assert window.grab().width() == 1400


def test_changing_the_activation_rebuilds_the_network(qtbot, window):
    gen = latest(window).generation
    box = window.controls.model_activation
    box.setCurrentIndex(box.findData("relu"))
    qtbot.waitUntil(lambda: latest(window).generation == gen + 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.diagram.canvas.activations[1] == "relu", timeout=TIMEOUT)
    assert latest(window).snapshot.activations[:DEPTH] == ("relu",) * DEPTH
    window.controls.model_depth.setValue(5)
    qtbot.waitUntil(lambda: len(window.diagram.canvas.widths) == 5 + 2, timeout=TIMEOUT)


def test_learning_rate_change_is_live(qtbot, window):
    gen = latest(window).generation
    window.controls.training_learning_rate.setValue(0.02)
    qtbot.waitUntil(lambda: latest(window).snapshot.learning_rate == 0.02, timeout=TIMEOUT)
    assert latest(window).generation == gen


def test_step_phase_highlights_each_layer_and_shows_the_phase(qtbot, window):
    expected = (
        [("forward", k) for k in range(DEPTH + 1)]
        + [("loss", DEPTH)]
        + [("backward", k) for k in range(DEPTH, -1, -1)]
    )
    for i, (phase, layer) in enumerate(expected):
        window.act_phase.trigger()
        qtbot.waitUntil(
            lambda i=i, where=(layer, phase): (
                latest(window).snapshot.phase_result is not None
                and latest(window).snapshot.phase_result.index == i
                and window.diagram.canvas.highlight == where
            ),
            timeout=TIMEOUT,
        )
        assert f"phase {phase}" in window.readout.text()
    assert "backward hidden 1" in window.readout.text()
    window.act_phase.trigger()  # the update ends the step
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.diagram.canvas.highlight == (-1, None), timeout=TIMEOUT)
    assert "phase idle" in window.readout.text()


def test_keyboard_shortcuts_drive_the_transport(qtbot, window):
    assert window.act_play.shortcut().toString() == "Space"
    assert window.act_step.shortcut().toString() == "Right"
    assert window.act_phase.shortcut().toString() == "Shift+Right"
    assert window.act_reset.shortcut().toString() == "R"
    window.activateWindow()
    window.diagram.setFocus()
    qtbot.keyClick(window.diagram, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    qtbot.keyClick(window.diagram, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: latest(window).snapshot.phase == "forward", timeout=TIMEOUT)
    qtbot.keyClick(window.diagram, Qt.Key.Key_R)
    qtbot.waitUntil(
        lambda: latest(window).snapshot.step == 0 and latest(window).snapshot.phase == "idle",
        timeout=TIMEOUT,
    )


def test_play_updates_every_plot(qtbot, window):
    window.docks["delta_hist"].raise_()
    drawn = window.frames_drawn
    window.act_play.trigger()
    qtbot.waitUntil(lambda: latest(window).snapshot.step > 200, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.frames_drawn > drawn + 3, timeout=TIMEOUT)
    window.act_play.trigger()
    qtbot.waitUntil(lambda: not window.controller.running, timeout=TIMEOUT)
    for panel in (window.gradient_chart, window.heatmap, window.loss_plot, window.delta_hist):
        qtbot.waitUntil(lambda p=panel: has_data(p), timeout=TIMEOUT)
    assert "step 0" not in window.readout.text()
    window.docks["accuracy"].raise_()  # a tab brought to the front catches up
    qtbot.waitUntil(lambda: has_data(window.accuracy_plot), timeout=TIMEOUT)
    window.docks["boundary"].raise_()
    qtbot.waitUntil(lambda: has_data(window.boundary), timeout=TIMEOUT)


def test_clicking_a_layer_selects_it_for_the_inspector(qtbot, window):
    canvas = window.diagram.canvas
    x = int(canvas.layout_geometry().xs[2])  # column 2 = hidden 2
    y = int(canvas.layout_geometry().ys[2][0])
    with qtbot.waitSignal(window.diagram.layer_clicked, timeout=TIMEOUT) as clicked:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert clicked.args == [1]
    assert window.selected_layer == 1
    assert "hidden 2" in window.inspector.header.text()
    qtbot.waitUntil(lambda: latest(window).selected == 1, timeout=TIMEOUT)


def test_divergence_shows_a_banner_with_advice(window):
    window.controller.diverged.emit(Divergence(7, "backward", 1, "delta = dL/dz", DEPTH))
    assert window.banner.isVisible()
    assert "diverged at step 7" in window.banner.body.text()
    assert "learning rate" in window.banner.body.text()


def test_export_plots_writes_valid_png_and_svg_for_every_panel(qtbot, window, tmp_path):
    window.act_step.trigger()
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    written = window.export_plots(tmp_path)
    stems = set(window.plot_panels()) | {"network"}
    assert {p.name for p in written} == {f"{s}{e}" for s in stems for e in (".png", ".svg")}
    for path in written:
        if path.suffix == ".png":
            assert image_is_drawn(path), path
        else:
            root = ET.parse(path).getroot()
            assert root.tag.endswith("svg"), path
            assert sum(1 for _ in root.iter()) > 10, path
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_export_to_a_missing_folder_reports_and_writes_nothing(window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    monkeypatch.setattr(
        "gui.export_controller.QFileDialog.getExistingDirectory",
        lambda *a, **k: str(tmp_path / "missing"),
    )
    window.export_plots_dialog()
    assert len(shown) == 1
    assert str(tmp_path / "missing") in shown[0]
    with pytest.raises(export.ExportError):
        window.export_plots(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


def test_window_png_and_metrics_csv(qtbot, window, tmp_path):
    window.act_epoch.trigger()
    qtbot.waitUntil(
        lambda: latest(window).snapshot.epoch == 1 and not latest(window).running, timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: window.drawn_serial == latest(window).serial, timeout=TIMEOUT)
    png = tmp_path / "window.png"
    export.export_widget_png(window, png)
    assert image_is_drawn(png)
    csv_path = window.export_metrics(tmp_path / "metrics.csv")
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("step,loss,accuracy")
    assert "grad_norm_hidden_1" in lines[0]
    assert len(lines) - 1 == latest(window).snapshot.step


def test_load_preset_rebuilds_and_shows_it(qtbot, window):
    from engine.presets import list_presets, load_preset

    preset = next(p for p in list_presets() if p.name == "dying_relu")
    expected = load_preset(preset.name)
    gen = latest(window).generation
    window.load_preset(preset.name)
    qtbot.waitUntil(lambda: latest(window).generation > gen, timeout=TIMEOUT)
    snap = latest(window).snapshot
    assert snap.depth == expected.model.depth
    assert snap.activations[0] == expected.model.activation
    assert window.controls.config() == expected
    assert window.banner.isVisible()
    titles = [a.text() for a in window.presets_menu.actions()]
    assert preset.title in titles


def test_recurrent_presets_are_listed_and_enabled(window):
    """The recurrent presets open the Recurrent window (tests/test_recurrent_window.py runs
    them): each is listed under its title, enabled, with its description as tooltip."""
    from engine.presets import list_presets

    recurrent = [p for p in list_presets() if p.is_recurrent]
    assert recurrent, "the recurrent presets are bundled"
    actions = {a.text(): a for a in window.presets_menu.actions()}
    for p in recurrent:
        action = actions[p.title]
        assert action.isEnabled()
        assert p.description.split()[0] in action.toolTip()
    assert not any("command line only" in text for text in actions)


def test_save_and_reopen_a_config(qtbot, window, tmp_path):
    path = tmp_path / "exp.toml"
    assert window.save_config(str(path))
    assert config_io.load(path) == window.controller.config
    other = updated(window.controller.config, **{"model.depth": 2})
    config_io.save(other, path)
    assert window.open_config(str(path))
    qtbot.waitUntil(lambda: latest(window).snapshot.depth == 2, timeout=TIMEOUT)
    assert window.controls.model_depth.value() == 2


def test_bad_config_file_names_the_file_and_the_problem(window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    path = tmp_path / "bad.toml"
    path.write_text('[model]\ndepth = 0\nactivaton = "relu"\n', encoding="utf-8")
    gen = latest(window).generation
    assert not window.open_config(str(path))
    assert len(shown) == 1
    assert str(path) in shown[0]
    assert "model.depth" in shown[0]
    assert "activation" in shown[0]
    assert latest(window).generation == gen


def test_unwritable_config_path_is_reported(window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert not window.save_config(str(blocker / "exp.toml"))  # a file is in the way
    assert len(shown) == 1
    assert str(blocker / "exp.toml") in shown[0]


def test_every_plot_has_an_export_context_menu(qtbot, window, tmp_path, monkeypatch):
    window.act_step.trigger()
    qtbot.waitUntil(lambda: latest(window).snapshot.step == 1, timeout=TIMEOUT)
    asked = []
    monkeypatch.setattr(window.exports, "show_menu", lambda stem, panel, pos: asked.append(stem))
    for panel in window.plot_panels().values():
        where = QPoint(40, 40)
        QApplication.sendEvent(
            panel.plot.viewport(),
            QContextMenuEvent(
                QContextMenuEvent.Reason.Mouse, where, panel.plot.viewport().mapToGlobal(where)
            ),
        )
    assert asked == list(window.plot_panels())
    target = tmp_path / "loss.svg"
    monkeypatch.setattr(
        "gui.export_controller.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "")
    )
    menu = window.plot_menu("loss", window.loss_plot)
    texts = [a.text() for a in menu.actions()]
    assert "Export as PNG\u2026" in texts
    next(a for a in menu.actions() if a.text() == "Export as SVG\u2026").trigger()
    assert ET.parse(target).getroot().tag.endswith("svg")
    target = tmp_path / "network.png"
    menu = window.plot_menu("network", None)
    next(a for a in menu.actions() if a.text() == "Export as PNG\u2026").trigger()
    assert image_is_drawn(target)


APP_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui import app as app_module
from gui.main_window import MainWindow

def poll():
    qapp = QApplication.instance()
    wins = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if wins and wins[0].frames_drawn > 0:
        print("TITLE", wins[0].windowTitle())
        print("MENUS", [a.text() for a in wins[0].menuBar().actions()])
        wins[0].close()
        qapp.quit()
    else:
        QTimer.singleShot(20, poll)

QTimer.singleShot(0, poll)
sys.exit(app_module.main(["vglab"]))
"""


def test_app_main_opens_the_window_and_exits_cleanly():
    """``python main.py``'s entry point, in its own process (QApplication.exec() may run
    once per process)."""
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", APP_SCRIPT],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TITLE Vanishing Gradient Lab \u2014 deep-sigmoid" in done.stdout
    assert "Pre&sets" in done.stdout


def test_the_boundary_says_why_it_is_empty_for_data_that_is_not_2d(qtbot):
    w = open_window(qtbot, tiny(**{"data.name": "digits"}))
    qtbot.waitUntil(lambda: "2-D inputs only (64 here)" in w.boundary.title, timeout=TIMEOUT)
    w.controls.data_name.setCurrentIndex(w.controls.data_name.findData("spiral"))
    qtbot.waitUntil(lambda: w.boundary.title == "Decision boundary", timeout=TIMEOUT)
