"""The trainability sweep window, as a user drives it: Tools > Trainability sweep, a tiny
grid, partial results drawn while the pool runs, cancel, export PNG / SVG / CSV."""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import signal

import numpy as np
import pytest
from gui_helpers import TIMEOUT, open_window, tiny
from PySide6.QtCore import Qt

from gui import export, theme
from gui.sweep_window import SweepWindow

theme.configure_pyqtgraph(light=True)  # as the app starts (gui.app.main)

pytestmark = pytest.mark.slow  # spawns worker processes

SLOW_NETS = ("model.sigma_w2=1,2", "model.depth=20,30,40,50")


def base():
    return tiny(
        **{"model.activation": "tanh", "model.init": "fan_in_normal", "model.sigma_b2": 0.05}
    )


def sweep_window(qtbot, size=(1280, 720)) -> SweepWindow:
    """The sweep window as the Tools menu opens it from the main window."""
    main = open_window(qtbot, base())
    main.act_sweep.trigger()
    w = main.sweep_window
    assert w.isVisible()
    assert w.base == main.controller.config
    w.resize(*size)
    return w


def set_grid(w: SweepWindow, x: str, y: str, steps: int) -> None:
    for field, values, axis in zip(w.fields, w.values, (x, y), strict=True):
        key, _, text = axis.partition("=")
        field.setText(key)
        values.setText(text)
    w.steps.setValue(steps)


def test_tiny_sweep_draws_and_exports(qtbot, tmp_path, monkeypatch):
    w = sweep_window(qtbot)
    set_grid(w, "model.sigma_w2=1,2,3", "model.depth=2,3", 20)
    qtbot.mouseClick(w.start_button, Qt.MouseButton.LeftButton)
    assert w.running
    assert not w.start_button.isEnabled()
    qtbot.waitUntil(lambda: not w.running, timeout=120_000)
    assert w.result.complete
    assert not w.result.cancelled
    view = w.map.view
    assert view is not None
    assert np.isfinite(view.accuracy).all()
    assert len(view.curve_x) > 10
    assert np.isfinite(view.boundary_y).any()  # 6 xi_c drawn
    assert "6 xi_c" in w.note.text() or "trainable" in w.note.text()
    # exports: the heatmap through gui.export, the table through the export controller
    for suffix in (".png", ".svg"):
        path = tmp_path / f"sweep{suffix}"
        export.export_plot(w.map, path)
        assert path.stat().st_size > 1000
    target = tmp_path / "sweep.csv"
    monkeypatch.setattr(w.exports, "_save_path", lambda *a, **k: str(target))
    w.export_csv_dialog()
    rows = list(csv.DictReader(target.read_text().splitlines()))
    assert len(rows) == 6
    assert {r["status"] for r in rows} == {"ok"}


def test_partial_results_are_drawn_and_cancel_keeps_them(qtbot):
    w = sweep_window(qtbot)
    w.workers = 1  # one net at a time: results arrive one by one
    set_grid(w, *SLOW_NETS, 300)
    drawn = []
    original = w.map.set_data
    w.map.set_data = lambda view: (drawn.append(np.isfinite(view.accuracy).sum()), original(view))
    assert w.start()
    qtbot.waitUntil(lambda: bool(drawn) and drawn[-1] >= 1, timeout=TIMEOUT * 6)
    assert w.running  # drawn while the rest still trains
    qtbot.mouseClick(w.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.running, timeout=TIMEOUT)
    assert w.result.cancelled
    assert 1 <= len(w.result.points) < 8
    header, rows = w.table()
    assert len(rows) == 8
    assert sum(r[2] == "not run" for r in rows) >= 1
    assert w.start_button.isEnabled()


def pool_processes() -> list:
    """The sweep pool's worker processes (children of this test process)."""
    return [p for p in mp.active_children() if p.name.startswith("SpawnProcess")]


def test_a_killed_worker_stops_the_sweep_with_a_message_and_keeps_the_map(qtbot):
    """A worker killed as the OOM killer would: the window waited for its net for good."""
    w = sweep_window(qtbot)
    w.workers = 1
    set_grid(w, *SLOW_NETS, 300)
    qtbot.mouseClick(w.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: len(w.result.points) >= 1 and bool(pool_processes()), timeout=TIMEOUT * 6
    )
    os.kill(pool_processes()[0].pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not w.running, timeout=TIMEOUT)
    finished = len(w.result.points)
    assert 1 <= finished < 8
    assert f"after {finished} of 8 nets had finished" in w.result.failure
    assert "worker process died" in w.note.text()
    assert np.isfinite(w.map.view.accuracy).sum() == finished  # the partial map stays
    assert w.start_button.isEnabled()
    assert not pool_processes()


def _gone(pids: list[int]) -> bool:
    """True once none of ``pids`` is a live process (a reaped child is no longer a process)."""
    alive = {p.pid for p in mp.active_children()}  # reaps the children that ended
    return not alive.intersection(pids)


@pytest.mark.parametrize("closed", ["main window", "sweep window"])
def test_closing_the_window_stops_the_sweep_and_its_processes(qtbot, closed):
    """Closing the main window left the pool training in the background."""
    w = sweep_window(qtbot)
    main = w.parent()
    set_grid(w, *SLOW_NETS, 300)
    qtbot.mouseClick(w.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(pool_processes()), timeout=TIMEOUT * 3)
    pids = [p.pid for p in pool_processes()]
    (main if closed == "main window" else w).close()
    qtbot.waitUntil(lambda: _gone(pids), timeout=5_000)
    qtbot.waitUntil(lambda: not w.running, timeout=5_000)
    assert w.result.cancelled


def test_the_agreement_is_computed_once_per_whole_column_not_at_every_redraw(qtbot, monkeypatch):
    """It ran (a quadrature per column) on the GUI thread at every redraw, 4 times a second."""
    import gui.sweep_view
    from engine.sweep import PointResult, SweepResult, plan_sweep
    from engine.sweep_theory import agreement

    calls = []
    monkeypatch.setattr(gui.sweep_view, "agreement", lambda r: (calls.append(1), agreement(r))[1])
    w = SweepWindow(base())
    qtbot.addWidget(w)
    plan = plan_sweep(w.base, ["model.sigma_w2=1,2,3", "model.depth=2,3"], 5)
    w.result, w.prediction = SweepResult(plan), gui.sweep_view.smooth_prediction(plan)
    draws = 0
    for i in range(3):
        for j, acc in enumerate((1.0, 0.0)):  # column i is whole after its second net
            w._arrived(("point", PointResult(i, j, f"{i},{j}", "ok", 5, 1.0, acc, 1.0, acc, 0.1)))
            for _ in range(3):  # the timer redraws; nothing new arrives in between
                w._dirty = True
                w._draw()
                draws += 1
    assert draws == 18
    assert len(calls) == 1 + 3  # no column whole yet, then one per column made whole
    assert "median" in w.note.text()  # the note still follows the columns


def test_bad_field_is_reported_and_nothing_runs(qtbot):
    w = sweep_window(qtbot)
    set_grid(w, "model.sigma_w3=1,2", "model.depth=2,3", 10)
    assert not w.start()
    assert "sigma_w3" in w.note.text()
    assert "--grid" not in w.note.text()  # the window has fields, not the CLI's flag
    assert not w.running


def test_a_depth_range_with_uneven_steps_rounds_to_whole_layers(qtbot):
    """ "5:30:3" gives 17.5 in the middle: refused as "expected an integer" before."""
    w = sweep_window(qtbot)
    set_grid(w, "model.sigma_w2=1,2", "model.depth=2:5:3", 5)
    assert w.start(), w.note.text()
    assert w.result.plan.grid.values[1] == ("2", "4", "5")  # 3.5 rounds to 4
    w.cancel()
    qtbot.waitUntil(lambda: not w.running, timeout=TIMEOUT)


def test_screenshot(qtbot):
    """Rendered at 1280x720 for a look (tests cannot judge legibility)."""
    w = sweep_window(qtbot)
    set_grid(w, "model.sigma_w2=0.5:4:8", "model.depth=2,4,6,8", 30)
    w.show()
    assert w.start()
    qtbot.waitUntil(lambda: not w.running, timeout=120_000)
    w.grab().save("/tmp/sw/sweep_window.png")
    export.export_plot(w.map, "/tmp/sw/sweep_export.png")


def test_the_window_fits_a_720_pixel_screen(qtbot):
    """It opened 760 px tall: on a 1280x720 screen the export buttons were cut off."""
    w = SweepWindow(tiny())
    qtbot.addWidget(w)
    avail = w.screen().availableGeometry()
    assert w.height() <= avail.height()
    assert w.width() <= avail.width()
    assert w.minimumSizeHint().height() <= 720 - 60  # room for a title bar and a panel
