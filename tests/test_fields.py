"""The config field table: complete, consistent, and what validate() enforces."""

import math
from dataclasses import fields as dataclass_fields

import pytest

from engine import config as config_module
from engine.config import ConfigError, ExperimentConfig, LayerConfig, fields, updated, validate
from engine.config.text import config_changes, summary

RANGED = [k for k, f in fields.FIELDS.items() if f.lo is not None or f.hi is not None]
CHOICES = [k for k, f in fields.FIELDS.items() if f.choices]
VIEWED = [k for k, f in fields.FIELDS.items() if f.view is not None]


def _errors_about(key: str, value) -> list[str]:
    """validate()'s errors about ``key`` once it is set to ``value`` (others ignored)."""
    try:
        validate(updated(ExperimentConfig(), **{key: value}))
    except ConfigError as e:
        return [err for err in e.errors if err.startswith(f"{key}: ")]
    return []


def _outside(field: fields.Field, end: str):
    """The value just outside one end of the field's valid range."""
    bound, is_open = (field.lo, field.lo_open) if end == "lo" else (field.hi, field.hi_open)
    if is_open:
        return float(bound)
    if fields.kind(field.key) is float:
        return math.nextafter(float(bound), -math.inf if end == "lo" else math.inf)
    return int(bound) + (-1 if end == "lo" else 1)


def test_every_dataclass_field_has_an_entry_in_the_table():
    assert list(fields.FIELDS) == fields.leaf_keys()  # also in the dataclasses' order
    assert set(fields.LAYER_FIELDS) == {f.name for f in dataclass_fields(LayerConfig)}
    for key, field in fields.FIELDS.items():
        assert field.key == key
        assert field.label, key
        assert field.help, key


@pytest.mark.parametrize("key", RANGED + CHOICES)
def test_the_default_of_every_field_is_valid(key):
    assert fields.get(key).accepts(fields.default(key))
    assert _errors_about(key, fields.default(key)) == []


@pytest.mark.parametrize(
    ("key", "end"),
    [(k, e) for k in RANGED for e in ("lo", "hi") if getattr(fields.FIELDS[k], e) is not None],
)
def test_validate_refuses_a_value_just_outside_each_range(key, end):
    field = fields.FIELDS[key]
    value = _outside(field, end)
    errors = _errors_about(key, value)
    assert errors, f"{key} = {value!r} was accepted"
    assert errors[0].startswith(f"{key}: must be "), errors
    # and the bound itself, when it is inside, is accepted
    if not getattr(field, f"{end}_open"):
        bound = getattr(field, end)
        inside = float(bound) if fields.kind(key) is float else int(bound)
        assert _errors_about(key, inside) == []


@pytest.mark.parametrize("key", CHOICES)
def test_validate_refuses_a_name_that_is_no_choice(key):
    field = fields.FIELDS[key]
    assert _errors_about(key, "qqqq") == [
        f"{key}: must be one of {', '.join(field.choices)}, got 'qqqq'"
    ]


@pytest.mark.parametrize("key", VIEWED)
def test_a_controls_range_lies_inside_the_valid_range(key):
    field = fields.FIELDS[key]
    lo, hi = field.span
    assert lo < hi
    assert field.accepts(lo), (key, lo)
    assert field.accepts(hi), (key, hi)
    assert lo <= fields.default(key) <= hi


def test_an_even_field_refuses_odd_values():
    assert _errors_about("logging.history", 17) == [
        "logging.history: must be an even number >= 16, got 17"
    ]


def test_a_layer_follows_the_rules_of_the_uniform_fields():
    assert fields.get("model.hidden[3].width") is fields.FIELDS["model.width"]
    assert fields.get("model.hidden[0].activation") is fields.FIELDS["model.activation"]


def test_requirements_in_words():
    assert fields.FIELDS["model.init_scale"].requirement() == "must be > 0"
    assert fields.FIELDS["data.test_fraction"].requirement() == "must be in [0, 1)"
    assert fields.Field("x", "x", lo=0, hi=1, lo_open=True).requirement() == "must be in (0, 1]"
    assert fields.Field("x", "x", hi=3).requirement() == "must be <= 3"


def test_choices_for_hints():
    assert fields.choices("model.residual") == ("false", "true")
    assert fields.choices("model.batch_norm") == ("none", "pre", "post")
    assert fields.choices("training.learning_rate") == ()
    assert fields.choices("no.such") == ()


def test_the_config_module_exports_the_tables_lists():
    assert config_module.LOSSES is fields.FIELDS["model.loss"].choices
    assert config_module.DATASETS is fields.FIELDS["data.name"].choices


def test_activation_parameters_matter_only_for_their_activation():
    assert fields.FIELDS["model.leaky_slope"].when == ("model.activation", ("leaky_relu",))
    assert fields.FIELDS["model.elu_alpha"].when == ("model.activation", ("elu",))


def test_config_in_words():
    base = ExperimentConfig()
    new = updated(base, **{"model.activation": "tanh", "data.seed": 3})
    assert config_changes(base, new) == ["data seed 0 \u2192 3", "activation sigmoid \u2192 tanh"]
    assert summary(new).startswith("10 hidden tanh layers of 32 units; xavier_normal init")


def test_summary_names_the_numbers_that_set_the_init():
    def init_words(**changes):
        return summary(updated(ExperimentConfig(), **changes)).split("; ")[1]

    assert init_words() == "xavier_normal init"
    assert (
        init_words(**{"model.init": "normal", "model.init_scale": 0.2}) == "normal (std 0.2) init"
    )
    mean_field = {"model.init": "fan_in_normal", "model.sigma_w2": 1.5, "model.sigma_b2": 0.05}
    assert init_words(**mean_field) == "fan_in_normal (σw² 1.5, σb² 0.05) init"
    assert (
        init_words(**{"model.init": "orthogonal", "model.sigma_w2": 2}) == "orthogonal (σw² 2) init"
    )
    assert (
        init_words(**{"model.init": "he_normal", "model.sigma_b2": 0.1})
        == "he_normal (σb² 0.1) init"
    )
