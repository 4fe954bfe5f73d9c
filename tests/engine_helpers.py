"""Shared builders for the engine tests (no Qt)."""

from __future__ import annotations

import numpy as np

from engine import kernels as K
from engine import losses
from engine.config import ExperimentConfig, updated
from engine.datasets import Dataset
from engine.network import build_network
from engine.optimizers import Optimizer


def toy_dataset(
    n: int = 120,
    n_features: int = 4,
    n_classes: int = 3,
    seed: int = 0,
    task: str = "classification",
) -> Dataset:
    """Random Gaussian features with labels from a fixed random linear map."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    if task == "regression":
        y = np.sin(X[:, :1]) + 0.1 * X[:, 1:2]
        classes = ()
    else:
        y = np.argmax(X @ rng.normal(size=(n_features, n_classes)), axis=1).astype(np.int64)
        classes = tuple(str(c) for c in range(n_classes))
    cut = int(0.8 * n)
    return Dataset(
        "toy",
        X[:cut],
        y[:cut],
        X[cut:],
        y[cut:],
        task,
        n_classes if task == "classification" else 0,
        tuple(f"x{i}" for i in range(n_features)),
        classes,
        "random toy data",
    )


def config(**changes) -> ExperimentConfig:
    """Small default experiment with dotted-path overrides."""
    base = {"model.depth": 3, "model.width": 6, "training.batch_size": 16, "training.eval_every": 0}
    base.update(changes)
    return updated(ExperimentConfig(), **base)


def tiny(**changes) -> ExperimentConfig:
    """A 3-layer net of 8 units on 200 spiral points: builds and steps in milliseconds."""
    base = {
        "data.name": "spiral",
        "data.n_samples": 200,
        "model.depth": 3,
        "model.width": 8,
        "training.batch_size": 16,
        "training.eval_every": 10,
    }
    base.update(changes)
    return updated(ExperimentConfig(name="tiny"), **base)


class Problem:
    """A network, one fixed batch and the kernel arguments to evaluate loss and gradient."""

    def __init__(self, cfg: ExperimentConfig, batch: int = 7, n_in: int = 4, seed: int = 1):
        rng = np.random.default_rng(seed)
        n_classes = 3
        n_out = losses.n_outputs(
            cfg.model.loss,
            "regression" if cfg.model.loss == "mse" else "classification",
            n_classes,
            2,
        )
        self.net = build_network(cfg.model, n_in, n_out, cfg.training.seed)
        self.X = rng.normal(size=(batch, n_in)).astype(self.net.dtype)
        if cfg.model.loss == "mse":
            self.T = rng.normal(size=(batch, n_out))
        else:
            y = rng.integers(0, n_classes, size=batch)
            y = (y > 0).astype(np.int64) if n_out == 1 else y
            self.T = losses.targets(cfg.model.loss, y, n_out, self.net.dtype)
        self.opt = Optimizer(cfg.training, self.net.n_params, self.net.dtype)
        self.ip = np.array([losses.code(cfg.model.loss), self.opt.code, 1, 1], dtype=np.int64)
        self.ws = self.net.workspace(batch)
        self.mtab = np.zeros((self.net.depth + 1, K.N_METRICS))
        self.out = np.zeros(3)
        self.status = np.zeros(3, dtype=np.int64)
        if cfg.model.dropout > 0:  # a fixed mask makes dropout a deterministic function
            for k in range(self.net.depth):
                m = self.ws.get("mask", k)
                m[:] = rng.random(m.shape) > cfg.model.dropout

    def _tables(self) -> tuple:
        """The layer tables, workspace and metric buffers both kernels take, in their order."""
        n = self.net
        return n.itab, n.ftab, self.ws.ws, n.bns, self.mtab, self.opt.hp

    def loss(self) -> float:
        args = (self.X, self.T, self.net.params, *self._tables(), self.ip, self.out)
        ok = K.forward_loss(*args, self.status)
        assert ok, self.status
        return float(self.out[0])

    def gradient(self) -> np.ndarray:
        self.loss()
        n = self.net
        assert K.backward(self.X, n.params, n.grads, *self._tables(), self.status)
        return n.grads.astype(np.float64).copy()

    def numeric_gradient(self, h: float = 1e-6) -> np.ndarray:
        """Central finite differences of the loss, one parameter at a time (float64)."""
        p = self.net.params
        g = np.zeros(p.size)
        for i in range(p.size):
            old = p[i]
            p[i] = old + h
            up = self.loss()
            p[i] = old - h
            down = self.loss()
            p[i] = old
            g[i] = (up - down) / (2 * h)
        return g


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||), 0 when both vanish."""
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom < 1e-300 else float(np.linalg.norm(a - b) / denom)
