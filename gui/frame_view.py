"""The frame-to-panel adapter: what each panel of the main window shows for one frame.

Qt-free (an import-linter contract in pyproject.toml keeps it so), so it is tested without a
display.  It turns a :class:`gui.controller.Frame` into the plain arrays and strings each
panel's ``set_data`` takes, and decides when a panel is due for a redraw
(:class:`RedrawSchedule`).  :class:`gui.main_window.MainWindow` hands these to the panels
and does nothing else with the numbers.

A new panel takes: its function here, a line in :data:`PANELS` (and, if it is slow to draw,
:data:`PANEL_INTERVALS`), and its dock in the main window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import phase_view, theory_lines
from engine.i18n import translate

#: the docked panels drawn from a frame, in drawing order (the diagram is drawn always)
PANELS = (
    "gradients",
    "heatmap",
    "loss",
    "accuracy",
    "inspector",
    "delta_hist",
    "fprime_hist",
    "activation",
    "boundary",
    "phase",
    "jacobian",
)
#: while playing, seconds between redraws of each panel (absent: every frame).  Qt paints
#: in the GUI thread holding the GIL (PySide6 does not release it around QPainter calls), and
#: every millisecond of painting is a millisecond the training thread cannot run its Python;
#: so only the network diagram follows every frame, the plots refresh a few times a second.
PANEL_INTERVALS = {
    "gradients": 0.125,
    "heatmap": 0.5,
    "loss": 0.5,
    "accuracy": 0.5,
    "inspector": 0.25,
    "status": 0.1,
    "delta_hist": 0.5,
    "fprime_hist": 0.5,
    "activation": 0.5,
    "boundary": 0.5,
    "jacobian": 0.5,
}
#: names of the gradient chart's two measured series
GRAD_SERIES = ("||dL/dW_k||", "||\u03b4_k||")
#: the theory overlays of the gradient chart (absent from a frame: hidden)
OVERLAYS = (theory_lines.LABEL, theory_lines.WIDE_LABEL)
#: header of the metrics CSV before the per-layer gradient norms
METRICS_HEADER = (
    "step",
    "loss",
    "accuracy",
    "grad_global_norm",
    "learning_rate",
    "test_loss",
    "test_accuracy",
)


def content_key(name: str, frame):
    """What a panel shows depends only on this (None: on everything)."""
    if name in ("delta_hist", "fprime_hist", "activation"):
        return (frame.generation, frame.selected, frame.arrays_step, len(frame.layer_arrays))
    if name == "boundary":
        return (frame.generation, id(frame.boundary))
    if name == "phase":  # a property of the init: once per build
        return (frame.generation,)
    if name == "jacobian":
        return (frame.generation, id(frame.jacobian))
    return None


class RedrawSchedule:
    """When each panel is due: its own rate while playing, at once for user-driven frames."""

    def __init__(self, intervals: dict[str, float] | None = None):
        self.intervals = PANEL_INTERVALS if intervals is None else intervals
        self._keys: dict[str, object] = {}
        self._times: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"RedrawSchedule({len(self._times)} panels drawn)"

    def clear(self) -> None:
        """Forget every panel's last redraw (after a rebuild every panel is due)."""
        self._keys.clear()
        self._times.clear()

    def due(self, name: str, frame, now: float) -> bool:
        """Should panel ``name`` be redrawn for ``frame`` at time ``now`` (seconds)?

        User-driven frames redraw everything at once.  While playing, each panel has its own
        rate (:data:`PANEL_INTERVALS`): the per-layer views follow every frame, slow views
        (history, text) a few times a second, and views of the sampled batch arrays only when
        new arrays arrived.  The GUI thread then stays mostly idle, which keeps the GIL free
        for the training thread.  A True answer counts as a redraw.
        """
        key = content_key(name, frame)
        if key is not None and key == self._keys.get(name):
            return False
        recent = now - self._times.get(name, -math.inf) < self.intervals.get(name, 0.0)
        if recent and frame.running and frame.reason == "play":
            return False
        self._keys[name] = key
        self._times[name] = now
        return True


def phase_text(snap) -> str:
    """Human text of where a step is: "backward hidden 3 (15/25)" or "idle"."""
    r = snap.phase_result
    if snap.phase == "idle" or r is None:
        return "idle"
    where = "" if r.layer < 0 else f" {snap.layer_labels[r.layer]}"
    return f"{r.phase}{where} ({r.index + 1}/{r.n_phases})"


def selected_layer(frame) -> int:
    """The frame's selected layer, within the network (0..L)."""
    return min(frame.selected, frame.snapshot.depth)


@dataclass(frozen=True)
class DiagramData:
    """The network diagram's ``set_data`` and ``set_highlight`` arguments."""

    norms: np.ndarray  # (L+1,) ||dL/dW_k||
    edges: list  # (L+1,) per layer (n_in_drawn, n_out_drawn) |dL/dW| or |W|; None: grey
    computed: np.ndarray  # (L+1,) bool: the gradient norm was computed this step
    highlight: tuple[int, str | None]  # (layer, phase) of a step-through; (-1, None) idle


def diagram_data(frame, edge_mode: str) -> DiagramData:
    """The diagram for ``frame``; ``edge_mode`` "grad" colours edges by |dL/dW|, else |W|."""
    snap = frame.snapshot
    done = snap.is_computed("grad_norm")
    if edge_mode == "grad":  # no gradient yet: grey edges, not faint ones
        edges = [e if done[k] else None for k, e in enumerate(frame.edge_grads)]
    else:
        edges = list(frame.edge_weights)
    highlight = (-1, None) if snap.phase == "idle" else (snap.phase_layer, snap.phase)
    return DiagramData(snap.layers["grad_norm"], edges, done, highlight)


def gradient_data(frame) -> tuple[dict, list[str], dict, dict, str]:
    """(series, labels, computed, overlays, note) of the per-layer gradient chart: ``note``
    says why there is no theory line ("" when there is one)."""
    snap = frame.snapshot
    metrics = ("grad_norm", "delta_norm")
    series = {s: snap.layers[m] for s, m in zip(GRAD_SERIES, metrics, strict=True)}
    computed = {s: snap.is_computed(m) for s, m in zip(GRAD_SERIES, metrics, strict=True)}
    overlays = {key: frame.overlays.curves.get(key) for key in OVERLAYS}
    return series, list(snap.layer_labels), computed, overlays, frame.overlays.reason


def heatmap_data(snap) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, grad_norm history) of the layer x step heatmap; None before any history."""
    if snap.history_steps is None or not len(snap.history_steps):
        return None
    return snap.history_steps, snap.history_grad_norm


@dataclass(frozen=True)
class CurveData:
    """A curve panel's data: the divergence marker and the series (None: nothing yet)."""

    event_step: int | None
    event_text: str
    series: dict | None  # name -> (steps, values)


def curve_data(name: str, snap) -> CurveData:
    """The loss (``name`` "loss") or accuracy curves: train per batch and test."""
    col = 0 if name == "loss" else 1
    d = snap.divergence
    event = (None, "") if d is None else (d.step, f"diverged at step {d.step}")
    steps, scalars = snap.history_steps, snap.history_scalars
    if steps is None or not len(steps):
        return CurveData(*event, None)
    # long histories: the panel clips to the view and peak-downsamples at paint time
    series = {"train (batch)": (steps, scalars[:, col])}
    if snap.eval_steps is not None and len(snap.eval_steps):
        series["test"] = (snap.eval_steps, snap.eval_scalars[:, col])
    return CurveData(*event, series)


@dataclass(frozen=True)
class HistogramData:
    """A histogram panel's title and values (None: not sampled, the panel resets)."""

    title: str
    values: np.ndarray | None  # flat
    log_x: bool


def histogram_data(frame, key: str) -> HistogramData:
    """The |delta| (``key`` "delta") or f'(z) (``key`` "fprime") histogram of the selected
    layer."""
    snap = frame.snapshot
    layer = snap.layer_labels[selected_layer(frame)]
    values = frame.layer_arrays.get(key)
    if key == "delta":
        flat = None if values is None else np.abs(values).ravel()
        title = translate("Plots", "|\u03b4| = |dL/dz| of {0}").format(layer)
        return HistogramData(title, flat, True)
    flat = None if values is None else np.asarray(values).ravel()
    return HistogramData(translate("Plots", "f'(z) of {0}").format(layer), flat, False)


def activation_data(frame) -> tuple[str, float, np.ndarray | None]:
    """(activation name, its parameter, the selected layer's pre-activations or None)."""
    k = selected_layer(frame)
    param = frame.activation_params[k] if frame.activation_params else 0.0
    z = frame.layer_arrays.get("z")
    return frame.snapshot.activations[k], param, None if z is None else np.ravel(z)


def boundary_title(input_width: int) -> str:
    """An empty boundary plot must say why: it is drawn over the plane of 2-D inputs."""
    if input_width == 2:
        return translate("Plots", "Decision boundary")
    return translate("Plots", "2-D inputs only ({0} here)").format(input_width)


def phase_data(frame) -> phase_view.PhaseSpec:
    """The phase diagram's points (and reason) for the net of ``frame``."""
    snap = frame.snapshot
    widths = (frame.input_width, *snap.widths)
    return phase_view.phase_spec(frame.config.model, widths, snap.activations[:-1])


def status_data(frame) -> tuple:
    """The status readout's ``set_data`` arguments."""
    snap = frame.snapshot
    return (
        snap.step,
        snap.epoch,
        phase_text(snap),
        snap.loss,
        snap.accuracy,
        snap.test_accuracy,
        snap.steps_per_second,
        frame.running,
    )


def metrics_table(frame) -> tuple[list[str], list[list[float]]]:
    """(header, rows) of the recorded history: one row per recorded step."""
    if frame is None or frame.snapshot.history_steps is None:
        return ["step"], []
    snap = frame.snapshot
    header = [*METRICS_HEADER]
    header += [f"grad_norm_{lbl.replace(' ', '_')}" for lbl in snap.layer_labels]
    test = {int(s): row for s, row in zip(snap.eval_steps, snap.eval_scalars, strict=True)}
    rows = []
    for i, step in enumerate(snap.history_steps):
        t = test.get(int(step), (math.nan, math.nan))
        rows.append(
            [
                int(step),
                *map(float, snap.history_scalars[i]),
                *map(float, t),
                *map(float, snap.history_grad_norm[i]),
            ]
        )
    return header, rows
