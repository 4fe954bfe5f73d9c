"""Numba kernels for the MLP: one function per phase, plus a fused training step.

Private by convention: callers go through ``engine.network``.  Every kernel takes only
arrays and scalars (so ``cache=True`` works) and selects activations, losses and optimisers by
integer code.  The network lives in flat buffers described by two layer tables:

* ``params`` / ``grads``  (P,)  all trainable values; layer k's block is W_k (n_in, n_out),
  b_k (n_out,), then gamma_k, beta_k (batch norm) and alpha_k (PReLU) when present.
* ``itab`` (L+1, N_ITAB) int64 and ``ftab`` (L+1, N_FTAB) float64: per-layer sizes, offsets
  into ``params`` and flags; row L is the output layer.
* ``ws`` (N_KINDS, B * total_width): per-batch workspace; kind ``K_Z`` of layer k is the
  (B, n_k) block starting at ``B * itab[k, COL]``.
* ``bns`` (4, total_width): batch mean, batch 1/std, running mean, running variance.

The fused :func:`train_step` calls the very same phase kernels as the step-through stepper,
so the two paths give bit-identical numbers by construction.
"""

import math

import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic, overload

# --- itab columns -------------------------------------------------------------------------
N_IN, N_OUT, W_OFF, B_OFF, G_OFF, BE_OFF, P_OFF, END, ACT, BN, RES, DROP, COL = range(13)
N_ITAB = 13
# --- ftab columns -------------------------------------------------------------------------
ACT_P, DROP_P, MAX_GRAD = range(3)
N_FTAB = 3
# --- workspace kinds (each (B, n_k) per layer) ------------------------------------------------
K_U, K_XH, K_Z, K_FP, K_Y, K_H, K_A, K_GA, K_DH, K_DY, K_DZ, K_DU, K_MASK = range(13)
N_KINDS = 13
# --- bns rows -----------------------------------------------------------------------------
BN_MEAN, BN_INV, RUN_MEAN, RUN_VAR = range(4)
# --- metric columns (mtab: (L+1, N_METRICS) float64) ----------------------------------------
(
    M_GW,
    M_GB,
    M_DELTA_RMS,
    M_DELTA_NORM,
    M_GIN,
    M_FP_MEAN,
    M_SAT,
    M_DEAD,
    M_W,
    M_UPD,
    M_ACT_MEAN,
    M_ACT_STD,
    M_Z_MEAN,
    M_Z_STD,
    M_GALPHA,
) = range(15)
N_METRICS = 15
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
# --- codes --------------------------------------------------------------------------------
LOSS_SOFTMAX_CE, LOSS_SIGMOID_BCE, LOSS_MSE = range(3)
OPT_SGD, OPT_MOMENTUM, OPT_NESTEROV, OPT_RMSPROP, OPT_ADAM = range(5)
BN_NONE, BN_PRE, BN_POST = range(3)
# --- divergence status: status[:] = (phase, layer, quantity) ------------------------------
PH_FORWARD, PH_LOSS, PH_BACKWARD, PH_UPDATE = 1, 2, 3, 4
Q_Z, Q_ACT, Q_LOSS, Q_DELTA, Q_GRAD, Q_WEIGHTS = 1, 2, 3, 4, 5, 6

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2_OVER_PI = 0.7978845608028654

# "reassoc" lets sums vectorise (results stay deterministic for a given build); no "nnan" /
# "ninf", which would let LLVM assume away the NaN/Inf the divergence checks look for.
_jit = njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
_jit_exact = njit(cache=True, nogil=True, error_model="numpy")  # no reassociation at all
# Inlined into the caller's Numba IR (LLVM's inliner gives up on the larger activation helpers,
# and a loop that makes a call per element does not vectorise).  Inlined code takes the
# caller's fastmath flags, so the "exact" helpers are inlined only into "exact" loops.
_jit_inline = njit(
    cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"}, inline="always"
)
# exp's reduction and polynomial: fusing a * b + c into one FMA only removes roundings (the
# 1.5 * 2^52 rounding trick still yields an integer), and makes exp ~30% faster.
_jit_contract = njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
_jit_exact_inline = njit(cache=True, nogil=True, error_model="numpy", inline="always")


# ============================================================================================
# small helpers
# ============================================================================================
@_jit
def _view(ws, kind, k, itab, B):
    """The (B, n_k) block of workspace ``kind`` for layer k."""
    n = itab[k, N_OUT]
    off = B * itab[k, COL]
    return ws[kind, off : off + B * n].reshape((B, n))


@_jit
def _weights(buf, itab, k):
    """W_k (n_in, n_out) as a view of ``params`` or ``grads``."""
    n_in, n_out, off = itab[k, N_IN], itab[k, N_OUT], itab[k, W_OFF]
    return buf[off : off + n_in * n_out].reshape((n_in, n_out))


@_jit
def _vec(buf, off, n):
    return buf[off : off + n]


@_jit
def _layer_input(X, ws, itab, k, B):
    """a_{k-1}: the data for k = 0, else the previous layer's output."""
    if k == 0:
        return X
    return _view(ws, K_A, k - 1, itab, B)


@_jit
def _sum_sq(a):
    s = 0.0
    for x in a.flat:
        s += float(x) * float(x)
    return s


@_jit
def _norm(a):
    """Frobenius norm; rescaled when the plain sum of squares of finite entries overflows."""
    s = _sum_sq(a)
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


@_jit
def _mean_std(a):
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


@_jit
def _flag(status, phase, k, quantity):
    status[0] = phase
    status[1] = k
    status[2] = quantity
    return False


# ============================================================================================
# activations: value and derivative together, one vectorisable loop per activation code
# ============================================================================================
@intrinsic
def _bits_to_float(typingctx, i):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _float_to_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return types.int64(types.float64), codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # 32 significant bits, so n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2^52: x + _ROUND rounds x to an integer kept in low bits
_EXP_MIN = -746.0  # e^x is 0 below this (subnormal results flush to 0 anyway)
_EXP_MAX = 709.0  # e^709 is finite, so nothing built from e^x overflows


@_jit_contract
def _exp_core(x):
    """(n, e^r - 1) with x = n ln2 + r, |r| <= ln2 / 2: the half that exp and expm1 share.

    Cody-Waite reduction: n ln2_hi is exact, so r == x when n == 0, which is what keeps expm1
    exact near 0.  The Taylor series r + r^2 (1/2! + r/3! + ... + r^11/13!) never rounds its
    leading term r and truncates below 0.1 ulp.  x is clamped to [_EXP_MIN, _EXP_MAX]; no
    branches, so the loops that call it vectorise (libm's exp / expm1 do not).
    """
    x = x if x > _EXP_MIN else _EXP_MIN
    x = x if x < _EXP_MAX else _EXP_MAX
    t = x * _LOG2E + _ROUND
    n = t - _ROUND
    r_hi = x - n * _LN2_HI
    r = r_hi - n * _LN2_LO
    q = 1.0 / 6227020800.0
    q = 1.0 / 479001600.0 + r * q
    q = 1.0 / 39916800.0 + r * q
    q = 1.0 / 3628800.0 + r * q
    q = 1.0 / 362880.0 + r * q
    q = 1.0 / 40320.0 + r * q
    q = 1.0 / 5040.0 + r * q
    q = 1.0 / 720.0 + r * q
    q = 1.0 / 120.0 + r * q
    q = 1.0 / 24.0 + r * q
    q = 1.0 / 6.0 + r * q
    q = 0.5 + r * q
    p = r + r * r * q
    return _float_to_bits(t) - _float_to_bits(_ROUND), p


@_jit_exact
def _pow2(n):
    """2^n assembled from its bits, for -1022 <= n <= 1023 (n = -1023 gives 0.0)."""
    return _bits_to_float((n + 1023) << 52)


@_jit_contract
def _exp_expm1(x):
    """(e^x, e^x - 1), each to about 1 ulp, from one reduction.

    e^x - 1 = 2^n (e^r - 1) + (2^n - 1) has no cancellation to speak of (for n == 0 it is
    e^r - 1 itself).  Below x ~ -708.4 (2^n under the smallest normal) e^x flushes to 0 and
    e^x - 1 is -1; measured: 1.0 ulp (exp) and 1.2 ulp (expm1) against mpmath on +-[1e-300, 700]
    (tests/test_precision.py).
    """
    n, p = _exp_core(x)
    s = _pow2(max(n, -1023))
    return s + s * p, s * p + (s - 1.0)


@_jit_exact
def _exp(x):
    """e^x to about 1 ulp, branch-free; saturates at e^709 (a NaN z is caught by the layer's
    finiteness check, not here)."""
    return _exp_expm1(x)[0]


@_jit_exact
def _expm1(x):
    """e^x - 1 to a few ulp over the whole range, exact near 0 (e^x - 1 loses every digit)."""
    return _exp_expm1(x)[1]


@_jit_inline
def _sigmoid_parts(x):
    """(sigma(x), sigma'(x)) from u = e^-|x|.

    sigma(-|x|) = u / (1 + u) and sigma' = u / (1 + u)^2 keep full relative precision in both
    tails, where s (1 - s) would round 1 - s to 0 and report a zero gradient.
    """
    u = _exp(-abs(x))
    r = 1.0 / (1.0 + u)  # one division: sigmoid nets spend most of their time here
    return (1.0 if x >= 0.0 else u) * r, u * r * r


@_jit
def _sigmoid(x):
    return _sigmoid_parts(x)[0]


@_jit_inline
def _tanh_parts(x):
    """(tanh x, tanh' x) with no cancellation anywhere.

    With u = e^-2|x| and m = u - 1 (from expm1): tanh|x| = -m / (2 + m) keeps every digit near
    0, where (1 - u) / (1 + u) loses them all; tanh' = 4 u / (1 + u)^2 keeps them in the tails,
    where 1 - tanh^2 rounds to 0.
    """
    u, m = _exp_expm1(-2.0 * abs(x))
    r = 1.0 / (2.0 + m)  # one division, as for the sigmoid
    t = (0.0 - m) * r
    return (t if x >= 0.0 else -t), 4.0 * u * r * r


# --- float32: the same forms in single precision -------------------------------------------
# A float32 net computing its activations in float64 pays float64's price (half the SIMD
# lanes, conversions both ways) for digits it then rounds away.  Sigmoid and tanh, the
# activations whose gradients the lab is about, get float32 versions of the exp / expm1 above:
# ~3x faster, within a few float32 ulp of the float64 result everywhere, exact near 0 and into
# the subnormal tails (tests/test_float32.py).  The other activations stay in float64.
@intrinsic
def _bits_to_float32(typingctx, i):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _float32_to_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(32))

    return types.int32(types.float32), codegen


_F32 = np.float32
_ONE32, _TWO32, _FOUR32, _ZERO32 = _F32(1.0), _F32(2.0), _F32(4.0), _F32(0.0)
_LOG2E_32 = _F32(_LOG2E)
_LN2_HI_32 = _F32(0.693359375)  # 9 significant bits, so n * _LN2_HI_32 is exact
_LN2_LO_32 = _F32(-2.12194440e-4)
_ROUND_32 = _F32(12582912.0)  # 1.5 * 2^23
_EXP_MIN_32 = _F32(-104.0)  # e^x rounds to 0 below
_EXP_MAX_32 = _F32(88.0)  # e^88 is finite in float32
_Q32 = tuple(_F32(1.0 / math.factorial(k)) for k in range(2, 8))  # 1/2! .. 1/7!


@_jit_contract
def _exp_expm1_32(x):
    """(e^x, e^x - 1) in float32 for float32 x: :func:`_exp_expm1` with float32 constants.

    Taylor to r^7 / 7! truncates below 0.1 ulp on |r| <= ln2 / 2; r == x when n == 0, so
    e^x - 1 keeps every digit near 0.  2^n is applied as 2^h 2^(n-h), two normal numbers,
    so subnormal results keep their digits too.
    """
    x = x if x > _EXP_MIN_32 else _EXP_MIN_32
    x = x if x < _EXP_MAX_32 else _EXP_MAX_32
    t = x * _LOG2E_32 + _ROUND_32
    fn = t - _ROUND_32
    r = (x - fn * _LN2_HI_32) - fn * _LN2_LO_32
    q2, q3, q4, q5, q6, q7 = _Q32
    q = q6 + r * q7
    q = q5 + r * q
    q = q4 + r * q
    q = q3 + r * q
    q = q2 + r * q
    p = r + r * r * q
    n = _float32_to_bits(t) - _float32_to_bits(_ROUND_32)
    h = n >> 1
    s1 = _bits_to_float32((h + 127) << 23)
    s2 = _bits_to_float32((n - h + 127) << 23)
    s = s1 * s2
    return (s1 + s1 * p) * s2, s * p + (s - _ONE32)


@_jit_inline
def _sigmoid_parts32(x):
    """:func:`_sigmoid_parts` in float32."""
    u = _exp_expm1_32(-abs(x))[0]
    r = _ONE32 / (_ONE32 + u)
    return (_ONE32 if x >= _ZERO32 else u) * r, u * r * r


@_jit_inline
def _tanh_parts32(x):
    """:func:`_tanh_parts` in float32."""
    u, m = _exp_expm1_32(-_TWO32 * abs(x))
    r = _ONE32 / (_TWO32 + m)
    t = (_ZERO32 - m) * r
    return (t if x >= _ZERO32 else -t), _FOUR32 * u * r * r


def _sigmoid_any(x):
    """(sigma(x), sigma'(x)) in the precision of x (compiled only)."""


def _tanh_any(x):
    """(tanh x, tanh' x) in the precision of x (compiled only)."""


@overload(_sigmoid_any, inline="always")
def _sigmoid_any_impl(x):
    if x == types.float32:
        return lambda x: _sigmoid_parts32(x)
    return lambda x: _sigmoid_parts(x)


@overload(_tanh_any, inline="always")
def _tanh_any_impl(x):
    if x == types.float32:
        return lambda x: _tanh_parts32(x)
    return lambda x: _tanh_parts(x)


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma: one instruction on CPUs with FMA)."""

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float64(types.float64, types.float64, types.float64), codegen


_INV_SQRT2_LO = -4.833646656726457e-17  # 1 / sqrt 2 - _INV_SQRT2
_SQRT2 = 1.4142135623730951
_GELU_C = 0.044715
_TWO_K = 2.0 * _SQRT_2_OVER_PI


@_jit_exact_inline
def _gelu_erf(x):
    """(x Phi(x), Phi(x) + x phi(x)) to a few ulp, z << 0 included.

    Phi = erfc(y) / 2 with y = -x / sqrt 2, not (1 + erf) / 2, which cancels for z << 0.
    erfc(y) ~ e^-y^2 magnifies the rounding error of y by 2 y^2 (~1000 ulp at z = -30), so
    the exact remainder dy of y (FMA) is added to first order; phi likewise uses x^2 = hi + lo.
    """
    x = float(x)
    xc = min(max(x, -40.0), 40.0)  # phi underflows beyond, and x^2 stays finite
    hi = xc * xc
    phi = _exp(-0.5 * hi) * (1.0 - 0.5 * _fma(xc, xc, -hi)) * _INV_SQRT_2PI
    y = -x * _INV_SQRT2
    dy = _fma(-x, _INV_SQRT2, -y) - x * _INV_SQRT2_LO
    cdf = 0.5 * math.erfc(y) - _SQRT2 * phi * dy
    return x * cdf, cdf + x * phi


@_jit_exact_inline
def _gelu_tanh(x):
    """0.5 x (1 + tanh w), w = k (x + c x^3), as x sigma(2w) with 2w in double-double.

    1 + tanh w cancels for z << 0; sigma does not.  sigma(2w) ~ e^2w magnifies the rounding
    error of 2w by |2w| (up to ~700), so 2w = w + wl carries its exact remainder (FMA) and
    e^-|2w| is corrected to first order.
    """
    x = float(x)
    xc = min(max(x, -1e3), 1e3)  # sigma(2w) is exactly 0 or 1 beyond, and x^3 stays finite
    x2 = xc * xc
    x2l = _fma(xc, xc, -x2)
    x3 = x2 * xc
    x3l = _fma(x2, xc, -x3) + x2l * xc
    cx3 = _GELU_C * x3
    cx3l = _fma(_GELU_C, x3, -cx3) + _GELU_C * x3l
    v = xc + cx3
    vb = v - xc
    vl = ((xc - (v - vb)) + (cx3 - vb)) + cx3l  # two-sum remainder
    w = _TWO_K * v
    wl = _fma(_TWO_K, v, -w) + _TWO_K * vl
    u = _exp(-abs(w)) * (1.0 - wl if w >= 0.0 else 1.0 + wl)
    d = 1.0 + u
    s = (1.0 if w >= 0.0 else u) / d
    ds = u / (d * d)
    dw = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * x2)
    return x * s, s + 2.0 * xc * ds * dw


@_jit_exact
def _gelu_erf_loop(zf, yf, ff):
    for i in range(zf.size):
        yf[i], ff[i] = _gelu_erf(zf[i])


@_jit_exact
def _gelu_tanh_loop(zf, yf, ff):
    for i in range(zf.size):
        yf[i], ff[i] = _gelu_tanh(zf[i])


@_jit
def _apply_activation(code, p, z, y, fp):
    """y = f(z), fp = f'(z) for activation ``code`` with parameter ``p`` (slope / alpha).

    z, y, fp are C-contiguous arrays of one shape.  The branch on ``code`` sits outside the
    loops so each loop is branch-light and vectorises.  Every formula keeps full relative
    precision near z = 0 and in the tails (tests/test_precision.py): the lab exists to show
    tiny gradients, so they must be the true ones.
    """
    zf, yf, ff = z.ravel(), y.ravel(), fp.ravel()
    n = zf.size
    if code == 0:  # identity
        for i in range(n):
            yf[i], ff[i] = zf[i], 1.0
    elif code == 1:  # step: flat everywhere, so no gradient ever flows
        for i in range(n):
            yf[i], ff[i] = (1.0 if zf[i] > 0.0 else 0.0), 0.0
    elif code == 2:  # sigmoid
        for i in range(n):
            yf[i], ff[i] = _sigmoid_any(zf[i])
    elif code == 3:  # tanh
        for i in range(n):
            yf[i], ff[i] = _tanh_any(zf[i])
    elif code == 4:  # relu
        for i in range(n):
            x = zf[i]
            yf[i], ff[i] = (x if x > 0.0 else 0.0), (1.0 if x > 0.0 else 0.0)
    elif code == 5 or code == 6:  # leaky relu (fixed p) / prelu (learned p)
        for i in range(n):
            x = zf[i]
            yf[i], ff[i] = (x if x > 0.0 else p * x), (1.0 if x > 0.0 else p)
    elif code == 7 or code == 8:  # elu / selu (p = alpha, scaled by lambda for selu)
        a, lam = (p, 1.0) if code == 7 else (_SELU_ALPHA, _SELU_SCALE)
        for i in range(n):
            x = zf[i]
            e, m = _exp_expm1(x if x < 0.0 else 0.0)
            yf[i] = lam * (x if x > 0.0 else a * m)  # a (e^z - 1) would cancel near 0
            ff[i] = lam * (1.0 if x > 0.0 else a * e)
    elif code == 9:  # gelu, exact erf form
        _gelu_erf_loop(zf, yf, ff)
    elif code == 10:  # gelu, tanh approximation
        _gelu_tanh_loop(zf, yf, ff)
    elif code == 11:  # silu / swish: f' = s + z s (1 - s), the last factor without cancelling
        for i in range(n):
            x = zf[i]
            s, ds = _sigmoid_parts(x)
            yf[i], ff[i] = x * s, s + x * ds
    elif code == 12:  # softplus = log(1 + e^z), written so it never overflows
        for i in range(n):
            x = zf[i]
            u = _exp(-abs(x))
            yf[i] = max(x, 0.0) + math.log1p(u)
            ff[i] = (1.0 if x >= 0.0 else u) / (1.0 + u)


@_jit
def activate(code, p, z, y, fp):
    """Public entry to the training loops' activation code (tests and the gallery use it)."""
    _apply_activation(code, p, z, y, fp)


# ============================================================================================
# batch normalisation over the batch axis
# ============================================================================================
@_jit
def _batch_moments(x, j):
    """(mean, biased variance) of column j by the corrected two-pass algorithm.

    E[x^2] - E[x]^2 cancels when the mean dwarfs the spread (data offset by 1e4 std loses 8
    digits of the variance); sums of d = x - mean do not, and the second pass's sum of d also
    corrects the rounding error of the first mean (Chan, Golub & LeVeque 1983).
    """
    B = x.shape[0]
    s = 0.0
    for i in range(B):
        s += x[i, j]
    m0 = s / B
    sd = 0.0
    sd2 = 0.0
    for i in range(B):
        d = x[i, j] - m0
        sd += d
        sd2 += d * d
    c = sd / B
    return m0 + c, max(sd2 / B - c * c, 0.0)


@_jit
def _bn_forward(x, out, xh, gamma, beta, bns, col, train, momentum, eps):
    B, n = x.shape
    for j in range(n):
        if train:
            mean, var = _batch_moments(x, j)
            bns[RUN_MEAN, col + j] = momentum * bns[RUN_MEAN, col + j] + (1 - momentum) * mean
            bns[RUN_VAR, col + j] = momentum * bns[RUN_VAR, col + j] + (1 - momentum) * var
        else:
            mean = bns[RUN_MEAN, col + j]
            var = bns[RUN_VAR, col + j]
        inv = 1.0 / math.sqrt(var + eps)
        bns[BN_MEAN, col + j] = mean
        bns[BN_INV, col + j] = inv
        for i in range(B):
            xh[i, j] = (x[i, j] - mean) * inv
            out[i, j] = gamma[j] * xh[i, j] + beta[j]


@_jit
def _bn_backward(dout, xh, gamma, bns, col, dx, dgamma, dbeta):
    """Training-mode batch-norm backward (the batch statistics depend on x too)."""
    B, n = dout.shape
    for j in range(n):
        sg = 0.0
        sgx = 0.0
        for i in range(B):
            sg += dout[i, j]
            sgx += dout[i, j] * xh[i, j]
        dgamma[j] = sgx
        dbeta[j] = sg
        scale = gamma[j] * bns[BN_INV, col + j] / B
        for i in range(B):
            dx[i, j] = scale * (B * dout[i, j] - sg - xh[i, j] * sgx)


# ============================================================================================
# forward through one layer
# ============================================================================================
@_jit
def _linear(a_prev, W, b, out):
    np.dot(a_prev, W, out)
    B, n = out.shape
    for i in range(B):
        for j in range(n):
            out[i, j] += b[j]


@_jit
def _act_param(params, itab, ftab, k):
    if itab[k, P_OFF] >= 0:
        return float(params[itab[k, P_OFF]])
    return ftab[k, ACT_P]


@_jit
def _combine(h, a_prev, mask, a, drop, p_drop, residual):
    """a = dropout(h) + a_prev (residual); inverted dropout keeps E[a] unchanged."""
    B, n = h.shape
    scale = 1.0 / (1.0 - p_drop)
    for i in range(B):
        for j in range(n):
            v = h[i, j] * mask[i, j] * scale if drop else h[i, j]
            a[i, j] = v + a_prev[i, j] if residual else v


@_jit
def _forward_metrics(k, y, a, z, fp, max_grad, mtab):
    """Per-layer forward metrics; returns the first non-finite quantity code (0 if none)."""
    mtab[k, M_ACT_MEAN], mtab[k, M_ACT_STD], a_ok = _mean_std(a)
    mtab[k, M_Z_MEAN], mtab[k, M_Z_STD], z_ok = _mean_std(z)
    B, n = fp.shape
    s = 0.0
    sat = 0
    for i in range(B):
        for j in range(n):
            g = abs(fp[i, j])
            s += g
            if g <= 0.01 * max_grad:  # a step layer (max 0) counts as fully saturated
                sat += 1
    mtab[k, M_FP_MEAN] = s / (B * n)
    mtab[k, M_SAT] = sat / (B * n)
    dead = 0
    for j in range(n):
        alive = False
        for i in range(B):
            if y[i, j] != 0.0:
                alive = True
                break
        if not alive:
            dead += 1
    mtab[k, M_DEAD] = dead / n
    return 0 if z_ok and a_ok else (Q_Z if not z_ok else Q_ACT)


@_jit
def forward_layer(k, X, params, itab, ftab, ws, bns, mtab, hp, ip, status):
    """Phase ``forward(k)``: z_k, a_k = f(z_k) and f'(z_k).  Returns False on NaN/Inf."""
    B = X.shape[0]
    L = itab.shape[0] - 1
    a_prev = _layer_input(X, ws, itab, k, B)
    W = _weights(params, itab, k)
    b = _vec(params, itab[k, B_OFF], itab[k, N_OUT])
    n, col, bn, train = itab[k, N_OUT], itab[k, COL], itab[k, BN], ip[I_TRAIN] != 0
    z = _view(ws, K_Z, k, itab, B)
    if bn == BN_PRE:
        u = _view(ws, K_U, k, itab, B)
        _linear(a_prev, W, b, u)
        _bn_forward(
            u,
            z,
            _view(ws, K_XH, k, itab, B),
            _vec(params, itab[k, G_OFF], n),
            _vec(params, itab[k, BE_OFF], n),
            bns,
            col,
            train,
            hp[H_BN_MOM],
            hp[H_BN_EPS],
        )
    else:
        _linear(a_prev, W, b, z)
    if k == L:  # output logits; the loss phase applies softmax / sigmoid
        if not ip[I_RECORD]:
            return True
        mtab[k, M_Z_MEAN], mtab[k, M_Z_STD], z_ok = _mean_std(z)
        mtab[k, M_ACT_MEAN], mtab[k, M_ACT_STD] = mtab[k, M_Z_MEAN], mtab[k, M_Z_STD]
        return z_ok or _flag(status, PH_FORWARD, k, Q_Z)
    y = _view(ws, K_Y, k, itab, B)
    fp = _view(ws, K_FP, k, itab, B)
    _apply_activation(itab[k, ACT], _act_param(params, itab, ftab, k), z, y, fp)
    h = y
    if bn == BN_POST:
        h = _view(ws, K_H, k, itab, B)
        _bn_forward(
            y,
            h,
            _view(ws, K_XH, k, itab, B),
            _vec(params, itab[k, G_OFF], n),
            _vec(params, itab[k, BE_OFF], n),
            bns,
            col,
            train,
            hp[H_BN_MOM],
            hp[H_BN_EPS],
        )
    a = _view(ws, K_A, k, itab, B)
    _combine(
        h,
        a_prev,
        _view(ws, K_MASK, k, itab, B),
        a,
        itab[k, DROP] != 0 and train,
        ftab[k, DROP_P],
        itab[k, RES] != 0,
    )
    if ip[I_RECORD]:
        bad = _forward_metrics(k, y, a, z, fp, ftab[k, MAX_GRAD], mtab)
        if bad:
            return _flag(status, PH_FORWARD, k, bad)
    return True


# ============================================================================================
# loss: output activation, loss value, correct count and delta_out = dL/dz_out
# ============================================================================================
@_jit
def _softmax_ce_row(z, t, p, d, inv_b):
    m = z.max()
    s = 0.0
    for j in range(z.size):
        s += math.exp(z[j] - m)
    lse = m + math.log(s)
    loss = 0.0
    best = 0
    for j in range(z.size):
        p[j] = math.exp(z[j] - lse)
        d[j] = (p[j] - t[j]) * inv_b
        loss -= t[j] * (z[j] - lse)
        if z[j] > z[best]:
            best = j
    return loss, 1.0 if t[best] == t.max() else 0.0


@_jit
def _sigmoid_bce_row(z, t, p, d, inv_bn):
    loss = 0.0
    hits = 0.0
    for j in range(z.size):
        x = z[j]
        p[j] = _sigmoid(x)
        d[j] = (p[j] - t[j]) * inv_bn
        # log(1 + e^-|x|) form never takes log(0)
        loss += max(x, 0.0) - x * t[j] + math.log1p(math.exp(-abs(x)))
        hits += 1.0 if (p[j] > 0.5) == (t[j] > 0.5) else 0.0
    return loss / z.size, hits / z.size


@_jit
def _mse_row(z, t, p, d, inv_bn):
    loss = 0.0
    for j in range(z.size):
        p[j] = z[j]
        r = z[j] - t[j]
        d[j] = 2.0 * r * inv_bn
        loss += r * r
    return loss / z.size, 0.0


@_jit
def _l2_penalty(params, itab):
    s = 0.0
    for k in range(itab.shape[0]):
        s += _sum_sq(_weights(params, itab, k))
    return s


@_jit
def loss_phase(T, params, itab, ws, hp, ip, out, status):
    """Phase ``loss``: out[0] = mean loss (+ L2 term), out[1] = number of correct examples."""
    B = T.shape[0]
    L = itab.shape[0] - 1
    z = _view(ws, K_Z, L, itab, B)
    p = _view(ws, K_Y, L, itab, B)
    d = _view(ws, K_DZ, L, itab, B)
    n = z.shape[1]
    loss = 0.0
    correct = 0.0
    code = ip[I_LOSS]
    for i in range(B):
        if code == LOSS_SOFTMAX_CE:
            li, ci = _softmax_ce_row(z[i], T[i], p[i], d[i], 1.0 / B)
        elif code == LOSS_SIGMOID_BCE:
            li, ci = _sigmoid_bce_row(z[i], T[i], p[i], d[i], 1.0 / (B * n))
        else:
            li, ci = _mse_row(z[i], T[i], p[i], d[i], 1.0 / (B * n))
        loss += li
        correct += ci
    loss /= B
    if hp[H_WD] > 0.0:
        loss += 0.5 * hp[H_WD] * _l2_penalty(params, itab)
    out[0] = loss
    out[1] = correct
    return math.isfinite(loss) or _flag(status, PH_LOSS, L, Q_LOSS)


# ============================================================================================
# backward through one layer
# ============================================================================================
@_jit
def _mul(a, b, out):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] * b[i, j]


@_jit
def _dropout_back(ga, mask, dh, p_drop):
    scale = 1.0 / (1.0 - p_drop)
    for i in range(ga.shape[0]):
        for j in range(ga.shape[1]):
            dh[i, j] = ga[i, j] * mask[i, j] * scale


@_jit
def _column_sums(a, out):
    out[:] = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[j] += a[i, j]


@_jit
def _prelu_grad(dy, z):
    """dL/dalpha = sum over z <= 0 of dL/dy * z."""
    s = 0.0
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            if z[i, j] <= 0.0:
                s += dy[i, j] * z[i, j]
    return s


@_jit
def _hidden_delta(k, params, grads, itab, ftab, ws, bns, mtab, B):
    """delta_k = dL/dz_k from dL/da_k; fills the BN-post and PReLU gradients on the way."""
    n, col = itab[k, N_OUT], itab[k, COL]
    dh = _view(ws, K_GA, k, itab, B)
    if itab[k, DROP]:
        dh = _view(ws, K_DH, k, itab, B)
        _dropout_back(
            _view(ws, K_GA, k, itab, B), _view(ws, K_MASK, k, itab, B), dh, ftab[k, DROP_P]
        )
    dy = dh
    if itab[k, BN] == BN_POST:
        dy = _view(ws, K_DY, k, itab, B)
        _bn_backward(
            dh,
            _view(ws, K_XH, k, itab, B),
            _vec(params, itab[k, G_OFF], n),
            bns,
            col,
            dy,
            _vec(grads, itab[k, G_OFF], n),
            _vec(grads, itab[k, BE_OFF], n),
        )
    dz = _view(ws, K_DZ, k, itab, B)
    _mul(dy, _view(ws, K_FP, k, itab, B), dz)
    if itab[k, P_OFF] >= 0:
        g = _prelu_grad(dy, _view(ws, K_Z, k, itab, B))
        grads[itab[k, P_OFF]] = g
        mtab[k, M_GALPHA] = g
    return dz


@_jit
def backward_layer(k, X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
    """Phase ``backward(k)``: delta_k, dL/dW_k, dL/db_k and dL/da_{k-1} = delta_k W_k^T."""
    B = X.shape[0]
    L = itab.shape[0] - 1
    n = itab[k, N_OUT]
    dz = (
        _view(ws, K_DZ, k, itab, B)
        if k == L
        else _hidden_delta(k, params, grads, itab, ftab, ws, bns, mtab, B)
    )
    du = dz
    if itab[k, BN] == BN_PRE:
        du = _view(ws, K_DU, k, itab, B)
        _bn_backward(
            dz,
            _view(ws, K_XH, k, itab, B),
            _vec(params, itab[k, G_OFF], n),
            bns,
            itab[k, COL],
            du,
            _vec(grads, itab[k, G_OFF], n),
            _vec(grads, itab[k, BE_OFF], n),
        )
    W = _weights(params, itab, k)
    dW = _weights(grads, itab, k)
    np.dot(_layer_input(X, ws, itab, k, B).T, du, dW)
    if hp[H_WD] > 0.0:
        dW += hp[H_WD] * W
    db = _vec(grads, itab[k, B_OFF], n)
    _column_sums(du, db)
    if k > 0:  # hand dL/da_{k-1} to the layer below; the skip path adds dL/da_k unchanged
        ga_prev = _view(ws, K_GA, k - 1, itab, B)
        np.dot(du, W.T, ga_prev)
        if itab[k, RES]:
            ga_prev += _view(ws, K_GA, k, itab, B)
    mtab[k, M_DELTA_NORM] = _norm(dz)
    mtab[k, M_DELTA_RMS] = mtab[k, M_DELTA_NORM] / math.sqrt(dz.size)
    mtab[k, M_GIN] = _norm(_view(ws, K_GA, k, itab, B)) if k < L else mtab[k, M_DELTA_NORM]
    mtab[k, M_GW] = _norm(dW)
    mtab[k, M_GB] = _norm(db)
    if not math.isfinite(mtab[k, M_DELTA_NORM]):
        return _flag(status, PH_BACKWARD, k, Q_DELTA)
    if not math.isfinite(mtab[k, M_GW] + mtab[k, M_GB]):
        return _flag(status, PH_BACKWARD, k, Q_GRAD)
    return True


# ============================================================================================
# update: clipping, then the optimiser over the flat parameter vector
# ============================================================================================
@_jit
def _clip(grads, hp):
    """Clip by value, then by global norm; returns the raw global norm."""
    norm = _norm(grads)
    v = hp[H_CLIP_VALUE]
    if v > 0.0:
        for i in range(grads.size):
            grads[i] = min(max(grads[i], -v), v)
    c = hp[H_CLIP_NORM]
    if c > 0.0:
        clipped = _norm(grads)
        if clipped > c:
            grads *= c / clipped
    return norm


@_jit
def _sgd(p, g, m, v, hp):
    lr = hp[H_LR]
    s = 0.0
    for i in range(p.size):
        d = -lr * g[i]
        p[i] += d
        s += d * d
    return s


@_jit
def _momentum(p, g, m, v, hp, nesterov):
    lr, mu = hp[H_LR], hp[H_MOM]
    s = 0.0
    for i in range(p.size):
        m[i] = mu * m[i] - lr * g[i]
        d = mu * m[i] - lr * g[i] if nesterov else m[i]
        p[i] += d
        s += d * d
    return s


@_jit
def _rmsprop(p, g, m, v, hp):
    lr, rho, eps = hp[H_LR], hp[H_RHO], hp[H_EPS]
    s = 0.0
    for i in range(p.size):
        v[i] = rho * v[i] + (1.0 - rho) * g[i] * g[i]
        d = -lr * g[i] / (math.sqrt(v[i]) + eps)
        p[i] += d
        s += d * d
    return s


@_jit
def _adam(p, g, m, v, hp):
    b1, b2, eps, t = hp[H_B1], hp[H_B2], hp[H_EPS], hp[H_T]
    alpha = hp[H_LR] * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)  # Keras' bias correction
    s = 0.0
    for i in range(p.size):
        m[i] = b1 * m[i] + (1.0 - b1) * g[i]
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i]
        d = -alpha * m[i] / (math.sqrt(v[i]) + eps)
        p[i] += d
        s += d * d
    return s


@_jit
def _apply(params, grads, m, v, lo, hi, code, hp):
    """Update params[lo:hi]; returns (sum of squared steps, sum of squared old values)."""
    p, g, mm, vv = params[lo:hi], grads[lo:hi], m[lo:hi], v[lo:hi]
    s_old = _sum_sq(p)
    if code == OPT_SGD:
        s_step = _sgd(p, g, mm, vv, hp)
    elif code == OPT_MOMENTUM or code == OPT_NESTEROV:
        s_step = _momentum(p, g, mm, vv, hp, code == OPT_NESTEROV)
    elif code == OPT_RMSPROP:
        s_step = _rmsprop(p, g, mm, vv, hp)
    else:
        s_step = _adam(p, g, mm, vv, hp)
    return s_step, s_old


@_jit
def update(params, grads, m, v, itab, mtab, hp, ip, out, status):
    """Phase ``update``: clip, step every parameter, record ||W_k|| and ||dW_k|| / ||W_k||."""
    out[2] = _clip(grads, hp)
    code = ip[I_OPT]
    for k in range(itab.shape[0]):
        w0 = itab[k, W_OFF]
        w1 = w0 + itab[k, N_IN] * itab[k, N_OUT]
        s_step, s_old = _apply(params, grads, m, v, w0, w1, code, hp)
        _apply(params, grads, m, v, w1, itab[k, END], code, hp)
        w_norm = _norm(params[w0:w1])
        mtab[k, M_W] = w_norm
        mtab[k, M_UPD] = math.sqrt(s_step) / math.sqrt(s_old) if s_old > 0.0 else math.inf
        if not math.isfinite(w_norm):
            return _flag(status, PH_UPDATE, k, Q_WEIGHTS)
    return True


# ============================================================================================
# fused paths
# ============================================================================================
@_jit
def forward_loss(X, T, params, itab, ftab, ws, bns, mtab, hp, ip, out, status):
    """Every forward phase, then the loss phase."""
    for k in range(itab.shape[0]):
        if not forward_layer(k, X, params, itab, ftab, ws, bns, mtab, hp, ip, status):
            return False
    return loss_phase(T, params, itab, ws, hp, ip, out, status)


@_jit
def backward(X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
    """Every backward phase, output layer first."""
    for k in range(itab.shape[0] - 1, -1, -1):
        if not backward_layer(k, X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
            return False
    return True


@_jit
def train_step(X, T, params, grads, m, v, itab, ftab, ws, bns, mtab, hp, ip, out, status):
    """One mini-batch: forward, loss, backward, update; stops at the first NaN/Inf."""
    if not forward_loss(X, T, params, itab, ftab, ws, bns, mtab, hp, ip, out, status):
        return False
    if not backward(X, params, grads, itab, ftab, ws, bns, mtab, hp, status):
        return False
    return update(params, grads, m, v, itab, mtab, hp, ip, out, status)


# ============================================================================================
# many steps in one call
# ============================================================================================
# --- plan (int64): what train_steps runs ------------------------------------------------------
(
    S_STEP0,
    S_N,
    S_BATCH,
    S_SPE,
    S_NTRAIN,
    S_EPOCH0,
    S_ROW0,
    S_PHASE,
    S_STRIDE,
    S_REGRESSION,
    S_DROPOUT,
    S_PROBE_LAYER,
    S_PROBE_METRIC,
) = range(13)
N_PLAN = 13
# --- res (int64): what it did -----------------------------------------------------------------
R_DONE, R_STOP, R_ROWS = range(3)
N_RES = 3
STOP_DONE, STOP_DIVERGED, STOP_PROBE = range(3)
# --- last (float64): the last completed step --------------------------------------------------
L_LOSS, L_ACC, L_GNORM, L_THRESHOLD = range(4)
N_LAST = 4


@_jit
def _gather(X, T, order, lo, Xb, Tb):
    """Xb, Tb = X[order[lo:lo + b]], T[...]: the rows of one mini-batch, in batch order."""
    for r in range(Xb.shape[0]):  # element loops: a row view per row costs more
        src = order[lo + r]
        for c in range(Xb.shape[1]):
            Xb[r, c] = X[src, c]
        for c in range(Tb.shape[1]):
            Tb[r, c] = T[src, c]


@_jit
def _fill_masks(keep, off, ws, itab, b):
    """Dropout masks of every hidden layer from the 0/1 draws ``keep[off:]``, in the order the
    session draws them (layer by layer, row-major); returns the offset of the next step's."""
    for k in range(itab.shape[0] - 1):
        mask = _view(ws, K_MASK, k, itab, b)
        for i in range(b):
            for j in range(mask.shape[1]):
                mask[i, j] = 1.0 if keep[off] else 0.0
                off += 1
    return off


@_jit
def _record(j, step, b, plan, mtab, hp, out, last, rec_steps, rec_rows, rec_scalars, res):
    """Keep the metrics of a completed step: always in ``last``, in the history rows when
    its offer falls on the history's stride (as ``Trace.append`` would keep it)."""
    acc = math.nan if plan[S_REGRESSION] else out[1] / max(b, 1)
    last[L_LOSS], last[L_ACC], last[L_GNORM] = out[0], acc, out[2]
    if (plan[S_PHASE] + j) % plan[S_STRIDE] != 0:
        return
    r = plan[S_ROW0] + res[R_ROWS]
    rec_steps[r] = step
    rec_rows[r] = mtab
    rec_scalars[r, 0], rec_scalars[r, 1] = out[0], acc
    rec_scalars[r, 2], rec_scalars[r, 3] = out[2], hp[H_LR]
    res[R_ROWS] += 1


@_jit
def train_steps(
    X,
    T,
    orders,
    Xb,
    Tb,
    Xs,
    Ts,
    ws_full,
    ws_short,
    keep,
    params,
    grads,
    m,
    v,
    itab,
    ftab,
    bns,
    mtab,
    hp,
    ip,
    out,
    status,
    plan,
    last,
    rec_steps,
    rec_rows,
    rec_scalars,
    res,
):
    """``plan[S_N]`` fused steps, each exactly what one :func:`train_step` call from the
    session does: batch ``i`` of epoch ``e`` is ``X[orders[e - plan[S_EPOCH0]]][i * B:]``
    (gathered into ``Xb`` / ``Tb``, or ``Xs`` / ``Ts`` and ``ws_short`` for an epoch's short
    last batch), dropout masks come from ``keep``, Adam's step number from the step index.

    Stops at the first NaN/Inf (``status`` says where, as for one step) or after the first
    step whose ``mtab[probe layer, probe metric]`` is below ``last[L_THRESHOLD]``.
    ``res[R_DONE]`` = steps completed, ``res[R_STOP]`` = why it stopped, ``res[R_ROWS]`` =
    history rows written from ``plan[S_ROW0]`` on.
    """
    res[R_DONE] = 0
    res[R_STOP] = STOP_DONE
    res[R_ROWS] = 0
    B, spe, n_train = plan[S_BATCH], plan[S_SPE], plan[S_NTRAIN]
    probe_k, probe_m = plan[S_PROBE_LAYER], plan[S_PROBE_METRIC]
    off = 0
    for j in range(plan[S_N]):
        step = plan[S_STEP0] + j  # 0-based: step_count before this step
        i = step % spe
        order = orders[step // spe - plan[S_EPOCH0]]
        lo = i * B
        b = min(B, n_train - lo)
        xb, tb, ws = (Xb, Tb, ws_full) if b == B else (Xs, Ts, ws_short)
        _gather(X, T, order, lo, xb, tb)
        if plan[S_DROPOUT]:
            off = _fill_masks(keep, off, ws, itab, b)
        hp[H_T] = step + 1
        if not train_step(
            xb, tb, params, grads, m, v, itab, ftab, ws, bns, mtab, hp, ip, out, status
        ):
            res[R_STOP] = STOP_DIVERGED
            return
        res[R_DONE] = j + 1
        _record(j, step + 1, b, plan, mtab, hp, out, last, rec_steps, rec_rows, rec_scalars, res)
        if probe_k >= 0 and mtab[probe_k, probe_m] < last[L_THRESHOLD]:
            res[R_STOP] = STOP_PROBE
            return
