"""Config files: round trips, every error path with its exact message, --set overrides."""

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.activations import ACTIVATIONS
from engine.config import (
    BATCH_NORM,
    DATASETS,
    DTYPES,
    INITIALIZERS,
    LOSSES,
    OPTIMIZERS,
    SCALINGS,
    ConfigError,
    DataConfig,
    ExperimentConfig,
    LayerConfig,
    LoggingConfig,
    ModelConfig,
    TrainingConfig,
    apply_overrides,
    dumps_json,
    dumps_toml,
    from_dict,
    load,
    loads_toml,
    parse_value,
    save,
    to_dict,
    updated,
    validate,
)
from engine.limits import estimate_memory, memory_limit

# ----------------------------------------------------------------------------- strategies

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)  # no lone surrogates
ACTS = tuple(ACTIVATIONS)


def floats(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False):
    return st.floats(
        lo, hi, exclude_min=lo_open, exclude_max=hi_open, allow_nan=False, allow_infinity=False
    )


data_configs = st.builds(
    DataConfig,
    name=st.sampled_from(DATASETS),
    n_samples=st.integers(4, 10**6),
    noise=floats(0, 10),
    n_classes=st.integers(2, 50),
    path=TEXT,
    label_column=TEXT,
    test_fraction=floats(0, 1, hi_open=True),
    subset=st.integers(0, 10**6),
    scaling=st.sampled_from(SCALINGS),
    seed=st.integers(0, 2**63 - 1),
)

layers = st.builds(
    LayerConfig, width=st.integers(1, 4096), activation=st.sampled_from(("",) + ACTS)
)


@st.composite
def model_configs(draw):
    residual = draw(st.booleans())
    hidden = tuple(draw(st.lists(layers, max_size=5)))
    width = draw(st.integers(1, 512))
    if residual and hidden:  # residual needs equal widths
        hidden = tuple(LayerConfig(hidden[0].width, h.activation) for h in hidden)
    return ModelConfig(
        depth=draw(st.integers(1, 100)),
        width=width,
        activation=draw(st.sampled_from(ACTS)),
        hidden=hidden,
        loss=draw(st.sampled_from(LOSSES)),
        init=draw(st.sampled_from(INITIALIZERS)),
        init_scale=draw(floats(0, 10, lo_open=True)),
        bias_init=draw(floats(-5, 5)),
        batch_norm=draw(st.sampled_from(BATCH_NORM)),
        residual=residual,
        dropout=draw(floats(0, 1, hi_open=True)),
        leaky_slope=draw(floats(-1, 1)),
        elu_alpha=draw(floats(0, 5, lo_open=True)),
        prelu_init=draw(floats(-1, 1)),
        dtype=draw(st.sampled_from(DTYPES)),
    )


unit = floats(0, 1, hi_open=True)
training_configs = st.builds(
    TrainingConfig,
    optimizer=st.sampled_from(OPTIMIZERS),
    learning_rate=floats(0, 100, lo_open=True),
    momentum=unit,
    rho=unit,
    beta1=unit,
    beta2=unit,
    epsilon=floats(0, 1),
    batch_size=st.integers(1, 10**5),
    epochs=st.integers(1, 10**4),
    steps=st.integers(0, 10**7),
    weight_decay=floats(0, 1),
    clip_norm=floats(0, 100),
    clip_value=floats(0, 100),
    bn_momentum=unit,
    eval_every=st.integers(0, 10**4),
    seed=st.integers(0, 2**32),
)


def _regression_loss(c: ExperimentConfig) -> ExperimentConfig:
    """The regression set ``surface`` takes the mse loss (validate requires it)."""
    return updated(c, **{"model.loss": "mse"}) if c.data.name == "surface" else c


def _fits(c: ExperimentConfig) -> bool:
    """Within the memory limit (a batch of 10^5 through 100 x 512 units does not fit)."""
    return estimate_memory(c).total <= memory_limit()


configs = (
    st.builds(
        ExperimentConfig,
        name=TEXT,
        description=TEXT,
        data=data_configs,
        model=model_configs(),
        training=training_configs,
        logging=st.builds(LoggingConfig, history=st.integers(8, 10**5).map(lambda n: 2 * n)),
    )
    .map(_regression_loss)
    .filter(_fits)
)

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# ----------------------------------------------------------------------------- round trips


@SETTINGS
@given(configs)
def test_generated_configs_are_valid(config):
    assert validate(config) is config


@SETTINGS
@given(configs)
def test_toml_text_round_trip(config):
    assert loads_toml(dumps_toml(config)) == config


@SETTINGS
@given(configs)
def test_json_text_round_trip(config):
    assert from_dict(json.loads(dumps_json(config))) == config


@SETTINGS
@given(config=configs, suffix=st.sampled_from([".toml", ".json", ".TOML"]))
def test_file_round_trip(tmp_path, config, suffix):
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:  # one per example
        path = Path(folder) / f"exp{suffix}"
        assert save(config, path) == path
        assert load(path) == config
        assert os.listdir(folder) == [path.name]  # no temporary files left behind


def test_round_trip_keeps_hidden_layers_as_a_tuple_of_layer_configs(tmp_path):
    config = ExperimentConfig(model=ModelConfig(hidden=(LayerConfig(128), LayerConfig(64, "tanh"))))
    loaded = load(save(config, tmp_path / "c.toml"))
    assert loaded.model.hidden == (LayerConfig(128, ""), LayerConfig(64, "tanh"))
    assert isinstance(loaded.model.hidden, tuple)
    assert "hidden = [" in dumps_toml(config)


def test_missing_keys_take_defaults_and_ints_are_accepted_for_floats():
    config = loads_toml("name = 'x'\n[training]\nlearning_rate = 1\n[model]\nhidden = [16, 8]")
    assert config.training.learning_rate == 1.0
    assert isinstance(config.training.learning_rate, float)
    assert config.model.hidden == (LayerConfig(16), LayerConfig(8))
    assert config.data == DataConfig()
    assert from_dict({}) == ExperimentConfig()


def test_to_dict_is_plain():
    d = to_dict(ExperimentConfig(model=ModelConfig(hidden=(LayerConfig(3),))))
    assert d["model"]["hidden"] == [{"width": 3, "activation": ""}]


# ----------------------------------------------------------------------------- errors


def _errors(d, source=""):
    with pytest.raises(ConfigError) as info:
        from_dict(d, source)
    return info.value


def test_unknown_key_suggests_the_closest_name():
    e = _errors({"model": {"actvation": "relu"}})
    assert e.errors == ["model.actvation: unknown key; did you mean 'activation'?"]


def test_unknown_key_suggests_the_section_that_has_it():
    e = _errors({"model": {"learning_rate": 0.1}, "depth": 3})
    assert e.errors == [
        "model.learning_rate: unknown key; did you mean 'training.learning_rate'?",
        "depth: unknown key; did you mean 'model.depth'?",
    ]


def test_unknown_key_without_a_close_match_lists_the_keys():
    e = _errors({"logging": {"zzz": 1}})
    assert e.errors == ["logging.zzz: unknown key; expected one of history"]


def test_unknown_section_is_suggested():
    assert _errors({"modle": {}}).errors == ["modle: unknown key; did you mean 'model'?"]


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"model": {"depth": "5"}}, "model.depth: expected an integer, got string '5'"),
        ({"model": {"depth": 5.0}}, "model.depth: expected an integer, got float 5.0"),
        ({"model": {"depth": True}}, "model.depth: expected an integer, got boolean true"),
        (
            {"training": {"learning_rate": "fast"}},
            "training.learning_rate: expected a number, got string 'fast'",
        ),
        (
            {"training": {"learning_rate": False}},
            "training.learning_rate: expected a number, got boolean false",
        ),
        ({"model": {"residual": 1}}, "model.residual: expected true or false, got integer 1"),
        ({"model": {"activation": 3}}, "model.activation: expected a string, got integer 3"),
        ({"name": ["a"]}, "name: expected a string, got array ['a']"),
        (
            {"model": 3},
            "model: expected a table of depth, width, activation, hidden, loss, init, "
            "init_scale, sigma_w2, bias_init, sigma_b2, batch_norm, residual, dropout, "
            "leaky_slope, elu_alpha, prelu_init, dtype, got integer 3",
        ),
        (
            {"model": {"hidden": 16}},
            "model.hidden: expected an array of layer tables like [{ width = 32 }, { width = 16, "
            'activation = "relu" }], got integer 16',
        ),
        (
            {"model": {"hidden": [{"width": 8}, "wide"]}},
            "model.hidden[1]: expected a table of width, activation, got string 'wide'",
        ),
        (
            {"model": {"hidden": [{"width": 8.5}]}},
            "model.hidden[0].width: expected an integer, got float 8.5",
        ),
        (
            {"model": {"hidden": [{"widht": 8}]}},
            "model.hidden[0].widht: unknown key; did you mean 'width'?",
        ),
        (
            {"training": {"learning_rate": 10**400}},
            "training.learning_rate: number too large, got integer 1" + "0" * 38 + "…",
        ),
    ],
)
def test_wrong_types_name_the_path_and_the_expected_type(d, message):
    assert _errors(d).errors == [message]


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"model": {"depth": 0}}, "model.depth: must be >= 1, got 0"),
        (
            {"model": {"hidden": [{"width": 4}] * 3 + [{"width": 0}]}},
            "model.hidden[3].width: must be >= 1, got 0",
        ),
        (
            {"model": {"activation": "sigmod"}},
            "model.activation: must be one of "
            + ", ".join(ACTIVATIONS)
            + ", got 'sigmod'; did you mean 'sigmoid'?",
        ),
        (
            {"model": {"hidden": [{"width": 4, "activation": "bogus"}]}},
            "model.hidden[0].activation: must be one of "
            + ", ".join(ACTIVATIONS)
            + ", got 'bogus'",
        ),
        ({"model": {"dropout": 1.0}}, "model.dropout: must be in [0, 1), got 1.0"),
        ({"model": {"init_scale": 0}}, "model.init_scale: must be > 0, got 0.0"),
        (
            {"model": {"residual": True, "hidden": [{"width": 4}, {"width": 5}]}},
            "model.hidden[1].width: must equal the previous width 4 when model.residual is on,"
            " got 5",
        ),
        ({"data": {"test_fraction": 1}}, "data.test_fraction: must be in [0, 1), got 1.0"),
        (
            {"data": {"name": "mnsit"}},
            "data.name: must be one of "
            + ", ".join(DATASETS)
            + ", got 'mnsit'; did you mean 'mnist'?",
        ),
        ({"training": {"learning_rate": -0.1}}, "training.learning_rate: must be > 0, got -0.1"),
        ({"training": {"beta2": 1}}, "training.beta2: must be in [0, 1), got 1.0"),
        ({"training": {"clip_norm": -1}}, "training.clip_norm: must be >= 0, got -1.0"),
        ({"logging": {"history": 8}}, "logging.history: must be an even number >= 16, got 8"),
        ({"logging": {"history": 17}}, "logging.history: must be an even number >= 16, got 17"),
        ({"data": {"seed": -1}}, "data.seed: must be >= 0, got -1"),
        ({"training": {"seed": -1}}, "training.seed: must be >= 0, got -1"),
        (
            {"data": {"name": "surface"}},
            'model.loss: data.name = "surface" is a regression set and needs "mse",'
            " got 'softmax_ce'",
        ),
        (
            {"data": {"label_column": "9" * 5000}},
            "data.label_column: must be a column name or index of at most 80 characters, got '"
            + "9" * 78
            + "…",
        ),
    ],
)
def test_range_errors_name_the_full_path(d, message):
    assert _errors(d).errors == [message]


def test_all_errors_are_reported_at_once_in_a_fixed_order():
    e = _errors(
        {
            "model": {
                "depth": 0,
                "actvation": "relu",
                "width": "wide",
                "hidden": [{"width": 3}, "x", {"width": -1}],
            },
            "training": {"learning_rate": 0, "batch_size": 2.5},
            "extra": 1,
        },
        "exp.toml",
    )
    assert e.errors == [
        "model.actvation: unknown key; did you mean 'activation'?",
        "extra: unknown key; expected one of name, description, data, model, training, logging, "
        "recurrent",
        "model.width: expected an integer, got string 'wide'",
        "model.hidden[1]: expected a table of width, activation, got string 'x'",
        "training.batch_size: expected an integer, got float 2.5",
        "model.depth: must be >= 1, got 0",
        "model.hidden[2].width: must be >= 1, got -1",
        "training.learning_rate: must be > 0, got 0.0",
    ]
    assert e.source == "exp.toml"
    assert e.messages[0] == "exp.toml: model.actvation: unknown key; did you mean 'activation'?"
    assert str(e).splitlines() == e.messages
    assert repr(e).startswith("ConfigError([")


def test_a_rejected_field_is_not_also_range_checked():
    # the bad width keeps a default stand-in: no "must equal the previous width" noise
    e = _errors({"model": {"residual": True, "hidden": [{"width": 4}, {"width": "x"}, 4]}})
    assert e.errors == ["model.hidden[1].width: expected an integer, got string 'x'"]


# ----------------------------------------------------------------------------- files


def test_load_prefixes_every_message_with_the_file_name(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[model]\ndepth = 0\nwidht = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.messages == [
        f"{path}: model.widht: unknown key; did you mean 'width'?",
        f"{path}: model.depth: must be >= 1, got 0",
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "a.toml",
            "[model\ndepth = 3",
            "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 7)",
        ),
        (
            "a.json",
            '{"model": {"depth": 3,}}',
            "invalid JSON: Expecting property name enclosed in double quotes"
            " (at line 1, column 23)",
        ),
        ("a.json", "[1, 2]", "expected a JSON object at the top level, got array [1, 2]"),
        ("a.yaml", "model: 3", "unsupported file type '.yaml'; expected .toml or .json"),
    ],
)
def test_unreadable_documents(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.messages == [f"{path}: {message}"]


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file$"):
        load(tmp_path / "nope.toml")
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=r"b\.toml: not a UTF-8 text file$"):
        load(binary)


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "c.toml"
    save(ExperimentConfig(name="old"), path)

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save(ExperimentConfig(name="new"), path)
    monkeypatch.undo()
    assert load(path).name == "old"  # the old file is intact
    assert sorted(os.listdir(tmp_path)) == ["c.toml"]  # and the temp file is gone


# ----------------------------------------------------------------------------- overrides


def test_overrides_parse_toml_literals():
    c = apply_overrides(
        ExperimentConfig(),
        [
            "model.depth=5",
            "training.learning_rate=0.01",
            "model.batch_norm=pre",
            "model.activation=relu",
            'name="quoted"',
            "model.hidden=[16, {width = 8}]",
            "model.hidden[1].activation=tanh",
            "training.clip_norm = 1e-3",
        ],
    )
    assert c.model.depth == 5
    assert c.training.learning_rate == 0.01
    assert c.model.batch_norm == "pre"
    assert c.model.activation == "relu"
    assert c.name == "quoted"
    assert c.model.hidden == (LayerConfig(16), LayerConfig(8, "tanh"))
    assert c.training.clip_norm == 0.001


def test_override_values_follow_the_field_type():
    c = apply_overrides(
        ExperimentConfig(),
        ["name=123", "data.label_column=0", "model.residual=True", "model.dropout=.5"],
    )
    assert c.name == "123"
    assert c.data.label_column == "0"
    assert c.model.residual is True
    assert c.model.dropout == 0.5
    assert parse_value("sigmoid") == "sigmoid"
    assert parse_value("[1, 2]") == [1, 2]


def test_override_errors_are_collected():
    with pytest.raises(ConfigError) as info:
        apply_overrides(
            ExperimentConfig(),
            [
                "model.detph=5",
                "oops",
                "model.hidden[2].width=3",
                "model.depth.x=1",
                "training.learning_rate=fast",
                "model.depth=0",
            ],
        )
    assert info.value.source == "--set"
    assert info.value.errors == [
        "'oops': expected key=value, e.g. model.depth=5",
        "model.hidden[2].width: model.hidden has no layer [2] (it has 0)",
        "model.depth.x: model.depth is not a table",
        "model.detph: unknown key; did you mean 'depth'?",
        "training.learning_rate: expected a number, got string 'fast'",
        "model.depth: must be >= 1, got 0",
    ]
    assert str(info.value).startswith("--set: 'oops': expected key=value")


def test_overrides_leave_the_original_untouched():
    base = ExperimentConfig()
    assert apply_overrides(base, []) == base
    apply_overrides(base, ["model.depth=3"])
    assert base.model.depth == 10


def test_saved_files_get_ordinary_permissions(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    saved = save(ExperimentConfig(), tmp_path / "c.toml")
    assert saved.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
