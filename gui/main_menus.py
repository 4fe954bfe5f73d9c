"""The main window's File (open, save), Presets, Tools (trainability sweep, recurrent nets)
and Help menus.

The Presets menu lists every preset; a comparison preset becomes a submenu with each of its
variants and "Compare all side by side"; a recurrent preset opens the Recurrent window.
The texts of the Help menu say how to read the window.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from engine import config as config_io
from engine.config import ConfigError
from gui.export_controller import file_error
from gui.i18n import translate
from gui.window_parts import html_lines

#: the main window's menus: name (the menu's objectName, the same in every language, which
#: gui.teaching finds its menus by) -> title, translated in context ``MainWindow``
MENU_TITLES = {
    "File": QT_TRANSLATE_NOOP("MainWindow", "&File"),
    "Run": QT_TRANSLATE_NOOP("MainWindow", "&Run"),
    "Speed": QT_TRANSLATE_NOOP("MainWindow", "Spee&d"),
    "Presets": QT_TRANSLATE_NOOP("MainWindow", "Pre&sets"),
    "Tools": QT_TRANSLATE_NOOP("MainWindow", "&Tools"),
    "Lessons": QT_TRANSLATE_NOOP("MainWindow", "&Lessons"),
    "View": QT_TRANSLATE_NOOP("MainWindow", "&View"),
    "Help": QT_TRANSLATE_NOOP("MainWindow", "&Help"),
}
ABOUT = QT_TRANSLATE_NOOP(
    "MainWindow",
    "<b>Vanishing Gradient Lab</b><br>Watch, layer by layer, why deep "
    "networks stop learning: the backward pass multiplies one factor "
    "f'(z) \u00b7 W per layer, and with sigmoid f' \u2264 0.25.",
)
GUIDE = QT_TRANSLATE_NOOP(
    "MainWindow",
    "<b>Network</b>: columns are layers; edge colour and width show |dL/dW| on a log "
    "scale, so a vanishing gradient fades out towards the input. Click a layer to "
    "inspect it.<br><br><b>Gradient per layer</b>: ||dL/dW_k|| for every layer; a "
    "straight falling line on the log axis means a constant shrink factor per layer."
    "<br><br><b>Heatmap</b>: the same over time.<br><br><b>Inspector</b>: the chain "
    "rule for the selected layer, \u03b4_k = (\u03b4_(k+1) W^T) \u00b7 f'(z_k), in "
    "numbers.<br><br><b>Step phase</b> (Shift+\u2192) runs one layer of the forward "
    "or backward pass at a time.",
)


def add_menu(parent, name: str) -> QMenu:
    """A menu of :data:`MENU_TITLES` in ``parent`` (the menu bar or a menu)."""
    menu = parent.addMenu(translate("MainWindow", MENU_TITLES[name]))
    menu.setObjectName(name)
    return menu


def retranslate_menus(window: QMainWindow) -> None:
    """The titles of the window's menus (:data:`MENU_TITLES`) in the current language."""
    for menu in window.menuBar().findChildren(QMenu):
        if menu.objectName() in MENU_TITLES:
            menu.setTitle(translate("MainWindow", MENU_TITLES[menu.objectName()]))
    for action in window.findChildren(QAction):
        if action.property("i18n_text"):
            _retranslate_action(action)


def about(window: QMainWindow) -> None:
    QMessageBox.about(
        window,
        translate("MainWindow", "About Vanishing Gradient Lab"),
        translate("MainWindow", ABOUT),
    )


def guide(window: QMainWindow) -> None:
    QMessageBox.information(
        window, translate("MainWindow", "How to read this window"), translate("MainWindow", GUIDE)
    )


def mark(action: QAction, text: str, tip: str = "") -> QAction:
    """``action`` shows the marked source ``text`` (and ``tip``) in the current language,
    now and after every language change (:func:`retranslate_menus`)."""
    action.setProperty("i18n_text", text)
    action.setProperty("i18n_tip", tip)
    _retranslate_action(action)
    return action


def _retranslate_action(action: QAction) -> None:
    action.setText(translate("MainWindow", action.property("i18n_text")))
    tip = action.property("i18n_tip")
    if tip:
        action.setToolTip(translate("MainWindow", tip))
        action.setStatusTip(translate("MainWindow", tip))


def _same_value(value, text: str) -> bool:
    """Is the config ``value`` the one a ``--vary`` item spells ``text``?"""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value).lower() == text.strip().lower()
    try:
        return float(text) == value
    except ValueError:
        return False


def _tooltip(text: str) -> str:
    """Prose as a tooltip: escaped, and rich text so that Qt wraps a long paragraph."""
    return f"<p>{html.escape(text.strip())}</p>" if text.strip() else ""


def _first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of ``text`` (at most ``limit`` characters) for the status bar."""
    text = " ".join(text.split())
    cut = text.find(". ")
    text = text if cut < 0 else text[: cut + 1]
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def fill_presets(window: QMainWindow, menu: QMenu) -> None:
    """Every preset in ``menu``; choosing one calls ``window.load_preset`` (a comparison's
    "Compare all" calls ``window.compare_preset``)."""
    from engine.presets import list_presets

    menu.clear()
    try:
        presets = list_presets()
    except (ConfigError, OSError) as e:
        a = menu.addAction(translate("MainWindow", "(presets unavailable)"))
        a.setEnabled(False)
        a.setToolTip(str(e))
        return
    if not presets:
        menu.addAction(translate("MainWindow", "(no presets)")).setEnabled(False)
    for p in presets:
        if p.is_recurrent:  # the Recurrent window runs it (gui.recurrent_window)
            a = menu.addAction(p.title)
            a.setToolTip(_tooltip(p.description))
            a.setStatusTip(_first_sentence(p.description))
            a.triggered.connect(lambda _=False, p=p: window.open_recurrent_preset(p))
        elif p.is_comparison:
            _comparison_menu(window, menu.addMenu(p.title), p)
        else:
            menu.addAction(_preset_action(window, p, p.title, ()))
    menu.setToolTipsVisible(True)


def _comparison_menu(window: QMainWindow, menu: QMenu, preset) -> None:
    """A comparison preset: every variant on its own, and all of them side by side.

    The file's own settings are the comparison's baseline (e.g. residual = false), so
    they are no entry of their own: loading them "as saved" showed the problem without
    the countermeasure the preset is named after.  The baseline variant says so.
    """
    menu.setToolTipsVisible(True)
    compare = menu.addAction(translate("MainWindow", "Compare all side by side\u2026"))
    compare.setToolTip(_tooltip(preset.description))
    compare.triggered.connect(lambda _=False, p=preset: window.compare_preset(p))
    menu.addSeparator()
    saved = config_io.to_dict(preset.config())
    found = True
    for item in preset.vary:
        key, _, values = (part.strip() for part in item.partition("="))
        head, _, field = key.partition(".")
        current = saved.get(head, {}).get(field)
        values = [v.strip() for v in values.split(",")]
        found = found and any(_same_value(current, v) for v in values)
        for v in values:
            text = f"{field or key} = {v}"
            if _same_value(current, v):
                text += translate("MainWindow", " (baseline)")
            menu.addAction(_preset_action(window, preset, text, (f"{key}={v}",)))
    if not found:  # the saved settings are none of the variants: offer them too
        menu.addAction(
            _preset_action(window, preset, translate("MainWindow", "Saved base settings"), ())
        )


def _preset_action(window: QMainWindow, preset, text: str, overrides: tuple[str, ...]) -> QAction:
    a = QAction(text, window)
    a.setToolTip(_tooltip(preset.description))
    a.setStatusTip(_first_sentence(preset.description))
    a.triggered.connect(lambda _=False, n=preset.name, o=overrides: window.load_preset(n, o))
    return a


def add_tools(window: QMainWindow, bar) -> QMenu:
    """The Tools menu with "Trainability sweep..." and "Recurrent nets..." (gui.teaching adds
    Compare and the gallery to the same menu); the actions are ``window.act_sweep`` and
    ``window.act_recurrent``."""
    tools = add_menu(bar, "Tools")
    for attr, text, tip, opener in (
        (
            "act_recurrent",
            QT_TRANSLATE_NOOP("MainWindow", "&Recurrent nets: RNN vs LSTM vs GRU\u2026"),
            QT_TRANSLATE_NOOP(
                "MainWindow",
                "Train a vanilla RNN, an LSTM and a GRU in lock-step on the adding problem "
                "and watch ||dL/dh_t|| through time",
            ),
            "open_recurrent",
        ),
        (
            "act_sweep",
            QT_TRANSLATE_NOOP("MainWindow", "Trainability &sweep\u2026"),
            QT_TRANSLATE_NOOP(
                "MainWindow",
                "Train a grid of nets (sigma_w^2 x depth) on every core and compare the "
                "trainable region with the mean-field depth 6 xi_c",
            ),
            "open_sweep",
        ),
    ):
        action = mark(QAction(window), text, tip)
        action.triggered.connect(lambda _=False, o=opener: getattr(window, o)())
        tools.addAction(action)
        setattr(window, attr, action)
    return tools


class ExperimentFiles:
    """Open, save and preset loading of a main window (a mixin: it uses the window's
    ``controller``, ``controls``, ``banner`` and ``apply_config``)."""

    def load_preset(self, name: str, overrides: tuple[str, ...] = ()) -> None:
        from engine.presets import load_preset

        try:
            cfg = load_preset(name)
            if overrides:
                cfg = config_io.apply_overrides(cfg, overrides)
        except ConfigError as e:
            file_error(self, "Cannot load the preset", f"preset {name}", e)
            return
        self.apply_config(cfg)
        if cfg.description:
            title = cfg.name.replace("_", " ") + "".join(f" \u00b7 {o}" for o in overrides)
            self.banner.show_message(
                "info", html.escape(title), html_lines(cfg.description.strip())
            )
            self._preset_banner = True

    def open_sweep(self):
        """Show the trainability sweep window (one per main window), set to the running
        experiment unless a sweep is under way in it."""
        from gui.sweep_window import SweepWindow

        window = getattr(self, "sweep_window", None)
        if window is None:
            window = self.sweep_window = SweepWindow(self.controller.config, parent=self)
            window.setWindowFlag(Qt.WindowType.Window, True)
        elif not window.running:
            window.base = self.controller.config
            window.statusBar().showMessage(f"Experiment: {window.base.name}")
        window.show()
        window.raise_()
        return window

    def open_recurrent(self, config=None, cells=None, note: str = ""):
        """Show the Recurrent window (one per main window, raised if open); with ``config``
        it runs that config's ``cells`` (all three by default)."""
        from gui.recurrent_view import CELLS
        from gui.recurrent_window import RecurrentWindow

        window = getattr(self, "recurrent_window", None)
        first = window is None
        if first:
            window = RecurrentWindow(config, parent=self, start=False)
            window.setWindowFlag(Qt.WindowType.Window, True)
            self.recurrent_window = window
        if first or config is not None:
            window.load(config or window.config, cells or CELLS, note)
        window.show_fitted()
        window.raise_()
        window.activateWindow()
        return window

    def open_recurrent_preset(self, preset):
        """Open a recurrent preset in the Recurrent window, saying what it runs."""
        from gui.panels.length_curve import vary_lengths
        from gui.recurrent_view import preset_cells

        try:
            config = preset.config()
            cells, note = preset_cells(config, preset.vary)
        except ConfigError as e:
            file_error(self, "Cannot load the preset", str(preset.path), e)
            return None
        text = "\n\n".join(t for t in (note, preset.description.strip()) if t)  # what runs first
        window = self.open_recurrent(config, cells, text)
        window.length_tab.set_lengths(vary_lengths(preset.vary))  # its "vs length" tab
        return window

    def open_config(self, path: str | os.PathLike | None = None) -> bool:
        """Load an experiment file (asks for one when ``path`` is None); True if loaded.

        Preset files open too (their ``title`` and ``[compare]`` table are set aside).  A bad
        file is reported in a message box naming the file and the field; the running
        experiment is left as it was.
        """
        from engine.presets import read_preset

        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self,
                "Open experiment",
                self._last_folder,
                "Experiment configs (*.toml *.json);;All files (*)",
            )
            if not path:
                return False
        self._last_folder = str(Path(path).parent)
        try:
            cfg, vary, _ = read_preset(path)
        except ConfigError as e:
            file_error(self, "Cannot open the experiment", str(path), e)
            return False
        if cfg.recurrent.cell != "none":  # a recurrent net runs in the Recurrent window
            from gui.recurrent_view import preset_cells

            cells, note = preset_cells(cfg, vary)
            self.open_recurrent(cfg, cells, f"Opened {path}" + (f"\n\n{note}" if note else ""))
            return True
        self.apply_config(cfg)
        note = f"Opened {path}"
        if vary:  # this window runs one network: say where the others are
            note += (
                f": the base of its comparison ({'; '.join(vary)}); Tools > Compare\u2026 "
                "runs the variants side by side"
            )
        self.statusBar().showMessage(note, 8000)
        return True

    def save_config(self, path: str | os.PathLike | None = None) -> bool:
        """Save the running experiment as TOML (or JSON by suffix), atomically; True if saved.

        Asks for the file when ``path`` is None; a name without a suffix gets the one of the
        chosen file type.
        """
        suffix = ".toml"
        if path is None:
            start = str(Path(self._last_folder) / f"{self.controller.config.name}.toml")
            path, kind = QFileDialog.getSaveFileName(
                self, "Save experiment", start, "TOML (*.toml);;JSON (*.json)"
            )
            if not path:
                return False
            suffix = ".json" if kind.startswith("JSON") else ".toml"
        path = str(path)
        if not Path(path).suffix:
            path += suffix
        try:
            # an edited experiment must not be saved under its old description
            config_io.save(self.controls.described(self.controller.config), path)
        except (ConfigError, OSError) as e:
            file_error(self, "Cannot save the experiment", path, e)
            return False
        self._last_folder = str(Path(path).parent)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True
