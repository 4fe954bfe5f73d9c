"""The controller: one :class:`~engine.session.Session` trained by the worker (gui.worker).

The GUI thread never touches the session.  It sends commands (play, pause, step, step
phase, epoch, reset, rebuild, learning rate, speed, selected layer) to the worker thread,
which steps the session at full speed and, at most ~``fps`` times per second, sends the
*latest* state as an immutable :class:`~gui.frames.Frame` (a Snapshot plus the small arrays
the panels draw) with :attr:`Controller.snapshot_ready`.  This module says what to build
(:class:`SessionAdapter`) and what the windows may ask; the loop, the pacing and the
back-pressure are the worker's.  No widgets here: the controller works (and is tested)
without any.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, Signal, Slot

from engine.config import ExperimentConfig, fields, updated, validate
from gui.adapter import Adapter
from gui.frames import Frame, FrameInfo, FramePacker  # Frame: imported from here too
from gui.jacobian_view import JacobianRequest
from gui.worker import Command, WorkerController

#: seconds between captures of the selected layer's batch arrays while playing
SAMPLE_INTERVAL = 0.1

# training fields a running session can take without being rebuilt


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
    live = {key: fields.value_at(old, key) for key in fields.LIVE}
    return updated(new, **live) != old


class SessionAdapter(Adapter):
    """One :class:`~engine.session.Session`: steps sampled phase by phase now and then, so
    the histograms, the activation view and the inspector get every layer's batch arrays."""

    def __init__(self):
        self.packer: FramePacker | None = None
        self.jacobian = JacobianRequest()  # the Jacobian panel is on screen (GUI sets it)
        self.selected = 0
        self._last_sample = -math.inf

    def build(self, cfg: ExperimentConfig, load, warm):
        from engine.session import Session

        validate(cfg)
        dataset = load(cfg)
        warm(cfg, dataset)
        return Session(cfg, dataset)

    def built(self, session, cfg: ExperimentConfig) -> ExperimentConfig:
        self.packer = FramePacker(session, self.selected, self.jacobian)
        self.selected = self.packer.selected
        self._last_sample = -math.inf
        return cfg

    def select(self, layer: int) -> None:
        self.selected = layer
        if self.packer is not None:
            self.packer.selected = layer

    def set_learning_rate(self, session, cfg: ExperimentConfig, lr: float) -> ExperimentConfig:
        session.learning_rate = lr
        return updated(cfg, **{"training.learning_rate": lr})

    def frame(self, session, cfg: ExperimentConfig, info: FrameInfo) -> Frame:
        return self.packer.frame(info, cfg)

    def step(self, session) -> None:
        self._sampled_step(session)

    def run(self, session, n: int, deadline: float) -> None:
        """Compiled chunks up to the frame or the next sampled step, then a sampled step."""
        now = time.perf_counter()
        if now - self._last_sample >= SAMPLE_INTERVAL:
            self._sampled_step(session)
        else:
            until = min(deadline, self._last_sample + SAMPLE_INTERVAL)
            session.run(n, seconds=until - now)

    def _sampled_step(self, s) -> None:
        """One mini-batch run phase by phase (bit-identical to ``step``), keeping every
        layer's batch arrays."""
        if s.diverged:
            return
        p = self.packer
        p.layer_cache, p.cache_step = {}, s.step_count + 1
        while True:
            r = s.step_phase()
            if r is None:
                return
            p.keep(r)
            if s.next_phase() == ("forward", 0) or s.diverged:
                break
        self._last_sample = time.perf_counter()

    def step_phase(self, s) -> tuple[str, int] | None:
        p = self.packer
        if s.next_phase() == ("forward", 0):
            # a new mini-batch; arrays of layers not reached yet stay from the previous one,
            # like the per-layer metrics do, so the histograms never go blank mid-step
            p.cache_step = s.step_count + 1
        r = s.step_phase()
        if r is None:
            return None
        p.keep(r)
        return r.phase, r.layer


# ----------------------------------------------------------------------------- controller


class Controller(WorkerController):
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
    rebuilt = Signal(object)
    config_reverted = Signal(object)

    def __init__(
        self,
        config: ExperimentConfig | None = None,
        fps: float = 30.0,
        parent: QObject | None = None,
    ):
        super().__init__(SessionAdapter(), fps, "vglab-session", parent)
        self._config = config if config is not None else default_config()
        w = self._worker.worker
        w.phase.connect(self.phase_changed)
        w.diverged.connect(self._on_diverged)
        w.compiling.connect(self._on_compiling)
        w.built.connect(self._on_built)
        w.reverted.connect(self._on_reverted)
        self._is_compiling = False

    def __repr__(self) -> str:
        return f"Controller({self._config.name!r}, running={self._running})"

    @property
    def config(self) -> ExperimentConfig:
        """The config of the session being run (or about to be built)."""
        return self._config

    @property
    def is_compiling(self) -> bool:
        return self._is_compiling

    def start(self) -> None:
        """Start the worker thread and build the first session (in the background)."""
        if not self._worker.started:
            self._send(Command.BUILD, self._config)
            super().start()

    # --- commands (thread-safe, non-blocking) --------------------------------------------------
    def rebuild(self, config: ExperimentConfig) -> None:
        """Build a new session for ``config`` (the run stops)."""
        self._config = config
        self._send(Command.BUILD, config)

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
        self._send(Command.LEARNING_RATE, float(lr))

    def select_layer(self, layer: int) -> None:
        """Which layer's batch arrays (histograms, activation view) the frames carry."""
        self._send(Command.SELECT, int(layer))

    def want_jacobian(self, on: bool) -> None:
        """Whether the frames carry J's spectrum (computed in the worker while wanted)."""
        self._worker.worker.adapter.jacobian.wanted = bool(on)
        if on:
            self.request_frame()

    # --- worker -> GUI -------------------------------------------------------------------------
    def _publish(self, frame: Frame) -> None:
        self.snapshot_ready.emit(frame)

    @Slot(str, object)
    def _on_diverged(self, name: str, divergence) -> None:
        self.diverged.emit(divergence)

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
