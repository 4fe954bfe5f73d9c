"""Translations without Qt: the same catalog the app's ``QTranslator`` loads, read as XML.

There is one catalog per language, ``engine/translations/vglab_<lang>.ts`` (Qt Linguist's
XML), kept in the repository and updated by ``python tools/translations.py`` (which runs
``pyside6-lupdate`` over ``gui/``, ``engine/``, ``cli.py`` and ``main.py``, then
``pyside6-lrelease`` into the ``.qm`` beside it).  The GUI loads the compiled ``.qm`` with
Qt's own ``QTranslator`` (:mod:`gui.i18n`); code that must not import Qt -- the engine, the
CLI, the Qt-free view models of ``gui/`` -- reads the ``.ts`` here.

Marking a string (both are call forms ``pyside6-lupdate`` extracts; verified by
``tests/test_i18n.py``)::

    from engine.i18n import QT_TRANSLATE_NOOP, translate

    print(translate("cli", "Invalid experiment settings"))   # translated now
    TITLE = QT_TRANSLATE_NOOP("cli", "usage: ")              # marked, translated later:
    print(translate("cli", TITLE))

The context (first argument) and the text must be string literals; placeholders use
``str.format`` *after* translating (``translate("cli", "{n} problems:").format(n=3)``),
never an f-string, so the catalog holds the template.  Numbers, formulas and code
identifiers stay outside the translated text or unchanged inside it.

Which language (:func:`language_from_env`): ``--lang`` on the command line, else the first
of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set (``ja_JP.UTF-8`` -> ``ja``),
else English.  A language without a catalog is English.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import cache
from pathlib import Path

#: where the catalogs live (a data folder of this package, so a wheel ships it)
CATALOG_DIR = Path(__file__).resolve().parent / "translations"
#: language code -> its name in that language (what the Language menu lists)
LANGUAGES = {"en": "English", "ja": "\u65e5\u672c\u8a9e"}
SOURCE_LANGUAGE = "en"  # the language the code is written in: no catalog needed
_ENV_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_current = SOURCE_LANGUAGE


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # Qt's name: lupdate extracts it
    """Mark ``text`` for the catalog without translating it (for tables read later)."""
    return text


def catalog_path(lang: str, suffix: str = ".ts") -> Path:
    """The catalog file of ``lang`` (``.ts`` source or compiled ``.qm``)."""
    return CATALOG_DIR / f"vglab_{lang}{suffix}"


def normalize(name: str | None) -> str | None:
    """``ja_JP.UTF-8`` / ``ja-JP`` / ``ja`` -> ``ja``; None for an unknown or empty name
    (``C`` and ``POSIX`` are English)."""
    if not name:
        return None
    code = name.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    if code in ("c", "posix"):
        return SOURCE_LANGUAGE
    return code if code in LANGUAGES else None


def language_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The language the environment asks for, None if it names none (or none we have).

    The first variable that is set decides (gettext's order); ``LANGUAGE`` may list
    several (``ja:en``) and the first one with a catalog wins.
    """
    env = os.environ if env is None else env
    for var in _ENV_VARS:
        value = env.get(var, "")
        if not value:
            continue
        if var == "LANGUAGE":
            found = next((c for c in map(normalize, value.split(":")) if c), None)
            if found:
                return found
            continue
        return normalize(value) or SOURCE_LANGUAGE
    return None


def requested(argv: list[str]) -> str | None:
    """The value of ``--lang X`` / ``--lang=X`` in ``argv`` (unchecked), None without one."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def set_language(lang: str | None) -> str:
    """Use ``lang`` (a code or locale name) from now on; returns the code in use."""
    global _current
    _current = normalize(lang) or SOURCE_LANGUAGE
    return _current


def language() -> str:
    """The language in use (``en`` or ``ja``)."""
    return _current


@cache
def load_catalog(path: Path) -> dict[tuple[str, str], str]:
    """(context, source) -> finished translation, from a Qt Linguist ``.ts`` file.

    Unfinished, vanished and obsolete entries are left out, as ``pyside6-lrelease`` does,
    so the CLI and the app show the same words.
    """
    table: dict[tuple[str, str], str] = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            node = message.find("translation")
            if node is None or node.get("type") in ("unfinished", "vanished", "obsolete"):
                continue
            text = node.text or ""
            if text:
                table[(name, message.findtext("source", ""))] = text
    return table


def translate(context: str, text: str, lang: str | None = None) -> str:
    """``text`` in ``lang`` (default: the language in use); itself when untranslated."""
    lang = lang or _current
    if lang == SOURCE_LANGUAGE:
        return text
    path = catalog_path(lang)
    if not path.is_file():
        return text
    return load_catalog(path).get((context, text), text)
