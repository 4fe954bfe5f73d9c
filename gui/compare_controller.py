"""Runs a :class:`~engine.compare.CompareSession` in the training worker for the compare window.

The worker (:mod:`gui.worker`) is the one the main window uses; this module says what to
build (every variant of a base config, on one data set) and how a comparison becomes an
immutable :class:`~gui.frames.CompareFrame`.  No widgets here.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine.compare import CompareSession, Variants
from engine.config import ExperimentConfig
from gui.adapter import Adapter
from gui.frames import CompareFrame, FrameInfo, compare_frame, phase_text
from gui.worker import Command, WorkerController

__all__ = ["CompareController", "CompareFrame", "phase_text"]


class CompareAdapter(Adapter):
    """Every variant stepped in lock-step; a step-through is shown as "backward hidden 3"."""

    noun = "comparison"
    invalid = "Invalid comparison"
    thread = "comparison"

    def __init__(self):
        self.phase = "idle"  # the step-through's text for the frames

    def build(self, spec: tuple[ExperimentConfig, Variants], load, warm) -> CompareSession:
        base, variants = spec
        dataset = load(base)
        cs = CompareSession(base, variants, dataset)
        for s in cs.sessions.values():
            warm(s.config, s.dataset)  # a variant of other data or dtype has its own
        return cs

    def built(self, cs: CompareSession, spec) -> tuple[str, ...]:
        self.phase = "idle"
        return cs.names

    def sessions(self, cs: CompareSession) -> list:
        return list(cs.sessions.values())

    def frame(self, cs: CompareSession, spec, info: FrameInfo) -> CompareFrame:
        return compare_frame(cs, info, self.phase)

    def step(self, cs: CompareSession) -> None:
        if self.phase != "idle":  # a half-done step-through ends the step
            self._finish_step_through(cs)
        else:
            cs.step()

    def step_phase(self, cs: CompareSession) -> None:
        results = cs.step_phase()
        self.phase = phase_text(cs, results) if any(results.values()) else "idle"

    def run(self, cs: CompareSession, n: int, deadline: float) -> None:
        before = cs.step_count
        self._finish_step_through(cs)  # that counts as one of the n steps, as in Session.run
        n -= cs.step_count - before
        if n > 0:
            super().run(cs, n, deadline)

    def _finish_step_through(self, cs: CompareSession) -> None:
        while self.phase != "idle":
            self.step_phase(cs)


class CompareController(WorkerController):
    """A comparison running in a worker thread, reported with Qt signals.

    * ``frame_ready(CompareFrame)`` -- at most ``fps`` times a second while playing, and once
      after every command;
    * ``running_changed(bool)``, ``error(str)``, ``busy(bool)`` (building / loading data);
    * ``built(tuple[str, ...])`` -- a new comparison of these variants is ready;
    * ``diverged(str, Divergence)`` -- one variant diverged (the others keep training).
    """

    frame_ready = Signal(object)
    busy = Signal(bool)
    built = Signal(object)
    diverged = Signal(str, object)
    adapter = CompareAdapter  # what the worker trains (gui.recurrent_controller: its cells)
    thread_name = "vglab-compare"

    def __init__(self, fps: float = 30.0, parent: QObject | None = None):
        super().__init__(self.adapter(), fps, self.thread_name, parent)
        w = self._worker.worker
        w.busy.connect(self.busy)
        w.built.connect(self.built)
        w.diverged.connect(self.diverged)

    def __repr__(self) -> str:
        return f"CompareController(running={self._running}, latest={self._latest!r})"

    def build(self, base: ExperimentConfig, variants: Variants) -> None:
        """Build a new comparison (in the worker; ``error`` reports a bad one)."""
        self._send(Command.BUILD, (base, variants))

    def advance(self, n_steps: int) -> None:
        """Play ``n_steps`` lock-steps, then stop."""
        self._send(Command.ADVANCE, int(n_steps))

    def _publish(self, frame: CompareFrame) -> None:
        self.frame_ready.emit(frame)
