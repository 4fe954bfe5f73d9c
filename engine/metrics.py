"""The per-layer metrics: one table from which every list of them derives.

Each member of :class:`Metric` is a column of the kernels' ``mtab`` ((L+1, N_METRICS) float64,
row L the output layer), in declaration order; its lower-case name is the metric's key in
:data:`LAYER_METRICS`, in ``Snapshot.layers`` and in the CSV header (``grad_norm[h1]``...).
Adding a metric: a member here, and the line in ``engine/kernels`` that writes its column.

No NumPy, no Numba, no Qt (``engine.limits`` sizes the history from :data:`N_METRICS`).
"""

from __future__ import annotations

from enum import IntEnum


class Metric(IntEnum):
    """Per-layer metric: column index, formula and the phase of a step that computes it."""

    def __new__(cls, formula: str, phase: str):
        value = len(cls.__members__)
        member = int.__new__(cls, value)
        member._value_ = value
        member.formula = formula
        member.phase = phase
        return member

    GRAD_NORM = "||dL/dW_k||_F", "backward"
    BIAS_GRAD_NORM = "||dL/db_k||", "backward"
    DELTA_RMS = "RMS of delta_k = dL/dz_k", "backward"
    DELTA_NORM = "||delta_k||_F", "backward"
    INCOMING_NORM = "||dL/da_k|| = ||delta_{k+1} W_{k+1}^T (+ skip)||", "backward"
    FPRIME_MEAN = "mean |f'(z_k)|", "forward"
    SATURATED = "fraction of units with |f'| <= 1% of max |f'|", "forward"
    DEAD = "fraction of units whose f(z) is 0 for the whole batch", "forward"
    WEIGHT_NORM = "||W_k||_F after the update", "update"
    UPDATE_RATIO = "||Delta W_k|| / ||W_k|| of the update", "update"
    ACT_MEAN = "mean of a_k", "forward"
    ACT_STD = "std of a_k", "forward"
    Z_MEAN = "mean of z_k", "forward"
    Z_STD = "std of z_k", "forward"
    PRELU_GRAD = "dL/dalpha_k (PReLU layers)", "backward"

    @property
    def key(self) -> str:
        """The metric's name in ``LAYER_METRICS``, snapshots and CSV columns."""
        return self.name.lower()


#: per-layer metric names, in the kernels' column order
LAYER_METRICS: tuple[str, ...] = tuple(m.key for m in Metric)
N_METRICS = len(Metric)
