"""Training session: network + data + optimiser + bounded history, observed through Snapshots.

A :class:`Session` advances either a whole mini-batch at a time (:meth:`Session.step`, one fused
kernel call) or one phase at a time (:meth:`Session.step_phase`: forward through layer k,
loss, backward through layer k, update).  Both run the same kernels in the same order, so
they produce bit-identical numbers.  Whoever watches (GUI, CLI, tests) gets immutable
:class:`Snapshot` objects holding plain numbers and read-only arrays.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from engine import kernels as K
from engine import losses
from engine.config import ConfigError, ExperimentConfig, validate
from engine.history import Trace
from engine.limits import memory_problem
from engine.metrics import LAYER_METRICS  # per-layer metric names, in kernel column order
from engine.network import Network, Workspace, build_network
from engine.optimizers import Optimizer

SCALARS = ("loss", "accuracy", "grad_global_norm", "learning_rate")
EVAL_SCALARS = ("test_loss", "test_accuracy")
PHASE_NAMES = {
    K.PH_FORWARD: "forward",
    K.PH_LOSS: "loss",
    K.PH_BACKWARD: "backward",
    K.PH_UPDATE: "update",
}
QUANTITY_NAMES = {
    K.Q_Z: "pre-activation z",
    K.Q_ACT: "activation a",
    K.Q_LOSS: "loss",
    K.Q_DELTA: "delta = dL/dz",
    K.Q_GRAD: "weight gradient dL/dW",
    K.Q_WEIGHTS: "weights W",
}
_EVAL_CHUNK = 1024
#: ``training.eval_every = "auto"``: evaluate as often as keeps the examples evaluated within
#: this share of the examples trained on.  An evaluated example costs one forward pass, a
#: trained one a forward and a backward pass, so evaluation stays under ~10% of the time.
EVAL_BUDGET = 0.1


def eval_interval(eval_every: int | str, n_train: int, n_test: int, batch_size: int) -> int:
    """Steps between two evaluations on the test split (0 = never) for ``eval_every``.

    ``"auto"``: the fewest steps whose training examples are at least ``n_test /
    EVAL_BUDGET``, e.g. 3125 steps for MNIST (10000 test images) at batch 32, 113 for the
    bundled digits (360).  Counted with the mean batch of an epoch (its last batch may be
    short), so every evaluation is paid for by the steps since the previous one.
    """
    if eval_every != "auto":
        return int(eval_every)
    if n_test == 0 or n_train == 0:
        return 0
    steps_per_epoch = math.ceil(n_train / min(batch_size, n_train))
    mean_batch = n_train / steps_per_epoch
    return max(1, math.ceil(n_test / (EVAL_BUDGET * mean_batch)))


def layer_label(k: int, depth: int) -> str:
    """Human name of layer k: ``hidden 1`` .. ``hidden L``, then ``output``."""
    return "output" if k == depth else f"hidden {k + 1}"


def _norm(a: np.ndarray) -> float:
    """||a||_2 for display; inf (not a warning) for inputs near the float64 limit."""
    with np.errstate(over="ignore"):
        return float(np.linalg.norm(a))


def _readonly(a: np.ndarray) -> np.ndarray:
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


class Session:
    """Owns one experiment: data, network, optimiser, batch order and history."""

    def __init__(self, config: ExperimentConfig, dataset=None):
        self.config = validate(config)
        if dataset is None:
            from engine.datasets import load_dataset

            dataset = load_dataset(config.data, config.model.dtype)
        self.dataset = dataset
        m, t = config.model, config.training
        self.loss_name = m.loss
        n_out = _output_width(config, dataset)
        self.net: Network = build_network(m, dataset.X_train.shape[1], n_out, t.seed)
        dt = self.net.dtype
        self.X = np.ascontiguousarray(dataset.X_train, dtype=dt)
        self.T = losses.targets(m.loss, dataset.y_train, n_out, dt)
        self.X_test = np.ascontiguousarray(dataset.X_test, dtype=dt)
        self.T_test = losses.targets(m.loss, dataset.y_test, n_out, dt)
        self.opt = Optimizer(t, self.net.n_params, dt)
        self.ip = np.array([losses.code(m.loss), self.opt.code, 1, 1], dtype=np.int64)
        self.mtab = np.full((self.net.depth + 1, K.N_METRICS), np.nan)
        self.computed = _ComputedMask(self.net)  # which mtab cells a phase has written
        self.out = np.zeros(3)
        self.status = np.zeros(3, dtype=np.int64)
        self.batch_size = min(t.batch_size, len(self.X))
        self.steps_per_epoch = math.ceil(len(self.X) / self.batch_size)
        self.eval_every = eval_interval(
            t.eval_every, len(self.X), len(self.X_test), self.batch_size
        )
        self._shuffle_rng = np.random.default_rng([t.seed, 1])
        self._dropout_rng = np.random.default_rng([t.seed, 2])
        self._order = np.arange(len(self.X))
        self._workspaces: dict[int, Workspace] = {}
        cap = config.logging.history
        self.trace = Trace(cap, (self.net.depth + 1, K.N_METRICS))
        self.scalar_trace = Trace(cap, (len(SCALARS),))
        self.eval_trace = Trace(cap, (len(EVAL_SCALARS),))
        self.step_count = 0
        self.loss = math.nan
        self.accuracy = math.nan
        self.test_loss = math.nan
        self.test_accuracy = math.nan
        self.divergence: Divergence | None = None
        self._pending: _ManualStep | None = None
        self._last_phase: PhaseResult | None = None
        self._rate = _RateMeter()
        self._batch_x = self.X[:0]
        # many-step path (run): reused buffers, and the last measured seconds per step
        self._gathered: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._plan = np.zeros(K.N_PLAN, dtype=np.int64)
        self._res = np.zeros(K.N_RES, dtype=np.int64)
        self._last = np.zeros(K.N_LAST)
        self._step_seconds = math.inf  # unknown: the first timed chunk is one step

    # --- properties ---------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self.net.depth

    @property
    def epoch(self) -> int:
        return self.step_count // self.steps_per_epoch

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    @property
    def learning_rate(self) -> float:
        return self.opt.learning_rate

    @learning_rate.setter
    def learning_rate(self, lr: float) -> None:
        """Live setting: applies from the next update on."""
        self.opt.learning_rate = lr

    @property
    def is_regression(self) -> bool:
        return self.loss_name == "mse" and self.dataset.task == "regression"

    # --- batches ------------------------------------------------------------------------------
    def _workspace(self, batch: int) -> Workspace:
        if batch not in self._workspaces:
            self._workspaces[batch] = self.net.workspace(batch)
        return self._workspaces[batch]

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray, Workspace]:
        """Mini-batch number ``step_count`` of a fresh shuffle each epoch, and its workspace."""
        i = self.step_count % self.steps_per_epoch
        if i == 0:
            self._shuffle_rng.shuffle(self._order)
        idx = self._order[i * self.batch_size : (i + 1) * self.batch_size]
        ws = self._workspace(len(idx))
        self._rate.batch = len(idx)
        if self.config.model.dropout > 0:
            self._fill_dropout_masks(ws)
        self.opt.begin_step(self.step_count + 1)
        self._batch_x = self.X[idx]
        return self._batch_x, self.T[idx], ws

    def _fill_dropout_masks(self, ws: Workspace) -> None:
        keep = 1.0 - self.config.model.dropout
        for k in range(self.depth):
            mask = ws.get("mask", k)
            mask[:] = self._dropout_rng.random(mask.shape) < keep

    # --- advancing ----------------------------------------------------------------------------
    def step(self) -> bool:
        """One fused mini-batch step (finishing a half-done step-through first).

        Returns False once the run has diverged (see :attr:`divergence`).
        """
        if self.divergence is not None:
            return False
        if self._pending is not None:
            while self._pending is not None and self.divergence is None:
                self.step_phase()
            return self.divergence is None
        X, T, ws = self._next_batch()
        net, o = self.net, self.opt
        ok = K.train_step(
            X,
            T,
            net.params,
            net.grads,
            o.m,
            o.v,
            net.itab,
            net.ftab,
            ws.ws,
            net.bns,
            self.mtab,
            o.hp,
            self.ip,
            self.out,
            self.status,
        )
        self.computed.mark_step(None if ok else tuple(int(v) for v in self.status))
        self._finish_step(ok)
        return ok

    def run(
        self,
        n_steps: int,
        callback=None,
        *,
        seconds: float | None = None,
        watch: tuple[int, str, float] | None = None,
    ) -> int:
        """Up to ``n_steps`` fused steps; returns how many completed (a diverged one does not).

        The steps run in compiled chunks (:func:`engine.kernels.train_steps`) that return to
        Python only at an evaluation, when the history needs more rows, and every ``seconds``
        or so; the numbers are bit-identical to ``n_steps`` calls of :meth:`step`.
        ``callback(session)`` after each step forces one kernel call per step.
        ``seconds``: stop after about this long (at least one step), so a GUI thread that
        steps between frames keeps its frame rate.  ``watch = (layer, metric, threshold)``:
        stop after the first step at which that per-layer metric (a name of
        ``LAYER_METRICS``) falls below ``threshold``.
        """
        if callback is not None:
            done = 0
            while done < n_steps and self.step():
                done += 1
                callback(self)
            return done
        chunked = many_step_ready(self.config, self.dataset)
        done = 0
        t0 = time.perf_counter()
        while done < n_steps and self.divergence is None:
            # a chunk takes at most ~CHUNK_SECONDS, so Ctrl-C is never far off either
            left = self.CHUNK_SECONDS
            if seconds is not None:
                left = seconds - (time.perf_counter() - t0)
                if done and left <= 0:
                    break
            limit = min(
                n_steps - done, max(1, int(min(left, self.CHUNK_SECONDS) / self._step_seconds))
            )
            size = self._chunk_size(limit) if chunked and self._pending is None else 0
            if size == 0:  # a half-done step-through, the history must grow / compact, or
                #             train_steps is still compiling in the background
                done += self.step()
            else:
                done += self._run_chunk(size, watch)
            if watch is not None and self.divergence is None and _below(self, watch):
                break
        return done

    # --- many steps per kernel call -----------------------------------------------------------
    #: bounds of one train_steps call: seconds, steps, batch-order entries, dropout draws
    CHUNK_SECONDS = 0.25
    MAX_CHUNK = 1 << 16
    MAX_ORDER = 1 << 20
    MAX_DRAWS = 1 << 22

    def _chunk_size(self, limit: int) -> int:
        """Steps of the next train_steps call: up to ``limit``, ending at the next evaluation,
        within the history's allocated rows and the batch-order / dropout buffer bounds."""
        size = min(limit, self.MAX_CHUNK)
        every, s0 = self.eval_every, self.step_count
        if every and len(self.X_test):
            size = min(size, every - s0 % every)
        spe = self.steps_per_epoch
        epochs = max(2, self.MAX_ORDER // len(self.X))
        size = min(size, (s0 // spe + epochs) * spe - s0)
        p = self.config.model.dropout
        if p > 0:
            draws = self.batch_size * sum(sp.n_out for sp in self.net.specs[:-1])
            size = min(size, max(1, self.MAX_DRAWS // max(draws, 1)))
        return min(self.trace.room(size), self.scalar_trace.room(size))

    def _batch_buffers(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Preallocated (b, n_in) / (b, n_out) arrays the kernel gathers a mini-batch into."""
        if b not in self._gathered:
            self._gathered[b] = (
                np.empty((b, self.X.shape[1]), dtype=self.X.dtype),
                np.empty((b, self.T.shape[1]), dtype=self.T.dtype),
            )
        return self._gathered[b]

    def _orders(self, s0: int, size: int) -> np.ndarray:
        """The batch order of every epoch steps s0 .. s0 + size - 1 fall in, one row each,
        shuffled by the same generator calls as :meth:`_next_batch` makes."""
        spe = self.steps_per_epoch
        first, last = s0 // spe, (s0 + size - 1) // spe
        orders = np.empty((last - first + 1, len(self._order)), dtype=self._order.dtype)
        for r in range(len(orders)):
            if r or s0 % spe == 0:
                self._shuffle_rng.shuffle(self._order)
            orders[r] = self._order
        return orders

    def _batch_sizes(self, s0: int, size: int) -> np.ndarray:
        i = (s0 + np.arange(size)) % self.steps_per_epoch
        return np.minimum(self.batch_size, len(self.X) - i * self.batch_size)

    def _keep_draws(self, s0: int, size: int) -> np.ndarray:
        """Dropout keep flags for ``size`` steps, drawn as :meth:`_fill_dropout_masks` does."""
        p = self.config.model.dropout
        if p == 0:
            return np.zeros(0, dtype=np.bool_)
        units = sum(sp.n_out for sp in self.net.specs[:-1])
        n = int(self._batch_sizes(s0, size).sum()) * units
        return self._dropout_rng.random(n) < 1.0 - p

    def _run_chunk(self, size: int, watch) -> int:
        """``size`` steps in one train_steps call, then the bookkeeping :meth:`_finish_step`
        does per step.  Returns the steps completed."""
        t0 = time.perf_counter()
        s0, spe, B, n = self.step_count, self.steps_per_epoch, self.batch_size, len(self.X)
        orders = self._orders(s0, size)
        keep = self._keep_draws(s0, size)
        b_short = n - (spe - 1) * B
        Xb, Tb = self._batch_buffers(B)
        Xs, Ts = self._batch_buffers(b_short)
        ws, ws_short = self._workspace(B), self._workspace(b_short)
        tr = self.trace
        plan, last, res = self._plan, self._last, self._res
        plan[:] = (
            s0,
            size,
            B,
            spe,
            n,
            s0 // spe,
            tr.count,
            tr.phase,
            tr.stride,
            self.is_regression,
            keep.size > 0,
            -1,
            0,
        )
        if watch is not None:
            plan[K.S_PROBE_LAYER] = watch[0]
            plan[K.S_PROBE_METRIC] = LAYER_METRICS.index(watch[1])
            last[K.L_THRESHOLD] = watch[2]
        net, o = self.net, self.opt
        K.train_steps(
            self.X,
            self.T,
            orders,
            Xb,
            Tb,
            Xs,
            Ts,
            ws.ws,
            ws_short.ws,
            keep,
            net.params,
            net.grads,
            o.m,
            o.v,
            net.itab,
            net.ftab,
            net.bns,
            self.mtab,
            o.hp,
            self.ip,
            self.out,
            self.status,
            plan,
            last,
            tr.steps,
            tr.rows,
            self.scalar_trace.rows,
            res,
        )
        done, stop, kept = (int(v) for v in res)
        self._after_chunk(s0, orders, done, stop == K.STOP_DIVERGED, kept)
        self._step_seconds = (time.perf_counter() - t0) / max(done, 1)
        return done

    def _after_chunk(
        self, s0: int, orders: np.ndarray, done: int, diverged: bool, kept: int
    ) -> None:
        """What :meth:`_next_batch` and :meth:`_finish_step` leave behind after the last
        step a chunk ran (the diverged one included)."""
        st, tr = self.scalar_trace, self.trace
        st.steps[st.count : st.count + kept] = tr.steps[tr.count : tr.count + kept]
        tr.advance(done, kept)
        st.advance(done, kept)
        ran = done + diverged
        spe, B = self.steps_per_epoch, self.batch_size
        s = s0 + ran - 1
        self._order[:] = orders[s // spe - s0 // spe]
        i = s % spe
        self._batch_x = self.X[self._order[i * B : (i + 1) * B]]
        self._rate.batch = len(self._batch_x)
        self.step_count = s0 + ran
        if done:
            self.loss = float(self._last[K.L_LOSS])
            self.accuracy = float(self._last[K.L_ACC])
            self._rate.tick(done)
        if diverged:
            self._record_divergence()
            return
        every = self.eval_every
        if done and every and self.step_count % every == 0 and len(self.X_test):
            self.evaluate()

    def step_phase(self) -> PhaseResult | None:
        """Advance one phase of the step-through; None once the run has diverged."""
        if self.divergence is not None:
            return None
        if self._pending is None:
            X, T, ws = self._next_batch()
            self._pending = _ManualStep(self, X, T, ws)
        pending = self._pending
        ok, result = pending.advance()
        self.computed.mark(result.phase, result.layer)
        self._last_phase = result
        if not ok or pending.done:
            self._pending = None
            self._finish_step(ok)
        return result

    def next_phase(self) -> tuple[str, int]:
        """(phase, layer) that :meth:`step_phase` will run next."""
        if self._pending is None:
            return "forward", 0
        return self._pending.phases[self._pending.index]

    def _finish_step(self, ok: bool) -> None:
        self.step_count += 1
        if not ok:
            self._record_divergence()
            return
        self.loss = float(self.out[0])
        n = self._rate.batch
        self.accuracy = math.nan if self.is_regression else float(self.out[1]) / max(n, 1)
        self._rate.tick()
        self.trace.append(self.step_count, self.mtab)
        self.scalar_trace.append(
            self.step_count, (self.loss, self.accuracy, self.out[2], self.opt.learning_rate)
        )
        every = self.eval_every
        if every and self.step_count % every == 0 and len(self.X_test):
            self.evaluate()

    def _record_divergence(self) -> None:
        phase, layer, quantity = (int(v) for v in self.status)
        self.divergence = Divergence(
            self.step_count, PHASE_NAMES[phase], layer, QUANTITY_NAMES[quantity], self.depth
        )

    # --- evaluation ---------------------------------------------------------------------------
    def evaluate(self, split: str = "test") -> tuple[float, float]:
        """(loss, accuracy) over a whole split in inference mode (BN running stats, no dropout)."""
        X, T = (self.X_test, self.T_test) if split == "test" else (self.X, self.T)
        if len(X) == 0:
            return math.nan, math.nan
        ip = self.ip.copy()
        ip[K.I_TRAIN] = ip[K.I_RECORD] = 0
        mtab = np.zeros_like(self.mtab)
        out = np.zeros(3)
        status = np.zeros(3, dtype=np.int64)
        total_loss = total_correct = 0.0
        net = self.net
        for lo in range(0, len(X), _EVAL_CHUNK):
            Xc, Tc = X[lo : lo + _EVAL_CHUNK], T[lo : lo + _EVAL_CHUNK]
            ws = Workspace(net, len(Xc)) if len(Xc) != _EVAL_CHUNK else self._eval_ws()
            K.forward_loss(
                Xc,
                Tc,
                net.params,
                net.itab,
                net.ftab,
                ws.ws,
                net.bns,
                mtab,
                self.opt.hp,
                ip,
                out,
                status,
            )
            total_loss += out[0] * len(Xc)
            total_correct += out[1]
        loss = total_loss / len(X)
        acc = math.nan if self.is_regression else total_correct / len(X)
        if split == "test":
            self.test_loss, self.test_accuracy = loss, acc
            self.eval_trace.append(self.step_count, (loss, acc))
        return loss, acc

    def _eval_ws(self) -> Workspace:
        if not hasattr(self, "_eval_workspace"):
            self._eval_workspace = Workspace(self.net, _EVAL_CHUNK)
        return self._eval_workspace

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Output probabilities (or values for mse) of shape (n, n_out), inference mode."""
        X = np.ascontiguousarray(X, dtype=self.net.dtype)
        n_out = self.net.specs[-1].n_out
        T = np.zeros((len(X), n_out), dtype=self.net.dtype)
        ws = Workspace(self.net, len(X))
        ip = self.ip.copy()
        ip[K.I_TRAIN] = ip[K.I_RECORD] = 0
        K.forward_loss(
            X,
            T,
            self.net.params,
            self.net.itab,
            self.net.ftab,
            ws.ws,
            self.net.bns,
            np.zeros_like(self.mtab),
            self.opt.hp,
            ip,
            np.zeros(3),
            np.zeros(3, dtype=np.int64),
        )
        return ws.get("fz", self.depth).astype(np.float64)

    # --- observation --------------------------------------------------------------------------
    def layer_metrics(self) -> dict[str, np.ndarray]:
        """metric name -> (L+1,) float64 copy of the latest per-layer metrics."""
        return {name: _readonly(self.mtab[:, i]) for i, name in enumerate(LAYER_METRICS)}

    def history(self, metric: str = "grad_norm") -> tuple[np.ndarray, np.ndarray]:
        """(steps (n,), values (n, L+1)) of one per-layer metric over the recorded history."""
        steps, rows = self.trace.view()
        return steps, rows[:, :, LAYER_METRICS.index(metric)]

    def snapshot(self, with_history: bool = True) -> Snapshot:
        """An immutable picture of the session now (history copies are optional: they cost)."""
        specs = self.net.specs
        hist = {}
        if with_history:
            steps, grad = self.history("grad_norm")
            _, scalars = self.scalar_trace.view()
            e_steps, e_rows = self.eval_trace.view()
            hist = dict(
                history_steps=steps,
                history_scalars=scalars,
                history_grad_norm=grad,
                eval_steps=e_steps,
                eval_scalars=e_rows,
            )
        phase = self._last_phase
        nxt = self.next_phase()
        return Snapshot(
            step=self.step_count,
            epoch=self.epoch,
            steps_per_epoch=self.steps_per_epoch,
            phase=phase.phase if (phase and self._pending) else "idle",
            phase_layer=phase.layer if (phase and self._pending) else -1,
            next_phase=f"{nxt[0]} {layer_label(nxt[1], self.depth) if nxt[1] >= 0 else ''}".strip(),
            loss=self.loss,
            accuracy=self.accuracy,
            test_loss=self.test_loss,
            test_accuracy=self.test_accuracy,
            learning_rate=self.opt.learning_rate,
            steps_per_second=self._rate.rate,
            layer_labels=tuple(layer_label(k, self.depth) for k in range(self.depth + 1)),
            activations=tuple(s.activation for s in specs),
            widths=tuple(s.n_out for s in specs),
            layers=self.layer_metrics(),
            divergence=self.divergence,
            computed=self.computed.by_metric(),
            phase_result=phase if self._pending else None,
            batch_size=len(self._batch_x),
            input_norm=_norm(self._batch_x),
            **hist,
        )

    def __repr__(self) -> str:
        return f"Session({self.config.name!r}, {self.net!r}, step={self.step_count}, {self.opt!r})"


def _below(session: Session, watch: tuple[int, str, float]) -> bool:
    """True when the watched per-layer metric of the last step is below its threshold."""
    layer, metric, threshold = watch
    return bool(session.mtab[layer, LAYER_METRICS.index(metric)] < threshold)


def _output_width(config: ExperimentConfig, dataset) -> int:
    """Width of the output layer; ConfigError if the loss does not suit the data or the
    experiment cannot fit in memory with the data as loaded (CSV sizes are known only now)."""
    n_targets = 1 if dataset.y_train.ndim == 1 else dataset.y_train.shape[1]
    try:
        n_out = losses.n_outputs(config.model.loss, dataset.task, dataset.n_classes, n_targets)
    except ValueError as e:
        raise ConfigError([str(e)]) from None
    n = len(dataset.X_train) + len(dataset.X_test)
    problem = memory_problem(config, (n, dataset.X_train.shape[1], n_out))
    if problem:
        raise ConfigError([problem])
    return n_out


class _ComputedMask:
    """Which cells of the metric table (layer x metric) some phase has written.

    The table starts as NaN; a phase fills the columns it computes for its layer (forward:
    activation statistics; backward: gradient norms; update: weight norms for every layer).
    Columns a layer never has (f' statistics of the output layer, the PReLU gradient of
    other activations) stay uncomputed for good.
    """

    _FORWARD = (K.M_FP_MEAN, K.M_SAT, K.M_DEAD, K.M_ACT_MEAN, K.M_ACT_STD, K.M_Z_MEAN, K.M_Z_STD)
    _OUTPUT_FORWARD = (K.M_ACT_MEAN, K.M_ACT_STD, K.M_Z_MEAN, K.M_Z_STD)
    _BACKWARD = (K.M_GW, K.M_GB, K.M_DELTA_RMS, K.M_DELTA_NORM, K.M_GIN)
    _UPDATE = (K.M_W, K.M_UPD)

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
            self.mask[layer, list(cols)] = True
        elif phase == "backward":
            self.mask[layer, list(self._BACKWARD)] = True
            self.mask[layer, K.M_GALPHA] = self.prelu[layer]
        elif phase == "update":
            self.mask[: (self.depth + 1 if layer < 0 else layer + 1), list(self._UPDATE)] = True

    def mark_step(self, failed_at: tuple[int, int, int] | None) -> None:
        """A fused step ran; ``failed_at`` is the kernel's (phase, layer, quantity) status if
        it stopped at a NaN/Inf, else None (every phase ran)."""
        if self.complete:
            return
        L = self.depth
        phases = (
            [("forward", k) for k in range(L + 1)]
            + [("loss", L)]
            + [("backward", k) for k in range(L, -1, -1)]
            + [("update", -1)]
        )
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


class _RateMeter:
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


class _ManualStep:
    """One mini-batch advanced phase by phase, through the same kernels as ``train_step``."""

    def __init__(self, session: Session, X: np.ndarray, T: np.ndarray, ws: Workspace):
        self.s = session
        self.X, self.T, self.ws = X, T, ws
        L = session.depth
        self.phases = (
            [("forward", k) for k in range(L + 1)]
            + [("loss", L)]
            + [("backward", k) for k in range(L, -1, -1)]
            + [("update", -1)]
        )
        self.index = 0

    @property
    def done(self) -> bool:
        return self.index == len(self.phases)

    def advance(self) -> tuple[bool, PhaseResult]:
        kind, k = self.phases[self.index]
        s, net, o = self.s, self.s.net, self.s.opt
        if kind == "forward":
            ok = K.forward_layer(
                k,
                self.X,
                net.params,
                net.itab,
                net.ftab,
                self.ws.ws,
                net.bns,
                s.mtab,
                o.hp,
                s.ip,
                s.status,
            )
        elif kind == "loss":
            ok = K.loss_phase(self.T, net.params, net.itab, self.ws.ws, o.hp, s.ip, s.out, s.status)
        elif kind == "backward":
            ok = K.backward_layer(
                k,
                self.X,
                net.params,
                net.grads,
                net.itab,
                net.ftab,
                self.ws.ws,
                net.bns,
                s.mtab,
                o.hp,
                s.status,
            )
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
            arrays = {"weight_norm": self.s.mtab[:, K.M_W], "update_ratio": self.s.mtab[:, K.M_UPD]}
        arrays = {n: _readonly(a) for n, a in arrays.items()}
        norms = {n: _norm(a) for n, a in arrays.items() if n != "fprime"}
        if "fprime" in arrays:
            norms["fprime_mean"] = float(np.mean(np.abs(arrays["fprime"])))
        if kind == "loss":
            norms["loss"] = float(self.s.out[0])
        return PhaseResult(kind, k, self.index, len(self.phases), arrays, norms)


# ----------------------------------------------------------------------------- warm-up

COMPILE_NOTICE = "compiling kernels (first run only) ..."
_warmed: set[tuple] = set()
#: warm key -> set once train_steps is compiled for it in the background (warm_up starts it)
_many_step: dict[tuple, threading.Event] = {}


def _warm_key(config: ExperimentConfig, dataset) -> tuple:
    """What the compiled kernels depend on: the dtype and the arrays' writeable flags."""
    return (config.model.dtype, dataset.X_train.flags.writeable, dataset.X_test.flags.writeable)


def is_warm(config: ExperimentConfig, dataset) -> bool:
    """True when :func:`warm_up` has nothing left to do for ``config`` on ``dataset``."""
    return _warm_key(config, dataset) in _warmed


def many_step_ready(config: ExperimentConfig, dataset) -> bool:
    """False while :func:`engine.kernels.train_steps` compiles in the background for this
    dtype and data layout (``Session.run`` takes single steps meanwhile); True once it is
    compiled, or when nothing compiles it in the background (the first run compiles it)."""
    ready = _many_step.get(_warm_key(config, dataset))
    return ready is None or ready.is_set()


def _compile_many_step(tiny: ExperimentConfig, dataset) -> None:
    """Compile (or load from the cache) train_steps in a thread: on a cold cache it takes
    as long again as every other kernel, and nothing needs it for the first frame.  Not a
    daemon: the interpreter waits for it rather than exiting mid-compile."""
    key = _warm_key(tiny, dataset)
    if key in _many_step:
        return
    ready = _many_step[key] = threading.Event()

    def work() -> None:
        try:
            Session(tiny, dataset)._run_chunk(2, None)
        finally:
            ready.set()

    threading.Thread(target=work, name="vglab-compile-many-step").start()


def warm_up(config: ExperimentConfig, dataset, notice=None, after: float = 3.0) -> float:
    """Compile every kernel ``config`` needs (or load it from Numba's on-disk cache).

    Runs each kernel once on a throwaway 1-layer net of the same dtype and data layout, so
    the first real step is not the one that waits ~20 s on a cold cache; then starts
    compiling the many-step kernel in the background (:func:`many_step_ready`).  ``notice`` (a
    callable taking one line) is told :data:`COMPILE_NOTICE` once if this takes longer than
    ``after`` seconds, i.e. when it compiles rather than loads.  Returns the seconds spent;
    0 when these kernels are already loaded in this process.
    """
    from engine.config import updated

    if is_warm(config, dataset):
        return 0.0
    timer = threading.Timer(after, notice, (COMPILE_NOTICE,)) if notice else None
    t0 = time.perf_counter()
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        tiny = updated(
            config,
            **{
                "model.depth": 1,
                "model.width": 2,
                "model.hidden": (),
                "model.residual": False,
                "training.eval_every": 0,
            },
        )
        s = Session(tiny, dataset)
        s.step()
        s.step_phase()
        while s.next_phase() != ("forward", 0):
            s.step_phase()
        if len(dataset.X_test):
            s.evaluate("test")
        s.predict(np.asarray(dataset.X_train[:2]))
        _warmed.add(_warm_key(config, dataset))
        _compile_many_step(tiny, dataset)
    finally:
        if timer is not None:
            timer.cancel()
    return time.perf_counter() - t0
