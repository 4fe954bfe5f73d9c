"""Desktop entry point: ``python main.py`` -> :func:`main`.

Imports are ordered for a fast first paint: Qt and the theme first, then the window (which
pulls in the engine and Numba); the first session is built and its kernels are compiled in
the controller's worker thread, after the window is on screen.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from pathlib import Path

#: Debian/Ubuntu package of each system library Qt needs that a bare system may lack
DEBIAN_PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
}


def _xcb_plugin() -> Path | None:
    """Qt's X11 platform plugin inside the installed PySide6, if there is one."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def missing_library_message(error: str) -> str:
    """One line naming the system library in a loader ``error`` and the package that has it."""
    found = re.search(r"(lib[\w.+-]+\.so(?:\.\d+)*)", error)
    if found is None:
        return f"cannot start Qt: {error.strip()}"
    lib = found.group(1)
    package = DEBIAN_PACKAGES.get(lib)
    fix = (
        f"install it with `sudo apt-get install {package}`"
        if package
        else "install the package that provides it"
    )
    return (
        f"cannot open a window: the system library {lib} is missing; {fix} "
        "(README, 'System packages', lists all of them)"
    )


def startup_problem(plugin: Path | None = None) -> str | None:
    """Why the window cannot open on this system, in one line, or None if it can.

    Checked before Qt starts, because Qt's own message for a missing X11 library names a
    different package ("xcb-cursor0") and buries the cause in a warning.
    """
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not platform and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return (
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set); the command "
            "line needs none: `vglab --help`"
        )
    uses_xcb = platform.startswith("xcb") or (
        not platform and not os.environ.get("WAYLAND_DISPLAY")
    )
    plugin = plugin or (_xcb_plugin() if uses_xcb else None)
    if plugin is None:
        return None
    try:
        ctypes.CDLL(str(plugin))  # loads exactly what Qt is about to load
    except OSError as e:
        return missing_library_message(str(e))
    return None


def main(argv: list[str] | None = None, lang: str | None = None) -> int:
    """Open the main window and run the Qt event loop; returns the exit code.

    ``lang`` (``--lang``) overrides the remembered and the system language (gui.i18n).
    """
    argv = sys.argv if argv is None else argv
    # a short GIL switch interval lets the training thread run between short bursts of
    # GUI work instead of waiting the default 5 ms each time the GUI thread holds the GIL
    sys.setswitchinterval(0.001)
    problem = startup_problem()
    if problem is None:
        try:
            from PySide6.QtWidgets import QApplication
        except ImportError as e:  # e.g. libglib-2.0.so.0 on a bare system
            problem = missing_library_message(str(e))
    if problem is not None:
        print(f"vglab: {problem}", file=sys.stderr)
        return 1

    app = QApplication.instance() or QApplication(list(argv))
    app.setApplicationName("Vanishing Gradient Lab")
    app.setOrganizationName("vglab")
    from gui import i18n, theme

    i18n.set_language(i18n.startup_language(lang))  # before any text is made

    theme.configure_pyqtgraph(light=True)
    from gui.main_window import MainWindow

    window = MainWindow()
    try:  # Tools (compare, gallery) and Lessons menus, when present
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
