"""The Recurrent window's widgets and their layout (a mixin of
:class:`gui.recurrent_window.RecurrentWindow`).

Top to bottom: the unrolled diagram (one row per cell, one box per time step); the headline
chart ||dL/dh_t|| through time beside tabs with the gate carrier, the time x step heatmaps
(one per cell, one colour scale), the loss and the test metric; the summary table.  The
setup sits in a dock on the left, the step inspector in a dock on the right.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import theme
from gui.compare_view import SMOOTH
from gui.panels.curves import CurvePlot
from gui.panels.forms import fill_with_scroll
from gui.panels.heatmap import LayerHeatmap
from gui.panels.length_curve import LengthCurvePanel
from gui.panels.recurrent_setup import RecurrentSetup
from gui.panels.status import Banner, BusyIndicator
from gui.panels.step_inspector import StepInspector
from gui.panels.summary_table import SummaryTable
from gui.panels.unrolled_diagram import UnrolledDiagram
from gui.recurrent_view import CELL_LABELS, CELLS

#: dhₜ, not dh_t: the underscore's descender ran into the tick labels of a left axis
GRAD_H = "||dL/dh\u209c||"
HEAT_BAR = f"log\u2081\u2080 {GRAD_H}"
#: log10 of the ||dL/dh_t|| range an empty chart shows (the heatmaps' empty colour scale)
EMPTY_LOG_RANGE = (-8.0, 0.0)
#: stretch of a heatmap's view, and the extra of its t labels and of the colour bar (about
#: their pixels): the plots of the row get views of one width
HEAT_VIEW, HEAT_T_LABELS, HEAT_BAR_EXTRA = 100, 45, 80
#: window width (px) from which the setup and the inspector docks sit side by side
WIDE = 1600


def _show_bar(heat: LayerHeatmap, on: bool) -> None:
    """Put the heatmap's colour bar in its plot's layout, or take it out (its column then
    takes no room: small multiples on one scale need one bar)."""
    layout = heat.plot_item.layout
    inside = any(layout.itemAt(i) is heat.bar for i in range(layout.count()))
    if on and not inside:
        layout.addItem(heat.bar, 2, 5)
    elif not on and inside:
        layout.removeItem(heat.bar)
    heat.bar.setVisible(on)


class RecurrentLayout:
    """Builds and arranges the Recurrent window's widgets."""

    def _build_panels(self) -> None:
        self.banner = Banner()
        self.base_label = QLabel(wordWrap=True)
        self.diagram = UnrolledDiagram()
        self.time_plot = CurvePlot(
            "||dL/dh_t|| through time (latest step)", GRAD_H, log_y=True,
            x_label="time step t",
        )  # fmt: skip
        self.gate_plot = CurvePlot(
            "What carries the gradient back, per time step", "batch mean", x_label="time step t"
        )
        self.loss_plot = CurvePlot("Training loss", f"loss (mean of {SMOOTH})", True)
        self.metric_plot = CurvePlot("Test MSE", "test loss")
        self.heat_box = QWidget()
        self.heat_row = QHBoxLayout(self.heat_box)
        self.heat_row.setContentsMargins(0, 0, 0, 0)
        self.heat_row.setSpacing(2)
        self._build_heatmaps()
        # the window's current settings and cells at every length (trained in a pool)
        self.length_tab = LengthCurvePanel(lambda: (self.config, self.cells))
        self.tabs = QTabWidget()
        for widget, text in (
            (self.gate_plot, "Gates"),
            (self.heat_box, "Time \u00d7 step"),
            (self.loss_plot, "Loss"),
            (self.metric_plot, "Test"),
            (self.length_tab, "vs length"),
        ):
            self.tabs.addTab(widget, text)
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(self.time_plot)
        middle.addWidget(self.tabs)
        middle.setSizes([560, 480])
        self.table = SummaryTable()
        self.splitter = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        for widget in (self.diagram, middle, self.table):
            self.splitter.addWidget(widget)
        self.splitter.setSizes([230, 360, 110])
        central = QWidget()
        column = QVBoxLayout(central, spacing=4)
        column.setContentsMargins(6, 4, 6, 0)
        for widget, stretch in ((self.base_label, 0), (self.banner, 0), (self.splitter, 1)):
            column.addWidget(widget, stretch)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        self.setup = RecurrentSetup()
        holder = QWidget()
        fill_with_scroll(holder, self.setup)
        self.setup_dock = self._dock("Setup", "recurrent-setup", holder)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.setup_dock)
        self.inspector = StepInspector()
        self.inspect_box = QComboBox()
        self.inspect_box.setToolTip("The cell whose step-through the inspector explains")
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        row.addWidget(QLabel("Inspect"))
        row.addWidget(self.inspect_box, 1)
        col.addLayout(row)
        col.addWidget(self.inspector, 1)
        self.inspector_dock = self._dock("Step inspector", "recurrent-inspector", box)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector_dock)
        self.resizeDocks([self.setup_dock, self.inspector_dock], [250, 300], Qt.Horizontal)

    def _arrange_docks(self) -> None:
        """Below :data:`WIDE` pixels the setup and the inspector share the left side as tabs
        (the charts keep their width); the inspector comes up in a step-through."""
        if self.width() < WIDE:
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.inspector_dock)
            self.tabifyDockWidget(self.setup_dock, self.inspector_dock)
            self.setup_dock.raise_()
            self.resizeDocks([self.setup_dock], [280], Qt.Horizontal)

    @property
    def docks_tabbed(self) -> bool:
        return bool(self.tabifiedDockWidgets(self.setup_dock))

    def _size_table(self) -> None:
        """The table gets the height of its rows; the diagram 40% of the rest, the charts
        60%."""
        t = self.table.table
        want = t.verticalHeader().length() + t.horizontalHeader().height() + 2 * t.frameWidth()
        total = sum(self.splitter.sizes())
        want = min(want + 4, total // 3)
        rest = total - want
        self.splitter.setSizes([int(rest * 0.4), rest - int(rest * 0.4), want])

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

    def _build_status(self) -> None:
        self.step_label = QLabel("not built")
        self.busy_label = QLabel("")
        self.compile_busy = BusyIndicator("compiling the recurrent kernels\u2026", delay_ms=0)
        self.statusBar().addWidget(self.step_label, 1)
        self.statusBar().addPermanentWidget(self.compile_busy)
        self.statusBar().addPermanentWidget(self.busy_label)

    def _build_heatmaps(self) -> None:
        """One heatmap per cell, side by side in :data:`CELLS` order (shown while it runs),
        each with the plot menu."""
        self.all_heatmaps: dict[str, LayerHeatmap] = {}
        for cell in CELLS:
            name = CELL_LABELS[cell]
            heat = LayerHeatmap(title=name, bar_label=HEAT_BAR)
            self.exports.install_menu(f"heatmap_{name.lower()}", heat)
            self.heat_row.addWidget(heat)
            self.all_heatmaps[name] = heat
        self.heatmaps: dict[str, LayerHeatmap] = {}

    def _set_heatmaps(self, names: tuple[str, ...]) -> None:
        """Show the heatmaps of ``names``, empty; one colour bar (on the right) and one
        axis label (on the left) for the one colour scale."""
        self.heatmaps = {n: self.all_heatmaps[n] for n in names}
        for name, heat in self.all_heatmaps.items():
            heat.reset()
            heat.setVisible(name in names)
        for i, heat in enumerate(self.heatmaps.values()):
            _show_bar(heat, i == len(names) - 1)
            theme.set_axis_label(heat.plot_item, "left", "time step t" if i == 0 else "")
            # one "training step", under the widest view (a blank line keeps the others'
            # views as tall): a narrow one cut it to "raining ste"
            last = i == len(names) - 1
            theme.set_axis_label(heat.plot_item, "bottom", "training step" if last else "\u00a0")
            # one t axis for the row: the others' "t=50" labels took the room of step labels
            heat.plot_item.getAxis("left").setStyle(showValues=i == 0)
            # the last step's label sits on the right edge: drawn, not dropped as "overlapping"
            heat.plot_item.getAxis("bottom").setStyle(hideOverlappingLabels=14)
            # the others leave the last step's label room inside their widget
            heat.plot_item.layout.setContentsMargins(1, 1, 1 if last else 14, 1)
            extra = (HEAT_T_LABELS if i == 0 else 0) + (
                HEAT_BAR_EXTRA if i == len(names) - 1 else 0
            )
            self.heat_row.setStretchFactor(heat, HEAT_VIEW + extra)

    def _empty_ranges(self, T: int) -> None:
        """Before the first step the charts show what they will: t = 1..T, the gate
        carrier's 0..1, ||dL/dh_t|| over the heatmaps' empty colour scale (they follow
        the data from the first step on)."""
        for plot, y_range in ((self.time_plot, EMPTY_LOG_RANGE), (self.gate_plot, (0.0, 1.0))):
            plot.plot_item.setRange(xRange=(1, max(T, 2)), yRange=y_range, padding=0)
            plot.plot_item.enableAutoRange()
