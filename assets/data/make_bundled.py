"""Regenerate the bundled data sets ``digits.npz`` and ``breast_cancer.npz``.

Run from anywhere::

    python assets/data/make_bundled.py

The source is the copy of each UCI data set that ships inside scikit-learn (no download).
scikit-learn is needed only here, never when the simulator runs.  Each archive holds

    X              (n, d)  digits: uint8 in 0..16; breast_cancer: float64
    y              (n,)    int64 class index
    feature_names  (d,)    str
    class_names    (K,)    str

The archives are written like ``np.savez_compressed`` but with fixed zip timestamps, so the
same inputs give byte-identical files and the sha256 sums in PROVENANCE.md can be checked.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # earliest zip date: no build time leaks into the file


def savez_reproducible(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` with constant member timestamps (``np.load`` reads it as usual)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def sha256(path: Path) -> str:
    """Hex sha256 of a file, as listed in PROVENANCE.md."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_digits(out: Path) -> None:
    """1797 8x8 digit images (UCI optdigits test set, as in scikit-learn)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.data.astype(np.uint8)  # the pixels are counts 0..16: uint8 is exact
    assert np.array_equal(X, d.data)
    savez_reproducible(
        out,
        X=X,
        y=d.target.astype(np.int64),
        feature_names=np.array(d.feature_names, dtype=str),
        class_names=np.array([str(c) for c in d.target_names], dtype=str),
    )


def make_breast_cancer(out: Path) -> None:
    """569 tumours x 30 features, 0 = malignant, 1 = benign (as in scikit-learn)."""
    from sklearn.datasets import load_breast_cancer

    b = load_breast_cancer()
    savez_reproducible(
        out,
        X=b.data.astype(np.float64),
        y=b.target.astype(np.int64),
        feature_names=np.array(b.feature_names, dtype=str),
        class_names=np.array(b.target_names, dtype=str),
    )


def main() -> None:
    """Write both archives next to this script and print their sha256 sums."""
    for name, make in (("digits", make_digits), ("breast_cancer", make_breast_cancer)):
        out = HERE / f"{name}.npz"
        make(out)
        print(f"{out.name}  sha256 {sha256(out)}")


if __name__ == "__main__":
    main()
