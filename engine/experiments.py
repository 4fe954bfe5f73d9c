"""Headless experiments: run a config to the end, compare variants, write metrics and summaries.

:func:`run_experiment` trains one :class:`~engine.session.Session` and returns a
:class:`RunResult`; :func:`compare` runs the cartesian product of ``--vary key=v1,v2``
options on the same data and seed.  The per-step record comes from the session's bounded
history (:class:`~engine.history.Trace`), so memory stays fixed however long the run.

No Qt here: the command line (``cli.py``) and the tests use this module directly.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import threads
from engine.config import ConfigError, ExperimentConfig, to_dict, updated
from engine.io import write_atomic, write_csv
from engine.labels import metric_column
from engine.report import Progress, ProgressCallback
from engine.session import LAYER_METRICS, SCALARS, Divergence, Session, Snapshot, warm_up
from engine.summary import (
    History,
    RunSummary,
    final_mean,
    final_median,
    summarize,
    summary_rows,
)
from engine.summary import grad_ratio as _grad_ratio
from engine.summary import summary_table as _summary_table
from engine.variants import expand

#: leading columns of ``metrics.csv``; then one column per (metric, layer): ``grad_norm[hidden 1]``
BASE_COLUMNS = (
    "step",
    "epoch",
    "loss",
    "accuracy",
    "test_loss",
    "test_accuracy",
    "grad_global_norm",
)
_TICK_SECONDS = 0.1  # progress callbacks about this often


@dataclass(frozen=True)
class RunResult:
    """Outcome of one run: final snapshot, logged rows, divergence and timing."""

    name: str
    config: ExperimentConfig
    snapshot: Snapshot  # final state, with history
    columns: tuple[str, ...]  # names of the ``rows`` columns (see BASE_COLUMNS)
    rows: np.ndarray  # (n, len(columns)) float64, one per logged step
    planned_steps: int
    wall_time: float  # seconds of training (data loading excluded)
    dataset: str = ""  # one-line description of the data
    interrupted: bool = False  # stopped by Ctrl-C
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """Steps completed (the diverging step counts)."""
        return self.snapshot.step

    @property
    def divergence(self) -> Divergence | None:
        return self.snapshot.divergence

    @property
    def diverged(self) -> bool:
        return self.snapshot.divergence is not None

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.wall_time if self.wall_time > 0 else 0.0

    @property
    def layer_labels(self) -> tuple[str, ...]:
        return self.snapshot.layer_labels

    def column(self, name: str) -> np.ndarray:
        """One column of ``rows`` by name."""
        return self.rows[:, self.columns.index(name)]

    def layer_history(self, metric: str = "grad_norm") -> np.ndarray:
        """(n, L+1) logged values of one per-layer metric."""
        first = self.columns.index(metric_column(metric, self.layer_labels[0]))
        return self.rows[:, first : first + len(self.layer_labels)]

    def initial_grad_norm(self) -> np.ndarray:
        """(L+1,) ||dL/dW_k|| at the first step (the initialised network's gradient profile)."""
        g = self.layer_history("grad_norm")
        return g[0].copy() if len(g) else np.full(len(self.layer_labels), np.nan)

    def final_grad_norm(self) -> np.ndarray:
        """(L+1,) median ||dL/dW_k|| over the last ``FINAL_WINDOW`` of the logged steps.

        A median of many mini-batches, because one batch's gradient is noisy.
        """
        return final_median(self.layer_history("grad_norm"))

    def final_train(self) -> tuple[float, float]:
        """(loss, accuracy) of the training mini-batches, averaged over the last
        ``FINAL_WINDOW`` of the logged steps (one batch alone is too noisy to report)."""
        return final_mean(self.column("loss"), self.column("accuracy"))

    def grad_ratio(self, when: str = "final") -> float:
        """||dL/dW|| of the first hidden layer over that of the last hidden layer.

        Tiny (e.g. 1e-5) when the gradient vanishes on its way to the input; about 1 when
        it flows.  ``when`` is ``"initial"`` (first step) or ``"final"``.
        """
        return _grad_ratio(
            self.initial_grad_norm() if when == "initial" else self.final_grad_norm()
        )

    def summary(self) -> RunSummary:
        """The run's row of the summary tables, from every logged step (the last included)."""
        history = History(
            self.column("step"), self.layer_history(), self.column("loss"), self.column("accuracy")
        )
        return summarize(
            self.name, self.snapshot, history=history, finished=True, wall_time=self.wall_time
        )

    def __repr__(self) -> str:
        state = f"diverged at {self.divergence.step}" if self.diverged else "ok"
        return (
            f"RunResult({self.name!r}, steps={self.steps}/{self.planned_steps}, "
            f"loss={self.snapshot.loss:.4g}, {state})"
        )


# ----------------------------------------------------------------------------- running


def planned_steps(
    config: ExperimentConfig,
    steps_per_epoch: int,
    steps: int | None = None,
    epochs: int | None = None,
) -> int:
    """Steps to train: ``steps``, else ``epochs`` epochs, else the config's steps / epochs."""
    if steps is not None:
        return int(steps)
    if epochs is not None:
        return int(epochs) * steps_per_epoch
    t = config.training
    return t.steps if t.steps > 0 else t.epochs * steps_per_epoch


def with_length(
    config: ExperimentConfig, steps: int | None = None, epochs: int | None = None
) -> ExperimentConfig:
    """``config`` with --steps / --epochs written in, so config.toml reproduces the run."""
    if steps is not None:
        return updated(config, **{"training.steps": steps})
    if epochs is not None:
        return updated(config, **{"training.epochs": epochs, "training.steps": 0})
    return config


def _train(session: Session, total: int, report: Callable[[int, float], None]) -> bool:
    """Up to ``total`` fused steps, reporting every ~``_TICK_SECONDS`` (``Session.run``
    sizes its compiled chunks to that budget).

    Returns True when interrupted (Ctrl-C): what was recorded so far stays usable.
    """
    done, t0 = 0, time.perf_counter()
    try:
        while done < total and not session.diverged:
            done += session.run(total - done, seconds=_TICK_SECONDS)
            report(done, time.perf_counter() - t0)
    except KeyboardInterrupt:
        return True
    return False


def run_experiment(
    config: ExperimentConfig,
    steps: int | None = None,
    epochs: int | None = None,
    progress: ProgressCallback | None = None,
    *,
    name: str | None = None,
    dataset=None,
    index: int = 0,
    count: int = 1,
    notice: Callable[[str], None] | None = None,
    jacobian: bool = False,
) -> RunResult:
    """Train ``config`` for ``steps`` / ``epochs`` (default: the config's own) and collect.

    Stops early when the run diverges (the result says where).  ``dataset`` skips loading
    (``compare`` shares one); ``progress`` gets a :class:`Progress` about every 0.1 s.
    ``notice`` is told, in one line, when the kernels compile first (a cold Numba cache);
    the clock for the rate and the ETA starts after that.  ``jacobian``: keep the final
    Jacobian spectrum in ``extra["jacobian"]`` (engine.jacobian_theory, bounded cost).
    Raises ConfigError / DataError for a bad config or data set.
    """
    name = name or config.name
    if config.is_recurrent:
        from engine.recurrent.experiment import run_recurrent

        total_of = functools.partial(planned_steps, config, steps=steps, epochs=epochs)
        return run_recurrent(
            config, total_of, progress, name=name, data=dataset, index=index, count=count
        )
    session = Session(config, dataset)
    warm_up(config, session.dataset, notice)
    total = planned_steps(config, session.steps_per_epoch, steps, epochs)

    def report(done: int, elapsed: float) -> None:
        if progress is not None:
            progress(Progress(name, index, count, done, total, elapsed, session.loss))

    t0 = time.perf_counter()
    report(0, 0.0)
    with threads.limited(threads.threads_for([session], "cli")):
        interrupted = _train(session, total, report)
    wall = time.perf_counter() - t0
    if not session.diverged and len(session.X_test):
        session.evaluate("test")  # the summary's test figures are for the final weights
    snap = session.snapshot(with_history=True)
    columns, rows = logged_rows(session, snap)
    extra = {}
    if jacobian and not session.diverged:
        from engine.jacobian_theory import session_spectrum

        extra["jacobian"] = session_spectrum(session)
    return RunResult(
        name,
        config,
        snap,
        columns,
        rows,
        total,
        wall,
        session.dataset.description,
        interrupted,
        extra,
    )


def logged_rows(
    session: Session, snap: Snapshot | None = None
) -> tuple[tuple[str, ...], np.ndarray]:
    """(columns, rows) of every logged step, from the session's bounded traces.

    Test figures are those of the latest evaluation at or before each step (NaN before the
    first one).  The last completed step is always included.
    """
    snap = snap or session.snapshot(with_history=False)
    labels = snap.layer_labels
    columns = BASE_COLUMNS + tuple(metric_column(m, lab) for m in LAYER_METRICS for lab in labels)
    steps, layer_rows = session.trace.view()  # (n,), (n, L+1, M)
    s_steps, scalars = session.scalar_trace.view()  # same offers -> same steps
    scalars = scalars[np.searchsorted(s_steps, steps)] if len(s_steps) else scalars
    # metric-major; the width is explicit so a run that diverged at its first step (no row
    # recorded) still gets its (0, n) table and a metrics.csv with the header
    per_layer = layer_rows.transpose(0, 2, 1).reshape(len(steps), len(columns) - len(BASE_COLUMNS))
    if len(steps) and steps[-1] < session.step_count and not session.diverged:
        # the history keeps every stride-th step; add the final one from the live state
        steps = np.append(steps, session.step_count)
        # in SCALARS order; out[2] is the kernel's global gradient norm of the last step
        last = (session.loss, session.accuracy, float(session.out[2]), session.learning_rate)
        scalars = np.vstack([scalars, last])
        final = np.stack([snap.layers[m] for m in LAYER_METRICS])  # (M, L+1)
        per_layer = np.vstack([per_layer, final.reshape(1, -1)])
    e_steps, e_rows = session.eval_trace.view()
    test = np.full((len(steps), 2), np.nan)
    if len(e_steps):
        idx = np.searchsorted(e_steps, steps, side="right") - 1
        test[idx >= 0] = e_rows[idx[idx >= 0]]
    i_loss, i_acc, i_g = (SCALARS.index(n) for n in ("loss", "accuracy", "grad_global_norm"))
    base = np.column_stack(
        [
            steps,
            steps // session.steps_per_epoch,
            scalars[:, i_loss],
            scalars[:, i_acc],
            test,
            scalars[:, i_g],
        ]
    )
    rows = np.hstack([base, per_layer]) if len(steps) else np.zeros((0, len(columns)))
    return columns, rows


# ----------------------------------------------------------------------------- comparing


def compare(
    config: ExperimentConfig,
    vary: list[str],
    steps: int | None = None,
    epochs: int | None = None,
    progress: ProgressCallback | None = None,
    notice: Callable[[str], None] | None = None,
) -> dict[str, RunResult]:
    """Run every variant of ``config`` (cartesian product of ``vary``) on the same data and seed.

    Every variant is validated before the first one runs.  A data set is loaded once per
    distinct ``data`` table (and ``model.dtype``), so variants that do not vary the data share
    the very same split.
    """
    todo = list(expand(config, vary).items())
    _same_kind([cfg for _, cfg in todo])
    datasets = {}
    results: dict[str, RunResult] = {}
    for i, (name, cfg) in enumerate(todo):
        results[name] = run_experiment(
            cfg,
            steps,
            epochs,
            progress,
            name=name,
            dataset=_data_for(cfg, datasets),
            index=i,
            count=len(todo),
            notice=notice,
        )
        if results[name].interrupted:
            break
    return results


def _data_for(cfg: ExperimentConfig, cache: dict):
    """The data of ``cfg``, loaded once per distinct data table (and dtype) in ``cache``."""
    if cfg.is_recurrent:
        from engine.recurrent.experiment import load_data

        return load_data(cfg, cache)
    from engine.datasets import load_dataset

    key = (cfg.data, cfg.model.dtype)  # in the engine's dtype: no per-session copy
    if key not in cache:
        cache[key] = load_dataset(cfg.data, cfg.model.dtype)
    return cache[key]


def _same_kind(configs: list[ExperimentConfig]) -> None:
    """A comparison is all MLP or all recurrent: their summaries have different columns."""
    kinds = {c.is_recurrent for c in configs}
    if len(kinds) > 1:
        raise ConfigError(
            ['recurrent.cell: a comparison cannot mix "none" (the MLP) with rnn / lstm / gru']
        )


def _recurrent_results(results) -> list | None:
    """The runs as a list when they are recurrent (engine.recurrent.experiment), else None."""
    runs = [results] if not isinstance(results, Mapping) else list(results.values())
    return runs if runs and runs[0].config.is_recurrent else None


# ----------------------------------------------------------------------------- summaries


def _finite(x) -> float | None:
    """JSON-safe number: None for NaN / inf."""
    x = float(x)
    return x if math.isfinite(x) else None


def json_safe(obj):
    """``obj`` with every non-finite float replaced by None, so strict JSON can hold it.

    (A config field that is +-inf or NaN, or a figure that overflowed, must never make the
    summary unwritable.)
    """
    if isinstance(obj, float):
        return _finite(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def _divergence_dict(d: Divergence | None, labels: tuple[str, ...]) -> dict | None:
    if d is None:
        return None
    return {
        "step": d.step,
        "phase": d.phase,
        "layer": d.layer,
        "layer_label": labels[d.layer],
        "quantity": d.quantity,
        "message": d.message,
        "advice": d.advice,
    }


def summary(result: RunResult) -> dict:
    """Plain (JSON-ready) summary of one run: final figures, gradient profile, divergence."""
    if _recurrent_results(result):
        return result.summary()
    snap, labels, row = result.snapshot, result.layer_labels, result.summary()
    return {
        "name": result.name,
        "dataset": result.dataset,
        "steps": result.steps,
        "planned_steps": result.planned_steps,
        "epochs": result.steps / snap.steps_per_epoch,
        "wall_time_s": round(result.wall_time, 4),
        "steps_per_second": round(result.steps_per_second, 1),
        "interrupted": result.interrupted,
        "final": {
            "loss": _finite(row.loss),
            "accuracy": _finite(row.accuracy),
            "test_loss": _finite(snap.test_loss),
            "test_accuracy": _finite(snap.test_accuracy),
            "last_batch_loss": _finite(snap.loss),
            "last_batch_accuracy": _finite(snap.accuracy),
        },
        "grad_norm_initial": _by_layer(labels, row.grad_norm_initial),
        "grad_norm_final": _by_layer(labels, row.grad_norm_final),
        "grad_ratio_first_last_hidden": {
            "initial": _finite(row.grad_ratio_initial),
            "final": _finite(row.grad_ratio),
        },
        "vanish_step": row.vanish_step,
        "layers_last_step": {m: _by_layer(labels, snap.layers[m]) for m in LAYER_METRICS},
        "diverged": _divergence_dict(result.divergence, labels),
        "config": to_dict(result.config),
    }


def _by_layer(labels: tuple[str, ...], values) -> dict:
    return {lab: _finite(v) for lab, v in zip(labels, values, strict=True)}


def write_metrics_csv(result: RunResult, path: str | os.PathLike) -> Path:
    """One row per logged step: step, epoch, loss, ..., then ``metric[layer]`` columns."""
    rows = ([int(r[0]), int(r[1]), *r[2:]] for r in result.rows)
    return write_csv(path, result.columns, rows)


def write_summary_json(
    results: RunResult | Mapping[str, RunResult], path: str | os.PathLike
) -> Path:
    """``summary(result)`` as JSON; for a comparison ``{"variants": {name: summary}}``."""
    if not isinstance(results, Mapping):  # one run (an MLP's or a recurrent one)
        doc = summary(results)
    else:
        doc = {"variants": {name: summary(r) for name, r in results.items()}}
    return write_atomic(path, json.dumps(json_safe(doc), indent=2, allow_nan=False) + "\n")


def write_summary_csv(results: Mapping[str, RunResult], path: str | os.PathLike) -> Path:
    """One row per variant (:func:`engine.summary.summary_rows`): final figures, gradient
    ratios, vanishing and divergence steps, per-layer final gradient norms."""
    recurrent = _recurrent_results(results)
    if recurrent:
        from engine.recurrent.experiment import summary_rows as recurrent_rows

        header, rows = recurrent_rows(recurrent)
    else:
        header, rows = summary_rows(r.summary() for r in results.values())
    return write_csv(path, header, rows)


def summary_table(results: RunResult | Mapping[str, RunResult]) -> str:
    """Plain-text end-of-run report: one line per run, then gradient norms per layer."""
    recurrent = _recurrent_results(results)
    if recurrent:
        from engine.recurrent.experiment import summary_table as recurrent_table

        return recurrent_table(recurrent)
    if isinstance(results, RunResult):
        results = {results.name: results}
    return _summary_table(r.summary() for r in results.values())
