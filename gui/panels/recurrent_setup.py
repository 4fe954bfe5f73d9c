"""The Recurrent window's setup: which cells run, and the settings of the recurrent config.

Every control comes from the config field table (:func:`gui.panels.forms.control_for`): its
label, range, choices and tooltip are the table's.  An edit emits a complete, validated
config with :attr:`RecurrentSetup.changed` (``live`` True for the learning rate, which
applies without a rebuild); a config that does not validate is not emitted: the panel shows
the field's message instead.  :meth:`set_config` fills the widgets under signal blockers.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from engine.config import ConfigError, ExperimentConfig, updated, validate
from engine.config import fields as meta
from gui.panels.forms import EditKeys, control_for, row_label, set_combo
from gui.recurrent_view import CELL_LABELS, CELLS

#: the settings the panel offers, in order (ranges, choices: engine.config.fields)
KEYS = (
    "recurrent.task",
    "recurrent.seq_len",
    "model.width",
    "recurrent.rnn_activation",
    "training.learning_rate",
    "training.optimizer",
    "training.clip_norm",
    "training.seed",
)
#: the loss each task trains with (adding is a regression: mse; memory a choice of symbols)
TASK_LOSS = {"adding": "mse", "memory": "softmax_ce"}


class RecurrentSetup(QWidget):
    """Cell check boxes and a form of :data:`KEYS`.

    Signals: ``changed(config, cells, live)`` after a valid edit; ``rejected(str)`` with the
    fields' messages after an invalid one (nothing is applied).
    """

    changed = Signal(object, object, bool)
    rejected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._config: ExperimentConfig | None = None
        self.cell_boxes = {c: QCheckBox(CELL_LABELS[c]) for c in CELLS}
        cells = QHBoxLayout()
        for c, box in self.cell_boxes.items():
            box.setChecked(True)
            box.setToolTip(meta.get("recurrent.cell").names[c] + ": run it in lock-step")
            box.toggled.connect(lambda on, c=c: self._cells_edited(c, on))
            cells.addWidget(box)
        cells.addStretch(1)
        self.widgets: dict[str, QWidget] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._keys = EditKeys(lambda w, escaped: None, self)
        for key in KEYS:
            w = control_for(key)
            w.setToolTip(meta.get(key).help)
            self._keys.watch(w)
            signal = w.currentIndexChanged if isinstance(w, QComboBox) else w.valueChanged
            signal.connect(lambda *_, k=key: self._edited(k))
            form.addRow(row_label(key), w)
            self.widgets[key] = w
        self.error_label = QLabel(wordWrap=True)
        self.error_label.setStyleSheet("color: #b71c1c; font-weight: 600;")
        self.error_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(QLabel("<b>Cells</b> (trained in lock-step)"))
        layout.addLayout(cells)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addStretch(1)

    def __repr__(self) -> str:
        return f"RecurrentSetup(cells={self.cells()})"

    # --- config <-> widgets --------------------------------------------------------------------
    def set_config(self, config: ExperimentConfig, cells=None) -> None:
        """Show ``config`` (and ``cells``, if given) without emitting ``changed``."""
        self._config = config
        widgets = [*self.widgets.values(), *self.cell_boxes.values()]
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            for key, w in self.widgets.items():
                value = meta.value_at(config, key)
                if isinstance(w, QComboBox):
                    set_combo(w, value)
                else:
                    w.setValue(value)
            if cells is not None:
                for c, box in self.cell_boxes.items():
                    box.setChecked(c in cells)
        finally:
            del blockers
        self._sync_visible()
        self.error_label.hide()

    def value(self, key: str):
        w = self.widgets[key]
        return w.currentData() if isinstance(w, QComboBox) else w.value()

    def cells(self) -> tuple[str, ...]:
        """The checked cells, in :data:`CELLS` order."""
        return tuple(c for c, box in self.cell_boxes.items() if box.isChecked())

    def _sync_visible(self) -> None:
        """The RNN's activation matters only while the RNN runs."""
        self.widgets["recurrent.rnn_activation"].setEnabled("rnn" in self.cells())

    # --- edits ---------------------------------------------------------------------------------
    def config_of(self, key: str, value) -> ExperimentConfig:
        """The shown config with ``key`` set to ``value`` (a task brings its loss), validated:
        raises :class:`~engine.config.ConfigError` with the fields' messages."""
        changes = {key: value}
        if key == "recurrent.task":
            changes["model.loss"] = TASK_LOSS[value]
        return validate(updated(self._config, **changes))

    def _edited(self, key: str) -> None:
        if self._config is None:
            return
        try:
            config = self.config_of(key, self.value(key))
        except ConfigError as e:
            self.show_rejected("\n".join(e.errors))
            return
        self._config = config
        self.error_label.hide()
        self.changed.emit(config, self.cells(), key in meta.LIVE)

    def _cells_edited(self, cell: str, on: bool) -> None:
        if not self.cells():  # at least one cell: keep the last one checked
            with QSignalBlocker(self.cell_boxes[cell]):
                self.cell_boxes[cell].setChecked(True)
            self.show_rejected("recurrent.cell: at least one of RNN, LSTM, GRU must run")
            return
        self._sync_visible()
        self.error_label.hide()
        if self._config is not None:
            self.changed.emit(self._config, self.cells(), False)

    def show_rejected(self, message: str) -> None:
        """Say why an edit was not applied (the running nets keep going)."""
        self.error_label.setText("Not applied (the running nets keep training):\n" + message)
        self.error_label.show()
        self.rejected.emit(message)

    def spin_boxes(self) -> list[QAbstractSpinBox]:
        return [w for w in self.widgets.values() if isinstance(w, QAbstractSpinBox)]
