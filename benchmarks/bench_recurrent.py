"""Training steps per second of the recurrent engine (RNN / LSTM / GRU) against its peers.

One step = forward through time, MSE read-out of the last hidden state, backpropagation
through time and an SGD update, on one layer; the same shapes for every implementation:

  * engine   -- ``engine.recurrent.RecurrentSession.step`` (Numba kernels, float64 / float32)
  * numpy    -- the plain-NumPy reference of the tests (tests/reference_rnn.py: batch-major,
    one matrix product per gate and time step, written for clarity), float64
  * torch    -- ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` + ``nn.Linear`` on the CPU with SGD, when
    PyTorch is installed (it is not a dependency: the script says so and goes on)

Every implementation runs with 1 BLAS / intra-op thread, so the figures compare the code,
not the core count.  Prints steps/s and the engine's ratio to each peer.

    python benchmarks/bench_recurrent.py [--seconds 1.5] [--dtype float64 float32]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from engine import threads  # noqa: E402
from engine.config import ExperimentConfig, updated  # noqa: E402
from engine.recurrent import RecurrentSession  # noqa: E402

CELLS = ("rnn", "lstm", "gru")
#: (sequence length T, batch B, hidden units H); 2 inputs (the adding problem's)
SHAPES = ((50, 32, 32), (100, 32, 64), (200, 16, 128))


def _rate(step, seconds: float) -> float:
    """Steps per second of ``step()`` over about ``seconds`` (after one warm-up step)."""
    step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        step()
        n += 1
    return n / (time.perf_counter() - t0)


def engine_rate(cell: str, T: int, B: int, H: int, dtype: str, seconds: float) -> float:
    config = updated(
        ExperimentConfig(name=cell),
        **{
            "recurrent.cell": cell,
            "recurrent.seq_len": T,
            "model.loss": "mse",
            "model.depth": 1,
            "model.width": H,
            "model.dtype": dtype,
            "data.n_samples": 8 * B,
            "data.test_fraction": 0.0,
            "training.batch_size": B,
            "training.learning_rate": 0.01,
            "training.eval_every": 0,
        },
    )
    session = RecurrentSession(config)
    return _rate(session.step, seconds)


def numpy_rate(cell: str, T: int, B: int, H: int, seconds: float) -> float:
    import reference_rnn as ref

    rng = np.random.default_rng(0)
    G = ref.GATES[cell]
    layer = {
        "Wx": rng.normal(0, 0.3, (2, G * H)),
        "Wh": rng.normal(0, 1 / np.sqrt(H), (H, G * H)),
        "b": np.zeros(G * H + (H if cell == "gru" else 0)),
    }
    V, c = rng.normal(0, 0.3, (H, 1)), np.zeros(1)
    X, y = rng.uniform(size=(B, T, 2)), rng.uniform(size=(B, 1))

    def step():
        _, grads, (dV, dc), _ = ref.forward_backward(cell, [layer], V, c, X, y)
        for key, g in grads[0].items():
            layer[key] -= 0.01 * g
        V[:] -= 0.01 * dV
        c[:] -= 0.01 * dc

    return _rate(step, seconds)


def torch_rate(torch, cell: str, T: int, B: int, H: int, seconds: float) -> float:
    nn = torch.nn
    rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](2, H, batch_first=True)
    head = nn.Linear(H, 1)
    opt = torch.optim.SGD([*rnn.parameters(), *head.parameters()], lr=0.01)
    X, y = torch.rand(B, T, 2, dtype=torch.float32), torch.rand(B, 1)

    def step():
        opt.zero_grad()
        out, _ = rnn(X)
        loss = ((head(out[:, -1]) - y) ** 2).mean()
        loss.backward()
        opt.step()

    return _rate(step, seconds)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=1.5, help="timing per figure")
    p.add_argument("--dtype", nargs="+", default=["float64", "float32"])
    args = p.parse_args(argv)
    torch = _torch()
    if torch is None:
        print("PyTorch not installed: torch columns skipped (pip install torch to compare)")
    else:
        print(f"PyTorch {torch.__version__}, CPU, float32, 1 thread")
    print("steps/s, 1 layer, 2 inputs, MSE read-out, SGD; 1 BLAS thread everywhere")
    head = f"{'cell':>5} {'T':>4} {'B':>3} {'H':>4}"
    cols = [f"engine {d}" for d in args.dtype] + ["numpy f64", f"{args.dtype[0]}/numpy"]
    if torch is not None:
        cols += ["torch f32", "engine f32/torch"]
    print(head + "".join(f"{c:>18}" for c in cols))
    with threads.limited(1):
        for cell in CELLS:
            for T, B, H in SHAPES:
                rates = [engine_rate(cell, T, B, H, d, args.seconds) for d in args.dtype]
                ref = numpy_rate(cell, T, B, H, args.seconds)
                row = [*rates, ref, rates[0] / ref]
                if torch is not None:
                    tr = torch_rate(torch, cell, T, B, H, args.seconds)
                    row += [tr, rates[-1] / tr]
                cells = "".join(f"{v:>18.1f}" for v in row)
                print(f"{cell:>5} {T:>4} {B:>3} {H:>4}{cells}", flush=True)


if __name__ == "__main__":
    main()
