"""Compile the kernels in another process, so the app never waits (or stalls) on Numba.

Numba holds the GIL while it compiles: compiling in a thread of the GUI process would stall
the GUI thread again and again for the tens of seconds a cold cache takes.  The app instead
trains on the NumPy backend (:mod:`engine.numpy_path`) while ``python -m engine.precompile``
compiles into Numba's on-disk cache, what the current session needs first, and prints a
line per stage::

    compiling KEY      it compiles (rather than loads from the cache): tell the user
    ready phases KEY   the per-phase and one-step kernels of KEY are in the cache
    ready many KEY     and so is the many-step kernel
    ready recurrent KEY  and the recurrent kernels (engine.recurrent) of KEY's dtype
                       (with --rest or --all: after the MLP stages, niced like the rest)

A KEY is a warm key (:func:`engine.warmup.warm_key`: dtype and the data's writeable flags)
written ``float64:1:1``.  :class:`Precompiler` runs one such process at a time and passes
each line on; :func:`adopt` then loads the cached kernels (~1 s) and switches the sessions
between two steps.  ``python -m engine.precompile --all`` compiles every standard key.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import inspect
import os
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

from engine.warmup import is_warm, warm_key

#: stages the compile process reports, in order, and what the app does on a failure
STAGES = ("compiling", "phases", "many", "recurrent")
FAILED = "failed"
#: the keys of the data sets the app loads (writeable arrays), in the order compiled
STANDARD_KEYS = (("float64", True, True), ("float32", True, True))
#: a warm-up slower than this compiles: the process says so (a cache load takes ~0.5 s)
COMPILING_AFTER = 1.0
#: seconds between two looks at ``cancel`` while waiting for a compile process
_POLL = 0.1
_ROOT = Path(__file__).resolve().parent.parent  # the tree whose engine the child imports

Listener = Callable[[str, tuple], None]


def encode(key: tuple) -> str:
    dtype, wx, wt = key
    return f"{dtype}:{int(wx)}:{int(wt)}"


def decode(text: str) -> tuple:
    """The warm key of ``float64:1:1``; ``ValueError`` for anything else."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in ("float64", "float32") or set(parts[1:]) - {"0", "1"}:
        raise ValueError(f"precompile: expected a key like float64:1:1, got {text!r}")
    return parts[0], parts[1] == "1", parts[2] == "1"


def _key_arg(text: str) -> tuple:
    try:
        return decode(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


# --- the compile process ---------------------------------------------------------------------
def _dataset(key: tuple):
    """A 12-row, 2-feature data set with the dtype and writeable flags of ``key``."""
    import numpy as np

    from engine.datasets import Dataset

    dtype, wx, wt = key
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2)).astype(dtype)
    y = (X[:, 0] > 0).astype(np.int64)
    X_train, X_test = X[:8].copy(), X[8:].copy()
    X_train.flags.writeable, X_test.flags.writeable = wx, wt
    return Dataset(
        "warm-up", X_train, y[:8], X_test, y[8:], "classification", 2, ("a", "b"), ("0", "1"), ""
    )


def compile_key(key: tuple, say: Callable[[str], None]) -> None:
    """Compile (or load) every kernel of ``key``, saying each stage as it is reached."""
    from engine.config import ExperimentConfig, updated
    from engine.session import Session
    from engine.warmup import tiny_config, warm_up

    text = encode(key)
    config = updated(ExperimentConfig(), **{"model.dtype": key[0]})
    data = _dataset(key)
    timer = threading.Timer(COMPILING_AFTER, say, (f"compiling {text}",))
    timer.daemon = True
    timer.start()
    try:
        warm_up(config, data, many_step=False)
        say(f"ready phases {text}")
        Session(tiny_config(config), data)._run_chunk(2, None)  # train_steps
    finally:
        timer.cancel()
    _mark(key)
    say(f"ready many {text}")


def marker(key: tuple) -> Path | None:
    """The file :func:`compile_key` leaves beside Numba's cache once every kernel of ``key``
    (the per-phase ones and the many-step one) is cached, named by the kernels' source stamp
    and the Numba and Python versions (an edit or an upgrade makes it stale); None where
    the cache's folder cannot be found (a Numba that renamed its internals)."""
    from engine import kernels as K
    from engine.kernels._cache import sources, stamp

    folder = getattr(K.train_step._cache, "_cache_path", None)
    if folder is None:
        return None
    return Path(folder) / f"vglab-warm-{encode(key)}-{stamp(sources())[:16]}-{_versions()}"


def _versions() -> str:
    """Numba's and Python's versions: either changed, the cache is recompiled (Numba keys
    its files by both) and an old marker must not be trusted."""
    import numba

    return f"numba{numba.__version__}-py{sys.version_info[0]}.{sys.version_info[1]}"


def cached(key: tuple) -> bool:
    """True when every kernel of ``key`` is in the on-disk cache (by the marker):
    loading them in-process takes ~1 s, far less than starting a compile process."""
    path = marker(key)
    return path is not None and path.is_file()


def _mark(key: tuple) -> None:
    path = marker(key)
    if path is None:
        return
    with contextlib.suppress(OSError):  # read-only: the app keeps asking a process, still right
        path.touch()


# --- the recurrent kernels (one stage, after the MLP's) ---------------------------------------
def compile_recurrent(key: tuple, say: Callable[[str], None]) -> None:
    """Compile (or load) the recurrent kernels of ``key``'s dtype, mark them, say so."""
    from engine.warmup import warm_up_recurrent

    if not recurrent_cached(key[0]):  # marked: a load would only prove it again
        warm_up_recurrent(key[0])
        _touch(recurrent_marker(key[0]))
    say(f"ready recurrent {encode(key)}")


def recurrent_key(dtype: str) -> tuple:
    """The key whose ``recurrent`` stage covers the recurrent kernels of ``dtype`` (they
    copy their data, so its writeable flags do not matter)."""
    return dtype, True, True


def recurrent_marker(dtype: str) -> Path | None:
    """:func:`marker` of the recurrent kernels of ``dtype``: beside their cache, named by the
    stamp of every file they are built from (engine.recurrent's and engine.kernels')."""
    from engine.kernels._cache import stamp
    from engine.recurrent import _cache
    from engine.recurrent import kernels as RK

    folder = getattr(RK.forward_layer._cache, "_cache_path", None)
    if folder is None:
        return None
    return (
        Path(folder) / f"vglab-warm-recurrent-{dtype}-{stamp(_cache.sources())[:16]}-{_versions()}"
    )


def recurrent_cached(dtype: str) -> bool:
    """True when the recurrent kernels of ``dtype`` are in the on-disk cache (by the marker)."""
    path = recurrent_marker(dtype)
    return path is not None and path.is_file()


def _touch(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):  # read-only: the app asks a process, still right
            path.touch()


def _nice_once(done: list) -> None:
    """Lower this process's priority once: what nobody waits for yields the CPU to the app."""
    if not done and hasattr(os, "nice"):
        done.append(os.nice(10))


def _say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.precompile KEY... [--rest | --all]``."""
    ap = argparse.ArgumentParser(description="Compile the kernels into Numba's on-disk cache.")
    ap.add_argument("keys", nargs="*", type=_key_arg, help="warm keys first, e.g. float64:1:1")
    ap.add_argument(
        "--rest", action="store_true", help="then the recurrent and the other standard keys, niced"
    )
    ap.add_argument("--all", action="store_true", help="every standard key, recurrent too")
    args = ap.parse_args(argv)
    keys = list(args.keys)
    if args.rest or args.all:
        keys += [k for k in STANDARD_KEYS if k not in keys]
    niced: list = []
    try:
        for i, key in enumerate(keys):
            if i == len(args.keys) and args.rest:
                _nice_once(niced)
            compile_key(key, _say)
            if args.rest or args.all:
                if args.rest:
                    _nice_once(niced)
                compile_recurrent(key, _say)
    except BrokenPipeError:  # the app has gone: nobody reads the cache's progress
        return 0
    return 0


# --- the app's side --------------------------------------------------------------------------
class Precompiler:
    """Runs the compile process for the keys asked for, one process at a time (Qt-free).

    :meth:`request` registers a listener, replays the stages a key has already reached and
    starts a process for a key no process covers.  Listeners are called from a reader thread
    with ``(stage, key)``, stage one of :data:`STAGES` or :data:`FAILED`.  They are held
    weakly: a closed window's worker (a bound method's object) is neither kept alive nor
    told; the caller keeps any other listener for as long as it wants to be told.
    """

    def __init__(self, command: list[str] | None = None, rest: bool = True):
        self.command = command or [sys.executable, "-m", "engine.precompile"]
        self.rest = rest
        self._lock = threading.Lock()
        self._listeners: list[weakref.ref] = []  # of Listeners (see _weak)
        self._stages: dict[tuple, list[str]] = {}  # key -> stages reported
        self._covered: set[tuple] = set()  # keys a started process compiles
        self._queue: list[tuple] = []
        self._proc: subprocess.Popen | None = None

    def __repr__(self) -> str:
        return f"Precompiler(running={self.running}, stages={self._stages})"

    @property
    def running(self) -> bool:
        return self._proc is not None

    def stages(self, key: tuple) -> list[str]:
        with self._lock:
            return list(self._stages.get(key, ()))

    def request(self, key: tuple, listener: Listener) -> None:
        """Have ``key`` compiled (if no process does yet) and tell ``listener`` its stages."""
        with self._lock:
            if listener not in self._live():
                self._listeners.append(_weak(listener))
            done = list(self._stages.get(key, ()))
            if key not in self._covered:
                self._covered.add(key)
                self._queue.append(key)
                if self._proc is None:
                    self._start()
        if "phases" in done and "compiling" in done:
            done.remove("compiling")  # nobody needs to be told it compiles any more
        for stage in done:
            listener(stage, key)

    def forget(self, listener: Listener) -> None:
        """Stop telling ``listener`` (a listener whose object is gone is forgotten anyway)."""
        with self._lock:
            self._listeners = [r for r in self._listeners if r() not in (None, listener)]

    def _live(self) -> list[Listener]:
        """The listeners still alive; the dead ones are dropped (lock held)."""
        alive = [(r, r()) for r in self._listeners]
        self._listeners = [r for r, fn in alive if fn is not None]
        return [fn for _, fn in alive if fn is not None]

    def close(self) -> None:
        """Stop a running compile process (what it has compiled stays in the cache)."""
        with self._lock:
            proc, self._queue = self._proc, []
        if proc is not None and proc.poll() is None:
            proc.terminate()

    def _start(self) -> None:
        """Start a process for the queued keys (lock held)."""
        keys, self._queue = self._queue, []
        if self.rest:
            self._covered.update(STANDARD_KEYS)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
        command = self.command + [encode(k) for k in keys] + (["--rest"] if self.rest else [])
        try:
            self._proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
            )
        except OSError:
            self._proc = None
            threading.Thread(target=self._fail, args=(keys,), daemon=True).start()
            return
        args = (self._proc, keys)
        threading.Thread(target=self._read, args=args, name="vglab-precompile", daemon=True).start()

    def _read(self, proc: subprocess.Popen, keys: list[tuple]) -> None:
        with proc.stdout:
            for line in proc.stdout:
                words = line.split()
                if len(words) >= 2 and words[-2] in STAGES:
                    try:
                        self._report(words[-2], decode(words[-1]))
                    except ValueError:
                        continue
        proc.wait()
        with self._lock:
            self._proc = None
            last = "recurrent" if self.rest else "phases"  # a recurrent window waits on it
            unfinished = [k for k in self._covered if last not in self._stages.get(k, ())]
            self._covered -= set(unfinished)
            if self._queue:
                self._start()
        self._fail(unfinished)  # the --rest keys too: a session may wait on one of them

    def _fail(self, keys: Iterable[tuple]) -> None:
        for key in keys:
            self._report(FAILED, key)

    def _report(self, stage: str, key: tuple) -> None:
        with self._lock:
            if stage != FAILED:
                self._stages.setdefault(key, []).append(stage)
            listeners = self._live()
        for listener in listeners:
            listener(stage, key)


def _weak(listener: Listener) -> weakref.ref:
    """A weak reference to ``listener``; a bound method's lives as long as its object."""
    return weakref.WeakMethod(listener) if inspect.ismethod(listener) else weakref.ref(listener)


_shared: Precompiler | None = None


def shared() -> Precompiler:
    """The process's one :class:`Precompiler` (every window's worker asks this one)."""
    global _shared
    if _shared is None:
        _shared = Precompiler()
        atexit.register(_shared.close)
    return _shared


def wait_cached(
    keys: Iterable[tuple],
    cancel: Callable[[], bool] | None = None,
    notice: Callable[[str], None] | None = None,
) -> bool:
    """Have every kernel of ``keys`` in the on-disk cache before starting processes that
    would each compile them at once (a sweep's pool): a compile process compiles each key
    the marker does not name, and this waits for it.  The app's :func:`shared` process when
    there is one (it may be compiling the key already), else one of our own for just these
    keys.  ``notice`` is told :data:`engine.warmup.COMPILE_NOTICE` when it compiles.

    True when the kernels are cached, or when the process failed (the workers then compile
    them as before); False when ``cancel()`` turned true first.
    """
    from engine.warmup import COMPILE_NOTICE

    todo = {k: threading.Event() for k in keys if not cached(k)}
    if not todo:
        return True
    told = []

    def listener(stage: str, key: tuple) -> None:
        if stage == "compiling" and notice is not None and not told:
            told.append(key)
            notice(COMPILE_NOTICE)
        if key in todo and stage in ("many", FAILED):
            todo[key].set()

    own = _shared is None
    compiler = Precompiler(rest=False) if own else _shared
    try:
        for key in todo:
            compiler.request(key, listener)
        for ready in todo.values():
            while not ready.wait(_POLL):
                if cancel is not None and cancel():
                    return False
        return True
    finally:
        compiler.forget(listener)
        if own:
            compiler.close()


# --- switching sessions ----------------------------------------------------------------------
def backend_sessions(sessions: Iterable) -> list:
    """The sessions that can switch backend (the MLP's); engine.recurrent's compile their
    kernels where they run."""
    return [s for s in sessions if hasattr(s, "use_backend")]


def on_numpy_until_compiled(sessions: Iterable) -> list:
    """Put each session whose kernels are not loaded in this process on the NumPy backend;
    returns those sessions (empty: everything is compiled and loaded).  Sessions without a
    NumPy backend (engine.recurrent's) compile their kernels where they run, as before."""
    waiting = [s for s in backend_sessions(sessions) if not is_warm(s.config, s.dataset)]
    for s in waiting:
        s.use_backend("numpy")
    return waiting


def hold_recurrent(sessions: Iterable, listener: Listener) -> set[tuple]:
    """The keys of the recurrent sessions whose kernels are neither loaded here nor marked
    cached, each asked of the :func:`shared` compile process (``listener`` is told its
    stages).  Those sessions have no NumPy path: they wait for the ``recurrent`` stage (or
    ``failed``: compile here) rather than compile a second copy in-process."""
    from engine.warmup import recurrent_warm

    dtypes = {s.config.model.dtype for s in sessions if s.config.recurrent.cell != "none"}
    keys = {recurrent_key(d) for d in dtypes if not recurrent_warm(d) and not recurrent_cached(d)}
    for key in keys:
        shared().request(key, listener)
    return keys


def adopt(stage: str, key: tuple, sessions: Iterable) -> bool:
    """Act on a compile ``stage`` of ``key`` for the sessions of a window; True when sessions
    switched to the compiled kernels.

    ``phases``: load the cached kernels (:func:`engine.warmup.warm_up`, ~1 s) and switch every
    NumPy session of ``key`` between two steps; ``many``: load the many-step kernel in a
    thread; ``failed`` (the process died): compile here, as before there was a process.
    """
    from engine.warmup import load_many_step, warm_up

    mine = [s for s in sessions if warm_key(s.config, s.dataset) == key]
    if not mine:
        return False
    s0 = mine[0]
    if stage == "many":
        load_many_step(s0.config, s0.dataset)
        return False
    if stage not in ("phases", FAILED):
        return False
    warm_up(s0.config, s0.dataset, many_step=stage == FAILED)
    switched = [s for s in mine if s.backend != "numba"]
    for s in switched:
        s.use_backend("numba")
    return bool(switched)


if __name__ == "__main__":
    sys.exit(main())
