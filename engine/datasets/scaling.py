"""The train/test split and feature scaling, with statistics of the training split only.

Scaling works in place by chunks of rows, so a large set (MNIST) is never copied whole.
"""

from __future__ import annotations

import numpy as np

from engine.config.choices import SCALINGS
from engine.datasets.common import DataError, as_features, row_chunks

__all__ = [
    "IMAGE_MAX",
    "describe_scaling",
    "minmax",
    "resolve_scaling",
    "scale",
    "scale_",
    "standardize",
    "train_test_split",
]

#: the data sets whose features are pixel intensities, and the largest intensity of each
IMAGE_MAX = {"mnist": 255, "digits": 16}


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_fraction: float, rng
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle with ``rng`` and cut off round(n * test_fraction) test examples.

    A positive fraction keeps at least one example on each side.  Not stratified.
    """
    rng = np.random.default_rng(rng)
    n = X.shape[0]
    n_test = round(n * test_fraction)
    if test_fraction > 0 and n >= 2:
        n_test = min(max(n_test, 1), n - 1)
    order = rng.permutation(n)
    test, train = order[:n_test], order[n_test:]
    return (
        as_features(X[train]),
        np.ascontiguousarray(y[train]),
        as_features(X[test]),
        np.ascontiguousarray(y[test]),
    )


def _column_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std (population) of ``X`` in float64, by row chunks.

    Two passes (mean, then squared deviations) keep the precision of ``X.std(axis=0)`` without
    its full-size float64 temporaries; a set of one chunk gives exactly NumPy's numbers.
    """
    n = X.shape[0]
    total = np.zeros(X.shape[1])
    for rows in row_chunks(X):
        total += X[rows].sum(axis=0, dtype=np.float64)
    mean = total / n
    squares = np.zeros(X.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):  # near 1e308: callers check finiteness
        for rows in row_chunks(X):
            d = X[rows].astype(np.float64) - mean
            squares += (d * d).sum(axis=0)
    return mean, np.sqrt(squares / n)


def _affine_(X: np.ndarray, shift: np.ndarray, divisor: np.ndarray) -> None:
    """X <- (X - shift) / divisor in place, by row chunks (no full-size temporary)."""
    for rows in row_chunks(X):
        part = X[rows]
        np.subtract(part, shift, out=part, casting="same_kind")
        np.divide(part, divisor, out=part, casting="same_kind")


def _refuse_overflow(*stats_and_scaling) -> None:
    """DataError naming the feature columns whose statistics overflow float64 (values near
    1e308): scaled with an infinite mean, std or range they would become 0 or NaN unseen."""
    *stats, scaling = stats_and_scaling
    bad = ~np.logical_and.reduce([np.isfinite(a) for a in stats])
    if bad.any():
        cols = ", ".join(str(i) for i in np.flatnonzero(bad)[:10])
        raise DataError(
            f"data.scaling: feature column(s) {cols} hold values too large to "
            f"{scaling} in float64 (their statistics overflow); rescale them, or "
            'use data.scaling = "raw" to feed them as they are'
        )


def _standardize_(X_train: np.ndarray, X_test: np.ndarray) -> None:
    """In place: zero mean, unit variance per feature, with the TRAIN mean/std for both."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = _column_stats(X_train)
    _refuse_overflow(mean, std, "standardize")
    # Relative threshold: a constant column can show std ~ 1e-17 from rounding of the mean.
    tiny = 1e-12 * np.maximum(1.0, np.abs(mean))
    std = np.where(std > tiny, std, 1.0)
    _affine_(X_train, mean, std)
    _affine_(X_test, mean, std)


def _minmax_(X_train: np.ndarray, X_test: np.ndarray) -> None:
    """In place: each feature's TRAIN range to [0, 1]; constant columns become 0."""
    lo = X_train.min(axis=0).astype(np.float64)
    with np.errstate(over="ignore"):
        span = X_train.max(axis=0).astype(np.float64) - lo
    _refuse_overflow(lo, span, "minmax")
    span = np.where(span > 0, span, 1.0)
    _affine_(X_train, lo, span)
    _affine_(X_test, lo, span)


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero mean, unit variance per feature, with the TRAIN mean/std applied to both splits.

    Constant training columns (std ~ 0, e.g. the border pixels of digits) are only centred,
    never divided by zero.  Returns float64 copies.
    """
    X_train, X_test = np.array(X_train, dtype=np.float64), np.array(X_test, dtype=np.float64)
    _standardize_(X_train, X_test)
    return X_train, X_test


def minmax(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map each feature's TRAIN range to [0, 1] (test values may fall outside).

    Constant training columns become 0 rather than NaN.  Returns float64 copies.
    """
    X_train, X_test = np.array(X_train, dtype=np.float64), np.array(X_test, dtype=np.float64)
    _minmax_(X_train, X_test)
    return X_train, X_test


def resolve_scaling(name: str, scaling: str) -> str:
    """The scaling applied to data set ``name``: ``auto`` is ``unit`` for MNIST (the seed
    articles divide its pixels by 255), else ``standardize``."""
    if scaling == "auto":
        return "unit" if name == "mnist" else "standardize"
    return scaling


def describe_scaling(name: str, scaling: str) -> str:
    """One line on what ``scaling`` does to data set ``name``, e.g. ``unit (pixels / 255)``."""
    used = resolve_scaling(name, scaling)
    what = {
        "unit": f"pixels / {IMAGE_MAX.get(name, '?')}",
        "standardize": "train mean/std per feature",
        "minmax": "train min/max per feature to [0, 1]",
        "raw": f"pixels 0-{IMAGE_MAX[name]} as stored" if name in IMAGE_MAX else "as stored",
    }.get(used, "?")
    return f"{used} ({what}{', auto' if scaling == 'auto' else ''})"


def scale_(X_train: np.ndarray, X_test: np.ndarray, scaling: str, name: str) -> None:
    """Apply ``scaling`` (see :data:`engine.config.choices.SCALINGS`) to float arrays IN PLACE.

    Statistics come from the training split only.  ``unit`` divides by the largest pixel
    intensity of the image set ``name`` (255 for MNIST, 16 for the 8x8 digits).
    """
    used = resolve_scaling(name, scaling)
    if used in ("standardize", "minmax") and X_train.shape[0] == 0:
        return  # no training statistics to apply
    if used == "raw":
        return
    if used == "standardize":
        _standardize_(X_train, X_test)
    elif used == "minmax":
        _minmax_(X_train, X_test)
    elif used == "unit":
        if name not in IMAGE_MAX:
            raise DataError(
                f"data.scaling: 'unit' divides image pixels by their maximum "
                f"({', '.join(IMAGE_MAX)} only); for data.name = {name!r} use "
                "standardize, minmax or raw"
            )
        for X in (X_train, X_test):
            for rows in row_chunks(X):
                X[rows] /= IMAGE_MAX[name]
    else:
        raise DataError(f"data.scaling: expected one of {', '.join(SCALINGS)}, got {scaling!r}")


def scale(
    X_train: np.ndarray, X_test: np.ndarray, scaling: str, name: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """``scale_`` on float64 copies of both splits."""
    X_train, X_test = np.array(X_train, dtype=np.float64), np.array(X_test, dtype=np.float64)
    scale_(X_train, X_test, scaling, name)
    return X_train, X_test
