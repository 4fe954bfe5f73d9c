"""Synthetic sequence tasks whose length is a setting: the gradient must travel ``seq_len`` steps.

* ``adding`` (Hochreiter & Schmidhuber 1997, experiment 4; the form of Le, Jaitly & Hinton
  2015): each step carries a number drawn from U(0, 1) and a marker; exactly two steps are
  marked, one in each half.  Target: the sum of the two marked numbers.  Always answering 1
  gives the baseline MSE Var(u1 + u2) = 2/12 = 0.1667 (:data:`ADDING_BASELINE_MSE`).
* ``memory`` (the recall task of Bengio, Simard & Frasconi 1994 and Hochreiter & Schmidhuber
  1997, experiment 2): step 0 shows one of ``n_symbols`` symbols (one-hot), steps 1 .. T-2
  show random distractor symbols of the same alphabet, the last step shows a query marker.
  Target: the first symbol (chance = 1 / ``n_symbols``).

Seeded by ``data.seed``; ``data.n_samples`` sequences, ``data.test_fraction`` of them held out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.config import ExperimentConfig

#: the adding problem's MSE when always answering the mean sum 1.0: Var(U1 + U2) = 1/6
ADDING_BASELINE_MSE = 1.0 / 6.0


@dataclass(frozen=True)
class SequenceData:
    """Sequences (n, T, n_features) and their targets, split into train and test."""

    name: str
    task: str  # "regression" (adding) or "classification" (memory)
    X_train: np.ndarray  # (n_train, T, n_features)
    y_train: np.ndarray  # (n_train, 1) float64 or (n_train,) int64
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int  # 0 for regression
    description: str

    @property
    def seq_len(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_features(self) -> int:
        return self.X_train.shape[2]

    def __repr__(self) -> str:
        return f"SequenceData({self.name!r}, train={self.X_train.shape}, test={self.X_test.shape})"


def adding(n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, T, 2), y (n, 1)): numbers in channel 0, the two markers in channel 1."""
    X = np.zeros((n, T, 2))
    X[:, :, 0] = rng.uniform(0.0, 1.0, size=(n, T))
    half = T // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    rows = np.arange(n)
    X[rows, first, 1] = 1.0
    X[rows, second, 1] = 1.0
    y = (X[rows, first, 0] + X[rows, second, 0]).reshape(n, 1)
    return X, y


def memory(n: int, T: int, n_symbols: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, T, n_symbols + 1), y (n,)): the symbol to recall, distractors, the query."""
    X = np.zeros((n, T, n_symbols + 1))
    symbols = rng.integers(0, n_symbols, size=(n, T - 1))
    rows = np.arange(n)[:, None]
    X[rows, np.arange(T - 1)[None, :], symbols] = 1.0
    X[:, T - 1, n_symbols] = 1.0  # the query marker
    return X, symbols[:, 0].astype(np.int64)


def load_task(config: ExperimentConfig, dtype="float64") -> SequenceData:
    """The sequences of ``config.recurrent.task`` (validated config assumed)."""
    r, d = config.recurrent, config.data
    rng = np.random.default_rng([d.seed, 11])
    n, T = d.n_samples, r.seq_len
    if r.task == "adding":
        X, y = adding(n, T, rng)
        n_classes, kind = 0, "regression"
        text = f"adding problem, {T} steps: the sum of the 2 marked numbers (baseline MSE 0.167)"
    else:
        X, y = memory(n, T, r.n_symbols, rng)
        n_classes, kind = r.n_symbols, "classification"
        text = (
            f"memory task, {T} steps: recall the first of {r.n_symbols} symbols "
            f"(chance {1 / r.n_symbols:.3f})"
        )
    n_test = int(round(n * d.test_fraction))
    X = X.astype(dtype)
    cut = n - n_test
    return SequenceData(r.task, kind, X[:cut], y[:cut], X[cut:], y[cut:], n_classes, text)
