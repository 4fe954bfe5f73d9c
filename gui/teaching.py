"""Teaching views for the main window, wired in with one call::

    from gui import teaching
    teaching.install(main_window)

adds to the window's menu bar a Tools menu (Compare…, Activation gallery) and a Lessons menu
(one entry per guided lesson, and the lesson panel).  A lesson sets up its experiment with
``main_window.load_config(cfg)`` (or ``apply_config``) when the window has one, and always
emits :attr:`TeachingHooks.lesson_config` (``main_window.teaching.lesson_config``).

:func:`session_lines` gives the theory line of the per-layer gradient chart for a session
(the mean-field prediction at init, or why there is none).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from engine.compare import session_lines
from engine.config import ConfigError, ExperimentConfig

__all__ = ["TeachingHooks", "install", "session_lines"]


class TeachingHooks(QObject):
    """The compare window, the gallery and the lessons of one main window.

    ``lesson_config(ExperimentConfig)`` is emitted whenever a lesson sets up its experiment
    (after the window's ``load_config`` / ``apply_config``, if it has one, was called).
    """

    lesson_config = Signal(object)

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window
        self.compare_window = None
        self.gallery = None
        self.lesson_panel = None
        self.lesson_dock: QDockWidget | None = None
        self._lessons = None
        self.actions: dict[str, object] = {}
        self.lesson_actions: list[QAction] = []  # the Lessons menu's entries, in order
        # the compare window trains in a thread of its own: stop it with the main window
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            for w in (self.compare_window, self.gallery):
                if w is not None:
                    w.close()
        elif obj is self.window and event.type() == QEvent.Type.LanguageChange:
            self.retitle_lessons()
        return False

    def retitle_lessons(self) -> None:
        """The Lessons menu's entries in the language in use (lesson titles are data)."""
        for i, (action, lesson) in enumerate(zip(self.lesson_actions, self.lessons(), strict=True)):
            action.setText(f"&{i + 1}. {lesson.localized('title')}")
            action.setToolTip(html.escape(lesson.localized("text")))

    def __repr__(self) -> str:
        return f"TeachingHooks({type(self.window).__name__})"

    # --- the window's experiment ---------------------------------------------------------------
    def current_config(self) -> ExperimentConfig:
        """The experiment the main window is running (a default one if it cannot say)."""
        w = self.window
        for get in (lambda: w.controller.config, lambda: w.config):
            try:
                cfg = get()
            except AttributeError:
                continue
            if isinstance(cfg, ExperimentConfig):
                return cfg
        from gui.controller import default_config

        return default_config()

    def set_up(self, cfg: ExperimentConfig) -> None:
        """Load ``cfg`` into the main window, then announce it with ``lesson_config``."""
        load = getattr(self.window, "load_config", None) or getattr(
            self.window, "apply_config", None
        )
        if callable(load):
            load(cfg)
        self.lesson_config.emit(cfg)

    # --- compare -------------------------------------------------------------------------------
    @Slot()
    def open_compare(self, base: ExperimentConfig | None = None, vary=None):
        """Show the compare window (one per main window), set to ``base`` / ``vary`` if given,
        else to the main window's experiment and its current variants."""
        from gui.compare_window import DEFAULT_VARY, CompareWindow

        if self.compare_window is None:
            self.compare_window = CompareWindow(
                base or self.current_config(), vary or DEFAULT_VARY, parent=self.window
            )
            self.compare_window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        elif base is not None:
            self.compare_window.load(base, vary or DEFAULT_VARY)
        elif (cfg := self.current_config()) != self.compare_window.base:
            # the main window moved on to another experiment: compare that one now
            self.compare_window.load(cfg, self.compare_window.vary() or DEFAULT_VARY)
        self.compare_window.show_fitted()
        self.compare_window.raise_()
        self.compare_window.activateWindow()
        return self.compare_window

    # --- gallery -------------------------------------------------------------------------------
    @Slot()
    def open_gallery(self):
        """Show the activation gallery (built once, kept for the next time)."""
        from gui.panels.gallery import GalleryDialog

        if self.gallery is None:
            self.gallery = GalleryDialog(self.window)
        self.gallery.show()
        self.gallery.raise_()
        return self.gallery

    # --- lessons -------------------------------------------------------------------------------
    def lessons(self):
        """The lessons (read once); an empty list, with a warning, if the file is broken."""
        if self._lessons is None:
            from engine.lessons import load_lessons

            try:
                self._lessons = load_lessons()
            except ConfigError as e:
                self._lessons = []
                self._warn("Lessons unavailable", "\n".join(e.messages))
        return self._lessons

    def _panel(self):
        if self.lesson_panel is None:
            from gui.lessons import LessonPanel

            panel = LessonPanel(self.lessons())
            panel.setup_requested.connect(self.set_up)
            panel.compare_requested.connect(lambda cfg, vary: self.open_compare(cfg, vary))
            panel.error.connect(lambda msg: self._warn("Cannot set up the lesson", msg))
            self.lesson_panel = panel
            if isinstance(self.window, QMainWindow):
                self.lesson_dock = _add_dock(self.window, panel)
                # opened from View (no lesson chosen yet): show the first one, without
                # replacing the experiment the window is running
                self.lesson_dock.visibilityChanged.connect(self._first_lesson)
        return self.lesson_panel

    def _first_lesson(self, visible: bool) -> None:
        panel = self.lesson_panel
        if visible and panel is not None and panel.index < 0 and panel.lessons:
            panel.show_lesson(0, setup=False)

    @Slot()
    def start_lesson(self, index: int = 0) -> None:
        """Show lesson ``index`` (0-based) and set up its experiment."""
        panel = self._panel()
        if self.lesson_dock is not None:
            self.lesson_dock.show()
            self.lesson_dock.raise_()
        else:
            panel.show()
        if panel.lessons:
            panel.show_lesson(index)

    @Slot()
    def show_panel(self) -> None:
        """Show the lesson panel as it was (the first lesson if none was started)."""
        if self.lesson_panel is None or self.lesson_panel.index < 0:
            self.start_lesson(0)
        elif self.lesson_dock is not None:
            self.lesson_dock.show()
            self.lesson_dock.raise_()
        else:
            self.lesson_panel.show()

    def _warn(self, title: str, message: str) -> None:
        QMessageBox.warning(self.window, title, message)


def _add_dock(window: QMainWindow, panel: QWidget) -> QDockWidget:
    """A "Lesson" dock on the right, as a tab of the right-hand group that already has tabs
    (the histograms in the main window), so it gets a panel's height rather than a sliver."""
    right = Qt.DockWidgetArea.RightDockWidgetArea
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    # the text wraps to the dock's width: it scrolls down, never sideways
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(panel)  # a narrow dock scrolls instead of squeezing the text
    dock = QDockWidget("Lesson", window)
    dock.setObjectName("lesson")
    dock.setWidget(scroll)
    others = [
        d
        for d in window.findChildren(QDockWidget)
        if d is not dock
        and window.dockWidgetArea(d) == right
        and not d.isFloating()
        and not d.isHidden()
    ]
    window.addDockWidget(right, dock)
    target = next(
        (d for d in reversed(others) if window.tabifiedDockWidgets(d)),
        others[-1] if others else None,
    )
    if target is not None:
        window.tabifyDockWidget(target, dock)
    return dock


def _menu_action(bar, title: str):
    """The menu bar's entry of menu ``title``: its English title or its objectName (the
    same in every language, gui.main_menus.MENU_TITLES), None if missing."""
    plain = title.replace("&", "")
    return next(
        (
            a
            for a in bar.actions()
            if a.menu() is not None and plain in (a.text().replace("&", ""), a.menu().objectName())
        ),
        None,
    )


def _menu(bar, title: str, before: str = "&Help") -> QMenu:
    """The menu bar's ``title`` menu, created (in front of ``before`` if present) if missing."""
    found = _menu_action(bar, title)
    if found is not None:
        return found.menu()
    menu = QMenu(QCoreApplication.translate("MainWindow", title), bar)
    menu.setObjectName(title.replace("&", ""))
    anchor = _menu_action(bar, before)
    if anchor is not None:
        bar.insertMenu(anchor, menu)
    else:
        bar.addMenu(menu)
    return menu


def install(main_window: QMainWindow) -> None:
    """Add Tools (Compare…, Activation gallery) and Lessons menus to ``main_window``.

    The hooks are kept as ``main_window.teaching`` (a :class:`TeachingHooks`); calling
    ``install`` again does nothing.
    """
    if isinstance(getattr(main_window, "teaching", None), TeachingHooks):
        return
    hooks = TeachingHooks(main_window)
    main_window.teaching = hooks
    bar = main_window.menuBar()
    tools = _menu(bar, "&Tools")
    compare = QAction("&Compare\u2026", main_window)
    compare.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Modifier.SHIFT | Qt.Key.Key_C))
    compare.setStatusTip(
        "Train 2-8 variants (activation, init, batch norm, residual, "
        "clipping, optimiser) side by side on the same data and seed"
    )
    compare.triggered.connect(lambda: hooks.open_compare())
    gallery = QAction("Activation &gallery", main_window)
    gallery.setStatusTip("Every activation and its derivative, and the comparison table")
    gallery.triggered.connect(lambda: hooks.open_gallery())
    tools.addActions([compare, gallery])
    lessons = _menu(bar, "&Lessons")
    lessons.setToolTipsVisible(True)
    for i in range(len(hooks.lessons())):
        a = lessons.addAction("")
        a.triggered.connect(lambda _=False, i=i: hooks.start_lesson(i))
        hooks.lesson_actions.append(a)
    hooks.retitle_lessons()
    lessons.addSeparator()
    panel = lessons.addAction("Show the lesson &panel")
    panel.triggered.connect(lambda: hooks.show_panel())
    hooks.actions = {"compare": compare, "gallery": gallery, "lessons": lessons}
    if isinstance(main_window, QMainWindow) and hooks.lessons():
        # the Lesson dock exists from the start, hidden, so View lists it with the others
        hooks._panel()
        hooks.lesson_dock.hide()
