"""Export (atomic files, clear errors) and the shared figure set, offscreen."""

from __future__ import annotations

import csv
import os
import types
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from engine.config import ExperimentConfig, updated
from engine.figure_data import FigureData
from engine.session import Session
from gui import export, theme
from gui.figures import build_figures, save_figures
from gui.panels.gradient_chart import GradientChart

theme.configure_pyqtgraph(light=True)
RNG = np.random.default_rng(1)


def pixels(path) -> np.ndarray:
    img = QImage(str(path))
    assert not img.isNull(), f"{path} is not a readable image"
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    # copy: the array must not outlive the QImage that owns the pixels
    return (
        np.frombuffer(img.constBits(), np.uint32, count=img.width() * img.height())
        .reshape(img.height(), img.width())
        .copy()
    )


def assert_png(path, width: int, min_colors: int = 8) -> np.ndarray:
    px = pixels(path)
    assert px.shape[1] == width, (path, px.shape)
    assert len(np.unique(px)) > min_colors, f"{path.name} looks blank"
    return px


def assert_svg(path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert sum(1 for _ in root.iter()) > 10


def leftovers(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


@pytest.fixture
def chart(qtbot):
    c = GradientChart()
    qtbot.addWidget(c)
    c.resize(640, 400)
    c.set_data(
        {"a": 0.3 ** np.arange(6, 0, -1), "b": 0.5 ** np.arange(6, 0, -1)},
        ["hidden 1", "hidden 2", "hidden 3", "hidden 4", "hidden 5", "output"],
    )
    return c


# --- single files --------------------------------------------------------------------------------


def test_export_plot_png_and_svg(chart, tmp_path):
    assert_png(export.export_plot(chart.plot, tmp_path / "g.png", width=900), 900)
    assert_png(export.export_plot(chart.plot.getPlotItem(), tmp_path / "item.png", 500), 500)
    assert_png(export.export_plot(chart, tmp_path / "panel.png", width=400), 400)
    export.export_plot(chart.plot, tmp_path / "g.svg")
    assert_svg(tmp_path / "g.svg")
    assert leftovers(tmp_path) == []


def test_export_replaces_an_existing_file_completely(chart, tmp_path):
    target = tmp_path / "g.png"
    target.write_bytes(b"x" * 10_000_000)  # longer than the PNG
    export.export_plot(chart.plot, target, width=300)
    assert_png(target, 300)
    assert target.stat().st_size < 10_000_000
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_unsupported_format_and_missing_folder(chart, tmp_path):
    with pytest.raises(export.ExportError, match="unsupported format"):
        export.export_plot(chart.plot, tmp_path / "g.jpg")
    with pytest.raises(export.ExportError, match="does not exist") as info:
        export.export_plot(chart.plot, tmp_path / "missing" / "g.png")
    assert str(tmp_path / "missing") in str(info.value)
    assert isinstance(info.value, OSError)
    with pytest.raises(TypeError):
        export.export_plot(object(), tmp_path / "g.png")


def test_path_under_a_file_raises_and_leaves_nothing(chart, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("I am a file")
    for target in (blocker / "g.png", blocker / "g.svg"):
        with pytest.raises(export.ExportError) as info:
            export.export_plot(chart.plot, target)
        assert str(target) in str(info.value)
    with pytest.raises(export.ExportError, match="file.txt"):
        export.export_csv(blocker / "m.csv", ["a"], [[1]])
    with pytest.raises(export.ExportError):
        export.export_text(blocker / "t.txt", "hello")
    with pytest.raises(export.ExportError, match="folder"):
        export.export_text(tmp_path, "a folder is not a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders"
)
def test_read_only_folder_raises_and_leaves_nothing(chart, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(export.ExportError, match="ro"):
            export.export_plot(chart.plot, ro / "g.png")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_failure_while_writing_removes_the_temp_file_and_keeps_the_old(tmp_path, monkeypatch):
    target = tmp_path / "t.txt"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, "replace", broken_replace)
    with pytest.raises(export.ExportError, match="No space left") as info:
        export.export_text(target, "new")
    assert str(target) in str(info.value)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]


def test_csv_and_text(tmp_path):
    rows = [[1, 0.5, float("nan")], [2, 1e-300, 3.0]]
    path = export.export_csv(tmp_path / "m.csv", ["step", "loss", "acc"], rows)
    with open(path, newline="") as f:
        got = list(csv.reader(f))
    assert got[0] == ["step", "loss", "acc"]
    assert float(got[2][1]) == 1e-300
    assert got[1][2] == "nan"
    export.export_text(tmp_path / "t.md", "\u03b4 = dL/dz\n")
    assert (tmp_path / "t.md").read_text(encoding="utf-8") == "\u03b4 = dL/dz\n"
    assert leftovers(tmp_path) == []


def test_export_widget_png(chart, tmp_path):
    chart.show()
    path = export.export_widget_png(chart, tmp_path / "w.png")
    px = pixels(path)
    assert px.shape[1] == chart.grab().width()
    assert len(np.unique(px)) > 8


def test_svg_closed_paths_are_rewritten():
    import xml.dom.minidom as minidom

    doc = minidom.parseString('<g><path d="M0,0 L5,0 L5,5 Z M1,1 L2,2 Z"/></g>')
    export._close_paths_explicitly(doc)
    assert (
        doc.getElementsByTagName("path")[0].getAttribute("d")
        == "M0,0 L5,0 L5,5 L0,0 M1,1 L2,2 L1,1"
    )


# --- figures -------------------------------------------------------------------------------------


def synthetic(name: str, depth: int, n: int = 200, scale: float = 1.0) -> FigureData:
    labels = tuple([f"hidden {k + 1}" for k in range(depth)] + ["output"])
    steps = np.arange(1, n + 1, dtype=np.float64)
    grads = scale * np.outer(np.exp(-steps / 300), 0.25 ** np.arange(depth, -1, -1))
    ev = steps[::20]
    return FigureData(
        name=name,
        labels=labels,
        grad_norm=grads[-1],
        history_steps=steps,
        history_grad_norm=grads,
        loss_steps=steps,
        loss=np.exp(-steps / 100) + 0.05 * RNG.random(n),
        accuracy=1 - np.exp(-steps / 80),
        eval_steps=ev,
        test_loss=np.exp(-ev / 120) + 0.1,
        test_accuracy=1 - np.exp(-ev / 90),
    )


def test_save_figures_single_run(qtbot, tmp_path):
    figs = build_figures({"deep": synthetic("deep", 6)}, size=(800, 500))
    for w in figs.values():
        qtbot.addWidget(w)
    assert set(figs) == {"gradient_norms", "loss", "accuracy", "heatmap"}
    written = save_figures(figs, tmp_path / "plots", width=1000)
    assert len(written) == 8
    assert all(p.exists() for p in written)
    for p in written:
        if p.suffix == ".png":
            assert_png(p, 1000)
        else:
            assert_svg(p)
    assert leftovers(tmp_path / "plots") == []


def test_heatmap_export_includes_the_colour_bar(qtbot, tmp_path):
    figs = build_figures({"deep": synthetic("deep", 6)}, size=(800, 500))
    for w in figs.values():
        qtbot.addWidget(w)
    heat = figs["heatmap"]
    assert heat.bar.scene() is heat.plot.scene()
    (png,) = save_figures({"heatmap": heat}, tmp_path, formats=("png",), width=800)
    px = assert_png(png, 800)
    # the colour bar sits right of the image: a tall strip of many colours, all of it
    # beyond the right edge of the plot's ViewBox
    vb = heat.plot.getPlotItem().getViewBox()
    scale = 800 / heat.plot.width()
    right_of_vb = int(vb.sceneBoundingRect().right() * scale) + 4
    strip = px[:, right_of_vb:]
    assert strip.shape[1] > 10
    assert len(np.unique(strip)) > 30, "no colour bar right of the heatmap"
    svg = tmp_path / "heatmap.svg"
    save_figures({"heatmap": heat}, tmp_path, formats=("svg",))
    assert svg.read_text().count("<image") >= 2  # the heatmap and the colour bar


def test_several_runs_share_heatmap_levels_and_colours(qtbot, tmp_path):
    runs = {
        "sigmoid": synthetic("sigmoid", 5),
        "relu": synthetic("relu", 5, scale=100.0),
        "shallow": synthetic("shallow", 2),
    }
    runs["relu"].accuracy[:] = np.nan  # a run without accuracy is fine
    figs = build_figures(runs, size=(700, 450))
    for w in figs.values():
        qtbot.addWidget(w)
    assert {"heatmap_sigmoid", "heatmap_relu", "heatmap_shallow"} <= set(figs)
    levels = {figs[f"heatmap_{n}"].levels for n in runs}
    assert len(levels) == 1  # one colour scale for all runs
    lo, hi = levels.pop()
    # covers the smallest value of any run (deep sigmoid) and the largest (relu, 100x)
    assert lo == pytest.approx(np.log10(runs["sigmoid"].history_grad_norm.min()))
    assert hi == pytest.approx(np.log10(runs["relu"].history_grad_norm.max()))
    chart = figs["gradient_norms"]
    assert list(chart.series) == ["sigmoid", "relu", "shallow"]
    loss = figs["loss"]
    pens = {name: it.opts["pen"] for name, it in loss.series.items()}
    assert pens["relu train"].color() == pens["relu test"].color()
    assert pens["relu test"].style() == pg.QtCore.Qt.PenStyle.DashLine
    written = save_figures(figs, tmp_path, formats=("png",), width=700)
    for p in written:
        assert_png(p, 700)


def test_regression_runs_have_no_accuracy_figure(qtbot):
    r = synthetic("reg", 3)
    r.accuracy[:] = np.nan
    r.test_accuracy[:] = np.nan
    figs = build_figures({"reg": r})
    for w in figs.values():
        qtbot.addWidget(w)
    assert "accuracy" not in figs
    assert "loss" in figs


def test_save_figures_to_an_unwritable_place(qtbot, tmp_path):
    figs = build_figures({"x": synthetic("x", 2)})
    for w in figs.values():
        qtbot.addWidget(w)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(export.ExportError):
        save_figures(figs, blocker / "plots")
    with pytest.raises(export.ExportError):
        save_figures(figs, blocker)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def small_dataset(n: int = 120, d: int = 4, k: int = 3):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, n)
    return types.SimpleNamespace(
        X_train=X[:90],
        y_train=y[:90],
        X_test=X[90:],
        y_test=y[90:],
        task="classification",
        n_classes=k,
        name="random",
        n_features=d,
        feature_names=[],
        class_names=[],
        description="random",
    )


def test_figure_data_from_a_real_session(qtbot, tmp_path):
    cfg = updated(
        ExperimentConfig(name="tiny"),
        **{
            "model.depth": 4,
            "model.width": 8,
            "training.batch_size": 16,
            "training.eval_every": 10,
        },
    )
    session = Session(cfg, dataset=small_dataset())
    session.run(30)
    fd = FigureData.from_snapshot("tiny", session.snapshot())
    assert fd.labels == ("hidden 1", "hidden 2", "hidden 3", "hidden 4", "output")
    assert fd.grad_norm.shape == (5,)
    assert np.all(fd.grad_norm > 0)
    assert fd.history_steps.shape == (30,)
    assert fd.history_grad_norm.shape == (30, 5)
    assert fd.loss.shape == fd.accuracy.shape == fd.loss_steps.shape == (30,)
    assert fd.eval_steps.shape == fd.test_loss.shape == fd.test_accuracy.shape == (3,)
    assert np.all((fd.accuracy >= 0) & (fd.accuracy <= 1))
    bare = FigureData.from_snapshot("bare", session.snapshot(with_history=False))
    assert bare.history_grad_norm.shape == (0, 5)
    assert bare.loss.shape == (0,)
    figs = build_figures({"tiny": fd})
    for w in figs.values():
        qtbot.addWidget(w)
    written = save_figures(figs, tmp_path)
    assert {p.name for p in written} == {
        f"{s}.{e}"
        for s in ("gradient_norms", "loss", "accuracy", "heatmap")
        for e in ("png", "svg")
    }
    for p in written:
        if p.suffix == ".png":
            assert_png(p, 1200)
        else:
            assert_svg(p)
