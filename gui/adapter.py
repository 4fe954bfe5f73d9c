"""What a training worker trains and shows: the :class:`Adapter` a window gives the worker.

Qt-free (it runs in the worker thread and is tested without a display): the single run's
adapter is in :mod:`gui.controller`, the comparison's in :mod:`gui.compare_controller`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.config import ConfigError
from engine.i18n import QT_TRANSLATE_NOOP, translate
from gui.frames import FrameInfo


def build_error_message(e: BaseException, invalid: str, noun: str) -> str | None:
    """The user's message for an exception raised while building, None for a bug."""
    from engine.datasets import DataError

    # Qt-free (the worker thread): engine.i18n, which follows gui.i18n's language
    if isinstance(e, ConfigError):
        return f"{translate('Adapter', invalid)}:\n" + "\n".join(e.messages)
    if isinstance(e, DataError):
        return translate("Adapter", "Cannot load the data set: {0}").format(e)
    if isinstance(e, (ValueError, OSError, MemoryError)):
        return translate("Adapter", "Cannot build the {0}: {1}").format(
            translate("Adapter", noun), e
        )
    return None


class Adapter:
    """What a worker trains and shows.  Runs in the worker thread; override what differs.

    ``build(spec, load, warm)`` makes the steppable (``load(cfg)`` returns the cached data
    set, ``warm(cfg, dataset)`` has the kernels compiled in another process; the worker
    runs the sessions on NumPy until they are in);
    ``frame(target, spec, info)`` packs one frame.
    """

    noun = QT_TRANSLATE_NOOP("Adapter", "experiment")  # "Cannot build the experiment: ..."
    #: title of a ConfigError's messages
    invalid = QT_TRANSLATE_NOOP("Adapter", "Invalid experiment settings")
    thread = "training"  # "Internal error in the training thread: ..."

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def build(self, spec, load: Callable, warm: Callable):
        raise NotImplementedError

    def built(self, target, spec):
        """Per-build state; returns what the ``built`` signal carries."""
        return spec

    def sessions(self, target) -> list:
        """The Sessions inside ``target`` (they decide the BLAS threads)."""
        return [target]

    def frame(self, target, spec, info: FrameInfo):
        raise NotImplementedError

    def step(self, target) -> None:
        target.step()

    def step_phase(self, target) -> tuple[str, int] | None:
        """One phase; (phase, layer) for the ``phase`` signal, or None."""
        target.step_phase()
        return None

    def run(self, target, n: int, deadline: float) -> None:
        """Play up to ``n`` steps, until about ``deadline`` (time.perf_counter())."""
        target.run(n, seconds=deadline - time.perf_counter())

    def select(self, layer: int) -> None:
        """Which layer's arrays the frames carry (single runs only)."""

    def set_learning_rate(self, target, spec, lr: float):
        """Apply a live learning rate; returns the spec a reset rebuilds from."""
        raise ValueError(f"{self.noun}: no live learning rate")
