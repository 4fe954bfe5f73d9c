"""The config's types: the dataclass tree of an experiment, its error and message helpers.

:mod:`engine.config` is the public face (it re-exports everything here); what each field
accepts and how it is shown lives in :mod:`engine.config.fields`.
"""

from __future__ import annotations

import difflib
import functools
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass, replace

__all__ = [
    "EVAL_AUTO",
    "MAX_SHOWN",
    "ConfigError",
    "DataConfig",
    "ExperimentConfig",
    "LayerConfig",
    "LoggingConfig",
    "ModelConfig",
    "RecurrentConfig",
    "TrainingConfig",
    "cut",
    "did_you_mean",
    "hints",
    "join_path",
    "shown",
    "to_dict",
    "updated",
]

EVAL_AUTO = "auto"


_MAX_LINE = 400


class ConfigError(ValueError):
    """One or more invalid config fields; ``errors`` lists every ``path: problem``.

    ``source`` (a file name, ``--set``, ...) prefixes every line of the message, so a
    user reads ``exp.toml: model.depth: must be >= 1, got 0``.
    """

    def __init__(self, errors: list[str], source: str = ""):
        # a message line stays readable whatever a user typed (values are cut to 80 characters
        # where they are quoted; this catches anything else)
        self.errors = [cut(e, _MAX_LINE) for e in errors]
        self.source = source
        super().__init__("\n".join(self.messages))

    @property
    def messages(self) -> list[str]:
        """Every error, prefixed by ``source`` when there is one."""
        head = f"{self.source}: " if self.source else ""
        return [head + e for e in self.errors]

    def __repr__(self) -> str:
        return f"ConfigError({self.errors!r}, source={self.source!r})"


@dataclass(frozen=True)
class DataConfig:
    """Where the examples come from and how they are prepared."""

    name: str = "digits"  # one of DATASETS
    n_samples: int = 600  # synthetic sets: number of points
    noise: float = 0.1  # synthetic sets: noise level
    n_classes: int = 3  # spiral / blobs: number of classes
    path: str = ""  # mnist / csv: file or folder ("" = default location)
    label_column: str = "-1"  # csv: column name or integer index
    test_fraction: float = 0.2
    subset: int = 0  # keep at most this many training examples (0 = all)
    scaling: str = "auto"  # one of SCALINGS; auto = unit for mnist, else standardize
    seed: int = 0  # generation and train/test split


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
    loss: str = "softmax_ce"  # output activation + loss, one of LOSSES
    init: str = "xavier_normal"  # one of INITIALIZERS
    init_scale: float = 0.05  # std of init "normal", limit of init "uniform"
    sigma_w2: float = 1.0  # fan_in Var(W) of init "fan_in_normal"; gain^2 of "orthogonal"
    bias_init: float = 0.0
    sigma_b2: float = 0.0  # hidden biases ~ N(bias_init, sigma_b2): the mean-field sigma_b^2
    batch_norm: str = "none"  # "pre" / "post": normalise before / after the activation
    residual: bool = False  # skip connection around each equal-width hidden layer
    dropout: float = 0.0  # drop probability after each hidden layer (training only)
    leaky_slope: float = 0.01  # leaky_relu negative slope
    elu_alpha: float = 1.0
    prelu_init: float = 0.25  # initial learnable slope of prelu layers
    dtype: str = "float64"  # one of DTYPES

    def layers(self) -> tuple[LayerConfig, ...]:
        """The hidden layers with every activation resolved."""
        if self.hidden:
            return tuple(LayerConfig(h.width, h.activation or self.activation) for h in self.hidden)
        return tuple(LayerConfig(self.width, self.activation) for _ in range(self.depth))


@dataclass(frozen=True)
class TrainingConfig:
    """Optimiser, schedule and countermeasures applied to the gradient."""

    optimizer: str = "sgd"  # one of OPTIMIZERS
    learning_rate: float = 0.1
    momentum: float = 0.9  # momentum / nesterov
    rho: float = 0.9  # rmsprop decay (Keras default)
    beta1: float = 0.9  # adam (Keras defaults)
    beta2: float = 0.999
    epsilon: float = 1e-7
    batch_size: int = 32
    epochs: int = 10
    steps: int = 0  # if > 0, train this many steps instead of ``epochs``
    weight_decay: float = 0.0  # L2 penalty (wd / 2) * sum ||W||^2 on weights
    clip_norm: float = 0.0  # clip the global gradient norm to this (0 = off)
    clip_value: float = 0.0  # clip each gradient entry to [-v, v] (0 = off)
    bn_momentum: float = 0.99  # running-statistics momentum (Keras default)
    # evaluate on the test split every N steps (0 = never); "auto" = as often as keeps the
    # examples evaluated within 10% of the examples trained on (see engine.session)
    eval_every: int | str = EVAL_AUTO
    seed: int = 0  # weights, shuffling and dropout


@dataclass(frozen=True)
class LoggingConfig:
    """What the session records."""

    history: int = 4096  # capacity of the metric history (points kept)


@dataclass(frozen=True)
class RecurrentConfig:
    """A recurrent net instead of the MLP (engine.recurrent): ``cell = "none"`` is the MLP.

    With a cell, ``task`` generates ``data.n_samples`` sequences (``data.seed``,
    ``data.test_fraction``) in place of ``data.name``; ``model.width`` is the hidden size,
    ``model.depth`` the number of stacked layers.
    """

    cell: str = "none"  # one of CELLS
    rnn_activation: str = "tanh"  # the vanilla RNN's f (LSTM / GRU: sigmoid gates, tanh)
    task: str = "adding"  # one of TASKS
    seq_len: int = 50  # time steps per sequence: how far the gradient must travel
    n_symbols: int = 8  # memory task: symbols to remember (chance = 1 / n_symbols)
    forget_bias: float = 1.0  # LSTM: initial forget-gate bias (Gers et al. 2000)


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines an experiment."""

    name: str = "experiment"
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    recurrent: RecurrentConfig = field(default_factory=RecurrentConfig)

    @property
    def is_recurrent(self) -> bool:
        """True for a recurrent net (engine.recurrent: ``recurrent.cell`` rnn / lstm / gru),
        False for the MLP (``"none"``)."""
        return self.recurrent.cell != "none"


#: longest value repr an error message shows (a 100 kB value is cut, not repeated)
MAX_SHOWN = 80


def cut(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters with "…".

    Safe for any value: a 5000-digit integer or a list nested too deep for ``repr``.
    """
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # int too long to print / nested too deeply
        text = f"<{type(value).__name__} too large to show>"
    return cut(text, limit)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``options`` (difflib), else ``""``."""
    if len(str(word)) > MAX_SHOWN:  # nothing that long is close to a name; difflib is slow
        return ""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def join_path(prefix: str, key) -> str:
    """A child's dotted path: ``model`` + ``hidden`` -> ``model.hidden``, + 0 -> ``[0]``."""
    return f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else key)


@functools.cache
def hints(cls) -> dict[str, object]:
    """Field name -> resolved type of a config dataclass (annotations are strings here)."""
    return typing.get_type_hints(cls)


def updated(config, **changes):
    """``dataclasses.replace`` accepting dotted paths: ``updated(c, **{"model.depth": 3})``."""
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
