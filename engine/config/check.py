"""``validate``: every rule a config must meet, each error naming the field's full path.

Choices and ranges come from the field table (:mod:`engine.config.fields`); the rules here are the
ones across fields (residual widths, the loss a data set needs) and the memory limit.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass

from engine.config import fields as meta
from engine.config.types import (
    ConfigError,
    ExperimentConfig,
    ModelConfig,
    did_you_mean,
    join_path,
    shown,
)
from engine.limits import memory_problem

__all__ = ["validate"]


def _check_field(errors: list[str], path: str, value) -> None:
    """Append ``path: must be ..., got value`` if ``value`` breaks the field's table entry."""
    field = meta.get(path)
    if field.accepts(value):
        return
    hint = did_you_mean(value, field.choices) if field.choices else ""
    errors.append(f"{path}: {field.requirement()}, got {shown(value)}{hint}")


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


def _check_layers(m: ModelConfig, errors: list[str]) -> None:
    """``model.hidden[i]``: the uniform fields' rules; ``activation = ""`` means the global one."""
    for i, h in enumerate(m.hidden):
        _check_field(errors, f"model.hidden[{i}].width", h.width)
        if h.activation:
            _check_field(errors, f"model.hidden[{i}].activation", h.activation)


def _check_residual(m: ModelConfig, errors: list[str]) -> None:
    """A skip connection adds a layer's input to its output: neighbouring widths must match."""
    # without a hidden list every layer has model.width: nothing to compare (and no list
    # of model.depth layers is built just to find that out)
    widths = [h.width for h in m.hidden]
    if not m.residual or min(widths, default=1) < 1:  # a bad width is reported once, above
        return
    for i in range(1, len(widths)):
        if widths[i] != widths[i - 1]:
            errors.append(
                f"model.hidden[{i}].width: must equal the previous width {widths[i - 1]} "
                f"when model.residual is on, got {shown(widths[i])}"
            )


def _check_fields(config: ExperimentConfig, errors: list[str]) -> None:
    """Every field against its table entry, in the order of the dataclasses."""
    for key in meta.leaf_keys():
        value = meta.value_at(config, key)
        if key == "data.scaling" and value == "none":  # the old name, see _renamed_none
            errors.append(_renamed_none(config.data.name))
        elif key == "model.hidden":
            _check_layers(config.model, errors)
        else:
            _check_field(errors, key, value)


def _check_combination(config: ExperimentConfig, errors: list[str]) -> None:
    """Rules across fields: residual widths, and the loss must suit the data."""
    _check_residual(config.model, errors)
    _check_recurrent(config, errors)
    if config.data.name == "surface" and config.model.loss != "mse":
        errors.append(
            f'model.loss: data.name = "surface" is a regression set and needs '
            f'"mse", got {shown(config.model.loss)}'
        )


def _check_recurrent(config: ExperimentConfig, errors: list[str]) -> None:
    """A recurrent cell trains one stack of cells: no MLP-only options; adding needs mse."""
    cell = config.recurrent.cell
    if cell not in ("rnn", "lstm", "gru"):  # "none", or a bad name reported by its field
        return
    m = config.model
    why = f"with recurrent.cell = {cell!r}"
    mlp_only = (
        ("model.batch_norm", m.batch_norm != "none", "'none'"),
        ("model.residual", m.residual, "false"),
        ("model.dropout", m.dropout != 0, "0"),
        ("model.hidden", bool(m.hidden), "[] (model.width and model.depth set the layers)"),
    )
    for key, used, expected in mlp_only:
        if used:
            errors.append(f"{key}: not available {why}; expected {expected}")
    if config.recurrent.task == "adding" and m.loss != "mse":
        errors.append(
            f'model.loss: recurrent.task = "adding" is a regression task and needs "mse", '
            f"got {shown(m.loss)}"
        )


def _float_fields(obj, path: str = ""):
    """(path, value) of every float field in a config tree (nested dataclasses, layer lists)."""
    for f in fields(obj):
        value, sub = getattr(obj, f.name), join_path(path, f.name)
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


def validate(config: ExperimentConfig) -> ExperimentConfig:
    """Return ``config`` unchanged, or raise :class:`ConfigError` listing every problem.

    Range checks first; when those pass, the memory the experiment would need is estimated
    (:mod:`engine.limits`) and a config that cannot fit is refused before anything is built.
    """
    errors: list[str] = []
    non_finite = _validate_finite(config, errors)
    range_errors: list[str] = []
    _check_fields(config, range_errors)
    _check_combination(config, range_errors)
    # a NaN fails every comparison: say "finite" once, not also "must be > 0"
    errors += [e for e in range_errors if e.split(": ", 1)[0] not in non_finite]
    if not errors:
        problem = memory_problem(config)
        if problem:
            errors.append(problem)
    if errors:
        raise ConfigError(errors)
    return config
