"""Export from a window: plots, the network diagram, the window and tables, with their dialogs.

One :class:`ExportController` per window (the main window and the compare window): it knows
the window's plot panels (file stem -> panel) and, where there is one, its network diagram;
it gives every plot a right-click menu (export as PNG/SVG, copy, fit), writes through
:mod:`gui.export` (atomic files, errors that name the file) and reports a failure in a
message box naming the file, a success in the window's status bar.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMenu, QMessageBox

from engine.config import ConfigError
from gui import export

#: the files a failure is reported for, and what the message box says about them
ERRORS = (export.ExportError, OSError)


def error_detail(error: Exception) -> str:
    """What went wrong, for a message box: every config problem, or the OS's reason."""
    if isinstance(error, ConfigError):
        return "\n".join(error.messages)
    return getattr(error, "strerror", None) or str(error)


def file_error(parent, title: str, path: str, error: Exception) -> None:
    """A message box: ``title``, the file, and what went wrong."""
    QMessageBox.warning(parent, title, f"{title}:\n{path}\n\n{error_detail(error)}")


class ExportController(QObject):
    """Exports of one window.  ``panels()`` gives file stem -> panel (with a ``plot``);
    ``diagram`` is the window's network diagram, if any; ``before`` runs before a full
    export (e.g. to bring hidden panels up to date)."""

    def __init__(
        self,
        window: QMainWindow,
        panels: Callable[[], dict[str, object]],
        diagram=None,
        before: Callable[[], None] | None = None,
    ):
        super().__init__(window)
        self.window = window
        self.panels = panels
        self.diagram = diagram
        self.before = before

    def __repr__(self) -> str:
        return f"ExportController({type(self.window).__name__}, {len(self.panels())} plots)"

    # --- files -------------------------------------------------------------------------------
    def export_plots(self, folder: str | os.PathLike) -> list[Path]:
        """Write every panel as PNG and SVG (and the diagram) into ``folder``.

        All-or-nothing: files are written to a temporary folder next to the target and
        moved in only when every one succeeded.  Raises ``export.ExportError``/``OSError``.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise export.ExportError(f"{folder}: not a folder")
        if self.before is not None:
            self.before()
        tmp = Path(tempfile.mkdtemp(prefix=".vglab-export-", dir=folder))
        try:
            for stem, panel in self.panels().items():
                for suffix in (".png", ".svg"):
                    export.export_plot(panel.plot, tmp / f"{stem}{suffix}")
            if self.diagram is not None:
                self.export_diagram(tmp / "network.png")
                self.export_diagram(tmp / "network.svg")
            written = []
            for f in sorted(tmp.iterdir()):
                target = folder / f.name
                os.replace(f, target)
                written.append(target)
            return written
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def export_diagram(self, path: str | os.PathLike) -> Path:
        """The whole network diagram (every column, scrolled or not) as PNG or SVG."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise export.ExportError(
                f"{path}: unsupported format {suffix or '(none)'!r}; use .png or .svg", path
            )
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        ok = self._diagram_png(buf) if suffix == ".png" else self._diagram_svg(buf)
        buf.close()
        if not ok or data.isEmpty():
            raise export.ExportError(f"{path}: could not render the network diagram", path)
        return export.atomic_write_bytes(path, bytes(data.data()))

    def _diagram_png(self, buf: QBuffer) -> bool:
        return self.diagram.render_pixmap().save(buf, "PNG")

    def _diagram_svg(self, buf: QBuffer) -> bool:
        from PySide6.QtSvg import QSvgGenerator

        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        gen.setSize(self.diagram.canvas.size())
        gen.setViewBox(self.diagram.canvas.rect())
        gen.setTitle("Vanishing Gradient Lab: network")
        painter = QPainter(gen)
        try:
            self.diagram.render_to(painter)
        finally:
            ok = painter.end()
        return ok

    def export_one(self, stem: str, panel, path: str | os.PathLike) -> Path:
        """Write one plot (or the diagram when ``panel`` is None) to ``path``."""
        if panel is None:
            return self.export_diagram(path)
        return export.export_plot(panel.plot, path)

    def copy_image(self, panel) -> None:
        """The plot (or the diagram when ``panel`` is None) to the clipboard."""
        pixmap = self.diagram.render_pixmap() if panel is None else panel.grab()
        QApplication.clipboard().setPixmap(pixmap)

    # --- context menus -----------------------------------------------------------------------
    def install_context_menus(self) -> None:
        """Right-click on any plot (or the diagram): export it as PNG or SVG, copy it.

        The panels switch pyqtgraph's own menu off; this one writes through gui.export, so
        files are atomic and errors name the file.
        """
        for stem, panel in self.panels().items():
            self.install_menu(stem, panel)
        if self.diagram is not None:
            canvas = self.diagram.canvas
            canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            canvas.customContextMenuRequested.connect(
                lambda pos: self.show_menu("network", None, canvas.mapToGlobal(pos))
            )

    def install_menu(self, stem: str | Callable[[], str], panel) -> None:
        """Give ``panel`` the plot menu; ``stem`` may be a function (a panel that is reused
        for another run is named when the menu opens)."""
        view = panel.plot
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(
            lambda pos: self.show_menu(
                stem() if callable(stem) else stem, panel, view.mapToGlobal(pos)
            )
        )

    def show_menu(self, stem: str, panel, global_pos) -> None:
        """Open the plot menu of ``panel`` (None: the diagram) at ``global_pos``."""
        self.plot_menu(stem, panel).exec(global_pos)

    def plot_menu(self, stem: str, panel) -> QMenu:
        """The context menu of one plot (``panel`` None: the network diagram)."""
        menu = QMenu(self.window)
        for suffix in (".png", ".svg"):
            menu.addAction(
                f"Export as {suffix[1:].upper()}…",
                lambda _=False, x=suffix: self.export_one_dialog(stem, panel, x),
            )
        menu.addAction("Copy image", lambda: self.copy_image(panel))
        if panel is not None:
            menu.addSeparator()
            menu.addAction("Fit to data", lambda: panel.plot.getPlotItem().autoRange())
        return menu

    # --- dialogs -----------------------------------------------------------------------------
    def _status(self, text: str, ms: int) -> None:
        self.window.statusBar().showMessage(text, ms)

    def _save_path(self, title: str, name: str, kind: str, suffix: str = "") -> str:
        """A file to write, asked for (``""``: cancelled); ``suffix`` added when missing."""
        path, _ = QFileDialog.getSaveFileName(self.window, title, name, kind)
        if path and suffix and not Path(path).suffix:
            path += suffix
        return path

    def _write(self, what: str, path: str, write: Callable[[], object]) -> bool:
        """Run ``write``; on failure a message box "Cannot export <what>" naming ``path``."""
        try:
            write()
        except ERRORS as e:
            file_error(self.window, f"Cannot export {what}", path, e)
            return False
        return True

    def export_one_dialog(self, stem: str, panel, suffix: str) -> None:
        kind = "PNG (*.png)" if suffix == ".png" else "SVG (*.svg)"
        path = self._save_path("Export plot", f"{stem}{suffix}", kind, suffix)
        if path and self._write("the plot", path, lambda: self.export_one(stem, panel, path)):
            self._status(f"Wrote {path}", 4000)

    def folder_dialog(
        self, title: str, what: str, write: Callable[[str], list[Path]], ms: int = 5000
    ) -> None:
        """Ask for a folder, ``write`` into it, report "Wrote N files to <folder>"."""
        folder = QFileDialog.getExistingDirectory(self.window, title)
        written: list[Path] = []
        if folder and self._write(what, folder, lambda: written.extend(write(folder))):
            self._status(f"Wrote {len(written)} files to {folder}", ms)

    def export_plots_dialog(self) -> None:
        self.folder_dialog("Export plots to folder", "the plots", self.export_plots)

    def export_window_dialog(self) -> None:
        path = self._save_path("Export window", "vglab-window.png", "PNG (*.png)")
        if path:
            self._write("the window", path, lambda: export.export_widget_png(self.window, path))

    def export_table_dialog(
        self, title: str, name: str, what: str, table: Callable[[], tuple]
    ) -> None:
        """Ask for a CSV file and write ``table()`` = (header, rows) into it."""
        path = self._save_path(title, name, "CSV (*.csv)")
        if path:
            self._write(what, path, lambda: export.export_csv(path, *table()))
