"""Desktop entry point: ``python main.py`` -> :func:`main`.

Imports are ordered for a fast first paint: Qt and the theme first, then the window (which
pulls in the engine and Numba); the first session is built and its kernels are compiled in
the controller's worker thread, after the window is on screen.
"""

from __future__ import annotations

import os
import sys


def pin_singletons() -> bool:
    """Make None, True and False immortal, as CPython >= 3.12 does.  Returns True if applied.

    PySide6 6.12's abi3 wheels return ``None`` from void C++ methods (``setText``,
    ``setValue``, ``QTimer.start``, ...) without a reference, as if ``None`` were immortal.
    On CPython 3.11 every such call steals one reference, and after a few seconds of live
    plotting the count reaches zero: "Fatal Python error: none_dealloc".  Raising the
    counts by 2**40 makes them unreachable.  Idempotent; a no-op on 3.12+.
    """
    if sys.version_info >= (3, 12):
        return False
    import ctypes

    applied = False
    for obj in (None, True, False):
        cell = ctypes.c_ssize_t.from_address(id(obj))   # ob_refcnt: first field (release ABI)
        if cell.value >= 1 << 39:
            continue                          # already pinned
        if abs(cell.value - sys.getrefcount(obj)) > 16:   # not the layout we expect
            continue
        cell.value += 1 << 40
        applied = True
    return applied


def main(argv: list[str] | None = None) -> int:
    """Open the main window and run the Qt event loop; returns the exit code."""
    argv = sys.argv if argv is None else argv
    pin_singletons()
    # a short GIL switch interval lets the training thread run between short bursts of
    # GUI work instead of waiting the default 5 ms each time the GUI thread holds the GIL
    sys.setswitchinterval(0.001)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(list(argv))
    app.setApplicationName("Vanishing Gradient Lab")
    app.setOrganizationName("vglab")
    from gui import theme

    theme.configure_pyqtgraph(light=True)
    from gui.main_window import MainWindow

    window = MainWindow()
    try:                      # Tools (compare, gallery) and Lessons menus, when present
        from gui import teaching
    except ImportError:
        teaching = None
    if teaching is not None:
        teaching.install(window)
    window.show_fitted()
    code = app.exec()
    window.close()
    if not window.worker_stopped:
        # the worker is inside an uninterruptible Numba compilation: leave without waiting
        sys.stdout.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
