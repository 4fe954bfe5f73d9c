"""The compile process and its manager (engine.precompile), without Qt.

The process is real where it is cheap (the on-disk cache is warm: conftest compiled it);
failures use a command that exits at once.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
import weakref

import pytest
from engine_helpers import config, toy_dataset

from engine import precompile, warmup
from engine.session import Session

KEY = ("float64", True, True)


class Stages:
    """A listener that records (stage, key) and can be waited on."""

    def __init__(self):
        self.seen: list[tuple[str, tuple]] = []
        self.event = threading.Event()

    def __call__(self, stage: str, key: tuple) -> None:
        self.seen.append((stage, key))
        self.event.set()

    def wait_for(self, stage: str, timeout: float = 120.0) -> None:
        while (stage, KEY) not in self.seen:
            self.event.clear()
            assert self.event.wait(timeout), f"no {stage!r} after {timeout} s: {self.seen}"


def test_keys_round_trip_and_bad_ones_are_refused():
    assert precompile.decode(precompile.encode(("float32", True, False))) == (
        "float32",
        True,
        False,
    )
    with pytest.raises(ValueError, match="expected a key like float64:1:1"):
        precompile.decode("float16:1:1")


def test_the_command_line_refuses_a_bad_key_with_exit_2():
    run = subprocess.run(
        [sys.executable, "-m", "engine.precompile", "int8:1:1"], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "expected a key like float64:1:1" in run.stderr


def test_a_process_reports_its_stages_in_order_and_a_later_listener_gets_them_replayed():
    p = precompile.Precompiler(rest=False)
    first = Stages()
    p.request(KEY, first)
    first.wait_for("many")
    stages = [s for s, _ in first.seen]
    assert stages[-2:] == ["phases", "many"]  # "compiling" first only on a cold cache
    late = Stages()
    p.request(KEY, late)  # nothing left to compile: told at once, without "compiling"
    assert [s for s, _ in late.seen] == ["phases", "many"]


def test_a_finished_process_marks_the_cache_under_the_kernels_stamp():
    from engine.kernels._cache import sources, stamp

    marker = precompile.marker(KEY)
    assert stamp(sources())[:16] in marker.name  # an edit to any kernel file: a new name
    marker.unlink(missing_ok=True)
    assert not precompile.cached(KEY)
    run = subprocess.run(
        [sys.executable, "-m", "engine.precompile", precompile.encode(KEY)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[-2] == f"ready many {precompile.encode(KEY)}"
    assert precompile.cached(KEY)


def test_a_process_that_dies_reports_failed():
    p = precompile.Precompiler([sys.executable, "-c", "import sys; sys.exit(3)"], rest=False)
    got = Stages()
    p.request(KEY, got)
    got.wait_for(precompile.FAILED, timeout=30)
    assert got.seen == [(precompile.FAILED, KEY)]


def test_a_numba_or_python_upgrade_makes_the_marker_stale(monkeypatch):
    """The marker's name ignored the versions: after a Numba upgrade (a recompiled cache)
    it was trusted, and a session loaded kernels in-process expecting ~1 s."""
    import numba

    path = precompile.marker(KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    assert precompile.cached(KEY)
    monkeypatch.setattr(numba, "__version__", "99.0.0")
    assert not precompile.cached(KEY)
    monkeypatch.undo()
    assert precompile.cached(KEY)
    major, minor = sys.version_info[:2]
    monkeypatch.setattr(sys, "version_info", (major, minor + 1, 0, "final", 0))
    assert not precompile.cached(KEY)


def test_the_listener_of_a_closed_window_is_neither_kept_alive_nor_told():
    p = precompile.Precompiler([sys.executable, "-c", "import sys; sys.exit(3)"], rest=False)

    class Worker:  # what a window's worker registers: one of its bound methods
        def __init__(self):
            self.seen = Stages()

        def reached(self, stage, key):
            self.seen(stage, key)

    kept, gone = Worker(), Worker()
    p.request(KEY, kept.reached)
    p.request(KEY, gone.reached)
    gone.seen.wait_for(precompile.FAILED, timeout=30)
    ref = weakref.ref(gone)
    del gone
    for _ in range(100):  # the reader thread lets go of its call's frame
        gc.collect()
        if ref() is None:
            break
        time.sleep(0.05)
    assert ref() is None  # the precompiler held it, and the closed window with it, for good
    p.forget(kept.reached)
    p._report(precompile.FAILED, KEY)  # as the reader thread reports
    assert kept.seen.seen == [(precompile.FAILED, KEY)]  # told once: forgotten since


def test_wait_cached_waits_for_its_compile_process_or_a_cancel(monkeypatch):
    started, original = [], precompile.Precompiler

    def compiler(command):
        class Compiler(original):
            def __init__(self, rest=True):
                super().__init__(command, rest)
                started.append(command)

        return Compiler

    monkeypatch.setattr(precompile, "cached", lambda key: False)
    monkeypatch.setattr(precompile, "_shared", None)  # the CLI: no app's compile process
    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    died = [sys.executable, "-c", "import sys; sys.exit(3)"]
    monkeypatch.setattr(precompile, "Precompiler", compiler(hang))
    assert not precompile.wait_cached([KEY], cancel=lambda: True)
    monkeypatch.setattr(precompile, "Precompiler", compiler(died))
    assert precompile.wait_cached([KEY])  # failed: the workers compile, as before
    assert started == [hang, died]
    monkeypatch.setattr(precompile, "cached", lambda key: True)
    assert precompile.wait_cached([KEY], cancel=lambda: True)  # nothing to compile
    assert len(started) == 2


def test_adopt_switches_the_waiting_sessions_and_defers_the_many_step_kernel(monkeypatch):
    monkeypatch.setattr(warmup, "_warmed", set())
    monkeypatch.setattr(warmup, "_many_step", {})
    monkeypatch.setattr(warmup, "_loading", set())
    data = toy_dataset()
    s = Session(config(), data)
    assert precompile.on_numpy_until_compiled([s]) == [s]
    assert s.backend == "numpy"
    s.run(3)  # single NumPy steps
    assert precompile.adopt("phases", KEY, [s])
    assert s.backend == "numba"
    assert not warmup.many_step_ready(s.config, data)  # train_steps: not before "many"
    precompile.adopt("many", KEY, [s])
    warmup._many_step[KEY].wait(60)
    assert warmup.many_step_ready(s.config, data)
    assert not precompile.adopt("phases", ("float32", True, True), [s])  # not its key
