"""The step-through: one mini-batch advanced phase by phase, and which metrics are computed.

:class:`ManualStep` runs forward(layer k) ... loss ... backward(layer k) ... update through
the same kernels as the fused ``train_step``, so both give bit-identical numbers;
:class:`ComputedMask` remembers which cells of the metric table some phase has written.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from engine import kernels as K
from engine.metrics import LAYER_METRICS, Metric
from engine.network import Network, Workspace
from engine.snapshot import PHASE_NAMES, PhaseResult, norm, readonly

if TYPE_CHECKING:
    from engine.session import Session


def step_phases(depth: int) -> list[tuple[str, int]]:
    """(phase, layer) of one step in order: forward 0..L, loss, backward L..0, update."""
    return (
        [("forward", k) for k in range(depth + 1)]
        + [("loss", depth)]
        + [("backward", k) for k in range(depth, -1, -1)]
        + [("update", -1)]
    )


class ComputedMask:
    """Which cells of the metric table (layer x metric) some phase has written.

    The table starts as NaN; a phase fills the columns it computes for its layer (forward:
    activation statistics; backward: gradient norms; update: weight norms for every layer).
    Columns a layer never has (f' statistics of the output layer, the PReLU gradient of
    other activations) stay uncomputed for good.
    """

    # the columns each phase computes, from the metric table (engine.metrics); the output
    # layer has no f' statistics, and only PReLU layers have a slope gradient
    _FORWARD = [m for m in Metric if m.phase == "forward"]
    _OUTPUT_FORWARD = [Metric.ACT_MEAN, Metric.ACT_STD, Metric.Z_MEAN, Metric.Z_STD]
    _BACKWARD = [m for m in Metric if m.phase == "backward" and m != Metric.PRELU_GRAD]
    _UPDATE = [m for m in Metric if m.phase == "update"]

    def __init__(self, net: Network):
        self.depth = net.depth
        self.prelu = net.itab[:, K.P_OFF] >= 0
        self.mask = np.zeros((net.depth + 1, K.N_METRICS), dtype=bool)
        self.complete = False  # every phase has run once: nothing left to mark
        self._cache: dict[str, np.ndarray] | None = None

    def mark(self, phase: str, layer: int) -> None:
        """Phase ``phase`` ran on ``layer`` (update: on every layer)."""
        if self.complete:
            return
        self._cache = None
        if phase == "forward":
            cols = self._OUTPUT_FORWARD if layer == self.depth else self._FORWARD
            self.mask[layer, cols] = True
        elif phase == "backward":
            self.mask[layer, self._BACKWARD] = True
            self.mask[layer, Metric.PRELU_GRAD] = self.prelu[layer]
        elif phase == "update":
            self.mask[: (self.depth + 1 if layer < 0 else layer + 1), self._UPDATE] = True

    def mark_step(self, failed_at: tuple[int, int, int] | None) -> None:
        """A fused step ran; ``failed_at`` is the kernel's (phase, layer, quantity) status if
        it stopped at a NaN/Inf, else None (every phase ran)."""
        if self.complete:
            return
        phases = step_phases(self.depth)
        stop = None
        if failed_at is not None:
            stop = (PHASE_NAMES[failed_at[0]], failed_at[1])
            if stop[0] == "update":
                phases[-1] = stop
        for phase in phases:
            self.mark(*phase)
            if phase == stop:
                return
        self.complete = True

    def by_metric(self) -> dict[str, np.ndarray]:
        """metric name -> (L+1,) read-only bool (cached until the next mark)."""
        if self._cache is None:
            self._cache = {}
            for i, name in enumerate(LAYER_METRICS):
                col = self.mask[:, i].copy()
                col.flags.writeable = False
                self._cache[name] = col
        return self._cache


class RateMeter:
    """Steps per second over a sliding window, and the size of the last batch."""

    def __init__(self, window: float = 1.0):
        self.window = window
        self.rate = 0.0
        self.batch = 0
        self._t0 = time.perf_counter()
        self._n = 0

    def tick(self, steps: int = 1) -> None:
        self._n += steps
        now = time.perf_counter()
        if now - self._t0 >= self.window:
            self.rate = self._n / (now - self._t0)
            self._t0, self._n = now, 0


class ManualStep:
    """One mini-batch advanced phase by phase, through the same kernels as ``train_step``."""

    def __init__(self, session: Session, X: np.ndarray, T: np.ndarray, ws: Workspace):
        self.s = session
        self.X, self.T, self.ws = X, T, ws
        self.phases = step_phases(session.depth)
        self.index = 0

    @property
    def done(self) -> bool:
        return self.index == len(self.phases)

    def advance(self) -> tuple[bool, PhaseResult]:
        kind, k = self.phases[self.index]
        s, net, o = self.s, self.s.net, self.s.opt
        K = s.kernels  # the session's backend: compiled, or NumPy until it is compiled
        # the arguments every per-layer kernel shares, after the layer, input and weights
        tables = (net.itab, net.ftab, self.ws.ws, net.bns, s.mtab, o.hp)
        if kind == "forward":
            ok = K.forward_layer(k, self.X, net.params, *tables, s.ip, s.status)
        elif kind == "loss":
            ok = K.loss_phase(self.T, net.params, net.itab, self.ws.ws, o.hp, s.ip, s.out, s.status)
        elif kind == "backward":
            ok = K.backward_layer(k, self.X, net.params, net.grads, *tables, s.status)
        else:
            ok = K.update(
                net.params, net.grads, o.m, o.v, net.itab, s.mtab, o.hp, s.ip, s.out, s.status
            )
        result = self._result(kind, k)
        self.index += 1
        return bool(ok), result

    def _result(self, kind: str, k: int) -> PhaseResult:
        ws, net = self.ws, self.s.net
        if kind == "forward":
            names = ("z", "fprime", "a") if k < net.depth else ("z",)
            arrays = {n: ws.get(n, k) for n in names}
            arrays["a_prev"] = self.X if k == 0 else ws.get("a", k - 1)
        elif kind == "loss":
            arrays = {"output": ws.get("fz", k), "delta": ws.get("delta", k)}
        elif kind == "backward":
            arrays = {"delta": ws.get("delta", k), "dW": net.dW(k), "db": net.db(k)}
            if k < net.depth:
                arrays.update(incoming=ws.get("dL_da", k), fprime=ws.get("fprime", k))
        else:
            arrays = {
                "weight_norm": self.s.mtab[:, Metric.WEIGHT_NORM],
                "update_ratio": self.s.mtab[:, Metric.UPDATE_RATIO],
            }
        arrays = {n: readonly(a) for n, a in arrays.items()}
        norms = {n: norm(a) for n, a in arrays.items() if n != "fprime"}
        if "fprime" in arrays:
            norms["fprime_mean"] = float(np.mean(np.abs(arrays["fprime"])))
        if kind == "loss":
            norms["loss"] = float(self.s.out[0])
        return PhaseResult(kind, k, self.index, len(self.phases), arrays, norms, net.depth)
