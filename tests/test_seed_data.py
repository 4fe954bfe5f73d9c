"""Data for the seed experiments on real MNIST: scaling names, evaluation schedule, memory.

MNIST itself is not downloadable here: these tests write MNIST-shaped synthetic files (the
loader cannot tell them apart from the real ones).
"""

from __future__ import annotations

import math
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.config import ConfigError, DataConfig, ExperimentConfig, apply_overrides, updated
from engine.datasets import DataError, Dataset, load_dataset
from engine.session import EVAL_BUDGET, Session, eval_interval

ROOT = Path(__file__).resolve().parent.parent


def write_mnist(folder: Path, n_train: int, n_test: int, seed: int = 0) -> Path:
    """A Keras-style mnist.npz of random 28x28 uint8 images; returns its path."""
    rng = np.random.default_rng(seed)
    path = folder / "mnist.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, n_test, dtype=np.uint8),
    )
    return path


def mnist_config(path: Path, **changes) -> DataConfig:
    return DataConfig(name="mnist", path=str(path), **changes)


def raw_pixels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as z:
        return z["x_train"].reshape(-1, 784), z["x_test"].reshape(-1, 784)


def vglab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# ----------------------------------------------------------------------------- scaling names


def test_mnist_defaults_to_unit_pixels_over_255(tmp_path):
    path = write_mnist(tmp_path, 50, 20)
    x_tr, x_te = raw_pixels(path)
    d = load_dataset(mnist_config(path))  # scaling left at its default
    assert d.scaling == "unit (pixels / 255, auto)"
    np.testing.assert_array_equal(np.sort(d.X_train, axis=0), np.sort(x_tr / 255.0, axis=0))
    np.testing.assert_array_equal(d.X_test, x_te / 255.0)
    unit = load_dataset(mnist_config(path, scaling="unit"))
    assert unit.X_train.tobytes() == d.X_train.tobytes()


def test_mnist_raw_feeds_the_stored_pixels_and_standardize_uses_train_statistics(tmp_path):
    path = write_mnist(tmp_path, 50, 20)
    x_tr, x_te = raw_pixels(path)
    raw = load_dataset(mnist_config(path, scaling="raw"))
    assert raw.scaling == "raw (pixels 0-255 as stored)"
    np.testing.assert_array_equal(raw.X_test, x_te)
    assert raw.X_train.max() == x_tr.max()
    std = load_dataset(mnist_config(path, scaling="standardize"))
    mean, sd = x_tr.mean(axis=0), x_tr.std(axis=0)
    np.testing.assert_allclose(std.X_test, (x_te - mean) / sd, atol=1e-12)
    np.testing.assert_allclose(std.X_train.mean(axis=0), 0, atol=1e-12)


def test_other_data_sets_keep_standardize_as_default_and_digits_unit_is_over_16():
    d = load_dataset(DataConfig(name="digits"))
    assert d.scaling.startswith("standardize")
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-12)
    unit = load_dataset(DataConfig(name="digits", scaling="unit"))
    raw = load_dataset(DataConfig(name="digits", scaling="raw"))
    np.testing.assert_array_equal(unit.X_train, raw.X_train / 16)


def test_unit_on_a_set_without_pixels_names_the_field():
    with pytest.raises(
        DataError,
        match=r"^data.scaling: 'unit' divides image pixels .* for "
        r"data.name = 'spiral' use standardize, minmax or raw$",
    ):
        load_dataset(DataConfig(name="spiral", scaling="unit"))


@pytest.mark.parametrize(("data", "meant"), [("mnist", "unit"), ("digits", "raw")])
def test_old_name_none_is_refused_with_what_it_meant(data, meant):
    with pytest.raises(
        ConfigError, match=f"data.scaling: 'none' was renamed; did you mean '{meant}'"
    ):
        apply_overrides(ExperimentConfig(), [f"data.name={data}", "data.scaling=none"])


def test_cli_names_the_old_scaling_and_exits_2(tmp_path):
    cfg = tmp_path / "old.toml"
    cfg.write_text('[data]\nname = "mnist"\nscaling = "none"\n', encoding="utf-8")
    r = vglab("check", str(cfg), cwd=tmp_path)
    assert r.returncode == 2
    assert "data.scaling: 'none' was renamed; did you mean 'unit'?" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_cli_run_header_says_which_scaling_is_in_use(tmp_path):
    path = write_mnist(tmp_path, 64, 16)
    r = vglab(
        "run",
        "seed002_depth_16_units",
        "--set",
        "data.name=mnist",
        "--set",
        f"data.path={path}",
        "--set",
        "data.scaling=raw",
        "--steps",
        "2",
        "--no-plots",
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (
        "mnist: 64 train / 16 test, 784 features, 10 classes, scaling raw (pixels 0-255 as "
        "stored)" in r.stdout
    )
    r = vglab(
        "check",
        "seed002_depth_16_units",
        "--set",
        "data.name=mnist",
        "--set",
        f"data.path={path}",
        cwd=tmp_path,
    )
    assert "scaling unit (pixels / 255, auto)" in r.stdout
    # 16 test images / (10% of 32 per step): the schedule is said too
    assert "  evaluate  every 5 steps (auto: test examples <= 10% of training examples)" in r.stdout
    r = vglab(
        "compare",
        "seed002_depth_16_units",
        "--set",
        "data.name=mnist",
        "--set",
        f"data.path={path}",
        "--steps",
        "2",
        "--no-plots",
        "--out",
        str(tmp_path / "cmp"),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "  data mnist, scaling unit (pixels / 255, auto)" in r.stdout


def test_the_app_scaling_control_says_what_each_choice_does(qtbot):
    from gui.panels.controls import Controls

    controls = Controls(updated(ExperimentConfig(), **{"data.name": "spiral"}))
    qtbot.addWidget(controls)
    box = controls.data_scaling
    shown = {box.itemData(i): box.itemText(i) for i in range(box.count())}
    tips = {
        box.itemData(i): box.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(box.count())
    }
    assert shown["unit"].startswith("unit")
    assert "255" in tips["unit"]
    assert "as stored" in tips["raw"]
    assert "MNIST" in tips["auto"]
    assert "standardize" in tips["auto"]
    assert "none" not in shown
    with qtbot.waitSignal(controls.config_changed, timeout=2000) as emitted:
        box.setCurrentIndex(box.findData("raw"))
    assert emitted.args[0].data.scaling == "raw"


# ----------------------------------------------------------------------------- evaluation


def _session(n_train: int, n_test: int, batch: int, eval_every="auto") -> Session:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_train + n_test, 4))
    y = rng.integers(0, 3, n_train + n_test)
    data = Dataset(
        "toy",
        X[:n_train],
        y[:n_train],
        X[n_train:],
        y[n_train:],
        "classification",
        3,
        ("a", "b", "c", "d"),
        ("0", "1", "2"),
        "toy",
    )
    cfg = updated(
        ExperimentConfig(),
        **{
            "model.depth": 1,
            "model.width": 4,
            "training.batch_size": batch,
            "training.eval_every": eval_every,
        },
    )
    return Session(cfg, data)


def _examples_trained(s: Session) -> int:
    """Examples seen in s.step_count steps (the last batch of an epoch may be short)."""
    n, b = len(s.X), s.batch_size
    epochs, rest = divmod(s.step_count, s.steps_per_epoch)
    return epochs * n + min(rest * b, n)


@pytest.mark.parametrize(
    ("n_train", "n_test", "batch"), [(1000, 300, 32), (1437, 360, 32), (250, 100, 7), (90, 500, 64)]
)
def test_auto_schedule_keeps_evaluation_within_the_budget(n_train, n_test, batch):
    s = _session(n_train, n_test, batch)
    for _ in range(5 * s.eval_every + 3):
        s.step()
        evaluated = s.eval_trace.count * n_test
        assert evaluated <= EVAL_BUDGET * _examples_trained(s) + 1e-9, s.step_count
    assert s.eval_trace.count == 5  # it does evaluate, on schedule
    assert list(s.eval_trace.view()[0]) == [k * s.eval_every for k in range(1, 6)]
    # and not more rarely than the budget needs: one step sooner would exceed it
    mean_batch = n_train / s.steps_per_epoch
    assert n_test > EVAL_BUDGET * (s.eval_every - 1) * mean_batch


def test_auto_schedule_for_mnist_and_the_old_fixed_interval():
    assert eval_interval("auto", 60000, 10000, 32) == 3125
    # the presets' old 45 steps evaluated 10000 images per 1440 trained: ~7x the training work
    assert 10000 / (45 * 32) > 6.9
    assert eval_interval(45, 60000, 10000, 32) == 45
    assert eval_interval("auto", 60000, 0, 32) == 0


def test_default_and_override_of_eval_every_round_trip():
    assert ExperimentConfig().training.eval_every == "auto"
    cfg = apply_overrides(ExperimentConfig(), ["training.eval_every=auto"])
    assert cfg.training.eval_every == "auto"
    cfg = apply_overrides(cfg, ["training.eval_every=100"])
    assert cfg.training.eval_every == 100
    with pytest.raises(
        ConfigError,
        match=r"training.eval_every: must be 'auto' or a whole "
        r"number of steps >= 0 \(0 = never\), got 'often'",
    ):
        apply_overrides(cfg, ["training.eval_every=often"])
    with pytest.raises(ConfigError, match=r"training.eval_every: .* got True"):
        apply_overrides(cfg, ["training.eval_every=true"])


# ----------------------------------------------------------------------------- memory


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mnist_is_held_once_in_the_engines_dtype(tmp_path, dtype):
    """70000 x 784 uint8 images: the peak allocation while building a session stays within
    1.5x the feature arrays it keeps (which the session shares with the data set)."""
    path = write_mnist(tmp_path, 60000, 10000)
    cfg = updated(
        ExperimentConfig(),
        **{
            "data.name": "mnist",
            "data.path": str(path),
            "data.scaling": "standardize",
            "model.dtype": dtype,
            "model.depth": 1,
            "model.width": 16,
        },
    )
    tracemalloc.start()
    try:
        s = Session(cfg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kept = s.X.nbytes + s.X_test.nbytes
    assert s.X.dtype == s.X_test.dtype == np.dtype(dtype)
    assert kept == 70000 * 784 * np.dtype(dtype).itemsize
    assert np.shares_memory(s.X, s.dataset.X_train)
    assert np.shares_memory(s.X_test, s.dataset.X_test)
    assert peak <= 1.5 * kept, f"peak {peak / 2**20:.0f} MB for {kept / 2**20:.0f} MB kept"
    assert math.isclose(float(s.X_test[:, 400].mean(dtype=np.float64)), 0, abs_tol=0.05)
