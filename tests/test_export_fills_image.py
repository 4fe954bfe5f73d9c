"""Exported figures fill their image: no plot drawn in one corner of a white page, no tall
strip from a panel hidden behind a tab."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from test_compare import ACTS, TIMEOUT, spiral
from test_export import synthetic

from gui import theme
from gui.compare_window import CompareWindow
from gui.figures import build_figures, save_figures

theme.configure_pyqtgraph(light=True)


def content_box(path) -> tuple[int, int, float, float]:
    """(width, height, fraction of the width, fraction of the height) the non-white pixels
    of the PNG ``path`` span."""
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    assert not img.isNull(), path
    w, h = img.width(), img.height()
    px = np.frombuffer(img.constBits(), np.uint32, count=w * h).reshape(h, w) & 0xFFFFFF
    ys, xs = np.nonzero(px != 0xFFFFFF)
    assert len(xs), f"{path} is blank"
    return w, h, (xs.max() - xs.min() + 1) / w, (ys.max() - ys.min() + 1) / h


def assert_filled(path, fraction: float = 0.9) -> None:
    _, _, fw, fh = content_box(path)
    assert fw > fraction, f"{path.name}: content spans {fw:.0%} of the width"
    assert fh > fraction, f"{path.name}: content spans {fh:.0%} of the height"


def test_headless_figures_fill_the_image(qtbot, tmp_path):
    figs = build_figures({"a": synthetic("a", 4), "b": synthetic("b", 6)}, size=(1000, 600))
    for w in figs.values():
        qtbot.addWidget(w)
    for path in save_figures(figs, tmp_path, formats=("png",)):
        assert_filled(path)


@pytest.fixture
def compare(qtbot):
    w = CompareWindow(spiral(), ACTS)
    qtbot.addWidget(w)
    w.resize(1300, 900)
    w.show()
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    return w


def test_compare_window_exports_fill_the_image(compare, qtbot, tmp_path):
    w = compare
    w.theory_box.setChecked(True)
    w.controller.advance(8)
    qtbot.waitUntil(
        lambda: (
            (f := w.controller.latest).step == 8 and not f.running and w.drawn_serial == f.serial
        ),
        timeout=TIMEOUT,
    )
    pngs = [p for p in w.export_all(tmp_path) if p.suffix == ".png"]
    assert len(pngs) == 7  # gradient_norms(_theory), loss, accuracy, 3 heatmaps
    for path in pngs:
        assert_filled(path)
