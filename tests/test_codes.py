"""Codes and the metric table: the registries, the kernels and the history agree on them.

Every name -> code mapping derives from an IntEnum of ``engine.codes``; every per-layer metric
from ``engine.metrics.Metric``.  The oracle for the metric columns is a forward and backward
pass written out in NumPy here, not the kernels' code.
"""

import numpy as np
import pytest
from engine_helpers import Problem, config

from engine import kernels as K
from engine import losses
from engine.activations import ACTIVATIONS, BY_CODE, get
from engine.codes import ActCode, BnCode, LossCode, OptCode, code_of, names
from engine.config import BATCH_NORM, LOSSES, OPTIMIZERS, TrainingConfig
from engine.limits import _N_KINDS, _N_METRICS
from engine.metrics import LAYER_METRICS, N_METRICS, Metric
from engine.network import Workspace
from engine.optimizers import Optimizer
from engine.session import LAYER_METRICS as SESSION_METRICS


def test_registries_take_their_names_and_codes_from_the_enums():
    assert tuple(ACTIVATIONS) == names(ActCode)
    assert sorted(BY_CODE) == list(ActCode)  # one entry per code, none without a code
    assert all(type(a.code) is int for a in ACTIVATIONS.values())  # no IntEnum into a kernel
    assert (names(LossCode), names(OptCode), names(BnCode)) == (LOSSES, OPTIMIZERS, BATCH_NORM)
    assert [losses.code(n) for n in LOSSES] == list(LossCode)
    codes = [Optimizer(TrainingConfig(optimizer=n), 1, np.float64).code for n in OPTIMIZERS]
    assert codes == list(OptCode)
    assert get("gelu_tanh").kind is ActCode.GELU_TANH


def test_an_unknown_name_is_refused_naming_the_field_and_the_choices():
    with pytest.raises(
        ValueError, match="model.loss: expected one of softmax_ce, sigmoid_bce, mse"
    ):
        losses.code("hinge")
    with pytest.raises(ValueError, match="training.optimizer: .* got 'ADAM'"):
        code_of(OptCode, "ADAM", "training.optimizer")  # names are lower case, exactly
    assert code_of(BnCode, "post", "model.batch_norm") is BnCode.POST


def test_metric_table_is_the_one_list_of_per_layer_metrics():
    assert SESSION_METRICS is LAYER_METRICS
    assert tuple(m.name.lower() for m in Metric) == LAYER_METRICS
    assert N_METRICS == K.N_METRICS == _N_METRICS == len(LAYER_METRICS)
    assert [int(m) for m in Metric] == list(range(N_METRICS))
    assert {m.phase for m in Metric} == {"forward", "backward", "update"}
    assert K.N_KINDS == _N_KINDS == len(Workspace.KINDS)


# --- an unknown code fails loudly in every kernel that dispatches on one ----------------------
def test_activation_kernel_refuses_an_unknown_code():
    z = np.linspace(-1.0, 1.0, 5)
    y, fp = np.empty_like(z), np.empty_like(z)
    with pytest.raises(ValueError, match="unknown activation code"):
        K.activate(len(ActCode), 0.0, z, y, fp)


def test_loss_and_update_kernels_refuse_an_unknown_code():
    p = Problem(config())
    p.ip[K.I_LOSS] = len(LossCode)
    with pytest.raises(ValueError, match="unknown loss code"):
        p.loss()
    p.ip[K.I_LOSS] = LossCode.SOFTMAX_CE
    p.gradient()
    p.ip[K.I_OPT] = -1
    n = p.net
    with pytest.raises(ValueError, match="unknown optimiser code"):
        K.update(
            n.params, n.grads, p.opt.m, p.opt.v, n.itab, p.mtab, p.opt.hp, p.ip, p.out, p.status
        )


def test_a_network_with_an_unknown_activation_code_does_not_train():
    p = Problem(config())
    p.net.itab[0, K.ACT] = 99
    with pytest.raises(ValueError, match="unknown activation code"):
        p.loss()


# --- each metric lands in the column the table gives it ---------------------------------------
def _numpy_metrics(p: Problem, act: str, lr: float) -> dict[Metric, np.ndarray]:
    """Every metric of one SGD step of a plain MLP (softmax CE, no batch norm, dropout or
    skips), by matrix algebra; NaN where the kernels leave a row alone."""
    net, L = p.net, p.net.depth
    f, df = ACTIVATIONS[act].f, ACTIVATIONS[act].df
    a_par = [net.alpha(k) if act == "prelu" else 0.0 for k in range(L)]
    Ws = [net.W(k).copy() for k in range(L + 1)]
    a, zs, acts = p.X, [], []
    for k in range(L + 1):
        z = a @ Ws[k] + net.b(k)
        a = z if k == L else f(z, a_par[k])
        zs.append(z)
        acts.append(a)
    e = np.exp(zs[L] - zs[L].max(axis=1, keepdims=True))
    deltas, incoming = [None] * (L + 1), [None] * (L + 1)
    deltas[L] = (e / e.sum(axis=1, keepdims=True) - p.T) / len(p.X)
    incoming[L] = deltas[L]
    for k in range(L - 1, -1, -1):
        incoming[k] = deltas[k + 1] @ Ws[k + 1].T
        deltas[k] = incoming[k] * df(zs[k], a_par[k])
    inputs = [p.X, *acts[:-1]]
    dWs = [inputs[k].T @ deltas[k] for k in range(L + 1)]
    hidden = np.full(L + 1, np.nan)
    m = {metric: hidden.copy() for metric in Metric}
    for k in range(L + 1):
        fp = np.abs(df(zs[k], a_par[k])) if k < L else None
        values = {
            Metric.GRAD_NORM: np.linalg.norm(dWs[k]),
            Metric.BIAS_GRAD_NORM: np.linalg.norm(deltas[k].sum(axis=0)),
            Metric.DELTA_RMS: np.sqrt(np.mean(deltas[k] ** 2)),
            Metric.DELTA_NORM: np.linalg.norm(deltas[k]),
            Metric.INCOMING_NORM: np.linalg.norm(incoming[k]),
            Metric.WEIGHT_NORM: np.linalg.norm(Ws[k] - lr * dWs[k]),
            Metric.UPDATE_RATIO: lr * np.linalg.norm(dWs[k]) / np.linalg.norm(Ws[k]),
            Metric.ACT_MEAN: acts[k].mean(),
            Metric.ACT_STD: acts[k].std(),
            Metric.Z_MEAN: zs[k].mean(),
            Metric.Z_STD: zs[k].std(),
        }
        if k < L:
            max_grad = ACTIVATIONS[act].max_grad(a_par[k])
            values[Metric.FPRIME_MEAN] = fp.mean()
            values[Metric.SATURATED] = np.mean(fp <= 0.01 * max_grad)
            values[Metric.DEAD] = np.mean(np.all(acts[k] == 0.0, axis=0))
        if k < L and act == "prelu":
            values[Metric.PRELU_GRAD] = np.sum(incoming[k] * zs[k] * (zs[k] <= 0.0))
        for metric, value in values.items():
            m[metric][k] = value
    return m


@pytest.mark.parametrize("act", ["relu", "prelu"])
def test_kernel_writes_each_metric_to_its_table_column(act):
    lr = 0.1
    p = Problem(config(**{"model.activation": act, "model.depth": 2, "model.width": 5}), batch=9)
    p.net.b(0)[0] = -50.0  # one unit that never fires: a dead fraction that is not 0
    p.mtab[:] = np.nan
    p.opt.learning_rate = lr
    want = _numpy_metrics(p, act, lr)
    n = p.net
    ok = K.train_step(
        p.X, p.T, n.params, n.grads, p.opt.m, p.opt.v, n.itab, n.ftab, p.ws.ws, n.bns,
        p.mtab, p.opt.hp, p.ip, p.out, p.status,
    )  # fmt: skip
    assert ok
    assert act == "prelu" or want[Metric.DEAD][0] > 0.0
    assert want[Metric.SATURATED][0] > 0.0 or act == "prelu"
    for metric in Metric:
        np.testing.assert_allclose(
            p.mtab[:, metric], want[metric], rtol=1e-10, atol=1e-15, err_msg=metric.key
        )
