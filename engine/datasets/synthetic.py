"""Synthetic 2-D sets in the style of TensorFlow Playground, generated from a seed.

Rescaled from the Playground's [-5, 5] to about [-1, 1].  ``noise`` is always the std of
Gaussian noise added to every feature (to the target for ``surface``).  ``rng`` is a
Generator or a seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.datasets.common import as_features, class_labels, class_sizes

if TYPE_CHECKING:  # only for annotations
    from engine.config import DataConfig


__all__ = [
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spiral",
    "make_surface",
    "make_xor",
    "surface_function",
]


def make_spiral(n: int, noise: float, n_classes: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms, 1.75 turns each, radius 0 -> 1."""
    rng = np.random.default_rng(rng)
    parts = []
    for c, m in enumerate(class_sizes(n, n_classes)):
        r = np.arange(m) / max(m, 1)
        theta = 1.75 * 2 * np.pi * r + 2 * np.pi * c / n_classes
        parts.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
    X = np.concatenate(parts) + noise * rng.standard_normal((n, 2))
    return as_features(X), class_labels(class_sizes(n, n_classes))


def _ring(m: int, r_lo: float, r_hi: float, rng: np.random.Generator) -> np.ndarray:
    """(m, 2) points uniform in radius r_lo..r_hi and in angle."""
    r = rng.uniform(r_lo, r_hi, m)
    angle = rng.uniform(0, 2 * np.pi, m)
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)])


def make_circles(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: disc of radius 0.5; class 1: ring 0.7..1 around it."""
    rng = np.random.default_rng(rng)
    sizes = class_sizes(n, 2)
    X = np.concatenate([_ring(sizes[0], 0.0, 0.5, rng), _ring(sizes[1], 0.7, 1.0, rng)])
    X += noise * rng.standard_normal((n, 2))
    return as_features(X), class_labels(sizes)


def make_xor(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Uniform square; class 1 where x1 and x2 have the same sign (quadrants I and III)."""
    rng = np.random.default_rng(rng)
    y = class_labels(class_sizes(n, 2))
    # As in the Playground, keep a small gap along the axes so the clean labels are separable.
    X = rng.uniform(0.05, 1.0, (n, 2))
    s1 = rng.choice([-1.0, 1.0], n)
    X[:, 0] *= s1
    X[:, 1] *= np.where(y == 1, s1, -s1)  # the label picks the quadrant: classes stay balanced
    X += noise * rng.standard_normal((n, 2))
    return as_features(X), y


def make_moons(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (scikit-learn's shape), mapped to x in [-1, 1]."""
    rng = np.random.default_rng(rng)
    sizes = class_sizes(n, 2)
    t0 = rng.uniform(0, np.pi, sizes[0])
    t1 = rng.uniform(0, np.pi, sizes[1])
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = (np.concatenate([upper, lower]) - [0.5, 0.25]) / 1.5  # [-1,2]x[-0.5,1] -> [-1,1]x[-.5,.5]
    X += noise * rng.standard_normal((n, 2))
    return as_features(X), class_labels(sizes)


def make_blobs(n: int, noise: float, n_classes: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs (std 0.15, plus ``noise``) centred on a circle of radius 0.5."""
    rng = np.random.default_rng(rng)
    sizes = class_sizes(n, n_classes)
    angle = np.pi / 4 + 2 * np.pi * np.arange(n_classes) / n_classes  # K=2: Playground diagonal
    centres = 0.5 * np.column_stack([np.cos(angle), np.sin(angle)])
    y = class_labels(sizes)
    X = centres[y] + 0.15 * rng.standard_normal((n, 2)) + noise * rng.standard_normal((n, 2))
    return as_features(X), y


def surface_function(X: np.ndarray) -> np.ndarray:
    """The clean regression target of ``surface``: sin(pi x1) cos(pi x2 / 2), in [-1, 1]."""
    return np.sin(np.pi * X[:, 0]) * np.cos(0.5 * np.pi * X[:, 1])


def make_surface(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Regression: X uniform in [-1, 1]^2, y (n, 1) = surface_function(X) + noise."""
    rng = np.random.default_rng(rng)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = surface_function(X) + noise * rng.standard_normal(n)
    return as_features(X), np.ascontiguousarray(y[:, None], dtype=np.float64)


def synthetic_set(cfg: DataConfig, rng: np.random.Generator):
    """(X, y, task, n_classes, class_names, description) of a synthetic set."""
    n, noise, k = cfg.n_samples, cfg.noise, cfg.n_classes
    what = f"{n} points, noise {noise:g}, TensorFlow-Playground style (synthetic)"
    if cfg.name == "surface":
        X, y = make_surface(n, noise, rng)
        return X, y, "regression", 0, (), f"surface y = sin(pi x1) cos(pi x2 / 2), {what}"
    if cfg.name in ("spiral", "blobs"):  # the two sets with a free number of classes
        make, unit, title = {
            "spiral": (make_spiral, "arm", f"spiral with {k} arms"),
            "blobs": (make_blobs, "blob", f"{k} Gaussian blobs"),
        }[cfg.name]
        X, y = make(n, noise, k, rng)
        names = tuple(f"{unit} {c}" for c in range(k))
        return X, y, "classification", k, names, f"{title}, {what}"
    make, names, title = {
        "circles": (make_circles, ("inner", "outer"), "two concentric circles"),
        "xor": (make_xor, ("x1*x2 < 0", "x1*x2 > 0"), "XOR quadrants"),
        "moons": (make_moons, ("upper", "lower"), "two moons"),
    }[cfg.name]
    X, y = make(n, noise, rng)
    return X, y, "classification", 2, names, f"{title}, {what}"
