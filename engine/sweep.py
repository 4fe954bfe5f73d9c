"""Trainability sweep: train a 2-D grid of networks, score them, compare with 6 xi_c.

    plan = plan_sweep(config, ["model.sigma_w2=1:4:7", "model.depth=10:60:6"], steps=300)
    result = run_sweep(plan, progress=..., on_result=...)   # a process pool on every core
    print(agreement_text(agreement(result)))

Schoenholz, Gilmer, Ganguli & Sohl-Dickstein (2017, "Deep Information Propagation") found
that a random net of depth L trains when L < ~6 xi_c, xi_c the correlation depth scale of
the mean field (:mod:`engine.meanfield`); this module measures that on the lab's data.

* The grid is the one variant expansion (:func:`engine.variants.expand_grid`); the depth
  axis, when there is one, is put second (the y axis).
* Every point is a :class:`~engine.session.Session` trained ``steps`` fused steps
  (``Session.run``) in a worker process of its own with one BLAS thread, then scored on
  the whole training and test splits (:class:`PointResult`).  A diverged net is a result
  ("diverged", naming where), never an error; so is one whose training raised.
* *Trainable* (:data:`TRAINABLE_SHARE`): the final accuracy on the whole training split is
  at least half-way from chance (the majority class's share of the training labels) to 1:
  0.55 on ten balanced classes.
* :mod:`engine.sweep_theory`: the prediction 6 xi_c, and per column the deepest trainable
  depth against it: the factor (median and range of measured / predicted) that the CLI, the
  app and the README quote; the ``sweep.csv`` table.

No Qt here.  Workers are *spawned* (never forked: the app's process has Qt threads) and
ignore SIGINT: Ctrl-C reaches the parent, which stops the pool and keeps what arrived.  A
worker that dies (the OOM killer, a crash in a kernel) stops the sweep the same way, named
in :attr:`SweepResult.failure`.  On a cold Numba cache one compile process
(:func:`engine.precompile.wait_cached`) fills it before the pool starts.
"""

from __future__ import annotations

import functools
import math
import multiprocessing as mp
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from engine import precompile, threads
from engine.config import ConfigError, ExperimentConfig, updated
from engine.report import Progress
from engine.variants import Grid, expand_grid, parse_vary

#: a net is trainable when its training accuracy is at least this share of the way from
#: chance to 1 (chance + 0.5 (1 - chance): 0.55 on ten balanced classes)
TRAINABLE_SHARE = 0.5
#: the predicted boundary depth in units of xi_c (Schoenholz et al. 2017)
BOUNDARY_XI = 6.0
#: most networks one sweep trains
MAX_POINTS = 600
DEPTH = "model.depth"
#: seconds between two looks at ``cancel`` while waiting for a result
_POLL = 0.1
#: seconds to wait for a terminated worker to go
_JOIN = 5.0
SOURCE = "--grid"


# ----------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep trains: the grid of configs (``steps`` each) and the chance level."""

    base: ExperimentConfig
    grid: Grid
    steps: int
    chance: float  # accuracy of always answering the training split's majority class
    n_classes: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    @property
    def threshold(self) -> float:
        """The training accuracy from which a net counts as trainable."""
        return self.chance + TRAINABLE_SHARE * (1.0 - self.chance)

    def __repr__(self) -> str:
        return f"SweepPlan({self.grid!r}, steps={self.steps})"


def plan_sweep(base: ExperimentConfig, axes: Iterable[str], steps: int | None = None) -> SweepPlan:
    """Check and expand a sweep: two ``key=v1,v2`` / ``key=lo:hi:n`` axes of ``base``.

    ``steps`` (default: the config's ``training.steps``, else one epoch) is written into
    every config, and evaluation during training is switched off (each net is scored once,
    at the end).  Raises ConfigError naming ``--grid`` or the field for a bad axis, a
    regression data set (a sweep scores accuracy) or a bad step count.
    """
    from engine.datasets import load_dataset

    axes = list(axes)
    try:
        options = parse_vary(axes) if axes else []
    except ConfigError as e:
        raise ConfigError(e.errors, SOURCE) from None
    keys = [k for k, _ in options]
    if len(keys) == 2 and keys[0] == DEPTH:  # depth on the y axis, where 6 xi_c is drawn
        axes = axes[::-1]
    if steps is not None and steps < 1:
        raise ConfigError([f"steps: must be >= 1, got {steps}"], "--steps")
    dataset = load_dataset(base.data, base.model.dtype)
    if dataset.task != "classification":
        raise ConfigError(
            [f"data.name: a sweep scores accuracy; {base.data.name} is a regression set"]
        )
    from engine.experiments import planned_steps

    per_epoch = math.ceil(
        len(dataset.X_train) / min(base.training.batch_size, len(dataset.X_train))
    )
    n = steps or planned_steps(base, per_epoch)
    base = updated(base, **{"training.steps": int(n), "training.eval_every": 0})
    grid = expand_grid(base, axes, maximum=MAX_POINTS, source=SOURCE)
    counts = np.bincount(np.asarray(dataset.y_train, dtype=np.int64))
    chance = float(counts.max() / counts.sum())
    return SweepPlan(base, grid, int(n), chance, int(dataset.n_classes))


# ----------------------------------------------------------------------------- one point


@dataclass(frozen=True)
class PointResult:
    """One trained net of the grid: where it is, how it ended, its final figures."""

    i: int  # index along the first axis (x)
    j: int  # index along the second axis (y)
    name: str
    status: str  # "ok", "diverged" or "failed"
    steps: int  # steps completed
    train_loss: float  # on the whole training split, after the last step (NaN unless ok)
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float  # wall time of this net (building included)
    message: str = ""  # where it diverged, or what failed

    def trainable(self, threshold: float) -> bool:
        return self.status == "ok" and self.train_accuracy >= threshold

    def __repr__(self) -> str:
        return f"PointResult({self.name!r}, {self.status}, train_acc={self.train_accuracy:.3f})"


@functools.lru_cache(maxsize=4)
def _dataset(data, dtype):
    """A worker's copy of a data set, loaded once per process."""
    from engine.datasets import load_dataset

    return load_dataset(data, dtype)


def train_point(task: tuple[int, int, ExperimentConfig]) -> PointResult:
    """Build and train one grid point (in a worker); never raises."""
    from engine.session import Session

    i, j, config = task
    t0 = time.perf_counter()
    nan = math.nan
    try:
        with threads.limited(1):  # two workers on two cores: no BLAS threads on top
            s = Session(config, _dataset(config.data, config.model.dtype))
            s.run(config.training.steps)
            if s.diverged:
                return PointResult(
                    i, j, config.name, "diverged", s.step_count, nan, nan, nan, nan,
                    time.perf_counter() - t0, s.divergence.message,
                )  # fmt: skip
            train = s.evaluate("train")
            test = s.evaluate("test")
    except Exception as e:  # noqa: BLE001 -- one broken net is a result, not a crash
        return PointResult(
            i, j, getattr(config, "name", "?"), "failed", 0, nan, nan, nan, nan,
            time.perf_counter() - t0,
            f"{type(e).__name__}: {e}",
        )  # fmt: skip
    return PointResult(
        i, j, config.name, "ok", s.step_count, *train, *test, time.perf_counter() - t0
    )


def _init_worker() -> None:
    """Ctrl-C is the parent's to handle: a worker killed by it would break the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ----------------------------------------------------------------------------- running


def _cost(config: ExperimentConfig) -> float:
    """Relative time of one net: layers x width^2 x steps (deepest first balances the pool)."""
    widths = config.model.hidden or [config.model.width] * config.model.depth
    return config.training.steps * sum(w * w for w in widths)


def tasks(plan: SweepPlan) -> list[tuple[int, int, ExperimentConfig]]:
    """Every point as (i, j, config), the most expensive first: the last net to finish
    is a cheap one, so both cores stay busy to the end."""
    todo = [(i, j, c) for i, row in enumerate(plan.grid.configs) for j, c in enumerate(row)]
    return sorted(todo, key=lambda t: -_cost(t[2]))


def warm_keys(plan: SweepPlan) -> set[tuple]:
    """The kernels' warm keys of the grid's nets (their dtypes on the data's layout)."""
    from engine.warmup import warm_key

    configs = [c for row in plan.grid.configs for c in row]
    return {warm_key(c, _dataset(plan.base.data, c.model.dtype)) for c in configs}


def iter_sweep(
    plan: SweepPlan,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[PointResult]:
    """Yield every point's :class:`PointResult` as it arrives from a pool of ``workers``
    processes (default: every core).  Stops, killing the pool, when ``cancel()`` turns
    true, when the consumer stops iterating, or on KeyboardInterrupt (re-raised).

    On a cold Numba cache one compile process fills it first (``notice`` is told), rather
    than every worker compiling the same kernels at once.

    A worker that dies (the OOM killer, a crash in compiled code) breaks the pool: the
    results that arrived before are yielded, then ``BrokenProcessPool`` is raised (a
    ``multiprocessing.Pool`` waited for good on the net that worker held).
    """
    if not precompile.wait_cached(warm_keys(plan), cancel, notice):
        return
    yield from iter_pool(train_point, tasks(plan), cancel, workers)


def iter_pool(
    fn: Callable,
    todo: list,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> Iterator:
    """Yield ``fn(task)`` of every task of ``todo`` as it arrives from a spawned pool of
    ``workers`` processes (default: every core; submitted in ``todo``'s order), the pool
    runner of :func:`iter_sweep` and of :mod:`engine.recurrent.lengths`.  ``fn`` is a
    module-level function that never raises.  Stops, killing the pool, as
    :func:`iter_sweep` says; a dead worker raises ``BrokenProcessPool`` after the results
    that arrived before."""
    n = max(1, min(workers or threads.cores(), len(todo)))
    pool = ProcessPoolExecutor(n, mp.get_context("spawn"), initializer=_init_worker)
    whole = False
    try:
        pending = {pool.submit(fn, t) for t in todo}  # queued in order: costly first
        while pending:
            if cancel is not None and cancel():
                return
            done, pending = futures.wait(pending, _POLL, futures.FIRST_COMPLETED)
            # what arrived before a break is yielded before the break is raised
            for f in sorted(done, key=lambda f: f.exception() is not None):
                yield f.result()
        whole = True
    finally:
        _stop(pool, whole)


def drain(results: Iterable, keep: Callable[[object], None], count: int) -> tuple[bool, str]:
    """Hand every result of a pool (:func:`iter_pool`) to ``keep``; (Ctrl-C stopped it, why
    the pool broke or "").  Neither the KeyboardInterrupt nor the break is re-raised."""
    n = 0
    try:
        for item in results:
            keep(item)
            n += 1
    except KeyboardInterrupt:
        return True, ""
    except BrokenProcessPool:
        return False, (
            f"a worker process died (killed, e.g. out of memory, or crashed) after "
            f"{n} of {count} nets had finished"
        )
    return False, ""


def _stop(pool: ProcessPoolExecutor, whole: bool) -> None:
    """Shut the pool down; unless every net is done, kill the nets still training first
    (``shutdown`` alone would wait for them)."""
    if not whole:
        # the executor has no public way to end running calls before Python 3.14
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(_JOIN)
    pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class PoolResult:
    """The results of a pool run so far (all of them unless ``cancelled``); ``failure`` says
    why the pool stopped early when it was not asked to (a worker process died).  A
    subclass says how many results make it whole (``count``)."""

    plan: object
    points: dict = field(default_factory=dict)
    cancelled: bool = False
    seconds: float = 0.0
    failure: str = ""

    @property
    def count(self) -> int:
        raise NotImplementedError

    @property
    def complete(self) -> bool:
        return len(self.points) == self.count


@dataclass
class SweepResult(PoolResult):
    """The points of a sweep so far, by (i, j) of the grid."""

    plan: SweepPlan

    @property
    def count(self) -> int:
        return self.plan.shape[0] * self.plan.shape[1]

    def grid_of(self, what: str) -> np.ndarray:
        """(n_x, n_y) of a PointResult field (NaN where no result yet)."""
        out = np.full(self.plan.shape, np.nan)
        for (i, j), p in self.points.items():
            out[i, j] = float(getattr(p, what))
        return out

    def trainable(self) -> np.ndarray:
        """(n_x, n_y) 1.0 trainable, 0.0 not (diverged, failed included), NaN not run."""
        out = np.full(self.plan.shape, np.nan)
        for (i, j), p in self.points.items():
            out[i, j] = float(p.trainable(self.plan.threshold))
        return out

    def diverged(self) -> list[PointResult]:
        return [p for p in self.points.values() if p.status != "ok"]

    def __repr__(self) -> str:
        n = self.plan.shape[0] * self.plan.shape[1]
        return f"SweepResult({len(self.points)}/{n} points, cancelled={self.cancelled})"


def run_sweep(
    plan: SweepPlan,
    progress: Callable[[Progress], None] | None = None,
    on_result: Callable[[PointResult], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
    notice: Callable[[str], None] | None = None,
) -> SweepResult:
    """Train the whole grid; ``on_result`` gets each point as it arrives, ``progress`` a
    :class:`~engine.report.Progress` in steps (finished nets x steps) after each;
    ``notice`` a line when the kernels must be compiled first.

    ``cancel()`` true or Ctrl-C: the pool stops and the result holds what had arrived
    (``cancelled`` set); the KeyboardInterrupt is not re-raised.  A worker process that
    died: the same, and ``failure`` names it and how many nets had finished.
    """
    out = SweepResult(plan)
    count = plan.shape[0] * plan.shape[1]
    total = count * plan.steps
    t0 = time.perf_counter()

    def report(loss: float) -> None:
        if progress is not None:
            name = f"{len(out.points)}/{count} nets"
            done = len(out.points) * plan.steps
            progress(Progress(name, 0, 1, done, total, time.perf_counter() - t0, loss))

    def keep(p: PointResult) -> None:
        out.points[(p.i, p.j)] = p
        if on_result is not None:
            on_result(p)
        report(p.train_loss)

    report(math.nan)
    out.cancelled, out.failure = drain(iter_sweep(plan, cancel, workers, notice), keep, count)
    out.cancelled = out.cancelled or not out.complete
    out.seconds = time.perf_counter() - t0
    return out
