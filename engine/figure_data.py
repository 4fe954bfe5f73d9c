"""What the figures of one run need: plain arrays taken from a Snapshot, no Qt.

Qt-free so that the CLI, the compare window and tests build it without a display;
:mod:`gui.figures` draws it (``build_figures``/``save_figures``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _empty(*shape: int) -> np.ndarray:
    return np.zeros(shape, dtype=np.float64)


@dataclass
class FigureData:
    """What the figures need from one run: plain arrays, no engine objects."""

    name: str
    labels: tuple[str, ...]  # (L+1,) "hidden 1" .. "output"
    grad_norm: np.ndarray  # (L+1,) final ||dL/dW_k||
    history_steps: np.ndarray = field(default_factory=lambda: _empty(0))  # (n,)
    history_grad_norm: np.ndarray = field(default_factory=lambda: _empty(0, 0))  # (n, L+1)
    loss_steps: np.ndarray = field(default_factory=lambda: _empty(0))  # (n,)
    loss: np.ndarray = field(default_factory=lambda: _empty(0))  # (n,)
    accuracy: np.ndarray = field(default_factory=lambda: _empty(0))  # (n,)
    eval_steps: np.ndarray = field(default_factory=lambda: _empty(0))  # (m,)
    test_loss: np.ndarray = field(default_factory=lambda: _empty(0))  # (m,)
    test_accuracy: np.ndarray = field(default_factory=lambda: _empty(0))  # (m,)

    @classmethod
    def from_snapshot(cls, name: str, snap) -> FigureData:
        """From an ``engine.session.Snapshot`` (taken with history; without, curves are empty)."""
        labels = tuple(snap.layer_labels)
        n_layers = len(labels)

        def arr(a, *shape):
            return _empty(*shape) if a is None else np.array(a, dtype=np.float64)

        scalars = arr(snap.history_scalars, 0, 4)
        evals = arr(snap.eval_scalars, 0, 2)
        steps = arr(snap.history_steps, 0)
        return cls(
            name=name,
            labels=labels,
            grad_norm=np.array(snap.layers["grad_norm"], dtype=np.float64),
            history_steps=steps,
            history_grad_norm=arr(snap.history_grad_norm, 0, n_layers),
            loss_steps=steps.copy(),
            loss=scalars[:, 0].copy(),
            accuracy=scalars[:, 1].copy(),
            eval_steps=arr(snap.eval_steps, 0),
            test_loss=evals[:, 0].copy(),
            test_accuracy=evals[:, 1].copy(),
        )

    def __repr__(self) -> str:
        return (
            f"FigureData({self.name!r}, depth={self.depth}, "
            f"history={len(self.history_steps)}, evals={len(self.eval_steps)})"
        )

    @property
    def depth(self) -> int:
        """Number of hidden layers L."""
        return len(self.labels) - 1
