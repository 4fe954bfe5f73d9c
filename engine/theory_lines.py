"""The theory line of the per-layer gradient chart: the mean field at initialisation.

One line, ``"mean field at init (random weights)"``: ||dL/dW_l|| of the hidden layers as
the mean-field theory predicts it for the *random initial* weights
(:mod:`engine.meanfield_net`), anchored to the measured last hidden layer of the first
recorded step (step 1).  It is a prediction about the init, not about trained weights, so it
never chases the training: after step 1 it stays where step 1 put it (the label says "at
init"), and the data moving away from it is training, not a failure of the theory.

Per example b of the data, with its own q_in,b = ||x_b||^2 / n_in, the length map gives q_l,b
and, by the module doc of :mod:`engine.meanfield_net`,

    ||dL/dW_l||_b^2 ~ ||a_{l-1,b}||^2 E[f_l'^2] prod_{k=l+1}^{L-1} (chi(q_k,b) + r_k) ||g_b||^2,

chi(q_k) = sigma_w^2[k] E[f_k'(sqrt(q_k) z)^2], r_k = 1 where layer k has a skip connection
(0 without), g_b = dL/da_{L-1} of example b.  The line is sqrt of the mean over examples
(one quantile per 1/16 of the data's q_in), taking ||delta_out||^2 equal across examples (an
assumption: it is the loss's) and leaving out a batch's cross-example terms.  Finite width
adds noise of ~1 / sqrt(width) per layer: below :data:`WIDE_WIDTH` the line's name says
"wide-net limit" (measured agreement: README, "The theory line of the gradient chart";
tools/theory_agreement.py).  Where the maps do not hold (batch norm, a constant bias,
dropout) there is no line, and :class:`TheoryLines` says why in a few words.
"""

from __future__ import annotations

import functools
import math
import weakref
from dataclasses import dataclass, field

import numpy as np

from engine.activations import get as get_activation
from engine.activations import param_value
from engine.meanfield import _fns
from engine.meanfield_net import grad_sq_profile, mean_f, model_points, residual_skips

#: the curve's name in the chart's legend and in ``TheoryLines.curves``
LABEL = "mean field at init (random weights)"
#: below this hidden width the line carries the wide-net caveat in its name (see README)
WIDE_WIDTH = 128
WIDE_LABEL = "mean field at init (wide-net limit)"
#: quantiles of the data's q_in the line averages over
N_QUANTILES = 16


@dataclass(frozen=True)
class TheoryLines:
    """The theory curves of the gradient chart, name -> (L+1,) (NaN where none: the output
    layer), and ``reason``: why there is no line ("" when there is one or it is too early)."""

    curves: dict = field(default_factory=dict)
    reason: str = ""

    def __repr__(self) -> str:
        return f"TheoryLines(curves={list(self.curves)}, reason={self.reason!r})"


def input_q(X: np.ndarray, n: int = N_QUANTILES) -> tuple[tuple[float, float], ...]:
    """``n`` (q_in, m_in) of inputs ``X``: the mid-quantiles of the per-example mean square
    ||x||^2 / n_in, each with the mean over the examples of its 1/n of the data of the
    per-example mean of x (which a skip connection at the first layer carries forward)."""
    X = np.asarray(X, np.float64)
    q = np.sum(X**2, axis=1) / max(X.shape[1], 1)
    if q.size == 0:
        return ()
    m = X.mean(axis=1) if X.shape[1] else np.zeros(len(X))
    order = np.argsort(q, kind="stable")
    bins = np.array_split(order, n)
    mids = np.quantile(q, (np.arange(n) + 0.5) / n)
    pairs = zip(mids, bins, strict=True)
    return tuple((float(v), float(m[b].mean()) if b.size else 0.0) for v, b in pairs)


def not_covered(model, activations) -> str:
    """Why the maps miss a net beyond model_points' reasons ("" when they do not)."""
    if model.dropout > 0:
        return "dropout rescales each layer at random"
    if "step" in activations[:-1]:
        return "step passes no gradient"
    return ""


@functools.lru_cache(maxsize=64)
def _profile(acts, params, sw2, sb2, skips, widths, q_in) -> np.ndarray:
    """Predicted ||dL/dW_l|| / ||dL/dW_{L-1}||, l = 0..L-1, averaged over the (q_in, m_in)
    pairs (see module); ``widths``: (n_in, N_0, .., N_{L-1}, n_out)."""
    q, m = np.asarray(q_in, float).T  # (E,) each
    grad_sq = grad_sq_profile(acts, params, sw2, sb2, skips, widths[:-1], q, m).mean(axis=1)
    with np.errstate(all="ignore"):
        return np.sqrt(grad_sq / grad_sq[-1])


#: why a residual net of a non-centred activation trained on batches gets no line: the skips
#: carry each layer's mean E[f] forward, so every pair of examples shares a growing component
#: and the cross-example terms (a_b . a_b')(delta_b . delta_b') the maps leave out dominate
#: (drawn anyway, sigmoid / ReLU / ELU nets at batch 32 were 0.18-0.45 decades off in
#: ``tools/theory_agreement.py residual``; tanh stays within 0.03 and keeps its line)
RESIDUAL_BATCH = "residual net of a non-centred activation at batch > 1 (cross-example terms)"


@functools.lru_cache(maxsize=64)
def _centred(acts, params) -> bool:
    """E[f(z)] = 0 for z ~ N(0, 1) for every hidden activation (tanh yes, ReLU no); cached:
    the chart asks at every frame."""
    return all(
        abs(float(mean_f(_fns(a, p)[0], 1.0))) < 1e-9 for a, p in zip(acts, params, strict=True)
    )


def init_profile(model, activations, widths, q_in, batch: int = 1) -> tuple[np.ndarray | None, str]:
    """(profile (L,) or None, reason) of a ``ModelConfig`` with hidden ``activations`` (L,),
    ``widths`` (n_in, N_0, .., N_{L-1}, n_out), the data's ``q_in`` (:func:`input_q`) and
    the training ``batch`` size."""
    widths = tuple(int(w) for w in widths)
    sw2, sb2, why = model_points(model, widths)
    why = why or not_covered(model, tuple(activations) + ("",))
    if sb2 is None or why:
        return None, why
    if not q_in or len(widths) < 3:
        return None, "no hidden layer" if len(widths) < 3 else "no data"
    acts = tuple(activations)
    params = tuple(param_value(get_activation(a), model) for a in acts)
    skips = residual_skips(model, widths)
    if any(skips) and batch != 1 and not _centred(acts, params):
        return None, RESIDUAL_BATCH
    sw2 = tuple(float(s) for s in sw2)
    prof = _profile(acts, params, sw2, float(sb2), skips, widths, tuple(q_in))
    if not np.all(np.isfinite(prof)) or not np.all(prof > 0):
        return None, "the prediction vanishes (no gradient passes)"
    return prof.copy(), ""


def first_step_grad(snapshot) -> np.ndarray | None:
    """||dL/dW|| (L+1,) of step 1: the first history row, or the layers at step 1."""
    steps, grad = snapshot.history_steps, snapshot.history_grad_norm
    if steps is not None and grad is not None and len(steps) and steps[0] == 1:
        return np.asarray(grad[0], float)
    if snapshot.step == 1:
        return np.asarray(snapshot.layers["grad_norm"], float)
    return None


def theory_lines(snapshot, model, q_in, n_in: int, batch: int = 1) -> TheoryLines:
    """The gradient chart's theory line for a Snapshot of a net built from ``model``.

    ``q_in``: :func:`input_q` of the training inputs, ``n_in``: their width, ``batch``: the
    training batch size.  Before the first
    step there is no anchor yet: no line and no reason.  After it the line is the init
    prediction anchored at step 1, drawn unchanged for the rest of the run.
    """
    L = snapshot.depth
    widths = (n_in, *snapshot.widths)
    prof, why = init_profile(model, snapshot.activations[:-1], widths, q_in, batch)
    if prof is None:
        return TheoryLines({}, f"no mean-field line: {why}")
    grad = first_step_grad(snapshot)
    if grad is None:
        if snapshot.step == 0:
            return TheoryLines({}, "")
        return TheoryLines({}, "no mean-field line: step 1 was not recorded")
    anchor = grad[L - 1]
    if not (math.isfinite(anchor) and anchor > 0):
        return TheoryLines({}, "no mean-field line: step 1's last hidden gradient is not > 0")
    narrow = min(snapshot.widths[:-1]) < WIDE_WIDTH
    return TheoryLines({WIDE_LABEL if narrow else LABEL: np.append(prof * anchor, np.nan)})


_Q_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def session_lines(session, snapshot=None) -> TheoryLines:
    """:func:`theory_lines` of an ``engine.session.Session`` (its Snapshot unless given;
    the input quantiles are computed once per session)."""
    q_in = _Q_CACHE.get(session)
    if q_in is None:
        q_in = _Q_CACHE[session] = input_q(session.X)
    snap = session.snapshot() if snapshot is None else snapshot
    batch = session.config.training.batch_size
    return theory_lines(snap, session.config.model, q_in, session.X.shape[1], batch)
