"""What the Recurrent window shows, as plain numbers: the frame of a recurrent comparison and
the arrays and text of each of its panels.  Qt-free (tested without a display).

The window runs 1 to 3 cells (vanilla RNN, LSTM, GRU) of one recurrent config in lock-step
(:class:`engine.compare.CompareSession` with ``recurrent.cell=...`` variants); a
:class:`RecurrentFrame` carries each cell's :class:`~engine.recurrent.RecurrentSnapshot`
under its display name ("RNN", "LSTM", "GRU") and its
:class:`~engine.recurrent.experiment.RecurrentResult`, whose summary row is the one
``vglab compare`` prints for a recurrent preset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.config import ExperimentConfig
from engine.recurrent.experiment import (
    TABLE_HEADER,
    RecurrentResult,
    baseline,
    summary_rows,
    time_labels,  # noqa: F401 (the heatmap's rows: t=1 .. t=T)
)
from engine.recurrent.snapshot import RecurrentSnapshot, layer_name
from engine.snapshot import SCALARS
from gui.compare_view import SMOOTH, curve_series, smooth  # noqa: F401 (re-exported)

#: the cells the window offers, in colour and table order
CELLS = ("rnn", "lstm", "gru")
#: how the window names each cell (check boxes, legends, table rows)
CELL_LABELS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
#: the vary item of the cells ``cells`` (the one expander, engine.variants, reads it)
VARY_KEY = "recurrent.cell"
#: what a value not computed yet shows as (never "nan")
DASH = "\u2014"
#: the table's header: the CLI's (engine.recurrent.experiment.TABLE_HEADER), its last two
#: columns named for a window that is still training
DISPLAY_HEADER = (*TABLE_HEADER[:6], "dh1/dhT step 1", "dh1/dhT now")
#: the table's header tips, in DISPLAY_HEADER order
HEADER_TIPS = (
    "Cell (its colour in every chart)",
    "Mini-batches trained (the cells step together; a diverged one stops)",
    f"Training loss, mean of the last {10}% of the logged steps",
    "Loss over the test sequences at the last evaluation (adding: MSE)",
    "Test accuracy (adding: share of answers within 0.04; memory: share recalled)",
    "What a model that learnt nothing scores: MSE 0.167 (adding) or 1 / symbols (memory)",
    "||dL/dh_1|| / ||dL/dh_T|| of the top layer at step 1",
    "||dL/dh_1|| / ||dL/dh_T|| of the top layer at the last step (a dash while a "
    "step-through has not reached t=1)",
)


def vary_item(cells: Iterable[str]) -> str:
    """``recurrent.cell=rnn,lstm,gru`` of the chosen ``cells``."""
    return f"{VARY_KEY}={','.join(cells)}"


def label_of(variant: str) -> str:
    """The window's name of a comparison variant: ``cell=lstm`` -> ``LSTM``."""
    return CELL_LABELS.get(variant.rpartition("=")[2], variant)


def cell_color_index(cell: str) -> int:
    """Palette index of ``cell``: the same colour whichever cells run."""
    return CELLS.index(cell)


@dataclass(frozen=True)
class RecurrentFrame:
    """Everything the Recurrent window draws for one moment of the comparison."""

    generation: int  # bumps on every (re)build: the window resets its panels
    serial: int
    reason: str  # built / play / step / phase / idle
    running: bool
    step: int  # lock-steps
    steps_per_epoch: int
    names: tuple[str, ...]  # "RNN", "LSTM", "GRU" of the cells running, in CELLS order
    cells: dict  # name -> "rnn" / "lstm" / "gru"
    snapshots: dict  # name -> RecurrentSnapshot (with history)
    results: dict  # name -> RecurrentResult (the summary row)
    divergences: dict  # name -> RecurrentDivergence
    phase: str = "idle"  # "backward layer 1 t=7 (15/40)" during a step-through
    base: ExperimentConfig | None = None

    @property
    def seq_len(self) -> int:
        return next(iter(self.snapshots.values())).seq_len if self.snapshots else 0

    def __repr__(self) -> str:
        return (
            f"RecurrentFrame(gen={self.generation}, serial={self.serial}, step={self.step}, "
            f"cells={list(self.names)}, phase={self.phase!r})"
        )


def result_of(
    name: str, config: ExperimentConfig, snap: RecurrentSnapshot, data: str
) -> RecurrentResult:
    """The CLI's :class:`RecurrentResult` of a snapshot taken mid-run: the training curve from
    its history, the vanishing ratio at step 1 from the history's first row (the history
    always keeps it: engine.history.Trace drops every other row, never the first)."""
    steps = np.asarray(snap.history_steps, dtype=np.float64)
    scalars = np.asarray(snap.history_scalars, dtype=np.float64).reshape(len(steps), len(SCALARS))
    rows = (
        np.column_stack([steps, scalars[:, 0], scalars[:, 1]]) if len(steps) else np.zeros((0, 3))
    )
    first = len(steps) and steps[0] == 1
    initial = np.array(snap.history_grad_h[0]) if first else np.full(snap.seq_len, np.nan)
    return RecurrentResult(
        name, config, snap, ("step", "loss", "accuracy"), rows, config.training.steps, 0.0, data,
        initial_grad_h=initial,
    )  # fmt: skip


def recurrent_frame(cs, info, phase: str) -> RecurrentFrame:
    """The frame of a recurrent CompareSession ``cs`` now (``phase``: its step-through)."""
    names, cells, snaps, results = [], {}, {}, {}
    for key, s in cs.sessions.items():
        cell = cs.configs[key].recurrent.cell
        name = CELL_LABELS[cell]
        snap = s.snapshot(with_history=True)
        names.append(name)
        cells[name], snaps[name] = cell, snap
        results[name] = result_of(name, cs.configs[key], snap, s.data.description)
    labelled = {CELL_LABELS[cs.configs[k].recurrent.cell]: d for k, d in cs.divergences.items()}
    return RecurrentFrame(
        info.generation, info.serial, info.reason, info.running,
        cs.step_count, cs.steps_per_epoch, tuple(names), cells, snaps, results, labelled,
        phase, cs.base,
    )  # fmt: skip


# ----------------------------------------------------------------------------- panels


def time_axis(T: int) -> np.ndarray:
    """t = 1 .. T, the x of the curves through time."""
    return np.arange(1, T + 1, dtype=np.float64)


def through_time(frame: RecurrentFrame, layer: int = -1) -> dict[str, tuple]:
    """name -> (t, ||dL/dh_t||) of ``layer``: the headline curve.  Before the first step the
    cell has no line; during a step-through the steps not reached yet are gaps (NaN); a
    diverged cell is named with its step and drawn as a gap."""
    series = {}
    for n in frame.names:
        snap = frame.snapshots[n]
        d = frame.divergences.get(n)
        values = snap.grad_h[layer]
        if snap.step == 0 and snap.phase == "idle":
            values = np.zeros(0)
        if d is not None:
            series[f"{n} \u2014 diverged at step {d.step}"] = (
                time_axis(snap.seq_len),
                values * np.nan,
            )
        else:
            series[n] = (time_axis(len(values)) if len(values) else values, values)
    return series


def gate_series(frame: RecurrentFrame, layer: int = -1) -> dict[str, tuple]:
    """ "LSTM: mean forget gate f_t" -> (t, batch mean of the carrier per time step)."""
    out = {}
    for n in frame.names:
        snap = frame.snapshots[n]
        if (snap.step == 0 and snap.phase == "idle") or n in frame.divergences:
            continue  # no forward pass yet, or one that overflowed: nothing to trust
        out[f"{n}: {snap.carrier}"] = (time_axis(snap.seq_len), snap.gate_mean[layer])
    return out


def metric_series(frame: RecurrentFrame) -> tuple[str, dict[str, tuple], tuple[str, float]]:
    """(title, name -> (steps, values), (baseline label, value)) of the test metric: the test
    MSE for the adding problem, the test accuracy for the memory task."""
    base = frame.base
    what, value = baseline(base)
    adding = base.recurrent.task == "adding"
    col = 0 if adding else 1
    series = {}
    for n in frame.names:
        snap = frame.snapshots[n]
        if snap.eval_steps is not None and len(snap.eval_steps):
            series[n] = (snap.eval_steps, snap.eval_scalars[:, col])
    title = "Test MSE" if adding else "Test accuracy"
    line = (f"baseline (answer 1): {value:.3f}" if adding else f"chance: {value:.3f}", value)
    if not series:  # say why the chart is empty
        every = base.training.eval_every
        when = f"every {every} steps" if isinstance(every, int) and every > 0 else "now and then"
        title += f" (not evaluated yet: {when})"
    return title, series, line


def loss_series(frame: RecurrentFrame) -> dict[str, tuple]:
    """name -> (steps, training loss smoothed over SMOOTH logged steps)."""
    loss, _, _ = curve_series(frame)
    return loss


def number(x: float, spec: str = ".3g") -> str:
    """``x`` as text; a dash where it is not computed (NaN) or not finite."""
    return format(x, spec) if isinstance(x, (int, float)) and math.isfinite(x) else DASH


def table(frame: RecurrentFrame) -> tuple[tuple[str, ...], list[list[str]]]:
    """(header, rows as text) of the summary table: the CLI's recurrent table
    (:data:`DISPLAY_HEADER`); a dash where nothing is measured yet."""
    specs = (None, "d", ".4g", ".4g", ".3f", ".3g", ".2g", ".2g")
    rows = []
    for n in frame.names:
        row = frame.results[n].table_row()
        rows.append([row[0]] + [number(v, s) for v, s in zip(row[1:], specs[1:], strict=True)])
    return DISPLAY_HEADER, rows


def summary_csv(frame: RecurrentFrame) -> tuple[list[str], list[list]]:
    """(header, rows) of the summary as ``vglab compare`` writes summary.csv."""
    return summary_rows(frame.results[n] for n in frame.names)


def grad_h_table(frame: RecurrentFrame) -> tuple[list[str], list[list]]:
    """(header, rows) of ||dL/dh_t|| per time step (rows) for every cell and layer (columns),
    as of the frame (an empty cell where a step-through has not reached the step yet)."""
    header, columns = ["t"], []
    for n in frame.names:
        snap = frame.snapshots[n]
        for k in range(snap.depth):
            header.append(n if snap.depth == 1 else f"{n} {layer_name(k, snap.depth)}")
            columns.append(snap.grad_h[k])
    T = frame.seq_len
    rows = [[t + 1, *(("" if not math.isfinite(c[t]) else float(c[t])) for c in columns)]
            for t in range(T)]  # fmt: skip
    return header, rows


def status_text(frame: RecurrentFrame) -> str:
    """The status line: step, epoch, cells, sequence length, the phase, who diverged."""
    parts = [
        f"step {frame.step}",
        f"epoch {frame.step / max(frame.steps_per_epoch, 1):.2f}",
        ", ".join(frame.names),
        f"T = {frame.seq_len}",
    ]
    parts += [f"phase: {frame.phase}"] if frame.phase != "idle" else []
    parts += [f"diverged: {', '.join(frame.divergences)}"] if frame.divergences else []
    return "  \u00b7  ".join(parts)


def phase_time(frame: RecurrentFrame) -> int | None:
    """The 0-based time step the last backward phase computed (None otherwise)."""
    for n in frame.names:
        r = frame.snapshots[n].phase_result
        if r is not None and r.phase == "backward":
            return r.time
    return None


def base_text(base: ExperimentConfig) -> str:
    """One line of what every cell shares."""
    r, m, t = base.recurrent, base.model, base.training
    task = "adding problem" if r.task == "adding" else f"memory task ({r.n_symbols} symbols)"
    clip = f"clip norm {t.clip_norm:g}" if t.clip_norm > 0 else "no clipping"
    return (
        f"{task}, T = {r.seq_len} steps, {m.depth} layer{'s' * (m.depth != 1)} of {m.width} "
        f"units (RNN: {r.rnn_activation}), {t.optimizer} lr {t.learning_rate:g}, {clip}, "
        f"seed {t.seed}, {base.data.n_samples} sequences"
    )


def preset_cells(config: ExperimentConfig, vary: Iterable[str]) -> tuple[tuple[str, ...], str]:
    """(cells, what else the preset varies) of a recurrent preset or file for the window.

    The window runs the cells of ``recurrent.cell=...`` (else the config's own cell) at one
    setting of everything else; any other varied field (``recurrent.seq_len=10,20,50,100``)
    is named with the value it runs at, so the window says what it runs."""
    from engine.variants import parse_vary

    cells, others = (config.recurrent.cell,), []
    for key, values in parse_vary(vary):
        if key == VARY_KEY:
            cells = tuple(c for c in CELLS if c in values)
        else:
            from engine.config import fields

            now = fields.value_at(config, key)
            others.append(f"{key} over {', '.join(values)} (here: {now})")
    note = ""
    if others:
        note = (
            "This preset also varies " + "; ".join(others) + ". The window runs one setting "
            "at a time (change it in the setup); vglab compare runs every combination."
        )
    return cells, note
