"""The lessons and the presets in Japanese: every text has its translation beside it, quoting
the same numbers; the loaders, the CLI and the lesson panel follow the language in use.

tests/test_lessons.py checks the English lesson numbers against headless runs, and the
presets' descriptions quote measured figures; requiring the same numbers (as a multiset) in
each Japanese text makes the Japanese numbers checked too.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine import i18n as core
from engine.lessons import TRANSLATED, Lesson, load_lessons
from engine.presets import get_preset, list_presets, preset_paths, read_preset, read_preset_texts

ROOT = Path(__file__).resolve().parent.parent
# a number as the texts write it: 4, 0.25, 2e-12, 1e21 (the "e-12" belongs to the number;
# ASCII only, so a full-width digit in a translation counts as a missing number)
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.ASCII)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana or kanji


def numbers(text: str) -> Counter:
    """The numbers of ``text``, as a multiset of their spellings."""
    return Counter(NUMBER.findall(text))


def _texts() -> list[tuple[str, str, str]]:
    """(where, English, Japanese) for every translated text of the lessons and the presets."""
    rows = []
    for lesson in load_lessons():
        for key in TRANSLATED:
            rows.append(
                (f"{lesson.id}.{key}", getattr(lesson, key), lesson.translations.get(f"{key}_ja"))
            )
    for path in preset_paths():
        texts = read_preset_texts(path)[2]
        for key in ("title", "description"):
            rows.append((f"{path.name}:{key}", texts[key], texts[f"{key}_ja"]))
    return rows


TEXTS = _texts()


@pytest.fixture
def japanese():
    """The Qt-free language set to Japanese for the test, English afterwards."""
    core.set_language("ja")
    yield
    core.set_language("en")


@pytest.mark.parametrize(("where", "english", "ja"), TEXTS, ids=[t[0] for t in TEXTS])
def test_every_text_has_a_japanese_one_with_the_same_numbers(where, english, ja):
    assert ja, f"{where}: no Japanese text"
    assert JAPANESE.search(ja), f"{where}: the Japanese text has no Japanese in it"
    assert numbers(ja) == numbers(english), (
        f"{where}: numbers only in English {sorted((numbers(english) - numbers(ja)).elements())}, "
        f"only in Japanese {sorted((numbers(ja) - numbers(english)).elements())}"
    )


def test_there_are_texts_to_check():
    """10 lessons x 3 texts and every preset's 2 (an empty list would pass the test above)."""
    assert len(TEXTS) == 3 * len(load_lessons()) + 2 * len(preset_paths())
    assert len(TEXTS) >= 30


def test_the_number_check_sees_a_changed_or_missing_number():
    english = "hidden 1 gets about 4e-6 of hidden 10's gradient (0.25, 8x8)"
    assert numbers(english) == Counter(["1", "4e-6", "10", "0.25", "8", "8"])
    assert numbers("hidden 1 は hidden 10 の約 4e-6 倍 (0.25, 8x8)") == numbers(english)
    assert numbers("hidden 1 は hidden 10 の約 4e-5 倍 (0.25, 8x8)") != numbers(english)
    assert numbers("hidden 1 は hidden 10 の約 4e-6 倍 (0.25, 8x８)") != numbers(english)
    assert numbers("hidden 1 は hidden 10 の約 4e-6 倍 (0.25, 8x8, 8)") != numbers(english)


def test_lessons_follow_the_language(japanese):
    lesson = load_lessons()[0]
    ja = lesson.translations["text_ja"]
    assert lesson.localized("text") == ja
    assert lesson.localized("text", "en") == lesson.text != ja
    core.set_language("en")
    assert lesson.localized("title") == lesson.title


def test_a_missing_translation_falls_back_to_english(japanese, tmp_path):
    lesson = Lesson("x", "Title", "residual", (), "Text 1.", "Watch 2.")
    assert [lesson.localized(k) for k in TRANSLATED] == ["Title", "Text 1.", "Watch 2."]
    path = tmp_path / "plain.toml"
    path.write_text('name = "plain"\ntitle = "Plain title"\ndescription = "Plain."\n')
    config, _, title = read_preset(path)
    assert title == "Plain title"
    assert config.description == "Plain."
    path.write_text(path.read_text() + 'title_ja = "日本語の題"\n')
    assert read_preset(path)[2] == "日本語の題"


def test_a_translation_of_the_wrong_type_is_named(tmp_path):
    from engine.config import ConfigError

    lessons = tmp_path / "lessons.toml"
    lessons.write_text(
        '[[lesson]]\nid = "a"\ntitle = "A"\npreset = "residual"\ntext = "t"\nwatch = "w"\n'
        "text_ja = 3\n"
    )
    with pytest.raises(ConfigError, match=r"lesson\[0\]\.text_ja: expected a string"):
        load_lessons(lessons)
    preset = tmp_path / "p.toml"
    preset.write_text('name = "p"\ndescription_ja = ["x"]\n')
    with pytest.raises(ConfigError, match="description_ja: expected a string"):
        read_preset(preset)


def test_presets_follow_the_language(japanese):
    texts = read_preset_texts(preset_paths()[0])[2]
    first = list_presets()[0]
    assert (first.title, first.description) == (texts["title_ja"], texts["description_ja"])
    residual = get_preset("residual")
    assert JAPANESE.search(residual.title)
    assert JAPANESE.search(residual.description)
    assert residual.config().description.startswith("The 20-layer")  # the config stays English
    core.set_language("en")
    assert get_preset("residual").title.startswith("Residual")


def _cli(*args: str, **env: str) -> str:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
    }
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env={**environ, **env},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cli_lists_japanese_titles():
    """`vglab --lang ja presets` and `LANG=ja_JP.UTF-8 vglab presets` list the Japanese
    titles; `--lang en` the English ones."""
    titles = [read_preset_texts(p)[2] for p in preset_paths()]
    for out in (_cli("--lang", "ja", "presets"), _cli("presets", LANG="ja_JP.UTF-8")):
        for t in titles:
            assert t["title_ja"] in out
            assert t["title"] not in out
    out = _cli("--lang", "en", "presets")
    assert all(t["title"] in out and t["title_ja"] not in out for t in titles)


# ----------------------------------------------------------------------------- the app


@pytest.fixture
def settings_dir(tmp_path):
    """QSettings (the remembered language) in a temporary folder, English afterwards."""
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path))
    yield tmp_path
    from gui import i18n

    i18n.set_language("en")


def test_lesson_from_the_menu_in_japanese_then_english(qtbot, settings_dir):
    """日本語 in the Language menu, lesson 2 from the Lessons menu: the panel and the menu
    show the Japanese texts; English in the Language menu shows the English ones again."""
    from gui import teaching
    from gui.main_window import MainWindow

    w = MainWindow(start=False)
    qtbot.addWidget(w)
    teaching.install(w)
    hooks = w.teaching
    lesson = hooks.lessons()[1]
    w.language_menu.actions_by_lang["ja"].trigger()
    # the language change reaches the window as an event: the menu is retitled then
    qtbot.waitUntil(lambda: lesson.translations["title_ja"] in hooks.lesson_actions[1].text())
    hooks.lesson_actions[1].trigger()
    panel = hooks.lesson_panel
    assert panel.index == 1
    assert panel.title.text() == lesson.translations["title_ja"]
    assert panel.text.text() == lesson.translations["text_ja"]
    assert html.escape(lesson.translations["watch_ja"]) in panel.watch.text()
    assert hooks.lessons()[2].translations["title_ja"] in panel.next_label.text()

    w.language_menu.actions_by_lang["en"].trigger()
    qtbot.waitUntil(lambda: panel.text.text() == lesson.text)
    assert panel.title.text() == lesson.title
    assert html.escape(lesson.watch) in panel.watch.text()
    assert hooks.lesson_actions[1].text() == f"&2. {lesson.title}"
    assert panel.index == 1  # the same lesson, shown again
