"""The phase-diagram panel (issue 10): its numbers against independent oracles, and what a
user does with it (open it, read the marker, hover, click to set the init)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from gui_helpers import TIMEOUT, open_window, tiny
from numpy.polynomial.hermite_e import hermegauss
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt

from engine import meanfield as mf
from engine import phase_view as pv
from engine.activations import get as get_activation
from engine.config import updated, validate
from engine.config.types import LayerConfig, ModelConfig
from engine.meanfield_net import model_points
from gui import theme

theme.configure_pyqtgraph(light=True)
WIDTHS = (2, 64, 64, 64, 64, 3)  # n_in, four hidden layers, n_out
MAP_TIMEOUT = 60_000  # ms: a map takes 0.1-2 s, longer on a busy machine


# --- independent oracle: plain Gauss-Hermite (smooth activations converge spectrally) --------
@functools.cache
def _nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    return hermegauss(n)  # an eigenproblem: once, not at every step of the oracle's iteration


def gh_mean(g, q: float, n: int = 160) -> float:
    """E[g(sqrt(q) z)], z ~ N(0, 1), by probabilists' Gauss-Hermite with ``n`` nodes."""
    z, w = _nodes(n)
    return float(np.sum(w * g(math.sqrt(q) * z)) / math.sqrt(2 * math.pi))


def oracle_chi_1(activation: str, sw2: float, sb2: float) -> float:
    """chi_1 at q*, q* by plain iteration of the length map from q = 1."""
    act = get_activation(activation)
    q = 1.0
    for _ in range(5000):
        q_next = sw2 * gh_mean(lambda u: act.f(u, 0.0) ** 2, q) + sb2
        if abs(q_next - q) < 1e-14:
            break
        q = q_next
    return sw2 * gh_mean(lambda u: act.df(u, 0.0) ** 2, q)


# --- engine: the view model ----------------------------------------------------------------
@pytest.mark.parametrize(
    "init", ["he_normal", "xavier_normal", "lecun_normal", "fan_in_normal", "orthogonal"]
)
def test_the_marker_is_the_mean_field_point_of_the_init(init):
    model = ModelConfig(activation="tanh", init=init, sigma_w2=1.7, sigma_b2=0.05)
    spec = pv.phase_spec(model, WIDTHS, ["tanh"] * 4)
    sw2, sb2, why = model_points(model, WIDTHS)
    assert why == ""
    assert spec.reason == ""
    assert spec.marker == pytest.approx((sw2[1], sb2))
    assert all(p == pytest.approx(sw2[1]) for p in sw2[1:-1])  # one point for the whole net


def test_the_references_are_he_and_xavier_lecun_where_they_differ_from_the_init():
    spec = pv.phase_spec(ModelConfig(activation="tanh", init="he_normal"), WIDTHS, ["tanh"] * 4)
    xavier = model_points(ModelConfig(init="xavier_normal"), WIDTHS)[0][1]
    assert spec.references == (("Xavier / LeCun", pytest.approx(xavier), 0.0),)
    spec = pv.phase_spec(ModelConfig(activation="tanh", init="normal"), WIDTHS, ["tanh"] * 4)
    he = model_points(ModelConfig(init="he_normal"), WIDTHS)[0][1]
    assert [r[0] for r in spec.references] == ["He", "Xavier / LeCun"]
    assert spec.references[0][1] == pytest.approx(he)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"batch_norm": "pre"}, "batch norm"),
        ({"residual": True}, "residual"),
        ({"bias_init": 0.5}, "constant bias"),
        ({"dropout": 0.2}, "dropout"),
        ({"hidden": (LayerConfig(64, "tanh"), LayerConfig(64, "relu"))}, "mix activations"),
        (
            {
                "hidden": (
                    LayerConfig(32, "tanh"),
                    LayerConfig(128, "tanh"),
                    LayerConfig(32, "tanh"),
                )
            },
            "own \u03c3w\u00b2",
        ),
    ],
)
def test_a_net_outside_the_maps_gets_a_reason_and_no_marker(changes, words):
    model = ModelConfig(activation="tanh", init="xavier_normal", **changes)
    layers = model.layers()
    widths = (2, *(la.width for la in layers), 3)
    spec = pv.phase_spec(model, widths, [la.activation for la in layers])
    assert spec.marker is None
    assert words in spec.reason


def test_the_edge_of_chaos_curve_has_chi_1_equal_to_one():
    m = pv.phase_map("tanh", 0.0)
    drawn = np.flatnonzero(np.isfinite(m.edge_w))
    assert drawn.size > 0.9 * m.edge_w.size  # tanh's edge spans the whole sigma_b^2 range
    for i in drawn[::8]:
        assert oracle_chi_1("tanh", m.edge_w[i], m.edge_b[i]) == pytest.approx(1.0, abs=2e-3)


def test_the_regions_are_named_on_their_side_of_the_edge():
    m = pv.phase_map("tanh", 0.0)
    names = {text.split(":")[0]: (x, y) for text, x, y in m.labels}
    assert set(names) == {"ordered", "chaotic"}
    assert oracle_chi_1("tanh", *names["ordered"]) < 1.0 < oracle_chi_1("tanh", *names["chaotic"])


def test_the_colour_is_xi_c_of_the_point():
    m = pv.phase_map("tanh", 0.0)
    for row, col in ((5, 5), (30, 20), (20, 50), (39, 63)):
        point = mf.mean_field("tanh", m.sigma_w2[col], m.sigma_b2[row])
        expected = math.log10(min(point.xi_c, pv.XI_CAP))
        assert m.log_xi[row, col] == pytest.approx(expected, abs=5e-3)


def test_a_click_sets_a_valid_fan_in_normal_init():
    values = pv.init_values(1.23456, 0.0789)
    assert values == {
        "model.init": "fan_in_normal",
        "model.sigma_w2": 1.235,
        "model.bias_init": 0.0,
        "model.sigma_b2": 0.079,
    }
    validate(updated(tiny(), **pv.init_values(0.0, -1.0)))  # clamped into the fields' ranges


def test_relu_beyond_the_edge_is_blank_and_named_unbounded_not_coloured_as_deep():
    """Above sigma_w^2 = 2 a ReLU net's q* is infinite: xi_c (infinite too) was drawn in the
    colour of 'trains at any depth'."""
    m = pv.phase_map("relu", 0.0)
    q_star = mf.phase_grid("relu", m.sigma_w2, m.sigma_b2).q_star
    np.testing.assert_array_equal(np.isnan(m.log_xi), ~np.isfinite(q_star))
    assert np.isnan(m.log_xi[:, m.sigma_w2 > 2.05]).all()
    assert np.isfinite(m.log_xi[:, m.sigma_w2 < 1.95]).all()
    assert any(text.startswith("unbounded") and x > 2 for text, x, _ in m.labels)


def test_every_point_of_the_sigmoid_plane_is_a_value_the_controls_take():
    """Sigmoid's plane is the widest (its edge of chaos lies far right): a click anywhere
    on it must set that sigma_w^2, not the control's maximum (it was capped at 25)."""
    m = pv.phase_map("sigmoid", 0.0)
    assert m.x_max > 25
    for x in (0.5 * m.x_max, m.x_max):
        assert pv.init_values(x, 0.1)["model.sigma_w2"] == pytest.approx(x, abs=1e-3)


# --- the panel in the main window ----------------------------------------------------------
def phase_window(qtbot, **changes):
    """A window on a 3-layer tanh net with the phase diagram in front and its map drawn."""
    cfg = tiny(**{"model.activation": "tanh", **changes})
    w = open_window(qtbot, cfg)
    w.docks["phase"].raise_()
    qtbot.waitUntil(lambda: w.phase_diagram.has_map, timeout=MAP_TIMEOUT)
    return w


def shown_marker(panel) -> tuple[float, float] | None:
    x, y = panel.marker.xData, panel.marker.yData
    return None if x is None or not len(x) else (float(x[0]), float(y[0]))


def test_the_view_menu_opens_the_phase_diagram(qtbot):
    w = open_window(qtbot, tiny(**{"model.activation": "tanh"}))
    w.docks["phase"].close()
    w.view_menu.aboutToShow.emit()
    action = next(a for a in w.view_menu.actions() if a.text().startswith("Phase diagram"))
    action.trigger()
    assert w.docks["phase"].isVisible()
    qtbot.waitUntil(lambda: w.phase_diagram.has_map, timeout=MAP_TIMEOUT)
    assert w.phase_diagram.title.startswith("Phase diagram: tanh")


@pytest.mark.parametrize("init", ["he_normal", "xavier_normal"])
def test_the_marker_sits_at_the_init_of_the_running_net(qtbot, init):
    w = phase_window(qtbot, **{"model.init": init})
    snap = w.controller.latest.snapshot
    sw2, sb2, _ = model_points(w.controller.config.model, (2, *snap.widths))
    assert shown_marker(w.phase_diagram) == pytest.approx((sw2[1], sb2))
    other = "Xavier / LeCun" if init == "he_normal" else "He"
    assert other in [t.toPlainText() for t in w.phase_diagram._texts["points"]]


def test_clicking_the_plane_sets_the_init_and_rebuilds(qtbot):
    w = phase_window(qtbot)
    panel = w.phase_diagram
    generation = w.controller.latest.generation
    target = (1.7, 0.2)
    pixel = panel.view_to_pixel(*target)
    qtbot.mouseClick(
        panel.plot.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(round(pixel.x()), round(pixel.y())),
    )
    model = w.controller.config.model
    vb = panel.plot_item.vb
    per_pixel = (panel.extent[0] / vb.width(), panel.extent[1] / vb.height())
    assert model.init == "fan_in_normal"
    assert model.bias_init == 0.0
    assert abs(model.sigma_w2 - target[0]) <= per_pixel[0] + 1e-3
    assert abs(model.sigma_b2 - target[1]) <= per_pixel[1] + 1e-3
    controls = w.controls.config().model  # the Experiment panel shows the new values
    assert (controls.init, controls.sigma_w2, controls.sigma_b2) == (
        model.init,
        model.sigma_w2,
        model.sigma_b2,
    )
    qtbot.waitUntil(lambda: w.controller.latest.generation > generation, timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: shown_marker(panel) == pytest.approx((model.sigma_w2, model.sigma_b2)),
        timeout=MAP_TIMEOUT,
    )
    box = w.controls.model_init  # undo: the old init again, from the Experiment panel
    box.setCurrentIndex(box.findData("xavier_normal"))
    qtbot.waitUntil(lambda: w.controller.config.model.init == "xavier_normal", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: shown_marker(panel) == pytest.approx((1.0, 0.2)), timeout=TIMEOUT)


def test_a_new_activation_redraws_the_diagram_for_it(qtbot):
    w = phase_window(qtbot)
    box = w.controls.model_activation
    box.setCurrentIndex(box.findData("relu"))
    qtbot.waitUntil(
        lambda: w.phase_diagram.title.startswith("Phase diagram: relu"), timeout=MAP_TIMEOUT
    )
    m = w.phase_diagram._drawn
    assert m.activation == "relu"
    assert np.nanmax(np.abs(m.edge_w - 2.0)) < 1e-6  # ReLU's edge: sigma_w^2 = 2 at any sigma_b^2


def test_hovering_shows_the_numbers_at_the_cursor(qtbot):
    w = phase_window(qtbot)
    panel = w.phase_diagram
    pixel = panel.view_to_pixel(1.5, 0.1)
    qtbot.mouseMove(panel.plot.viewport(), QPoint(round(pixel.x()), round(pixel.y())))
    qtbot.waitUntil(lambda: "\u03c7\u2081" in panel.hover_text, timeout=TIMEOUT)
    lines = panel.hover_text.splitlines()
    sw2, sb2 = (float(v.split()[1]) for v in lines[0].split(", "))  # shown to 3 decimals
    assert (sw2, sb2) == pytest.approx((1.5, 0.1), abs=0.02)  # the cursor, within a pixel
    point = mf.mean_field("tanh", sw2, sb2)
    assert float(lines[1].split()[1]) == pytest.approx(point.chi_1, rel=3e-3)
    assert float(lines[2].split()[1]) == pytest.approx(point.xi_c, rel=3e-2)
    assert float(lines[3].split()[1]) == pytest.approx(point.q_star, rel=3e-3)
    assert lines[4] == point.phase


def test_a_residual_net_says_why_it_has_no_marker(qtbot):
    w = phase_window(qtbot, **{"model.residual": True})
    assert shown_marker(w.phase_diagram) is None
    assert "residual connections" in w.phase_diagram.note


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768), (1920, 1080)])
def test_the_raised_phase_diagram_fits_its_dock(qtbot, size):
    """In front of its tab at the three common sizes: the plane, the colour bar, the axis
    labels and the title are inside the panel (what the screenshots show)."""
    w = open_window(qtbot, tiny(**{"model.activation": "tanh"}), size)
    w.docks["phase"].raise_()
    panel = w.phase_diagram
    qtbot.waitUntil(lambda: panel.has_map, timeout=MAP_TIMEOUT)
    view, item = panel.plot, panel.plot_item
    assert view.width() >= 180
    assert view.height() >= 170
    inside = view.rect().adjusted(-1, -1, 1, 1)
    for part in (item.vb, panel.bar, item.getAxis("left"), item.getAxis("bottom")):
        rect = part.mapRectToScene(part.boundingRect()).toRect()
        assert inside.contains(rect), (part, rect, view.rect())
    assert item.getAxis("bottom").labelText == "\u03c3w\u00b2"
    assert item.getAxis("left").labelText == "\u03c3b\u00b2"
    assert len(panel.edge.xData) > 0


def test_an_init_beyond_the_plotted_range_is_named(qtbot):
    from gui.panels.phase_diagram import PhaseDiagram
    from gui.phase_link import PhaseLink

    panel = PhaseDiagram()
    qtbot.addWidget(panel)
    link = PhaseLink(panel)
    model = ModelConfig(activation="tanh", init="fan_in_normal", sigma_w2=12.0)
    link.show(pv.phase_spec(model, (2, 8, 8, 8, 3), ["tanh"] * 3))  # tanh's plane: 0..5
    qtbot.waitUntil(lambda: panel.has_map, timeout=MAP_TIMEOUT)
    assert "\u03c3w\u00b2 = 12 is right of the plot" in panel.note


@pytest.mark.parametrize(
    ("activation", "init"),
    [
        ("sigmoid", "xavier_normal"),  # He's circle a hair from the star (a 0..200 plane)
        ("sigmoid", "he_normal"),
        ("tanh", "xavier_normal"),
        ("tanh", "he_normal"),
        ("relu", "he_normal"),  # "Xavier / LeCun" ran into "this net"
        ("relu", "xavier_normal"),
    ],
)
def test_the_reference_labels_cover_neither_the_star_nor_its_label(qtbot, activation, init):
    from gui.panels.phase_diagram import PhaseDiagram
    from gui.phase_link import PhaseLink

    panel = PhaseDiagram()
    qtbot.addWidget(panel)
    panel.resize(460, 380)  # the dock's size on a 1280x720 screen
    panel.show()
    link = PhaseLink(panel)
    model = ModelConfig(activation=activation, init=init)
    link.show(pv.phase_spec(model, (2, 8, 8, 8, 3), [activation] * 3))
    qtbot.waitUntil(lambda: panel.has_map, timeout=MAP_TIMEOUT)
    panel.grab()  # painted: the labels' transforms are the screen's
    vb = panel.plot_item.vb
    centre = vb.mapViewToScene(QPointF(*shown_marker(panel)))
    size = panel.marker.opts["symbolSize"]  # pixels
    star = QRectF(centre.x() - size / 2, centre.y() - size / 2, size, size)
    rects = {t.toPlainText(): t.sceneBoundingRect() for t in panel._texts["points"]}
    assert len(rects) == 1 + len(link.spec.references)
    mine = rects.pop("this net")
    assert not mine.intersects(star)
    for text, rect in rects.items():
        assert not rect.intersects(star), (text, rect, star)
        assert not rect.intersects(mine), (text, rect, mine)
        assert vb.sceneBoundingRect().contains(rect), (text, rect)


def test_the_hover_box_hides_when_the_mouse_leaves_the_plot(qtbot):
    w = phase_window(qtbot)
    panel = w.phase_diagram
    pixel = panel.view_to_pixel(1.2, 0.3)  # not where another test left the cursor: no move
    qtbot.mouseMove(panel.plot.viewport(), QPoint(round(pixel.x()), round(pixel.y())))
    qtbot.waitUntil(lambda: bool(panel.hover_text), timeout=TIMEOUT)
    qtbot.mouseMove(w.controls, QPoint(10, 10))  # out of the plot, onto another panel
    qtbot.waitUntil(lambda: not panel.hover_text, timeout=2_000)
    qtbot.wait(300)  # a move held back by the rate limit, an answer computed late
    assert not panel.hover_text
