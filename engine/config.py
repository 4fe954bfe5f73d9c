"""Typed experiment configuration: the single source of truth for an experiment.

An :class:`ExperimentConfig` is a frozen tree of dataclasses (data, model, training,
logging).  ``validate`` reports every problem at once, each one naming the full field
path (``model.hidden[3].width: must be >= 1, got 0``).

Configs live in TOML or JSON files with one table per section::

    name = "deep-sigmoid"
    [model]
    depth = 10
    activation = "sigmoid"
    hidden = [{ width = 128 }, { width = 64, activation = "relu" }]   # optional

:func:`load` / :func:`save` read and write them (``load(save(c)) == c``), :func:`from_dict`
checks a parsed document (unknown keys, types, ranges: every error at once) and
:func:`apply_overrides` applies command-line ``key=value`` settings.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import os
import secrets
import stat
import tomllib
import typing
from collections.abc import Iterable
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path

import tomli_w

from engine.activations import ACTIVATIONS
from engine.codes import BnCode, LossCode, OptCode, names
from engine.limits import memory_problem

INITIALIZERS = (
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "normal",
    "uniform",
    "orthogonal",
    "zeros",
)
LOSSES = names(LossCode)  # ("softmax_ce", "sigmoid_bce", "mse"): the kernels' codes in order
OPTIMIZERS = names(OptCode)
BATCH_NORM = names(BnCode)
DTYPES = ("float64", "float32")
SCALINGS = ("auto", "unit", "standardize", "minmax", "raw")
#: what each scaling does, as the app's scaling control shows it
SCALING_NAMES = {  # short enough for a combo box at 1280x720; controls show the help
    "auto": "auto",
    "unit": "unit (÷ max)",
    "standardize": "standardize",
    "minmax": "min-max [0, 1]",
    "raw": "raw",
}
SCALING_HELP = {
    "auto": "unit for MNIST, standardize for the others",
    "unit": "pixels / their maximum (MNIST / 255, digits / 16)",
    "standardize": "z-score with the training set's mean and std",
    "minmax": "the training set's range mapped to [0, 1]",
    "raw": "values as stored (MNIST 0-255)",
}
EVAL_AUTO = "auto"
DATASETS = (
    "spiral",
    "circles",
    "xor",
    "moons",
    "blobs",
    "surface",
    "digits",
    "breast_cancer",
    "mnist",
    "csv",
)


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
    bias_init: float = 0.0
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
class ExperimentConfig:
    """Everything that defines an experiment."""

    name: str = "experiment"
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)


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


def _check(errors: list[str], ok: bool, path: str, expected: str, value) -> None:
    if not ok:
        errors.append(f"{path}: {expected}, got {shown(value)}")


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``options`` (difflib), else ``""``."""
    if len(str(word)) > MAX_SHOWN:  # nothing that long is close to a name; difflib is slow
        return ""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _choice(errors: list[str], path: str, value, options) -> None:
    if value not in options:
        errors.append(
            f"{path}: must be one of {', '.join(options)}, got {shown(value)}"
            + did_you_mean(value, options)
        )


def _validate_data(d: DataConfig, errors: list[str]) -> None:
    _choice(errors, "data.name", d.name, DATASETS)
    if d.scaling == "none":  # the old name: it meant / 255 for mnist, nothing for the others
        errors.append(_renamed_none(d.name))
    else:
        _choice(errors, "data.scaling", d.scaling, SCALINGS)
    _check(errors, d.n_samples >= 4, "data.n_samples", "must be >= 4", d.n_samples)
    _check(errors, d.noise >= 0, "data.noise", "must be >= 0", d.noise)
    _check(errors, d.n_classes >= 2, "data.n_classes", "must be >= 2", d.n_classes)
    _check(
        errors, 0 <= d.test_fraction < 1, "data.test_fraction", "must be in [0, 1)", d.test_fraction
    )
    _check(errors, d.subset >= 0, "data.subset", "must be >= 0", d.subset)
    _check(errors, d.seed >= 0, "data.seed", "must be >= 0", d.seed)
    _check(
        errors,
        len(d.label_column) <= MAX_SHOWN,
        "data.label_column",
        f"must be a column name or index of at most {MAX_SHOWN} characters",
        d.label_column,
    )


def _renamed_none(data_name: str) -> str:
    """Why ``data.scaling = "none"`` is refused, and which new name does what it did.

    Refused rather than mapped: "none" divided MNIST pixels by 255 but left every other data
    set as stored, so no single new name means what it meant in every saved config.
    """
    if data_name == "mnist":
        return (
            "data.scaling: 'none' was renamed; did you mean 'unit'? (pixels / 255, what "
            "'none' did for mnist; 'raw' keeps the pixels 0-255 as stored)"
        )
    return (
        "data.scaling: 'none' was renamed; did you mean 'raw'? (values as stored, what "
        "'none' did; 'unit' divides image pixels by 255)"
    )


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
    # without a hidden list every layer has model.width: nothing to compare (and no list
    # of model.depth layers is built just to find that out)
    widths = [h.width for h in m.hidden]
    if m.residual and min(widths, default=1) >= 1:  # a bad width is reported once, above
        for i in range(1, len(widths)):
            _check(
                errors,
                widths[i] == widths[i - 1],
                f"model.hidden[{i}].width",
                f"must equal the previous width {widths[i - 1]} when model.residual is on",
                widths[i],
            )


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
    every = t.eval_every
    _check(
        errors,
        every == EVAL_AUTO or isinstance(every, int) and not isinstance(every, bool) and every >= 0,
        "training.eval_every",
        f"must be {EVAL_AUTO!r} or a whole number of steps >= 0 (0 = never)",
        every,
    )
    _check(errors, t.seed >= 0, "training.seed", "must be >= 0", t.seed)


def _float_fields(obj, path: str = ""):
    """(path, value) of every float field in a config tree (nested dataclasses, layer lists)."""
    for f in fields(obj):
        value, sub = getattr(obj, f.name), _join(path, f.name)
        if is_dataclass(value):
            yield from _float_fields(value, sub)
        elif isinstance(value, float):
            yield sub, value


def _validate_finite(config: ExperimentConfig, errors: list[str]) -> list[str]:
    """One rule for every float field: NaN and +-inf are never a setting.  Returns the paths."""
    bad = [(path, v) for path, v in _float_fields(config) if not math.isfinite(v)]
    for path, v in bad:
        errors.append(f"{path}: must be a finite number, got {shown(v)}")
    return [path for path, _ in bad]


def _validate_combination(config: ExperimentConfig, errors: list[str]) -> None:
    """Rules across sections: the loss must suit the data, the history must be even."""
    if config.data.name == "surface" and config.model.loss != "mse":
        errors.append(
            f'model.loss: data.name = "surface" is a regression set and needs '
            f'"mse", got {shown(config.model.loss)}'
        )
    h = config.logging.history
    _check(errors, h >= 16 and h % 2 == 0, "logging.history", "must be an even number >= 16", h)


def validate(config: ExperimentConfig) -> ExperimentConfig:
    """Return ``config`` unchanged, or raise :class:`ConfigError` listing every problem.

    Range checks first; when those pass, the memory the experiment would need is estimated
    (:mod:`engine.limits`) and a config that cannot fit is refused before anything is built.
    """
    errors: list[str] = []
    non_finite = _validate_finite(config, errors)
    range_errors: list[str] = []
    _validate_data(config.data, range_errors)
    _validate_model(config.model, range_errors)
    _validate_training(config.training, range_errors)
    _validate_combination(config, range_errors)
    # a NaN fails every comparison: say "finite" once, not also "must be > 0"
    errors += [e for e in range_errors if e.split(": ", 1)[0] not in non_finite]
    if not errors:
        problem = memory_problem(config)
        if problem:
            errors.append(problem)
    if errors:
        raise ConfigError(errors)
    return config


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


# ----------------------------------------------------------------------------- from_dict

_SECTIONS = ("data", "model", "training", "logging")
_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
_LAYER_HINT = 'an array of layer tables like [{ width = 32 }, { width = 16, activation = "relu" }]'


@functools.cache
def _hints(cls) -> dict[str, object]:
    """Field name -> resolved type of a config dataclass (annotations are strings here)."""
    return typing.get_type_hints(cls)


def _describe(value) -> str:
    """How a wrong value reads in an error message: ``string '5'``, ``boolean true``."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    kinds = {
        int: "integer",
        float: "float",
        str: "string",
        list: "array",
        tuple: "array",
        dict: "table",
    }
    kind = next((k for t, k in kinds.items() if isinstance(value, t)), type(value).__name__)
    return f"{kind} {shown(value, 40)}"


def _join(prefix: str, key) -> str:
    return f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else key)


def _unknown_key(cls, key: str, path: str) -> str:
    """``path: unknown key`` with a did-you-mean: a close name here, or the same name elsewhere."""
    names = [f.name for f in fields(cls)]
    path = cut(path)
    hint = did_you_mean(key, names)
    if not hint:
        for section in _SECTIONS:  # e.g. model.learning_rate -> training.learning_rate
            section_cls = _hints(ExperimentConfig)[section]
            if key in {f.name for f in fields(section_cls)}:
                hint = f"; did you mean '{section}.{key}'?"
                break
    if not hint:
        hint = "; expected one of " + ", ".join(names)
    return f"{path}: unknown key{hint}"


class _Problems:
    """Errors found while reading a document, kept by kind so they report in a fixed order."""

    def __init__(self):
        self.unknown: list[str] = []
        self.types: list[str] = []

    @property
    def bad_paths(self) -> set[str]:
        """Field paths whose values were rejected (the text before the first ``": "``)."""
        return {e.split(": ", 1)[0] for e in self.types}

    def all(self) -> list[str]:
        return self.unknown + self.types

    def __repr__(self) -> str:
        return f"_Problems(unknown={len(self.unknown)}, types={len(self.types)})"


def _convert(value, typ, path: str, problems: _Problems):
    """``value`` as ``typ``, or MISSING after recording why it cannot be."""
    if is_dataclass(typ):
        return _build(typ, value, path, problems)
    if typ == tuple[LayerConfig, ...]:
        return _layers(value, path, problems)
    if typ not in _TYPE_WORDS:  # a field type this reader does not know: take it as it is
        return value
    ok = (
        isinstance(value, typ)
        and (typ is bool or not isinstance(value, bool))
        or typ is float
        and isinstance(value, int)
        and not isinstance(value, bool)
    )
    if not ok:
        problems.types.append(f"{path}: expected {_TYPE_WORDS[typ]}, got {_describe(value)}")
        return MISSING
    if typ is float:
        try:
            return float(value)
        except OverflowError:
            problems.types.append(f"{path}: number too large, got {_describe(value)}")
            return MISSING
    return value


def _layers(value, path: str, problems: _Problems):
    """``model.hidden``: tables ``{width, activation}``; a bare integer is shorthand for a width."""
    if not isinstance(value, list | tuple):
        problems.types.append(f"{path}: expected {_LAYER_HINT}, got {_describe(value)}")
        return MISSING
    layers = []
    for i, item in enumerate(value):
        if isinstance(item, int) and not isinstance(item, bool):
            item = {"width": item}
        layer = _build(LayerConfig, item, f"{path}[{i}]", problems)
        # a placeholder keeps the indices of the later layers' range checks right
        layers.append(LayerConfig() if layer is MISSING else layer)
    return tuple(layers)


def _build(cls, d, path: str, problems: _Problems):
    """An instance of config dataclass ``cls`` from table ``d``; bad fields keep defaults."""
    if not isinstance(d, dict):
        what = f"a table of {', '.join(f.name for f in fields(cls))}"
        problems.types.append(f"{path or 'document'}: expected {what}, got {_describe(d)}")
        return MISSING
    hints = _hints(cls)
    kwargs = {}
    for key, value in d.items():
        sub = _join(path, key)
        if key not in hints:
            problems.unknown.append(_unknown_key(cls, key, sub))
            continue
        converted = _convert(value, hints[key], sub, problems)
        if converted is not MISSING:
            kwargs[key] = converted
    return cls(**kwargs)


def _covered(error: str, bad_paths: set[str]) -> bool:
    """True if ``error`` is about a field (or a part of one) already reported as mistyped."""
    path = error.split(": ", 1)[0]
    if "model.residual" in error and any(p.startswith("model.hidden[") for p in bad_paths):
        return True  # compares a stand-in width with its neighbour
    return any(path == p or path.startswith((p + ".", p + "[")) for p in bad_paths)


def from_dict(d: dict, source: str = "") -> ExperimentConfig:
    """A validated config from a parsed TOML/JSON document; missing keys take their defaults.

    Raises :class:`ConfigError` listing every problem at once: unknown keys (with a
    did-you-mean), values of the wrong type, then the range checks of :func:`validate`.
    """
    problems = _Problems()
    config = _build(ExperimentConfig, d, "", problems)
    errors = problems.all()
    if config is not MISSING:
        # fields with bad types kept their defaults; skip range errors about those stand-ins
        try:
            validate(config)
        except ConfigError as e:
            errors += [err for err in e.errors if not _covered(err, problems.bad_paths)]
    if errors:
        raise ConfigError(errors, source)
    return config


# ----------------------------------------------------------------------------- files


def loads_toml(text: str, source: str = "") -> ExperimentConfig:
    """Parse and check a TOML document (see :func:`from_dict`)."""
    return from_dict(parse_document(text, ".toml", source), source)


def dumps_toml(config: ExperimentConfig) -> str:
    """The TOML text of ``config``; every field is written, so the file is self-contained."""
    return tomli_w.dumps(to_dict(config))


def dumps_json(config: ExperimentConfig) -> str:
    """The JSON text of ``config`` (indented, UTF-8)."""
    return json.dumps(to_dict(config), indent=2, ensure_ascii=False) + "\n"


def parse_document(text: str, suffix: str, source: str = "") -> dict:
    """The top-level table of a TOML (``.toml``) or JSON (``.json``) text, unchecked."""
    text = text.removeprefix("\ufeff")  # a BOM some editors write: not part of the document
    try:
        # JSON's NaN / Infinity parse as floats: validate() then names the field
        d = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except RecursionError:
        raise ConfigError(["tables or arrays nested too deeply"], source) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"invalid TOML: {e}"], source) from None
    except json.JSONDecodeError as e:
        raise ConfigError(
            [f"invalid JSON: {e.msg} (at line {e.lineno}, column {e.colno})"], source
        ) from None
    except ValueError as e:  # an integer of more than 4300 digits (Python's guard)
        what = "an integer of more than 4300 digits" if "digits" in str(e) else cut(str(e))
        raise ConfigError([f"invalid number: {what}"], source) from None
    if not isinstance(d, dict):
        raise ConfigError([f"expected a JSON object at the top level, got {_describe(d)}"], source)
    return d


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(
            [f"unsupported file type {suffix or '(none)'!r}; expected .toml or .json"], str(path)
        )
    return suffix


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a data or config file, or None if it can.

    Refuses folders and non-regular files up front: reading a FIFO would block forever and a
    device (``/dev/zero``) would never end.  The caller adds what it expected.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    except ValueError:
        return "not a valid file name"
    if stat.S_ISDIR(mode):
        return "is a folder"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, device or socket)"
    return None


#: largest config document read (a real one is a few kB; a 100000-layer hidden list ~3 MB)
MAX_DOCUMENT_BYTES = 16 * 1024**2


def read_document(path: str | os.PathLike) -> dict:
    """The parsed (unchecked) top-level table of a ``.toml`` / ``.json`` file.

    Every failure (missing file, unreadable, bad syntax) is a :class:`ConfigError` whose
    source is the file name.
    """
    path = Path(path)
    if not str(path).strip():
        raise ConfigError(["empty CONFIG: expected a .toml / .json file or a preset name"])
    suffix = _suffix(path)
    problem = file_problem(path)
    if problem is None and path.stat().st_size > MAX_DOCUMENT_BYTES:
        problem = f"larger than {MAX_DOCUMENT_BYTES // 1024**2} MiB, too large for a config file"
    if problem:
        expected = (
            ", expected a .toml or .json file"
            if problem.startswith(("is a folder", "not a regular"))
            else ""
        )
        raise ConfigError([problem + expected], str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(["not a UTF-8 text file"], str(path)) from None
    except OSError as e:
        raise ConfigError([f"cannot read: {e.strerror or e}"], str(path)) from None
    return parse_document(text, suffix, str(path))


def load(path: str | os.PathLike) -> ExperimentConfig:
    """The config in a ``.toml`` or ``.json`` file; errors are prefixed by the file name."""
    return from_dict(read_document(path), str(path))


def _alive(pid: int) -> bool:
    """True if process ``pid`` exists (or may: another user's)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files of :func:`write_atomic` calls whose process was killed.

    The temporary name carries the writer's pid (``.metrics.csv.<pid>.<hex>.tmp``), so a
    file of a process still alive (a concurrent writer) is never touched.
    """
    removed = []
    for tmp in folder.glob(".*.tmp"):
        parts = tmp.name.rsplit(".", 3)  # [".metrics.csv", pid, hex, "tmp"]
        if len(parts) == 4 and parts[1].isdigit() and not _alive(int(parts[1])):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    Readers (and a crash half-way) never see a half-written file: the rename is atomic, and
    a failed write (disk full) removes its temporary file.  Temporary files left by killed
    writers in the same folder are removed first.  A new file gets the permissions ``open()``
    would give (the kernel applies the umask; the process umask is never changed), a
    rewritten one keeps its old permissions.  Raises OSError whose ``filename`` is ``path``.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(path.parent)
        _write_replace(path, raw)
    except OSError as e:
        if e.filename == str(path):
            raise
        raise OSError(e.errno, e.strerror or str(e), str(path)) from e
    return path


def _write_replace(path: Path, raw: bytes) -> None:
    try:
        old_mode = path.stat().st_mode & 0o777
    except OSError:
        old_mode = None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save(config: ExperimentConfig, path: str | os.PathLike) -> Path:
    """Write ``config`` as TOML or JSON (by suffix), atomically.  Returns the path."""
    path = Path(path)
    text = dumps_json(config) if _suffix(path) == ".json" else dumps_toml(config)
    return write_atomic(path, text)


# ----------------------------------------------------------------------------- overrides


def _parse_key(key: str) -> list[str | int] | None:
    """``model.hidden[0].width`` -> ``["model", "hidden", 0, "width"]``; None if malformed."""
    parts: list[str | int] = []
    for chunk in key.split("."):
        name, _, rest = chunk.partition("[")
        if not name.isidentifier():
            return None
        parts.append(name)
        while rest:
            index, close, rest = rest.partition("]")
            if not close or not index.isdigit() or (rest and not rest.startswith("[")):
                return None
            parts.append(int(index))
            rest = rest[1:]
    return parts


def _field_type(parts: list[str | int]):
    """The declared type at a key path, or None when the path names no field."""
    typ = ExperimentConfig
    for part in parts:
        if isinstance(part, int):
            typ = LayerConfig if typ == tuple[LayerConfig, ...] else None
        elif is_dataclass(typ):
            typ = _hints(typ).get(part)
        else:
            return None
        if typ is None:
            return None
    return typ


def parse_value(text: str, typ=None):
    """A ``--set`` value: a TOML literal (``5``, ``0.01``, ``true``, ``[16, 16]``), else the text.

    Knowing the field's type ``typ`` keeps ``name=123`` a string and accepts ``.5`` as a
    number and ``True`` as a boolean.
    """
    text = text.strip()
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except (ValueError, RecursionError):  # TOMLDecodeError, or an integer of 4300+ digits
        value = text
    if typ is str and not isinstance(value, str):
        return text
    if typ is bool and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if typ is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _dotted(parts: list[str | int]) -> str:
    """``["model", "hidden", 0]`` -> ``model.hidden[0]``."""
    path = ""
    for part in parts:
        path = _join(path, part)
    return path


def _assign(d: dict, parts: list[str | int], value, key: str) -> str | None:
    """Set ``value`` at ``parts`` inside the nested dicts/lists ``d``; an error message or None.

    Missing tables are created: an unknown name is then reported, with a suggestion, by
    :func:`from_dict` like any other unknown key.
    """
    node = d
    for i, part in enumerate(parts):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                n = len(node) if isinstance(node, list) else 0
                return f"{key}: {_dotted(parts[:i])} has no layer [{part}] (it has {n})"
        elif not isinstance(node, dict):
            return f"{key}: {_dotted(parts[:i])} is not a table"
        if i == len(parts) - 1:
            node[part] = value
        elif isinstance(part, int):
            if isinstance(node[part], int):  # a shorthand width, e.g. from hidden=[16, 16]
                node[part] = {"width": node[part]}
            node = node[part]
        else:
            node = node.setdefault(part, {})
    return None


def apply_overrides(
    config: ExperimentConfig, overrides: Iterable[str], source: str = "--set"
) -> ExperimentConfig:
    """``config`` with ``key=value`` settings applied (``model.depth=5``, ``model.hidden=[16, 16]``,
    ``model.hidden[0].width=8``), re-checked as a whole.

    Raises :class:`ConfigError` (source ``--set``) for malformed items, unknown keys (with a
    did-you-mean), wrong types and out-of-range values, all at once.
    """
    d = to_dict(config)
    errors: list[str] = []
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        parts = _parse_key(key) if sep else None
        if not parts:
            errors.append(f"{shown(item)}: expected key=value, e.g. model.depth=5")
            continue
        error = _assign(d, parts, parse_value(text, _field_type(parts)), key)
        if error:
            errors.append(error)
    try:
        result = from_dict(d)
    except ConfigError as e:
        errors += e.errors
    if errors:
        raise ConfigError(errors, source)
    return result
