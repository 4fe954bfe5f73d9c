"""Tick labels of a short horizontal axis never run into each other (issue 13: a narrow
heatmap read "50100150"), and at least one stays."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetricsF

from gui import theme

theme.configure_pyqtgraph(light=True)


@pytest.mark.parametrize(
    ("lo", "hi", "size"),
    [
        (0.5, 160.5, 80),
        (0, 2205, 75),
        (0, 2205, 150),
        (-25, 325, 150),
        (1, 50, 120),
        (0, 1, 200),
        (0, 100_000, 300),
        (0.5, 46.5, 60),
    ],
)
def test_bottom_axis_labels_fit(qtbot, lo, hi, size):
    axis = theme.Axis("bottom")
    fm = QFontMetricsF(axis.style["tickFont"] or axis.font())
    levels = axis.tickValues(lo, hi, size)
    spacing, values = levels[0]
    values = [v for v in values if lo <= v <= hi]
    assert values, "no labelled tick at all"
    labels = axis.tickStrings(values, 1.0, spacing)
    # each label gets the room between its neighbours: px per step on the axis
    px_per_step = size * spacing / (hi - lo)
    widest = max(fm.horizontalAdvance(t) for t in labels)
    assert widest + 4 <= px_per_step or len(values) == 1, (labels, px_per_step)


def test_heatmap_colour_bar_shows_log10_values_without_an_si_prefix(qtbot):
    """Gradients of one order (log10 between -0.6 and -0.1) once read "-100..-600 (x0.001)"."""
    import numpy as np

    from gui.panels.heatmap import LayerHeatmap

    heat = LayerHeatmap()
    qtbot.addWidget(heat)
    steps = np.arange(1, 21)
    grads = 10.0 ** np.linspace(-0.6, -0.1, 20 * 4).reshape(20, 4)
    heat.set_data(steps, grads, ("hidden 1", "hidden 2", "hidden 3", "output"))
    axis = heat.bar.getAxis("right")
    assert axis.autoSIPrefixScale == 1.0
    lo, hi = heat.levels
    assert -0.7 <= lo < hi <= 0.0
