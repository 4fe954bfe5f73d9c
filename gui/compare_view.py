"""The compare window's numbers: what each of its panels shows for a compare frame.

Qt-free, like :mod:`gui.frame_view` for the main window (an import-linter contract keeps it
so): smoothing of the noisy per-batch curves, the curve series of every variant, the y range
that keeps a diverged variant from squashing the others, and the texts of the status line,
the table header tips and the base experiment.
"""

from __future__ import annotations

import html
import math

import numpy as np

from engine.compare import VANISH_THRESHOLD

#: points averaged in the loss / accuracy curves (a mini-batch loss alone is too noisy to
#: compare eight variants by eye)
SMOOTH = 10
HEADER_TIPS = (
    "Variant (its colour in every chart)",
    "Mini-batches trained (all variants step together; a diverged one stops)",
    "Training loss, mean of the last 10% of recorded steps",
    "Training accuracy, mean of the last 10% of recorded steps",
    "Loss on the whole test split at the latest evaluation",
    "Accuracy on the whole test split at the latest evaluation",
    "||dL/dW|| of hidden 1 / that of the last hidden layer at the first step: "
    "tiny = the gradient vanished on its way back",
    "The same ratio now (median over the last 10% of recorded steps)",
    "Share of hidden units with |f'(z)| <= 1% of the maximum (flat: they pass no gradient)",
    "Share of hidden units whose output is 0 for the whole batch (dead ReLU)",
    f"First step at which ||dL/dW|| of hidden 1 fell below {VANISH_THRESHOLD:g}",
    "training, or where it diverged",
)


def smooth(y: np.ndarray, window: int = SMOOTH) -> np.ndarray:
    """Trailing moving average over ``window`` points (fewer at the start); NaN stays NaN."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) < 2 or window <= 1:
        return y.copy()
    ok = np.isfinite(y)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    k = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    n = k[idx] - k[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[idx] - c[lo]) / n
    out[~ok] = np.nan
    return out


def curve_series(frame) -> tuple[dict, dict, bool]:
    """(loss, accuracy, any_eval): name -> (steps, values) of every variant.

    The loss is the smoothed per-batch loss; the accuracy is the test accuracy where the
    variants were evaluated (``any_eval``), else the smoothed per-batch accuracy.
    """
    loss, acc = {}, {}
    for name in frame.names:
        snap = frame.snapshots[name]
        steps = snap.history_steps
        if steps is not None and len(steps):
            loss[name] = (steps, smooth(snap.history_scalars[:, 0]))
        if snap.eval_steps is not None and len(snap.eval_steps):
            acc[name] = (snap.eval_steps, snap.eval_scalars[:, 1])
        elif steps is not None and len(steps):
            acc[name] = (steps, smooth(snap.history_scalars[:, 1]))
    any_eval = any(s.eval_steps is not None and len(s.eval_steps) for s in frame.snapshots.values())
    return loss, acc, any_eval


def y_range(curves: list[np.ndarray], log_y: bool) -> tuple[float, float] | None:
    """The padded y range (log10 units on a log axis) that fits ``curves``; None if empty."""
    values = (
        np.concatenate([np.asarray(c, dtype=np.float64) for c in curves]) if curves else np.zeros(0)
    )
    values = values[np.isfinite(values) & ((values > 0) if log_y else True)]
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    if log_y:
        lo, hi = math.log10(lo), math.log10(hi)
    pad = max(0.05 * (hi - lo), 0.05)
    return lo - pad, hi + pad


def table_cells(summary, running: bool) -> list[str]:
    """A variant's row of the table; a variant between steps while nothing plays is paused."""
    cells = summary.cells()
    if not running and cells[-1] == "training":
        cells[-1] = "paused"
    return cells


def status_text(frame) -> str:
    """The status line: step, epoch, variants, the phase and who diverged."""
    text = (
        f"step {frame.step}  \u00b7  epoch {frame.epoch:.2f}  \u00b7  {len(frame.names)} variants"
    )
    if frame.phase != "idle":
        text += f"  \u00b7  phase: {frame.phase}"
    if frame.divergences:
        text += f"  \u00b7  diverged: {', '.join(frame.divergences)}"
    return text


def base_text(base) -> str:
    """Rich text describing the base experiment every variant shares."""
    m, d = base.model, base.data
    layers = m.layers()
    widths = (
        "\u00d7".join(str(h.width) for h in layers)
        if m.hidden
        else f"{len(layers)} \u00d7 {m.width}"
    )
    return (
        f"<b>Base:</b> {html.escape(base.name)} \u2014 data <i>{d.name}</i>, "
        f"hidden layers {widths} "
        f"({m.activation}, {m.init}), {base.training.optimizer} lr "
        f"{base.training.learning_rate:g}, batch {base.training.batch_size}, seed "
        f"{base.training.seed}. Shared by every variant."
    )


def first_line(text: str) -> str:
    """The first line of ``text``, cut to 140 characters."""
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 140 else line[:137] + "\u2026"
