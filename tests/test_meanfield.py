"""Mean-field theory (engine.meanfield, engine.meanfield_net) against independent oracles:
closed forms, a different quadrature, Monte-Carlo on wide NumPy nets, and the lab's engine."""

import math
from itertools import pairwise

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from engine import meanfield as M
from engine.activations import ACTIVATIONS
from engine.config.choices import INITIALIZERS
from engine.meanfield_net import gradient_profile, init_sigma_w2, length_profile, model_points

RELU = ACTIVATIONS["relu"]
CS = np.array([-0.95, -0.5, 0.0, 0.3, 0.7, 0.95, 0.999, 1.0])


def arccos_kernel(c, degree):
    """Cho & Saul (2009): for standard normals x1, x2 of correlation c = cos(t),
    E[relu(x1) relu(x2)] = (sin t + (pi - t) cos t) / (2 pi)  (degree 1) and
    E[step(x1) step(x2)] = P(x1 > 0, x2 > 0) = (pi - t) / (2 pi)  (degree 0, the orthant
    probability; it is also E[relu'(x1) relu'(x2)])."""
    t = np.arccos(c)
    if degree == 0:
        return (np.pi - t) / (2 * np.pi)
    return (np.sin(t) + (np.pi - t) * np.cos(t)) / (2 * np.pi)


# --- (a) quadrature against closed forms ------------------------------------------------------
@pytest.mark.parametrize("k", [0, 1])
def test_half_line_rule_integrates_moments(k):
    # int_0^inf r^j r^k exp(-r^2/2) dr = 2^((m-1)/2) Gamma((m+1)/2), m = j + k
    r, w = M.half_line_rule(M.N_RADIAL, k)
    for j in range(2 * M.N_RADIAL):
        m = j + k
        exact = 2 ** ((m - 1) / 2) * math.gamma((m + 1) / 2)
        assert abs(np.sum(w * r**j) / exact - 1) < 1e-12, j


def test_relu_and_step_pair_expectations_match_the_arccos_kernel():
    x1, x2, w = M.pair_rule(CS)
    relu = np.sum(w * RELU.f(x1, 0) * RELU.f(x2, 0), axis=-1)
    step = np.sum(w * (x1 > 0) * (x2 > 0), axis=-1)
    assert np.max(np.abs(relu - arccos_kernel(CS, 1))) < 1e-13
    assert np.max(np.abs(step - arccos_kernel(CS, 0))) < 1e-13
    # the correlation map of ReLU with q* finite: (s2w k1(c) q* + s2b) / q*
    q = M.mean_field("relu", 1.5, 0.2).q_star  # = 0.2 / (1 - 1.5 / 2) = 0.8 (E relu^2 = q/2)
    assert q == pytest.approx(0.8, rel=1e-12)
    cmap = M.correlation_map("relu", 1.5, 0.2, q, CS)
    assert np.max(np.abs(cmap - (1.5 * arccos_kernel(CS, 1) * q + 0.2) / q)) < 1e-12


def test_plain_gauss_hermite_is_not_enough_across_a_kink():
    """Why the rules split at the kink: 200 x 200 Gauss-Hermite nodes miss ReLU's kernel by
    ~1e-3, where the split rule (2304 nodes) is exact to 1e-13 (the test above)."""
    z, w = hermegauss(200)
    w = w / w.sum()
    c = 0.5
    u2 = c * z[:, None] + math.sqrt(1 - c * c) * z[None, :]
    plain = np.sum(w[:, None] * w[None, :] * np.maximum(z[:, None], 0) * np.maximum(u2, 0))
    assert abs(plain - arccos_kernel(c, 1)) > 1e-4


def test_length_map_matches_closed_forms():
    # ReLU: E[relu(sqrt(q) z)^2] = q / 2 (half of E[u^2]); ELU (alpha a): for z < 0,
    # E[a^2 (e^u - 1)^2 1(u<0)] = a^2 (e^{2q} Phi(-2 sqrt q) - 2 e^{q/2} Phi(-sqrt q) + 1/2)
    # from E[e^{t u} 1(u < 0)] = e^{t^2 q / 2} Phi(-t sqrt q), u ~ N(0, q)
    def phi(x):
        return 0.5 * math.erfc(-x / math.sqrt(2))

    for q in (0.05, 0.7, 3.0, 20.0):
        assert M.length_map("relu", 2.0, 0.1, q) == pytest.approx(q + 0.1, rel=1e-13)
        s = math.sqrt(q)
        neg = math.exp(2 * q) * phi(-2 * s) - 2 * math.exp(q / 2) * phi(-s) + 0.5
        assert M.length_map("elu", 1.0, 0.0, q, param=1.0) == pytest.approx(q / 2 + neg, rel=1e-12)


@pytest.mark.parametrize("q", [0.3, 2.0])
def test_smooth_pair_expectation_matches_gauss_hermite(q):
    """tanh is smooth: tensor Gauss-Hermite (200^2 nodes) converges and is the oracle."""
    z, w = hermegauss(200)
    w = w / w.sum()
    x1, x2, wp = M.pair_rule(CS[:-1])
    for c, a, b, ww in zip(CS[:-1], x1, x2, wp, strict=True):
        u2 = c * z[:, None] + math.sqrt(1 - c * c) * z[None, :]
        ref = np.sum(
            w[:, None]
            * w[None, :]
            * np.tanh(math.sqrt(q) * z[:, None])
            * np.tanh(math.sqrt(q) * u2)
        )
        assert np.sum(ww * np.tanh(math.sqrt(q) * a) * np.tanh(math.sqrt(q) * b)) == pytest.approx(
            ref, abs=1e-9
        )


# --- (b) Monte-Carlo on wide random nets (plain NumPy, float64) -------------------------------
MC_WIDTH, MC_DEPTH, MC_NETS, MC_INPUTS = 1000, 10, 3, 4
MC_CASES = [
    ("tanh", 1.5, 0.05),
    ("tanh", 2.5, 0.1),
    ("relu", 1.5, 0.1),
    ("relu", 2.0, 0.0),
    ("sigmoid", 4.0, 0.1),
    ("elu", 1.5, 0.1),
    ("gelu", 2.5, 0.1),
]


def _mc_net(name, sw2, sb2, q_in, rng):
    """Per-layer mean z^2 and ||delta_l||^2 / ||delta_{l+1}||^2 of one random net, MC_INPUTS
    inputs of mean square q_in, backpropagating a random Gaussian delta from the top."""
    act, p = ACTIVATIONS[name], M.resolve_param(name, None)  # the lab's default alpha / slope
    n = MC_WIDTH
    a = rng.normal(0.0, math.sqrt(q_in), (MC_INPUTS, n))
    ws, zs = [], []
    for _ in range(MC_DEPTH):
        w = rng.standard_normal((n, n)) * math.sqrt(sw2 / n)
        z = a @ w + rng.normal(0.0, math.sqrt(sb2), n)
        ws.append(w)
        zs.append(z)
        a = act.f(z, p)
    q_hat = np.array([np.mean(z * z) for z in zs])
    delta = rng.normal(size=(MC_INPUTS, n)) * act.df(zs[-1], p)
    ratios = []
    for k in range(MC_DEPTH - 2, -1, -1):
        new = (delta @ ws[k + 1].T) * act.df(zs[k], p)
        ratios.append(np.sum(new * new) / np.sum(delta * delta))
        delta = new
    return q_hat, np.array(ratios[::-1])  # ratios[k] = ||delta_k||^2 / ||delta_{k+1}||^2


@pytest.mark.parametrize(("name", "sw2", "sb2"), MC_CASES)
def test_length_map_and_chi_match_monte_carlo(name, sw2, sb2):
    """Tolerances from the sampling algebra, 4 standard errors plus an O(1/N) bias allowance:
    - given layer l-1, the N pre-activations of layer l are iid N(0, q_l): the mean of z^2
      has relative variance 2/N, and the next layer's mean of f(z)^2 adds
      (s2w E f^2 / q)^2 (E f^4 / (E f^2)^2 - 1) / N; errors carry on with the length map's
      slope chi_q (an AR(1) process), so over K layers and n nets
      SE = sqrt(v / (K n)) / (1 - chi_q), with 1 - chi_q floored at 0.1 (near chi_q = 1 the
      errors random-walk: over K = 10 layers sqrt(K) ~ 1 / (1 - 0.7));
    - ||delta_l||^2 / ||delta_{l+1}||^2 = (s2w / N) sum_i g_i^2 f'(z_i)^2 with g_i^2 ~ chi^2_1,
      relative variance (3 E f'^4 / (E f'^2)^2 - 1) / N; averaged over K layers and n nets.
    """
    rng = np.random.default_rng(12)
    q_in = 1.0
    mf = M.mean_field(name, sw2, sb2, q0=sw2 * q_in + sb2)  # q0 matters at ReLU's edge
    act, p = ACTIVATIONS[name], M.resolve_param(name, None)
    q_theory = length_profile(name, sw2, sb2, q_in, MC_DEPTH)  # q_0 = s2w q_in + s2b
    q_hat, ratios = zip(*(_mc_net(name, sw2, sb2, q_in, rng) for _ in range(MC_NETS)), strict=True)
    n, k = MC_WIDTH, MC_DEPTH
    z, w = M.normal_rule()
    u = np.sqrt(q_theory)[:, None] * z
    f2, df2 = act.f(u, p) ** 2, act.df(u, p) ** 2

    def kurtosis(x):  # E x^2 / (E x)^2 per layer
        return (x * x) @ w / (x @ w) ** 2

    v = 2 + (sw2 * (f2 @ w) / q_theory) ** 2 * (kurtosis(f2) - 1)
    se_q = math.sqrt(np.mean(v) / (n * k * MC_NETS)) / max(1 - mf.chi_q, 0.1)
    q_rel = np.mean(np.array(q_hat) / q_theory)
    assert abs(q_rel - 1) < 4 * se_q + 2 / n, (q_rel, se_q)
    # chi at each layer's own q (the transient), chi_1 = chi(q*) deep down
    chi_theory = M.chi(name, sw2, q_theory[:-1])
    se_chi = math.sqrt(np.mean(3 * kurtosis(df2[:-1]) - 1) / (n * (k - 1) * MC_NETS))
    chi_rel = np.mean(np.array(ratios) / chi_theory)
    assert abs(chi_rel - 1) < 4 * se_chi + 2 / n, (chi_rel, se_chi)
    if mf.status == "converged":  # the profile the MC followed tends to q* and chi_1
        deep = length_profile(name, sw2, sb2, q_in, 300)[-1]
        assert deep == pytest.approx(mf.q_star, rel=1e-6)
        assert M.chi(name, sw2, deep) == pytest.approx(mf.chi_1, rel=1e-6)


# --- (c) known results ------------------------------------------------------------------------
def test_known_edges_of_chaos():
    # tanh, s2b = 0: q* = 0 in the ordered phase, chi_1 = s2w tanh'(0)^2 = s2w -> edge at 1
    assert M.edge_of_chaos("tanh", 0.0) == pytest.approx(1.0, rel=1e-6)
    # ReLU: chi_1 = s2w E[1(z > 0)] = s2w / 2 at any q -> edge at 2 for every s2b; He is critical
    assert M.edge_of_chaos("relu", [0.0, 0.3]) == pytest.approx([2.0, 2.0], rel=1e-9)
    assert M.mean_field("relu", init_sigma_w2("he_normal", 100, 100), 0.0).phase == "critical"
    # the tanh edge moves to larger s2w with the bias (Schoenholz et al. 2017, fig. 1)
    edges = M.edge_of_chaos("tanh", [0.01, 0.05, 0.2])
    assert np.all(np.diff(edges) > 0)
    assert edges[0] > 1.0
    for sb2, sw2 in zip([0.01, 0.05, 0.2], edges, strict=True):
        assert M.mean_field("tanh", sw2, sb2).chi_1 == pytest.approx(1.0, abs=1e-8)
    assert np.isnan(M.edge_of_chaos("step", 0.1))  # chi_1 = 0: no gradient passes a step


def test_xi_c_grows_without_bound_at_the_edge():
    sb2 = 0.05
    edge = float(M.edge_of_chaos("tanh", sb2))
    for side in (-1, 1):
        xi = [M.mean_field("tanh", edge * (1 + side * e), sb2).xi_c for e in (1e-1, 1e-2, 1e-3)]
        assert xi[0] < xi[1] < xi[2], xi
        assert xi[2] > 100
    assert M.mean_field("tanh", edge * 0.9, sb2).phase == "ordered"
    assert M.mean_field("tanh", edge * 1.1, sb2).phase == "chaotic"
    assert M.mean_field("tanh", edge * 1.1, sb2).c_star < 1


def test_unbounded_length_is_reported():
    mf = M.mean_field("relu", 2.5, 0.1)
    assert (mf.status, mf.q_star, mf.phase) == ("unbounded", math.inf, "chaotic")
    assert mf.chi_1 == pytest.approx(1.25)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_has_a_finite_mean_field(name):
    mf = M.mean_field(name, 1.8, 0.1)
    assert np.isfinite([mf.chi_1, mf.chi_c]).all()
    assert 0 <= mf.c_star <= 1
    assert mf.phase in ("ordered", "critical", "chaotic")


def test_phase_grid_agrees_with_the_points():
    """(Its speed is measured by benchmarks/bench_meanfield.py, not here.)"""
    w, b = np.linspace(0.5, 4.0, 60), np.linspace(0.0, 0.5, 60)
    grid = M.phase_grid("tanh", w, b)
    for i, j in [(0, 59), (10, 20), (30, 40), (59, 59)]:
        mf = M.mean_field("tanh", w[j], b[i])
        assert grid.chi_1[i, j] == pytest.approx(mf.chi_1, rel=1e-10)
        assert grid.xi_c[i, j] == pytest.approx(mf.xi_c, rel=2e-3)


# --- initialisers and the gradient profile ----------------------------------------------------
@pytest.mark.parametrize("init", INITIALIZERS)
@pytest.mark.parametrize(("fan_in", "fan_out"), [(300, 300), (400, 100), (100, 400)])
def test_init_sigma_w2_is_the_drawn_variance(init, fan_in, fan_out):
    # the oracle: fan_in * the variance of a matrix engine.initializers actually draws;
    # a mean of fan_in * fan_out squares has relative SE sqrt(Var(W^2) / n) / E W^2 <=
    # sqrt(2 / n) (Gaussian; smaller for uniform): 2e-3 here, 5 SE = 1e-2
    from engine.initializers import init_weights

    w = init_weights(init, fan_in, fan_out, np.random.default_rng(0), scale=0.07)
    expected = init_sigma_w2(init, fan_in, fan_out, scale=0.07)
    assert fan_in * np.mean(w * w) == pytest.approx(expected, rel=1e-2, abs=1e-12)


def test_model_points_say_where_the_maps_do_not_apply():
    from engine.config.types import ModelConfig

    sw2, sb2, why = model_points(ModelConfig(init="he_normal"), (64, 32, 32, 10))
    assert sw2 == pytest.approx([2.0, 2.0, 2.0])
    assert (sb2, why) == (0.0, "")
    for change in ({"batch_norm": "pre"}, {"bias_init": 0.1}):
        assert model_points(ModelConfig(**change), (64, 32, 10))[1] is None
    assert model_points(ModelConfig(residual=True), (64, 32, 10))[1] == 0.0  # its own maps
    with pytest.raises(ValueError, match="unknown initialiser"):
        init_sigma_w2("kaiming", 3, 3)


def test_gradient_profile_matches_a_numpy_net_of_unequal_widths():
    """||dL/dW_l|| = ||a_{l-1}|| ||delta_l|| for one example, on plain NumPy nets whose widths
    change (the width bookkeeping).  Oracle: the geometric mean over 6 nets x 4 examples;
    each log-ratio has SE ~ sqrt(sum of per-layer relative variances ~ 3/N_l) / sqrt(24)
    ~ 0.02 at these widths; tolerance 0.08 (4 SE)."""
    rng = np.random.default_rng(5)
    widths = [200, 900, 600, 1200, 800, 1000]
    sw2, sb2, act = 2.2, 0.05, ACTIVATIONS["tanh"]
    logs = []
    for _ in range(6):
        x = rng.standard_normal((4, widths[0]))
        ws = [rng.standard_normal((a, b)) * math.sqrt(sw2 / a) for a, b in pairwise(widths)]
        bs = [rng.standard_normal(b) * math.sqrt(sb2) for b in widths[1:]]
        acts, zs = [x], []
        for w, b in zip(ws, bs, strict=True):
            zs.append(acts[-1] @ w + b)
            acts.append(np.tanh(zs[-1]))
        for e in range(4):
            delta = rng.standard_normal(widths[-1]) * act.df(zs[-1][e], 0.0)
            norms = [np.linalg.norm(acts[-2][e]) * np.linalg.norm(delta)]
            for k in range(len(ws) - 2, -1, -1):
                delta = (delta @ ws[k + 1].T) * act.df(zs[k][e], 0.0)
                norms.append(np.linalg.norm(acts[k][e]) * np.linalg.norm(delta))
            logs.append(np.log(np.array(norms[::-1]) / norms[0]))
    pred = gradient_profile("tanh", sw2, sb2, widths, q_in=1.0)
    assert np.max(np.abs(np.mean(logs, axis=0) - np.log(pred))) < 0.08


# --- (d) the lab's engine at initialisation ---------------------------------------------------
@pytest.mark.parametrize("sw2", [3.0, 0.7])
def test_session_gradients_at_init_follow_the_mean_field(sw2):
    """A real lab network (tanh, 8 x 512, init "normal" with init_scale^2 = sigma_w^2 / 512,
    zero biases, batch 1, learning rate 1e-9 so the weights stay at their initial values):
    the per-layer ||dL/dW_l|| / ||dL/dW_{L-1}|| of Session.snapshot() against the predicted
    profile, for each example's own q_in = ||x||^2 / 64.  The first layer has fan_in 64, so
    its sigma_w^2 is 64 / 512 of the others' (model_points gives that).

    Measured (4 nets x 10 examples, width 512): the mean log deviation is <= 0.03 at every
    hidden layer; its standard error across nets is 0.01-0.025 (sigma_w^2 = 3) and
    0.01-0.04 (0.7, first layers); one net alone deviates by up to 0.08 / 0.13.  Tolerance
    0.1: >= 4 SE for 3, >= 2.5 SE at the ordered case's first layers.
    sigma_w^2 = 3 is chaotic (chi_1 = 1.24: the gradient grows by sqrt(chi_1) = 1.11 per
    layer backwards once q ~ q*); 0.7 is ordered with q* = 0, where
    ||a_{l-1}||^2 shrinks forwards by the same 0.7 per layer that ||delta_l||^2 shrinks
    backwards, and the profile is flat: sqrt(chi_1) per layer holds only at q*.
    Not covered: the output layer (its gradient is the loss's), batches (cross-example
    terms), narrow layers (noise ~ 1 / sqrt(width) per layer).
    """
    from engine.config import ExperimentConfig, updated
    from engine.session import Session

    depth, width, steps, nets = 8, 512, 10, 4
    deviations = []
    for seed in range(nets):
        cfg = updated(
            ExperimentConfig(),
            **{
                "data.name": "digits",
                "model.depth": depth,
                "model.width": width,
                "model.activation": "tanh",
                "model.init": "normal",
                "model.init_scale": math.sqrt(sw2 / width),
                "model.bias_init": 0.0,
                "training.batch_size": 1,
                "training.learning_rate": 1e-9,
                "training.eval_every": 0,
                "training.seed": seed,
            },
        )
        session = Session(cfg)
        widths = (session.X.shape[1],) + tuple(s.n_out for s in session.net.specs)
        sw2_layers, sb2, why = model_points(cfg.model, widths)
        assert sb2 == 0.0, why
        for _ in range(steps):
            session.step()
            snap = session.snapshot(with_history=False)
            grad = snap.layers["grad_norm"][:depth]
            q_in = snap.input_norm**2 / widths[0]  # ||x||^2 / n_in of this step's example
            pred = gradient_profile("tanh", sw2_layers, 0.0, widths[: depth + 1], q_in)
            deviations.append(np.log(grad / grad[-1]) - np.log(pred))
    assert np.max(np.abs(np.mean(deviations, axis=0))) < 0.1


def test_step_correlation_fixed_point_matches_its_closed_form():
    # step(u) = 1(u > 0): E[step^2] = 1/2, E[step(u1) step(u2)] = (pi - arccos c) / (2 pi)
    # (arccos kernel of degree 0), so with s2b = 0 the map is c' = 1 - arccos(c) / pi and
    # its slope 1 / (pi sqrt(1 - c^2)); c* solves c = 1 - arccos(c) / pi (bisection here)
    lo, hi = 0.0, 0.99
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if 1 - math.acos(mid) / math.pi > mid else (lo, mid)
    mf = M.mean_field("step", 1.3, 0.0)
    assert mf.c_star == pytest.approx(lo, abs=1e-10)
    assert mf.chi_c == pytest.approx(1 / (math.pi * math.sqrt(1 - lo * lo)), rel=1e-9)
    assert mf.chi_1 == 0.0  # the lab's step passes no gradient
