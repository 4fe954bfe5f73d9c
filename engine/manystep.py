"""Many training steps per kernel call: the compiled path behind ``Session.run``.

:class:`ManyStep` is mixed into :class:`~engine.session.Session`: it sizes each
:func:`engine.kernels.train_steps` call (up to the next evaluation, within the history's
allocated rows and the batch-order / dropout buffers), prepares the batch orders and dropout
draws exactly as the single-step path would, and leaves the session as that path would.
"""

from __future__ import annotations

import time

import numpy as np

from engine import kernels as K
from engine.metrics import LAYER_METRICS


class ManyStep:
    """The many-steps-per-call methods of a Session (state lives in the Session)."""

    #: bounds of one train_steps call: seconds, steps, batch-order entries, dropout draws
    CHUNK_SECONDS = 0.25
    MAX_CHUNK = 1 << 16
    MAX_ORDER = 1 << 20
    MAX_DRAWS = 1 << 22

    def _chunk_size(self, limit: int) -> int:
        """Steps of the next train_steps call: up to ``limit``, ending at the next evaluation,
        within the history's allocated rows and the batch-order / dropout buffer bounds."""
        size = min(limit, self.MAX_CHUNK)
        every, s0 = self.eval_every, self.step_count
        if every and len(self.X_test):
            size = min(size, every - s0 % every)
        spe = self.steps_per_epoch
        epochs = max(2, self.MAX_ORDER // len(self.X))
        size = min(size, (s0 // spe + epochs) * spe - s0)
        p = self.config.model.dropout
        if p > 0:
            draws = self.batch_size * sum(sp.n_out for sp in self.net.specs[:-1])
            size = min(size, max(1, self.MAX_DRAWS // max(draws, 1)))
        return min(self.trace.room(size), self.scalar_trace.room(size))

    def _batch_buffers(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Preallocated (b, n_in) / (b, n_out) arrays the kernel gathers a mini-batch into."""
        if b not in self._gathered:
            self._gathered[b] = (
                np.empty((b, self.X.shape[1]), dtype=self.X.dtype),
                np.empty((b, self.T.shape[1]), dtype=self.T.dtype),
            )
        return self._gathered[b]

    def _orders(self, s0: int, size: int) -> np.ndarray:
        """The batch order of every epoch steps s0 .. s0 + size - 1 fall in, one row each,
        shuffled by the same generator calls as :meth:`_next_batch` makes."""
        spe = self.steps_per_epoch
        first, last = s0 // spe, (s0 + size - 1) // spe
        orders = np.empty((last - first + 1, len(self._order)), dtype=self._order.dtype)
        for r in range(len(orders)):
            if r or s0 % spe == 0:
                self._shuffle_rng.shuffle(self._order)
            orders[r] = self._order
        return orders

    def _batch_sizes(self, s0: int, size: int) -> np.ndarray:
        i = (s0 + np.arange(size)) % self.steps_per_epoch
        return np.minimum(self.batch_size, len(self.X) - i * self.batch_size)

    def _keep_draws(self, s0: int, size: int) -> np.ndarray:
        """Dropout keep flags for ``size`` steps, drawn as :meth:`_fill_dropout_masks` does."""
        p = self.config.model.dropout
        if p == 0:
            return np.zeros(0, dtype=np.bool_)
        units = sum(sp.n_out for sp in self.net.specs[:-1])
        n = int(self._batch_sizes(s0, size).sum()) * units
        return self._dropout_rng.random(n) < 1.0 - p

    def _run_chunk(self, size: int, watch) -> int:
        """``size`` steps in one train_steps call, then the bookkeeping :meth:`_finish_step`
        does per step.  Returns the steps completed."""
        t0 = time.perf_counter()
        s0, spe, B, n = self.step_count, self.steps_per_epoch, self.batch_size, len(self.X)
        orders = self._orders(s0, size)
        keep = self._keep_draws(s0, size)
        b_short = n - (spe - 1) * B
        Xb, Tb = self._batch_buffers(B)
        Xs, Ts = self._batch_buffers(b_short)
        ws, ws_short = self._workspace(B), self._workspace(b_short)
        tr = self.trace
        plan, last, res = self._plan, self._last, self._res
        plan[:] = (
            s0,
            size,
            B,
            spe,
            n,
            s0 // spe,
            tr.count,
            tr.phase,
            tr.stride,
            self.is_regression,
            keep.size > 0,
            -1,
            0,
        )
        if watch is not None:
            plan[K.S_PROBE_LAYER] = watch[0]
            plan[K.S_PROBE_METRIC] = LAYER_METRICS.index(watch[1])
            last[K.L_THRESHOLD] = watch[2]
        K.train_steps(
            self.X,
            self.T,
            orders,
            Xb,
            Tb,
            Xs,
            Ts,
            ws.ws,
            ws_short.ws,
            keep,
            *self._trained(),
            self.net.bns,
            self.mtab,
            self.opt.hp,
            *self._io(),
            plan,
            last,
            tr.steps,
            tr.rows,
            self.scalar_trace.rows,
            res,
        )
        done, stop, kept = (int(v) for v in res)
        self._after_chunk(s0, orders, done, stop == K.STOP_DIVERGED, kept)
        self._step_seconds = (time.perf_counter() - t0) / max(done, 1)
        return done

    def _after_chunk(
        self, s0: int, orders: np.ndarray, done: int, diverged: bool, kept: int
    ) -> None:
        """What :meth:`_next_batch` and :meth:`_finish_step` leave behind after the last
        step a chunk ran (the diverged one included)."""
        st, tr = self.scalar_trace, self.trace
        st.steps[st.count : st.count + kept] = tr.steps[tr.count : tr.count + kept]
        tr.advance(done, kept)
        st.advance(done, kept)
        ran = done + diverged
        spe, B = self.steps_per_epoch, self.batch_size
        s = s0 + ran - 1
        self._order[:] = orders[s // spe - s0 // spe]
        i = s % spe
        self._batch_x = self.X[self._order[i * B : (i + 1) * B]]
        self._rate.batch = len(self._batch_x)
        self.step_count = s0 + ran
        if done:
            self.loss = float(self._last[K.L_LOSS])
            self.accuracy = float(self._last[K.L_ACC])
            self._rate.tick(done)
        if diverged:
            self._record_divergence()
            return
        every = self.eval_every
        if done and every and self.step_count % every == 0 and len(self.X_test):
            self.evaluate()
