"""The transport every training window offers, in one table: play, step, phase, epoch, reset.

Each window makes the actions with its own ``_action(text, slot, shortcut, tip, icon)``
and words its own tooltips (a comparison steps "every variant"); the labels, shortcuts,
icons and the controller methods they call are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle

_SP = QStyle.StandardPixmap
#: (window attribute, label, controller method, shortcut, icon)
TRANSPORT = (
    ("act_play", "&Play", "toggle_play", Qt.Key.Key_Space, _SP.SP_MediaPlay),
    ("act_step", "&Step", "step", Qt.Key.Key_Right, _SP.SP_MediaSeekForward),
    (
        "act_phase",
        "Step &phase",
        "step_phase",
        QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Right),
        _SP.SP_ArrowRight,
    ),
    (
        "act_epoch",
        "Run one &epoch",
        "run_epoch",
        QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Right),
        _SP.SP_MediaSkipForward,
    ),
    ("act_reset", "&Reset", "reset", Qt.Key.Key_R, _SP.SP_BrowserReload),
)


def transport_actions(
    make: Callable[..., QAction], controller, tips: Mapping[str, str]
) -> dict[str, QAction]:
    """window attribute -> action, one per row of :data:`TRANSPORT`; ``tips`` by attribute."""
    return {
        attr: make(
            text=label, slot=getattr(controller, method), shortcut=key, tip=tips[attr], icon=icon
        )
        for attr, label, method, key, icon in TRANSPORT
    }
