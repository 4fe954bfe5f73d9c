"""What every data module shares: the error a user can cause, the feature layout, the
memory limits of a read and the chunked passes over large arrays."""

from __future__ import annotations

import numpy as np

__all__ = ["MISSING_TOKENS", "DataError"]

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})


class DataError(ValueError):
    """A data set cannot be loaded; the message names the file/field and what was expected."""


def as_features(X) -> np.ndarray:
    """The engine's feature layout: float64, C-contiguous."""
    return np.ascontiguousarray(X, dtype=np.float64)


def class_sizes(n: int, k: int) -> list[int]:
    """Split n examples as evenly as possible over k classes."""
    return [n // k + (c < n % k) for c in range(k)]


def class_labels(sizes: list[int]) -> np.ndarray:
    """(sum(sizes),) int64: sizes[0] zeros, then sizes[1] ones, ..."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def data_byte_limit() -> int:
    """Largest raw MNIST array read: its float64 copies (x 16) must fit the memory limit."""
    from engine.limits import memory_limit

    return memory_limit() // 16


CHUNK = 1 << 20  # elements per chunk of the in-place passes: 8 MB of float64 scratch at most


def row_chunks(X: np.ndarray):
    """Row slices of ``X`` holding about ``CHUNK`` elements each (at least one row)."""
    step = max(1, CHUNK // max(1, X.shape[1]))
    for lo in range(0, X.shape[0], step):
        yield slice(lo, lo + step)
