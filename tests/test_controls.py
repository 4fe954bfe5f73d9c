"""The experiment controls are built from the field table: same ranges, choices, tips."""

import pytest
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLineEdit, QWidget

from engine.config import ExperimentConfig, fields, updated
from gui.panels.controls import GROUPS, Controls

SHOWN = [key for _, keys in GROUPS for key in keys if key not in ("data.path", "model.hidden")]
WHEN = [key for key in SHOWN if fields.FIELDS[key].when is not None]


@pytest.fixture
def controls(qtbot):
    panel = Controls(ExperimentConfig())
    qtbot.addWidget(panel)
    return panel


def _check_control(widget, field: fields.Field) -> None:
    """``widget`` offers exactly what the table says."""
    if field.choices:
        assert isinstance(widget, QComboBox)
        items = [widget.itemData(i) for i in range(widget.count())]
        assert items == list(field.choices)
        texts = [widget.itemText(i) for i in range(widget.count())]
        assert texts == [field.names.get(c, c) for c in field.choices]
    elif isinstance(widget, QAbstractSpinBox):
        assert (widget.minimum(), widget.maximum()) == pytest.approx(field.span)
        if not field.log:
            assert widget.singleStep() == pytest.approx(field.step)
        assert widget.specialValueText() == field.off
    else:
        assert isinstance(widget, QCheckBox | QLineEdit)


@pytest.mark.parametrize("key", SHOWN)
def test_every_control_offers_the_tables_range_or_choices(controls, key):
    widget = controls.findChild(QWidget, key)
    field = fields.get(key)
    _check_control(widget, field)
    assert widget.toolTip() == field.help


def test_the_layer_table_cells_follow_the_uniform_fields(controls):
    controls.per_layer.setChecked(True)
    table = controls.layer_table
    assert table.rowCount() == ExperimentConfig().model.depth
    _check_control(table.cellWidget(0, 0), fields.FIELDS["model.width"])
    _check_control(table.cellWidget(0, 1), fields.FIELDS["model.activation"])


@pytest.mark.parametrize("key", WHEN)
def test_a_row_shows_only_while_its_field_matters(controls, key):
    source, values = fields.FIELDS[key].when
    others = [c for c in fields.FIELDS[source].choices if c not in values]
    widget = controls.findChild(QWidget, key)
    controls.set_config(updated(ExperimentConfig(), **{source: values[0]}))
    assert widget.isVisibleTo(controls)
    if others:
        controls.set_config(updated(ExperimentConfig(), **{source: others[0]}))
        assert not widget.isVisibleTo(controls)


def test_the_controls_show_a_config_and_give_it_back(controls):
    config = updated(
        ExperimentConfig(),
        **{"model.activation": "elu", "model.elu_alpha": 0.5, "training.optimizer": "adam"},
    )
    controls.set_config(config)
    assert controls.config() == config
