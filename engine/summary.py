"""What a run came to: its summary row, the gradient ratios, the tables.

One set of rules for the command line (``vglab run`` / ``compare``), the compare session and
both windows:

* the "final" figures are over the last :data:`FINAL_WINDOW` of the recorded steps (the
  median per layer for gradient norms, the mean for the training loss / accuracy), because
  one mini-batch alone is too noisy to report;
* the gradient ratio is ||dL/dW|| of the first hidden layer over that of the last hidden
  layer (NaN without hidden layers): tiny when the gradient vanishes on its way back;
* a run "vanished" at the first recorded step at which hidden 1's gradient fell below
  :data:`VANISH_THRESHOLD`.

No Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from engine.labels import layer_labels, metric_column
from engine.session import Session
from engine.snapshot import Snapshot

#: share of the recorded steps (at the end) whose median / mean is the "final" figure
FINAL_WINDOW = 0.1
#: a first-layer gradient below this has, for practical purposes, vanished
VANISH_THRESHOLD = 1e-8


# ----------------------------------------------------------------------------- rules


def ratio(a: float, b: float) -> float:
    """a / b, NaN unless both are finite and b > 0 (no warnings)."""
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return math.nan
    return a / b


def grad_ratio(grad: np.ndarray) -> float:
    """(L+1,) ||dL/dW_k|| -> first hidden over last hidden; NaN without hidden layers."""
    depth = len(grad) - 1
    return ratio(grad[0], grad[depth - 1]) if depth >= 1 else math.nan


def final_median(rows: np.ndarray) -> np.ndarray:
    """(n, L+1) -> (L+1,) median over the last FINAL_WINDOW of the all-finite rows (NaN if
    none: a run that diverged at once)."""
    rows = np.asarray(rows, dtype=np.float64)
    finite = rows[np.all(np.isfinite(rows), axis=1)] if len(rows) else rows
    if not len(finite):
        return np.full(rows.shape[1], np.nan)
    n = max(1, math.ceil(FINAL_WINDOW * len(finite)))
    return np.median(finite[-n:], axis=0)


def final_mean(loss: np.ndarray, accuracy: np.ndarray) -> tuple[float, float]:
    """(loss, accuracy) means over the last FINAL_WINDOW of the steps with a finite loss;
    the accuracy is NaN when any of those is (a regression)."""
    loss, accuracy = np.asarray(loss, np.float64), np.asarray(accuracy, np.float64)
    ok = np.isfinite(loss)
    if not ok.any():
        return math.nan, math.nan
    n = max(1, math.ceil(FINAL_WINDOW * ok.sum()))
    acc = accuracy[ok][-n:]
    mean_acc = float(np.mean(acc)) if np.isfinite(acc).all() else math.nan
    return float(np.mean(loss[ok][-n:])), mean_acc


def first_below(
    steps: np.ndarray, values: np.ndarray, threshold: float = VANISH_THRESHOLD
) -> int | None:
    """The first of ``steps`` whose value is below ``threshold`` (NaN never is); None if none."""
    hit = np.flatnonzero(np.asarray(values) < threshold)
    return int(steps[hit[0]]) if hit.size else None


def _hidden_mean(values: np.ndarray) -> float:
    v = np.asarray(values[:-1], dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else math.nan


class History(NamedTuple):
    """The recorded course of a run: steps (n,), grad_norm (n, L+1), loss and accuracy (n,)."""

    steps: np.ndarray
    grad_norm: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray

    @classmethod
    def of(cls, snap: Snapshot) -> History:
        """The history a Snapshot holds (empty when taken without one)."""
        L = snap.depth
        steps = snap.history_steps if snap.history_steps is not None else np.zeros(0, np.int64)
        grad = snap.history_grad_norm
        scalars = snap.history_scalars
        grad = grad if grad is not None else np.zeros((0, L + 1))
        scalars = scalars if scalars is not None else np.zeros((0, 2))
        return cls(steps, grad, scalars[:, 0], scalars[:, 1])


# ----------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class RunSummary:
    """One row of every summary table (the app's, the CLI's text table and summary.csv)."""

    name: str
    steps: int
    loss: float  # training loss, mean over the last 10% of recorded steps
    accuracy: float  # training accuracy, same window (NaN for regression)
    test_loss: float  # latest evaluation on the test split (NaN before the first)
    test_accuracy: float
    grad_ratio_initial: float  # ||dL/dW|| hidden 1 / hidden L at the first recorded step
    grad_ratio: float  # the same, from the median over the last 10% of recorded steps
    mean_saturation: float  # mean over hidden layers of the share of flat units (|f'| <= 1%)
    dead_fraction: float  # mean over hidden layers of the share of dead units
    vanish_step: int | None  # first step with ||dL/dW|| of hidden 1 < 1e-8; None = never
    diverged_step: int | None = None
    divergence: str = ""  # the divergence message, if any
    labels: tuple[str, ...] = ()  # (L+1,) layer names
    grad_norm_initial: tuple[float, ...] = ()  # (L+1,) at the first recorded step
    grad_norm_final: tuple[float, ...] = ()  # (L+1,) median of the last 10%
    finished: bool = False  # a finished run (CLI) rather than one still training (app)
    wall_time: float | None = None  # seconds of training, when measured

    @property
    def diverged(self) -> bool:
        return self.diverged_step is not None

    @property
    def status(self) -> str:
        """What the run is doing: diverged at step N, finished (CLI), not started, training."""
        if self.diverged:
            return f"diverged at step {self.diverged_step}"
        if self.finished:
            return "finished"
        return "training" if self.steps else "not started"

    def cells(self) -> list[str]:
        """The row as text, in :data:`DISPLAY_HEADER` order."""
        return [
            self.name,
            str(self.steps),
            _num(self.loss, ".4g"),
            _num(self.accuracy, ".3f"),
            _num(self.test_loss, ".4g"),
            _num(self.test_accuracy, ".3f"),
            _num(self.grad_ratio_initial, ".2g"),
            _num(self.grad_ratio, ".2g"),
            _pct(self.mean_saturation),
            _pct(self.dead_fraction),
            "never" if self.vanish_step is None else str(self.vanish_step),
            self.status,
        ]

    def values(self, labels: Iterable[str] | None = None) -> list:
        """The row as numbers, in :func:`csv_header` order (``never`` / ``""`` where there is
        none); per-layer columns for ``labels`` (default: this run's)."""
        g = dict(zip(self.labels, self.grad_norm_final, strict=True))
        return [
            self.name,
            self.steps,
            "" if self.diverged_step is None else self.diverged_step,
            self.loss,
            self.accuracy,
            self.test_loss,
            self.test_accuracy,
            self.grad_ratio_initial,
            self.grad_ratio,
            self.mean_saturation,
            self.dead_fraction,
            "never" if self.vanish_step is None else self.vanish_step,
            "" if self.wall_time is None else round(self.wall_time, 3),
        ] + [g.get(lab, "") for lab in (self.labels if labels is None else labels)]

    def __repr__(self) -> str:
        return (
            f"RunSummary({self.name!r}, step={self.steps}, loss={self.loss:.4g}, "
            f"g1/gL={self.grad_ratio:.2g})"
        )


def summarize(
    name: str,
    snap: Snapshot | Session,
    *,
    history: History | None = None,
    vanish_step: int | None = None,
    finished: bool = False,
    wall_time: float | None = None,
) -> RunSummary:
    """The summary row of one run from its Snapshot (or a live Session's).

    ``history`` replaces the one the snapshot holds (the CLI's logged rows, which end at the
    last step).  ``vanish_step`` overrides the step found in the history (a long history
    keeps every n-th step only; :class:`~engine.compare.CompareSession` watches every step).
    """
    if isinstance(snap, Session):
        snap = snap.snapshot()
    h = history if history is not None else History.of(snap)
    grad = np.asarray(h.grad_norm, dtype=np.float64)
    if len(grad):
        initial, final = grad[0], final_median(grad)
    else:  # nothing recorded (a history-less snapshot): the latest step is all there is
        initial = final = np.asarray(snap.layers["grad_norm"]) if snap.step else _nan_grad(snap)
    loss, acc = final_mean(h.loss, h.accuracy)
    if not len(h.loss) and math.isfinite(snap.loss):
        loss, acc = snap.loss, snap.accuracy
    if vanish_step is None and len(h.steps):
        vanish_step = first_below(h.steps, grad[:, 0])
    div = snap.divergence
    return RunSummary(
        name=name,
        steps=snap.step,
        loss=loss,
        accuracy=acc,
        test_loss=float(snap.test_loss),
        test_accuracy=float(snap.test_accuracy),
        grad_ratio_initial=grad_ratio(initial),
        grad_ratio=grad_ratio(final),
        mean_saturation=_hidden_mean(snap.layers["saturated"]),
        dead_fraction=_hidden_mean(snap.layers["dead"]),
        vanish_step=vanish_step,
        diverged_step=None if div is None else div.step,
        divergence="" if div is None else div.message,
        labels=tuple(snap.layer_labels),
        grad_norm_initial=tuple(float(v) for v in initial),
        grad_norm_final=tuple(float(v) for v in final),
        finished=finished,
        wall_time=wall_time,
    )


def _nan_grad(snap: Snapshot) -> np.ndarray:
    """(L+1,) NaN: no gradient measured yet."""
    return np.full(snap.depth + 1, np.nan)


# ----------------------------------------------------------------------------- tables

#: column titles of :meth:`RunSummary.cells` (the app's table and the CLI's text table)
DISPLAY_HEADER = (
    "variant",
    "steps",
    "loss",
    "accuracy",
    "test loss",
    "test acc",
    "g1/gL start",
    "g1/gL now",
    "saturated",
    "dead",
    f"g1 < {VANISH_THRESHOLD:g} at step",
    "status",
)
#: leading column names of :meth:`RunSummary.values` (summary.csv, compare_summary.csv);
#: then one ``grad_norm[layer]`` column per layer (final median)
CSV_HEADER = (
    "variant",
    "steps",
    "diverged_step",
    "loss",
    "accuracy",
    "test_loss",
    "test_accuracy",
    "grad_ratio_initial",
    "grad_ratio_final",
    "mean_saturation",
    "dead_fraction",
    "vanish_step",
    "wall_time_s",
)


def _items(summaries: Mapping[str, RunSummary] | Iterable[RunSummary]) -> list[RunSummary]:
    return list(summaries.values() if isinstance(summaries, Mapping) else summaries)


def all_labels(summaries: Iterable[RunSummary]) -> tuple[str, ...]:
    """Layer names over every run (depths may differ): hidden layers first, then output."""
    return layer_labels(max((len(s.labels) - 1 for s in summaries), default=0))


def summary_rows(
    summaries: Mapping[str, RunSummary] | Iterable[RunSummary],
) -> tuple[list[str], list[list]]:
    """(header, rows) of the summary CSV: one row per run, numbers at full precision."""
    items = _items(summaries)
    labels = all_labels(items)
    header = list(CSV_HEADER) + [metric_column("grad_norm", lab) for lab in labels]
    return header, [s.values(labels) for s in items]


def _num(x: float, spec: str) -> str:
    return format(x, spec) if math.isfinite(x) else "-"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if math.isfinite(x) else "-"


def _aligned(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned first column, right-aligned others, two spaces between columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in [header, *rows]
    )


def summary_table(summaries: Mapping[str, RunSummary] | Iterable[RunSummary]) -> str:
    """Plain-text report: one line per run, then the final gradient norm per layer."""
    items = _items(summaries)
    labels = all_labels(items)
    g = [dict(zip(s.labels, s.grad_norm_final, strict=True)) for s in items]
    per_layer = [[lab] + [_num(d.get(lab, math.nan), ".3g") for d in g] for lab in labels]
    return "\n".join(
        [
            _aligned(list(DISPLAY_HEADER), [s.cells() for s in items]),
            f"(loss / accuracy: training mini-batches, mean of the last {FINAL_WINDOW:.0%} of "
            "recorded steps; test: the whole test split at the latest evaluation)",
            "",
            f"||dL/dW|| per layer (median of the last {FINAL_WINDOW:.0%} of recorded steps; "
            "g1/gL = first / last hidden layer)",
            _aligned(["layer", *(s.name for s in items)], per_layer),
        ]
    )
