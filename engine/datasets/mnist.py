"""MNIST from a user's files: a Keras ``mnist.npz`` or the four IDX files of a folder.

Every header, size and label is checked before anything large is read; every problem is a
:class:`~engine.datasets.common.DataError` naming the file.
"""

from __future__ import annotations

import gzip
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from engine.config import file_problem
from engine.datasets.common import DataError, as_features, data_byte_limit

__all__ = ["KERAS_MNIST", "MNIST_DESCRIPTION", "MNIST_IDX", "load_mnist"]

KERAS_MNIST = Path("~/.keras/datasets/mnist.npz")  # expanded at call time (tests move HOME)
MNIST_DESCRIPTION = "MNIST 28x28 handwritten digits (LeCun, Cortes & Burges), own train/test split"

# MNIST IDX files: (stem, kind); accepted names are "<stem>-<kind>-ubyte" and
# "<stem>.<kind>-ubyte", each optionally gzipped (".gz").
MNIST_IDX = (
    ("train-images", "idx3"),
    ("train-labels", "idx1"),
    ("t10k-images", "idx3"),
    ("t10k-labels", "idx1"),
)


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
            n, limit = math.prod(dims), data_byte_limit()
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
        if n > data_byte_limit():
            raise DataError(
                f"{path}: {key} announces shape {shape} ({format_bytes(n)}), more "
                f"than the limit of {format_bytes(data_byte_limit())}"
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


def read_mnist(path: str | Path) -> tuple[Path, tuple[np.ndarray, ...]]:
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
    return as_features(images) / 255.0


def load_mnist(path: str | Path = "") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as (X_train, y_train, X_test, y_test): X (n, 784) float64 in [0, 1], y int64.

    ``path``: a Keras-style ``mnist.npz`` (x_train, y_train, x_test, y_test), or a folder
    holding the four IDX files (``train-images-idx3-ubyte`` or ``train-images.idx3-ubyte``,
    raw or ``.gz``).  ``""`` means the Keras cache ``~/.keras/datasets/mnist.npz``; nothing is
    downloaded.  MNIST keeps its own 60000/10000 split, so ``load_dataset`` ignores
    ``test_fraction`` for it.
    """
    _, (x_tr, y_tr, x_te, y_te) = read_mnist(path)
    return _pixels(x_tr), y_tr, _pixels(x_te), y_te
