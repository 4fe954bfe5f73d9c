"""What a new user installs: the wheel, its data, its dependencies and the Qt it runs on."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PRESETS = sorted(p.stem for p in (ROOT / "assets" / "presets").glob("*.toml"))


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built as `pip install .` builds it."""
    # from a copy: setuptools writes build/ and *.egg-info into the folder it builds
    src = tmp_path_factory.mktemp("src") / "project"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "runs", "*.egg-info", "__pycache__", ".*cache", ".hypothesis"
        ),
    )
    out = tmp_path_factory.mktemp("dist")
    proc = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)], cwd=out
    )
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("vanishing_gradient_lab-*.whl")
    return path


@pytest.mark.slow
def test_wheel_holds_the_presets_lessons_data_and_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for stem in PRESETS:
        assert f"vglab_assets/presets/{stem}.toml" in names
    for name in ("lessons.toml", "data/digits.npz", "data/breast_cancer.npz", "data/PROVENANCE.md"):
        assert f"vglab_assets/{name}" in names
    for suffix in (".ts", ".qm"):  # the Japanese catalog: the CLI reads one, Qt the other
        assert f"engine/translations/vglab_ja{suffix}" in names
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text
    assert any(n.endswith("licenses/LICENSE") for n in names)


@pytest.mark.slow
def test_installed_wheel_runs_from_another_folder(wheel, tmp_path):
    # the venv borrows the heavy dependencies (NumPy, Numba, Qt) from this interpreter; the
    # project itself comes only from the wheel, which the checks on __file__ below prove
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    vglab = env_dir / "bin" / "vglab"
    proc = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    where = _run(
        [
            str(python),
            "-c",
            "import engine, engine.resources as r, engine.recurrent, engine.numpy_path; "
            "print(engine.__file__); print(r.ASSETS_DIR)",
        ],
        cwd=elsewhere,
    )
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).resolve().is_relative_to(env_dir.resolve()), where.stdout

    listed = _run([str(vglab), "presets"], cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    for stem in PRESETS:
        assert stem in listed.stdout

    # Japanese from the installed catalog: the CLI reads the .ts, Qt loads the .qm
    japanese = _run([str(vglab), "--lang", "ja", "--help"], cwd=elsewhere)
    assert japanese.returncode == 0, japanese.stderr
    assert "\u52fe\u914d" in japanese.stdout  # 勾配
    qm = _run(
        [
            str(python),
            "-c",
            "from PySide6.QtCore import QTranslator; from engine.i18n import catalog_path; "
            "print(QTranslator().load(str(catalog_path('ja', '.qm'))))",
        ],
        cwd=elsewhere,
    )
    assert qm.stdout.strip() == "True", qm.stderr

    lessons = _run(
        [str(python), "-c", "from gui.lessons import load_lessons; print(len(load_lessons()))"],
        cwd=elsewhere,
    )
    assert lessons.returncode == 0, lessons.stderr
    assert int(lessons.stdout) >= 3

    # a fresh install has a cold Numba cache: the CLI says so, and the ETA starts after it
    run = _run(
        [
            str(vglab),
            "run",
            "seed000_deep_activations",
            "--set",
            "model.depth=2",
            "--steps",
            "300",
            "--out",
            "out",
        ],
        cwd=elsewhere,
    )
    assert run.returncode == 0, run.stderr
    assert "compiling kernels (first run only)" in run.stderr
    assert run.stderr.index("compiling kernels") < run.stderr.index("start: 300 steps")
    etas = re.findall(r"ETA (\d+):(\d+):(\d+)", run.stderr)
    assert etas, run.stderr
    assert all(int(h) == 0 and int(m) < 1 for h, m, _ in etas), run.stderr
    for name in ("config.toml", "metrics.csv", "summary.json", "gradient_norms.png"):
        assert (elsewhere / "out" / name).is_file(), name


def test_every_package_of_the_tree_ships_in_the_wheel():
    """A package missing from pyproject's list imports from a checkout but not once
    installed (engine.recurrent and engine.numpy_path once were)."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("engine", "gui")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found - listed == set()


def _third_party_imports() -> set[str]:
    """Top-level modules imported anywhere in the shipped code, standard library excluded."""
    files = [
        ROOT / "main.py",
        ROOT / "cli.py",
        *(ROOT / "engine").rglob("*.py"),
        *(ROOT / "gui").rglob("*.py"),
    ]
    ours = {"engine", "gui", "cli", "main", "vglab_assets"}
    found = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found - ours if m not in sys.stdlib_module_names}


def test_every_imported_package_is_a_declared_dependency():
    declared = {
        d.split(";")[0]
        .split(">")[0]
        .split("<")[0]
        .split("=")[0]
        .split("!")[0]
        .strip()
        .lower()
        .replace("_", "-")
        for d in PYPROJECT["project"]["dependencies"]
    }
    distributions = packages_distributions()
    for module in sorted(_third_party_imports()):
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        assert names & declared, f"{module} is imported but {sorted(names)} is not declared"


def test_licence_is_spdx_mit_with_a_licence_file():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_gitignore_lists_no_tracked_file():
    proc = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    assert proc.stdout == ""


# PySide6 6.12.0 on CPython < 3.12 dropped a reference to None per void call and to True or
# False per bool signal argument, and the process aborted ("bool_dealloc", exit 134).
PROBE = """
import sys
{prelude}
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel

app = QApplication([])
class Emitter(QObject):
    flag = Signal(bool)
emitter, label = Emitter(), QLabel()
emitter.flag.connect(lambda on: None)
before = [sys.getrefcount(o) for o in (None, True, False)]
for i in range({n}):
    label.setText("x")
    emitter.flag.emit(i % 2 == 0)
after = [sys.getrefcount(o) for o in (None, True, False)]
print(*(a - b for a, b in zip(after, before)))
"""


def test_installed_qt_keeps_none_true_and_false_alive(tmp_path):
    """The PySide6 that pyproject admits does not leak the singletons (no workaround)."""
    proc = _run([sys.executable, "-c", PROBE.format(prelude="", n=1000)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [abs(int(d)) < 50 for d in proc.stdout.split()] == [True] * 3, proc.stdout


def test_importing_gui_survives_a_leaking_qt(tmp_path):
    """Every entry point imports ``gui`` before Qt: its guard outlives any leak rate."""
    proc = _run(
        [sys.executable, "-c", PROBE.format(prelude="import gui", n=200_000)],
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_cli_compare_of_five_variants_with_plots_exits_cleanly(tmp_path):
    out = tmp_path / "cmp"
    proc = _run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "compare",
            "seed000_deep_activations",
            "--vary",
            "model.activation=sigmoid,tanh,relu,elu,gelu",
            "--steps",
            "20",
            "--set",
            "model.depth=3",
            "--out",
            str(out),
            "--quiet",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Fatal Python error" not in proc.stderr
    assert len(list(out.glob("*.png"))) >= 4


# ----------------------------------------------------------------------------- start-up


def _library_needing(missing: str, folder: Path) -> Path:
    """A shared library that links ``lib<missing>.so``, which then disappears."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc to build a library with a missing dependency")
    (folder / "dep.c").write_text("int dep(void) { return 1; }\n")
    (folder / "plugin.c").write_text("int dep(void); int plugin(void) { return dep(); }\n")
    for cmd in (
        ["gcc", "-shared", "-fPIC", "-o", f"lib{missing}.so", "dep.c"],
        ["gcc", "-shared", "-fPIC", "-o", "libplugin.so", "plugin.c", "-L.", f"-l{missing}"],
    ):
        subprocess.run(cmd, cwd=folder, check=True, capture_output=True)
    (folder / f"lib{missing}.so").unlink()
    return folder / "libplugin.so"


def test_app_names_a_missing_system_library_in_one_line(tmp_path):
    plugin = _library_needing("xcb-icccm", tmp_path)
    code = (
        "import sys, gui.app as app; from pathlib import Path; "
        f"app._xcb_plugin = lambda: Path({str(plugin)!r}); sys.exit(app.main())"
    )
    env = {**os.environ, "DISPLAY": ":0"}
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "libxcb-icccm.so" in lines[0]
    assert "Traceback" not in proc.stderr


def test_the_missing_library_maps_to_its_debian_package():
    from gui.app import missing_library_message

    text = missing_library_message("libxcb-keysyms.so.1: cannot open shared object file")
    assert "libxcb-keysyms.so.1" in text
    assert "apt-get install libxcb-keysyms1" in text


def test_app_without_a_display_says_so_and_points_to_the_cli(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "no display found" in proc.stderr
    assert "vglab --help" in proc.stderr
