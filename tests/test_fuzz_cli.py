"""Fuzz the command line with bad configs and bad data files (hypothesis, derandomised).

Every generated case runs ``main.py`` in a subprocess, as a user would, and must:

- exit 0 (the input happened to be fine), 2 naming the field or the file (invalid input) or
  3 with the divergence told (a run that blew up): never 1, never a traceback;
- finish within ``TIMEOUT`` seconds (a hang fails the test);
- stay within ``MAX_BYTES`` of address space (``RLIMIT_AS`` in the child: an allocation
  beyond it fails there with MemoryError, i.e. exit 1); the engine's own limit is set lower
  (``VGLAB_MEMORY_LIMIT``) so what cannot fit is refused, not attempted;
- leave no half-written file: no temporaries, every summary.json parses, every metrics.csv
  row has the header's width.

Most cases run ``vglab check`` (fast); a few run ``vglab run --steps 2 --no-plots``.
"""

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import ExperimentConfig, to_dict

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30  # seconds per CLI call
MAX_BYTES = 1536 * 1024**2  # address-space cap of every child (the stated limit)
ENGINE_LIMIT = "256M"  # what the engine may plan to allocate


def fuzz(examples: int):
    """Fixed, derandomised examples: CI runs the same cases every time, in bounded time."""
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="RLIMIT_AS")]

BASE = {
    "name": "fuzz",
    "data": {"name": "xor", "n_samples": 64},
    "model": {"depth": 2, "width": 4},
    "training": {"steps": 2, "eval_every": 1},
}


def _limit_address_space() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MAX_BYTES, MAX_BYTES))


def vglab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python main.py ARGS`` under the time and memory caps (TimeoutExpired = a hang)."""
    env = {**os.environ, "VGLAB_MEMORY_LIMIT": ENGINE_LIMIT}
    env.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limit_address_space,
    )


#: how a message names a config field
FIELD = re.compile(
    r"\b(name|description|title|compare|document|data|model|training|logging)"
    r"(\.|\[|:)"
)


def assert_clean_exit(proc, names: list[str], codes=(0, 2)) -> None:
    """An allowed exit code, no traceback, and an exit-2 message naming a field or ``names``."""
    err = proc.stderr
    assert "Traceback" not in err, err
    assert proc.returncode in codes, f"exit {proc.returncode}: {err[-2000:]}"
    if proc.returncode == 2:
        assert "vglab: error:" in err, err
        named = any(n in err for n in names) or FIELD.search(err)
        assert named, f"names no field and none of {names}: {err[-2000:]}"
        assert max(len(line) for line in err.splitlines()) <= 1000


def assert_nothing_half_written(folder: Path) -> None:
    """No temporaries; whatever was written is complete."""
    if not folder.exists():
        return
    for path in folder.rglob("*"):
        assert not path.name.endswith(".tmp"), path
        if path.name == "summary.json":
            json.loads(path.read_text(encoding="utf-8"), parse_constant=pytest.fail)
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            assert rows, path
            assert all(len(r) == len(rows[0]) for r in rows), path


# ----------------------------------------------------------------------------- strategies

FIELD_PATHS = sorted(
    f"{section}.{key}"
    for section, table in to_dict(ExperimentConfig()).items()
    if isinstance(table, dict)
    for key in table
) + ["name", "description", "model.hidden[0].width", "model.hiden", "training.lr", "compare.vary"]

NASTY = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        -1,
        0,
        1,
        3,
        17,
        -(10**30),
        10**30,
        2**31,
        2**63 - 1,
        1e308,
        -1e308,
        1e-320,
        0.5,
        1e200,
        "",
        "x" * 5000,
        "nan",
        "relu",
        "surface",
        "csv",
        "mnist",
        True,
        [],
        {},
        [[[[1]]]],
        [1, 2, 3],
        {"width": -1},
        ["model.depth=1,2"],
    ]
)
VALUES = st.one_of(
    NASTY,
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.lists(st.integers(-3, 40), max_size=4),
)


def _set(doc: dict, path: str, value) -> None:
    """Put ``value`` at a dotted path (``model.hidden[0].width``) in a nested dict."""
    parts = re.findall(r"[^.\[\]]+", path)
    node = doc
    for i, part in enumerate(parts[:-1]):
        nxt: object = [] if parts[i + 1].isdigit() else {}
        if part.isdigit():
            while len(node) <= int(part):
                node.append({})
            if not isinstance(node[int(part)], dict):
                node[int(part)] = {}
            node = node[int(part)]
        else:
            if not isinstance(node.get(part), type(nxt)):
                node[part] = nxt
            node = node[part]
    last = parts[-1]
    node[last] = value


@st.composite
def bad_documents(draw) -> tuple[str, str]:
    """(suffix, text) of a config with 1-3 fields set to odd values."""
    doc = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 3))):
        _set(doc, draw(st.sampled_from(FIELD_PATHS)), draw(VALUES))
    if draw(st.booleans()):
        try:
            return ".toml", tomli_w.dumps(doc)
        except (TypeError, ValueError):  # e.g. mixed arrays TOML cannot hold
            pass
    return ".json", json.dumps(doc)


CELLS = st.one_of(
    st.sampled_from(
        ["", "nan", "inf", "1e308", "-1e308", "NA", "?", "1,5", '"', "x" * 200, "0", "1", "2"]
    ),
    st.floats(allow_nan=True).map(repr),
    st.integers(-5, 5).map(str),
    st.text(max_size=8),
)


@st.composite
def bad_csv(draw) -> str:
    """A CSV text: numbers mostly, odd cells, ragged rows, numeric or missing header."""
    n_cols = draw(st.integers(1, 5))
    header = draw(st.sampled_from(["names", "numbers", "none"]))
    lines = []
    if header == "names":
        lines.append(",".join(f"c{i}" for i in range(n_cols)))
    elif header == "numbers":
        lines.append(",".join(str(i) for i in range(n_cols)))
    for _ in range(draw(st.integers(0, 12))):
        width = n_cols if draw(st.integers(0, 9)) else draw(st.integers(1, 6))
        lines.append(",".join(draw(CELLS) for _ in range(width)))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines) + "\n"


@st.composite
def bad_mnist(draw) -> bytes:
    """Bytes of an 'mnist.npz': junk, a truncated archive, or arrays of odd shape/dtype."""
    kind = draw(st.sampled_from(["junk", "truncated", "arrays"]))
    if kind == "junk":
        return draw(st.binary(max_size=200))
    n = draw(st.integers(0, 6))
    side = draw(st.sampled_from([0, 1, 28]))
    dtype = draw(st.sampled_from(["uint8", "float64", "int64"]))
    x = np.zeros((n, side, side), dtype=dtype)
    labels = draw(
        st.sampled_from([np.arange(n) % 10, np.full(n, np.nan), np.full(n, 11), np.arange(n + 1)])
    )
    buf = io.BytesIO()
    np.savez_compressed(buf, x_train=x, y_train=labels, x_test=x, y_test=np.arange(n) % 10)
    raw = buf.getvalue()
    return raw[: len(raw) // 2] if kind == "truncated" else raw


# ----------------------------------------------------------------------------- the fuzz tests


@fuzz(10)
@given(document=bad_documents())
def test_check_bad_configs(tmp_path_factory, document):
    suffix, text = document
    folder = tmp_path_factory.mktemp("cfg")
    path = folder / f"exp{suffix}"
    path.write_text(text, encoding="utf-8")
    proc = vglab("check", path.name, cwd=folder)
    assert_clean_exit(proc, [path.name])


@fuzz(6)
@given(text=bad_csv(), label=st.sampled_from(["-1", "0", "c1", "label", "99"]))
def test_check_bad_csv_files(tmp_path_factory, text, label):
    folder = tmp_path_factory.mktemp("csv")
    (folder / "d.csv").write_text(text, encoding="utf-8")
    proc = vglab(
        "check",
        "seed000_deep_activations",
        "--set",
        'data.name="csv"',
        "--set",
        'data.path="d.csv"',
        "--set",
        f'data.label_column="{label}"',
        "--set",
        "model.depth=2",
        cwd=folder,
    )
    assert_clean_exit(proc, ["d.csv", "data."], codes=(0, 2))


@fuzz(5)
@given(raw=bad_mnist())
def test_check_bad_mnist_files(tmp_path_factory, raw):
    folder = tmp_path_factory.mktemp("mnist")
    (folder / "m.npz").write_bytes(raw)
    proc = vglab(
        "check",
        "seed000_deep_activations",
        "--set",
        'data.name="mnist"',
        "--set",
        'data.path="m.npz"',
        "--set",
        "model.depth=2",
        cwd=folder,
    )
    assert_clean_exit(proc, ["m.npz"])


@fuzz(3)
@given(
    sets=st.lists(
        st.sampled_from(
            [
                "model.init_scale=1e200",
                'model.init="normal"',
                "training.learning_rate=1e308",
                'model.dtype="float32"',
                'model.activation="relu"',
                "training.clip_norm=1e-300",
                "model.bias_init=1e150",
                "data.noise=1e300",
                "training.weight_decay=1e300",
            ]
        ),
        min_size=1,
        max_size=3,
        unique=True,
    )
)
def test_short_runs_exit_0_or_3_and_write_whole_files(tmp_path_factory, sets):
    folder = tmp_path_factory.mktemp("run")
    args = [x for s in sets for x in ("--set", s)]
    proc = vglab(
        "run",
        "seed000_deep_activations",
        "--set",
        "model.depth=2",
        *args,
        "--steps",
        "2",
        "--no-plots",
        "-q",
        "--out",
        "out",
        cwd=folder,
    )
    assert_clean_exit(proc, ["--set"], codes=(0, 2, 3))
    if proc.returncode == 3:
        assert "diverged at step" in proc.stderr
        assert (folder / "out" / "summary.json").is_file()
    assert_nothing_half_written(folder / "out")


def test_bad_out_paths_and_a_mnist_zip_of_junk(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("x_train.npy", b"\x93NUMPY" + bytes(100))
    proc = vglab(
        "run",
        "seed000_deep_activations",
        "--steps",
        "2",
        "--no-plots",
        "--out",
        "file/sub",
        cwd=tmp_path,
    )
    assert_clean_exit(proc, ["--out"], codes=(2,))
    proc = vglab(
        "check",
        "seed000_deep_activations",
        "--set",
        'data.name="mnist"',
        "--set",
        'data.path="z.npz"',
        cwd=tmp_path,
    )
    assert_clean_exit(proc, ["z.npz"], codes=(2,))
