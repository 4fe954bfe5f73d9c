"""The mean-field line of a residual net (engine.meanfield_net's module doc): the maps against
a plain NumPy residual net, and the gradient chart's line against the lab's measured
||dL/dW_l|| at step 1.

The lab's form (engine.network): a_k = f(z_k) + a_{k-1} around each hidden layer as wide as
its input, so dL/da_{k-1} = delta_k W_k^T + dL/da_k and, in the mean field,
E||dL/da_{k-1}||^2 = (chi_k + 1) E||dL/da_k||^2: the gradient grows towards the input instead
of vanishing.  Measured (``python tools/theory_agreement.py residual``): README, "The theory
line of the gradient chart".
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_theory_lines import DEPTH, _session

from engine.activations import ACTIVATIONS
from engine.config.types import ModelConfig
from engine.meanfield_net import gradient_profile, residual_skips
from engine.theory_lines import LABEL, WIDE_LABEL, session_lines


def numpy_residual_norms(act, sw2, sb2, widths, x, rng) -> np.ndarray:
    """log(||dL/dW_l|| / ||dL/dW_{L-1}||) of one random residual net for each row of ``x``
    (dL/da_{L-1} a random Gaussian vector: the output layer's part), (E, L)."""
    f = ACTIVATIONS[act]
    skips = [a == b for a, b in zip(widths[:-1], widths[1:], strict=True)]
    ws = [
        rng.standard_normal((a, b)) * math.sqrt(sw2 / a)
        for a, b in zip(widths, widths[1:], strict=False)
    ]
    bs = [rng.standard_normal(b) * math.sqrt(sb2) for b in widths[1:]]
    acts, zs = [x], []
    for w, b, skip in zip(ws, bs, skips, strict=True):
        zs.append(acts[-1] @ w + b)
        acts.append(f.f(zs[-1], 0.0) + (acts[-1] if skip else 0.0))
    out = []
    for e in range(len(x)):
        g = rng.standard_normal(widths[-1])  # dL/da_{L-1}
        norms = []
        for k in range(len(ws) - 1, -1, -1):
            delta = g * f.df(zs[k][e], 0.0)
            norms.append(np.linalg.norm(acts[k][e]) * np.linalg.norm(delta))
            g = delta @ ws[k].T + (g if skips[k] else 0.0)
        norms = np.array(norms[::-1])
        out.append(np.log(norms / norms[-1]))
    return np.array(out)


@pytest.mark.parametrize(("act", "sw2", "sb2"), [("relu", 2.0, 0.0), ("tanh", 1.5, 0.05)])
def test_the_residual_maps_match_a_numpy_residual_net(act, sw2, sb2):
    """Oracle: plain NumPy nets of width 1000 (the first layer a skip too: n_in = 1000) on
    inputs of mean 0.5, so the mean term 2 E[f] m of the length map is exercised (ReLU:
    E[f] > 0).  Geometric mean over 4 nets x 4 examples; tolerance 0.08 in the log (the
    per-net noise is ~ sqrt(L / N) ~ 0.1, / 4 for 16 samples)."""
    rng = np.random.default_rng(3)
    widths = [1000] * 7
    logs, preds = [], []
    for _ in range(4):
        x = 0.5 + rng.standard_normal((4, widths[0]))
        logs.append(numpy_residual_norms(act, sw2, sb2, widths, x, rng))
        q_in, m_in = np.mean(x**2), np.mean(x)
        skips = [True] * (len(widths) - 1)
        preds.append(gradient_profile(act, sw2, sb2, widths, q_in, None, skips, m_in))
    measured = np.concatenate(logs).mean(axis=0)
    predicted = np.log(np.mean(preds, axis=0))
    assert np.ptp(predicted) > 0.3  # the line is far from flat: the test can fail
    assert np.max(np.abs(measured - predicted)) < 0.08, (measured, predicted)


def test_skips_are_where_the_network_adds_the_input():
    model = ModelConfig(residual=True)
    assert residual_skips(model, (64, 64, 64, 64, 10)) == (True, True, True)
    assert residual_skips(model, (2, 64, 64, 64, 10)) == (False, True, True)
    assert residual_skips(ModelConfig(), (64, 64, 64, 10)) == (False, False)


@pytest.mark.parametrize(
    ("act", "init"),
    [("tanh", "xavier_normal"), ("relu", "he_normal"), ("sigmoid", "xavier_normal")],
)
def test_the_line_agrees_with_a_residual_net_at_step_1(act, init):
    gaps = []
    for seed in range(3):
        s = _session(act, init, seed=seed, **{"model.residual": True})
        s.step()
        lines = session_lines(s)
        assert lines.reason == ""
        curve = lines.curves[LABEL]
        gaps.append(np.log10(s.snapshot().layers["grad_norm"][:DEPTH] / curve[:DEPTH]))
        assert np.ptp(np.log10(curve[:DEPTH])) > 0.2  # not flat: the test can fail
    gaps = np.array(gaps)
    assert np.max(np.abs(gaps.mean(axis=0))) < 0.15, gaps
    assert np.max(np.abs(gaps)) < 0.3, gaps


def test_a_narrow_residual_net_gets_the_wide_net_caveat():
    s = _session("tanh", **{"model.residual": True, "model.width": 64})
    s.step()
    assert list(session_lines(s).curves) == [WIDE_LABEL]


def test_batches_of_a_non_centred_residual_net_get_a_reason_instead_of_a_line():
    relu = _session("relu", "he_normal", batch=32, **{"model.residual": True})
    relu.step()
    lines = session_lines(relu)
    assert lines.curves == {}
    assert "cross-example terms" in lines.reason
    tanh = _session("tanh", batch=32, **{"model.residual": True})  # E[tanh] = 0: still a line
    tanh.step()
    assert list(session_lines(tanh).curves) == [LABEL]
