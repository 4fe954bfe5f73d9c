"""Variants of one experiment: the one expansion of ``key=v1,v2`` options into configs.

    expand(base, ["model.activation=sigmoid,relu", "depth=4,8"])
    # {"activation=sigmoid,depth=4": cfg, "activation=sigmoid,depth=8": cfg, ...}

Every caller (``vglab run`` / ``compare`` / ``check``, :class:`~engine.compare.CompareSession`,
the compare window, the lessons) expands variants here, so they all accept the same fields,
resolve the same short keys and report the same errors.  Any config field may vary (the
data, the layers, the seed too: depth is a question worth comparing); only the number of
variants depends on the caller.  No Qt here.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace

from engine.config import ConfigError, ExperimentConfig, apply_overrides, did_you_mean
from engine.limits import MAX_VARIANTS

#: fields the compare window offers first (any config field may vary)
SUGGESTED_FIELDS = (
    "model.activation",
    "model.init",
    "model.init_scale",
    "model.sigma_w2",
    "model.bias_init",
    "model.sigma_b2",
    "model.batch_norm",
    "model.residual",
    "model.dropout",
    "model.depth",
    "model.width",
    "model.hidden",
    "model.leaky_slope",
    "model.elu_alpha",
    "model.prelu_init",
    "training.optimizer",
    "training.learning_rate",
    "training.momentum",
    "training.rho",
    "training.beta1",
    "training.beta2",
    "training.epsilon",
    "training.weight_decay",
    "training.clip_norm",
    "training.clip_value",
    "training.bn_momentum",
    "training.batch_size",
    "training.seed",
)
SOURCE = "--vary"

#: ``{name: {"model.activation": "relu", ...}}`` or ``["key=v1,v2", ...]``
Variants = Mapping[str, Mapping[str, object]] | Iterable[str]


def _leaves(node, prefix: str = "") -> list[str]:
    """Dotted names of every config field that holds a value (``model.hidden`` included)."""
    out = []
    for f in fields(node):
        value = getattr(node, f.name)
        name = f"{prefix}{f.name}"
        out += _leaves(value, f"{name}.") if is_dataclass(value) else [name]
    return out


FIELDS = tuple(_leaves(ExperimentConfig()))


def resolve_key(key: str) -> str:
    """The dotted name of a field given in full or by its last part (``depth`` ->
    ``model.depth``); dotted and indexed keys pass as they are (apply_overrides checks them).

    Raises ConfigError for a short name that is unknown or names several fields.
    """
    key = key.strip()
    if "." in key or "[" in key or key in FIELDS:
        return key
    matches = [f for f in FIELDS if f.rsplit(".", 1)[-1] == key]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError([f"{key}: names {' and '.join(matches)}; give the full name"], SOURCE)
    raise ConfigError([f"{key}: unknown field{did_you_mean(key, FIELDS)}"], SOURCE)


def split_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` at commas outside brackets and quotes (``[16,16],[32]``)."""
    values, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append(text[start:i].strip())
            start = i + 1
    values.append(text[start:].strip())
    return values


#: ``lo:hi:n``, n evenly spaced values from lo to hi (both included)
_RANGE = re.compile(r"^\s*([-+]?[\d.eE+-]+)\s*:\s*([-+]?[\d.eE+-]+)\s*:\s*(\d+)\s*$")


def _range_values(text: str, integer: bool = False) -> list[str] | None:
    """``"10:100:10"`` -> ``["10", "20", ..., "100"]``; None when ``text`` is no range.

    Integers stay integers when both ends are written as integers and every step lands on
    one (a depth range); otherwise the values are floats.  ``integer`` (an integer field):
    every value rounded to the nearest whole number ("5:30:3" -> 5, 18, 30).
    """
    m = _RANGE.match(text)
    if m is None:
        return None
    try:
        lo, hi, n = float(m[1]), float(m[2]), int(m[3])
    except ValueError:
        return None
    if n < 1 or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    values = [lo] if n == 1 else [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    if integer:
        return [str(round(v)) for v in values]
    whole = all(re.fullmatch(r"[-+]?\d+", g) for g in (m[1], m[2]))
    if whole and all(v == round(v) for v in values):
        return [str(round(v)) for v in values]
    return [repr(round(v, 12)) for v in values]


def split_range(text: str, integer: bool = False) -> list[str]:
    """:func:`split_values`, with each ``lo:hi:n`` item spelled out as its n values (whole
    numbers for an ``integer`` field)."""
    out = []
    for value in split_values(text):
        out += _range_values(value, integer) or [value]
    return out


def parse_vary(vary: Iterable[str]) -> list[tuple[str, list[str]]]:
    """``["activation=sigmoid,relu"]`` -> ``[("model.activation", ["sigmoid", "relu"])]``.

    Keys are resolved (:func:`resolve_key`) and may be varied once each.
    """
    options, errors = [], []
    for item in vary:
        key, sep, text = item.partition("=")
        values = split_range(text, _is_integer_field(key)) if sep else []
        if not key.strip() or not values or any(not v for v in values):
            errors.append(
                f"{item!r}: expected key=v1,v2,... or key=lo:hi:n, e.g. "
                "model.activation=sigmoid,relu"
            )
            continue
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:  # "depth=2,2" would silently be one variant
            errors.append(f"{key.strip()}: {', '.join(repeated)} given more than once")
            continue
        try:
            options.append((resolve_key(key), values))
        except ConfigError as e:
            errors += e.errors
    keys = [k for k, _ in options]
    if len(set(keys)) != len(keys):
        errors.append(f"each field may be varied once, got {', '.join(keys)}")
    if errors:
        raise ConfigError(errors, SOURCE)
    return options


def _is_integer_field(key: str) -> bool:
    """True for a field declared ``int`` (depth, width, seed): its ranges round."""
    from engine.config import fields

    try:
        return fields.kind(resolve_key(key)) is int
    except (ConfigError, KeyError):
        return False  # parse_vary names the unknown field


def _short_keys(keys: list[str]) -> list[str]:
    """The last part of each dotted key, or the whole key where that would be ambiguous."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return [s if last.count(s) == 1 else k for s, k in zip(last, keys, strict=True)]


def _literal(value) -> str:
    """A Python value as the text of a ``key=value`` override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _count_problem(
    count: int, sizes: list[int], minimum: int, maximum: int, what: str = "comparison"
) -> str:
    if count > maximum:
        product = f"{' x '.join(map(str, sizes))} = " if len(sizes) > 1 else ""
        return (
            f"{product}{count} combinations; a {what} runs at most {maximum} variants: "
            "vary fewer values"
        )
    return f"{count} variant{'s' * (count != 1)}; a {what} needs {minimum} to {maximum}"


def _sets(vary: Variants) -> list[tuple[str, list[str]]]:
    """(name, overrides) of every variant, counted and checked before any config is built."""
    if isinstance(vary, Mapping):
        return [
            (str(name), [f"{resolve_key(k)}={_literal(v)}" for k, v in dict(changes).items()])
            for name, changes in vary.items()
        ]
    options = parse_vary([vary] if isinstance(vary, str) else list(vary))
    keys = [k for k, _ in options]
    names = _short_keys(keys)
    return [
        (
            ",".join(f"{s}={v}" for s, v in zip(names, combo, strict=True)),
            [f"{k}={v}" for k, v in zip(keys, combo, strict=True)],
        )
        for combo in itertools.product(*(values for _, values in options))
    ]


def expand(
    base: ExperimentConfig,
    vary: Variants,
    *,
    minimum: int = 1,
    maximum: int = MAX_VARIANTS,
    what: str = "comparison",
) -> dict[str, ExperimentConfig]:
    """name -> config of every variant of ``base``, all checked before anything is built.

    ``vary`` is a list of ``"key=v1,v2"`` options whose cartesian product is taken (names
    read ``activation=relu,init=he_normal``), or ``{name: {key: value}}``.  No options: the
    base alone, under its own name.  Each variant's config carries its variant name.
    Raises ConfigError listing every problem (each distinct message once), the count
    included when it is outside ``minimum`` .. ``maximum`` (``what`` names the caller in
    that message: "comparison", "sweep").
    """
    if not isinstance(vary, Mapping | str):
        vary = list(vary)
    if not vary and minimum <= 1:
        return {base.name: base}
    if not isinstance(vary, Mapping):
        sizes = [len(v) for _, v in parse_vary([vary] if isinstance(vary, str) else vary)]
        count = math.prod(sizes)
        if not minimum <= count <= maximum:  # counted before a single combination is built
            raise ConfigError([_count_problem(count, sizes, minimum, maximum, what)], SOURCE)
    configs: dict[str, ExperimentConfig] = {}
    errors: list[str] = []
    for name, sets in _sets(vary):
        try:
            configs[name] = replace(apply_overrides(base, sets, source=""), name=name)
        except ConfigError as e:
            errors += [m for m in e.errors if m not in errors]
    if errors:
        raise ConfigError(errors, SOURCE)
    if not minimum <= len(configs) <= maximum:
        raise ConfigError([_count_problem(len(configs), [], minimum, maximum, what)], SOURCE)
    return configs


@dataclass(frozen=True)
class Grid:
    """A 2-D grid of variants: ``configs[i][j]`` has ``keys[0] = values[0][i]`` and
    ``keys[1] = values[1][j]`` (the value texts as given, ranges spelled out)."""

    keys: tuple[str, str]
    values: tuple[tuple[str, ...], tuple[str, ...]]
    configs: tuple[tuple[ExperimentConfig, ...], ...]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.values[0]), len(self.values[1])

    def __repr__(self) -> str:
        return f"Grid({self.keys[0]} x {self.keys[1]}, shape={self.shape})"


def expand_grid(
    base: ExperimentConfig, axes: Iterable[str], *, maximum: int, source: str = "--grid"
) -> Grid:
    """The ``key=v1,v2`` (or ``key=lo:hi:n``) options of exactly two fields as a :class:`Grid`,
    through :func:`expand` (same keys, values, checks and names as a comparison).

    Raises ConfigError (naming ``source``) for anything but two distinct fields, or more
    than ``maximum`` points.
    """
    axes = list(axes)
    try:
        options = parse_vary(axes)
    except ConfigError as e:
        raise ConfigError(e.errors, source) from None
    if len(options) != 2:
        got = ", ".join(k for k, _ in options) or "none"
        raise ConfigError([f"a grid needs exactly two fields, got {len(options)}: {got}"], source)
    try:
        flat = list(expand(base, axes, maximum=maximum, what="sweep").values())
    except ConfigError as e:
        raise ConfigError(e.errors, source) from None
    (k0, v0), (k1, v1) = options
    rows = tuple(tuple(flat[i * len(v1) : (i + 1) * len(v1)]) for i in range(len(v0)))
    return Grid((k0, k1), (tuple(v0), tuple(v1)), rows)
