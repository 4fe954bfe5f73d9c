"""Ready-made experiments, stored as TOML files in ``assets/presets``.

A preset file is an ordinary config (see :mod:`engine.config`) with two extra top-level
keys: ``title`` (one line for menus) and an optional ``[compare]`` table whose ``vary``
list turns the preset into a comparison::

    name = "seed000_deep_activations"
    title = "Deep MLP: sigmoid vs tanh vs ReLU"
    title_ja = "深い MLP: sigmoid と tanh と ReLU"
    description = "What it shows and what to watch."
    description_ja = "何を示し、何を見るか。"
    [compare]
    vary = ["model.activation=sigmoid,tanh,relu"]

Translations are data beside the English text, ``<key>_<lang>`` (:func:`localized`), so a
description and its translation quote the same measured numbers side by side
(tests/test_lessons_ja.py compares them).  :class:`Preset` carries the title and description
in the language in use (:mod:`engine.i18n`), English where a translation is missing; the
config itself keeps the English description.

The preset's name is its file name without ``.toml``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.config import (
    ConfigError,
    ExperimentConfig,
    cut,
    did_you_mean,
    from_dict,
    read_document,
    shown,
)
from engine.i18n import LANGUAGES, SOURCE_LANGUAGE, language
from engine.resources import asset

PRESETS_DIR = asset("presets")
#: the texts a preset (and a lesson) may carry translated as ``<key>_<lang>``
TRANSLATED = ("title", "description")


def translated_keys(keys) -> list[str]:
    """``title`` -> ``title_ja`` (one per language besides English), for each of ``keys``."""
    return [f"{k}_{lang}" for k in keys for lang in LANGUAGES if lang != SOURCE_LANGUAGE]


def localized(table: dict, key: str, lang: str | None = None) -> str:
    """``table[key + "_" + lang]`` in ``lang`` (default: the language in use), else the
    English ``table[key]`` (empty if neither)."""
    lang = lang or language()
    if lang != SOURCE_LANGUAGE and table.get(f"{key}_{lang}"):
        return table[f"{key}_{lang}"]
    return table.get(key, "")


@dataclass(frozen=True)
class Preset:
    """One preset file: what the menus and ``vglab presets`` show, and where it lives."""

    name: str
    title: str  # in the language in use when the preset was read
    description: str  # likewise
    path: Path
    vary: tuple[str, ...] = ()  # ``key=v1,v2`` options when the preset is a comparison
    cell: str = "none"  # recurrent.cell: "none" is the MLP

    @property
    def is_comparison(self) -> bool:
        return bool(self.vary)

    @property
    def is_recurrent(self) -> bool:
        """A recurrent net (or a comparison of them): the CLI runs it, the MLP window not."""
        return self.cell != "none" or any(v.startswith("recurrent.cell=") for v in self.vary)

    def config(self) -> ExperimentConfig:
        """The preset's experiment (re-read from its file)."""
        return read_preset(self.path)[0]

    def __repr__(self) -> str:
        return f"Preset({self.name!r}, vary={list(self.vary)})"


def _pop_texts(d: dict) -> tuple[dict[str, str], list[str]]:
    """Pop ``title`` and the translations (``title_ja``, ``description_ja``) from ``d``:
    (texts, errors); the texts include the English ``description`` (left in ``d``)."""
    texts, errors = {}, []
    for key in ["title", *translated_keys(TRANSLATED)]:
        value = d.pop(key, "")
        if not isinstance(value, str):
            errors.append(f"{key}: expected a string, got {type(value).__name__} {shown(value)}")
            value = ""
        texts[key] = " ".join(value.split()) if key != "title" else value
    if isinstance(d.get("description"), str):
        texts["description"] = d["description"]
    return texts, errors


def _preset_keys(d: dict) -> tuple[dict[str, str], tuple[str, ...], list[str]]:
    """Pop ``title``, its translations and ``compare`` from document ``d``:
    (texts, vary, errors)."""
    texts, errors = _pop_texts(d)
    table = d.pop("compare", {})
    vary: tuple[str, ...] = ()
    if not isinstance(table, dict):
        errors.append('compare: expected a table with vary = ["key=v1,v2", ...]')
    else:
        for key in table:
            if key != "vary":
                errors.append(f"compare.{cut(str(key))}: unknown key{did_you_mean(key, ['vary'])}")
        raw = table.get("vary", [])
        if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            vary = tuple(raw)
        else:
            errors.append(
                f'compare.vary: expected an array of "key=v1,v2" strings, got {shown(raw)}'
            )
    return texts, vary, errors


def read_preset(path: str | os.PathLike) -> tuple[ExperimentConfig, tuple[str, ...], str]:
    """(config, vary, title) of a preset-style file; every error at once, named by file.
    The title is in the language in use (English where it has no translation)."""
    config, vary, texts = read_preset_texts(path)
    return config, vary, localized(texts, "title")


def read_preset_texts(
    path: str | os.PathLike,
) -> tuple[ExperimentConfig, tuple[str, ...], dict[str, str]]:
    """(config, vary, texts): texts maps ``title``, ``description`` and their translations
    (``title_ja``, ``description_ja``; "" when missing) as the file has them."""
    path = Path(path)
    d = read_document(path)
    texts, vary, errors = _preset_keys(d)
    try:
        config = from_dict(d)
    except ConfigError as e:
        errors += e.errors
    if errors:
        raise ConfigError(errors, str(path))
    return config, vary, texts


def _make(path: Path, name: str | None = None) -> Preset:
    """The :class:`Preset` of file ``path``, its texts in the language in use."""
    config, vary, texts = read_preset_texts(path)
    texts.setdefault("description", config.description)
    return Preset(
        name or path.stem,
        localized(texts, "title") or config.name,
        localized(texts, "description"),
        path,
        vary,
        config.recurrent.cell,
    )


def _sort_key(path: Path) -> tuple[bool, str]:
    """Seed reproductions first, then the teaching presets, each alphabetically."""
    return (not path.stem.startswith("seed"), path.stem)


def preset_paths() -> list[Path]:
    """The preset files, in menu order."""
    return sorted(PRESETS_DIR.glob("*.toml"), key=_sort_key)


def list_presets() -> list[Preset]:
    """Every preset, in menu order (raises ConfigError if a bundled file is broken)."""
    return [_make(path) for path in preset_paths()]


def preset_names() -> list[str]:
    return [p.stem for p in preset_paths()]


def _exists(path: Path) -> bool:
    """``path.exists()`` that says False for names the OS refuses (too long, NUL byte)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _preset_path(name: str) -> Path:
    path = PRESETS_DIR / f"{name}.toml"
    if name not in preset_names():
        names = preset_names()
        raise ConfigError(
            [
                f"unknown preset {shown(name)}{did_you_mean(name, names)}; presets: "
                + ", ".join(names)
            ]
        )
    return path


def get_preset(name: str) -> Preset:
    """The :class:`Preset` called ``name`` (ConfigError with a suggestion if there is none)."""
    return _make(_preset_path(name), name)


def load_preset(name: str) -> ExperimentConfig:
    """The experiment of preset ``name``."""
    return read_preset(_preset_path(name))[0]


def _looks_like_path(text: str) -> bool:
    return (
        os.sep in text
        or "/" in text
        or Path(text).suffix.lower() in (".toml", ".json")
        or _exists(Path(text))
    )


def resolve(name_or_path: str | os.PathLike) -> tuple[ExperimentConfig, list[str]]:
    """(config, vary) from a config file (``.toml`` / ``.json``) or a preset name.

    Files may carry a preset's ``title`` and ``[compare]`` too.  Raises ConfigError naming
    the file and field, or listing the presets when the name is unknown.
    """
    text = os.fspath(name_or_path)
    if not text.strip():
        raise ConfigError(["empty CONFIG: expected a .toml / .json file or a preset name"])
    if _looks_like_path(text):
        config, vary, _ = read_preset(text)
    else:
        config, vary, _ = read_preset(_preset_path(text))
    return config, list(vary)
