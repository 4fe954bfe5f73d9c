"""Lint belongs to the test suite, so CI's one test command runs it too."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_tool(tool: str, *args: str) -> subprocess.CompletedProcess:
    """``tool args`` in the repository root; skipped when the test extras are not installed."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (pip install -e '.[test]' installs it)")
    return subprocess.run(
        [path, *args], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False
    )


def test_ruff_finds_nothing():
    proc = run_tool("ruff", "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_leaves_every_file_as_it_is():
    proc = run_tool("ruff", "format", "--check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_contracts_hold():
    """pyproject's [tool.importlinter] contracts: the engine is Qt-free, panels take arrays,
    the view models and frames are Qt-free."""
    proc = run_tool("lint-imports", "--no-cache")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
