"""Exported figures fill their image: no plot drawn in one corner of a white page, no tall
strip from a panel hidden behind a tab."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import TIMEOUT, open_window, tiny
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from test_compare import advance_until_drawn, open_compare
from test_export import synthetic

from gui import theme
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
    return open_compare(qtbot)


def test_compare_window_exports_fill_the_image(compare, qtbot, tmp_path):
    w = compare
    w.theory_box.setChecked(True)
    advance_until_drawn(qtbot, w, 8)
    pngs = [p for p in w.export_all(tmp_path) if p.suffix == ".png"]
    assert len(pngs) == 7  # gradient_norms(_theory), loss, accuracy, 3 heatmaps
    for path in pngs:
        assert_filled(path)


def grey_pixels(path) -> np.ndarray:
    """Mask of the dark grey pixels (the selected layer's dashed outline) of a PNG."""
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    px = np.frombuffer(img.constBits(), np.uint32, count=w * h).reshape(h, w)
    r, g, b = (((px >> s) & 0xFF).astype(int) for s in (16, 8, 0))
    return (abs(r - g) < 12) & (abs(g - b) < 12) & (r > 40) & (r < 150)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_main_window_exports_have_a_sane_shape_and_fill_it(qtbot, tmp_path, size):
    w = open_window(qtbot, tiny(), size)
    w.act_step.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.snapshot.step == 1, timeout=TIMEOUT)
    canvas = w.diagram.canvas
    lay = canvas.layout_geometry()
    x, y = int(lay.xs[-1]), int(lay.ys[-1][0])  # the output layer: the last column
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert canvas.selected == len(lay.xs) - 2
    pngs = [p for p in w.export_plots(tmp_path) if p.suffix == ".png"]
    assert len(pngs) == len(w.plot_panels()) + 1
    for path in pngs:
        width, height, fw, fh = content_box(path)
        assert 0.4 <= height / width <= 1.0, f"{path.name} is {width} x {height}"
        if path.stem != "network":  # the diagram is centred: its columns are at most so far apart
            assert fw > 0.9, f"{path.name}: content spans {fw:.0%} of the width"
            assert fh > 0.85, f"{path.name}: content spans {fh:.0%} of the height"
    # the selected output layer's dashed box is closed on the right, inside the image
    grey = grey_pixels(tmp_path / "network.png")
    scale = grey.shape[1] / canvas.width()
    right = grey[:, int((lay.xs[-1] + lay.radius + 2) * scale) :]
    assert right.sum(axis=0).max() > 0.3 * grey.shape[0], "the box's right edge is cut off"
