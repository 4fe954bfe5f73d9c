"""Guided lessons on screen.  The lesson model (:class:`Lesson`, :func:`load_lessons`) is
Qt-free and lives in :mod:`engine.lessons`; it is re-exported here for older callers.

:class:`LessonPanel` shows one lesson with Previous / Next; it only emits signals (set up
this config, compare these variants) -- :mod:`gui.teaching` connects them to the windows.
It shows a lesson in the app's language (:meth:`Lesson.localized`) and shows it again on
every language change (:class:`gui.i18n.Retranslatable`), without setting the experiment up
again.
"""

from __future__ import annotations

import html

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

from engine.config import ConfigError, ExperimentConfig
from engine.lessons import LESSONS_PATH, Lesson, load_lessons
from gui.i18n import Retranslatable

__all__ = ["LESSONS_PATH", "Lesson", "LessonPanel", "load_lessons"]


class LessonPanel(Retranslatable, QWidget):
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
        # two rows: four buttons in one would make the panel wider than a side dock
        actions = QHBoxLayout()
        actions.addWidget(self.again_button)
        actions.addWidget(self.compare_button)
        actions.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.prev_button)
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
        layout.addLayout(actions)
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
        self._show_texts()
        self.lesson_changed.emit(index)
        if setup:
            self.setup()

    def retranslate_ui(self) -> None:
        """The lesson shown again in the new language (its experiment is left as it is)."""
        if self.lesson is not None:
            self._show_texts()

    def _show_texts(self) -> None:
        """Every text of the current lesson, in the language in use."""
        index = self.index
        n, lesson = len(self.lessons), self.lessons[index]
        self.counter.setText(f"Lesson {index + 1} of {n}")
        self.title.setText(lesson.localized("title"))
        self.text.setText(lesson.localized("text"))
        self.watch.setText(f"<b>Watch:</b> {html.escape(lesson.localized('watch'))}")
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
            f"Next: {self.lessons[index + 1].localized('title')}"
            if index + 1 < n
            else "This was the last lesson."
        )

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
