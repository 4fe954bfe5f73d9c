"""The hidden-to-hidden Jacobian of the actual network and its singular values (Qt-free).

Which Jacobian.  With a_k the output of hidden layer k (row vectors, ``engine.network``):

    J = d a_{L-1} / d a_0 = prod_{k=1}^{L-1} dA_k,   dA_k = W_k diag(d_k) [+ I if residual]

from the first hidden layer's output to the last one's, per example.  It is the product of
L - 1 hidden layers only: the input layer (n_in x N_0, e.g. 2 x 32) and the output layer
are not square, while J is N_0 x N_{L-1}, square for equal widths, so "singular values
near 1" (dynamical isometry; Pennington, Schoenholz & Ganguli 2017) means what it says:
J preserves the length of every perturbation of a_0.  It is Pennington's J = prod D^l W^l
with x^0 = a_0 and depth L - 1.  ``start="input"`` gives d a_{L-1} / d x (n_in x N_{L-1})
instead, the map the finite-difference tests perturb.

Mode: evaluation.  d_k = f'(z_k) times, with batch norm, gamma * 1/sqrt(running var + eps)
(before and/or after f): the network as it predicts, one example at a time (the training
pass couples the examples of a batch through the batch statistics; at step 0 the running
statistics are mean 0, variance 1).  Dropout is off in evaluation (inverted dropout needs no
rescaling).  PReLU layers use their learned slope; every activation's f' is
``engine.activations``' (a step's f' is 0: J = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import kernels as K
from engine.activations import get as get_activation

#: multiply-adds one live computation aims at (~0.5 s on the busy 2-core test machine)
FLOP_BUDGET = 5e8
#: one example's J beyond this many multiply-adds is not computed live
MAX_FLOPS = 4 * FLOP_BUDGET
#: most examples one computation uses
MAX_EXAMPLES = 8


def _layer_param(net, k: int) -> float:
    """The activation parameter of hidden layer k (the learned slope of a PReLU layer)."""
    off = net.itab[k, K.P_OFF]
    return float(net.params[off]) if off >= 0 else float(net.ftab[k, K.ACT_P])


def _bn_scale(net, k: int, bn_eps: float) -> np.ndarray:
    """d BN(v) / dv per unit in evaluation mode: gamma / sqrt(running var + eps), (n_k,)."""
    n, col = net.itab[k, K.N_OUT], net.itab[k, K.COL]
    var = np.asarray(net.bns[K.RUN_VAR, col : col + n], dtype=np.float64)
    return np.asarray(net.gamma(k), dtype=np.float64) / np.sqrt(var + bn_eps)


def _bn_eval(net, k: int, v: np.ndarray, bn_eps: float) -> np.ndarray:
    n, col = net.itab[k, K.N_OUT], net.itab[k, K.COL]
    mean = np.asarray(net.bns[K.RUN_MEAN, col : col + n], dtype=np.float64)
    return (v - mean) * _bn_scale(net, k, bn_eps) + np.asarray(net.beta(k), dtype=np.float64)


def layer_derivatives(net, X: np.ndarray, bn_eps: float = 1e-3) -> list[np.ndarray]:
    """d_k (B, N_k) for every hidden layer k: d a_k = (d a_{k-1} W_k) * d_k (+ d a_{k-1}).

    Evaluation-mode forward pass in float64 from the network's parameters (module doc).
    """
    a = np.asarray(X, dtype=np.float64)
    out = []
    for k, spec in enumerate(net.specs[:-1]):
        act, p = get_activation(spec.activation), _layer_param(net, k)
        z = a @ np.asarray(net.W(k), dtype=np.float64) + np.asarray(net.b(k), dtype=np.float64)
        scale = np.ones(spec.n_out)
        if spec.batch_norm == "pre":
            z, scale = _bn_eval(net, k, z, bn_eps), _bn_scale(net, k, bn_eps)
        h, d = act.f(z, p), act.df(z, p) * scale
        if spec.batch_norm == "post":
            h, d = _bn_eval(net, k, h, bn_eps), d * _bn_scale(net, k, bn_eps)
        a = h + a if spec.residual else h
        out.append(d)
    return out


def flops(net, start: str = "hidden") -> float:
    """Multiply-adds of one example's J: the running product times each layer's W."""
    widths = [s.n_in for s in net.specs[:-1]] + [net.specs[-2].n_out] if net.depth else []
    first = 1 if start == "hidden" else 0
    rows = widths[first] if widths else 0
    return float(sum(rows * widths[k] * widths[k + 1] for k in range(first, net.depth)))


def jacobian(net, X: np.ndarray, bn_eps: float = 1e-3, start: str = "hidden") -> np.ndarray:
    """J per example, (B, N_0, N_{L-1}) for ``start="hidden"`` (d a_{L-1} / d a_0) or
    (B, n_in, N_{L-1}) for ``start="input"`` (d a_{L-1} / d x); float64, evaluation mode.

    ``ValueError`` when the network has no hidden-to-hidden layer (L < 2, ``"hidden"``).
    """
    if start not in ("hidden", "input"):
        raise ValueError(f"jacobian: start must be 'hidden' or 'input', got {start!r}")
    first = 1 if start == "hidden" else 0
    if net.depth < first + 1:
        raise ValueError(f"jacobian: needs >= {first + 1} hidden layers, the net has {net.depth}")
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    d = layer_derivatives(net, X, bn_eps)
    n0 = net.specs[first].n_in
    B = len(X)
    J = np.tile(np.eye(n0), (B, 1))  # (B n0, n0): the examples' J stacked, one GEMM per layer
    for k in range(first, net.depth):
        W = np.asarray(net.W(k), dtype=np.float64)
        step = ((J @ W).reshape(B, n0, -1) * d[k][:, None, :]).reshape(B * n0, -1)
        J = step + J if net.specs[k].residual else step
    return J.reshape(B, n0, -1)


def singular_values(J: np.ndarray) -> np.ndarray:
    """(B, min(rows, cols)) singular values of each example's J, descending."""
    return np.linalg.svd(J, compute_uv=False)


@dataclass(frozen=True)
class JacobianSample:
    """Singular values of J = d a_{L-1} / d a_0 for a few examples at one step."""

    step: int
    sv: np.ndarray  # (n_examples, min(N_0, N_{L-1})) float64, descending per example
    q_in: float  # mean ||x||^2 / n_in of the examples (the length profile's start)
    reason: str = ""  # why no sample ("" when there is one)

    @property
    def n_examples(self) -> int:
        return len(self.sv)

    def __repr__(self) -> str:
        return f"JacobianSample(step={self.step}, sv={self.sv.shape}, reason={self.reason!r})"


def sample(net, X: np.ndarray, step: int, bn_eps: float = 1e-3) -> JacobianSample:
    """J's singular values for the first examples of ``X`` that fit :data:`FLOP_BUDGET`
    (at most :data:`MAX_EXAMPLES`, at least 1), or an empty sample and the reason (one
    example over :data:`MAX_FLOPS`)."""
    empty = np.zeros((0, 0))
    if net.depth < 2:
        return JacobianSample(step, empty, np.nan, "needs >= 2 hidden layers (J maps a_0 to a_L-1)")
    cost = flops(net)
    if cost > MAX_FLOPS:
        msg = f"one example's J takes {cost / 1e9:.1f} GFLOP: too costly to follow live"
        return JacobianSample(step, empty, np.nan, msg)
    n = int(min(MAX_EXAMPLES, len(X), max(1, FLOP_BUDGET // max(cost, 1.0))))
    x = np.asarray(X[:n], dtype=np.float64)
    with np.errstate(all="ignore"):
        sv = singular_values(jacobian(net, x, bn_eps))
    if not np.all(np.isfinite(sv)):
        return JacobianSample(step, empty, np.nan, "J is not finite (the run has diverged)")
    return JacobianSample(step, sv, float(np.mean(np.sum(x * x, axis=1)) / x.shape[1]))


def session_sample(session) -> JacobianSample:
    """:func:`sample` of a Session on its first training examples (fixed across steps, so
    the histogram moves only because the weights do)."""
    eps = float(session.opt.hp[K.H_BN_EPS])
    return sample(session.net, session.X, session.step_count, eps)
