"""Experiment controls: every setting of an :class:`~engine.config.ExperimentConfig`.

Widgets enforce valid ranges; each edit emits a complete, validated config with
:attr:`Controls.config_changed` (the owner decides whether it needs a rebuild or is a live
change).  :meth:`Controls.set_config` fills the widgets under signal blockers, so showing
a config never echoes back as an edit.  Fields the panel does not expose (name, history
size, Adam betas, ...) are kept from the last config it was given.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEvent, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.activations import ACTIVATIONS
from engine.config import (
    BATCH_NORM,
    DATASETS,
    DTYPES,
    INITIALIZERS,
    LOSSES,
    OPTIMIZERS,
    SCALING_HELP,
    SCALING_NAMES,
    SCALINGS,
    ConfigError,
    ExperimentConfig,
    LayerConfig,
    to_dict,
    validate,
)
from engine.datasets import KERAS_MNIST

#: keys that stay the window's shortcuts while a spin box has the focus (no number has them)
PASS_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_R)
#: keys that end an edit
DONE_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
#: how the controller's messages about an unreadable data set begin
DATA_ERROR = "Cannot load the data set"


def _missing_path(name: str, path: str) -> bool:
    """Does data source ``name`` still need a path?  (MNIST falls back to Keras' file.)"""
    if path.strip():
        return False
    return name == "csv" or (name == "mnist" and not KERAS_MNIST.expanduser().is_file())


MAX_DEPTH = 100
MAX_WIDTH = 1024

DATASET_NAMES = {
    "digits": "digits: 8\u00d78 handwritten (bundled)",
    "breast_cancer": "breast cancer (bundled)",
    "spiral": "spiral (2-D)",
    "circles": "circles (2-D)",
    "xor": "xor (2-D)",
    "moons": "moons (2-D)",
    "blobs": "blobs (2-D)",
    "surface": "surface (2-D regression)",
    "mnist": "MNIST (your files)",
    "csv": "CSV file\u2026",
}
SYNTHETIC = ("spiral", "circles", "xor", "moons", "blobs", "surface")
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
LOSS_NAMES = {
    "softmax_ce": "softmax + cross-entropy",
    "sigmoid_bce": "sigmoid + binary CE",
    "mse": "linear + mean squared error",
}
BN_NAMES = {"none": "off", "pre": "before the activation", "post": "after the activation"}
INIT_NAMES = {
    "xavier_normal": "Xavier (Glorot) normal",
    "xavier_uniform": "Xavier uniform",
    "he_normal": "He (Kaiming) normal",
    "he_uniform": "He uniform",
    "lecun_normal": "LeCun normal",
    "normal": "normal(0, scale)",
    "uniform": "uniform(-scale, scale)",
    "orthogonal": "orthogonal",
    "zeros": "zeros (never breaks symmetry)",
}
# activation -> (ModelConfig field, label) of its parameter
ACT_PARAMS = {
    "leaky_relu": ("leaky_slope", "negative slope"),
    "prelu": ("prelu_init", "initial slope"),
    "elu": ("elu_alpha", "alpha"),
}


def _flat(config: ExperimentConfig) -> dict[str, object]:
    """``section.field -> value`` of every setting (name and description left out)."""
    return {
        f"{head}.{key}": value
        for head in ("data", "model", "training", "logging")
        for key, value in to_dict(getattr(config, head)).items()
    }


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return f"{len(value)} layers set one by one" if value else "uniform layers"
    return str(value) if value != "" else "(none)"


def config_changes(old: ExperimentConfig, new: ExperimentConfig) -> list[str]:
    """What differs between two experiments, as ``"activation sigmoid \u2192 tanh"``."""
    a, b = _flat(old), _flat(new)
    words = {"data.name": "data set", "data.seed": "data seed", "training.seed": "weights seed"}
    return [
        f"{words.get(key, key.partition('.')[2])} {_fmt(a[key])} \u2192 {_fmt(b[key])}"
        for key in a
        if a[key] != b[key]
    ]


def summary(config: ExperimentConfig) -> str:
    """One line of what the experiment is: layers, countermeasures, optimiser, data."""
    m, t = config.model, config.training
    layers = m.layers()
    acts = {la.activation for la in layers}
    widths = {la.width for la in layers}
    if len(acts) == 1 and len(widths) == 1:
        net = f"{len(layers)} hidden {layers[0].activation} layers of {layers[0].width} units"
    else:
        net = (
            f"{len(layers)} hidden layers ("
            + ", ".join(f"{la.width} {la.activation}" for la in layers[:6])
            + (", \u2026)" if len(layers) > 6 else ")")
        )
    extras = [
        f"batch norm {m.batch_norm}" if m.batch_norm != "none" else "",
        "residual" if m.residual else "",
        f"dropout {m.dropout:g}" if m.dropout else "",
        f"clip norm {t.clip_norm:g}" if t.clip_norm else "",
        f"clip value {t.clip_value:g}" if t.clip_value else "",
    ]
    extras = [e for e in extras if e]
    data = DATASET_NAMES.get(config.data.name, config.data.name).rstrip("\u2026")
    return (
        net
        + (f" with {', '.join(extras)}" if extras else "")
        + f"; {m.init} init; {t.optimizer} lr {t.learning_rate:g}; {data}"
    )


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
        from PySide6.QtGui import QValidator

        try:
            v = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = self.minimum() <= v <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        v = self.value()
        for _ in range(abs(steps)):
            v = _next_125(v, up=steps > 0)
        self.setValue(min(max(v, self.minimum()), self.maximum()))


def _next_125(v: float, up: bool) -> float:
    """The next value of the 1-2-5 sequence above (or below) ``v``."""
    if v <= 0:
        return 1e-6
    e = math.floor(math.log10(v) + 1e-12)
    ladder = [m * 10.0**k for k in (e - 1, e, e + 1) for m in (1, 2, 5)]
    if up:
        return next(x for x in ladder if x > v * (1 + 1e-9))
    return next(x for x in reversed(ladder) if x < v * (1 - 1e-9))


def _combo(
    keys, names: dict[str, str] | None = None, tips: dict[str, str] | None = None
) -> QComboBox:
    """A combo box whose item data are ``keys``, shown by ``names`` (else the keys), each
    item explained by its entry in ``tips`` (a tooltip)."""
    box = QComboBox()
    # long item texts must not widen the dock: elide instead
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(8)
    for key in keys:
        box.addItem((names or {}).get(key, key), key)
        if tips and key in tips:
            box.setItemData(box.count() - 1, tips[key], Qt.ItemDataRole.ToolTipRole)
    return box


def _spin(lo: int, hi: int, step: int = 1, special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)  # typing "100" must not rebuild at 1 and 10
    if special:
        box.setSpecialValueText(special)
    return box


def _dspin(
    lo: float, hi: float, step: float, decimals: int = 3, special: str = ""
) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    if special:
        box.setSpecialValueText(special)
    return box


def _set_combo(box: QComboBox, key: str) -> None:
    i = box.findData(key)
    if i < 0:
        raise ValueError(f"{box.objectName() or 'combo'}: no item {key!r}")
    box.setCurrentIndex(i)


class Controls(QWidget):
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
        layout.addWidget(self._data_group())
        layout.addWidget(self._model_group())
        layout.addWidget(self._init_group())
        layout.addWidget(self._training_group())
        layout.addWidget(self._counter_group())
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._align_labels()
        self._connect()
        self.set_config(self._base)

    def __repr__(self) -> str:
        return f"Controls({self._base.name!r})"

    # --- building ----------------------------------------------------------------------------
    def _add(
        self, form: QFormLayout, key: str, label: str, widget: QWidget, tip: str = ""
    ) -> QWidget:
        widget.setObjectName(key)
        if tip:
            widget.setToolTip(tip)
        form.addRow(label, widget)
        self._rows[key] = (form, widget)
        self._inputs.append(widget)
        setattr(self, key.replace(".", "_"), widget)
        return widget

    @staticmethod
    def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(6, 4, 6, 4)
        form.setVerticalSpacing(4)
        return box, form

    def _data_group(self) -> QGroupBox:
        box, f = self._group("Data")
        self._add(
            f,
            "data.name",
            "data set",
            _combo(DATASETS, DATASET_NAMES),
            "Which examples to learn from",
        )
        self._add(
            f, "data.n_samples", "samples", _spin(4, 100_000, 100), "Number of generated points"
        )
        self._add(
            f,
            "data.noise",
            "noise",
            _dspin(0.0, 5.0, 0.05, 2),
            "Noise added to the generated points",
        )
        self._add(f, "data.n_classes", "classes", _spin(2, 20), "Number of classes (spiral, blobs)")
        path = QWidget()
        row = QHBoxLayout(path)
        row.setContentsMargins(0, 0, 0, 0)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("data.path")
        self.path_edit.setPlaceholderText("file or folder")
        self.browse_button = QPushButton("\u2026")
        self.browse_button.setFixedWidth(28)
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        f.addRow("path", path)
        self._rows["data.path"] = (f, path)
        self._inputs.append(self.path_edit)
        # what the chosen source still needs, or why its file was not taken
        self.path_note = QLabel()
        self.path_note.setWordWrap(True)
        self.path_note.setTextFormat(Qt.TextFormat.PlainText)
        f.addRow(self.path_note)
        self._rows["data.path_note"] = (f, self.path_note)
        self._add(
            f,
            "data.label_column",
            "label column",
            QLineEdit(),
            "CSV: name or index of the label column (-1 = last)",
        )
        self._add(
            f,
            "data.test_fraction",
            "test fraction",
            _dspin(0.0, 0.9, 0.05, 2),
            "Share of the examples held out for the test accuracy",
        )
        self._add(
            f,
            "data.subset",
            "train subset",
            _spin(0, 1_000_000, 100, "all"),
            "Keep at most this many training examples",
        )
        self._add(
            f,
            "data.scaling",
            "scaling",
            _combo(SCALINGS, SCALING_NAMES, SCALING_HELP),
            "Feature scaling; auto = unit (pixels / 255) for MNIST, else standardize",
        )
        self._add(f, "data.seed", "data seed", _spin(0, 2**31 - 1), "Generation and split seed")
        return box

    def _model_group(self) -> QGroupBox:
        box, f = self._group("Architecture")
        self._add(
            f,
            "model.depth",
            "hidden layers",
            _spin(1, MAX_DEPTH),
            "Number of hidden layers (depth)",
        )
        self._add(
            f, "model.width", "units per layer", _spin(1, MAX_WIDTH), "Width of every hidden layer"
        )
        acts = {name: a.display for name, a in ACTIVATIONS.items()}
        self._add(
            f,
            "model.activation",
            "activation",
            _combo(acts, acts),
            "Activation of every hidden layer",
        )
        self._add(
            f,
            "model.leaky_slope",
            "negative slope",
            _dspin(0.0, 1.0, 0.01, 3),
            "Leaky ReLU: slope for z < 0",
        )
        self._add(
            f,
            "model.prelu_init",
            "initial slope",
            _dspin(0.0, 1.0, 0.05, 3),
            "PReLU: initial learnable slope for z < 0",
        )
        self._add(
            f,
            "model.elu_alpha",
            "alpha",
            _dspin(0.01, 10.0, 0.1, 2),
            "ELU: saturation value for z -> -inf",
        )
        self.per_layer = QCheckBox("set each layer")
        self.per_layer.setToolTip("Give every hidden layer its own width and activation")
        f.addRow("", self.per_layer)
        self._inputs.append(self.per_layer)
        self.layer_table = QTableWidget(0, 2)
        self.layer_table.setHorizontalHeaderLabels(["units", "activation"])
        self.layer_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.layer_table.verticalHeader().setDefaultSectionSize(24)
        self.layer_table.setMinimumHeight(120)
        f.addRow(self.layer_table)
        self._rows["model.layer_table"] = (f, self.layer_table)
        self._add(
            f,
            "model.loss",
            "output / loss",
            _combo(LOSSES, LOSS_NAMES),
            "Output activation and loss",
        )
        self._add(
            f,
            "model.dtype",
            "precision",
            _combo(DTYPES),
            "Floating-point type of the weights and activations",
        )
        return box

    def _init_group(self) -> QGroupBox:
        box, f = self._group("Initialisation")
        self._add(
            f,
            "model.init",
            "weights",
            _combo(INITIALIZERS, INIT_NAMES),
            "How the weights are drawn at the start",
        )
        self._add(
            f,
            "model.init_scale",
            "scale",
            _dspin(1e-4, 10.0, 0.01, 4),
            "Std of 'normal' / limit of 'uniform'",
        )
        self._add(
            f,
            "model.bias_init",
            "bias",
            _dspin(-5.0, 5.0, 0.1, 2),
            "Initial value of every hidden bias",
        )
        self._add(
            f,
            "training.seed",
            "weights seed",
            _spin(0, 2**31 - 1),
            "Seed of the weights, shuffling and dropout",
        )
        return box

    def _training_group(self) -> QGroupBox:
        box, f = self._group("Optimiser")
        self._add(f, "training.optimizer", "optimiser", _combo(OPTIMIZERS), "Update rule")
        self._add(
            f,
            "training.learning_rate",
            "learning rate (live)",
            SciSpinBox(1e-6, 10.0),
            "Step size; applies mid-run without rebuilding",
        )
        self._add(
            f,
            "training.momentum",
            "momentum",
            _dspin(0.0, 0.999, 0.05, 3),
            "Momentum / Nesterov coefficient",
        )
        self._add(f, "training.batch_size", "batch size", _spin(1, 4096), "Examples per mini-batch")
        self._add(
            f,
            "training.weight_decay",
            "weight decay",
            _dspin(0.0, 1.0, 1e-4, 5, "off"),
            "L2 penalty on the weights",
        )
        return box

    def _counter_group(self) -> QGroupBox:
        box, f = self._group("Countermeasures")
        self._add(
            f,
            "model.batch_norm",
            "batch norm",
            _combo(BATCH_NORM, BN_NAMES),
            "Normalise each layer's pre-activations (or outputs) over the batch",
        )
        self._add(
            f,
            "model.residual",
            "",
            QCheckBox("residual connections"),
            "a_k = f(z_k) + a_{k-1}: the identity path carries the gradient past f'",
        )
        self._add(
            f,
            "model.dropout",
            "dropout",
            _dspin(0.0, 0.95, 0.05, 2, "off"),
            "Probability of dropping each hidden unit during training",
        )
        self._add(
            f,
            "training.clip_norm",
            "clip norm",
            _dspin(0.0, 1000.0, 0.5, 3, "off"),
            "Rescale the whole gradient to at most this norm",
        )
        self._add(
            f,
            "training.clip_value",
            "clip value",
            _dspin(0.0, 1000.0, 0.5, 3, "off"),
            "Clip each gradient entry to [-v, v]",
        )
        return box

    def _align_labels(self) -> None:
        """One label column width for every group, so the fields line up."""
        forms = {form for form, _ in self._rows.values()}
        labels = [
            form.itemAt(i, QFormLayout.ItemRole.LabelRole)
            for form in forms
            for i in range(form.rowCount())
        ]
        labels = [item.widget() for item in labels if item is not None and item.widget()]
        width = max((lbl.sizeHint().width() for lbl in labels), default=0)
        for lbl in labels:
            lbl.setMinimumWidth(width)

    def _connect(self) -> None:
        source = self._w("data.name")
        for w in self._inputs:
            self._filter_keys(w)
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
    def _filter_keys(self, widget: QWidget) -> None:
        if isinstance(widget, QAbstractSpinBox | QComboBox):
            # the wheel scrolls the panel; it changes a value only once the field has focus
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        """Space and R are never part of a number: in a spin box they stay shortcuts.  Enter
        (take the value) and Escape (drop the typing) end an edit (``editing_done``).  An
        unfocused field ignores the wheel."""
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
            if event.key() == Qt.Key.Key_Escape:
                self._drop_typing(obj)
            QTimer.singleShot(0, self.editing_done.emit)  # after the field took the value
        elif (
            kind == QEvent.Type.Wheel
            and isinstance(obj, QAbstractSpinBox | QComboBox)
            and not obj.hasFocus()
        ):
            event.ignore()  # passed on to the scroll area
            return True
        return False

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
        return [
            (k, v)
            for k, v in self._rows.items()
            if k not in ("model.layer_table", "data.path_note")
        ]

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
            self._fill_table(config.model.layers())
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
        self.about_title.setText(f"{title} (modified)")
        self.about.setText(f"Now: {summary(config)}.\nChanged: " + "; ".join(shown) + ".")
        self.about.setToolTip(f"As loaded: {desc}" if desc else "")

    @staticmethod
    def _show(widget: QWidget, value) -> None:
        if isinstance(widget, QComboBox):
            _set_combo(widget, value)
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
            hidden = tuple(self._table_layers())
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

    # --- per-layer table ---------------------------------------------------------------------
    def _fill_table(self, layers: tuple[LayerConfig, ...]) -> None:
        t = self.layer_table
        blocker = QSignalBlocker(t)
        t.setRowCount(len(layers))
        for i, layer in enumerate(layers):
            self._table_row(i, layer)
        t.setVerticalHeaderLabels([f"h{i + 1}" for i in range(len(layers))])
        del blocker

    def _table_row(self, i: int, layer: LayerConfig) -> None:
        t = self.layer_table
        width = t.cellWidget(i, 0)
        act = t.cellWidget(i, 1)
        if width is None:
            width = _spin(1, MAX_WIDTH)
            width.valueChanged.connect(self._edited)
            act = _combo(ACTIVATIONS, {name: a.display for name, a in ACTIVATIONS.items()})
            act.currentIndexChanged.connect(self._edited)
            self._filter_keys(width)
            self._filter_keys(act)
            t.setCellWidget(i, 0, width)
            t.setCellWidget(i, 1, act)
        with QSignalBlocker(width), QSignalBlocker(act):
            width.setValue(layer.width)
            _set_combo(act, layer.activation or self._read(self._w("model.activation")))

    def _table_layers(self) -> list[LayerConfig]:
        t = self.layer_table
        return [
            LayerConfig(t.cellWidget(i, 0).value(), t.cellWidget(i, 1).currentData())
            for i in range(t.rowCount())
        ]

    def _sync_table(self, sender: QWidget | None) -> None:
        """Depth adds/removes rows; the global width/activation set every row."""
        depth = self._w("model.depth").value()
        width = self._w("model.width").value()
        act = self._w("model.activation").currentData()
        layers = self._table_layers()
        if sender is self.per_layer:  # just switched on: start from the global settings
            layers = []
        elif sender is self._w("model.width"):
            layers = [LayerConfig(width, la.activation) for la in layers]
        elif sender is self._w("model.activation"):
            layers = [LayerConfig(la.width, act) for la in layers]
        layers = (layers + [LayerConfig(width, act)] * depth)[:depth]
        self._fill_table(tuple(layers))

    # --- reactions ---------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Show only the settings that matter for the current choices."""
        name = self._read(self._w("data.name"))
        synthetic = name in SYNTHETIC
        self._visible("data.n_samples", synthetic)
        self._visible("data.noise", synthetic)
        self._visible("data.n_classes", name in ("spiral", "blobs"))
        self._visible("data.path", name in ("mnist", "csv"))
        self._visible("data.path_note", name in ("mnist", "csv") and bool(self.path_note.text()))
        self._visible("data.label_column", name == "csv")
        self._visible("data.test_fraction", name != "mnist")
        per_layer = self.per_layer.isChecked()
        acts = (
            {la.activation for la in self._table_layers()}
            if per_layer
            else {self._read(self._w("model.activation"))}
        )
        for act, (field, _) in ACT_PARAMS.items():
            self._visible(f"model.{field}", act in acts)
        self._rows["model.layer_table"][0].setRowVisible(self.layer_table, per_layer)
        init = self._read(self._w("model.init"))
        self._visible("model.init_scale", init in ("normal", "uniform"))
        opt = self._read(self._w("training.optimizer"))
        self._visible("training.momentum", opt in ("momentum", "nesterov"))

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
                _set_combo(loss, "mse")
            elif self._read(loss) == "mse":
                _set_combo(loss, "softmax_ce")
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
            self.error_label.setText("Not applied:\n" + "\n".join(e.errors))
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

    def show_rejected(self, message: str) -> None:
        """The last edit could not be built (e.g. a bad data file): keep it on show, so it
        can be corrected, and say why; the previous experiment keeps running."""
        self.error_label.setText("Not applied (the previous experiment keeps running):\n" + message)
        self.error_label.show()
        if message.startswith(DATA_ERROR) and self._read(self._w("data.name")) in ("csv", "mnist"):
            self.path_note.setText(message)
            self.path_note.setStyleSheet("color: #b71c1c;")
            self._refresh()
