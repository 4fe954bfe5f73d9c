"""The main window: the shell that holds the panels, menus, toolbar and status bar.

Data flows one way.  The :class:`~gui.controller.Controller` emits frames from its worker
thread; a :class:`~gui.window_parts.FramePacer` keeps only the latest one and draws it at a
bounded rate (``MAX_FPS``), so the GUI never falls behind training and never redraws a stale
state.  Panels never talk to each other.  The window is put together from parts, each in
its own file:

* :mod:`gui.frame_view` (Qt-free): a frame -> the arrays and strings each panel takes, and
  when each panel is due; :mod:`gui.inspector_model` (Qt-free): the inspector's numbers;
* :mod:`gui.main_drawing`: hands those to the panels; :mod:`gui.dock_layout`: the docks,
  their start layout and the View menu; :mod:`gui.main_menus`: File, Presets and Help;
* :mod:`gui.export_controller`: plots, diagram, window and CSV exports with their dialogs and
  context menus (shared with the compare window, as is :mod:`gui.window_parts`).

The controls emit configs; the controller decides between a live change and a rebuild.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from functools import partial
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QSignalBlocker, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from engine.config import ConfigError, ExperimentConfig
from gui import export, main_menus
from gui import frame_view as fv
from gui.controller import Controller, default_config
from gui.dock_layout import DockLayout
from gui.export_controller import ExportController, file_error
from gui.frame_view import RedrawSchedule, phase_text
from gui.i18n import LanguageMenu, Retranslatable, translate
from gui.main_drawing import FrameDrawing
from gui.main_menus import ExperimentFiles
from gui.panels.activation_view import ActivationView
from gui.panels.controls import Controls
from gui.panels.curves import CurvePlot
from gui.panels.decision_boundary import DecisionBoundary
from gui.panels.gradient_chart import GradientChart
from gui.panels.heatmap import LayerHeatmap
from gui.panels.histogram import HistogramPanel
from gui.panels.inspector import Inspector
from gui.panels.jacobian_spectrum import JacobianSpectrum
from gui.panels.network_diagram import NetworkDiagram
from gui.panels.phase_diagram import PhaseDiagram
from gui.panels.status import Banner, BusyIndicator, StatusReadout
from gui.phase_link import PhaseLink
from gui.transport import retranslate_transport, transport_actions
from gui.window_parts import (
    FramePacer,
    PacedWindow,
    add_action,
    html_lines,
    show_running,
    transport_toolbar,
)
from gui.worker import SPEEDS

__all__ = ["MainWindow", "phase_text"]

FPS = 30  # frames the controller sends per second (it sends 20% more: gui.pacing)
MAX_FPS = 40  # hard cap on redraws per second, whatever arrives
#: what the transport commands do in this window (see gui.transport.TRANSPORT)
TRANSPORT_TIPS = {
    "act_play": QT_TRANSLATE_NOOP("MainWindow", "Play / pause training (Space)"),
    "act_step": QT_TRANSLATE_NOOP(
        "MainWindow", "One mini-batch: forward, backward, update (\u2192)"
    ),
    "act_phase": QT_TRANSLATE_NOOP(
        "MainWindow",
        "One phase: forward through a layer, the loss, backward through a layer, or "
        "the update (Shift+\u2192)",
    ),
    "act_epoch": QT_TRANSLATE_NOOP(
        "MainWindow", "Train to the end of the current epoch (Ctrl+\u2192)"
    ),
    "act_reset": QT_TRANSLATE_NOOP("MainWindow", "New random weights, empty history (R)"),
}
COMPILE_NOTE = QT_TRANSLATE_NOOP(
    "MainWindow",
    "Numba compiles the training kernels on the very first start (under a minute, in another "
    "process) and caches them on disk; training runs on NumPy meanwhile (the same numbers, "
    "slower) and switches to the kernels by itself.",
)


class MainWindow(
    PacedWindow, DockLayout, FrameDrawing, ExperimentFiles, Retranslatable, QMainWindow
):
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
        # a redraw follows each new frame but never sooner than 1/MAX_FPS after the previous
        self.pacer = FramePacer(
            self, self._draw_frame, MAX_FPS, ("phase", "step", "built", "select")
        )
        self._generation = -1
        self._selected = 0
        self._stale: set[str] = set()  # panels hidden during a redraw
        self.schedule = RedrawSchedule()
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
        self.retranslate_ui()
        self.exports.install_context_menus()
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
        self.loss_plot = CurvePlot(
            QT_TRANSLATE_NOOP("Plots", "Loss"), QT_TRANSLATE_NOOP("Plots", "loss"), log_y=True
        )
        self.accuracy_plot = CurvePlot(
            QT_TRANSLATE_NOOP("Plots", "Accuracy"), QT_TRANSLATE_NOOP("Plots", "accuracy")
        )
        self.delta_hist = HistogramPanel(
            QT_TRANSLATE_NOOP("Plots", "|\u03b4_k| = |dL/dz_k| of the selected layer"),
            QT_TRANSLATE_NOOP("Plots", "|\u03b4| (log scale)"),
        )
        self.fprime_hist = HistogramPanel(
            QT_TRANSLATE_NOOP("Plots", "f'(z_k) of the selected layer"), "f'(z)"
        )
        self.activation_view = ActivationView()
        self.boundary = DecisionBoundary()
        self.phase_diagram = PhaseDiagram()
        self.phase_link = PhaseLink(self.phase_diagram, self)
        self.jacobian_spectrum = JacobianSpectrum()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(4)
        layout.addWidget(self.banner)
        layout.addWidget(self.diagram, 1)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        acts = transport_actions(partial(add_action, self), self.controller, TRANSPORT_TIPS)
        self.transport = list(acts.values())
        self.act_play, self.act_step, self.act_phase, self.act_epoch, self.act_reset = acts.values()
        self.exports = ExportController(self, self.plot_panels, self.diagram, self.draw_all)
        x = self.exports
        # triggered(bool) would pass ``checked`` as the path: call without arguments
        self.act_open = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "&Open experiment\u2026"),
            lambda: self.open_config(),
            QKeySequence.StandardKey.Open,
            QT_TRANSLATE_NOOP("MainWindow", "Load an experiment config (TOML or JSON)"),
        )
        self.act_save = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "&Save experiment as\u2026"),
            lambda: self.save_config(),
            QKeySequence.StandardKey.Save,
            QT_TRANSLATE_NOOP("MainWindow", "Save the current settings as a TOML config"),
        )
        self.act_export_plots = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "&Export plots\u2026"),
            x.export_plots_dialog,
            QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_E),
            QT_TRANSLATE_NOOP("MainWindow", "Write every panel as PNG and SVG into a folder"),
        )
        self.act_export_window = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "Export &window as PNG\u2026"),
            x.export_window_dialog,
            None,
            QT_TRANSLATE_NOOP("MainWindow", "Screenshot of the whole window"),
        )
        self.act_export_csv = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "Export &metrics as CSV\u2026"),
            self.export_metrics_dialog,
            None,
            QT_TRANSLATE_NOOP("MainWindow", "Loss, accuracy and per-layer gradient norms per step"),
        )
        self.act_quit = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "&Quit"), self.close, QKeySequence.StandardKey.Quit
        )
        self.act_reset_layout = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "Reset &layout"), self.reset_layout
        )
        self.act_about = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "&About"), lambda: main_menus.about(self)
        )
        self.act_guide = self._act(
            QT_TRANSLATE_NOOP("MainWindow", "How to &read this window"),
            lambda: main_menus.guide(self),
            QKeySequence.StandardKey.HelpContents,
        )

    def _act(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        """An action of the window whose ``text`` and ``tip`` (marked source texts) follow
        the language (:func:`gui.main_menus.retranslate_menus`)."""
        return main_menus.mark(add_action(self, text, slot, shortcut, tip), text, tip)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = main_menus.add_menu(bar, "File")
        m.addActions([self.act_open, self.act_save])
        m.addSeparator()
        m.addActions([self.act_export_plots, self.act_export_window, self.act_export_csv])
        m.addSeparator()
        m.addAction(self.act_quit)
        m = main_menus.add_menu(bar, "Run")
        m.addActions([self.act_play, self.act_step, self.act_phase, self.act_epoch, self.act_reset])
        m.addSeparator()
        speed_menu = main_menus.add_menu(m, "Speed")
        self._speed_actions = QActionGroup(self)
        for i, (label, _) in enumerate(SPEEDS):
            a = speed_menu.addAction(label)
            a.setCheckable(True)
            a.setData(i)
            self._speed_actions.addAction(a)
        self._speed_actions.triggered.connect(lambda a: self.set_speed_index(a.data()))
        self.presets_menu = main_menus.add_menu(bar, "Presets")
        main_menus.fill_presets(self, self.presets_menu)
        main_menus.add_tools(self, bar)
        self.act_edge_weight = main_menus.mark(
            QAction(self), QT_TRANSLATE_NOOP("MainWindow", "Colour edges by |W| instead of |dL/dW|")
        )
        self.act_edge_weight.setCheckable(True)
        self.act_edge_weight.toggled.connect(
            lambda on: self.diagram.set_edge_mode("weight" if on else "grad")
        )
        self.view_menu = main_menus.add_menu(bar, "View")
        # filled when opened: docks added later (the Lesson dock) are listed too
        self.view_menu.aboutToShow.connect(self._fill_view_menu)
        self._fill_view_menu()
        self.language_menu = LanguageMenu(bar)  # in front of Help
        bar.addMenu(self.language_menu)
        m = main_menus.add_menu(bar, "Help")
        m.addActions([self.act_guide, self.act_about])

    def retranslate_ui(self) -> None:
        """The menu titles, the transport and its keys hint in the current language (the
        pattern of :mod:`gui.i18n`; the panels retranslate themselves)."""
        main_menus.retranslate_menus(self)
        self.retranslate_docks()
        if getattr(self, "_latest", None) is not None:
            self.draw_all()  # titles built from the frame (the histograms' layer names)
        retranslate_transport(self, TRANSPORT_TIPS, "MainWindow")
        self.keys_hint.setText(
            translate(
                "MainWindow",
                "  Space play/pause \u00b7 \u2192 step \u00b7 Shift+\u2192 phase \u00b7 R reset",
            )
        )

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
            file_error(self, "Cannot load the preset", str(preset.path), e)
            return
        hooks.open_compare(base, list(preset.vary))

    def _build_toolbar(self) -> None:
        tb, self.speed_box = transport_toolbar(
            self, "Transport", "transport", self.transport, SPEEDS
        )
        self.speed_box.currentIndexChanged.connect(self.set_speed_index)
        tb.addSeparator()
        self.keys_hint = hint = QLabel()  # its text: retranslate_ui
        hint.setStyleSheet("color: #777;")
        tb.addWidget(hint)
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
            lambda: self.banner.show_translated(
                "info",
                lambda: (
                    translate(
                        "MainWindow",
                        "Compiling kernels (first run only) \u2014 running on NumPy meanwhile",
                    ),
                    translate("MainWindow", COMPILE_NOTE),
                ),
            )
        )

    def _connect(self) -> None:
        c = self.controller
        c.snapshot_ready.connect(self.pacer.push)
        c.running_changed.connect(self._on_running)
        c.compiling.connect(self._on_compiling)
        c.diverged.connect(self._on_diverged)
        c.error.connect(self._on_error)
        c.rebuilt.connect(self._on_rebuilt)
        c.config_reverted.connect(self._on_reverted)
        self.controls.config_changed.connect(self._on_config_edited)
        # a click on the phase diagram edits the settings like a typed value
        self.phase_link.init_chosen.connect(self.controls.apply_values)
        # after an edit (Enter) or a click on the network, Space / R / arrows are the
        # transport's again, not the last field's
        self.diagram.canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.controls.editing_done.connect(self.diagram.canvas.setFocus)
        self.diagram.layer_clicked.connect(self.select_layer)
        self.diagram.edge_mode_changed.connect(self._on_edge_mode)
        # J is computed (in the worker) only while its panel is on screen
        self.docks["jacobian"].visibilityChanged.connect(c.want_jacobian)

    # --- controller -> window ----------------------------------------------------------------
    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        show_running(self.act_play, running)

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
        self.banner.show_translated(
            "error",
            lambda: (
                translate("MainWindow", "The run diverged"),
                translate(
                    "MainWindow", "{0}.<br>{1} Press R to start again with fresh weights."
                ).format(divergence.message, divergence.advice),
            ),
        )

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self._last_error = message
        self.banner.show_translated(
            "error", lambda: (translate("MainWindow", "Problem"), html_lines(message))
        )

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

        def make() -> tuple[str, str]:
            title = translate("MainWindow", "Not applied")
            if config is not None:
                title = translate("MainWindow", "Not applied: still running {0}").format(
                    config.name
                )
            return html.escape(title), html_lines(message)

        self.banner.show_translated("error", make)

    @Slot(object)
    def _on_config_edited(self, config: ExperimentConfig) -> None:
        if config == self.controller.config and self.banner.kind == "error":
            self.banner.clear()  # back to the running experiment: nothing is wrong now
        if self._preset_banner and self.banner.kind == "info":
            self.banner.clear()  # the preset's text no longer describes the settings
        self._preset_banner = False
        self.controller.apply_config(config)

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
            "phase_diagram": self.phase_diagram,
            "jacobian_spectrum": self.jacobian_spectrum,
        }

    def export_plots(self, folder: str | os.PathLike) -> list[Path]:
        """Every panel as PNG and SVG and the diagram into ``folder`` (all or nothing)."""
        return self.exports.export_plots(folder)

    def export_diagram(self, path: str | os.PathLike) -> Path:
        """The whole network diagram as PNG or SVG."""
        return self.exports.export_diagram(path)

    def plot_menu(self, stem: str, panel):
        """The context menu of one plot (``panel`` None: the network diagram)."""
        return self.exports.plot_menu(stem, panel)

    def metrics_table(self) -> tuple[list[str], list[list[float]]]:
        """(header, rows) of the recorded history: one row per recorded step."""
        return fv.metrics_table(self._latest)

    def export_metrics(self, path: str | os.PathLike) -> Path:
        """The recorded history as CSV (:meth:`metrics_table`)."""
        return export.export_csv(path, *self.metrics_table())

    def export_plots_dialog(self) -> None:
        self.exports.export_plots_dialog()

    def export_metrics_dialog(self) -> None:
        self.exports.export_table_dialog(
            "Export metrics", "vglab-metrics.csv", "the metrics", self.metrics_table
        )

    # --- misc --------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.pacer.stop()
        for name in ("recurrent_window", "sweep_window"):  # their closeEvents stop their
            other = getattr(self, name, None)  # workers and pools; hidden with us, they would not
            if other is not None:
                other.close()
        # False when the worker is stuck in a cold Numba compilation; app.main then exits hard
        self.worker_stopped = self.controller.shutdown(timeout_ms=3000)
        super().closeEvent(event)
