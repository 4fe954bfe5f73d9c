"""The README's examples run as written: its command-line block and its engine snippet."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(heading: str, language: str) -> str:
    """The first ``language`` code block after ``heading``."""
    section = README[README.index(heading) :]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def _commands() -> list[list[str]]:
    lines = [line.split("#")[0].strip() for line in _block("## Command line", "bash").splitlines()]
    return [shlex.split(line) for line in lines if line]


def _env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


@pytest.mark.slow
def test_command_line_examples_run_in_order(tmp_path):
    commands = _commands()
    assert len(commands) >= 4
    for argv in commands:
        assert argv[0] == "vglab"
        # `vglab` is main.py's entry point; run the checkout's own file, as installed
        proc = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *argv[1:]],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_env(),
            timeout=600,
        )
        assert proc.returncode == 0, (argv, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr
    assert (tmp_path / "runs" / "first" / "metrics.csv").is_file()


def test_engine_snippet_runs(tmp_path):
    code = _block("## The engine in five lines", "python")
    env = {**_env(), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "backward" in proc.stdout or "forward" in proc.stdout
