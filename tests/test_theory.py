"""The chain-rule overlay and the activation table."""

import numpy as np
import pytest
from engine_helpers import config, toy_dataset

from engine.session import Session
from engine.theory import activation_table, chain_rule_prediction, sigmoid_bound


def _snapshot(act="sigmoid", depth=8):
    s = Session(
        config(
            **{
                "model.depth": depth,
                "model.width": 16,
                "model.activation": act,
                "training.batch_size": 32,
            }
        ),
        toy_dataset(n=200),
    )
    s.step()
    return s.snapshot(with_history=False)


def test_prediction_is_the_product_of_the_measured_factors():
    snap = _snapshot()
    m = snap.layers
    L, B = snap.depth, snap.batch_size
    assert B == 32
    pred = chain_rule_prediction(m, snap.widths, B, snap.input_norm)
    for k in range(L + 1):  # recompute each entry as an explicit product
        delta = m["delta_norm"][L]
        for j in range(k, L):
            delta *= m["fprime_mean"][j] * m["weight_norm"][j + 1] / np.sqrt(snap.widths[j + 1])
        a_prev = (
            snap.input_norm
            if k == 0
            else np.sqrt(
                B * snap.widths[k - 1] * (m["act_mean"][k - 1] ** 2 + m["act_std"][k - 1] ** 2)
            )
        )
        assert pred[k] == pytest.approx(a_prev * delta / np.sqrt(B), rel=1e-12)


def test_prediction_tracks_the_measured_decay():
    snap = _snapshot(depth=10)
    pred = chain_rule_prediction(snap.layers, snap.widths, snap.batch_size, snap.input_norm)
    measured = snap.layers["grad_norm"]
    ratio = pred / measured
    assert np.all((ratio > 0.1) & (ratio < 10)), ratio  # same order of magnitude everywhere
    assert measured[0] < 1e-3 * measured[-2]  # and the decay itself is large


def test_sigmoid_bound_quarters_per_layer():
    b = sigmoid_bound(1.0, 4, 5)
    np.testing.assert_allclose(b[:5], [0.25**4, 0.25**3, 0.25**2, 0.25, 1.0])


def test_activation_table_is_complete_and_timed():
    rows = activation_table(n=20_000, repeats=2)
    by = {r.name: r for r in rows}
    assert by["relu"].relative_cost == 1.0
    assert by["sigmoid"].max_grad == pytest.approx(0.25)
    assert all(r.ns_per_element > 0 for r in rows)
