"""Shared test setup: Qt draws offscreen, so the suite runs without a display.

QT_QPA_PLATFORM must be set before anything imports Qt, hence at import time here.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile the Numba kernels once, before any test waits on a timeout.

    A clean clone (CI) has a cold on-disk cache: compiling takes 20-60 s on a busy 2-core
    machine, longer than the GUI tests' waits for a first frame.
    """
    from engine.config import ExperimentConfig, updated
    from engine.datasets import load_dataset
    from engine.session import warm_up
    from engine.warmup import warm_up_recurrent

    for dtype in ("float64", "float32"):  # also fills the on-disk cache for CLI subprocesses
        config = updated(ExperimentConfig(), **{"model.dtype": dtype})
        warm_up(config, load_dataset(config.data, dtype))
    warm_up_recurrent("float64")  # the Recurrent window's: it would wait for a compile process
