"""Render the README screenshots of the main window into ``docs/screenshots/``.

Offscreen and deterministic (fixed seeds, whole epochs rather than wall-clock time):

  main_window.png   the default deep sigmoid net after two epochs: gradients vanish
  step_through.png  mid backward pass, phase by phase, hidden 5 being computed
  relu_he.png       the same depth with ReLU + He initialisation: the gradient survives
  spiral.png        a 2-D spiral with its decision boundary
  divergence.png    a run that blew up, and the banner that explains it

    python tools/screenshots.py [--out docs/screenshots] [--size 1600x1000]
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
from gui.controller import default_config  # noqa: E402

TIMEOUT = 120.0  # s: a cold Numba cache compiles for ~20 s


class Shooter:
    """Drives one main window through states and saves what it shows."""

    def __init__(self, out: Path, size: tuple[int, int]):
        from PySide6.QtWidgets import QApplication

        from gui import theme

        self.app = QApplication.instance() or QApplication(["screenshots"])
        theme.configure_pyqtgraph(light=True)
        self.out = out
        self.size = size
        self.window = None

    def __repr__(self) -> str:
        return f"Shooter({self.out})"

    def wait(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.app.processEvents()
            time.sleep(0.005)

    def wait_until(self, cond, what: str) -> None:
        end = time.perf_counter() + TIMEOUT
        while not cond():
            if time.perf_counter() > end:
                raise TimeoutError(f"screenshots: timed out waiting for {what}")
            self.app.processEvents()
            time.sleep(0.005)

    def open(self, config):
        from gui import teaching
        from gui.main_window import MainWindow

        if self.window is not None:
            self.window.close()
        w = MainWindow(config=config)
        teaching.install(w)  # as gui.app.main does: the Lessons menu and the lesson dock
        w.resize(*self.size)
        w.show()
        self.window = w
        self.wait_until(lambda: w.frames_drawn > 0, "the first frame")
        return w

    def settle(self) -> None:
        """Wait until the newest frame is on screen, then let the plots repaint."""
        w = self.window
        self.wait_until(lambda: not w.controller.running, "the run to stop")
        self.wait(0.3)
        self.wait_until(lambda: w.drawn_serial == w.controller.latest.serial, "the last frame")
        self.wait(0.3)

    def epochs(self, n: int) -> None:
        for _ in range(n):
            self.window.controller.run_epoch()
            self.wait(0.05)
            self.settle()

    def save(self, name: str) -> Path:
        path = self.out / name
        if not self.window.grab().save(str(path)):
            raise OSError(f"{path}: could not write the screenshot")
        print(f"wrote {path}")
        return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--size", default="1600x1000", help="window size, WxH")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    s = Shooter(args.out, (width, height))
    try:
        shoot(s)
    finally:
        if s.window is not None:
            s.window.close()  # stops the worker thread
    return 0


def shoot(s: Shooter) -> None:
    """Every screenshot, in order."""
    base = default_config()

    w = s.open(base)
    s.epochs(2)
    s.save("main_window.png")

    L, k = base.model.depth, 4
    w.select_layer(k)
    for _ in range((L + 1) + 1 + (L - k + 1)):  # forward 0..L, loss, backward L..k
        w.controller.step_phase()
    s.wait_until(
        lambda: (
            w.controller.latest.snapshot.phase == "backward"
            and w.controller.latest.snapshot.phase_layer == 4
        ),
        "backward hidden 5",
    )
    s.settle()
    s.save("step_through.png")

    s.open(
        updated(
            base,
            **{
                "name": "deep-relu-he",
                "model.activation": "relu",
                "model.init": "he_normal",
                "training.learning_rate": 0.05,
                "description": "The same 10 layers with ReLU and He "
                "initialisation: the gradient reaches the first "
                "layer at the same scale.",
            },
        )
    )
    s.epochs(2)
    s.save("relu_he.png")

    w = s.open(
        updated(
            base,
            **{
                "name": "spiral",
                "data.name": "spiral",
                "data.noise": 0.02,
                "model.depth": 4,
                "model.width": 32,
                "model.activation": "relu",
                "model.init": "he_normal",
                "training.optimizer": "adam",
                "training.learning_rate": 0.01,
                "description": "Four ReLU layers learning a 3-arm spiral.",
            },
        )
    )
    w.docks["boundary"].raise_()
    s.epochs(80)
    s.save("spiral.png")

    w = s.open(
        updated(
            base,
            **{
                "name": "exploding",
                "model.activation": "relu",
                "model.init": "he_normal",
                "model.loss": "mse",
                "data.name": "surface",
                "training.learning_rate": 5.0,
                "description": "Too large a learning rate.",
            },
        )
    )
    w.controller.play()
    s.wait_until(lambda: w.banner.isVisible() and w.banner.kind == "error", "the divergence")
    s.settle()
    s.save("divergence.png")


if __name__ == "__main__":
    sys.exit(main())
