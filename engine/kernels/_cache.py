"""Numba's on-disk cache, invalidated when any file the kernels are built from changes.

Numba stamps a cached function with the source of its own file only: a kernel in
``fused.py`` whose cache holds an inlined copy of ``layers.py`` would keep running the old
copy after ``layers.py`` changed, and IntEnum codes read from ``engine/codes.py`` are frozen
into the cache as constants.  The locators registered here (one per Numba locator that
reads a source file) add a hash of every such file to the stamp of each kernel in this
package, so an edit anywhere recompiles them all, as when the kernels were one file.

Must be imported before the first ``@njit(cache=True)`` of the package runs: Numba picks a
function's locator when it is decorated.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

from numba.core import caching

_PACKAGE = Path(__file__).resolve().parent
#: the modules outside the package whose globals the kernels compile in as constants
_SHARED = ("codes.py", "metrics.py")


def sources(package: Path = _PACKAGE) -> list[Path]:
    """Every file the compiled kernels depend on: the package's modules and :data:`_SHARED`."""
    return sorted(package.glob("*.py")) + [package.parent / name for name in _SHARED]


def stamp(paths: list[Path]) -> str:
    """SHA-256 over the names and contents of ``paths`` (a missing file counts as empty)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"")
    return h.hexdigest()


_STAMP = stamp(sources())


class _PackageStamp:
    """Locator mixin: applies to this package's functions; their stamp covers every source."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != _PACKAGE:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return super().get_source_stamp(), _STAMP


def _register() -> None:
    """Put a package-stamp variant of each source-file locator ahead of Numba's own.

    This reaches into Numba internals (``CacheImpl._locator_classes``); a Numba release that
    renames them leaves Numba's per-file stamps in place, with a warning.  Those are still
    right for an installed copy (an upgrade rewrites every file, so every stamp changes);
    only an edit to one file of a source checkout could then leave another file's cache
    stale.
    """
    try:
        _add_locators()
    except (AttributeError, TypeError) as e:  # pragma: no cover -- depends on Numba's version
        warnings.warn(
            f"engine.kernels: cannot extend Numba's cache stamps ({e}); an edit to one kernel "
            "file may leave another's cache stale (delete __pycache__ after editing)",
            RuntimeWarning,
            stacklevel=2,
        )


def _add_locators() -> None:
    impl = caching.CacheImpl
    if any(issubclass(c, _PackageStamp) for c in impl._locator_classes):
        return
    ours = [
        type(f"Package{base.__name__}", (_PackageStamp, base), {})
        for base in impl._locator_classes
        if issubclass(base, caching._SourceFileBackedLocatorMixin)
    ]
    impl._locator_classes = ours + list(impl._locator_classes)


_register()
