"""Where the bundled files live: presets, lessons and the small data sets.

They ship inside the installed package ``vglab_assets`` (the repository's ``assets/`` folder,
mapped in ``pyproject.toml``), so a wheel installed with ``pip install .`` finds them as
well as a source checkout does.  Everything that reads a bundled file asks :func:`asset`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "vglab_assets"


def _root() -> Path:
    """The folder of the ``vglab_assets`` package (or ``assets/`` of an uninstalled checkout)."""
    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError:  # running from a source tree that was never pip-installed
        return Path(__file__).resolve().parent.parent / "assets"
    if not isinstance(root, Path):  # a zipped install: we read files by path, so refuse early
        raise RuntimeError(
            f"{PACKAGE} is not installed as plain files ({root!r}); reinstall with `pip install .`"
        )
    return root


ASSETS_DIR = _root()


def asset(*parts: str) -> Path:
    """The path of a bundled file, e.g. ``asset("presets", "dying_relu.toml")``."""
    return ASSETS_DIR.joinpath(*parts)
