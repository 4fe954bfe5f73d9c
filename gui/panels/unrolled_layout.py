"""Where the unrolled diagram puts things for one size: rows, boxes, strips and every text.

:class:`UnrolledLayout` is computed from an :class:`~gui.unrolled_view.UnrolledView`, the
widget's size and its font metrics; :class:`gui.panels.unrolled_diagram.UnrolledDiagram`
paints with it, hit-tests clicks and tooltips with it, and the tests read its texts to
check that no two overlap.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF

from gui import theme
from gui.panels.network_geometry import fmt_norm, normalise
from gui.unrolled_view import VALUE, UnrolledView

PAD = 6.0  # px around the diagram


class UnrolledLayout:
    """Where everything goes for one view at one size: rows, boxes, strips, texts.

    ``texts`` lists every text as (rect, text, role); roles pick font and colour when
    painting.  No two rects intersect (the tests check it).
    """

    def __init__(self, view: UnrolledView, w: float, h: float, fm: QFontMetricsF, bold):
        self.view, self.w, self.h, self.fm, self.bold = view, w, h, fm, bold
        self.fh = fm.height()
        self.texts: list[tuple[QRectF, str, str]] = []
        self.ramps: list[QRectF] = []  # the colour bar, then the gate strip's scale
        self.ramp_kinds: list[str] = []
        self.T, V = view.seq_len, view.n_rows
        self.top = PAD / 2 + self.fh + 6  # below the header line
        self.bottom = h - self.fh - 4  # above the time axis
        self.rh = max(self.bottom - self.top, 1.0) / max(V, 1)
        names = [bold.horizontalAdvance(r) for r in view.rows]
        names += [fm.horizontalAdvance(view.strip_name(i)) for i in range(V)] or [0.0]
        self.lw = min(max(names) + 10, 0.3 * w)
        self.rw = float(np.clip(0.05 * w, 26, 56)) if view.readout else 0.0
        self.x0 = PAD + self.lw
        self.x1 = w - PAD - (self.rw + 12 if view.readout else 0.0)
        self.pitch = max(self.x1 - self.x0, 1.0) / max(self.T, 1)
        p = self.pitch
        self.gap = 0.0 if p < 6 else 1.0 if p < 10 else min(0.3 * p, 28.0)
        self.rows = [self._row(i) for i in range(V)]
        self._header()
        self._row_labels()
        self._axis()
        self._box_values()
        self._readout_labels()

    # --- geometry ------------------------------------------------------------------------
    def _row(self, i: int) -> dict[str, float]:
        """Vertical places of row i: gate strip above the boxes, inputs below."""
        rh, y = self.rh, self.top + i * self.rh
        margin = min(5.0, 0.1 * rh)
        strip = float(np.clip(0.1 * rh, 3.0, 8.0))
        inputs = min(22.0, 0.25 * rh) if rh >= 72 and self.pitch >= 14 else 0.0
        box = min(rh - 2 * margin - strip - 2 - inputs, 90.0)
        used = strip + 2 + box + inputs
        y0 = y + (rh - used) / 2
        return dict(y=y, strip=y0, strip_h=strip, box=y0 + strip + 2, box_h=box, inputs=inputs)

    def col_x(self, t: int) -> float:
        """Left edge of time step t's column."""
        return self.x0 + t * self.pitch

    def box(self, r: int, t: int) -> QRectF:
        row = self.rows[r]
        return QRectF(self.col_x(t) + self.gap / 2, row["box"], self.pitch - self.gap, row["box_h"])

    def readout(self, r: int) -> QRectF:
        row = self.rows[r]
        return QRectF(self.w - PAD - self.rw, row["box"], self.rw, row["box_h"])

    def column_at(self, x: float, y: float) -> int:
        """0-based time step under (x, y), -1 outside the rows."""
        if self.T == 0 or not (self.x0 <= x < self.x1 and self.top <= y <= self.bottom):
            return -1
        return int(min((x - self.x0) // self.pitch, self.T - 1))

    def row_at(self, y: float) -> int:
        return int((y - self.top) // self.rh) if self.top <= y <= self.bottom else -1

    # --- texts -----------------------------------------------------------------------------
    def _free(self, rect: QRectF, margin: float, placed: list[QRectF]) -> bool:
        """Inside the widget and ``margin`` px clear of every rect in ``placed``."""
        grown = rect.adjusted(-margin, 0, margin, 0)
        inside = rect.left() >= 0 and rect.right() <= self.w
        return inside and not any(grown.intersects(r) for r in placed)

    def _add(self, rect: QRectF, text: str, role: str) -> None:
        self.texts.append((rect, text, role))

    def _header(self) -> None:
        """Right: the colour bar, then (when they fit) its legend, the "not computed yet"
        sample and the gate strip's scale; left: the caption, which keeps room for 160 px."""
        v, fm, y, fh = self.view, self.fm, PAD / 2, self.fh
        lo, hi = v.levels
        lo_t = ("\u2264" if v.below_scale else "") + theme.power_of_ten(int(round(lo)))
        right = self._ramp(self.w - PAD, lo_t, theme.power_of_ten(int(round(hi))), "bar")
        self.bar = self.ramps[-1]
        keep = min(self.bold.horizontalAdvance(v.caption) + 2, 160.0) + PAD + 12
        legend_w = fm.horizontalAdvance(v.legend) + 2
        if right - legend_w - 6 >= keep:
            right -= legend_w + 6
            self._add(QRectF(right, y, legend_w, fh), v.legend, "legend")
        sample_w = fm.horizontalAdvance(v.not_computed_text) + 2
        self.sample = QRectF()
        if right - sample_w - fh - 14 >= keep:
            right -= sample_w + 14
            self._add(QRectF(right, y, sample_w, fh), v.not_computed_text, "legend")
            self.sample = QRectF(right - fh + 2, y + 2, fh - 4, fh - 4)
            right = self.sample.left()
        g_lo, g_hi = (f"{x:g}" for x in v.gate_levels)
        gate_w = fm.horizontalAdvance(f"gate strip {g_lo}{g_hi}") + 60
        if right - gate_w - 14 >= keep:
            right = self._ramp(right - 14, g_lo, g_hi, "gate")
            text_w = fm.horizontalAdvance("gate strip") + 2
            right -= text_w + 4
            self._add(QRectF(right, y, text_w, fh), "gate strip", "legend")
        room = right - 12 - PAD
        if room >= 30:
            text = self.bold.elidedText(v.caption, Qt.TextElideMode.ElideRight, room)
            self._add(QRectF(PAD, y, self.bold.horizontalAdvance(text) + 2, fh), text, "caption")

    def _ramp(self, right: float, lo_t: str, hi_t: str, kind: str) -> float:
        """A colour ramp ending at ``right`` with its end labels; returns its left edge.
        The ramp's rect goes to ``ramps`` (``kind``: "bar" for ||dL/dh||, "gate")."""
        fm, y, fh = self.fm, PAD / 2, self.fh
        width = float(np.clip(0.16 * self.w, 40, 160)) if kind == "bar" else 36.0
        lo_w, hi_w = fm.horizontalAdvance(lo_t) + 2, fm.horizontalAdvance(hi_t) + 2
        self._add(QRectF(right - hi_w, y, hi_w, fh), hi_t, "bar")
        ramp = QRectF(right - hi_w - 4 - width, y + fh * 0.2, width, fh * 0.6)
        self.ramps.append(ramp)
        self.ramp_kinds.append(kind)
        left = ramp.left() - 4 - lo_w
        self._add(QRectF(left, y, lo_w, fh), lo_t, "bar")
        return left

    def _row_labels(self) -> None:
        """Row name (bold) and, when there is room, the gate strip's name under it."""
        fh, width = self.fh, self.lw - 8
        for i, row in enumerate(self.rows):
            mid = row["box"] + row["box_h"] / 2
            two = self.rh >= 2 * fh + 6
            y = mid - (fh if two else fh / 2)
            name = self.bold.elidedText(self.view.rows[i], Qt.TextElideMode.ElideRight, width)
            self._add(QRectF(PAD, y, width, fh), name, "row")
            if two:
                carrier = self.fm.elidedText(
                    self.view.strip_name(i), Qt.TextElideMode.ElideRight, width
                )
                self._add(QRectF(PAD, y + fh, width, fh), carrier, "carrier")
            if row["inputs"] > 0:
                y_in = row["box"] + row["box_h"] + row["inputs"] - self.fh
                self._add(QRectF(PAD, y_in, width, self.fh), "input x\u209c", "carrier")
            if self.view.messages[i]:
                self._message(i)

    def _message(self, i: int) -> None:
        row, w = self.rows[i], self.x1 - self.x0 - 8
        text = self.fm.elidedText(self.view.messages[i], Qt.TextElideMode.ElideRight, w)
        y = row["box"] + max(0.0, (row["box_h"] - self.fh) / 2)
        self._add(QRectF(self.x0 + 4, y, self.fm.horizontalAdvance(text) + 2, self.fh), text, "bad")

    def _axis(self) -> None:
        """Time labels: the current t first, then t=1, T and every k-th step that fits."""
        T, fm = self.T, self.fm
        if T == 0:
            return
        widest = fm.horizontalAdvance(str(T)) + 12
        k = theme.nice_step(T, max(1, int((self.x1 - self.x0) // widest)))
        order = [self.view.time] if self.view.time >= 0 else []
        order += [0, T - 1] + list(range(k - 1, T - 1, k))
        # the axis line lies below every row: its labels can only meet each other
        placed: list[QRectF] = []
        for t in dict.fromkeys(order):  # unique, in order of priority
            text = "t=1" if t == 0 else str(t + 1)
            tw = fm.horizontalAdvance(text) + 2
            cx = self.col_x(t) + self.pitch / 2
            rect = QRectF(cx - tw / 2, self.bottom + 2, tw, self.fh)
            if rect.left() < PAD / 2:
                rect.moveLeft(PAD / 2)
            if self._free(rect, 4.0, placed):
                placed.append(rect)
                self._add(rect, text, "now" if t == self.view.time else "axis")

    def _readout_labels(self) -> None:
        """ "loss" (or "L") in each read-out box, when it fits."""
        if not self.view.readout:
            return
        for r in range(self.view.n_rows):
            out = self.readout(r)
            text = "loss" if self.fm.horizontalAdvance("loss") + 4 <= out.width() else "L"
            if out.height() >= self.fh:
                tw = self.fm.horizontalAdvance(text) + 2
                rect = QRectF(
                    out.center().x() - tw / 2, out.center().y() - self.fh / 2, tw, self.fh
                )
                self._add(rect, text, "value-light")

    def _box_values(self) -> None:
        """||dL/dh_t|| printed inside boxes wide and tall enough (never in a diverged row)."""
        if not self.T or self.pitch - self.gap < self.fm.horizontalAdvance("8.8e-88") + 6:
            return
        shade = normalise(self.view.grad_h, *self.view.levels)
        for r in range(self.view.n_rows):
            if self.view.diverged[r] or self.rows[r]["box_h"] < self.fh + 2:
                continue
            states = self.view.states(r)
            for t in range(self.T):
                if states[t] == VALUE:
                    text = fmt_norm(float(self.view.grad_h[r, t]))
                    role = "value" if shade[r, t] > 0.6 else "value-light"  # viridis: dark low
                    b = self.box(r, t)
                    tw = self.fm.horizontalAdvance(text) + 2
                    rect = QRectF(
                        b.center().x() - tw / 2, b.center().y() - self.fh / 2, tw, self.fh
                    )
                    self._add(rect, text, role)
