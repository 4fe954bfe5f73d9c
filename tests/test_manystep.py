"""The many-step path: Session.run's compiled chunks equal single fused steps bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import config, toy_dataset

from engine import kernels as K
from engine import session as session_module
from engine import warmup as warmup_module
from engine.compare import CompareSession
from engine.metrics import Metric
from engine.session import Session


def _pair(data=None, **changes) -> tuple[Session, Session]:
    data = data or toy_dataset()
    return Session(config(**changes), data), Session(config(**changes), data)


def _assert_same(a: Session, b: Session) -> None:
    """Everything a step leaves behind, compared exactly (NaN == NaN)."""
    assert a.step_count == b.step_count
    for name in ("params", "grads", "bns"):
        np.testing.assert_array_equal(getattr(a.net, name), getattr(b.net, name), err_msg=name)
    np.testing.assert_array_equal(a.opt.m, b.opt.m)
    np.testing.assert_array_equal(a.opt.v, b.opt.v)
    np.testing.assert_array_equal(a.opt.hp, b.opt.hp)
    np.testing.assert_array_equal(a.mtab, b.mtab)
    for trace in ("trace", "scalar_trace", "eval_trace"):
        (sa, ra), (sb, rb) = getattr(a, trace).view(), getattr(b, trace).view()
        np.testing.assert_array_equal(sa, sb, err_msg=trace)
        np.testing.assert_array_equal(ra, rb, err_msg=trace)
        assert getattr(a, trace).stride == getattr(b, trace).stride
    assert (a.loss, a.test_loss) == (b.loss, b.test_loss)
    np.testing.assert_array_equal([a.accuracy, a.test_accuracy], [b.accuracy, b.test_accuracy])
    np.testing.assert_array_equal(a._batch_x, b._batch_x)
    assert a.divergence == b.divergence


CONFIGS = [
    {},
    # dropout, and a short last batch (96 examples in batches of 20)
    {"model.dropout": 0.3, "training.batch_size": 20, "training.optimizer": "nesterov"},
    {"model.batch_norm": "pre", "training.optimizer": "adam"},
    {
        "model.batch_norm": "post",
        "model.residual": True,
        "training.clip_norm": 0.1,
        "training.optimizer": "momentum",
    },
    {
        "model.activation": "prelu",
        "training.optimizer": "rmsprop",
        "training.clip_value": 0.05,
        "training.weight_decay": 1e-3,
    },
    {
        "model.dtype": "float32",
        "model.activation": "tanh",
        "training.optimizer": "adam",
        "model.dropout": 0.1,
    },
    {"model.loss": "sigmoid_bce", "model.activation": "gelu", "training.batch_size": 7},
]


@pytest.mark.parametrize("changes", CONFIGS)
def test_run_equals_single_fused_steps(changes):
    """700 steps (history compacted several times, an evaluation every 9) through run, in
    uneven calls, leave exactly what 700 calls of step() do; both then go on identically."""
    changes = {"logging.history": 16, "training.eval_every": 9, **changes}
    data = toy_dataset(n_classes=2) if changes.get("model.loss") == "sigmoid_bce" else None
    single, many = _pair(data, **changes)
    for _ in range(700):
        single.step()
    assert many.run(1) == 1
    assert many.run(299) == 299
    assert many.run(400) == 400
    _assert_same(single, many)
    single.step()
    many.step()
    _assert_same(single, many)


def test_regression_run_equals_single_steps():
    data = toy_dataset(task="regression")
    single, many = _pair(
        data, **{"model.loss": "mse", "training.eval_every": "auto", "training.batch_size": 10}
    )
    for _ in range(123):
        single.step()
    many.run(123)
    _assert_same(single, many)
    assert len(many.eval_trace.view()[0]) > 3


def test_run_returns_to_python_once_per_chunk(monkeypatch):
    """A long run is a handful of kernel calls, not one per step."""
    calls = {"one": 0, "many": 0}
    one, many = K.train_step, K.train_steps

    def count_one(*args):
        calls["one"] += 1
        return one(*args)

    def count_many(*args):
        calls["many"] += 1
        return many(*args)

    monkeypatch.setattr(session_module.K, "train_step", count_one)
    monkeypatch.setattr(session_module.K, "train_steps", count_many)
    s = Session(config(), toy_dataset())
    assert s.run(5000) == 5000
    assert calls["one"] + calls["many"] < 50


@pytest.mark.parametrize(
    ("changes", "step", "where"),
    [
        # (config, the step it diverges at, "phase layer") as found by single steps
        ({"training.learning_rate": 3.0, "model.activation": "relu"}, 222, "loss 3"),
        (
            {"training.learning_rate": 1.0, "model.activation": "relu", "model.dtype": "float32"},
            9,
            "backward 1",
        ),
        ({"training.learning_rate": 1.0, "model.activation": "identity"}, 6, "forward 1"),
        (
            {
                "training.learning_rate": 1e150,
                "model.activation": "identity",
                "model.dtype": "float32",
            },
            1,
            "update 0",
        ),
    ],
)
def test_divergence_mid_chunk_reports_the_same_step_phase_and_layer(changes, step, where):
    data = toy_dataset(task="regression")
    changes = {"model.loss": "mse", "training.eval_every": 4, **changes}
    single, many = _pair(data, **changes)
    done = 0
    while single.step():
        done += 1
    assert (single.divergence.step, f"{single.divergence.phase} {single.divergence.layer}") == (
        step,
        where,
    )
    assert many.run(1000) == done == step - 1
    _assert_same(single, many)
    assert many.run(10) == 0
    assert many.step_count == step


def test_evaluation_schedule_is_unchanged():
    data = toy_dataset(n=400)
    single, many = _pair(data, **{"training.eval_every": "auto", "training.batch_size": 8})
    every = many.eval_every
    assert every > 1
    for _ in range(5 * every + 3):
        single.step()
    many.run(5 * every + 3)
    steps, _ = many.eval_trace.view()
    assert list(steps) == [every * i for i in range(1, 6)]
    _assert_same(single, many)


def test_seconds_bounds_a_run():
    s = Session(config(), toy_dataset())
    s.run(10)
    done = s.run(10**9, seconds=0.05)
    assert 0 < done < 10**9


def test_watch_stops_after_the_first_step_below_the_threshold():
    single, many = _pair(**{"training.learning_rate": 0.5})
    threshold = float(
        np.median([single.step() and single.mtab[0, Metric.GRAD_NORM] for _ in range(60)])
    )
    first = 1 + next(
        i for i, g in enumerate(single.trace.view()[1][:, 0, Metric.GRAD_NORM]) if g < threshold
    )
    assert many.run(60, watch=(0, "grad_norm", threshold)) == first
    assert many.step_count == first


def test_compare_run_equals_lock_steps():
    """Chunked variants give the same numbers, divergences and vanishing steps."""
    from engine.presets import load_preset

    base = load_preset("exploding_clipping")
    variants = {
        "no clip": {},
        "clip 1": {"training.clip_norm": 1.0},
        # its units die: the first layer's gradient vanishes at step 37
        "dying": {
            "model.bias_init": -0.2,
            "training.clip_norm": 5.0,
            "training.learning_rate": 1.0,
        },
    }
    a, b = CompareSession(base, variants), CompareSession(base, variants)
    n = 0
    while n < 60 and a.step():
        n += 1
    assert b.run(60) == n == 60
    assert a.step_count == b.step_count
    assert a.divergences == b.divergences
    assert "no clip" in a.divergences
    assert a.vanish_steps == b.vanish_steps == {"no clip": None, "clip 1": None, "dying": 37}
    for name in a.names:
        _assert_same(a.sessions[name], b.sessions[name])


def test_single_steps_while_the_many_step_kernel_compiles_in_the_background(
    monkeypatch, kernel_calls
):
    """warm_up leaves train_steps to a thread (a cold compile doubles the wait for the first
    frame otherwise); until it is ready run takes the same steps one at a time."""
    data = toy_dataset()
    cfg = config()
    key = warmup_module.warm_key(cfg, data)
    compiling = warmup_module.threading.Event()
    monkeypatch.setitem(warmup_module._many_step, key, compiling)
    single, many = _pair(data)
    for _ in range(30):
        single.step()
    assert many.run(20) == 20
    assert kernel_calls["calls"] == 0
    compiling.set()
    assert many.run(10) == 10
    assert kernel_calls["steps"] > 0
    _assert_same(single, many)


def test_warm_up_compiles_the_many_step_kernel_in_a_thread(monkeypatch):
    monkeypatch.setattr(warmup_module, "_warmed", set())
    monkeypatch.setattr(warmup_module, "_many_step", {})
    data = toy_dataset()
    warmup_module.warm_up(config(), data)
    ready = warmup_module._many_step[warmup_module.warm_key(config(), data)]
    assert ready.wait(60)
    assert warmup_module.many_step_ready(config(), data)


# ----------------------------------------------------------------------------- GUI workers

TIMEOUT = 20_000  # ms: a cold Numba cache compiles first


@pytest.fixture
def kernel_calls(monkeypatch):
    """Counts train_steps calls and the steps they ran, in whichever thread calls them."""
    calls = {"calls": 0, "steps": 0}
    many = K.train_steps

    def counting(*args):
        many(*args)
        calls["calls"] += 1
        calls["steps"] += int(args[-1][K.R_DONE])

    monkeypatch.setattr(session_module.K, "train_steps", counting)
    return calls


def _gui_config():
    return config(**{"data.name": "spiral", "data.n_samples": 200, "training.eval_every": 200})


def test_gui_worker_at_max_speed_runs_compiled_chunks_and_keeps_its_frame_rate(qtbot, kernel_calls):
    from gui.controller import Controller

    c = Controller(_gui_config())
    try:
        with qtbot.waitSignal(c.snapshot_ready, timeout=TIMEOUT):
            c.start()
        frames = []
        c.snapshot_ready.connect(frames.append)
        c.play()
        qtbot.waitUntil(lambda: bool(frames) and frames[-1].snapshot.step > 2000, timeout=TIMEOUT)
        t0, n0 = len(frames), frames[-1].snapshot.step
        qtbot.wait(1000)
        c.pause()
        qtbot.waitUntil(lambda: not c.running, timeout=TIMEOUT)
        playing = [f for f in frames[t0:] if f.running]
        assert len(playing) >= 8  # frames keep coming while the chunks run
        steps = playing[-1].snapshot.step - n0
        assert steps > 0
        # most steps go through the many-step kernel, many per call (the rest are the
        # phase-by-phase sampled steps the histograms need)
        assert kernel_calls["steps"] > 0.8 * frames[-1].snapshot.step
        assert kernel_calls["steps"] > 10 * kernel_calls["calls"]
    finally:
        assert c.shutdown()


def test_compare_worker_advances_through_compiled_chunks(qtbot, kernel_calls):
    from gui.compare_controller import CompareController

    c = CompareController()
    try:
        c.start()
        with qtbot.waitSignal(c.built, timeout=TIMEOUT):
            c.build(_gui_config(), ["model.activation=sigmoid,tanh"])
        c.advance(500)
        qtbot.waitUntil(
            lambda: (f := c.latest) is not None and f.step == 500 and not f.running, timeout=TIMEOUT
        )
        assert {s.step for s in c.latest.snapshots.values()} == {500}
        # all but the few steps that grow the history (they go through step())
        assert kernel_calls["steps"] > 0.95 * 2 * 500
        assert kernel_calls["calls"] < 2 * 500 / 10
    finally:
        assert c.shutdown()
