"""The main window is usable on small screens (issue 13): at 1280x720 nothing is clipped,
every layer of a 20-layer net shows, tab titles are whole, the View menu lists every dock,
and View > Reset layout restores exactly the start layout."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from engine_helpers import tiny
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QScrollArea,
    QTabBar,
)

from engine.config import ExperimentConfig
from gui import teaching
from gui.main_window import MainWindow

TIMEOUT = 20_000
DEPTH = 20


def deep() -> ExperimentConfig:
    return tiny(name="deep", **{"model.depth": DEPTH, "training.eval_every": 5})


def open_window(qtbot, size) -> MainWindow:
    w = MainWindow(config=deep())
    qtbot.addWidget(w)
    teaching.install(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    w.act_step.trigger()
    qtbot.waitUntil(
        lambda: (
            w.controller.latest.snapshot.step == 1 and w.drawn_serial == w.controller.latest.serial
        ),
        timeout=TIMEOUT,
    )
    settle()
    return w


def settle() -> None:
    for _ in range(5):
        QApplication.processEvents()


def on_screen(dock: QDockWidget) -> bool:
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def in_window(w: MainWindow, widget) -> QRect:
    return QRect(widget.mapTo(w, widget.rect().topLeft()), widget.size())


@pytest.fixture(params=[(1280, 720), (1366, 768)], ids=["1280x720", "1366x768"])
def small(qtbot, request):
    return open_window(qtbot, request.param), request.param


def test_every_panel_fits_in_a_small_window(small):
    w, size = small
    assert (w.width(), w.height()) == size  # no minimum size forces it larger
    hint = w.minimumSizeHint()
    assert hint.width() <= size[0]
    assert hint.height() <= size[1]
    shown = [d for d in w.dock_widgets() if on_screen(d)]
    assert {d.objectName() for d in shown} >= {
        "controls",
        "inspector",
        "gradients",
        "heatmap",
        "loss",
        "delta_hist",
    }
    for dock in shown:
        rect = in_window(w, dock)
        assert w.rect().contains(rect), (dock.objectName(), rect)
        hint = dock.widget().minimumSizeHint()
        assert dock.widget().width() >= hint.width(), dock.objectName()
        assert dock.widget().height() >= hint.height(), dock.objectName()
    for name, panel in w.plot_panels().items():
        if not on_screen(
            w.docks[
                {
                    "gradient_per_layer": "gradients",
                    "gradient_heatmap": "heatmap",
                    "loss": "loss",
                    "accuracy": "accuracy",
                    "delta_histogram": "delta_hist",
                    "fprime_histogram": "fprime_hist",
                    "activation": "activation",
                    "decision_boundary": "boundary",
                    "phase_diagram": "phase",
                    "jacobian_spectrum": "jacobian",
                }[name]
            ]
        ):
            continue
        view, item = panel.plot, panel.plot_item
        assert view.width() >= 180, name
        assert view.height() >= 170, name
        # the plot is drawn inside its widget: not wider or taller than it (clipped)
        assert item.geometry().width() <= view.width() + 0.5, name
        assert item.geometry().height() <= view.height() + 0.5, name
        title = item.titleLabel
        if title.isVisible() and panel.title:
            text = title.item.mapRectToScene(title.item.boundingRect())
            assert text.left() >= -1, name  # the whole title is on screen
            assert text.right() <= view.width() + 1, name


def test_all_layers_of_a_20_layer_net_show_in_the_gradient_chart(small):
    w, _ = small
    chart = w.gradient_chart
    x, _ = chart.series_points("||dL/dW_k||")
    assert x.tolist() == list(range(DEPTH + 1))
    x0, x1 = chart.plot_item.viewRange()[0]
    assert x0 < 0
    assert x1 > DEPTH
    ticks = [t for level in chart.plot_item.getAxis("bottom")._tickLevels for t in level]
    labelled = [text for _, text in ticks if text]
    assert labelled[0] == "h1"
    assert labelled[-1] == "out"
    assert len(ticks) == DEPTH + 1  # a tick (labelled or not) per layer


def test_every_control_is_reachable_and_readable(small):
    w, _ = small
    scroll = w.controls.findChild(QScrollArea)
    viewport = scroll.viewport()
    inputs = [
        c
        for c in w.controls.findChildren(QComboBox)
        + w.controls.findChildren(QAbstractSpinBox)
        + w.controls.findChildren(QCheckBox)
        if c.isVisibleTo(w.controls)
    ]
    assert len(inputs) > 15
    for box in inputs:
        left = box.mapTo(viewport, box.rect().topLeft()).x()
        assert left >= 0, box.objectName()
        assert left + box.width() <= viewport.width(), box.objectName()
        if isinstance(box, QComboBox):
            room = box.width() - 28  # the arrow and the frame
            text = box.currentText()
            assert box.fontMetrics().horizontalAdvance(text) <= room, (box.objectName(), text)
        scroll.ensureWidgetVisible(box)  # scrolled to, it is fully shown
        settle()
        top = box.mapTo(viewport, box.rect().topLeft()).y()
        assert -2 <= top <= viewport.height() - box.height() + 2, box.objectName()


def tab_bars(w: MainWindow) -> list[QTabBar]:
    return [
        b for b in w.findChildren(QTabBar) if b.parent() is w and b.isVisible() and b.count() > 1
    ]


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768)], ids=["1280x720", "1366x768"])
def test_tab_titles_are_whole(qtbot, size):
    w = open_window(qtbot, size)
    w.teaching.start_lesson(0)  # the Lesson dock joins a tab group
    qtbot.waitUntil(
        lambda: (
            w.findChild(QDockWidget, "lesson") is not None
            and w.findChild(QDockWidget, "lesson").isVisible()
        ),
        timeout=TIMEOUT,
    )
    settle()
    bars = tab_bars(w)
    texts = {b.tabText(i) for b in bars for i in range(b.count())}
    assert {
        "Loss",
        "Accuracy",
        "Lesson",
        "Inspector",
        "Boundary",
        "|\u03b4|",
        "f'(z)",
        "Activation",
    } <= texts
    for bar in bars:
        assert bar.elideMode() == Qt.TextElideMode.ElideNone
        for i in range(bar.count()):
            text, rect = bar.tabText(i), bar.tabRect(i)
            assert rect.width() >= bar.fontMetrics().horizontalAdvance(text) + 8, text
            assert bar.rect().contains(rect), (text, rect, bar.rect())  # no scrolling
            assert bar.tabToolTip(i), text


def test_view_menu_lists_every_dock_including_the_lesson(qtbot):
    w = open_window(qtbot, (1366, 768))
    w.teaching.start_lesson(0)
    qtbot.waitUntil(lambda: w.findChild(QDockWidget, "lesson") is not None, timeout=TIMEOUT)
    w.view_menu.aboutToShow.emit()
    actions = {a.text(): a for a in w.view_menu.actions()}
    for dock in w.findChildren(QDockWidget):
        assert (dock.toolTip() or dock.windowTitle()) in actions, dock.objectName()
    assert "Lesson" in actions
    assert "Reset &layout" in actions
    lesson = w.findChild(QDockWidget, "lesson")
    actions["Lesson"].trigger()  # the entry hides and shows the dock
    assert lesson.isHidden()
    actions["Lesson"].trigger()
    assert not lesson.isHidden()


def layout_state(w: MainWindow) -> dict:
    settle()
    out = {}
    for dock in w.dock_widgets():
        out[dock.objectName()] = (
            in_window(w, dock).getRect() if on_screen(dock) else None,
            dock.isFloating(),
            w.dockWidgetArea(dock),
        )
    out["toolbar"] = w.toolbar.isVisible()
    return out


def close_enough(a: dict, b: dict, tol: int = 3) -> bool:
    for key in a:
        if key == "toolbar" or a[key][0] is None or b[key][0] is None:
            if a[key] != b[key]:
                return False
            continue
        if a[key][1:] != b[key][1:]:
            return False
        if any(abs(p - q) > tol for p, q in zip(a[key][0], b[key][0], strict=True)):
            return False
    return True


def test_reset_layout_restores_exactly_the_start_layout(qtbot):
    w = open_window(qtbot, (1366, 768))
    qtbot.wait(50)
    start = layout_state(w)
    d = w.docks
    d["gradients"].setFloating(True)
    d["heatmap"].close()
    w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["loss"])
    w.resizeDocks([d["controls"]], [500], Qt.Orientation.Horizontal)
    d["fprime_hist"].raise_()
    w.toolbar.hide()
    assert not close_enough(layout_state(w), start)
    w.act_reset_layout.trigger()
    qtbot.waitUntil(lambda: close_enough(layout_state(w), start), timeout=5000)
    for bar in tab_bars(w):
        assert bar.elideMode() == Qt.TextElideMode.ElideNone


def test_start_size_fits_the_screen(qtbot):
    w = MainWindow(config=deep(), start=False)
    qtbot.addWidget(w)
    avail = w.screen().availableGeometry()
    size = w.start_size()
    assert size.width() <= avail.width()
    assert size.height() <= avail.height()
    assert size.width() == min(1600, avail.width())


def test_plots_keep_inside_their_widgets_after_every_dock_is_shown(qtbot):
    w = open_window(qtbot, (1280, 720))
    for name in ("accuracy", "fprime_hist", "activation", "boundary"):
        w.docks[name].raise_()
        settle()
        panel = w.docks[name].widget()
        plot = getattr(panel, "plot", None)
        if isinstance(plot, pg.GraphicsView):
            item = panel.plot_item
            # a tab brought to the front is laid out on a later event-loop turn
            qtbot.waitUntil(
                lambda i=item, p=plot: i.geometry().width() <= p.width() + 0.5, timeout=3000
            )


def test_view_lists_the_lesson_dock_before_any_lesson_and_opens_it(qtbot):
    w = open_window(qtbot, (1366, 768))
    gen = w.controller.latest.generation
    w.view_menu.aboutToShow.emit()
    actions = {a.text(): a for a in w.view_menu.actions()}
    assert "Lesson" in actions
    lesson = w.findChild(QDockWidget, "lesson")
    assert lesson.isHidden()  # not in the start layout
    actions["Lesson"].trigger()
    qtbot.waitUntil(lambda: on_screen(lesson), timeout=TIMEOUT)  # in front, not behind
    qtbot.waitUntil(lambda: w.teaching.lesson_panel.index == 0, timeout=TIMEOUT)
    assert w.teaching.lesson_panel.title.text() == w.teaching.lessons()[0].title
    settle()
    assert w.controller.latest.generation == gen  # opening it replaced nothing
