"""Test metric against the sequence length, one line per cell: the Recurrent window's
"vs length" tab and ``vglab compare``'s ``length_curve.png`` (one drawing for both).

The tab trains every (cell, length) of the window's current settings with
:func:`engine.recurrent.lengths.run_lengths` (the sweep's process pool) in a
:class:`~gui.background.Background` job; points come back through the job's ``progress``
signal and are drawn at most :data:`DRAW_HZ` times a second.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from engine.config import ConfigError, ExperimentConfig
from engine.recurrent.experiment import baseline
from engine.recurrent.lengths import (
    LENGTH_KEY,
    LengthPoint,
    LengthResult,
    curves,
    length_rows,
    metric_label,
    plan_lengths,
    run_lengths,
)
from gui import theme
from gui.background import Background
from gui.panels.curves import CurvePlot
from gui.recurrent_view import CELL_LABELS, CELLS, cell_color_index

#: most redraws of the curve per second while points arrive
DRAW_HZ = 4
DEFAULT_LENGTHS = "10, 20, 50, 100"
X_LABEL = "sequence length T (time steps)"


def make_plot() -> CurvePlot:
    """An empty curve plot on a log T axis."""
    plot = CurvePlot("Test metric vs sequence length", "test MSE", x_label=X_LABEL)
    plot.plot_item.setLogMode(x=True, y=False)
    return plot


def draw(
    plot: CurvePlot,
    points: Iterable[LengthPoint],
    config: ExperimentConfig,
    cells: Iterable[str] = (),
    lengths: Iterable[int] = (),
) -> None:
    """Draw ``points``: one line per cell in its colour, the baseline dashed, on a log T
    axis (the MSE on a log axis too: 0.0001 and 0.17 on one chart).  ``cells`` and
    ``lengths`` (a run's plan) are shown from the start: the legend in the window's order
    and the axis over every length, while the points arrive."""
    _, axis = metric_label(config)
    what, value = baseline(config)
    log_y = config.recurrent.task == "adding"
    plot.log_y = log_y
    plot.plot_item.setLogMode(x=True, y=log_y)
    lines = curves(points)
    t = config.training
    after = f"{t.steps} steps" if t.steps > 0 else f"{t.epochs} epochs"
    plot.set_title(f"{axis[0].upper()}{axis[1:]} after {after} vs sequence length")
    theme.set_axis_label(plot.plot_item, "left", axis)
    series, styles = {}, {}
    for cell in sorted(set(lines) | set(cells), key=CELLS.index):  # the window's order
        name = CELL_LABELS[cell]
        series[name] = lines.get(cell, ([], []))
        styles[name] = {"color": theme.color(cell_color_index(cell))}
    xs = sorted({int(x) for x in lengths} | {x for xs, _ in lines.values() for x in xs})
    ticks = None  # pyqtgraph's own, until there are lengths to label
    if xs:
        # a tick at each length trained (the log axis's own skipped 40 between 20 and 100)
        ticks = [[(math.log10(x), str(x)) for x in xs]]
        label = f"baseline {value:.3g}" if what == "baseline_mse" else f"chance {value:.3g}"
        series[label] = ([xs[0], xs[-1]], [value, value])
        styles[label] = {"color": theme.foreground(), "dash": True, "width": 1.2}
    plot.set_data(series, styles)
    plot.plot_item.getAxis("bottom").setTicks(ticks)
    for name, item in plot.series.items():  # a few points per line: show each
        if not name.startswith(("baseline", "chance")):
            item.setSymbol("o")
            item.setSymbolSize(7)


def length_figure(
    points: Iterable[LengthPoint],
    config: ExperimentConfig,
    size: tuple[int, int] = (1000, 600),
    light: bool = True,
) -> CurvePlot:
    """The curve as a standalone figure (the CLI's ``length_curve.png``), in the light
    theme like :func:`gui.figures.build_figures`."""
    from gui.figures import ensure_app

    ensure_app()
    theme.configure_pyqtgraph(light=light)
    fig = make_plot()
    fig.resize(*size)
    fig.plot.resize(*size)
    draw(fig, points, config)
    return fig


def vary_lengths(vary: Iterable[str]) -> str:
    """The ``recurrent.seq_len=...`` values of a preset's vary list, as the field shows
    them ("" when it does not vary the length)."""
    from engine.variants import parse_vary

    for key, values in parse_vary(list(vary)):
        if key == LENGTH_KEY:
            return ", ".join(values)
    return ""


class LengthCurvePanel(QWidget):
    """Lengths field, Run / Cancel, a progress line and the curve of the window's cells.

    ``settings()`` gives the (config, cells) to train: the window's current ones."""

    def __init__(
        self,
        settings: Callable[[], tuple[ExperimentConfig, tuple[str, ...]]],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.settings = settings
        self.workers: int | None = None  # None: every core (tests may use one)
        self.job: Background | None = None
        self.result: LengthResult | None = None
        self._cancel = threading.Event()
        self._dirty = False
        self.plot = make_plot()
        self.lengths = QLineEdit(DEFAULT_LENGTHS)
        self.lengths.setToolTip(
            "Sequence lengths T to train every checked cell at, e.g. 10, 20, 50, 100 "
            "(or lo:hi:n); each for the setup's training steps"
        )
        self.run_button = QPushButton("Run", clicked=self.start)
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel, enabled=False)
        self.status = QLabel("Trains every checked cell at each length (in worker processes)")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(QLabel("Lengths"))
        row.addWidget(self.lengths, 1)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(2, 2, 2, 2)
        column.addLayout(row)
        column.addWidget(self.status)
        column.addWidget(self.plot, 1)
        self._timer = QTimer(self, interval=1000 // DRAW_HZ, timeout=self._draw)

    def __repr__(self) -> str:
        return f"LengthCurvePanel({self.lengths.text()!r}, running={self.running})"

    @property
    def running(self) -> bool:
        return self.job is not None

    def set_lengths(self, text: str) -> None:
        """Fill the field (a preset's lengths); empty text leaves it as it is."""
        if text:
            self.lengths.setText(text)

    @Slot()
    def start(self) -> bool:
        """Check the lengths and train in the background; a bad field is reported (the
        field's message), nothing runs."""
        if self.running:
            return False
        config, cells = self.settings()
        try:
            plan = plan_lengths(config, self.lengths.text(), cells)
        except ConfigError as e:
            self.status.setText("Cannot run: " + "; ".join(e.errors))
            return False
        self.result = LengthResult(plan)
        self._cancel.clear()
        self.plot.reset()
        self._say()
        self._dirty = True
        self._draw()  # the cells and the lengths, before the first point
        workers, cancel = self.workers, self._cancel.is_set
        # each point comes back through the job's progress signal (queued to this thread)
        job = Background(
            lambda: run_lengths(plan, job.progress.emit, cancel, workers),
            "vglab-lengths",
            stop=self._cancel.set,
        )
        for signal, slot in ((job.progress, self._arrived), (job.done, self._finished)):
            signal.connect(slot)
        self.job = job
        self._set_running(True)
        job.start()
        self._timer.start()
        return True

    @Slot()
    def cancel(self) -> None:
        """Stop the pool; the points that arrived stay drawn and exportable."""
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling\u2026")

    def stop(self, timeout_ms: int = 15_000) -> None:
        """End a running job and its processes (the window is closing)."""
        if self.job is not None:
            self.job.stop()
            self.job.wait(timeout_ms)

    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        self.lengths.setEnabled(not on)

    def _say(self, end: str = "") -> None:
        r = self.result
        cells = ", ".join(CELL_LABELS[c] for c in r.plan.grid.values[0])
        self.status.setText(
            f"{len(r.points)} / {r.plan.count} nets ({cells} at T = "
            f"{', '.join(map(str, r.plan.lengths))}; {r.plan.length_text} each){end}"
        )

    @Slot(object)
    def _arrived(self, point: LengthPoint) -> None:
        if self.result is not None:
            self.result.points[(point.cell, point.seq_len)] = point
            self._say()
            self._dirty = True

    @Slot(object)
    def _finished(self, outcome) -> None:
        """The job ended: draw everything that arrived and say how it ended."""
        self.job = None
        self._timer.stop()
        self._set_running(False)
        if isinstance(outcome, LengthResult):
            self.result, self._dirty = outcome, True
            self._draw()
            ended = (
                f"; stopped: {outcome.failure}" if outcome.failure
                else "; cancelled" if outcome.cancelled
                else f"; finished in {outcome.seconds:.0f} s"
            )  # fmt: skip
            self._say(ended)
        else:  # the job raised: run_lengths itself failed (a broken net is a point)
            self.status.setText(f"The run failed: {type(outcome).__name__}: {outcome}")

    @Slot()
    def _draw(self) -> None:
        """Redraw if anything arrived since the last time (timer: bounded rate)."""
        if not self._dirty or self.result is None:
            return
        self._dirty = False
        plan = self.result.plan
        draw(self.plot, self.result.points.values(), plan.base, plan.grid.values[0], plan.lengths)

    def table(self) -> tuple[list[str], list[list]]:
        """(header, rows) of the curve, as ``vglab compare`` writes length_curve.csv."""
        if self.result is None:
            from gui.export import ExportError

            raise ExportError("nothing to export yet: press Run in the vs length tab")
        return length_rows(self.result.points.values(), self.result.plan.base)


__all__ = ["LengthCurvePanel", "draw", "length_figure", "make_plot", "vary_lengths"]
