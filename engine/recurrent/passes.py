"""The phases of one recurrent training step, shared by the fused step and the step-through.

Forward layer by layer over the whole sequence, the loss (read-out of the top layer's last
hidden state), backward layer by layer and time step by time step, the update.  The fused
step (:meth:`Passes.backward_layer`) and the step-through (:meth:`Passes.backward_step`) run
the same kernel function per time step, so they give bit-identical numbers.
"""

from __future__ import annotations

import math

import numpy as np

from engine import kernels as K
from engine.recurrent import kernels as R
from engine.recurrent.network import Buffers, RecurrentNet

#: adding problem: an answer counts as correct when within this of the target
#: (Hochreiter & Schmidhuber 1997, experiment 4)
ADDING_TOLERANCE = 0.04


class Passes:
    """The phase functions of one session: its network, optimiser state and flags.

    Every phase returns False at the first NaN/Inf and leaves its place in ``status``
    (4,) int64: (Phase, layer, time step, quantity), see :mod:`engine.recurrent.kernels`.
    """

    def __init__(self, net: RecurrentNet, opt, ip: np.ndarray, regression: bool = False):
        self.net, self.opt, self.ip = net, opt, ip
        self.regression = regression  # "correct" = within ADDING_TOLERANCE of the target
        self.out = np.zeros(3)  # loss, correct examples, global gradient norm
        self.status = np.zeros(4, dtype=np.int64)
        self._status3 = np.zeros(3, dtype=np.int64)  # engine.kernels.update's layout
        L = net.depth
        self.mtab = np.full((L + 1, K.N_METRICS), np.nan)  # weight norm, update ratio
        self.grad_norm = np.full(L + 1, np.nan)  # ||dL/d(block l)|| before clipping

    # --- forward and loss ----------------------------------------------------------------------
    def layer_input(self, bufs: Buffers, X: np.ndarray, k: int) -> np.ndarray:
        """(T, B, n_in) input of layer k: the data, or layer k-1's hidden states."""
        return X if k == 0 else bufs.layers[k - 1]["Hs"][1:]

    def forward(self, bufs: Buffers, X: np.ndarray, k: int) -> bool:
        net, b = self.net, bufs.layers[k]
        if k == 0:
            net.grads[:] = 0.0
        return R.forward_layer(
            net.code, net.act_code, net.act_param, k, self.layer_input(bufs, X, k),
            net.Wx(k), net.Wh(k), net.b(k),
            b["Hs"], b["Cs"], b["A"], b["S"], b["D"], b["Y"], b["gate"], self.status,
        )  # fmt: skip

    def loss(self, bufs: Buffers, Tgt: np.ndarray, train: bool = True) -> bool:
        """Read-out and loss on h_{T-1} of the top layer; with ``train`` also dL/dh_{T-1},
        dL/dV and dL/dc (the top layer's E gets dL/dh at its last time step only)."""
        net, top = self.net, bufs.layers[-1]
        h = top["Hs"][-1]
        ok = R.readout_loss(
            h, net.V, net.c, Tgt, bufs.P, bufs.dZ, self.ip[K.I_LOSS], self.out, self.status,
            net.depth,
        )  # fmt: skip
        if self.regression:  # the adding problem: an answer within the tolerance counts
            self.out[1] = float(np.sum(np.all(np.abs(bufs.P - Tgt) < ADDING_TOLERANCE, axis=1)))
        wd = self.opt.hp[K.H_WD]
        if wd > 0:
            self.out[0] += 0.5 * wd * sum(float(np.sum(net.params[s] ** 2)) for s in self._ws)
        if not ok or not train:
            return ok
        top["E"][:] = 0.0
        R.readout_backward(h, net.V, bufs.dZ, net.dV(), net.dc(), top["E"][-1])
        return True

    @property
    def _ws(self) -> list[slice]:
        return self.net.weight_slices()

    # --- backward ------------------------------------------------------------------------------
    def _args(self, bufs: Buffers, X: np.ndarray, k: int) -> tuple:
        net, b = self.net, bufs.layers[k]
        return (
            self.layer_input(bufs, X, k), net.Wx(k), net.Wh(k), b["Hs"], b["Hprev"],
            b["Cs"], b["A"], b["S"], b["D"], b["Y"], b["E"], b["carry"], b["dA"], b["dAh"],
            net.layer_grads(k), b["dX"], b["gh"], self.status,
        )  # fmt: skip

    def begin_backward(self, bufs: Buffers, k: int) -> None:
        bufs.layers[k]["carry"][:] = 0.0

    def backward_step(self, bufs: Buffers, X: np.ndarray, k: int, t: int) -> bool:
        """dL/dh_t of layer k back to dL/dh_{t-1}, accumulating the layer's gradients."""
        if t == bufs.T - 1:
            self.begin_backward(bufs, k)
        return R.backward_step(self.net.code, k, t, *self._args(bufs, X, k))

    def backward_layer(self, bufs: Buffers, X: np.ndarray, k: int) -> bool:
        self.begin_backward(bufs, k)
        return R.backward_layer(self.net.code, k, *self._args(bufs, X, k))

    # --- update --------------------------------------------------------------------------------
    def update(self) -> bool:
        """Weight decay, the blocks' gradient norms, then the MLP's clip + optimiser kernel."""
        net, hp = self.net, self.opt.hp
        if hp[K.H_WD] > 0:
            for s in self._ws:
                net.grads[s] += hp[K.H_WD] * net.params[s]
        for k in range(net.depth + 1):
            self.grad_norm[k] = float(np.linalg.norm(net.layer_grads(k).astype(np.float64)))
        ok = K.update(
            net.params, net.grads, self.opt.m, self.opt.v, net.itab, self.mtab, hp,
            self.ip, self.out, self._status3,
        )  # fmt: skip
        if not ok:
            self.status[:] = self._status3[0], self._status3[1], -1, R.Q_HIDDEN
        return bool(ok)

    def step(self, bufs: Buffers, X: np.ndarray, Tgt: np.ndarray) -> bool:
        """One fused training step: every phase in order; False at the first NaN/Inf."""
        L = self.net.depth
        ok = all(self.forward(bufs, X, k) for k in range(L)) and self.loss(bufs, Tgt)
        ok = ok and all(self.backward_layer(bufs, X, k) for k in range(L - 1, -1, -1))
        return ok and self.update()

    def __repr__(self) -> str:
        return f"Passes({self.net!r})"


def phases(depth: int, T: int) -> list[tuple[str, int, int]]:
    """(phase, layer, time step) of a step-through: forward per layer, the loss, backward per
    layer (top first) and time step (last first), the update."""
    out = [("forward", k, -1) for k in range(depth)] + [("loss", depth, -1)]
    for k in range(depth - 1, -1, -1):
        out += [("backward", k, t) for t in range(T - 1, -1, -1)]
    return out + [("update", -1, -1)]


def step_factor(net: RecurrentNet, bufs: Buffers, k: int, t: int) -> tuple[dict, dict]:
    """The factor that carries dL/dh_t of layer k back one step, for the inspector.

    RNN: ``diag(f'(z_t)) W_hh^T`` with f' averaged over the batch (each example has its own
    diagonal; dL/dh_{t-1} = (dL/dh_t * f'(z_t)) W_hh^T), its Frobenius and spectral norms.
    LSTM: through the cell state the factor is ``diag(f_t)``: its batch mean.  GRU: the
    direct path's ``diag(z_t)``: its batch mean.  (arrays, norms) as float64.
    """
    b, H = bufs.layers[k], net.width
    if net.cell == "rnn":
        fp = b["D"][t].astype(np.float64).mean(axis=0)
        M = fp[:, None] * net.Wh(k).astype(np.float64).T
        return {"factor": M, "fprime": fp}, {
            "factor_fro": float(np.linalg.norm(M)),
            "factor_spectral": float(np.linalg.norm(M, 2)) if np.isfinite(M).all() else math.nan,
            "fprime_mean": float(fp.mean()),
        }
    gate = b["S"][t][:, H : 2 * H].astype(np.float64)  # f_t (LSTM) or z_t (GRU)
    name = "forget_gate" if net.cell == "lstm" else "update_gate"
    return {name: gate}, {f"{name}_mean": float(gate.mean()), f"{name}_max": float(gate.max())}
