"""What a watcher sees of a recurrent session: immutable snapshots, phase results, divergences.

Plain numbers and read-only float64 arrays only (the GUI, the CLI and the tests read these,
never the session's buffers).  Time steps are 0-based: ``t = 0 .. T-1``; the loss reads the
top layer's last hidden state h_{T-1}, so ``grad_h[l, t]`` = ||dL/dh_t|| falls with T-1-t
when the gradient vanishes through time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.recurrent import kernels as R
from engine.snapshot import Divergence


def layer_name(layer: int, depth: int) -> str:
    """``layer 1`` .. ``layer L`` (0-based ``layer``), ``read-out`` for ``layer == depth``."""
    return "read-out" if layer == depth else f"layer {layer + 1}"


def quantity_name(phase: str, quantity: int, gate_names: tuple[str, ...]) -> str:
    """The words of ``status[3]``: a gate's pre-activation (forward) or gradient (backward)."""
    if phase in ("loss", "update"):
        return "loss" if phase == "loss" else "weights"
    if quantity == R.Q_CELL:
        return "cell state c_t"
    if quantity == R.Q_HIDDEN:
        return "hidden state h_t" if phase == "forward" else "gradient dL/dh_t"
    gate = gate_names[quantity]
    if gate == "z":  # the vanilla RNN's only block
        return "pre-activation z_t" if phase == "forward" else "delta dL/dz_t"
    return f"pre-activation of the {gate}" if phase == "forward" else f"gradient of the {gate}"


@dataclass(frozen=True)
class RecurrentDivergence(Divergence):
    """Where a recurrent run first produced NaN/Inf: step, layer, time step and gate."""

    time: int = -1  # 0-based time step; -1 for the loss and the update

    @property
    def message(self) -> str:
        when = f" at time step {self.time + 1}" if self.time >= 0 else ""
        return (
            f"diverged at step {self.step}: {self.quantity} of "
            f"{layer_name(self.layer, self.depth)}{when} became NaN/Inf during the "
            f"{self.phase} phase"
        )


@dataclass(frozen=True)
class TimePhase:
    """What one phase of the recurrent step-through computed (copies, float64).

    ``phase`` forward / loss / backward / update; ``layer`` 0-based (``depth``: read-out,
    -1: update); ``time`` the backward phase's time step (-1 otherwise).  ``norms`` holds the
    inspector's numbers: for a backward step ||dL/dh_t||, ||dL/dh_{t-1}||, their ratio
    ``gain`` and the per-step factor (see :func:`engine.recurrent.session.step_factor`).
    """

    phase: str
    layer: int
    time: int
    index: int
    n_phases: int
    arrays: dict[str, np.ndarray]
    norms: dict[str, float]
    depth: int = 1

    @property
    def where(self) -> str:
        if self.layer < 0:
            return ""
        name = layer_name(self.layer, self.depth)
        return f"{name} t={self.time + 1}" if self.time >= 0 else name

    @property
    def text(self) -> str:
        """``backward layer 1 t=37 (15/205)``."""
        where = f" {self.where}" if self.where else ""
        return f"{self.phase}{where} ({self.index + 1}/{self.n_phases})"

    def __repr__(self) -> str:
        return f"TimePhase({self.text})"


@dataclass(frozen=True)
class RecurrentSnapshot:
    """Immutable state of a recurrent session.  Arrays are read-only float64."""

    step: int
    epoch: int
    steps_per_epoch: int
    phase: str  # "idle" between steps, else the last phase run
    next_phase: str
    cell: str  # rnn / lstm / gru
    task: str
    seq_len: int
    loss: float
    accuracy: float  # memory: share recalled; adding: share with |error| < 0.04
    test_loss: float
    test_accuracy: float
    learning_rate: float
    steps_per_second: float
    layer_labels: tuple[str, ...]  # (L+1,) "layer 1" .. "read-out"
    grad_h: np.ndarray  # (L, T) ||dL/dh_t|| of the last backward pass (NaN: not yet computed)
    gate_mean: np.ndarray  # (L, T) batch mean of the carrier (``carrier``) per time step
    carrier: str  # what gate_mean holds: mean forget gate f_t, mean update gate z_t, mean f'
    grad_norm: np.ndarray  # (L+1,) ||dL/d(params of layer l)|| before clipping
    weight_norm: np.ndarray  # (L+1,) ||W|| of each block after the update
    divergence: RecurrentDivergence | None = None
    phase_result: TimePhase | None = None
    history_steps: np.ndarray | None = None  # (n,) int64
    history_scalars: np.ndarray | None = None  # (n, len(SCALARS))
    history_grad_h: np.ndarray | None = None  # (n, T) top layer's ||dL/dh_t|| per recorded step
    eval_steps: np.ndarray | None = None  # (m,) int64
    eval_scalars: np.ndarray | None = None  # (m, 2) test loss, test accuracy
    extra: dict = field(default_factory=dict)

    @property
    def depth(self) -> int:
        return len(self.layer_labels) - 1

    def vanishing_ratio(self, layer: int = -1) -> float:
        """||dL/dh_0|| / ||dL/dh_{T-1}|| of ``layer`` (the top by default): how much of the
        gradient reaching the last step survives back to the first."""
        g = self.grad_h[layer]
        return float(g[0] / g[-1]) if g[-1] > 0 else math.nan

    def __repr__(self) -> str:
        return (
            f"RecurrentSnapshot(step={self.step}, {self.cell} T={self.seq_len}, "
            f"loss={self.loss:.4g})"
        )
