"""Recurrent parameters in one flat vector (the MLP's optimisers update it), with per-layer views.

Layer l (0-based, ``l = 0 .. L-1``, stacked: layer l reads layer l-1's hidden states) of ``G``
gate blocks of ``H`` units has the block ``Wx`` (n_in, G*H), ``Wh`` (H, G*H), ``b`` (G*H, plus
H for the GRU's recurrent bias b_hn); the read-out ``V`` (H, n_out), ``c`` (n_out) follows.
``itab`` describes these blocks in the MLP's table layout (``W = [Wx; Wh]`` then the biases),
so :func:`engine.kernels.update` clips and steps them and records their norms unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import kernels as K
from engine.activations import get as get_activation
from engine.activations import param_value
from engine.config import ExperimentConfig
from engine.initializers import init_weights
from engine.recurrent import kernels as R

#: cell name -> (kernel code, names of its gate blocks in column order)
CELLS = {
    "rnn": (R.CELL_RNN, ("z",)),
    "lstm": (R.CELL_LSTM, ("input gate i", "forget gate f", "candidate g", "output gate o")),
    "gru": (R.CELL_GRU, ("reset gate r", "update gate z", "candidate n")),
}
#: what ``gate_mean`` holds per cell: the factor that carries dL/dh back one time step
CARRIER = {"rnn": "mean f'(z_t)", "lstm": "mean forget gate f_t", "gru": "mean update gate z_t"}


@dataclass(frozen=True)
class Product:
    """One matrix product of a step, (B, n_in) @ (n_in, n_out): engine.threads sizes BLAS by it."""

    n_in: int
    n_out: int


@dataclass(frozen=True)
class LayerShape:
    """One recurrent layer: its inputs, hidden units and gate blocks."""

    n_in: int
    H: int
    G: int
    gru: bool

    @property
    def n_weights(self) -> int:
        return (self.n_in + self.H) * self.G * self.H

    @property
    def n_bias(self) -> int:
        return self.G * self.H + (self.H if self.gru else 0)


class RecurrentNet:
    """Parameters of ``depth`` stacked cells of one kind plus a linear read-out.

    ``params``, ``grads``: (P,) of ``dtype``; ``Wx(l)``, ``Wh(l)``, ``b(l)``, ``V``, ``c`` and
    ``layer_grads(l)`` are views.  ``itab`` (L+1, K.N_ITAB): the MLP table of these blocks.
    """

    def __init__(self, config: ExperimentConfig, n_in: int, n_out: int, rng):
        m, r = config.model, config.recurrent
        self.cell = r.cell
        self.code, self.gate_names = CELLS[r.cell]
        self.dtype = np.dtype(m.dtype)
        act = get_activation(r.rnn_activation if r.cell == "rnn" else "tanh")
        self.activation = act.name
        self.act_code, self.act_param = act.code, float(param_value(act, m))
        G = len(self.gate_names)
        self.shapes = [
            LayerShape(n_in if k == 0 else m.width, m.width, G, r.cell == "gru")
            for k in range(m.depth)
        ]
        self.n_out = n_out
        self.itab = self._table()
        n_params = int(self.itab[-1, K.END])
        self.params = np.zeros(n_params, dtype=self.dtype)
        self.grads = np.zeros(n_params, dtype=self.dtype)
        self._init_params(config, rng)

    def _table(self) -> np.ndarray:
        rows = [(s.n_in + s.H, s.G * s.H, s.n_bias) for s in self.shapes]
        rows.append((self.width, self.n_out, self.n_out))
        itab = np.full((len(rows), K.N_ITAB), -1, dtype=np.int64)
        off = 0
        for k, (n_in, n_out, n_bias) in enumerate(rows):
            itab[k, [K.N_IN, K.N_OUT, K.W_OFF, K.B_OFF]] = n_in, n_out, off, off + n_in * n_out
            off += n_in * n_out + n_bias
            itab[k, K.END] = off
        return itab

    def _init_params(self, config: ExperimentConfig, rng) -> None:
        """``model.init`` per gate block (fans of one gate), ``model.bias_init`` for the
        biases but the LSTM forget gate's (``recurrent.forget_bias``) and the GRU's b_hn (0),
        plus N(0, ``model.sigma_b2``) noise on every gate bias when sigma_b2 > 0."""
        m = config.model
        for k, s in enumerate(self.shapes):
            for g in range(s.G):
                cols = slice(g * s.H, (g + 1) * s.H)
                self.Wx(k)[:, cols] = init_weights(
                    m.init, s.n_in, s.H, rng, m.init_scale, m.sigma_w2
                )
                self.Wh(k)[:, cols] = init_weights(m.init, s.H, s.H, rng, m.init_scale, m.sigma_w2)
            b = self.b(k)
            b[: s.G * s.H] = m.bias_init
            if self.cell == "lstm":
                b[s.H : 2 * s.H] = config.recurrent.forget_bias
            if m.sigma_b2 > 0.0:  # drawn only then, as for the MLP: seeds stay as they were
                b[: s.G * s.H] += rng.normal(0.0, np.sqrt(m.sigma_b2), size=s.G * s.H)
        self.V[:] = init_weights(m.init, self.width, self.n_out, rng, m.init_scale, m.sigma_w2)

    # --- shape ---------------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self.shapes)

    @property
    def width(self) -> int:
        return self.shapes[0].H

    @property
    def n_params(self) -> int:
        return self.params.size

    @property
    def specs(self) -> list[Product]:
        """The largest matrix product of each layer per time step, and the read-out's."""
        prods = [Product(max(s.n_in, s.H), s.G * s.H) for s in self.shapes]
        return [*prods, Product(self.width, self.n_out)]

    # --- views ---------------------------------------------------------------------------------
    def _block(self, buf: np.ndarray, k: int) -> np.ndarray:
        return buf[self.itab[k, K.W_OFF] : self.itab[k, K.END]]

    def Wx(self, k: int) -> np.ndarray:
        """Input weights of layer k, (n_in, G*H) view."""
        s = self.shapes[k]
        return self._block(self.params, k)[: s.n_in * s.G * s.H].reshape(s.n_in, s.G * s.H)

    def Wh(self, k: int) -> np.ndarray:
        """Recurrent weights of layer k, (H, G*H) view."""
        s = self.shapes[k]
        lo = s.n_in * s.G * s.H
        return self._block(self.params, k)[lo : s.n_weights].reshape(s.H, s.G * s.H)

    def b(self, k: int) -> np.ndarray:
        return self._block(self.params, k)[self.shapes[k].n_weights :]

    def layer_grads(self, k: int) -> np.ndarray:
        """dL/d(Wx, Wh, b) of layer k (k = depth: dL/d(V, c)), flat view."""
        return self._block(self.grads, k)

    @property
    def V(self) -> np.ndarray:
        """Read-out weights (H, n_out) view."""
        off = self.itab[-1, K.W_OFF]
        return self.params[off : off + self.width * self.n_out].reshape(self.width, self.n_out)

    @property
    def c(self) -> np.ndarray:
        return self.params[self.itab[-1, K.B_OFF] : self.itab[-1, K.END]]

    def dV(self) -> np.ndarray:
        off = self.itab[-1, K.W_OFF]
        return self.grads[off : off + self.width * self.n_out].reshape(self.width, self.n_out)

    def dc(self) -> np.ndarray:
        return self.grads[self.itab[-1, K.B_OFF] : self.itab[-1, K.END]]

    def weight_slices(self) -> list[slice]:
        """The weight matrices' ranges in ``params`` (weight decay; biases excluded)."""
        return [slice(int(r[K.W_OFF]), int(r[K.B_OFF])) for r in self.itab]

    def __repr__(self) -> str:
        act = f", act={self.activation}" if self.cell == "rnn" else ""
        return (
            f"RecurrentNet({self.cell} x{self.depth}, {self.shapes[0].n_in}-{self.width}"
            f"-{self.n_out}{act}, params={self.n_params}, dtype={self.dtype})"
        )


class Buffers:
    """Per-batch arrays of every layer (see :mod:`engine.recurrent.kernels` for the shapes)."""

    def __init__(self, net: RecurrentNet, T: int, B: int, n_features: int):
        dt = net.dtype
        self.T, self.B = T, B
        self.layers = []
        below = np.zeros((T, B, n_features), dtype=dt)  # dL/dx of the data: not used
        for s in net.shapes:
            GH = s.G * s.H
            lay = {
                "Hs": np.zeros((T + 1, B, s.H), dtype=dt),
                "Cs": np.zeros((T + 1, B, s.H), dtype=dt),
                "A": np.zeros((T, B, GH), dtype=dt),
                "S": np.zeros((T, B, GH), dtype=dt),
                "D": np.zeros((T, B, GH), dtype=dt),
                "Y": np.zeros((T, B, s.H), dtype=dt),
                "E": np.zeros((T, B, s.H), dtype=dt),
                "dX": below,
                "carry": np.zeros((2, B, s.H), dtype=dt),
                "dA": np.zeros((T, B, GH), dtype=dt),
                "gh": np.full(T, np.nan),
                "gate": np.full(T, np.nan),
            }
            lay["dAh"] = np.zeros_like(lay["dA"]) if s.gru else lay["dA"]
            lay["Hprev"] = lay["Hs"][:-1]  # h_{t-1} of every step, a view
            self.layers.append(lay)
            below = lay["E"]  # the layer above writes its dL/dx into this layer's E
        self.P = np.zeros((B, net.n_out), dtype=dt)
        self.dZ = np.zeros((B, net.n_out), dtype=dt)

    def __repr__(self) -> str:
        return f"Buffers(T={self.T}, B={self.B}, layers={len(self.layers)})"
