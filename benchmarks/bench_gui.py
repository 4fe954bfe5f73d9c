"""Responsiveness of the desktop app while it trains: UI frames/s and training steps/s.

Offscreen, a 20-layer net plays for a few seconds in the real main window.  Prints

  * UI frames/s     -- panel redraws per second (the window's timer-driven redraw counter)
  * app steps/s     -- training steps per second inside the app (worker thread)
  * headless steps/s -- ``Session.run`` on the same config, no GUI
  * the ratio app / headless, and the GUI thread's time per redraw

Targets: >= 30 frames/s and >= 50 % of headless steps/s.

    python benchmarks/bench_gui.py [--seconds 5] [--depth 20] [--width 32]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import updated  # noqa: E402
from engine.session import Session  # noqa: E402
from gui.controller import default_config  # noqa: E402

TARGET_FPS = 30.0
TARGET_RATIO = 0.5


def headless_rate(cfg, seconds: float) -> float:
    """Steps/s of ``Session.run`` (best of three windows, after a warm-up)."""
    s = Session(cfg)
    s.run(50)
    best = 0.0
    for _ in range(3):
        t0, n0 = time.perf_counter(), s.step_count
        while time.perf_counter() - t0 < seconds / 3:
            s.run(100)
        best = max(best, (s.step_count - n0) / (time.perf_counter() - t0))
    return best


def app_rates(cfg, seconds: float) -> dict[str, float]:
    """Play ``cfg`` in the main window for ``seconds``; frames/s, steps/s, ms per redraw."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from gui import theme
    from gui.main_window import MainWindow

    if QApplication.instance() is None:
        QApplication([])
    theme.configure_pyqtgraph(light=True)
    sys.setswitchinterval(0.001)  # as gui.app.main does
    w = MainWindow(config=cfg)
    w.resize(1600, 1000)
    w.show()
    render_time = [0.0]
    original = w.pacer.draw

    def timed_render(frame):
        t = time.perf_counter()
        original(frame)
        render_time[0] += time.perf_counter() - t

    w.pacer.draw = timed_render
    loop = QEventLoop()

    def wait(ms: int) -> None:
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    while w.controller.latest is None:  # session built, kernels warm
        wait(50)
    w.controller.play()
    wait(500)  # let the rate settle
    f0, s0, r0, t0 = (
        w.frames_drawn,
        w.controller.latest.snapshot.step,
        render_time[0],
        time.perf_counter(),
    )
    p0 = dict(w.panel_draws)
    wait(int(seconds * 1000))
    elapsed = time.perf_counter() - t0
    frames = w.frames_drawn - f0
    panels = {k: (v - p0.get(k, 0)) / elapsed for k, v in w.panel_draws.items()}
    steps = w.controller.latest.snapshot.step - s0
    ms = 1000 * (render_time[0] - r0) / max(frames, 1)
    w.controller.pause()
    w.close()
    return {"fps": frames / elapsed, "steps": steps / elapsed, "ms_per_frame": ms, "panels": panels}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--width", type=int, default=32)
    args = ap.parse_args(argv)
    cfg = updated(default_config(), **{"model.depth": args.depth, "model.width": args.width})
    print(
        f"config: {cfg.data.name}, {args.depth} hidden layers x {args.width}, "
        f"{cfg.model.activation}, batch {cfg.training.batch_size}; {os.cpu_count()} CPUs"
    )
    head = headless_rate(cfg, 3.0)
    rates = app_rates(cfg, args.seconds)
    ratio = rates["steps"] / head
    print(
        f"UI frames/s        {rates['fps']:8.1f}   (target >= {TARGET_FPS:.0f})  "
        f"{'OK' if rates['fps'] >= TARGET_FPS else 'BELOW TARGET'}"
    )
    print(f"GUI ms per redraw  {rates['ms_per_frame']:8.1f}   (setData work; Qt paints after)")
    shown = ", ".join(
        f"{k} {v:.0f}" for k, v in sorted(rates["panels"].items(), key=lambda kv: -kv[1])
    )
    print(f"panel redraws/s    {shown}")
    print(f"app steps/s        {rates['steps']:8.0f}")
    print(f"headless steps/s   {head:8.0f}")
    print(
        f"ratio app/headless {ratio:8.2f}   (target >= {TARGET_RATIO:.2f})  "
        f"{'OK' if ratio >= TARGET_RATIO else 'BELOW TARGET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
