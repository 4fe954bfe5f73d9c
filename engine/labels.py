"""Layer names, built in one place: ``hidden 1`` .. ``hidden L``, ``output``; ``h3``, ``out``.

The engine's snapshots, the CSV headers (``grad_norm[hidden 1]``), the charts' ticks and the
step-through's phase text all name layers through these functions.  No Qt here.
"""

from __future__ import annotations

OUTPUT = "output"
HIDDEN = "hidden"


def layer_label(k: int, depth: int) -> str:
    """Human name of layer k (0-based) of a net with ``depth`` hidden layers:
    ``hidden 1`` .. ``hidden L``, then ``output`` (k == depth)."""
    return OUTPUT if k == depth else f"{HIDDEN} {k + 1}"


def layer_labels(depth: int) -> tuple[str, ...]:
    """(L+1,) names of every layer of a net with ``depth`` hidden layers."""
    return tuple(layer_label(k, depth) for k in range(depth + 1))


def short_layer_label(label: str) -> str:
    """``hidden 3`` -> ``h3``, ``output`` -> ``out``; anything else unchanged."""
    if label.startswith(f"{HIDDEN} "):
        return "h" + label[len(HIDDEN) + 1 :]
    if label == OUTPUT:
        return "out"
    return label


def from_output_labels(n: int) -> tuple[str, ...]:
    """(n,) names counted back from the output (``out-2``, ``out-1``, ``output``): the common
    axis of runs of different depths, lined up where the backward pass starts."""
    return tuple(f"out\u2212{k}" for k in range(n - 1, 0, -1)) + (OUTPUT,)


def metric_column(metric: str, label: str) -> str:
    """CSV column of one per-layer metric: ``grad_norm[hidden 1]``."""
    return f"{metric}[{label}]"
