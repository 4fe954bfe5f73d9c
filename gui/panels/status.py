"""Run status: the status-bar readout, the busy indicator and the message banner.

Dumb widgets.  :class:`StatusReadout` shows step, epoch, phase, loss, accuracy and speed;
:class:`BusyIndicator` says "compiling kernels..." (only when the wait is long enough to
notice); :class:`Banner` is the strip above the plots that explains a divergence or an error
in words, with advice.
"""

from __future__ import annotations

import math

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QSignalBlocker,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import Retranslatable, translate


def _num(value: float, fmt: str = ".4f") -> str:
    """``fmt`` for ordinary numbers; 3 significant digits in e-notation for huge or tiny
    ones (a diverging loss must not print 170 digits into the status bar)."""
    if value is None or math.isnan(value):
        return "\u2014"
    if math.isinf(value) or (value != 0 and not 1e-3 <= abs(value) < 1e5):
        return f"{value:.3g}"
    return format(value, fmt)


class StatusReadout(Retranslatable, QWidget):
    """Permanent status-bar text: step, epoch, phase, loss, accuracy, steps/s."""

    #: field -> its tooltip (context ``StatusReadout``)
    TIPS = {
        "step": QT_TRANSLATE_NOOP("StatusReadout", "mini-batches done"),
        "epoch": QT_TRANSLATE_NOOP("StatusReadout", "passes over the training set"),
        "phase": QT_TRANSLATE_NOOP("StatusReadout", "where the step-through is"),
        "loss": QT_TRANSLATE_NOOP("StatusReadout", "training loss of the last mini-batch"),
        "accuracy": QT_TRANSLATE_NOOP(
            "StatusReadout", "training accuracy of the last mini-batch / test accuracy"
        ),
        "speed": QT_TRANSLATE_NOOP("StatusReadout", "training steps per second"),
    }

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.labels: dict[str, QLabel] = {}
        self._shown: tuple = ()  # the last set_data arguments, redrawn in a new language
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(14)
        for key in self.TIPS:
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.RichText)
            layout.addWidget(label)
            self.labels[key] = label
        layout.addStretch(1)
        self.reset()
        self.retranslate_ui()

    def retranslate_ui(self) -> None:
        for key, tip in self.TIPS.items():
            self.labels[key].setToolTip(translate("StatusReadout", tip))
        if self._shown:
            self.set_data(*self._shown)

    def __repr__(self) -> str:
        return f"StatusReadout({self.text()!r})"

    def text(self) -> str:
        """Plain text of the readout (for tests and logs)."""
        return (
            "  ".join(label.text() for label in self.labels.values())
            .replace("<b>", "")
            .replace("</b>", "")
        )

    def set_data(
        self,
        step: int,
        epoch: int,
        phase: str,
        loss: float,
        accuracy: float,
        test_accuracy: float,
        steps_per_second: float,
        running: bool,
    ) -> None:
        """Update every field; ``phase`` is already a human text ("backward hidden 3"),
        "idle" (or "") between steps."""
        self._shown = (step, epoch, phase, loss, accuracy, test_accuracy, steps_per_second, running)
        L = self.labels
        L["step"].setText(translate("StatusReadout", "step <b>{0}</b>").format(step))
        L["epoch"].setText(translate("StatusReadout", "epoch <b>{0}</b>").format(epoch))
        if phase in ("", "idle"):  # the frames' word for "between steps"
            phase = translate("StatusReadout", "idle")
        L["phase"].setText(translate("StatusReadout", "phase <b>{0}</b>").format(phase))
        L["loss"].setText(translate("StatusReadout", "loss <b>{0}</b>").format(_num(loss)))
        L["accuracy"].setText(
            translate("StatusReadout", "acc <b>{0}</b> / test <b>{1}</b>").format(
                _num(accuracy, ".3f"), _num(test_accuracy, ".3f")
            )
        )
        rate = (
            translate("StatusReadout", "{0} steps/s").format(f"{steps_per_second:,.0f}")
            if running and steps_per_second > 0
            else (
                translate("StatusReadout", "running")
                if running
                else translate("StatusReadout", "paused")
            )
        )
        L["speed"].setText(rate)

    def reset(self) -> None:
        self.set_data(0, 0, "", math.nan, math.nan, math.nan, 0.0, False)


class BusyIndicator(Retranslatable, QWidget):
    """An indeterminate progress bar and a message, shown only after ``delay_ms`` of work,
    so a warm (cached) start does not flash it."""

    def __init__(
        self,
        text: str = QT_TRANSLATE_NOOP("BusyIndicator", "compiling kernels\u2026"),
        delay_ms: int = 300,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.text = text  # English; shown translated (context BusyIndicator)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setFixedWidth(90)
        self.bar.setFixedHeight(12)
        self.bar.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.show)
        self.retranslate_ui()
        self.hide()

    def retranslate_ui(self) -> None:
        self.label.setText(translate("BusyIndicator", self.text))

    def set_active(self, active: bool) -> None:
        if active:
            self._timer.start()
        else:
            self._timer.stop()
            self.hide()

    @property
    def pending(self) -> bool:
        """Active (visible now, or about to be)."""
        return self._timer.isActive() or self.isVisible()


class Banner(Retranslatable, QFrame):
    """A coloured strip with a title, an explanation and a close button.

    A long explanation (a preset's description) is shown folded to :attr:`FOLDED_LINES`
    lines, scrollable, with a "more" button that unfolds it: on a 720-pixel screen a
    ten-line banner would leave no room for the network below it.
    """

    FOLDED_LINES = 3

    closed = Signal()
    STYLES = {
        "error": ("#fdecea", "#b71c1c", "#f5c6cb"),
        "warning": ("#fff4e5", "#8a4b00", "#ffd8a8"),
        "info": ("#e8f1fb", "#0d3c61", "#b6d4f2"),
    }

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = ""
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body_area = QScrollArea()
        self.body_area.setWidget(self.body)
        self.body_area.setWidgetResizable(True)
        self.body_area.setFrameShape(QFrame.Shape.NoFrame)
        self.body_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body_area.setStyleSheet(
            "QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }"
        )
        self.more = QToolButton()
        self.more.setAutoRaise(True)
        self.more.setCheckable(True)
        self.more.toggled.connect(self._fold)
        self.close_button = close = QToolButton()
        close.setText("\u2715")
        close.setAutoRaise(True)
        close.clicked.connect(self.clear)
        text = QVBoxLayout()
        text.setSpacing(1)
        text.addWidget(self.title)
        text.addWidget(self.body_area)
        buttons = QVBoxLayout()
        buttons.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        buttons.addStretch(1)
        buttons.addWidget(self.more, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addLayout(text, 1)
        layout.addLayout(buttons)
        self._make = None  # what shows a translated message again (show_translated)
        self.retranslate_ui()
        self.hide()

    def retranslate_ui(self) -> None:
        """The buttons' words, and a message shown with :meth:`show_translated`, in the
        current language (a plain :meth:`show_message` keeps its text)."""
        self.more.setToolTip(translate("Banner", "Show the whole text"))
        self.close_button.setToolTip(translate("Banner", "Dismiss"))
        self._fold()
        if self._make is not None and not self.isHidden():
            make = self._make
            self.show_message(self.kind, *make())
            self._make = make

    def _lines_height(self, n: int) -> int:
        """Height of exactly ``n`` lines of body text (rich text has its own line height)."""
        probe = QLabel("<br>".join(["x"] * n))
        probe.setTextFormat(Qt.TextFormat.RichText)
        probe.setFont(self.body.font())
        probe.setStyleSheet(self.styleSheet())
        return probe.sizeHint().height()

    def _text_height(self) -> int:
        """Height the body needs at the current width."""
        width = max(self.body_area.viewport().width(), 100)
        return self.body.heightForWidth(width) if self.body.text() else 0

    def _fold(self, unfolded: bool | None = None) -> None:
        """Show the body whole, or folded to FOLDED_LINES lines (with the "more" button
        only when the text is longer than that)."""
        unfolded = self.more.isChecked() if unfolded is None else unfolded
        folded = self._lines_height(self.FOLDED_LINES)
        need = self._text_height()
        self.more.setVisible(need > folded)
        self.more.setText(translate("Banner", "less") if unfolded else translate("Banner", "more"))
        self.body_area.setFixedHeight(max(need, 1) if unfolded or need <= folded else folded)

    @property
    def folded(self) -> bool:
        """Is part of the text hidden (scroll it, or press "more")?"""
        return self.body_area.height() < self._text_height()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fold()

    def __repr__(self) -> str:
        return f"Banner({self.kind!r}, visible={self.isVisible()})"

    def show_message(self, kind: str, title: str, text: str = "") -> None:
        """Show ``title`` (bold) and ``text`` in the colours of ``kind`` (error/warning/info)."""
        bg, fg, border = self.STYLES.get(kind, self.STYLES["info"])
        self.kind = kind
        self.setStyleSheet(
            f"Banner {{ background: {bg}; border: 1px solid {border}; "
            f"border-radius: 5px; }} QLabel {{ color: {fg}; }}"
        )
        self._make = None
        self.title.setText(f"<b>{title}</b>")
        self.body.setText(text)
        self.body_area.setVisible(bool(text))
        with QSignalBlocker(self.more):
            self.more.setChecked(False)
        self.show()
        self._fold()

    def show_translated(self, kind: str, make) -> None:
        """Show ``make()`` -> ``(title, text)``, built from ``translate`` calls, and build it
        again in the new language when the language changes while it is shown."""
        self.show_message(kind, *make())
        self._make = make

    def clear(self) -> None:
        self._make = None
        if self.isVisible():
            self.hide()
            self.kind = ""
            self.closed.emit()
