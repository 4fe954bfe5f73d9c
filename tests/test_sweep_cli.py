"""``vglab sweep`` as a user runs it: ``python main.py sweep`` in a subprocess."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import tiny
from PySide6.QtGui import QImage

from engine.config import save

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}

pytestmark = pytest.mark.slow  # spawns the pool's processes


def _config(tmp_path: Path, **changes) -> str:
    net = {"model.activation": "tanh", "model.init": "fan_in_normal", "model.sigma_b2": 0.05}
    path = tmp_path / "net.toml"
    save(tiny(**{**net, **changes}), path)
    return str(path)


def _sweep(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "sweep", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=ENV,
        timeout=300,
    )


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_text().splitlines()))


def test_sweep_writes_the_table_the_figure_and_the_factor(tmp_path):
    out = tmp_path / "out"
    grid = ["--grid", "model.sigma_w2=1,2", "--grid", "depth=2:3:2"]
    proc = _sweep(tmp_path, _config(tmp_path), *grid, "--steps", "20", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "2 x 2 = 4 nets (model.sigma_w2 x model.depth), 20 steps each" in proc.stdout
    assert "4/4 nets" in proc.stderr  # the progress log
    rows = _rows(out / "sweep.csv")
    assert [(r["model.sigma_w2"], r["model.depth"]) for r in rows] == [
        ("1", "2"), ("1", "3"), ("2", "2"), ("2", "3"),
    ]  # fmt: skip
    assert {r["status"] for r in rows} == {"ok"}
    assert all(r["xi_c"] for r in rows)
    assert "6 xi_c" in proc.stdout or "no column" in proc.stdout
    image = QImage(str(out / "sweep.png"))
    assert image.width() >= 1000
    assert (out / "sweep.svg").stat().st_size > 1000


@pytest.mark.parametrize(
    ("grid", "words"),
    [
        (["--grid", "model.sigma_w2=1,2"], "--grid: a sweep needs two"),
        (["--grid", "model.sigma_w3=1,2", "--grid", "depth=2,3"], "--grid: model.sigma_w3"),
        (["--grid", "model.sigma_w2=1,2", "--grid", "depth=0:4:3"], "model.depth: must be"),
        (["--grid", "model.sigma_w2=", "--grid", "depth=2"], "--grid: 'model.sigma_w2='"),
    ],
)
def test_bad_grid_exits_2_naming_it_and_writes_nothing(tmp_path, grid, words):
    out = tmp_path / "out"
    proc = _sweep(tmp_path, _config(tmp_path), *grid, "--steps", "5", "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def _slow_sweep(tmp_path: Path, out: Path) -> subprocess.Popen:
    """A sweep of 10 nets that take a while, once the first one or two have finished."""
    cfg = _config(tmp_path, **{"model.width": 64})
    argv = ["--grid", "model.sigma_w2=1,2", "--grid", "depth=20:60:5", "--steps", "300"]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "sweep", cfg, *argv, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=ENV,
    )
    for line in proc.stderr:  # the log: one line per net (10% each)
        if "[1/10 nets]" in line or "[2/10 nets]" in line:
            break
    return proc


def test_ctrl_c_writes_the_nets_that_finished_and_exits_130(tmp_path):
    out = tmp_path / "out"
    proc = _slow_sweep(tmp_path, out)
    try:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    rows = _rows(out / "sweep.csv")
    statuses = [r["status"] for r in rows]
    assert len(rows) == 10
    assert 1 <= statuses.count("ok") < 10
    assert "not run" in statuses


def pool_workers(pid: int) -> list[int]:
    """The pids of the spawned pool processes of process ``pid`` (not its resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_a_killed_worker_ends_the_sweep_with_a_message_and_the_nets_that_finished(tmp_path):
    """A pool worker killed as the OOM killer would (SIGKILL): multiprocessing.Pool waited for
    its net for good; now the CLI says so, writes what finished and exits 1."""
    out = tmp_path / "out"
    proc = _slow_sweep(tmp_path, out)
    try:
        workers = pool_workers(proc.pid)
        assert workers, "no pool process found"
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=90)  # it hung here for good
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    match = re.search(r"a worker process died .* after (\d+) of 10 nets had finished", err)
    assert match, err
    rows = _rows(out / "sweep.csv")
    assert len(rows) == 10
    statuses = [r["status"] for r in rows]
    assert 10 - statuses.count("not run") == int(match.group(1)) >= 1
    assert "not run" in statuses


def test_a_cold_cache_is_compiled_once_not_by_every_worker(tmp_path):
    """On a cold Numba cache each pool worker compiled the same kernels at once (and the
    CLI compiled them a third time in-process); now one compile process fills the cache
    and every worker loads from it."""
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    env = {**ENV, "NUMBA_CACHE_DIR": str(cache), "NUMBA_DEBUG_CACHE": "1"}
    argv = ["--grid", "model.sigma_w2=1,2", "--grid", "depth=2,3", "--steps", "5", "--no-plots"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "sweep", _config(tmp_path), *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("compiling kernels") == 1
    # Numba logs "[cache] data saved to ..." where it compiles; the compile process's log
    # goes to the app's reader, the workers' (and this process's) to this output
    assert "[cache] data saved" not in proc.stdout + proc.stderr
    assert "[cache] data loaded" in proc.stdout
    assert list(cache.rglob("vglab-warm-float64:1:1-*"))
