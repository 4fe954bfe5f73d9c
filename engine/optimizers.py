"""Optimiser state and hyper-parameters for the flat parameter vector (Keras formulas)."""

from __future__ import annotations

import numpy as np

from engine import kernels as K
from engine.codes import OptCode, code_of
from engine.config import TrainingConfig


class Optimizer:
    """Slots ``m`` (velocity / first moment) and ``v`` (second moment), both (P,) like params.

    ``hp`` (N_HP,) float64 is what the update kernel reads; ``learning_rate`` can change
    between steps (mid-run) and takes effect at the next update.
    """

    def __init__(self, training: TrainingConfig, n_params: int, dtype, bn_eps: float = 1e-3):
        self.name = training.optimizer
        self.code = int(code_of(OptCode, training.optimizer, "training.optimizer"))
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)
        self.hp = np.zeros(K.N_HP)
        t = training
        self.hp[[K.H_MOM, K.H_RHO, K.H_B1, K.H_B2, K.H_EPS]] = (
            t.momentum,
            t.rho,
            t.beta1,
            t.beta2,
            t.epsilon,
        )
        self.hp[[K.H_WD, K.H_CLIP_NORM, K.H_CLIP_VALUE]] = (
            t.weight_decay,
            t.clip_norm,
            t.clip_value,
        )
        self.hp[[K.H_BN_MOM, K.H_BN_EPS]] = t.bn_momentum, bn_eps
        self.learning_rate = t.learning_rate

    @property
    def learning_rate(self) -> float:
        return float(self.hp[K.H_LR])

    @learning_rate.setter
    def learning_rate(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"training.learning_rate: must be > 0, got {lr}")
        self.hp[K.H_LR] = lr

    def begin_step(self, t: int) -> None:
        """Adam's bias correction needs the 1-based step number."""
        self.hp[K.H_T] = t

    def __repr__(self) -> str:
        return f"Optimizer({self.name!r}, lr={self.learning_rate:g})"
