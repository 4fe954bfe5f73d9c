"""Numba kernels for the MLP: one function per phase, plus fused training steps.

Private by convention: callers go through ``engine.network`` and ``engine.session``.  Every
kernel takes only arrays and scalars (so ``cache=True`` works) and selects activations,
losses and optimisers by the integer codes of ``engine.codes``; an unknown code raises
``ValueError``.  The modules, in dependency order:

* ``layout``      buffer and table layouts, jit flavours, norms and views
* ``elementary``  exp / expm1, sigmoid, tanh, GELU (float64, and float32 where it pays)
* ``activation``  value and derivative of every activation code
* ``layers``      forward and backward through one layer, batch norm
* ``loss``        the loss phase;  ``optim``: clipping and the optimisers
* ``fused``       whole passes, ``train_step`` and the many-step ``train_steps``

The fused :func:`train_step` calls the very same phase kernels as the step-through stepper,
so the two paths give bit-identical numbers by construction.
"""

from engine.codes import Phase, Quantity
from engine.kernels.activation import activate
from engine.kernels.fused import (
    L_ACC,
    L_GNORM,
    L_LOSS,
    L_THRESHOLD,
    N_LAST,
    N_PLAN,
    N_RES,
    R_DONE,
    R_ROWS,
    R_STOP,
    S_PROBE_LAYER,
    S_PROBE_METRIC,
    STOP_DIVERGED,
    STOP_DONE,
    STOP_PROBE,
    backward,
    forward_loss,
    train_step,
    train_steps,
)
from engine.kernels.layers import backward_layer, forward_layer
from engine.kernels.layout import *  # noqa: F403  (the table columns callers index with)
from engine.kernels.loss import loss_phase
from engine.kernels.optim import update
from engine.metrics import N_METRICS, Metric
