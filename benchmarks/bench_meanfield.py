"""Mean-field theory speed: one 60 x 60 phase diagram (sigma_w^2 x sigma_b^2) per activation.

    python benchmarks/bench_meanfield.py

Prints seconds per grid (the first call of a process builds the quadrature rules; it is
excluded) so the app's phase-diagram panel can be judged against a frame budget.
"""

from __future__ import annotations

import time

import numpy as np

from engine import meanfield as M

ACTIVATIONS = ("tanh", "sigmoid", "relu", "elu", "gelu", "selu", "step")


def main() -> int:
    w, b = np.linspace(0.5, 4.0, 60), np.linspace(0.0, 0.5, 60)
    M.phase_grid("tanh", w[:2], b[:2])  # build the rules once
    print(f"{'activation':<12}{'60x60 grid (s)':>16}")
    for name in ACTIVATIONS:
        t0 = time.perf_counter()
        M.phase_grid(name, w, b)
        print(f"{name:<12}{time.perf_counter() - t0:>16.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
