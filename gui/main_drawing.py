"""How the main window draws a frame: which panel, when, with which numbers.

A mixin of :class:`gui.main_window.MainWindow`.  The numbers come from the Qt-free
:mod:`gui.frame_view` (arrays and strings per panel, the redraw schedule) and
:mod:`gui.inspector_model`; this part only hands them to the panels, skipping the ones
behind a tab (drawn when they come to the front).  A new panel takes a ``_draw_<name>``
method here.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from gui import frame_view as fv
from gui.frame_view import PANELS
from gui.inspector_model import inspector_data
from gui.jacobian_view import spectrum_view
from gui.panels.curves import CurvePlot
from gui.panels.histogram import HistogramPanel


class FrameDrawing:
    """Draws :class:`gui.controller.Frame` objects into the main window's panels."""

    def _draw_frame(self, frame) -> None:
        """Draw ``frame`` (the pacer calls this with the newest one)."""
        if frame.generation != self._generation:
            self._new_architecture(frame)
        self._draw(frame)

    def reset_panels(self) -> None:
        """Every panel back to empty: the one place where a rebuild forgets the old run.

        Each panel's ``reset`` drops its data and what was derived from it (layer labels,
        axis ranges, titles), so nothing of the previous network survives until the new
        one draws.
        """
        for panel in (
            self.gradient_chart,
            self.heatmap,
            self.loss_plot,
            self.accuracy_plot,
            self.delta_hist,
            self.fprime_hist,
            self.activation_view,
            self.boundary,
            self.phase_diagram,
            self.inspector,
            self.diagram,
            self.jacobian_spectrum,
        ):
            panel.reset()
        self.schedule.clear()

    def _new_architecture(self, frame) -> None:
        """A new session: reset every panel, lay out the diagram again."""
        self._generation = frame.generation
        self.reset_panels()
        snap = frame.snapshot
        self.diagram.set_architecture(
            [frame.input_width, *snap.widths],
            ["", *snap.activations],
            [frame.input_label, *snap.layer_labels],
        )
        self._selected = min(self._selected, snap.depth)
        self.diagram.set_selected(self._selected)
        self.docks["boundary"].setEnabled(frame.boundary is not None)
        self.boundary.set_title(fv.boundary_title(frame.input_width))

    def _visible(self, name: str) -> bool:
        """Is the dock on screen (not closed, not behind another tab)?  Hidden ones are
        remembered as stale and drawn when they come to the front."""
        dock = self.docks[name]
        shown = dock.isVisible() and not dock.visibleRegion().isEmpty()
        if not shown:
            self._stale.add(name)
        return shown

    def _catch_up(self, name: str) -> None:
        if name in self._stale and self._latest is not None:
            self._stale.discard(name)
            QTimer.singleShot(0, lambda: self.draw_panel(name, self._latest))

    def draw_all(self) -> None:
        """Every panel up to date with the newest frame, hidden tabs included (an export)."""
        if self._latest is not None:
            for name in PANELS:
                self.draw_panel(name, self._latest)

    def _draw(self, frame) -> None:
        now = time.perf_counter()
        self._draw_diagram(frame)
        for name in PANELS:
            if self._visible(name) and self.schedule.due(name, frame, now):
                self.draw_panel(name, frame)
        if self.schedule.due("status", frame, now):
            self.readout.set_data(*fv.status_data(frame))

    def _draw_diagram(self, frame) -> None:
        self.panel_draws["network"] += 1
        d = fv.diagram_data(frame, self.diagram.edge_mode)
        self.diagram.set_data(d.norms, d.edges, computed=d.computed)
        self.diagram.set_highlight(*d.highlight)

    def draw_panel(self, name: str, frame) -> None:
        """Draw the docked panel ``name`` (one of :data:`gui.frame_view.PANELS`) for ``frame``."""
        self.panel_draws[name] += 1
        getattr(self, f"_draw_{name}")(frame)

    def _draw_gradients(self, frame) -> None:
        series, labels, computed, overlays, note = fv.gradient_data(frame)
        self.gradient_chart.set_data(series, labels, computed=computed)
        for key, curve in overlays.items():
            self.gradient_chart.set_overlay(key, curve)
        self.gradient_chart.set_note(note)

    def _draw_heatmap(self, frame) -> None:
        labels = list(frame.snapshot.layer_labels)
        history = fv.heatmap_data(frame.snapshot)
        if history is None:
            self.heatmap.set_layers(labels)
        else:
            self.heatmap.set_data(*history, labels)

    def _draw_loss(self, frame) -> None:
        self._draw_curves(self.loss_plot, fv.curve_data("loss", frame.snapshot))

    def _draw_accuracy(self, frame) -> None:
        self._draw_curves(self.accuracy_plot, fv.curve_data("accuracy", frame.snapshot))

    @staticmethod
    def _draw_curves(panel: CurvePlot, data: fv.CurveData) -> None:
        panel.set_event(data.event_step, data.event_text)
        if data.series is not None:
            panel.set_data(data.series)

    def _draw_inspector(self, frame) -> None:
        self.inspector.set_data(*inspector_data(frame, self._selected).args())

    def _draw_delta_hist(self, frame) -> None:
        self._draw_histogram(self.delta_hist, fv.histogram_data(frame, "delta"))

    def _draw_fprime_hist(self, frame) -> None:
        self._draw_histogram(self.fprime_hist, fv.histogram_data(frame, "fprime"))

    @staticmethod
    def _draw_histogram(panel: HistogramPanel, data: fv.HistogramData) -> None:
        if data.values is None:
            panel.reset()  # before the title: a reset restores the first title
        panel.set_base_title(data.title)
        if data.values is not None:
            panel.set_data(data.values, bins=50, log_x=data.log_x)

    def _draw_activation(self, frame) -> None:
        act, param, z = fv.activation_data(frame)
        self.activation_view.set_activation(act, param)
        self.activation_view.set_preactivations(z)

    def _draw_phase(self, frame) -> None:
        self.phase_link.show(fv.phase_data(frame))

    def _draw_boundary(self, frame) -> None:
        b = frame.boundary
        if b is not None:
            self.boundary.set_data(b.xx, b.yy, b.scores, b.X, b.y)

    def _draw_jacobian(self, frame) -> None:
        v = spectrum_view(frame.jacobian)
        self.jacobian_spectrum.set_data(v.title, v.edges, v.counts, v.rms, v.band, v.text)
