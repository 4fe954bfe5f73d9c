"""Measured vs predicted moments of the squared singular values of J = d a_L-1 / d a_0
(engine.jacobian, engine.jacobian_theory) on wide random nets, over seeds.

    python tools/jacobian_agreement.py [width] [seeds]     # default 300 6

Per (activation, init, depth): E[sigma^2] (mean over seeds +- standard error) against
prod chi_k, and the normalised variance Var[sigma^2] / E[sigma^2]^2 against
sum_k (mu_2/mu_1^2 - 1 - s_1).  tanh: sigma_w^2 = 1, sigma_b^2 = 0.01; ReLU: 2, 0.  One
example per net, its input scaled to ||x||^2 / n = 1.  Results are in the README.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import ModelConfig  # noqa: E402
from engine.jacobian import jacobian, singular_values  # noqa: E402
from engine.jacobian_theory import model_prediction  # noqa: E402
from engine.network import build_network  # noqa: E402
from engine.threads import limited  # noqa: E402


def one_net(act, init, depth, width, seed):
    """(E[lambda], Var[lambda] / E[lambda]^2) of one random net, and the prediction."""
    sw2, sb2 = (1.0, 0.01) if act == "tanh" else (2.0, 0.0)
    model = ModelConfig(
        depth=depth, width=width, activation=act, init=init, sigma_w2=sw2, sigma_b2=sb2
    )
    net = build_network(model, width, 10, seed)
    x = np.random.default_rng([seed, 7]).normal(size=(1, width))
    x *= np.sqrt(width) / np.linalg.norm(x)
    lam = singular_values(jacobian(net, x))[0] ** 2
    pred = model_prediction(model, [width] * (depth + 1) + [10], 1.0)
    return lam.mean(), lam.var() / lam.mean() ** 2, pred


def main(width: int = 300, seeds: int = 6) -> None:
    print(f"width {width}, {seeds} seeds: measured (mean +- s.e.) / predicted")
    print(f"{'net':34s} {'E[s^2]':>22s} {'Var/E^2':>24s}")
    for act in ("tanh", "relu"):
        for init in ("fan_in_normal", "orthogonal"):
            for depth in (4, 16, 32):
                runs = [one_net(act, init, depth, width, s) for s in range(seeds)]
                m = np.array([r[0] for r in runs])
                v = np.array([r[1] for r in runs])
                p = runs[0][2]
                se = lambda a: a.std(ddof=1) / np.sqrt(len(a))  # noqa: E731
                print(
                    f"{act} {init} depth {depth:<3d}".ljust(34)
                    + f" {m.mean():8.4g} +- {se(m):<6.2g} / {p.mean:<6.4g}"
                    + f" {v.mean():8.4g} +- {se(v):<6.2g} / {p.var / p.mean**2:<6.4g}"
                )


if __name__ == "__main__":
    with limited(1):  # many BLAS threads made the orthogonal init's QR 40x slower here
        main(*(int(a) for a in sys.argv[1:3]))
