"""MLP parameters in flat buffers, with per-layer views and the layer tables the kernels read.

Layer indices are 0-based: ``k = 0 .. L-1`` are the hidden layers, ``k = L`` the output layer.
For hidden layer k (``a_{-1}`` is the input x):

    z_k = a_{k-1} W_k + b_k            (or BN(a_{k-1} W_k + b_k) with batch_norm = "pre")
    a_k = dropout(f_k(z_k)) [+ a_{k-1}] (BN after f_k with "post"; "+ a_{k-1}" if residual)
    delta_k = dL/dz_k = (dL/da_k) * f'(z_k),  dL/da_k = delta_{k+1} W_{k+1}^T [+ dL/da_{k+1}]
    dL/dW_k = a_{k-1}^T delta_k
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import kernels as K
from engine.activations import get as get_activation
from engine.activations import param_value
from engine.codes import BnCode, code_of
from engine.config import ModelConfig
from engine.initializers import init_weights


@dataclass(frozen=True)
class LayerSpec:
    """Shape and options of one layer (hidden or output)."""

    n_in: int
    n_out: int
    activation: str  # "identity" for the output layer (the loss applies softmax/sigmoid)
    batch_norm: str = "none"
    residual: bool = False
    dropout: float = 0.0


def layer_specs(model: ModelConfig, n_in: int, n_out: int) -> list[LayerSpec]:
    """Hidden layers from the config, then the output layer; validates widths and names."""
    specs = []
    width_in = n_in
    for i, layer in enumerate(model.layers()):
        if layer.width < 1:
            raise ValueError(f"model.hidden[{i}].width: must be >= 1, got {layer.width}")
        get_activation(layer.activation)
        residual = model.residual and layer.width == width_in
        if model.residual and i > 0 and layer.width != width_in:
            raise ValueError(
                f"model.hidden[{i}].width: must equal the previous width "
                f"{width_in} when model.residual is on, got {layer.width}"
            )
        specs.append(
            LayerSpec(
                width_in, layer.width, layer.activation, model.batch_norm, residual, model.dropout
            )
        )
        width_in = layer.width
    specs.append(LayerSpec(width_in, n_out, "identity"))
    return specs


def _block_sizes(spec: LayerSpec) -> tuple[int, int, int, int]:
    """(weights + bias, gamma, beta, alpha) parameter counts of one layer."""
    bn = spec.n_out if spec.batch_norm != "none" else 0
    alpha = 1 if spec.activation == "prelu" else 0
    return spec.n_in * spec.n_out + spec.n_out, bn, bn, alpha


def _tables(specs: list[LayerSpec], model: ModelConfig) -> tuple[np.ndarray, np.ndarray, int]:
    itab = np.full((len(specs), K.N_ITAB), -1, dtype=np.int64)
    ftab = np.zeros((len(specs), K.N_FTAB))
    off = 0
    col = 0
    for k, s in enumerate(specs):
        wb, n_g, n_be, n_a = _block_sizes(s)
        act = get_activation(s.activation)
        itab[k, [K.N_IN, K.N_OUT, K.W_OFF, K.B_OFF]] = s.n_in, s.n_out, off, off + s.n_in * s.n_out
        if n_g:
            itab[k, K.G_OFF], itab[k, K.BE_OFF] = off + wb, off + wb + n_g
        if n_a:
            itab[k, K.P_OFF] = off + wb + n_g + n_be
        off += wb + n_g + n_be + n_a
        itab[k, K.END] = off
        itab[k, K.ACT] = act.code
        itab[k, K.BN] = code_of(BnCode, s.batch_norm, "model.batch_norm")
        itab[k, K.RES], itab[k, K.DROP] = int(s.residual), int(s.dropout > 0)
        itab[k, K.COL] = col
        col += s.n_out
        ftab[k] = param_value(act, model), s.dropout, act.max_grad(param_value(act, model))
    return itab, ftab, off


class Network:
    """All parameters of an MLP in one flat vector, plus views per layer.

    ``params``, ``grads``: (P,) of ``dtype``; ``W(k)``, ``b(k)``, ``dW(k)``, ``db(k)`` are views.
    ``bns``: (4, total_width) float batch-norm statistics (batch mean, 1/std, running mean/var).
    """

    def __init__(self, specs: list[LayerSpec], model: ModelConfig, rng: np.random.Generator):
        self.specs = list(specs)
        self.dtype = np.dtype(model.dtype)
        self.itab, self.ftab, n_params = _tables(self.specs, model)
        self.params = np.zeros(n_params, dtype=self.dtype)
        self.grads = np.zeros(n_params, dtype=self.dtype)
        self.total_width = int(sum(s.n_out for s in self.specs))
        self.bns = np.zeros((4, self.total_width), dtype=self.dtype)
        self.bns[K.RUN_VAR] = 1.0
        self._init_params(model, rng)

    @property
    def depth(self) -> int:
        """Number of hidden layers L."""
        return len(self.specs) - 1

    @property
    def n_params(self) -> int:
        return self.params.size

    def _init_params(self, model: ModelConfig, rng: np.random.Generator) -> None:
        for k, s in enumerate(self.specs):
            self.W(k)[:] = init_weights(
                model.init, s.n_in, s.n_out, rng, model.init_scale, model.sigma_w2
            )
            self.b(k)[:] = model.bias_init if k < self.depth else 0.0
            if model.sigma_b2 > 0.0 and k < self.depth:  # drawn only then: seeds stay as they were
                self.b(k)[:] += rng.normal(0.0, np.sqrt(model.sigma_b2), size=s.n_out)
            if self.itab[k, K.G_OFF] >= 0:
                self.gamma(k)[:] = 1.0
            if self.itab[k, K.P_OFF] >= 0:
                self.params[self.itab[k, K.P_OFF]] = model.prelu_init

    # --- per-layer views ---------------------------------------------------------------------
    def _w(self, buf: np.ndarray, k: int) -> np.ndarray:
        n_in, n_out, off = self.itab[k, [K.N_IN, K.N_OUT, K.W_OFF]]
        return buf[off : off + n_in * n_out].reshape(n_in, n_out)

    def _v(self, buf: np.ndarray, k: int, col: int) -> np.ndarray:
        off = self.itab[k, col]
        return buf[off : off + self.itab[k, K.N_OUT]] if off >= 0 else buf[:0]

    def W(self, k: int) -> np.ndarray:
        """W_k (n_in, n_out) view."""
        return self._w(self.params, k)

    def b(self, k: int) -> np.ndarray:
        return self._v(self.params, k, K.B_OFF)

    def gamma(self, k: int) -> np.ndarray:
        return self._v(self.params, k, K.G_OFF)

    def beta(self, k: int) -> np.ndarray:
        return self._v(self.params, k, K.BE_OFF)

    def alpha(self, k: int) -> float:
        """PReLU slope of layer k (NaN when the layer has none)."""
        off = self.itab[k, K.P_OFF]
        return float(self.params[off]) if off >= 0 else float("nan")

    def dW(self, k: int) -> np.ndarray:
        """dL/dW_k (n_in, n_out) view of the last backward pass."""
        return self._w(self.grads, k)

    def db(self, k: int) -> np.ndarray:
        """dL/db_k (n_out,) view."""
        return self._v(self.grads, k, K.B_OFF)

    def workspace(self, batch: int) -> Workspace:
        """A fresh per-batch workspace for ``batch`` examples."""
        return Workspace(self, batch)

    def __repr__(self) -> str:
        widths = "-".join(str(s.n_out) for s in self.specs)
        acts = sorted({s.activation for s in self.specs[:-1]})
        return (
            f"Network({self.specs[0].n_in}-{widths}, act={'/'.join(acts)}, "
            f"params={self.n_params}, dtype={self.dtype})"
        )


class Workspace:
    """Per-batch intermediate arrays, with named (B, n_k) views for the stepper and the GUI."""

    KINDS = {name: kind for kind, name in enumerate(K.WORKSPACE_KINDS)}

    def __init__(self, net: Network, batch: int):
        self.net = net
        self.batch = batch
        self.ws = np.zeros((K.N_KINDS, batch * net.total_width), dtype=net.dtype)

    def get(self, name: str, k: int) -> np.ndarray:
        """The (B, n_k) array ``name`` (a key of ``KINDS``) of layer k, as a view."""
        n, col = self.net.itab[k, [K.N_OUT, K.COL]]
        off = self.batch * col
        return self.ws[self.KINDS[name], off : off + self.batch * n].reshape(self.batch, n)

    def __repr__(self) -> str:
        return f"Workspace(batch={self.batch}, floats={self.ws.size})"


def build_network(model: ModelConfig, n_in: int, n_out: int, seed: int) -> Network:
    """Validate the model config and build an initialised :class:`Network`."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"data: need >= 1 input and output, got n_in={n_in}, n_out={n_out}")
    code_of(BnCode, model.batch_norm, "model.batch_norm")
    if not 0.0 <= model.dropout < 1.0:
        raise ValueError(f"model.dropout: must be in [0, 1), got {model.dropout}")
    if model.dtype not in ("float64", "float32"):
        raise ValueError(f"model.dtype: expected float64 or float32, got {model.dtype!r}")
    rng = np.random.default_rng([seed, 0])
    return Network(layer_specs(model, n_in, n_out), model, rng)
