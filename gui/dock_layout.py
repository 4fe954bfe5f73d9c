"""The main window's docks: where they start, their sizes, their tabs and the View menu.

A mixin of :class:`gui.main_window.MainWindow` (it uses the window's ``docks`` and panel
attributes): the start layout is one method (:meth:`DockLayout._arrange_docks`) that
View > Reset layout runs again.  A new panel takes a line in :data:`DOCK_TITLES`, one in
:meth:`DockLayout._build_docks` and a place in :meth:`DockLayout._arrange_docks`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QTabBar, QWidget

from gui import window_parts as parts
from gui.i18n import QT_TRANSLATE_NOOP, translate

#: default window size, on screens that have room for it (smaller screens: the whole screen)
DEFAULT_SIZE = (1600, 1000)
#: dock name -> (tab/title text, full name for the View menu and the tab's tooltip).  Tab
#: titles are short: a tabified dock's title must be readable in full in its tab.
DOCK_TITLES = {
    "controls": (
        QT_TRANSLATE_NOOP("Docks", "Experiment"),
        QT_TRANSLATE_NOOP("Docks", "Experiment settings"),
    ),
    "inspector": (
        QT_TRANSLATE_NOOP("Docks", "Inspector"),
        QT_TRANSLATE_NOOP("Docks", "Layer inspector"),
    ),
    "gradients": (
        QT_TRANSLATE_NOOP("Docks", "Gradient per layer"),
        QT_TRANSLATE_NOOP("Docks", "Gradient norm per layer"),
    ),
    "heatmap": (
        QT_TRANSLATE_NOOP("Docks", "Gradient: layer \u00d7 step"),
        QT_TRANSLATE_NOOP("Docks", "Gradient norm per layer over training"),
    ),
    "loss": (QT_TRANSLATE_NOOP("Docks", "Loss"), QT_TRANSLATE_NOOP("Docks", "Loss")),
    "accuracy": (QT_TRANSLATE_NOOP("Docks", "Accuracy"), QT_TRANSLATE_NOOP("Docks", "Accuracy")),
    "boundary": (
        QT_TRANSLATE_NOOP("Docks", "Boundary"),
        QT_TRANSLATE_NOOP("Docks", "Decision boundary"),
    ),
    "delta_hist": (
        "|\u03b4|",
        QT_TRANSLATE_NOOP("Docks", "\u03b4 histogram: |dL/dz| of the selected layer"),
    ),
    "fprime_hist": ("f'(z)", QT_TRANSLATE_NOOP("Docks", "f'(z) histogram of the selected layer")),
    "activation": (
        QT_TRANSLATE_NOOP("Docks", "Activation"),
        QT_TRANSLATE_NOOP("Docks", "Activation function and the layer's pre-activations"),
    ),
    "phase": (
        QT_TRANSLATE_NOOP("Docks", "Phase diagram"),
        QT_TRANSLATE_NOOP(
            "Docks", "Phase diagram: mean-field \u03c3w\u00b2 \u00d7 \u03c3b\u00b2 plane"
        ),
    ),
    "jacobian": (
        QT_TRANSLATE_NOOP("Docks", "Jacobian σ"),
        QT_TRANSLATE_NOOP("Docks", "Jacobian spectrum: singular values of d a_L-1 / d a_0"),
    ),
}


class DockLayout:
    """Docks of a QMainWindow: built, arranged, sized, tabbed, listed in the View menu."""

    def _dock(self, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(self)
        dock.setObjectName(name)  # saveState/restoreState need names
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        # a panel behind a tab is not redrawn; catch up when it comes to the front
        dock.visibilityChanged.connect(lambda visible, n=name: visible and self._catch_up(n))
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        self.docks: dict[str, QDockWidget] = {}
        for name, widget in (
            ("controls", self.controls),
            ("inspector", self.inspector),
            ("gradients", self.gradient_chart),
            ("heatmap", self.heatmap),
            ("loss", self.loss_plot),
            ("accuracy", self.accuracy_plot),
            ("boundary", self.boundary),
            ("delta_hist", self.delta_hist),
            ("fprime_hist", self.fprime_hist),
            ("activation", self.activation_view),
            ("phase", self.phase_diagram),
            ("jacobian", self.jacobian_spectrum),
        ):
            self._dock(name, widget)
        self.docks["controls"].setMinimumWidth(280)
        self.retranslate_docks()
        self._arrange_docks()

    def retranslate_docks(self) -> None:
        """Dock titles and full names (tab tooltips, View menu) in the current language."""
        for name, dock in self.docks.items():
            title, full = DOCK_TITLES[name]
            dock.setWindowTitle(translate("Docks", title))
            dock.setToolTip(translate("Docks", full))
        self._fix_tabs()
        if hasattr(self, "view_menu"):  # built after the docks
            self._fill_view_menu()

    def _arrange_docks(self) -> None:
        """The start layout (View > Reset layout puts every dock back here).

        The experiment settings run the full height on the left; the plots run along the
        bottom from there to the right edge, so the per-layer chart gets a real width on a
        1280-pixel screen; the inspector (and, in a tab, the decision boundary) sits right
        of the network.  Every tab group is narrow enough for its titles::

            | settings | network diagram                       | inspector / boundary    |
            |          |                                       | (Jacobian, once opened) |
            |          | gradient | heatmap | loss / accuracy | |d| / f'(z) / activation |
        """
        L, R, B = (
            Qt.DockWidgetArea.LeftDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.setCorner(Qt.Corner.BottomLeftCorner, L)
        self.setCorner(Qt.Corner.BottomRightCorner, B)
        d = self.docks
        for name, area in (
            ("controls", L),
            ("inspector", R),
            ("gradients", B),
            ("heatmap", B),
            ("loss", B),
            ("delta_hist", B),
        ):
            d[name].setFloating(False)
            self.addDockWidget(area, d[name])
        self.splitDockWidget(d["gradients"], d["heatmap"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["heatmap"], d["loss"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["loss"], d["delta_hist"], Qt.Orientation.Horizontal)
        for first, then in (
            ("loss", "accuracy"),
            ("gradients", "phase"),
            ("inspector", "boundary"),
            ("delta_hist", "fprime_hist"),
            ("fprime_hist", "activation"),
        ):
            d[then].setFloating(False)
            self.tabifyDockWidget(d[first], d[then])
        lesson = self.findChild(QDockWidget, "lesson")
        if lesson is not None and not lesson.isHidden():  # an open lesson stays open
            lesson.setFloating(False)
            self.addDockWidget(R, lesson)
            self.tabifyDockWidget(d["inspector"], lesson)
        # the Jacobian spectrum (computed while shown) starts closed; View opens it as a tab
        # of the right column, the one tall enough for its histogram and its words
        d["jacobian"].setFloating(False)
        self.tabifyDockWidget(d["inspector"], d["jacobian"])
        for dock in d.values():
            dock.setVisible(dock is not d["jacobian"])
        self._raise_start_tabs()
        self._fix_tabs()

    def _raise_start_tabs(self) -> None:
        """The tabs in front at the start (a dock tabified later, e.g. the hidden Lesson
        dock, must not leave its neighbour in front instead)."""
        for name in ("gradients", "loss", "delta_hist", "inspector"):
            self.docks[name].raise_()

    def _size_docks(self) -> None:
        """Start sizes, as fractions of the window (only effective once it has its size)."""
        d = self.docks
        w, h = self.width(), self.height()
        # the settings get the width of their longest choices ("softmax + cross-entropy")
        left = int(np.clip(0.27 * w, 345, 400))
        right = int(np.clip(0.2 * w, 260, 380))
        self.resizeDocks([d["controls"], d["inspector"]], [left, right], Qt.Orientation.Horizontal)
        self.resizeDocks([d["gradients"]], [int(h * 0.38)], Qt.Orientation.Vertical)
        bottom = w - left
        self.resizeDocks(
            [d["gradients"], d["heatmap"], d["loss"], d["delta_hist"]],
            [int(bottom * f) for f in (0.34, 0.22, 0.21, 0.23)],
            Qt.Orientation.Horizontal,
        )

    def _fix_tabs(self) -> None:
        """Tabs of tabified docks show their whole title (no eliding) and the full name as
        a tooltip.  Qt makes these tab bars lazily, so this runs after every layout change."""
        names = {dock.windowTitle(): dock.toolTip() for dock in self.findChildren(QDockWidget)}
        for bar in self.findChildren(QTabBar):
            if bar.parent() is not self:
                continue  # tab bars inside panels are theirs
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setExpanding(False)
            bar.setUsesScrollButtons(True)
            for i in range(bar.count()):
                bar.setTabToolTip(i, names.get(bar.tabText(i), "") or bar.tabText(i))

    def childEvent(self, event) -> None:
        super().childEvent(event)
        # Qt makes a tab bar whenever docks are tabified (by the user, a lesson, a reset)
        if event.added() and isinstance(event.child(), QTabBar):
            QTimer.singleShot(0, self, self._fix_tabs)

    def start_size(self) -> QSize:
        """:data:`DEFAULT_SIZE`, or the screen's available area if that is smaller."""
        return parts.start_size(self, DEFAULT_SIZE)

    def show_fitted(self) -> None:
        """Show the window; maximised on a screen no larger than the default size."""
        parts.show_fitted(self, DEFAULT_SIZE)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self, self._size_docks)
            QTimer.singleShot(0, self, self._raise_start_tabs)
            QTimer.singleShot(0, self, self._fix_tabs)

    def dock_widgets(self) -> list[QDockWidget]:
        """Every dock of the window: the panels' and any added later (e.g. the lesson)."""
        extra = [d for d in self.findChildren(QDockWidget) if d not in self.docks.values()]
        return [*self.docks.values(), *sorted(extra, key=lambda d: d.windowTitle())]

    def _fill_view_menu(self) -> None:
        """One show/hide entry per dock (full names), the toolbar, edge colours, reset."""
        m = self.view_menu
        m.clear()
        for dock in self.dock_widgets():
            action = dock.toggleViewAction()
            action.setText(dock.toolTip() or dock.windowTitle())
            if not action.property("raises"):
                # a dock shown again in a tab group comes to the front, or nothing seems
                # to happen
                action.setProperty("raises", True)
                action.triggered.connect(lambda on, d=dock: on and d.raise_())
            m.addAction(action)
        if hasattr(self, "toolbar"):
            m.addAction(self.toolbar.toggleViewAction())
        m.addSeparator()
        m.addAction(self.act_edge_weight)
        m.addSeparator()
        m.addAction(self.act_reset_layout)

    def reset_layout(self) -> None:
        """Every dock back where the window started, at the start sizes; toolbar shown."""
        self._arrange_docks()
        self.toolbar.show()
        self._size_docks()
        QTimer.singleShot(0, self, self._fix_tabs)
