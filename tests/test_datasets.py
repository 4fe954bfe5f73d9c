"""Tests of engine/datasets/: synthetic, bundled, MNIST and CSV sets, split and scaling."""

from __future__ import annotations

import gzip
import hashlib
import re
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import DATASETS, DataConfig
from engine.datasets import (
    ASSETS_DIR,
    DataError,
    Dataset,
    load_breast_cancer,
    load_csv,
    load_dataset,
    load_digits,
    load_mnist,
    make_blobs,
    make_circles,
    make_moons,
    make_spiral,
    make_surface,
    make_xor,
    minmax,
    one_hot,
    standardize,
    surface_function,
    train_test_split,
)

REPO = Path(__file__).resolve().parent.parent

# name -> make(n, noise, rng) -> (X, y), number of classes
CLASSIFIERS = {
    "spiral": (lambda n, noise, rng: make_spiral(n, noise, 3, rng), 3),
    "spiral5": (lambda n, noise, rng: make_spiral(n, noise, 5, rng), 5),
    "circles": (make_circles, 2),
    "xor": (make_xor, 2),
    "moons": (make_moons, 2),
    "blobs": (lambda n, noise, rng: make_blobs(n, noise, 4, rng), 4),
}


def err(path: Path, rest: str) -> str:
    """Regex for a DataError message: the escaped file path, then ``rest`` (a regex)."""
    return "^" + re.escape(str(path)) + rest


# ----------------------------------------------------------------------------- synthetic


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_synthetic_shapes_dtypes_and_classes(name):
    make, k = CLASSIFIERS[name]
    X, y = make(301, 0.1, 0)
    assert X.shape == (301, 2)
    assert X.dtype == np.float64
    assert X.flags.c_contiguous
    assert y.shape == (301,)
    assert y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == k
    assert counts.max() - counts.min() <= 1  # balanced
    assert np.abs(X).max() < 1.6  # about [-1, 1] plus a little noise


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_synthetic_deterministic(name):
    make, _ = CLASSIFIERS[name]
    X1, y1 = make(100, 0.2, 7)
    X2, y2 = make(100, 0.2, np.random.default_rng(7))
    X3, _ = make(100, 0.2, 8)
    assert X1.tobytes() == X2.tobytes()
    assert np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_synthetic_noise_free_in_unit_square(name):
    make, _ = CLASSIFIERS[name]
    X, _ = make(400, 0.0, 1)
    assert np.abs(X).max() <= 1.0 + 1e-12


def test_circles_geometry():
    X, y = make_circles(500, 0.0, 3)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 0].max() <= 0.5
    assert r[y == 1].min() >= 0.7
    assert r[y == 1].max() <= 1.0


def test_xor_labels_are_quadrants():
    X, y = make_xor(500, 0.0, 3)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(np.int64))
    assert np.abs(X).min() >= 0.05  # the gap along the axes


def test_spiral_arms_are_rotations():
    X, y = make_spiral(300, 0.0, 3, 0)
    # noise-free arm c is arm 0 rotated by 2 pi c / 3
    a = 2 * np.pi / 3
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    np.testing.assert_allclose(X[y == 0] @ rot, X[y == 1], atol=1e-12)


def test_blobs_centres():
    X, y = make_blobs(4000, 0.0, 3, 0)
    centres = np.array([X[y == c].mean(axis=0) for c in range(3)])
    np.testing.assert_allclose(np.hypot(*centres.T), 0.5, atol=0.02)


def test_surface_regression():
    X, y = make_surface(200, 0.0, 0)
    assert X.shape == (200, 2)
    assert y.shape == (200, 1)
    assert y.dtype == np.float64
    assert np.abs(X).max() <= 1
    np.testing.assert_array_equal(y[:, 0], surface_function(X))
    _, y_noisy = make_surface(200, 0.1, 0)
    assert 0.05 < np.std(y_noisy - y) < 0.2


# ----------------------------------------------------------------------------- bundled


def test_digits():
    X, y, features, classes = load_digits()
    assert X.shape == (1797, 64)
    assert X.dtype == np.float64
    assert X.flags.c_contiguous
    assert y.shape == (1797,)
    assert y.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    assert X.min() == 0
    assert X.max() == 16
    assert np.array_equal(X, np.round(X))
    assert features[:2] == ("pixel_0_0", "pixel_0_1")
    assert len(features) == 64
    assert classes == tuple(str(d) for d in range(10))


def test_breast_cancer():
    X, y, features, classes = load_breast_cancer()
    assert X.shape == (569, 30)
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    assert np.bincount(y).tolist() == [212, 357]
    assert classes == ("malignant", "benign")
    assert features[0] == "mean radius"
    assert len(features) == 30
    assert np.isfinite(X).all()


def test_bundled_files_match_provenance_sha256():
    text = (ASSETS_DIR / "PROVENANCE.md").read_text()
    for name in ("digits.npz", "breast_cancer.npz"):
        listed = re.search(r"([0-9a-f]{64})\s+" + re.escape(name), text)
        assert listed, f"no sha256 for {name} in PROVENANCE.md"
        actual = hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest()
        assert actual == listed.group(1), f"{name} changed: update PROVENANCE.md"


def test_assets_located_in_repository():
    assert ASSETS_DIR == REPO / "assets" / "data"


def test_loading_does_not_import_sklearn():
    code = (
        "import sys; from engine.datasets import load_digits, load_breast_cancer; "
        "load_digits(); load_breast_cancer(); "
        "assert not [m for m in sys.modules if m.startswith('sklearn')]"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# ----------------------------------------------------------------------------- split, scale


@pytest.mark.parametrize(
    ("n", "fraction", "n_test"),
    [
        (100, 0.2, 20),
        (10, 0.25, 2),
        (7, 0.5, 4),
        (5, 0.01, 1),
        (5, 0.99, 4),
        (50, 0.0, 0),
    ],
)
def test_split_sizes(n, fraction, n_test):
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    y = np.arange(n)
    X_tr, y_tr, X_te, y_te = train_test_split(X, y, fraction, 0)
    assert X_te.shape == (n_test, 2)
    assert y_te.shape == (n_test,)
    assert X_tr.shape == (n - n_test, 2)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(n))  # a partition
    assert np.array_equal(X_tr[:, 0], 2 * y_tr)  # rows stay paired with their labels
    assert X_tr.flags.c_contiguous
    assert X_te.flags.c_contiguous


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 300), st.floats(0.0, 0.95), st.integers(0, 2**32 - 1))
def test_split_is_seeded_partition(n, fraction, seed):
    X = np.arange(n, dtype=float)[:, None]
    y = np.arange(n)
    a = train_test_split(X, y, fraction, seed)
    b = train_test_split(X, y, fraction, np.random.default_rng(seed))
    for u, v in zip(a, b, strict=True):
        assert u.tobytes() == v.tobytes()
    assert len(a[1]) >= 1
    assert len(a[1]) + len(a[3]) == n
    assert len(a[3]) >= (1 if fraction > 0 else 0)


def test_standardize_uses_train_statistics():
    rng = np.random.default_rng(0)
    X_tr = rng.normal(3.0, 2.0, (50, 3))
    X_te = rng.normal(-1.0, 5.0, (20, 3))
    S_tr, S_te = standardize(X_tr, X_te)
    np.testing.assert_allclose(S_tr.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(S_tr.std(axis=0), 1)
    np.testing.assert_allclose(S_te, (X_te - X_tr.mean(0)) / X_tr.std(0))


def test_minmax_uses_train_statistics():
    rng = np.random.default_rng(0)
    X_tr = rng.normal(3.0, 2.0, (50, 3))
    X_te = rng.normal(-1.0, 5.0, (20, 3))
    M_tr, M_te = minmax(X_tr, X_te)
    np.testing.assert_allclose(M_tr.min(axis=0), 0)
    np.testing.assert_allclose(M_tr.max(axis=0), 1)
    lo, hi = X_tr.min(0), X_tr.max(0)
    np.testing.assert_allclose(M_te, (X_te - lo) / (hi - lo))


@pytest.mark.parametrize("scaler", [standardize, minmax])
def test_constant_columns_give_no_nan(scaler):
    X_tr = np.column_stack([np.full(10, 0.1), np.zeros(10), np.arange(10.0)])
    X_te = np.column_stack([np.full(4, 0.3), np.ones(4), np.arange(4.0)])
    S_tr, S_te = scaler(X_tr, X_te)
    assert np.isfinite(S_tr).all()
    assert np.isfinite(S_te).all()
    np.testing.assert_allclose(S_tr[:, :2], 0, atol=1e-12)


@pytest.mark.parametrize("scaling", ["auto", "unit", "standardize", "minmax", "raw"])
def test_digits_scaling_no_nan(scaling):
    d = load_dataset(DataConfig(name="digits", scaling=scaling))
    assert np.isfinite(d.X_train).all()
    assert np.isfinite(d.X_test).all()
    if scaling == "raw":
        assert d.X_train.max() == 16
    if scaling == "unit":
        assert d.X_train.max() == 1


def test_load_dataset_scales_with_train_split_only():
    raw = load_dataset(DataConfig(name="breast_cancer", scaling="raw", seed=3))
    std = load_dataset(DataConfig(name="breast_cancer", scaling="standardize", seed=3))
    mean, sd = raw.X_train.mean(0), raw.X_train.std(0)
    np.testing.assert_allclose(std.X_train, (raw.X_train - mean) / sd)
    np.testing.assert_allclose(std.X_test, (raw.X_test - mean) / sd)


def test_one_hot():
    out = one_hot(np.array([2, 0, 1, 2]), 3)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert one_hot(np.array([], dtype=np.int64), 4).shape == (0, 4)
    with pytest.raises(ValueError, match="labels must be in 0..2"):
        one_hot(np.array([3]), 3)


# ----------------------------------------------------------------------------- MNIST


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 IDX file (gzipped when the name ends in .gz)."""
    data = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data += array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def tiny_mnist(seed: int = 0):
    """6 training and 4 test 28x28 images with labels."""
    rng = np.random.default_rng(seed)
    x_tr = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    x_te = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    return x_tr, np.array([0, 1, 2, 3, 4, 9], np.uint8), x_te, np.array([5, 6, 7, 8], np.uint8)


def write_idx_folder(folder: Path, sep: str = "-", gz: bool = False):
    folder.mkdir(exist_ok=True)
    arrays = tiny_mnist()
    names = ("train-images", "train-labels", "t10k-images", "t10k-labels")
    kinds = ("idx3", "idx1", "idx3", "idx1")
    for stem, kind, a in zip(names, kinds, arrays, strict=True):
        write_idx(folder / f"{stem}{sep}{kind}-ubyte{'.gz' if gz else ''}", a)
    return arrays


def check_mnist(result, arrays):
    X_tr, y_tr, X_te, y_te = result
    x_tr, l_tr, x_te, l_te = arrays
    assert X_tr.shape == (6, 784)
    assert X_te.shape == (4, 784)
    assert X_tr.dtype == np.float64
    assert y_tr.dtype == np.int64
    np.testing.assert_array_equal(X_tr, x_tr.reshape(6, 784) / 255.0)
    np.testing.assert_array_equal(X_te, x_te.reshape(4, 784) / 255.0)
    np.testing.assert_array_equal(y_tr, l_tr)
    np.testing.assert_array_equal(y_te, l_te)


@pytest.mark.parametrize(("sep", "gz"), [("-", False), ("-", True), (".", False), (".", True)])
def test_mnist_idx_folder(tmp_path, sep, gz):
    arrays = write_idx_folder(tmp_path / "mnist", sep, gz)
    check_mnist(load_mnist(tmp_path / "mnist"), arrays)


def test_mnist_npz(tmp_path):
    arrays = tiny_mnist()
    path = tmp_path / "mnist.npz"
    np.savez(path, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays, strict=True)))
    check_mnist(load_mnist(str(path)), arrays)


def test_mnist_default_is_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(
        DataError,
        match=r"MNIST not found: data.path is empty and .*"
        r"\.keras/datasets/mnist\.npz does not exist",
    ):
        load_mnist()
    arrays = tiny_mnist()
    (tmp_path / ".keras" / "datasets").mkdir(parents=True)
    keys = ("x_train", "y_train", "x_test", "y_test")
    np.savez(tmp_path / ".keras/datasets/mnist.npz", **dict(zip(keys, arrays, strict=True)))
    check_mnist(load_mnist(""), arrays)


def test_mnist_errors(tmp_path):
    with pytest.raises(DataError, match=err(tmp_path / "nope", ": not found; expected")):
        load_mnist(tmp_path / "nope")
    folder = tmp_path / "partial"
    write_idx_folder(folder)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=err(folder, ": MNIST folder lacks t10k-labels-idx1-ubyte")):
        load_mnist(folder)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x0d\x01rest")
    with pytest.raises(
        DataError,
        match=err(folder / "t10k-labels-idx1-ubyte", r": not an IDX file of unsigned bytes"),
    ):
        load_mnist(folder)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(
        b"\x00\x00\x08\x01" + struct.pack(">I", 4) + b"\x01\x02"
    )
    with pytest.raises(
        DataError,
        match=r"announces shape \(4,\) \(4 bytes\) but the file "
        r"holds 2 data bytes",
    ):
        load_mnist(folder)
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=np.zeros((2, 28, 28)))
    with pytest.raises(DataError, match=err(bad, ": missing arrays y_train, x_test, y_test")):
        load_mnist(bad)
    text = tmp_path / "mnist.txt"
    text.write_text("hello")
    with pytest.raises(DataError, match=err(text, ": not a readable .npz archive")):
        load_mnist(text)


def test_mnist_label_and_shape_checks(tmp_path):
    x_tr, y_tr, x_te, y_te = tiny_mnist()
    path = tmp_path / "m.npz"
    np.savez(path, x_train=x_tr, y_train=y_tr[:5], x_test=x_te, y_test=y_te)
    with pytest.raises(
        DataError,
        match=err(
            path,
            r": MNIST train images \(6, 28, 28\) and "
            r"labels \(5,\) do not match",
        ),
    ):
        load_mnist(path)
    np.savez(path, x_train=x_tr, y_train=y_tr + 5, x_test=x_te, y_test=y_te)
    with pytest.raises(DataError, match=err(path, r": MNIST train labels must be digits 0..9")):
        load_mnist(path)


def test_load_dataset_mnist_keeps_own_split(tmp_path):
    arrays = write_idx_folder(tmp_path, gz=True)
    cfg = DataConfig(name="mnist", path=str(tmp_path), test_fraction=0.5, scaling="unit", seed=4)
    d = load_dataset(cfg)
    assert d.X_train.shape == (6, 784)
    assert d.X_test.shape == (4, 784)  # test_fraction ignored
    assert d.n_classes == 10
    assert d.n_outputs == 10
    assert d.feature_names[29] == "pixel_1_1"
    np.testing.assert_array_equal(d.y_test, arrays[3])
    # the training set is shuffled, rows still paired with labels
    flat = arrays[0].reshape(6, 784) / 255.0
    for x, label in zip(d.X_train, d.y_train, strict=True):
        assert np.array_equal(x, flat[list(arrays[1]).index(label)])
    sub = load_dataset(replace(cfg, subset=2))
    np.testing.assert_array_equal(sub.X_train, d.X_train[:2])
    assert sub.X_test.shape == (4, 784)
    again = load_dataset(cfg)
    assert again.X_train.tobytes() == d.X_train.tobytes()


# ----------------------------------------------------------------------------- CSV good


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_header_label_by_name(tmp_path):
    path = write(tmp_path, "h.csv", "a,b,label\n1,2,0\n3,4.5,1\n-1e1,6,1\n")
    X, y, features, classes = load_csv(path, "label")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4.5], [-10, 6]])
    assert X.dtype == np.float64
    assert X.flags.c_contiguous
    np.testing.assert_array_equal(y, [0, 1, 1])
    assert y.dtype == np.int64
    assert features == ("a", "b")
    assert classes == ("0", "1")


def test_csv_without_header_label_by_index(tmp_path):
    path = write(tmp_path, "n.csv", "7,1,2\n3,3,4\n7,5,6\n\n")
    X, y, features, classes = load_csv(path, "0")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(y, [1, 0, 1])
    assert features == ("column 2", "column 3")
    assert classes == ("3", "7")
    X2, y2, _, classes2 = load_csv(path, -1)
    np.testing.assert_array_equal(X2, [[7, 1], [3, 3], [7, 5]])
    assert classes2 == ("2", "4", "6")
    np.testing.assert_array_equal(y2, [0, 1, 2])


def test_csv_string_labels_sorted(tmp_path):
    path = write(
        tmp_path, "s.csv", "x,species,y\n1,virginica,2\n3,setosa,4\n5,versicolor,6\n7,setosa,8\n"
    )
    X, y, features, classes = load_csv(path, "1")
    assert classes == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(y, [2, 0, 1, 0])
    assert features == ("x", "y")
    np.testing.assert_array_equal(X[:, 1], [2, 4, 6, 8])
    # string labels without a header: the first row is data
    path = write(tmp_path, "s2.csv", "0.5,cat\n0.25,dog\n")
    X, y, features, classes = load_csv(path, "-1")
    np.testing.assert_array_equal(X, [[0.5], [0.25]])
    assert classes == ("cat", "dog")


def test_csv_numeric_labels_sorted_numerically(tmp_path):
    path = write(tmp_path, "num.csv", "1,10\n2,9\n3,2.0\n")
    _, y, _, classes = load_csv(path)
    assert classes == ("2", "9", "10")
    np.testing.assert_array_equal(y, [2, 1, 0])


@pytest.mark.parametrize("sep", [";", "\t"])
def test_csv_other_delimiters_and_bom(tmp_path, sep):
    path = tmp_path / "d.csv"
    path.write_bytes(
        (
            "\ufeff"
            + sep.join(["f", "g", "c"])
            + "\n"
            + sep.join(["1", "2", "a"])
            + "\n"
            + sep.join(["3", "4", "b"])
            + "\n"
        ).encode("utf-8")
    )
    X, y, features, classes = load_csv(path, "c")
    assert features == ("f", "g")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert classes == ("a", "b")


# ----------------------------------------------------------------------------- CSV bad


BAD_CSV = [
    (
        "nonnum.csv",
        "a,b,label\n1,2,0\n3,x,1\n",
        "label",
        r": line 3, column 2 \('b'\): non-numeric value 'x', expected a number$",
    ),
    (
        "nonnum_nohdr.csv",
        "1,2,0\n3,4,1\n5,6,1\n7,abc,0\n",
        "-1",
        r": line 4, column 2 \('column 2'\): non-numeric value 'abc', expected a number$",
    ),
    (
        "missing.csv",
        "a,b,label\n1,2,0\n\n3,,1\n",
        "label",
        r": line 4, column 2 \('b'\): missing value '', expected a number$",
    ),
    (
        "missing_na.csv",
        "a,b,label\n1,NA,0\n3,4,1\n",
        "label",
        r": line 2, column 2 \('b'\): missing value 'NA', expected a number$",
    ),
    (
        "inf.csv",
        "a,b,label\n1,inf,0\n3,4,1\n",
        "label",
        r": line 2, column 2 \('b'\): non-finite value 'inf', expected a finite number$",
    ),
    (
        "missing_label.csv",
        "a,b,label\n1,2,0\n3,4,\n",
        "label",
        r": line 3, column 3 \('label'\): missing label ''$",
    ),
    (
        "ragged.csv",
        "a,b,label\n1,2,0\n3,4,1,9\n",
        "label",
        r": line 3: expected 3 fields \(like line 1\), found 4$",
    ),
    (
        "ragged_short.csv",
        "1,2,0\n3,4\n",
        "-1",
        r": line 2: expected 3 fields \(like line 1\), found 2$",
    ),
    (
        "oneclass.csv",
        "a,b,label\n1,2,yes\n3,4,yes\n",
        "label",
        r": label column 3 \('label'\) has only one class \('yes'\); expected at least two$",
    ),
    (
        "unknown.csv",
        "a,b,label\n1,2,0\n3,4,1\n",
        "target",
        r": unknown label column 'target'; columns are 'a', 'b', 'label'$",
    ),
    (
        "name_nohdr.csv",
        "1,2,0\n3,4,1\n",
        "label",
        r": label column 'label' is a name, but the file has no header row",
    ),
    (
        "range.csv",
        "1,2,0\n3,4,1\n",
        "3",
        r": label column 3 is out of range for 3 columns \(use 0..2 or -3..-1\)$",
    ),
    ("empty.csv", "", "-1", r": file is empty, expected numeric feature columns and a label$"),
    (
        "blank.csv",
        "\n  \n\n",
        "-1",
        r": file is empty, expected numeric feature columns and a label$",
    ),
    ("header_only.csv", "a,b,label\n", "label", r": no data rows after the header line$"),
    ("onecol.csv", "1\n2\n", "-1", r": found 1 column, expected numeric feature columns"),
    (
        "fraction.csv",
        "1,2,0.5\n3,4,1\n",
        "-1",
        r": line 1, column 3 \('column 3'\): label '0.5' is not a whole number",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "label", "message"), BAD_CSV, ids=[case[0] for case in BAD_CSV]
)
def test_csv_errors(tmp_path, name, text, label, message):
    path = write(tmp_path, name, text)
    with pytest.raises(DataError, match=err(path, message)):
        load_csv(path, label)


def test_csv_file_not_found_and_not_text(tmp_path):
    path = tmp_path / "absent.csv"
    with pytest.raises(DataError, match=err(path, r": file not found$")):
        load_csv(path)
    with pytest.raises(DataError, match=err(tmp_path, r": is a folder, expected a CSV file$")):
        load_csv(tmp_path)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match=err(binary, r": not a UTF-8 text file, expected CSV$")):
        load_csv(binary)


def test_data_error_is_value_error():
    assert issubclass(DataError, ValueError)


# ----------------------------------------------------------------------------- load_dataset


def config_for(name: str, tmp_path: Path, **changes) -> DataConfig:
    """A small DataConfig for every name; mnist and csv get files in tmp_path."""
    path = ""
    if name == "mnist":
        write_idx_folder(tmp_path / "mnist")
        path = str(tmp_path / "mnist")
    elif name == "csv":
        rows = "".join(f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}\n" for i in range(40))
        path = str(write(tmp_path, "data.csv", "u,v,kind\n" + rows))
        changes.setdefault("label_column", "kind")
    return DataConfig(name=name, n_samples=120, path=path, **changes)


@pytest.mark.parametrize("name", DATASETS)
def test_load_dataset_every_name(tmp_path, name):
    d = load_dataset(config_for(name, tmp_path))
    assert isinstance(d, Dataset)
    assert d.name == name
    for X in (d.X_train, d.X_test):
        assert X.dtype == np.float64
        assert X.flags.c_contiguous
        assert np.isfinite(X).all()
        assert X.shape[1] == d.n_features == len(d.feature_names)
    assert len(d.description) > 10
    assert "\n" not in d.description
    assert name in repr(d)
    if d.task == "regression":
        assert name == "surface"
        assert d.n_classes == 0
        assert d.y_train.shape == (d.X_train.shape[0], 1)
        assert d.y_train.dtype == np.float64
        assert d.n_outputs == 1
    else:
        assert d.y_train.dtype == np.int64
        assert d.y_train.shape == (d.X_train.shape[0],)
        assert d.n_outputs == d.n_classes == len(d.class_names)
        assert d.y_train.min() >= 0
        assert d.y_train.max() < d.n_classes
    assert d.is_2d == (d.n_features == 2)
    assert d.is_2d == (name in ("spiral", "circles", "xor", "moons", "blobs", "surface", "csv"))


@pytest.mark.parametrize("name", DATASETS)
def test_load_dataset_is_deterministic(tmp_path, name):
    cfg = config_for(name, tmp_path, seed=11)
    a, b = load_dataset(cfg), load_dataset(cfg)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()
    if name != "mnist":  # the bundled/csv split and the synthetic points depend on the seed
        c = load_dataset(replace(cfg, seed=12))
        assert a.X_train.tobytes() != c.X_train.tobytes()


def test_load_dataset_sizes_subset_and_classes():
    cfg = DataConfig(name="spiral", n_samples=200, n_classes=4, test_fraction=0.25, seed=1)
    d = load_dataset(cfg)
    assert d.X_train.shape == (150, 2)
    assert d.X_test.shape == (50, 2)
    assert d.n_classes == 4
    assert repr(d) == "Dataset('spiral', train=(150, 2), test=(50, 2), 4 classes)"
    raw = load_dataset(replace(cfg, scaling="raw"))
    sub = load_dataset(replace(cfg, subset=30, scaling="raw"))
    np.testing.assert_array_equal(sub.X_train, raw.X_train[:30])  # first 30 after the shuffle
    np.testing.assert_array_equal(sub.y_train, raw.y_train[:30])
    np.testing.assert_array_equal(sub.X_test, raw.X_test)
    assert load_dataset(replace(cfg, name="blobs", n_classes=5)).n_classes == 5
    assert load_dataset(replace(cfg, name="moons", n_classes=5)).n_classes == 2


def test_load_dataset_scaling_fitted_after_subset():
    cfg = DataConfig(name="breast_cancer", subset=40, seed=2)
    d = load_dataset(cfg)
    assert d.X_train.shape == (40, 30)
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(d.X_train.std(axis=0), 1)


def test_load_dataset_no_test_split():
    d = load_dataset(DataConfig(name="digits", test_fraction=0.0))
    assert d.X_train.shape == (1797, 64)
    assert d.X_test.shape == (0, 64)
    assert d.y_test.shape == (0,)


def test_load_dataset_csv_errors_name_the_field(tmp_path):
    with pytest.raises(DataError, match=r"^data.path: empty; expected the path of a CSV file$"):
        load_dataset(DataConfig(name="csv"))
    with pytest.raises(DataError, match=r"^data.name: expected one of .*got 'iris'$"):
        load_dataset(DataConfig(name="iris"))
