"""How many BLAS threads the matrix products of a training run get: the one place that decides.

The kernels' ``np.dot`` calls OpenBLAS (SciPy's copy, through Numba).  OpenBLAS splits every
product between its threads and makes them meet at the end of each call.  On an idle machine
that helps large products (mnist5, 784-[128x5]-10: ~500 steps/s on 2 threads against ~370 on
one).  With one other busy process on a 2-core machine the meeting waits for a time slice
of the busy core, every call: mnist5 falls to 70-180 steps/s (float64) and 5-340 (float32).
So a run gets more than one thread only when its products are large enough to pay for the
meetings and there are idle cores to run them on:

* ``"cli"`` (``vglab run`` / ``compare``, benchmarks): up to every core other processes leave
  idle, one thread per :data:`CLI_FLOPS_PER_THREAD` of the largest product (float32 products
  count half: they take half the time);
* ``"gui"`` (the app's training workers): one core stays for the GUI thread, and a thread
  needs :data:`GUI_FLOPS_PER_THREAD` (large nets only), so drawing never fights training.

:func:`limited` applies a count with threadpoolctl around a training loop and restores the
previous one afterwards; nothing is changed at import.  A count is never raised above what
the libraries were started with (``OPENBLAS_NUM_THREADS`` and the like still cap it).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterable, Iterator

#: callers: who runs the training loop
CALLERS = ("cli", "gui")
#: float64 operations of the largest product per thread (command line): mnist5's 784 x 128
#: layer at batch 128 (26 MFLOP, 13 in float32) gets 2, a 64-wide net (0.5 MFLOP) one
CLI_FLOPS_PER_THREAD = 4e6
#: the same for the app's workers: a core is shared with the GUI thread, so only large nets
GUI_FLOPS_PER_THREAD = 64e6
#: seconds the CPU is watched to see how many cores other processes keep busy
BUSY_SAMPLE = 0.05


def cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def largest_product(sessions: Iterable) -> float:
    """Float64 FLOPs of the largest matrix product (2 B n_in n_out) in a step of any session.

    A float32 product counts half: it takes about half the time, so the threads' meetings
    weigh twice as much against it.
    """
    return max(
        (
            2.0 * s.batch_size * spec.n_in * spec.n_out * s.net.dtype.itemsize / 8
            for s in sessions
            for spec in s.net.specs
        ),
        default=0.0,
    )


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs since boot, or None where /proc/stat is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields[:8])


def busy_cores(sample: float = BUSY_SAMPLE) -> float:
    """Cores kept busy by other processes right now (this one sleeps while it looks).

    Linux: the share of non-idle CPU time over ``sample`` seconds; elsewhere the 1-minute
    load average, which lags a newly started process by a minute; 0 when neither is known.
    """
    t0 = _cpu_times()
    if t0 is not None:
        time.sleep(sample)
        t1 = _cpu_times()
        if t1 is not None and t1[1] > t0[1]:
            return cores() * (1.0 - (t1[0] - t0[0]) / (t1[1] - t0[1]))
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def choose(flops: float, caller: str, n_cores: int, busy: float, cap: int | None = None) -> int:
    """BLAS threads for a run whose largest product is ``flops`` (pure: no measuring).

    ``busy``: cores other processes keep busy (rounded: a process using 40% of a core
    leaves room); ``cap``: the libraries' current maximum.
    """
    if caller not in CALLERS:
        raise ValueError(f"caller: expected one of {', '.join(CALLERS)}, got {caller!r}")
    free = n_cores - round(busy) - (1 if caller == "gui" else 0)
    per_thread = GUI_FLOPS_PER_THREAD if caller == "gui" else CLI_FLOPS_PER_THREAD
    n = min(free, int(flops // per_thread))
    if cap is not None:
        n = min(n, cap)
    return max(1, n)


def threads_for(sessions: Iterable, caller: str) -> int:
    """BLAS threads for training ``sessions`` (stepped one after another) from ``caller``."""
    flops = largest_product(list(sessions))
    n_cores = cores()
    if choose(flops, caller, n_cores, 0.0) == 1:
        return 1  # small products: one thread whatever the load, no need to look
    return choose(flops, caller, n_cores, busy_cores(), _current_max())


@functools.cache
def _controller():
    """threadpoolctl's view of the BLAS libraries, once SciPy's OpenBLAS is loaded.

    Numba loads SciPy's OpenBLAS only at the first product, and threadpoolctl sees only the
    libraries loaded when it looks: without this import a limit would miss the very library
    the kernels use.
    """
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _current_max() -> int | None:
    """The fewest threads any loaded BLAS library is set to now (None: no library found)."""
    counts = [lib.num_threads for lib in _controller().select(user_api="blas").lib_controllers]
    return min(counts) if counts else None


def current() -> list[int]:
    """Thread counts of the loaded BLAS libraries now (for tests and diagnostics)."""
    return [lib.num_threads for lib in _controller().select(user_api="blas").lib_controllers]


@contextlib.contextmanager
def limited(n_threads: int) -> Iterator[int]:
    """Run the block with every BLAS library on ``n_threads``; the old counts come back after."""
    with _controller().limit(limits=n_threads, user_api="blas"):
        yield n_threads
