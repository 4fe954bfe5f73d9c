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
from gui.compare_controller import CompareAdapter, CompareController
from gui.frames import FrameInfo
from gui.recurrent_view import RecurrentFrame, recurrent_frame, vary_item
from gui.worker import Command

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


class RecurrentController(CompareController):
    """The Recurrent window's worker: the comparison's controller and signals
    (``frame_ready`` carries a :class:`RecurrentFrame`; ``build(config, cells)``), plus
    ``reverted(spec)`` -- a build failed and this one (or None) keeps running --,
    ``compiling(bool)`` -- the cells wait for their kernels to compile (first run only) --
    and the live learning rate."""

    reverted = Signal(object)
    compiling = Signal(bool)
    adapter = RecurrentAdapter
    thread_name = "vglab-recurrent"

    def __init__(self, fps: float = 30.0, parent: QObject | None = None):
        super().__init__(fps, parent)
        self._worker.worker.reverted.connect(self.reverted)
        self._worker.worker.compiling.connect(self.compiling)

    def __repr__(self) -> str:
        return f"RecurrentController(running={self._running}, latest={self._latest!r})"

    def set_learning_rate(self, lr: float) -> None:
        """Live: every cell trains on with ``lr``."""
        self._send(Command.LEARNING_RATE, float(lr))
