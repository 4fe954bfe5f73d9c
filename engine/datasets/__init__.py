"""Data sets: synthetic 2-D sets, bundled real sets, MNIST and user CSV files.

:func:`load_dataset` turns a :class:`~engine.config.DataConfig` into a :class:`Dataset`:
generate or read the examples, split train/test, keep a subset of the training split, scale
the features with statistics of the training split only.  Everything random comes from
``np.random.default_rng(cfg.seed)``, so one config always gives bit-identical arrays.

Every problem a user can cause (missing file, bad CSV cell, ...) raises :class:`DataError`,
whose message names the file or field and says what was expected.  NumPy only: no
scikit-learn, no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.config.choices import BUNDLED, DATASETS, SYNTHETIC

# The public face of the data modules: ``from engine.datasets import X`` works for every
# name in their ``__all__`` (the loaders, the synthetic makers, the scalings, DataError, ...).
from engine.datasets import bundled
from engine.datasets.bundled import *  # noqa: F403
from engine.datasets.common import *  # noqa: F403
from engine.datasets.common import DataError, row_chunks
from engine.datasets.csv_file import *  # noqa: F403
from engine.datasets.csv_file import load_csv
from engine.datasets.mnist import *  # noqa: F403
from engine.datasets.mnist import MNIST_DESCRIPTION, read_mnist
from engine.datasets.scaling import *  # noqa: F403
from engine.datasets.scaling import describe_scaling, scale_, train_test_split
from engine.datasets.synthetic import *  # noqa: F403
from engine.datasets.synthetic import synthetic_set

if TYPE_CHECKING:  # only for annotations: keeps this module importable on its own
    from engine.config import DataConfig

# ----------------------------------------------------------------------------- Dataset


@dataclass(frozen=True)
class Dataset:
    """A train/test split ready for the network (features already scaled)."""

    name: str
    X_train: np.ndarray  # (n_train, n_features) float64 or float32, C-contiguous
    y_train: np.ndarray  # (n_train,) int64 in 0..K-1 | (n_train, n_targets) float64 (regression)
    X_test: np.ndarray  # (n_test, n_features) same dtype as X_train
    y_test: np.ndarray  # (n_test,) int64 | (n_test, n_targets) float64
    task: str  # "classification" | "regression"
    n_classes: int  # 0 for regression
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    description: str  # one line, with provenance for bundled sets
    scaling: str = ""  # what was done to the features, e.g. "unit (pixels / 255, auto)"

    def __post_init__(self):
        """Catch inconsistent arrays where they are made, not deep inside training."""
        splits = (("train", self.X_train, self.y_train), ("test", self.X_test, self.y_test))
        for split, X, y in splits:
            if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[1] != len(self.feature_names):
                raise ValueError(f"{self.name}: inconsistent {split} shapes {X.shape}, {y.shape}")

    @property
    def n_features(self) -> int:
        """Input dimension."""
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Width of the output layer: K for classification, number of targets for regression."""
        if self.task == "classification":
            return self.n_classes
        return self.y_train.shape[1]

    @property
    def is_2d(self) -> bool:
        """True when a decision boundary / surface can be drawn in the input plane."""
        return self.n_features == 2

    def __repr__(self) -> str:
        kind = f"{self.n_classes} classes" if self.task == "classification" else "regression"
        return (
            f"Dataset({self.name!r}, train={self.X_train.shape}, test={self.X_test.shape}, {kind})"
        )


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """(n,) int labels in 0..K-1 -> (n, K) float64 indicator rows."""
    y = np.asarray(y)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1}, got {y.min()}..{y.max()}")
    out = np.zeros((y.shape[0], n_classes), dtype=np.float64)
    out[np.arange(y.shape[0]), y] = 1.0
    return out


# ----------------------------------------------------------------------------- load_dataset


def _rows_as(images: np.ndarray, rows: np.ndarray, dtype) -> np.ndarray:
    """``images[rows]`` converted to ``dtype``, filled by chunks: no uint8 copy of the
    selection and no float64 intermediate when ``dtype`` is float32."""
    out = np.empty((len(rows), images.shape[1]), dtype=dtype)
    for part in row_chunks(out):
        out[part] = images[rows[part]]
    return out


def _load_mnist_dataset(cfg: DataConfig, rng: np.random.Generator, dtype) -> Dataset:
    """MNIST with its own split, shuffled and subset, held once in memory in ``dtype``."""
    source, (x_tr, y_tr, x_te, y_te) = read_mnist(cfg.path)
    order = rng.permutation(len(x_tr))
    if cfg.subset > 0:
        order = order[: cfg.subset]  # subset first: 60000 x 784 float64 would be 376 MB
    X_train = _rows_as(x_tr, order, dtype)
    X_test = _rows_as(x_te, np.arange(len(x_te)), dtype)
    del x_tr, x_te  # the raw pixels are no longer needed: free them before scaling
    scale_(X_train, X_test, cfg.scaling, "mnist")
    side = math.isqrt(X_train.shape[1])
    n_pixels = X_train.shape[1]
    names = (
        tuple(f"pixel_{r}_{c}" for r in range(side) for c in range(side))
        if side * side == n_pixels
        else tuple(f"pixel_{i}" for i in range(n_pixels))
    )
    return Dataset(
        "mnist",
        X_train,
        y_tr[order],
        X_test,
        y_te,
        "classification",
        10,
        names,
        tuple(str(d) for d in range(10)),
        f"{MNIST_DESCRIPTION}, from {source}",
        describe_scaling("mnist", cfg.scaling),
    )


def load_dataset(cfg: DataConfig, dtype="float64") -> Dataset:
    """Build the data set described by ``cfg``: load, split, subset, scale (train statistics).

    The features come in ``dtype``, the engine's (``model.dtype``), so a session uses them
    without a copy.  Seeded by ``cfg.seed`` only.  ``n_samples``/``noise`` apply to synthetic
    sets, ``n_classes`` to spiral and blobs, ``path`` to mnist and csv, ``label_column`` to csv.
    MNIST keeps its own train/test split (``test_fraction`` is ignored).
    """
    rng = np.random.default_rng(cfg.seed)
    if cfg.name == "mnist":
        return _load_mnist_dataset(cfg, rng, np.dtype(dtype))
    if cfg.name in SYNTHETIC:
        X, y, task, k, class_names, description = synthetic_set(cfg, rng)
        feature_names = ("x1", "x2")
    elif cfg.name in BUNDLED:
        loader = bundled.load_digits if cfg.name == "digits" else bundled.load_breast_cancer
        X, y, feature_names, class_names = loader()
        task, k = "classification", len(class_names)
        description = (
            bundled.DIGITS_DESCRIPTION
            if cfg.name == "digits"
            else bundled.BREAST_CANCER_DESCRIPTION
        )
    elif cfg.name == "csv":
        if not cfg.path:
            raise DataError("data.path: empty; expected the path of a CSV file")
        X, y, feature_names, class_names = load_csv(cfg.path, cfg.label_column)
        task, k = "classification", len(class_names)
        description = f"CSV file {cfg.path}, label column {cfg.label_column!r}"
    else:
        raise DataError(f"data.name: expected one of {', '.join(DATASETS)}, got {cfg.name!r}")
    X_tr, y_tr, X_te, y_te = train_test_split(X, y, cfg.test_fraction, rng)
    if cfg.subset > 0:
        X_tr, y_tr = X_tr[: cfg.subset].copy(), y_tr[: cfg.subset]  # copy: free the rest
    scale_(X_tr, X_te, cfg.scaling, cfg.name)  # both are fresh float64 arrays of the split
    X_tr, X_te = (np.ascontiguousarray(X, dtype=dtype) for X in (X_tr, X_te))
    return Dataset(
        cfg.name,
        X_tr,
        y_tr,
        X_te,
        y_te,
        task,
        k,
        tuple(feature_names),
        tuple(class_names),
        description,
        describe_scaling(cfg.name, cfg.scaling),
    )
