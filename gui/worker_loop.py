"""Command queue and frame pacing shared by the training workers (single run and compare).

A worker drains commands from a thread-safe queue, steps its model while playing, and emits
a frame at most every ``frame_interval`` seconds, and only once the GUI has taken the last
one (``in_flight`` cleared).  ``speed`` caps steps per second (None = as fast as possible).
Subclasses provide ``_stepped()``: the object being trained (it has ``step_count``) or None.
"""

from __future__ import annotations

import math
import queue
import time


class PacedLoop:
    """Mixin: needs ``commands``, ``playing``, ``speed``, ``frame_interval``, ``in_flight``,
    ``_dirty``, ``_last_emit`` attributes and a ``_handle(name, *args)`` method."""

    _t0 = 0.0  # wall time and step count when playing (re)started: the speed cap's origin
    _s0 = 0

    def _stepped(self):
        raise NotImplementedError

    def _wait_time(self) -> float | None:
        """How long to block waiting for a command (None: until one arrives)."""
        if self._dirty:
            return 0.0
        target = self._stepped()
        if not self.playing or target is None:
            return None
        if self.speed is None:
            return 0.0
        due = self._t0 + (target.step_count - self._s0 + 1) / self.speed
        return max(0.0, min(due - time.perf_counter(), self.frame_interval))

    def _drain(self, timeout: float | None) -> None:
        """Handle every queued command, waiting up to ``timeout`` for the first."""
        try:
            cmd = self.commands.get(timeout=timeout) if timeout != 0 else self.commands.get_nowait()
        except queue.Empty:
            return
        while True:
            self._handle(*cmd)
            try:
                cmd = self.commands.get_nowait()
            except queue.Empty:
                return

    def _due(self) -> bool:
        return (
            time.perf_counter() - self._last_emit >= self.frame_interval
            and not self.in_flight.is_set()
        )

    def _restart_clock(self) -> None:
        target = self._stepped()
        self._t0 = time.perf_counter()
        self._s0 = target.step_count if target is not None else 0

    def _steps_allowed(self) -> int:
        """Steps the speed cap allows from now on (a large number when uncapped)."""
        if self.speed is None:
            return 1 << 30
        allowed = (time.perf_counter() - self._t0) * self.speed
        return max(1, math.ceil(allowed) - (self._stepped().step_count - self._s0))

    def _over_speed(self) -> bool:
        """True when playing has reached the steps/s cap for now."""
        if self.speed is None:
            return False
        allowed = (time.perf_counter() - self._t0) * self.speed
        return self._stepped().step_count - self._s0 >= allowed
