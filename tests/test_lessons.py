"""Guided lessons: every lesson loads and runs, and every number its text quotes is what a
headless run of its config shows (the text cannot drift from the behaviour).

Each check first asserts that the lesson still says what is being checked (a phrase of its
text), then measures it with engine.session.Session.  The runs are deterministic (seeded),
so the bounds only absorb the rounding of the text ("about 4e-6").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from engine.compare import expand_variants
from engine.config import ConfigError, apply_overrides
from engine.jacobian import session_sample
from engine.jacobian_theory import model_prediction
from engine.lessons import LESSONS_PATH, Lesson, load_lessons
from engine.presets import load_preset
from engine.session import LAYER_METRICS, Session
from gui import teaching
from gui.lessons import LessonPanel

LESSONS = {lesson.id: lesson for lesson in load_lessons()}
EPOCH = 45  # steps per epoch of the bundled digits at batch 32 (eval_every = 45)
G, DEAD, FP, INCOMING = (
    LAYER_METRICS.index(m) for m in ("grad_norm", "dead", "fprime_mean", "incoming_norm")
)


@dataclass
class Run:
    """What a headless run recorded: per-layer metrics at every step, evaluations per epoch."""

    steps: np.ndarray  # (n,) step numbers
    layers: np.ndarray  # (n, L+1, n_metrics)
    scalars: np.ndarray  # (n, 4) loss, accuracy, grad_global_norm, learning_rate
    eval_steps: np.ndarray  # (m,)
    test_acc: np.ndarray  # (m,)
    divergence: object

    def at(self, step: int, metric: int) -> np.ndarray:
        """(L+1,) metric at ``step``."""
        return self.layers[np.searchsorted(self.steps, step), :, metric]

    def ratio(self, step: int) -> float:
        """||dL/dW|| of hidden 1 over that of the last hidden layer."""
        g = self.at(step, G)
        return g[0] / g[-2]

    def test_at_epoch(self, epoch: int) -> float:
        return float(self.test_acc[np.searchsorted(self.eval_steps, epoch * EPOCH)])


@functools.cache
def run(preset: str, overrides: tuple[str, ...] = (), steps: int = 10 * EPOCH) -> Run:
    s = Session(apply_overrides(load_preset(preset), overrides))
    s.run(steps)
    steps_, rows = s.trace.view()
    _, scalars = s.scalar_trace.view()
    e_steps, e_rows = s.eval_trace.view()
    return Run(steps_, rows, scalars, e_steps, e_rows[:, 1], s.divergence)


def lesson_run(lesson_id: str, steps: int = 10 * EPOCH) -> Run:
    lesson = LESSONS[lesson_id]
    return run(lesson.preset, lesson.overrides, steps)


def says(lesson_id: str, *phrases: str) -> None:
    """The lesson still makes the claim being checked."""
    lesson = LESSONS[lesson_id]
    words = f"{lesson.text} {lesson.watch}"
    for phrase in phrases:
        assert phrase in words, f"lesson {lesson_id!r} no longer says {phrase!r}"


def geometric_mean(x: np.ndarray) -> float:
    return float(np.exp(np.mean(np.log(x))))


# ----------------------------------------------------------------------------- the file


def test_the_lessons_in_the_order_of_the_issues():
    assert list(LESSONS) == [
        "sigmoid",
        "tanh",
        "relu_he",
        "batch_norm",
        "residual",
        "exploding",
        "dying_relu",
        "edge_of_chaos",
        "orthogonal",
        "trainable_depth",
    ]


@pytest.mark.parametrize("lesson", LESSONS.values(), ids=list(LESSONS))
def test_every_lesson_loads_and_runs_a_few_steps(lesson: Lesson):
    cfg = lesson.config()
    s = Session(cfg)
    assert s.run(3) == 3 or s.diverged
    assert np.isfinite(s.snapshot(with_history=False).layers["grad_norm"]).all()
    if lesson.compare:  # the comparison it offers is a valid one
        assert 2 <= len(expand_variants(cfg, lesson.compare)) <= 8


@pytest.mark.parametrize("lesson", LESSONS.values(), ids=list(LESSONS))
def test_lesson_text_is_short(lesson: Lesson):
    sentences = [s for s in lesson.text.replace("e.g.", "eg").split(". ") if s.strip()]
    assert 2 <= len(sentences) <= 4, lesson.text
    assert len(lesson.text) < 620
    assert len(lesson.watch) < 260


def test_a_broken_lessons_file_names_the_lesson_and_field(tmp_path):
    path = tmp_path / "lessons.toml"
    path.write_text(
        '[[lesson]]\nid = "a"\ntitle = "A"\npreset = "residual"\ntext = 1\nwach = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        load_lessons(path)
    msg = str(e.value)
    assert str(path) in msg
    assert "lesson[0].text: expected a string" in msg
    assert "lesson[0].wach: unknown key; did you mean 'watch'?" in msg
    assert "lesson[0].watch: missing" in msg
    with pytest.raises(ConfigError, match="no such file"):
        load_lessons(tmp_path / "none.toml")
    assert LESSONS_PATH.is_file()


def test_an_unknown_preset_is_reported_with_the_lesson():
    bad = Lesson("x", "X", "no_such_preset", (), "a. b.", "c")
    with pytest.raises(ConfigError, match="lesson 'x'.*unknown preset 'no_such_preset'"):
        bad.config()


# ----------------------------------------------------------------------------- 1. sigmoid


def test_lesson_sigmoid_gradient_shrinks_about_4x_per_layer():
    says(
        "sigmoid",
        "sigmoid' is at most 0.25",
        "mean is 0.21-0.24 in every layer",
        "about 4x per layer",
        "about 4e-6",
        "chance (about 0.1) for the first ten epochs",
    )
    r = lesson_run("sigmoid")
    for step in (1, 10 * EPOCH):
        fp = r.at(step, FP)[:-1]
        assert np.all((fp >= 0.205) & (fp <= 0.245)), fp
        g = r.at(step, G)[:-1]
        assert 0.2 < geometric_mean(g[:-1] / g[1:]) < 0.3  # ~1/4 per layer
    assert 2e-6 < r.ratio(1) < 8e-6
    assert np.all(r.test_acc < 0.15)  # 10 classes: chance = 0.1
    assert all(r.ratio(s) < 1e-5 for s in (EPOCH, 5 * EPOCH, 10 * EPOCH))


# ----------------------------------------------------------------------------- 2. tanh


def test_lesson_tanh_every_layer_learns():
    says(
        "tanh",
        "between 0.5 and 1 in every layer",
        "about 0.9 of hidden 10's",
        "passes 0.9 within two epochs",
        "falls below 1 within the first epoch",
        "sigmoid's stays at 2.3",
    )
    r = lesson_run("tanh")
    for step in (1, EPOCH, 5 * EPOCH, 10 * EPOCH):
        fp = r.at(step, FP)[:-1]
        assert np.all((fp > 0.5) & (fp < 1.0)), (step, fp)
    assert 0.8 < r.ratio(1) < 1.0
    assert r.test_at_epoch(2) > 0.9
    assert r.scalars[EPOCH - 10 : EPOCH, 0].mean() < 1.0
    sig = lesson_run("sigmoid")
    assert 2.25 < sig.scalars[EPOCH - 10 : EPOCH, 0].mean() < 2.35


# ----------------------------------------------------------------------------- 3. ReLU + He


def test_lesson_relu_he_keeps_the_gradient():
    says(
        "relu_he",
        "mean |f'| is 0.35-0.6 per layer",
        "about 0.8 of hidden 10's",
        "about 0.97 in ten epochs",
        "a few units output 0",
        "Xavier init trains about as well",
    )
    r = lesson_run("relu_he")
    fp = r.at(1, FP)[:-1]
    assert np.all((fp >= 0.35) & (fp <= 0.6)), fp
    assert 0.7 < r.ratio(1) < 0.9
    assert 0.95 < r.test_at_epoch(10) < 0.99
    dead = r.at(10 * EPOCH, DEAD)[:-1]
    assert 0 < dead.max() < 0.25
    xavier = run(LESSONS["relu_he"].preset, ("model.activation=relu",))
    assert xavier.test_at_epoch(10) > 0.95


# ----------------------------------------------------------------------------- 4. batch norm


def test_lesson_batch_norm_flattens_the_gradient():
    says(
        "batch_norm",
        "about 2e-12 of hidden 20's",
        "still about 0.21",
        "first/last ratio about 2.5",
        "stays at chance for about five epochs",
        "about 0.89 by epoch ten",
    )
    plain = run("batch_norm", (), steps=1)
    assert 1e-12 < plain.ratio(1) < 4e-12
    r = lesson_run("batch_norm")
    fp = r.at(1, FP)[:-1]
    assert np.all(np.abs(fp - 0.21) < 0.015), fp
    assert 2.0 < r.ratio(1) < 3.0
    g = r.at(1, G)[:-1]
    assert np.all((g[:-1] / g[1:] > 0.8) & (g[:-1] / g[1:] < 1.25))  # the same order
    assert all(r.test_at_epoch(e) < 0.15 for e in range(1, 6))
    assert r.test_at_epoch(7) > 0.2
    assert 0.85 < r.test_at_epoch(10) < 0.93


# ----------------------------------------------------------------------------- 5. residual


def test_lesson_residual_carries_the_gradient_past_flat_sigmoids():
    says(
        "residual",
        "about 0.1 of hidden 20's",
        "(2e-12 without)",
        "last ten sigmoids are nearly flat (mean |f'| below 0.1)",
        "passes 0.9 within two epochs",
        "nearly constant from hidden 20 down to hidden 1",
        "shrinks about 4x per layer",
    )
    r = lesson_run("residual", steps=2 * EPOCH)
    assert 0.05 < r.ratio(1) < 0.2
    assert np.all(r.at(1, FP)[10:20] < 0.1)
    assert r.test_at_epoch(2) > 0.9
    incoming = r.at(1, INCOMING)[:-1]
    assert incoming.max() / incoming.min() < 1.5
    plain = run("residual", (), steps=1)
    assert 1e-12 < plain.ratio(1) < 4e-12
    inc = plain.at(1, INCOMING)[:-1]
    assert 3.5 < geometric_mean(inc[1:] / inc[:-1]) < 5


# ----------------------------------------------------------------------------- 6. exploding


def test_lesson_exploding_diverges_and_clipping_trains():
    says(
        "exploding",
        "50-115 per layer",
        "about 300, then 1e5, then 1e21",
        "diverges at step 5 when hidden 2's pre-activations overflow",
        "about 0.8 test accuracy in ten epochs",
        "about 0.93 with clip_norm = 5",
        "only the unclipped run diverges",
    )
    r = lesson_run("exploding")
    g = r.at(1, G)
    assert np.all((g > 45) & (g < 120)), g
    norms = r.scalars[:3, 2]
    assert 100 < norms[0] < 1000
    assert 3e4 < norms[1] < 3e5
    assert 1e20 < norms[2] < 1e22
    d = r.divergence
    assert (d.step, d.layer, d.phase, d.quantity) == (5, 1, "forward", "pre-activation z")
    preset = LESSONS["exploding"].preset
    clip1 = run(preset, ("training.clip_norm=1",))
    clip5 = run(preset, ("training.clip_norm=5",))
    assert clip1.divergence is None
    assert clip5.divergence is None
    assert 0.72 < clip1.test_at_epoch(10) < 0.88
    assert 0.88 < clip5.test_at_epoch(10) < 0.97
    assert LESSONS["exploding"].compare == ("training.clip_norm=0,1,5",)


# ----------------------------------------------------------------------------- 7. dying ReLU


def test_lesson_dying_relu_and_its_cures():
    says(
        "dying_relu",
        "30-70% of the units of hidden 2-6 are dead",
        "about 9 mini-batches in 10",
        "every weight gradient is then exactly 0",
        "stays at chance",
        "slope 0.01",
        "has no dead units",
        "reaches about 0.96",
        "after about six epochs",
    )
    r = lesson_run("dying_relu")
    dead1 = r.at(1, DEAD)[1:-1]
    assert np.all((dead1 >= 0.3) & (dead1 <= 0.7)), dead1
    later = r.steps >= 2
    h6_dead = r.layers[later, -2, DEAD] == 1.0
    all_zero = np.all(r.layers[later, :, G] == 0.0, axis=1)
    assert 0.8 < h6_dead.mean() < 0.97
    assert np.all(all_zero[h6_dead])  # whenever hidden 6 is dead, nothing learns
    assert np.all(r.test_acc < 0.15)
    preset = LESSONS["dying_relu"].preset
    leaky = run(preset, ("model.activation=leaky_relu",))
    assert np.all(leaky.layers[:, :-1, DEAD] == 0.0)
    assert np.all(leaky.test_acc < 0.15)
    prelu = run(preset, ("model.activation=prelu",))
    assert 0.93 < prelu.test_at_epoch(10) < 0.99
    assert all(prelu.test_at_epoch(e) < 0.15 for e in range(1, 7))
    assert prelu.test_at_epoch(8) > 0.2


# ----------------------------------------------------------------------------- the panel


def test_lesson_trainable_depth_follows_6_xi_c():
    """The mean-field figures from engine.meanfield, the accuracies from the sweep's own
    scorer (engine.sweep.train_point: 300 steps, accuracy on the whole training split)."""
    from engine.config import updated
    from engine.meanfield import mean_field
    from engine.sweep import train_point

    says(
        "trainable_depth",
        "χ₁ = 0.76, ξc = 3.6, so 6 ξc = 22",
        "a 15-layer net reaches 0.78",
        "stays at chance (0.10)",
        "ξc in the hundreds) the same 40 layers reach 0.86",
    )
    cfg = LESSONS["trainable_depth"].config()
    m = cfg.model
    mf = mean_field(m.activation, m.sigma_w2, m.sigma_b2)
    assert (m.sigma_w2, m.depth, cfg.training.steps) == (1.0, 40, 300)
    assert mf.chi_1 == pytest.approx(0.76, abs=0.005)
    assert mf.xi_c == pytest.approx(3.6, abs=0.05)
    assert 6 * mf.xi_c == pytest.approx(22, abs=0.5)
    assert 100 <= mean_field(m.activation, 1.75, m.sigma_b2).xi_c < 1000

    def accuracy(**changes) -> float:
        point = train_point((0, 0, updated(cfg, **changes)))
        assert point.status == "ok", point.message
        return point.train_accuracy

    assert accuracy() == pytest.approx(0.10, abs=0.02)
    assert accuracy(**{"model.depth": 15}) == pytest.approx(0.78, abs=0.02)
    assert accuracy(**{"model.sigma_w2": 1.75}) == pytest.approx(0.86, abs=0.02)


def test_lesson_orthogonal_isometry_not_the_gradient_norm():
    says(
        "orthogonal",
        "0.8-1.1 of hidden 40's gradient",
        "more than 15 decades",
        "over about 1.3",
        "predicted 0.033, measured 0.036",
        "passes 0.9 within six",
        "below 0.4 for ten",
    )
    lesson = LESSONS["orthogonal"]
    spread = {}
    for init in ("fan_in_normal", "orthogonal"):
        s = Session(apply_overrides(lesson.config(), (f"model.init={init}",)))
        j = session_sample(s)
        lo, hi = np.percentile(j.sv, [2, 98])
        spread[init] = np.log10(hi / lo)
        if init == "orthogonal":
            widths = [s.X.shape[1]] + [sp.n_out for sp in s.net.specs]
            p = model_prediction(s.config.model, widths, j.q_in)
            assert round(p.sd, 3) == 0.033
            assert round(float(np.sqrt(np.mean((j.sv**2).var(axis=1)))), 3) == 0.036
        r = run(lesson.preset, (*lesson.overrides, f"model.init={init}"))
        assert 0.8 <= r.ratio(1) <= 1.15, init
        if init == "orthogonal":
            assert max(r.test_at_epoch(e) for e in range(1, 7)) > 0.9
        else:
            assert max(r.test_acc) < 0.4
    assert spread["fan_in_normal"] > 15
    assert 1.2 <= spread["orthogonal"] <= 1.45


def test_panel_steps_through_the_lessons(qtbot):
    lessons = list(LESSONS.values())
    panel = LessonPanel(lessons)
    qtbot.addWidget(panel)
    configs, compares = [], []
    panel.setup_requested.connect(configs.append)
    panel.compare_requested.connect(lambda cfg, vary: compares.append((cfg, vary)))
    panel.show_lesson(0)
    assert not panel.prev_button.isEnabled()
    assert panel.next_button.isEnabled()
    assert configs[-1] == lessons[0].config()
    assert f"Lesson 1 of {len(lessons)}" in panel.counter.text()
    assert f"Lesson 1 of {len(LESSONS)}" in panel.counter.text()
    assert lessons[1].title in panel.next_label.text()
    panel.next_button.click()
    assert panel.index == 1
    assert configs[-1].model.activation == "tanh"
    panel.previous()
    assert panel.index == 0
    panel.compare_button.click()
    assert compares[-1][1] == list(lessons[0].compare)
    last = len(lessons) - 1
    panel.show_lesson(last)
    assert not panel.next_button.isEnabled()
    assert panel.text.text() == lessons[last].text
    with pytest.raises(IndexError):
        panel.show_lesson(last + 1)


def test_panel_reports_a_broken_lesson(qtbot):
    panel = LessonPanel([Lesson("x", "X", "no_such_preset", (), "a. b.", "c")])
    qtbot.addWidget(panel)
    errors = []
    panel.error.connect(errors.append)
    panel.show_lesson(0)
    assert errors
    assert "no_such_preset" in errors[0]


def test_lesson_text_with_a_less_than_sign_shows_in_full(qtbot):
    text = "ReLU is zero for z < 0. Its <b>gradient</b> there is zero too."
    panel = LessonPanel([Lesson("x", "a < b", "dying_relu", (), text, "c")])
    qtbot.addWidget(panel)
    panel.show_lesson(0)
    # AutoText would take this for markup and drop everything after "z "
    assert panel.text.textFormat() == Qt.TextFormat.PlainText
    assert panel.title.textFormat() == Qt.TextFormat.PlainText
    assert panel.text.text() == text


# ----------------------------------------------------------------------------- install


class _Window(QMainWindow):
    """A main window that can load an experiment (as the app's is asked to)."""

    def __init__(self):
        super().__init__()
        self.loaded = []
        self.menuBar().addMenu("&Help")

    def load_config(self, cfg) -> None:
        self.loaded.append(cfg)


def test_install_adds_the_menus_and_lessons_set_up_the_window(qtbot):
    w = _Window()
    qtbot.addWidget(w)
    teaching.install(w)
    teaching.install(w)  # a second call changes nothing
    assert [a.text() for a in w.menuBar().actions()] == ["&Tools", "&Lessons", "&Help"]
    tools = w.menuBar().actions()[0].menu()
    assert [a.text() for a in tools.actions()] == ["&Compare\u2026", "Activation &gallery"]
    announced = []
    w.teaching.lesson_config.connect(announced.append)
    entries = w.teaching.actions["lessons"].actions()
    assert len([a for a in entries if not a.isSeparator()]) == len(LESSONS) + 1
    entries[1].trigger()  # lesson 2
    assert w.loaded == announced == [LESSONS["tanh"].config()]
    assert w.teaching.lesson_panel.index == 1
    assert not w.teaching.lesson_dock.isHidden()
    w.teaching.lesson_panel.next()
    assert w.loaded[-1].model.init == "he_normal"


def test_without_load_config_a_lesson_is_announced_by_signal(qtbot):
    w = QMainWindow()
    qtbot.addWidget(w)
    teaching.install(w)
    with qtbot.waitSignal(w.teaching.lesson_config) as blocker:
        w.teaching.start_lesson(0)
    assert blocker.args[0] == LESSONS["sigmoid"].config()


# ----------------------------------------------------------------------------- 8. edge of chaos


def test_lesson_edge_of_chaos_trains_at_the_edge():
    from engine import meanfield as mf
    from engine import phase_view

    says(
        "edge_of_chaos",
        "χ₁ = 0.76 at σw² = 1",
        "about 0.05 of hidden 30's",
        "1.00 at σw² = 1.76",
        "about 1.5",
        "1.34 at σw² = 4",
        "about 60",
        "passes 0.9 test accuracy within six epochs",
        "σw² = 1 reaches only about 0.6 in ten",
        "σw² = 4 stays below 0.45",
        "the star sits on the red edge-of-chaos curve",
    )
    lesson = LESSONS["edge_of_chaos"]
    model = lesson.config().model
    chi = {w: mf.mean_field("tanh", w, model.sigma_b2).chi_1 for w in (1.0, 1.76, 4.0)}
    assert [round(chi[w], 2) for w in chi] == [0.76, 1.00, 1.34]
    edge = mf.edge_of_chaos("tanh", np.array([model.sigma_b2]))[0]
    assert abs(edge - model.sigma_w2) < 0.01  # the star (phase_spec) on the curve
    layers = model.layers()
    widths = (64, *(la.width for la in layers), 10)
    spec = phase_view.phase_spec(model, widths, [la.activation for la in layers])
    assert spec.marker == (model.sigma_w2, model.sigma_b2)
    base = tuple(o for o in lesson.overrides if not o.startswith("model.sigma_w2"))
    runs = {w: run(lesson.preset, (*base, f"model.sigma_w2={w}")) for w in ("1", "1.76", "4")}
    assert 0.04 < runs["1"].ratio(1) < 0.065
    assert 1.2 < runs["1.76"].ratio(1) < 1.8
    assert 45 < runs["4"].ratio(1) < 75
    edge_run = runs["1.76"]
    assert edge_run.test_at_epoch(5) < 0.9 < edge_run.test_at_epoch(6)
    assert 0.5 < runs["1"].test_at_epoch(10) < 0.7
    assert runs["4"].test_acc.max() < 0.45
    assert all(r.divergence is None for r in runs.values())
