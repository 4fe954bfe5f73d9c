"""Guided lessons (the Qt-free model): short tours that each set up an experiment and say what
to watch.

The lessons live in ``assets/lessons.toml``; each one is a preset plus ``key=value``
overrides, two or three sentences, a "what to watch" line and, optionally, the variants to
compare side by side.  tests/test_lessons.py runs every lesson's config headless and checks
the numbers its text quotes, so the text and the behaviour cannot drift apart.

Each text has its Japanese next to it in the same ``[[lesson]]`` table (``title_ja``,
``text_ja``, ``watch_ja``), so a text and its translation quote the same numbers side by side;
tests/test_lessons_ja.py checks that both quote the same ones.  :meth:`Lesson.localized` gives
a text in the language in use (:mod:`engine.i18n`), English where a translation is missing.

The catalogue needs no Qt (like :mod:`engine.presets`, of which a lesson is a view), so the
headless lesson tests and any CLI can read it; :class:`gui.lessons.LessonPanel` shows it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.config import ConfigError, ExperimentConfig, apply_overrides, did_you_mean
from engine.config.text import config_changes
from engine.presets import localized, translated_keys
from engine.resources import asset

LESSONS_PATH = asset("lessons.toml")
#: the texts a lesson carries in every language (``title_ja``, ...)
TRANSLATED = ("title", "text", "watch")
_KEYS = {
    "id": str,
    "title": str,
    "preset": str,
    "overrides": list,
    "text": str,
    "watch": str,
    "compare": list,
    **dict.fromkeys(translated_keys(TRANSLATED), str),
}
_REQUIRED = ("id", "title", "preset", "text", "watch")


@dataclass(frozen=True)
class Lesson:
    """One guided lesson: which experiment, what it shows, what to watch."""

    id: str
    title: str
    preset: str  # name of a file in assets/presets
    overrides: tuple[str, ...]  # "key=value" applied to the preset
    text: str  # two or three sentences
    watch: str  # what to look at while it runs
    compare: tuple[str, ...] = ()  # "key=v1,v2" for compare mode (may be empty)
    #: ``title_ja`` / ``text_ja`` / ``watch_ja`` -> the translated text (may be empty)
    translations: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def localized(self, key: str, lang: str | None = None) -> str:
        """``title``, ``text`` or ``watch`` in ``lang`` (default: the language in use);
        English where there is no translation."""
        return localized({key: getattr(self, key), **self.translations}, key, lang)

    def config(self) -> ExperimentConfig:
        """The lesson's experiment (ConfigError naming the lesson if it is broken)."""
        from engine.presets import load_preset

        try:
            base = load_preset(self.preset)
            config = apply_overrides(base, self.overrides)
        except ConfigError as e:
            raise ConfigError(e.errors, f"lesson {self.id!r}") from None
        # the preset's own description would describe the preset's net, not the lesson's
        changed = "; ".join(config_changes(base, config))
        description = f"Lesson \u201c{self.title}\u201d: preset {base.name}" + (
            f" with {changed}." if changed else "."
        )
        return replace(config, description=description)

    def __repr__(self) -> str:
        return f"Lesson({self.id!r}, preset={self.preset!r}, overrides={list(self.overrides)})"


def load_lessons(path: str | os.PathLike = LESSONS_PATH) -> list[Lesson]:
    """Every lesson in ``path``, in order.  Raises ConfigError listing every problem, each
    naming the file and the lesson (``lessons.toml: lesson[2].text: expected a string``)."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(["no such file"], str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"cannot read: {e}"], str(path)) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"invalid TOML: {e}"], str(path)) from None
    items = doc.get("lesson", [])
    errors = [f"{k}: unknown key; expected [[lesson]] tables" for k in doc if k != "lesson"]
    if not isinstance(items, list):
        errors.append("lesson: expected [[lesson]] tables")
        items = []
    lessons, seen = [], set()
    for i, item in enumerate(items):
        where = f"lesson[{i}]"
        problems = _check(item, where)
        if problems:
            errors += problems
            continue
        if item["id"] in seen:
            errors.append(f"{where}.id: duplicate id {item['id']!r}")
        seen.add(item["id"])
        lessons.append(
            Lesson(
                item["id"],
                item["title"],
                item["preset"],
                tuple(item.get("overrides", ())),
                " ".join(item["text"].split()),
                " ".join(item["watch"].split()),
                tuple(item.get("compare", ())),
                {k: " ".join(item[k].split()) for k in translated_keys(TRANSLATED) if k in item},
            )
        )
    if errors:
        raise ConfigError(errors, str(path))
    return lessons


def _check(item, where: str) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where}: expected a table"]
    errors = [f"{where}.{k}: unknown key{did_you_mean(k, _KEYS)}" for k in item if k not in _KEYS]
    errors += [f"{where}.{k}: missing" for k in _REQUIRED if k not in item]
    for k, typ in _KEYS.items():
        if k in item and not isinstance(item[k], typ):
            errors.append(f"{where}.{k}: expected {'a string' if typ is str else 'an array'}")
        elif typ is list and k in item and not all(isinstance(v, str) for v in item[k]):
            errors.append(f"{where}.{k}: expected an array of strings")
    return errors
