"""Fused paths: a whole forward pass, a whole backward pass, one training step, many steps.

:func:`train_step` calls the very same phase kernels as the step-through stepper, so the two
paths give bit-identical numbers by construction; :func:`train_steps` runs many such steps in
one call, gathering each mini-batch itself.
"""

from __future__ import annotations

import math

from engine.kernels.layers import backward_layer, forward_layer
from engine.kernels.layout import H_LR, H_T, K_MASK, borrowed, jit, view
from engine.kernels.loss import loss_phase
from engine.kernels.optim import update


@jit
def forward_loss(X, T, params, itab, ftab, ws, bns, mtab, hp, ip, out, status):
    """Every forward phase, then the loss phase."""
    for k in range(itab.shape[0]):
        if not forward_layer(k, X, params, itab, ftab, ws, bns, mtab, hp, ip, status):
            return False
    return loss_phase(T, params, itab, ws, hp, ip, out, status)


@jit
def backward(X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
    """Every backward phase, output layer first."""
    for k in range(itab.shape[0] - 1, -1, -1):
        if not backward_layer(k, X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
            return False
    return True


@jit
def train_step(X, T, params, grads, m, v, itab, ftab, ws, bns, mtab, hp, ip, out, status):
    """One mini-batch: forward, loss, backward, update; stops at the first NaN/Inf."""
    return _step(
        borrowed(X),
        borrowed(T),
        borrowed(params),
        borrowed(grads),
        borrowed(m),
        borrowed(v),
        borrowed(itab),
        borrowed(ftab),
        borrowed(ws),
        borrowed(bns),
        borrowed(mtab),
        borrowed(hp),
        borrowed(ip),
        borrowed(out),
        borrowed(status),
    )


@jit
def _step(X, T, params, grads, m, v, itab, ftab, ws, bns, mtab, hp, ip, out, status):
    """:func:`train_step` on borrowed arrays (no reference counting: see layout.borrow)."""
    if not forward_loss(X, T, params, itab, ftab, ws, bns, mtab, hp, ip, out, status):
        return False
    if not backward(X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
        return False
    return update(params, grads, m, v, itab, mtab, hp, ip, out, status)


# --- plan (int64): what train_steps runs ------------------------------------------------------
(
    S_STEP0,
    S_N,
    S_BATCH,
    S_SPE,
    S_NTRAIN,
    S_EPOCH0,
    S_ROW0,
    S_PHASE,
    S_STRIDE,
    S_REGRESSION,
    S_DROPOUT,
    S_PROBE_LAYER,
    S_PROBE_METRIC,
) = range(13)
N_PLAN = 13
# --- res (int64): what it did -----------------------------------------------------------------
R_DONE, R_STOP, R_ROWS = range(3)
N_RES = 3
STOP_DONE, STOP_DIVERGED, STOP_PROBE = range(3)
# --- last (float64): the last completed step --------------------------------------------------
L_LOSS, L_ACC, L_GNORM, L_THRESHOLD = range(4)
N_LAST = 4


@jit
def _gather(X, T, order, lo, Xb, Tb):
    """Xb, Tb = X[order[lo:lo + b]], T[...]: the rows of one mini-batch, in batch order."""
    for r in range(Xb.shape[0]):  # element loops: a row view per row costs more
        src = order[lo + r]
        for c in range(Xb.shape[1]):
            Xb[r, c] = X[src, c]
        for c in range(Tb.shape[1]):
            Tb[r, c] = T[src, c]


@jit
def _fill_masks(keep, off, ws, itab, b):
    """Dropout masks of every hidden layer from the 0/1 draws ``keep[off:]``, in the order the
    session draws them (layer by layer, row-major); returns the offset of the next step's."""
    for k in range(itab.shape[0] - 1):
        mask = view(ws, K_MASK, k, itab, b)
        for i in range(b):
            for j in range(mask.shape[1]):
                mask[i, j] = 1.0 if keep[off] else 0.0
                off += 1
    return off


@jit
def _record(j, step, b, plan, mtab, hp, out, last, rec_steps, rec_rows, rec_scalars, res):
    """Keep the metrics of a completed step: always in ``last``, in the history rows when
    its offer falls on the history's stride (as ``Trace.append`` would keep it)."""
    acc = math.nan if plan[S_REGRESSION] else out[1] / max(b, 1)
    last[L_LOSS], last[L_ACC], last[L_GNORM] = out[0], acc, out[2]
    if (plan[S_PHASE] + j) % plan[S_STRIDE] != 0:
        return
    r = plan[S_ROW0] + res[R_ROWS]
    rec_steps[r] = step
    rows = rec_rows[r]
    for k in range(mtab.shape[0]):  # not rec_rows[r] = mtab: an array assignment compiles
        for c in range(mtab.shape[1]):  # Numba's shape-mismatch message (~7 s, cold)
            rows[k, c] = mtab[k, c]
    rec_scalars[r, 0], rec_scalars[r, 1] = out[0], acc
    rec_scalars[r, 2], rec_scalars[r, 3] = out[2], hp[H_LR]
    res[R_ROWS] += 1


@jit
def train_steps(
    X,
    T,
    orders,
    Xb,
    Tb,
    Xs,
    Ts,
    ws_full,
    ws_short,
    keep,
    params,
    grads,
    m,
    v,
    itab,
    ftab,
    bns,
    mtab,
    hp,
    ip,
    out,
    status,
    plan,
    last,
    rec_steps,
    rec_rows,
    rec_scalars,
    res,
):
    """``plan[S_N]`` fused steps, each exactly what one :func:`train_step` call from the
    session does: batch ``i`` of epoch ``e`` is ``X[orders[e - plan[S_EPOCH0]]][i * B:]``
    (gathered into ``Xb`` / ``Tb``, or ``Xs`` / ``Ts`` and ``ws_short`` for an epoch's short
    last batch), dropout masks come from ``keep``, Adam's step number from the step index.

    Stops at the first NaN/Inf (``status`` says where, as for one step) or after the first
    step whose ``mtab[probe layer, probe metric]`` is below ``last[L_THRESHOLD]``.
    ``res[R_DONE]`` = steps completed, ``res[R_STOP]`` = why it stopped, ``res[R_ROWS]`` =
    history rows written from ``plan[S_ROW0]`` on.
    """
    # borrowed from here on: no atomic reference counting per view and per call
    X, T, orders, Xb, Tb = borrowed(X), borrowed(T), borrowed(orders), borrowed(Xb), borrowed(Tb)
    Xs, Ts, ws_full, ws_short = borrowed(Xs), borrowed(Ts), borrowed(ws_full), borrowed(ws_short)
    keep, params, grads, m, v = (
        borrowed(keep),
        borrowed(params),
        borrowed(grads),
        borrowed(m),
        borrowed(v),
    )
    itab, ftab, bns, mtab, hp = (
        borrowed(itab),
        borrowed(ftab),
        borrowed(bns),
        borrowed(mtab),
        borrowed(hp),
    )
    ip, out, status, plan, last = (
        borrowed(ip),
        borrowed(out),
        borrowed(status),
        borrowed(plan),
        borrowed(last),
    )
    rec_steps, rec_rows = borrowed(rec_steps), borrowed(rec_rows)
    rec_scalars, res = borrowed(rec_scalars), borrowed(res)
    res[R_DONE] = 0
    res[R_STOP] = STOP_DONE
    res[R_ROWS] = 0
    B, spe, n_train = plan[S_BATCH], plan[S_SPE], plan[S_NTRAIN]
    probe_k, probe_m = plan[S_PROBE_LAYER], plan[S_PROBE_METRIC]
    off = 0
    for j in range(plan[S_N]):
        step = plan[S_STEP0] + j  # 0-based: step_count before this step
        i = step % spe
        order = orders[step // spe - plan[S_EPOCH0]]
        lo = i * B
        b = min(B, n_train - lo)
        xb, tb, ws = (Xb, Tb, ws_full) if b == B else (Xs, Ts, ws_short)
        _gather(X, T, order, lo, xb, tb)
        if plan[S_DROPOUT]:
            off = _fill_masks(keep, off, ws, itab, b)
        hp[H_T] = step + 1
        if not _step(xb, tb, params, grads, m, v, itab, ftab, ws, bns, mtab, hp, ip, out, status):
            res[R_STOP] = STOP_DIVERGED
            return
        res[R_DONE] = j + 1
        _record(j, step + 1, b, plan, mtab, hp, out, last, rec_steps, rec_rows, rec_scalars, res)
        if probe_k >= 0 and mtab[probe_k, probe_m] < last[L_THRESHOLD]:
            res[R_STOP] = STOP_PROBE
            return
