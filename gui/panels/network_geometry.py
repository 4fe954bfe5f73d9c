"""Geometry and scales of the network diagram: Qt-free, so it can be tested without a display.

Where the columns and nodes go for a canvas size (:class:`ColumnLayout`), the shared log
colour scale of the edges (:func:`log_levels`, :func:`normalise`) and the texts under the
layers.  :mod:`gui.panels.network_canvas` paints with these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MAX_NODES = 16  # nodes drawn per column; wider layers say "+N more"
MIN_SPACING = 58.0  # px between columns before the canvas starts to scroll
MAX_SPACING = 170.0
MARGIN_X = 46.0
TOP = 44.0  # room for the activation name and the step-through arrow
BOTTOM = 66.0  # room for "+N more", the layer name and its gradient norm
N_BINS = 32  # colour/width bins of the edges
SCENE_INTERVAL = 0.4  # s: edges are redrawn at most this often while values drift
DECADES = 8  # widest span of the colour scale, in powers of ten


def log_levels(values: Sequence[np.ndarray]) -> tuple[float, float]:
    """(lo, hi) log10 range of the positive finite entries, widened to whole decades.

    Rounding to decades keeps the legend still while the values drift within a decade.
    """
    logs = [np.log10(v[np.isfinite(v) & (v > 0)]) for v in values if v is not None and v.size]
    logs = [v for v in logs if v.size]
    if not logs:
        return -6.0, 0.0
    p_lo, p_hi = np.percentile(np.concatenate(logs), [1.0, 99.5])
    hi = math.ceil(float(p_hi) - 1e-9)
    lo = math.floor(float(p_lo) + 1e-9)
    lo = max(lo, hi - DECADES)
    return float(min(lo, hi - 1)), float(hi)


def normalise(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """log10(values) mapped to [0, 1] on the decade range (lo, hi); non-positive -> 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (np.log10(values) - lo) / (hi - lo)
    return np.clip(np.nan_to_num(t, nan=0.0, neginf=0.0, posinf=1.0), 0.0, 1.0)


#: the text under a layer whose gradient no phase has computed yet (not a divergence)
NOT_COMPUTED = "\u2014"


def fmt_norm(v: float) -> str:
    """A gradient norm as the diagram prints it under its layer."""
    if not np.isfinite(v):
        return "NaN" if np.isnan(v) else "inf"
    return f"{v:.1e}" if v != 0 else "0"


class ColumnLayout:
    """Pixel geometry of the columns and nodes for one canvas size."""

    def __init__(self, n_drawn: Sequence[int], width: float, height: float):
        n_cols = len(n_drawn)
        avail = max(width - 2 * MARGIN_X, 1.0)
        self.spacing = float(np.clip(avail / max(n_cols - 1, 1), MIN_SPACING, MAX_SPACING))
        used = self.spacing * (n_cols - 1)
        x0 = MARGIN_X + max(0.0, (avail - used) / 2)
        self.xs = x0 + self.spacing * np.arange(n_cols)
        self.width = max(width, used + 2 * MARGIN_X)
        self.height = height
        top, bottom = TOP, height - BOTTOM
        self.node_step = min((bottom - top) / MAX_NODES, 26.0)
        self.radius = float(np.clip(self.node_step * 0.32, 2.5, 7.0))
        mid = (top + bottom) / 2
        self.ys = [mid + self.node_step * (np.arange(n) - (n - 1) / 2) for n in n_drawn]
        self.top, self.bottom = top, bottom

    def column_at(self, x: float) -> int:
        """Index of the column nearest ``x`` (within half a spacing), else -1."""
        if not len(self.xs):
            return -1
        i = int(np.argmin(np.abs(self.xs - x)))
        return i if abs(self.xs[i] - x) <= self.spacing / 2 else -1

    def lines(self, k: int) -> list[tuple[float, float, float, float]]:
        """Edges (x0, y0, x1, y1) from every drawn node of column k to every drawn node of
        column k+1."""
        x0, x1, r = self.xs[k], self.xs[k + 1], self.radius
        return [(x0 + r, y0, x1 - r, y1) for y0 in self.ys[k] for y1 in self.ys[k + 1]]

    def __repr__(self) -> str:
        return f"ColumnLayout({len(self.xs)} columns, spacing={self.spacing:.0f})"
