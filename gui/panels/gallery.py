"""Activation gallery: every activation f and its derivative f' in a grid of small plots,
the largest |f'| marked, and the comparison table of the seed articles (negative-side
gradient, smoothness, cost measured by timing each kernel).

:func:`activation_curves` computes the arrays (NumPy reference functions of
``engine.activations``); :class:`ActivationGallery` only draws what it is given;
:class:`GalleryDialog` wires the two and times the kernels in a background thread, so it
opens at once.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.activations import ACTIVATIONS, param_value
from engine.config import ModelConfig
from gui import export, theme
from gui.background import Background, run_in_background

Z_MAX = 5.0
N_GRID = 1001  # 0.01 spacing: the kinks at 0 and the GELU dip are resolved
Y_CAP = 3.0  # unbounded f (ReLU, identity) is cut here so f' stays readable
COLUMNS = 5
#: elements and repeats of the kernel timing (small: the table is filled within a second)
TIMING_N = 100_000
TIMING_REPEATS = 5
TABLE_HEADER = (
    "activation",
    "f(z)",
    "output range",
    "max |f'|",
    "gradient for z < 0",
    "smooth",
    "cost vs ReLU",
)


@dataclass(frozen=True)
class ActivationCurve:
    """One activation on a grid: what a gallery plot draws."""

    name: str
    display: str
    formula: str
    param: float  # slope / alpha used (ModelConfig defaults)
    z: np.ndarray  # (n,) grid
    f: np.ndarray  # (n,) f(z)
    df: np.ndarray  # (n,) f'(z) (the registry's reference derivative)
    max_grad: float  # max |f'| over z (engine.activations.Activation.max_grad)
    argmax: float | None  # z where |f'| peaks, None when the peak is a plateau / half-line

    def __repr__(self) -> str:
        return f"ActivationCurve({self.name!r}, max_grad={self.max_grad:.3g})"


def activation_curves(
    z: np.ndarray | None = None, model: ModelConfig | None = None
) -> dict[str, ActivationCurve]:
    """name -> :class:`ActivationCurve` for every activation, parameters from ``model``
    (default: ``ModelConfig()``, i.e. Leaky slope 0.01, PReLU 0.25, ELU alpha 1)."""
    z = np.linspace(-Z_MAX, Z_MAX, N_GRID) if z is None else np.asarray(z, dtype=np.float64)
    model = model or ModelConfig()
    out = {}
    for name, act in ACTIVATIONS.items():
        p = param_value(act, model)
        with np.errstate(all="ignore"):
            f = np.asarray(act.f(z, p), dtype=np.float64) * np.ones_like(z)
            df = np.asarray(act.df(z, p), dtype=np.float64) * np.ones_like(z)
        top = act.max_grad(p)
        a = np.abs(df)
        i = int(np.argmax(a))
        # a single peak inside the plot (sigmoid at 0, GELU near 1.5) gets a dot; a plateau
        # (ReLU's 1 for all z > 0) or a supremum approached off the plot (softplus) does not
        single = np.count_nonzero(a >= a[i] - 1e-9) <= 3 and 0 < i < len(z) - 1
        argmax = float(z[i]) if single and top > 0 and abs(a[i] - top) <= 1e-3 * top else None
        out[name] = ActivationCurve(name, act.display, act.formula, p, z, f, df, top, argmax)
    return out


def table_rows(rows=None) -> list[list[str]]:
    """Text of the comparison table: from ``engine.theory.activation_table()`` rows, or, while
    the kernels are being timed (``rows`` None), from the registry with "measuring…"."""
    if rows is None:
        model = ModelConfig()
        return [
            [
                a.display,
                a.formula,
                a.output_range,
                _g(a.max_grad(param_value(a, model))),
                a.negative_side,
                a.smooth,
                "measuring\u2026",
            ]
            for a in ACTIVATIONS.values()
        ]
    return [
        [
            r.display,
            r.formula,
            r.output_range,
            _g(r.max_grad),
            r.negative_side,
            r.smooth,
            f"{r.relative_cost:.1f}\u00d7  ({r.ns_per_element:.2g} ns/value)",
        ]
        for r in rows
    ]


def _g(x: float) -> str:
    return f"{x:.3g}"


class CurvePanel(theme.PlotPanel):
    """One small plot: f, f' and the max |f'| line (and dot) of one activation."""

    export_requested = Signal(str)  # activation name

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        item = self.plot_item
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        theme.style_plot(item, name, "z", "")
        self.f_curve = pg.PlotDataItem(pen=theme.mkpen(theme.color(0), 2.2))
        self.df_curve = pg.PlotDataItem(pen=theme.mkpen(theme.color(1), 2.2))
        self.max_line = pg.PlotDataItem(pen=theme.mkpen(theme.foreground(), 1.2, "dash"))
        self.max_dot = pg.ScatterPlotItem(
            size=8, brush=pg.mkBrush(theme.color(1)), pen=pg.mkPen(theme.foreground(), width=1)
        )
        for it in (self.max_line, self.f_curve, self.df_curve, self.max_dot):
            item.addItem(it)
        self.legend = theme.add_legend(item, columns=3)
        self.legend.addItem(self.f_curve, "f(z)")
        self.legend.addItem(self.df_curve, "f'(z)")
        self.legend.addItem(self.max_line, "max |f'|")
        self.legend.setVisible(True)
        self.plot.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.plot.customContextMenuRequested.connect(self._menu)
        self.curve: ActivationCurve | None = None

    def __repr__(self) -> str:
        return f"CurvePanel({self.name!r})"

    def set_curve(self, c: ActivationCurve) -> None:
        """Draw activation ``c``."""
        self.curve = c
        self.f_curve.setData(c.z, c.f)
        self.df_curve.setData(c.z, c.df)
        self.max_line.setData([c.z[0], c.z[-1]], [c.max_grad, c.max_grad])
        self.max_dot.setData(
            [] if c.argmax is None else [c.argmax], [] if c.argmax is None else [c.max_grad]
        )
        lo = max(min(float(np.min(c.f)), float(np.min(c.df)), 0.0), -Y_CAP)
        hi = min(max(float(np.max(c.f)), float(np.max(c.df)), c.max_grad, 1.0), Y_CAP)
        pad = 0.08 * (hi - lo)
        self.plot_item.setXRange(c.z[0], c.z[-1], padding=0.0)
        self.plot_item.setYRange(lo - pad, hi + pad, padding=0.0)
        self.set_title(f"{c.display}: max |f'| = {c.max_grad:.3g}")

    def reset(self) -> None:
        self.curve = None
        for it in (self.f_curve, self.df_curve, self.max_line):
            it.setData([], [])
        self.max_dot.setData([], [])

    def _menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction("Export image\u2026", lambda: self.export_requested.emit(self.name))
        menu.exec(self.plot.mapToGlobal(pos))


class ActivationGallery(QWidget):
    """A grid of :class:`CurvePanel` (one per activation) above the comparison table."""

    export_all_requested = Signal()

    def __init__(self, columns: int = COLUMNS, parent: QWidget | None = None):
        super().__init__(parent)
        self.columns = columns
        self.panels: dict[str, CurvePanel] = {}
        self._grid_box = QWidget()
        self._grid = QGridLayout(self._grid_box)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(4)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._grid_box)
        self.table = QTableWidget(0, len(TABLE_HEADER))
        self.table.setHorizontalHeaderLabels(list(TABLE_HEADER))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        self.table.horizontalHeaderItem(6).setToolTip(
            "Time of the activation's f + f' kernel per value, relative to ReLU, measured on "
            "this machine (the seed article: ReLU is cheap, GELU costly)"
        )
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.export_button = QPushButton("Export all\u2026")
        self.export_button.setToolTip("Every plot as PNG and SVG, and the table as CSV")
        self.export_button.clicked.connect(self.export_all_requested)
        bar = QHBoxLayout()
        bar.addWidget(self.note, 1)
        bar.addWidget(self.export_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(scroll)
        split.addWidget(self.table)
        split.setSizes([620, 300])
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

    def __repr__(self) -> str:
        return f"ActivationGallery({len(self.panels)} plots)"

    def set_curves(self, curves: Mapping[str, ActivationCurve]) -> None:
        """One plot per curve, in the given order (plots are created once per name)."""
        for i, (name, c) in enumerate(curves.items()):
            panel = self.panels.get(name)
            if panel is None:
                panel = self.panels[name] = CurvePanel(name)
                panel.setMinimumSize(250, 196)
                self._grid.addWidget(panel, i // self.columns, i % self.columns)
            panel.set_curve(c)

    def set_table(self, rows: Sequence[Sequence[str]]) -> None:
        """The comparison table, as text (see :func:`table_rows`)."""
        t = self.table
        t.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = t.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    t.setItem(r, c, item)
                item.setText(str(text))

    def table_text(self) -> list[list[str]]:
        t = self.table
        return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]

    def export_curve(self, name: str, path: str | os.PathLike, width: int = 900) -> Path:
        """One plot as PNG or SVG (by suffix); raises :class:`gui.export.ExportError`."""
        return export.export_plot(self.panels[name].plot, path, width=width)

    def export_all(self, folder: str | os.PathLike) -> list[Path]:
        """``activation_<name>.png/.svg`` for every plot and ``activation_table.csv``."""
        folder = export.make_folder(folder)
        written = []
        for name in self.panels:
            for fmt in ("png", "svg"):
                written.append(self.export_curve(name, folder / f"activation_{name}.{fmt}"))
        written.append(
            export.export_csv(folder / "activation_table.csv", TABLE_HEADER, self.table_text())
        )
        return written

    def reset(self) -> None:
        for panel in self.panels.values():
            panel.reset()
        self.table.setRowCount(0)


def time_kernels_async(callback, n: int = TIMING_N, repeats: int = TIMING_REPEATS) -> Background:
    """Run ``engine.theory.activation_table`` in the background; ``callback(rows)`` is
    called in the GUI thread (or with an Exception if the timing failed)."""
    from engine.theory import activation_table

    return run_in_background(
        lambda: activation_table(n=n, repeats=repeats), callback, "vglab-activation-timing"
    )


class GalleryDialog(QDialog):
    """The activation gallery in a window of its own (non-modal)."""

    def __init__(self, parent: QWidget | None = None, time_kernels: bool = True):
        super().__init__(parent)
        self.setWindowTitle("Activation gallery \u2014 Vanishing Gradient Lab")
        self.gallery = ActivationGallery()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.gallery)
        self.gallery.set_curves(activation_curves())
        self.gallery.set_table(table_rows(None))
        self.gallery.note.setText(
            "Each plot: the activation f (blue), its derivative f' (orange) and the largest "
            "|f'| (dashed). Backprop multiplies one f' per layer, so max |f'| < 1 (sigmoid: "
            "0.25) shrinks the gradient geometrically with depth. Right-click a plot to "
            "export it."
        )
        for panel in self.gallery.panels.values():
            panel.export_requested.connect(self._export_one)
        self.gallery.export_all_requested.connect(self._export_all)
        self.timed = False
        self._thread = time_kernels_async(self._on_timed) if time_kernels else None
        self.resize(1420, 980)

    def __repr__(self) -> str:
        return f"GalleryDialog(timed={self.timed})"

    @Slot(object)
    def _on_timed(self, rows) -> None:
        if isinstance(rows, Exception):
            self.gallery.note.setText(
                self.gallery.note.text() + "  (Timing the kernels "
                f"failed: {html.escape(str(rows))})"
            )
            return
        self.gallery.set_table(table_rows(rows))
        self.timed = True

    def _export_one(self, name: str) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plot", f"activation_{name}.png", "PNG image (*.png);;SVG image (*.svg)"
        )
        if not path:
            return
        if not Path(path).suffix:
            path += ".png"
        try:
            self.gallery.export_curve(name, path)
        except export.ExportError as e:
            QMessageBox.warning(self, "Export failed", str(e))

    def _export_all(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export every plot into a folder")
        if not folder:
            return
        try:
            written = self.gallery.export_all(folder)
        except export.ExportError as e:
            QMessageBox.warning(self, "Export failed", str(e))
            return
        QMessageBox.information(self, "Exported", f"Wrote {len(written)} files to {folder}")
