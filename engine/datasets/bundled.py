"""The real data sets shipped with the app: 8x8 digits and breast cancer (``assets/data``)."""

from __future__ import annotations

import numpy as np

from engine.datasets.common import DataError, as_features
from engine.resources import asset

__all__ = [
    "ASSETS_DIR",
    "BREAST_CANCER_DESCRIPTION",
    "DIGITS_DESCRIPTION",
    "load_breast_cancer",
    "load_digits",
]

ASSETS_DIR = asset("data")

DIGITS_DESCRIPTION = (
    "8x8 handwritten digits (UCI Optical Recognition of Handwritten Digits, Alpaydin & Kaynak "
    "1998, as shipped in scikit-learn; CC BY 4.0)"
)
BREAST_CANCER_DESCRIPTION = (
    "Breast Cancer Wisconsin (Diagnostic), malignant vs benign (UCI, Wolberg, Street & "
    "Mangasarian 1995, as shipped in scikit-learn; CC BY 4.0)"
)


def _load_bundled(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Read ``assets/data/<name>.npz`` written by ``assets/data/make_bundled.py``."""
    path = ASSETS_DIR / f"{name}.npz"
    if not path.is_file():
        raise DataError(
            f"{path}: bundled data set missing; regenerate it with "
            "`python assets/data/make_bundled.py` (needs scikit-learn)"
        )
    with np.load(path, allow_pickle=False) as z:
        X, y = as_features(z["X"]), z["y"].astype(np.int64)
        feature_names = tuple(str(s) for s in z["feature_names"])
        class_names = tuple(str(s) for s in z["class_names"])
    return X, y, feature_names, class_names


def load_digits() -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Bundled 8x8 digits: X (1797, 64) float64 pixel counts 0..16, y (1797,) in 0..9."""
    return _load_bundled("digits")


def load_breast_cancer() -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Bundled breast cancer: X (569, 30) float64, y (569,) 0 = malignant, 1 = benign."""
    return _load_bundled("breast_cancer")
