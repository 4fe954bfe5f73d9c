"""The "Recurrent" mode: a vanilla RNN, an LSTM and a GRU trained in lock-step, through time.

1 to 3 cells of one recurrent config (engine.recurrent) train together in the one training
worker (:class:`~gui.recurrent_controller.RecurrentController`, a
:class:`~engine.compare.CompareSession` of ``recurrent.cell=...`` variants).  The window
shows what makes the gradient vanish through time and what keeps it:

* the unrolled diagram (one row per cell, one box h_t per time step, coloured by
  ||dL/dh_t||), which marks the time step a step-through just computed;
* ||dL/dh_t|| against t on a log axis, one colour per cell (the headline chart);
* the gate carrier per time step (LSTM forget gate, GRU update gate, the RNN's mean f');
* each cell's time x training-step heatmap, all on one colour scale;
* the training loss and the test metric against its baseline; the summary table;
* the step inspector: the per-step factor of the backward step just run.

A :class:`~gui.window_parts.FramePacer` draws the newest frame at a bounded rate; the panels
get plain arrays from the Qt-free :mod:`gui.recurrent_view`.
"""

from __future__ import annotations

import html
import math
import os
import time
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

from engine.config import ConfigError, ExperimentConfig, updated
from gui import export, theme
from gui import recurrent_view as rv
from gui import window_parts as parts
from gui.export_controller import ExportController
from gui.panels.heatmap import shared_levels
from gui.recurrent_controller import RecurrentController, RecurrentFrame
from gui.recurrent_layout import RecurrentLayout
from gui.transport import transport_actions
from gui.unrolled_view import unrolled_view
from gui.worker import SPEEDS

__all__ = ["RecurrentWindow", "default_config"]

FPS = 30
#: while playing, seconds between redraws of the heavier panels (the others: every frame)
SLOW_INTERVAL = 0.25
DEFAULT_SIZE = (1500, 960)
DEFAULT_PRESET = "recurrent_adding"
COMPILE_TITLE = (
    "Compiling the recurrent kernels (first run only, about 1-2 minutes; cached afterwards)"
)
COMPILE_NOTE = (
    "Numba compiles the RNN, LSTM and GRU kernels into its on-disk cache, in a process of "
    "its own. Every control works meanwhile: Play, Step and the settings take effect as "
    "soon as the kernels are in, and this notice goes away by itself."
)
TRANSPORT_TIPS = {
    "act_play": "Train every cell together (Space)",
    "act_step": "One mini-batch for every cell",
    "act_phase": "One phase for every cell: forward through a layer, the loss, backward "
    "through ONE time step, the update",
    "act_epoch": "Train to the end of the current epoch (Ctrl+\u2192)",
    "act_reset": "Fresh weights for every cell, empty history",
}


def default_config() -> ExperimentConfig:
    """The adding problem of the ``recurrent_adding`` preset (a minimal one if unreadable)."""
    from engine.presets import load_preset

    try:
        return load_preset(DEFAULT_PRESET)
    except (ConfigError, OSError):
        return updated(
            ExperimentConfig(name="recurrent"),
            **{"recurrent.cell": "rnn", "model.loss": "mse", "model.depth": 1},
        )


class RecurrentWindow(parts.PacedWindow, RecurrentLayout, QMainWindow):
    """RNN vs LSTM vs GRU through time, trained together off the GUI thread."""

    def __init__(
        self,
        config: ExperimentConfig | None = None,
        cells=rv.CELLS,
        parent: QWidget | None = None,
        start: bool = True,
        fps: float = FPS,
    ):
        super().__init__(parent)
        self.config = config if config is not None else default_config()
        self.cells = tuple(cells)
        self.controller = RecurrentController(fps=fps, parent=self)
        self.pacer = parts.FramePacer(self, self._draw_frame, fps, ("step", "phase", "built"))
        self._generation = -1
        self._slow_time = -math.inf
        self._last_error = ""
        self.setWindowTitle("Recurrent nets: RNN vs LSTM vs GRU \u2014 Vanishing Gradient Lab")
        self.exports = ExportController(self, self.plot_panels)
        self._build_panels()
        self._build_docks()
        self._build_toolbar()
        self._build_menus()
        self._build_status()
        self._connect()
        self.exports.install_context_menus()
        self.resize(parts.start_size(self, DEFAULT_SIZE))
        self._arranged = False
        self._table_sized = False
        if start:
            self.load(self.config, self.cells)

    def __repr__(self) -> str:
        return f"RecurrentWindow({self.config.name!r}, cells={self.cells})"

    # --- building ----------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        acts = transport_actions(partial(parts.add_action, self), self.controller, TRANSPORT_TIPS)
        for attr, action in acts.items():
            setattr(self, attr, action)  # act_play, act_step, act_phase, act_epoch, act_reset
        tb, self.speed_box = parts.transport_toolbar(
            self, "Recurrent", "recurrent-transport", list(acts.values()), SPEEDS
        )
        self.act_export = parts.add_action(
            self, "Export all\u2026", partial(
                self.exports.folder_dialog, "Export the recurrent nets into a folder",
                "the recurrent nets", self.export_all, 6000,
            ), QKeySequence("Ctrl+E"),
            "Every chart as PNG and SVG, the diagram and the window as PNG, ||dL/dh_t|| and "
            "the summary as CSV, into one folder", parts.SP.SP_DialogSaveButton,
        )  # fmt: skip
        tb.addSeparator()
        tb.addAction(self.act_export)

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        m.addAction(self.act_export)
        self.act_export_window = m.addAction(
            "Export window as PNG\u2026", self.exports.export_window_dialog
        )
        self.act_export_grad = m.addAction(
            "Export ||dL/dh_t|| as CSV\u2026",
            lambda: self.exports.export_table_dialog(
                "Export ||dL/dh_t||", "grad_h.csv", "the gradients", self.grad_h_table
            ),
        )
        self.act_export_summary = m.addAction(
            "Export summary as CSV\u2026",
            lambda: self.exports.export_table_dialog(
                "Export summary", "summary.csv", "the summary", self.summary_table
            ),
        )
        self.act_export_lengths = m.addAction(
            "Export test metric vs length as CSV\u2026",
            lambda: self.exports.export_table_dialog(
                "Export test metric vs length", "length_curve.csv", "the curve",
                self.length_tab.table,
            ),
        )  # fmt: skip
        m.addSeparator()
        m.addAction("&Close", self.close, QKeySequence.StandardKey.Close)
        run = self.menuBar().addMenu("&Run")
        run.addActions([self.act_play, self.act_step, self.act_phase, self.act_epoch])
        run.addAction(self.act_reset)

    def _connect(self) -> None:
        c = self.controller
        c.frame_ready.connect(self.pacer.push)
        c.running_changed.connect(lambda on: parts.show_running(self.act_play, on))
        c.error.connect(self._on_error)
        c.reverted.connect(self._on_reverted)
        c.busy.connect(self._on_busy)
        c.compiling.connect(self._on_compiling)
        c.diverged.connect(self._on_diverged)
        self.speed_box.currentIndexChanged.connect(
            lambda i: self.controller.set_speed(SPEEDS[i][1])
        )
        self.setup.changed.connect(self._on_setup)
        self.setup.rejected.connect(
            lambda m: self.banner.show_message("error", "Not applied", parts.html_lines(m))
        )
        self.diagram.time_clicked.connect(self.show_time)
        self.inspect_box.currentIndexChanged.connect(lambda _: self._redraw_inspector())

    # --- setup -------------------------------------------------------------------------------
    def load(self, config: ExperimentConfig, cells=rv.CELLS, note: str = "") -> bool:
        """Show ``config`` and build its ``cells``; False (and the fields' messages) if the
        config does not validate.  ``note``: a banner (what a preset runs)."""
        from engine.config import validate

        cells = tuple(c for c in rv.CELLS if c in cells) or (config.recurrent.cell,)
        try:
            config = validate(config)
            if config.recurrent.cell == "none":
                raise ConfigError(['recurrent.cell: expected "rnn", "lstm" or "gru"'])
        except ConfigError as e:
            self.banner.show_message(
                "error", "Cannot run these settings", parts.html_lines("\n".join(e.errors))
            )
            return False
        self.config, self.cells = config, cells
        self.setup.set_config(config, cells)
        self.base_label.setText(html.escape(rv.base_text(config)))
        if note:
            title = html.escape(config.name.replace("_", " "))
            self.banner.show_message("info", title, parts.html_lines(note))
        else:
            self._clear_banner()
        self.controller.start()
        self.controller.build(config, cells)
        return True

    @Slot(object, object, bool)
    def _on_setup(self, config: ExperimentConfig, cells, live: bool) -> None:
        self.config, self.cells = config, tuple(cells)
        self.base_label.setText(html.escape(rv.base_text(config)))
        if live:
            self.controller.set_learning_rate(config.training.learning_rate)
        else:
            self._clear_banner()
            self.controller.build(config, self.cells)  # built in the worker: no freeze

    # --- controller -> window ----------------------------------------------------------------
    @Slot(str)
    def _on_error(self, message: str) -> None:
        self._last_error = message
        self.banner.show_message("error", "Problem", parts.html_lines(message))

    @Slot(object)
    def _on_reverted(self, spec) -> None:
        """A build failed: the controls go back to what still runs, the message stays."""
        if spec is not None:
            self.config, self.cells = spec
            self.setup.set_config(*spec)
            self.base_label.setText(html.escape(rv.base_text(self.config)))
        self.setup.show_rejected(self._last_error)

    @Slot(bool)
    def _on_busy(self, on: bool) -> None:
        self.busy_label.setText("building and compiling\u2026" if on else "")

    @Slot(bool)
    def _on_compiling(self, on: bool) -> None:
        """The cells wait for their kernels: say so at once; the notice goes when they are in."""
        self.compile_busy.set_active(on)
        if on:
            self.banner.show_message("info", COMPILE_TITLE, COMPILE_NOTE)
        elif COMPILE_TITLE in self.banner.title.text():
            self.banner.clear()

    def _clear_banner(self) -> None:
        """Clear the banner, but for the compile notice while the kernels still compile."""
        if self.compile_busy.pending:
            self._on_compiling(True)
        else:
            self.banner.clear()

    @Slot(str, object)
    def _on_diverged(self, name: str, divergence) -> None:
        self.banner.show_message(
            "warning", f"{html.escape(rv.label_of(name))} diverged",
            f"{html.escape(divergence.message)}. It stops there; the other cells keep "
            f"training.<br>{html.escape(divergence.advice)}",
        )  # fmt: skip

    # --- drawing -----------------------------------------------------------------------------
    def _draw_frame(self, frame: RecurrentFrame) -> None:
        """Draw ``frame``; the heatmaps, curves and table at most every SLOW_INTERVAL while
        playing."""
        now = time.perf_counter()
        if frame.generation != self._generation:
            self._new_run(frame)
        slow = not frame.running or frame.reason != "play" or now - self._slow_time >= SLOW_INTERVAL
        self._draw_through_time(frame)
        self.diagram.set_data(unrolled_view(frame.snapshots, self._phase_result(frame)))
        self._redraw_inspector()
        if slow:
            self._slow_time = now
            self._draw_heatmaps(frame)
            self._draw_curves(frame)
            self._draw_table(frame)
        if frame.reason == "phase" and self.docks_tabbed:
            self.inspector_dock.raise_()  # a step-through is what the inspector explains
        self.step_label.setText(rv.status_text(frame))

    def _new_run(self, frame: RecurrentFrame) -> None:
        """New cells or a new length: empty panels, one heatmap per cell."""
        self._generation = frame.generation
        for plot in (self.time_plot, self.gate_plot, self.loss_plot, self.metric_plot):
            plot.reset()
        self.table.reset()
        self._empty_ranges(frame.seq_len)
        self._table_sized = False
        self._set_heatmaps(frame.names)
        with QSignalBlocker(self.inspect_box):
            current = self.inspect_box.currentText()
            self.inspect_box.clear()
            self.inspect_box.addItems(list(frame.names))
            if current in frame.names:
                self.inspect_box.setCurrentText(current)

    def _color(self, frame: RecurrentFrame, name: str) -> str:
        return theme.color(rv.cell_color_index(frame.cells[name]))

    def _styles(self, frame: RecurrentFrame, series) -> dict:
        """Each series in its cell's colour (a series is named after its cell first)."""
        out = {}
        for key in series:
            cell = next((n for n in frame.names if key.startswith(n)), None)
            if cell is not None:
                out[key] = {"color": self._color(frame, cell), "width": 1.8}
        return out

    def _draw_through_time(self, frame: RecurrentFrame) -> None:
        series = rv.through_time(frame)
        self.time_plot.set_data(series, self._styles(frame, series))
        t = rv.phase_time(frame)
        self.time_plot.set_event(None if t is None else t + 1, "" if t is None else f"t={t + 1}")
        gates = rv.gate_series(frame)
        self.gate_plot.set_data(gates, self._styles(frame, gates))

    def _draw_curves(self, frame: RecurrentFrame) -> None:
        loss = rv.loss_series(frame)
        self.loss_plot.set_data(loss, self._styles(frame, loss))
        title, series, (label, value) = rv.metric_series(frame)
        styles = self._styles(frame, series)
        if series:
            last = max(float(s[0][-1]) for s in series.values())
            series[label] = ([0.0, max(last, 1.0)], [value, value])
            styles[label] = {"color": theme.foreground(), "dash": True, "width": 1.2}
        self.metric_plot.set_title(title)
        axis = "test MSE" if frame.base.recurrent.task == "adding" else "test accuracy"
        theme.set_axis_label(self.metric_plot.plot_item, "left", axis)
        self.metric_plot.set_data(series, styles)

    def _draw_heatmaps(self, frame: RecurrentFrame) -> None:
        ok = [n for n in frame.names if n not in frame.divergences] or list(frame.names)
        levels = shared_levels(frame.snapshots[n].history_grad_h for n in ok)
        labels = rv.time_labels(frame.seq_len)
        for name, heat in self.heatmaps.items():
            snap, d = frame.snapshots[name], frame.divergences.get(name)
            heat.set_title(name if d is None else f"{name} (diverged at step {d.step})")
            if snap.history_steps is not None and len(snap.history_steps):
                heat.set_data(snap.history_steps, snap.history_grad_h, labels, levels=levels)
            else:
                heat.set_layers(labels)

    def _draw_table(self, frame: RecurrentFrame) -> None:
        header, rows = rv.table(frame)
        self.table.set_rows(
            header, rows,
            colors=[self._color(frame, n) for n in frame.names],
            tooltips={i: frame.divergences[n].message for i, n in enumerate(frame.names)
                      if n in frame.divergences},
            header_tips=rv.HEADER_TIPS,
            highlight=[n in frame.divergences for n in frame.names],
        )  # fmt: skip
        if not self._table_sized:
            self._table_sized = True
            self._size_table()

    def _phase_result(self, frame: RecurrentFrame):
        """The step-through phase of the inspected cell (None between steps)."""
        name = self.inspect_box.currentText()
        snap = frame.snapshots.get(name) or next(iter(frame.snapshots.values()), None)
        return None if snap is None else snap.phase_result

    def _redraw_inspector(self) -> None:
        frame = self._latest
        if frame is None or frame.generation != self._generation:
            return
        name = self.inspect_box.currentText() or frame.names[0]
        snap = frame.snapshots.get(name)
        self.inspector.set_data(None if snap is None else snap.phase_result, name, snap)

    @Slot(int)
    def show_time(self, t: int) -> None:
        """A click on time step ``t`` (0-based) of the diagram: mark it on the chart and say
        every cell's ||dL/dh_t|| there."""
        frame = self._latest
        if frame is None or not 0 <= t < frame.seq_len:
            return
        self.time_plot.set_event(t + 1, f"t={t + 1}")
        values = ", ".join(
            f"{n} {rv.number(frame.snapshots[n].grad_h[-1][t])}" for n in frame.names
        )
        self.statusBar().showMessage(f"||dL/dh_{t + 1}||: {values}", 10_000)

    # --- export ------------------------------------------------------------------------------
    def plot_panels(self) -> dict[str, object]:
        """File stem -> panel of every chart (their context menus, the exports)."""
        panels = {
            "grad_h_through_time": self.time_plot,
            "gate_carrier": self.gate_plot,
            "loss": self.loss_plot,
            "test_metric": self.metric_plot,
            "length_curve": self.length_tab.plot,
        }
        panels.update({f"heatmap_{n.lower()}": h for n, h in self.heatmaps.items()})
        return panels

    def grad_h_table(self) -> tuple:
        """(header, rows) of ||dL/dh_t|| per time step and cell, as on screen."""
        if self._latest is None:
            raise export.ExportError("nothing to export yet: the cells are not built")
        return rv.grad_h_table(self._latest)

    def summary_table(self) -> tuple:
        """(header, rows) of the summary as ``vglab compare`` writes summary.csv."""
        if self._latest is None:
            raise export.ExportError("nothing to export yet: the cells are not built")
        return rv.summary_csv(self._latest)

    def export_all(self, folder: str | os.PathLike) -> list[Path]:
        """Every chart as PNG and SVG (all or nothing), the unrolled diagram and the window as
        PNG, ``grad_h.csv``, ``summary.csv`` (and ``length_curve.csv``) into ``folder``."""
        folder = Path(folder)
        grad, summary = self.grad_h_table(), self.summary_table()
        written = self.exports.export_plots(folder)
        written.append(export.export_widget_png(self.diagram, folder / "unrolled.png"))
        written.append(export.export_widget_png(self, folder / "window.png"))
        written.append(export.export_csv(folder / "grad_h.csv", *grad))
        written.append(export.export_csv(folder / "summary.csv", *summary))
        if self.length_tab.result is not None:  # the "vs length" tab has run
            written.append(export.export_csv(folder / "length_curve.csv", *self.length_tab.table()))
        return written

    def show_fitted(self) -> None:
        parts.show_fitted(self, DEFAULT_SIZE)

    def showEvent(self, event) -> None:
        if not self._arranged:  # at the size it is first shown
            self._arranged = True
            self._arrange_docks()
        super().showEvent(event)

    def closeEvent(self, event) -> None:
        self.length_tab.stop()  # its pool's processes too
        self.pacer.stop()
        self.controller.shutdown()
        super().closeEvent(event)
