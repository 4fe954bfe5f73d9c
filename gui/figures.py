"""The figure set of one or more runs, shared by the CLI and the app so both look the same.

    runs = {name: FigureData.from_snapshot(name, session.snapshot()) for ...}
    save_figures(build_figures(runs), out_dir)   # gradient_norms, loss, accuracy, heatmap(s)

Works headless: it only needs a QApplication, and creates one if there is none.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication, QWidget

from engine.figure_data import FigureData
from engine.labels import from_output_labels
from gui import export, theme
from gui.panels.curves import CurvePlot
from gui.panels.gradient_chart import GradientChart
from gui.panels.heatmap import LayerHeatmap, shared_levels

_app: QApplication | None = None  # keeps an application created here alive

__all__ = ["FigureData", "build_figures", "ensure_app", "save_figures"]


def ensure_app() -> QApplication:
    """The running QApplication, or a new one (kept alive by this module)."""
    global _app
    app = QApplication.instance()
    if app is None:
        app = _app = QApplication(["vglab-figures"])
    return app


def _sized(widget: QWidget, size: tuple[int, int]) -> None:
    """Size a figure that will never be shown: the panel and its plot, which export_plot
    then lays out off-screen at this size."""
    widget.resize(*size)
    widget.plot.resize(*size)


def _style(run_index: int, dash: bool) -> dict:
    # per-batch train curves are noisy: thin, so the (dashed) test curve stays visible
    return {"color": theme.color(run_index), "dash": dash, "width": 2.2 if dash else 1.2}


def _curves(
    runs: Mapping[str, FigureData], title: str, y_label: str, log_y: bool, train_of, test_of, size
) -> CurvePlot:
    """Train (solid) and test (dashed) curves, one colour per run."""
    plot = CurvePlot(title, y_label, log_y=log_y)
    _sized(plot, size)
    series, styles = {}, {}
    single = len(runs) == 1
    for i, (name, r) in enumerate(runs.items()):
        train = "train (batch)" if single else f"{name} train"
        test = "test" if single else f"{name} test"
        if len(r.loss_steps):
            series[train] = (r.loss_steps, train_of(r))
            styles[train] = _style(i, dash=False)
        if len(r.eval_steps):
            series[test] = (r.eval_steps, test_of(r))
            styles[test] = _style(i, dash=True)
    plot.set_data(series, styles)
    return plot


def _gradient_chart(runs: Mapping[str, FigureData], size) -> GradientChart:
    chart = GradientChart(title="Gradient norm per layer at the end of training")
    _sized(chart, size)
    deepest = max(runs.values(), key=lambda r: len(r.labels))
    series = {name: r.grad_norm for name, r in runs.items()}
    if all(r.labels == deepest.labels for r in runs.values()):
        chart.set_data(series, deepest.labels)
    else:
        # runs of different depths: line them up at the output layer, where the backward
        # pass starts, and count layers back from there
        chart.set_data(series, from_output_labels(len(deepest.labels)), align="output")
        theme.set_axis_label(
            chart.plot.getPlotItem(), "bottom", "layer (counted back from the output)"
        )
    return chart


def build_figures(
    runs: Mapping[str, FigureData], size: tuple[int, int] = (1000, 600), light: bool = True
) -> dict[str, QWidget]:
    """The figure widgets of ``runs``, by file stem.

    * ``gradient_norms``: final ||dL/dW|| per layer, one line per run (log axis);
    * ``loss``: train loss (solid) and test loss (dashed) per run, log axis;
    * ``accuracy``: the same for accuracy (left out when no run has any, e.g. regression);
    * ``heatmap`` for a single run, else ``heatmap_<name>`` per run, all on the same colour
      scale so runs can be compared by colour.

    ``light`` selects the white-background theme (for slides and papers); note that it sets
    pyqtgraph's global options (see :func:`gui.theme.configure_pyqtgraph`).
    """
    if not runs:
        raise ValueError("build_figures: no runs")
    ensure_app()
    theme.configure_pyqtgraph(light=light)
    figs: dict[str, QWidget] = {"gradient_norms": _gradient_chart(runs, size)}
    figs["loss"] = _curves(
        runs, "Loss", "loss (per example)", True, lambda r: r.loss, lambda r: r.test_loss, size
    )
    has_acc = any(
        np.isfinite(r.accuracy).any() or np.isfinite(r.test_accuracy).any() for r in runs.values()
    )
    if has_acc:
        figs["accuracy"] = _curves(
            runs,
            "Accuracy",
            "accuracy (fraction correct)",
            False,
            lambda r: r.accuracy,
            lambda r: r.test_accuracy,
            size,
        )
    levels = shared_levels(r.history_grad_norm for r in runs.values())
    for name, r in runs.items():
        single = len(runs) == 1
        heat = LayerHeatmap(
            title="Gradient norm per layer over training"
            if single
            else f"{name}: gradient norm per layer over training"
        )
        _sized(heat, size)
        if len(r.history_steps) and r.history_grad_norm.size:
            heat.set_data(r.history_steps, r.history_grad_norm, r.labels, levels=levels)
        figs["heatmap" if single else f"heatmap_{file_stem(name)}"] = heat
    return figs


def file_stem(name: str) -> str:
    """A file-name-safe version of a run name."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return safe.strip(".") or "run"


def save_figures(
    figs: Mapping[str, QWidget],
    out_dir: Path,
    formats: tuple[str, ...] = ("png", "svg"),
    width: int = 1200,
) -> list[Path]:
    """Write every figure as ``<out_dir>/<name>.<format>`` (PNG ``width`` px wide, SVG).

    The whole plot is exported (axes, legend and the heatmaps' colour bars).  Creates
    ``out_dir`` if needed; raises :class:`gui.export.ExportError` when a file can't be
    written.
    """
    out_dir = export.make_folder(out_dir)
    written = []
    for name, fig in figs.items():
        for fmt in formats:
            path = out_dir / f"{name}.{fmt.lower().lstrip('.')}"
            written.append(export.export_plot(fig.plot, path, width=width))
    return written


def jacobian_figure(spectrum, size: tuple[int, int] = (1000, 600)) -> QWidget:
    """The Jacobian spectrum panel of a run's final ``engine.jacobian_theory.JacobianSpectrum``
    (``vglab run --plots``: the histogram, the prediction's line and band and their key; the
    measured-vs-predicted words are the panel's note, which the exported plot leaves out)."""
    from gui.jacobian_view import spectrum_view
    from gui.panels.jacobian_spectrum import JacobianSpectrum

    ensure_app()
    v = spectrum_view(spectrum)
    panel = JacobianSpectrum()
    _sized(panel, size)
    panel.set_data(v.title, v.edges, v.counts, v.rms, v.band, v.text)
    return panel
