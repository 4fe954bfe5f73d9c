"""Compare mode: 2 to 8 variants of one experiment trained in lock-step on the same data.

A :class:`CompareSession` builds one :class:`~engine.session.Session` per variant.  The
variants share the base config's data, architecture and seed (so the only difference is the
countermeasure under study: activation, initialiser, batch norm, residual, clipping or
optimiser) and share ONE loaded :class:`~engine.datasets.Dataset` object::

    cs = CompareSession(base, ["model.activation=sigmoid,tanh,relu"])
    for _ in range(100):
        cs.step()                    # every variant takes the same mini-batch
    table = cs.summaries()           # name -> VariantSummary

:func:`summarize` and :func:`summary_rows` turn one run (live or finished) into the row of the
comparison table; the command line reuses them.  No Qt here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace

import numpy as np

from engine.config import (
    ConfigError,
    ExperimentConfig,
    LayerConfig,
    apply_overrides,
    did_you_mean,
)
from engine.session import LAYER_METRICS, Divergence, PhaseResult, Session, Snapshot

MIN_VARIANTS = 2
MAX_VARIANTS = 8
#: a first-layer gradient below this has, for practical purposes, vanished
VANISH_THRESHOLD = 1e-8
#: share of the recorded steps (at the end) whose median gives the "now" gradient ratio
FINAL_WINDOW = 0.1

#: fields a variant may change: none of them changes the data, the layer shapes or the seed
VARIABLE_FIELDS = (
    "model.activation",
    "model.init",
    "model.init_scale",
    "model.bias_init",
    "model.batch_norm",
    "model.residual",
    "model.dropout",
    "model.leaky_slope",
    "model.elu_alpha",
    "model.prelu_init",
    "training.optimizer",
    "training.learning_rate",
    "training.momentum",
    "training.rho",
    "training.beta1",
    "training.beta2",
    "training.epsilon",
    "training.weight_decay",
    "training.clip_norm",
    "training.clip_value",
    "training.bn_momentum",
)
_GRAD = LAYER_METRICS.index("grad_norm")

Variants = Mapping[str, Mapping[str, object]] | Iterable[str]


# ----------------------------------------------------------------------------- variants


def _resolve_key(key: str) -> str:
    """The full dotted name of a variable field (``activation`` -> ``model.activation``).

    Raises ValueError naming the field when it may not vary or does not exist.
    """
    key = key.strip()
    if key in VARIABLE_FIELDS:
        return key
    short = [f for f in VARIABLE_FIELDS if f.rsplit(".", 1)[1] == key]
    if len(short) == 1:
        return short[0]
    if _is_config_field(key):
        raise ValueError(
            f"{key}: cannot differ between compared variants (they must share data, "
            f"architecture and seed); vary one of: {', '.join(VARIABLE_FIELDS)}"
        )
    raise ValueError(
        f"{key}: unknown field{did_you_mean(key, VARIABLE_FIELDS)}; vary one of: "
        f"{', '.join(VARIABLE_FIELDS)}"
    )


def _is_config_field(key: str) -> bool:
    """Does dotted ``key`` (``model.hidden[0].width``, ``training.seed``) name a config field?"""
    node = ExperimentConfig()
    for part in key.replace("[", ".[").split("."):
        if part.startswith("["):
            continue  # an index into model.hidden: the field itself was checked above
        names = {f.name for f in fields(node)} if hasattr(node, "__dataclass_fields__") else ()
        if part not in names:
            return False
        node = getattr(node, part)
        if isinstance(node, tuple):  # model.hidden: look inside a layer table
            node = LayerConfig()
    return True


def _literal(value) -> str:
    """A Python value as the text of a ``key=value`` override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def expand_variants(base: ExperimentConfig, variants: Variants) -> dict[str, ExperimentConfig]:
    """name -> config of every variant, all checked before anything is built.

    ``variants`` is either ``{name: {"model.activation": "relu", ...}}`` or a list of
    ``"key=v1,v2"`` strings whose cartesian product is taken (names read
    ``activation=relu,init=he_normal``).  Keys may be given without their section
    (``activation``).  Raises ValueError (a :class:`~engine.config.ConfigError` for bad
    values) naming the field; 2 to 8 variants.
    """
    from engine.experiments import parse_vary

    if isinstance(variants, str):
        variants = [variants]
    configs: dict[str, ExperimentConfig] = {}
    errors: list[str] = []
    if isinstance(variants, Mapping):
        for name, changes in variants.items():
            sets = [f"{_resolve_key(k)}={_literal(v)}" for k, v in dict(changes).items()]
            try:
                configs[str(name)] = apply_overrides(base, sets, source=f"variant {name!r}")
            except ConfigError as e:
                errors += e.messages
    else:
        options = [(_resolve_key(k), values) for k, values in parse_vary(list(variants))]
        keys = [k for k, _ in options]
        if len(set(keys)) != len(keys):
            raise ValueError(f"each field may be varied once, got {', '.join(keys)}")
        shorts = [k.rsplit(".", 1)[1] for k in keys]  # the allowed names are unique
        count = math.prod(len(v) for _, v in options)
        if count > MAX_VARIANTS:  # counted before a single combination is built
            raise ValueError(
                f"compare: needs {MIN_VARIANTS} to {MAX_VARIANTS} variants, got {count}"
            )
        for combo in _product([v for _, v in options]):
            name = ",".join(f"{s}={v}" for s, v in zip(shorts, combo, strict=True))
            sets = [f"{k}={v}" for k, v in zip(keys, combo, strict=True)]
            try:
                configs[name] = apply_overrides(base, sets, source="--vary")
            except ConfigError as e:
                errors += [m for m in e.messages if m not in errors]
    if errors:
        raise ConfigError(errors)
    if not MIN_VARIANTS <= len(configs) <= MAX_VARIANTS:
        raise ValueError(
            f"compare: needs {MIN_VARIANTS} to {MAX_VARIANTS} variants, got {len(configs)}"
        )
    return {name: replace(cfg, name=name) for name, cfg in configs.items()}


def _product(lists: list[list[str]]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    for values in lists:
        out = [c + (v,) for c in out for v in values]
    return out


# ----------------------------------------------------------------------------- session


class CompareSession:
    """Several variants of one experiment, stepped together.

    Every variant takes the same mini-batch at every step (same data object, same seed, so
    the same shuffle).  A variant that diverges stops where it is; the others go on, and
    :attr:`divergences` reports it.
    """

    def __init__(self, base_config: ExperimentConfig, variants: Variants, dataset=None):
        self.base = base_config
        self.configs = expand_variants(base_config, variants)
        if dataset is None:
            from engine.datasets import load_dataset

            dataset = load_dataset(base_config.data, base_config.model.dtype)
        self.dataset = dataset
        self.sessions: dict[str, Session] = {
            n: Session(c, dataset) for n, c in self.configs.items()
        }
        self.step_count = 0
        #: first step at which each variant's first-layer gradient fell below the threshold
        self.vanish_steps: dict[str, int | None] = dict.fromkeys(self.sessions)
        self._step_seconds = math.inf  # seconds per lock-step, measured by run

    def __repr__(self) -> str:
        return (
            f"CompareSession({list(self.sessions)}, step={self.step_count}, "
            f"diverged={list(self.divergences)})"
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.sessions)

    @property
    def depth(self) -> int:
        return next(iter(self.sessions.values())).depth

    @property
    def steps_per_epoch(self) -> int:
        return next(iter(self.sessions.values())).steps_per_epoch

    @property
    def divergences(self) -> dict[str, Divergence]:
        """name -> where it diverged, for the variants that did."""
        return {n: s.divergence for n, s in self.sessions.items() if s.divergence is not None}

    @property
    def active(self) -> tuple[str, ...]:
        """Variants still training."""
        return tuple(n for n, s in self.sessions.items() if s.divergence is None)

    @property
    def diverged(self) -> bool:
        """True once every variant has diverged: nothing left to train (engine.steppable)."""
        return not self.active

    def _after_step(self, name: str, s: Session) -> None:
        if self.vanish_steps[name] is None and s.divergence is None:
            g = s.mtab[0, _GRAD]
            if g < VANISH_THRESHOLD:  # NaN compares False: a divergence is not vanishing
                self.vanish_steps[name] = s.step_count

    def step(self) -> bool:
        """One mini-batch for every variant still training.  False once all have diverged."""
        if not self.active:
            return False
        for name, s in self.sessions.items():
            if s.divergence is None:
                s.step()
                self._after_step(name, s)
        self.step_count += 1
        return bool(self.active)

    def run(self, n_steps: int, seconds: float | None = None) -> int:
        """Up to ``n_steps`` lock-steps; returns how many ran (as ``step()`` calls returning
        True would count them).

        Each variant runs its share through the many-step kernel (:meth:`Session.run`), so
        the numbers, divergences and vanishing steps equal those of ``n_steps`` calls of
        :meth:`step`.  ``seconds``: stop after about this long (at least one lock-step).
        """
        done, t0 = 0, time.perf_counter()
        while done < n_steps and self.active:
            size = n_steps - done
            if seconds is not None:
                left = seconds - (time.perf_counter() - t0)
                if done and left <= 0:
                    break
                size = min(size, max(1, int(left / self._step_seconds)))
            t = time.perf_counter()
            ran = max(
                self._run_variant(name, s, size)
                for name, s in self.sessions.items()
                if s.divergence is None
            )
            self._step_seconds = (time.perf_counter() - t) / ran
            self.step_count += ran
            done += ran if self.active else ran - 1  # the step that ended the last variant
        return done

    def _run_variant(self, name: str, s: Session, size: int) -> int:
        """Up to ``size`` steps of one variant, stopping once at its vanishing step to note
        it; returns the steps it took (a diverged one included)."""
        before = s.step_count
        while s.divergence is None and s.step_count - before < size:
            watching = self.vanish_steps[name] is None
            watch = (0, "grad_norm", VANISH_THRESHOLD) if watching else None
            s.run(size - (s.step_count - before), watch=watch)
            if watching and s.step_count > before:
                self._after_step(name, s)
        return s.step_count - before

    def step_phase(self) -> dict[str, PhaseResult | None]:
        """One phase (forward k / loss / backward k / update) for every variant still training.

        The variants have the same depth, so they are always at the same phase.
        """
        results: dict[str, PhaseResult | None] = {}
        finished = False
        for name, s in self.sessions.items():
            if s.divergence is not None:
                results[name] = None
                continue
            before = s.step_count
            results[name] = s.step_phase()
            if s.step_count != before:
                finished = True
                self._after_step(name, s)
        if finished:
            self.step_count += 1
        return results

    def next_phase(self) -> tuple[str, int]:
        """(phase, layer) the next :meth:`step_phase` runs."""
        for s in self.sessions.values():
            if s.divergence is None:
                return s.next_phase()
        return ("forward", 0)

    def snapshots(self, with_history: bool = True) -> dict[str, Snapshot]:
        """name -> Snapshot; the history holds grad_norm only (cheap enough for 30 fps)."""
        return {n: light_snapshot(s, with_history) for n, s in self.sessions.items()}

    def summaries(
        self, snapshots: Mapping[str, Snapshot] | None = None
    ) -> dict[str, VariantSummary]:
        """name -> the row of the comparison table (from ``snapshots`` if given)."""
        snaps = snapshots if snapshots is not None else self.snapshots()
        return {n: summarize(n, snaps[n], vanish_step=self.vanish_steps[n]) for n in snaps}


def light_snapshot(session: Session, with_history: bool = True) -> Snapshot:
    """``session.snapshot()`` whose history copies only the grad_norm column.

    ``Session.snapshot(with_history=True)`` copies all 15 metrics of the history; a
    comparison of eight variants redrawn many times a second needs just one.
    """
    snap = session.snapshot(with_history=False)
    if not with_history:
        return snap
    t, n = session.trace, session.trace.count
    arrays = dict(
        history_steps=t.steps[:n].copy(),
        history_grad_norm=t.rows[:n, :, _GRAD].copy(),
        history_scalars=session.scalar_trace.rows[: session.scalar_trace.count].copy(),
        eval_steps=session.eval_trace.steps[: session.eval_trace.count].copy(),
        eval_scalars=session.eval_trace.rows[: session.eval_trace.count].copy(),
    )
    for a in arrays.values():
        a.flags.writeable = False
    return replace(snap, **arrays)


# ----------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class VariantSummary:
    """One row of the comparison table."""

    name: str
    steps: int
    loss: float  # training loss, mean over the last 10% of recorded steps
    accuracy: float  # training accuracy, same window (NaN for regression)
    test_loss: float  # latest evaluation on the test split (NaN before the first)
    test_accuracy: float
    grad_ratio_initial: float  # ||dL/dW|| hidden 1 / hidden L at the first recorded step
    grad_ratio: float  # the same, median over the last 10% of recorded steps
    mean_saturation: float  # mean over hidden layers of the share of flat units (|f'| <= 1%)
    dead_fraction: float  # mean over hidden layers of the share of dead units
    vanish_step: int | None  # first step with ||dL/dW|| of hidden 1 < 1e-8; None = never
    diverged_step: int | None = None
    divergence: str = ""  # the divergence message, if any

    @property
    def diverged(self) -> bool:
        return self.diverged_step is not None

    @property
    def status(self) -> str:
        return f"diverged at step {self.diverged_step}" if self.diverged else "training"

    def cells(self) -> list[str]:
        """The row as text, in :data:`DISPLAY_HEADER` order."""
        vanish = "never" if self.vanish_step is None else str(self.vanish_step)
        return [
            self.name,
            str(self.steps),
            _num(self.loss, ".4g"),
            _num(self.accuracy, ".3f"),
            _num(self.test_accuracy, ".3f"),
            _num(self.grad_ratio_initial, ".2g"),
            _num(self.grad_ratio, ".2g"),
            _pct(self.mean_saturation),
            _pct(self.dead_fraction),
            vanish,
            self.status,
        ]

    def values(self) -> list:
        """The row as numbers (``"never"`` / ``""`` where there is none), CSV order."""
        return [
            self.name,
            self.steps,
            self.loss,
            self.accuracy,
            self.test_loss,
            self.test_accuracy,
            self.grad_ratio_initial,
            self.grad_ratio,
            self.mean_saturation,
            self.dead_fraction,
            "never" if self.vanish_step is None else self.vanish_step,
            "" if self.diverged_step is None else self.diverged_step,
        ]

    def __repr__(self) -> str:
        return (
            f"VariantSummary({self.name!r}, step={self.steps}, loss={self.loss:.4g}, "
            f"g1/gL={self.grad_ratio:.2g})"
        )


#: column titles of :meth:`VariantSummary.cells` (the app's table)
DISPLAY_HEADER = (
    "variant",
    "steps",
    "loss",
    "accuracy",
    "test acc",
    "g1/gL start",
    "g1/gL now",
    "saturated",
    "dead",
    f"g1 < {VANISH_THRESHOLD:g} at step",
    "status",
)
#: column names of :meth:`VariantSummary.values` (the CSV)
CSV_HEADER = (
    "variant",
    "steps",
    "loss",
    "accuracy",
    "test_loss",
    "test_accuracy",
    "grad_ratio_first_last_hidden_initial",
    "grad_ratio_first_last_hidden",
    "mean_saturation",
    "dead_fraction",
    "vanish_step",
    "diverged_step",
)


def _num(x: float, spec: str) -> str:
    return format(x, spec) if math.isfinite(x) else "\u2013"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if math.isfinite(x) else "\u2013"


def _ratio(a: float, b: float) -> float:
    """a / b, NaN unless both are finite and b > 0 (no warnings)."""
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return math.nan
    return float(a / b)


def _hidden_mean(values: np.ndarray) -> float:
    v = np.asarray(values[:-1], dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else math.nan


def first_below(
    steps: np.ndarray, values: np.ndarray, threshold: float = VANISH_THRESHOLD
) -> int | None:
    """The first of ``steps`` whose value is below ``threshold`` (NaN never is); None if none."""
    hit = np.flatnonzero(np.asarray(values) < threshold)
    return int(steps[hit[0]]) if hit.size else None


def summarize(
    name: str, session_or_snapshot: Session | Snapshot, *, vanish_step: int | None = None
) -> VariantSummary:
    """The comparison-table row of one run, from a live Session or a Snapshot with history.

    ``vanish_step`` overrides the step found in the history (a long history keeps every
    n-th step only; :class:`CompareSession` watches every step).
    """
    snap = session_or_snapshot
    if isinstance(snap, Session):
        snap = light_snapshot(snap)
    L = snap.depth
    steps = snap.history_steps if snap.history_steps is not None else np.zeros(0, np.int64)
    grad = snap.history_grad_norm if snap.history_grad_norm is not None else np.zeros((0, L + 1))
    scalars = snap.history_scalars if snap.history_scalars is not None else np.zeros((0, 4))
    last = max(L - 1, 0)  # last hidden layer (hidden 1 when L == 1)
    finite = grad[np.all(np.isfinite(grad), axis=1)] if len(grad) else grad
    if len(finite):
        n = max(1, math.ceil(FINAL_WINDOW * len(finite)))
        tail = np.median(finite[-n:], axis=0)
        ratio = _ratio(float(tail[0]), float(tail[last]))
        initial = _ratio(float(grad[0, 0]), float(grad[0, last]))
    else:
        g = snap.layers["grad_norm"]
        ratio = initial = _ratio(float(g[0]), float(g[last])) if snap.step else math.nan
    loss = acc = math.nan
    ok = np.isfinite(scalars[:, 0]) if len(scalars) else np.zeros(0, bool)
    if ok.any():
        n = max(1, math.ceil(FINAL_WINDOW * ok.sum()))
        loss = float(np.mean(scalars[ok, 0][-n:]))
        tail_acc = scalars[ok, 1][-n:]
        acc = float(np.mean(tail_acc)) if np.isfinite(tail_acc).all() else math.nan
    elif math.isfinite(snap.loss):
        loss, acc = snap.loss, snap.accuracy
    if vanish_step is None and len(steps):
        vanish_step = first_below(steps, grad[:, 0])
    div = snap.divergence
    return VariantSummary(
        name=name,
        steps=snap.step,
        loss=loss,
        accuracy=acc,
        test_loss=float(snap.test_loss),
        test_accuracy=float(snap.test_accuracy),
        grad_ratio_initial=initial,
        grad_ratio=ratio,
        mean_saturation=_hidden_mean(snap.layers["saturated"]),
        dead_fraction=_hidden_mean(snap.layers["dead"]),
        vanish_step=vanish_step,
        diverged_step=None if div is None else div.step,
        divergence="" if div is None else div.message,
    )


def summary_rows(
    summaries: Mapping[str, VariantSummary] | Iterable[VariantSummary],
) -> tuple[list[str], list[list]]:
    """(header, rows) of the comparison table for a CSV: one row per variant, numbers kept
    at full precision; ``vanish_step`` is ``never`` and ``diverged_step`` empty when absent."""
    items = summaries.values() if isinstance(summaries, Mapping) else summaries
    return list(CSV_HEADER), [s.values() for s in items]


# ----------------------------------------------------------------------------- theory


def theory_series(snapshot: Snapshot) -> dict[str, np.ndarray]:
    """Theory curves over the layers (L+1,) for the per-layer gradient chart.

    * ``"chain rule"``: ||dL/dW_k|| predicted from the factors the last step measured
      (:func:`engine.theory.chain_rule_prediction`);
    * ``"0.25^depth bound"`` (sigmoid hidden layers only): the output layer's gradient times
      0.25 per sigmoid layer back, the most that sigmoid' <= 1/4 lets through.

    Empty before the first step or after a divergence (nothing finite to predict from).
    """
    from engine import theory

    layers = snapshot.layers
    if snapshot.step == 0 or not np.all(np.isfinite(layers["grad_norm"])):
        return {}
    out: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        pred = theory.chain_rule_prediction(
            layers, snapshot.widths, max(snapshot.batch_size, 1), snapshot.input_norm
        )
    if np.all(np.isfinite(pred)):
        out["chain rule"] = pred
    if snapshot.depth >= 1 and all(a == "sigmoid" for a in snapshot.activations[:-1]):
        L = snapshot.depth
        out["0.25^depth bound"] = theory.sigmoid_bound(float(layers["grad_norm"][L]), L, L)
    return out
