"""The ``vglab`` command line end to end: files written, exit codes, messages."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cli
from engine.config import load
from engine.experiments import BASE_COLUMNS, Progress
from engine.session import LAYER_METRICS

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["seed000_deep_activations", "--set", "model.depth=3", "--steps", "20"]
DIVERGING = [
    "seed000_deep_activations",
    "--set",
    "model.activation=relu",
    "--set",
    "model.init=normal",
    "--set",
    "model.init_scale=50",
    "--set",
    "training.learning_rate=100",
    "--set",
    "model.depth=3",
    "--steps",
    "50",
]


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def _metric_columns(depth: int) -> list[str]:
    labels = [f"hidden {k + 1}" for k in range(depth)] + ["output"]
    return list(BASE_COLUMNS) + [f"{m}[{lab}]" for m in LAYER_METRICS for lab in labels]


# ----------------------------------------------------------------------------- run


def test_run_writes_config_metrics_and_summary(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["run", *SMALL, "--out", str(out), "--no-plots"]) == 0
    stdout = capsys.readouterr().out
    assert "g1/gL start" in stdout  # the summary table
    assert f"wrote {out}" in stdout

    config = load(out / "config.toml")  # resolved: overrides and --steps written in
    assert config.model.depth == 3
    assert config.training.steps == 20

    header, rows = _csv(out / "metrics.csv")
    assert header == _metric_columns(3)
    assert [int(r[0]) for r in rows] == list(range(1, 21))
    assert all(len(r) == len(header) for r in rows)
    float(rows[-1][header.index("grad_norm[hidden 1]")])

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["steps"] == 20
    assert summary["diverged"] is None
    assert set(summary["grad_norm_final"]) == {"hidden 1", "hidden 2", "hidden 3", "output"}
    assert _no_temp_files(out)


def test_run_default_output_folder_is_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", *SMALL, "--no-plots", "--quiet"]) == 0
    assert cli.main(["run", *SMALL, "--no-plots", "--quiet"]) == 0
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(folders) == 2  # never reuses a folder
    assert all(f.startswith("seed000_deep_activations-") for f in folders)


def test_quiet_prints_nothing_and_logs_go_to_stderr(tmp_path, capsys):
    assert cli.main(["run", *SMALL, "--out", str(tmp_path / "q"), "--no-plots", "-q"]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")
    assert cli.main(["run", *SMALL, "--out", str(tmp_path / "l"), "--no-plots"]) == 0
    err = capsys.readouterr().err  # not a terminal: plain progress lines
    assert "[seed000_deep_activations] start: 20 steps" in err
    assert "20/20 steps (100%)" in err
    assert "\r" not in err


def test_progress_bar_on_a_terminal():
    stream = io.StringIO()
    bar = cli.ProgressReporter(stream, "bar")
    bar(Progress("demo", 0, 1, 50, 200, 0.5, 2.3))
    bar.end()
    text = stream.getvalue()
    assert text.startswith("\r")
    assert "[demo] [######------------------] 50/200 steps" in text
    assert "100 steps/s" in text
    assert "ETA 0:00:02" in text
    assert text.endswith("\n")


def test_plots_are_written_as_png_and_svg(tmp_path):
    pytest.importorskip("gui.figures")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QImage

    out = tmp_path / "plots"
    assert cli.main(["run", *SMALL, "--out", str(out), "--quiet"]) == 0
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 4  # gradient norms, loss, accuracy, heatmap
    assert len(sorted(out.glob("*.svg"))) == len(pngs)
    for png in pngs:
        image = QImage(str(png))
        assert not image.isNull(), png
        assert image.width() >= 300, (png, image.size())
        assert image.height() >= 200, (png, image.size())
        colors = {
            image.pixel(x, y)
            for x in range(0, image.width(), 7)
            for y in range(0, image.height(), 7)
        }
        assert len(colors) > 3, f"{png.name} looks blank"


def _main_py(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    """``python main.py ARGV`` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )


@pytest.mark.slow
def test_main_py_runs_the_cli_in_a_subprocess(tmp_path):
    out = tmp_path / "sub"
    proc = _main_py(tmp_path, "run", *SMALL, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ("config.toml", "metrics.csv", "summary.json"):
        assert (out / name).is_file()
    assert len(_csv(out / "metrics.csv")[1]) == 20


def test_compare_in_a_subprocess_varies_the_depth(tmp_path):
    out = tmp_path / "depths"
    argv = ["compare", "dying_relu", "--vary", "depth=1,3", "--steps", "6", "--no-plots"]
    proc = _main_py(tmp_path, *argv, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    header, rows = _csv(out / "summary.csv")
    assert [r[0] for r in rows] == ["depth=1", "depth=3"]
    layers = [h for h in header if h.startswith("grad_norm[")]
    assert layers == [f"grad_norm[hidden {k}]" for k in (1, 2, 3)] + ["grad_norm[output]"]
    one = dict(zip(header, rows[0], strict=True))
    assert one["grad_norm[hidden 2]"] == one["grad_norm[hidden 3]"] == ""  # depth 1 has none
    assert float(one["grad_norm[output]"]) > 0
    assert _csv(out / "metrics_depth=1.csv")[0] == _metric_columns(1)
    assert _csv(out / "metrics_depth=3.csv")[0] == _metric_columns(3)
    assert "g1/gL start" in proc.stdout


# ----------------------------------------------------------------------------- exit codes


def test_bad_config_file_exits_2_naming_file_and_field(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\ndepth = 0\nactivation = "sigmod"\n', encoding="utf-8")
    assert cli.main(["run", str(bad), "--out", str(tmp_path / "o"), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: model.depth: must be >= 1, got 0" in err
    assert f"{bad}: model.activation: must be one of" in err
    assert "did you mean 'sigmoid'?" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()  # nothing written for an invalid config


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "seed000_deep_activatoins"], "did you mean 'seed000_deep_activations'?"),
        (
            ["run", "dying_relu", "--set", "model.detph=3"],
            "--set: model.detph: unknown key; did you mean 'depth'?",
        ),
        (["check", "dying_relu", "--set", "data.name=csv"], "data.path: empty"),
        (["compare", "seed004_breast_cancer"], "compare needs at least one --vary"),
        (
            ["compare", "dying_relu", "--vary", "model.activation"],
            "--vary: 'model.activation': expected key=v1,v2",
        ),
        (
            ["compare", "dying_relu", "--vary", "model.activation=relu,sigmod"],
            "--vary: model.activation: must be one of",
        ),
        (["run", "dying_relu", "--steps", "0"], "argument --steps: must be >= 1, got 0"),
        (["run", "dying_relu", "--steps", "5", "--epochs", "2"], "not allowed with argument"),
        (["run"], "the following arguments are required: CONFIG|PRESET"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_invalid_input_exits_2_with_one_readable_message(argv, message, capsys, tmp_path):
    assert (
        cli.main(
            [*argv, "--out", str(tmp_path / "o")]
            if argv[0] in ("run", "compare") and len(argv) > 1
            else argv
        )
        == 2
    )
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_diverging_run_exits_3_and_keeps_what_it_recorded(tmp_path, capsys):
    out = tmp_path / "div"
    assert cli.main(["run", *DIVERGING, "--out", str(out), "--no-plots"]) == 3
    err = capsys.readouterr().err
    assert (
        "diverged at step 5: pre-activation z of hidden 2 became NaN/Inf during the "
        "forward phase" in err
    )
    assert "clip" in err  # the advice
    header, rows = _csv(out / "metrics.csv")
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["diverged"]["step"] == 5
    assert summary["diverged"]["layer_label"] == "hidden 2"
    assert (out / "config.toml").is_file()


def test_runtime_failure_exits_1(tmp_path, capsys, monkeypatch):
    import engine.experiments

    def broken(*args, **kwargs):
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(engine.experiments, "run_experiment", broken)
    assert cli.main(["run", *SMALL, "--out", str(tmp_path / "x"), "--no-plots"]) == 1
    err = capsys.readouterr().err
    assert "runtime failure: RuntimeError: kernel exploded" in err
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- compare


def test_compare_writes_one_row_and_one_csv_per_variant(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = [
        "compare",
        "dying_relu",
        "--vary",
        "model.activation=relu,tanh",
        "--vary",
        "training.learning_rate=0.1,0.01",
        "--steps",
        "10",
        "--out",
        str(out),
        "--no-plots",
    ]
    assert cli.main(argv) == 0
    names = [
        "activation=relu,learning_rate=0.1",
        "activation=relu,learning_rate=0.01",
        "activation=tanh,learning_rate=0.1",
        "activation=tanh,learning_rate=0.01",
    ]
    header, rows = _csv(out / "summary.csv")
    assert [r[0] for r in rows] == names
    assert header[:3] == ["variant", "steps", "diverged_step"]
    assert {"loss", "accuracy", "test_loss", "test_accuracy", "vanish_step"} <= set(header)
    for name in names:
        h, r = _csv(out / f"metrics_{name}.csv")
        assert h == _metric_columns(6)
        assert len(r) == 10
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["variants"]) == names
    stdout = capsys.readouterr().out
    assert all(n in stdout for n in names)
    # config.toml reproduces the comparison: it keeps the vary options
    assert cli.main(["check", str(out / "config.toml")]) == 0
    assert "(4 variants)" in capsys.readouterr().out


def test_compare_uses_the_presets_own_vary_and_exits_3_if_a_variant_diverges(tmp_path, capsys):
    out = tmp_path / "exp"
    assert (
        cli.main(
            [
                "compare",
                "exploding_clipping",
                "--steps",
                "30",
                "--out",
                str(out),
                "--no-plots",
                "--quiet",
            ]
        )
        == 3
    )
    _, rows = _csv(out / "summary.csv")
    assert [(r[0], r[2]) for r in rows] == [
        ("clip_norm=0", "5"),
        ("clip_norm=1", ""),
        ("clip_norm=5", ""),
    ]
    assert "clip_norm=0: diverged at step 5" in capsys.readouterr().err


# ----------------------------------------------------------------------------- others


def test_check_presets_version_and_help(capsys):
    assert cli.main(["check", "seed004_breast_cancer"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK  seed004_breast_cancer")
    assert "30-128-64-1" in out

    assert cli.main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "seed000_deep_activations" in out
    assert "dying_relu" in out
    assert cli.main(["presets", "dying_relu"]) == 0
    assert "Watch" in capsys.readouterr().out

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"vglab {cli.version()}"

    for command in ([], ["run"], ["compare"], ["check"], ["presets"]):
        assert cli.main([*command, "--help"]) == 0
        assert "examples:" in capsys.readouterr().out


# ----------------------------------------------------------------------------- runner


def test_logged_rows_stay_bounded_and_end_at_the_last_step():
    from engine.config import apply_overrides
    from engine.experiments import run_experiment
    from engine.presets import load_preset

    config = apply_overrides(load_preset("dying_relu"), ["logging.history=16"])
    result = run_experiment(config, steps=101)
    steps = result.column("step")
    assert len(steps) <= 17  # the session's bounded history + the final step
    assert (steps[0], steps[-1]) == (1, 101)
    assert list(steps) == sorted(steps)
    assert result.final_grad_norm().shape == (7,)


def test_vary_values_split_outside_brackets_and_names_stay_unambiguous():
    from engine.presets import load_preset
    from engine.variants import expand, parse_vary, split_values

    assert split_values("[16,16],[32], 'a,b'") == ["[16,16]", "[32]", "'a,b'"]
    assert parse_vary(["model.hidden=[16],[16,16]"]) == [("model.hidden", ["[16]", "[16,16]"])]
    names = list(
        expand(
            load_preset("dying_relu"),
            ["data.seed=0,1", "training.seed=2", "model.hidden=[8],[8,8]"],
        )
    )
    assert names == [
        "data.seed=0,training.seed=2,hidden=[8]",
        "data.seed=0,training.seed=2,hidden=[8,8]",
        "data.seed=1,training.seed=2,hidden=[8]",
        "data.seed=1,training.seed=2,hidden=[8,8]",
    ]


def test_compare_refuses_a_value_given_twice(tmp_path):
    """ "depth=2,2" would run one variant where the user asked for two."""
    proc = _main_py(tmp_path, "compare", "dying_relu", "--vary", "depth=2,2,4", "--steps", "5")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "vglab: error: --vary: depth: 2 given more than once"
    ]
