"""A recurrent training session: the :class:`~engine.steppable.Steppable` of a recurrent config.

Like :class:`engine.session.Session`, it advances one mini-batch at a time (:meth:`step`) or
one phase at a time (:meth:`step_phase`: forward per layer, loss, backward per layer and time
step, update) through the same kernels, and shows itself as immutable
:class:`~engine.recurrent.snapshot.RecurrentSnapshot` objects, so ``gui.worker`` can drive it::

    s = RecurrentSession(config)       # config.recurrent.cell in rnn / lstm / gru
    s.run(200)
    snap = s.snapshot()
    snap.grad_h[-1]                     # ||dL/dh_t||, t = 0 .. T-1, of the top layer
"""

from __future__ import annotations

import math
import time

import numpy as np

from engine import kernels as K
from engine import losses
from engine.codes import Phase
from engine.config import ConfigError, ExperimentConfig, validate
from engine.history import Trace
from engine.limits import format_bytes, memory_limit
from engine.optimizers import Optimizer
from engine.recurrent.network import CARRIER, Buffers, RecurrentNet
from engine.recurrent.passes import Passes, phases, step_factor
from engine.recurrent.snapshot import (
    RecurrentDivergence,
    RecurrentSnapshot,
    TimePhase,
    layer_name,
    quantity_name,
)
from engine.recurrent.tasks import SequenceData, load_task
from engine.session import eval_interval
from engine.snapshot import EVAL_SCALARS, PHASE_NAMES, SCALARS, readonly
from engine.steppable import SessionState
from engine.stepper import RateMeter

#: largest array (bytes) one evaluation chunk may allocate per kind of buffer
_EVAL_BYTES = 16 * 1024**2


class RecurrentSession(SessionState):
    """Owns one recurrent experiment: sequences, cells, optimiser, batch order and history."""

    CHUNK_SECONDS = 0.25  # run(): at most this long between two checks of the clock

    def __init__(self, config: ExperimentConfig, data: SequenceData | None = None):
        self.config = validate(config)
        if config.recurrent.cell == "none":
            raise ConfigError(['recurrent.cell: expected "rnn", "lstm" or "gru", got "none"'])
        m, t = config.model, config.training
        self.data = data if data is not None else load_task(config, m.dtype)
        n_out = _outputs(config, self.data)
        self.net = RecurrentNet(
            config, self.data.n_features, n_out, np.random.default_rng([t.seed, 0])
        )
        dt = self.net.dtype
        self.X = np.ascontiguousarray(self.data.X_train, dtype=dt)
        self.T = losses.targets(m.loss, self.data.y_train, n_out, dt)
        self.X_test = np.ascontiguousarray(self.data.X_test, dtype=dt)
        self.T_test = losses.targets(m.loss, self.data.y_test, n_out, dt)
        self.opt = Optimizer(t, self.net.n_params, dt)
        ip = np.array([losses.code(m.loss), self.opt.code, 1, 1], dtype=np.int64)
        self.passes = Passes(self.net, self.opt, ip, self.data.task == "regression")
        self.batch_size = min(t.batch_size, len(self.X))
        _check_memory(self, self.batch_size)
        self.steps_per_epoch = math.ceil(len(self.X) / self.batch_size)
        self.eval_every = eval_interval(
            t.eval_every, len(self.X), len(self.X_test), self.batch_size
        )
        self._shuffle_rng = np.random.default_rng([t.seed, 1])
        self._order = np.arange(len(self.X))
        self._buffers: dict[int, Buffers] = {}
        self._bufs = self._buffer(self.batch_size)
        cap = config.logging.history
        self.scalar_trace = Trace(cap, (len(SCALARS),))
        self.grad_trace = Trace(cap, (self.seq_len,))
        self.eval_trace = Trace(cap, (len(EVAL_SCALARS),))
        self.step_count = 0
        self.loss = self.accuracy = self.test_loss = self.test_accuracy = math.nan
        self.divergence: RecurrentDivergence | None = None
        self._pending: list | None = None  # [phases, index, X, T, buffers] of a step-through
        self._last_phase: TimePhase | None = None
        self._rate = RateMeter()

    # --- properties ----------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self.net.depth

    @property
    def seq_len(self) -> int:
        return self.data.seq_len

    @property
    def is_regression(self) -> bool:
        return self.data.task == "regression"

    # --- batches -------------------------------------------------------------------------------
    def _buffer(self, B: int) -> Buffers:
        if B not in self._buffers:
            self._buffers[B] = Buffers(self.net, self.seq_len, B, self.data.n_features)
        return self._buffers[B]

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray, Buffers]:
        """Mini-batch ``step_count`` of a fresh shuffle each epoch, time-major (T, B, d)."""
        i = self.step_count % self.steps_per_epoch
        if i == 0:
            self._shuffle_rng.shuffle(self._order)
        idx = self._order[i * self.batch_size : (i + 1) * self.batch_size]
        self._rate.batch = len(idx)
        self.opt.begin_step(self.step_count + 1)
        self._bufs = self._buffer(len(idx))
        X = np.ascontiguousarray(self.X[idx].transpose(1, 0, 2))
        return X, self.T[idx], self._bufs

    # --- advancing -----------------------------------------------------------------------------
    def step(self) -> bool:
        """One fused mini-batch step (finishing a half-done step-through first)."""
        finished = self._finish_pending()
        if finished is not None:
            return finished
        X, Tgt, bufs = self._next_batch()
        ok = self.passes.step(bufs, X, Tgt)
        self._finish_step(ok)
        return ok

    def run(self, n_steps: int, callback=None, *, seconds: float | None = None) -> int:
        """Up to ``n_steps`` steps, for about ``seconds`` at most; returns how many completed."""
        done = 0
        t0 = time.perf_counter()
        while done < n_steps and self.step():
            done += 1
            if callback is not None:
                callback(self)
            if seconds is not None and time.perf_counter() - t0 >= seconds:
                break
        return done

    def step_phase(self) -> TimePhase | None:
        """One phase of the step-through; None once the run has diverged."""
        if self.divergence is not None:
            return None
        if self._pending is None:
            X, Tgt, bufs = self._next_batch()
            for lay in bufs.layers:
                lay["gh"][:] = np.nan  # "not computed yet": the curve fills in backwards
            self._pending = [phases(self.depth, self.seq_len), 0, X, Tgt, bufs]
        plan, index, X, Tgt, bufs = self._pending
        phase, k, t = plan[index]
        ok, arrays, norms = self._run_phase(phase, k, t, X, Tgt, bufs)
        self._pending[1] += 1
        result = TimePhase(phase, k, t, index, len(plan), arrays, norms, self.depth)
        self._last_phase = result
        if not ok or self._pending[1] == len(plan):
            self._pending = None
            self._finish_step(ok)
        return result

    def _run_phase(self, phase: str, k: int, t: int, X, Tgt, bufs: Buffers):
        """Run one phase; (ok, arrays, norms) for the inspector (float64 copies)."""
        p = self.passes
        if phase == "forward":
            ok = p.forward(bufs, X, k)
            h = bufs.layers[k]["Hs"][1:].astype(np.float64)
            gate = bufs.layers[k]["gate"].copy()
            return ok, {"h_mean": h.mean(axis=1), "gate_mean": gate}, {"h_norm": _norm(h)}
        if phase == "loss":
            ok = p.loss(bufs, Tgt)
            return ok, {"output": bufs.P.astype(np.float64)}, {"loss": float(p.out[0])}
        if phase == "backward":
            lay = bufs.layers[k]
            dh = (lay["E"][t] + (lay["carry"][0] if t < bufs.T - 1 else 0.0)).astype(np.float64)
            ok = p.backward_step(bufs, X, k, t)
            back = lay["carry"][0].astype(np.float64)
            arrays, norms = step_factor(self.net, bufs, k, t)
            n_in, n_back = _norm(dh), _norm(back)
            norms.update(dh_norm=n_in, dh_prev_norm=n_back, gain=_ratio(n_back, n_in))
            return ok, {"dL/dh_t": dh, "dL/dh_t-1": back, **arrays}, norms
        ok = p.update()
        return ok, {}, {"grad_global_norm": float(p.out[2])}

    def next_phase(self) -> tuple[str, int]:
        """(phase, layer) :meth:`step_phase` runs next; ("forward", 0) between steps."""
        if self._pending is None:
            return "forward", 0
        phase, k, _ = self._pending[0][self._pending[1]]
        return phase, k

    def next_phase_text(self) -> str:
        if self._pending is None:
            return "forward layer 1"
        phase, k, t = self._pending[0][self._pending[1]]
        where = layer_name(k, self.depth) if k >= 0 else ""
        return f"{phase} {where}{f' t={t + 1}' if t >= 0 else ''}".strip()

    def _finish_step(self, ok: bool) -> None:
        self.step_count += 1
        if not ok:
            self._record_divergence()
            return
        out = self.passes.out
        self.loss = float(out[0])
        self.accuracy = float(out[1]) / max(self._rate.batch, 1)
        self._rate.tick()
        self.scalar_trace.append(
            self.step_count, (self.loss, self.accuracy, out[2], self.learning_rate)
        )
        self.grad_trace.append(self.step_count, self._bufs.layers[-1]["gh"])
        if self.eval_every and self.step_count % self.eval_every == 0 and len(self.X_test):
            self.evaluate()

    def _record_divergence(self) -> None:
        phase, layer, t, q = (int(v) for v in self.passes.status)
        name = PHASE_NAMES[Phase(phase)]
        self.divergence = RecurrentDivergence(
            self.step_count, name, layer, quantity_name(name, q, self.net.gate_names),
            self.depth, time=t,
        )  # fmt: skip

    # --- evaluation ----------------------------------------------------------------------------
    def evaluate(self, split: str = "test") -> tuple[float, float]:
        """(loss, accuracy) over a whole split, in chunks small enough for the buffers."""
        X, Tgt = (self.X_test, self.T_test) if split == "test" else (self.X, self.T)
        if len(X) == 0:
            return math.nan, math.nan
        p = self.passes
        saved = p.out.copy(), p.status.copy()
        chunk = _eval_chunk(self.net, self.seq_len)
        total_loss = total_correct = 0.0
        for lo in range(0, len(X), chunk):
            Xc = np.ascontiguousarray(X[lo : lo + chunk].transpose(1, 0, 2))
            bufs = Buffers(self.net, self.seq_len, Xc.shape[1], self.data.n_features)
            for k in range(self.depth):
                p.forward(bufs, Xc, k)
            p.loss(bufs, Tgt[lo : lo + chunk], train=False)
            total_loss += p.out[0] * Xc.shape[1]
            total_correct += p.out[1]
        p.out[:], p.status[:] = saved
        loss, acc = total_loss / len(X), total_correct / len(X)
        if split == "test":
            self.test_loss, self.test_accuracy = loss, acc
            self.eval_trace.append(self.step_count, (loss, acc))
        return loss, acc

    # --- observation ---------------------------------------------------------------------------
    def history_arrays(self) -> dict[str, np.ndarray]:
        steps, scalars = self.scalar_trace.view()
        _, grad_h = self.grad_trace.view()
        e_steps, e_rows = self.eval_trace.view()
        return dict(
            history_steps=steps,
            history_scalars=scalars,
            history_grad_h=grad_h,
            eval_steps=e_steps,
            eval_scalars=e_rows,
        )

    def snapshot(self, with_history: bool = True) -> RecurrentSnapshot:
        """An immutable picture of the session now (``with_history``: copy the history)."""
        lays = self._bufs.layers
        pending = self._pending is not None
        return RecurrentSnapshot(
            step=self.step_count,
            epoch=self.epoch,
            steps_per_epoch=self.steps_per_epoch,
            phase=self._last_phase.phase if (pending and self._last_phase) else "idle",
            next_phase=self.next_phase_text(),
            cell=self.net.cell,
            task=self.config.recurrent.task,
            seq_len=self.seq_len,
            loss=self.loss,
            accuracy=self.accuracy,
            test_loss=self.test_loss,
            test_accuracy=self.test_accuracy,
            learning_rate=self.learning_rate,
            steps_per_second=self._rate.rate,
            layer_labels=tuple(layer_name(k, self.depth) for k in range(self.depth + 1)),
            grad_h=readonly(np.array([lay["gh"] for lay in lays])),
            gate_mean=readonly(np.array([lay["gate"] for lay in lays])),
            carrier=CARRIER[self.net.cell],
            grad_norm=readonly(self.passes.grad_norm),
            weight_norm=readonly(self.passes.mtab[:, K.Metric.WEIGHT_NORM]),
            divergence=self.divergence,
            phase_result=self._last_phase if pending else None,
            **(self.history_arrays() if with_history else {}),
        )

    def __repr__(self) -> str:
        return f"RecurrentSession({self.config.name!r}, {self.net!r}, step={self.step_count})"


def _norm(a: np.ndarray) -> float:
    with np.errstate(over="ignore"):
        return float(np.linalg.norm(a))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def _outputs(config: ExperimentConfig, data: SequenceData) -> int:
    try:
        return losses.n_outputs(config.model.loss, data.task, data.n_classes, 1)
    except ValueError as e:
        raise ConfigError([str(e)]) from None


def _layer_bytes(net: RecurrentNet, T: int, B: int) -> int:
    """Bytes of one batch's buffers: 4 gate-sized (5 for the GRU) and 5 state-sized arrays
    per layer (engine.recurrent.network.Buffers)."""
    per_t = sum((4 + s.gru) * s.G * s.H + 5 * s.H for s in net.shapes)
    return T * B * per_t * net.dtype.itemsize


def _eval_chunk(net: RecurrentNet, T: int) -> int:
    """Sequences per evaluation chunk: at most 1024, and buffers of about ``_EVAL_BYTES``."""
    return int(max(1, min(1024, _EVAL_BYTES // max(1, _layer_bytes(net, T, 1)))))


def _check_memory(session: RecurrentSession, B: int) -> None:
    """Refuse (naming the fields) a run whose data and buffers exceed the memory limit."""
    net, T = session.net, session.seq_len
    need = session.X.nbytes + session.X_test.nbytes + _layer_bytes(net, T, B) * 2
    if need > memory_limit():
        raise ConfigError(
            [
                f"recurrent.seq_len: {T} steps x training.batch_size {B} x data.n_samples "
                f"need about {format_bytes(need)}, more than the limit "
                f"{format_bytes(memory_limit())}"
            ]
        )
