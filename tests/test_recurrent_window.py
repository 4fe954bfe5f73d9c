"""The Recurrent window: RNN / LSTM / GRU in lock-step, through time (issue 11).

Engine part (no Qt): a recurrent CompareSession steps each cell exactly as a RecurrentSession
on its own would.  Window part (qtbot, offscreen): opened from the main window's Tools menu,
a preset, File > Open; played, stepped phase by phase into the backward pass, rebuilt with a
new sequence length, refused a bad one, exported, run with one cell.  The numbers on screen
are checked against sessions trained separately, never against typed numbers.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from recurrent_configs import tiny_recurrent

from engine.compare import CompareSession, expand_variants
from engine.config import ConfigError, ExperimentConfig, updated, validate
from engine.recurrent import RecurrentSession
from engine.recurrent.experiment import run_recurrent
from gui import recurrent_view as rv
from gui.frames import FrameInfo
from gui.recurrent_window import RecurrentWindow
from gui.unrolled_view import step_explanation

TIMEOUT = 60_000  # ms: a cold machine compiles the recurrent kernels at the first build
T = 12


def small(**more) -> ExperimentConfig:
    """A recurrent config that trains in milliseconds: 8 units, 80 sequences of T steps."""
    return tiny_recurrent("rec-test", **{"recurrent.seq_len": T, "training.eval_every": 4, **more})


def alone(cell: str, steps: int, **more) -> RecurrentSession:
    """The oracle: ``cell`` trained on its own for ``steps`` steps."""
    s = RecurrentSession(small(**{"recurrent.cell": cell, **more}))
    for _ in range(steps):
        s.step()
    return s


# --- engine ------------------------------------------------------------------------------------
def test_lock_step_cells_equal_each_cell_trained_alone():
    cs = CompareSession(small(), [rv.vary_item(rv.CELLS)])
    assert cs.recurrent
    assert cs.names == ("cell=rnn", "cell=lstm", "cell=gru")
    cs.run(5)  # the many-step path
    cs.step()
    for _ in range(3):  # forward, loss, backward t=T: the step-through, in lock-step
        results = cs.step_phase()
    assert {r.text for r in results.values()} == {f"backward layer 1 t={T} (3/{T + 3})"}
    for _key, s in cs.sessions.items():
        ref = alone(s.config.recurrent.cell, 6)
        ref.step_phase(), ref.step_phase(), ref.step_phase()
        a, b = s.snapshot(), ref.snapshot()
        np.testing.assert_array_equal(a.grad_h, b.grad_h)  # NaN where not computed yet
        np.testing.assert_array_equal(a.history_grad_h, b.history_grad_h)
        assert (a.loss, a.step) == (b.loss, b.step)


def test_one_cell_runs_alone_but_an_mlp_comparison_still_needs_two():
    cs = CompareSession(small(), ["recurrent.cell=gru"])
    assert cs.names == ("cell=gru",)
    assert cs.run(3) == 3
    with pytest.raises(ConfigError, match="needs 2 to"):
        expand_variants(ExperimentConfig(), ["model.activation=relu"])
    with pytest.raises(ConfigError, match="not both"):
        CompareSession(small(), ["recurrent.cell=none,rnn"])


def test_the_summary_row_is_the_clis():
    """The window's row (vanishing ratio at step 1 from the history) equals run_recurrent's
    (which keeps step 1's ||dL/dh_t|| itself)."""
    cs = CompareSession(small(), ["recurrent.cell=lstm"])
    cs.run(9)
    frame = rv.recurrent_frame(cs, FrameInfo(1, 1, "idle", False, 0.0), "idle")
    cli = run_recurrent(small(**{"recurrent.cell": "lstm"}), lambda spe: 9)
    mine = frame.results["LSTM"]
    assert mine.vanishing("initial") == cli.vanishing("initial")
    assert mine.vanishing("final") == cli.vanishing("final")
    assert mine.final_train() == pytest.approx(cli.final_train())
    header, rows = rv.table(frame)
    assert rows[0][6] == rv.number(cli.vanishing("initial"), ".2g")


# --- window ------------------------------------------------------------------------------------
def open_window(qtbot, config=None, cells=rv.CELLS, size=(1280, 720)) -> RecurrentWindow:
    w = RecurrentWindow(small() if config is None else config, cells)
    qtbot.addWidget(w)  # closed (worker stopped) after the test
    w.resize(*size)
    w.show()
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    return w


def advance(qtbot, w: RecurrentWindow, n: int) -> None:
    """Train ``n`` more lock-steps and wait until the paused result is on screen."""
    target = w.controller.latest.step + n
    w.controller.advance(n)
    qtbot.waitUntil(
        lambda: (
            (f := w.controller.latest) is not None
            and f.step == target
            and not f.running
            and w.drawn_serial == f.serial
        ),
        timeout=TIMEOUT,
    )


def drawn(plot) -> dict:
    """name -> (x, y) of every curve the plot shows."""
    return {name: (it.xData, it.yData) for name, it in plot.series.items() if it.xData is not None}


@pytest.fixture
def window(qtbot):
    return open_window(qtbot)


def test_play_shows_every_cell_through_time(window, qtbot):
    w = window
    advance(qtbot, w, 8)
    frame = w.controller.latest
    assert frame.names == ("RNN", "LSTM", "GRU")
    curves = drawn(w.time_plot)
    for name, cell in frame.cells.items():
        ref = alone(cell, 8).snapshot()
        x, y = curves[name]
        np.testing.assert_array_equal(x, np.arange(1, T + 1))
        np.testing.assert_allclose(y, ref.grad_h[-1], rtol=1e-12)
        gate_x, gate_y = drawn(w.gate_plot)[f"{name}: {ref.carrier}"]
        np.testing.assert_allclose(gate_y, ref.gate_mean[-1], rtol=1e-12)
    assert set(drawn(w.loss_plot)) == set(frame.names)
    metric = drawn(w.metric_plot)
    assert "baseline (answer 1): 0.167" in metric
    assert w.metric_plot.title == "Test MSE"
    assert list(w.heatmaps) == list(frame.names)
    assert len({h.levels for h in w.heatmaps.values()}) == 1  # ONE colour scale
    assert {h.shape[1] for h in w.heatmaps.values()} == {T}
    rows = w.table.rows()
    assert [r[0] for r in rows] == list(frame.names)
    assert {r[1] for r in rows} == {"8"}
    for r in rows:
        ratio = frame.snapshots[r[0]].vanishing_ratio()
        assert r[7] == rv.number(ratio, ".2g")
    assert "nan" not in " ".join(" ".join(r) for r in rows).lower()


def test_step_phase_walks_back_one_time_step_at_a_time(window, qtbot):
    w = window
    advance(qtbot, w, 2)
    for _k in range(5):  # forward layer 1, loss, backward t=T, t=T-1, t=T-2
        serial = w.drawn_serial
        w.act_phase.trigger()
        qtbot.waitUntil(lambda s=serial: w.drawn_serial > s, timeout=TIMEOUT)
    frame = w.controller.latest
    t = T - 3  # 0-based: the step just computed
    for name, cell in frame.cells.items():
        snap = frame.snapshots[name]
        assert snap.phase_result.phase == "backward"
        assert snap.phase_result.time == t
        g = snap.grad_h[-1]
        assert np.isnan(g[:t]).all()
        assert np.isfinite(g[t:]).all()
        ref = alone(cell, 2)
        for _ in range(5):
            ref.step_phase()
        np.testing.assert_array_equal(g, ref.snapshot().grad_h[-1])
    assert w.time_plot.event == (t + 1, f"t={t + 1}")
    assert w.diagram.view.time == t  # the diagram marks the step just computed
    assert w.diagram.view.rows == frame.names
    assert f"t={t + 1}" in w.step_label.text()
    lstm = frame.snapshots["LSTM"]
    w.inspect_box.setCurrentText("LSTM")  # the inspector explains the LSTM's step
    shown, expected = w.inspector.explanation, step_explanation(lstm.phase_result, "LSTM", lstm)
    assert (shown.title, shown.rows) == (expected.title, expected.rows)
    np.testing.assert_array_equal(shown.chart_data, expected.chart_data)
    box = w.diagram.box_rect(0, 2).center().toPoint()
    qtbot.mouseClick(w.diagram, Qt.MouseButton.LeftButton, pos=box)  # a click on t=3
    assert w.time_plot.event == (3, "t=3")
    assert rv.number(frame.snapshots["RNN"].grad_h[-1][2]) in w.statusBar().currentMessage()
    w.act_step.trigger()  # the half-done step ends: the whole curve again
    qtbot.waitUntil(lambda: w.controller.latest.phase == "idle", timeout=TIMEOUT)
    assert w.controller.latest.step == 3


def test_a_new_sequence_length_rebuilds(window, qtbot):
    w = window
    gen = w.controller.latest.generation
    w.setup.widgets["recurrent.seq_len"].setValue(17)
    qtbot.waitUntil(lambda: w.controller.latest.generation > gen, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w.drawn_serial == w.controller.latest.serial, timeout=TIMEOUT)
    advance(qtbot, w, 2)
    frame = w.controller.latest
    assert frame.seq_len == 17
    assert w.config.recurrent.seq_len == 17
    assert all(len(x) == 17 for x, _ in drawn(w.time_plot).values())
    assert {h.shape[1] for h in w.heatmaps.values()} == {17}
    assert "T = 17" in w.base_label.text()


def test_a_bad_length_is_refused_with_the_fields_message(window, qtbot, monkeypatch):
    w = window
    monkeypatch.setenv("VGLAB_MEMORY_LIMIT", "1MiB")  # 400 steps of 80 sequences need more
    with pytest.raises(ConfigError) as refused:  # the oracle: what the config check says
        validate(updated(w.config, **{"recurrent.seq_len": 400}))
    w.setup.widgets["recurrent.seq_len"].setValue(400)
    qtbot.waitUntil(lambda: w.setup.error_label.isVisible(), timeout=TIMEOUT)
    text = w.setup.error_label.text()
    assert refused.value.errors[0] in text
    assert "Traceback" not in text
    assert "more than the limit" in w.banner.body.text()
    assert w.controller.latest.seq_len == T  # nothing was rebuilt
    assert w.config.recurrent.seq_len == T


def test_the_learning_rate_is_live(window, qtbot):
    w = window
    gen = w.controller.latest.generation
    w.setup.widgets["training.learning_rate"].setValue(0.05)
    advance(qtbot, w, 1)
    frame = w.controller.latest
    assert frame.generation == gen  # no rebuild
    assert {s.learning_rate for s in frame.snapshots.values()} == {0.05}


def test_export_writes_every_file(window, qtbot, tmp_path):
    w = window
    advance(qtbot, w, 4)
    written = {p.name for p in w.export_all(tmp_path)}
    for stem in ("grad_h_through_time", "gate_carrier", "loss", "test_metric", "heatmap_gru"):
        assert {f"{stem}.png", f"{stem}.svg"} <= written
    assert {"unrolled.png", "window.png", "grad_h.csv", "summary.csv"} <= written
    with open(tmp_path / "grad_h.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t", "RNN", "LSTM", "GRU"]
    assert len(rows) == T + 1
    snap = w.controller.latest.snapshots["GRU"]
    np.testing.assert_allclose([float(r[3]) for r in rows[1:]], snap.grad_h[-1], rtol=1e-12)
    with open(tmp_path / "summary.csv", newline="") as f:
        assert [r[0] for r in list(csv.reader(f))[1:]] == ["RNN", "LSTM", "GRU"]


def test_one_cell_and_the_memory_task(qtbot):
    w = open_window(qtbot, cells=("lstm",))
    assert w.controller.latest.names == ("LSTM",)
    assert [b.isChecked() for b in w.setup.cell_boxes.values()] == [False, True, False]
    assert not w.setup.widgets["recurrent.rnn_activation"].isEnabled()
    gen = w.controller.latest.generation
    w.setup.widgets["recurrent.task"].setCurrentIndex(
        w.setup.widgets["recurrent.task"].findData("memory")
    )
    qtbot.waitUntil(lambda: w.controller.latest.generation > gen, timeout=TIMEOUT)
    advance(qtbot, w, 8)
    assert w.config.model.loss == "softmax_ce"
    assert w.metric_plot.title == "Test accuracy"
    chance = 1 / w.config.recurrent.n_symbols
    assert f"chance: {chance:.3f}" in drawn(w.metric_plot)
    w.setup.cell_boxes["lstm"].setChecked(False)  # the last cell stays
    assert w.setup.cell_boxes["lstm"].isChecked()
    assert w.setup.error_label.isVisible()


def test_a_diverged_cell_stops_and_the_others_train_on(qtbot):
    blow_up = {  # a ReLU RNN with large weights overflows in its first forward pass
        "recurrent.rnn_activation": "relu", "model.init": "normal", "model.init_scale": 3.0,
        "model.width": 32, "recurrent.seq_len": 200,
    }  # fmt: skip
    w = open_window(qtbot, small(**blow_up), cells=("rnn", "gru"))
    advance(qtbot, w, 2)
    frame = w.controller.latest
    d = frame.divergences["RNN"]
    assert d == alone("rnn", 1, **blow_up).divergence  # where the RNN alone diverges
    assert frame.snapshots["GRU"].step == 2
    assert "RNN diverged" in w.banner.title.text()
    assert f"RNN \u2014 diverged at step {d.step}" in w.time_plot.series
    assert [k.split(":")[0] for k in drawn(w.gate_plot)] == ["GRU"]
    assert w.table.rows()[0][0] == "RNN"
    assert w.table.table.item(0, 0).toolTip() == d.message


# --- entry points: the main window ---------------------------------------------------------------
@pytest.fixture
def main(qtbot):
    from gui_helpers import open_window as open_main
    from gui_helpers import tiny

    return open_main(qtbot, tiny())


def test_tools_menu_opens_one_recurrent_window(main, qtbot):
    main.act_recurrent.trigger()
    w = main.recurrent_window
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    assert w.isVisible()
    assert w.controller.latest.names == ("RNN", "LSTM", "GRU")
    assert w.config.recurrent.seq_len == 50  # the recurrent_adding preset
    main.act_recurrent.trigger()
    assert main.recurrent_window is w  # one instance, raised


def test_the_recurrent_presets_open_the_window(main, qtbot):
    from engine.presets import list_presets

    presets = {p.name: p for p in list_presets() if p.is_recurrent}
    actions = {a.text(): a for a in main.presets_menu.actions()}
    assert not any("command line only" in t for t in actions)
    p = presets["recurrent_adding_lengths"]
    assert actions[p.title].isEnabled()
    actions[p.title].trigger()
    w = main.recurrent_window
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    text = w.banner.body.text()
    assert text.startswith(
        "This preset also varies recurrent.seq_len over 10, 20, 50, 100 (here: 50)"
    )
    assert w.controller.latest.seq_len == 50
    assert w.cells == ("rnn", "lstm", "gru")


def test_file_open_of_a_recurrent_config_opens_it_there(main, qtbot, tmp_path, monkeypatch):
    from engine import config as config_io

    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: pytest.fail(f"{a}"))
    path = tmp_path / "gru.toml"
    config_io.save(small(**{"recurrent.cell": "gru"}), path)
    before = main.controller.config
    assert main.open_config(str(path))
    w = main.recurrent_window
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=TIMEOUT)
    assert w.controller.latest.names == ("GRU",)
    assert w.config.recurrent.seq_len == T
    assert main.controller.config == before  # the MLP window keeps its experiment
