"""Bundled presets: every file loads, validates and runs; the headline claims hold."""

import math

import pytest

from engine.config import ConfigError, ExperimentConfig, updated, validate
from engine.experiments import compare, run_experiment
from engine.presets import (
    PRESETS_DIR,
    get_preset,
    list_presets,
    load_preset,
    preset_names,
    read_preset,
    resolve,
)
from engine.variants import expand

NAMES = preset_names()
REQUIRED = {
    "seed000_deep_activations",
    "seed002_depth_16_units",
    "seed004_breast_cancer",
    "he_vs_xavier",
    "batch_norm",
    "residual",
    "exploding_clipping",
    "dying_relu",
}


def test_the_required_presets_exist_seeds_first():
    assert set(NAMES) >= REQUIRED
    assert NAMES[:3] == [
        "seed000_deep_activations",
        "seed002_depth_16_units",
        "seed004_breast_cancer",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_preset_loads_validates_and_describes_itself(name):
    preset = get_preset(name)
    config = load_preset(name)
    assert validate(config) is config
    assert config.name == name == preset.name
    assert preset.path == PRESETS_DIR / f"{name}.toml"
    assert preset.title
    assert "\n" not in preset.title
    # one paragraph that says what to watch
    assert len(preset.description) > 200
    assert "\n" not in preset.description
    assert "  " not in preset.description
    assert "Watch" in preset.description
    assert len(expand(config, list(preset.vary))) >= (2 if preset.vary else 1)


@pytest.mark.parametrize("name", NAMES)
def test_every_variant_of_a_preset_runs_a_few_steps(name):
    config, vary = resolve(name)
    results = compare(config, vary, steps=3)
    for result in results.values():
        assert result.steps == 3
        assert len(result.rows) == 3


def test_list_presets_matches_the_files():
    presets = list_presets()
    assert [p.name for p in presets] == NAMES
    assert all(p.is_comparison == bool(p.vary) for p in presets)
    assert get_preset("seed004_breast_cancer").vary == ()
    assert "Preset('dying_relu'" in repr(get_preset("dying_relu"))


def test_seed004_matches_the_article_network():
    m = load_preset("seed004_breast_cancer").model
    assert [h.width for h in m.layers()] == [128, 64]
    assert (m.activation, m.init, m.dropout, m.loss) == ("relu", "he_normal", 0.5, "sigmoid_bce")
    t = load_preset("seed004_breast_cancer").training
    assert (t.optimizer, t.batch_size, t.epochs) == ("adam", 32, 50)


def test_resolve_takes_names_and_paths():
    by_name = resolve("dying_relu")
    by_path = resolve(str(PRESETS_DIR / "dying_relu.toml"))
    assert by_name == by_path
    assert by_name[1] == ["model.activation=relu,leaky_relu,prelu"]


def test_unknown_preset_suggests_a_name():
    with pytest.raises(
        ConfigError,
        match=r"unknown preset 'dying_rleu'; did you mean "
        r"'dying_relu'\?; presets: seed000",
    ):
        resolve("dying_rleu")


def test_preset_keys_are_checked_with_the_config(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        'title = 3\n[compare]\nvary = "model.depth=1,2"\nvaru = 1\n[model]\ndepth = 0\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        read_preset(path)
    assert info.value.messages == [
        f"{path}: title: expected a string, got int 3",
        f"{path}: compare.varu: unknown key; did you mean 'vary'?",
        f"{path}: compare.vary: expected an array of \"key=v1,v2\" strings, got 'model.depth=1,2'",
        f"{path}: model.depth: must be >= 1, got 0",
    ]


def test_a_user_file_may_carry_a_compare_table(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[compare]\nvary = ["model.depth=1,2"]\n', encoding="utf-8")
    config, vary = resolve(path)
    assert config == ExperimentConfig(name="mine")
    assert vary == ["model.depth=1,2"]


# ----------------------------------------------------------------------------- claims
# Short versions of what the descriptions promise (the full runs are measured in the report).


def _ratio_at_first_step(name: str) -> dict[str, float]:
    config, vary = resolve(name)
    return {n: r.grad_ratio("initial") for n, r in compare(config, vary, steps=1).items()}


def test_seed000_sigmoid_gradient_vanishes_and_relu_does_not():
    ratio = _ratio_at_first_step("seed000_deep_activations")
    assert ratio["activation=sigmoid"] < 1e-4
    assert 0.3 < ratio["activation=tanh"] < 3
    assert 0.3 < ratio["activation=relu"] < 3


def test_batch_norm_and_residual_restore_the_first_layer_gradient():
    bn = _ratio_at_first_step("batch_norm")
    assert bn["batch_norm=none"] < 1e-10 < 0.5 < bn["batch_norm=pre"]
    res = _ratio_at_first_step("residual")
    assert res["residual=false"] < 1e-10 < 0.05 < res["residual=true"]


def test_exploding_run_diverges_without_clipping_only():
    config, _ = resolve("exploding_clipping")
    results = compare(config, ["training.clip_norm=0,1"], steps=40)
    plain, clipped = results["clip_norm=0"], results["clip_norm=1"]
    assert plain.diverged
    assert plain.divergence.step <= 10
    assert "diverged at step" in plain.divergence.message
    assert not clipped.diverged
    assert clipped.steps == 40
    assert math.isfinite(clipped.snapshot.loss)


def test_dying_relu_kills_units_that_leaky_and_prelu_keep():
    config, _ = resolve("dying_relu")
    relu = run_experiment(config, epochs=3)
    dead = relu.layer_history("dead")[-1][:-1]
    assert dead.max() >= 0.9
    for act in ("leaky_relu", "prelu"):
        r = run_experiment(updated(config, **{"model.activation": act}), steps=5)
        assert r.layer_history("dead")[-1][:-1].max() == 0.0
