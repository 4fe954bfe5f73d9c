"""A fake steppable and its adapter: GUI tests of the worker without Numba (pure Python).

:class:`FakeSteppable` satisfies :class:`engine.steppable.Steppable` by counting: a step is
``n_phases`` phases, a run diverges at ``diverge_at``.  :class:`FakeAdapter` builds one from a
:class:`FakeSpec` (or raises the spec's ``error``) and packs :class:`FakeFrame` objects; it is
duck-typed like :class:`gui.worker.Adapter` so this module imports no Qt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

PHASES = ("forward", "loss", "backward", "update")


@dataclass(frozen=True)
class FakeDivergence:
    step: int


class FakeSteppable:
    """Counts steps and phases; ``step_seconds`` of busy time per step (0: instant)."""

    def __init__(
        self,
        steps_per_epoch: int = 10,
        n_phases: int = 4,
        diverge_at: int | None = None,
        step_seconds: float = 0.0,
    ):
        self.step_count = 0
        self.steps_per_epoch = steps_per_epoch
        self.n_phases = n_phases
        self.diverge_at = diverge_at
        self.step_seconds = step_seconds
        self.divergence: FakeDivergence | None = None
        self.phase_index = 0  # phases done of the current step-through
        self.run_calls = 0

    def __repr__(self) -> str:
        return f"FakeSteppable(step={self.step_count}, phase={self.phase_index})"

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    @property
    def divergences(self) -> dict[str, FakeDivergence]:
        return {} if self.divergence is None else {"fake": self.divergence}

    def _finish_step(self) -> None:
        if self.step_seconds:
            time.sleep(self.step_seconds)
        self.step_count += 1
        if self.diverge_at is not None and self.step_count >= self.diverge_at:
            self.divergence = FakeDivergence(self.step_count)

    def step(self) -> bool:
        if self.diverged:
            return False
        if self.phase_index:  # a half-done step-through: finish it
            while self.phase_index and not self.diverged:
                self.step_phase()
        else:
            self._finish_step()
        return not self.diverged

    def next_phase(self) -> tuple[str, int]:
        return PHASES[self.phase_index % len(PHASES)], self.phase_index

    def step_phase(self) -> tuple[str, int] | None:
        if self.diverged:
            return None
        done = self.next_phase()
        self.phase_index += 1
        if self.phase_index == self.n_phases:
            self.phase_index = 0
            self._finish_step()
        return done

    def run(self, n_steps: int, *, seconds: float | None = None) -> int:
        self.run_calls += 1
        done, t0 = 0, time.perf_counter()
        while done < n_steps and not self.diverged:
            if done and seconds is not None and time.perf_counter() - t0 >= seconds:
                break
            done += self.step()
        return done


@dataclass(frozen=True)
class FakeSpec:
    """What the fake adapter builds: a FakeSteppable with these settings, or ``error``."""

    name: str = "fake"
    steps_per_epoch: int = 10
    n_phases: int = 4
    diverge_at: int | None = None
    step_seconds: float = 0.0
    error: BaseException | None = None


@dataclass(frozen=True)
class FakeFrame:
    generation: int
    serial: int
    reason: str
    running: bool
    step: int
    spec_name: str


class FakeAdapter:
    """Builds FakeSteppables; records the learning rates and layers it was given."""

    noun = "fake"
    invalid = "Invalid fake settings"
    thread = "fake"

    def __init__(self):
        self.selected = 0
        self.built_count = 0

    def build(self, spec: FakeSpec, load, warm) -> FakeSteppable:
        if spec.error is not None:
            raise spec.error
        return FakeSteppable(
            spec.steps_per_epoch, spec.n_phases, spec.diverge_at, spec.step_seconds
        )

    def built(self, target, spec: FakeSpec) -> FakeSpec:
        self.built_count += 1
        return spec

    def sessions(self, target) -> list:
        return []  # no matrix products: one BLAS thread

    def frame(self, target, spec: FakeSpec, info) -> FakeFrame:
        return FakeFrame(
            info.generation, info.serial, info.reason, info.running, target.step_count, spec.name
        )

    def step(self, target) -> None:
        target.step()

    def step_phase(self, target) -> tuple[str, int] | None:
        return target.step_phase()

    def run(self, target, n: int, deadline: float) -> None:
        target.run(n, seconds=deadline - time.perf_counter())

    def select(self, layer: int) -> None:
        self.selected = layer

    def set_learning_rate(self, target, spec: FakeSpec, lr: float) -> FakeSpec:
        return FakeSpec(**{**spec.__dict__, "name": f"{spec.name} lr={lr:g}"})
