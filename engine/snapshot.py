"""What a watcher sees of a session: immutable Snapshots, phase results, divergences.

Plain numbers and read-only arrays only: the GUI, the CLI and the tests read these, never
the session's buffers.  The names of the per-layer metrics and scalars live here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.codes import Phase, Quantity
from engine.labels import layer_label

SCALARS = ("loss", "accuracy", "grad_global_norm", "learning_rate")
EVAL_SCALARS = ("test_loss", "test_accuracy")
#: divergence codes (``status[0]`` and ``status[2]`` of the kernels) -> their words
PHASE_NAMES = {p: p.label for p in Phase}
QUANTITY_NAMES = {q: q.label for q in Quantity}


def norm(a: np.ndarray) -> float:
    """||a||_2 for display; inf (not a warning) for inputs near the float64 limit."""
    with np.errstate(over="ignore"):
        return float(np.linalg.norm(a))


def readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64 if a.dtype.kind == "f" else a.dtype)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Divergence:
    """Where a run first produced NaN/Inf."""

    step: int
    phase: str  # forward / loss / backward / update
    layer: int  # 0-based; == depth for the output layer
    quantity: str
    depth: int

    @property
    def message(self) -> str:
        where = layer_label(self.layer, self.depth)
        return (
            f"diverged at step {self.step}: {self.quantity} of {where} became NaN/Inf "
            f"during the {self.phase} phase"
        )

    @property
    def advice(self) -> str:
        return (
            "Lower the learning rate, enable gradient clipping (training.clip_norm), "
            "or use a smaller initialisation."
        )


@dataclass(frozen=True)
class PhaseResult:
    """What one phase of the step-through just computed (copies, float64)."""

    phase: str  # forward / loss / backward / update
    layer: int  # 0-based layer index (-1 for update)
    index: int  # position of this phase within the step
    n_phases: int
    arrays: dict[str, np.ndarray]  # e.g. z, a, fprime, incoming, delta, dW, db
    norms: dict[str, float]  # Frobenius norms / means of those arrays
    depth: int = 0  # hidden layers of the network

    @property
    def where(self) -> str:
        """The layer's name (``hidden 3``, ``output``); "" for the update of every layer."""
        return "" if self.layer < 0 else layer_label(self.layer, self.depth)

    @property
    def text(self) -> str:
        """``backward hidden 3 (15/25)``: the phase, its layer, its place in the step."""
        where = f" {self.where}" if self.where else ""
        return f"{self.phase}{where} ({self.index + 1}/{self.n_phases})"

    def __repr__(self) -> str:
        return f"PhaseResult({self.phase}, layer={self.layer}, {self.index + 1}/{self.n_phases})"


@dataclass(frozen=True)
class Snapshot:
    """Immutable state of a session for whoever watches it.  Arrays are read-only float64."""

    step: int
    epoch: int
    steps_per_epoch: int
    phase: str  # "idle" between steps, else the last phase run
    phase_layer: int
    next_phase: str
    loss: float
    accuracy: float
    test_loss: float
    test_accuracy: float
    learning_rate: float
    steps_per_second: float
    layer_labels: tuple[str, ...]  # (L+1,) "hidden 1" .. "output"
    activations: tuple[str, ...]  # (L+1,)
    widths: tuple[int, ...]  # (L+1,)
    layers: dict[str, np.ndarray]  # metric -> (L+1,) float64, see LAYER_METRICS
    divergence: Divergence | None = None
    history_steps: np.ndarray | None = None  # (n,) int64
    history_scalars: np.ndarray | None = None  # (n, len(SCALARS))
    history_grad_norm: np.ndarray | None = None  # (n, L+1) ||dL/dW_k|| per recorded step
    eval_steps: np.ndarray | None = None  # (m,) int64
    eval_scalars: np.ndarray | None = None  # (m, len(EVAL_SCALARS))
    phase_result: PhaseResult | None = None
    batch_size: int = 0  # examples in the last mini-batch
    input_norm: float = math.nan  # ||x||_F of the last mini-batch (theory overlay)
    backend: str = "numba"  # what computed it: "numba" kernels, or "numpy" while they compile
    extra: dict = field(default_factory=dict)
    #: metric -> (L+1,) bool: True where a phase has computed the value.  Entries no phase has
    #: written yet (before the first step, layers a step-through has not reached, metrics a
    #: layer does not have) are NaN in ``layers`` and False here: "not computed", which is
    #: not the same as a NaN that a computation produced.  Empty: everything computed.
    computed: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    def is_computed(self, metric: str) -> np.ndarray:
        """(L+1,) bool: which layers have a computed value of ``metric`` (see ``computed``)."""
        mask = self.computed.get(metric)
        return np.ones(self.depth + 1, dtype=bool) if mask is None else mask

    def __repr__(self) -> str:
        return (
            f"Snapshot(step={self.step}, phase={self.phase!r}, loss={self.loss:.4g}, "
            f"depth={self.depth})"
        )
