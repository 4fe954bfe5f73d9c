"""Every legend sample shows its line's colours: after a rebuild, and on the first frame of
a comparison (not the previous run's, nor pyqtgraph's default grey, until a resize).  The
first frame's heatmaps show the layers and no negative steps."""

from __future__ import annotations

import numpy as np
from gui_helpers import TIMEOUT
from PySide6.QtGui import QImage, QPainter
from test_compare import open_compare

from gui import theme
from gui.panels.gradient_chart import GradientChart

theme.configure_pyqtgraph(light=True)
LABELS = ["h1", "h2", "h3", "out"]


def sample_colours(sample) -> tuple[int, int]:
    """(line colour, symbol colour) a legend sample paints, as 0xRRGGBB."""

    img = QImage(20, 20, QImage.Format.Format_RGB32)
    img.fill(0xFFFFFF)
    painter = QPainter(img)
    sample.paint(painter)
    painter.end()
    return img.pixel(1, 11) & 0xFFFFFF, img.pixel(10, 10) & 0xFFFFFF


def assert_legend_matches_curves(chart) -> None:
    entries = chart.legend.items
    assert len(entries) >= 2
    for sample, label in entries:
        want = sample.item.opts["pen"].color().rgb() & 0xFFFFFF
        line, symbol = sample_colours(sample)
        assert line == want, (label.text, hex(line), hex(want))
        if sample.item.opts["symbol"] is not None:
            assert symbol == want, (label.text, hex(symbol), hex(want))


def test_a_chart_reset_and_refilled_before_any_data_has_the_new_colours(qtbot):
    chart = GradientChart()
    qtbot.addWidget(chart)
    values = 0.5 ** np.arange(4.0)
    chart.set_data({"a": values, "b": values / 3}, LABELS)
    chart.reset()
    # a new network before its first step: lines with no values yet
    chart.set_data({"a": np.zeros(0), "b": np.zeros(0)}, LABELS)
    assert_legend_matches_curves(chart)


def test_the_compare_legend_has_the_curves_colours_from_the_first_frame(qtbot):
    w = open_compare(qtbot)
    assert_legend_matches_curves(w.gradient_chart)
    for heat in w.heatmaps.values():  # before the first step
        (x0, x1), (y0, y1) = heat.plot.getPlotItem().viewRange()
        assert 0.0 <= x0 < x1, (x0, x1)
        assert (y0, y1) == (-0.5, 5.5)  # 5 hidden layers and the output
    w.controller.step()
    qtbot.waitUntil(
        lambda: (f := w.controller.latest).step == 1 and w.drawn_serial == f.serial,
        timeout=TIMEOUT,
    )
    assert_legend_matches_curves(w.gradient_chart)
