"""The desktop app: PySide6 + pyqtgraph views over the Qt-free engine.

Importing this package, which every entry point does before it imports Qt, guards against
a reference-count bug of PySide6 6.12.0 on CPython < 3.12 (see :func:`pin_singletons`).
"""

from __future__ import annotations

import sys


def pin_singletons() -> bool:
    """Make None, True and False immortal, as CPython >= 3.12 does.  Returns True if applied.

    Root cause: shiboken6 6.12.0 (PySide6 6.12.0's abi3 wheels) returns ``None`` from void
    C++ methods (``setText``, ``setValue``, ...) and passes ``True``/``False`` to Python slots
    of bool signals without taking a reference, as if the singletons were immortal, which
    they are only from CPython 3.12.  On 3.11 every such call steals one reference; after a
    few thousand the count reaches zero and CPython aborts with "none_dealloc" or
    "bool_dealloc" (``vglab compare`` with 3+ variants did so at exit, every time).

    ``pyproject.toml`` keeps that release off CPython < 3.12; this guard covers an install
    that has it anyway.  Raising the counts by 2**40 makes them unreachable.  Idempotent; a
    no-op on 3.12+.
    """
    if sys.version_info >= (3, 12):
        return False
    import ctypes

    applied = False
    for obj in (None, True, False):
        cell = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt: first field (release ABI)
        if cell.value >= 1 << 39:
            continue  # already pinned
        if abs(cell.value - sys.getrefcount(obj)) > 16:  # not the layout we expect
            continue
        cell.value += 1 << 40
        applied = True
    return applied


pin_singletons()
