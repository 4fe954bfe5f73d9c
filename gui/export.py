"""Writing plots, screenshots and tables to disk: atomically, with errors that name the file.

Every writer renders into memory first, writes a temporary file in the target's folder and
moves it over the target with ``os.replace`` (atomic on POSIX and Windows).  A failure at any
point removes the temporary file, so a target is either the old file or the complete new one,
never half written.  Every failure raises :class:`ExportError`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QEvent, QIODevice, QRectF, QSize
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QWidget

from engine.io import csv_text, write_atomic

PathLike = str | os.PathLike


class ExportError(OSError):
    """A file could not be written; the message names the file and the problem."""

    def __init__(self, message: str, path: PathLike | None = None):
        super().__init__(message)
        self.path = None if path is None else Path(path)

    def __repr__(self) -> str:
        return f"ExportError({str(self)!r})"


def _problem(e: BaseException) -> str:
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def make_folder(path: PathLike) -> Path:
    """Create the folder ``path`` (and its parents) if needed; ExportError naming it if not."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"{path}: cannot create the folder ({_problem(e)})", path) from e
    return path


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`engine.io.write_atomic`); ExportError
    naming the file when it cannot be written (the old file, if any, stays as it was)."""
    try:
        return write_atomic(path, data)
    except OSError as e:
        raise ExportError(f"{path}: could not write the file ({_problem(e)})", path) from e


def export_text(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def export_csv(path: PathLike, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write a CSV table (``header`` then ``rows``) atomically; floats keep full precision."""
    return export_text(path, csv_text(header, rows))


def _png_bytes(image: QImage | QPixmap, path: Path) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buf, "PNG")
    buf.close()
    if not ok or image.isNull():
        raise ExportError(f"{path}: could not encode the image as PNG", path)
    return bytes(data.data())


def export_widget_png(widget: QWidget, path: PathLike) -> Path:
    """A PNG screenshot of ``widget`` (``widget.grab()``, at the screen's resolution)."""
    path = Path(path)
    pixmap = widget.grab()
    if pixmap.isNull() or pixmap.width() == 0:
        raise ExportError(f"{path}: the widget has nothing to draw (size 0?)", path)
    return atomic_write_bytes(path, _png_bytes(pixmap, path))


_PLOT_TYPES = (pg.GraphicsView, pg.PlotItem, pg.GraphicsLayout)


def _resolve(plot) -> pg.GraphicsView | pg.PlotItem | pg.GraphicsLayout:
    """The pyqtgraph object to export: ``plot`` itself, or a panel's ``plot`` attribute."""
    if isinstance(plot, _PLOT_TYPES):
        return plot
    inner = getattr(plot, "plot", None)
    if isinstance(inner, _PLOT_TYPES):
        return inner
    raise TypeError(
        f"export_plot: expected a pg.PlotWidget or pg.PlotItem, got {type(plot).__name__}"
    )


def _export_source(plot):
    """What the pyqtgraph exporters should render.

    For a view (PlotWidget, GraphicsLayoutWidget) that is its whole scene: everything on
    the canvas, colour bars and legends included, not just the ViewBox.  A PlotItem is
    exported as itself (its axes, title, legend and colour bar are its children).
    """
    return plot.scene() if isinstance(plot, pg.GraphicsView) else plot


#: size a plot is laid out at for export when it has never been on screen
DEFAULT_EXPORT_SIZE = QSize(900, 560)
_MIN_EXPORT_SIZE = QSize(320, 200)


#: height / width of an exported figure: a plot in a tall, narrow dock is exported no taller
#: than square, a flat strip no flatter than this
EXPORT_ASPECT = (0.4, 1.0)


def _sane_shape(size: QSize) -> QSize:
    """``size`` with its height brought within :data:`EXPORT_ASPECT` of its width."""
    w = size.width()
    lo, hi = EXPORT_ASPECT
    h = min(max(size.height(), round(w * lo), _MIN_EXPORT_SIZE.height()), round(w * hi))
    return QSize(w, h)


def _view_of(plot) -> pg.GraphicsView | None:
    if isinstance(plot, pg.GraphicsView):
        return plot
    views = plot.scene().views() if plot.scene() is not None else []
    return views[0] if views else None


def _lay_out(view: pg.GraphicsView, size: QSize) -> None:
    """Size ``view`` and its scene, as GraphicsView.resizeEvent would (Qt delivers no resize
    event to a hidden widget), and let a panel refit its title, legend and ticks.

    The panel refits first and its layout requests are applied before the scene's central
    item gets the new geometry: an item is never made smaller than its minimum size, and a
    legend laid out in one row for a wide export has a minimum wider than the screen plot.
    Setting the geometry before the legend had re-flowed left the on-screen plot drawn at
    the export width, clipped, for good.
    """
    if view.size() != size:
        view.resize(size)
    refit = getattr(view.parentWidget(), "refit", None)
    if callable(refit):
        refit()
    rect = QRectF(0, 0, size.width(), size.height())
    for _ in range(4):
        # a legend's new column count reaches the plot's minimum size one layout pass later
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        # the base class's setRange: PlotWidget.setRange means the ViewBox's data range
        pg.GraphicsView.setRange(view, rect, padding=0, disableAutoPixel=False)
        central = view.centralWidget
        if central is None or central.geometry() == rect:
            break


def _view_ranges(view: pg.GraphicsView) -> list[tuple[pg.ViewBox, list]]:
    """Every ViewBox of the view's scene with its current data range."""
    return [
        (item, item.viewRange()) for item in view.scene().items() if isinstance(item, pg.ViewBox)
    ]


def _restore_ranges(ranges: list[tuple[pg.ViewBox, list]]) -> None:
    """Put the data ranges back exactly (auto-range settings untouched): auto-ranging pads
    by pixels, so a plot resized for an export and back would otherwise shift slightly."""
    for vb, (xr, yr) in ranges:
        if vb.viewRange() != [xr, yr]:
            vb.setRange(xRange=xr, yRange=yr, padding=0, disableAutoRange=False)


@contextlib.contextmanager
def _export_size(plot, min_width: int = 0):
    """Give a plot that is not really on screen a real size while it is exported.

    A hidden widget (a headless figure, a panel in a dock tab behind another) has no sane
    size: a placeholder such as 100 x 30, or a tall strip from some earlier layout.  A
    standalone figure is laid out at its window's size (what the caller asked for with
    resize()), a hidden panel of a window at :data:`DEFAULT_EXPORT_SIZE`.  A visible view
    keeps its on-screen look, laid out at least ``min_width`` wide: a 300-pixel plot in a
    small window exported 1200 px wide would otherwise have its text at 4x.  Either way the
    shape is kept within :data:`EXPORT_ASPECT` (a plot in a tall dock is exported square).
    Whatever was enlarged gets its size, scene geometry and data ranges back afterwards
    (its layout owns them): an export never changes what is on screen.  Nothing is put on
    screen.
    """
    view = _view_of(plot)
    if view is None:
        yield
        return
    old = QSize(view.size())
    small = old.width() < _MIN_EXPORT_SIZE.width() or old.height() < _MIN_EXPORT_SIZE.height()
    # a dock behind another dock's tab is "visible" to Qt, with nothing of it on screen
    shown = view.isVisible() and not view.viewport().visibleRegion().isEmpty()
    if shown and old.width() > 0 and old.height() > 0:
        w = old.width()
        if small or w < min_width:
            w = max(min_width, _MIN_EXPORT_SIZE.width(), w)
        target = QSize(w, round(old.height() * w / old.width()))
    else:
        top = view.window()
        target = QSize(DEFAULT_EXPORT_SIZE)  # e.g. a panel in a dock tab behind another
        if top is not view and not top.isVisible() and view.parentWidget() is top:
            target = QSize(top.size())  # a standalone panel resized by its owner
        if target.width() < _MIN_EXPORT_SIZE.width() or target.height() < _MIN_EXPORT_SIZE.height():
            target = QSize(DEFAULT_EXPORT_SIZE)
    target = _sane_shape(target)
    if target == old:
        if not shown:
            # a hidden widget gets no resize event: its scene keeps its first geometry (the
            # plot in a corner of the image) until it is laid out at the size it already has
            _lay_out(view, target)
        yield
        return
    ranges = _view_ranges(view)
    _lay_out(view, target)
    try:
        yield
    finally:
        if target != old:
            _lay_out(view, old)
            _restore_ranges(ranges)


def _close_paths_explicitly(node) -> None:
    """Rewrite every SVG path's close command "Z" as a line back to the subpath's start.

    pyqtgraph 0.14's SVG exporter parses path data as "x,y" pairs only and fails on the
    "Z" that Qt 6.12's SVG generator writes for closed paths (pyqtgraph issue #3495).  A line
    to the start point draws the same outline, so the exported figure is unchanged.
    """
    for el in node.getElementsByTagName("path"):
        d = el.getAttribute("d").strip()
        if "Z" not in d and "z" not in d:
            continue
        out, start = [], None
        for tok in d.replace("Z", " Z ").replace("z", " Z ").split():
            if tok == "Z":
                if start is not None:
                    out.append("L" + start)
                continue
            if tok[0] in "Mm":
                start = tok[1:]
            out.append(tok)
        el.setAttribute("d", " ".join(out))


def _patch_svg_exporter() -> None:
    """Install :func:`_close_paths_explicitly` in front of pyqtgraph's coordinate fix-up."""
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = module.correctCoordinates
    if getattr(original, "_vglab_patched", False):
        return

    def correct_coordinates(node, defs, item, options):
        _close_paths_explicitly(node)
        return original(node, defs, item, options)

    correct_coordinates._vglab_patched = True
    module.correctCoordinates = correct_coordinates


def _refresh_layout(plot) -> None:
    """Paint once off-screen and apply the resulting layout requests.

    Axes size themselves to their tick labels while painting; a plot that was just filled
    (or never shown) would otherwise be exported with the stale axis widths, and its axis
    label would overlap the tick labels.
    """
    scene = plot.scene()
    if scene is None:
        return
    scratch = QImage(64, 64, QImage.Format.Format_ARGB32)
    for _ in range(2):
        painter = QPainter(scratch)
        try:
            scene.render(painter)
        finally:
            painter.end()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def export_plot(plot, path: PathLike, width: int = 1200) -> Path:
    """Export a pyqtgraph plot to PNG (``width`` px wide) or SVG, chosen by ``path``'s suffix.

    ``plot`` is a ``pg.PlotWidget`` (its whole scene is exported), a ``pg.PlotItem``, or a
    panel with a ``plot`` attribute.  Raises :class:`ExportError` when the file can't be
    written or the format is unknown.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ExportError(
            f"{path}: unsupported format {suffix or '(none)'!r}; use .png or .svg", path
        )
    if not path.parent.is_dir():
        raise ExportError(f"{path}: folder {path.parent} does not exist", path)
    plot = _resolve(plot)
    # laid out at half the image width or more: a figure at about 2x its screen size
    with _export_size(plot, min(int(width) // 2, DEFAULT_EXPORT_SIZE.width())):
        _refresh_layout(plot)
        data = _render(plot, path, suffix, width)
    return atomic_write_bytes(path, data)


def _render(plot, path: Path, suffix: str, width: int) -> bytes:
    """The PNG or SVG bytes of ``plot``, in memory."""
    source = _export_source(plot)
    try:
        if suffix == ".png":
            exporter = pg_exporters.ImageExporter(source)
            exporter.parameters()["width"] = int(width)  # height follows the aspect ratio
            image = exporter.export(toBytes=True)
            data = _png_bytes(image, path)
        else:
            _patch_svg_exporter()
            exporter = pg_exporters.SVGExporter(source)
            data = exporter.export(toBytes=True)
            if isinstance(data, str):
                data = data.encode("utf-8")
    except ExportError:
        raise
    except Exception as e:  # noqa: BLE001 -- pyqtgraph raises bare Exceptions (e.g. size 0)
        raise ExportError(f"{path}: could not render the plot ({e})", path) from e
    return data
