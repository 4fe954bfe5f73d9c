"""MNIST-sized data: peak memory of loading it, and the share of run time spent evaluating.

Synthetic stand-ins for MNIST (random uint8 pixels, digit labels), so no download is needed:

  * memory -- writes 60000 + 10000 images of 28x28 uint8 as IDX files and as an ``mnist.npz``
    in a temporary folder, then, in a fresh process per case, builds a ``Session`` on them
    (load, scale, convert to the engine's dtype) and prints the tracemalloc peak, the peak RSS
    and the size of the arrays the session keeps.
  * eval   -- trains a 784-16-10 net (seed 002's) on a 60000 x 784 set with a 10000-example
    test split and prints the time spent evaluating as a fraction of the time spent training,
    for each ``training.eval_every`` given.

    python benchmarks/bench_data.py memory [--dtype float32 float64] [--scaling standardize]
    python benchmarks/bench_data.py eval [--every 45 auto] [--steps 4000] [--dtype float32]
"""

from __future__ import annotations

import argparse
import gzip
import json
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_TRAIN, N_TEST, SIDE = 60000, 10000, 28


def synthetic_mnist(seed: int = 0) -> tuple[np.ndarray, ...]:
    """x_train (60000, 28, 28) uint8, y_train (60000,) uint8, x_test, y_test: MNIST's shapes."""
    rng = np.random.default_rng(seed)
    arrays = []
    for n in (N_TRAIN, N_TEST):
        arrays.append(rng.integers(0, 256, (n, SIDE, SIDE), dtype=np.uint8))
        arrays.append(rng.integers(0, 10, n, dtype=np.uint8))
    return tuple(arrays)


def _write_idx(path: Path, a: np.ndarray, compress: bool = False) -> None:
    """IDX file of unsigned bytes: magic 0x0000080n, big-endian dims, raw data."""
    raw = b"\x00\x00\x08" + bytes([a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()
    path.write_bytes(gzip.compress(raw, 1) if compress else raw)


def write_synthetic(folder: Path) -> tuple[Path, Path]:
    """(IDX folder, npz file) holding the same synthetic MNIST."""
    x_tr, y_tr, x_te, y_te = synthetic_mnist()
    idx = folder / "idx"
    idx.mkdir(parents=True, exist_ok=True)
    for name, a in (
        ("train-images-idx3-ubyte", x_tr),
        ("train-labels-idx1-ubyte", y_tr),
        ("t10k-images-idx3-ubyte", x_te),
        ("t10k-labels-idx1-ubyte", y_te),
    ):
        _write_idx(idx / name, a)
    npz = folder / "mnist.npz"
    np.savez(npz, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
    return idx, npz


# ----------------------------------------------------------------------------- memory

CHILD = """
import json, resource, sys, tracemalloc
sys.path.insert(0, {root!r})
from engine.config import ExperimentConfig, updated
from engine.session import Session
cfg = updated(ExperimentConfig(), **{{"data.name": "mnist", "data.path": {path!r},
      "data.scaling": {scaling!r}, "model.dtype": {dtype!r}, "model.depth": 1,
      "model.width": 16}})
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
s = Session(cfg)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kept = s.X.nbytes + s.X_test.nbytes
print(json.dumps({{"peak": peak, "kept": kept, "rss0": rss0 * 1024, "rss1": rss1 * 1024}}))
"""


def _measure(path: Path, dtype: str, scaling: str) -> dict:
    code = CHILD.format(root=str(ROOT), path=str(path), dtype=dtype, scaling=scaling)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_memory(dtypes: list[str], scaling: str) -> None:
    mb = 1 / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        idx, npz = write_synthetic(Path(tmp))
        print(f"synthetic MNIST {N_TRAIN}+{N_TEST} x {SIDE * SIDE} uint8, scaling {scaling}")
        print(
            f"{'source':<6} {'dtype':<8} {'kept MB':>8} {'tracemalloc peak MB':>20} "
            f"{'peak/kept':>9} {'RSS growth MB':>14} {'peak RSS MB':>12}"
        )
        for source, path in (("idx", idx), ("npz", npz)):
            for dtype in dtypes:
                r = _measure(path, dtype, scaling)
                print(
                    f"{source:<6} {dtype:<8} {r['kept'] * mb:8.0f} {r['peak'] * mb:20.0f} "
                    f"{r['peak'] / r['kept']:9.2f} {(r['rss1'] - r['rss0']) * mb:14.0f} "
                    f"{r['rss1'] * mb:12.0f}"
                )


# ----------------------------------------------------------------------------- eval


def _dataset(dtype: str):
    from engine.datasets import Dataset

    rng = np.random.default_rng(0)
    x = rng.random((N_TRAIN + N_TEST, SIDE * SIDE), dtype=np.float32).astype(dtype)
    y = rng.integers(0, 10, N_TRAIN + N_TEST)
    names = tuple(f"pixel_{i}" for i in range(SIDE * SIDE))
    return Dataset(
        "synthetic",
        x[:N_TRAIN],
        y[:N_TRAIN],
        x[N_TRAIN:],
        y[N_TRAIN:],
        "classification",
        10,
        names,
        tuple(map(str, range(10))),
        "synthetic 60k",
    )


def _timed(evaluate, spent: dict):
    """``evaluate`` adding its wall time and call count to ``spent``."""

    def timed(*args, **kwargs):
        t = time.perf_counter()
        result = evaluate(*args, **kwargs)
        spent["eval"] += time.perf_counter() - t
        spent["n"] += 1
        return result

    return timed


def bench_eval(everies: list[str], steps: int, dtype: str) -> None:
    from engine.config import ExperimentConfig, parse_value, updated
    from engine.session import Session

    dataset = _dataset(dtype)
    print(
        f"784-16-10 sigmoid, adam, batch 32, {N_TRAIN} train / {N_TEST} test, {dtype}, "
        f"{steps} steps"
    )
    for every in everies:
        cfg = updated(
            ExperimentConfig(),
            **{
                "model.depth": 1,
                "model.width": 16,
                "model.dtype": dtype,
                "training.optimizer": "adam",
                "training.learning_rate": 0.001,
                "training.eval_every": parse_value(every),
            },
        )
        s = Session(cfg, dataset)
        s.run(2)  # compile / warm up outside the timing
        s.evaluate()
        s = Session(cfg, dataset)
        spent = {"eval": 0.0, "n": 0}
        s.evaluate = _timed(s.evaluate, spent)
        t0 = time.perf_counter()
        s.run(steps)
        total = time.perf_counter() - t0
        train = total - spent["eval"]
        print(
            f"eval_every={every:<6} evaluations {spent['n']:4d}  train {train:6.2f} s  "
            f"eval {spent['eval']:6.2f} s  eval/train {spent['eval'] / train:6.1%}  "
            f"eval share of run {spent['eval'] / total:6.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("memory")
    p.add_argument("--dtype", nargs="+", default=["float32", "float64"])
    p.add_argument("--scaling", default="standardize")
    p = sub.add_parser("eval")
    p.add_argument("--every", nargs="+", default=["45", "auto"])
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--dtype", default="float32")
    args = parser.parse_args()
    if args.what == "memory":
        bench_memory(args.dtype, args.scaling)
    else:
        bench_eval(args.every, args.steps, args.dtype)


if __name__ == "__main__":
    main()
