"""Compare mode: 2 to 8 variants trained side by side, one picture per question.

* per-layer gradient norm of every variant on one log chart (one colour per variant), with an
  optional theory line (the mean field at init, or why there is none) for one variant;
* the loss (and accuracy) curves of every variant on one chart;
* small multiples: each variant's layer x step heatmap, all on ONE colour scale;
* the summary table (final loss / accuracy, first/last hidden gradient ratio, saturation,
  dead units, when the first layer's gradient fell below 1e-8).

The variants train in a :class:`~gui.compare_controller.CompareController` worker thread; a
:class:`~gui.window_parts.FramePacer` draws the newest frame at a bounded rate.  Panels get
plain arrays (the numbers come from the Qt-free :mod:`gui.compare_view`); the transport
and exports are the main window's (:mod:`gui.window_parts`, :mod:`gui.export_controller`).
"""

from __future__ import annotations

import html
import math
import os
import time
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QMainWindow,
    QStyle,
    QWidget,
)

from engine.compare import (
    DISPLAY_HEADER,
    MAX_VARIANTS,
    expand_variants,
    summary_rows,
)
from engine.config import ConfigError, ExperimentConfig, fields
from engine.figure_data import FigureData
from engine.labels import from_output_labels
from gui import export, theme
from gui import window_parts as parts
from gui.compare_controller import CompareController, CompareFrame
from gui.compare_layout import CompareLayout
from gui.compare_view import (
    HEADER_TIPS,
    SMOOTH,
    base_text,
    curve_series,
    first_line,
    smooth,
    status_text,
    table_cells,
    y_range,
)
from gui.export_controller import ExportController
from gui.panels.curves import CurvePlot
from gui.panels.heatmap import LayerHeatmap, shared_levels
from gui.transport import transport_actions
from gui.vary_row import VaryRow
from gui.worker import SPEEDS

__all__ = ["DEFAULT_VARY", "CompareWindow", "VaryRow", "smooth"]

FPS = 30
#: while playing, seconds between redraws of the heavier panels (the others: every frame)
SLOW_INTERVAL = 0.25
DEFAULT_VARY = ("model.activation=sigmoid,tanh,relu",)
#: the window's size on screens that have room for it (smaller screens: the whole screen)
DEFAULT_SIZE = (1500, 980)
#: what the transport commands do in this window (see gui.transport.TRANSPORT)
TRANSPORT_TIPS = {
    "act_play": "Train every variant together (Space)",
    "act_step": "One mini-batch for every variant",
    "act_phase": "One phase (forward / loss / backward through one layer / update) for every "
    "variant",
    "act_epoch": "Train to the end of the current epoch (Ctrl+\u2192)",
    "act_reset": "Fresh weights for every variant, empty history",
}


def _choices(key: str) -> tuple[str, ...]:
    """Valid values of a variable field, for the hint under the values box."""
    return fields.choices(key)


class CompareWindow(parts.PacedWindow, CompareLayout, QMainWindow):
    """Compare 2-8 variants of one experiment, trained together off the GUI thread."""

    field_choices = staticmethod(_choices)  # the hint under the vary rows

    def __init__(
        self,
        base: ExperimentConfig | None = None,
        vary=DEFAULT_VARY,
        parent: QWidget | None = None,
        start: bool = True,
        fps: float = FPS,
    ):
        super().__init__(parent)
        if base is None:
            from gui.controller import default_config

            base = default_config()
        self.base = base
        self.controller = CompareController(fps=fps, parent=self)
        self.pacer = parts.FramePacer(self, self._draw_frame, fps, ("step", "phase", "built"))
        self._generation = -1
        self._slow_time = -math.inf
        self.heatmaps: dict[str, LayerHeatmap] = {}
        self._spare_heatmaps: list[LayerHeatmap] = []
        self._theory_names: list[str] = []
        self._table_sized = False
        self.setWindowTitle("Compare variants \u2014 Vanishing Gradient Lab")
        self._build_setup()
        self._build_panels()
        self._build_toolbar()
        self._build_status()
        self._connect()
        self.exports = ExportController(self, self.plot_panels)
        self.exports.install_context_menus()
        self.resize(parts.start_size(self, DEFAULT_SIZE))
        self.set_base(base)
        self.set_vary(vary)
        if start:
            self.controller.start()
            self.apply()

    def __repr__(self) -> str:
        return f"CompareWindow({self.base.name!r}, vary={self.vary()})"

    # --- building (the widgets and their layout: gui.compare_layout.CompareLayout) ---------
    def _fill_presets(self) -> None:
        from engine.presets import list_presets

        self.preset_box.addItem("(choose)", None)
        try:
            presets = list_presets()
        except (ConfigError, OSError):
            return
        for p in presets:
            # every comparison preset that fits the rows: engine.variants judges its fields
            if p.vary and len(p.vary) <= len(self.rows) and not p.is_recurrent:
                self.preset_box.addItem(p.title, p.name)

    def _build_toolbar(self) -> None:
        acts = transport_actions(partial(parts.add_action, self), self.controller, TRANSPORT_TIPS)
        actions = list(acts.values())
        self.act_play, self.act_step, self.act_phase, self.act_epoch, self.act_reset = actions
        tb, self.speed_box = parts.transport_toolbar(
            self, "Compare", "compare-transport", actions, SPEEDS
        )
        tb.addSeparator()
        tb.addWidget(self.theory_box)
        tb.addWidget(self.theory_variant)
        tb.addSeparator()
        self.act_export = parts.add_action(
            self,
            "Export comparison\u2026",
            self.export_dialog,
            QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_E),
            "Every chart as PNG and SVG and the table as CSV, into one folder",
            QStyle.StandardPixmap.SP_DialogSaveButton,
        )
        tb.addAction(self.act_export)

    def _connect(self) -> None:
        c = self.controller
        c.frame_ready.connect(self.pacer.push)
        c.running_changed.connect(self._on_running)
        c.error.connect(self._on_error)
        c.busy.connect(lambda on: self.busy_label.setText("building\u2026" if on else ""))
        c.diverged.connect(self._on_diverged)
        c.built.connect(self._on_built)
        self.apply_button.clicked.connect(self.apply)
        self.preset_box.activated.connect(self._on_preset)
        for row in self.rows:
            row.changed.connect(self._update_count)
        self.speed_box.currentIndexChanged.connect(
            lambda i: self.controller.set_speed(SPEEDS[i][1])
        )
        self.theory_box.toggled.connect(lambda _: self._redraw_gradient())
        self.theory_variant.currentIndexChanged.connect(lambda _: self._redraw_gradient())

    # --- setup -------------------------------------------------------------------------------
    def set_base(self, base: ExperimentConfig) -> None:
        """The experiment every variant starts from (its data, layers and seed are shared)."""
        self.base = base
        self.base_label.setText(base_text(base))
        self._update_count()

    def set_vary(self, vary) -> None:
        """Fill the vary rows from ``["key=v1,v2", ...]`` (at most two keys)."""
        vary = [vary] if isinstance(vary, str) else list(vary)
        for row, item in zip(self.rows, [*vary, "", ""], strict=False):
            row.set_text(item)
        self._update_count()

    def vary(self) -> list[str]:
        return [t for t in (row.text() for row in self.rows) if t]

    def _check(self) -> tuple[dict | None, str]:
        """(variants, "") or (None, why not)."""
        try:
            return expand_variants(self.base, self.vary()), ""
        except ConfigError as e:
            return None, "\n".join(e.errors)  # the window is the source: no "--vary:"
        except ValueError as e:
            return None, str(e)

    def _update_count(self) -> None:
        variants, problem = self._check()
        if variants is None:
            self.count_label.setText(
                f"<span style='color:#b71c1c'>{html.escape(first_line(problem))}</span>"
            )
            self.count_label.setToolTip(problem)
        else:
            self.count_label.setText(
                f"{len(variants)} variants (2 to {MAX_VARIANTS}): " + ", ".join(variants)
            )
            self.count_label.setToolTip("")
        self.apply_button.setEnabled(variants is not None)

    def apply(self) -> bool:
        """Build the comparison shown in the setup rows; False (and a message) if invalid."""
        variants, problem = self._check()
        if variants is None:
            self.banner.show_message(
                "error", "Cannot compare these variants", parts.html_lines(problem)
            )
            return False
        self.banner.clear()
        self.controller.start()
        self.controller.build(self.base, self.vary())
        return True

    def load(self, base: ExperimentConfig, vary) -> bool:
        """Set the base and the variants, then build."""
        self.set_base(base)
        self.set_vary(vary)
        return self.apply()

    def _on_preset(self, index: int) -> None:
        from engine.presets import get_preset

        name = self.preset_box.itemData(index)
        if not name:
            return
        try:
            p = get_preset(name)
            config = p.config()
        except (ConfigError, OSError) as e:
            self.banner.show_message("error", "Cannot load the preset", html.escape(str(e)))
            return
        if self.load(config, p.vary) and p.description:
            self.banner.show_message("info", html.escape(p.title), html.escape(p.description))

    # --- controller -> window ----------------------------------------------------------------
    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        parts.show_running(self.act_play, running)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.banner.show_message("error", "Problem", parts.html_lines(message))

    @Slot(str, object)
    def _on_diverged(self, name: str, divergence) -> None:
        self.banner.show_message(
            "warning",
            f"{name} diverged",
            f"{divergence.message}. It stops there; the other variants keep training."
            f"<br>{divergence.advice}",
        )

    @Slot(object)
    def _on_built(self, names) -> None:
        with QSignalBlocker(self.theory_variant):
            current = self.theory_variant.currentText()
            self.theory_variant.clear()
            self.theory_variant.addItems(list(names))
            if current in names:
                self.theory_variant.setCurrentText(current)

    # --- drawing -----------------------------------------------------------------------------
    def _draw_frame(self, frame: CompareFrame) -> None:
        """Draw ``frame`` (the pacer calls this with the newest one); the heatmaps and the
        table, slow to draw, at most every :data:`SLOW_INTERVAL` while playing."""
        now = time.perf_counter()
        if frame.generation != self._generation:
            self._new_comparison(frame)
        slow = not frame.running or frame.reason != "play" or now - self._slow_time >= SLOW_INTERVAL
        self._draw_gradient(frame)
        self._draw_curves(frame)
        if slow:
            self._slow_time = now
            self._draw_heatmaps(frame)
            self._draw_table(frame)
        self.step_label.setText(status_text(frame))

    def _layer_axis(self, frame: CompareFrame) -> tuple[tuple[str, ...], str]:
        """(labels, align) of the gradient chart: the layers when every variant has the same
        depth, else the deepest's counted back from the output, where the variants line up."""
        depths = {len(s.layer_labels) for s in frame.snapshots.values()}
        if len(depths) == 1:
            return frame.labels, "input"
        return from_output_labels(max(depths)), "output"

    def _draw_gradient(self, frame: CompareFrame) -> None:
        series = {}
        for n in frame.names:
            d = frame.divergences.get(n)
            if frame.snapshots[n].step == 0:
                series[n] = np.zeros(0)  # nothing measured yet: no line, no NaN marks
            elif d is None:
                series[n] = frame.snapshots[n].layers["grad_norm"]
            else:
                # the chart's convention for a diverged run: a gap, marked at the floor; its
                # last finite values (1e150 and the like) would squash every other line
                n_layers = len(frame.snapshots[n].layer_labels)
                series[f"{n} \u2014 diverged at step {d.step}"] = np.full(n_layers, np.nan)
        labels, align = self._layer_axis(frame)
        self.gradient_chart.set_data(series, labels, align=align)
        self._draw_theory(frame)

    def _draw_theory(self, frame: CompareFrame) -> None:
        wanted: dict[str, np.ndarray] = {}
        note = ""
        name = self.theory_variant.currentText()
        if self.theory_box.isChecked() and name in frame.theory:
            labels, align = self._layer_axis(frame)
            lines = frame.theory[name]
            for curve, values in lines.curves.items():
                gap = len(labels) - len(values) if align == "output" else 0
                wanted[f"{curve}: {name}"] = np.concatenate([np.full(gap, np.nan), values])
            note = f"{name}: {lines.reason}" if lines.reason else ""
        for old in [n for n in self._theory_names if n not in wanted]:
            self.gradient_chart.set_overlay(old, None)
        for overlay, values in wanted.items():
            self.gradient_chart.set_overlay(overlay, values, style="dash")
        self.gradient_chart.set_note(note)
        self._theory_names = list(wanted)

    def _redraw_gradient(self) -> None:
        if self._latest is not None and self._latest.generation == self._generation:
            self._draw_gradient(self._latest)

    def _draw_curves(self, frame: CompareFrame) -> None:
        loss, acc, any_eval = curve_series(frame)
        styles = {
            name: {"color": theme.color(i), "width": 1.6} for i, name in enumerate(frame.names)
        }
        self.loss_plot.set_data(loss, styles)
        _fit_y(
            self.loss_plot,
            [loss[n][1] for n in loss if n not in frame.divergences],
            bool(frame.divergences),
        )
        self.accuracy_plot.set_title(
            "Test accuracy" if any_eval else f"Training accuracy (mean of {SMOOTH} batches)"
        )
        self.accuracy_plot.set_data(acc, styles)

    def _draw_heatmaps(self, frame: CompareFrame) -> None:
        # one colour scale for all; a diverged variant (1e150 just before the NaN) is left
        # out of it and saturates at the top colour instead of flattening all the others
        ok = [n for n in frame.names if n not in frame.divergences] or list(frame.names)
        levels = shared_levels(
            frame.snapshots[n].history_grad_norm
            for n in ok
            if frame.snapshots[n].history_grad_norm is not None
        )
        for name in frame.names:
            snap = frame.snapshots[name]
            d = frame.divergences.get(name)
            self.heatmaps[name].set_title(
                name if d is None else f"{name} (diverged at step {d.step})"
            )
            if snap.history_steps is not None and len(snap.history_steps):
                self.heatmaps[name].set_data(
                    snap.history_steps, snap.history_grad_norm, snap.layer_labels, levels=levels
                )
            else:  # before the first step: the layer axis of the new network
                self.heatmaps[name].set_layers(snap.layer_labels)

    def _draw_table(self, frame: CompareFrame) -> None:
        rows = [table_cells(frame.summaries[n], frame.running) for n in frame.names]
        tips = {
            i: frame.summaries[n].divergence
            for i, n in enumerate(frame.names)
            if frame.summaries[n].divergence
        }
        self.table.set_rows(
            DISPLAY_HEADER,
            rows,
            colors=[theme.color(i) for i in range(len(frame.names))],
            tooltips=tips,
            header_tips=HEADER_TIPS,
            highlight=[frame.summaries[n].diverged for n in frame.names],
        )
        if not self._table_sized:
            self._table_sized = True
            self._size_table()

    # --- export ------------------------------------------------------------------------------
    def export_all(self, folder: str | os.PathLike) -> list[Path]:
        """Write the whole comparison into ``folder``: the figure set of ``vglab compare``
        (gradient_norms, loss, accuracy, heatmap_<variant>; PNG + SVG), the gradient chart
        with its theory line when one is shown, and ``compare_summary.csv``.

        Raises :class:`gui.export.ExportError` when a file cannot be written.
        """
        from gui.figures import build_figures, save_figures

        frame = self._latest
        if frame is None:
            raise export.ExportError("nothing to export yet: the comparison is not built")
        folder = Path(folder)
        runs = {n: FigureData.from_snapshot(n, frame.snapshots[n]) for n in frame.names}
        written = save_figures(build_figures(runs), folder)
        if self._theory_names:
            for fmt in ("png", "svg"):
                written.append(
                    export.export_plot(self.gradient_chart, folder / f"gradient_norms_theory.{fmt}")
                )
        header, rows = summary_rows(frame.summaries[n] for n in frame.names)
        written.append(export.export_csv(folder / "compare_summary.csv", header, rows))
        return written

    def plot_panels(self) -> dict[str, object]:
        """File stem -> panel of every chart on screen (for their context menus)."""
        return {
            "gradient_norms": self.gradient_chart,
            "loss": self.loss_plot,
            "accuracy": self.accuracy_plot,
        }

    def export_dialog(self) -> None:
        self.exports.folder_dialog(
            "Export the comparison into a folder", "the comparison", self.export_all, 6000
        )

    def show_fitted(self) -> None:
        """Show the window; maximised on a screen no larger than its default size."""
        parts.show_fitted(self, DEFAULT_SIZE)

    def closeEvent(self, event) -> None:
        self.pacer.stop()
        self.controller.shutdown()
        super().closeEvent(event)


def _fit_y(plot: CurvePlot, curves: list[np.ndarray], clamp: bool) -> None:
    """Y range of ``plot`` fitted to ``curves`` when ``clamp`` (a diverged variant's curve
    then leaves the top of the chart instead of squashing the others); autorange otherwise."""
    item = plot.plot.getPlotItem()
    span = y_range(curves, plot.log_y) if clamp else None
    if span is None:
        item.enableAutoRange(axis="y")
    else:
        item.setYRange(*span, padding=0)
