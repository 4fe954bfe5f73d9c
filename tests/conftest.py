"""Shared test setup: Qt draws offscreen, so the suite runs without a display.

QT_QPA_PLATFORM must be set before anything imports Qt, hence at import time here.
"""

import atexit
import contextlib
import os
import shutil
import signal
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The app remembers settings (QSettings: the language); the tests and their subprocesses get
# a fresh folder, so what a developer chose in the running app cannot change what they see.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="vglab-test-config-")
atexit.register(shutil.rmtree, os.environ["XDG_CONFIG_HOME"], ignore_errors=True)

import pytest  # noqa: E402

# pytest-xdist's workers start with SIGINT ignored, and a child process inherits that: the
# CLI's Ctrl-C tests would send a signal their subprocess ignores.  Ctrl-C as a user has it.
signal.signal(signal.SIGINT, signal.default_int_handler)


@contextlib.contextmanager
def _one_compiler_at_a_time():
    """Hold a lock file while compiling: with two pytest-xdist workers on a cold cache, the
    second waits and then loads what the first cached, instead of compiling it all again."""
    try:
        import fcntl
    except ImportError:  # not POSIX: each worker compiles for itself
        yield
        return
    with open(os.path.join(tempfile.gettempdir(), "vglab-test-compile.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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

    with _one_compiler_at_a_time():
        for dtype in ("float64", "float32"):  # also fills the on-disk cache for subprocesses
            config = updated(ExperimentConfig(), **{"model.dtype": dtype})
            warm_up(config, load_dataset(config.data, dtype))
        warm_up_recurrent("float64")  # the Recurrent window's: it would wait for a compile process
