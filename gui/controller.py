"""The controller: owns the training :class:`~engine.session.Session` in a worker thread.

The GUI thread never touches the session.  It sends commands (play, pause, step, step
phase, epoch, reset, rebuild, learning rate, speed, selected layer) through a thread-safe
queue; the worker steps the session at full speed and, at most ``fps`` times per second,
packs the *latest* state into an immutable :class:`Frame` (a Snapshot plus the small arrays
the panels draw: edge sub-matrices, the selected layer's batch arrays, the decision
boundary) and emits it with :attr:`Controller.snapshot_ready`.

Back-pressure: a new periodic frame is only emitted once the GUI has received the previous
one, so a slow GUI never builds up a queue of stale frames; training keeps running between
frames either way.  No widgets here: the controller works (and is tested) without any.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine import threads
from engine.config import ConfigError, ExperimentConfig, updated, validate
from engine.summary import theory_series
from gui.worker_loop import PacedLoop

#: most units per layer the network diagram draws (the rest are "+N more")
MAX_DRAWN = 16
#: seconds between captures of the selected layer's batch arrays while playing
SAMPLE_INTERVAL = 0.1
#: seconds between decision-boundary evaluations while playing
BOUNDARY_INTERVAL = 0.25
#: seconds between fresh copies of the metric history while playing
HISTORY_INTERVAL = 0.2
#: grid points per side of the decision-boundary image
BOUNDARY_GRID = 80
#: training points drawn over the decision boundary
BOUNDARY_POINTS = 600

# training fields a running session can take without being rebuilt
_LIVE_FIELDS = ("learning_rate",)


def default_config() -> ExperimentConfig:
    """The experiment the app opens on: a deep sigmoid net whose gradients visibly vanish.

    10 hidden sigmoid layers of 32 units, Xavier init, plain SGD on the bundled 8x8 digits
    (the 2-D spiral when the bundled files are missing).
    """
    from engine.datasets import ASSETS_DIR

    has_digits = (ASSETS_DIR / "digits.npz").exists()
    cfg = ExperimentConfig(
        name="deep-sigmoid",
        description="10 sigmoid layers: the gradient shrinks ~4x or more per layer going back.",
    )
    cfg = updated(
        cfg,
        **{
            "model.depth": 10,
            "model.width": 32,
            "model.activation": "sigmoid",
            "model.init": "xavier_normal",
            "training.optimizer": "sgd",
            "training.learning_rate": 0.1,
            "training.batch_size": 32,
        },
    )
    if not has_digits:
        cfg = updated(
            cfg,
            **{
                "data.name": "spiral",
                "data.n_samples": 600,
                "data.n_classes": 3,
                "data.noise": 0.1,
            },
        )
    return cfg


def needs_rebuild(old: ExperimentConfig | None, new: ExperimentConfig) -> bool:
    """True unless ``new`` differs from ``old`` only in live settings (the learning rate)."""
    if old is None:
        return True
    live = {f"training.{name}": getattr(old.training, name) for name in _LIVE_FIELDS}
    return updated(new, **live) != old


def drawn_units(width: int, limit: int = MAX_DRAWN) -> np.ndarray:
    """Indices of the units the diagram draws for a layer of ``width``: evenly spaced."""
    if width <= limit:
        return np.arange(width)
    return np.unique(np.linspace(0, width - 1, limit).round().astype(np.int64))


def boundary_grid(X: np.ndarray, n: int = BOUNDARY_GRID) -> tuple[np.ndarray, np.ndarray]:
    """(xs (n,), ys (n,)) spanning the first two features of ``X`` with a 10% margin."""
    lo, hi = X[:, :2].min(axis=0), X[:, :2].max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    lo, hi = lo - pad, hi + pad
    return np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)


@dataclass(frozen=True)
class Boundary:
    """Decision boundary of a 2-D classifier on a grid, plus the points to draw over it."""

    xs: np.ndarray  # (n,) grid x coordinates
    ys: np.ndarray  # (n,) grid y coordinates
    probs: np.ndarray  # (n, n, n_out) network output at (ys[i], xs[j]) -> probs[i, j]
    X: np.ndarray  # (m, 2) training points (a subsample)
    y: np.ndarray  # (m,) int class labels

    @property
    def xx(self) -> np.ndarray:
        """(n, n) x coordinate of every grid point (``np.meshgrid`` layout)."""
        return np.meshgrid(self.xs, self.ys)[0]

    @property
    def yy(self) -> np.ndarray:
        return np.meshgrid(self.xs, self.ys)[1]

    @property
    def scores(self) -> np.ndarray:
        """(n, n) P(class 1) for one or two outputs (a smooth field with a 0.5 contour),
        else the predicted class."""
        if self.probs.shape[-1] <= 2:
            return self.probs[..., -1]
        return np.argmax(self.probs, axis=-1).astype(np.float64)

    def __repr__(self) -> str:
        return f"Boundary(grid={len(self.xs)}x{len(self.ys)}, points={len(self.X)})"


@dataclass(frozen=True)
class Frame:
    """Everything the panels draw for one moment of the run (immutable, numbers only)."""

    generation: int  # bumps on every (re)build: panels reset when it changes
    serial: int  # bumps on every frame
    reason: str  # built / play / step / phase / epoch / select / idle
    running: bool
    config: ExperimentConfig
    snapshot: object  # engine.session.Snapshot (with history)
    input_width: int
    input_label: str
    drawn: tuple[np.ndarray, ...]  # (L+2,) drawn unit indices per column, input first
    edge_grads: tuple[np.ndarray, ...]  # (L+1,) |dL/dW_k| on drawn units (n_in_d, n_out_d)
    edge_weights: tuple[np.ndarray, ...]  # (L+1,) |W_k| on drawn units
    selected: int  # selected layer 0..L
    layer_arrays: dict = field(default_factory=dict)  # selected layer: z, fprime, delta, ...
    arrays_step: int = -1  # step whose batch ``layer_arrays`` come from
    boundary: Boundary | None = None
    overlays: dict = field(default_factory=dict)  # name -> (L+1,) theory curves
    activation_params: tuple[float, ...] = ()  # (L+1,) f parameter per layer

    @property
    def depth(self) -> int:
        return len(self.drawn) - 2

    def __repr__(self) -> str:
        return (
            f"Frame(gen={self.generation}, serial={self.serial}, {self.reason}, "
            f"step={self.snapshot.step}, running={self.running})"
        )


# ----------------------------------------------------------------------------- worker


class _Worker(QObject, PacedLoop):
    """The loop that lives in the worker thread.  Only it touches the session."""

    frame = Signal(object)
    phase = Signal(str, int)
    diverged = Signal(object)
    compiling = Signal(bool)
    error = Signal(str)
    running = Signal(bool)
    built = Signal(object)
    reverted = Signal(object)

    def __init__(self, commands: queue.Queue, fps: float, in_flight: threading.Event):
        super().__init__()
        self.commands = commands
        # a little faster than the GUI's redraw rate, so a fresh frame is always waiting
        self.frame_interval = 1.0 / (1.2 * fps)
        self.in_flight = in_flight  # set while the GUI has not yet received the last frame
        self.session = None
        self.config: ExperimentConfig | None = None
        self.generation = 0
        self.serial = 0
        self.playing = False
        self.stop_at: int | None = None  # run-one-epoch target step
        self.speed: float | None = None  # steps/s cap; None = as fast as possible
        self.selected = 0
        self.quit = False
        self._dirty = False
        self._reason = "idle"
        self._datasets: dict = {}
        self._layer_cache: dict[int, dict[str, np.ndarray]] = {}
        self._cache_step = -1
        self._last_sample = -math.inf
        self._last_emit = -math.inf
        self._boundary: Boundary | None = None
        self._last_boundary = -math.inf
        self._boundary_step = -1
        self._drawn: tuple[np.ndarray, ...] = ()
        self._reported_divergence = False
        self._history: dict | None = None
        self._history_time = -math.inf
        self._blas_threads = 1  # BLAS threads while playing (engine.threads)

    def _stepped(self):
        return self.session

    # --- loop --------------------------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """Process commands and step the session until told to quit."""
        while not self.quit:
            try:
                self._drain(self._wait_time())
                if self.quit:
                    break
                if self.playing and self.session is not None:
                    with threads.limited(self._blas_threads):
                        self._advance()
                if self._dirty or (self.playing and self._due()):
                    self._emit()
            except Exception as e:  # never let one bad command kill the worker thread
                self._dirty = False
                if self.playing:
                    self.playing = False
                    self.running.emit(False)
                self.error.emit(f"Internal error in the training thread: {type(e).__name__}: {e}")

    # --- commands ----------------------------------------------------------------------------
    def _handle(self, name: str, *args) -> None:
        s = self.session
        if name == "quit":
            self.quit = True
        elif name == "rebuild":
            self._build(args[0])
        elif name == "reset":
            if self.config is not None:
                self._build(self.config)
        elif name == "speed":
            self.speed = args[0]
            self._restart_clock()
        elif name == "select":
            self.selected = int(args[0])
            self._mark("select")
        elif name == "frame":
            self._mark("idle")
        elif s is None:
            return  # transport commands need a session
        elif name == "play":
            self._set_playing(not s.diverged)
            self.stop_at = None
        elif name == "pause":
            self._set_playing(False)
        elif name == "epoch":
            spe = s.steps_per_epoch
            self.stop_at = (s.step_count // spe + 1) * spe
            self._set_playing(not s.diverged)
            self._reason = "epoch"
        elif name == "step":
            self._set_playing(False)
            self._sampled_step()
            self._mark("step")
        elif name == "phase":
            self._set_playing(False)
            self._phase_step()
        elif name == "lr":
            s.learning_rate = float(args[0])
            self.config = updated(self.config, **{"training.learning_rate": float(args[0])})
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
        self._restart_clock()

    # --- building ----------------------------------------------------------------------------
    def _dataset(self, cfg: ExperimentConfig):
        from engine.datasets import load_dataset

        key = (cfg.data, cfg.model.dtype)  # in the engine's dtype: sessions copy nothing
        if key not in self._datasets:
            self._datasets = {key: load_dataset(*key)}  # keep one: MNIST is big
        return self._datasets[key]

    def _warm_up(self, cfg: ExperimentConfig, dataset) -> None:
        """Compile the kernels here, behind the "compiling kernels" indicator, not on the
        first Play (engine.session.warm_up)."""
        from engine.session import is_warm, warm_up

        if is_warm(cfg, dataset):
            return
        self.compiling.emit(True)
        try:
            warm_up(cfg, dataset)
        finally:
            self.compiling.emit(False)

    def _build(self, cfg: ExperimentConfig) -> None:
        from engine.datasets import DataError
        from engine.session import Session

        try:
            validate(cfg)
            dataset = self._dataset(cfg)
            self._warm_up(cfg, dataset)
            session = Session(cfg, dataset)
        except ConfigError as e:
            self._build_failed("Invalid experiment settings:\n" + "\n".join(e.messages))
            return
        except DataError as e:
            self._build_failed(f"Cannot load the data set: {e}")
            return
        except (ValueError, OSError, MemoryError) as e:
            self._build_failed(f"Cannot build the experiment: {e}")
            return
        self.session, self.config = session, cfg
        self._blas_threads = threads.threads_for([session], "gui")
        self.generation += 1
        self._set_playing(False)
        self.stop_at = None
        self._reported_divergence = False
        self._layer_cache, self._cache_step = {}, -1
        self._boundary, self._boundary_step = None, -1
        self._history = None
        self._last_sample = self._last_boundary = -math.inf
        widths = [dataset.X_train.shape[1]] + [sp.n_out for sp in session.net.specs]
        self._drawn = tuple(drawn_units(w) for w in widths)
        self.selected = min(self.selected, session.depth)
        self.built.emit(cfg)
        self._mark("built")

    def _build_failed(self, message: str) -> None:
        """Keep running the previous session; tell the GUI to show its config again."""
        self.error.emit(message)
        self.reverted.emit(self.config)

    # --- stepping ----------------------------------------------------------------------------
    def _advance(self) -> None:
        """Step until the next frame is due (or a command arrives, or the speed cap is hit)."""
        s = self.session
        # frames on a fixed cadence: the time spent packing a frame is not added to it
        deadline = max(self._last_emit + self.frame_interval, time.perf_counter() + 0.002)
        while self.playing:
            if self._over_speed():
                break
            now = time.perf_counter()
            if now - self._last_sample >= SAMPLE_INTERVAL:
                ok = self._sampled_step()
            else:  # compiled chunks up to the frame, the next sampled step or a limit
                n = self._steps_allowed()
                if self.stop_at is not None:
                    n = min(n, self.stop_at - s.step_count)
                until = min(deadline, self._last_sample + SAMPLE_INTERVAL)
                s.run(n, seconds=until - now)
                ok = not s.diverged
            if not ok:
                self._set_playing(False)
                break
            if self.stop_at is not None and s.step_count >= self.stop_at:
                self.stop_at = None
                self._set_playing(False)
                break
            if time.perf_counter() >= deadline or not self.commands.empty():
                break
        if s.diverged and not self._reported_divergence:
            self._reported_divergence = True
            self._set_playing(False)
            self.diverged.emit(s.divergence)
            self._mark("diverged")

    def _sampled_step(self) -> bool:
        """One mini-batch run phase by phase (bit-identical to ``step``), keeping every
        layer's batch arrays for the histograms, the activation view and the inspector."""
        s = self.session
        if s.diverged:
            return False
        self._layer_cache, self._cache_step = {}, s.step_count + 1
        while True:
            r = s.step_phase()
            if r is None:
                return False
            self._keep(r)
            if s.next_phase() == ("forward", 0) or s.diverged:
                break
        self._last_sample = time.perf_counter()
        return not s.diverged

    def _phase_step(self) -> None:
        s = self.session
        if s.next_phase() == ("forward", 0):
            # a new mini-batch; arrays of layers not reached yet stay from the previous one,
            # like the per-layer metrics do, so the histograms never go blank mid-step
            self._cache_step = s.step_count + 1
        r = s.step_phase()
        if r is None:
            self._mark("phase")
            return
        self._keep(r)
        self.phase.emit(r.phase, r.layer)
        if s.diverged and not self._reported_divergence:
            self._reported_divergence = True
            self.diverged.emit(s.divergence)
        self._mark("phase")

    def _keep(self, r) -> None:
        """File a PhaseResult's arrays under the layer they belong to."""
        if r.phase in ("forward", "backward"):
            self._layer_cache.setdefault(r.layer, {}).update(r.arrays)
        elif r.phase == "loss":
            self._layer_cache.setdefault(r.layer, {})["output"] = r.arrays["output"]

    # --- frames ------------------------------------------------------------------------------
    def _emit(self) -> None:
        s = self.session
        self._dirty = False
        if s is None:
            return
        now = time.perf_counter()
        self._last_emit = now
        self.serial += 1
        reason = self._reason
        self._reason = "play" if self.playing else "idle"
        frame = Frame(
            generation=self.generation,
            serial=self.serial,
            reason=reason,
            running=self.playing,
            config=self.config,
            snapshot=self._snapshot(),
            input_width=s.X.shape[1],
            input_label="input",
            drawn=self._drawn,
            edge_grads=self._edges(s.net.dW),
            edge_weights=self._edges(s.net.W),
            selected=self.selected,
            layer_arrays=dict(self._layer_cache.get(self.selected, {})),
            arrays_step=self._cache_step,
            boundary=self._decision_boundary(now),
            overlays={},
            activation_params=self._activation_params(),
        )
        frame = replace(frame, overlays=theory_series(frame.snapshot))
        self.in_flight.set()
        self.frame.emit(frame)

    def _snapshot(self):
        """The session's Snapshot; while playing, frames between two redraws of the history
        views share the last history copy instead of copying thousands of rows 30 times a
        second."""
        now = time.perf_counter()
        if not (self.playing and self._history and now - self._history_time < HISTORY_INTERVAL):
            self._history, self._history_time = self.session.history_arrays(), now
        return self.session.snapshot(history=self._history)

    def _edges(self, matrix) -> tuple[np.ndarray, ...]:
        """|matrix(k)| restricted to the drawn units of columns k and k+1, for every layer."""
        d = self._drawn
        return tuple(
            np.abs(np.asarray(matrix(k), dtype=np.float64)[np.ix_(d[k], d[k + 1])])
            for k in range(len(d) - 1)
        )

    def _activation_params(self) -> tuple[float, ...]:
        from engine.activations import get, param_value

        model = self.config.model
        return tuple(param_value(get(sp.activation), model) for sp in self.session.net.specs)

    def _decision_boundary(self, now: float) -> Boundary | None:
        """Network output on a grid for 2-D classification sets, refreshed at a low rate."""
        s = self.session
        ds = s.dataset
        if ds.X_train.shape[1] != 2 or ds.task != "classification":
            return None
        stale = self._boundary_step != s.step_count
        due = not self.playing or now - self._last_boundary >= BOUNDARY_INTERVAL
        if self._boundary is None or (stale and due):
            xs, ys = boundary_grid(ds.X_train)
            gx, gy = np.meshgrid(xs, ys)
            with np.errstate(all="ignore"):
                out = s.predict(np.column_stack([gx.ravel(), gy.ravel()]))
            probs = out.reshape(len(ys), len(xs), -1)
            m = min(BOUNDARY_POINTS, len(ds.X_train))
            self._boundary = Boundary(
                xs,
                ys,
                probs,
                ds.X_train[:m, :2].copy(),
                np.asarray(ds.y_train[:m]).astype(np.int64),
            )
            self._last_boundary, self._boundary_step = now, s.step_count
        return self._boundary


# ----------------------------------------------------------------------------- controller


class Controller(QObject):
    """Runs one experiment in a worker thread and reports on it with Qt signals.

    Signals (all delivered in the thread that created the controller):

    * ``snapshot_ready(Frame)`` -- the latest state, at most ``fps`` times per second while
      playing, and once after every user command;
    * ``phase_changed(str, int)`` -- phase and layer just computed by a step-through;
    * ``diverged(Divergence)``, ``compiling(bool)``, ``error(str)``;
    * ``running_changed(bool)`` -- playing or not (a run also stops by itself: end of epoch,
      divergence);
    * ``rebuilt(ExperimentConfig)`` -- a new session was built for this config;
    * ``config_reverted(ExperimentConfig | None)`` -- a rebuild failed (``error`` says why);
      the previous session, with this config, keeps running.
    """

    snapshot_ready = Signal(object)
    phase_changed = Signal(str, int)
    diverged = Signal(object)
    compiling = Signal(bool)
    error = Signal(str)
    running_changed = Signal(bool)
    rebuilt = Signal(object)
    config_reverted = Signal(object)

    def __init__(
        self,
        config: ExperimentConfig | None = None,
        fps: float = 30.0,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._config = config if config is not None else default_config()
        self._commands: queue.Queue = queue.Queue()
        self._in_flight = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("vglab-session")
        self._worker = _Worker(self._commands, fps, self._in_flight)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.frame.connect(self._on_frame)
        self._worker.phase.connect(self.phase_changed)
        self._worker.diverged.connect(self.diverged)
        self._worker.compiling.connect(self._on_compiling)
        self._worker.error.connect(self.error)
        self._worker.running.connect(self._on_running)
        self._worker.built.connect(self._on_built)
        self._worker.reverted.connect(self._on_reverted)
        self._running = False
        self._is_compiling = False
        self._latest: Frame | None = None
        self._started = False

    def __repr__(self) -> str:
        return f"Controller({self._config.name!r}, running={self._running})"

    # --- state -------------------------------------------------------------------------------
    @property
    def config(self) -> ExperimentConfig:
        """The config of the session being run (or about to be built)."""
        return self._config

    @property
    def running(self) -> bool:
        return self._running

    @property
    def is_compiling(self) -> bool:
        return self._is_compiling

    @property
    def latest(self) -> Frame | None:
        """The last frame received (None before the first build)."""
        return self._latest

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread and build the first session (in the background)."""
        if self._started:
            return
        self._started = True
        self._send("rebuild", self._config)
        self._thread.start()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the worker and wait for its thread.  False if it is still busy afterwards
        (a cold Numba compilation cannot be interrupted): the caller should then exit hard."""
        if not self._started:
            return not self._thread.isRunning()
        self._started = False
        self._send("quit")
        self._thread.quit()
        return bool(self._thread.wait(timeout_ms))

    # --- commands (thread-safe, non-blocking) --------------------------------------------------
    def _send(self, *cmd) -> None:
        self._commands.put(cmd)

    def play(self) -> None:
        self._send("play")

    def pause(self) -> None:
        self._send("pause")

    def toggle_play(self) -> None:
        self.pause() if self._running else self.play()

    def step(self) -> None:
        """One mini-batch."""
        self._send("step")

    def step_phase(self) -> None:
        """One phase: forward through a layer, the loss, backward through a layer, or the update."""
        self._send("phase")

    def run_epoch(self) -> None:
        """Play until the end of the current epoch."""
        self._send("epoch")

    def reset(self) -> None:
        """Rebuild the session from the current config: fresh weights, empty history."""
        self._send("reset")

    def rebuild(self, config: ExperimentConfig) -> None:
        """Build a new session for ``config`` (the run stops)."""
        self._config = config
        self._send("rebuild", config)

    def apply_config(self, config: ExperimentConfig) -> bool:
        """Apply ``config``: live settings mid-run, anything else rebuilds.  True if rebuilt."""
        if config == self._config:
            return False
        if needs_rebuild(self._config, config):
            self.rebuild(config)
            return True
        self.set_learning_rate(config.training.learning_rate)
        return False

    def set_learning_rate(self, lr: float) -> None:
        """Live: applies from the next update on, without rebuilding."""
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"training.learning_rate: must be > 0, got {lr!r}")
        self._config = updated(self._config, **{"training.learning_rate": float(lr)})
        self._send("lr", float(lr))

    def set_speed(self, steps_per_second: float | None) -> None:
        """Cap training at ``steps_per_second`` (None: as fast as possible)."""
        if steps_per_second is not None and not steps_per_second > 0:
            raise ValueError(f"speed: must be > 0 steps/s or None, got {steps_per_second!r}")
        self._send("speed", steps_per_second)

    def select_layer(self, layer: int) -> None:
        """Which layer's batch arrays (histograms, activation view) the frames carry."""
        self._send("select", int(layer))

    def request_frame(self) -> None:
        """Ask for a fresh frame now (e.g. after the GUI was reset)."""
        self._send("frame")

    # --- worker -> GUI -------------------------------------------------------------------------
    @Slot(object)
    def _on_frame(self, frame: Frame) -> None:
        self._in_flight.clear()
        self._latest = frame
        self.snapshot_ready.emit(frame)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._running = running
        self.running_changed.emit(running)

    @Slot(bool)
    def _on_compiling(self, on: bool) -> None:
        self._is_compiling = on
        self.compiling.emit(on)

    @Slot(object)
    def _on_built(self, config: ExperimentConfig) -> None:
        self._config = config
        self.rebuilt.emit(config)

    @Slot(object)
    def _on_reverted(self, config: ExperimentConfig | None) -> None:
        if config is not None:
            self._config = config
        self.config_reverted.emit(config)
