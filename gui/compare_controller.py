"""Runs a :class:`~engine.compare.CompareSession` in a worker thread for the compare window.

Same scheme as :mod:`gui.controller`: the GUI thread sends commands through a queue and
never touches the sessions; the worker steps every variant in lock-step and, at most ``fps``
times a second, packs the latest state into an immutable :class:`CompareFrame`.  A new
periodic frame is emitted only once the GUI has taken the previous one (back-pressure), so a
slow GUI never queues stale frames.  No widgets here.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from engine import threads
from engine.compare import CompareSession, Variants, VariantSummary, theory_series
from engine.config import ConfigError, ExperimentConfig
from gui.worker_loop import PacedLoop


@dataclass(frozen=True)
class CompareFrame:
    """Everything the compare window draws for one moment of the comparison."""

    generation: int  # bumps on every (re)build: the window resets its panels
    serial: int  # bumps on every frame
    reason: str  # built / play / step / phase / idle
    running: bool
    step: int  # lock-step count
    steps_per_epoch: int
    names: tuple[str, ...]  # variants, in table / colour order
    labels: tuple[str, ...]  # (L+1,) "hidden 1" .. "output"
    snapshots: dict  # name -> engine.session.Snapshot (grad_norm history)
    summaries: dict  # name -> engine.compare.VariantSummary
    theory: dict  # name -> {curve name: (L+1,) array}
    divergences: dict  # name -> engine.session.Divergence
    phase: str = "idle"  # "backward hidden 3 (15/25)" during a step-through
    base: ExperimentConfig | None = None
    extra: dict = field(default_factory=dict)

    @property
    def epoch(self) -> float:
        return self.step / max(self.steps_per_epoch, 1)

    def __repr__(self) -> str:
        return (
            f"CompareFrame(gen={self.generation}, serial={self.serial}, step={self.step}, "
            f"variants={len(self.names)}, running={self.running})"
        )


def phase_text(cs: CompareSession, results: dict) -> str:
    """ "backward hidden 3 (15/25)" for the phase just run, "idle" between steps (the
    deepest variant's: shallower ones finish their step first and wait for it)."""
    ran = [r for r in results.values() if r is not None]
    r = max(ran, key=lambda r: r.n_phases, default=None)
    return "idle" if r is None or r.index + 1 == r.n_phases else r.text


class _Worker(QObject, PacedLoop):
    """The loop of the worker thread; only it touches the CompareSession."""

    frame = Signal(object)
    error = Signal(str)
    running = Signal(bool)
    built = Signal(object)  # tuple of variant names
    diverged = Signal(str, object)  # name, Divergence
    busy = Signal(bool)  # loading data / building sessions

    def __init__(self, commands: queue.Queue, fps: float, in_flight: threading.Event):
        super().__init__()
        self.commands = commands
        self.frame_interval = 1.0 / (1.1 * fps)
        self.in_flight = in_flight
        self.cs: CompareSession | None = None
        self.spec: tuple[ExperimentConfig, Variants] | None = None
        self.generation = 0
        self.serial = 0
        self.playing = False
        self.stop_at: int | None = None
        self.speed: float | None = None
        self.quit = False
        self._dirty = False
        self._reason = "idle"
        self._phase = "idle"
        self._datasets: dict = {}
        self._reported: set[str] = set()
        self._last_emit = -math.inf
        self._blas_threads = 1  # BLAS threads while playing (engine.threads)

    def _stepped(self):
        return self.cs

    @Slot()
    def run(self) -> None:
        while not self.quit:
            try:
                self._drain(self._wait_time())
                if self.quit:
                    break
                if self.playing and self.cs is not None:
                    with threads.limited(self._blas_threads):
                        self._advance()
                if self._dirty or (self.playing and self._due()):
                    self._emit()
            except Exception as e:  # one bad command must not kill the thread
                self._dirty = False
                self._set_playing(False)
                self.error.emit(f"Internal error in the comparison thread: {type(e).__name__}: {e}")

    def _handle(self, name: str, *args) -> None:
        if name == "quit":
            self.quit = True
        elif name == "build":
            self._build(*args)
        elif name == "reset":
            if self.spec is not None:
                self._build(*self.spec)
        elif name == "speed":
            self.speed = args[0]
            self._restart_clock()
        elif name == "frame":
            self._mark("idle")
        elif self.cs is None:
            return
        elif name == "play":
            self.stop_at = None
            self._set_playing(bool(self.cs.active))
        elif name == "pause":
            self._set_playing(False)
        elif name == "advance":
            self.stop_at = self.cs.step_count + int(args[0])
            self._set_playing(bool(self.cs.active))
        elif name == "epoch":
            spe = self.cs.steps_per_epoch
            self.stop_at = (self.cs.step_count // spe + 1) * spe
            self._set_playing(bool(self.cs.active))
        elif name == "step":
            self._set_playing(False)
            if self._phase != "idle":  # finish a half-done step-through first
                while self._phase != "idle":
                    self._one_phase()
            else:
                self.cs.step()
            self._check_divergence()
            self._mark("step")
        elif name == "phase":
            self._set_playing(False)
            self._one_phase()
            self._check_divergence()
            self._mark("phase")

    def _one_phase(self) -> None:
        results = self.cs.step_phase()
        self._phase = phase_text(self.cs, results) if any(results.values()) else "idle"

    def _mark(self, reason: str) -> None:
        self._dirty = True
        self._reason = reason

    def _set_playing(self, playing: bool) -> None:
        if playing != self.playing:
            self.playing = playing
            self.running.emit(playing)
            if not playing:
                self._mark("idle")
        self._restart_clock()

    def _build(self, base: ExperimentConfig, variants: Variants) -> None:
        from engine.datasets import DataError, load_dataset

        self.busy.emit(True)
        try:
            key = (base.data, base.model.dtype)  # in the engine's dtype: no copies
            if key not in self._datasets:
                self._datasets = {key: load_dataset(*key)}  # keep one: MNIST is big
            cs = CompareSession(base, variants, self._datasets[key])
        except ConfigError as e:
            self.error.emit("Invalid comparison:\n" + "\n".join(e.messages))
            return
        except DataError as e:
            self.error.emit(f"Cannot load the data set: {e}")
            return
        except (ValueError, OSError, MemoryError) as e:
            self.error.emit(f"Cannot build the comparison: {e}")
            return
        finally:
            self.busy.emit(False)
        self.cs, self.spec = cs, (base, variants)
        self._blas_threads = threads.threads_for(cs.sessions.values(), "gui")
        self.generation += 1
        self._reported = set()
        self._phase = "idle"
        self.stop_at = None
        self._set_playing(False)
        self.built.emit(cs.names)
        self._mark("built")

    def _advance(self) -> None:
        """Lock-steps until the next frame is due (or a command arrives, or the speed cap)."""
        cs = self.cs
        if self._phase != "idle":
            while self._phase != "idle":
                self._one_phase()
        deadline = max(self._last_emit + self.frame_interval, time.perf_counter() + 0.002)
        while self.playing:
            if self._over_speed():
                break
            n = self._steps_allowed()  # compiled chunks up to the frame or a limit
            if self.stop_at is not None:
                n = min(n, self.stop_at - cs.step_count)
            cs.run(n, seconds=deadline - time.perf_counter())
            if not cs.active:
                self._set_playing(False)
            if self.stop_at is not None and cs.step_count >= self.stop_at:
                self.stop_at = None
                self._set_playing(False)
            if time.perf_counter() >= deadline or not self.commands.empty():
                break
        self._check_divergence()

    def _check_divergence(self) -> None:
        for name, d in self.cs.divergences.items():
            if name not in self._reported:
                self._reported.add(name)
                self.diverged.emit(name, d)
                self._mark("diverged")

    def _emit(self) -> None:
        cs = self.cs
        self._dirty = False
        if cs is None:
            return
        self._last_emit = time.perf_counter()
        self.serial += 1
        reason, self._reason = self._reason, ("play" if self.playing else "idle")
        snaps = cs.snapshots(with_history=True)
        summaries: dict[str, VariantSummary] = cs.summaries(snaps)
        labels = next(iter(snaps.values())).layer_labels
        frame = CompareFrame(
            generation=self.generation,
            serial=self.serial,
            reason=reason,
            running=self.playing,
            step=cs.step_count,
            steps_per_epoch=cs.steps_per_epoch,
            names=cs.names,
            labels=labels,
            snapshots=snaps,
            summaries=summaries,
            theory={n: theory_series(s) for n, s in snaps.items()},
            divergences=cs.divergences,
            phase=self._phase,
            base=cs.base,
        )
        self.in_flight.set()
        self.frame.emit(frame)


class CompareController(QObject):
    """A comparison running in a worker thread, reported with Qt signals.

    * ``frame_ready(CompareFrame)`` -- at most ``fps`` times a second while playing, and once
      after every command;
    * ``running_changed(bool)``, ``error(str)``, ``busy(bool)`` (building / loading data);
    * ``built(tuple[str, ...])`` -- a new comparison of these variants is ready;
    * ``diverged(str, Divergence)`` -- one variant diverged (the others keep training).
    """

    frame_ready = Signal(object)
    running_changed = Signal(bool)
    error = Signal(str)
    busy = Signal(bool)
    built = Signal(object)
    diverged = Signal(str, object)

    def __init__(self, fps: float = 30.0, parent: QObject | None = None):
        super().__init__(parent)
        self._commands: queue.Queue = queue.Queue()
        self._in_flight = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("vglab-compare")
        self._worker = _Worker(self._commands, fps, self._in_flight)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.frame.connect(self._on_frame)
        self._worker.running.connect(self._on_running)
        self._worker.error.connect(self.error)
        self._worker.busy.connect(self.busy)
        self._worker.built.connect(self.built)
        self._worker.diverged.connect(self.diverged)
        self._running = False
        self._latest: CompareFrame | None = None
        self._started = False
        app = QCoreApplication.instance()
        if app is not None:  # never leave a running QThread behind at exit
            app.aboutToQuit.connect(self.shutdown)

    def __repr__(self) -> str:
        return f"CompareController(running={self._running}, latest={self._latest!r})"

    @property
    def running(self) -> bool:
        return self._running

    @property
    def latest(self) -> CompareFrame | None:
        return self._latest

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        if not self._started:
            self._started = True
            self._thread.start()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the worker and wait for its thread; False if it is still busy afterwards."""
        if not self._started:
            return not self._thread.isRunning()
        self._started = False
        self._commands.put(("quit",))
        self._thread.quit()
        return bool(self._thread.wait(timeout_ms))

    def _send(self, *cmd) -> None:
        self._commands.put(cmd)

    def build(self, base: ExperimentConfig, variants: Variants) -> None:
        """Build a new comparison (in the worker; ``error`` reports a bad one)."""
        self._send("build", base, variants)

    def play(self) -> None:
        self._send("play")

    def pause(self) -> None:
        self._send("pause")

    def toggle_play(self) -> None:
        self.pause() if self._running else self.play()

    def step(self) -> None:
        """One mini-batch for every variant."""
        self._send("step")

    def step_phase(self) -> None:
        """One phase (forward k / loss / backward k / update) for every variant."""
        self._send("phase")

    def advance(self, n_steps: int) -> None:
        """Play ``n_steps`` lock-steps, then stop."""
        self._send("advance", int(n_steps))

    def run_epoch(self) -> None:
        self._send("epoch")

    def reset(self) -> None:
        """Rebuild the same comparison: fresh weights, empty history."""
        self._send("reset")

    def set_speed(self, steps_per_second: float | None) -> None:
        if steps_per_second is not None and not steps_per_second > 0:
            raise ValueError(f"speed: must be > 0 steps/s or None, got {steps_per_second!r}")
        self._send("speed", steps_per_second)

    def request_frame(self) -> None:
        self._send("frame")

    @Slot(object)
    def _on_frame(self, frame: CompareFrame) -> None:
        self._in_flight.clear()
        self._latest = frame
        self.frame_ready.emit(frame)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._running = running
        self.running_changed.emit(running)
