"""Experiment controls: every setting of an :class:`~engine.config.ExperimentConfig`.

Each control is built from the config field table (:mod:`engine.config.fields`): its label, range,
step, choices and tooltip are the table's, so the widgets accept what ``validate`` accepts,
and a row shows only while the table says its field matters.  Each edit emits a complete,
validated config with :attr:`Controls.config_changed` (the owner decides whether it needs a
rebuild or is a live change).  :meth:`Controls.set_config` fills the widgets under signal
blockers, so showing a config never echoes back as an edit.  Fields the panel does not
expose (name, history size, Adam betas, ...) are kept from the last config it was given.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.config import ConfigError, ExperimentConfig, validate
from engine.config import fields as meta
from engine.config.text import config_changes, summary
from engine.datasets import KERAS_MNIST
from gui.i18n import QT_TRANSLATE_NOOP, Retranslatable, translate
from gui.panels.forms import (
    EditKeys,
    control_for,
    field_text,
    fill_with_scroll,
    retranslate_control,
    row_label,
    set_combo,
)
from gui.panels.layer_table import LayerTable

#: how the controller's messages about an unreadable data set begin
DATA_ERROR = "Cannot load the data set"
#: the panel's groups and the fields each shows, in order (labels, ranges: engine.config.fields)
GROUPS = (
    (
        QT_TRANSLATE_NOOP("Controls", "Data"),
        (
            "data.name",
            "data.n_samples",
            "data.noise",
            "data.n_classes",
            "data.path",
            "data.label_column",
            "data.test_fraction",
            "data.subset",
            "data.scaling",
            "data.seed",
        ),
    ),
    (
        QT_TRANSLATE_NOOP("Controls", "Architecture"),
        (
            "model.depth",
            "model.width",
            "model.activation",
            "model.leaky_slope",
            "model.prelu_init",
            "model.elu_alpha",
            "model.hidden",
            "model.loss",
            "model.dtype",
        ),
    ),
    (
        QT_TRANSLATE_NOOP("Controls", "Initialisation"),
        (
            "model.init",
            "model.init_scale",
            "model.sigma_w2",
            "model.bias_init",
            "model.sigma_b2",
            "training.seed",
        ),
    ),
    (
        QT_TRANSLATE_NOOP("Controls", "Optimiser"),
        (
            "training.optimizer",
            "training.learning_rate",
            "training.momentum",
            "training.batch_size",
            "training.weight_decay",
        ),
    ),
    (
        QT_TRANSLATE_NOOP("Controls", "Countermeasures"),
        (
            "model.batch_norm",
            "model.residual",
            "model.dropout",
            "training.clip_norm",
            "training.clip_value",
        ),
    ),
)
#: rows that are no config field of their own
_EXTRA_ROWS = ("model.layer_table", "data.path_note")
PATH_TIPS = {
    "csv": "A CSV file: one example per row, numeric features, one label column",
    "mnist": "A Keras-style mnist.npz, or the folder with the four MNIST IDX files "
    "(train-images-idx3-ubyte, ... raw or .gz)",
}
MISSING_PATH = {
    "csv": "Choose a CSV file (\u2026 button, or type its path and press Enter); "
    "until then the current experiment keeps running.",
    "mnist": f"Choose mnist.npz or the folder of the four MNIST IDX files (\u2026 button, or "
    f"type the path and press Enter); {KERAS_MNIST} was not found. Until then the "
    f"current experiment keeps running.",
}


def _missing_path(name: str, path: str) -> bool:
    """Does data source ``name`` still need a path?  (MNIST falls back to Keras' file.)"""
    if path.strip():
        return False
    return name == "csv" or (name == "mnist" and not KERAS_MNIST.expanduser().is_file())


class Controls(Retranslatable, QWidget):
    """The experiment settings, grouped as data / architecture / initialisation / optimiser /
    countermeasures.  Emits ``config_changed(ExperimentConfig)`` on every valid edit."""

    config_changed = Signal(object)
    #: Enter or Escape ended an edit: the owner may take the keyboard focus back, so that
    #: single-key shortcuts (Space, R, the arrows) drive the window again
    editing_done = Signal()

    def __init__(self, config: ExperimentConfig | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._base = config or ExperimentConfig()
        self._inputs: list[QWidget] = []
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        self._origin = self._base  # the experiment as loaded (preset, file, start)
        self._keys = EditKeys(self._edit_ended, self)
        self._groups: list[tuple[QGroupBox, str]] = []
        # plain text: descriptions are prose ("z < 0"), never markup
        self.about_title = QLabel()
        self.about_title.setTextFormat(Qt.TextFormat.PlainText)
        self.about_title.setWordWrap(True)
        self.about_title.setStyleSheet("font-weight: 600; padding: 2px 2px 0 2px;")
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setTextFormat(Qt.TextFormat.PlainText)
        self.about.setStyleSheet("color: #333; padding: 0 2px 6px 2px;")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b71c1c; font-weight: 600;")
        self.error_label.hide()
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.about_title)
        layout.addWidget(self.about)
        for title, keys in GROUPS:
            layout.addWidget(self._group(title, keys))
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        scroll = fill_with_scroll(self, body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.retranslate_ui()
        self._connect()
        self.set_config(self._base)

    def retranslate_ui(self) -> None:
        """Group titles, row labels, tooltips and choice names in the current language."""
        for box, title in self._groups:
            box.setTitle(translate("Controls", title))
        for key, (form, widget) in self._fields():
            label = form.labelForField(widget)
            if label is not None and row_label(key):
                label.setText(row_label(key))
            if key != "data.path":
                retranslate_control(widget, key)
        self.per_layer.setText(field_text(meta.get("model.hidden").label))
        self.per_layer.setToolTip(field_text(meta.get("model.hidden").help))
        self.path_edit.setPlaceholderText(translate("Controls", "file or folder"))
        self._align_labels()
        if self.about_title.text():  # a config is shown (not yet while building)
            self._describe(self._base)

    def __repr__(self) -> str:
        return f"Controls({self._base.name!r})"

    # --- building ----------------------------------------------------------------------------
    def _group(self, title: str, keys: tuple[str, ...]) -> QGroupBox:
        """A titled form with a row for each of ``keys``."""
        box = QGroupBox()
        self._groups.append((box, title))
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(6, 4, 6, 4)
        form.setVerticalSpacing(4)
        special = {"data.path": self._path_rows, "model.hidden": self._layer_rows}
        for key in keys:
            special.get(key, self._field_row)(form, key)
        return box

    def _field_row(self, form: QFormLayout, key: str) -> None:
        """The row of config field ``key``: its table label, control and tooltip."""
        widget = control_for(key)
        widget.setObjectName(key)
        widget.setToolTip(meta.get(key).help)
        self._add_row(form, key, widget, row_label(key))
        self._inputs.append(widget)
        setattr(self, key.replace(".", "_"), widget)

    def _add_row(self, form: QFormLayout, key: str, widget: QWidget, label: str | None) -> None:
        """Row ``key``: ``label`` and ``widget``, or ``widget`` across the form (no label)."""
        if label is None:
            form.addRow(widget)
        else:
            form.addRow(label, widget)
        self._rows[key] = (form, widget)

    def _path_rows(self, form: QFormLayout, key: str) -> None:
        """``data.path``: a line edit with a browse button, and a note of what it needs."""
        path = QWidget()
        row = QHBoxLayout(path)
        row.setContentsMargins(0, 0, 0, 0)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName(key)
        self.browse_button = QPushButton("\u2026")
        self.browse_button.setFixedWidth(28)
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        self._add_row(form, key, path, row_label(key))
        self._inputs.append(self.path_edit)
        # what the chosen source still needs, or why its file was not taken
        self.path_note = QLabel()
        self.path_note.setWordWrap(True)
        self.path_note.setTextFormat(Qt.TextFormat.PlainText)
        self._add_row(form, "data.path_note", self.path_note, None)

    def _layer_rows(self, form: QFormLayout, key: str) -> None:
        """``model.hidden``: a switch to set each layer, and the table of the layers."""
        field = meta.get(key)
        self.per_layer = QCheckBox(field.label)
        form.addRow("", self.per_layer)
        self._inputs.append(self.per_layer)
        self.layer_table = LayerTable(self._keys.watch)
        self.layer_table.edited.connect(self._edited)
        self._add_row(form, "model.layer_table", self.layer_table, None)

    def _align_labels(self) -> None:
        """One label column width for every group, so the fields line up."""
        forms = {form for form, _ in self._rows.values()}
        labels = [
            form.itemAt(i, QFormLayout.ItemRole.LabelRole)
            for form in forms
            for i in range(form.rowCount())
        ]
        labels = [item.widget() for item in labels if item is not None and item.widget()]
        for lbl in labels:
            lbl.setMinimumWidth(0)  # the widest label of this language sets the width
        width = max((lbl.sizeHint().width() for lbl in labels), default=0)
        for lbl in labels:
            lbl.setMinimumWidth(width)

    def _connect(self) -> None:
        source = self._w("data.name")
        for w in self._inputs:
            self._keys.watch(w)
            if w is source:  # the loss (and maybe the file) must follow first
                w.currentIndexChanged.connect(self._dataset_picked)
            elif isinstance(w, QComboBox):
                w.currentIndexChanged.connect(self._edited)
            elif isinstance(w, QAbstractSpinBox):
                w.valueChanged.connect(self._edited)
            elif isinstance(w, QCheckBox):
                w.toggled.connect(self._edited)
            elif isinstance(w, QLineEdit):
                w.editingFinished.connect(self._edited)

    # --- keyboard and wheel ------------------------------------------------------------------
    def _edit_ended(self, widget: QWidget, escaped: bool) -> None:
        """Enter took the value, Escape dropped the typing: the owner may take the focus."""
        if escaped:
            self._drop_typing(widget)
        QTimer.singleShot(0, self.editing_done.emit)  # after the field took the value

    def _drop_typing(self, widget: QWidget) -> None:
        """Escape: show the field's current value again (leaving it would apply the text)."""
        if isinstance(widget, QAbstractSpinBox):
            widget.setValue(widget.value())
        elif widget is self.path_edit:
            widget.setText(self._base.data.path)
        elif widget is self._w("data.label_column"):
            widget.setText(str(self._base.data.label_column))

    # --- config <-> widgets -------------------------------------------------------------------
    def _fields(self):
        """(config key, (form, widget)) of every config field shown."""
        return [(k, v) for k, v in self._rows.items() if k not in _EXTRA_ROWS]

    def _w(self, key: str):
        return self._rows[key][1]

    def set_config(self, config: ExperimentConfig) -> None:
        """Show ``config`` in the widgets (no ``config_changed`` is emitted)."""
        self._base = config
        blockers = [QSignalBlocker(w) for w in self._inputs + [self.layer_table]]
        try:
            for key, (_, widget) in self._fields():
                head, _, name = key.partition(".")
                if name != "path":
                    self._show(widget, getattr(getattr(config, head), name))
            self.path_edit.setText(config.data.path)
            hidden = config.model.hidden
            self.per_layer.setChecked(bool(hidden))
            if hidden:
                self._w("model.depth").setValue(len(hidden))
            self.layer_table.fill(config.model.layers(), config.model.activation)
        finally:
            del blockers
        self.path_note.clear()
        self._refresh()
        self.error_label.hide()
        self._origin = config
        self._describe(config)

    @property
    def origin(self) -> ExperimentConfig:
        """The experiment last shown with :meth:`set_config` (before the user's edits)."""
        return self._origin

    def described(self, config: ExperimentConfig) -> ExperimentConfig:
        """``config`` with a description that is true of it: the loaded one while the
        settings are unchanged, else a summary and what changed since it was loaded."""
        changes = config_changes(self._origin, config)
        if not changes:
            return replace(config, description=self._origin.description)
        text = f"{summary(config)}. Changed from {self._origin.name}: " + "; ".join(changes) + "."
        return replace(config, description=text)

    def _describe(self, config: ExperimentConfig) -> None:
        """The heading: the experiment's own description only while its settings are as
        loaded; once edited, what it is now and what changed."""
        origin = self._origin
        changes = config_changes(origin, config)
        title = origin.name.replace("_", " ")
        desc = origin.description.strip()
        if not changes:
            self.about_title.setText(title)
            self.about.setText(desc or summary(config) + ".")
            self.about.setToolTip("")
            return
        shown = changes[:4] + ([f"and {len(changes) - 4} more"] if len(changes) > 4 else [])
        self.about_title.setText(translate("Controls", "{0} (modified)").format(title))
        now = translate("Controls", "Now: {0}.\nChanged: {1}.")
        self.about.setText(now.format(summary(config), "; ".join(shown)))
        self.about.setToolTip(translate("Controls", "As loaded: {0}").format(desc) if desc else "")

    @staticmethod
    def _show(widget: QWidget, value) -> None:
        if isinstance(widget, QComboBox):
            set_combo(widget, value)
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QAbstractSpinBox):
            widget.setValue(value)
        elif isinstance(widget, QLineEdit):
            widget.setText(str(value))

    @staticmethod
    def _read(widget: QWidget):
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QAbstractSpinBox):
            return widget.value()
        return widget.text().strip()

    def config(self) -> ExperimentConfig:
        """The config the widgets show (not validated)."""
        sections = {"data": {}, "model": {}, "training": {}}
        for key, (_, widget) in self._fields():
            head, _, name = key.partition(".")
            if name == "path":
                sections[head][name] = self.path_edit.text().strip()
            else:
                sections[head][name] = self._read(widget)
        if self.per_layer.isChecked():
            hidden = tuple(self.layer_table.layers())
            sections["model"]["hidden"] = hidden
            sections["model"]["depth"] = len(hidden)
        else:
            sections["model"]["hidden"] = ()
        b = self._base
        return replace(
            b,
            data=replace(b.data, **sections["data"]),
            model=replace(b.model, **sections["model"]),
            training=replace(b.training, **sections["training"]),
        )

    def _sync_table(self, sender: QWidget | None) -> None:
        """Depth adds/removes rows; the global width/activation set every row."""
        changed = {
            self.per_layer: "all",  # just switched on: start from the global settings
            self._w("model.width"): "width",
            self._w("model.activation"): "activation",
        }.get(sender, "")
        self.layer_table.resize_to(
            self._w("model.depth").value(),
            self._w("model.width").value(),
            self._w("model.activation").currentData(),
            changed,
        )

    # --- reactions ---------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Show only the settings that matter for the current choices (the table's ``when``)."""
        for key in self._rows:
            field = meta.FIELDS.get(key)
            if field is not None and field.when is not None:
                source, values = field.when
                self._visible(key, not self._values(source).isdisjoint(values))
        path_on = self._rows["data.path"][0].isRowVisible(self._w("data.path"))
        self._visible("data.path_note", path_on and bool(self.path_note.text()))
        self._visible("model.layer_table", self.per_layer.isChecked())

    def _values(self, key: str) -> set:
        """The values field ``key`` has now: every layer's activation when set per layer."""
        if key == "model.activation" and self.per_layer.isChecked():
            return {la.activation for la in self.layer_table.layers()}
        return {self._read(self._w(key))}

    def _visible(self, key: str, on: bool) -> None:
        form, widget = self._rows[key]
        form.setRowVisible(widget, on)

    def _dataset_picked(self) -> None:
        """Regression data needs the mse loss and classification data cannot use it; a file
        source asks for its file at once."""
        name = self._read(self._w("data.name"))
        loss = self._w("model.loss")
        with QSignalBlocker(loss):
            if name == "surface":
                set_combo(loss, "mse")
            elif self._read(loss) == "mse":
                set_combo(loss, "softmax_ce")
        self.path_edit.setToolTip(PATH_TIPS.get(name, ""))
        self.browse_button.setToolTip(PATH_TIPS.get(name, ""))
        self.path_note.clear()
        if _missing_path(name, self.path_edit.text()):
            self.browse(apply=False)
        self._edited()

    def browse(self, apply: bool = True) -> bool:
        """Ask for the data file of the current source; True if one was chosen.

        CSV: a file.  MNIST: an ``.npz`` file, or any of the four IDX files, which stands
        for the folder holding them (the loader reads a folder or an ``.npz``).
        """
        name = self._read(self._w("data.name"))
        start = self.path_edit.text().strip()
        if name == "csv":
            path, _ = QFileDialog.getOpenFileName(
                self, "CSV file", start, "CSV (*.csv *.tsv *.txt);;All files (*)"
            )
        else:
            path, _ = QFileDialog.getOpenFileName(
                self,
                "MNIST: mnist.npz, or one of the four IDX files of a folder",
                start,
                "MNIST (*.npz *-ubyte *-ubyte.gz);;All files (*)",
            )
            if path and "-ubyte" in Path(path).name:
                path = str(Path(path).parent)
        if not path:
            return False
        with QSignalBlocker(self.path_edit):
            self.path_edit.setText(path)
        if apply:
            self._edited()
        return True

    def _edited(self, *_) -> None:
        sender = self.sender()
        if self.per_layer.isChecked() and sender in (
            self._w("model.depth"),
            self._w("model.width"),
            self._w("model.activation"),
            self.per_layer,
        ):
            self._sync_table(sender)
        self._refresh()
        cfg = self.config()
        self._describe(cfg)
        try:
            validate(cfg)
        except ConfigError as e:
            self.error_label.setText(
                translate("Controls", "Not applied:") + "\n" + "\n".join(e.errors)
            )
            self.error_label.show()
            return
        self.error_label.hide()
        if _missing_path(cfg.data.name, cfg.data.path):
            # nothing to load yet: keep running the current experiment until a file is given
            self.path_note.setText(MISSING_PATH[cfg.data.name])
            self.path_note.setStyleSheet("color: #8a4b00;")
            self._refresh()
            return
        self.path_note.clear()
        self._refresh()
        if cfg != self._base:
            self._base = cfg
            self.config_changed.emit(cfg)

    def apply_values(self, values: dict) -> None:
        """Show ``values`` ({config key: value}) and apply them like the user's own edit."""
        blockers = [QSignalBlocker(self._w(key)) for key in values]
        for key, value in values.items():
            self._show(self._w(key), value)
        del blockers
        self._edited()

    def show_rejected(self, message: str) -> None:
        """The last edit could not be built (e.g. a bad data file): keep it on show, so it
        can be corrected, and say why; the previous experiment keeps running."""
        self.error_label.setText(
            translate("Controls", "Not applied (the previous experiment keeps running):")
            + "\n"
            + message
        )
        self.error_label.show()
        if message.startswith(DATA_ERROR) and self._read(self._w("data.name")) in ("csv", "mnist"):
            self.path_note.setText(message)
            self.path_note.setStyleSheet("color: #b71c1c;")
            self._refresh()
