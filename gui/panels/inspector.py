"""Layer inspector: the chain-rule factors of one layer, in numbers, with one-line meanings.

Backprop through hidden layer k multiplies two factors::

    delta_k  = (delta_{k+1} W_{k+1}^T) * f'(z_k)      incoming gradient x activation slope
    dL/dW_k  = a_{k-1}^T delta_k                       what the optimiser actually sees

The inspector lists them top to bottom in that order, so a student reads where the gradient
shrinks.  A dumb widget: :meth:`Inspector.set_data` takes plain numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from gui.i18n import QT_TRANSLATE_NOOP, Retranslatable, translate
from gui.inspector_model import format_value
from gui.panels.forms import fill_with_scroll

__all__ = ["ROWS", "Inspector", "format_value", "value_row"]

# key, symbol (rich text), one-line meaning, phase that computes it, format
ROWS = (
    (
        "weight_norm",
        "||W<sub>k</sub>||",
        QT_TRANSLATE_NOOP("Inspector", "size of this layer's weights"),
        "update",
        "e",
    ),
    (
        "incoming_norm",
        "||&delta;<sub>k+1</sub> W<sub>k+1</sub><sup>T</sup>||",
        QT_TRANSLATE_NOOP(
            "Inspector", "gradient arriving from the layer above (dL/da<sub>k</sub>)"
        ),
        "backward",
        "e",
    ),
    (
        "fprime_mean",
        "mean |f'(z<sub>k</sub>)|",
        QT_TRANSLATE_NOOP(
            "Inspector",
            "how much the activation lets through (at most its max |f'|: 0.25 for sigmoid)",
        ),
        "forward",
        "f",
    ),
    (
        "delta_norm",
        "||&delta;<sub>k</sub>||",
        QT_TRANSLATE_NOOP("Inspector", "= incoming &times; f'(z): the error signal at this layer"),
        "backward",
        "e",
    ),
    (
        "grad_norm",
        "||dL/dW<sub>k</sub>||",
        QT_TRANSLATE_NOOP(
            "Inspector",
            "= a<sub>k-1</sub><sup>T</sup> &delta;<sub>k</sub>: what the optimiser sees",
        ),
        "backward",
        "e",
    ),
    (
        "shrink",
        "||dL/dW<sub>k</sub>|| / ||dL/dW<sub>k+1</sub>||",
        QT_TRANSLATE_NOOP("Inspector", "gradient kept from the layer above (&lt; 1: vanishing)"),
        "backward",
        "f",
    ),
    (
        "update_ratio",
        "||&Delta;W|| / ||W||",
        QT_TRANSLATE_NOOP("Inspector", "relative size of the last update (~1e-3 is healthy)"),
        "update",
        "e",
    ),
    (
        "saturated",
        QT_TRANSLATE_NOOP("Inspector", "saturated"),
        QT_TRANSLATE_NOOP("Inspector", "units with |f'| &lt; 1% of its max: pass almost nothing"),
        "forward",
        "%",
    ),
    (
        "dead",
        QT_TRANSLATE_NOOP("Inspector", "dead"),
        QT_TRANSLATE_NOOP("Inspector", "units whose output is 0 for the whole batch"),
        "forward",
        "%",
    ),
    (
        "z_mean",
        "mean / std z<sub>k</sub>",
        QT_TRANSLATE_NOOP("Inspector", "pre-activations: far from 0 means saturation"),
        "forward",
        "z",
    ),
)
_PHASE_COLOR = {"forward": "#e8f5e9", "backward": "#fdecea", "update": "#e3f0fb", "loss": "#f1eaf7"}


def value_row(symbol: str = "", meaning: str = "") -> tuple[QFrame, QLabel, QLabel, QLabel]:
    """One row of numbers: (frame, symbol, value, meaning); the symbol and the meaning are
    rich text, the value is right-aligned, monospace and selectable."""
    frame = QFrame()
    inner = QGridLayout(frame)
    inner.setContentsMargins(6, 3, 6, 3)
    inner.setVerticalSpacing(0)
    name, value, note = QLabel(symbol), QLabel(), QLabel(meaning)
    name.setTextFormat(Qt.TextFormat.RichText)
    value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    value.setStyleSheet("font-family: monospace; font-weight: 600;")
    value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    note.setTextFormat(Qt.TextFormat.RichText)
    note.setWordWrap(True)
    note.setStyleSheet("color: #6b6b6b; font-size: 85%;")
    inner.addWidget(name, 0, 0)
    inner.addWidget(value, 0, 1)
    inner.addWidget(note, 1, 0, 1, 2)
    inner.setColumnStretch(0, 1)
    return frame, name, value, note


class Inspector(Retranslatable, QWidget):
    """The selected layer's shapes and chain-rule factors at the current phase."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.footer = QLabel()
        self.footer.setTextFormat(Qt.TextFormat.RichText)
        self.footer.setWordWrap(True)
        self.footer.setStyleSheet("color: #444;")
        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(0)
        self._rows: dict[str, tuple[QFrame, QLabel]] = {}
        self._words: list[tuple[QLabel, QLabel, str, str]] = []  # (name, note, symbol, meaning)
        for i, (key, symbol, meaning, _, _) in enumerate(ROWS):
            frame, name, value, note = value_row()
            self._words.append((name, note, symbol, meaning))
            frame.setObjectName("row")
            value.setText("\u2014")
            grid.addWidget(frame, i, 0)
            self._rows[key] = (frame, value)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(grid_host)
        layout.addWidget(self.footer)
        layout.addStretch(1)
        fill_with_scroll(self, body)
        self._selected = False
        self.retranslate_ui()
        self.reset()

    def retranslate_ui(self) -> None:
        """The rows' symbols and meanings (and the empty state) in the current language;
        the numbers and the note follow with the next frame."""
        for name, note, symbol, meaning in self._words:
            # symbols are formulas (kept as they are) or a word ("saturated")
            name.setText(translate("Inspector", symbol) if symbol.isalpha() else symbol)
            note.setText(translate("Inspector", meaning))
        if not self._selected:
            self._show_empty()

    def __repr__(self) -> str:
        return f"Inspector({self.header.text()[:40]!r})"

    def set_data(
        self,
        label: str,
        activation: str,
        shapes: Mapping[str, tuple[int, ...]],
        values: Mapping[str, float],
        phase: str | None = None,
        note: str = "",
    ) -> None:
        """Show layer ``label``.

        ``shapes``: e.g. {"W": (n_in, n_out), "z": (B, n_out)}; ``values``: metric name ->
        float, or None when not computed yet (keys of :data:`ROWS`; missing and None ones
        show a dash, NaN shows NaN; "z_mean" pairs with "z_std"); ``phase``: the phase the
        step-through just ran on this layer (its rows are tinted), None otherwise;
        ``note``: one extra line under the table.
        """
        self._selected = True
        times = " \u00d7 "
        shape_text = ", ".join(f"{k} {times.join(map(str, v))}" for k, v in shapes.items())
        act = f" &middot; {activation}" if activation else ""
        self.header.setText(
            f"<span style='font-size:115%'><b>{label}</b></span>{act}"
            f"<br><span style='color:#555'>{shape_text}</span>"
        )
        for key, _, _, row_phase, kind in ROWS:
            frame, value = self._rows[key]
            if kind == "z":
                text = (
                    f"{format_value(values.get('z_mean'), 'f')} / "
                    f"{format_value(values.get('z_std'), 'f')}"
                )
            else:
                text = format_value(values.get(key), kind)
            value.setText(text)
            tint = _PHASE_COLOR.get(phase or "", "") if row_phase == phase else ""
            self._tint(frame, tint)
        self.footer.setText(note)

    @staticmethod
    def _tint(frame: QFrame, tint: str) -> None:
        # style sheets are costly to apply: only touch them when the tint changes
        if frame.property("tint") != tint:
            frame.setProperty("tint", tint)
            frame.setStyleSheet(
                f"QFrame#row {{ background: {tint}; border-radius: 4px; }}" if tint else ""
            )

    def values(self) -> dict[str, str]:
        """Row key -> the value text shown (what the user reads)."""
        return {key: value.text() for key, (_, value) in self._rows.items()}

    def reset(self) -> None:
        """No layer selected yet."""
        self._selected = False
        self._show_empty()
        for frame, value in self._rows.values():
            value.setText("\u2014")
            self._tint(frame, "")
        self.footer.setText("")

    def _show_empty(self) -> None:
        title = translate("Inspector", "Layer inspector")
        hint = translate("Inspector", "Click a layer in the network to inspect it.")
        self.header.setText(f"<b>{title}</b><br><span style='color:#555'>{hint}</span>")
