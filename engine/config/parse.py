"""Reading configs: a parsed TOML/JSON document checked into an :class:`ExperimentConfig`,
and command-line ``key=value`` overrides applied to one.

:func:`from_dict` reports unknown keys (with a did-you-mean), wrong types and then the range
checks of :func:`~engine.config.check.validate`, every error at once.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import MISSING, fields, is_dataclass

from engine.config.check import validate
from engine.config.types import (
    ConfigError,
    ExperimentConfig,
    LayerConfig,
    cut,
    did_you_mean,
    hints,
    join_path,
    shown,
    to_dict,
)

__all__ = ["apply_overrides", "from_dict", "parse_document", "parse_value"]

_SECTIONS = ("data", "model", "training", "logging", "recurrent")
_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
_LAYER_HINT = 'an array of layer tables like [{ width = 32 }, { width = 16, activation = "relu" }]'


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


def _unknown_key(cls, key: str, path: str) -> str:
    """``path: unknown key`` with a did-you-mean: a close name here, or the same name elsewhere."""
    names = [f.name for f in fields(cls)]
    path = cut(path)
    hint = did_you_mean(key, names)
    if not hint:
        for section in _SECTIONS:  # e.g. model.learning_rate -> training.learning_rate
            section_cls = hints(ExperimentConfig)[section]
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
    types = hints(cls)
    kwargs = {}
    for key, value in d.items():
        sub = join_path(path, key)
        if key not in types:
            problems.unknown.append(_unknown_key(cls, key, sub))
            continue
        converted = _convert(value, types[key], sub, problems)
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
            typ = hints(typ).get(part)
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
        path = join_path(path, part)
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
