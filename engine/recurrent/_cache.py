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

from numba.core import caching

from engine.kernels._cache import sources, stamp

_PACKAGE = Path(__file__).resolve().parent
_STAMP = stamp(sorted(_PACKAGE.glob("*.py")) + sources())


class _RecurrentStamp:
    """Locator mixin: applies to this package's functions; their stamp covers every source."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != _PACKAGE:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return super().get_source_stamp(), _STAMP


def _register() -> None:
    """Put a stamped variant of each source-file locator ahead of the others (once)."""
    impl = caching.CacheImpl
    if any(issubclass(c, _RecurrentStamp) for c in impl._locator_classes):
        return
    bases = [
        c
        for c in impl._locator_classes
        if issubclass(c, caching._SourceFileBackedLocatorMixin)
        and not getattr(c, "__name__", "").startswith("Package")
    ]
    ours = [type(f"Recurrent{b.__name__}", (_RecurrentStamp, b), {}) for b in bases]
    impl._locator_classes = ours + list(impl._locator_classes)


_register()
