"""Shared test setup: Qt draws offscreen, so the suite runs without a display.

QT_QPA_PLATFORM must be set before anything imports Qt, hence at import time here.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
