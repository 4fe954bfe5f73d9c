"""One-off jobs in a QThread of their own, their result delivered in the caller's thread.

The training worker (:mod:`gui.worker`) runs its loop as one such job; the activation
gallery times its kernels with :func:`run_in_background`; the trainability sweep window
reports its nets as they arrive through ``progress``.  A job still running when the
interpreter exits is asked to stop and waited for: Qt aborts on a destroyed running QThread.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

_LIVE: set[Background] = set()  # started and not finished: kept alive, waited for at exit


class _Task(QObject):
    """Runs ``fn`` in the thread it was moved to."""

    finished = Signal(object)

    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as e:  # noqa: BLE001 -- handed to on_done, never a crash
            result = e
        self.finished.emit(result)


class Background(QObject):
    """``fn()`` in a QThread of its own; ``done(result)`` (or the exception it raised) is
    emitted in the thread that created this object.  ``stop()`` asks a long job to end.
    ``fn`` may call ``progress.emit(x)`` from its thread: the receivers get ``x`` in theirs
    (a queued connection), partial results while the job goes on."""

    done = Signal(object)
    progress = Signal(object)

    def __init__(self, fn: Callable, name: str, stop: Callable[[], None] = lambda: None):
        super().__init__()
        self.thread = QThread()
        self.thread.setObjectName(name)
        self.stop = stop
        self._task = _Task(fn)
        self._task.moveToThread(self.thread)
        self.thread.started.connect(self._task.run)
        self._task.finished.connect(self._finished)  # queued: this object is not in the thread

    def __repr__(self) -> str:
        return f"Background({self.thread.objectName()!r}, running={self.thread.isRunning()})"

    def start(self) -> None:
        _LIVE.add(self)
        self.thread.start()

    def wait(self, timeout_ms: int) -> bool:
        """Wait for the thread to end; False if it is still running afterwards."""
        self.thread.quit()
        ended = bool(self.thread.wait(timeout_ms))
        if ended:
            _LIVE.discard(self)
        return ended

    @Slot(object)
    def _finished(self, result) -> None:
        self.wait(10_000)
        self.done.emit(result)


def run_in_background(
    fn: Callable, on_done: Callable | None = None, name: str = "vglab-background"
) -> Background:
    """Start ``fn()`` in a thread; ``on_done(result or exception)`` runs in this thread."""
    job = Background(fn, name)
    if on_done is not None:
        job.done.connect(on_done)
    job.start()
    return job


@atexit.register
def _stop_all() -> None:
    """Never let the interpreter destroy a running QThread (Qt aborts the process)."""
    for job in list(_LIVE):
        job.stop()
        job.wait(10_000)
