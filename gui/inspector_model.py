"""The inspector's model: the numbers and the sentence shown for the selected layer.

Qt-free (an import-linter contract keeps it so): :func:`inspector_data` reads a frame and
returns what :meth:`gui.panels.inspector.Inspector.set_data` takes.  A new per-layer metric
shows up here by itself (every column of the snapshot's ``layers`` is passed on); the
inspector panel decides which rows to show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.i18n import QT_TRANSLATE_NOOP, translate

#: the output layer has no activation of its own: the loss applies it
OUTPUT_ACTIVATION = QT_TRANSLATE_NOOP("Inspector", "output (loss applies softmax/sigmoid)")
#: phase-result norm -> the inspector value it replaces while that phase is on screen
PHASE_NORMS = {
    "delta": "delta_norm",
    "incoming": "incoming_norm",
    "dW": "grad_norm",
    "fprime_mean": "fprime_mean",
}


def format_value(value: float | None, kind: str) -> str:
    """Numbers the way the inspector shows them: 3.2e-06, 0.184, 37.5 %.

    None (not computed yet) is a dash; NaN is printed as NaN: a computation produced it.
    """
    if value is None:
        return "\u2014"
    if math.isnan(value):
        return "NaN"
    if not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    if kind == "%":
        return f"{100 * value:.1f} %"
    if kind == "f":
        return f"{value:.3g}"
    return f"{value:.2e}"


@dataclass(frozen=True)
class InspectorData:
    """The arguments of ``Inspector.set_data`` for one layer."""

    label: str  # "hidden 2"
    activation: str
    shapes: dict  # "W" -> (n_in, n_out), "z" -> (batch, n_out)
    values: dict  # metric -> float, or None when not computed yet (a dash, unlike NaN)
    phase: str | None  # the step-through phase at this layer (or "update"), else None
    note: str  # rich text tying the layer to the output layer

    def args(self) -> tuple:
        """Positional arguments for ``Inspector.set_data``."""
        return (self.label, self.activation, self.shapes, self.values, self.phase, self.note)


def layer_values(snap, k: int) -> dict:
    """Every per-layer metric of layer ``k``: a float, or None where it is not computed."""
    values = {
        name: float(snap.layers[name][k]) if snap.is_computed(name)[k] else None
        for name in snap.layers
    }
    grads, done = snap.layers["grad_norm"], snap.is_computed("grad_norm")
    if k < snap.depth and done[k] and done[k + 1] and grads[k + 1] > 0:
        values["shrink"] = float(grads[k] / grads[k + 1])
    r = snap.phase_result
    if r is not None and r.layer == k:  # exact numbers of the phase just computed
        for norm, name in PHASE_NORMS.items():
            values[name] = r.norms.get(norm, values[name])
    return values


def layer_phase(snap, k: int) -> str | None:
    """The step-through phase to mark at layer ``k`` (an update marks every layer)."""
    if snap.phase != "idle" and snap.phase_layer == k:
        return snap.phase
    return "update" if snap.phase == "update" else None


def inspector_note(snap, k: int) -> str:
    """One sentence tying layer ``k``'s weight gradient to the output layer's."""
    g = snap.layers["grad_norm"]
    after = ""
    if snap.phase != "idle":
        after = translate("Inspector", "Next: <b>{0}</b>.").format(snap.next_phase)
    if k >= snap.depth or not (g[k] > 0 and g[snap.depth] > 0):
        return after
    ratio = g[k] / g[snap.depth]
    n = snap.depth - k
    if n == 1:
        text = translate(
            "Inspector",
            "This layer's weight gradient is <b>{0}</b> \u00d7 the output layer's: "
            "1 factor of the chain rule between them.",
        ).format(f"{ratio:.1e}")
    else:
        text = translate(
            "Inspector",
            "This layer's weight gradient is <b>{0}</b> \u00d7 the output layer's: "
            "{1} factors of the chain rule between them.",
        ).format(f"{ratio:.1e}", n)
    return text + (f"<br>{after}" if after else "")


def inspector_data(frame, selected: int) -> InspectorData:
    """What the inspector shows for layer ``selected`` (clipped to the network) of ``frame``."""
    snap = frame.snapshot
    k = min(selected, snap.depth)
    n_in = frame.input_width if k == 0 else snap.widths[k - 1]
    batch = snap.batch_size or frame.config.training.batch_size  # 0 before a step
    shapes = {"W": (n_in, snap.widths[k]), "z": (batch, snap.widths[k])}
    act = snap.activations[k] if k < snap.depth else translate("Inspector", OUTPUT_ACTIVATION)
    return InspectorData(
        snap.layer_labels[k],
        act,
        shapes,
        layer_values(snap, k),
        layer_phase(snap, k),
        inspector_note(snap, k),
    )
