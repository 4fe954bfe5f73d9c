"""The one training worker: any steppable (engine.steppable) trained in a QThread of its own.

The GUI thread never touches the model.  It sends :class:`Command` values through a
thread-safe queue (:class:`WorkerThread`); the worker builds the model, steps it while
playing and, paced by one :class:`~gui.pacing.FrameScheduler`, packs the *latest* state into
an immutable frame.  What to build and how a model becomes a frame is an :class:`Adapter`'s
business (single run: :mod:`gui.controller`; comparison: :mod:`gui.compare_controller`).

Back-pressure: a periodic frame is only sent once the GUI has received the previous one, so
a slow GUI never queues stale frames; training keeps running between frames either way.

:func:`run_in_background` is the same thread idiom for a one-off job (the gallery's kernel
timing): ``fn()`` in a QThread, its result delivered in the caller's thread.
"""

from __future__ import annotations

import enum
import queue
import threading
import time

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from engine import threads
from gui.adapter import Adapter, build_error_message
from gui.background import Background, run_in_background
from gui.frames import FrameInfo
from gui.pacing import FrameScheduler

#: (label, steps per second or None for "as fast as possible"), slowest first: both windows
#: offer these, and open on the last one
SPEEDS = (
    ("1 step/s", 1.0),
    ("5 steps/s", 5.0),
    ("20 steps/s", 20.0),
    ("100 steps/s", 100.0),
    ("1000 steps/s", 1000.0),
    ("max", None),
)
__all__ = ["SPEEDS", "Command", "WorkerController", "WorkerThread", "run_in_background"]


#: how long quitting the app waits for a worker to stop before leaving it
QUIT_TIMEOUT_MS = 3000


class Command(enum.Enum):
    """What the GUI asks of the worker (arguments in brackets)."""

    QUIT = enum.auto()
    BUILD = enum.auto()  # (spec): build a new model; a failed build keeps the old one
    RESET = enum.auto()  # build the same spec again: fresh weights, empty history
    SPEED = enum.auto()  # (steps/s or None)
    FRAME = enum.auto()  # send a frame now
    SELECT = enum.auto()  # (layer): whose batch arrays the frames carry
    LEARNING_RATE = enum.auto()  # (lr): live, no rebuild
    PLAY = enum.auto()
    PAUSE = enum.auto()
    EPOCH = enum.auto()  # play to the end of the current epoch
    ADVANCE = enum.auto()  # (n): play n steps
    STEP = enum.auto()  # one mini-batch
    PHASE = enum.auto()  # one phase of the step-through
    KERNELS = enum.auto()  # (stage, key): the compile process reached a stage (precompile)


class _Worker(QObject):
    """The loop of the worker thread; only it touches the model."""

    frame = Signal(object)
    phase = Signal(str, int)
    diverged = Signal(str, object)  # run name, engine.session.Divergence
    compiling = Signal(bool)
    busy = Signal(bool)  # loading data / building
    error = Signal(str)
    running = Signal(bool)
    built = Signal(object)  # Adapter.built(...)
    reverted = Signal(object)  # a build failed: the spec still running (or None)

    def __init__(self, adapter: Adapter, commands: queue.Queue, fps: float, in_flight):
        super().__init__()
        self.adapter = adapter
        self.commands = commands
        self.pace = FrameScheduler(fps)
        self.in_flight = in_flight  # set while the GUI has not yet received the last frame
        self.target = None
        self.spec = None
        self.generation = 0
        self.serial = 0
        self.playing = False
        self.stop_at: int | None = None  # play-until target step (epoch, advance)
        self.quit = False
        self._dirty = False
        self._reason = "idle"
        self._datasets: dict = {}
        self._reported: set[str] = set()
        self._blas_threads = 1  # BLAS threads while playing (engine.threads)
        self._waiting: list = []  # sessions on NumPy until their kernels are compiled
        self._compiling = False  # the "compiling kernels" notice is on
        self._held: set[tuple] = set()  # keys of recurrent kernels a compile process compiles
        self._deferred: list[tuple] = []  # steps asked for while held

    def __repr__(self) -> str:
        return f"_Worker({self.adapter!r}, gen={self.generation}, playing={self.playing})"

    # --- loop --------------------------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """Process commands and step the model until told to quit."""
        while not self.quit:
            try:
                self._drain(self._wait_time())
                if self.quit:
                    break
                if self._live:
                    with threads.limited(self._blas_threads):
                        self._advance()
                if self._dirty or (self._live and self.pace.due(self.in_flight.is_set())):
                    self._emit()
            except Exception as e:  # never let one bad command kill the worker thread
                self._dirty = False
                if self.playing:
                    self.playing = False
                    self.running.emit(False)
                where = self.adapter.thread
                self.error.emit(f"Internal error in the {where} thread: {type(e).__name__}: {e}")

    @property
    def _live(self) -> bool:
        """Playing, and able to step (not held until a compile process has the kernels)."""
        return self.playing and self.target is not None and not self._held

    def _step_count(self) -> int | None:
        return None if self.target is None else self.target.step_count

    def _wait_time(self) -> float | None:
        return self.pace.wait_time(self._step_count(), self._live, self._dirty)

    def _drain(self, timeout: float | None) -> None:
        """Handle every queued command, waiting up to ``timeout`` for the first."""
        try:
            cmd = self.commands.get(timeout=timeout) if timeout != 0 else self.commands.get_nowait()
        except queue.Empty:
            return
        while True:
            self._handle(*cmd)
            try:
                cmd = self.commands.get_nowait()
            except queue.Empty:
                return

    # --- commands ----------------------------------------------------------------------------
    def _handle(self, command: Command, *args) -> None:
        handler = _SETUP.get(command)
        if handler is not None:
            handler(self, *args)
        elif self.target is not None:  # transport commands need a model
            if self._held and command in (Command.STEP, Command.PHASE):
                self._deferred.append((command, *args))  # taken once the kernels are in
                return
            _TRANSPORT[command](self, self.target, *args)

    def _quit(self) -> None:
        self.quit = True

    def _reset(self) -> None:
        if self.spec is not None:
            self._build(self.spec)

    def _set_speed(self, speed: float | None) -> None:
        self.pace.speed = speed
        self.pace.restart(self._step_count() or 0)

    def _select(self, layer: int) -> None:
        self.adapter.select(int(layer))
        self._mark("select")

    def _play(self, t, until: int | None = None) -> None:
        self.stop_at = until
        self._set_playing(not t.diverged)

    def _epoch(self, t) -> None:
        spe = t.steps_per_epoch
        self._play(t, (t.step_count // spe + 1) * spe)
        self._reason = "epoch"

    def _step(self, t) -> None:
        self._set_playing(False)
        self.adapter.step(t)
        self._check_divergence()
        self._mark("step")

    def _phase(self, t) -> None:
        self._set_playing(False)
        where = self.adapter.step_phase(t)
        if where is not None:
            self.phase.emit(*where)
        self._check_divergence()
        self._mark("phase")

    def _learning_rate(self, t, lr: float) -> None:
        self.spec = self.adapter.set_learning_rate(t, self.spec, float(lr))
        self._mark("idle")

    def _mark(self, reason: str) -> None:
        self._dirty = True
        self._reason = reason

    def _set_playing(self, playing: bool) -> None:
        if playing != self.playing:
            self.playing = playing
            self.running.emit(playing)
            if not playing:
                self._mark("idle")
        self.pace.restart(self._step_count() or 0)

    # --- building ----------------------------------------------------------------------------
    def _dataset(self, cfg):
        from engine.datasets import load_dataset

        key = (cfg.data, cfg.model.dtype)  # in the engine's dtype: sessions copy nothing
        if key not in self._datasets:
            self._datasets = {key: load_dataset(*key)}  # keep one: MNIST is big
        return self._datasets[key]

    def _warm_up(self, cfg, dataset) -> None:
        """Have another process compile the kernels ``cfg`` needs, unless they are loaded
        (the model trains on NumPy meanwhile: engine.precompile, :meth:`_kernels`) or a
        previous run cached them (then loading them here takes ~1 s, no process)."""
        from engine import precompile
        from engine.warmup import warm_up

        if precompile.is_warm(cfg, dataset):
            return
        key = precompile.warm_key(cfg, dataset)
        if precompile.cached(key):
            warm_up(cfg, dataset)
        else:
            precompile.shared().request(key, self.kernels_reached)

    def kernels_reached(self, stage: str, key: tuple) -> None:
        """Called by the compile process's reader thread: queued like any command."""
        self.commands.put((Command.KERNELS, stage, key))

    def _kernels(self, stage: str, key: tuple) -> None:
        """Tell the user while the kernels compile; switch to them, between two steps (or
        phases), once they are in the cache."""
        from engine import precompile

        if key in self._held and stage in ("recurrent", precompile.FAILED):
            self._release(key)
        if stage == "many":  # sessions switched at "phases" left _waiting: load it for them
            running = self.adapter.sessions(self.target) if self.target is not None else []
            precompile.adopt(stage, key, precompile.backend_sessions(running))
            return
        mine = [s for s in self._waiting if precompile.warm_key(s.config, s.dataset) == key]
        if not mine:
            return
        if stage in ("compiling", precompile.FAILED):
            self._set_compiling(True)  # a failed process: compiled here, the old way
        if stage in ("phases", precompile.FAILED):
            if self._dirty:  # the frame due (the first, say) goes out before a ~1 s load,
                self._emit()  # and the GUI takes and draws it: loading holds the GIL long
            until = time.perf_counter() + 2.0
            while self.in_flight.is_set() and time.perf_counter() < until:
                time.sleep(0.01)
            time.sleep(0.2)
        if precompile.adopt(stage, key, mine):
            self._waiting = [s for s in self._waiting if s.backend != "numba"]
            self._mark("kernels")
            self._set_compiling(bool(self._waiting) and self._compiling)

    def _release(self, key: tuple) -> None:
        """The recurrent kernels of ``key`` are cached (or the process failed): load (or
        compile) them here, then step as asked meanwhile."""
        from engine.warmup import warm_up_recurrent

        if self._dirty:
            self._emit()
        warm_up_recurrent(key[0])
        self._held.discard(key)
        if not self._held:
            self._set_compiling(bool(self._waiting) and self._compiling)
            deferred, self._deferred = self._deferred, []
            for command in deferred:
                self._handle(*command)
            self._mark("kernels")
            self.pace.restart(self._step_count() or 0)

    def _set_compiling(self, on: bool) -> None:
        if on != self._compiling:
            self._compiling = on
            self.compiling.emit(on)

    def _build(self, spec) -> None:
        self.busy.emit(True)
        try:
            target = self.adapter.build(spec, self._dataset, self._warm_up)
        except Exception as e:
            a = self.adapter
            message = build_error_message(e, a.invalid, a.noun)
            if message is None:
                raise
            self.error.emit(message)  # the previous model keeps running
            self.reverted.emit(self.spec)
            return
        finally:
            self.busy.emit(False)
        self.target, self.spec = target, spec
        from engine.precompile import hold_recurrent, on_numpy_until_compiled

        self._waiting = on_numpy_until_compiled(self.adapter.sessions(target))
        self._held = hold_recurrent(self.adapter.sessions(target), self.kernels_reached)
        self._deferred = []
        self._set_compiling(bool(self._waiting and self._compiling) or bool(self._held))
        self._blas_threads = threads.threads_for(self.adapter.sessions(target), "gui")
        self.generation += 1
        self._reported = set()
        self._set_playing(False)
        self.stop_at = None
        self.built.emit(self.adapter.built(target, spec))
        self._mark("built")

    # --- stepping ----------------------------------------------------------------------------
    def _advance(self) -> None:
        """Step until the next frame is due (or a command arrives, or the speed cap is hit)."""
        t, pace = self.target, self.pace
        deadline = pace.deadline()
        while self.playing:
            if pace.over_speed(t.step_count):
                break
            n = pace.steps_allowed(t.step_count)
            if self.stop_at is not None:
                n = min(n, self.stop_at - t.step_count)
            self.adapter.run(t, n, deadline)
            if t.diverged:
                self._set_playing(False)
                break
            if self.stop_at is not None and t.step_count >= self.stop_at:
                self.stop_at = None
                self._set_playing(False)
                break
            if time.perf_counter() >= deadline or not self.commands.empty():
                break
        self._check_divergence()

    def _check_divergence(self) -> None:
        """Report each run's divergence once."""
        for name, d in self.target.divergences.items():
            if name not in self._reported:
                self._reported.add(name)
                self.diverged.emit(name, d)
                self._mark("diverged")

    # --- frames ------------------------------------------------------------------------------
    def _emit(self) -> None:
        self._dirty = False
        if self.target is None:
            return
        now = time.perf_counter()
        self.pace.last_emit = now
        self.serial += 1
        reason, self._reason = self._reason, ("play" if self.playing else "idle")
        info = FrameInfo(self.generation, self.serial, reason, self.playing, now)
        frame = self.adapter.frame(self.target, self.spec, info)
        self.in_flight.set()
        self.frame.emit(frame)


# commands that need no model, and those that do (called with the model)
_SETUP = {
    Command.QUIT: _Worker._quit,
    Command.BUILD: _Worker._build,
    Command.RESET: _Worker._reset,
    Command.SPEED: _Worker._set_speed,
    Command.SELECT: _Worker._select,
    Command.FRAME: lambda w: w._mark("idle"),
    Command.KERNELS: _Worker._kernels,
}
_TRANSPORT = {
    Command.PLAY: _Worker._play,
    Command.PAUSE: lambda w, t: w._set_playing(False),
    Command.EPOCH: _Worker._epoch,
    Command.ADVANCE: lambda w, t, n: w._play(t, t.step_count + int(n)),
    Command.STEP: _Worker._step,
    Command.PHASE: _Worker._phase,
    Command.LEARNING_RATE: _Worker._learning_rate,
}


class WorkerThread(QObject):
    """The GUI side of one worker: its command queue, its thread and its shutdown.

    The worker's signals are on :attr:`worker` (connect to them); ``frame_ready`` re-emits
    its frames after clearing the back-pressure flag.  Shut down on ``aboutToQuit``.
    """

    frame_ready = Signal(object)

    def __init__(self, adapter: Adapter, fps: float, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._commands: queue.Queue = queue.Queue()
        self._in_flight = threading.Event()
        self.worker = _Worker(adapter, self._commands, fps, self._in_flight)
        self.worker.frame.connect(self._on_frame)
        self._job = Background(self.worker.run, name, stop=lambda: self.send(Command.QUIT))
        self._started = False
        app = QCoreApplication.instance()
        if app is not None:  # never leave a running QThread behind at exit
            app.aboutToQuit.connect(self._on_quit)

    def _on_quit(self) -> None:
        # the app is closing without its window's closeEvent (logout, Cmd-Q): a kernel still
        # compiling gets a few seconds, not the window's patient wait
        self.shutdown(QUIT_TIMEOUT_MS)

    def __repr__(self) -> str:
        return f"WorkerThread({self.worker!r}, started={self._started})"

    @property
    def thread(self) -> QThread:
        return self._job.thread

    @property
    def started(self) -> bool:
        return self._started

    def send(self, command: Command, *args) -> None:
        """Queue a command (thread-safe, non-blocking)."""
        self._commands.put((command, *args))

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if not self._started:
            self._started = True
            self._job.start()

    @Slot()
    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the worker and wait for its thread.  False if it is still busy afterwards
        (a cold Numba compilation cannot be interrupted): the caller should then exit hard."""
        if not self._started:
            return not self.thread.isRunning()
        self._started = False
        self.send(Command.QUIT)
        return self._job.wait(timeout_ms)

    @Slot(object)
    def _on_frame(self, frame) -> None:
        self._in_flight.clear()
        self.frame_ready.emit(frame)


class WorkerController(QObject):
    """Base of the controllers: the transport commands and the state every window reads.

    A subclass passes its :class:`Adapter`, connects the worker signals it re-emits and
    implements :meth:`_publish` (emit the frame under its own signal's name).
    """

    running_changed = Signal(bool)
    error = Signal(str)

    def __init__(self, adapter: Adapter, fps: float, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._worker = WorkerThread(adapter, fps, name, self)
        self._worker.frame_ready.connect(self._on_frame)
        self._worker.worker.running.connect(self._on_running)
        self._worker.worker.error.connect(self.error)
        self._running = False
        self._latest = None

    @property
    def running(self) -> bool:
        """Playing or not (a run also stops by itself: end of epoch, divergence)."""
        return self._running

    @property
    def latest(self):
        """The last frame received (None before the first build)."""
        return self._latest

    @property
    def _thread(self) -> QThread:
        return self._worker.thread

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        self._worker.start()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the worker and wait for its thread; False if it is still busy afterwards."""
        return self._worker.shutdown(timeout_ms)

    def _send(self, command: Command, *args) -> None:
        self._worker.send(command, *args)

    def play(self) -> None:
        self._send(Command.PLAY)

    def pause(self) -> None:
        self._send(Command.PAUSE)

    def toggle_play(self) -> None:
        self.pause() if self._running else self.play()

    def step(self) -> None:
        """One mini-batch."""
        self._send(Command.STEP)

    def step_phase(self) -> None:
        """One phase: forward through a layer, the loss, backward through a layer, or the update."""
        self._send(Command.PHASE)

    def run_epoch(self) -> None:
        """Play until the end of the current epoch."""
        self._send(Command.EPOCH)

    def reset(self) -> None:
        """Build the same model again: fresh weights, empty history."""
        self._send(Command.RESET)

    def set_speed(self, steps_per_second: float | None) -> None:
        """Cap training at ``steps_per_second`` (None: as fast as possible)."""
        if steps_per_second is not None and not steps_per_second > 0:
            raise ValueError(f"speed: must be > 0 steps/s or None, got {steps_per_second!r}")
        self._send(Command.SPEED, steps_per_second)

    def request_frame(self) -> None:
        """Ask for a fresh frame now (e.g. after the GUI was reset)."""
        self._send(Command.FRAME)

    def _publish(self, frame) -> None:
        raise NotImplementedError

    @Slot(object)
    def _on_frame(self, frame) -> None:
        self._latest = frame
        self._publish(frame)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._running = running
        self.running_changed.emit(running)
