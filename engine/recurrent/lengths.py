"""Test metric against the sequence length, per cell: the classic result as one curve.

    plan = plan_lengths(config, "10, 20, 50, 100", ("rnn", "lstm", "gru"), steps=2000)
    result = run_lengths(plan, on_point=..., cancel=...)   # the sweep's process pool
    header, rows = length_rows(result.points.values(), plan.base)

Every (cell, seq_len) of a recurrent base config is trained by :func:`run_recurrent` (so a
point equals ``run_recurrent`` of the same config) in a worker of
:func:`engine.sweep.iter_pool`, one BLAS thread each; the grid is the one variant expansion
(:func:`engine.variants.expand_grid`).  A point keeps the final test metric (the adding
problem's test MSE against its 0.167 baseline, the memory task's test accuracy against
chance, :func:`engine.recurrent.experiment.baseline`) and the final vanishing ratio
||dL/dh_1|| / ||dL/dh_T||.  ``vglab compare`` builds the same points from its own runs
(:func:`points_of`).  No Qt here.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from engine import threads
from engine.config import ConfigError, ExperimentConfig, updated
from engine.experiments import planned_steps
from engine.io import write_csv
from engine.recurrent.experiment import RecurrentResult, baseline, run_recurrent
from engine.sweep import PoolResult, drain, iter_pool
from engine.variants import Grid, expand_grid

CELL_KEY = "recurrent.cell"
LENGTH_KEY = "recurrent.seq_len"
SOURCE = "lengths"
#: most networks one length curve trains
MAX_POINTS = 60
#: relative cost of a time step per cell (the LSTM has four gates, the GRU three)
_CELL_COST = {"rnn": 1.0, "gru": 3.0, "lstm": 4.0}
CSV_HEADER_TAIL = ["baseline", "vanishing_ratio_final", "status", "steps"]


def metric_label(config: ExperimentConfig) -> tuple[str, str]:
    """(CSV column, axis label) of the test metric: MSE for adding, accuracy for memory."""
    if config.recurrent.task == "adding":
        return "test_mse", "test MSE"
    return "test_accuracy", "test accuracy"


@dataclass(frozen=True)
class LengthPoint:
    """One trained (cell, seq_len): its final test metric and vanishing ratio."""

    cell: str
    seq_len: int
    status: str  # "ok", "diverged" or "failed"
    steps: int
    metric: float  # test MSE (adding) or test accuracy (memory); NaN unless trained
    vanishing: float  # ||dL/dh_1|| / ||dL/dh_T|| of the top layer after the last step
    seconds: float = 0.0
    message: str = ""

    @classmethod
    def of(cls, r: RecurrentResult) -> LengthPoint:
        """The point of a finished run (the figures of its summary row)."""
        row = r.table_row()  # (name, steps, train loss, test loss, test acc, ...)
        metric = row[3] if r.config.recurrent.task == "adding" else row[4]
        status = "diverged" if r.diverged else "ok"
        message = r.divergence.message if r.diverged else ""
        return cls(
            r.config.recurrent.cell, r.config.recurrent.seq_len, status, r.steps,
            float(metric), r.vanishing("final"), r.wall_time, message,
        )  # fmt: skip


def points_of(results: Iterable[RecurrentResult]) -> list[LengthPoint]:
    """The length-curve points of finished runs (``vglab compare``)."""
    return [LengthPoint.of(r) for r in results]


def length_rows(
    points: Iterable[LengthPoint], config: ExperimentConfig
) -> tuple[list[str], list[list]]:
    """(header, rows) of ``length_curve.csv``: one row per point, by cell then length."""
    column, _ = metric_label(config)
    _, value = baseline(config)
    header = ["cell", "seq_len", column, *CSV_HEADER_TAIL]
    rows = [
        [p.cell, p.seq_len, p.metric, value, p.vanishing, p.status, p.steps]
        for p in sorted(points, key=lambda p: (p.cell, p.seq_len))
    ]
    return header, rows


def curves(points: Iterable[LengthPoint]) -> dict[str, tuple[list[int], list[float]]]:
    """cell -> (lengths, metrics) in increasing length: the lines of the figure."""
    out: dict[str, tuple[list[int], list[float]]] = {}
    for p in sorted(points, key=lambda p: p.seq_len):
        xs, ys = out.setdefault(p.cell, ([], []))
        xs.append(p.seq_len)
        ys.append(p.metric)
    return out


def varies_length(vary: Sequence[str] | Mapping) -> bool:
    """True when a comparison's ``key=...`` options vary the sequence length and nothing
    but the cell besides (one line per cell then says it all)."""
    from engine.variants import parse_vary

    if not isinstance(vary, Sequence) or isinstance(vary, str):
        return False
    try:
        keys = {k for k, _ in parse_vary(vary)}
    except ConfigError:
        return False
    return LENGTH_KEY in keys and keys <= {LENGTH_KEY, CELL_KEY}


def write_length_csv(
    results: Mapping[str, object], vary, path: str | os.PathLike
) -> list[LengthPoint] | None:
    """``length_curve.csv`` of a ``vglab compare`` whose runs are recurrent and vary the
    length (and at most the cell): its points, or None (nothing written) otherwise."""
    runs = list(results.values())
    if not runs or not varies_length(vary):
        return None
    if not all(isinstance(r, RecurrentResult) for r in runs):
        return None
    points = points_of(runs)
    write_csv(path, *length_rows(points, runs[0].config))
    return points


# ----------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class LengthPlan:
    """What a length curve trains: the grid cell x seq_len of ``base``, each as long as it says."""

    base: ExperimentConfig
    grid: Grid

    @property
    def length_text(self) -> str:
        """How long each net trains: ``2000 steps`` (or ``10 epochs`` without a step count)."""
        t = self.base.training
        return f"{t.steps} steps" if t.steps > 0 else f"{t.epochs} epochs"

    @property
    def count(self) -> int:
        return self.grid.shape[0] * self.grid.shape[1]

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.grid.values[1])

    def __repr__(self) -> str:
        return f"LengthPlan({self.grid!r}, {self.length_text})"


def plan_lengths(
    base: ExperimentConfig,
    lengths: str | Sequence[int],
    cells: Sequence[str],
    steps: int | None = None,
) -> LengthPlan:
    """Check and expand the grid ``cells`` x ``lengths`` (a ``"10, 20, 50"`` text or ints)
    of a recurrent ``base``; ``steps`` (default: the config's steps, else its epochs, as
    ``vglab run``) is written into every config and evaluation during training is switched
    off (each net is scored once, at the end).

    Raises ConfigError naming ``lengths`` and the field for a bad length, no cell, or a
    base that is not recurrent.
    """
    text = lengths if isinstance(lengths, str) else ", ".join(str(v) for v in lengths)
    if not text.strip():
        raise ConfigError([f"{LENGTH_KEY}: expected lengths such as 10, 20, 50"], SOURCE)
    if not cells:
        raise ConfigError([f"{CELL_KEY}: check at least one cell"], SOURCE)
    if base.recurrent.cell == "none":
        raise ConfigError([f'{CELL_KEY}: expected "rnn", "lstm" or "gru"'], SOURCE)
    if steps is not None and steps < 1:
        raise ConfigError([f"training.steps: must be >= 1, got {steps}"], SOURCE)
    base = updated(base, **{"training.eval_every": 0})
    if steps is not None:
        base = updated(base, **{"training.steps": int(steps)})
    axes = [f"{CELL_KEY}={','.join(cells)}", f"{LENGTH_KEY}={text}"]
    return LengthPlan(base, expand_grid(base, axes, maximum=MAX_POINTS, source=SOURCE))


# ----------------------------------------------------------------------------- running


def train_length_point(config: ExperimentConfig) -> LengthPoint:
    """Train one (cell, seq_len) with :func:`run_recurrent` (in a worker); never raises."""
    t0 = time.perf_counter()
    try:
        with threads.limited(1):  # two workers on two cores: no BLAS threads on top
            result = run_recurrent(config, partial(planned_steps, config))
    except Exception as e:  # noqa: BLE001 -- one broken net is a result, not a crash
        r = config.recurrent
        return LengthPoint(
            r.cell, r.seq_len, "failed", 0, math.nan, math.nan,
            time.perf_counter() - t0, f"{type(e).__name__}: {e}",
        )  # fmt: skip
    return LengthPoint.of(result)


def tasks(plan: LengthPlan) -> list[ExperimentConfig]:
    """Every config of the grid, the most expensive first (both cores busy to the end)."""
    todo = [c for row in plan.grid.configs for c in row]
    return sorted(todo, key=lambda c: -c.recurrent.seq_len * _CELL_COST[c.recurrent.cell])


@dataclass
class LengthResult(PoolResult):
    """The points so far, by (cell, seq_len) (:class:`engine.sweep.PoolResult`)."""

    plan: LengthPlan

    @property
    def count(self) -> int:
        return self.plan.count

    def __repr__(self) -> str:
        return f"LengthResult({len(self.points)}/{self.plan.count} points)"


def run_lengths(
    plan: LengthPlan,
    on_point: Callable[[LengthPoint], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> LengthResult:
    """Train every point of ``plan`` in :func:`engine.sweep.iter_pool`; ``on_point`` gets
    each as it arrives.  ``cancel()`` true or Ctrl-C: the pool stops and the result holds
    what had arrived; a worker that died: the same, named in ``failure``."""
    out = LengthResult(plan)
    t0 = time.perf_counter()

    def keep(p: LengthPoint) -> None:
        out.points[(p.cell, p.seq_len)] = p
        if on_point is not None:
            on_point(p)

    pool = iter_pool(train_length_point, tasks(plan), cancel, workers)
    out.cancelled, out.failure = drain(pool, keep, plan.count)
    out.cancelled = out.cancelled or not out.complete
    out.seconds = time.perf_counter() - t0
    return out
