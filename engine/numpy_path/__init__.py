"""The kernels' maths in plain NumPy: a backend a Session runs on before Numba is ready.

On a cold Numba cache the compiled kernels take tens of seconds to compile; a session built
on this backend (``Session(..., backend="numpy")``) trains at once, and switches to the
compiled kernels between two steps (or two phases) once they are loaded
(:meth:`engine.session.Session.use_backend`).  Each function here has the signature of its
namesake in :mod:`engine.kernels` and reads and writes the same buffers (parameters,
gradients, optimiser moments, workspace, batch-norm statistics, metric table, status), so a
switch carries every bit of state over; the two agree to rounding (tests/test_numpy_path.py).
Nothing here compiles, and there is no many-step kernel: the session takes single steps.
"""

from engine.numpy_path.activation import activate
from engine.numpy_path.layers import backward_layer, forward_layer
from engine.numpy_path.steps import backward, forward_loss, loss_phase, train_step, update

__all__ = [
    "activate",
    "backward",
    "backward_layer",
    "forward_layer",
    "forward_loss",
    "loss_phase",
    "train_step",
    "update",
]
