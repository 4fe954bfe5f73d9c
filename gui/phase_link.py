"""The phase diagram's owner: feeds the dumb panel, computes off the GUI thread, reports clicks.

The map of one activation takes 0.1-2 s (:func:`engine.phase_view.phase_map`), the hover
numbers of one point up to ~0.3 s (GELU's length map), so both run with
:func:`gui.background.run_in_background`; a result that arrives after the net changed is
dropped.  Hover jobs run one at a time: the newest cursor position waits for the running one.
A click emits ``init_chosen`` with the config fields it sets (the window hands them to the
Experiment panel, which rebuilds like any edit).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine import phase_view as pv
from gui.background import run_in_background
from gui.panels.phase_diagram import PhaseDiagram

COMPUTING = "Computing the phase diagram\u2026"


class PhaseLink(QObject):
    """Shows a :class:`engine.phase_view.PhaseSpec` in a :class:`PhaseDiagram`."""

    init_chosen = Signal(object)  # {config key: value}

    def __init__(self, panel: PhaseDiagram, parent: QObject | None = None):
        super().__init__(parent)
        self.panel = panel
        self.spec: pv.PhaseSpec | None = None
        self.jobs: dict[str, object] = {}  # "map" / "hover" -> the running Background
        self._pending: tuple[float, float] | None = None  # hover waiting for a free job
        panel.point_clicked.connect(self._clicked)
        panel.hovered.connect(self._hovered)

    def __repr__(self) -> str:
        return f"PhaseLink({self.spec!r}, jobs={list(self.jobs)})"

    def show(self, spec: pv.PhaseSpec) -> None:
        """Draw ``spec``: its points at once, its map from the cache or when computed."""
        self.spec = spec
        self.panel.set_points(spec.marker, spec.references, spec.marker_label)
        if not spec.activation:
            self.panel.set_map(None)
            self.panel.set_note(spec.reason)
            return
        m = pv.cached_map(spec.key)
        if m is not None:
            self._draw(m)
            return
        self.panel.set_map(None)
        self.panel.set_note(COMPUTING)
        if "map" not in self.jobs:
            self._start_map(spec.key)

    def _start_map(self, key) -> None:
        self.jobs["map"] = run_in_background(
            lambda: pv.phase_map(*key), self._map_done, "vglab-phase-map"
        )

    def _map_done(self, result) -> None:
        self.jobs.pop("map", None)
        spec = self.spec
        if isinstance(result, Exception):
            self.panel.set_note(f"The phase diagram could not be computed: {result}")
        elif spec is not None and spec.activation and pv.cached_map(spec.key) is None:
            self._start_map(spec.key)  # the net changed while this one was computed
        elif spec is not None and spec.activation:
            self._draw(pv.cached_map(spec.key))

    def _draw(self, m: pv.PhaseMap) -> None:
        self.panel.set_map(m)
        reason, marker = self.spec.reason, self.spec.marker
        if reason:
            self.panel.set_note(f"No marker for this net: {reason}.")
        elif marker is not None and marker[0] > m.x_max:
            self.panel.set_note(f"This net's \u03c3w\u00b2 = {marker[0]:.3g} is right of the plot.")
        else:
            self.panel.set_note("")

    @property
    def busy(self) -> bool:
        """Is a map or hover job running?"""
        return bool(self.jobs)

    # --- mouse --------------------------------------------------------------------------------
    def _clicked(self, sigma_w2: float, sigma_b2: float) -> None:
        self.init_chosen.emit(pv.init_values(sigma_w2, sigma_b2))

    def _hovered(self, sigma_w2: float, sigma_b2: float) -> None:
        if "hover" in self.jobs:
            self._pending = (sigma_w2, sigma_b2)
            return
        spec = self.spec
        if spec is None or not spec.activation:
            return
        act, param, at = spec.activation, spec.param, (sigma_w2, sigma_b2)
        self.jobs["hover"] = run_in_background(
            lambda: (pv.point_text(act, param, *at), at), self._hover_done, "vglab-hover"
        )

    def _hover_done(self, result) -> None:
        self.jobs.pop("hover", None)
        if not isinstance(result, Exception) and self.panel.has_map:
            self.panel.set_hover(*result)
        pending, self._pending = self._pending, None
        if pending is not None:
            self._hovered(*pending)
