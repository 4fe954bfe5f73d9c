"""Compare mode: lock-step variants on one data set, summaries, theory line, window, export."""

from __future__ import annotations

import csv
import math
import time
import types
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from engine_helpers import tiny, toy_dataset
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMainWindow

from engine.compare import (
    CSV_HEADER,
    DISPLAY_HEADER,
    VARIABLE_FIELDS,
    CompareSession,
    TheoryLines,
    expand_variants,
    session_lines,
    summarize,
    summary_rows,
)
from engine.config import ConfigError, ExperimentConfig, updated
from engine.session import Session
from engine.theory_lines import WIDE_LABEL
from gui import teaching, theme
from gui.compare_window import CompareWindow, smooth

theme.configure_pyqtgraph(light=True)
TIMEOUT = 20_000  # ms; a cold Numba cache compiles for ~20 s
ACTS = ["model.activation=sigmoid,tanh,relu"]


def base(**changes) -> ExperimentConfig:
    """A small deep net on the toy data (fast to step)."""
    cfg = {
        "model.depth": 6,
        "model.width": 12,
        "model.activation": "sigmoid",
        "training.batch_size": 16,
        "training.eval_every": 5,
    }
    cfg.update(changes)
    return updated(ExperimentConfig(name="toy"), **cfg)


@pytest.fixture(scope="module")
def data():
    return toy_dataset(n=200, n_features=4)


# ----------------------------------------------------------------------------- engine


def test_three_variants_step_in_lock_step_on_one_data_set(data):
    cs = CompareSession(base(), ACTS, data)
    assert cs.names == ("activation=sigmoid", "activation=tanh", "activation=relu")
    assert all(s.dataset is data for s in cs.sessions.values())  # loaded once, shared
    for _ in range(7):
        assert cs.step()
    assert cs.step_count == 7
    assert {s.step_count for s in cs.sessions.values()} == {7}
    snaps = cs.snapshots()
    # the same mini-batch for everyone: same data, same seed, same shuffle
    assert len({round(s.input_norm, 12) for s in snaps.values()}) == 1
    assert [s.activations[0] for s in snaps.values()] == ["sigmoid", "tanh", "relu"]
    # a variant is exactly the run its config would make alone
    alone = Session(cs.configs["activation=tanh"], data)
    alone.run(7)
    np.testing.assert_array_equal(
        alone.snapshot().layers["grad_norm"], snaps["activation=tanh"].layers["grad_norm"]
    )


def test_step_phase_keeps_the_variants_together_and_matches_fused_steps(data):
    fused = CompareSession(base(), ACTS, data)
    phased = CompareSession(base(), ACTS, data)
    fused.run(2)
    n_phases = 2 * (fused.depth + 1) + 2
    for _ in range(2 * n_phases):
        results = phased.step_phase()
        assert len({(r.phase, r.layer, r.index) for r in results.values()}) == 1
    assert phased.step_count == 2
    assert phased.next_phase() == ("forward", 0)
    for name in fused.names:
        np.testing.assert_array_equal(
            fused.snapshots()[name].layers["grad_norm"],
            phased.snapshots()[name].layers["grad_norm"],
        )


def test_a_diverged_variant_stops_and_the_others_go_on():
    from engine.presets import load_preset

    cs = CompareSession(
        load_preset("exploding_clipping"), {"no clip": {}, "clip 1": {"training.clip_norm": 1.0}}
    )
    assert cs.run(12) == 12
    assert list(cs.divergences) == ["no clip"]
    assert cs.sessions["no clip"].step_count == 5
    assert cs.sessions["clip 1"].step_count == 12
    summary = cs.summaries()
    assert summary["no clip"].diverged_step == 5
    assert "diverged" in summary["no clip"].status
    assert "NaN/Inf" in summary["no clip"].divergence
    assert summary["clip 1"].diverged_step is None
    assert cs.active == ("clip 1",)


def test_the_one_expansion_judges_the_keys_and_the_count(data):
    # any config field may vary (depth is a question worth comparing); short keys resolve
    assert list(expand_variants(base(), ["depth=2,3"])) == ["depth=2", "depth=3"]
    assert expand_variants(base(), {"a": {"model.width": 4}, "b": {}})["a"].model.width == 4
    with pytest.raises(
        ConfigError, match="activaton: unknown field; did you mean 'model.activation'"
    ):
        expand_variants(base(), ["activaton=relu,tanh"])
    with pytest.raises(ConfigError, match="seed: names data.seed and training.seed"):
        expand_variants(base(), ["seed=1,2"])
    with pytest.raises(ConfigError, match="model.activation: must be one of"):
        expand_variants(base(), ["model.activation=relu,nope"])
    with pytest.raises(ConfigError, match="model.depth: must be >= 1"):
        expand_variants(base(), ["model.depth=0,2"])
    with pytest.raises(ConfigError, match="each field may be varied once"):
        expand_variants(base(), ["activation=relu,tanh", "model.activation=sigmoid"])
    with pytest.raises(ConfigError, match="1 variant; a comparison needs 2 to 8"):
        expand_variants(base(), ["model.activation=relu"])
    with pytest.raises(ConfigError, match="3 x 3 = 9 combinations; a comparison runs at most 8"):
        expand_variants(
            base(),
            [
                "model.activation=relu,tanh,sigmoid",
                "model.init=he_normal,xavier_normal,lecun_normal",
            ],
        )
    assert {"model.residual", "training.clip_norm", "model.depth"} <= set(VARIABLE_FIELDS)


def _lengths(cs: CompareSession) -> dict[str, int]:
    return {n: len(s.layers["grad_norm"]) for n, s in cs.snapshots().items()}


def test_variants_of_different_depth_step_together(data):
    cs = CompareSession(base(), ["model.depth=2,5"], data)
    assert cs.depths == {"depth=2": 2, "depth=5": 5}
    assert cs.depth == 5
    assert cs.run(3) == 3
    assert cs.step()
    assert {s.step_count for s in cs.sessions.values()} == {4}
    assert _lengths(cs) == {"depth=2": 3, "depth=5": 6}
    for name, cfg in cs.configs.items():  # each variant is the run its config makes alone
        alone = Session(cfg, data)
        alone.run(4)
        np.testing.assert_array_equal(
            alone.snapshot().layers["grad_norm"], cs.snapshots()[name].layers["grad_norm"]
        )
    # a step-through: the shallow variant finishes first and waits for the deep one
    phases = [cs.step_phase() for _ in range(2 * 6 + 2)]
    assert cs.step_count == 5
    assert cs.next_phase() == ("forward", 0)
    assert sum(r["depth=2"] is not None for r in phases) == 2 * 3 + 2
    assert all(r["depth=5"] is not None for r in phases)
    assert {s.step_count for s in cs.sessions.values()} == {5}
    # half a step-through, then a whole step: the lock-step is finished, not doubled
    for _ in range(10):
        cs.step_phase()
    assert cs.step()
    assert {s.step_count for s in cs.sessions.values()} == {6}
    assert cs.run(2) == 2
    assert {s.step_count for s in cs.sessions.values()} == {8}
    rows = cs.summaries()
    assert rows["depth=2"].labels == ("hidden 1", "hidden 2", "output")
    header, table = summary_rows(rows)
    assert header[-6:] == [f"grad_norm[hidden {k}]" for k in range(1, 6)] + ["grad_norm[output]"]
    assert table[0][-4:-1] == ["", "", ""]  # depth 2 has no hidden 3..5


def test_variants_as_a_mapping_and_as_a_cartesian_product(data):
    both = expand_variants(base(), ["activation=relu,tanh", "training.optimizer=sgd,adam"])
    assert list(both) == [
        "activation=relu,optimizer=sgd",
        "activation=relu,optimizer=adam",
        "activation=tanh,optimizer=sgd",
        "activation=tanh,optimizer=adam",
    ]
    assert both["activation=tanh,optimizer=adam"].training.optimizer == "adam"
    named = expand_variants(
        base(), {"plain": {}, "skip": {"residual": True}, "bn": {"model.batch_norm": "pre"}}
    )
    assert named["skip"].model.residual
    assert named["bn"].model.batch_norm == "pre"
    assert named["plain"].model == updated(base(), **{"model.residual": False}).model


def test_summaries_and_rows(data):
    cs = CompareSession(base(**{"model.depth": 16}), ["model.batch_norm=none,pre"], data)
    cs.run(20)
    rows = cs.summaries()
    plain, bn = rows["batch_norm=none"], rows["batch_norm=pre"]
    # 16 sigmoid layers: hidden 1's gradient falls below 1e-8 at once; with batch norm never
    steps, g = cs.sessions["batch_norm=none"].history("grad_norm")
    first = int(steps[np.flatnonzero(g[:, 0] < 1e-8)[0]])
    assert plain.vanish_step == first <= 3
    assert bn.vanish_step is None
    assert "never" in bn.cells()
    assert plain.grad_ratio_initial < 1e-4 < bn.grad_ratio_initial
    assert plain.steps == bn.steps == 20
    assert math.isfinite(plain.loss)
    assert 0 <= plain.accuracy <= 1
    assert 0 <= plain.mean_saturation <= 1
    assert 0 <= plain.dead_fraction <= 1
    assert len(plain.cells()) == len(DISPLAY_HEADER)
    # the same row from the live session, from its snapshot, and through the CSV helper
    s = cs.sessions["batch_norm=pre"]
    assert summarize("batch_norm=pre", s) == bn
    assert summarize("batch_norm=pre", s.snapshot()) == bn
    header, table = summary_rows(rows)
    assert header[: len(CSV_HEADER)] == list(CSV_HEADER)
    assert len(table) == 2
    assert table[1][CSV_HEADER.index("vanish_step")] == "never"
    assert table[0][CSV_HEADER.index("vanish_step")] == 1


def test_theory_line_is_the_mean_field_at_init_anchored_at_step_1(data):
    """The compare window's theory line is the main window's (engine.theory_lines; its
    agreement with measured gradients is tests/test_theory_lines.py): anchored at step 1's
    last hidden layer, absent with a reason for batch norm."""
    assert teaching.session_lines is session_lines
    s = Session(base(**{"model.depth": 8}), data)
    assert session_lines(s) == TheoryLines({}, "")  # nothing to anchor to yet
    s.step()
    first = s.snapshot().layers["grad_norm"].copy()
    for _ in range(5):
        s.step()
    lines = session_lines(s)
    (curve,) = lines.curves.values()  # width 12: labelled as the wide-net limit
    assert list(lines.curves) == [WIDE_LABEL]
    assert curve[7] == first[7]
    assert np.isnan(curve[8])
    bn = Session(base(**{"model.batch_norm": "pre"}), data)
    bn.step()
    assert session_lines(bn).curves == {}
    assert "batch norm" in session_lines(bn).reason


def test_smooth_is_a_trailing_mean_that_keeps_gaps():
    y = np.array([1.0, 3.0, np.nan, 5.0, 7.0])
    np.testing.assert_allclose(smooth(y, 2), [1.0, 2.0, np.nan, 5.0, 6.0])


# ----------------------------------------------------------------------------- window


def data_items(panel) -> list[pg.PlotDataItem]:
    return [
        it
        for it in panel.plot.getPlotItem().listDataItems()
        if it.xData is not None and len(it.xData) > 0
    ]


def spiral(**changes) -> ExperimentConfig:
    """tiny() five layers deep: enough layers for the charts to show a slope."""
    return tiny(**{"model.depth": 5, **changes})


def open_compare(qtbot) -> CompareWindow:
    """The compare window on three activations of spiral(), shown, once it has drawn."""
    w = CompareWindow(spiral(), ACTS)
    qtbot.addWidget(w)  # closed (worker stopped) after the test
    w.resize(1300, 900)
    w.show()
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    return w


def advance_until_drawn(qtbot, w: CompareWindow, n: int) -> None:
    """Train ``n`` lock-steps and wait until the window shows the paused result."""
    w.controller.advance(n)
    qtbot.waitUntil(
        lambda: (
            (f := w.controller.latest) is not None
            and f.step == n
            and not f.running
            and w.drawn_serial == f.serial
        ),
        timeout=TIMEOUT,
    )


@pytest.fixture
def window(qtbot):
    return open_compare(qtbot)


def test_window_overlays_three_variants_after_lock_steps(window, qtbot):
    w = window
    w.theory_box.setChecked(True)
    advance_until_drawn(qtbot, w, 30)
    frame = w.controller.latest
    assert {s.step for s in frame.snapshots.values()} == {30}
    names = list(frame.names)
    assert len(names) == 3
    curves = data_items(w.gradient_chart)
    # three variants, plus the mean-field line of the sigmoid variant
    assert len([c for c in curves if c.opts["symbol"] == "o"]) == 3
    assert list(w.gradient_chart.overlays) == [f"{WIDE_LABEL}: {names[0]}"]
    assert w.gradient_chart.note == ""
    for name, c in zip(names, [c for c in curves if c.opts["symbol"] == "o"], strict=True):
        np.testing.assert_allclose(c.yData, frame.snapshots[name].layers["grad_norm"])
    assert len(data_items(w.loss_plot)) == 3
    assert list(w.heatmaps) == names
    levels = {h.levels for h in w.heatmaps.values()}
    assert len(levels) == 1  # ONE shared colour scale
    assert [r[0] for r in w.table.rows()] == names
    assert all(r[1] == "30" for r in w.table.rows())
    w.theory_box.setChecked(False)
    assert not w.gradient_chart.overlays


def test_window_step_phase_and_invalid_setup(window, qtbot):
    w = window
    w.controller.step_phase()
    qtbot.waitUntil(
        lambda: w.controller.latest.phase.startswith("forward hidden 1"), timeout=TIMEOUT
    )
    assert "phase: forward hidden 1" in w.step_label.text()
    w.rows[0].set_text("model.depht=2,3")
    assert not w.apply_button.isEnabled()
    assert "model.depht" in w.count_label.text()
    assert not w.apply()
    assert "did you mean" in w.banner.body.text()


def test_window_compares_depths_and_lists_every_comparison_preset(window, qtbot):
    w = window
    presets = [w.preset_box.itemData(i) for i in range(w.preset_box.count())]
    assert "seed002_depth_16_units" in presets  # it varies model.depth: no longer hidden
    row = w.rows[0]
    row.field.setCurrentIndex(row.field.findData("model.depth"))
    row.values.clear()
    qtbot.keyClicks(row.values, "2,4")
    assert w.vary() == ["model.depth=2,4"]
    assert w.apply_button.isEnabled(), w.count_label.text()
    qtbot.mouseClick(w.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.controller.latest.names == ("depth=2", "depth=4"), timeout=TIMEOUT)
    w.controller.step()
    qtbot.waitUntil(
        lambda: (f := w.controller.latest).step == 1 and w.drawn_serial == f.serial,
        timeout=TIMEOUT,
    )
    frame = w.controller.latest
    curves = [c for c in data_items(w.gradient_chart) if c.opts["symbol"] == "o"]
    assert sorted(len(c.yData) for c in curves) == [3, 5]  # per-variant lengths
    # lined up at the output layer: the shallow one starts two layers to the right
    assert sorted(c.xData[0] for c in curves) == [0, 2]
    for name, depth in (("depth=2", 2), ("depth=4", 4)):
        assert len(frame.snapshots[name].layer_labels) == depth + 1
        assert w.heatmaps[name].shape[1] == depth + 1
    w.theory_box.setChecked(True)  # a theory line of the shallow variant fits the chart too
    w.theory_variant.setCurrentText("depth=2")  # redraws the chart
    assert all(len(o.yData) == 5 for o in w.gradient_chart.overlays.values())


def test_export_writes_every_chart_and_the_table(window, qtbot, tmp_path):
    w = window
    w.theory_box.setChecked(True)
    advance_until_drawn(qtbot, w, 12)
    written = w.export_all(tmp_path)
    names = {p.name for p in written}
    stems = ["gradient_norms", "loss", "accuracy", "gradient_norms_theory"] + [
        f"heatmap_activation_{a}" for a in ("sigmoid", "tanh", "relu")
    ]
    for stem in stems:
        assert {f"{stem}.png", f"{stem}.svg"} <= names, stem
        img = QImage(str(tmp_path / f"{stem}.png"))
        assert not img.isNull()
        assert img.width() == 1200
        px = img.convertToFormat(QImage.Format.Format_RGB32)
        colours = np.unique(
            np.frombuffer(px.constBits(), np.uint32, count=px.width() * px.height())
        )
        assert len(colours) > 8, f"{stem}.png looks blank"
        ET.parse(tmp_path / f"{stem}.svg")  # well-formed SVG
    with open(tmp_path / "compare_summary.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][: len(CSV_HEADER)] == list(CSV_HEADER)
    assert [r[0] for r in rows[1:]] == list(w.controller.latest.names)  # one row per variant
    assert all(r[1] == "12" for r in rows[1:])


def test_compare_action_opens_on_the_main_windows_experiment(qtbot):
    from PySide6.QtWidgets import QMainWindow

    class Main(QMainWindow):
        controller = types.SimpleNamespace(config=spiral(name="from-main"))

    main = Main()
    qtbot.addWidget(main)
    teaching.install(main)
    main.teaching.actions["compare"].trigger()
    w = main.teaching.compare_window
    assert w.base.name == "from-main"
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    assert len(w.heatmaps) == 3
    main.teaching.actions["gallery"].trigger()
    assert main.teaching.gallery.isVisible()
    main.close()  # takes the compare window and its thread along
    assert not w.isVisible()
    assert not w.controller._thread.isRunning()


def test_compare_charts_share_the_main_windows_export_menu(window, qtbot, tmp_path, monkeypatch):
    w = window
    w.controller.advance(3)
    qtbot.waitUntil(lambda: w.controller.latest.step == 3, timeout=TIMEOUT)
    asked = []
    monkeypatch.setattr(w.exports, "show_menu", lambda stem, panel, pos: asked.append(stem))
    panels = [*w.plot_panels().values(), *w.heatmaps.values()]
    for panel in panels:
        panel.plot.customContextMenuRequested.emit(pg.QtCore.QPoint(5, 5))
    stems = [f"heatmap_activation_{a}" for a in ("sigmoid", "tanh", "relu")]
    assert asked == [*w.plot_panels(), *stems]
    target = tmp_path / "loss.svg"
    monkeypatch.setattr(
        "gui.export_controller.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "")
    )
    menu = w.exports.plot_menu("loss", w.loss_plot)
    next(a for a in menu.actions() if a.text() == "Export as SVG\u2026").trigger()
    assert ET.parse(target).getroot().tag.endswith("svg")
    # the folder dialog: a failure names the folder, as in the main window
    shown = []
    monkeypatch.setattr("gui.export_controller.QMessageBox.warning", lambda *a: shown.append(a))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(
        "gui.export_controller.QFileDialog.getExistingDirectory", lambda *a, **k: str(blocker)
    )
    w.act_export.trigger()
    assert len(shown) == 1
    assert str(blocker) in shown[0][2]


def test_an_epoch_after_a_half_done_step_through_ends_at_the_epoch(data):
    """The finished step-through counts as one of the steps the worker asked for."""
    from gui.compare_controller import CompareAdapter

    cs = CompareSession(base(), ["model.activation=relu,tanh"], data)
    adapter = CompareAdapter()
    for _ in range(3):
        adapter.step_phase(cs)
    assert cs.step_count == 0
    assert adapter.phase != "idle"
    spe = cs.steps_per_epoch
    adapter.run(cs, spe - cs.step_count, deadline=time.perf_counter() + 60)
    assert cs.step_count == spe


def test_the_epoch_is_the_longest_variants_whatever_their_order(data):
    a = CompareSession(base(), ["training.batch_size=16,64"], data)
    b = CompareSession(base(), ["training.batch_size=64,16"], data)
    longest = max(s.steps_per_epoch for s in a.sessions.values())
    assert longest > min(s.steps_per_epoch for s in a.sessions.values())
    assert a.steps_per_epoch == b.steps_per_epoch == longest


def test_window_opened_from_the_main_window_fits_the_screen(qtbot):
    main = QMainWindow()
    qtbot.addWidget(main)
    teaching.install(main)
    w = main.teaching.open_compare(spiral(), ACTS)
    qtbot.addWidget(w)
    # the offscreen screen (800 x 800) is smaller than the default size: maximised to it
    assert w.isMaximized()
    # and everything fits on a 1280 x 720 laptop screen
    hint = w.minimumSizeHint()
    assert hint.width() <= 1280
    assert hint.height() <= 720


def test_window_table_says_not_started_then_paused(window, qtbot):
    w = window
    qtbot.waitUntil(lambda: bool(w.table.rows()), timeout=TIMEOUT)
    assert {r[-1] for r in w.table.rows()} == {"not started"}
    advance_until_drawn(qtbot, w, 3)
    assert {r[-1] for r in w.table.rows()} == {"paused"}


def test_window_says_why_a_variant_has_no_theory_line(window, qtbot):
    w = window
    row = w.rows[0]
    row.field.setCurrentIndex(row.field.findData("model.batch_norm"))
    row.values.clear()
    qtbot.keyClicks(row.values, "none,pre")
    assert w.apply_button.isEnabled(), w.count_label.text()
    qtbot.mouseClick(w.apply_button, Qt.MouseButton.LeftButton)
    names = ("batch_norm=none", "batch_norm=pre")
    qtbot.waitUntil(lambda: w.controller.latest.names == names, timeout=TIMEOUT)
    w.controller.step()
    qtbot.waitUntil(
        lambda: (f := w.controller.latest).step == 1 and w.drawn_serial == f.serial,
        timeout=TIMEOUT,
    )
    w.theory_box.setChecked(True)
    w.theory_variant.setCurrentText("batch_norm=pre")  # redraws the chart
    assert not w.gradient_chart.overlays
    assert w.gradient_chart.note.startswith("batch_norm=pre: no mean-field line: batch norm")
    w.theory_variant.setCurrentText("batch_norm=none")
    assert list(w.gradient_chart.overlays) == [f"{WIDE_LABEL}: batch_norm=none"]
    assert w.gradient_chart.note == ""
