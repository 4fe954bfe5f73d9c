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


class _PackageStamp:
    """Locator mixin: applies to the functions defined in ``_package``; their stamp adds
    ``_stamp``, the hash of every file they are built from.  Subclassed per package."""

    _package: Path
    _stamp: str

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != cls._package:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return super().get_source_stamp(), self._stamp


def register(package: Path, paths: list[Path]) -> None:
    """Stamp every cached kernel defined in ``package`` with a hash of ``paths``: put a
    stamped variant of each of Numba's source-file locators ahead of Numba's own.

    Call it before the package's first ``@njit(cache=True)``.  This reaches into Numba
    internals (``CacheImpl._locator_classes``); a Numba release that renames them leaves
    Numba's per-file stamps in place, with a warning.  Those are still right for an installed
    copy (an upgrade rewrites every file, so every stamp changes); only an edit to one file
    of a source checkout could then leave another file's cache stale.
    """
    try:
        _add_locators(package.resolve(), stamp(paths))
    except (AttributeError, TypeError) as e:  # pragma: no cover -- depends on Numba's version
        warnings.warn(
            f"engine: cannot extend Numba's cache stamps ({e}); an edit to one kernel "
            "file may leave another's cache stale (delete __pycache__ after editing)",
            RuntimeWarning,
            stacklevel=2,
        )


def _add_locators(package: Path, package_stamp: str) -> None:
    impl = caching.CacheImpl
    ours = [c for c in impl._locator_classes if issubclass(c, _PackageStamp)]
    if any(c._package == package for c in ours):
        return
    numba_own = [
        base
        for base in impl._locator_classes
        if issubclass(base, caching._SourceFileBackedLocatorMixin)
        and not issubclass(base, _PackageStamp)
    ]
    attrs = {"_package": package, "_stamp": package_stamp}
    new = [type(f"Package{base.__name__}", (_PackageStamp, base), attrs) for base in numba_own]
    impl._locator_classes = new + list(impl._locator_classes)


register(_PACKAGE, sources())
