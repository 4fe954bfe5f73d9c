"""Steps per second of one training step (forward + backward + update, per-layer metrics ON).

Compares, in one run and on the same shapes:
  * engine   -- ``Session.step()``: the fused Numba kernel plus the session's bookkeeping
  * run(N)   -- ``Session.run(N)``: the many-step path, N steps per kernel call (own table)
  * numpy    -- a plain-NumPy MLP implemented below, computing the same per-layer metrics
  * torch    -- PyTorch CPU (when importable), same maths and metrics
and prints the machine's float64 matmul peak, the engine's share of it on the matmul-bound
shapes, the Numba cold-compile time and the warm start-up time (import + build + first step).

A second table times the engine in float64 and float32, on an idle machine and "loaded": while
a child process keeps one core busy (a browser, a second window).  The engine runs on the BLAS
threads engine.threads chooses for the command line (``--blas default``: the libraries' own
count, as before the policy existed; ``--blas N``: N threads).

    python benchmarks/bench_engine.py [--seconds 1.0] [--shapes playground digits10 ...]
                                      [--blas policy|default|N] [--no-load] [--only-manystep]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import threads  # noqa: E402
from engine.config import ExperimentConfig, updated  # noqa: E402
from engine.datasets import Dataset  # noqa: E402
from engine.session import Session  # noqa: E402

# name: (n_in, hidden width, depth, n_out, batch)
SHAPES = {
    "playground": (2, 8, 4, 2, 32),
    "digits10": (64, 32, 10, 10, 64),
    "mnist5": (784, 128, 5, 10, 128),
    "deep50": (64, 64, 50, 10, 64),
}
TARGETS = {"playground": 3.0, "digits10": 1.5, "mnist5": 1.0, "deep50": 1.0}


def _data(n_in: int, n_out: int, batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = batch * 16
    X = rng.normal(size=(n, n_in))
    y = rng.integers(0, n_out, size=n).astype(np.int64)
    return X, y


def _flops(n_in, width, depth, n_out, batch) -> float:
    """Multiply-adds x 2 of forward (a W), backward (a^T delta and delta W^T) per step."""
    sizes = [n_in] + [width] * depth + [n_out]
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return 2.0 * 3 * batch * macs


def _rate(step, seconds: float) -> float:
    """Steps per second of ``step()``, best of three timed windows after a warm-up."""
    for _ in range(3):
        step()
    best = 0.0
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds / 3:
            step()
            n += 1
        best = max(best, n / elapsed)
    return best


# --- engine -----------------------------------------------------------------------------------
def run_rate(shape, seconds: float, blas: str = "policy") -> tuple[float, float, float]:
    """(Session.step, Session.run) steps per second, best of three windows each, the two
    taking turns so that a shared machine's swings hit both alike; ``run`` is the many-step
    path (compiled chunks that return to Python once per chunk).  Third: ``run``'s steps
    per CPU-second of the process (all threads), which other processes cannot inflate.
    Both on the BLAS threads ``blas`` says (``--blas``), like the other tables."""
    one, many = engine_session(shape), engine_session(shape)
    with blas_limit(one, blas):
        return _run_rate(one, many, seconds)


def _run_rate(one: Session, many: Session, seconds: float) -> tuple[float, float, float]:
    for _ in range(64):
        one.step()
    many.run(64)
    best_one = best_many = best_cpu = 0.0
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds / 3:
            one.step()
            n += 1
        best_one = max(best_one, n / elapsed)
        t0, c0 = time.perf_counter(), time.process_time()
        n = many.run(10**9, seconds=seconds / 3)
        best_many = max(best_many, n / (time.perf_counter() - t0))
        best_cpu = max(best_cpu, n / max(time.process_time() - c0, 1e-9))
    return best_one, best_many, best_cpu


def engine_session(shape, dtype: str = "float64") -> Session:
    n_in, width, depth, n_out, batch = shape
    X, y = _data(n_in, n_out, batch)
    ds = Dataset(
        "bench",
        X,
        y,
        X[:0],
        y[:0],
        "classification",
        n_out,
        tuple(f"x{i}" for i in range(n_in)),
        tuple(map(str, range(n_out))),
        "random",
    )
    cfg = updated(
        ExperimentConfig(),
        **{
            "model.depth": depth,
            "model.width": width,
            "model.activation": "sigmoid",
            "model.init": "xavier_normal",
            "training.batch_size": batch,
            "training.optimizer": "sgd",
            "training.learning_rate": 0.01,
            "training.eval_every": 0,
            "model.dtype": dtype,
        },
    )
    return Session(cfg, ds)


def engine_stepper(shape):
    return engine_session(shape).step


def blas_limit(session: Session, blas: str):
    """The BLAS thread limit the engine runs under: the CLI policy, none, or a fixed count."""
    if blas == "default":
        return contextlib.nullcontext("-")
    n = threads.threads_for([session], "cli") if blas == "policy" else int(blas)
    return threads.limited(n)


def engine_rate(shape, dtype: str, seconds: float, blas: str) -> tuple[float, str]:
    """(steps/s, BLAS threads used) of the engine in ``dtype``."""
    session = engine_session(shape, dtype)
    session.step()  # compiles (or loads) the kernels before the BLAS count is chosen
    with blas_limit(session, blas) as n:
        return _rate(session.step, seconds), str(n)


def cpu_ratio(shape, seconds: float) -> float:
    """float32 / float64 steps per CPU-second on one BLAS thread, best of 3 interleaved windows.

    CPU time does not count the time other processes take the core, so this ratio holds on a
    shared machine where the wall-clock columns do not.
    """
    sessions = [engine_session(shape, dt) for dt in ("float64", "float32")]
    best = [0.0, 0.0]
    with threads.limited(1):
        for s in sessions:
            for _ in range(3):
                s.step()
        for _ in range(3):
            for i, s in enumerate(sessions):
                n, c0, t0 = 0, time.thread_time(), time.perf_counter()
                while time.perf_counter() - t0 < seconds / 6:
                    s.step()
                    n += 1
                best[i] = max(best[i], n / max(time.thread_time() - c0, 1e-9))
    return best[1] / best[0]


@contextlib.contextmanager
def one_core_busy():
    """A child process spinning on one core for the duration of the block."""
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # let it get going
        yield
    finally:
        spin.kill()
        spin.wait()


# --- plain NumPy reference ------------------------------------------------------------------
def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def numpy_stepper(shape):
    """A straightforward NumPy MLP with the same per-layer metrics as the engine."""
    n_in, width, depth, n_out, batch = shape
    X, y = _data(n_in, n_out, batch)
    T = np.eye(n_out)[y]
    rng = np.random.default_rng(1)
    sizes = [n_in] + [width] * depth + [n_out]
    Ws = [
        rng.normal(0, np.sqrt(2 / (a + b)), (a, b))
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    bs = [np.zeros(b) for b in sizes[1:]]
    lr = 0.01
    state = {"i": 0}
    L = len(Ws)

    def step():
        i = state["i"]
        state["i"] = (i + 1) % 16
        a = X[i * batch : (i + 1) * batch]
        t = T[i * batch : (i + 1) * batch]
        acts, fps, metrics = [a], [], []
        for k in range(L):
            z = acts[-1] @ Ws[k] + bs[k]
            if k < L - 1:
                a = _sigmoid(z)
                fp = a * (1 - a)
                fps.append(fp)
                metrics.append(
                    (
                        a.mean(),
                        a.std(),
                        np.abs(fp).mean(),
                        (fp <= 0.0025).mean(),
                        np.all(a == 0, axis=0).mean(),
                    )
                )
            else:
                a = z
            acts.append(a)
        z = acts[-1] - acts[-1].max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -np.mean(np.sum(t * logp, axis=1))
        delta = (np.exp(logp) - t) / batch
        grads = [None] * L
        for k in range(L - 1, -1, -1):
            dW = acts[k].T @ delta
            db = delta.sum(axis=0)
            grads[k] = (dW, db, np.linalg.norm(dW), np.sqrt(np.mean(delta**2)))
            if k:
                delta = (delta @ Ws[k].T) * fps[k - 1]
        for k in range(L):
            dW, db = grads[k][0], grads[k][1]
            step_w = -lr * dW
            ratio = np.linalg.norm(step_w) / np.linalg.norm(Ws[k])
            Ws[k] += step_w
            bs[k] -= lr * db
            metrics.append((np.linalg.norm(Ws[k]), ratio))
        return loss

    return step


# --- PyTorch ------------------------------------------------------------------------------
def torch_stepper(shape):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    n_in, width, depth, n_out, batch = shape
    X, y = _data(n_in, n_out, batch)
    X = torch.from_numpy(X)
    y = torch.from_numpy(y)
    sizes = [n_in] + [width] * depth + [n_out]
    layers = [
        torch.nn.Linear(a, b, dtype=torch.float64)
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    params = [p for lin in layers for p in lin.parameters()]
    opt = torch.optim.SGD(params, lr=0.01)
    state = {"i": 0}

    def step():
        i = state["i"]
        state["i"] = (i + 1) % 16
        a = X[i * batch : (i + 1) * batch]
        t = y[i * batch : (i + 1) * batch]
        hidden = []
        for k, lin in enumerate(layers):
            a = lin(a)
            if k < len(layers) - 1:
                a = torch.sigmoid(a)
                a.retain_grad()
                hidden.append(a)
        loss = torch.nn.functional.cross_entropy(a, t)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        with torch.no_grad():
            metrics = []
            for h in hidden:
                fp = h * (1 - h)
                metrics.append(
                    torch.stack(
                        [
                            h.mean(),
                            h.std(),
                            fp.abs().mean(),
                            (fp <= 0.0025).double().mean(),
                            (h == 0).all(dim=0).double().mean(),
                        ]
                    )
                )
            old = [lin.weight.detach().clone() for lin in layers]
            norms = [lin.weight.grad.norm() for lin in layers]
        opt.step()
        with torch.no_grad():
            for lin, w0 in zip(layers, old, strict=True):
                metrics.append((lin.weight - w0).norm() / w0.norm())
        return float(loss) if norms else 0.0

    return step


# --- machine figures ------------------------------------------------------------------------
def matmul_peak(n: int = 1024, seconds: float = 1.0) -> float:
    """float64 GFLOP/s of numpy's matmul on this machine."""
    a, b = np.random.rand(n, n), np.random.rand(n, n)
    return 2.0 * n**3 * _rate(lambda: a @ b, seconds) / 1e9


_STARTUP = """
import time; t0 = time.perf_counter()
import numpy as np
from engine.config import ExperimentConfig, updated
from engine.session import Session
from engine.datasets import Dataset
X = np.random.default_rng(0).normal(size=(64, 64)); y = np.arange(64) % 10
ds = Dataset("b", X, y, X[:0], y[:0], "classification", 10, tuple(map(str, range(64))),
             tuple(map(str, range(10))), "")
cfg = updated(ExperimentConfig(), **{"model.depth": 10, "training.eval_every": 0})
Session(cfg, ds).step()
print(time.perf_counter() - t0)
"""


def startup_times() -> tuple[float, float]:
    """(cold: empty Numba cache, warm: cache populated) seconds for import + first step."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        options = {"env": env, "cwd": ROOT, "capture_output": True, "text": True, "check": True}

        def once() -> float:
            out = subprocess.run([sys.executable, "-c", _STARTUP], **options)
            return float(out.stdout.strip().splitlines()[-1])

        cold = once()
        warm = min(once() for _ in range(3))
    return cold, warm


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.5, help="timing window per measurement")
    ap.add_argument("--shapes", nargs="*", default=list(SHAPES), choices=list(SHAPES))
    ap.add_argument("--no-startup", action="store_true", help="skip the cold/warm start-up runs")
    ap.add_argument(
        "--blas",
        default="policy",
        help="BLAS threads: policy (engine.threads, CLI), default (the libraries' "
        "own count) or a number",
    )
    ap.add_argument("--no-load", action="store_true", help="skip the float32 / loaded table")
    ap.add_argument("--only-load", action="store_true", help="only the float32 / loaded table")
    ap.add_argument("--only-manystep", action="store_true", help="only the many-step table")
    args = ap.parse_args(argv)
    if args.blas not in ("policy", "default") and not args.blas.isdigit():
        ap.error(f"--blas: expected policy, default or a number of threads, got {args.blas!r}")
    if args.only_manystep:
        manystep_table(args)
        return 0
    if not args.only_load:
        peers_table(args)
    if not args.no_load:
        dtype_load_table(args)
    if not args.no_startup and not args.only_load:
        cold, warm = startup_times()
        print(
            f"Numba cold compile + first step: {cold:.1f} s; warm start "
            f"(import + build + first step, on-disk cache): {warm:.2f} s"
        )
    return 0


def dtype_load_table(args) -> None:
    """Engine steps/s in float64 and float32, idle and with one core kept busy."""
    print(
        f"\nengine, BLAS threads: {args.blas}; loaded = another process spins on one core; "
        f"cpu = per CPU-second on 1 thread"
    )
    print(
        f"{'shape':<11}{'f64/s':>9}{'f32/s':>9}{'f32/f64':>9}{'f64 load':>10}{'f32 load':>10}"
        f"{'threads':>9}{'cpu f32/f64':>13}"
    )
    for name in args.shapes:
        shape = SHAPES[name]
        f64, n64 = engine_rate(shape, "float64", args.seconds, args.blas)
        f32, _ = engine_rate(shape, "float32", args.seconds, args.blas)
        with one_core_busy():
            l64, m64 = engine_rate(shape, "float64", args.seconds, args.blas)
            l32, _ = engine_rate(shape, "float32", args.seconds, args.blas)
        ratio = cpu_ratio(shape, args.seconds)
        print(
            f"{name:<11}{f64:>9.0f}{f32:>9.0f}{f32 / f64:>8.2f}x{l64:>10.0f}{l32:>10.0f}"
            f"{n64 + '/' + m64:>9}{ratio:>12.2f}x"
        )


def peers_table(args) -> None:
    """The engine against plain NumPy and PyTorch, float64, on the machine's peak."""
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    peak = matmul_peak()
    print(f"float64 matmul peak (numpy 1024x1024): {peak:.1f} GFLOP/s on {os.cpu_count()} cores")
    head = f"{'shape':<11}{'engine/s':>10}{'numpy/s':>10}{'torch/s':>10}{'ratio':>8}{'target':>8}"
    print(head + f"{'GFLOP/s':>9}{'of peak':>9}")
    for name in args.shapes:
        shape = SHAPES[name]
        eng, _ = engine_rate(shape, "float64", args.seconds, args.blas)
        npy = _rate(numpy_stepper(shape), args.seconds)
        tch = _rate(torch_stepper(shape), args.seconds) if have_torch else float("nan")
        best_peer = max(npy, tch) if have_torch else npy
        gflops = _flops(*shape) * eng / 1e9
        print(
            f"{name:<11}{eng:>10.0f}{npy:>10.0f}{tch:>10.0f}{eng / best_peer:>7.2f}x"
            f"{TARGETS[name]:>7.1f}x{gflops:>9.1f}{100 * gflops / peak:>8.0f}%"
        )
    if not have_torch:
        print("(torch not importable: ratio is against numpy only)")
    manystep_table(args)


def manystep_table(args) -> None:
    """Session.run(n) (the many-step path) against single step() calls."""
    print(
        f"many-step path: {'shape':<11}{'step()/s':>10}{'run(N)/s':>10}{'speed-up':>9}"
        f"{'run(N)/cpu-s':>14}"
    )
    for name in args.shapes:
        stepped, ran, cpu = run_rate(SHAPES[name], args.seconds, args.blas)
        print(f"{'':<16}{name:<11}{stepped:>10.0f}{ran:>10.0f}{ran / stepped:>8.2f}x{cpu:>14.0f}")


if __name__ == "__main__":
    sys.exit(main())
