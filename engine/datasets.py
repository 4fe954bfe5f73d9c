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

import csv
import gzip
import io
import math
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.config import cut, file_problem, shown
from engine.resources import asset

if TYPE_CHECKING:  # only for annotations: keeps this module importable on its own
    from engine.config import DataConfig

ASSETS_DIR = asset("data")
KERAS_MNIST = Path("~/.keras/datasets/mnist.npz")  # expanded at call time (tests move HOME)

SYNTHETIC = ("spiral", "circles", "xor", "moons", "blobs", "surface")
BUNDLED = ("digits", "breast_cancer")

DIGITS_DESCRIPTION = (
    "8x8 handwritten digits (UCI Optical Recognition of Handwritten Digits, Alpaydin & Kaynak "
    "1998, as shipped in scikit-learn; CC BY 4.0)"
)
BREAST_CANCER_DESCRIPTION = (
    "Breast Cancer Wisconsin (Diagnostic), malignant vs benign (UCI, Wolberg, Street & "
    "Mangasarian 1995, as shipped in scikit-learn; CC BY 4.0)"
)
MNIST_DESCRIPTION = "MNIST 28x28 handwritten digits (LeCun, Cortes & Burges), own train/test split"

# MNIST IDX files: (stem, kind); accepted names are "<stem>-<kind>-ubyte" and
# "<stem>.<kind>-ubyte", each optionally gzipped (".gz").
MNIST_IDX = (
    ("train-images", "idx3"),
    ("train-labels", "idx1"),
    ("t10k-images", "idx3"),
    ("t10k-labels", "idx1"),
)
#: the data sets whose features are pixel intensities, and the largest intensity of each
IMAGE_MAX = {"mnist": 255, "digits": 16}
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})


class DataError(ValueError):
    """A data set cannot be loaded; the message names the file/field and what was expected."""


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


def _features(X) -> np.ndarray:
    """The engine's feature layout: float64, C-contiguous."""
    return np.ascontiguousarray(X, dtype=np.float64)


def _class_sizes(n: int, k: int) -> list[int]:
    """Split n examples as evenly as possible over k classes."""
    return [n // k + (c < n % k) for c in range(k)]


def _labels(sizes: list[int]) -> np.ndarray:
    """(sum(sizes),) int64: sizes[0] zeros, then sizes[1] ones, ..."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


# ----------------------------------------------------------------------------- synthetic
# TensorFlow-Playground-like sets, rescaled from the Playground's [-5, 5] to about [-1, 1].
# ``noise`` is always the std of Gaussian noise added to every feature (to the target for
# ``surface``).  ``rng`` is a Generator or a seed.


def make_spiral(n: int, noise: float, n_classes: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms, 1.75 turns each, radius 0 -> 1."""
    rng = np.random.default_rng(rng)
    parts = []
    for c, m in enumerate(_class_sizes(n, n_classes)):
        r = np.arange(m) / max(m, 1)
        theta = 1.75 * 2 * np.pi * r + 2 * np.pi * c / n_classes
        parts.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
    X = np.concatenate(parts) + noise * rng.standard_normal((n, 2))
    return _features(X), _labels(_class_sizes(n, n_classes))


def _ring(m: int, r_lo: float, r_hi: float, rng: np.random.Generator) -> np.ndarray:
    """(m, 2) points uniform in radius r_lo..r_hi and in angle."""
    r = rng.uniform(r_lo, r_hi, m)
    angle = rng.uniform(0, 2 * np.pi, m)
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)])


def make_circles(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: disc of radius 0.5; class 1: ring 0.7..1 around it."""
    rng = np.random.default_rng(rng)
    sizes = _class_sizes(n, 2)
    X = np.concatenate([_ring(sizes[0], 0.0, 0.5, rng), _ring(sizes[1], 0.7, 1.0, rng)])
    X += noise * rng.standard_normal((n, 2))
    return _features(X), _labels(sizes)


def make_xor(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Uniform square; class 1 where x1 and x2 have the same sign (quadrants I and III)."""
    rng = np.random.default_rng(rng)
    y = _labels(_class_sizes(n, 2))
    # As in the Playground, keep a small gap along the axes so the clean labels are separable.
    X = rng.uniform(0.05, 1.0, (n, 2))
    s1 = rng.choice([-1.0, 1.0], n)
    X[:, 0] *= s1
    X[:, 1] *= np.where(y == 1, s1, -s1)  # the label picks the quadrant: classes stay balanced
    X += noise * rng.standard_normal((n, 2))
    return _features(X), y


def make_moons(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (scikit-learn's shape), mapped to x in [-1, 1]."""
    rng = np.random.default_rng(rng)
    sizes = _class_sizes(n, 2)
    t0 = rng.uniform(0, np.pi, sizes[0])
    t1 = rng.uniform(0, np.pi, sizes[1])
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = (np.concatenate([upper, lower]) - [0.5, 0.25]) / 1.5  # [-1,2]x[-0.5,1] -> [-1,1]x[-.5,.5]
    X += noise * rng.standard_normal((n, 2))
    return _features(X), _labels(sizes)


def make_blobs(n: int, noise: float, n_classes: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs (std 0.15, plus ``noise``) centred on a circle of radius 0.5."""
    rng = np.random.default_rng(rng)
    sizes = _class_sizes(n, n_classes)
    angle = np.pi / 4 + 2 * np.pi * np.arange(n_classes) / n_classes  # K=2: Playground diagonal
    centres = 0.5 * np.column_stack([np.cos(angle), np.sin(angle)])
    y = _labels(sizes)
    X = centres[y] + 0.15 * rng.standard_normal((n, 2)) + noise * rng.standard_normal((n, 2))
    return _features(X), y


def surface_function(X: np.ndarray) -> np.ndarray:
    """The clean regression target of ``surface``: sin(pi x1) cos(pi x2 / 2), in [-1, 1]."""
    return np.sin(np.pi * X[:, 0]) * np.cos(0.5 * np.pi * X[:, 1])


def make_surface(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Regression: X uniform in [-1, 1]^2, y (n, 1) = surface_function(X) + noise."""
    rng = np.random.default_rng(rng)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = surface_function(X) + noise * rng.standard_normal(n)
    return _features(X), np.ascontiguousarray(y[:, None], dtype=np.float64)


# ----------------------------------------------------------------------------- bundled


def _load_bundled(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Read ``assets/data/<name>.npz`` written by ``assets/data/make_bundled.py``."""
    path = ASSETS_DIR / f"{name}.npz"
    if not path.is_file():
        raise DataError(
            f"{path}: bundled data set missing; regenerate it with "
            "`python assets/data/make_bundled.py` (needs scikit-learn)"
        )
    with np.load(path, allow_pickle=False) as z:
        X, y = _features(z["X"]), z["y"].astype(np.int64)
        feature_names = tuple(str(s) for s in z["feature_names"])
        class_names = tuple(str(s) for s in z["class_names"])
    return X, y, feature_names, class_names


def load_digits() -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Bundled 8x8 digits: X (1797, 64) float64 pixel counts 0..16, y (1797,) in 0..9."""
    return _load_bundled("digits")


def load_breast_cancer() -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Bundled breast cancer: X (569, 30) float64, y (569,) 0 = malignant, 1 = benign."""
    return _load_bundled("breast_cancer")


# ----------------------------------------------------------------------------- MNIST


#: IDX dimensions: 1 for labels, 3 for images (2 is accepted: images already flattened)
_IDX_MAX_DIMS = 3


def _open_idx(path: Path):
    """A binary stream of an IDX file, decompressing on the fly if it is gzipped."""
    f = path.open("rb")
    if f.read(2) == b"\x1f\x8b":  # gzip magic: decide by content, not by the file name
        f.close()
        return gzip.open(path, "rb")
    f.seek(0)
    return f


def _read_exactly(f, n: int) -> bytearray:
    """``n`` bytes from ``f`` (fewer only at the end of the stream), in a writable buffer."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = f.readinto(view[got:])
        if not k:
            return buf[:got]
        got += k
    return buf


def _idx_header(path: Path, f) -> tuple[int, ...]:
    """The dimensions stated by an IDX header (``000008`` magic = unsigned bytes)."""
    head = f.read(4)
    if len(head) < 4 or head[:3] != b"\x00\x00\x08":
        raise DataError(
            f"{path}: not an IDX file of unsigned bytes "
            f"(magic number {head[:4].hex() or 'empty'}, expected 000008xx)"
        )
    ndim = head[3]
    if not 1 <= ndim <= _IDX_MAX_DIMS:
        raise DataError(
            f"{path}: IDX header says {ndim} dimensions, expected 1 (labels) or 3 (images)"
        )
    raw = f.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise DataError(f"{path}: truncated IDX header")
    return struct.unpack(f">{ndim}I", raw)


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes (raw or gzipped) as a uint8 array of its stated shape.

    The header is read first and its size checked against the memory limit; then exactly
    that many bytes are read (a small gzip file announcing gigabytes is refused before
    anything is decompressed).
    """
    from engine.limits import format_bytes

    problem = file_problem(path)
    if problem:
        raise DataError(f"{path}: {problem}, expected an IDX file")
    try:
        with _open_idx(path) as f:
            dims = _idx_header(path, f)
            n, limit = math.prod(dims), _data_byte_limit()
            if n > limit:
                raise DataError(
                    f"{path}: IDX header announces shape {dims} "
                    f"({format_bytes(n)}), more than the limit of "
                    f"{format_bytes(limit)} for MNIST data"
                )
            data = _read_exactly(f, n)
            extra = bool(f.read(1))
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: unreadable or corrupt file ({e})") from None
    if len(data) != n or extra:
        held = f"{len(data)}" if len(data) < n else "more"
        raise DataError(
            f"{path}: IDX header announces shape {dims} ({n} bytes) "
            f"but the file holds {held} data bytes"
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _data_byte_limit() -> int:
    """Largest raw MNIST array read: its float64 copies (x 16) must fit the memory limit."""
    from engine.limits import memory_limit

    return memory_limit() // 16


def _find_idx(folder: Path, stem: str, kind: str) -> Path | None:
    """The IDX file for (stem, kind) in ``folder`` under any accepted spelling."""
    for base in (f"{stem}-{kind}-ubyte", f"{stem}.{kind}-ubyte"):
        for name in (base, base + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def _read_mnist_folder(folder: Path) -> tuple[np.ndarray, ...]:
    """x_train, y_train, x_test, y_test from the four IDX files in ``folder``."""
    found = {(s, k): _find_idx(folder, s, k) for s, k in MNIST_IDX}
    missing = [f"{s}-{k}-ubyte[.gz]" for (s, k), p in found.items() if p is None]
    if missing:
        if (folder / "mnist.npz").is_file() and len(missing) == len(MNIST_IDX):
            return _read_mnist_npz(folder / "mnist.npz")
        raise DataError(
            f"{folder}: MNIST folder lacks {', '.join(missing)}; expected the four "
            "IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, "
            "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (raw or .gz)"
        )
    return tuple(_read_idx(found[key]) for key in MNIST_IDX)


_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _read_mnist_npz(path: Path) -> tuple[np.ndarray, ...]:
    """x_train, y_train, x_test, y_test from a Keras-style ``mnist.npz``.

    Each array's header (shape, dtype) is checked against the memory limit before its data
    is decompressed; pickled (object) arrays are never loaded.
    """
    problem = file_problem(path)
    if problem:
        raise DataError(f"{path}: {problem}, expected a Keras-style mnist.npz")
    if not zipfile.is_zipfile(path):
        with path.open("rb") as f:
            npy = f.read(6) == b"\x93NUMPY"
        hint = " (this is a single .npy array; save the four arrays with np.savez)" if npy else ""
        raise DataError(
            f"{path}: not a readable .npz archive (not a zip file){hint}; expected "
            "a Keras-style mnist.npz with x_train, y_train, x_test, y_test"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            missing = [k for k in _NPZ_KEYS if f"{k}.npy" not in names]
            if missing:
                raise DataError(
                    f"{path}: missing arrays {', '.join(missing)}; expected "
                    "Keras-style x_train, y_train, x_test, y_test"
                )
            return tuple(_read_npz_member(path, zf, k) for k in _NPZ_KEYS)
    except (
        OSError,
        EOFError,
        ValueError,
        RuntimeError,
        NotImplementedError,
        zlib.error,
        zipfile.BadZipFile,
    ) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(
            f"{path}: not a readable .npz archive ({type(e).__name__}: {str(e)[:120]})"
        ) from None


def _read_npz_member(path: Path, zf: zipfile.ZipFile, key: str) -> np.ndarray:
    """One array of an .npz: header first (dtype, size against the limit), then its bytes."""
    from engine.limits import format_bytes

    with zf.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(f)
        if dtype.hasobject or dtype.kind not in "biuf":
            raise DataError(f"{path}: {key} has dtype {dtype}, expected numbers")
        n = math.prod(shape) * dtype.itemsize
        if n > _data_byte_limit():
            raise DataError(
                f"{path}: {key} announces shape {shape} ({format_bytes(n)}), more "
                f"than the limit of {format_bytes(_data_byte_limit())}"
            )
        data = _read_exactly(f, n)
    if len(data) != n:
        raise DataError(f"{path}: {key} is truncated ({len(data)} of {n} bytes)")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _check_mnist_split(
    source: Path, split: str, images: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One split as (n, pixels) images and (n,) int64 labels 0..9, or DataError saying why."""
    if images.ndim not in (2, 3) or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{source}: MNIST {split} images {images.shape} and labels "
            f"{labels.shape} do not match; expected (n, 28, 28) and (n,)"
        )
    if split == "train" and len(images) == 0:
        raise DataError(f"{source}: MNIST train split has no images")
    flat = images.reshape(len(images), -1)
    if flat.shape[1] == 0:
        raise DataError(f"{source}: MNIST {split} images have no pixels {images.shape}")
    if flat.dtype.kind == "f" and not np.isfinite(flat).all():
        raise DataError(
            f"{source}: MNIST {split} images hold NaN or infinite pixels; expected numbers 0..255"
        )
    if labels.dtype.kind == "f" and not (
        np.isfinite(labels).all() and (labels == np.round(labels)).all()
    ):
        raise DataError(
            f"{source}: MNIST {split} labels must be whole numbers 0..9, found "
            "NaN, infinite or fractional values"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(
            f"{source}: MNIST {split} labels must be digits 0..9, "
            f"found {labels.min()}..{labels.max()}"
        )
    return flat, labels.astype(np.int64)


def _check_mnist(source: Path, arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Validate shapes/labels; images become (n, h*w), labels (n,) int64."""
    out = [
        *_check_mnist_split(source, "train", *arrays[:2]),
        *_check_mnist_split(source, "test", *arrays[2:]),
    ]
    if out[0].shape[1] != out[2].shape[1]:
        raise DataError(
            f"{source}: MNIST train images have {out[0].shape[1]} pixels, "
            f"test images {out[2].shape[1]}"
        )
    return tuple(out)


def _read_mnist(path: str | Path) -> tuple[Path, tuple[np.ndarray, ...]]:
    """(source, (x_train (n, 784) raw pixels, y_train, x_test, y_test)) from any accepted place."""
    if str(path) == "":
        source = KERAS_MNIST.expanduser()
        if not source.is_file():
            raise DataError(
                f"MNIST not found: data.path is empty and {source} does not exist. Put the "
                "Keras-style mnist.npz there, or set data.path to an mnist.npz file or to a "
                "folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (raw or .gz)"
            )
    else:
        source = Path(path).expanduser()
    if source.is_dir():
        arrays = _read_mnist_folder(source)
    elif source.exists():
        arrays = _read_mnist_npz(source)
    else:
        raise DataError(
            f"{source}: not found; expected a Keras-style mnist.npz or a folder "
            "with the four MNIST IDX files"
        )
    return source, _check_mnist(source, arrays)


def _pixels(images: np.ndarray) -> np.ndarray:
    """Raw 0..255 pixels -> float64 in [0, 1]."""
    return _features(images) / 255.0


def load_mnist(path: str | Path = "") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as (X_train, y_train, X_test, y_test): X (n, 784) float64 in [0, 1], y int64.

    ``path``: a Keras-style ``mnist.npz`` (x_train, y_train, x_test, y_test), or a folder
    holding the four IDX files (``train-images-idx3-ubyte`` or ``train-images.idx3-ubyte``,
    raw or ``.gz``).  ``""`` means the Keras cache ``~/.keras/datasets/mnist.npz``; nothing is
    downloaded.  MNIST keeps its own 60000/10000 split, so ``load_dataset`` ignores
    ``test_fraction`` for it.
    """
    _, (x_tr, y_tr, x_te, y_te) = _read_mnist(path)
    return _pixels(x_tr), y_tr, _pixels(x_te), y_te


# ----------------------------------------------------------------------------- CSV


def _is_number(text: str) -> bool:
    """True if ``float`` accepts the field."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _sniff_delimiter(text: str) -> str:
    """The most frequent of , tab ; on the first non-blank line (ties: that order)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max((",", "\t", ";"), key=first.count)


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank record of a text CSV file."""
    from engine.limits import format_bytes

    problem = file_problem(path)
    if problem == "no such file":
        raise DataError(f"{path}: file not found")
    if problem:
        raise DataError(f"{path}: {problem}, expected a CSV file")
    limit = _data_byte_limit() // 2  # parsed text takes ~30x the file's size at its peak
    if path.stat().st_size > limit:
        raise DataError(
            f"{path}: {format_bytes(path.stat().st_size)}, more than the limit of "
            f"{format_bytes(limit)} for a CSV file"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: drop a spreadsheet's BOM
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file, expected CSV") from None
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text))
    rows = []
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                rows.append((reader.line_num, [f.strip() for f in fields]))
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: {e}") from None
    if not rows:
        raise DataError(f"{path}: file is empty, expected numeric feature columns and a label")
    return rows


def _label_index(path: Path, label_column: str | int, header: list[str] | None, n_cols: int) -> int:
    """0-based index of the label column, given by name (needs a header) or integer index."""
    text = str(label_column).strip()
    if re.fullmatch(r"[+-]?\d{1,18}", text):  # longer digit strings are out of range anyway
        i = int(text)
        if not -n_cols <= i < n_cols:
            raise DataError(
                f"{path}: label column {i} is out of range for {n_cols} columns "
                f"(use 0..{n_cols - 1} or -{n_cols}..-1)"
            )
        return i % n_cols
    if header is None:
        raise DataError(
            f"{path}: label column {shown(text)} is a name, but the file has no header "
            "row (line 1 is numeric); give an integer index such as -1"
        )
    if text not in header:
        raise DataError(
            f"{path}: unknown label column {shown(text)}; columns are "
            + cut(", ".join(repr(h) for h in header), 300)
        )
    return header.index(text)


def _column_name(header: list[str] | None, c: int) -> str:
    """Header name of column c, or 'column <c+1>' when there is no header."""
    if header is not None and header[c]:
        return header[c] if len(header[c]) <= 80 else header[c][:79] + "…"
    return f"column {c + 1}"


def _where(path: Path, line: int, header: list[str] | None, c: int) -> str:
    """'file: line L, column C ('name')' with 1-based line and column numbers."""
    return f"{path}: line {line}, column {c + 1} ({_column_name(header, c)!r})"


def _parse_features(
    path: Path, rows: list[tuple[int, list[str]]], header: list[str] | None, cols: list[int]
) -> np.ndarray:
    """(n, len(cols)) float64 from the given columns; DataError at the first bad cell."""
    cells = [[fields[c] for c in cols] for _, fields in rows]
    try:
        X = np.array(cells, dtype=str).astype(np.float64)  # fast path for clean files
        if np.isfinite(X).all():
            return _features(X)
    except ValueError:
        pass
    for line, fields in rows:  # slow path: find the first offending cell and say where it is
        for c in cols:
            value = fields[c]
            if value.lower() in MISSING_TOKENS:
                raise DataError(
                    f"{_where(path, line, header, c)}: missing value {shown(value)}, "
                    "expected a number"
                )
            if not _is_number(value):
                raise DataError(
                    f"{_where(path, line, header, c)}: non-numeric value "
                    f"{shown(value)}, expected a number"
                )
            if not math.isfinite(float(value)):
                raise DataError(
                    f"{_where(path, line, header, c)}: non-finite value "
                    f"{shown(value)}, expected a finite number"
                )
    # Every cell is fine for Python's float (which accepts a little more than NumPy's parser).
    return _features([[float(fields[c]) for c in cols] for _, fields in rows])


def _parse_labels(
    path: Path, rows: list[tuple[int, list[str]]], header: list[str] | None, c: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels -> (n,) int64 in 0..K-1 (sorted: numerically if all numbers) and class names."""
    values = [fields[c] for _, fields in rows]
    for (line, _), v in zip(rows, values, strict=True):
        if v.lower() in MISSING_TOKENS:
            raise DataError(f"{_where(path, line, header, c)}: missing label {shown(v)}")
    if all(_is_number(v) for v in values):
        for (line, _), v in zip(rows, values, strict=True):
            if not float(v).is_integer():
                raise DataError(
                    f"{_where(path, line, header, c)}: label {shown(v)} is not a whole "
                    "number; expected class labels (integers or names)"
                )
        keys = [int(float(v)) for v in values]
    else:
        keys = values
    classes = sorted(set(keys))
    if len(classes) < 2:
        raise DataError(
            f"{path}: label column {c + 1} ({_column_name(header, c)!r}) has only "
            f"one class ({shown(classes[0])}); expected at least two"
        )
    index = {k: i for i, k in enumerate(classes)}
    y = np.array([index[k] for k in keys], dtype=np.int64)
    return y, tuple(str(k) for k in classes)


def _is_header(fields: list[str]) -> bool:
    """True if a first row names columns rather than holding an example.

    A row without any number is a header (a data row may hold a text label).  So is a row of
    column numbers, 0, 1, 2, ... or 1, 2, 3, ... (pandas writes integer column names that
    way): an example whose features and label count up exactly like that is not worth the
    wrong guess the other way.
    """
    if not any(_is_number(f) for f in fields):
        return True
    if len(fields) < 3 or not all(re.fullmatch(r"\d{1,9}", f) for f in fields):
        return False
    numbers = [int(f) for f in fields]
    return numbers[0] in (0, 1) and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def load_csv(
    path: str | Path, label_column: str | int = "-1"
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """A classification CSV file -> (X (n, d) float64, y (n,) int64, feature_names, class_names).

    The delimiter (comma, tab or semicolon) is sniffed from the first line.  The first row
    is a header when none of its fields is a number, or when it numbers the columns
    0, 1, 2, ... or 1, 2, 3, ... (see :func:`_is_header`).  ``label_column`` is a header name or a
    Python-style integer index ("-1" = last column); every other column must be numeric.
    Labels may be integers or strings and are mapped to 0..K-1 in sorted order.  Errors name
    the file, the 1-based line and column, and what was expected.
    """
    path = Path(path)
    rows = _read_rows(path)
    header = None
    first_line = rows[0][0]  # the line every row must match in field count
    if _is_header(rows[0][1]):
        header = rows[0][1]
        rows = rows[1:]
    n_cols = len(header) if header is not None else len(rows[0][1])
    if n_cols < 2:
        raise DataError(
            f"{path}: found {n_cols} column, expected numeric feature columns "
            "and a label column (delimiter , tab or ;)"
        )
    label = _label_index(path, label_column, header, n_cols)
    if not rows:
        raise DataError(f"{path}: no data rows after the header line")
    for line, fields in rows:
        if len(fields) != n_cols:
            raise DataError(
                f"{path}: line {line}: expected {n_cols} fields (like line "
                f"{first_line}), found {len(fields)}"
            )
    cols = [c for c in range(n_cols) if c != label]
    X = _parse_features(path, rows, header, cols)
    y, class_names = _parse_labels(path, rows, header, label)
    return X, y, tuple(_column_name(header, c) for c in cols), class_names


# ----------------------------------------------------------------------------- split, scale


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
        _features(X[train]),
        np.ascontiguousarray(y[train]),
        _features(X[test]),
        np.ascontiguousarray(y[test]),
    )


_CHUNK = 1 << 20  # elements per chunk of the in-place passes: 8 MB of float64 scratch at most


def _row_chunks(X: np.ndarray):
    """Row slices of ``X`` holding about ``_CHUNK`` elements each (at least one row)."""
    step = max(1, _CHUNK // max(1, X.shape[1]))
    for lo in range(0, X.shape[0], step):
        yield slice(lo, lo + step)


def _column_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std (population) of ``X`` in float64, by row chunks.

    Two passes (mean, then squared deviations) keep the precision of ``X.std(axis=0)`` without
    its full-size float64 temporaries; a set of one chunk gives exactly NumPy's numbers.
    """
    n = X.shape[0]
    total = np.zeros(X.shape[1])
    for rows in _row_chunks(X):
        total += X[rows].sum(axis=0, dtype=np.float64)
    mean = total / n
    squares = np.zeros(X.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):  # near 1e308: callers check finiteness
        for rows in _row_chunks(X):
            d = X[rows].astype(np.float64) - mean
            squares += (d * d).sum(axis=0)
    return mean, np.sqrt(squares / n)


def _affine_(X: np.ndarray, shift: np.ndarray, divisor: np.ndarray) -> None:
    """X <- (X - shift) / divisor in place, by row chunks (no full-size temporary)."""
    for rows in _row_chunks(X):
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
    """Apply ``scaling`` (see :data:`engine.config.SCALINGS`) to float arrays IN PLACE.

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
            for rows in _row_chunks(X):
                X[rows] /= IMAGE_MAX[name]
    else:
        from engine.config import SCALINGS

        raise DataError(f"data.scaling: expected one of {', '.join(SCALINGS)}, got {scaling!r}")


def scale(
    X_train: np.ndarray, X_test: np.ndarray, scaling: str, name: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """``scale_`` on float64 copies of both splits."""
    X_train, X_test = np.array(X_train, dtype=np.float64), np.array(X_test, dtype=np.float64)
    scale_(X_train, X_test, scaling, name)
    return X_train, X_test


# ----------------------------------------------------------------------------- load_dataset


def _synthetic(cfg: DataConfig, rng: np.random.Generator):
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


def _rows_as(images: np.ndarray, rows: np.ndarray, dtype) -> np.ndarray:
    """``images[rows]`` converted to ``dtype``, filled by chunks: no uint8 copy of the
    selection and no float64 intermediate when ``dtype`` is float32."""
    out = np.empty((len(rows), images.shape[1]), dtype=dtype)
    for part in _row_chunks(out):
        out[part] = images[rows[part]]
    return out


def _load_mnist_dataset(cfg: DataConfig, rng: np.random.Generator, dtype) -> Dataset:
    """MNIST with its own split, shuffled and subset, held once in memory in ``dtype``."""
    source, (x_tr, y_tr, x_te, y_te) = _read_mnist(cfg.path)
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
        X, y, task, k, class_names, description = _synthetic(cfg, rng)
        feature_names = ("x1", "x2")
    elif cfg.name in BUNDLED:
        loader = load_digits if cfg.name == "digits" else load_breast_cancer
        X, y, feature_names, class_names = loader()
        task, k = "classification", len(class_names)
        description = DIGITS_DESCRIPTION if cfg.name == "digits" else BREAST_CANCER_DESCRIPTION
    elif cfg.name == "csv":
        if not cfg.path:
            raise DataError("data.path: empty; expected the path of a CSV file")
        X, y, feature_names, class_names = load_csv(cfg.path, cfg.label_column)
        task, k = "classification", len(class_names)
        description = f"CSV file {cfg.path}, label column {cfg.label_column!r}"
    else:
        raise DataError(
            f"data.name: expected one of {', '.join(SYNTHETIC + BUNDLED)}, mnist, "
            f"csv, got {cfg.name!r}"
        )
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
