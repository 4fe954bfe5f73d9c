"""Vanishing Gradient Lab entry point.

``python main.py`` opens the desktop app (``python main.py --lang ja``: in Japanese);
``python main.py run|compare|check|presets ...`` runs the headless command-line interface
(see ``python main.py --help``).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Desktop app without arguments, command-line interface with them."""
    argv = sys.argv[1:] if argv is None else list(argv)
    lang = _gui_language(argv)
    if argv and lang is None:
        from cli import main as cli_main

        return cli_main(argv)
    from gui.app import main as gui_main

    return gui_main(sys.argv[:1], lang=lang or None)


def _gui_language(argv: list[str]) -> str | None:
    """``--lang X`` alone opens the app in language X: X; no arguments: ""; else None."""
    from engine.i18n import requested

    if not argv:
        return ""
    alone = argv[0].startswith("--lang=") and len(argv) == 1
    alone = alone or (argv[0] == "--lang" and len(argv) == 2)
    return (requested(argv) or "") if alone else None


if __name__ == "__main__":
    sys.exit(main())
