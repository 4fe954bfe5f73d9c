"""engine.io: the one atomic writer and the one CSV writer (no Qt)."""

from __future__ import annotations

import csv
import os
import stat

import numpy as np
import pytest

from engine import io as eio


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, mask):
    old = os.umask(mask)  # set once, before writing: the writer itself never calls umask
    try:
        with open(tmp_path / "reference.txt", "w") as f:
            f.write("x")
        eio.write_atomic(tmp_path / "atomic.txt", "x")
        eio.write_csv(tmp_path / "table.csv", ["a"], [[1]])
    finally:
        os.umask(old)
    want = _mode(tmp_path / "reference.txt")
    assert _mode(tmp_path / "atomic.txt") == want
    assert _mode(tmp_path / "table.csv") == want


def test_a_failing_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "summary.csv"
    target.write_text("old", encoding="utf-8")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(eio.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left") as info:
        eio.write_csv(target, ["a"], [[1]])
    assert info.value.filename == str(target)
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]


def test_a_folder_is_not_overwritten(tmp_path):
    with pytest.raises(OSError, match="folder") as info:
        eio.write_atomic(tmp_path, "x")
    assert info.value.filename == str(tmp_path)


def test_csv_cells_keep_full_precision_and_read_back_exactly(tmp_path):
    values = [0.1, 1e-300, np.float64(2.0) / 3, float("nan"), float("inf"), np.int64(7), "a,b"]
    path = eio.write_csv(tmp_path / "m.csv", [f"c{i}" for i in range(len(values))], [values])
    with open(path, newline="") as f:
        header, row = list(csv.reader(f))
    assert header == [f"c{i}" for i in range(len(values))]
    assert [float(x) for x in row[:3]] == [0.1, 1e-300, 2.0 / 3]
    assert row[3:] == ["nan", "inf", "7", "a,b"]
