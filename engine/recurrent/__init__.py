"""Recurrent nets (vanilla RNN, LSTM, GRU) trained by backpropagation through time. Qt-free.

* :mod:`~engine.recurrent.kernels`  Numba forward / backward through time, one layer at a time
* :mod:`~engine.recurrent.network`  flat parameters, per-layer views, per-batch buffers
* :mod:`~engine.recurrent.passes`   the phases of a step (fused and step-through)
* :mod:`~engine.recurrent.session`  :class:`RecurrentSession` (an ``engine.steppable.Steppable``)
* :mod:`~engine.recurrent.snapshot` immutable snapshots, step-through phases, divergences
* :mod:`~engine.recurrent.tasks`    the adding problem and the memory task
"""

from engine.recurrent.session import RecurrentSession
from engine.recurrent.snapshot import RecurrentDivergence, RecurrentSnapshot, TimePhase
from engine.recurrent.tasks import ADDING_BASELINE_MSE, SequenceData, load_task

__all__ = [
    "ADDING_BASELINE_MSE",
    "RecurrentDivergence",
    "RecurrentSession",
    "RecurrentSnapshot",
    "SequenceData",
    "TimePhase",
    "load_task",
]
