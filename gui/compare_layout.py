"""The compare window's widgets and their layout: setup rows, charts, heatmap grid, table.

A mixin of :class:`gui.compare_window.CompareWindow`: the setup rows on top (base, preset,
what to vary), the gradient chart and the curves side by side, one heatmap per variant in
a grid below, the summary table at the bottom.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.compare_view import SMOOTH
from gui.figures import file_stem
from gui.panels.curves import CurvePlot
from gui.panels.gradient_chart import GradientChart
from gui.panels.heatmap import LayerHeatmap
from gui.panels.status import Banner
from gui.panels.summary_table import SummaryTable
from gui.vary_row import VaryRow

#: heatmaps per row of the small multiples
GRID_COLUMNS = 4


class CompareLayout:
    """Builds and arranges the compare window's widgets."""

    def _build_setup(self) -> None:
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)
        self.preset_box = QComboBox()
        self.preset_box.setToolTip(
            "Load the base experiment and the variants of a comparison preset"
        )
        # the window says which values a field takes (``field_choices``)
        self.rows = [VaryRow(False, self.field_choices), VaryRow(True, self.field_choices)]
        self._fill_presets()
        self.count_label = QLabel()
        self.apply_button = QPushButton("Build && train together")
        self.apply_button.setToolTip(
            "Build one network per variant (same data, layers and seed) and reset the comparison"
        )
        self.banner = Banner()
        top = QHBoxLayout()
        top.addWidget(self.base_label, 1)
        top.addWidget(QLabel("Preset:"))
        top.addWidget(self.preset_box)
        setup = QVBoxLayout()
        setup.setSpacing(2)
        setup.addLayout(top)
        for row in self.rows:
            setup.addWidget(row)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.apply_button)
        setup.addLayout(bottom)
        self._setup_layout = setup

    def _build_panels(self) -> None:
        self.gradient_chart = GradientChart(title="Gradient norm per layer (latest step)")
        self.loss_plot = CurvePlot("Training loss", f"loss (mean of {SMOOTH} batches)", log_y=True)
        self.accuracy_plot = CurvePlot("Test accuracy", "accuracy", log_y=False)
        tabs = QTabWidget()
        tabs.addTab(self.loss_plot, "Loss")
        tabs.addTab(self.accuracy_plot, "Accuracy")
        self.curve_tabs = tabs
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.gradient_chart)
        top.addWidget(tabs)
        top.setSizes([760, 640])
        self.heat_box = QWidget()
        self.heat_grid = QGridLayout(self.heat_box)
        self.heat_grid.setContentsMargins(0, 0, 0, 0)
        self.heat_grid.setSpacing(2)
        self.table = SummaryTable()
        self.theory_box = QCheckBox("Theory line for")
        self.theory_box.setToolTip(
            "Dashed: ||dL/dW|| per hidden layer as mean-field theory predicts it for the random "
            "initial weights, anchored at step 1's last hidden layer and kept there as training "
            "moves on. Wide-net limit: at widths below 128 one net strays from it by up to 2x "
            "per layer (more below 32). No line (the chart says why) for batch norm, residual "
            "connections, a constant bias or dropout."
        )
        self.theory_variant = QComboBox()
        self.theory_variant.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.heat_box)
        split.addWidget(self.table)
        split.setSizes([420, 300, 170])
        split.setChildrenCollapsible(False)
        self.splitter = split
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.setSpacing(4)
        layout.addLayout(self._setup_layout)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)

    def _build_status(self) -> None:
        self.step_label = QLabel("not built")
        self.busy_label = QLabel("")
        self.statusBar().addWidget(self.step_label, 1)
        self.statusBar().addPermanentWidget(self.busy_label)

    def _new_comparison(self, frame) -> None:
        """A new set of variants: reset the panels, lay the heatmaps out again."""
        self._generation = frame.generation
        self.gradient_chart.reset()
        self._theory_names = []
        self.loss_plot.reset()
        self.accuracy_plot.reset()
        self.table.reset()
        for heat in self.heatmaps.values():
            self.heat_grid.removeWidget(heat)
            heat.hide()
            heat.reset()
            self._spare_heatmaps.append(heat)
        self.heatmaps = {}
        n = len(frame.names)
        rows = math.ceil(n / GRID_COLUMNS)
        cols = math.ceil(n / rows)  # 6 variants: 3 + 3 rather than 4 + 2
        for i, name in enumerate(frame.names):
            heat = self._spare_heatmaps.pop() if self._spare_heatmaps else self._new_heatmap()
            heat.set_title(name)
            self.heat_grid.addWidget(heat, i // cols, i % cols)
            heat.show()
            self.heatmaps[name] = heat
        self._table_sized = False

    def _new_heatmap(self) -> LayerHeatmap:
        """A heatmap for the grid, with the plot menu (named after its variant when it opens:
        heatmaps are reused for the next comparison)."""
        heat = LayerHeatmap()
        self.exports.install_menu(lambda: self._heat_stem(heat), heat)
        return heat

    def _heat_stem(self, heat: LayerHeatmap) -> str:
        name = next((n for n, h in self.heatmaps.items() if h is heat), "variant")
        return f"heatmap_{file_stem(name)}"  # as in the exported figure set

    def _size_table(self) -> None:
        """Give the table the height of its rows (up to a third), the charts the rest."""
        t = self.table.table
        total = sum(self.splitter.sizes())
        want = t.verticalHeader().length() + t.horizontalHeader().height() + 2 * t.frameWidth()
        want = min(want + 4, total // 3)
        rest = total - want
        self.splitter.setSizes([int(rest * 0.58), rest - int(rest * 0.58), want])
