"""Compare mode: 2 to 8 variants of one experiment trained in lock-step.

A :class:`CompareSession` builds one :class:`~engine.session.Session` per variant (expanded
by :func:`engine.variants.expand`, the same rules as ``vglab compare``).  Variants that share
their data share ONE loaded :class:`~engine.datasets.Dataset` object, and with the same seed
and batch size they see the same mini-batch at every step::

    cs = CompareSession(base, ["model.activation=sigmoid,tanh,relu"])
    for _ in range(100):
        cs.step()                    # every variant takes one mini-batch
    table = cs.summaries()           # name -> engine.summary.RunSummary

Variants may differ in depth: a lock-step is one mini-batch for every variant, and in a
step-through a shallower variant waits at the end of its step for the deeper ones.

A recurrent base (``recurrent.cell`` not "none") makes one
:class:`~engine.recurrent.RecurrentSession` per variant instead (``recurrent.cell=rnn,lstm,gru``:
the app's Recurrent mode), on one shared set of sequences; it may run a single variant, and
the first-layer vanishing watch, an MLP measure, is left out.  No Qt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from engine.config import ConfigError, ExperimentConfig
from engine.session import LAYER_METRICS, Divergence, PhaseResult, Session, Snapshot

# re-exported: the windows and the worker import these from here
from engine.summary import (  # noqa: F401
    CSV_HEADER,
    DISPLAY_HEADER,
    VANISH_THRESHOLD,
    RunSummary,
    summarize,
    summary_rows,
)
from engine.theory_lines import TheoryLines, session_lines  # noqa: F401
from engine.variants import SUGGESTED_FIELDS, Variants, expand

MIN_VARIANTS = 2
#: the most variants one window tells apart by colour (the CLI runs more: engine.limits)
MAX_VARIANTS = 8
VARIABLE_FIELDS = SUGGESTED_FIELDS  # the fields the compare window offers first
_GRAD = LAYER_METRICS.index("grad_norm")


def expand_variants(
    base: ExperimentConfig, variants: Variants, minimum: int = MIN_VARIANTS
) -> dict[str, ExperimentConfig]:
    """name -> config of every variant (:func:`engine.variants.expand`), ``minimum`` (2) to 8
    of them.  Raises :class:`~engine.config.ConfigError` naming every problem.
    """
    return expand(base, variants, minimum=minimum, maximum=MAX_VARIANTS)


def _recurrent_sessions(configs: Mapping[str, ExperimentConfig]) -> dict:
    """name -> RecurrentSession of each variant; variants of the same task settings share
    one set of sequences (:func:`engine.recurrent.experiment.load_data`)."""
    from engine.recurrent import RecurrentSession
    from engine.recurrent.experiment import load_data

    if not all(c.is_recurrent for c in configs.values()):
        raise ConfigError(
            ['recurrent.cell: a comparison runs recurrent nets or MLPs, not both ("none")']
        )
    cache: dict = {}
    return {name: RecurrentSession(cfg, load_data(cfg, cache)) for name, cfg in configs.items()}


class CompareSession:
    """Several variants of one experiment, stepped together.

    A variant that diverges stops where it is; the others go on, and :attr:`divergences`
    reports it.  ``dataset``: the loaded data of ``base_config`` (variants with other data
    load their own, once per distinct data table).  A recurrent base runs 1 to 8
    :class:`~engine.recurrent.RecurrentSession` variants and loads its sequences itself.
    """

    def __init__(self, base_config: ExperimentConfig, variants: Variants, dataset=None):
        self.base = base_config
        self.recurrent = base_config.is_recurrent
        self.configs = expand_variants(base_config, variants, 1 if self.recurrent else MIN_VARIANTS)
        self.step_count = 0  # lock-steps: every variant has taken (or diverged in) this many
        #: first step at which each variant's first-layer gradient fell below the threshold
        self.vanish_steps: dict[str, int | None] = dict.fromkeys(self.configs)
        self._step_seconds = math.inf  # seconds per lock-step, measured by run
        if self.recurrent:
            self.sessions = _recurrent_sessions(self.configs)
            self.dataset = next(iter(self.sessions.values())).data
        else:
            self._mlp_sessions(dataset)

    def _mlp_sessions(self, dataset) -> None:
        """One Session per variant; one loaded data set per distinct data table."""
        from engine.datasets import load_dataset

        loaded = {} if dataset is None else {self._data_key(self.base): dataset}
        self.sessions: dict[str, Session] = {}
        for name, cfg in self.configs.items():
            key = self._data_key(cfg)
            if key not in loaded:
                loaded[key] = load_dataset(*key)
            self.sessions[name] = Session(cfg, loaded[key])
        self.dataset = loaded.get(self._data_key(self.base)) or next(iter(loaded.values()))

    @staticmethod
    def _data_key(config: ExperimentConfig) -> tuple:
        return (config.data, config.model.dtype)  # in the engine's dtype: no per-session copy

    def __repr__(self) -> str:
        return (
            f"CompareSession({list(self.sessions)}, step={self.step_count}, "
            f"diverged={list(self.divergences)})"
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.sessions)

    @property
    def depths(self) -> dict[str, int]:
        """name -> number of hidden layers (variants may differ)."""
        return {n: s.depth for n, s in self.sessions.items()}

    @property
    def depth(self) -> int:
        """The deepest variant's number of hidden layers."""
        return max(self.depths.values())

    @property
    def steps_per_epoch(self) -> int:
        """The longest epoch of the variants (they may differ in batch or data size): an
        "epoch" command trains until every variant has seen all its data."""
        return max(s.steps_per_epoch for s in self.sessions.values())

    @property
    def divergences(self) -> dict[str, Divergence]:
        """name -> where it diverged, for the variants that did."""
        return {n: s.divergence for n, s in self.sessions.items() if s.divergence is not None}

    @property
    def active(self) -> tuple[str, ...]:
        """Variants still training."""
        return tuple(n for n, s in self.sessions.items() if s.divergence is None)

    @property
    def diverged(self) -> bool:
        """True once every variant has diverged: nothing left to train (engine.steppable)."""
        return not self.active

    def _waiting(self, s: Session) -> bool:
        """Diverged, or done with the current lock-step (a shallow one in a step-through)."""
        return s.divergence is not None or s.step_count > self.step_count

    def _after_step(self, name: str, s: Session) -> None:
        if self.recurrent:  # the first-layer watch is an MLP measure (s.mtab)
            return
        if self.vanish_steps[name] is None and s.divergence is None:
            g = s.mtab[0, _GRAD]
            if g < VANISH_THRESHOLD:  # NaN compares False: a divergence is not vanishing
                self.vanish_steps[name] = s.step_count

    def step(self) -> bool:
        """One mini-batch for every variant still training (finishing a half-done
        step-through first).  False once all have diverged."""
        if not self.active:
            return False
        for name, s in self.sessions.items():
            if not self._waiting(s):
                s.step()
                self._after_step(name, s)
        self.step_count += 1
        return bool(self.active)

    def run(self, n_steps: int, seconds: float | None = None) -> int:
        """Up to ``n_steps`` lock-steps; returns how many ran (as ``step()`` calls returning
        True would count them).

        Each variant runs its share through the many-step kernel (:meth:`Session.run`), so
        the numbers, divergences and vanishing steps equal those of ``n_steps`` calls of
        :meth:`step`.  ``seconds``: stop after about this long (at least one lock-step).
        """
        done, t0 = 0, time.perf_counter()
        while done < n_steps and self.active:
            size = n_steps - done
            if seconds is not None:
                left = seconds - (time.perf_counter() - t0)
                if done and left <= 0:
                    break
                size = min(size, max(1, int(left / self._step_seconds)))
            t, target = time.perf_counter(), self.step_count + size
            ends = [
                self._run_variant(name, s, target)
                for name, s in self.sessions.items()
                if s.divergence is None
            ]
            ran = max(ends) - self.step_count
            self._step_seconds = (time.perf_counter() - t) / max(ran, 1)
            self.step_count += ran
            done += ran if self.active else ran - 1  # the step that ended the last variant
        return done

    def _run_variant(self, name: str, s: Session, target: int) -> int:
        """Steps of one variant up to step ``target``, stopping once at its vanishing step to
        note it; returns its step count afterwards (a diverging step included)."""
        while self.recurrent and s.divergence is None and s.step_count < target:
            s.run(target - s.step_count)
        while s.divergence is None and s.step_count < target:
            watching = self.vanish_steps[name] is None
            watch = (0, "grad_norm", VANISH_THRESHOLD) if watching else None
            before = s.step_count
            s.run(target - s.step_count, watch=watch)
            if watching and s.step_count > before:
                self._after_step(name, s)
        return s.step_count

    def step_phase(self) -> dict[str, PhaseResult | None]:
        """One phase (forward k / loss / backward k / update) for every variant still in the
        current lock-step; None for the others (diverged, or shallower and already done).

        The lock-step ends when every variant has finished its step.
        """
        results: dict[str, PhaseResult | None] = {}
        for name, s in self.sessions.items():
            if self._waiting(s):
                results[name] = None
                continue
            before = s.step_count
            results[name] = s.step_phase()
            if s.step_count != before:
                self._after_step(name, s)
        if any(r is not None for r in results.values()) and all(
            self._waiting(s) for s in self.sessions.values()
        ):
            self.step_count += 1
        return results

    def next_phase(self) -> tuple[str, int]:
        """(phase, layer) the next :meth:`step_phase` runs (of the first variant that runs)."""
        for s in self.sessions.values():
            if not self._waiting(s):
                return s.next_phase()
        return ("forward", 0)

    def snapshots(self, with_history: bool = True) -> dict[str, Snapshot]:
        """name -> Snapshot; the history holds grad_norm only (cheap enough for 30 fps)."""
        return {n: s.snapshot(with_history) for n, s in self.sessions.items()}

    def summaries(self, snapshots: Mapping[str, Snapshot] | None = None) -> dict[str, RunSummary]:
        """name -> the row of the comparison table (from ``snapshots`` if given); MLP variants
        only (a recurrent comparison's rows: engine.recurrent.experiment.RecurrentResult)."""
        snaps = snapshots if snapshots is not None else self.snapshots()
        return {n: summarize(n, snaps[n], vanish_step=self.vanish_steps[n]) for n in snaps}
