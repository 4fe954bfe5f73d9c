"""Layout of the kernels' flat buffers and tables, the jit flavours, and small array helpers.

* ``params`` / ``grads``  (P,)  all trainable values; layer k's block is W_k (n_in, n_out),
  b_k (n_out,), then gamma_k, beta_k (batch norm) and alpha_k (PReLU) when present.
* ``itab`` (L+1, N_ITAB) int64 and ``ftab`` (L+1, N_FTAB) float64: per-layer sizes, offsets
  into ``params`` and flags; row L is the output layer.
* ``ws`` (N_KINDS, B * total_width): per-batch workspace; kind ``K_Z`` of layer k is the
  (B, n_k) block starting at ``B * itab[k, COL]``.
* ``bns`` (4, total_width): batch mean, batch 1/std, running mean, running variance.
* ``mtab`` (L+1, N_METRICS) float64: per-layer metrics, columns :class:`engine.metrics.Metric`.
* ``status`` (3,) int64: (:class:`~engine.codes.Phase`, layer, :class:`~engine.codes.Quantity`)
  of the first NaN/Inf.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from engine.codes import WORKSPACE_KINDS
from engine.kernels import _cache  # noqa: F401  (before the first @njit: see its docstring)

# --- itab columns -------------------------------------------------------------------------
N_IN, N_OUT, W_OFF, B_OFF, G_OFF, BE_OFF, P_OFF, END, ACT, BN, RES, DROP, COL = range(13)
N_ITAB = 13
# --- ftab columns -------------------------------------------------------------------------
ACT_P, DROP_P, MAX_GRAD = range(3)
N_FTAB = 3
# --- workspace kinds: (B, n_k) per layer, named in engine.codes.WORKSPACE_KINDS ----------------
N_KINDS = len(WORKSPACE_KINDS)
# int64 scalars, not ints: Numba types an int global as a literal and would compile view()
# once per kind (13 times, ~4 s of a cold compile per dtype)
K_U, K_XH, K_Z, K_FP, K_Y, K_H, K_A, K_GA, K_DH, K_DY, K_DZ, K_DU, K_MASK = (
    np.int64(kind) for kind in range(N_KINDS)
)
# --- bns rows -----------------------------------------------------------------------------
BN_MEAN, BN_INV, RUN_MEAN, RUN_VAR = range(4)
# --- hyper-parameters (hp, float64) and integer settings (ip, int64) --------------------------
(
    H_LR,
    H_MOM,
    H_RHO,
    H_B1,
    H_B2,
    H_EPS,
    H_WD,
    H_CLIP_NORM,
    H_CLIP_VALUE,
    H_BN_MOM,
    H_BN_EPS,
    H_T,
) = range(12)
N_HP = 12
I_LOSS, I_OPT, I_TRAIN, I_RECORD = range(4)
N_IP = 4

# "reassoc" lets sums vectorise (results stay deterministic for a given build); no "nnan" /
# "ninf", which would let LLVM assume away the NaN/Inf the divergence checks look for.
jit = njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
jit_exact = njit(cache=True, nogil=True, error_model="numpy")  # no reassociation at all
# Inlined into the caller's Numba IR (LLVM's inliner gives up on the larger activation helpers,
# and a loop that makes a call per element does not vectorise).  Inlined code takes the
# caller's fastmath flags, so the "exact" helpers are inlined only into "exact" loops.
jit_inline = njit(
    cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"}, inline="always"
)
# exp's reduction and polynomial: fusing a * b + c into one FMA only removes roundings (the
# 1.5 * 2^52 rounding trick still yields an integer), and makes exp ~30% faster.
jit_contract = njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
jit_exact_inline = njit(cache=True, nogil=True, error_model="numpy", inline="always")


def _c_array(name, a):
    """Reject anything but a C-contiguous array (a borrowed view of another would be wrong)."""
    if not isinstance(a, types.Array) or a.layout != "C":
        raise TypingError(f"{name}: expected a C-contiguous array, got {a}")


def _itemsize(context, dtype):
    return context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(dtype)))


def _borrowed_array(context, builder, ret_type, data, shape, strides):
    """An array struct of ``ret_type`` over ``data`` with a null meminfo (no reference)."""
    out = make_array(ret_type)(context, builder)
    itemsize = _itemsize(context, ret_type.dtype)
    populate_array(out, data=data, shape=shape, strides=strides, itemsize=itemsize, meminfo=None)
    return out._getvalue()


@intrinsic
def borrow(typingctx, buf, off, shape):
    """The C-contiguous array of ``shape`` over ``buf``'s elements from flat index ``off`` on,
    holding no reference to ``buf``'s memory (a null meminfo).

    The training loops make thousands of views per step; a Numba view bumps its buffer's
    reference count atomically at every creation and every call it is passed to, and
    ``reshape`` calls a C helper.  A borrowed view makes neither (its reference-count calls
    return at once), so it must not outlive ``buf``: the kernels only make them of the arrays
    they were called with and never hand one back to Python.  No bounds check: callers index
    with the layout tables, whose blocks lie inside their buffers by construction.
    """
    _c_array("borrow", buf)
    if not isinstance(shape, types.UniTuple) or not isinstance(shape.dtype, types.Integer):
        raise TypingError(f"borrow: expected a tuple of integers as shape, got {shape}")
    ret = types.Array(buf.dtype, shape.count, "C")
    sig = ret(buf, types.intp, types.UniTuple(types.intp, shape.count))

    def codegen(context, builder, signature, args):
        src = make_array(buf)(context, builder, args[0])
        dims = cgutils.unpack_tuple(builder, args[2], shape.count)
        strides = [_itemsize(context, buf.dtype)]
        for d in reversed(dims[1:]):
            strides.insert(0, builder.mul(strides[0], d))
        data = builder.gep(src.data, [args[1]])
        return _borrowed_array(context, builder, ret, data, dims, strides)

    return sig, codegen


@intrinsic
def borrowed(typingctx, a):
    """``a`` itself, without reference counting (see :func:`borrow`; an intrinsic, not a
    kernel: nothing to compile per array type)."""
    _c_array("borrowed", a)

    def codegen(context, builder, signature, args):
        src = make_array(a)(context, builder, args[0])
        return _borrowed_array(context, builder, a, src.data, src.shape, src.strides)

    return a(a), codegen


@intrinsic
def flat(typingctx, a):
    """The elements of a C-contiguous array as a borrowed 1-D view (see :func:`borrow`)."""
    _c_array("flat", a)
    ret = types.Array(a.dtype, 1, "C")

    def codegen(context, builder, signature, args):
        src = make_array(a)(context, builder, args[0])
        strides = [_itemsize(context, a.dtype)]
        return _borrowed_array(context, builder, ret, src.data, [src.nitems], strides)

    return ret(a), codegen


@jit
def view(ws, kind, k, itab, B):
    """The (B, n_k) block of workspace ``kind`` for layer k (borrowed: see :func:`borrow`)."""
    return borrow(ws, kind * ws.shape[1] + B * itab[k, COL], (B, itab[k, N_OUT]))


@jit
def weights(buf, itab, k):
    """W_k (n_in, n_out) as a borrowed view of ``params`` or ``grads``."""
    return borrow(buf, itab[k, W_OFF], (itab[k, N_IN], itab[k, N_OUT]))


@jit
def vec(buf, off, n):
    """buf[off:off + n], borrowed."""
    return borrow(buf, off, (n,))


@jit
def layer_input(X, ws, itab, k, B):
    """a_{k-1}: the data for k = 0, else the previous layer's output."""
    if k == 0:
        return X
    return view(ws, K_A, k - 1, itab, B)


@jit
def sum_sq(a):
    s = 0.0
    for x in a.flat:
        s += float(x) * float(x)
    return s


@jit
def l2_norm(a):
    """Frobenius norm; rescaled when the plain sum of squares of finite entries overflows."""
    s = sum_sq(a)
    if math.isfinite(s):
        return math.sqrt(s)
    m = 0.0
    for x in a.flat:
        m = max(m, abs(float(x)))  # NaN/Inf entries make m (and the norm) non-finite
    if not math.isfinite(m):
        return m if m == m else math.nan
    s = 0.0
    for x in a.flat:
        s += (float(x) / m) ** 2
    return m * math.sqrt(s)


@jit
def mean_std(a):
    """(mean, std, every entry finite): the std of huge finite values may overflow to inf."""
    shift = float(a.flat[0])  # sums about a sample value: no E[x^2] - E[x]^2 cancellation
    s = 0.0
    s2 = 0.0
    finite = True
    for x in a.flat:
        v = float(x)
        finite &= math.isfinite(v)
        s += v - shift
        s2 += (v - shift) * (v - shift)
    n = a.size
    d = s / n
    var = max(s2 / n - d * d, 0.0)
    return shift + d, math.sqrt(var), finite


@jit
def flag(status, phase, k, quantity):
    """Record where a step diverged; returns False so a phase can ``return flag(...)``."""
    status[0] = phase
    status[1] = k
    status[2] = quantity
    return False


#: what ``from engine.kernels.layout import *`` gives: the column and row indices (upper case)
__all__ = [name for name in dir() if name.isupper()]
