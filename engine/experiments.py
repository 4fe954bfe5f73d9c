"""Headless experiments: run a config to the end, compare variants, write metrics and summaries.

:func:`run_experiment` trains one :class:`~engine.session.Session` and returns a
:class:`RunResult`; :func:`compare` runs the cartesian product of ``--vary key=v1,v2``
options on the same data and seed.  The per-step record comes from the session's bounded
history (:class:`~engine.history.Trace`), so memory stays fixed however long the run.

No Qt here: the command line (``cli.py``) and the tests use this module directly.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import threads
from engine.config import ConfigError, ExperimentConfig, apply_overrides, to_dict, write_atomic
from engine.limits import MAX_VARIANTS
from engine.session import LAYER_METRICS, SCALARS, Divergence, Session, Snapshot, warm_up

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
#: share of the logged steps (at the end of the run) whose median is the "final" gradient norm
FINAL_WINDOW = 0.1
_TICK_SECONDS = 0.1  # progress callbacks about this often


@dataclass(frozen=True)
class Progress:
    """What a progress callback is told, about every ``_TICK_SECONDS`` and at the end."""

    name: str  # run / variant name
    index: int  # variant number, 0-based (0 for a single run)
    count: int  # number of runs in this batch
    done: int  # steps run so far
    total: int  # steps planned
    elapsed: float  # seconds since this run started
    loss: float  # latest mini-batch loss

    @property
    def rate(self) -> float:
        """Steps per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float:
        """Seconds left at the current rate (inf before the first step)."""
        return (self.total - self.done) / self.rate if self.rate > 0 else math.inf

    def __repr__(self) -> str:
        return f"Progress({self.name!r}, {self.done}/{self.total})"


ProgressCallback = Callable[[Progress], None]


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
        first = self.columns.index(f"{metric}[{self.layer_labels[0]}]")
        return self.rows[:, first : first + len(self.layer_labels)]

    def initial_grad_norm(self) -> np.ndarray:
        """(L+1,) ||dL/dW_k|| at the first step (the initialised network's gradient profile)."""
        g = self.layer_history("grad_norm")
        return g[0].copy() if len(g) else np.full(len(self.layer_labels), np.nan)

    def final_grad_norm(self) -> np.ndarray:
        """(L+1,) median ||dL/dW_k|| over the last ``FINAL_WINDOW`` of the logged steps.

        A median of many mini-batches, because one batch's gradient is noisy.
        """
        g = self.layer_history("grad_norm")
        g = g[np.all(np.isfinite(g), axis=1)]
        if not len(g):
            return np.full(len(self.layer_labels), np.nan)
        n = max(1, math.ceil(FINAL_WINDOW * len(g)))
        return np.median(g[-n:], axis=0)

    def final_train(self) -> tuple[float, float]:
        """(loss, accuracy) of the training mini-batches, averaged over the last
        ``FINAL_WINDOW`` of the logged steps (one batch alone is too noisy to report)."""
        loss, acc = self.column("loss"), self.column("accuracy")
        ok = np.isfinite(loss)
        if not ok.any():
            return math.nan, math.nan
        n = max(1, math.ceil(FINAL_WINDOW * ok.sum()))
        acc_tail = acc[ok][-n:]
        mean_acc = float(np.mean(acc_tail)) if np.isfinite(acc_tail).all() else math.nan
        return float(np.mean(loss[ok][-n:])), mean_acc

    def grad_ratio(self, when: str = "final") -> float:
        """||dL/dW|| of the first hidden layer over that of the last hidden layer.

        Tiny (e.g. 1e-5) when the gradient vanishes on its way to the input; about 1 when
        it flows.  ``when`` is ``"initial"`` (first step) or ``"final"``.
        """
        g = self.initial_grad_norm() if when == "initial" else self.final_grad_norm()
        depth = len(g) - 1
        return _ratio(g[0], g[depth - 1]) if depth >= 1 else math.nan

    def __repr__(self) -> str:
        state = f"diverged at {self.divergence.step}" if self.diverged else "ok"
        return (
            f"RunResult({self.name!r}, steps={self.steps}/{self.planned_steps}, "
            f"loss={self.snapshot.loss:.4g}, {state})"
        )


def _ratio(a: float, b: float) -> float:
    """a / b without warnings: nan unless both are finite and b > 0."""
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return math.nan
    return float(a / b)


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
) -> RunResult:
    """Train ``config`` for ``steps`` / ``epochs`` (default: the config's own) and collect.

    Stops early when the run diverges (the result says where).  ``dataset`` skips loading
    (``compare`` shares one); ``progress`` gets a :class:`Progress` about every 0.1 s.
    ``notice`` is told, in one line, when the kernels compile first (a cold Numba cache);
    the clock for the rate and the ETA starts after that.
    Raises ConfigError / DataError for a bad config or data set.
    """
    name = name or config.name
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
    return RunResult(
        name, config, snap, columns, rows, total, wall, session.dataset.description, interrupted
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
    columns = BASE_COLUMNS + tuple(f"{m}[{lab}]" for m in LAYER_METRICS for lab in labels)
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


def split_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` at commas outside brackets and quotes (``[16,16],[32]``)."""
    values, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append(text[start:i].strip())
            start = i + 1
    values.append(text[start:].strip())
    return values


def parse_vary(vary: Iterable[str]) -> list[tuple[str, list[str]]]:
    """``["model.activation=sigmoid,relu"]`` -> ``[("model.activation", ["sigmoid", "relu"])]``."""
    options, errors = [], []
    for item in vary:
        key, sep, text = item.partition("=")
        values = split_values(text) if sep else []
        if not key.strip() or not values or any(not v for v in values):
            errors.append(f"{item!r}: expected key=v1,v2,..., e.g. model.activation=sigmoid,relu")
            continue
        options.append((key.strip(), values))
    if errors:
        raise ConfigError(errors, "--vary")
    return options


def _short_keys(keys: list[str]) -> list[str]:
    """The last part of each dotted key, or the whole key where that would be ambiguous."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return [s if last.count(s) == 1 else k for s, k in zip(last, keys, strict=True)]


def variants(config: ExperimentConfig, vary: Iterable[str]) -> list[tuple[str, ExperimentConfig]]:
    """(name, config) for every combination of the ``vary`` options, all checked up front.

    Names read ``activation=relu,init=he_normal``.  Raises ConfigError listing every
    problem (each distinct message once).
    """
    options = parse_vary(vary)
    if not options:
        return [(config.name, config)]
    count = math.prod(len(values) for _, values in options)
    if count > MAX_VARIANTS:  # counted before a single variant is built
        sizes = " x ".join(str(len(values)) for _, values in options)
        sizes = f"{sizes} = " if len(options) > 1 else ""
        raise ConfigError(
            [
                f"{sizes}{count} combinations; a comparison runs at most "
                f"{MAX_VARIANTS} variants: vary fewer values"
            ],
            "--vary",
        )
    keys = [k for k, _ in options]
    shorts = _short_keys(keys)
    result, errors = [], []
    for combo in itertools.product(*(values for _, values in options)):
        name = ",".join(f"{s}={v}" for s, v in zip(shorts, combo, strict=True))
        try:
            sets = [f"{k}={v}" for k, v in zip(keys, combo, strict=True)]
            result.append((name, apply_overrides(config, sets, source="--vary")))
        except ConfigError as e:
            errors += [m for m in e.errors if m not in errors]
    if errors:
        raise ConfigError(errors, "--vary")
    return result


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
    from engine.datasets import load_dataset

    todo = variants(config, vary)
    datasets = {}
    results: dict[str, RunResult] = {}
    for i, (name, cfg) in enumerate(todo):
        key = (cfg.data, cfg.model.dtype)  # in the engine's dtype: no per-session copy
        if key not in datasets:
            datasets[key] = load_dataset(cfg.data, cfg.model.dtype)
        results[name] = run_experiment(
            cfg,
            steps,
            epochs,
            progress,
            name=name,
            dataset=datasets[key],
            index=i,
            count=len(todo),
            notice=notice,
        )
        if results[name].interrupted:
            break
    return results


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
    snap, labels = result.snapshot, result.layer_labels
    initial, final = result.initial_grad_norm(), result.final_grad_norm()
    train_loss, train_acc = result.final_train()
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
            "loss": _finite(train_loss),
            "accuracy": _finite(train_acc),
            "test_loss": _finite(snap.test_loss),
            "test_accuracy": _finite(snap.test_accuracy),
            "last_batch_loss": _finite(snap.loss),
            "last_batch_accuracy": _finite(snap.accuracy),
        },
        "grad_norm_initial": {lab: _finite(v) for lab, v in zip(labels, initial, strict=True)},
        "grad_norm_final": {lab: _finite(v) for lab, v in zip(labels, final, strict=True)},
        "grad_ratio_first_last_hidden": {
            "initial": _finite(result.grad_ratio("initial")),
            "final": _finite(result.grad_ratio("final")),
        },
        "layers_last_step": {
            m: {lab: _finite(v) for lab, v in zip(labels, snap.layers[m], strict=True)}
            for m in LAYER_METRICS
        },
        "diverged": _divergence_dict(result.divergence, labels),
        "config": to_dict(result.config),
    }


def _fmt(x: float) -> str:
    """Numbers for CSV: shortest exact repr; NaN as ``nan``."""
    x = float(x)
    return repr(x) if math.isfinite(x) else ("nan" if math.isnan(x) else repr(x))


def _csv_text(header: list[str], rows: Iterable[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_metrics_csv(result: RunResult, path: str | os.PathLike) -> Path:
    """One row per logged step: step, epoch, loss, ..., then ``metric[layer]`` columns."""

    def row(r: np.ndarray) -> list[str]:
        return [str(int(r[0])), str(int(r[1]))] + [_fmt(v) for v in r[2:]]

    return write_atomic(path, _csv_text(list(result.columns), (row(r) for r in result.rows)))


def write_summary_json(
    results: RunResult | Mapping[str, RunResult], path: str | os.PathLike
) -> Path:
    """``summary(result)`` as JSON; for a comparison ``{"variants": {name: summary}}``."""
    if isinstance(results, RunResult):
        doc = summary(results)
    else:
        doc = {"variants": {name: summary(r) for name, r in results.items()}}
    return write_atomic(path, json.dumps(json_safe(doc), indent=2, allow_nan=False) + "\n")


def _all_labels(results: Mapping[str, RunResult]) -> list[str]:
    """Layer labels over every variant (depths may differ), hidden layers first, then output."""
    hidden = max((len(r.layer_labels) - 1 for r in results.values()), default=0)
    return [f"hidden {k + 1}" for k in range(hidden)] + ["output"]


def write_summary_csv(results: Mapping[str, RunResult], path: str | os.PathLike) -> Path:
    """One row per variant: final figures, gradient ratio, per-layer final gradient norms."""
    labels = _all_labels(results)
    header = [
        "variant",
        "steps",
        "diverged_step",
        "loss",
        "accuracy",
        "test_loss",
        "test_accuracy",
        "grad_ratio_initial",
        "grad_ratio_final",
        "wall_time_s",
    ] + [f"grad_norm[{lab}]" for lab in labels]
    rows = []
    for name, r in results.items():
        s = r.snapshot
        g = dict(zip(r.layer_labels, r.final_grad_norm(), strict=True))
        rows.append(
            [name, r.steps, r.divergence.step if r.diverged else ""]
            + [
                _fmt(v)
                for v in (
                    *r.final_train(),
                    s.test_loss,
                    s.test_accuracy,
                    r.grad_ratio("initial"),
                    r.grad_ratio("final"),
                )
            ]
            + [f"{r.wall_time:.3f}"]
            + [_fmt(g[lab]) if lab in g else "" for lab in labels]
        )
    return write_atomic(path, _csv_text(header, rows))


def _num(x: float, spec: str = ".4g") -> str:
    return "-" if not math.isfinite(x) else format(x, spec)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned first column, right-aligned numbers, two spaces between columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def summary_table(results: RunResult | Mapping[str, RunResult]) -> str:
    """Plain-text end-of-run report: one line per variant, then gradient norms per layer."""
    if isinstance(results, RunResult):
        results = {results.name: results}
    header = [
        "run",
        "steps",
        "loss",
        "acc",
        "test loss",
        "test acc",
        "g1/gL start",
        "g1/gL end",
        "diverged",
    ]
    rows = []
    for name, r in results.items():
        s = r.snapshot
        loss, acc = r.final_train()
        div = f"step {r.divergence.step}" if r.diverged else "-"
        rows.append(
            [
                name,
                str(r.steps),
                _num(loss),
                _num(acc, ".3f"),
                _num(s.test_loss),
                _num(s.test_accuracy, ".3f"),
                _num(r.grad_ratio("initial"), ".2g"),
                _num(r.grad_ratio("final"), ".2g"),
                div,
            ]
        )
    labels = _all_labels(results)
    g = {
        name: dict(zip(r.layer_labels, r.final_grad_norm(), strict=True))
        for name, r in results.items()
    }
    layer_rows = [[lab] + [_num(g[n].get(lab, math.nan), ".3g") for n in results] for lab in labels]
    return "\n".join(
        [
            _table(header, rows),
            f"(loss / acc: training mini-batches, mean of the last {FINAL_WINDOW:.0%} of logged "
            "steps; test: the whole test split at the end)",
            "",
            f"||dL/dW|| per layer (median of the last {FINAL_WINDOW:.0%} of logged steps; "
            "g1/gL = first / last hidden layer)",
            _table(["layer", *results], layer_rows),
        ]
    )
