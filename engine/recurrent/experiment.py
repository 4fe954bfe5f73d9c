"""Headless recurrent runs for ``vglab run`` / ``vglab compare``: train, collect, summarise.

:func:`run_recurrent` trains one :class:`~engine.recurrent.session.RecurrentSession` and returns
a :class:`RecurrentResult` with the same face as :class:`engine.experiments.RunResult` where
the CLI reads it (columns and rows for metrics.csv, the final snapshot, divergence, timing).
The per-"layer" columns of a recurrent run are the time steps: ``grad_h[t=5]`` is the top
layer's ||dL/dh_5|| at each logged step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from engine import threads
from engine.config import ExperimentConfig, to_dict
from engine.experiments import BASE_COLUMNS, RunResult
from engine.figure_data import FigureData
from engine.recurrent.network import CARRIER
from engine.recurrent.session import RecurrentSession
from engine.recurrent.snapshot import RecurrentSnapshot, layer_name
from engine.recurrent.tasks import ADDING_BASELINE_MSE, SequenceData, load_task
from engine.report import Progress
from engine.snapshot import SCALARS

#: share of the logged steps the final figures average over (one batch is too noisy)
FINAL_SHARE = 0.1


def time_labels(T: int) -> tuple[str, ...]:
    """``t=1`` .. ``t=T``: the axis of the curves through time (1-based, as the text says)."""
    return tuple(f"t={t + 1}" for t in range(T))


def baseline(config: ExperimentConfig) -> tuple[str, float]:
    """(what, value) a model that learnt nothing scores: the adding MSE or the chance rate."""
    if config.recurrent.task == "adding":
        return "baseline_mse", ADDING_BASELINE_MSE
    return "chance_accuracy", 1.0 / config.recurrent.n_symbols


def describe(config: ExperimentConfig, data: SequenceData) -> tuple[str, str]:
    """(data line, model line) for the CLI's header."""
    m, r = config.model, config.recurrent
    act = f" ({r.rnn_activation})" if r.cell == "rnn" else ""
    return (
        f"{data.description}; {len(data.X_train)} train / {len(data.X_test)} test sequences",
        f"{r.cell}{act} x{m.depth}, {data.n_features}-{m.width}-read-out, {m.loss}, init {m.init}",
    )


@dataclass(frozen=True)
class RecurrentResult(RunResult):
    """Outcome of one recurrent run: a :class:`~engine.experiments.RunResult` whose snapshot is
    a :class:`RecurrentSnapshot` and whose per-"layer" columns are the time steps."""

    snapshot: RecurrentSnapshot
    initial_grad_h: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) step 1

    def final_train(self) -> tuple[float, float]:
        """(loss, accuracy) of the training batches, mean of the last 10% of logged steps."""
        n = len(self.rows)
        if n == 0:
            return math.nan, math.nan
        tail = self.rows[-max(1, int(n * FINAL_SHARE)) :]
        return tuple(float(np.mean(tail[:, self.columns.index(c)])) for c in ("loss", "accuracy"))

    def vanishing(self, when: str = "final") -> float:
        """||dL/dh_1|| / ||dL/dh_T|| of the top layer at the first (``initial``) or last step."""
        g = self.initial_grad_h if when == "initial" else self.snapshot.grad_h[-1]
        return float(g[0] / g[-1]) if len(g) and g[-1] > 0 else math.nan

    def figure_data(self) -> FigureData:
        """The figures' arrays with the time steps in place of the layers."""
        snap = self.snapshot
        steps = np.array(snap.history_steps, dtype=np.float64)
        scalars = np.array(snap.history_scalars, dtype=np.float64).reshape(-1, len(SCALARS))
        evals = np.array(snap.eval_scalars, dtype=np.float64).reshape(-1, 2)
        return FigureData(
            name=self.name,
            labels=time_labels(snap.seq_len),
            grad_norm=np.array(snap.grad_h[-1]),
            history_steps=steps,
            history_grad_norm=np.array(snap.history_grad_h, dtype=np.float64),
            loss_steps=steps.copy(),
            loss=scalars[:, 0].copy(),
            accuracy=scalars[:, 1].copy(),
            eval_steps=np.array(snap.eval_steps, dtype=np.float64),
            test_loss=evals[:, 0].copy(),
            test_accuracy=evals[:, 1].copy(),
        )

    def summary(self) -> dict:
        """JSON-ready summary (non-finite numbers are made JSON-safe by the writer)."""
        snap, (loss, acc) = self.snapshot, self.final_train()
        what, value = baseline(self.config)
        d = self.divergence
        return {
            "name": self.name,
            "kind": "recurrent",
            "cell": snap.cell,
            "task": snap.task,
            "seq_len": snap.seq_len,
            "dataset": self.dataset,
            "steps": self.steps,
            "planned_steps": self.planned_steps,
            "epochs": self.steps / snap.steps_per_epoch,
            "wall_time_s": round(self.wall_time, 4),
            "steps_per_second": round(self.steps_per_second, 1),
            "interrupted": self.interrupted,
            "final": {
                "loss": loss,
                "accuracy": acc,
                "test_loss": snap.test_loss,
                "test_accuracy": snap.test_accuracy,
                "last_batch_loss": snap.loss,
                "last_batch_accuracy": snap.accuracy,
            },
            what: value,
            "vanishing_ratio_first_last_step": {
                "initial": self.vanishing("initial"),
                "final": self.vanishing("final"),
            },
            "grad_h_final": {
                layer_name(k, snap.depth): snap.grad_h[k].tolist() for k in range(snap.depth)
            },
            "gate_mean_final": {
                "what": CARRIER[snap.cell],
                **{
                    layer_name(k, snap.depth): snap.gate_mean[k].tolist() for k in range(snap.depth)
                },
            },
            "diverged": None
            if d is None
            else {
                "step": d.step,
                "phase": d.phase,
                "layer": d.layer,
                "time_step": d.time + 1,
                "quantity": d.quantity,
                "message": d.message,
                "advice": d.advice,
            },  # fmt: skip
            "config": to_dict(self.config),
        }

    def table_row(self) -> tuple:
        """(name, steps, train loss, test loss, test accuracy, baseline, vanishing ratios)."""
        loss, _ = self.final_train()
        _, value = baseline(self.config)
        snap = self.snapshot
        return (
            self.name, self.steps, loss, snap.test_loss, snap.test_accuracy, value,
            self.vanishing("initial"), self.vanishing("final"),
        )  # fmt: skip

    def __repr__(self) -> str:
        state = f"diverged at {self.divergence.step}" if self.diverged else "ok"
        return f"RecurrentResult({self.name!r}, steps={self.steps}/{self.planned_steps}, {state})"


TABLE_HEADER = (
    "run", "steps", "train loss", "test loss", "test acc", "baseline", "dh1/dhT init", "final",
)  # fmt: skip


def summary_table(results) -> str:
    """Plain-text end-of-run report of recurrent runs, one line each."""
    lines = ["  ".join(f"{h:>12}" for h in TABLE_HEADER)]
    for r in results:
        cells = [f"{r.table_row()[0]:>12}"] + [
            f"{v:>12d}" if isinstance(v, int) else f"{v:>12.4g}" for v in r.table_row()[1:]
        ]
        lines.append("  ".join(cells))
    lines.append(
        "baseline: the adding problem's MSE of always answering 1 (0.167), or the chance "
        "accuracy; dh1/dhT: ||dL/dh_1|| / ||dL/dh_T|| of the top layer"
    )
    return "\n".join(lines)


def summary_rows(results) -> tuple[list[str], list[list]]:
    """(header, rows) of summary.csv for recurrent runs."""
    header = ["run", "steps", "train_loss", "test_loss", "test_accuracy", "baseline"]
    header += ["vanishing_ratio_initial", "vanishing_ratio_final", "diverged_step"]
    rows = [[*r.table_row(), r.divergence.step if r.diverged else ""] for r in results]
    return header, rows


# ----------------------------------------------------------------------------- running


def logged_rows(session: RecurrentSession) -> tuple[tuple[str, ...], np.ndarray]:
    """(columns, rows) of every logged step: the scalars, then ||dL/dh_t|| per time step."""
    steps, scalars = session.scalar_trace.view()
    _, grad_h = session.grad_trace.view()
    columns = BASE_COLUMNS + tuple(f"grad_h[{lab}]" for lab in time_labels(session.seq_len))
    e_steps, e_rows = session.eval_trace.view()
    test = np.full((len(steps), 2), np.nan)
    if len(e_steps):
        idx = np.searchsorted(e_steps, steps, side="right") - 1
        test[idx >= 0] = e_rows[idx[idx >= 0]]
    if not len(steps):
        return columns, np.zeros((0, len(columns)))
    base = np.column_stack(
        [steps, steps // session.steps_per_epoch, scalars[:, 0], scalars[:, 1], test, scalars[:, 2]]
    )
    return columns, np.hstack([base, grad_h])


def load_data(config: ExperimentConfig, cache: dict | None = None) -> SequenceData:
    """The sequences of ``config``, loaded once per distinct task settings in ``cache``."""
    key = (config.data, config.recurrent.task, config.recurrent.seq_len,
           config.recurrent.n_symbols, config.model.dtype)  # fmt: skip
    if cache is None:
        return load_task(config, config.model.dtype)
    if key not in cache:
        cache[key] = load_task(config, config.model.dtype)
    return cache[key]


def run_recurrent(
    config: ExperimentConfig,
    total_of,
    progress=None,
    *,
    name: str | None = None,
    data: SequenceData | None = None,
    index: int = 0,
    count: int = 1,
) -> RecurrentResult:
    """Train ``config`` for ``total_of(steps_per_epoch)`` steps and collect the result."""
    name = name or config.name
    session = RecurrentSession(config, data)
    total = total_of(session.steps_per_epoch)

    def report(done: int, elapsed: float) -> None:
        if progress is not None:
            progress(Progress(name, index, count, done, total, elapsed, session.loss))

    initial = np.full(session.seq_len, np.nan)
    t0 = time.perf_counter()
    interrupted = False
    report(0, 0.0)
    with threads.limited(threads.threads_for([session], "cli")):
        try:
            if total > 0 and session.step():
                initial = session.snapshot(with_history=False).grad_h[-1].copy()
            while session.step_count < total and not session.diverged:
                session.run(total - session.step_count, seconds=0.1)
                report(session.step_count, time.perf_counter() - t0)
        except KeyboardInterrupt:
            interrupted = True
    wall = time.perf_counter() - t0
    if not session.diverged and len(session.X_test):
        session.evaluate("test")
    columns, rows = logged_rows(session)
    return RecurrentResult(
        name, config, session.snapshot(with_history=True), columns, rows, total, wall,
        session.data.description, interrupted, initial_grad_h=initial,
    )  # fmt: skip
