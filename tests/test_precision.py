"""Relative precision of the kernels near z = 0, in the tails and on offset data.

The oracle is mpmath at 200 bits (evaluated at the exact float64 inputs, with the kernels'
float64 constants taken as exact) or a plain float64 NumPy computation that has no
cancellation; never a number typed in by hand.
"""

import mpmath as mp
import numpy as np
import pytest
from engine_helpers import Problem, config, relative_error
from reference_mlp import batch_norm, batch_norm_backward, forward_backward

from engine import kernels as K
from engine.activations import ACTIVATIONS, param_value
from engine.codes import SELU_ALPHA, SELU_SCALE
from engine.kernels import elementary as E
from engine.kernels.layers import bn_backward, bn_forward
from engine.metrics import Metric

EPS = 2.0**-52  # 1 ulp relative
FLOOR = 1e-300  # smaller results may flush to 0 as they near the subnormals
MAX_ULP = 4.0

_TAIL = np.logspace(-300, 2, 2001)
Z = np.concatenate([-_TAIL[::-1], [-5e-324, 0.0, 5e-324], _TAIL])  # +-[1e-300, 100], 0, subnormal


def ulp_error(got, ref, scale=None):
    """|got - ref| in ulps of ``scale`` (default |ref|): the size of the terms of a sum."""
    scale = np.abs(ref) if scale is None else scale
    return np.abs(got - ref) / (np.maximum(scale, FLOOR) * EPS)


def assert_ulps(got, ref, z, what, scale=None):
    err = ulp_error(got, ref, scale)
    bad = (err > MAX_ULP) & ~((np.abs(ref) < FLOOR) & (np.abs(got - ref) <= FLOOR))
    i = int(np.argmax(np.where(bad, err, -1.0)))
    assert not bad.any(), f"{what}: {err[i]:.3g} ulp at z = {z[i]!r} ({got[i]!r} vs {ref[i]!r})"


# --- exp and expm1 ------------------------------------------------------------------------
def test_expm1_and_exp_are_accurate_to_an_ulp_over_the_whole_range():
    mp.mp.prec = 120
    g = np.logspace(-300, np.log10(700.0), 6001)
    x = np.concatenate([-g[::-1], [0.0], g, np.linspace(-3.0, 3.0, 6001)])
    got = np.array([E.exp_expm1(v) for v in x])
    ref_e = np.array([float(mp.exp(mp.mpf(v))) for v in x])
    ref_m1 = np.array([float(mp.expm1(mp.mpf(v))) for v in x])
    assert ulp_error(got[:, 0], ref_e).max() <= 1.5
    assert ulp_error(got[:, 1], ref_m1).max() <= 1.5  # measured: 1.0 and 1.2
    assert got[x == 0.0, 1][0] == 0.0
    assert E.expm1(1e-300) == 1e-300  # e^z - 1 would be 0 here


# --- activations: f and f' against mpmath ----------------------------------------------------
def _sig(w):
    return 1 / (1 + mp.exp(-w))


def _dsig(w):
    u = mp.exp(-abs(w))
    return u / (1 + u) ** 2


def _gelu(z, p):
    cdf = mp.erfc(-z / mp.sqrt(2)) / 2
    pdf_term = z * mp.exp(-z * z / 2) / mp.sqrt(2 * mp.pi)
    return z * cdf, cdf + pdf_term, abs(cdf) + abs(pdf_term)


def _gelu_tanh(z, p):
    k, c = mp.mpf(E.SQRT_2_OVER_PI), mp.mpf(E.GELU_C)
    w2 = 2 * k * (z + c * z**3)  # 0.5 (1 + tanh w) = sigma(2w), exactly
    term = 2 * z * _dsig(w2) * k * (1 + 3 * c * z * z)
    return z * _sig(w2), _sig(w2) + term, abs(_sig(w2)) + abs(term)


def _silu(z, p):
    term = z * _dsig(z)
    return z * _sig(z), _sig(z) + term, abs(_sig(z)) + abs(term)


def _elu(z, a, lam=1):
    if z > 0:
        return lam * z, lam, lam
    return lam * a * mp.expm1(z), lam * a * mp.exp(z), lam * a * mp.exp(z)


def _selu(z, p):
    return _elu(z, mp.mpf(SELU_ALPHA), mp.mpf(SELU_SCALE))


def _plain(f, df):
    def ref(z, p):
        d = df(z, p)
        return f(z, p), d, abs(d)

    return ref


REFERENCES = {  # name -> (f, f', sum of |terms| of f') at mpmath precision
    "identity": _plain(lambda z, p: z, lambda z, p: 1),
    "step": _plain(lambda z, p: 1 if z > 0 else 0, lambda z, p: 0),
    "sigmoid": _plain(lambda z, p: _sig(z), lambda z, p: _dsig(z)),
    "tanh": _plain(lambda z, p: mp.tanh(z), lambda z, p: mp.sech(z) ** 2),
    "relu": _plain(lambda z, p: max(z, 0), lambda z, p: 1 if z > 0 else 0),
    "leaky_relu": _plain(lambda z, p: z if z > 0 else p * z, lambda z, p: 1 if z > 0 else p),
    "prelu": _plain(lambda z, p: z if z > 0 else p * z, lambda z, p: 1 if z > 0 else p),
    "elu": _elu,
    "selu": _selu,
    "gelu": _gelu,
    "gelu_tanh": _gelu_tanh,
    "silu": _silu,
    "softplus": _plain(lambda z, p: mp.log1p(mp.exp(z)), lambda z, p: _sig(z)),
}


def test_every_activation_has_a_reference():
    assert set(REFERENCES) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_and_derivative_keep_full_relative_precision(name):
    """f and f' within 4 ulp on +-[1e-300, 100] and at 0 (f' near an interior zero, as for
    GELU and SiLU, within 4 ulp of the size of its terms: the best a float64 sum can do)."""
    mp.mp.prec = 200
    act = ACTIVATIONS[name]
    p = 0.7 if act.param else 0.0
    ref = np.array([[float(v) for v in REFERENCES[name](mp.mpf(z), mp.mpf(p))] for z in Z])
    y, fp = np.empty_like(Z), np.empty_like(Z)
    K.activate(act.code, p, Z, y, fp)
    assert_ulps(y, ref[:, 0], Z, f"{name} f")
    assert_ulps(fp, ref[:, 1], Z, f"{name} f'", scale=ref[:, 2])


@pytest.mark.parametrize("name", ["tanh", "elu", "selu", "gelu", "gelu_tanh", "silu"])
def test_activation_of_a_tiny_z_is_not_rounded_away(name):
    """The issue's case: tanh as (1 - e) / (1 + e) and ELU as a (e - 1) gave 0 below 1e-17."""
    act = ACTIVATIONS[name]
    z = np.array([-1e-12, 1e-12, -1e-200, 1e-200])
    y, fp = np.empty_like(z), np.empty_like(z)
    K.activate(act.code, 1.0, z, y, fp)
    np.testing.assert_allclose(y, act.f(z, 1.0), rtol=4 * EPS)
    assert np.all(y != 0.0)


# --- a deep net with tiny weights against the plain-NumPy backprop ----------------------------
@pytest.mark.parametrize("name", ["tanh", "elu", "selu", "gelu", "gelu_tanh", "silu"])
def test_tiny_gradients_of_a_deep_net_match_numpy_to_1e_12(name):
    cfg = config(
        **{
            "model.depth": 10,
            "model.width": 5,
            "model.activation": name,
            "model.init": "normal",
            "model.init_scale": 1e-9,
        }
    )
    prob = Problem(cfg)
    prob.gradient()
    net = prob.net
    ks = range(net.depth + 1)
    param = param_value(ACTIVATIONS[name], cfg.model)
    _, dWs, dbs, _ = forward_backward(
        [net.W(k).copy() for k in ks], [net.b(k).copy() for k in ks], prob.X, prob.T, name, param
    )
    for k in ks:
        assert np.linalg.norm(dWs[k]) > 1e-280, k  # tiny, but not 0: a real test
        assert relative_error(net.dW(k), dWs[k]) < 1e-12, k
        assert relative_error(net.db(k), dbs[k]) < 1e-12, k


# --- batch norm and the z / activation statistics on offset data ----------------------------
def _kernel_bn(x, gamma, beta, dout, eps=1e-5):
    B, n = x.shape
    out, xh, dx = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    dgamma, dbeta = np.empty(n), np.empty(n)
    bns = np.zeros((4, n))
    bn_forward(x, out, xh, gamma, beta, bns, 0, True, 0.9, eps)
    bn_backward(dout, xh, gamma, bns, 0, dx, dgamma, dbeta)
    return out, bns, dx, dgamma, dbeta


@pytest.mark.parametrize("offset", [0.0, 1e4, 1e6])
def test_batch_norm_is_exact_on_data_offset_by_many_std(offset):
    rng = np.random.default_rng(3)
    B, n = 64, 7
    std = rng.uniform(0.5, 2.0, n)
    x = offset * std + std * rng.normal(size=(B, n))  # mean = offset standard deviations
    gamma, beta, dout = rng.normal(size=n), rng.normal(size=n), rng.normal(size=(B, n))
    out, bns, dx, dgamma, dbeta = _kernel_bn(x, gamma, beta, dout)
    r_out, r_xh, r_inv = batch_norm(x, gamma, beta, 1e-5)
    r_dx, r_dgamma, r_dbeta = batch_norm_backward(dout, r_xh, r_inv, gamma)
    assert relative_error(bns[K.BN_INV], r_inv) < 1e-12
    assert relative_error(out, r_out) < 1e-10
    for got, ref in ((dx, r_dx), (dgamma, r_dgamma), (dbeta, r_dbeta)):
        assert relative_error(got, ref) < 1e-9


def test_batch_norm_gradient_matches_finite_differences_on_offset_data():
    rng = np.random.default_rng(4)
    B, n, h = 6, 3, 1e-5
    x = 1e4 + rng.normal(size=(B, n))
    gamma, beta, dout = rng.normal(size=n), rng.normal(size=n), rng.normal(size=(B, n))
    _, _, dx, _, _ = _kernel_bn(x, gamma, beta, dout)

    def loss(xx):
        return float(np.sum(dout * _kernel_bn(xx, gamma, beta, dout)[0]))

    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (loss(up) - loss(down)) / (2 * h)
    assert relative_error(dx, numeric) < 1e-5


def test_layer_statistics_are_exact_when_the_mean_dwarfs_the_spread():
    prob = Problem(config(**{"model.activation": "identity", "model.bias_init": 1e4}))
    prob.loss()
    for k in range(prob.net.depth):
        z = prob.ws.get("z", k)
        assert prob.mtab[k, Metric.Z_MEAN] == pytest.approx(z.mean(), rel=1e-14)
        assert prob.mtab[k, Metric.Z_STD] == pytest.approx(z.std(), rel=1e-10)
