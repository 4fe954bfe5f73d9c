"""The trainability sweep's engine: the grid (the one variant expansion), scoring, the
prediction against engine.meanfield, the agreement, cancellation and diverged nets."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from engine_helpers import tiny

from engine.config import ConfigError, updated
from engine.meanfield import mean_field
from engine.sweep import BOUNDARY_XI, PointResult, SweepResult, plan_sweep, run_sweep, train_point
from engine.sweep_theory import agreement, agreement_text, predict, sweep_rows, write_sweep_csv
from engine.variants import expand, expand_grid, split_range


def base(**changes):
    mean_field_net = {"model.activation": "tanh", "model.init": "fan_in_normal"}
    return tiny(**{**mean_field_net, "model.sigma_b2": 0.05, **changes})


# ----------------------------------------------------------------------------- the grid


def test_ranges_spell_out_evenly_spaced_values():
    assert split_range("10:60:6") == ["10", "20", "30", "40", "50", "60"]
    assert split_range("0.5:1:3") == ["0.5", "0.75", "1.0"]
    assert split_range("1,2:3:2") == ["1", "2", "3"]
    assert split_range("[16,16],[32]") == ["[16,16]", "[32]"]  # no range: as before


def test_grid_is_the_variant_expansion_in_cells():
    grid = expand_grid(base(), ["model.sigma_w2=1,2,3", "depth=2:4:2"], maximum=100)
    assert grid.keys == ("model.sigma_w2", "model.depth")
    assert grid.shape == (3, 2)
    flat = list(expand(base(), ["model.sigma_w2=1,2,3", "depth=2,4"]).values())
    assert [c for row in grid.configs for c in row] == flat
    assert grid.configs[2][1].model.sigma_w2 == 3
    assert grid.configs[2][1].model.depth == 4


@pytest.mark.parametrize(
    ("axes", "words"),
    [
        (["model.sigma_w2=1,2"], "exactly two fields, got 1"),
        (["model.sigma_w3=1,2", "depth=2,3"], "model.sigma_w3: unknown key"),
        (["model.sigma_w2=1,2", "depth=0,3"], "model.depth"),
        (["model.sigma_w2=1,2", "depth=x:3:2"], "model.depth"),
        (["model.sigma_w2=1:2:40", "depth=1:40:40"], "1600 combinations; a sweep runs at most"),
    ],
)
def test_bad_grid_names_the_flag_and_field(axes, words):
    with pytest.raises(ConfigError) as e:
        plan_sweep(base(), axes, 5)
    text = str(e.value)
    assert text.startswith("--grid: "), text
    assert words in text, text


def test_depth_goes_on_the_y_axis_and_chance_is_the_majority_class():
    plan = plan_sweep(base(), ["depth=2,3", "model.sigma_w2=1,2"], 7)
    assert plan.grid.keys == ("model.sigma_w2", "model.depth")
    assert all(c.training.steps == 7 for row in plan.grid.configs for c in row)
    from engine.datasets import load_dataset

    labels = load_dataset(plan.base.data, "float64").y_train
    assert plan.chance == pytest.approx(np.bincount(labels).max() / len(labels))
    assert plan.threshold == pytest.approx(plan.chance + 0.5 * (1 - plan.chance))


# ----------------------------------------------------------------------------- prediction


def test_prediction_is_6_xi_c_of_the_mean_field():
    plan = plan_sweep(base(), ["model.sigma_w2=1,1.5,3", "depth=2,3"], 5)
    pred = predict(plan)
    for x, xi in zip(pred.x, pred.xi_c, strict=True):
        assert xi == pytest.approx(mean_field("tanh", x, 0.05).xi_c, rel=1e-12)
    assert np.allclose(pred.boundary, BOUNDARY_XI * pred.xi_c)


def test_he_init_maps_to_its_sigma_w2_and_uncovered_nets_say_why():
    plan = plan_sweep(base(**{"model.init": "he_normal"}), ["width=8,16", "depth=2,3"], 5)
    assert predict(plan).xi_c[0] == pytest.approx(mean_field("tanh", 2.0, 0.05).xi_c)
    plan = plan_sweep(base(**{"model.residual": True}), ["model.sigma_w2=1,2", "depth=2,3"], 5)
    assert "residual" in predict(plan).reason
    plan = plan_sweep(base(), ["model.sigma_w2=1,2", "model.sigma_b2=0,0.1"], 5)
    assert "depth" in predict(plan).reason
    assert agreement_text(agreement(SweepResult(plan))).startswith("no mean-field prediction")


# ----------------------------------------------------------------------------- agreement


def test_before_any_column_is_whole_the_text_says_so_not_no_factor():
    plan = plan_sweep(base(), ["model.sigma_w2=1,2", "depth=2,3"], 5)
    text = agreement_text(agreement(SweepResult(plan)))
    assert text.startswith("no column finished yet")


def _point(i, j, acc, status="ok"):
    return PointResult(i, j, f"{i},{j}", status, 5, 1.0, acc, 1.0, acc, 0.1)


def test_agreement_takes_the_deepest_trainable_depth_of_each_column():
    plan = plan_sweep(base(), ["model.sigma_w2=1,1.5,3,4", "depth=2,4,6"], 5)
    hi, lo = 1.0, 0.0  # accuracies above / below any threshold
    table = {0: (hi, hi, lo), 1: (hi, hi, hi), 2: (lo, lo, lo), 3: (hi, lo, hi)}
    result = SweepResult(plan)
    for i, accs in table.items():
        for j, acc in enumerate(accs):
            result.points[(i, j)] = _point(i, j, acc)
    result.points[(3, 2)] = _point(3, 2, math.nan, "diverged")  # never trainable
    a = agreement(result)
    assert [c.kind for c in a.columns] == ["bounded", "all", "none", "bounded"]
    six = [BOUNDARY_XI * mean_field("tanh", x, 0.05).xi_c for x in (1, 4)]
    assert a.ratios == pytest.approx([4 / six[0], 2 / six[1]])
    assert a.median == pytest.approx(np.median(a.ratios))
    text = agreement_text(a)
    assert f"median {a.median:.2f}" in text
    assert "1 trainable at every depth" in text
    del result.points[(0, 0)]
    assert agreement(result).columns[0].kind == "incomplete"


# ----------------------------------------------------------------------------- running


def test_a_diverged_net_is_named_not_raised():
    from engine.presets import load_preset

    cfg = updated(load_preset("exploding_clipping"), **{"training.steps": 20})  # step 5
    p = train_point((0, 0, cfg))
    assert p.status == "diverged"
    assert "step" in p.message
    assert not p.trainable(0.0)


def test_a_failing_net_is_a_result():
    p = train_point((1, 2, "not a config"))
    assert (p.i, p.j, p.status) == (1, 2, "failed")
    assert "AttributeError" in p.message


@pytest.mark.slow
def test_sweep_scores_every_net_like_a_session_and_cancel_keeps_what_arrived(tmp_path):
    plan = plan_sweep(base(), ["model.sigma_w2=1,2", "depth=2,3"], 30)
    seen, ticks = [], []
    result = run_sweep(plan, progress=ticks.append, on_result=seen.append)
    assert result.complete
    assert not result.cancelled
    assert len(seen) == 4
    assert ticks[-1].done == ticks[-1].total == 4 * 30
    # the pool's figures are those of the same net trained here, evaluated on the splits
    from engine.session import Session

    p = result.points[(1, 0)]
    s = Session(plan.grid.configs[1][0])
    s.run(30)
    assert (p.train_loss, p.train_accuracy) == pytest.approx(s.evaluate("train"), rel=1e-9)
    assert (p.test_loss, p.test_accuracy) == pytest.approx(s.evaluate("test"), rel=1e-9)
    write_sweep_csv(result, tmp_path / "sweep.csv")
    rows = list(csv.DictReader((tmp_path / "sweep.csv").read_text().splitlines()))
    assert len(rows) == 4
    assert {r["status"] for r in rows} == {"ok"}

    stop = run_sweep(plan, cancel=lambda: len(seen) >= 5, on_result=seen.append, workers=1)
    assert stop.cancelled
    assert 1 <= len(stop.points) < 4
    header, rows = sweep_rows(stop)
    assert header[:3] == ["model.sigma_w2", "model.depth", "status"]
    assert sum(r[2] == "not run" for r in rows) == 4 - len(stop.points)
