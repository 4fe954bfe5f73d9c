"""What every config field accepts and how it is shown: one table, read by everyone.

:func:`engine.config.validate` takes its choices and ranges from :data:`FIELDS`; the app's
controls build their combo boxes, spin boxes, labels and tooltips from it; the compare
window lists a field's choices from it.  Adding a field touches this table and its
dataclass in :mod:`engine.config.types`, nothing else.

A field's *valid* range (``lo`` / ``hi``, each inclusive unless ``*_open``) is what a
config file may say; its *view* range is the narrower span a control offers (a depth of
5000 is valid on the command line, the app's spin box stops at 100).  Qt-free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass

from engine.activations import ACTIVATIONS
from engine.config.choices import (
    BATCH_NORM,
    BN_NAMES,
    CELLS,
    DATASET_NAMES,
    DATASETS,
    DTYPES,
    FILE_SOURCES,
    INIT_NAMES,
    INITIALIZERS,
    LOSS_NAMES,
    LOSSES,
    MAX_SEED,
    OPTIMIZERS,
    SCALING_HELP,
    SCALING_NAMES,
    SCALINGS,
    SYNTHETIC,
    TASKS,
)
from engine.config.types import (
    EVAL_AUTO,
    MAX_SHOWN,
    ExperimentConfig,
    hints,
    join_path,
)


def _uses_param(name: str) -> tuple[str, ...]:
    """The activations whose parameter is ModelConfig field ``name`` (the registry says)."""
    return tuple(a.name for a in ACTIVATIONS.values() if a.param == name)


# ----------------------------------------------------------------------------- Field


@dataclass(frozen=True)
class Field:
    """What one config field accepts (``validate``) and how a control shows it."""

    key: str  # dotted path, "model.activation"
    label: str  # display name: the controls' row label
    help: str = ""  # one line: the control's tooltip
    unit: str = ""
    choices: tuple[str, ...] = ()  # the values a text field takes, in menu order
    names: Mapping[str, str] = field(default_factory=dict)  # choice -> how a menu shows it
    tips: Mapping[str, str] = field(default_factory=dict)  # choice -> its tooltip
    lo: float | None = None  # smallest valid value (None: no bound)
    lo_open: bool = False  # True: ``lo`` itself is refused ("> 0")
    hi: float | None = None
    hi_open: bool = False
    view: tuple[float, float] | None = None  # a control's range, when narrower than lo..hi
    step: float = 1  # a control's step
    decimals: int = 0  # digits a control shows after the point (float fields)
    log: bool = False  # spans decades: a control steps 1, 2, 5, 10, ...
    off: str = ""  # what a control shows at its minimum ("off", "all")
    live: bool = False  # applies mid-run without rebuilding the network
    even: bool = False  # only even values
    auto: str = ""  # a word accepted besides the numbers ("auto")
    max_len: int = 0  # text fields: longest value
    rule: str = ""  # the requirement in words, where the range alone does not say it
    when: tuple[str, tuple[str, ...]] | None = None  # matters only while field X is one of ...

    def __repr__(self) -> str:
        return f"Field({self.key!r})"

    @property
    def span(self) -> tuple[float, float]:
        """The range a control offers: ``view``, else the valid range (both ends closed)."""
        if self.view is not None:
            return self.view
        if self.lo is None or self.hi is None or self.lo_open or self.hi_open:
            raise ValueError(f"{self.key}: no view range for a control")
        return self.lo, self.hi

    def requirement(self) -> str:
        """What a valid value is, in words: ``must be >= 1``, ``must be in [0, 1)``."""
        if self.rule:
            return self.rule
        if self.choices:
            return f"must be one of {', '.join(self.choices)}"
        what = "an even number " if self.even else ""
        if self.lo is not None and self.hi is not None:
            left, right = "(["[not self.lo_open], ")]"[not self.hi_open]
            return f"must be {what}in {left}{self.lo:g}, {self.hi:g}{right}"
        if self.lo is not None:
            return f"must be {what}{'>' if self.lo_open else '>='} {self.lo:g}"
        if self.hi is not None:
            return f"must be {what}{'<' if self.hi_open else '<='} {self.hi:g}"
        return ""

    def accepts(self, value) -> bool:
        """True if ``value`` meets the field's choices, range and rules (types are checked
        where a document is read)."""
        if self.auto and value == self.auto:
            return True
        if self.auto and not _is_int(value):  # a union field: a word or a whole number
            return False
        if self.choices:
            return value in self.choices
        if self.max_len:
            return len(value) <= self.max_len
        if self.lo is None and self.hi is None:
            return True
        if not isinstance(value, int | float):
            return False
        return _within(self, value) and (not self.even or value % 2 == 0)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _within(f: Field, v: float) -> bool:
    """``v`` inside the valid range (NaN never is)."""
    if isinstance(v, float) and math.isnan(v):
        return False
    if f.lo is not None and (v < f.lo or f.lo_open and v == f.lo):
        return False
    return f.hi is None or not (v > f.hi or f.hi_open and v == f.hi)


# ----------------------------------------------------------------------------- the table

_SYNTHETIC = ("data.name", SYNTHETIC)
_RATE = {"lo": 0, "hi": 1, "hi_open": True}  # a fraction or a decay rate: [0, 1)
_POSITIVE = {"lo": 0, "lo_open": True}


def _view(lo: float, hi: float, step: float = 1, decimals: int = 0, off: str = "") -> dict:
    """A control's range, step, digits and the text it shows at its minimum."""
    return {"view": (lo, hi), "step": step, "decimals": decimals, "off": off}


def _opt(*names: str) -> tuple[str, tuple[str, ...]]:
    """Matters only with these optimisers."""
    return ("training.optimizer", names)


def _act(param: str) -> tuple[str, tuple[str, ...]]:
    """Matters only with the activations whose parameter is ModelConfig field ``param``."""
    return ("model.activation", _uses_param(param))


def _decays() -> tuple[Field, ...]:
    """The optimisers' moving-average decay rates, each in [0, 1)."""
    rows = (
        ("rho", "RMSprop: decay of the mean squared gradient", _opt("rmsprop")),
        ("beta1", "Adam: decay of the mean gradient", _opt("adam")),
        ("beta2", "Adam: decay of the mean squared gradient", _opt("adam")),
    )
    return tuple(Field(f"training.{n}", n, text, **_RATE, when=when) for n, text, when in rows)


def _clips() -> tuple[Field, ...]:
    """Gradient clipping: a bound >= 0, 0 = off."""
    rows = (
        ("clip_norm", "Rescale the whole gradient to at most this norm"),
        ("clip_value", "Clip each gradient entry to [-v, v]"),
    )
    view = _view(0.0, 1000.0, 0.5, 3, "off")
    return tuple(
        Field(f"training.{n}", n.replace("_", " "), text, lo=0, **view) for n, text in rows
    )


_RECURRENT = ("recurrent.cell", CELLS[1:])
#: longest sequence a recurrent config may ask for (backpropagation through time stores every
#: step); the app's control stops at 500
MAX_SEQ_LEN = 5000


def _recurrent() -> tuple[Field, ...]:
    """The recurrent section: the cell, the sequence task and its length (engine.recurrent)."""
    return (
        Field(
            "recurrent.cell",
            "cell",
            "none = the MLP; rnn / lstm / gru: a recurrent net trained through time on "
            "recurrent.task",
            choices=CELLS,
            names={"none": "none (MLP)", "rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"},
        ),
        Field(
            "recurrent.rnn_activation",
            "activation",
            "Vanilla RNN: h_t = f(x_t W_x + h_{t-1} W_h + b)",
            choices=tuple(ACTIVATIONS),
            names={n: a.display for n, a in ACTIVATIONS.items()},
            when=("recurrent.cell", ("rnn",)),
        ),
        Field(
            "recurrent.task",
            "task",
            "adding: the sum of the two marked numbers (mse); memory: recall the first symbol",
            choices=TASKS,
            names={"adding": "adding problem", "memory": "memory (recall)"},
            when=_RECURRENT,
        ),
        Field(
            "recurrent.seq_len",
            "sequence length",
            "Time steps per sequence: how far back the gradient must carry the signal",
            unit="steps",
            lo=2,
            hi=MAX_SEQ_LEN,
            view=(2, 500),
            when=_RECURRENT,
        ),
        Field(
            "recurrent.n_symbols",
            "symbols",
            "Memory task: number of symbols to recall (chance = 1 / symbols)",
            lo=2,
            hi=64,
            view=(2, 32),
            when=("recurrent.task", ("memory",)),
        ),
        Field(
            "recurrent.forget_bias",
            "forget-gate bias",
            "LSTM: initial bias of the forget gate (1 keeps the cell state at the start)",
            **_view(-5.0, 5.0, 0.5, 2),
            when=("recurrent.cell", ("lstm",)),
        ),
    )


_TABLE = (
    # --- experiment
    Field("name", "name", "Short name of the experiment (file names, titles)"),
    Field("description", "description", "What the experiment shows, in a sentence or two"),
    # --- data
    Field(
        "data.name",
        "data set",
        "Which examples to learn from",
        choices=DATASETS,
        names=DATASET_NAMES,
    ),
    Field(
        "data.n_samples",
        "samples",
        "Number of generated points",
        lo=4,
        **_view(4, 100_000, 100),
        when=_SYNTHETIC,
    ),
    Field(
        "data.noise",
        "noise",
        "Noise added to the generated points",
        lo=0,
        **_view(0.0, 5.0, 0.05, 2),
        when=_SYNTHETIC,
    ),
    Field(
        "data.n_classes",
        "classes",
        "Number of classes (spiral, blobs)",
        lo=2,
        view=(2, 20),
        when=("data.name", ("spiral", "blobs")),
    ),
    Field(
        "data.path",
        "path",
        "MNIST / CSV: the file or folder to read (empty: the default location)",
        when=("data.name", FILE_SOURCES),
    ),
    Field(
        "data.label_column",
        "label column",
        "CSV: name or index of the label column (-1 = last)",
        max_len=MAX_SHOWN,
        rule=f"must be a column name or index of at most {MAX_SHOWN} characters",
        when=("data.name", ("csv",)),
    ),
    Field(
        "data.test_fraction",
        "test fraction",
        "Share of the examples held out for the test accuracy",
        **_RATE,
        **_view(0.0, 0.9, 0.05, 2),
        when=("data.name", tuple(d for d in DATASETS if d != "mnist")),  # MNIST: its own split
    ),
    Field(
        "data.subset",
        "train subset",
        "Keep at most this many training examples",
        lo=0,
        **_view(0, 1_000_000, 100, off="all"),
    ),
    Field(
        "data.scaling",
        "scaling",
        "Feature scaling; auto = unit (pixels / 255) for MNIST, else standardize",
        choices=SCALINGS,
        names=SCALING_NAMES,
        tips=SCALING_HELP,
    ),
    Field("data.seed", "data seed", "Generation and split seed", lo=0, view=(0, MAX_SEED)),
    # --- model
    Field("model.depth", "hidden layers", "Number of hidden layers (depth)", lo=1, view=(1, 100)),
    Field("model.width", "units per layer", "Width of every hidden layer", lo=1, view=(1, 1024)),
    Field(
        "model.activation",
        "activation",
        "Activation of every hidden layer",
        choices=tuple(ACTIVATIONS),
        names={n: a.display for n, a in ACTIVATIONS.items()},
    ),
    Field("model.hidden", "set each layer", "Give every hidden layer its own width and activation"),
    Field(
        "model.loss",
        "output / loss",
        "Output activation and loss",
        choices=LOSSES,
        names=LOSS_NAMES,
    ),
    Field(
        "model.init",
        "weights",
        "How the weights are drawn at the start",
        choices=INITIALIZERS,
        names=INIT_NAMES,
    ),
    Field(
        "model.init_scale",
        "scale",
        "Std of 'normal' / limit of 'uniform'",
        **_POSITIVE,
        **_view(1e-4, 10.0, 0.01, 4),
        when=("model.init", ("normal", "uniform")),
    ),
    Field(
        "model.sigma_w2",
        "σw²",
        "Weight variance times fan-in (the mean-field σw²): W ~ N(0, σw²/fan_in),"
        " or an orthogonal matrix times √σw²",
        **_POSITIVE,
        hi=1e4,
        # sigmoid's edge of chaos lies near 16-100: the phase diagram's whole x range fits
        **_view(0.01, 1000.0, 0.05, 3),
        when=("model.init", ("fan_in_normal", "orthogonal")),
    ),
    Field(
        "model.bias_init", "bias", "Initial value of every hidden bias", **_view(-5.0, 5.0, 0.1, 2)
    ),
    Field(
        "model.sigma_b2",
        "σb²",
        "Bias variance (the mean-field σb²): each hidden bias ~ N(bias, σb²)",
        lo=0,
        hi=1e4,
        **_view(0.0, 4.0, 0.01, 3),
    ),
    Field(
        "model.batch_norm",
        "batch norm",
        "Normalise each layer's pre-activations (or outputs) over the batch",
        choices=BATCH_NORM,
        names=BN_NAMES,
    ),
    Field(
        "model.residual",
        "residual connections",
        "a_k = f(z_k) + a_{k-1}: the identity path carries the gradient past f'",
    ),
    Field(
        "model.dropout",
        "dropout",
        "Probability of dropping each hidden unit during training",
        **_RATE,
        **_view(0.0, 0.95, 0.05, 2, "off"),
    ),
    Field(
        "model.leaky_slope",
        "negative slope",
        "Leaky ReLU: slope for z < 0",
        **_view(0.0, 1.0, 0.01, 3),
        when=_act("leaky_slope"),
    ),
    Field(
        "model.elu_alpha",
        "alpha",
        "ELU: saturation value for z -> -inf",
        **_POSITIVE,
        **_view(0.01, 10.0, 0.1, 2),
        when=_act("elu_alpha"),
    ),
    Field(
        "model.prelu_init",
        "initial slope",
        "PReLU: initial learnable slope for z < 0",
        **_view(0.0, 1.0, 0.05, 3),
        when=_act("prelu_init"),
    ),
    Field(
        "model.dtype",
        "precision",
        "Floating-point type of the weights and activations",
        choices=DTYPES,
    ),
    # --- training
    Field("training.optimizer", "optimiser", "Update rule", choices=OPTIMIZERS),
    Field(
        "training.learning_rate",
        "learning rate",
        "Step size; applies mid-run without rebuilding",
        **_POSITIVE,
        view=(1e-6, 10.0),
        log=True,
        live=True,
    ),
    Field(
        "training.momentum",
        "momentum",
        "Momentum / Nesterov coefficient",
        **_RATE,
        **_view(0.0, 0.999, 0.05, 3),
        when=_opt("momentum", "nesterov"),
    ),
    *_decays(),
    Field(
        "training.epsilon",
        "epsilon",
        "RMSprop / Adam: added to the denominator",
        lo=0,
        when=_opt("rmsprop", "adam"),
    ),
    Field("training.batch_size", "batch size", "Examples per mini-batch", lo=1, view=(1, 4096)),
    Field("training.epochs", "epochs", "Passes over the training split", lo=1),
    Field("training.steps", "steps", "If > 0, train this many steps instead of epochs", lo=0),
    Field(
        "training.weight_decay",
        "weight decay",
        "L2 penalty on the weights",
        lo=0,
        **_view(0.0, 1.0, 1e-4, 5, "off"),
    ),
    *_clips(),
    Field(
        "training.bn_momentum",
        "batch-norm momentum",
        "Momentum of the running batch statistics",
        **_RATE,
        when=("model.batch_norm", ("pre", "post")),
    ),
    Field(
        "training.eval_every",
        "evaluate every",
        "Steps between evaluations on the test split (0 = never, auto = about 10% of the "
        "examples trained on)",
        unit="steps",
        lo=0,
        auto=EVAL_AUTO,
        rule=f"must be {EVAL_AUTO!r} or a whole number of steps >= 0 (0 = never)",
    ),
    Field(
        "training.seed",
        "weights seed",
        "Seed of the weights, shuffling and dropout",
        lo=0,
        view=(0, MAX_SEED),
    ),
    # --- logging
    Field(
        "logging.history",
        "history",
        "Points of metric history kept",
        unit="points",
        lo=16,
        even=True,
    ),
    *_recurrent(),
)

#: every config field by dotted key, in the order of the dataclasses
FIELDS: dict[str, Field] = {f.key: f for f in _TABLE}
#: a ``model.hidden[i]`` layer's fields follow the rules of the uniform ones
LAYER_FIELDS = {"width": "model.width", "activation": "model.activation"}
#: fields applied mid-run without a rebuild
LIVE = tuple(k for k, f in FIELDS.items() if f.live)


def get(key: str) -> Field:
    """The :class:`Field` of dotted ``key`` (a layer's fields resolve to the uniform ones)."""
    if key.startswith("model.hidden["):
        key = LAYER_FIELDS[key.rsplit(".", 1)[1]]
    return FIELDS[key]


def choices(key: str) -> tuple[str, ...]:
    """The values field ``key`` takes when they are few: its choices, or false / true."""
    if key not in FIELDS:
        return ()
    if kind(key) is bool:
        return ("false", "true")
    return FIELDS[key].choices


def kind(key: str):
    """The declared type of field ``key`` (``int``, ``float``, ``int | str``, ...)."""
    typ = ExperimentConfig
    for part in key.split("."):
        typ = hints(typ)[part]
    return typ


def default(key: str):
    """The value field ``key`` takes when a config does not say."""
    return value_at(ExperimentConfig(), key)


def leaf_keys(cls=ExperimentConfig, prefix: str = "") -> list[str]:
    """The dotted key of every field of a config dataclass tree, in declaration order."""
    keys = []
    for f in fields(cls):
        typ, key = hints(cls)[f.name], join_path(prefix, f.name)
        keys += leaf_keys(typ, key) if is_dataclass(typ) else [key]
    return keys


#: the layer dataclass's fields, for completeness checks


def value_at(config, key: str):
    """The value of dotted ``key`` in ``config``."""
    for part in key.split("."):
        config = getattr(config, part)
    return config
