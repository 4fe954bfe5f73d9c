"""Activation gallery: curves and derivatives, max |f'| marks, the timed table, export."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage

from engine.activations import ACTIVATIONS
from gui import theme
from gui.panels.gallery import TABLE_HEADER, GalleryDialog, activation_curves, table_rows

theme.configure_pyqtgraph(light=True)
CURVES = activation_curves()


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_equals_finite_differences_of_the_function(name):
    c = CURVES[name]
    h = 1e-5
    z = c.z[np.abs(c.z) > 0.05]  # away from the kinks at 0 (ReLU, step, SELU...)
    act = ACTIVATIONS[name]
    numeric = (act.f(z + h, c.param) - act.f(z - h, c.param)) / (2 * h)
    drawn = np.interp(z, c.z, c.df)  # what the plot shows at those z
    np.testing.assert_allclose(drawn, numeric, rtol=1e-6, atol=1e-6)
    # and the plotted f is the function itself
    np.testing.assert_allclose(c.f, act.f(c.z, c.param) * np.ones_like(c.z))


def test_max_gradient_is_marked_where_it_is():
    sig = CURVES["sigmoid"]
    assert sig.max_grad == pytest.approx(0.25)
    assert sig.argmax == pytest.approx(0.0)
    assert CURVES["tanh"].argmax == pytest.approx(0.0)
    assert CURVES["gelu"].argmax == pytest.approx(1.41, abs=0.02)  # the GELU bump
    assert CURVES["relu"].max_grad == 1.0
    assert CURVES["relu"].argmax is None
    assert CURVES["softplus"].argmax is None  # approached only as z -> inf
    assert CURVES["step"].max_grad == 0.0
    assert CURVES["leaky_relu"].param == 0.01
    assert CURVES["prelu"].param == 0.25


def test_table_rows_before_and_after_timing():
    rows = table_rows(None)
    assert len(rows) == len(ACTIVATIONS)
    assert all(r[-1] == "measuring\u2026" for r in rows)
    assert [r[3] for r in rows if r[0] == "Sigmoid"] == ["0.25"]


@pytest.fixture
def dialog(qtbot):
    d = GalleryDialog()
    qtbot.addWidget(d)
    d.resize(1400, 950)
    d.show()
    return d


def test_gallery_plots_every_activation_and_times_in_the_background(dialog, qtbot):
    g = dialog.gallery
    assert list(g.panels) == list(ACTIVATIONS)
    sig = g.panels["sigmoid"]
    assert "max |f'| = 0.25" in sig.title
    np.testing.assert_allclose(sig.max_line.yData, [0.25, 0.25])
    np.testing.assert_allclose(sig.max_dot.getData()[0], [0.0], atol=1e-9)
    assert len(g.panels["relu"].max_dot.getData()[0]) == 0
    qtbot.waitUntil(lambda: dialog.timed, timeout=20_000)
    rows = g.table_text()
    assert len(rows) == len(ACTIVATIONS)
    relu = next(r for r in rows if r[0] == "ReLU")
    assert relu[-1].startswith("1.0\u00d7")  # the reference
    assert all("ns/value" in r[-1] for r in rows)
    step = next(r for r in rows if r[0].startswith("Step"))
    assert step[4] == "0 (no gradient anywhere)"


def test_export_all_writes_valid_images_and_the_table(dialog, tmp_path):
    written = dialog.gallery.export_all(tmp_path / "out")
    assert len(written) == 2 * len(ACTIVATIONS) + 1
    img = QImage(str(tmp_path / "out" / "activation_sigmoid.png"))
    assert not img.isNull()
    assert img.width() == 900
    px = img.convertToFormat(QImage.Format.Format_RGB32)
    colours = np.unique(np.frombuffer(px.constBits(), np.uint32, count=px.width() * px.height()))
    assert len(colours) > 8
    ET.parse(tmp_path / "out" / "activation_tanh.svg")
    with open(tmp_path / "out" / "activation_table.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(TABLE_HEADER)
    assert len(rows) == len(ACTIVATIONS) + 1
    one = dialog.gallery.export_curve("relu", tmp_path / "relu.svg")
    assert one.exists()
