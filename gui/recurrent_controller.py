"""Runs the Recurrent window's cells in lock-step in the training worker (gui.worker).

The spec is ``(config, cells)``: one recurrent config and the cells to run (``rnn``,
``lstm``, ``gru``), built as the variants ``recurrent.cell=...`` of one
:class:`~engine.compare.CompareSession` (the lock-step loop the compare window uses).
Building and compiling happen in the worker thread; a frame is a
:class:`~gui.recurrent_view.RecurrentFrame`.  No widgets here.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine.compare import CompareSession
from engine.config import ExperimentConfig, updated
from gui.compare_controller import CompareAdapter
from gui.frames import FrameInfo
from gui.recurrent_view import RecurrentFrame, recurrent_frame, vary_item
from gui.worker import Command, WorkerController

__all__ = ["RecurrentAdapter", "RecurrentController", "RecurrentFrame"]


class RecurrentAdapter(CompareAdapter):
    """The chosen cells stepped together (the comparison's stepping and step-through); a
    step-through is "backward layer 1 t=7 (15/40)"."""

    noun = "recurrent nets"
    invalid = "Invalid recurrent settings"
    thread = "recurrent"

    def build(self, spec: tuple[ExperimentConfig, tuple[str, ...]], load, warm) -> CompareSession:
        # recurrent sessions load their sequences and compile their kernels where they run
        base, cells = spec
        return CompareSession(base, [vary_item(cells)])

    def built(self, cs: CompareSession, spec) -> tuple[str, ...]:
        self.phase = "idle"
        return tuple(spec[1])

    def frame(self, cs: CompareSession, spec, info: FrameInfo) -> RecurrentFrame:
        return recurrent_frame(cs, info, self.phase)

    def set_learning_rate(self, cs: CompareSession, spec, lr: float):
        """Every cell takes ``lr`` at its next step; a reset rebuilds with it."""
        base, cells = spec
        for s in cs.sessions.values():
            s.learning_rate = lr
        return updated(base, **{"training.learning_rate": lr}), cells


class RecurrentController(WorkerController):
    """The Recurrent window's worker, reported with Qt signals.

    * ``frame_ready(RecurrentFrame)`` -- at most ``fps`` times a second while playing, and
      once after every command;
    * ``running_changed(bool)``, ``error(str)``, ``busy(bool)`` (building / compiling);
    * ``built(tuple[str, ...])`` -- the cells of a new build; ``reverted(spec)`` -- a build
      failed and this one (or None) keeps running;
    * ``diverged(str, RecurrentDivergence)`` -- one cell diverged (the others keep training).
    """

    frame_ready = Signal(object)
    busy = Signal(bool)
    built = Signal(object)
    reverted = Signal(object)
    diverged = Signal(str, object)

    def __init__(self, fps: float = 30.0, parent: QObject | None = None):
        super().__init__(RecurrentAdapter(), fps, "vglab-recurrent", parent)
        w = self._worker.worker
        w.busy.connect(self.busy)
        w.built.connect(self.built)
        w.reverted.connect(self.reverted)
        w.diverged.connect(self.diverged)

    def __repr__(self) -> str:
        return f"RecurrentController(running={self._running}, latest={self._latest!r})"

    def build(self, config: ExperimentConfig, cells: tuple[str, ...]) -> None:
        """Build ``cells`` of ``config`` (in the worker; ``error`` reports a bad one)."""
        self._send(Command.BUILD, (config, tuple(cells)))

    def set_learning_rate(self, lr: float) -> None:
        """Live: every cell trains on with ``lr``."""
        self._send(Command.LEARNING_RATE, float(lr))

    def advance(self, n_steps: int) -> None:
        """Play ``n_steps`` lock-steps, then stop."""
        self._send(Command.ADVANCE, int(n_steps))

    def _publish(self, frame: RecurrentFrame) -> None:
        self.frame_ready.emit(frame)
