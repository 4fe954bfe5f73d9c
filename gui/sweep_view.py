"""What the trainability-sweep heatmap shows, as arrays (Qt-free): the window and the CLI's
figure both draw a :class:`SweepView`.

The image is in *cell* coordinates (column i of the x field at x = i, row j of the depth at
y = j) so that unevenly spaced values still get equal cells; the curves (6 xi_c and xi_c,
in depth units) are mapped into the same coordinates by linear interpolation of the grid's
values (extrapolated beyond them, then held just outside the view).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.sweep import BOUNDARY_XI, SweepPlan, SweepResult
from engine.sweep_theory import Agreement, Prediction, agreement, agreement_text, predict

#: points of the smooth 6 xi_c curve when the x field is numeric and increasing
CURVE_POINTS = 161
TITLE = "Trainability: training accuracy after {steps} steps"
BOUNDARY_NAME = f"{BOUNDARY_XI:g} \u03bec (mean field)"
XI_NAME = "\u03bec"
DEEPEST_NAME = "deepest trainable (measured)"
DIVERGED_NAME = "diverged / failed"
#: axis titles of the fields a sweep usually varies (any other: its dotted name)
AXIS_NAMES = {
    "model.depth": "depth (hidden layers)",
    "model.sigma_w2": "\u03c3w\u00b2: weight variance \u00d7 fan-in (model.sigma_w2)",
    "model.sigma_b2": "\u03c3b\u00b2: bias variance (model.sigma_b2)",
}


@dataclass(frozen=True)
class SweepView:
    """Everything the heatmap draws, in cell coordinates."""

    accuracy: np.ndarray  # (n_x, n_y) final training accuracy; NaN: not run, diverged
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    x_label: str
    y_label: str
    curve_x: np.ndarray  # (k,) cell x of the curve points
    boundary_y: np.ndarray  # (k,) cell y of 6 xi_c (NaN: infinite)
    xi_y: np.ndarray  # (k,) cell y of xi_c
    deepest: tuple[np.ndarray, np.ndarray]  # cells of each column's deepest trainable net
    diverged: tuple[np.ndarray, np.ndarray]  # cells of diverged / failed nets
    title: str
    note: str  # the agreement (or why there is no prediction)

    def __repr__(self) -> str:
        return f"SweepView(shape={self.accuracy.shape}, curve={len(self.curve_x)} points)"


def _numbers(values) -> np.ndarray | None:
    """The grid's value texts as floats, or None when any is not a number."""
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        return None


def _to_cells(v: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Map values onto cell coordinates (linear, extrapolated), held within [-1, n]."""
    order = np.argsort(values)
    xs, idx = values[order], np.arange(len(values), dtype=float)[order]
    out = np.interp(v, xs, idx)
    if len(xs) > 1:
        lo_slope = (idx[1] - idx[0]) / (xs[1] - xs[0])
        hi_slope = (idx[-1] - idx[-2]) / (xs[-1] - xs[-2])
        out = np.where(v < xs[0], idx[0] + (v - xs[0]) * lo_slope, out)
        out = np.where(v > xs[-1], idx[-1] + (v - xs[-1]) * hi_slope, out)
    out = np.clip(out, -1.0, len(values))
    return np.where(np.isfinite(v), out, np.nan)


def smooth_prediction(plan: SweepPlan) -> Prediction:
    """6 xi_c on a fine grid across a numeric, increasing x field, else at the columns."""
    x = _numbers(plan.grid.values[0])
    if x is None or len(x) < 2 or np.any(np.diff(x) <= 0):
        return predict(plan)
    return predict(plan, np.linspace(x[0], x[-1], CURVE_POINTS))


def _ticks(values) -> list[tuple[float, str]]:
    step = max(1, math.ceil(len(values) / 12))
    return [(float(i), str(v)) for i, v in enumerate(values) if i % step == 0]


def _deepest(result: SweepResult, depths: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    ok = result.trainable()
    xs, ys = [], []
    for i, row in enumerate(ok):
        good = np.flatnonzero(row == 1.0)
        if len(good) and depths is not None:
            xs.append(i)
            ys.append(good[np.argmax(depths[good])])
    return np.array(xs, float), np.array(ys, float)


class AgreementCache:
    """:func:`~engine.sweep_theory.agreement` of a sweep, recomputed only when a whole
    column's results change: an unfinished column is "incomplete" whatever it holds, and
    the computation (a mean-field quadrature per column) is too slow for every redraw."""

    def __init__(self):
        self._plan: SweepPlan | None = None
        self._columns: tuple = ()
        self._value: Agreement | None = None

    def __repr__(self) -> str:
        return f"AgreementCache(columns={self._columns!r})"

    def __call__(self, result: SweepResult) -> Agreement:
        ok = result.trainable()
        columns = tuple(None if np.isnan(row).any() else tuple(row) for row in ok)
        if self._value is None or result.plan is not self._plan or columns != self._columns:
            self._plan, self._columns = result.plan, columns
            self._value = agreement(result)
        return self._value


def sweep_view(
    result: SweepResult,
    prediction: Prediction | None = None,
    agreements: AgreementCache | None = None,
) -> SweepView:
    """The view of ``result`` (partial or whole); ``prediction`` from
    :func:`smooth_prediction` (computed once per plan: it is the slow part); ``agreements``
    keeps the agreement between two views of one sweep."""
    plan = result.plan
    pred = prediction if prediction is not None else smooth_prediction(plan)
    (kx, ky), (vx, vy) = plan.grid.keys, plan.grid.values
    acc = result.grid_of("train_accuracy")
    depths = _numbers(vy)
    x_num = _numbers(vx)
    empty = np.zeros(0)
    curve_x = boundary = xi = empty
    if len(pred.x) and depths is not None and x_num is not None:
        curve_x = _to_cells(pred.x, x_num)
        boundary = _to_cells(pred.boundary, depths)
        xi = _to_cells(pred.xi_c, depths)
    bad = [(p.i, p.j) for p in result.diverged()]
    diverged = (np.array([b[0] for b in bad], float), np.array([b[1] for b in bad], float))
    # the CLI prints ASCII (xi_c); the window has the Greek letter of its legend and axes
    agrees = agreements(result) if agreements is not None else agreement(result)
    note = agreement_text(agrees).replace("xi_c", "\u03bec")
    if result.cancelled and not result.complete:
        note = f"{len(result.points)} of {acc.size} nets so far\n{note}"
    return SweepView(
        acc,
        _ticks(vx),
        _ticks(vy),
        AXIS_NAMES.get(kx, kx),
        AXIS_NAMES.get(ky, ky),
        curve_x,
        boundary,
        xi,
        _deepest(result, depths),
        diverged,
        TITLE.format(steps=plan.steps),
        note,
    )
