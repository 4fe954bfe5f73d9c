"""What the main window and the compare window share: actions, the transport toolbar and the
frame pacing that draws the newest frame at a bounded rate.

Both windows drive a controller with the same commands (:mod:`gui.transport`: play, step,
step phase, run one epoch, reset) and a speed box; they differ only in the tips, which say
what a command does there.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QMainWindow,
    QStyle,
    QToolBar,
    QWidget,
)

from gui.transport import play_label, retranslate_speed

SP = QStyle.StandardPixmap


def html_lines(text: str) -> str:
    """Plain ``text`` for a rich-text label: escaped ("z < 0" stays whole), lines kept."""
    return html.escape(text).replace("\n", "<br>")


def start_size(window: QWidget, default: tuple[int, int]) -> QSize:
    """``default`` (width, height), or the screen's available area where that is smaller."""
    screen = window.screen() or QApplication.primaryScreen()
    w, h = default
    if screen is not None:
        avail = screen.availableGeometry()
        w, h = min(w, avail.width()), min(h, avail.height())
    return QSize(w, h)


def show_fitted(window: QWidget, default: tuple[int, int]) -> None:
    """Show ``window``; maximised when the screen is no larger than ``default`` (the window
    manager then fits it, title bar included), else at its size."""
    screen = window.screen() or QApplication.primaryScreen()
    avail = screen.availableGeometry() if screen is not None else None
    if avail is not None and (avail.width() <= default[0] or avail.height() <= default[1]):
        window.showMaximized()
    else:
        window.show()


def add_action(
    window: QMainWindow,
    text: str,
    slot,
    shortcut=None,
    tip: str = "",
    icon: QStyle.StandardPixmap | None = None,
) -> QAction:
    """An action of ``window``: its shortcut works even when no toolbar shows it."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.triggered.connect(slot)
    window.addAction(action)
    return action


def show_running(action: QAction, running: bool) -> None:
    """The play action says what a press does next: pause a run, or play."""
    action.setText(play_label(running))
    action.setProperty("running", running)  # for a retranslation (gui.transport)
    icon = SP.SP_MediaPause if running else SP.SP_MediaPlay
    action.setIcon(action.parent().style().standardIcon(icon))


def transport_toolbar(
    window: QMainWindow, title: str, name: str, actions: list[QAction], speeds
) -> tuple[QToolBar, QComboBox]:
    """A toolbar with the transport ``actions`` and a speed box of ``speeds`` ((label,
    steps/s) pairs); the caller connects the box and adds what else the window needs."""
    tb = QToolBar(title)
    tb.setObjectName(name)
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tb.setIconSize(QSize(18, 18))
    tb.addActions(actions)
    tb.addSeparator()
    tb.addWidget(QLabel(objectName="speed_label"))
    box = QComboBox(objectName="speed_box")
    for label, _ in speeds:
        box.addItem(label)
    # the worker starts as fast as possible: the box shows it, whatever the order of speeds
    box.setCurrentIndex(next((i for i, (_, v) in enumerate(speeds) if v is None), 0))
    tb.addWidget(box)
    retranslate_speed(tb)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    return tb, box


class FramePacer(QObject):
    """Keeps only the newest frame and draws it at most ``max_fps`` times a second.

    Frames arrive from a worker thread faster than painting pays off; a single-shot timer,
    armed when a frame arrives, draws the newest one but never sooner than 1/``max_fps``
    after the previous drawing, so the GUI never falls behind training and never draws a
    stale state.  Frames whose ``reason`` is in ``now`` (user-driven: a step, a rebuild)
    are drawn at once.
    """

    def __init__(self, parent: QObject, draw: Callable, max_fps: float, now: tuple[str, ...]):
        super().__init__(parent)
        self.draw = draw
        self.max_fps = max_fps
        self.now = now
        self.latest = None  # newest frame received
        self.drawn_serial = -1  # serial of the frame on screen
        self.frames_drawn = 0  # redraw counter (benchmark, tests)
        self.last_render = -math.inf
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.render)

    def __repr__(self) -> str:
        return f"FramePacer(max_fps={self.max_fps}, frames_drawn={self.frames_drawn})"

    def push(self, frame) -> None:
        """Keep ``frame`` as the newest; draw it now or when the timer fires."""
        self.latest = frame
        if frame.reason in self.now:
            self.render()
        elif not self._timer.isActive():
            wait = self.last_render + 1.0 / self.max_fps - time.perf_counter()
            self._timer.start(max(0, int(1000 * wait)))

    def render(self) -> None:
        """Draw the newest frame, if it is not on screen yet."""
        frame = self.latest
        if frame is None or frame.serial == self.drawn_serial:
            return
        self.drawn_serial = frame.serial
        self.last_render = time.perf_counter()
        self.draw(frame)
        self.frames_drawn += 1

    def stop(self) -> None:
        self._timer.stop()


class PacedWindow:
    """Mixin of a window that draws its frames through ``self.pacer`` (a FramePacer)."""

    @property
    def frames_drawn(self) -> int:
        """Frames drawn so far (benchmark, tests)."""
        return self.pacer.frames_drawn

    @property
    def drawn_serial(self) -> int:
        """Serial of the frame on screen (-1: none yet)."""
        return self.pacer.drawn_serial

    @property
    def _latest(self):
        """The newest frame received (drawn or about to be)."""
        return self.pacer.latest
