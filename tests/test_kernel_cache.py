"""Numba's on-disk cache of the kernels goes stale with none of the files they are built from.

Numba stamps a cached function with its own file only; ``engine/kernels/_cache.py`` widens
the stamp to the whole package and the code modules whose constants are compiled in.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from numba.core.registry import CPUDispatcher

from engine import kernels
from engine.kernels import _cache

ROOT = Path(__file__).resolve().parent.parent


def _dispatchers():
    """Every jitted function defined in a module of the kernels package."""
    modules = [m for name, m in sys.modules.items() if name.startswith("engine.kernels.")]
    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module.__name__:
                yield obj


def test_every_cached_kernel_is_stamped_with_the_whole_package():
    found = list(_dispatchers())
    assert kernels.train_steps in found
    assert len(found) > 40
    for disp in found:
        assert isinstance(disp._cache._impl._locator, _cache._PackageStamp), disp


def test_recurrent_kernels_are_stamped_with_their_package_and_the_mlp_kernels():
    """engine.recurrent links the MLP's activation and loss kernels into its own: its stamp
    must cover both packages, and the MLP kernels keep theirs."""
    import engine.recurrent.kernels as rk
    from engine.recurrent import _cache as rcache

    locators = [
        obj._cache._impl._locator
        for obj in vars(rk).values()
        if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == rk.__name__
    ]
    assert len(locators) > 5
    want = _cache.stamp(sorted(rcache._PACKAGE.glob("*.py")) + _cache.sources())
    for loc in locators:
        assert isinstance(loc, _cache._PackageStamp)
        assert loc._package == rcache._PACKAGE
        assert loc._stamp == want
    assert kernels.train_steps._cache._impl._locator._stamp == _cache.stamp(_cache.sources())


def test_the_stamp_changes_with_any_source_file(tmp_path):
    package = tmp_path / "engine" / "kernels"
    shutil.copytree(ROOT / "engine" / "kernels", package, ignore=shutil.ignore_patterns("__*__"))
    for name in _cache._SHARED:
        shutil.copy(ROOT / "engine" / name, tmp_path / "engine" / name)
    paths = _cache.sources(package)
    assert {p.name for p in paths} >= {"layers.py", "fused.py", "codes.py", "metrics.py"}
    before = _cache.stamp(paths)
    for path in paths:
        text = path.read_text()
        path.write_text(text + "\n")
        assert _cache.stamp(paths) != before, path.name
        path.write_text(text)
    assert _cache.stamp(paths) == before


PROBE = """
import numpy as np
from engine import kernels as K
from engine.codes import ActCode
z = np.ones(1)
y, fp = np.empty(1), np.empty(1)
K.activate(int(ActCode.SELU), 0.0, z, y, fp)
print(repr(float(y[0])))
"""


@pytest.mark.slow
def test_a_cached_kernel_recompiles_when_a_constant_in_another_file_changes(tmp_path):
    """SELU's lambda lives in engine/codes.py; the kernel that uses it is in the package."""
    shutil.copytree(
        ROOT / "engine", tmp_path / "engine", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(tmp_path)}

    def selu_of_one() -> float:
        run = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert run.returncode == 0, run.stderr
        return float(run.stdout)

    codes = tmp_path / "engine" / "codes.py"
    text = codes.read_text()
    assert selu_of_one() == pytest.approx(1.0507009873554805)
    codes.write_text(text.replace("SELU_SCALE = 1.0507009873554805", "SELU_SCALE = 2.0"))
    assert selu_of_one() == 2.0
