"""Guided lessons: short tours that each set up an experiment and say what to watch.

The lessons live in ``assets/lessons.toml``; each one is a preset plus ``key=value``
overrides, two or three sentences, a "what to watch" line and, optionally, the variants to
compare side by side.  tests/test_lessons.py runs every lesson's config headless and checks
the numbers its text quotes, so the text and the behaviour cannot drift apart.

:class:`LessonPanel` shows one lesson with Previous / Next; it only emits signals (set up
this config, compare these variants) -- :mod:`gui.teaching` connects them to the windows.
"""

from __future__ import annotations

import html
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.config import ConfigError, ExperimentConfig, apply_overrides, did_you_mean
from engine.resources import asset

LESSONS_PATH = asset("lessons.toml")
_KEYS = {
    "id": str,
    "title": str,
    "preset": str,
    "overrides": list,
    "text": str,
    "watch": str,
    "compare": list,
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

    def config(self) -> ExperimentConfig:
        """The lesson's experiment (ConfigError naming the lesson if it is broken)."""
        from engine.presets import load_preset

        try:
            return apply_overrides(load_preset(self.preset), self.overrides)
        except ConfigError as e:
            raise ConfigError(e.errors, f"lesson {self.id!r}") from None

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


class LessonPanel(QWidget):
    """One lesson at a time: title, text, what to watch, and Previous / Next.

    Signals: ``setup_requested(ExperimentConfig)`` when a lesson is shown (or "Set up again"
    is pressed); ``compare_requested(ExperimentConfig, list[str])`` for "Compare…";
    ``error(str)`` when a lesson's config cannot be built.
    """

    setup_requested = Signal(object)
    compare_requested = Signal(object, object)
    lesson_changed = Signal(int)
    error = Signal(str)

    def __init__(self, lessons: list[Lesson] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.lessons = lessons if lessons is not None else load_lessons()
        self.index = -1
        self.counter = QLabel()
        self.counter.setStyleSheet("color: #666")
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # lesson text is never markup
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-size: 13pt; font-weight: bold")
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.watch = QLabel()
        self.watch.setWordWrap(True)
        self.watch.setTextFormat(Qt.TextFormat.RichText)
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setStyleSheet(
            "QFrame { background: #e8f1fb; border: 1px solid #b6d4f2; "
            "border-radius: 4px } QLabel { border: none; color: #0d3c61 }"
        )
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(8, 6, 8, 6)
        box_layout.addWidget(self.watch)
        self.setup_info = QLabel()
        self.setup_info.setWordWrap(True)
        self.setup_info.setStyleSheet("color: #666")
        self.prev_button = QPushButton("\u25c0 Previous")
        self.again_button = QPushButton("Set up again")
        self.again_button.setToolTip("Load this lesson's experiment again (fresh weights)")
        self.compare_button = QPushButton("Compare\u2026")
        self.next_button = QPushButton("Next \u25b6")
        self.next_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.prev_button)
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)
        self.next_label.setStyleSheet("color: #666")
        self.next_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.counter)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addWidget(box)
        layout.addWidget(self.setup_info)
        layout.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.next_label)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.prev_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.again_button.clicked.connect(self.setup)
        self.compare_button.clicked.connect(self.compare)

    def __repr__(self) -> str:
        return f"LessonPanel({self.index + 1}/{len(self.lessons)})"

    @property
    def lesson(self) -> Lesson | None:
        return self.lessons[self.index] if 0 <= self.index < len(self.lessons) else None

    def show_lesson(self, index: int, setup: bool = True) -> None:
        """Show lesson ``index`` (0-based) and, with ``setup``, ask for its experiment."""
        if not 0 <= index < len(self.lessons):
            raise IndexError(f"lesson {index + 1}: there are {len(self.lessons)} lessons")
        self.index = index
        n, lesson = len(self.lessons), self.lessons[index]
        self.counter.setText(f"Lesson {index + 1} of {n}")
        self.title.setText(lesson.title)
        self.text.setText(lesson.text)
        self.watch.setText(f"<b>Watch:</b> {html.escape(lesson.watch)}")
        changes = ", ".join(lesson.overrides)
        self.setup_info.setText(
            f"Experiment: preset <i>{html.escape(lesson.preset)}</i>"
            + (f" with {html.escape(changes)}" if changes else "")
            + ". Press Play (Space) to train."
        )
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index + 1 < n)
        self.compare_button.setVisible(bool(lesson.compare))
        self.compare_button.setToolTip("Train side by side: " + "; ".join(lesson.compare))
        self.next_label.setText(
            f"Next: {self.lessons[index + 1].title}"
            if index + 1 < n
            else "This was the last lesson."
        )
        self.lesson_changed.emit(index)
        if setup:
            self.setup()

    def _config(self) -> ExperimentConfig | None:
        try:
            return self.lesson.config()
        except ConfigError as e:
            self.error.emit("\n".join(e.messages))
            return None

    def setup(self) -> None:
        """Ask for the current lesson's experiment (``setup_requested``)."""
        if self.lesson is not None and (cfg := self._config()) is not None:
            self.setup_requested.emit(cfg)

    def compare(self) -> None:
        """Ask to compare the current lesson's variants (``compare_requested``)."""
        if self.lesson is not None and self.lesson.compare and (cfg := self._config()):
            self.compare_requested.emit(cfg, list(self.lesson.compare))

    def next(self) -> None:
        if self.index + 1 < len(self.lessons):
            self.show_lesson(self.index + 1)

    def previous(self) -> None:
        if self.index > 0:
            self.show_lesson(self.index - 1)
