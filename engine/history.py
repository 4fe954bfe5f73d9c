"""Bounded metric history: never larger than its capacity, and no larger than what is used.

The buffer starts small and doubles as rows arrive, up to ``capacity`` (a short run of a deep
network never pays for a capacity it does not reach).  When it is full, every other row is
dropped and the recording stride doubles, so a run of any length keeps an evenly spaced
record of its whole course in bounded memory.
"""

from __future__ import annotations

import numpy as np


class Trace:
    """Rows of ``row_shape`` recorded against a step number, at most ``capacity`` of them."""

    INITIAL = 64  # rows allocated up front; doubled on demand up to ``capacity``

    def __init__(self, capacity: int, row_shape: tuple[int, ...]):
        if capacity < 2 or capacity % 2:
            raise ValueError(f"logging.history: must be an even number >= 2, got {capacity}")
        self.capacity = capacity
        size = min(capacity, self.INITIAL)
        self.steps = np.zeros(size, dtype=np.int64)  # (allocated,)
        self.rows = np.full((size, *row_shape), np.nan)  # (allocated, *row_shape)
        self.count = 0
        self.stride = 1
        self._seen = 0

    def append(self, step: int, row) -> None:
        """Offer one row; it is kept when its position falls on the current stride."""
        keep = self._seen % self.stride == 0
        self._seen += 1
        if not keep:
            return
        if self.count == self.capacity:
            self._compact()
        elif self.count == len(self.steps):
            self._grow()
        self.steps[self.count] = step
        self.rows[self.count] = row
        self.count += 1

    # --- bulk writers (engine.kernels.train_steps writes the kept rows itself) ---------------
    @property
    def phase(self) -> int:
        """Position of the next offer within the current stride (0: it will be kept)."""
        return self._seen % self.stride

    def room(self, offers: int) -> int:
        """How many of the next ``offers`` offers can be made without growing or compacting:
        their kept rows fit at ``rows[count:]`` of the buffers as allocated now.  0 when the
        very next offer is kept and needs more rows (make that one through :meth:`append`)."""
        before_next = -self._seen % self.stride  # offers skipped before the next kept one
        free = len(self.steps) - self.count
        return min(offers, before_next + free * self.stride)

    def advance(self, offers: int, kept: int) -> None:
        """Account for ``offers`` offers (at most :meth:`room`) whose ``kept`` rows a caller
        wrote at ``steps[count:]`` / ``rows[count:]``, the ones :meth:`append` would keep."""
        self._seen += offers
        self.count += kept

    def _grow(self) -> None:
        size = min(self.capacity, 2 * len(self.steps))
        steps = np.zeros(size, dtype=np.int64)
        rows = np.full((size, *self.rows.shape[1:]), np.nan)
        steps[: self.count], rows[: self.count] = self.steps[: self.count], self.rows[: self.count]
        self.steps, self.rows = steps, rows

    def _compact(self) -> None:
        half = self.capacity // 2
        self.steps[:half] = self.steps[0::2]
        self.rows[:half] = self.rows[0::2]
        self.rows[half:] = np.nan
        self.count = half
        # rows kept so far sit at offers 0, s, 2s, ...; the survivors are the multiples of 2s,
        # and the offer that filled the buffer (capacity * s, capacity even) is one of them
        self.stride *= 2

    def view(self, column: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Read-only copies of (steps (n,), rows (n, *row_shape)) recorded so far.

        ``column``: copy only ``rows[..., column]`` (one metric of every layer: 15x less to
        copy than the whole table, for views redrawn many times a second).
        """
        n = self.count
        rows = self.rows[:n] if column is None else self.rows[:n, ..., column]
        steps, rows = self.steps[:n].copy(), rows.copy()
        steps.flags.writeable = rows.flags.writeable = False
        return steps, rows

    def clear(self) -> None:
        self.count = 0
        self.stride = 1
        self._seen = 0
        self.rows[:] = np.nan

    @property
    def nbytes(self) -> int:
        return self.steps.nbytes + self.rows.nbytes

    def __repr__(self) -> str:
        return f"Trace({self.count}/{self.capacity} rows, stride={self.stride})"
