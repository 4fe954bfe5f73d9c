"""Bad input from the command line: every mistake exits 2 naming the field or file, a run that
diverges at once exits 3 with what it has written, nothing hangs, nothing is half-written.

The CLI cases run ``main.py`` in a subprocess (as a user does); the writing and the limits are
also checked in-process where a subprocess cannot set the scene (a full disk).
"""

import errno
import gzip
import json
import math
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cli
from engine import config as config_module
from engine import io as io_module
from engine.config import (
    ConfigError,
    ExperimentConfig,
    clean_stale_temps,
    from_dict,
    updated,
    write_atomic,
)
from engine.datasets import DataError, load_csv, load_dataset
from engine.experiments import run_experiment, write_summary_json
from engine.history import Trace
from engine.limits import MAX_VARIANTS, estimate_memory, memory_limit
from engine.session import Session

ROOT = Path(__file__).resolve().parent.parent
GIB = 1024**3
SMALL = ["seed000_deep_activations", "--set", "model.depth=2"]


def address_space_limit(n_bytes: int):
    """A ``preexec_fn`` capping the child's address space: a big allocation fails there."""

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (n_bytes, n_bytes))

    return limit


def vglab(
    *args: str,
    cwd: Path,
    timeout: float = 60,
    env: dict | None = None,
    max_bytes: int | None = None,
):
    """``python main.py ARGS`` in ``cwd``; the completed process (text output)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        preexec_fn=address_space_limit(max_bytes) if max_bytes else None,
    )


def assert_refused(proc, *words: str) -> None:
    """Exit 2, one clear message naming ``words``, no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


# ----------------------------------------------------------------------------- 1. diverge at once


@pytest.mark.parametrize(
    "sets",
    [
        ["model.init=normal", "model.init_scale=1e200", "model.activation=relu"],
        ['model.dtype="float32"', "training.learning_rate=1e308"],
    ],
)
def test_run_diverging_at_the_first_step_exits_3_and_writes_what_it_has(tmp_path, sets):
    out = tmp_path / "out"
    args = [x for s in sets for x in ("--set", s)]
    proc = vglab(
        "run", *SMALL, *args, "--steps", "5", "--out", str(out), "--no-plots", "-q", cwd=tmp_path
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "diverged at step 1" in proc.stderr
    assert "phase" in proc.stderr
    assert "hidden" in proc.stderr or "output" in proc.stderr  # names the layer
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["diverged"]["step"] == 1
    lines = (out / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("step,epoch,loss")  # the header, no row
    assert (out / "config.toml").is_file()


def test_compare_with_a_variant_diverging_at_once_exits_3(tmp_path):
    out = tmp_path / "out"
    proc = vglab(
        "compare",
        *SMALL,
        "--set",
        "model.init=normal",
        "--set",
        "model.activation=relu",
        "--vary",
        "model.init_scale=0.05,1e200",
        "--steps",
        "3",
        "--out",
        str(out),
        "--no-plots",
        "-q",
        cwd=tmp_path,
    )
    assert proc.returncode == 3, proc.stderr
    assert "init_scale=1e200: diverged at step 1" in proc.stderr
    assert (out / "metrics_init_scale=1e200.csv").is_file()
    assert (out / "metrics_init_scale=0.05.csv").is_file()


BIG_CSV = "a,b,label\n1e308,1e308,0\n-1e308,1e308,1\n1,2,0\n3,4,1\n5,6,0\n"


def test_csv_cells_of_1e308_fed_raw_train_or_diverge_cleanly(tmp_path):
    # sigmoid units saturate on such inputs (the lab's subject), so a run may well finish;
    # a ReLU net overflows at once and must say where (exit 3), never warn or crash
    data = tmp_path / "big.csv"
    data.write_text(BIG_CSV, encoding="utf-8")
    common = (
        *SMALL,
        "--set",
        'data.name="csv"',
        "--set",
        f'data.path="{data}"',
        "--set",
        'data.scaling="raw"',
        "--steps",
        "3",
        "--no-plots",
        "-q",
    )
    proc = vglab("run", *common, "--out", str(tmp_path / "s"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    proc = vglab(
        "run",
        *common,
        "--set",
        'model.activation="relu"',
        "--set",
        'model.init="he_normal"',
        "--out",
        str(tmp_path / "r"),
        cwd=tmp_path,
    )
    assert proc.returncode == 3, proc.stderr
    assert "diverged at step 1" in proc.stderr
    assert "Warning" not in proc.stderr


@pytest.mark.parametrize("scaling", ["standardize", "minmax"])
def test_csv_cells_too_large_to_scale_are_refused_naming_the_columns(tmp_path, scaling):
    data = tmp_path / "big.csv"
    data.write_text(BIG_CSV, encoding="utf-8")
    proc = vglab(
        "run",
        *SMALL,
        "--set",
        'data.name="csv"',
        "--set",
        f'data.path="{data}"',
        "--set",
        f'data.scaling="{scaling}"',
        "--steps",
        "3",
        "--out",
        str(tmp_path / "o"),
        "--no-plots",
        "-q",
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "data.scaling: feature column(s) 0" in proc.stderr
    assert "Warning" not in proc.stderr  # no NumPy overflow noise either
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- 2. NaN and inf

FLOAT_FIELDS = [
    "model.bias_init",
    "training.learning_rate",
    "model.leaky_slope",
    "model.prelu_init",
    "model.init_scale",
    "model.elu_alpha",
    "data.noise",
    "training.epsilon",
    "training.weight_decay",
    "training.clip_norm",
    "training.clip_value",
    "training.momentum",
    "data.test_fraction",
]


@pytest.mark.parametrize("field", FLOAT_FIELDS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_every_float_field_must_be_finite(field, value):
    section, name = field.split(".")
    with pytest.raises(ConfigError) as info:
        from_dict({section: {name: value}})
    assert info.value.errors == [f"{field}: must be a finite number, got {value!r}"]


def test_json_nan_and_infinity_are_refused_naming_the_fields(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(
        '{"model": {"bias_init": NaN}, "training": {"clip_norm": Infinity}}', encoding="utf-8"
    )
    assert_refused(
        vglab("check", str(path), cwd=tmp_path), "model.bias_init", "finite", "training.clip_norm"
    )


def test_summary_json_is_valid_json_whatever_the_config_holds(tmp_path):
    config = updated(
        ExperimentConfig(), **{"model.depth": 1, "training.steps": 2, "data.name": "xor"}
    )
    result = run_experiment(config)
    # a config that skipped validation (or an overflowed figure) must not break the summary
    bad = updated(config, **{"training.clip_norm": math.inf, "training.epsilon": math.nan})
    object.__setattr__(result, "config", bad)
    path = write_summary_json(result, tmp_path / "summary.json")
    doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=pytest.fail)
    assert doc["config"]["training"]["clip_norm"] is None


# ----------------------------------------------------------------------------- 3. exit 2, named


@pytest.mark.parametrize(
    ("sets", "field"),
    [
        (["data.seed=-1"], "data.seed"),
        (["training.seed=-3"], "training.seed"),
        (["logging.history=1001"], "logging.history"),
        (['data.name="surface"'], "model.loss"),
        (["model.width=2147483648"], "model.width"),
        (['data.label_column="' + "9" * 5000 + '"'], "data.label_column"),
    ],
)
def test_bad_values_exit_2_naming_the_field(tmp_path, sets, field):
    args = [x for s in sets for x in ("--set", s)]
    proc = vglab("check", *SMALL, *args, cwd=tmp_path)
    assert_refused(proc, field)
    assert len(proc.stderr) < 600  # a 5000-digit value is not repeated in full


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", '{"a":' * 100_000 + "1" + "}" * 100_000),
        ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000),
    ],
    ids=["json", "toml"],
)
def test_deeply_nested_documents_exit_2(tmp_path, name, text):
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert_refused(vglab("check", name, cwd=tmp_path), name, "nested too deeply")


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_integers_of_thousands_of_digits_are_refused(suffix):
    text = '{"model": {"depth": 1%s}}' if suffix == ".json" else "[model]\ndepth = 1%s"
    with pytest.raises(ConfigError, match="invalid number: an integer of more than 4300 digits"):
        config_module.parse_document(text % ("0" * 5000), suffix)
    # below Python's guard the numbers parse, and the estimate (plain integers) refuses them
    with pytest.raises(ConfigError, match=r"model\.width: .* 10\^15 TiB or more"):
        from_dict({"model": {"depth": 10**4000, "width": 10**4000}})


# ----------------------------------------------------------------------------- 4. size limits


@pytest.mark.parametrize(
    ("sets", "field"),
    [
        (["model.width=30000", "model.depth=3"], "model.width"),
        (["model.width=100000", "model.depth=1000"], "model.width"),
        (["logging.history=1000000000000", "training.steps=1000000000000"], "logging.history"),
        (['data.name="spiral"', "data.n_samples=1000000000"], "data.n_samples"),
    ],
)
def test_what_cannot_fit_is_refused_with_the_estimate_and_the_limit(tmp_path, sets, field):
    args = [x for s in sets for x in ("--set", s)]
    proc = vglab("check", "seed000_deep_activations", *args, cwd=tmp_path, timeout=30)
    assert_refused(proc, field, "needs about", "more than the limit of")


def test_one_estimate_is_used_by_validate_and_by_the_session_with_the_real_data(
    tmp_path, monkeypatch
):
    # a CSV's size is unknown to validate(); the session checks again once it is read
    rows = [",".join([str(i % 7)] * 2000 + [str(i % 2)]) for i in range(20)]
    (tmp_path / "wide.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = updated(
        ExperimentConfig(),
        **{
            "data.name": "csv",
            "data.path": str(tmp_path / "wide.csv"),
            "model.depth": 1,
            "model.width": 2000,
        },
    )
    real = estimate_memory(config, (20, 2000, 2)).total
    assert estimate_memory(config).total < real
    monkeypatch.setenv("VGLAB_MEMORY_LIMIT", str(real - 1))
    assert memory_limit() == real - 1
    with pytest.raises(ConfigError, match="model.width: this experiment needs about"):
        Session(config)


def test_the_history_grows_with_use_instead_of_being_allocated_up_front():
    config = updated(
        ExperimentConfig(),
        **{"model.depth": 300, "model.width": 2, "data.name": "xor", "logging.history": 4096},
    )
    session = Session(config)
    assert session.trace.nbytes < 64 * 301 * 15 * 8 + 64 * 8 + 1  # 64 rows, not 4096
    session.run(100)
    assert session.trace.count == 100
    assert len(session.trace.steps) == 128


def test_trace_keeps_its_record_while_growing_and_compacting():
    t = Trace(256, (2,))
    for step in range(1, 1001):
        t.append(step, (step, -step))
    steps, rows = t.view()
    assert len(t.steps) == 256
    assert t.stride == 4
    assert list(steps[:3]) == [1, 5, 9]
    assert rows[1, 1] == -5


def test_a_compare_counts_its_variants_before_building_them(tmp_path):
    values = ",".join(str(v) for v in range(1, 101))
    vary = [
        x
        for key in ("model.depth", "model.width", "training.batch_size", "training.epochs")
        for x in ("--vary", f"{key}={values}")
    ]
    proc = vglab(
        "compare",
        "seed000_deep_activations",
        *vary,
        "--steps",
        "1",
        "--out",
        str(tmp_path / "o"),
        cwd=tmp_path,
        timeout=30,
    )
    assert_refused(proc, "--vary", "100000000 combinations", f"at most {MAX_VARIANTS}")
    assert not (tmp_path / "o").exists()


def test_the_app_compare_counts_its_variants_before_building_them(monkeypatch):
    from engine import compare, variants

    built = []
    monkeypatch.setattr(variants, "apply_overrides", lambda *a, **k: built.append(a))
    values = ",".join(str(v / 1000) for v in range(1, 101))
    keys = ("model.init_scale", "training.learning_rate", "training.momentum", "model.dropout")
    with pytest.raises(ValueError, match="100000000 combinations; a comparison runs at most 8"):
        compare.expand_variants(ExperimentConfig(), [f"{k}={values}" for k in keys])
    assert built == []


# ----------------------------------------------------------------------------- 5. MNIST files


def _mnist_arrays(n: int = 12):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    return {"x_train": x, "y_train": np.arange(n) % 10, "x_test": x, "y_test": np.arange(n) % 10}


def _mnist_cases(folder: Path) -> dict[str, Path]:
    """Broken MNIST files, each a class of what users have fed the loader."""
    a = _mnist_arrays()
    cases = {}
    cases["npy"] = folder / "x.npy"
    np.save(cases["npy"], a["x_train"])
    cases["junk_zip"] = folder / "junk.npz"
    with zipfile.ZipFile(cases["junk_zip"], "w") as z:
        for k in a:
            z.writestr(f"{k}.npy", b"garbage" * 10)
    good = folder / "good.npz"
    np.savez_compressed(good, **a)
    raw = good.read_bytes()
    cases["truncated"] = folder / "truncated.npz"
    cases["truncated"].write_bytes(raw[: len(raw) // 2])
    corrupt = bytearray(raw)
    corrupt[200:260] = bytes(b ^ 0xFF for b in corrupt[200:260])
    cases["corrupt_deflate"] = folder / "corrupt.npz"
    cases["corrupt_deflate"].write_bytes(bytes(corrupt))
    cases["nan_labels"] = folder / "nan_labels.npz"
    np.savez(cases["nan_labels"], **{**a, "y_train": np.where(a["y_train"] > 4, np.nan, 1.0)})
    cases["zero_images"] = folder / "zero.npz"
    np.savez(cases["zero_images"], **{k: v[:0] for k, v in a.items()})
    cases["nan_images"] = folder / "nan_images.npz"
    np.savez(cases["nan_images"], **{**a, "x_train": np.full((12, 28, 28), np.nan)})
    return cases


def test_mnist_file_errors_are_data_errors_naming_the_file(tmp_path):
    for case, path in _mnist_cases(tmp_path).items():
        config = updated(ExperimentConfig().data, name="mnist", path=str(path))
        with pytest.raises(DataError) as info:
            load_dataset(config)
        assert str(info.value).startswith(str(path)), case


def test_mnist_files_exit_2_from_the_command_line(tmp_path):
    cases = _mnist_cases(tmp_path)
    for case in ("npy", "corrupt_deflate", "nan_labels"):
        proc = vglab(
            "check",
            *SMALL,
            "--set",
            'data.name="mnist"',
            "--set",
            f'data.path="{cases[case]}"',
            cwd=tmp_path,
        )
        assert_refused(proc, str(cases[case]))


def _gzip_bomb(path: Path, announced: tuple[int, int, int], real_mib: int) -> None:
    """An IDX image file announcing ``announced`` whose gzip body inflates to ``real_mib``."""
    zeros = gzip.compress(bytes(1 << 20), compresslevel=1)  # gzip members concatenate
    header = gzip.compress(b"\x00\x00\x08\x03" + struct.pack(">III", *announced))
    path.write_bytes(header + zeros * real_mib)


def test_a_gzip_bomb_is_refused_from_its_header_before_decompressing(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    _gzip_bomb(folder / "train-images-idx3-ubyte.gz", (8192, 1024, 1024), 1024)
    for name in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 0))
    # 1 GiB of zeros behind the header: reading it all would take seconds and the memory
    proc = vglab(
        "check",
        *SMALL,
        "--set",
        'data.name="mnist"',
        "--set",
        f'data.path="{folder}"',
        cwd=tmp_path,
        timeout=20,
        env={"VGLAB_MEMORY_LIMIT": "2G"},
        max_bytes=GIB,
    )
    assert_refused(proc, "train-images-idx3-ubyte.gz", "(8192, 1024, 1024)", "8.0 GiB", "limit")


def test_an_idx_file_holding_more_or_less_than_its_header_says_is_refused(tmp_path):
    from engine.datasets.mnist import _read_idx

    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 4) + bytes(5))
    with pytest.raises(DataError, match="holds more data bytes"):
        _read_idx(path)
    path.write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 4) + bytes(3))
    with pytest.raises(DataError, match="holds 3 data bytes"):
        _read_idx(path)


# ----------------------------------------------------------------------------- 6. --out


def test_out_mistakes_exit_2_naming_out(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    for out in (a_file, Path("/dev/null"), a_file / "below"):
        proc = vglab(
            "run", *SMALL, "--steps", "1", "--out", str(out), "--no-plots", "-q", cwd=tmp_path
        )
        assert_refused(proc, "--out:", str(out))
    assert a_file.read_text(encoding="utf-8") == "x"


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders"
)
def test_a_read_only_out_folder_exits_2(tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        proc = vglab(
            "run", *SMALL, "--steps", "1", "--out", str(out), "--no-plots", "-q", cwd=tmp_path
        )
    finally:
        out.chmod(0o700)
    assert_refused(proc, "--out:", "not writable")


def test_a_full_disk_exits_1_naming_the_file_and_leaves_no_half_written_file(
    tmp_path, monkeypatch, capsys
):
    class FullDisk:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    class OsWithAFullDisk:  # engine.io's view of os; everyone else keeps the real one
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def fdopen(*args, **kwargs):
            return FullDisk(os.fdopen(*args, **kwargs))

    monkeypatch.setattr(io_module, "os", OsWithAFullDisk())
    out = tmp_path / "out"
    code = cli.main(["run", *SMALL, "--steps", "2", "--out", str(out), "--no-plots", "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{out / 'config.toml'}: No space left on device" in err
    assert "Traceback" not in err
    assert list(out.iterdir()) == []  # neither a half file nor its temporary


def test_a_300_character_name_gets_a_short_folder(tmp_path):
    proc = vglab(
        "run",
        *SMALL,
        "--set",
        f'name="{"n" * 300}"',
        "--steps",
        "2",
        "--no-plots",
        "-q",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    assert len(folder.name) < 130
    assert folder.name.startswith("n" * 50)
    assert (folder / "summary.json").is_file()


def test_temporaries_of_killed_writers_are_cleaned_by_the_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".metrics.csv.{dead.pid}.0123abcd.tmp"
    live = tmp_path / f".summary.json.{os.getpid()}.0123abcd.tmp"  # a writer still at work
    # other programs' temporaries of a similar shape, in a user's folder, are not ours
    others = [
        tmp_path / f".draft.{dead.pid}.tmp",
        tmp_path / f".notes.txt.{dead.pid}.backup.tmp",
        tmp_path / f".notes.txt.{dead.pid}.0123ABCD.tmp",
    ]
    for path in [stale, live, *others]:
        path.write_text("half", encoding="utf-8")
    write_atomic(tmp_path / "config.toml", "name = 'x'\n")
    assert not stale.exists()
    assert live.exists()
    assert all(path.exists() for path in others)
    assert clean_stale_temps(tmp_path) == []


def test_write_atomic_never_touches_the_process_umask(tmp_path, monkeypatch):
    old = os.umask(0o027)
    try:

        def forbidden(mask):
            raise AssertionError("os.umask changed: racy with other threads")

        monkeypatch.setattr(io_module.os, "umask", forbidden)
        new = write_atomic(tmp_path / "new.txt", "a")
        assert new.stat().st_mode & 0o777 == 0o640  # what open() gives
        kept = tmp_path / "kept.txt"
        kept.write_text("old", encoding="utf-8")
        kept.chmod(0o600)
        write_atomic(kept, "new")
        assert kept.stat().st_mode & 0o777 == 0o600  # a rewrite keeps its mode
    finally:
        monkeypatch.undo()
        os.umask(old)


# ----------------------------------------------------------------------------- 7. minor


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_instead_of_blocking(tmp_path):
    os.mkfifo(tmp_path / "c.toml")
    os.mkfifo(tmp_path / "d.csv")
    assert_refused(
        vglab("check", "c.toml", cwd=tmp_path, timeout=20), "c.toml", "not a regular file"
    )
    proc = vglab(
        "check",
        *SMALL,
        "--set",
        'data.name="csv"',
        "--set",
        f'data.path="{tmp_path / "d.csv"}"',
        cwd=tmp_path,
        timeout=20,
    )
    assert_refused(proc, "d.csv", "not a regular file")


def test_an_empty_config_argument_says_so(tmp_path):
    assert_refused(vglab("check", "", cwd=tmp_path), "empty CONFIG")


def test_run_validates_the_compare_table_it_does_not_use(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[model]\ndepth = 2\n[compare]\nvary = ["model.depth=0,1"]\n', encoding="utf-8")
    proc = vglab(
        "run", str(path), "--steps", "1", "--out", str(tmp_path / "o"), "--no-plots", cwd=tmp_path
    )
    assert_refused(proc, "--vary", "model.depth")


def test_a_utf8_bom_in_toml_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbfname = "bom"\n[model]\ndepth = 2\n')
    assert config_module.load(path).name == "bom"


def test_a_csv_header_of_column_numbers_is_a_header(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("0,1,2,3\n0.5,1.5,2.5,0\n1.5,0.5,3.5,1\n", encoding="utf-8")
    X, y, names, _ = load_csv(path, "3")
    assert X.shape == (2, 3)
    assert names == ("0", "1", "2")
    data = tmp_path / "d.csv"  # a first row of ordinary numbers stays data
    data.write_text("0.5,1.5,2.5,0\n1.5,0.5,3.5,1\n", encoding="utf-8")
    assert load_csv(data)[0].shape == (2, 3)


def test_a_100_kb_value_is_cut_in_the_message(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text(f'[model]\nactivation = "{"y" * 100_000}"\n', encoding="utf-8")
    proc = vglab("check", str(path), cwd=tmp_path)
    assert_refused(proc, "model.activation", "…")
    assert len(proc.stderr) < 500
