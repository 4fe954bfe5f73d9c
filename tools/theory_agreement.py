"""How far the gradient chart's mean-field line (engine.theory_lines) is from the measured
||dL/dW_l|| at step 1, in decades per hidden layer.

    python tools/theory_agreement.py wide    # width 384, depth 8, batch 1 and 32, 4 seeds
    python tools/theory_agreement.py small   # widths 8..128, depth 10, batch 1 and 32, 8 seeds
    python tools/theory_agreement.py residual  # residual nets: width 384 (4 seeds), 64 (8)

Each line: the worst layer's |mean over seeds| of log10(measured / line), the worst single
net's, and (small) the median over nets and layers.  Digits data, learning rate 1e-9 (the
weights stay at their random init).  Results are in the README ("The theory line").
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import ExperimentConfig, updated  # noqa: E402
from engine.session import Session  # noqa: E402
from engine.theory_lines import session_lines  # noqa: E402

WIDE_CASES = [
    ("tanh", "xavier_normal", 0.05),
    ("tanh", "normal", 0.08),
    ("sigmoid", "xavier_normal", 0.05),
    ("sigmoid", "he_normal", 0.05),
    ("relu", "he_normal", 0.05),
    ("relu", "xavier_normal", 0.05),
    ("elu", "he_normal", 0.05),
    ("elu", "normal", 0.05),
]
SMALL_CASES = [("sigmoid", "xavier_normal"), ("tanh", "xavier_normal"), ("relu", "he_normal")]


RESIDUAL_CASES = [
    ("tanh", "xavier_normal"),
    ("tanh", "he_normal"),
    ("sigmoid", "xavier_normal"),
    ("relu", "he_normal"),
    ("elu", "he_normal"),
]


def gap(act, init, width, depth, batch, seed, scale=0.05, residual=False) -> np.ndarray:
    """log10(measured / line) per hidden layer at step 1."""
    model = {"depth": depth, "width": width, "activation": act, "init": init, "init_scale": scale}
    model["residual"] = residual
    training = {"batch_size": batch, "seed": seed, "learning_rate": 1e-9, "eval_every": 0}
    changes = {f"model.{k}": v for k, v in model.items()}
    changes.update({f"training.{k}": v for k, v in training.items()})
    cfg = updated(ExperimentConfig(), **{"data.name": "digits", **changes})
    s = Session(cfg)
    s.step()
    lines = session_lines(s)
    if not lines.curves:
        raise LookupError(lines.reason)
    (curve,) = lines.curves.values()
    return np.log10(s.snapshot().layers["grad_norm"][:depth] / curve[:depth])


def report(label: str, d: np.ndarray) -> None:
    worst_mean, worst_one = np.abs(d.mean(axis=0)).max(), np.abs(d).max()
    print(
        f"{label:44s} mean {worst_mean:.3f}  one net {worst_one:.3f}  "
        f"median {np.median(np.abs(d)):.3f}",
        flush=True,
    )


def main(mode: str) -> None:
    if mode == "wide":
        for batch, (act, init, scale) in itertools.product((1, 32), WIDE_CASES):
            d = np.array([gap(act, init, 384, 8, batch, seed, scale) for seed in range(4)])
            report(f"w384 d8 b{batch} {act} {init} {scale}", d)
    elif mode == "residual":  # width 64 = n_in of the digits: the first layer has a skip too
        for (width, seeds), batch in itertools.product(((384, 4), (64, 8)), (1, 32)):
            for act, init in RESIDUAL_CASES:
                label = f"residual w{width} d8 b{batch} {act} {init}"
                try:
                    d = [gap(act, init, width, 8, batch, s, residual=True) for s in range(seeds)]
                except LookupError as e:  # the app draws no line here, and says why
                    print(f"{label:44s} {e}", flush=True)
                    continue
                report(label, np.array(d))
    else:
        for width, batch in itertools.product((8, 16, 32, 64, 128), (1, 32)):
            for act, init in SMALL_CASES:
                d = np.array([gap(act, init, width, 10, batch, seed) for seed in range(8)])
                report(f"w{width} d10 b{batch} {act} {init}", d)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "wide")
