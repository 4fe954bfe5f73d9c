"""The frame scheduler of the training worker: when to step, when to send a frame (Qt-free).

One rule for every worker: while playing, a frame at most every ``1 / (FRAME_MARGIN * fps)``
seconds, and only once the GUI has taken the previous one.  ``speed`` caps steps per second
(None: as fast as possible), counted from the moment playing (re)started.
"""

from __future__ import annotations

import math
import time

#: frames per second sent = FRAME_MARGIN x the window's redraw rate.  A little faster than
#: the redraws, so a redraw almost always finds a frame newer than the last one even when a
#: busy machine delays the worker; back-pressure (one frame in flight) means the surplus
#: queues nothing and costs only the packing.  1.2 (the main window's rule, which its
#: frame-rate test was tuned with) rather than the compare window's 1.1: 10% left too little
#: room for timer jitter on two busy cores.
FRAME_MARGIN = 1.2
#: at least this long between a frame and the end of the next stepping burst (seconds)
MIN_BURST = 0.002


class FrameScheduler:
    """Pacing of one worker: the frame interval, the speed cap and its clock."""

    def __init__(self, fps: float):
        if not fps > 0:
            raise ValueError(f"fps: must be > 0, got {fps!r}")
        self.interval = 1.0 / (FRAME_MARGIN * fps)
        self.speed: float | None = None  # steps/s cap; None = as fast as possible
        self.last_emit = -math.inf
        self._t0 = 0.0  # wall time and step count when playing (re)started
        self._s0 = 0

    def __repr__(self) -> str:
        return f"FrameScheduler(interval={self.interval:.4f}s, speed={self.speed})"

    def restart(self, step_count: int) -> None:
        """Start the speed cap's clock again from now and ``step_count``."""
        self._t0 = time.perf_counter()
        self._s0 = step_count

    def wait_time(self, step_count: int | None, playing: bool, dirty: bool) -> float | None:
        """How long to block waiting for a command (None: until one arrives)."""
        if dirty:
            return 0.0
        if not playing or step_count is None:
            return None
        if self.speed is None:
            return 0.0
        due = self._t0 + (step_count - self._s0 + 1) / self.speed
        return max(0.0, min(due - time.perf_counter(), self.interval))

    def due(self, in_flight: bool) -> bool:
        """True when a periodic frame may go: the interval has passed and none is in flight."""
        return time.perf_counter() - self.last_emit >= self.interval and not in_flight

    def deadline(self) -> float:
        """When the current stepping burst should stop for the next frame.  Frames keep a
        fixed cadence: the time spent packing one is not added to it."""
        return max(self.last_emit + self.interval, time.perf_counter() + MIN_BURST)

    def steps_allowed(self, step_count: int) -> int:
        """Steps the speed cap allows from now on (a large number when uncapped)."""
        if self.speed is None:
            return 1 << 30
        allowed = (time.perf_counter() - self._t0) * self.speed
        return max(1, math.ceil(allowed) - (step_count - self._s0))

    def over_speed(self, step_count: int) -> bool:
        """True when playing has reached the steps/s cap for now."""
        if self.speed is None:
            return False
        allowed = (time.perf_counter() - self._t0) * self.speed
        return step_count - self._s0 >= allowed
