"""engine.summary / engine.labels / Session.snapshot: one set of rules for every summary."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from engine_helpers import toy_dataset

from engine import summary as S
from engine.config import ExperimentConfig, updated
from engine.experiments import run_experiment
from engine.labels import from_output_labels, layer_labels, metric_column, short_layer_label
from engine.session import LAYER_METRICS, Session


def tiny(**changes) -> ExperimentConfig:
    cfg = {"model.depth": 4, "model.width": 8, "training.batch_size": 16, "training.eval_every": 4}
    return updated(ExperimentConfig(name="tiny"), **{**cfg, **changes})


@pytest.fixture(scope="module")
def data():
    return toy_dataset(n=120, n_features=3)


def test_layer_names_come_from_one_place():
    assert layer_labels(2) == ("hidden 1", "hidden 2", "output")
    assert [short_layer_label(x) for x in layer_labels(2)] == ["h1", "h2", "out"]
    assert short_layer_label("input") == "input"
    assert from_output_labels(3) == ("out\u22122", "out\u22121", "output")
    assert metric_column("grad_norm", "hidden 1") == "grad_norm[hidden 1]"


def test_final_window_rules_against_plain_python():
    rng = np.random.default_rng(3)
    rows = rng.random((37, 4))
    rows[5, 2] = np.nan  # a non-finite row is left out of the window
    finite = [r for r in rows.tolist() if all(math.isfinite(v) for v in r)]
    n = math.ceil(0.1 * len(finite))
    want = [statistics.median(r[k] for r in finite[-n:]) for k in range(4)]
    np.testing.assert_allclose(S.final_median(rows), want)
    assert np.isnan(S.final_median(np.full((3, 2), np.nan))).all()
    loss, acc = rng.random(25), rng.random(25)
    loss[-1] = np.nan
    n = math.ceil(0.1 * 24)
    assert S.final_mean(loss, acc) == pytest.approx(
        (statistics.fmean(loss[:-1][-n:]), statistics.fmean(acc[:-1][-n:]))
    )
    assert math.isnan(S.final_mean(loss, np.full(25, np.nan))[1])  # regression: no accuracy


def test_ratios_and_first_below():
    assert S.grad_ratio(np.array([1e-6, 3.0, 2e-3, 9.0])) == pytest.approx(1e-6 / 2e-3)
    assert math.isnan(S.grad_ratio(np.array([5.0])))  # no hidden layer: no ratio
    assert S.grad_ratio(np.array([2.0, 7.0])) == 1.0  # one hidden layer: itself
    assert math.isnan(S.ratio(1.0, 0.0))
    assert math.isnan(S.ratio(np.inf, 1.0))
    steps = np.array([2, 4, 6, 8])
    assert S.first_below(steps, np.array([1.0, np.nan, 1e-9, 1e-12])) == 6
    assert S.first_below(steps, np.ones(4)) is None


def test_a_cli_run_and_a_live_session_follow_the_same_rules(data):
    result = run_experiment(tiny(), steps=30, dataset=data)
    row = result.summary()
    assert row.finished
    assert row.status == "finished"
    assert row.labels == layer_labels(4)
    np.testing.assert_array_equal(row.grad_norm_final, result.final_grad_norm())
    assert row.grad_ratio == result.grad_ratio("final")
    assert (row.loss, row.accuracy) == result.final_train()
    s = Session(tiny(), data)
    assert S.summarize("tiny", s).status == "not started"
    s.run(30)
    live = S.summarize("tiny", s)
    assert live.status == "training"
    # the CLI's rows end at the last step, like the session's history here (every step kept)
    assert live.grad_norm_final == row.grad_norm_final
    assert live.grad_ratio_initial == row.grad_ratio_initial
    header, table = S.summary_rows([row, live])
    assert header[-5:] == [metric_column("grad_norm", x) for x in layer_labels(4)]
    assert len(table[0]) == len(header) == len(table[1])
    text = S.summary_table([row, live])
    assert "g1/gL start" in text
    assert "hidden 4" in text


def test_snapshot_history_copies_one_metric_and_can_be_shared(data):
    s = Session(tiny(), data)
    s.run(9)
    steps, rows = s.trace.view()
    h = s.history_arrays()
    np.testing.assert_array_equal(h["history_steps"], steps)
    np.testing.assert_array_equal(
        h["history_grad_norm"], rows[:, :, LAYER_METRICS.index("grad_norm")]
    )
    assert not h["history_grad_norm"].flags.writeable
    shared = s.snapshot(history=h)
    assert shared.history_grad_norm is h["history_grad_norm"]  # no second copy
    fresh = s.snapshot()
    np.testing.assert_array_equal(fresh.history_scalars, h["history_scalars"])
    assert s.snapshot(with_history=False).history_steps is None
