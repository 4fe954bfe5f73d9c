"""The trainability sweep against the mean field: 6 xi_c per column, the agreement, the table.

:func:`predict` gives xi_c (:func:`engine.meanfield.mean_field` for the swept activation and
the hidden layers' sigma_w^2, sigma_b^2 as :func:`engine.meanfield_net.model_points` reads
them from the config) along the x axis of a sweep whose y axis is the depth, or the reason
there is none.  :func:`agreement` compares each column's deepest trainable depth with
6 xi_c; :func:`agreement_text` is the line the CLI prints, the window shows and the README
quotes.  No Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.config import ExperimentConfig, updated
from engine.sweep import BOUNDARY_XI, DEPTH, PointResult, SweepPlan, SweepResult

# ----------------------------------------------------------------------------- prediction


@dataclass(frozen=True)
class Prediction:
    """6 xi_c for each value of the x axis (``x`` floats when the field is numeric), and
    ``reason`` when there is no prediction (then the arrays are empty)."""

    x: np.ndarray  # (n,) values of the first grid field
    xi_c: np.ndarray  # (n,) correlation depth scale, inf at the edge of chaos
    reason: str = ""

    @property
    def boundary(self) -> np.ndarray:
        return BOUNDARY_XI * self.xi_c

    def __repr__(self) -> str:
        return f"Prediction(n={len(self.x)}, reason={self.reason!r})"


def _why_not(plan: SweepPlan) -> str:
    """Why the mean field predicts no trainable depth for this grid ("" when it does)."""
    keys, m = plan.grid.keys, plan.base.model
    if keys[1] != DEPTH:
        return f"the predicted boundary is a depth: sweep {DEPTH} as one of the two fields"
    if DEPTH in keys[0] or keys[0].startswith("model.hidden"):
        return "the x axis changes the layers too"
    if m.hidden:
        return "model.hidden lists the layers: sweep model.depth with equal widths"
    if m.dropout > 0:
        return "dropout rescales each layer at random: not these maps"
    return ""


def _xi_c(config: ExperimentConfig) -> tuple[float, str]:
    """(xi_c, reason) of a config's hidden layers (reason "" when the maps apply)."""
    from engine.activations import get as get_activation
    from engine.activations import param_value
    from engine.meanfield import mean_field
    from engine.meanfield_net import model_points

    m = config.model
    sw2, sb2, reason = model_points(m, (m.width, m.width, m.width, 1))
    if reason:
        return math.nan, reason
    if m.residual:  # the skips keep correlations apart at any depth: no 6 xi_c boundary
        return math.nan, "residual connections: the 6 xi_c depth is for plain nets"
    if m.activation == "step":
        return math.nan, "step passes no gradient"
    param = param_value(get_activation(m.activation), m)
    return mean_field(m.activation, float(sw2[1]), sb2, param or None).xi_c, ""


def predict(plan: SweepPlan, x_values: Iterable[float] | None = None) -> Prediction:
    """xi_c along the x axis: at the grid's columns, or at ``x_values`` (a numeric x field:
    a smooth curve), from :func:`engine.meanfield.mean_field` for the swept activation."""
    reason = _why_not(plan)
    empty = np.zeros(0)
    if reason:
        return Prediction(empty, empty, reason)
    key = plan.grid.keys[0]
    column = [row[0] for row in plan.grid.configs]
    if x_values is not None:
        x = np.asarray(list(x_values), float)
        column = [updated(column[0], **{key: float(v)}) for v in x]
    else:
        x = np.array([_as_float(v) for v in plan.grid.values[0]])
    xi, reasons = zip(*(_xi_c(c) for c in column), strict=True)
    first = next((r for r in reasons if r), "")
    if first:
        return Prediction(empty, empty, first)
    return Prediction(x, np.array(xi, float))


def _as_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


# ----------------------------------------------------------------------------- agreement


@dataclass(frozen=True)
class Column:
    """One x value: the deepest trainable depth of the grid and 6 xi_c there.

    ``kind``: "bounded" (the boundary lies inside the grid: trainable at ``deepest``, not at
    the next depth up), "all" (trainable up to the deepest depth swept: a lower bound),
    "none" (not trainable even at the shallowest), "incomplete" (points missing).
    """

    x: str
    deepest: float  # NaN for "none" / "incomplete"
    predicted: float  # 6 xi_c (inf at the edge of chaos, NaN: no prediction)
    kind: str

    @property
    def ratio(self) -> float:
        """measured / predicted, for a bounded column with a finite prediction."""
        if self.kind != "bounded" or not 0 < self.predicted < math.inf:
            return math.nan
        return self.deepest / self.predicted


@dataclass(frozen=True)
class Agreement:
    """The columns and the factor: median and range of measured / predicted."""

    columns: tuple[Column, ...]
    reason: str = ""  # why there is no prediction

    @property
    def ratios(self) -> np.ndarray:
        r = np.array([c.ratio for c in self.columns], float)
        return r[np.isfinite(r)]

    @property
    def median(self) -> float:
        r = self.ratios
        return float(np.median(r)) if len(r) else math.nan

    @property
    def range(self) -> tuple[float, float]:
        r = self.ratios
        return (float(r.min()), float(r.max())) if len(r) else (math.nan, math.nan)


def agreement(result: SweepResult) -> Agreement:
    """For each x value the deepest trainable depth against 6 xi_c (see :class:`Column`)."""
    plan = result.plan
    pred = predict(plan)
    depths = np.array([_as_float(v) for v in plan.grid.values[1]])
    ok = result.trainable()
    columns = []
    for i, x in enumerate(plan.grid.values[0]):
        predicted = float(pred.boundary[i]) if len(pred.x) else math.nan
        row = ok[i]
        if np.isnan(row).any():
            columns.append(Column(x, math.nan, predicted, "incomplete"))
            continue
        good = depths[row == 1.0]
        if len(good) == 0:
            columns.append(Column(x, math.nan, predicted, "none"))
            continue
        deepest = float(good.max())
        kind = "all" if deepest >= depths.max() else "bounded"
        columns.append(Column(x, deepest, predicted, kind))
    return Agreement(tuple(columns), pred.reason)


def agreement_text(a: Agreement) -> str:
    """One or two lines: the factor, and what the other columns say."""
    if a.reason:
        return f"no mean-field prediction: {a.reason}"
    r = a.ratios
    kinds = [c.kind for c in a.columns]
    parts = []
    if len(r):
        lo, hi = a.range
        parts.append(
            f"deepest trainable depth / 6 xi_c: median {a.median:.2f}, range {lo:.2f}-{hi:.2f} "
            f"over {len(r)} column{'s' * (len(r) != 1)} with the boundary inside the grid"
        )
    elif kinds and all(k == "incomplete" for k in kinds):
        parts.append("no column finished yet: the factor comes with the first whole column")
    else:
        parts.append("no column has its trainable boundary inside the grid: no factor")
    extra = []
    for kind, words in (
        ("all", "trainable at every depth swept"),
        ("none", "trainable at no depth swept"),
        ("incomplete", "not finished"),
    ):
        n = kinds.count(kind)
        if n:
            extra.append(f"{n} {words}")
    infinite = sum(c.kind == "bounded" and c.predicted == math.inf for c in a.columns)
    if infinite:
        extra.append(f"{infinite} at the edge of chaos (6 xi_c infinite)")
    if extra:
        parts.append("other columns: " + "; ".join(extra))
    return "\n".join(parts)


# ----------------------------------------------------------------------------- table

COLUMNS = (
    "status",
    "trainable",
    "train_accuracy",
    "train_loss",
    "test_accuracy",
    "test_loss",
    "steps",
    "seconds",
    "xi_c",
    "boundary_6xi_c",
    "threshold",
    "message",
)


def sweep_rows(result: SweepResult) -> tuple[list[str], list[list]]:
    """(header, rows) of ``sweep.csv``: one row per grid point, "not run" where cancelled."""
    plan = result.plan
    pred = predict(plan)
    keys = list(plan.grid.keys)
    rows = []
    for i, x in enumerate(plan.grid.values[0]):
        xi = float(pred.xi_c[i]) if len(pred.x) else math.nan
        for j, y in enumerate(plan.grid.values[1]):
            p = result.points.get((i, j))
            if p is None:
                p = PointResult(i, j, "", "not run", 0, *(math.nan,) * 4, 0.0)
            trainable = int(p.trainable(plan.threshold)) if p.status != "not run" else ""
            rows.append(
                [x, y, p.status, trainable, p.train_accuracy, p.train_loss, p.test_accuracy]
                + [p.test_loss, p.steps, round(p.seconds, 3), xi, BOUNDARY_XI * xi]
                + [round(plan.threshold, 6), p.message]
            )
    return keys + list(COLUMNS), rows


def write_sweep_csv(result: SweepResult, path) -> object:
    """``sweep.csv``, atomically (:func:`engine.io.write_csv`)."""
    from engine.io import write_csv

    return write_csv(path, *sweep_rows(result))
