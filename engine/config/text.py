"""A config in words: a one-line summary of an experiment and what changed between two.

Qt-free: the app's controls show these as the experiment's heading and description.
"""

from __future__ import annotations

from engine.config.choices import DATASET_NAMES
from engine.config.types import ExperimentConfig, to_dict

#: how a change names a field where its own name would be unclear
CHANGE_WORDS = {"data.name": "data set", "data.seed": "data seed", "training.seed": "weights seed"}


def _flat(config: ExperimentConfig) -> dict[str, object]:
    """``section.field -> value`` of every setting (name and description left out)."""
    return {
        f"{head}.{key}": value
        for head in ("data", "model", "training", "logging")
        for key, value in to_dict(getattr(config, head)).items()
    }


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return f"{len(value)} layers set one by one" if value else "uniform layers"
    return str(value) if value != "" else "(none)"


def config_changes(old: ExperimentConfig, new: ExperimentConfig) -> list[str]:
    """What differs between two experiments, as ``"activation sigmoid \u2192 tanh"``."""
    a, b = _flat(old), _flat(new)
    return [
        f"{CHANGE_WORDS.get(key, key.partition('.')[2])} {_fmt(a[key])} \u2192 {_fmt(b[key])}"
        for key in a
        if a[key] != b[key]
    ]


def _network(config: ExperimentConfig) -> str:
    """``10 hidden sigmoid layers of 32 units``, or the layers one by one (six at most)."""
    layers = config.model.layers()
    acts = {la.activation for la in layers}
    widths = {la.width for la in layers}
    if len(acts) == 1 and len(widths) == 1:
        return f"{len(layers)} hidden {layers[0].activation} layers of {layers[0].width} units"
    return (
        f"{len(layers)} hidden layers ("
        + ", ".join(f"{la.width} {la.activation}" for la in layers[:6])
        + (", \u2026)" if len(layers) > 6 else ")")
    )


def summary(config: ExperimentConfig) -> str:
    """One line of what the experiment is: layers, countermeasures, optimiser, data."""
    m, t = config.model, config.training
    extras = [
        f"batch norm {m.batch_norm}" if m.batch_norm != "none" else "",
        "residual" if m.residual else "",
        f"dropout {m.dropout:g}" if m.dropout else "",
        f"clip norm {t.clip_norm:g}" if t.clip_norm else "",
        f"clip value {t.clip_value:g}" if t.clip_value else "",
    ]
    extras = [e for e in extras if e]
    data = DATASET_NAMES.get(config.data.name, config.data.name).rstrip("\u2026")
    return (
        _network(config)
        + (f" with {', '.join(extras)}" if extras else "")
        + f"; {_init(m)} init; {t.optimizer} lr {t.learning_rate:g}; {data}"
    )


def _init(m) -> str:
    """The initialiser with the numbers that set it: ``normal (std 0.05)``, ``fan_in_normal
    (σw² 1.5, σb² 0.05)``; biases drawn at random show their variance whatever the init."""
    scale = {
        "normal": f"std {m.init_scale:g}",
        "uniform": f"±{m.init_scale:g}",
        "fan_in_normal": f"σw² {m.sigma_w2:g}",
        "orthogonal": f"σw² {m.sigma_w2:g}" if m.sigma_w2 != 1.0 else "",
    }.get(m.init, "")
    parts = [p for p in (scale, f"σb² {m.sigma_b2:g}" if m.sigma_b2 else "") if p]
    return m.init + (f" ({', '.join(parts)})" if parts else "")
