"""Compare mode: 2 to 8 variants trained side by side, one picture per question.

* per-layer gradient norm of every variant on one log chart (one colour per variant), with an
  optional theory line (chain rule, and 0.25^depth for sigmoid) for one chosen variant;
* the loss (and accuracy) curves of every variant on one chart;
* small multiples: each variant's layer x step heatmap, all on ONE colour scale;
* the summary table (final loss / accuracy, first/last hidden gradient ratio, saturation,
  dead units, when the first layer's gradient fell below 1e-8).

The variants train in a :class:`~gui.compare_controller.CompareController` worker thread; a
single-shot timer draws the newest frame at a bounded rate.  Panels get plain arrays.
"""

from __future__ import annotations

import html
import math
import os
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from engine.compare import (
    DISPLAY_HEADER,
    MAX_VARIANTS,
    VANISH_THRESHOLD,
    VARIABLE_FIELDS,
    expand_variants,
    summary_rows,
)
from engine.config import BATCH_NORM, INITIALIZERS, OPTIMIZERS, ConfigError, ExperimentConfig
from engine.labels import from_output_labels
from gui import export, theme
from gui.compare_controller import CompareController, CompareFrame
from gui.panels.curves import CurvePlot
from gui.panels.gradient_chart import GradientChart
from gui.panels.heatmap import LayerHeatmap, shared_levels
from gui.panels.status import Banner
from gui.panels.summary_table import SummaryTable

FPS = 30
#: while playing, seconds between redraws of the heavier panels (the others: every frame)
SLOW_INTERVAL = 0.25
#: heatmaps per row of the small multiples
GRID_COLUMNS = 4
#: points averaged in the loss / accuracy curves (a mini-batch loss alone is too noisy to
#: compare eight variants by eye)
SMOOTH = 10
SPEEDS = (
    ("max", None),
    ("1000 steps/s", 1000.0),
    ("100 steps/s", 100.0),
    ("20 steps/s", 20.0),
    ("5 steps/s", 5.0),
)
DEFAULT_VARY = ("model.activation=sigmoid,tanh,relu",)
HEADER_TIPS = (
    "Variant (its colour in every chart)",
    "Mini-batches trained (all variants step together; a diverged one stops)",
    "Training loss, mean of the last 10% of recorded steps",
    "Training accuracy, mean of the last 10% of recorded steps",
    "Loss on the whole test split at the latest evaluation",
    "Accuracy on the whole test split at the latest evaluation",
    "||dL/dW|| of hidden 1 / that of the last hidden layer at the first step: "
    "tiny = the gradient vanished on its way back",
    "The same ratio now (median over the last 10% of recorded steps)",
    "Share of hidden units with |f'(z)| <= 1% of the maximum (flat: they pass no gradient)",
    "Share of hidden units whose output is 0 for the whole batch (dead ReLU)",
    f"First step at which ||dL/dW|| of hidden 1 fell below {VANISH_THRESHOLD:g}",
    "training, or where it diverged",
)


def _choices(key: str) -> tuple[str, ...]:
    """Valid values of a variable field, for the hint under the values box."""
    from engine.activations import ACTIVATIONS

    return {
        "model.activation": tuple(ACTIVATIONS),
        "model.init": INITIALIZERS,
        "model.batch_norm": BATCH_NORM,
        "training.optimizer": OPTIMIZERS,
        "model.residual": ("false", "true"),
    }.get(key, ())


def smooth(y: np.ndarray, window: int = SMOOTH) -> np.ndarray:
    """Trailing moving average over ``window`` points (fewer at the start); NaN stays NaN."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) < 2 or window <= 1:
        return y.copy()
    ok = np.isfinite(y)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    k = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    n = k[idx] - k[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[idx] - c[lo]) / n
    out[~ok] = np.nan
    return out


class VaryRow(QWidget):
    """One "vary" line: a field and its comma-separated values."""

    changed = Signal()

    def __init__(self, optional: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.field = QComboBox()
        if optional:
            self.field.addItem("(nothing else)", "")
        for key in VARIABLE_FIELDS:
            self.field.addItem(key, key)
        self.values = QLineEdit()
        self.values.setPlaceholderText("values, comma-separated")
        self.hint = QLabel()
        self.hint.setStyleSheet("color: #666")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("and vary" if optional else "Vary"))
        layout.addWidget(self.field)
        layout.addWidget(QLabel("="))
        layout.addWidget(self.values, 1)
        layout.addWidget(self.hint)
        self.field.currentIndexChanged.connect(self._on_field)
        self.values.textChanged.connect(self.changed)
        self._on_field()

    def __repr__(self) -> str:
        return f"VaryRow({self.text()!r})"

    def _on_field(self) -> None:
        key = self.field.currentData()
        self.values.setEnabled(bool(key))
        options = _choices(key)
        self.hint.setText(f"({', '.join(options)})" if options else "")
        self.hint.setToolTip(", ".join(options))
        self.changed.emit()

    def text(self) -> str:
        """``key=v1,v2`` or "" when unused."""
        key, values = self.field.currentData(), self.values.text().strip()
        return f"{key}={values}" if key and values else ""

    def set_text(self, item: str) -> None:
        """Show ``key=v1,v2`` (an empty string clears an optional row)."""
        key, _, values = (s.strip() for s in item.partition("="))
        i = self.field.findData(key)
        if i < 0 and key:
            # not a field that may vary: show it anyway, so the error under the rows names it
            self.field.addItem(key, key)
            i = self.field.count() - 1
        self.field.setCurrentIndex(max(i, 0))
        self.values.setText(values)


class CompareWindow(QMainWindow):
    """Compare 2-8 variants of one experiment, trained together off the GUI thread."""

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
        self._latest: CompareFrame | None = None
        self._drawn_serial = -1
        self._generation = -1
        self._slow_time = -math.inf
        self._last_render = -math.inf
        self.frames_drawn = 0
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
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._render)
        self.resize(1500, 980)
        self.set_base(base)
        self.set_vary(vary)
        if start:
            self.controller.start()
            self.apply()

    def __repr__(self) -> str:
        return f"CompareWindow({self.base.name!r}, vary={self.vary()})"

    # --- building ----------------------------------------------------------------------------
    def _build_setup(self) -> None:
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)
        self.preset_box = QComboBox()
        self.preset_box.setToolTip(
            "Load the base experiment and the variants of a comparison preset"
        )
        self.rows = [VaryRow(optional=False), VaryRow(optional=True)]
        self._fill_presets()
        self.count_label = QLabel()
        self.apply_button = QPushButton("Build && train together")
        self.apply_button.setToolTip(
            "Build one network per variant (same data, layers and seed) and reset the comparison"
        )
        self.banner = Banner()
        top = QHBoxLayout()
        top.addWidget(self.base_label, 1)
        top.addWidget(QLabel("Preset:"))
        top.addWidget(self.preset_box)
        setup = QVBoxLayout()
        setup.setSpacing(2)
        setup.addLayout(top)
        for row in self.rows:
            setup.addWidget(row)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.apply_button)
        setup.addLayout(bottom)
        self._setup_layout = setup

    def _fill_presets(self) -> None:
        from engine.presets import list_presets

        self.preset_box.addItem("(choose)", None)
        try:
            presets = list_presets()
        except (ConfigError, OSError):
            return
        for p in presets:
            # every comparison preset that fits the rows: engine.variants judges its fields
            if p.vary and len(p.vary) <= len(self.rows):
                self.preset_box.addItem(p.title, p.name)

    def _build_panels(self) -> None:
        self.gradient_chart = GradientChart(title="Gradient norm per layer (latest step)")
        self.loss_plot = CurvePlot("Training loss", f"loss (mean of {SMOOTH} batches)", log_y=True)
        self.accuracy_plot = CurvePlot("Test accuracy", "accuracy", log_y=False)
        tabs = QTabWidget()
        tabs.addTab(self.loss_plot, "Loss")
        tabs.addTab(self.accuracy_plot, "Accuracy")
        self.curve_tabs = tabs
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.gradient_chart)
        top.addWidget(tabs)
        top.setSizes([760, 640])
        self.heat_box = QWidget()
        self.heat_grid = QGridLayout(self.heat_box)
        self.heat_grid.setContentsMargins(0, 0, 0, 0)
        self.heat_grid.setSpacing(2)
        self.table = SummaryTable()
        self.theory_box = QCheckBox("Theory line for")
        self.theory_box.setToolTip(
            "Dashed: the gradient the chain rule predicts from the factors this step measured "
            "(mean |f'| and weight gain per layer). Dotted, for sigmoid: the output layer's "
            "gradient times 0.25 per layer, the most sigmoid' <= 1/4 lets through."
        )
        self.theory_variant = QComboBox()
        self.theory_variant.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.heat_box)
        split.addWidget(self.table)
        split.setSizes([420, 300, 170])
        split.setChildrenCollapsible(False)
        self.splitter = split
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.setSpacing(4)
        layout.addLayout(self._setup_layout)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)

    def _action(self, text: str, slot, icon=None, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if icon is not None:
            a.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_toolbar(self) -> None:
        SP = QStyle.StandardPixmap
        c = self.controller
        self.act_play = self._action(
            "Play",
            c.toggle_play,
            SP.SP_MediaPlay,
            Qt.Key.Key_Space,
            "Train every variant together (Space)",
        )
        self.act_step = self._action(
            "Step",
            c.step,
            SP.SP_MediaSeekForward,
            Qt.Key.Key_Right,
            "One mini-batch for every variant",
        )
        self.act_phase = self._action(
            "Step phase",
            c.step_phase,
            SP.SP_ArrowRight,
            QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Right),
            "One phase (forward / loss / backward through one layer / update) for every variant",
        )
        self.act_epoch = self._action(
            "Run one epoch",
            c.run_epoch,
            SP.SP_MediaSkipForward,
            tip="Train to the end of the current epoch",
        )
        self.act_reset = self._action(
            "Reset",
            c.reset,
            SP.SP_BrowserReload,
            Qt.Key.Key_R,
            "Fresh weights for every variant, empty history",
        )
        self.act_export = self._action(
            "Export comparison\u2026",
            self.export_dialog,
            SP.SP_DialogSaveButton,
            QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_E),
            "Every chart as PNG and SVG and the table as CSV, into one folder",
        )
        tb = QToolBar("Compare")
        tb.setObjectName("compare-transport")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addActions(
            [self.act_play, self.act_step, self.act_phase, self.act_epoch, self.act_reset]
        )
        tb.addSeparator()
        tb.addWidget(QLabel(" speed "))
        self.speed_box = QComboBox()
        for label, _ in SPEEDS:
            self.speed_box.addItem(label)
        tb.addWidget(self.speed_box)
        tb.addSeparator()
        tb.addWidget(self.theory_box)
        tb.addWidget(self.theory_variant)
        tb.addSeparator()
        tb.addAction(self.act_export)
        self.addToolBar(tb)

    def _build_status(self) -> None:
        self.step_label = QLabel("not built")
        self.busy_label = QLabel("")
        self.statusBar().addWidget(self.step_label, 1)
        self.statusBar().addPermanentWidget(self.busy_label)

    def _connect(self) -> None:
        c = self.controller
        c.frame_ready.connect(self._on_frame)
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
        m, d = base.model, base.data
        layers = m.layers()
        widths = (
            "\u00d7".join(str(h.width) for h in layers)
            if m.hidden
            else f"{len(layers)} \u00d7 {m.width}"
        )
        self.base_label.setText(
            f"<b>Base:</b> {html.escape(base.name)} \u2014 data <i>{d.name}</i>, "
            f"hidden layers {widths} "
            f"({m.activation}, {m.init}), {base.training.optimizer} lr "
            f"{base.training.learning_rate:g}, batch {base.training.batch_size}, seed "
            f"{base.training.seed}. Shared by every variant."
        )
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
            return None, "\n".join(e.messages)
        except ValueError as e:
            return None, str(e)

    def _update_count(self) -> None:
        variants, problem = self._check()
        if variants is None:
            self.count_label.setText(
                f"<span style='color:#b71c1c'>{html.escape(_first_line(problem))}</span>"
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
                "error", "Cannot compare these variants", html.escape(problem).replace("\n", "<br>")
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
    @Slot(object)
    def _on_frame(self, frame: CompareFrame) -> None:
        self._latest = frame
        if frame.reason in ("step", "phase", "built"):
            self._render()
        elif not self._timer.isActive():
            wait = self._last_render + 1.0 / FPS - time.perf_counter()
            self._timer.start(max(0, int(1000 * wait)))

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        SP = QStyle.StandardPixmap
        self.act_play.setText("Pause" if running else "Play")
        self.act_play.setIcon(
            self.style().standardIcon(SP.SP_MediaPause if running else SP.SP_MediaPlay)
        )

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.banner.show_message("error", "Problem", html.escape(message).replace("\n", "<br>"))

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
    @Slot()
    def _render(self) -> None:
        frame = self._latest
        if frame is None or frame.serial == self._drawn_serial:
            return
        self._drawn_serial = frame.serial
        now = time.perf_counter()
        self._last_render = now
        if frame.generation != self._generation:
            self._new_comparison(frame)
        slow = not frame.running or frame.reason != "play" or now - self._slow_time >= SLOW_INTERVAL
        self._draw_gradient(frame)
        self._draw_curves(frame)
        if slow:
            self._slow_time = now
            self._draw_heatmaps(frame)
            self._draw_table(frame)
        self._draw_status(frame)
        self.frames_drawn += 1

    def _new_comparison(self, frame: CompareFrame) -> None:
        """A new set of variants: reset the panels, lay the heatmaps out again."""
        self._generation = frame.generation
        self.gradient_chart.reset()
        self._theory_names = []
        self.loss_plot.reset()
        self.accuracy_plot.reset()
        self.table.reset()
        for heat in self.heatmaps.values():
            self.heat_grid.removeWidget(heat)
            heat.hide()
            heat.reset()
            self._spare_heatmaps.append(heat)
        self.heatmaps = {}
        n = len(frame.names)
        rows = math.ceil(n / GRID_COLUMNS)
        cols = math.ceil(n / rows)  # 6 variants: 3 + 3 rather than 4 + 2
        for i, name in enumerate(frame.names):
            heat = self._spare_heatmaps.pop() if self._spare_heatmaps else LayerHeatmap()
            heat.set_title(name)
            self.heat_grid.addWidget(heat, i // cols, i % cols)
            heat.show()
            self.heatmaps[name] = heat
        self._table_sized = False

    def _size_table(self) -> None:
        """Give the table the height of its rows (up to a third), the charts the rest."""
        t = self.table.table
        total = sum(self.splitter.sizes())
        want = t.verticalHeader().length() + t.horizontalHeader().height() + 2 * t.frameWidth()
        want = min(want + 4, total // 3)
        rest = total - want
        self.splitter.setSizes([int(rest * 0.58), rest - int(rest * 0.58), want])

    def _color(self, frame: CompareFrame, name: str) -> str:
        return theme.color(frame.names.index(name))

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
        name = self.theory_variant.currentText()
        if self.theory_box.isChecked() and name in frame.theory:
            labels, align = self._layer_axis(frame)
            for curve, values in frame.theory[name].items():
                gap = len(labels) - len(values) if align == "output" else 0
                wanted[f"{curve}: {name}"] = np.concatenate([np.full(gap, np.nan), values])
        for old in [n for n in self._theory_names if n not in wanted]:
            self.gradient_chart.set_overlay(old, None)
        for overlay, values in wanted.items():
            style = "dot" if overlay.startswith("0.25") else "dash"
            self.gradient_chart.set_overlay(overlay, values, style=style)
        self._theory_names = list(wanted)

    def _redraw_gradient(self) -> None:
        if self._latest is not None and self._latest.generation == self._generation:
            self._draw_gradient(self._latest)

    def _draw_curves(self, frame: CompareFrame) -> None:
        loss, acc, styles = {}, {}, {}
        for i, name in enumerate(frame.names):
            snap = frame.snapshots[name]
            styles[name] = {"color": theme.color(i), "width": 1.6}
            steps = snap.history_steps
            if steps is not None and len(steps):
                loss[name] = (steps, smooth(snap.history_scalars[:, 0]))
            if snap.eval_steps is not None and len(snap.eval_steps):
                acc[name] = (snap.eval_steps, snap.eval_scalars[:, 1])
            elif steps is not None and len(steps):
                acc[name] = (steps, smooth(snap.history_scalars[:, 1]))
        self.loss_plot.set_data(loss, styles)
        _fit_y(
            self.loss_plot,
            [loss[n][1] for n in loss if n not in frame.divergences],
            bool(frame.divergences),
        )
        any_eval = any(
            s.eval_steps is not None and len(s.eval_steps) for s in frame.snapshots.values()
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

    def _draw_table(self, frame: CompareFrame) -> None:
        rows = [frame.summaries[n].cells() for n in frame.names]
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

    def _draw_status(self, frame: CompareFrame) -> None:
        text = (
            f"step {frame.step}  \u00b7  epoch {frame.epoch:.2f}  \u00b7  "
            f"{len(frame.names)} variants"
        )
        if frame.phase != "idle":
            text += f"  \u00b7  phase: {frame.phase}"
        if frame.divergences:
            text += f"  \u00b7  diverged: {', '.join(frame.divergences)}"
        self.step_label.setText(text)

    # --- export ------------------------------------------------------------------------------
    def export_all(self, folder: str | os.PathLike) -> list[Path]:
        """Write the whole comparison into ``folder``: the figure set of ``vglab compare``
        (gradient_norms, loss, accuracy, heatmap_<variant>; PNG + SVG), the gradient chart
        with its theory line when one is shown, and ``compare_summary.csv``.

        Raises :class:`gui.export.ExportError` when a file cannot be written.
        """
        from gui.figures import FigureData, build_figures, save_figures

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

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the comparison into a folder")
        if not folder:
            return
        try:
            written = self.export_all(folder)
        except export.ExportError as e:
            QMessageBox.warning(self, "Export failed", str(e))
            return
        self.statusBar().showMessage(f"Wrote {len(written)} files to {folder}", 6000)

    def closeEvent(self, event) -> None:
        self.controller.shutdown()
        super().closeEvent(event)


def _fit_y(plot: CurvePlot, curves: list[np.ndarray], clamp: bool) -> None:
    """Y range of ``plot`` fitted to ``curves`` when ``clamp`` (a diverged variant's curve
    then leaves the top of the chart instead of squashing the others); autorange otherwise."""
    item = plot.plot.getPlotItem()
    values = (
        np.concatenate([np.asarray(c, dtype=np.float64) for c in curves]) if curves else np.zeros(0)
    )
    values = values[np.isfinite(values) & ((values > 0) if plot.log_y else True)]
    if not clamp or values.size == 0:
        item.enableAutoRange(axis="y")
        return
    lo, hi = float(values.min()), float(values.max())
    if plot.log_y:
        lo, hi = math.log10(lo), math.log10(hi)
    pad = max(0.05 * (hi - lo), 0.05)
    item.setYRange(lo - pad, hi + pad, padding=0)


def _first_line(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 140 else line[:137] + "\u2026"
