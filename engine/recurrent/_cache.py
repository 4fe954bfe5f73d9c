"""Numba cache stamps for the recurrent kernels: any edit to them or to engine/kernels recompiles.

The recurrent kernels call the MLP's activation and loss kernels (``engine.kernels``), whose
code Numba links into each cached recurrent kernel.  Numba stamps a cache with its own file
only, so an edit to ``engine/kernels/activation.py`` would leave the recurrent caches running
the old copy; the locators registered here add a hash of this package's files and of every
file ``engine.kernels`` is built from (:func:`engine.kernels._cache.sources`) to the stamp.
Imported before the first ``@jit`` of the package (see :mod:`engine.recurrent.kernels`).
"""

from __future__ import annotations

from pathlib import Path

from engine.kernels._cache import register
from engine.kernels._cache import sources as kernel_sources

_PACKAGE = Path(__file__).resolve().parent


def sources() -> list[Path]:
    """Every file the recurrent kernels are built from: this package's and engine.kernels'."""
    return sorted(_PACKAGE.glob("*.py")) + kernel_sources()


register(_PACKAGE, sources())
