"""Form widgets built from the config field table (:mod:`engine.config.fields`).

:func:`control_for` turns a :class:`~engine.config.fields.Field` into the widget that edits it,
with the table's range, step, choices and tooltip, so a control never restates what
``validate`` accepts.  Also the small helpers the panels share.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import fields as meta
from gui.i18n import translate

#: keys that stay the window's shortcuts while a spin box has the focus (no number has them)
PASS_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_R)
#: keys that end an edit
DONE_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)


class SciSpinBox(QDoubleSpinBox):
    """A spin box for positive values spanning decades (learning rates): shows ``0.001``
    or ``1e-05`` and steps along 1, 2, 5, 10, 20, ..."""

    def __init__(self, lo: float, hi: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(10)
        self.setRange(lo, hi)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            v = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = self.minimum() <= v <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        v = self.value()
        for _ in range(abs(steps)):
            v = next_125(v, up=steps > 0)
        self.setValue(min(max(v, self.minimum()), self.maximum()))


def next_125(v: float, up: bool) -> float:
    """The next value of the 1-2-5 sequence above (or below) ``v``."""
    if v <= 0:
        return 1e-6
    e = math.floor(math.log10(v) + 1e-12)
    ladder = [m * 10.0**k for k in (e - 1, e, e + 1) for m in (1, 2, 5)]
    if up:
        return next(x for x in ladder if x > v * (1 + 1e-9))
    return next(x for x in reversed(ladder) if x < v * (1 - 1e-9))


def combo(keys, names=None, tips=None) -> QComboBox:
    """A combo box whose item data are ``keys``, shown by ``names`` (else the keys), each
    item explained by its entry in ``tips`` (a tooltip)."""
    box = QComboBox()
    # long item texts must not widen the dock: elide instead
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(8)
    for key in keys:
        box.addItem("", key)
    retranslate_combo(box, names, tips)
    return box


def field_text(text: str) -> str:
    """A word of the config field table in the current language (context ``ConfigField``,
    marked in the generated :mod:`gui.config_strings`)."""
    return translate("ConfigField", text) if text else text


def retranslate_combo(box: QComboBox, names=None, tips=None) -> None:
    """The items of a :func:`combo` shown by their (translated) ``names`` and ``tips``."""
    for i in range(box.count()):
        key = box.itemData(i)
        box.setItemText(i, field_text((names or {}).get(key, key)))
        if tips and key in tips:
            box.setItemData(i, field_text(tips[key]), Qt.ItemDataRole.ToolTipRole)


def retranslate_control(widget: QWidget, key: str) -> None:
    """The texts of the control of field ``key`` (:func:`control_for`) in the current
    language: tooltip, choice names, check box text, the word shown at the minimum."""
    field = meta.get(key)
    widget.setToolTip(field_text(field.help))
    if isinstance(widget, QComboBox) and field.choices:
        retranslate_combo(widget, field.names, field.tips)
    elif isinstance(widget, QCheckBox):
        widget.setText(field_text(field.label))
    elif isinstance(widget, QSpinBox | QDoubleSpinBox) and field.off:
        widget.setSpecialValueText(field_text(field.off))


def set_combo(box: QComboBox, key: str) -> None:
    """Select the item whose data is ``key`` (ValueError if there is none)."""
    i = box.findData(key)
    if i < 0:
        raise ValueError(f"{box.objectName() or 'combo'}: no item {key!r}")
    box.setCurrentIndex(i)


def _spin(box: QSpinBox | QDoubleSpinBox, field: meta.Field) -> QSpinBox | QDoubleSpinBox:
    """``box`` given the field's range, step and the text shown at its minimum."""
    lo, hi = field.span
    box.setRange(lo, hi)
    box.setSingleStep(field.step)
    box.setKeyboardTracking(False)  # typing "100" must not rebuild at 1 and 10
    if field.off:
        box.setSpecialValueText(field.off)
    return box


def control_for(key: str) -> QWidget:
    """The widget editing config field ``key``, set up from its table entry: a combo box
    for choices, a check box for a switch, a spin box over the field's view range."""
    field, kind = meta.get(key), meta.kind(meta.get(key).key)
    if field.choices:
        return combo(field.choices, field.names, field.tips)
    if kind is bool:
        return QCheckBox(field.label)
    if kind is str:
        return QLineEdit()
    if field.log:
        return SciSpinBox(*field.span)
    if kind is int:
        return _spin(QSpinBox(), field)
    box = _spin(QDoubleSpinBox(), field)
    box.setDecimals(field.decimals)
    box.setRange(*field.span)  # again: the range is rounded to the decimals set before
    return box


def row_label(key: str) -> str:
    """The form label of field ``key`` ("" for a check box: it carries its own text)."""
    field = meta.get(key)
    if meta.kind(field.key) is bool:
        return ""
    live = translate("Controls", " (live)") if field.live else ""
    return field_text(field.label) + live


def fill_with_scroll(owner: QWidget, body: QWidget) -> QScrollArea:
    """Make ``body`` scroll inside ``owner``, edge to edge and frameless (dock panels)."""
    scroll = QScrollArea()
    scroll.setWidget(body)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    outer = QVBoxLayout(owner)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    return scroll


class EditKeys(QObject):
    """The keyboard and wheel rules of a form's fields (an event filter on each).

    Space and R are never part of a number: in a spin box they stay the window's shortcuts.
    Enter (take the value) and Escape (drop the typing) end an edit: ``ended(widget,
    escaped)`` is called.  An unfocused field ignores the wheel, which scrolls the panel.
    """

    def __init__(self, ended: Callable[[QWidget, bool], None], parent: QObject | None = None):
        super().__init__(parent)
        self._ended = ended

    def watch(self, widget: QWidget) -> None:
        """Apply the rules to ``widget``."""
        if isinstance(widget, QAbstractSpinBox | QComboBox):
            # the wheel scrolls the panel; it changes a value only once the field has focus
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if (
            kind == QEvent.Type.ShortcutOverride
            and isinstance(obj, QAbstractSpinBox)
            and event.key() in PASS_KEYS
            and not event.modifiers()
        ):
            event.ignore()  # not taken here: the window's shortcut fires
            return True
        if kind == QEvent.Type.KeyPress and event.key() in DONE_KEYS:
            self._ended(obj, event.key() == Qt.Key.Key_Escape)
        elif (
            kind == QEvent.Type.Wheel
            and isinstance(obj, QAbstractSpinBox | QComboBox)
            and not obj.hasFocus()
        ):
            event.ignore()  # passed on to the scroll area
            return True
        return False
