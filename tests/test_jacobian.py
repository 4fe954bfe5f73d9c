"""The Jacobian J = d a_{L-1} / d a_0 (engine.jacobian) against central finite differences of
the network's own compiled forward pass and a slow product of per-layer matrices; its
predicted moments (engine.jacobian_theory) against Monte-Carlo on wide random nets."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from engine import kernels as K
from engine.config import LayerConfig, ModelConfig
from engine.jacobian import MAX_FLOPS, flops, jacobian, sample, singular_values
from engine.jacobian_theory import model_prediction
from engine.meanfield import edge_of_chaos, mean_field
from engine.network import Workspace, build_network
from engine.threads import limited

EPS = 1e-3  # the sessions' batch-norm epsilon (engine.optimizers)

CASES = {
    "tanh": {},
    "relu unequal widths": dict(
        activation="relu", hidden=(LayerConfig(7), LayerConfig(5), LayerConfig(9))
    ),
    "prelu learned slope": dict(activation="prelu"),
    "mixed elu/gelu/sigmoid": dict(
        hidden=(LayerConfig(6, "elu"), LayerConfig(6, "gelu"), LayerConfig(6, "sigmoid"))
    ),
    "residual": dict(activation="tanh", residual=True),
    "bn pre": dict(activation="tanh", batch_norm="pre"),
    "bn post + dropout": dict(activation="selu", batch_norm="post", dropout=0.3),
}


def _net(case: str, n_in: int = 6, seed: int = 3):
    model = ModelConfig(depth=4, width=6, init="he_normal", sigma_b2=0.1, **CASES[case])
    net = build_network(model, n_in, 3, seed)
    rng = np.random.default_rng(seed)
    if net.specs[0].activation == "prelu":  # as if trained: every layer its own slope
        for k in range(net.depth):
            net.params[net.itab[k, K.P_OFF]] = rng.uniform(-0.5, 0.9)
    if model.batch_norm != "none":  # as if trained: running statistics and gamma moved
        net.bns[K.RUN_MEAN] = rng.normal(0, 0.3, net.total_width)
        net.bns[K.RUN_VAR] = rng.uniform(0.3, 2.0, net.total_width)
        for k in range(net.depth):
            net.gamma(k)[:] = rng.uniform(0.5, 1.5, net.specs[k].n_out)
            net.beta(k)[:] = rng.normal(0, 0.2, net.specs[k].n_out)
    return net, rng.normal(size=(3, n_in))


def _kernel_forward(net, X):
    """The network's own compiled forward pass in evaluation mode: the workspace."""
    ws = Workspace(net, len(X))
    hp = np.zeros(K.N_HP)
    hp[K.H_BN_EPS], hp[K.H_BN_MOM] = EPS, 0.99
    ip = np.zeros(K.N_IP, dtype=np.int64)  # I_TRAIN = I_RECORD = 0
    T = np.zeros((len(X), net.specs[-1].n_out))
    mtab = np.zeros((net.depth + 1, K.N_METRICS))
    args = (net.params, net.itab, net.ftab, ws.ws, net.bns, mtab, hp, ip)
    K.forward_loss(X, T, *args, np.zeros(3), np.zeros(3, dtype=np.int64))
    return ws


def _last_hidden(net, X):
    return _kernel_forward(net, X).get("a", net.depth - 1).copy()


@pytest.mark.parametrize("case", CASES)
def test_input_jacobian_matches_central_differences_of_the_kernels(case):
    net, X = _net(case)
    J = jacobian(net, X, EPS, start="input")  # (B, n_in, N_{L-1})
    h = 1e-6
    for i in range(X.shape[1]):
        dx = np.zeros_like(X)
        dx[:, i] = h
        fd = (_last_hidden(net, X + dx) - _last_hidden(net, X - dx)) / (2 * h)
        assert np.max(np.abs(J[:, i, :] - fd)) < 1e-7 * max(1.0, np.max(np.abs(fd))), i


def _reference_hidden_jacobian(net, x):
    """Slow product of explicit per-layer matrices, f' and BN output read from the
    kernels' workspace (not engine.activations): prod_k (W_k diag(s_k) [+ I])."""
    ws = _kernel_forward(net, x[None, :])
    factors = []
    for k in range(1, net.depth):
        spec = net.specs[k]
        s = ws.get("fprime", k)[0].copy()
        if spec.batch_norm != "none":  # "pre" scales z, "post" scales f(z): one factor each
            col, n = net.itab[k, K.COL], spec.n_out
            s = s * net.gamma(k) / np.sqrt(net.bns[K.RUN_VAR, col : col + n] + EPS)
        F = net.W(k) @ np.diag(s)
        factors.append(F + np.eye(spec.n_in) if spec.residual else F)
    return functools.reduce(np.matmul, factors)


@pytest.mark.parametrize("case", CASES)
def test_hidden_jacobian_matches_a_product_of_layer_matrices(case):
    net, X = _net(case)
    J = jacobian(net, X, EPS)  # d a_{L-1} / d a_0
    for b, x in enumerate(X):
        ref = _reference_hidden_jacobian(net, x)
        assert J[b].shape == ref.shape
        assert np.max(np.abs(J[b] - ref)) < 1e-12 * max(1.0, np.max(np.abs(ref)))
    sv = singular_values(J)
    assert np.allclose(sv[0], np.linalg.svd(_reference_hidden_jacobian(net, X[0]))[1])


def test_jacobian_refuses_what_it_cannot_compute():
    net, X = _net("tanh")
    with pytest.raises(ValueError, match="start"):
        jacobian(net, X, start="output")
    shallow = build_network(ModelConfig(depth=1, width=4), 3, 2, 0)
    with pytest.raises(ValueError, match="needs >= 2 hidden layers"):
        jacobian(shallow, X[:, :3])
    assert "needs >= 2" in sample(shallow, X[:, :3], 0).reason
    big = build_network(ModelConfig(depth=30, width=500), 3, 2, 0)
    assert flops(big) == 29 * 500**3 > MAX_FLOPS
    s = sample(big, np.ones((2, 3)), 5)
    assert s.n_examples == 0
    assert "GFLOP" in s.reason
    mid = build_network(ModelConfig(depth=10, width=300), 3, 2, 0)  # 0.24 GFLOP each: 2 fit
    assert sample(mid, np.ones((5, 3)), 0).n_examples == 2


# --- predictions against Monte-Carlo ---------------------------------------------------------
WIDTH = 300
SEEDS = range(6)


def _wide(act, init, sw2, sb2, depth, seed, q_in=1.0):
    """(lambda = sigma^2 of one example's J, the prediction) for a random wide net.

    On one BLAS thread: on the shared 2-core machine OpenBLAS's threads made the QR of the
    orthogonal init ~40x slower (0.5 s per 300 x 300 matrix)."""
    with limited(1):
        return _wide_net(act, init, sw2, sb2, depth, seed, q_in)


def _wide_net(act, init, sw2, sb2, depth, seed, q_in):
    model = ModelConfig(
        depth=depth, width=WIDTH, activation=act, init=init, sigma_w2=sw2, sigma_b2=sb2
    )
    net = build_network(model, WIDTH, 10, seed)
    x = np.random.default_rng([seed, 7]).normal(size=(1, WIDTH))
    x *= np.sqrt(q_in * WIDTH) / np.linalg.norm(x)
    lam = singular_values(jacobian(net, x))[0] ** 2
    return lam, model_prediction(model, [WIDTH] * (depth + 1) + [10], q_in)


@functools.cache
def _monte_carlo(act, init, depth):
    sw2, sb2 = (1.0, 0.01) if act == "tanh" else (2.0, 0.0)
    runs = [_wide(act, init, sw2, sb2, depth, seed) for seed in SEEDS]
    means = np.array([lam.mean() for lam, _ in runs])
    rel_var = np.array([lam.var() / lam.mean() ** 2 for lam, _ in runs])
    return means, rel_var, runs[0][1]


DEPTHS = [4, pytest.param(16, marks=pytest.mark.slow), pytest.param(32, marks=pytest.mark.slow)]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("init", ["fan_in_normal", "orthogonal"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_mean_squared_singular_value_is_the_product_of_chi(act, init, depth):
    """E[sigma^2] = prod chi_k along the input's length profile.  One net's tr(JJ^T)/N
    varies from seed to seed by a product of L per-layer factors (ReLU at depth 32: 1.0-2.3
    at width 400), and finite width biases it at depth 32 (L/N = 0.1: tanh Gaussian 17% low,
    ReLU orthogonal 25% high, each ~3 standard errors; `python tools/jacobian_agreement.py`),
    so the tolerance is 3.5 standard errors over the 6 seeds plus 5%."""
    means, _, pred = _monte_carlo(act, init, depth)
    sem = means.std(ddof=1) / np.sqrt(len(means))
    assert abs(means.mean() - pred.mean) < 3.5 * sem + 0.05 * pred.mean


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("init", ["fan_in_normal", "orthogonal"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_variance_of_squared_singular_values_follows_free_probability(act, init, depth):
    """Var[sigma^2] / E[sigma^2]^2 = sum_k (mu_2/mu_1^2 - 1 - s_1): ReLU 2L (Gaussian) vs L
    (orthogonal).  The normalised variance cancels the seed's overall scale; finite width
    (L/N up to 0.1) moves it by up to 9% (ReLU Gaussian, depth 16: 32.7 vs 30; measured with
    tools/jacobian_agreement.py), hence 12% + 2 standard errors."""
    _, rel_var, pred = _monte_carlo(act, init, depth)
    want = pred.var / pred.mean**2
    sem = rel_var.std(ddof=1) / np.sqrt(len(rel_var))
    assert abs(rel_var.mean() - want) < 2 * sem + 0.12 * want


def test_orthogonal_critical_tanh_keeps_the_spectrum_near_one_and_relu_does_not():
    """Dynamical isometry (Pennington et al. 2017, fig. 1): tanh at the edge of chaos with a
    small sigma_b^2 (q* = 0.046) and orthogonal weights, fed at q*, keeps the central 96% of
    the singular values in 0.47-1.43 at depth 24 (width 300, seed 0; one outlier of 0.11),
    predicted sd of sigma^2 0.51, measured 0.52.  Gaussian weights: 17 decades (sd 4.8
    predicted, 4.6 measured).  ReLU, He or orthogonal: half the singular values are 0 (f' = 0
    on about half the units: J has rank <= N/2), sd 4.8-6.8 (mu_2 / mu_1^2 - 1 = 1 per
    layer whatever the weights)."""
    sb2 = 1e-4
    sw2 = float(edge_of_chaos("tanh", sb2))
    q_star = mean_field("tanh", sw2, sb2).q_star
    q_in = (q_star - sb2) / sw2  # q_0 = sigma_w^2 q_in + sigma_b^2 = q*

    def decades(act, init, sw2, sb2):
        lam, pred = _wide(act, init, sw2, sb2, 24, 0, q_in)
        lo, hi = np.percentile(np.sqrt(lam), [2, 98])
        return np.log10(hi / lo), (lo, hi), pred

    span, (lo, hi), pred = decades("tanh", "orthogonal", sw2, sb2)
    assert lo > 0.4
    assert hi < 2.5
    assert span < 0.7
    assert abs(pred.mean - 1.0) < 0.1
    assert pred.sd < 0.6
    span_g, _, pred_g = decades("tanh", "fan_in_normal", sw2, sb2)
    assert span_g > 2.0
    assert pred_g.sd > 3 * pred.sd
    for init in ("orthogonal", "he_normal"):
        span_r, _, pred_r = decades("relu", init, 2.0, 0.0)
        assert span_r > 2.0
        assert pred_r.sd > 4.0


def test_prediction_says_where_it_does_not_apply():
    widths = [4] + [32] * 5 + [3]
    for change, words in [
        (dict(batch_norm="pre"), "batch norm"),
        (dict(residual=True), "residual"),
        (dict(bias_init=0.1), "constant bias"),
        (dict(init="zeros"), "zero weights"),
    ]:
        p = model_prediction(ModelConfig(depth=5, width=32, **change), widths, 1.0)
        assert np.isnan(p.mean)
        assert words in p.reason
    p = model_prediction(ModelConfig(depth=5, width=32), widths, 1.0, step=7)
    assert np.isfinite(p.mean)
    assert any("step 7" in n for n in p.notes)
    assert any("narrow" in n for n in p.notes)
    uneven = ModelConfig(hidden=(LayerConfig(300), LayerConfig(200), LayerConfig(300)))
    p = model_prediction(uneven, [4, 300, 200, 300, 3], 1.0)
    assert np.isfinite(p.mean)
    assert np.isnan(p.var)
