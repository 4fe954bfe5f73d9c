"""The main window: docks, menus and transport; wires the panels to the controller.

Data flows one way.  The :class:`~gui.controller.Controller` emits frames from its worker
thread; :meth:`MainWindow._on_frame` only keeps the latest one, and a timer draws it at a
bounded rate (``MAX_FPS``), so the GUI never falls behind training and never redraws a stale
state.  Panels never talk to each other: this window hands each one plain arrays.  The
controls emit configs; the controller decides between a live change and a rebuild.
"""

from __future__ import annotations

import html
import math
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStyle,
    QTabBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from engine import config as config_io
from engine.config import ConfigError, ExperimentConfig
from gui import export
from gui.controller import Controller, Frame, default_config
from gui.panels.activation_view import ActivationView
from gui.panels.controls import Controls
from gui.panels.curves import CurvePlot
from gui.panels.decision_boundary import DecisionBoundary
from gui.panels.gradient_chart import GradientChart
from gui.panels.heatmap import LayerHeatmap
from gui.panels.histogram import HistogramPanel
from gui.panels.inspector import Inspector
from gui.panels.network_diagram import NetworkDiagram
from gui.panels.status import Banner, BusyIndicator, StatusReadout
from gui.worker import SPEEDS

FPS = 30  # frames the controller sends per second (it sends 20% more: gui.pacing)
MAX_FPS = 40  # hard cap on redraws per second, whatever arrives
#: while playing, seconds between redraws of each panel (absent: every frame).  Qt paints
#: in the GUI thread holding the GIL (PySide6 does not release it around QPainter calls), and
#: every millisecond of painting is a millisecond the training thread cannot run its Python;
#: so only the network diagram follows every frame, the plots refresh a few times a second.
PANEL_INTERVALS = {
    "gradients": 0.125,
    "heatmap": 0.5,
    "loss": 0.5,
    "accuracy": 0.5,
    "inspector": 0.25,
    "status": 0.1,
    "delta_hist": 0.5,
    "fprime_hist": 0.5,
    "activation": 0.5,
    "boundary": 0.5,
}
#: default window size, on screens that have room for it (smaller screens: the whole screen)
DEFAULT_SIZE = (1600, 1000)
#: dock name -> (tab/title text, full name for the View menu and the tab's tooltip).  Tab
#: titles are short: a tabified dock's title must be readable in full in its tab.
DOCK_TITLES = {
    "controls": ("Experiment", "Experiment settings"),
    "inspector": ("Inspector", "Layer inspector"),
    "gradients": ("Gradient per layer", "Gradient norm per layer"),
    "heatmap": ("Gradient: layer \u00d7 step", "Gradient norm per layer over training"),
    "loss": ("Loss", "Loss"),
    "accuracy": ("Accuracy", "Accuracy"),
    "boundary": ("Boundary", "Decision boundary"),
    "delta_hist": ("|\u03b4|", "\u03b4 histogram: |dL/dz| of the selected layer"),
    "fprime_hist": ("f'(z)", "f'(z) histogram of the selected layer"),
    "activation": ("Activation", "Activation function and the layer's pre-activations"),
}
COMPILE_NOTE = (
    "Numba compiles the training kernels on the very first start (about 20 s) and "
    "caches them on disk; the window stays usable meanwhile."
)


def _content_key(name: str, frame: Frame):
    """What a panel shows depends only on this (None: on everything)."""
    if name in ("delta_hist", "fprime_hist", "activation"):
        return (frame.generation, frame.selected, frame.arrays_step, len(frame.layer_arrays))
    if name == "boundary":
        return (frame.generation, id(frame.boundary))
    return None


def _same_value(value, text: str) -> bool:
    """Is the config ``value`` the one a ``--vary`` item spells ``text``?"""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value).lower() == text.strip().lower()
    try:
        return float(text) == value
    except ValueError:
        return False


def _tooltip(text: str) -> str:
    """Prose as a tooltip: escaped, and rich text so that Qt wraps a long paragraph."""
    return f"<p>{html.escape(text.strip())}</p>" if text.strip() else ""


def _first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of ``text`` (at most ``limit`` characters) for the status bar."""
    text = " ".join(text.split())
    cut = text.find(". ")
    text = text if cut < 0 else text[: cut + 1]
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _html_lines(text: str) -> str:
    """Plain ``text`` for a rich-text label: escaped ("z < 0" stays whole), lines kept."""
    return html.escape(text).replace("\n", "<br>")


def phase_text(snap) -> str:
    """Human text of where a step is: "backward hidden 3 (15/25)" or "idle"."""
    r = snap.phase_result
    if snap.phase == "idle" or r is None:
        return "idle"
    where = "" if r.layer < 0 else f" {snap.layer_labels[r.layer]}"
    return f"{r.phase}{where} ({r.index + 1}/{r.n_phases})"


class MainWindow(QMainWindow):
    """Vanishing Gradient Lab: the network, its gradients, and the controls to change both."""

    def __init__(
        self,
        controller: Controller | None = None,
        config: ExperimentConfig | None = None,
        start: bool = True,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        cfg = config or (controller.config if controller is not None else default_config())
        self.controller = controller or Controller(cfg, fps=FPS)
        self.controller.setParent(self)
        self._latest: Frame | None = None  # newest frame received
        self._drawn_serial = -1  # serial of the frame on screen
        self._generation = -1
        self._selected = 0
        self._stale: set[str] = set()  # panels hidden during a redraw
        self._panel_keys: dict[str, object] = {}
        self._panel_times: dict[str, float] = {}
        self.frames_drawn = 0  # redraw counter (benchmark, tests)
        self.panel_draws: Counter[str] = Counter()  # per-panel redraws (benchmark)
        self.worker_stopped = True
        self._shown_once = False
        self._last_folder = ""  # where Open/Save dialogs start
        self._last_error = ""  # the worker's last error message
        self._preset_banner = False  # the banner shows a preset's description
        self.setWindowTitle("Vanishing Gradient Lab")
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self._build_panels(cfg)
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status()
        self._connect()
        self._install_context_menus()
        # single-shot: armed when a frame arrives, so a redraw follows each new frame but
        # never comes sooner than 1/MAX_FPS after the previous one
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._render)
        self._last_render = -math.inf
        self.resize(self.start_size())
        if start:
            self.controller.start()

    def __repr__(self) -> str:
        return f"MainWindow({self.controller!r}, frames_drawn={self.frames_drawn})"

    # --- construction ------------------------------------------------------------------------
    def _build_panels(self, cfg: ExperimentConfig) -> None:
        self.diagram = NetworkDiagram()
        self.banner = Banner()
        self.controls = Controls(cfg)
        self.inspector = Inspector()
        self.gradient_chart = GradientChart()
        self.heatmap = LayerHeatmap()
        self.loss_plot = CurvePlot("Loss", "loss", log_y=True)
        self.accuracy_plot = CurvePlot("Accuracy", "accuracy")
        self.delta_hist = HistogramPanel(
            "|\u03b4_k| = |dL/dz_k| of the selected layer", "|\u03b4| (log scale)"
        )
        self.fprime_hist = HistogramPanel("f'(z_k) of the selected layer", "f'(z)")
        self.activation_view = ActivationView()
        self.boundary = DecisionBoundary()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(4)
        layout.addWidget(self.banner)
        layout.addWidget(self.diagram, 1)
        self.setCentralWidget(central)

    def _dock(self, name: str, widget: QWidget) -> QDockWidget:
        title, full = DOCK_TITLES[name]
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState/restoreState need names
        dock.setWidget(widget)
        dock.setToolTip(full)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        # a panel behind a tab is not redrawn; catch up when it comes to the front
        dock.visibilityChanged.connect(lambda visible, n=name: visible and self._catch_up(n))
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        self.docks: dict[str, QDockWidget] = {}
        for name, widget in (
            ("controls", self.controls),
            ("inspector", self.inspector),
            ("gradients", self.gradient_chart),
            ("heatmap", self.heatmap),
            ("loss", self.loss_plot),
            ("accuracy", self.accuracy_plot),
            ("boundary", self.boundary),
            ("delta_hist", self.delta_hist),
            ("fprime_hist", self.fprime_hist),
            ("activation", self.activation_view),
        ):
            self._dock(name, widget)
        self.docks["controls"].setMinimumWidth(280)
        self._arrange_docks()

    def _arrange_docks(self) -> None:
        """The start layout (View > Reset layout puts every dock back here).

        The experiment settings run the full height on the left; the plots run along the
        bottom from there to the right edge, so the per-layer chart gets a real width on a
        1280-pixel screen; the inspector (and, in a tab, the decision boundary) sits right
        of the network.  Every tab group is narrow enough for its titles::

            | settings | network diagram                       | inspector / boundary    |
            |          | gradient | heatmap | loss / accuracy | |d| / f'(z) / activation |
        """
        L, R, B = (
            Qt.DockWidgetArea.LeftDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.setCorner(Qt.Corner.BottomLeftCorner, L)
        self.setCorner(Qt.Corner.BottomRightCorner, B)
        d = self.docks
        for name, area in (
            ("controls", L),
            ("inspector", R),
            ("gradients", B),
            ("heatmap", B),
            ("loss", B),
            ("delta_hist", B),
        ):
            d[name].setFloating(False)
            self.addDockWidget(area, d[name])
        self.splitDockWidget(d["gradients"], d["heatmap"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["heatmap"], d["loss"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["loss"], d["delta_hist"], Qt.Orientation.Horizontal)
        for first, then in (
            ("loss", "accuracy"),
            ("inspector", "boundary"),
            ("delta_hist", "fprime_hist"),
            ("fprime_hist", "activation"),
        ):
            d[then].setFloating(False)
            self.tabifyDockWidget(d[first], d[then])
        lesson = self.findChild(QDockWidget, "lesson")
        if lesson is not None and not lesson.isHidden():  # an open lesson stays open
            lesson.setFloating(False)
            self.addDockWidget(R, lesson)
            self.tabifyDockWidget(d["inspector"], lesson)
        for dock in d.values():
            dock.show()
        self._raise_start_tabs()
        self._fix_tabs()

    def _raise_start_tabs(self) -> None:
        """The tabs in front at the start (a dock tabified later, e.g. the hidden Lesson
        dock, must not leave its neighbour in front instead)."""
        for name in ("loss", "delta_hist", "inspector"):
            self.docks[name].raise_()

    def _size_docks(self) -> None:
        """Start sizes, as fractions of the window (only effective once it has its size)."""
        d = self.docks
        w, h = self.width(), self.height()
        # the settings get the width of their longest choices ("softmax + cross-entropy")
        left = int(np.clip(0.27 * w, 345, 400))
        right = int(np.clip(0.2 * w, 260, 380))
        self.resizeDocks([d["controls"], d["inspector"]], [left, right], Qt.Orientation.Horizontal)
        self.resizeDocks([d["gradients"]], [int(h * 0.38)], Qt.Orientation.Vertical)
        bottom = w - left
        self.resizeDocks(
            [d["gradients"], d["heatmap"], d["loss"], d["delta_hist"]],
            [int(bottom * f) for f in (0.34, 0.22, 0.21, 0.23)],
            Qt.Orientation.Horizontal,
        )

    def _fix_tabs(self) -> None:
        """Tabs of tabified docks show their whole title (no eliding) and the full name as
        a tooltip.  Qt makes these tab bars lazily, so this runs after every layout change."""
        names = {dock.windowTitle(): dock.toolTip() for dock in self.findChildren(QDockWidget)}
        for bar in self.findChildren(QTabBar):
            if bar.parent() is not self:
                continue  # tab bars inside panels are theirs
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setExpanding(False)
            bar.setUsesScrollButtons(True)
            for i in range(bar.count()):
                bar.setTabToolTip(i, names.get(bar.tabText(i), "") or bar.tabText(i))

    def childEvent(self, event) -> None:
        super().childEvent(event)
        # Qt makes a tab bar whenever docks are tabified (by the user, a lesson, a reset)
        if event.added() and isinstance(event.child(), QTabBar):
            QTimer.singleShot(0, self, self._fix_tabs)

    def start_size(self) -> QSize:
        """:data:`DEFAULT_SIZE`, or the screen's available area if that is smaller."""
        screen = self.screen() or QApplication.primaryScreen()
        w, h = DEFAULT_SIZE
        if screen is not None:
            avail = screen.availableGeometry()
            w, h = min(w, avail.width()), min(h, avail.height())
        return QSize(w, h)

    def show_fitted(self) -> None:
        """Show the window; maximised when the screen is no larger than the default size
        (the window manager then fits it, title bar and panels included)."""
        screen = self.screen() or QApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        if avail is not None and (
            avail.width() <= DEFAULT_SIZE[0] or avail.height() <= DEFAULT_SIZE[1]
        ):
            self.showMaximized()
        else:
            self.show()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self, self._size_docks)
            QTimer.singleShot(0, self, self._raise_start_tabs)
            QTimer.singleShot(0, self, self._fix_tabs)

    def _action(
        self,
        text: str,
        slot,
        shortcut=None,
        tip: str = "",
        icon: QStyle.StandardPixmap | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the toolbar is hidden
        return action

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        c = self.controller
        self.act_play = self._action(
            "&Play",
            c.toggle_play,
            Qt.Key.Key_Space,
            "Play / pause training (Space)",
            SP.SP_MediaPlay,
        )
        self.act_step = self._action(
            "&Step",
            c.step,
            Qt.Key.Key_Right,
            "One mini-batch: forward, backward, update (\u2192)",
            SP.SP_MediaSeekForward,
        )
        self.act_phase = self._action(
            "Step &phase",
            c.step_phase,
            QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Right),
            "One phase: forward through a layer, the loss, backward through a layer, or the "
            "update (Shift+\u2192)",
            SP.SP_ArrowRight,
        )
        self.act_epoch = self._action(
            "Run one &epoch",
            c.run_epoch,
            QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Right),
            "Train to the end of the current epoch (Ctrl+\u2192)",
            SP.SP_MediaSkipForward,
        )
        self.act_reset = self._action(
            "&Reset",
            c.reset,
            Qt.Key.Key_R,
            "New random weights, empty history (R)",
            SP.SP_BrowserReload,
        )
        # triggered(bool) would pass ``checked`` as the path: call without arguments
        self.act_open = self._action(
            "&Open experiment\u2026",
            lambda: self.open_config(),
            QKeySequence.StandardKey.Open,
            "Load an experiment config (TOML or JSON)",
        )
        self.act_save = self._action(
            "&Save experiment as\u2026",
            lambda: self.save_config(),
            QKeySequence.StandardKey.Save,
            "Save the current settings as a TOML config",
        )
        self.act_export_plots = self._action(
            "&Export plots\u2026",
            self.export_plots_dialog,
            QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_E),
            "Write every panel as PNG and SVG into a folder",
        )
        self.act_export_window = self._action(
            "Export &window as PNG\u2026",
            self.export_window_dialog,
            None,
            "Screenshot of the whole window",
        )
        self.act_export_csv = self._action(
            "Export &metrics as CSV\u2026",
            self.export_metrics_dialog,
            None,
            "Loss, accuracy and per-layer gradient norms per step",
        )
        self.act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_reset_layout = self._action("Reset &layout", self.reset_layout)
        self.act_about = self._action("&About", self.about)
        self.act_guide = self._action(
            "How to &read this window", self.guide, QKeySequence.StandardKey.HelpContents
        )

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addActions([self.act_open, self.act_save])
        m.addSeparator()
        m.addActions([self.act_export_plots, self.act_export_window, self.act_export_csv])
        m.addSeparator()
        m.addAction(self.act_quit)
        m = bar.addMenu("&Run")
        m.addActions([self.act_play, self.act_step, self.act_phase, self.act_epoch, self.act_reset])
        m.addSeparator()
        speed_menu = m.addMenu("Spee&d")
        self._speed_actions = QActionGroup(self)
        for i, (label, _) in enumerate(SPEEDS):
            a = speed_menu.addAction(label)
            a.setCheckable(True)
            a.setData(i)
            self._speed_actions.addAction(a)
        self._speed_actions.triggered.connect(lambda a: self.set_speed_index(a.data()))
        self.presets_menu = bar.addMenu("Pre&sets")
        self._fill_presets()
        self.act_edge_weight = QAction("Colour edges by |W| instead of |dL/dW|", self)
        self.act_edge_weight.setCheckable(True)
        self.act_edge_weight.toggled.connect(
            lambda on: self.diagram.set_edge_mode("weight" if on else "grad")
        )
        self.view_menu = bar.addMenu("&View")
        # filled when opened: docks added later (the Lesson dock) are listed too
        self.view_menu.aboutToShow.connect(self._fill_view_menu)
        self._fill_view_menu()
        m = bar.addMenu("&Help")
        m.addActions([self.act_guide, self.act_about])

    def dock_widgets(self) -> list[QDockWidget]:
        """Every dock of the window: the panels' and any added later (e.g. the lesson)."""
        extra = [d for d in self.findChildren(QDockWidget) if d not in self.docks.values()]
        return [*self.docks.values(), *sorted(extra, key=lambda d: d.windowTitle())]

    def _fill_view_menu(self) -> None:
        """One show/hide entry per dock (full names), the toolbar, edge colours, reset."""
        m = self.view_menu
        m.clear()
        for dock in self.dock_widgets():
            action = dock.toggleViewAction()
            action.setText(dock.toolTip() or dock.windowTitle())
            if not action.property("raises"):
                # a dock shown again in a tab group comes to the front, or nothing seems
                # to happen
                action.setProperty("raises", True)
                action.triggered.connect(lambda on, d=dock: on and d.raise_())
            m.addAction(action)
        if hasattr(self, "toolbar"):
            m.addAction(self.toolbar.toggleViewAction())
        m.addSeparator()
        m.addAction(self.act_edge_weight)
        m.addSeparator()
        m.addAction(self.act_reset_layout)

    def _fill_presets(self) -> None:
        from engine.presets import list_presets

        menu = self.presets_menu
        menu.clear()
        try:
            presets = list_presets()
        except (ConfigError, OSError) as e:
            a = menu.addAction("(presets unavailable)")
            a.setEnabled(False)
            a.setToolTip(str(e))
            return
        if not presets:
            menu.addAction("(no presets)").setEnabled(False)
        for p in presets:
            if p.is_comparison:
                self._comparison_menu(menu.addMenu(p.title), p)
            else:
                menu.addAction(self._preset_action(p, p.title, ()))
        menu.setToolTipsVisible(True)

    def _comparison_menu(self, menu: QMenu, preset) -> None:
        """A comparison preset: every variant on its own, and all of them side by side.

        The file's own settings are the comparison's baseline (e.g. residual = false), so
        they are no entry of their own: loading them "as saved" showed the problem without
        the countermeasure the preset is named after.  The baseline variant says so.
        """
        menu.setToolTipsVisible(True)
        compare = menu.addAction("Compare all side by side\u2026")
        compare.setToolTip(_tooltip(preset.description))
        compare.triggered.connect(lambda _=False, p=preset: self.compare_preset(p))
        menu.addSeparator()
        saved = config_io.to_dict(preset.config())
        found = True
        for item in preset.vary:
            key, _, values = (part.strip() for part in item.partition("="))
            head, _, field = key.partition(".")
            current = saved.get(head, {}).get(field)
            values = [v.strip() for v in values.split(",")]
            found = found and any(_same_value(current, v) for v in values)
            for v in values:
                text = f"{field or key} = {v}"
                if _same_value(current, v):
                    text += " (baseline)"
                menu.addAction(self._preset_action(preset, text, (f"{key}={v}",)))
        if not found:  # the saved settings are none of the variants: offer them too
            menu.addAction(self._preset_action(preset, "Saved base settings", ()))

    def _preset_action(self, preset, text: str, overrides: tuple[str, ...]) -> QAction:
        a = QAction(text, self)
        a.setToolTip(_tooltip(preset.description))
        a.setStatusTip(_first_sentence(preset.description))
        a.triggered.connect(lambda _=False, n=preset.name, o=overrides: self.load_preset(n, o))
        return a

    def compare_preset(self, preset) -> None:
        """Open the compare window on a comparison preset's variants."""
        hooks = getattr(self, "teaching", None)
        if hooks is None:
            from gui import teaching

            teaching.install(self)
            hooks = self.teaching
        try:
            base = preset.config()
        except ConfigError as e:
            self._file_error("Cannot load the preset", str(preset.path), e)
            return
        hooks.open_compare(base, list(preset.vary))

    def _build_toolbar(self) -> None:
        tb = QToolBar("Transport")
        tb.setObjectName("transport")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setIconSize(QSize(18, 18))
        tb.addActions(
            [self.act_play, self.act_step, self.act_phase, self.act_epoch, self.act_reset]
        )
        tb.addSeparator()
        tb.addWidget(QLabel(" speed "))
        self.speed_box = QComboBox()
        for label, _ in SPEEDS:
            self.speed_box.addItem(label)
        self.speed_box.setToolTip("Cap on training steps per second (live)")
        self.speed_box.currentIndexChanged.connect(self.set_speed_index)
        tb.addWidget(self.speed_box)
        tb.addSeparator()
        hint = QLabel(
            "  Space play/pause \u00b7 \u2192 step \u00b7 Shift+\u2192 phase \u00b7 R reset"
        )
        hint.setStyleSheet("color: #777;")
        tb.addWidget(hint)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb
        self.set_speed_index(len(SPEEDS) - 1)

    def _build_status(self) -> None:
        self.readout = StatusReadout()
        self.busy = BusyIndicator(delay_ms=800)
        # permanent: hovering a button shows its status tip on the left, and would hide an
        # ordinary status-bar widget (the step/loss readout) for as long as the tip shows
        self.statusBar().addPermanentWidget(self.busy)
        self.statusBar().addPermanentWidget(self.readout)
        self._compile_banner = QTimer(self)
        self._compile_banner.setSingleShot(True)
        self._compile_banner.setInterval(1500)  # a warm start loads cached kernels in ~0.6 s
        self._compile_banner.timeout.connect(
            lambda: self.banner.show_message("info", "Compiling kernels\u2026", COMPILE_NOTE)
        )

    def _connect(self) -> None:
        c = self.controller
        c.snapshot_ready.connect(self._on_frame)
        c.running_changed.connect(self._on_running)
        c.compiling.connect(self._on_compiling)
        c.diverged.connect(self._on_diverged)
        c.error.connect(self._on_error)
        c.rebuilt.connect(self._on_rebuilt)
        c.config_reverted.connect(self._on_reverted)
        self.controls.config_changed.connect(self._on_config_edited)
        # after an edit (Enter) or a click on the network, Space / R / arrows are the
        # transport's again, not the last field's
        self.diagram.canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.controls.editing_done.connect(self.diagram.canvas.setFocus)
        self.diagram.layer_clicked.connect(self.select_layer)
        self.diagram.edge_mode_changed.connect(self._on_edge_mode)

    # --- controller -> window ----------------------------------------------------------------
    @Slot(object)
    def _on_frame(self, frame: Frame) -> None:
        """Keep only the newest frame; the render timer draws it."""
        self._latest = frame
        if frame.reason in ("phase", "step", "built", "select"):
            self._render()  # user-driven: draw now, do not wait for the timer
        elif not self._timer.isActive():
            wait = self._last_render + 1.0 / MAX_FPS - time.perf_counter()
            self._timer.start(max(0, int(1000 * wait)))

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        SP = QStyle.StandardPixmap
        self.act_play.setText("&Pause" if running else "&Play")
        self.act_play.setIcon(
            self.style().standardIcon(SP.SP_MediaPause if running else SP.SP_MediaPlay)
        )

    @Slot(bool)
    def _on_compiling(self, on: bool) -> None:
        self.busy.set_active(on)
        if on:
            self._compile_banner.start()
        else:
            self._compile_banner.stop()
            if self.banner.kind == "info":
                self.banner.clear()

    @Slot(object)
    def _on_diverged(self, divergence) -> None:
        self.banner.show_message(
            "error",
            "The run diverged",
            f"{divergence.message}.<br>{divergence.advice} "
            "Press R to start again with fresh weights.",
        )

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self._last_error = message
        self.banner.show_message("error", "Problem", _html_lines(message))

    @Slot(object)
    def _on_rebuilt(self, config: ExperimentConfig) -> None:
        if self.banner.kind == "error":
            self.banner.clear()
        self.setWindowTitle(f"Vanishing Gradient Lab \u2014 {config.name}")

    @Slot(object)
    def _on_reverted(self, config: ExperimentConfig | None) -> None:
        """A rebuild failed and the previous session keeps running.  The controls keep the
        rejected settings, so a wrong path or label column can be corrected in place."""
        message = self._last_error or "the experiment could not be built"
        self.controls.show_rejected(message)
        title = "Not applied" + (f": still running {config.name}" if config is not None else "")
        self.banner.show_message("error", html.escape(title), _html_lines(message))

    @Slot(object)
    def _on_config_edited(self, config: ExperimentConfig) -> None:
        if config == self.controller.config and self.banner.kind == "error":
            self.banner.clear()  # back to the running experiment: nothing is wrong now
        if self._preset_banner and self.banner.kind == "info":
            self.banner.clear()  # the preset's text no longer describes the settings
        self._preset_banner = False
        self.controller.apply_config(config)

    # --- rendering ---------------------------------------------------------------------------
    @Slot()
    def _render(self) -> None:
        """Draw the newest frame, if it is not on screen yet."""
        frame = self._latest
        if frame is None or frame.serial == self._drawn_serial:
            return
        self._drawn_serial = frame.serial
        self._last_render = time.perf_counter()
        if frame.generation != self._generation:
            self._new_architecture(frame)
        self._draw(frame)
        self.frames_drawn += 1

    def reset_panels(self) -> None:
        """Every panel back to empty: the one place where a rebuild forgets the old run.

        Each panel's ``reset`` drops its data and what was derived from it (layer labels,
        axis ranges, titles), so nothing of the previous network survives until the new
        one draws.
        """
        for panel in (
            self.gradient_chart,
            self.heatmap,
            self.loss_plot,
            self.accuracy_plot,
            self.delta_hist,
            self.fprime_hist,
            self.activation_view,
            self.boundary,
            self.inspector,
            self.diagram,
        ):
            panel.reset()
        self._panel_keys.clear()
        self._panel_times.clear()

    def _new_architecture(self, frame: Frame) -> None:
        """A new session: reset every panel, lay out the diagram again."""
        self._generation = frame.generation
        self.reset_panels()
        snap = frame.snapshot
        self.diagram.set_architecture(
            [frame.input_width, *snap.widths],
            ["", *snap.activations],
            [frame.input_label, *snap.layer_labels],
        )
        self._selected = min(self._selected, snap.depth)
        self.diagram.set_selected(self._selected)
        self.docks["boundary"].setEnabled(frame.boundary is not None)
        # an empty plot must say why: the boundary is drawn over the plane of 2-D inputs
        self.boundary.set_title(
            "Decision boundary"
            if frame.input_width == 2
            else f"2-D inputs only ({frame.input_width} here)"
        )

    def _visible(self, name: str) -> bool:
        """Is the dock on screen (not closed, not behind another tab)?  Hidden ones are
        remembered as stale and drawn when they come to the front."""
        dock = self.docks[name]
        shown = dock.isVisible() and not dock.visibleRegion().isEmpty()
        if not shown:
            self._stale.add(name)
        return shown

    def _catch_up(self, name: str) -> None:
        if name in self._stale and self._latest is not None:
            self._stale.discard(name)
            QTimer.singleShot(0, lambda: self._draw_panel(name, self._latest))

    def _due(self, name: str, frame: Frame, now: float) -> bool:
        """Should panel ``name`` be redrawn for ``frame``?

        User-driven frames redraw everything at once.  While playing, each panel has its own
        rate (:data:`PANEL_INTERVALS`): the per-layer views follow every frame, slow views
        (history, text) a few times a second, and views of the sampled batch arrays only when
        new arrays arrived.  The GUI thread then stays mostly idle, which keeps the GIL free
        for the training thread.
        """
        key = _content_key(name, frame)
        if key is not None and key == self._panel_keys.get(name):
            return False
        recent = now - self._panel_times.get(name, -math.inf) < PANEL_INTERVALS.get(name, 0.0)
        if recent and frame.running and frame.reason == "play":
            return False
        self._panel_keys[name] = key
        self._panel_times[name] = now
        return True

    def _draw(self, frame: Frame) -> None:
        snap = frame.snapshot
        now = time.perf_counter()
        self._draw_diagram(frame)
        for name in (
            "gradients",
            "heatmap",
            "loss",
            "accuracy",
            "inspector",
            "delta_hist",
            "fprime_hist",
            "activation",
            "boundary",
        ):
            if self._visible(name) and self._due(name, frame, now):
                self._draw_panel(name, frame)
        if self._due("status", frame, now):
            self.readout.set_data(
                snap.step,
                snap.epoch,
                phase_text(snap),
                snap.loss,
                snap.accuracy,
                snap.test_accuracy,
                snap.steps_per_second,
                frame.running,
            )

    def _draw_diagram(self, frame: Frame) -> None:
        self.panel_draws["network"] += 1
        snap = frame.snapshot
        done = snap.is_computed("grad_norm")
        if self.diagram.edge_mode == "grad":  # no gradient yet: grey edges, not faint ones
            edges = [e if done[k] else None for k, e in enumerate(frame.edge_grads)]
        else:
            edges = frame.edge_weights
        self.diagram.set_data(snap.layers["grad_norm"], edges, computed=done)
        if snap.phase == "idle":
            self.diagram.set_highlight(-1, None)
        else:
            self.diagram.set_highlight(snap.phase_layer, snap.phase)

    def _draw_panel(self, name: str, frame: Frame) -> None:
        self.panel_draws[name] += 1
        snap = frame.snapshot
        labels = list(snap.layer_labels)
        if name == "gradients":
            self.gradient_chart.set_data(
                {
                    "||dL/dW_k||": snap.layers["grad_norm"],
                    "||\u03b4_k||": snap.layers["delta_norm"],
                },
                labels,
                computed={
                    "||dL/dW_k||": snap.is_computed("grad_norm"),
                    "||\u03b4_k||": snap.is_computed("delta_norm"),
                },
            )
            for key in ("chain rule", "0.25^depth bound"):
                self.gradient_chart.set_overlay(key, frame.overlays.get(key))
        elif name == "heatmap":
            if snap.history_steps is not None and len(snap.history_steps):
                self.heatmap.set_data(snap.history_steps, snap.history_grad_norm, labels)
            else:
                self.heatmap.set_layers(labels)
        elif name in ("loss", "accuracy"):
            self._draw_curves(name, snap)
        elif name == "inspector":
            self._draw_inspector(frame)
        elif name in ("delta_hist", "fprime_hist"):
            key = "delta" if name == "delta_hist" else "fprime"
            values = frame.layer_arrays.get(key)
            panel = self.delta_hist if key == "delta" else self.fprime_hist
            layer = snap.layer_labels[min(frame.selected, snap.depth)]
            if values is None:
                panel.reset()  # before the title: a reset restores the first title
            panel.set_base_title(
                f"|\u03b4| = |dL/dz| of {layer}" if key == "delta" else f"f'(z) of {layer}"
            )
            if values is not None and key == "delta":
                panel.set_data(np.abs(values).ravel(), bins=50, log_x=True)
            elif values is not None:
                panel.set_data(np.asarray(values).ravel(), bins=50)
        elif name == "activation":
            k = min(frame.selected, snap.depth)
            act = snap.activations[k]
            param = frame.activation_params[k] if frame.activation_params else 0.0
            self.activation_view.set_activation(act, param)
            z = frame.layer_arrays.get("z")
            self.activation_view.set_preactivations(None if z is None else np.ravel(z))
        elif name == "boundary":
            b = frame.boundary
            if b is not None:
                self.boundary.set_data(b.xx, b.yy, b.scores, b.X, b.y)

    def _draw_curves(self, name: str, snap) -> None:
        col = 0 if name == "loss" else 1
        panel = self.loss_plot if name == "loss" else self.accuracy_plot
        d = snap.divergence
        panel.set_event(
            None if d is None else d.step, "" if d is None else f"diverged at step {d.step}"
        )
        steps, scalars = snap.history_steps, snap.history_scalars
        if steps is None or not len(steps):
            return
        # long histories: the panel clips to the view and peak-downsamples at paint time
        series = {"train (batch)": (steps, scalars[:, col])}
        if snap.eval_steps is not None and len(snap.eval_steps):
            series["test"] = (snap.eval_steps, snap.eval_scalars[:, col])
        panel.set_data(series)

    def _draw_inspector(self, frame: Frame) -> None:
        snap = frame.snapshot
        k = min(self._selected, snap.depth)
        # None: not computed yet (shown as a dash), unlike a NaN a computation produced
        values = {
            name: float(snap.layers[name][k]) if snap.is_computed(name)[k] else None
            for name in snap.layers
        }
        grads, done = snap.layers["grad_norm"], snap.is_computed("grad_norm")
        if k < snap.depth and done[k] and done[k + 1] and grads[k + 1] > 0:
            values["shrink"] = float(grads[k] / grads[k + 1])
        n_in = frame.input_width if k == 0 else snap.widths[k - 1]
        batch = snap.batch_size or frame.config.training.batch_size  # 0 before a step
        shapes = {"W": (n_in, snap.widths[k]), "z": (batch, snap.widths[k])}
        phase = snap.phase if (snap.phase != "idle" and snap.phase_layer == k) else None
        if phase is None and snap.phase == "update":
            phase = "update"
        r = snap.phase_result
        if r is not None and r.layer == k:  # exact numbers of the phase just computed
            values.update(
                {
                    "delta_norm": r.norms.get("delta", values["delta_norm"]),
                    "incoming_norm": r.norms.get("incoming", values["incoming_norm"]),
                    "grad_norm": r.norms.get("dW", values["grad_norm"]),
                    "fprime_mean": r.norms.get("fprime_mean", values["fprime_mean"]),
                }
            )
        act = snap.activations[k] if k < snap.depth else "output (loss applies softmax/sigmoid)"
        note = self._inspector_note(snap, k, values)
        self.inspector.set_data(snap.layer_labels[k], act, shapes, values, phase, note)

    @staticmethod
    def _inspector_note(snap, k: int, values: dict) -> str:
        """One sentence tying this layer's numbers to the output layer's."""
        g = snap.layers["grad_norm"]
        if k >= snap.depth or not (g[k] > 0 and g[snap.depth] > 0):
            if snap.phase != "idle":
                return f"Next: <b>{snap.next_phase}</b>."
            return ""
        ratio = g[k] / g[snap.depth]
        n = snap.depth - k
        text = (
            f"This layer's weight gradient is <b>{ratio:.1e}</b> \u00d7 the output "
            f"layer's: {n} factor{'s' if n != 1 else ''} of the chain rule between them."
        )
        if snap.phase != "idle":
            text += f"<br>Next: <b>{snap.next_phase}</b>."
        return text

    # --- user actions ------------------------------------------------------------------------
    @Slot(int)
    def select_layer(self, layer: int) -> None:
        """Inspect layer ``layer`` (0-based; L = output)."""
        self._selected = int(layer)
        self.diagram.set_selected(self._selected)
        self.controller.select_layer(self._selected)
        if self._latest is not None:
            self._draw_inspector(self._latest)

    @property
    def selected_layer(self) -> int:
        return self._selected

    def set_speed_index(self, index: int) -> None:
        """Pick one of :data:`SPEEDS` (keeps the toolbar box and the menu in step)."""
        index = int(index)
        with QSignalBlocker(self.speed_box):
            self.speed_box.setCurrentIndex(index)
        for a in self._speed_actions.actions():
            a.setChecked(a.data() == index)
        self.controller.set_speed(SPEEDS[index][1])

    def _on_edge_mode(self, mode: str) -> None:
        with QSignalBlocker(self.act_edge_weight):
            self.act_edge_weight.setChecked(mode == "weight")
        if self._latest is not None:
            self._draw_diagram(self._latest)

    def apply_config(self, config: ExperimentConfig) -> None:
        """Show ``config`` and rebuild the session for it."""
        self.banner.clear()
        self.controls.set_config(config)
        self.controller.rebuild(config)

    def load_preset(self, name: str, overrides: tuple[str, ...] = ()) -> None:
        from engine.presets import load_preset

        try:
            cfg = load_preset(name)
            if overrides:
                cfg = config_io.apply_overrides(cfg, overrides)
        except ConfigError as e:
            self._file_error("Cannot load the preset", f"preset {name}", e)
            return
        self.apply_config(cfg)
        if cfg.description:
            title = cfg.name.replace("_", " ") + "".join(f" \u00b7 {o}" for o in overrides)
            self.banner.show_message(
                "info", html.escape(title), _html_lines(cfg.description.strip())
            )
            self._preset_banner = True

    def open_config(self, path: str | os.PathLike | None = None) -> bool:
        """Load an experiment file (asks for one when ``path`` is None); True if loaded.

        Preset files open too (their ``title`` and ``[compare]`` table are set aside).  A bad
        file is reported in a message box naming the file and the field; the running
        experiment is left as it was.
        """
        from engine.presets import read_preset

        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self,
                "Open experiment",
                self._last_folder,
                "Experiment configs (*.toml *.json);;All files (*)",
            )
            if not path:
                return False
        self._last_folder = str(Path(path).parent)
        try:
            cfg, vary, _ = read_preset(path)
        except ConfigError as e:
            self._file_error("Cannot open the experiment", str(path), e)
            return False
        self.apply_config(cfg)
        note = f"Opened {path}"
        if vary:  # this window runs one network: say where the others are
            note += (
                f": the base of its comparison ({'; '.join(vary)}); Tools > Compare\u2026 "
                "runs the variants side by side"
            )
        self.statusBar().showMessage(note, 8000)
        return True

    def save_config(self, path: str | os.PathLike | None = None) -> bool:
        """Save the running experiment as TOML (or JSON by suffix), atomically; True if saved.

        Asks for the file when ``path`` is None; a name without a suffix gets the one of the
        chosen file type.
        """
        suffix = ".toml"
        if path is None:
            start = str(Path(self._last_folder) / f"{self.controller.config.name}.toml")
            path, kind = QFileDialog.getSaveFileName(
                self, "Save experiment", start, "TOML (*.toml);;JSON (*.json)"
            )
            if not path:
                return False
            suffix = ".json" if kind.startswith("JSON") else ".toml"
        path = str(path)
        if not Path(path).suffix:
            path += suffix
        try:
            # an edited experiment must not be saved under its old description
            config_io.save(self.controls.described(self.controller.config), path)
        except (ConfigError, OSError) as e:
            self._file_error("Cannot save the experiment", path, e)
            return False
        self._last_folder = str(Path(path).parent)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def _file_error(self, title: str, path: str, error: Exception) -> None:
        detail = (
            "\n".join(error.messages)
            if isinstance(error, ConfigError)
            else (getattr(error, "strerror", None) or str(error))
        )
        QMessageBox.warning(self, title, f"{title}:\n{path}\n\n{detail}")

    # --- export ------------------------------------------------------------------------------
    def plot_panels(self) -> dict[str, object]:
        """File stem -> panel, for every exportable plot."""
        return {
            "gradient_per_layer": self.gradient_chart,
            "gradient_heatmap": self.heatmap,
            "loss": self.loss_plot,
            "accuracy": self.accuracy_plot,
            "delta_histogram": self.delta_hist,
            "fprime_histogram": self.fprime_hist,
            "activation": self.activation_view,
            "decision_boundary": self.boundary,
        }

    def export_plots(self, folder: str | os.PathLike) -> list[Path]:
        """Write every panel as PNG and SVG (and the diagram) into ``folder``.

        All-or-nothing: files are written to a temporary folder next to the target and
        moved in only when every one succeeded.  Raises ``export.ExportError``/``OSError``.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise export.ExportError(f"{folder}: not a folder")
        if self._latest is not None:  # every panel up to date, including hidden tabs
            for name in self.docks:
                if name != "controls":
                    self._draw_panel(name, self._latest)
        tmp = Path(tempfile.mkdtemp(prefix=".vglab-export-", dir=folder))
        try:
            for stem, panel in self.plot_panels().items():
                for suffix in (".png", ".svg"):
                    export.export_plot(panel.plot, tmp / f"{stem}{suffix}")
            self.export_diagram(tmp / "network.png")
            self.export_diagram(tmp / "network.svg")
            written = []
            for f in sorted(tmp.iterdir()):
                target = folder / f.name
                os.replace(f, target)
                written.append(target)
            return written
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def export_diagram(self, path: str | os.PathLike) -> Path:
        """The whole network diagram (every column, scrolled or not) as PNG or SVG."""
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise export.ExportError(
                f"{path}: unsupported format {suffix or '(none)'!r}; use .png or .svg", path
            )
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        if suffix == ".png":
            ok = self.diagram.render_pixmap().save(buf, "PNG")
        else:
            gen = QSvgGenerator()
            gen.setOutputDevice(buf)
            gen.setSize(self.diagram.canvas.size())
            gen.setViewBox(self.diagram.canvas.rect())
            gen.setTitle("Vanishing Gradient Lab: network")
            painter = QPainter(gen)
            try:
                self.diagram.render_to(painter)
            finally:
                ok = painter.end()
        buf.close()
        if not ok or data.isEmpty():
            raise export.ExportError(f"{path}: could not render the network diagram", path)
        return export.atomic_write_bytes(path, bytes(data.data()))

    # --- context menus -----------------------------------------------------------------------
    def _install_context_menus(self) -> None:
        """Right-click on any plot (or the diagram): export it as PNG or SVG, copy it.

        The panels switch pyqtgraph's own menu off; this one writes through gui.export, so
        files are atomic and errors name the file.
        """
        for stem, panel in self.plot_panels().items():
            view = panel.plot
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(
                lambda pos, s=stem, p=panel: self._plot_menu(s, p, p.plot.mapToGlobal(pos))
            )
        canvas = self.diagram.canvas
        canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        canvas.customContextMenuRequested.connect(
            lambda pos: self._plot_menu("network", None, canvas.mapToGlobal(pos))
        )

    def plot_menu(self, stem: str, panel) -> QMenu:
        """The context menu of one plot (``panel`` None: the network diagram)."""
        menu = QMenu(self)
        for suffix in (".png", ".svg"):
            menu.addAction(
                f"Export as {suffix[1:].upper()}…",
                lambda _=False, x=suffix: self.export_one_dialog(stem, panel, x),
            )
        menu.addAction("Copy image", lambda: self._copy_image(panel))
        if panel is not None:
            menu.addSeparator()
            menu.addAction("Fit to data", lambda: panel.plot.getPlotItem().autoRange())
        return menu

    def _plot_menu(self, stem: str, panel, global_pos) -> None:
        self.plot_menu(stem, panel).exec(global_pos)

    def export_one(self, stem: str, panel, path: str | os.PathLike) -> Path:
        """Write one plot (or the diagram when ``panel`` is None) to ``path``."""
        if panel is None:
            return self.export_diagram(path)
        return export.export_plot(panel.plot, path)

    def export_one_dialog(self, stem: str, panel, suffix: str) -> None:
        kind = "PNG (*.png)" if suffix == ".png" else "SVG (*.svg)"
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", f"{stem}{suffix}", kind)
        if not path:
            return
        if not Path(path).suffix:
            path += suffix
        try:
            self.export_one(stem, panel, path)
        except (export.ExportError, OSError) as e:
            self._file_error("Cannot export the plot", path, e)
            return
        self.statusBar().showMessage(f"Wrote {path}", 4000)

    def _copy_image(self, panel) -> None:
        pixmap = self.diagram.render_pixmap() if panel is None else panel.grab()
        QApplication.clipboard().setPixmap(pixmap)

    def export_plots_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export plots to folder")
        if not folder:
            return
        try:
            written = self.export_plots(folder)
        except (export.ExportError, OSError) as e:
            self._file_error("Cannot export the plots", folder, e)
            return
        self.statusBar().showMessage(f"Wrote {len(written)} files to {folder}", 5000)

    def export_window_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export window", "vglab-window.png", "PNG (*.png)"
        )
        if not path:
            return
        try:
            export.export_widget_png(self, path)
        except (export.ExportError, OSError) as e:
            self._file_error("Cannot export the window", path, e)

    def metrics_table(self) -> tuple[list[str], list[list[float]]]:
        """(header, rows) of the recorded history: one row per recorded step."""
        frame = self._latest
        if frame is None or frame.snapshot.history_steps is None:
            return ["step"], []
        snap = frame.snapshot
        header = [
            "step",
            "loss",
            "accuracy",
            "grad_global_norm",
            "learning_rate",
            "test_loss",
            "test_accuracy",
        ]
        header += [f"grad_norm_{lbl.replace(' ', '_')}" for lbl in snap.layer_labels]
        test = {int(s): row for s, row in zip(snap.eval_steps, snap.eval_scalars, strict=True)}
        rows = []
        for i, step in enumerate(snap.history_steps):
            t = test.get(int(step), (math.nan, math.nan))
            rows.append(
                [
                    int(step),
                    *map(float, snap.history_scalars[i]),
                    *map(float, t),
                    *map(float, snap.history_grad_norm[i]),
                ]
            )
        return header, rows

    def export_metrics(self, path: str | os.PathLike) -> Path:
        header, rows = self.metrics_table()
        export.export_csv(path, header, rows)
        return Path(path)

    def export_metrics_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export metrics", "vglab-metrics.csv", "CSV (*.csv)"
        )
        if not path:
            return
        try:
            self.export_metrics(path)
        except (export.ExportError, OSError) as e:
            self._file_error("Cannot export the metrics", path, e)

    # --- misc --------------------------------------------------------------------------------
    def reset_layout(self) -> None:
        """Every dock back where the window started, at the start sizes; toolbar shown."""
        self._arrange_docks()
        self.toolbar.show()
        self._size_docks()
        QTimer.singleShot(0, self, self._fix_tabs)

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Vanishing Gradient Lab",
            "<b>Vanishing Gradient Lab</b><br>Watch, layer by layer, why deep "
            "networks stop learning: the backward pass multiplies one factor "
            "f'(z) \u00b7 W per layer, and with sigmoid f' \u2264 0.25.",
        )

    def guide(self) -> None:
        QMessageBox.information(
            self,
            "How to read this window",
            "<b>Network</b>: columns are layers; edge colour and width show |dL/dW| on a log "
            "scale, so a vanishing gradient fades out towards the input. Click a layer to "
            "inspect it.<br><br><b>Gradient per layer</b>: ||dL/dW_k|| for every layer; a "
            "straight falling line on the log axis means a constant shrink factor per layer."
            "<br><br><b>Heatmap</b>: the same over time.<br><br><b>Inspector</b>: the chain "
            "rule for the selected layer, \u03b4_k = (\u03b4_(k+1) W^T) \u00b7 f'(z_k), in "
            "numbers.<br><br><b>Step phase</b> (Shift+\u2192) runs one layer of the forward "
            "or backward pass at a time.",
        )

    def closeEvent(self, event) -> None:
        self._timer.stop()
        # False when the worker is stuck in a cold Numba compilation; app.main then exits hard
        self.worker_stopped = self.controller.shutdown(timeout_ms=3000)
        super().closeEvent(event)
