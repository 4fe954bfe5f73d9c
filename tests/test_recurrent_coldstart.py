"""First launch of the Recurrent window: its kernels come from the one compile process.

On a cold Numba cache the recurrent kernels take ~90 s and more to compile.  The window says
so at once, keeps its controls working, and trains as soon as the compile process
(engine.precompile, stage ``recurrent``) has them in the cache; a marked cache loads them
in-process, without a process.  The first test is the real thing: a subprocess on an empty
NUMBA_CACHE_DIR; the others use a stand-in compile process whose stages the test fires.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_coldstart_gui import StandIn
from test_recurrent_window import TIMEOUT, open_window, small

from engine import precompile, warmup
from gui.recurrent_window import COMPILE_TITLE, RecurrentWindow

ROOT = Path(__file__).resolve().parent.parent
DTYPE = small().model.dtype
KEY = precompile.recurrent_key(DTYPE)

#: run in a subprocess on an empty cache: open the window, press Play at once, wait for steps
COLD = """
import json, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
sys.path.insert(0, "tests")
from test_recurrent_window import small
from engine import precompile
from gui.recurrent_window import COMPILE_TITLE, RecurrentWindow

stages = []
facts = {"marked_before": precompile.recurrent_cached(small().model.dtype)}
def wait(what, seconds):
    t0 = time.perf_counter()
    while not what() and time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.01)
    return what()

w = RecurrentWindow(small())
w.resize(1280, 720)
w.show()
opened = time.perf_counter()
notice = lambda: w.banner.isVisible() and COMPILE_TITLE in w.banner.title.text()
facts["notice_within_2s"] = wait(notice, 2.0)
facts["busy_shown"] = w.compile_busy.pending
def record(stage, key):
    if key == precompile.recurrent_key(small().model.dtype):
        stages.append(stage)
precompile.shared().request(precompile.recurrent_key(small().model.dtype), record)
w.act_play.trigger()
facts["step_while_compiling"] = w.controller.latest.step if w.controller.latest else None
stepped = lambda: w.controller.latest is not None and w.controller.latest.step > 20
facts["stepped"] = wait(stepped, 1500)
facts["seconds_to_steps"] = round(time.perf_counter() - opened, 1)
facts["drawn_step"] = w.controller.latest.step
wait(lambda: w.drawn_serial == w.controller.latest.serial, 10)
facts["notice_after"] = notice()
facts["busy_after"] = w.compile_busy.pending
facts["stages"] = stages
facts["marked_after"] = precompile.recurrent_cached(small().model.dtype)
w.close()
print(json.dumps(facts))
"""


@pytest.mark.slow
def test_a_cold_cache_shows_the_notice_then_trains_on_kernels_the_process_compiled(tmp_path):
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        [sys.executable, "-c", COLD], capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=1800,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    print(facts)  # the seconds to the first steps, with -s
    assert not facts["marked_before"]
    assert facts["notice_within_2s"]
    assert facts["busy_shown"]
    assert facts["step_while_compiling"] == 0  # Play waits for the kernels, it does not compile
    assert facts["stepped"], facts
    assert not facts["notice_after"]
    assert not facts["busy_after"]
    # the one compile process did the MLP's stages, then the recurrent ones, and marked them
    assert facts["stages"][-3:] == ["phases", "many", "recurrent"], facts["stages"]
    assert facts["marked_after"]


@pytest.fixture
def stand_in(monkeypatch):
    """A compile process whose stages the test reports; recurrent kernels not loaded here."""
    fake = StandIn()
    monkeypatch.setattr(precompile, "_shared", fake)
    monkeypatch.setattr(warmup, "_recurrent_warmed", set())
    return fake


def window(qtbot) -> RecurrentWindow:
    w = RecurrentWindow(small())
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    return w


def notice_on(w: RecurrentWindow) -> bool:
    return w.banner.isVisible() and COMPILE_TITLE in w.banner.title.text()


def test_the_window_waits_for_the_process_stage_and_takes_the_steps_asked_meanwhile(
    qtbot, stand_in, monkeypatch
):
    monkeypatch.setattr(precompile, "recurrent_cached", lambda dtype: False)
    w = window(qtbot)
    qtbot.waitUntil(lambda: notice_on(w) and w.frames_drawn > 0, timeout=TIMEOUT)
    assert stand_in.keys == [KEY]  # asked of the process, not compiled here
    gen = w.controller.latest.generation
    w.setup.widgets["recurrent.seq_len"].setValue(9)  # the settings work meanwhile
    qtbot.waitUntil(lambda: w.controller.latest.generation > gen, timeout=TIMEOUT)
    w.act_step.trigger()  # taken once the kernels are in
    w.act_step.trigger()
    w.controller.request_frame()
    qtbot.waitUntil(lambda: w.drawn_serial == w.controller.latest.serial, timeout=TIMEOUT)
    assert w.controller.latest.step == 0
    assert notice_on(w)
    stand_in.report("recurrent")
    qtbot.waitUntil(lambda: w.controller.latest.step == 2, timeout=TIMEOUT)
    assert w.controller.latest.seq_len == 9
    qtbot.waitUntil(lambda: not w.compile_busy.pending, timeout=TIMEOUT)
    assert not notice_on(w)


def test_a_failed_process_compiles_here_with_the_notice_on(qtbot, stand_in, monkeypatch):
    monkeypatch.setattr(precompile, "recurrent_cached", lambda dtype: False)
    w = window(qtbot)
    qtbot.waitUntil(lambda: notice_on(w), timeout=TIMEOUT)
    w.act_play.trigger()
    stand_in.report(precompile.FAILED)
    qtbot.waitUntil(lambda: w.controller.latest.step > 3, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not notice_on(w), timeout=TIMEOUT)
    assert warmup.recurrent_warm(DTYPE)


def test_a_marked_cache_loads_in_process_without_a_process_or_a_notice(qtbot, stand_in):
    marker = precompile.recurrent_marker(DTYPE)
    had = marker.is_file()
    marker.touch()
    try:
        w = open_window(qtbot, small())
        assert stand_in.keys == []  # no compile process asked for
        w.act_step.trigger()
        qtbot.waitUntil(lambda: w.controller.latest.step == 1, timeout=TIMEOUT)
        assert not notice_on(w)
        assert not w.compile_busy.pending
    finally:
        if not had:
            marker.unlink()
