"""Recurrent configs through `vglab run` / `vglab compare` (as a user runs them) and the presets."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.config import ConfigError, ExperimentConfig, load, updated
from engine.experiments import BASE_COLUMNS, compare, run_experiment
from engine.presets import resolve
from engine.recurrent import ADDING_BASELINE_MSE
from engine.session import Session

ROOT = Path(__file__).resolve().parents[1]

SMALL = """\
name = "tiny-rnn"
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
steps = 12
eval_every = 4
[recurrent]
cell = "{cell}"
seq_len = 9
"""


def vglab(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "main.py", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def test_run_writes_config_metrics_summary_and_the_time_plots(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SMALL.format(cell="lstm"), encoding="utf-8")
    out = tmp_path / "out"
    done = vglab("run", path, "--out", out)
    assert done.returncode == 0, done.stderr
    assert "lstm x1, 2-6-read-out" in done.stdout
    assert load(out / "config.toml") == load(path)
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:7] == list(BASE_COLUMNS)  # the MLP's leading columns, then through time
    assert rows[0][7:] == [f"grad_h[t={t}]" for t in range(1, 10)]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 13))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cell"] == "lstm"
    assert summary["seq_len"] == 9
    assert summary["baseline_mse"] == pytest.approx(ADDING_BASELINE_MSE)
    assert len(summary["grad_h_final"]["layer 1"]) == 9
    assert summary["gate_mean_final"]["what"] == "mean forget gate f_t"
    for stem in ("gradient_norms", "loss", "heatmap"):
        assert (out / f"{stem}.png").stat().st_size > 1000


def test_compare_runs_the_cells_on_the_same_sequences(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SMALL.format(cell="rnn"), encoding="utf-8")
    out = tmp_path / "cmp"
    done = vglab("compare", path, "--vary", "recurrent.cell=rnn,gru", "--no-plots", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "cell=rnn" in done.stdout
    assert "cell=gru" in done.stdout
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["run"] for r in rows] == ["cell=rnn", "cell=gru"]
    assert all(float(r["baseline"]) == pytest.approx(1 / 6) for r in rows)
    assert (out / "metrics_cell=gru.csv").is_file()


def test_bad_recurrent_config_exits_2_naming_the_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SMALL.format(cell="lstn") + "n_symbols = 1\n", encoding="utf-8")
    done = vglab("run", path, "--out", tmp_path / "never")
    assert done.returncode == 2
    assert (
        "recurrent.cell: must be one of none, rnn, lstm, gru, got 'lstn'; did you mean 'lstm'?"
        in done.stderr
    )
    assert "recurrent.n_symbols: must be in [2, 64], got 1" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "never").exists()


def test_a_comparison_cannot_mix_the_mlp_and_recurrent_cells():
    base = updated(ExperimentConfig(), **{"recurrent.cell": "rnn", "model.loss": "mse"})
    with pytest.raises(ConfigError, match="cannot mix"):
        compare(base, ["recurrent.cell=none,rnn"], steps=1)


def test_the_mlp_session_refuses_a_recurrent_config():
    config, _ = resolve("recurrent_adding")
    with pytest.raises(ConfigError, match="recurrent.cell: 'rnn' is a recurrent net"):
        Session(config)


def test_run_experiment_returns_the_time_curves():
    config = updated(
        ExperimentConfig(name="r"),
        **{"recurrent.cell": "gru", "recurrent.seq_len": 7, "model.loss": "mse", "model.depth": 2,
           "model.width": 5, "data.n_samples": 40, "training.batch_size": 8},
    )  # fmt: skip
    result = run_experiment(config, steps=6)
    assert result.steps == 6
    assert not result.diverged
    assert result.rows.shape == (6, 7 + 7)
    fig = result.figure_data()
    assert fig.labels == tuple(f"t={t}" for t in range(1, 8))
    np.testing.assert_array_equal(fig.grad_norm, result.snapshot.grad_h[-1])
    assert fig.history_grad_norm.shape == (6, 7)
    assert result.vanishing("initial") == pytest.approx(
        result.initial_grad_h[0] / result.initial_grad_h[-1]
    )


@pytest.mark.slow
def test_classic_result_short_version():
    """The adding problem at T = 30, 600 steps: the RNN stays near the 0.167 baseline, the
    GRU and the LSTM go well below it (the full preset runs 2000 steps at T = 50)."""
    config, vary = resolve("recurrent_adding")
    config = updated(config, **{"recurrent.seq_len": 30, "data.n_samples": 2000})
    results = compare(config, vary, steps=600)
    test = {name: r.snapshot.test_loss for name, r in results.items()}
    assert test["cell=rnn"] > 0.1
    assert test["cell=gru"] < 0.05
    assert test["cell=lstm"] < 0.05
    ratio = {name: r.vanishing("final") for name, r in results.items()}
    assert ratio["cell=rnn"] < 1e-3 * min(ratio["cell=gru"], ratio["cell=lstm"])


def test_check_builds_a_recurrent_preset_without_training():
    done = vglab("check", "recurrent_adding_lengths")
    assert done.returncode == 0, done.stderr
    assert "rnn (tanh) x1, 2-32-read-out, mse" in done.stdout
    assert "backpropagation through 50 steps" in done.stdout
    assert (
        "compare   recurrent.cell=rnn,lstm,gru, recurrent.seq_len=10,20,50,100 (12 variants)"
        in done.stdout
    )
