"""Size limits: what an experiment will allocate, checked before anything is allocated.

:func:`estimate_memory` is the one estimate of an experiment's peak memory (data, network,
optimiser, workspaces, history).  ``validate`` (with the data set's nominal size), ``vglab
check`` and every :class:`~engine.session.Session` (with the real data) refuse a config whose
estimate exceeds :func:`memory_limit`, naming the field that drives it.

No NumPy allocation and no import of the kernels' compiled code happens here: only arithmetic
on Python integers, which cannot overflow however large a field is.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.codes import N_WORKSPACE_KINDS as _N_KINDS
from engine.metrics import N_METRICS as _N_METRICS

if TYPE_CHECKING:  # annotations only: engine.config imports this module
    from engine.config import ExperimentConfig

GIB = 1024**3
#: the default ceiling, lowered to 3/4 of the physical memory on smaller machines
DEFAULT_MEMORY_LIMIT = 8 * GIB
#: environment variable overriding the limit, e.g. ``VGLAB_MEMORY_LIMIT=16G`` (K, M, G, T)
MEMORY_LIMIT_ENV = "VGLAB_MEMORY_LIMIT"
#: most variants one comparison may run (``--vary`` options multiply)
MAX_VARIANTS = 64

_EVAL_CHUNK = 1024
#: (n_examples, n_features, n_outputs) of the data sets whose size is known from the name;
#: synthetic sets use ``data.n_samples`` and 2 features
_NOMINAL = {"digits": (1797, 64, 10), "breast_cancer": (569, 30, 2), "mnist": (70000, 784, 10)}
_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": GIB, "T": 1024**4}


def _physical_memory() -> int | None:
    """Installed RAM in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _parse_size(text: str) -> int | None:
    """``"512M"`` / ``"2G"`` / ``"1e9"`` -> bytes; None if unreadable."""
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    try:
        value = float(text[: len(text) - len(unit)])
    except ValueError:
        return None
    return int(value * _UNITS[unit]) if math.isfinite(value) and value > 0 else None


def memory_limit() -> int:
    """Bytes an experiment may use: ``$VGLAB_MEMORY_LIMIT``, else 8 GiB or 3/4 of the RAM."""
    env = _parse_size(os.environ.get(MEMORY_LIMIT_ENV, ""))
    if env:
        return env
    ram = _physical_memory()
    return min(DEFAULT_MEMORY_LIMIT, ram * 3 // 4) if ram else DEFAULT_MEMORY_LIMIT


def format_bytes(n: int) -> str:
    """``14396866560`` -> ``13.4 GiB`` (any size, even beyond what a float holds)."""
    for unit, scale in (("TiB", 1024**4), ("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            if n // scale >= 10**15:
                return f"10^15 {unit} or more"
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak bytes of an experiment, split by what holds them (Python ints: never overflow)."""

    data: int  # examples, their scaled copies and the targets
    network: int  # parameters, gradients, optimiser state, initialisation scratch
    workspace: int  # per-batch intermediate arrays (training and evaluation)
    history: int  # the metric history and the copies a summary takes of it

    @property
    def total(self) -> int:
        return self.data + self.network + self.workspace + self.history

    def largest(self) -> str:
        """The part that costs most (the one to cut down)."""
        parts = {
            "data": self.data,
            "network": self.network,
            "workspace": self.workspace,
            "history": self.history,
        }
        return max(parts, key=parts.get)

    def __repr__(self) -> str:
        return f"MemoryEstimate(total={format_bytes(self.total)}, largest={self.largest()})"


def _widths(model) -> list[int] | tuple[int, int]:
    """Hidden widths: the list from ``model.hidden``, else (depth, width) without a list."""
    if model.hidden:
        return [h.width for h in model.hidden]
    return (max(model.depth, 0), max(model.width, 0))


def _network_sizes(model, n_in: int, n_out: int) -> tuple[int, int, int]:
    """(parameters, total output width, largest weight matrix) of the MLP, by arithmetic."""
    widths = _widths(model)
    if isinstance(widths, tuple):  # depth equal layers: closed form, no per-layer list
        depth, w = widths
        if depth == 0:
            return n_in * n_out + n_out, n_out, n_in * n_out
        params = (n_in * w + w) + (depth - 1) * (w * w + w) + (w * n_out + n_out)
        biggest = max(n_in * w, w * w if depth > 1 else 0, w * n_out)
        return params + 3 * depth * w, depth * w + n_out, biggest
    sizes = [n_in, *widths, n_out]
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    params = sum(a * b + b for a, b in pairs) + 3 * sum(widths)  # + batch-norm, prelu
    return params, sum(sizes[1:]), max(a * b for a, b in pairs)


def _data_sizes(
    config: ExperimentConfig, shape: tuple[int, int, int] | None
) -> tuple[int, int, int]:
    """(examples, features, outputs): the real ``shape`` if known, else the nominal one."""
    if shape is not None:
        return shape
    d = config.data
    if d.name in _NOMINAL:
        return _NOMINAL[d.name]
    if d.name == "csv":
        return (0, 1, 2)  # unknown until read: the Session checks again with the real data
    return (max(d.n_samples, 0), 2, max(d.n_classes, 2))


def estimate_memory(
    config: ExperimentConfig, shape: tuple[int, int, int] | None = None
) -> MemoryEstimate:
    """Peak memory of ``config``; ``shape`` = (examples, features, outputs) of the real data.

    Counts every array the engine allocates, rounded up: 4 copies of the data (read, split,
    scaled, the session's own dtype), parameters x 4 (weights, gradients, two optimiser
    moments) plus initialisation scratch, a training and an evaluation workspace, and the
    history sized by the steps the run will record (at most ``logging.history`` rows).
    """
    m, t = config.model, config.training
    n, n_in, n_out = _data_sizes(config, shape)
    item = 4 if m.dtype == "float32" else 8
    params, total_width, biggest = _network_sizes(model=m, n_in=max(n_in, 1), n_out=max(n_out, 1))
    data = n * (n_in + n_out) * 8 * 4
    network = params * item * 4 + biggest * 8 * 3 + 4 * total_width * item
    batch = max(1, min(max(t.batch_size, 1), n)) if n else max(t.batch_size, 1)
    # (n capped before the float product: a 5000-digit n_samples must not overflow a float)
    n_test = (
        10000
        if config.data.name == "mnist"
        else math.ceil(min(n, 10**9) * config.data.test_fraction)
    )
    workspace = _N_KINDS * total_width * item * (2 * batch + min(_EVAL_CHUNK, n_test))
    layers = _n_layers(m) + 1
    rows = _history_rows(config, n, batch)
    history = rows * (layers * _N_METRICS + 8) * 8 * 3  # buffer, view copy, logged rows
    return MemoryEstimate(data, network, workspace, history)


def _n_layers(model) -> int:
    return len(model.hidden) if model.hidden else max(model.depth, 0)


def _history_rows(config: ExperimentConfig, n: int, batch: int) -> int:
    """Rows the history will hold: ``logging.history``, or fewer if the run is shorter."""
    t = config.training
    per_epoch = max(1, -(-n // batch))  # integer ceil: n may have thousands of digits
    steps = t.steps if t.steps > 0 else max(t.epochs, 1) * per_epoch
    return max(2, min(config.logging.history, steps + 1))


def memory_problem(
    config: ExperimentConfig, shape: tuple[int, int, int] | None = None
) -> str | None:
    """``"field: needs X, more than the limit Y ..."`` when ``config`` cannot fit, else None."""
    est = estimate_memory(config, shape)
    limit = memory_limit()
    if est.total <= limit:
        return None
    field = _culprit(config, est)
    return (
        f"{field}: this experiment needs about {format_bytes(est.total)} of memory "
        f"(mostly {est.largest()}), more than the limit of {format_bytes(limit)}; make it "
        f"smaller (or raise the limit with the environment variable {MEMORY_LIMIT_ENV})"
    )


def _culprit(config: ExperimentConfig, est: MemoryEstimate) -> str:
    """The config field to name for the largest part of an estimate."""
    m = config.model
    part = est.largest()
    if part == "data":
        return "data.n_samples" if config.data.name not in (*_NOMINAL, "csv") else "data.name"
    if part == "history":
        return "logging.history"
    if part == "workspace" and config.training.batch_size > _EVAL_CHUNK:
        return "training.batch_size"
    if m.hidden:
        return "model.hidden"
    return "model.width" if m.width >= m.depth else "model.depth"
