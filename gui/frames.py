"""The frames the training worker hands the windows: immutable, numbers only, Qt-free.

A :class:`Frame` is one moment of a single run (a Snapshot plus the small arrays the panels
draw: edge sub-matrices, the selected layer's batch arrays, the decision boundary); a
:class:`CompareFrame` is one moment of a comparison.  :class:`FramePacker` and
:func:`compare_frame` build them from a session; the worker (:mod:`gui.worker`) decides
when.  Nothing here imports Qt (an import-linter contract in pyproject.toml checks it), so
frames are built and tested without a display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.config import ExperimentConfig
from engine.theory_lines import TheoryLines, session_lines
from gui.jacobian_view import JacobianRequest, JacobianSampler

#: most units per layer the network diagram draws (the rest are "+N more")
MAX_DRAWN = 16
#: seconds between decision-boundary evaluations while playing
BOUNDARY_INTERVAL = 0.25
#: seconds between fresh copies of the metric history while playing
HISTORY_INTERVAL = 0.2
#: grid points per side of the decision-boundary image
BOUNDARY_GRID = 80
#: training points drawn over the decision boundary
BOUNDARY_POINTS = 600


@dataclass(frozen=True)
class FrameInfo:
    """What the worker knows of a frame: which build, which frame, why, and whether playing."""

    generation: int  # bumps on every (re)build: panels reset when it changes
    serial: int  # bumps on every frame
    reason: str  # built / play / step / phase / epoch / select / diverged / idle
    running: bool
    now: float  # time.perf_counter() when the frame was packed


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
    overlays: TheoryLines = field(default_factory=TheoryLines)  # the gradient chart's theory
    activation_params: tuple[float, ...] = ()  # (L+1,) f parameter per layer
    jacobian: object = None  # gui.jacobian_view.JacobianSpectrum while its panel is shown

    @property
    def depth(self) -> int:
        """Hidden layers L (``drawn`` has the input and output columns too)."""
        return self.snapshot.depth

    def __repr__(self) -> str:
        return (
            f"Frame(gen={self.generation}, serial={self.serial}, {self.reason}, "
            f"step={self.snapshot.step}, running={self.running})"
        )


class FramePacker:
    """Packs a Session into :class:`Frame` objects, keeping what is costly between frames.

    One packer per built session: the drawn units, the last decision boundary, the last copy
    of the history and the selected layer's batch arrays (``layer_cache``, filled by the
    step-through) live here.
    """

    def __init__(self, session, selected: int = 0, jacobian: JacobianRequest | None = None):
        self.session = session
        self.jacobian = JacobianSampler(jacobian)  # J's spectrum, computed here when wanted
        widths = [session.X.shape[1]] + [sp.n_out for sp in session.net.specs]
        self.drawn = tuple(drawn_units(w) for w in widths)
        self.selected = min(selected, session.depth)
        self.layer_cache: dict[int, dict[str, np.ndarray]] = {}
        self.cache_step = -1  # step whose batch the cached arrays come from
        self._boundary: Boundary | None = None
        self._boundary_time = -math.inf
        self._boundary_step = -1
        self._history: dict | None = None
        self._history_time = -math.inf

    def __repr__(self) -> str:
        return f"FramePacker(step={self.session.step_count}, selected={self.selected})"

    def keep(self, r) -> None:
        """File a PhaseResult's arrays under the layer they belong to."""
        if r.phase in ("forward", "backward"):
            self.layer_cache.setdefault(r.layer, {}).update(r.arrays)
        elif r.phase == "loss":
            self.layer_cache.setdefault(r.layer, {})["output"] = r.arrays["output"]

    def frame(self, info: FrameInfo, config: ExperimentConfig) -> Frame:
        """The frame of this moment (``config``: the session's, with live changes);
        ``info.running`` lets the slow parts refresh less often."""
        s = self.session
        snap = self.snapshot(info.running, info.now)
        return Frame(
            generation=info.generation,
            serial=info.serial,
            reason=info.reason,
            running=info.running,
            config=config,
            snapshot=snap,
            input_width=s.X.shape[1],
            input_label="input",
            drawn=self.drawn,
            edge_grads=self.edges(s.net.dW),
            edge_weights=self.edges(s.net.W),
            selected=self.selected,
            layer_arrays=dict(self.layer_cache.get(self.selected, {})),
            arrays_step=self.cache_step,
            boundary=self.decision_boundary(info.running, info.now),
            overlays=session_lines(s, snap),
            activation_params=self.activation_params(),
            jacobian=self.jacobian.latest(s, info.now, info.running),
        )

    def snapshot(self, playing: bool, now: float):
        """The session's Snapshot; while playing, frames between two redraws of the history
        views share the last history copy instead of copying thousands of rows 30 times a
        second."""
        if not (playing and self._history and now - self._history_time < HISTORY_INTERVAL):
            self._history, self._history_time = self.session.history_arrays(), now
        return self.session.snapshot(history=self._history)

    def edges(self, matrix) -> tuple[np.ndarray, ...]:
        """|matrix(k)| restricted to the drawn units of columns k and k+1, for every layer."""
        d = self.drawn
        return tuple(
            np.abs(np.asarray(matrix(k), dtype=np.float64)[np.ix_(d[k], d[k + 1])])
            for k in range(len(d) - 1)
        )

    def activation_params(self) -> tuple[float, ...]:
        from engine.activations import get, param_value

        model = self.session.config.model
        return tuple(param_value(get(sp.activation), model) for sp in self.session.net.specs)

    def decision_boundary(self, playing: bool, now: float) -> Boundary | None:
        """Network output on a grid for 2-D classification sets, refreshed at a low rate."""
        s = self.session
        ds = s.dataset
        if ds.X_train.shape[1] != 2 or ds.task != "classification":
            return None
        stale = self._boundary_step != s.step_count
        due = not playing or now - self._boundary_time >= BOUNDARY_INTERVAL
        if self._boundary is None or (stale and due):
            self._boundary = _boundary(s, ds)
            self._boundary_time, self._boundary_step = now, s.step_count
        return self._boundary


def _boundary(s, ds) -> Boundary:
    xs, ys = boundary_grid(ds.X_train)
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        out = s.predict(np.column_stack([gx.ravel(), gy.ravel()]))
    probs = out.reshape(len(ys), len(xs), -1)
    m = min(BOUNDARY_POINTS, len(ds.X_train))
    return Boundary(
        xs, ys, probs, ds.X_train[:m, :2].copy(), np.asarray(ds.y_train[:m]).astype(np.int64)
    )


# ----------------------------------------------------------------------------- comparison


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
    summaries: dict  # name -> engine.summary.RunSummary
    theory: dict  # name -> engine.theory_lines.TheoryLines
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


def phase_text(cs, results: dict) -> str:
    """ "backward hidden 3 (15/25)" for the phase just run, "idle" between steps (the
    deepest variant's: shallower ones finish their step first and wait for it)."""
    ran = [r for r in results.values() if r is not None]
    r = max(ran, key=lambda r: r.n_phases, default=None)
    return "idle" if r is None or r.index + 1 == r.n_phases else r.text


def compare_frame(cs, info: FrameInfo, phase: str) -> CompareFrame:
    """The frame of a CompareSession ``cs`` at this moment (``phase``: its step-through)."""
    snaps = cs.snapshots(with_history=True)
    return CompareFrame(
        generation=info.generation,
        serial=info.serial,
        reason=info.reason,
        running=info.running,
        step=cs.step_count,
        steps_per_epoch=cs.steps_per_epoch,
        names=cs.names,
        labels=next(iter(snaps.values())).layer_labels,
        snapshots=snaps,
        summaries=cs.summaries(snaps),
        theory={n: session_lines(cs.sessions[n], s) for n, s in snaps.items()},
        divergences=cs.divergences,
        phase=phase,
        base=cs.base,
    )
