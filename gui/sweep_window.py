"""The "Trainability sweep" window: train a grid of nets (e.g. sigma_w^2 x depth) off the GUI
thread and watch the trainable region fill in against the mean-field boundary 6 xi_c.

The sweep (:func:`engine.sweep.run_sweep`, a process pool on every core) runs as one
:class:`~gui.background.Background` job; each net that finishes comes back through the job's
``progress`` signal and the heatmap is redrawn at most :data:`DRAW_HZ` times a second.
Cancel stops the pool and keeps the nets that finished.  Exports (PNG, SVG of the heatmap,
the CSV table) go through :class:`~gui.export_controller.ExportController`.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import ConfigError, ExperimentConfig
from engine.sweep import SweepResult, plan_sweep, run_sweep
from engine.sweep_theory import sweep_rows
from gui.background import Background
from gui.export_controller import ExportController
from gui.panels.sweep_map import SweepMap
from gui.sweep_view import AgreementCache, smooth_prediction, sweep_view
from gui.window_parts import start_size

#: most redraws of the heatmap per second while results arrive
DRAW_HZ = 4
#: the grid a new window offers (Schoenholz et al.'s plane; see the trainable_depth preset)
DEFAULT_AXES = (("model.sigma_w2", "0.5:4:8"), ("model.depth", "5:60:6"))
DEFAULT_STEPS = 300
START_SIZE = (1100, 760)


class SweepWindow(QMainWindow):
    """Grid fields and values, steps, Start / Cancel, progress, the heatmap, exports."""

    def __init__(self, base: ExperimentConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Trainability sweep")
        self.base = base
        self.workers: int | None = None  # None: every core (tests may use one)
        self.job: Background | None = None
        self.result: SweepResult | None = None
        self.prediction = None
        self.agreements = AgreementCache()  # the note's agreement: recomputed per whole column
        self._cancel = threading.Event()
        self._dirty = False
        self.map = SweepMap()
        self.exports = ExportController(self, lambda: {"sweep": self.map})
        self.exports.install_menu("sweep", self.map)
        self._build()
        self._timer = QTimer(self, interval=1000 // DRAW_HZ, timeout=self._draw)
        self.resize(start_size(self, START_SIZE))  # never taller than a 720-pixel screen

    def __repr__(self) -> str:
        return f"SweepWindow({self.base.name!r}, running={self.running})"

    # --- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        form = QGridLayout()
        self.fields, self.values = [], []
        for row, (key, text) in enumerate(DEFAULT_AXES):
            name, values = QLineEdit(key), QLineEdit(text)
            values.setToolTip("v1,v2,... or lo:hi:n (n evenly spaced values, ends included)")
            form.addWidget(QLabel("x field" if row == 0 else "y field"), row, 0)
            form.addWidget(name, row, 1)
            form.addWidget(QLabel("values"), row, 2)
            form.addWidget(values, row, 3)
            self.fields.append(name)
            self.values.append(values)
        steps = self.base.training.steps or DEFAULT_STEPS  # the experiment's, when it has one
        self.steps = QSpinBox(minimum=1, maximum=1_000_000, value=steps)
        self.steps.setToolTip("training steps of every net")
        form.addWidget(QLabel("steps"), 0, 4)
        form.addWidget(self.steps, 0, 5)
        self.start_button = QPushButton("Start", clicked=self.start)
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel, enabled=False)
        form.addWidget(self.start_button, 1, 4)
        form.addWidget(self.cancel_button, 1, 5)
        self.progress = QProgressBar(format="%v / %m nets")
        self.note = QLabel(wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for text, slot in (
            ("Export PNG\u2026", lambda: self.exports.export_one_dialog("sweep", self.map, ".png")),
            ("Export SVG\u2026", lambda: self.exports.export_one_dialog("sweep", self.map, ".svg")),
            ("Export CSV\u2026", self.export_csv_dialog),
        ):
            buttons.addWidget(QPushButton(text, clicked=slot))
        buttons.addStretch(1)
        body = QVBoxLayout()
        body.addLayout(form)
        body.addWidget(self.progress)
        body.addWidget(self.map, 1)
        body.addWidget(self.note)
        body.addLayout(buttons)
        central = QWidget()
        central.setLayout(body)
        self.setCentralWidget(central)
        self.statusBar().showMessage(f"Experiment: {self.base.name}")

    # --- running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    def axes(self) -> list[str]:
        return [
            f"{k.text().strip()}={v.text().strip()}"
            for k, v in zip(self.fields, self.values, strict=True)
        ]

    @Slot()
    def start(self) -> bool:
        """Check the grid and start the sweep; a bad field is reported, nothing runs."""
        if self.running:
            return False
        try:
            plan = plan_sweep(self.base, self.axes(), self.steps.value())
        except ConfigError as e:
            # the errors as the fields name them, without the CLI flag they would have there
            self.note.setText("Cannot start: " + "; ".join(e.errors))
            return False
        self.result = SweepResult(plan)
        self.prediction = None
        self._cancel.clear()
        self.progress.setRange(0, plan.shape[0] * plan.shape[1])
        self.progress.setValue(0)
        self.note.setText(
            f"{plan.shape[0] * plan.shape[1]} nets, {plan.steps} steps each; trainable: "
            f"training accuracy >= {plan.threshold:.3f} (chance {plan.chance:.3f})"
        )
        self.map.reset()
        workers, cancel = self.workers, self._cancel.is_set

        def work() -> SweepResult:
            self.job.progress.emit(("prediction", smooth_prediction(plan)))
            on_result = lambda p: self.job.progress.emit(("point", p))  # noqa: E731
            return run_sweep(plan, on_result=on_result, cancel=cancel, workers=workers)

        self.job = Background(work, "vglab-sweep", stop=self._cancel.set)
        self.job.progress.connect(self._arrived)
        self.job.done.connect(self._finished)
        self._set_running(True)
        self.job.start()
        self._timer.start()
        return True

    @Slot()
    def cancel(self) -> None:
        """Stop the pool; the nets that finished stay drawn and exportable."""
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        self.statusBar().showMessage("Cancelling\u2026")

    def _set_running(self, on: bool) -> None:
        self.start_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        for w in (*self.fields, *self.values, self.steps):
            w.setEnabled(not on)

    @Slot(object)
    def _arrived(self, item) -> None:
        kind, value = item
        if kind == "prediction":
            self.prediction = value
        elif self.result is not None:
            self.result.points[(value.i, value.j)] = value
            self.progress.setValue(len(self.result.points))
        self._dirty = True

    @Slot(object)
    def _finished(self, outcome) -> None:
        self.job = None
        self._timer.stop()
        self._set_running(False)
        if isinstance(outcome, Exception):
            self.note.setText(f"The sweep failed: {type(outcome).__name__}: {outcome}")
            return
        self.result = outcome
        self.progress.setValue(len(outcome.points))
        self._dirty = True
        self._draw()
        if outcome.failure:  # the map keeps the nets that finished; the note says why no more
            self.note.setText(f"The sweep stopped: {outcome.failure}.\n{self.note.text()}")
            self.statusBar().showMessage("Sweep stopped: a worker process died")
            return
        done = "cancelled" if outcome.cancelled else "finished"
        self.statusBar().showMessage(f"Sweep {done} in {outcome.seconds:.0f} s", 8000)

    @Slot()
    def _draw(self) -> None:
        """Redraw the heatmap if anything arrived since the last time (timer: bounded rate)."""
        if not self._dirty or self.result is None or self.prediction is None:
            return
        self._dirty = False
        view = sweep_view(self.result, self.prediction, self.agreements)
        self.map.set_data(view)
        self.note.setText(view.note)

    # --- export / close ------------------------------------------------------------------------
    def table(self) -> tuple:
        if self.result is None:
            return ["status"], []
        return sweep_rows(self.result)

    def export_csv_dialog(self) -> None:
        self.exports.export_table_dialog("Export sweep", "sweep.csv", "the sweep table", self.table)

    def closeEvent(self, event) -> None:
        if self.job is not None:
            self.job.stop()
            self.job.wait(15_000)
        super().closeEvent(event)
