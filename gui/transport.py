"""The transport every training window offers, in one table: play, step, phase, epoch, reset.

Each window makes the actions with its own ``_action(text, slot, shortcut, tip, icon)``
and words its own tooltips (a comparison steps "every variant"); the labels, shortcuts,
icons and the controller methods they call are the same everywhere.  The labels are
translated (context ``Transport``); a window passes its tooltips' context to
:func:`retranslate_transport` from its ``retranslate_ui`` (:mod:`gui.i18n`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QStyle

_SP = QStyle.StandardPixmap
#: (window attribute, label, controller method, shortcut, icon)
TRANSPORT = (
    (
        "act_play",
        QT_TRANSLATE_NOOP("Transport", "&Play"),
        "toggle_play",
        Qt.Key.Key_Space,
        _SP.SP_MediaPlay,
    ),
    (
        "act_step",
        QT_TRANSLATE_NOOP("Transport", "&Step"),
        "step",
        Qt.Key.Key_Right,
        _SP.SP_MediaSeekForward,
    ),
    (
        "act_phase",
        QT_TRANSLATE_NOOP("Transport", "Step &phase"),
        "step_phase",
        QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Right),
        _SP.SP_ArrowRight,
    ),
    (
        "act_epoch",
        QT_TRANSLATE_NOOP("Transport", "Run one &epoch"),
        "run_epoch",
        QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Right),
        _SP.SP_MediaSkipForward,
    ),
    (
        "act_reset",
        QT_TRANSLATE_NOOP("Transport", "&Reset"),
        "reset",
        Qt.Key.Key_R,
        _SP.SP_BrowserReload,
    ),
)
PAUSE = QT_TRANSLATE_NOOP("Transport", "&Pause")


def _tr(text: str) -> str:
    return QCoreApplication.translate("Transport", text)


def play_label(running: bool) -> str:
    """The play action's text: what a press does next (pause a run, or play)."""
    return _tr(PAUSE if running else TRANSPORT[0][1])


def transport_actions(
    make: Callable[..., QAction], controller, tips: Mapping[str, str]
) -> dict[str, QAction]:
    """window attribute -> action, one per row of :data:`TRANSPORT`; ``tips`` by attribute."""
    return {
        attr: make(
            text=_tr(label),
            slot=getattr(controller, method),
            shortcut=key,
            tip=tips[attr],
            icon=icon,
        )
        for attr, label, method, key, icon in TRANSPORT
    }


def retranslate_transport(window, tips: Mapping[str, str], context: str) -> None:
    """Texts and tooltips of the ``window``'s transport actions (its ``act_play``...) in the
    current language; ``tips`` are the window's source texts, marked in ``context``."""
    for attr, label, *_ in TRANSPORT:
        action = getattr(window, attr)
        running = bool(action.property("running"))  # set by window_parts.show_running
        action.setText(play_label(running) if attr == "act_play" else _tr(label))
        tip = QCoreApplication.translate(context, tips[attr])
        action.setToolTip(tip)
        action.setStatusTip(tip)
    retranslate_speed(window)


def retranslate_speed(parent) -> None:
    """The speed box's label and tooltip (gui.window_parts.transport_toolbar) inside
    ``parent`` in the current language."""
    label, box = parent.findChild(QLabel, "speed_label"), parent.findChild(QComboBox, "speed_box")
    if label is not None:
        label.setText(QCoreApplication.translate("Transport", " speed "))
    if box is not None:
        box.setToolTip(
            QCoreApplication.translate("Transport", "Cap on training steps per second (live)")
        )
