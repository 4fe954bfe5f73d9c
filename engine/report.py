"""What the command line tells a user about a run: progress, the data and the model.

:class:`Progress` is what the runner (:mod:`engine.experiments`) reports about every 0.1 s;
:class:`ProgressReporter` draws it as a bar on a terminal or as periodic log lines.  No Qt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


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


def clock(seconds: float) -> str:
    """``h:mm:ss`` (``--:--`` when unknown)."""
    if not math.isfinite(seconds):
        return "--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class ProgressReporter:
    """Progress of the runs on ``stream``: a redrawn bar on a terminal, else periodic lines.

    ``mode`` is ``"bar"``, ``"log"`` or ``"off"``.  Called with an
    :class:`Progress` about every 0.1 s by the runner.
    """

    BAR = 24
    LOG_EVERY = 10.0  # seconds between log lines (and at every 10% of a run)

    def __init__(self, stream, mode: str):
        self.stream = stream
        self.mode = mode
        self._last_log = -math.inf
        self._last_tenth = -1
        self._open = False

    @staticmethod
    def _label(p) -> str:
        return f"[{p.index + 1}/{p.count} {p.name}]" if p.count > 1 else f"[{p.name}]"

    def _text(self, p) -> str:
        frac = p.done / p.total if p.total else 1.0
        loss = f"loss {p.loss:.4g}" if math.isfinite(p.loss) else "loss -"
        return (
            f"{p.done}/{p.total} steps ({frac:4.0%})  {p.rate:,.0f} steps/s  "
            f"ETA {clock(p.eta)}  {loss}"
        )

    def __call__(self, p) -> None:
        if self.mode == "bar":
            frac = p.done / p.total if p.total else 1.0
            filled = int(self.BAR * frac)
            bar = "#" * filled + "-" * (self.BAR - filled)
            self.stream.write(f"\r\x1b[2K{self._label(p)} [{bar}] {self._text(p)}")
            self.stream.flush()
            self._open = True
        elif self.mode == "log":
            tenth = int(10 * p.done / p.total) if p.total else 10
            now = time.monotonic()
            if p.done == 0:
                self._last_tenth, self._last_log = 0, now
                print(f"{self._label(p)} start: {p.total} steps", file=self.stream, flush=True)
            elif tenth > self._last_tenth or now - self._last_log >= self.LOG_EVERY:
                self._last_tenth, self._last_log = tenth, now
                print(f"{self._label(p)} {self._text(p)}", file=self.stream, flush=True)

    def end(self) -> None:
        """Finish the current bar line (after a run ends, however it ends)."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def __repr__(self) -> str:
        return f"ProgressReporter(mode={self.mode!r})"


def describe_model(config, dataset) -> str:
    from engine.losses import n_outputs

    layers = config.model.layers()
    n_targets = 1 if dataset.y_train.ndim == 1 else dataset.y_train.shape[1]
    n_out = n_outputs(config.model.loss, dataset.task, dataset.n_classes, n_targets)
    widths = [dataset.n_features, *(h.width for h in layers), n_out]
    acts = sorted({h.activation for h in layers})
    shape = "-".join(map(str, widths))
    if len(layers) > 12:  # a 100000-layer net must not print a 200 kB line
        shape = (
            f"{'-'.join(map(str, widths[:3]))}-...-{'-'.join(map(str, widths[-3:]))} "
            f"[{len(layers)} hidden layers]"
        )
    return (
        f"{shape} ({', '.join(acts) or 'no hidden layers'}), "
        f"{config.model.loss}, init {config.model.init}"
    )


def describe_data(dataset) -> str:
    kind = f"{dataset.n_classes} classes" if dataset.task == "classification" else "regression"
    return (
        f"{dataset.name}: {len(dataset.X_train)} train / {len(dataset.X_test)} test, "
        f"{dataset.n_features} features, {kind}, scaling {dataset.scaling}"
    )
