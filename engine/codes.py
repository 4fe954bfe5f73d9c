"""Integer codes shared by the Numba kernels and the registries, one IntEnum per concept.

The kernels cannot take a Python function or a string (``cache=True`` needs plain arrays and
scalars), so they dispatch on these codes; Numba reads IntEnum members as compile-time
constants.  The registries derive their names from the members (``LossCode.MSE`` is
``"mse"``), so a name and its code are written once, here.  No NumPy, no Numba, no Qt:
validating a config imports this module.

Adding an activation: a member of :class:`ActCode` (its lower-case name is the config
name), a row in ``engine/activations.py`` and a branch in ``engine/kernels/activation.py``.
"""

from __future__ import annotations

from enum import IntEnum

#: SELU's fixed alpha and lambda (Klambauer et al. 2017), used by the kernel and the reference
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
#: the per-layer (B, n_k) arrays of a kernel workspace, in the kernels' order (K_U .. K_MASK)
WORKSPACE_KINDS = (
    "u",  # x W + b before batch norm ("pre")
    "xhat",  # batch-normalised input of the batch norm
    "z",  # pre-activation
    "fprime",  # f'(z)
    "fz",  # f(z)
    "h",  # f(z) after batch norm ("post")
    "a",  # layer output (after dropout and the skip connection)
    "dL_da",
    "dL_dh",
    "dL_dy",
    "delta",  # dL/dz
    "dL_du",
    "mask",  # dropout keep mask (0 / 1)
)
N_WORKSPACE_KINDS = len(WORKSPACE_KINDS)


class ActCode(IntEnum):
    """Hidden-layer activation (``model.activation``); the output layer uses IDENTITY."""

    IDENTITY = 0
    STEP = 1
    SIGMOID = 2
    TANH = 3
    RELU = 4
    LEAKY_RELU = 5
    PRELU = 6
    ELU = 7
    SELU = 8
    GELU = 9
    GELU_TANH = 10
    SILU = 11
    SOFTPLUS = 12


class LossCode(IntEnum):
    """Output activation + loss (``model.loss``)."""

    SOFTMAX_CE, SIGMOID_BCE, MSE = range(3)


class OptCode(IntEnum):
    """Optimiser (``training.optimizer``)."""

    SGD, MOMENTUM, NESTEROV, RMSPROP, ADAM = range(5)


class BnCode(IntEnum):
    """Batch normalisation (``model.batch_norm``): none, before or after the activation."""

    NONE, PRE, POST = range(3)


class _Labelled(IntEnum):
    """An IntEnum whose members also carry a label for messages; values count from 1 (0 in
    the kernels' status array means "no divergence")."""

    def __new__(cls, label: str):
        value = len(cls.__members__) + 1
        member = int.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Phase(_Labelled):
    """Where a step diverged: ``status[0]`` of the kernels."""

    FORWARD = "forward"
    LOSS = "loss"
    BACKWARD = "backward"
    UPDATE = "update"


class Quantity(_Labelled):
    """What turned NaN/Inf: ``status[2]`` of the kernels."""

    Z = "pre-activation z"
    ACT = "activation a"
    LOSS = "loss"
    DELTA = "delta = dL/dz"
    GRAD = "weight gradient dL/dW"
    WEIGHTS = "weights W"


def names(codes: type[IntEnum]) -> tuple[str, ...]:
    """The config names of ``codes``' members in code order, e.g. ``("none", "pre", "post")``."""
    return tuple(member.name.lower() for member in codes)


def code_of(codes: type[IntEnum], name: str, field: str) -> IntEnum:
    """The member of ``codes`` called ``name``; ``ValueError`` names ``field`` and the choices."""
    member = codes.__members__.get(name.upper()) if isinstance(name, str) else None
    if member is None or member.name.lower() != name:
        raise ValueError(f"{field}: expected one of {', '.join(names(codes))}, got {name!r}")
    return member
