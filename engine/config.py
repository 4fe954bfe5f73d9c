"""Typed experiment configuration: the single source of truth for an experiment.

An :class:`ExperimentConfig` is a frozen tree of dataclasses (data, model, training,
logging).  ``validate`` reports every problem at once, each one naming the full field
path (``model.hidden[3].width: must be >= 1, got 0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace

from engine.activations import ACTIVATIONS

INITIALIZERS = (
    "xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "lecun_normal",
    "normal", "uniform", "orthogonal", "zeros",
)
LOSSES = ("softmax_ce", "sigmoid_bce", "mse")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
BATCH_NORM = ("none", "pre", "post")
DTYPES = ("float64", "float32")
SCALINGS = ("standardize", "minmax", "none")
DATASETS = (
    "spiral", "circles", "xor", "moons", "blobs", "surface",
    "digits", "breast_cancer", "mnist", "csv",
)


class ConfigError(ValueError):
    """One or more invalid config fields; ``errors`` lists every ``path: problem``."""

    def __init__(self, errors: list[str], source: str = ""):
        self.errors = list(errors)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(self.errors))

    def __repr__(self) -> str:
        return f"ConfigError({self.errors!r}, source={self.source!r})"


@dataclass(frozen=True)
class DataConfig:
    """Where the examples come from and how they are prepared."""

    name: str = "digits"          # one of DATASETS
    n_samples: int = 600          # synthetic sets: number of points
    noise: float = 0.1            # synthetic sets: noise level
    n_classes: int = 3            # spiral / blobs: number of classes
    path: str = ""                # mnist / csv: file or folder ("" = default location)
    label_column: str = "-1"      # csv: column name or integer index
    test_fraction: float = 0.2
    subset: int = 0               # keep at most this many training examples (0 = all)
    scaling: str = "standardize"  # one of SCALINGS
    seed: int = 0                 # generation and train/test split


@dataclass(frozen=True)
class LayerConfig:
    """One hidden layer; ``activation = ""`` means ``model.activation``."""

    width: int = 32
    activation: str = ""


@dataclass(frozen=True)
class ModelConfig:
    """The network: ``depth`` hidden layers of ``width`` units, unless ``hidden`` lists them."""

    depth: int = 10
    width: int = 32
    activation: str = "sigmoid"
    hidden: tuple[LayerConfig, ...] = ()
    loss: str = "softmax_ce"      # output activation + loss, one of LOSSES
    init: str = "xavier_normal"   # one of INITIALIZERS
    init_scale: float = 0.05      # std of init "normal", limit of init "uniform"
    bias_init: float = 0.0
    batch_norm: str = "none"      # "pre" / "post": normalise before / after the activation
    residual: bool = False        # skip connection around each equal-width hidden layer
    dropout: float = 0.0          # drop probability after each hidden layer (training only)
    leaky_slope: float = 0.01     # leaky_relu negative slope
    elu_alpha: float = 1.0
    prelu_init: float = 0.25      # initial learnable slope of prelu layers
    dtype: str = "float64"        # one of DTYPES

    def layers(self) -> tuple[LayerConfig, ...]:
        """The hidden layers with every activation resolved."""
        if self.hidden:
            return tuple(LayerConfig(h.width, h.activation or self.activation) for h in self.hidden)
        return tuple(LayerConfig(self.width, self.activation) for _ in range(self.depth))


@dataclass(frozen=True)
class TrainingConfig:
    """Optimiser, schedule and countermeasures applied to the gradient."""

    optimizer: str = "sgd"        # one of OPTIMIZERS
    learning_rate: float = 0.1
    momentum: float = 0.9         # momentum / nesterov
    rho: float = 0.9              # rmsprop decay (Keras default)
    beta1: float = 0.9            # adam (Keras defaults)
    beta2: float = 0.999
    epsilon: float = 1e-7
    batch_size: int = 32
    epochs: int = 10
    steps: int = 0                # if > 0, train this many steps instead of ``epochs``
    weight_decay: float = 0.0     # L2 penalty (wd / 2) * sum ||W||^2 on weights
    clip_norm: float = 0.0        # clip the global gradient norm to this (0 = off)
    clip_value: float = 0.0       # clip each gradient entry to [-v, v] (0 = off)
    bn_momentum: float = 0.99     # running-statistics momentum (Keras default)
    eval_every: int = 50          # evaluate on the test split every N steps (0 = never)
    seed: int = 0                 # weights, shuffling and dropout


@dataclass(frozen=True)
class LoggingConfig:
    """What the session records."""

    history: int = 4096           # capacity of the metric history (points kept)


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines an experiment."""

    name: str = "experiment"
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)


def _check(errors: list[str], ok: bool, path: str, expected: str, value) -> None:
    if not ok:
        errors.append(f"{path}: {expected}, got {value!r}")


def _choice(errors: list[str], path: str, value, options) -> None:
    _check(errors, value in options, path, "must be one of " + ", ".join(options), value)


def _validate_data(d: DataConfig, errors: list[str]) -> None:
    _choice(errors, "data.name", d.name, DATASETS)
    _choice(errors, "data.scaling", d.scaling, SCALINGS)
    _check(errors, d.n_samples >= 4, "data.n_samples", "must be >= 4", d.n_samples)
    _check(errors, d.noise >= 0, "data.noise", "must be >= 0", d.noise)
    _check(errors, d.n_classes >= 2, "data.n_classes", "must be >= 2", d.n_classes)
    _check(errors, 0 <= d.test_fraction < 1, "data.test_fraction", "must be in [0, 1)",
           d.test_fraction)
    _check(errors, d.subset >= 0, "data.subset", "must be >= 0", d.subset)


def _validate_model(m: ModelConfig, errors: list[str]) -> None:
    _check(errors, m.depth >= 1, "model.depth", "must be >= 1", m.depth)
    _check(errors, m.width >= 1, "model.width", "must be >= 1", m.width)
    _choice(errors, "model.activation", m.activation, tuple(ACTIVATIONS))
    for i, h in enumerate(m.hidden):
        _check(errors, h.width >= 1, f"model.hidden[{i}].width", "must be >= 1", h.width)
        if h.activation:
            _choice(errors, f"model.hidden[{i}].activation", h.activation, tuple(ACTIVATIONS))
    _choice(errors, "model.loss", m.loss, LOSSES)
    _choice(errors, "model.init", m.init, INITIALIZERS)
    _choice(errors, "model.batch_norm", m.batch_norm, BATCH_NORM)
    _choice(errors, "model.dtype", m.dtype, DTYPES)
    _check(errors, m.init_scale > 0, "model.init_scale", "must be > 0", m.init_scale)
    _check(errors, 0 <= m.dropout < 1, "model.dropout", "must be in [0, 1)", m.dropout)
    _check(errors, m.elu_alpha > 0, "model.elu_alpha", "must be > 0", m.elu_alpha)
    if m.residual:
        widths = [h.width for h in m.layers()]
        for i in range(1, len(widths)):
            _check(errors, widths[i] == widths[i - 1], f"model.hidden[{i}].width",
                   f"must equal the previous width {widths[i - 1]} when model.residual is on",
                   widths[i])


def _validate_training(t: TrainingConfig, errors: list[str]) -> None:
    _choice(errors, "training.optimizer", t.optimizer, OPTIMIZERS)
    _check(errors, t.learning_rate > 0, "training.learning_rate", "must be > 0", t.learning_rate)
    _check(errors, t.batch_size >= 1, "training.batch_size", "must be >= 1", t.batch_size)
    _check(errors, t.epochs >= 1, "training.epochs", "must be >= 1", t.epochs)
    _check(errors, t.steps >= 0, "training.steps", "must be >= 0", t.steps)
    for name in ("momentum", "rho", "beta1", "beta2", "bn_momentum"):
        v = getattr(t, name)
        _check(errors, 0 <= v < 1, f"training.{name}", "must be in [0, 1)", v)
    for name in ("epsilon", "weight_decay", "clip_norm", "clip_value"):
        v = getattr(t, name)
        _check(errors, v >= 0, f"training.{name}", "must be >= 0", v)
    _check(errors, t.eval_every >= 0, "training.eval_every", "must be >= 0", t.eval_every)


def validate(config: ExperimentConfig) -> ExperimentConfig:
    """Return ``config`` unchanged, or raise :class:`ConfigError` listing every problem."""
    errors: list[str] = []
    _validate_data(config.data, errors)
    _validate_model(config.model, errors)
    _validate_training(config.training, errors)
    _check(errors, config.logging.history >= 16, "logging.history", "must be >= 16",
           config.logging.history)
    if errors:
        raise ConfigError(errors)
    return config


def updated(config, **changes):
    """``dataclasses.replace`` that also accepts dotted paths: ``updated(c, **{"model.depth": 3})``."""
    nested: dict[str, dict] = {}
    flat = {}
    for key, value in changes.items():
        head, _, rest = key.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[head] = value
    for head, sub in nested.items():
        flat[head] = updated(getattr(config, head), **sub)
    return replace(config, **flat)


def to_dict(obj) -> dict:
    """Plain nested dict (tuples become lists) of a config dataclass."""
    if is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_dict(v) for v in obj]
    return obj
