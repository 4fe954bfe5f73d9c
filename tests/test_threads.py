"""BLAS threads: one policy (engine.threads) around the CLI's and the app's training loops."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from engine_helpers import tiny as shared_tiny

from engine import threads
from engine.config import ExperimentConfig, updated
from engine.network import layer_specs

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20_000  # ms


def fake_session(n_in: int, width: int, depth: int, n_out: int, batch: int, dtype: str = "float64"):
    """What the policy reads from a session: the batch, the layer shapes and the dtype."""
    model = updated(ExperimentConfig(), **{"model.depth": depth, "model.width": width}).model
    return SimpleNamespace(
        batch_size=batch,
        net=SimpleNamespace(specs=layer_specs(model, n_in, n_out), dtype=np.dtype(dtype)),
    )


MNIST5 = fake_session(784, 128, 5, 10, 128)
DEEP50 = fake_session(64, 64, 50, 10, 64)
MNIST5_F32 = fake_session(784, 128, 5, 10, 128, "float32")
HUGE = fake_session(4096, 4096, 3, 10, 512)


def tiny(**changes) -> ExperimentConfig:
    """engine_helpers.tiny without evaluations."""
    return shared_tiny(**{"training.eval_every": 0, **changes})


def test_largest_product_counts_the_biggest_layer_of_any_session():
    assert threads.largest_product([MNIST5]) == 2.0 * 128 * 784 * 128
    assert threads.largest_product([DEEP50, MNIST5]) == threads.largest_product([MNIST5])
    assert threads.largest_product([]) == 0.0
    assert threads.largest_product([MNIST5_F32]) == threads.largest_product([MNIST5]) / 2


@pytest.mark.parametrize("n_cores", [1, 2, 8])
def test_small_products_get_one_thread_whatever_the_caller(n_cores):
    flops = threads.largest_product([DEEP50])
    assert threads.choose(flops, "cli", n_cores, 0.0) == 1
    assert threads.choose(flops, "gui", n_cores, 0.0) == 1


def test_the_command_line_uses_the_idle_cores_for_large_products():
    flops = threads.largest_product([MNIST5])
    assert threads.choose(flops, "cli", 2, 0.0) == 2
    assert threads.choose(threads.largest_product([MNIST5_F32]), "cli", 2, 0.0) == 2
    assert threads.choose(flops, "cli", 2, 1.0) == 1  # another process holds a core
    assert threads.choose(flops, "cli", 2, 0.3) == 2  # a light one does not
    assert threads.choose(flops, "cli", 2, 0.0, cap=1) == 1  # OPENBLAS_NUM_THREADS=1 holds
    huge = threads.largest_product([HUGE])
    assert threads.choose(huge, "cli", 8, 0.0) == 8
    assert threads.choose(huge, "cli", 8, 3.0) == 5


def test_the_app_worker_leaves_a_core_to_the_gui_thread():
    mnist = threads.largest_product([MNIST5])
    huge = threads.largest_product([HUGE])
    assert threads.choose(mnist, "gui", 8, 0.0) == 1  # not large: one thread
    assert threads.choose(huge, "gui", 2, 0.0) == 1  # two cores: one is the GUI's
    assert threads.choose(huge, "gui", 8, 0.0) == 7
    assert threads.choose(huge, "gui", 8, 2.0) == 5


def test_an_unknown_caller_is_refused():
    with pytest.raises(ValueError, match="caller"):
        threads.choose(1e9, "server", 2, 0.0)


def test_busy_cores_is_a_share_of_this_machine():
    busy = threads.busy_cores(0.02)
    assert 0.0 <= busy <= max(threads.cores(), 64)


def test_a_limit_reaches_the_openblas_the_kernels_call():
    # a fresh interpreter: SciPy's OpenBLAS (Numba's np.dot) is not loaded yet, and a limit
    # taken before it loads would not apply to it
    code = """
import threadpoolctl
from engine import threads
with threads.limited(1):
    inside = threadpoolctl.threadpool_info()
outside = threadpoolctl.threadpool_info()
blas = lambda info: {i["filepath"]: i["num_threads"] for i in info if i["user_api"] == "blas"}
import scipy.linalg.cython_blas as cb
scipy_libs = [p for p in blas(inside) if "scipy" in p.rsplit("/", 2)[-2]]
assert scipy_libs, blas(inside)
assert set(blas(inside).values()) == {1}, blas(inside)
print(max(blas(outside).values()))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) >= 1


def _restorable() -> list[int]:
    before = threads.current()
    if max(before) < 2:
        pytest.skip("BLAS runs on one thread here: nothing to limit")
    return before


def recording(monkeypatch, seen: list) -> None:
    """Note the BLAS thread counts whenever the run's own session (depth 3, not the 1-layer
    warm-up) trains: one step (``step``) or a compiled chunk of them (``run``)."""
    from engine.session import Session

    for name in ("step", "run"):
        original = getattr(Session, name)

        def recorded(s, *args, _original=original, **kwargs):
            if s.depth == 3:
                seen.append(threads.current())
            return _original(s, *args, **kwargs)

        monkeypatch.setattr(Session, name, recorded)


def _play_until_recorded(qtbot, controller, seen: list) -> None:
    """Play ``controller`` until its training has been recorded 50 times, then pause."""
    with qtbot.waitSignal(controller.running_changed, timeout=TIMEOUT):
        controller.play()
    qtbot.waitUntil(lambda: len(seen) > 50, timeout=TIMEOUT)
    with qtbot.waitSignal(controller.running_changed, timeout=TIMEOUT):
        controller.pause()


def test_a_command_line_run_trains_on_the_chosen_threads_then_restores_them(monkeypatch):
    from engine.experiments import run_experiment

    before = _restorable()
    seen = []
    recording(monkeypatch, seen)
    run_experiment(tiny(), steps=20)
    assert seen
    assert all(counts == [1] * len(before) for counts in seen), seen[:3]  # tiny products
    assert threads.current() == before


def test_the_app_trains_on_one_thread_and_leaves_the_rest_alone(qtbot, monkeypatch):
    from gui.controller import Controller

    before = _restorable()
    seen = []
    recording(monkeypatch, seen)
    c = Controller(tiny())
    try:
        with qtbot.waitSignal(c.snapshot_ready, timeout=TIMEOUT):
            c.start()
        _play_until_recorded(qtbot, c, seen)
    finally:
        assert c.shutdown()
    assert all(counts == [1] * len(before) for counts in seen), seen[:3]
    assert threads.current() == before


def test_the_app_compares_on_one_thread_too(qtbot, monkeypatch):
    from gui.compare_controller import CompareController

    before = _restorable()
    seen = []
    recording(monkeypatch, seen)
    c = CompareController()
    try:
        c.start()
        with qtbot.waitSignal(c.built, timeout=TIMEOUT):
            c.build(tiny(), ["model.activation=sigmoid,tanh"])
        _play_until_recorded(qtbot, c, seen)
    finally:
        assert c.shutdown()
    assert all(counts == [1] * len(before) for counts in seen), seen[:3]
    assert threads.current() == before
