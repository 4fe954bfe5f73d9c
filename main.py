"""Vanishing Gradient Lab entry point.

``python main.py`` opens the desktop app; ``python main.py run|compare|check|presets ...``
runs the headless command-line interface (see ``python main.py --help``).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Desktop app without arguments, command-line interface with them."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv:
        from cli import main as cli_main

        return cli_main(argv)
    from gui.app import main as gui_main

    return gui_main()


if __name__ == "__main__":
    sys.exit(main())
