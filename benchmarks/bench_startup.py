"""First launch of the app: seconds to the first drawn frame and to compiled kernels.

Starts the main window (offscreen) in a fresh process, with a Numba cache directory that is
empty ("cold", the very first launch) or filled by the cold run before it ("warm"), presses
Play as soon as the first frame is drawn, and prints, measured from the moment the process
was started:

  * first frame   -- the window has drawn the network and the plots of step 0;
  * compiled      -- the session steps on the compiled kernels (the frames say so);
  * steps         -- steps trained by then (on the NumPy path while the kernels compiled);
  * GUI stall     -- once the event loop runs, the longest the GUI thread did not run a
                     20 ms timer (a frozen window), until the kernels are in;
  * cached        -- the compile process has cached every kernel of the dtype (the window
                     stays open until then), so the next launch loads them in-process.

Then the seconds a cold process takes to compile every kernel of both dtypes
(``python -m engine.precompile``), which is what the first launch waits for in the
background.

    python benchmarks/bench_startup.py [--no-compile-all] [--timeout 300]

Run it on an otherwise quiet machine: a cold compile is CPU-bound.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The child: the app's window as gui.app.main opens it, instrumented from outside.
_CHILD = r"""
import sys, time
T0 = float(sys.argv[1])
sys.setswitchinterval(0.001)  # as gui.app.main
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui import theme
theme.configure_pyqtgraph(light=True)
from gui.main_window import MainWindow
w = MainWindow()
w.show()
marks = {"first": None, "compiled": None, "steps": 0, "line": None}
from engine import precompile
stall = [0.0, None, 0.0]  # longest stall, last tick, when the longest one ended
draw = w.pacer.draw

def drawn(frame):
    draw(frame)
    now = time.time() - T0
    if marks["first"] is None:
        marks["first"] = now
        w.controller.play()
    if marks["compiled"] is None and getattr(frame.snapshot, "backend", "numba") == "numba":
        marks["compiled"], marks["steps"] = now, frame.snapshot.step

w.pacer.draw = drawn

def tick():  # stalls counted from the first tick on (not the window's own start-up)
    now = time.perf_counter()
    if stall[1] is not None and now - stall[1] > stall[0]:
        stall[0], stall[2] = now - stall[1], time.time() - T0
    stall[1] = now
    if marks["compiled"] is not None and marks["line"] is None:  # stalls: until compiled
        m = marks
        m["line"] = f"{m['first']:.3f} {m['compiled']:.3f} {m['steps']} "
        m["line"] += f"{stall[0]:.3f} {stall[2]:.3f}"
    if marks["line"] is not None and precompile.cached(("float64", True, True)):
        # a user who keeps the window open until the compile process has cached everything:
        # the next launch loads in-process ("warm")
        print(marks["line"], f"{time.time() - T0:.3f}")
        w.close()
        app.quit()

timer = QTimer()
timer.timeout.connect(tick)
timer.start(20)
app.exec()
import os
os._exit(0)
"""


def launch(cache: str, timeout: float) -> tuple[float, float, int, float, float, float]:
    """(first frame, compiled, steps by then, longest GUI stall, when it ended, every
    kernel cached) of a launch."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, QT_QPA_PLATFORM="offscreen")
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, repr(t0)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise SystemExit(f"the app did not start:\n{out.stderr[-2000:]}")
    first, compiled, steps, stall, at, cached = lines[-1].split()
    return float(first), float(compiled), int(steps), float(stall), float(at), float(cached)


def compile_all(cache: str, timeout: float) -> list[tuple[str, float]]:
    """(stage, seconds since start) as a cold process compiles every kernel of both dtypes."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.precompile", "--all"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    stages = [(line.strip(), time.perf_counter() - t0) for line in proc.stdout]
    proc.wait(timeout)
    if proc.returncode != 0:
        raise SystemExit(f"engine.precompile --all failed with exit code {proc.returncode}")
    return [(stage, t) for stage, t in stages if stage.startswith("ready")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-compile-all", action="store_true", help="skip the compile-all run")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per launch")
    args = ap.parse_args(argv)
    print(
        f"{'launch':<7}{'first frame':>13}{'compiled':>10}{'steps':>7}{'GUI stall':>11}{'at':>8}"
        f"{'cached':>9}"
    )
    with tempfile.TemporaryDirectory(prefix="vglab-numba-") as cache:
        for label in ("cold", "warm"):
            first, compiled, steps, stall, at, cached = launch(cache, args.timeout)
            print(
                f"{label:<7}{first:>12.1f}s{compiled:>9.1f}s{steps:>7}{1000 * stall:>9.0f}ms"
                f"{at:>7.1f}s{cached:>8.1f}s"
            )
    if not args.no_compile_all:
        print("cold compile of every kernel (python -m engine.precompile --all), seconds:")
        with tempfile.TemporaryDirectory(prefix="vglab-numba-") as cache:
            for stage, seconds in compile_all(cache, 900):
                print(f"  {stage:<30}{seconds:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
