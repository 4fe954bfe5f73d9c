"""Shared test setup: Qt draws offscreen, so the suite runs without a display.

QT_QPA_PLATFORM must be set before anything imports Qt, hence at import time here.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

try:
    # PySide6 6.12 on CPython 3.11 leaks references to None away on every void call; many
    # plot updates in one process would eventually crash (see gui.app.pin_singletons)
    from gui.app import pin_singletons
except ImportError:    # pragma: no cover -- the app module is optional for engine-only work
    pass
else:
    pin_singletons()
