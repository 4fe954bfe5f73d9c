"""What a training worker can drive: the "steppable" protocol (Qt-free).

:class:`engine.session.Session` (one run) and :class:`engine.compare.CompareSession`
(variants in lock-step) both satisfy it, and so does the pure-Python fake of the tests, so
one worker thread (:mod:`gui.worker`) plays, pauses, steps and paces any of them.  How a
steppable is built from a config, and reset (built again from the same config), is the
worker's adapter's business: see :class:`gui.worker.Adapter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Steppable(Protocol):
    """A model trained one mini-batch, one phase or one compiled chunk at a time."""

    #: mini-batches trained so far (lock-steps for a comparison)
    step_count: int

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batches in one pass over the training set."""
        ...

    @property
    def diverged(self) -> bool:
        """True once nothing is left to train (every run has diverged)."""
        ...

    @property
    def divergences(self) -> Mapping[str, Any]:
        """run name -> :class:`engine.session.Divergence`, for the runs that diverged."""
        ...

    def step(self) -> bool:
        """One mini-batch (finishing a half-done step-through first); False once diverged."""
        ...

    def step_phase(self) -> Any:
        """One phase of the step-through: forward k, loss, backward k or the update."""
        ...

    def next_phase(self) -> tuple[str, int]:
        """(phase, layer) the next :meth:`step_phase` runs; ("forward", 0) between steps."""
        ...

    def run(self, n_steps: int, *, seconds: float | None = None) -> int:
        """Up to ``n_steps`` steps, for about ``seconds`` at most; returns how many ran."""
        ...


class SessionState:
    """The properties a single-run session derives from its state (mixin of
    :class:`engine.session.Session` and :class:`engine.recurrent.RecurrentSession`).

    Expects ``step_count``, ``steps_per_epoch``, ``divergence``, ``config``, ``opt``, the
    step-through in progress ``_pending`` (None between steps) and ``step_phase()``.
    """

    @property
    def epoch(self) -> int:
        return self.step_count // self.steps_per_epoch

    def _finish_pending(self) -> bool | None:
        """Before a whole step: False once diverged; finish a half-done step-through
        (``_pending``) and say whether it went through; None when there is nothing to do."""
        if self.divergence is not None:
            return False
        if self._pending is None:
            return None
        while self._pending is not None and self.divergence is None:
            self.step_phase()
        return self.divergence is None

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    @property
    def divergences(self) -> dict[str, Any]:
        """{config name: divergence} once diverged, else {} (engine.steppable)."""
        return {} if self.divergence is None else {self.config.name: self.divergence}

    @property
    def learning_rate(self) -> float:
        return self.opt.learning_rate

    @learning_rate.setter
    def learning_rate(self, lr: float) -> None:
        """Live setting: applies from the next update on."""
        self.opt.learning_rate = lr
