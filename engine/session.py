"""Training session: network + data + optimiser + bounded history, observed through Snapshots.

A :class:`Session` advances either a whole mini-batch at a time (:meth:`Session.step`, one fused
kernel call) or one phase at a time (:meth:`Session.step_phase`: forward through layer k,
loss, backward through layer k, update).  Both run the same kernels in the same order, so
they produce bit-identical numbers.  Whoever watches (GUI, CLI, tests) gets immutable
:class:`Snapshot` objects holding plain numbers and read-only arrays.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import numpy as np

from engine import kernels as K
from engine import losses
from engine.config import ConfigError, ExperimentConfig, validate
from engine.history import Trace
from engine.labels import layer_label, layer_labels
from engine.limits import memory_problem
from engine.manystep import ManyStep
from engine.metrics import LAYER_METRICS
from engine.network import Network, Workspace, build_network
from engine.optimizers import Optimizer

# re-exported: callers import these from engine.session
from engine.snapshot import (  # noqa: F401
    EVAL_SCALARS,
    PHASE_NAMES,
    QUANTITY_NAMES,
    SCALARS,
    Divergence,
    PhaseResult,
    Snapshot,
    norm,
    readonly,
)
from engine.steppable import SessionState
from engine.stepper import ComputedMask, ManualStep, RateMeter
from engine.warmup import (  # noqa: F401
    COMPILE_NOTICE,
    is_warm,
    many_step_ready,
    warm_up,
)

_EVAL_CHUNK = 1024
#: why an MLP session refuses a recurrent config (engine.recurrent.RecurrentSession trains it)
RECURRENT_ONLY = 'is a recurrent net: vglab run trains it; an MLP needs recurrent.cell = "none"'
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


#: the backends a Session computes with: the compiled kernels, or the same maths in NumPy
BACKENDS = ("numba", "numpy")


def _kernels(backend: str):
    """The module whose functions compute the phases for ``backend`` (see :data:`BACKENDS`)."""
    if backend == "numba":
        return K
    if backend == "numpy":
        from engine import numpy_path

        return numpy_path
    raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")


class Session(ManyStep, SessionState):
    """Owns one experiment: data, network, optimiser, batch order and history.

    ``backend``: ``"numba"`` (the compiled kernels) or ``"numpy"`` (the same maths in NumPy,
    for the seconds before the kernels are compiled); :meth:`use_backend` switches.
    """

    def __init__(self, config: ExperimentConfig, dataset=None, backend: str = "numba"):
        self.kernels = _kernels(backend)
        self.backend = backend
        self.config = validate(config)
        if config.is_recurrent:  # trained by engine.recurrent, not as an MLP
            raise ConfigError([f"recurrent.cell: {config.recurrent.cell!r} {RECURRENT_ONLY}"])
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
        self.computed = ComputedMask(self.net)  # which mtab cells a phase has written
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
        self._pending: ManualStep | None = None
        self._last_phase: PhaseResult | None = None
        self._rate = RateMeter()
        self._batch_x = self.X[:0]
        # many-step path (run): reused buffers, and the last measured seconds per step
        self._gathered: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._plan = np.zeros(K.N_PLAN, dtype=np.int64)
        self._res = np.zeros(K.N_RES, dtype=np.int64)
        self._last = np.zeros(K.N_LAST)
        self._step_seconds = math.inf  # unknown: the first timed chunk is one step

    def use_backend(self, backend: str) -> None:
        """Compute from now on with ``backend``, even between two phases of a step-through.

        Both backends read and write the same buffers (parameters, gradients, optimiser
        moments, batch-norm statistics, workspace, metrics) and the session keeps the batch
        order, the random generators and the step count, so training goes on exactly where
        it was: a switch is invisible except for the speed.
        """
        self.kernels = _kernels(backend)
        self.backend = backend

    # --- properties ---------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self.net.depth

    @property
    def is_regression(self) -> bool:
        return self.loss_name == "mse" and self.dataset.task == "regression"

    def _trained(self) -> tuple[np.ndarray, ...]:
        """What a training kernel updates, in its argument order: parameters, gradients,
        optimiser moments, and the layer tables that describe them."""
        net, o = self.net, self.opt
        return net.params, net.grads, o.m, o.v, net.itab, net.ftab

    def _io(self) -> tuple[np.ndarray, ...]:
        """The last arguments of every training kernel: flags in, results and status out."""
        return self.ip, self.out, self.status

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
        finished = self._finish_pending()
        if finished is not None:
            return finished
        X, T, ws = self._next_batch()
        bns, hp = self.net.bns, self.opt.hp
        ok = self.kernels.train_step(X, T, *self._trained(), ws.ws, bns, self.mtab, hp, *self._io())
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
        # the NumPy backend has no many-step kernel: it takes single steps
        chunked = self.backend == "numba" and many_step_ready(self.config, self.dataset)
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

    def step_phase(self) -> PhaseResult | None:
        """Advance one phase of the step-through; None once the run has diverged."""
        if self.divergence is not None:
            return None
        if self._pending is None:
            X, T, ws = self._next_batch()
            self._pending = ManualStep(self, X, T, ws)
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
            self.kernels.forward_loss(
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
        self.kernels.forward_loss(
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
        return {name: readonly(self.mtab[:, i]) for i, name in enumerate(LAYER_METRICS)}

    def history(self, metric: str = "grad_norm") -> tuple[np.ndarray, np.ndarray]:
        """(steps (n,), values (n, L+1)) of one per-layer metric over the recorded history."""
        return self.trace.view(LAYER_METRICS.index(metric))

    def history_arrays(self) -> dict[str, np.ndarray]:
        """The history fields of a :class:`Snapshot`, as read-only copies: steps, scalars,
        evaluations and the one per-layer metric the views draw (grad_norm)."""
        steps, grad = self.history("grad_norm")
        _, scalars = self.scalar_trace.view()
        e_steps, e_rows = self.eval_trace.view()
        return dict(
            history_steps=steps,
            history_scalars=scalars,
            history_grad_norm=grad,
            eval_steps=e_steps,
            eval_scalars=e_rows,
        )

    def snapshot(
        self, with_history: bool = True, *, history: Mapping[str, np.ndarray] | None = None
    ) -> Snapshot:
        """An immutable picture of the session now.

        ``with_history``: copy the history too (:meth:`history_arrays`; it costs).
        ``history``: use these arrays from an earlier :meth:`history_arrays` instead of
        copying again (a GUI whose history views redraw a few times a second shares one copy
        between the frames in between).
        """
        specs = self.net.specs
        if history is not None:
            hist = dict(history)
        else:
            hist = self.history_arrays() if with_history else {}
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
            layer_labels=layer_labels(self.depth),
            activations=tuple(s.activation for s in specs),
            widths=tuple(s.n_out for s in specs),
            layers=self.layer_metrics(),
            divergence=self.divergence,
            backend=self.backend,
            computed=self.computed.by_metric(),
            phase_result=phase if self._pending else None,
            batch_size=len(self._batch_x),
            input_norm=norm(self._batch_x),
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
