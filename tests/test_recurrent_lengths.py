"""Test metric vs sequence length, RNN vs LSTM vs GRU (issue 11's last view).

Engine: every (cell, length) point of :func:`engine.recurrent.lengths.run_lengths` (the sweep's
process pool) equals a ``run_recurrent`` of the same config, and a RecurrentSession stepped on
its own (the oracle).  CLI (a subprocess): ``vglab compare`` varying the length writes
length_curve.csv/png/svg whose numbers are the run's summary.csv.  App (qtbot): the "vs length"
tab's Run draws the engine function's points, Cancel stops the pool, a bad lengths text is the
field's message, closing the window stops the job, the lengths preset fills the field.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from recurrent_configs import tiny_recurrent

from engine.config import ConfigError, ExperimentConfig, updated
from engine.recurrent import RecurrentSession
from engine.recurrent.experiment import ADDING_BASELINE_MSE, run_recurrent
from engine.recurrent.lengths import (
    LengthPoint,
    length_rows,
    plan_lengths,
    run_lengths,
    train_length_point,
    varies_length,
)

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 240_000  # ms: spawned workers import the engine and load the kernels


def small(**more) -> ExperimentConfig:
    """A recurrent config that trains in milliseconds: 8 units, 80 sequences, 6 steps."""
    return tiny_recurrent("len-test", **{"recurrent.seq_len": 6, "training.steps": 6, **more})


def oracle(config: ExperimentConfig) -> tuple[float, float]:
    """(test metric, final vanishing ratio) of a session stepped on its own."""
    s = RecurrentSession(config)
    for _ in range(config.training.steps):
        s.step()
    g = s.snapshot(with_history=False).grad_h[-1]
    loss, acc = s.evaluate("test")
    return (loss if config.recurrent.task == "adding" else acc), float(g[0] / g[-1])


# --- engine ---------------------------------------------------------------------------------------
def test_every_point_equals_run_recurrent_of_its_config():
    plan = plan_lengths(small(), "5, 9", ("rnn", "gru"))
    arrived = []
    result = run_lengths(plan, on_point=arrived.append, workers=2)
    assert result.complete
    assert not result.cancelled
    assert not result.failure
    assert sorted(result.points) == [("gru", 5), ("gru", 9), ("rnn", 5), ("rnn", 9)]
    assert len(arrived) == 4
    for row in plan.grid.configs:
        for config in row:
            r = run_recurrent(config, lambda _, n=config.training.steps: n)
            p = result.points[(config.recurrent.cell, config.recurrent.seq_len)]
            assert p.status == "ok"
            assert p.steps == 6
            assert p.metric == pytest.approx(r.snapshot.test_loss, rel=1e-12)
            assert p.vanishing == pytest.approx(r.vanishing("final"), rel=1e-12)
            metric, ratio = oracle(config)
            assert p.metric == pytest.approx(metric, rel=1e-9)
            assert p.vanishing == pytest.approx(ratio, rel=1e-9)
    header, rows = length_rows(result.points.values(), plan.base)
    assert header[:4] == ["cell", "seq_len", "test_mse", "baseline"]
    assert [(r[0], r[1]) for r in rows] == [("gru", 5), ("gru", 9), ("rnn", 5), ("rnn", 9)]
    assert all(r[3] == pytest.approx(ADDING_BASELINE_MSE) for r in rows)


def test_the_memory_task_scores_test_accuracy_against_chance():
    config = small(**{
        "recurrent.task": "memory", "model.loss": "softmax_ce", "recurrent.n_symbols": 4,
        "recurrent.cell": "lstm", "training.eval_every": 0,
    })  # fmt: skip
    p = train_length_point(config)
    metric, ratio = oracle(config)
    assert p.metric == pytest.approx(metric, rel=1e-12)
    assert 0.0 <= p.metric <= 1.0
    assert p.vanishing == pytest.approx(ratio, rel=1e-9)
    header, rows = length_rows([p], config)
    assert header[2] == "test_accuracy"
    assert rows[0][3] == pytest.approx(1 / 4)


def test_a_broken_point_is_a_result_not_a_crash():
    p = train_length_point(small(**{"recurrent.cell": "none"}))  # an MLP: no recurrent net
    assert p.status == "failed"
    assert math.isnan(p.metric)
    assert "recurrent.cell" in p.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10, abc", "lengths: recurrent.seq_len: expected an integer, got string 'abc'"),
        ("0", "lengths: recurrent.seq_len: must be in [2, 5000], got 0"),
        ("10, 10", "lengths: recurrent.seq_len: 10 given more than once"),
        ("  ", "lengths: recurrent.seq_len: expected lengths such as 10, 20, 50"),
    ],
)
def test_bad_lengths_name_the_field(text, expected):
    with pytest.raises(ConfigError) as e:
        plan_lengths(small(), text, ("rnn",))
    assert str(e.value) == expected


def test_cancel_before_any_point_stops_with_nothing():
    plan = plan_lengths(small(), "5, 9", ("rnn",))
    result = run_lengths(plan, cancel=lambda: True, workers=1)
    assert result.cancelled
    assert not result.points


def test_which_comparisons_get_a_length_curve():
    assert varies_length(["recurrent.cell=rnn,gru", "recurrent.seq_len=10,20"])
    assert varies_length(["seq_len=10,20"])
    assert not varies_length(["recurrent.cell=rnn,gru"])
    assert not varies_length(["recurrent.seq_len=10,20", "training.learning_rate=0.1,0.01"])
    assert not varies_length({"a": {"recurrent.seq_len": 10}})


# --- CLI ------------------------------------------------------------------------------------------
SMALL_TOML = """\
name = "tiny-lengths"
[data]
n_samples = 64
[model]
depth = 1
width = 6
loss = "mse"
[training]
optimizer = "adam"
learning_rate = 0.01
batch_size = 16
steps = 5
eval_every = 0
[recurrent]
cell = "rnn"
seq_len = 9
[compare]
vary = ["recurrent.cell=rnn,gru", "recurrent.seq_len=5,8"]
"""


def vglab(*args):
    return subprocess.run(
        [sys.executable, "main.py", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_csv_rows(header, rows) -> list[dict]:
    """``(header, rows)`` as read back from a CSV file (text cells, floats in full)."""
    from engine.io import csv_text

    return list(csv.DictReader(csv_text(header, rows).splitlines()))


def test_compare_over_lengths_writes_the_curve_with_the_summary_numbers(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SMALL_TOML, encoding="utf-8")
    out = tmp_path / "out"
    done = vglab("compare", path, "--out", out, "-q")
    assert done.returncode == 0, done.stderr
    for suffix in ("png", "svg"):
        assert (out / f"length_curve.{suffix}").stat().st_size > 1000
    curve = read_csv(out / "length_curve.csv")
    summary = {r["run"]: r for r in read_csv(out / "summary.csv")}
    assert [(r["cell"], r["seq_len"]) for r in curve] == [
        ("gru", "5"), ("gru", "8"), ("rnn", "5"), ("rnn", "8"),
    ]  # fmt: skip
    for r in curve:
        s = summary[f"cell={r['cell']},seq_len={r['seq_len']}"]
        assert float(r["test_mse"]) == float(s["test_loss"])
        assert float(r["baseline"]) == float(s["baseline"])
        assert float(r["vanishing_ratio_final"]) == float(s["vanishing_ratio_final"])
        assert int(r["steps"]) == int(s["steps"]) == 5


def test_compare_without_a_length_axis_writes_no_curve(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SMALL_TOML, encoding="utf-8")
    out = tmp_path / "out"
    done = vglab("compare", path, "--vary", "recurrent.cell=rnn,gru", "--no-plots", "--out", out)
    assert done.returncode == 0, done.stderr
    assert (out / "summary.csv").exists()
    assert not (out / "length_curve.csv").exists()


# --- app ------------------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot):
    from gui.recurrent_window import RecurrentWindow

    w = RecurrentWindow(small(), cells=("rnn", "gru"), start=False)
    qtbot.addWidget(w)
    w.length_tab.workers = 2
    w.tabs.setCurrentWidget(w.length_tab)
    return w


def drawn(plot) -> dict[str, tuple[list, list]]:
    """name -> (x, y) of every line as given (the log axis transforms only the display)."""
    return {n: (list(it.xData), list(it.yData)) for n, it in plot.series.items()}


def test_run_draws_the_engine_functions_points_per_checked_cell(
    window, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtCore import Qt

    tab = window.length_tab
    tab.lengths.setText("5, 9")
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert tab.running
    assert not tab.run_button.isEnabled()
    qtbot.waitUntil(lambda: not tab.running, timeout=TIMEOUT)
    expected = run_lengths(plan_lengths(window.config, "5, 9", window.cells), workers=2)
    lines = drawn(tab.plot)
    assert set(lines) == {"RNN", "GRU", "baseline 0.167"}
    for cell, name in (("rnn", "RNN"), ("gru", "GRU")):
        x, y = lines[name]
        assert x == [5, 9]
        want = [expected.points[(cell, T)].metric for T in (5, 9)]
        np.testing.assert_allclose(y, want, rtol=1e-12)
    assert lines["baseline 0.167"] == ([5, 9], [ADDING_BASELINE_MSE] * 2)
    assert "4 / 4 nets" in tab.status.text()
    assert "finished" in tab.status.text()
    header, rows = tab.table()
    assert header[2] == "test_mse"
    assert len(rows) == 4
    assert window.plot_panels()["length_curve"] is tab.plot
    for suffix in (".png", ".svg"):  # the plot's menu: Export as PNG / SVG
        path = tmp_path / f"length_curve{suffix}"
        monkeypatch.setattr(window.exports, "_save_path", lambda *a, p=path, **k: str(p))
        window.exports.plot_menu("length_curve", tab.plot).actions()[suffix == ".svg"].trigger()
        assert path.stat().st_size > 1000
    path = tmp_path / "length_curve.csv"
    monkeypatch.setattr(window.exports, "_save_path", lambda *a, **k: str(path))
    window.act_export_lengths.trigger()
    assert read_csv(path) == read_csv_rows(header, rows)


def test_cancel_stops_the_pool_and_keeps_what_arrived(window, qtbot):
    from PySide6.QtCore import Qt

    window.config = updated(window.config, **{"training.steps": 100_000})  # minutes per net
    tab = window.length_tab
    tab.lengths.setText("40, 60")
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.running, timeout=60_000)
    assert tab.result.cancelled
    assert not tab.result.complete
    assert tab.status.text().endswith("cancelled")
    assert tab.run_button.isEnabled()
    assert tab.lengths.isEnabled()


def test_a_bad_lengths_text_is_the_fields_message_and_nothing_runs(window, qtbot):
    from PySide6.QtCore import Qt

    tab = window.length_tab
    tab.lengths.setText("10, ten")
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert not tab.running
    assert tab.status.text() == (
        "Cannot run: recurrent.seq_len: expected an integer, got string 'ten'"
    )


def test_closing_the_window_stops_the_job(window, qtbot):
    from PySide6.QtCore import Qt

    window.config = updated(window.config, **{"training.steps": 100_000})
    tab = window.length_tab
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    job = tab.job
    qtbot.wait(300)
    window.close()
    assert not job.thread.isRunning()


def test_the_lengths_preset_fills_the_field(qtbot, monkeypatch):
    from dataclasses import replace

    from engine.presets import list_presets
    from gui.recurrent_window import RecurrentWindow

    opened = {}

    class Host:
        """What open_recurrent_preset needs of the main window: open_recurrent."""

        def open_recurrent(self, config, cells, note):
            opened["w"] = w = RecurrentWindow(small(), cells=cells, start=False)
            qtbot.addWidget(w)
            return w

    from gui.main_menus import ExperimentFiles

    preset = next(p for p in list_presets() if p.name == "recurrent_adding_lengths")
    ExperimentFiles.open_recurrent_preset(Host(), preset)
    assert opened["w"].length_tab.lengths.text() == "10, 20, 50, 100"
    other = replace(preset, vary=("recurrent.cell=rnn,gru", "recurrent.seq_len=10,30"))
    ExperimentFiles.open_recurrent_preset(Host(), other)
    assert opened["w"].length_tab.lengths.text() == "10, 30"


def test_point_of_a_result_reads_its_summary_row():
    config = small(**{"recurrent.cell": "gru"})
    r = run_recurrent(config, lambda _: 4)
    p = LengthPoint.of(r)
    assert (p.cell, p.seq_len, p.steps) == ("gru", 6, 4)
    assert p.metric == r.table_row()[3]
    assert p.vanishing == r.table_row()[7]
