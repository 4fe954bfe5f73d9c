"""The Qt-free view models: the frame-to-panel adapter, the inspector model, the compare view.

No Qt here: frames are built from a real :class:`engine.session.Session` and the expected
numbers are read from its Snapshot (or recomputed from it), never typed in.
"""

from __future__ import annotations

import math
import subprocess
import sys
import types

import numpy as np
import pytest
from engine_helpers import toy_dataset

from engine.config import ExperimentConfig, updated
from engine.session import Session
from engine.theory_lines import LABEL, WIDE_LABEL, TheoryLines
from gui import compare_view, frame_view
from gui.inspector_model import inspector_data, inspector_note
from gui.panels import network_geometry

DEPTH = 3


def session(steps: int = 12) -> Session:
    cfg = updated(
        ExperimentConfig(name="tiny"),
        **{
            "model.depth": DEPTH,
            "model.width": 6,
            "training.batch_size": 16,
            "training.eval_every": 5,
        },
    )
    s = Session(cfg, dataset=toy_dataset())
    for _ in range(steps):
        s.step()
    return s


def frame(snap, s: Session, **changes):
    """What gui.controller.Frame holds, for the adapter (duck-typed: no Qt import)."""
    rng = np.random.default_rng(1)
    fields = {
        "generation": 1,
        "serial": 1,
        "reason": "step",
        "running": False,
        "config": s.config,
        "snapshot": snap,
        "input_width": 4,
        "input_label": "input",
        "edge_grads": tuple(rng.random((3, 3)) for _ in range(snap.depth + 1)),
        "edge_weights": tuple(rng.random((3, 3)) for _ in range(snap.depth + 1)),
        "selected": 1,
        "layer_arrays": {"delta": rng.normal(size=(16, 6)), "fprime": rng.random((16, 6))},
        "arrays_step": snap.step,
        "boundary": None,
        "overlays": TheoryLines({WIDE_LABEL: np.arange(snap.depth + 1.0)}),
        "activation_params": (),
    }
    fields.update(changes)
    return types.SimpleNamespace(**fields)


@pytest.fixture(scope="module")
def trained():
    s = session()
    return s, s.snapshot()


def test_the_view_models_import_no_qt():
    code = (
        "import sys, gui.frame_view, gui.inspector_model, gui.compare_view, "
        "gui.panels.network_geometry, engine.lessons, engine.figure_data\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph'))\n"
        "print(qt)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_gradient_chart_gets_the_snapshots_norms(trained):
    s, snap = trained
    series, labels, computed, overlays, note = frame_view.gradient_data(frame(snap, s))
    assert labels == list(snap.layer_labels)
    assert np.array_equal(series["||dL/dW_k||"], snap.layers["grad_norm"])
    assert np.array_equal(series["||\u03b4_k||"], snap.layers["delta_norm"])
    assert computed["||dL/dW_k||"].all()
    assert overlays[LABEL] is None  # absent from the frame: hidden
    assert np.array_equal(overlays[WIDE_LABEL], np.arange(DEPTH + 1.0))
    assert note == ""
    why = TheoryLines({}, "no mean-field line: batch norm")
    *_, overlays, note = frame_view.gradient_data(frame(snap, s, overlays=why))
    assert set(overlays.values()) == {None}
    assert note == why.reason


def test_diagram_greys_edges_whose_gradient_is_not_computed(trained):
    s, snap = trained
    f = frame(snap, s)
    d = frame_view.diagram_data(f, "grad")
    assert all(a is b for a, b in zip(d.edges, f.edge_grads, strict=True))
    assert d.highlight == (-1, None)
    assert frame_view.diagram_data(f, "weight").edges == list(f.edge_weights)
    fresh = Session(s.config, dataset=toy_dataset())
    fresh.step_phase()  # forward through hidden 1 only: no gradient anywhere yet
    snap0 = fresh.snapshot()
    d0 = frame_view.diagram_data(frame(snap0, fresh), "grad")
    assert d0.edges == [None] * (DEPTH + 1)
    assert d0.highlight == (snap0.phase_layer, snap0.phase)


def test_curves_histograms_and_activation_come_from_the_frame(trained):
    s, snap = trained
    loss = frame_view.curve_data("loss", snap)
    assert np.array_equal(loss.series["train (batch)"][1], snap.history_scalars[:, 0])
    assert np.array_equal(loss.series["test"][0], snap.eval_steps)
    acc = frame_view.curve_data("accuracy", snap)
    assert np.array_equal(acc.series["test"][1], snap.eval_scalars[:, 1])
    assert loss.event_step is None
    f = frame(snap, s)
    delta = frame_view.histogram_data(f, "delta")
    assert np.array_equal(delta.values, np.abs(f.layer_arrays["delta"]).ravel())
    assert delta.log_x
    assert snap.layer_labels[1] in delta.title
    assert frame_view.histogram_data(f, "z").values is None
    act, param, z = frame_view.activation_data(f)
    assert (act, param, z) == (snap.activations[1], 0.0, None)


def test_metrics_table_rows_are_the_history(trained):
    s, snap = trained
    header, rows = frame_view.metrics_table(frame(snap, s))
    assert len(rows) == len(snap.history_steps)
    assert header[-(DEPTH + 1) :] == [
        f"grad_norm_{lbl.replace(' ', '_')}" for lbl in snap.layer_labels
    ]
    evaluated = {
        int(step): row for step, row in zip(snap.eval_steps, snap.eval_scalars, strict=True)
    }
    for i, row in enumerate(rows):
        assert row[0] == snap.history_steps[i]
        assert row[-(DEPTH + 1) :] == list(snap.history_grad_norm[i])
        test = evaluated.get(int(row[0]))
        assert math.isnan(row[5]) if test is None else row[5] == test[0]
    assert frame_view.metrics_table(None) == (["step"], [])


def test_redraw_schedule_spaces_slow_panels_only_while_playing(trained):
    s, snap = trained
    sched = frame_view.RedrawSchedule()
    playing = frame(snap, s, running=True, reason="play")
    gap = frame_view.PANEL_INTERVALS["loss"]
    assert sched.due("loss", playing, 10.0)
    assert not sched.due("loss", playing, 10.0 + gap / 2)
    assert sched.due("loss", playing, 10.0 + gap)
    assert sched.due("loss", frame(snap, s, reason="step"), 10.0 + gap + 0.001)  # user: at once
    # batch-array views follow their arrays, not the clock
    assert sched.due("delta_hist", playing, 20.0)
    assert not sched.due("delta_hist", playing, 99.0)
    assert sched.due("delta_hist", frame(snap, s, arrays_step=snap.step + 1), 99.0)
    sched.clear()
    assert sched.due("delta_hist", playing, 99.0)


def test_inspector_shows_the_snapshots_numbers(trained):
    s, snap = trained
    for k in range(DEPTH + 1):
        data = inspector_data(frame(snap, s), k)
        assert data.label == snap.layer_labels[k]
        for metric, column in snap.layers.items():
            want = float(column[k]) if snap.is_computed(metric)[k] else None
            got = data.values[metric]
            assert got == want or (math.isnan(want) and math.isnan(got))
        g = snap.layers["grad_norm"]
        if k < DEPTH:
            assert data.values["shrink"] == pytest.approx(g[k] / g[k + 1], rel=1e-15)
            assert f"{g[k] / g[DEPTH]:.1e}" in data.note
            assert data.activation == snap.activations[k]
        else:
            assert "shrink" not in data.values
            assert data.note == ""
        n_in = 4 if k == 0 else snap.widths[k - 1]
        assert data.shapes == {"W": (n_in, snap.widths[k]), "z": (16, snap.widths[k])}
        assert data.phase is None
    assert inspector_data(frame(snap, s), 99).label == "output"  # clipped to the network


def test_inspector_takes_the_phase_just_computed():
    s = session(steps=2)
    for _ in range(DEPTH + 2):  # forward through every layer, then the loss
        s.step_phase()
    result = s.step_phase()  # backward through the output layer
    snap = s.snapshot()
    k = result.layer
    data = inspector_data(frame(snap, s), k)
    assert data.phase == snap.phase
    assert data.values["delta_norm"] == result.norms["delta"]
    assert data.values["grad_norm"] == result.norms["dW"]
    assert f"Next: <b>{snap.next_phase}</b>" in inspector_note(snap, k)


def test_compare_view_smooths_and_fits(trained):
    y = np.array([1.0, 3.0, np.nan, 5.0, 7.0])
    got = compare_view.smooth(y, window=2)
    # the oracle: the mean of the finite values among the last two points
    for i in range(len(y)):
        window = y[max(0, i - 1) : i + 1]
        want = np.nan if np.isnan(y[i]) else np.nanmean(window)
        assert np.array_equal(got[i], want, equal_nan=True)
    lo, hi = compare_view.y_range([np.array([1.0, 100.0])], log_y=True)
    assert (lo, hi) == pytest.approx((0 - 0.1, 2 + 0.1))  # 5% of two decades each side
    assert compare_view.y_range([np.array([np.nan])], log_y=False) is None


def test_network_geometry_places_every_edge_between_node_centres():
    lay = network_geometry.ColumnLayout([3, 2], 400.0, 300.0)
    lines = lay.lines(0)
    assert len(lines) == 3 * 2
    assert {round(y0, 6) for _, y0, _, _ in lines} == {round(y, 6) for y in lay.ys[0]}
    assert lay.column_at(float(lay.xs[1])) == 1
    assert lay.column_at(-1e6) == -1
