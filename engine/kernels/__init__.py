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

# --- the names the divergence codes and metric columns had before engine.codes and
# engine.metrics: engine/session.py still reads them
PH_FORWARD = Phase.FORWARD
PH_LOSS = Phase.LOSS
PH_BACKWARD = Phase.BACKWARD
PH_UPDATE = Phase.UPDATE
Q_Z = Quantity.Z
Q_ACT = Quantity.ACT
Q_LOSS = Quantity.LOSS
Q_DELTA = Quantity.DELTA
Q_GRAD = Quantity.GRAD
Q_WEIGHTS = Quantity.WEIGHTS
M_GW = Metric.GRAD_NORM
M_GB = Metric.BIAS_GRAD_NORM
M_DELTA_RMS = Metric.DELTA_RMS
M_DELTA_NORM = Metric.DELTA_NORM
M_GIN = Metric.INCOMING_NORM
M_FP_MEAN = Metric.FPRIME_MEAN
M_SAT = Metric.SATURATED
M_DEAD = Metric.DEAD
M_W = Metric.WEIGHT_NORM
M_UPD = Metric.UPDATE_RATIO
M_ACT_MEAN = Metric.ACT_MEAN
M_ACT_STD = Metric.ACT_STD
M_Z_MEAN = Metric.Z_MEAN
M_Z_STD = Metric.Z_STD
M_GALPHA = Metric.PRELU_GRAD
