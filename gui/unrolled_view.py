"""What the recurrent panels show: the unrolled diagram's rows and the step inspector's text.

Qt-free (an import-linter contract keeps it so), tested without a display:

* :func:`unrolled_view` turns the lock-step snapshots (one per cell) and the step-through's
  last :class:`~engine.recurrent.snapshot.TimePhase` into an :class:`UnrolledView`, which
  :class:`gui.panels.unrolled_diagram.UnrolledDiagram` paints;
* :func:`step_explanation` turns one phase into the numbers and sentences of
  :class:`gui.panels.step_inspector.StepInspector`.

Time steps are 0-based in the data (``t = 0 .. T-1``, as in the engine) and 1-based in
every text (``t=1 .. t=T``, as in ``TimePhase.text``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.recurrent.snapshot import RecurrentSnapshot, TimePhase
from engine.snapshot import readonly
from gui.inspector_model import format_value
from gui.panels.network_geometry import log_levels

#: what a box whose gradient the backward pass has not reached yet says (never "nan")
NOT_COMPUTED_TEXT = "not computed yet"
#: box states of :meth:`UnrolledView.state`
VALUE, NOT_COMPUTED, NON_FINITE = "value", "not computed", "non-finite"
#: step-through phase -> direction the diagram marks
_DIRECTIONS = {"forward": "forward", "loss": "forward", "backward": "backward"}


@dataclass(frozen=True, eq=False)
class UnrolledView:
    """The unrolled diagram's data: one row per cell, one column per time step.

    ``time`` is the time step (0-based) whose dL/dh_t the last phase computed in the shown
    layer (-1: none); ``direction`` forward / backward / idle; ``levels`` the log10 colour
    limits of ||dL/dh_t||, shared by all rows; ``gate_levels`` the linear limits of the
    gate strips.
    """

    rows: tuple[str, ...]  # (V,) "RNN (tanh)", "LSTM", "GRU"
    grad_h: np.ndarray  # (V, T) ||dL/dh_t|| of the shown layer; NaN: not computed yet
    gate: np.ndarray  # (V, T) the carrier's batch mean per time step; NaN: not computed
    carriers: tuple[str, ...]  # (V,) what ``gate`` holds: "mean forget gate f_t", ...
    time: int
    direction: str
    phase: str  # the last phase ("forward", "loss", "backward", "update"), "" for none
    caption: str  # one line: where the step-through is, or what the boxes show
    diverged: tuple[bool, ...]  # (V,)
    messages: tuple[str, ...]  # (V,) the divergence message, "" when the row is fine
    levels: tuple[float, float]
    gate_levels: tuple[float, float]
    below_scale: bool  # some value (or a zero) is below levels[0]: drawn in the lowest colour
    layer_label: str  # "layer 1"
    readout: bool = True  # the shown layer is the top one: the loss reads its last h
    legend: str = "||dL/dh\u209c||, log scale"
    not_computed_text: str = NOT_COMPUTED_TEXT

    def strip_name(self, row: int) -> str:
        """The gate strip's short name: "forget gate f_t" (the carrier without "mean")."""
        return self.carriers[row].removeprefix("mean ")

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def seq_len(self) -> int:
        return int(self.grad_h.shape[1]) if self.grad_h.ndim == 2 else 0

    def states(self, row: int) -> np.ndarray:
        """(T,) :data:`VALUE`, :data:`NOT_COMPUTED` or :data:`NON_FINITE` (NaN/inf in a
        diverged row, or an overflow to inf) per time step of ``row``."""
        g = self.grad_h[row]
        out = np.full(g.shape, NOT_COMPUTED, dtype=object)
        out[np.isfinite(g)] = VALUE
        out[~np.isfinite(g) & (self.diverged[row] | np.isinf(g))] = NON_FINITE
        return out

    def state(self, row: int, t: int) -> str:
        """The state of one box (see :meth:`states`)."""
        return str(self.states(row)[t])

    def tooltip(self, row: int, t: int) -> str:
        """Rich text for the box of ``row`` at 0-based ``t``: t, ||dL/dh_t||, the gate."""
        state = self.state(row, t)
        norm = (
            format_value(float(self.grad_h[row, t]), "e")
            if state != NOT_COMPUTED
            else NOT_COMPUTED_TEXT
        )
        g = float(self.gate[row, t])
        gate = format_value(g, "f") if math.isfinite(g) else NOT_COMPUTED_TEXT
        lines = [
            f"<b>{self.rows[row]}</b> &middot; {self.layer_label} &middot; t = {t + 1}",
            f"||dL/dh<sub>t</sub>|| = {norm}",
            f"{self.carriers[row]} = {gate}",
        ]
        if self.messages[row]:
            lines.append(f"<span style='color:#b00'>{self.messages[row]}</span>")
        return "<br>".join(lines)


def _layer_index(layer: int, depth: int) -> int:
    """0-based hidden layer of ``layer`` (negative counts from the top), clipped."""
    k = layer if layer >= 0 else depth + layer
    return int(min(max(k, 0), max(depth - 1, 0)))


def _padded(row: np.ndarray, T: int) -> np.ndarray:
    out = np.full(T, np.nan)
    out[: len(row)] = row[:T]
    return out


def _caption(phase: TimePhase | None, empty: bool, layer: str) -> str:
    if phase is None:
        return (
            f"{NOT_COMPUTED_TEXT}: train or step through to fill in dL/dh\u209c"
            if empty
            else f"last training step: ||dL/dh\u209c|| of {layer} at every time step"
        )
    if phase.phase == "backward":
        return f"\u2190 backward: {phase.where}"
    if phase.phase == "forward":
        return f"forward \u2192 {phase.where}: h\u2081 \u2026 h_T"
    if phase.phase == "loss":
        return "loss: the read-out reads h_T"
    return "update: the weights take one optimiser step"


def unrolled_view(
    snapshots: Mapping[str, RecurrentSnapshot], phase: TimePhase | None, layer: int = -1
) -> UnrolledView:
    """The diagram's rows for ``snapshots`` (row name -> snapshot, in the lock-step's
    order), marking ``phase`` (the last step-through phase, None between steps) in
    ``layer`` (0-based hidden layer; negative counts from the top).

    Rows of different sequence lengths are padded with NaN to the longest.
    """
    rows = tuple(snapshots)
    snaps = list(snapshots.values())
    T = max((s.seq_len for s in snaps), default=0)
    ks = [_layer_index(layer, s.depth) for s in snaps]
    grad = np.array([_padded(s.grad_h[k], T) for s, k in zip(snaps, ks, strict=True)])
    gate = np.array([_padded(s.gate_mean[k], T) for s, k in zip(snaps, ks, strict=True)])
    grad, gate = grad.reshape(len(rows), T), gate.reshape(len(rows), T)
    finite = grad[np.isfinite(grad)]
    lo, hi = log_levels([finite])
    time = -1
    if phase is not None and phase.phase == "backward":
        shown = _layer_index(layer, phase.depth)
        time = phase.time if phase.layer == shown else -1
    gfin = gate[np.isfinite(gate)]
    label = snaps[0].layer_labels[ks[0]] if snaps else ""
    return UnrolledView(
        rows=rows,
        grad_h=readonly(grad),
        gate=readonly(gate),
        carriers=tuple(s.carrier for s in snaps),
        time=int(time),
        direction=_DIRECTIONS.get(phase.phase, "idle") if phase is not None else "idle",
        phase=phase.phase if phase is not None else "",
        caption=_caption(phase, finite.size == 0, label),
        diverged=tuple(s.divergence is not None for s in snaps),
        messages=tuple(s.divergence.message if s.divergence else "" for s in snaps),
        levels=(lo, hi),
        gate_levels=(0.0, max(1.0, float(gfin.max()) if gfin.size else 1.0)),
        below_scale=bool(finite.size and finite.min() < 10.0**lo),
        layer_label=label,
        readout=all(k == s.depth - 1 for s, k in zip(snaps, ks, strict=True)),
    )


# --- the step inspector ------------------------------------------------------------------------
@dataclass(frozen=True)
class StepRow:
    """One number of the step inspector: its symbol (rich text), value (None: none), the
    inspector's format kind (see :func:`gui.inspector_model.format_value`) and meaning."""

    key: str
    symbol: str
    value: float | None
    kind: str
    meaning: str

    @property
    def text(self) -> str:
        return format_value(self.value, self.kind)


@dataclass(frozen=True, eq=False)
class StepExplanation:
    """What :class:`gui.panels.step_inspector.StepInspector` shows for one phase."""

    title: str  # rich text
    rows: tuple[StepRow, ...]
    text: str  # rich text: why the numbers are what they are, or what comes next
    chart: str = ""  # "matrix" (the RNN's factor), "gates" (per-unit gate), "" for none
    chart_data: np.ndarray | None = None  # (H, H) factor or (H,) gate batch mean per unit
    chart_title: str = ""  # plain text (a plot title)

    def values(self) -> dict[str, str]:
        """Row key -> the text shown."""
        return {r.key: r.text for r in self.rows}


_TS = "<sub>t</sub>"
_TP = "<sub>t\u22121</sub>"
_FACTOR = f"diag(f'(z{_TS})) W<sub>hh</sub><sup>T</sup>"
#: the factor image's title (plain text: plot titles are not rich text)
FACTOR_TITLE = "M = diag(mean f\u2032(z\u209c)) W\u2095\u2095\u1d40"
#: backward gate per cell: (array key, symbol, name)
_GATES = {
    "lstm": ("forget_gate", f"f{_TS}", "forget gate"),
    "gru": ("update_gate", f"z{_TS}", "update gate"),
}


def _common_rows(n: dict) -> list[StepRow]:
    return [
        StepRow("dh_norm", f"||dL/dh{_TS}||", n.get("dh_norm"), "e", "gradient arriving at t"),
        StepRow("dh_prev_norm", f"||dL/dh{_TP}||", n.get("dh_prev_norm"), "e", "one step back"),
        StepRow("gain", "gain", n.get("gain"), "f", "their ratio (&lt; 1: shrinking)"),
    ]


def _power_note(base: float, n: int, what: str) -> str:
    """'if every step back were like this one, t=1 would get base^n' (n steps left)."""
    if n < 1 or not math.isfinite(base):
        return ""
    return (
        f" If every step back were like this one, t=1 would get {what} "
        f"{format_value(base, 'f')}<sup>{n}</sup> = {format_value(base**n, 'e')} of it."
    )


def _rnn(phase: TimePhase) -> tuple[list[StepRow], str, np.ndarray]:
    n = phase.norms
    rows = _common_rows(n) + [
        StepRow(
            "factor_spectral", f"\u03c3<sub>max</sub>({_FACTOR})", n.get("factor_spectral"),
            "f", "spectral norm: the most one step back can stretch a gradient",
        ),
        StepRow(
            "factor_fro", f"||{_FACTOR}||<sub>F</sub>", n.get("factor_fro"), "f",
            "Frobenius norm (never below the spectral norm)",
        ),
        StepRow(
            "fprime_mean", f"mean f'(z{_TS})", n.get("fprime_mean"), "f",
            "slope of the activation (saturated units: near 0, pass nothing back)",
        ),
    ]  # fmt: skip
    s = float(n.get("factor_spectral", math.nan))
    why = f"dL/dh{_TP} = dL/dh{_TS} \u00b7 {_FACTOR}. \u03c3<sub>max</sub> = {format_value(s, 'f')}"
    if s < 1:
        why += (
            " &lt; 1: this factor shrinks every gradient it carries back, to at most "
            f"{format_value(s, 'f')} \u00d7 its size." + _power_note(s, phase.time, "at most")
        )
    else:
        why += (
            " \u2265 1: in some directions this factor keeps or grows the gradient; whether "
            "it shrinks depends on where dL/dh<sub>t</sub> points. Many factors above 1 in a "
            "row can explode the gradient."
        )
    why += (
        f"<br><span style='color:#666'>The factor uses the batch-mean f'(z{_TS}); each "
        "sequence has its own slopes, so the measured gain can differ from this bound.</span>"
    )
    return rows, why, np.asarray(phase.arrays["factor"])


def _gated(phase: TimePhase, cell: str) -> tuple[list[StepRow], str, np.ndarray]:
    key, sym, name = _GATES[cell]
    n = phase.norms
    rows = _common_rows(n) + [
        StepRow(f"{key}_mean", f"mean {sym}", n.get(f"{key}_mean"), "f", f"{name}, batch mean"),
        StepRow(f"{key}_max", f"max {sym}", n.get(f"{key}_max"), "f", f"largest {name} value"),
    ]
    m = float(n.get(f"{key}_mean", math.nan))
    if cell == "lstm":
        path = (
            f"Through the cell state, dL/dc{_TP} = dL/dc{_TS} \u2299 f{_TS} (plus the path "
            f"through h{_TP}): no W<sub>hh</sub> and no activation slope, only the forget "
            "gate. A unit whose f<sub>t</sub> is near 1 carries its gradient back almost "
            "unchanged; near 0 it forgets it."
        )
    else:
        path = (
            f"h{_TS} = (1 \u2212 z{_TS}) \u2299 n{_TS} + z{_TS} \u2299 h{_TP}: the direct "
            f"path passes dL/dh{_TS} back multiplied by z{_TS} alone, with no W<sub>hh</sub> "
            "and no activation slope. A unit whose z<sub>t</sub> is near 1 copies its state "
            "and keeps its gradient."
        )
    why = path + _power_note(m, phase.time, f"through the {name}s alone")
    why += (
        "<br><span style='color:#666'>The gain of dL/dh also counts the paths through the "
        "other gates.</span>"
    )
    return rows, why, np.asarray(phase.arrays[key]).mean(axis=0)


def _cell_of(phase: TimePhase | None, cell: str, snapshot: RecurrentSnapshot | None) -> str:
    """rnn / lstm / gru: from the phase's arrays, else the snapshot, else the name."""
    if phase is not None:
        for kind, (key, _, _) in _GATES.items():
            if key in phase.arrays:
                return kind
        if "factor" in phase.arrays:
            return "rnn"
    if snapshot is not None:
        return snapshot.cell
    low = cell.lower()
    return next((c for c in ("lstm", "gru") if c in low), "rnn")


def _next_text(kind: str, cell: str) -> str:
    """What a phase of ``kind`` does, for the text between backward steps."""
    if kind == "forward":
        return "runs the cell over all T time steps, keeping every step's gates for the way back."
    if kind == "loss":
        return (
            "the read-out reads the last hidden state h<sub>T</sub>; the loss's gradient "
            "dL/dh<sub>T</sub> starts the backward pass."
        )
    if kind == "backward":
        how = {
            "rnn": f"through {_FACTOR}",
            "lstm": f"through the gates and the cell state (\u00d7 f{_TS})",
            "gru": f"through the gates and the direct path (\u00d7 z{_TS})",
        }[cell]
        return f"carries dL/dh{_TS} one time step back {how}; this panel then explains the step."
    return "the optimiser changes the weights by the gradients summed over all time steps."


def step_explanation(
    phase: TimePhase | None, cell: str, snapshot: RecurrentSnapshot | None
) -> StepExplanation:
    """The step inspector's content for ``phase`` of the row named ``cell`` (e.g. "LSTM").

    A backward phase gets its norms (the phase's own numbers, never recomputed) and why
    they shrink or not; any other phase (or None) gets a short text of what comes next,
    with no numbers of an earlier phase.
    """
    kind = _cell_of(phase, cell, snapshot)
    name = f"<b>{cell}</b>" if cell else "<b>Step inspector</b>"
    nxt = snapshot.next_phase if snapshot is not None else "forward layer 1"
    following = f"Next: <b>{nxt}</b> \u2014 {_next_text(nxt.split(' ')[0], kind)}"
    if phase is None:
        intro = "Step through a training step to follow dL/dh<sub>t</sub> back in time. "
        return StepExplanation(name, (), intro + following)
    title = f"{name} &middot; {phase.text}"
    if phase.phase != "backward":
        return StepExplanation(title, (), f"<b>{phase.phase}</b> done. {following}")
    if kind == "rnn":
        rows, why, M = _rnn(phase)
        return StepExplanation(title, tuple(rows), why, "matrix", M, FACTOR_TITLE)
    rows, why, per_unit = _gated(phase, kind)
    gate = _GATES[kind][2]
    return StepExplanation(
        title, tuple(rows), why, "gates", per_unit, f"{gate} per unit at t={phase.time + 1}"
    )
