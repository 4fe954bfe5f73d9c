"""Elementary functions for the kernels: exp / expm1, sigmoid, tanh and GELU, each with its
derivative, to about 1 ulp and branch-free where a loop must vectorise.

libm's exp / expm1 do not vectorise, and the textbook forms of these activations lose every
digit near 0 or in the tails, where the lab's tiny gradients live (tests/test_precision.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import intrinsic, overload

from engine.kernels.layout import jit, jit_contract, jit_exact, jit_exact_inline, jit_inline

INV_SQRT2 = 0.7071067811865476
INV_SQRT_2PI = 0.3989422804014327
SQRT_2_OVER_PI = 0.7978845608028654


def _bitcast(src, dst):
    """An intrinsic reinterpreting the bits of a ``src`` value as a ``dst`` (same width)."""

    @intrinsic
    def cast(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(dst))

        return dst(src), codegen

    return cast


_bits_to_float = _bitcast(types.int64, types.float64)
_float_to_bits = _bitcast(types.float64, types.int64)
_bits_to_float32 = _bitcast(types.int32, types.float32)
_float32_to_bits = _bitcast(types.float32, types.int32)

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # 32 significant bits, so n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2^52: x + _ROUND rounds x to an integer kept in low bits
_EXP_MIN = -746.0  # e^x is 0 below this (subnormal results flush to 0 anyway)
_EXP_MAX = 709.0  # e^709 is finite, so nothing built from e^x overflows


@jit_contract
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


@jit_exact
def _pow2(n):
    """2^n assembled from its bits, for -1022 <= n <= 1023 (n = -1023 gives 0.0)."""
    return _bits_to_float((n + 1023) << 52)


@jit_contract
def exp_expm1(x):
    """(e^x, e^x - 1), each to about 1 ulp, from one reduction.

    e^x - 1 = 2^n (e^r - 1) + (2^n - 1) has no cancellation to speak of (for n == 0 it is
    e^r - 1 itself).  Below x ~ -708.4 (2^n under the smallest normal) e^x flushes to 0 and
    e^x - 1 is -1; measured: 1.0 ulp (exp) and 1.2 ulp (expm1) against mpmath on +-[1e-300, 700]
    (tests/test_precision.py).
    """
    n, p = _exp_core(x)
    s = _pow2(max(n, -1023))
    return s + s * p, s * p + (s - 1.0)


@jit_exact
def exp(x):
    """e^x to about 1 ulp, branch-free; saturates at e^709 (a NaN z is caught by the layer's
    finiteness check, not here)."""
    return exp_expm1(x)[0]


@jit_exact
def expm1(x):
    """e^x - 1 to a few ulp over the whole range, exact near 0 (e^x - 1 loses every digit)."""
    return exp_expm1(x)[1]


@jit_inline
def sigmoid_parts(x):
    """(sigma(x), sigma'(x)) from u = e^-|x|.

    sigma(-|x|) = u / (1 + u) and sigma' = u / (1 + u)^2 keep full relative precision in both
    tails, where s (1 - s) would round 1 - s to 0 and report a zero gradient.
    """
    u = exp(-abs(x))
    r = 1.0 / (1.0 + u)  # one division: sigmoid nets spend most of their time here
    return (1.0 if x >= 0.0 else u) * r, u * r * r


@jit
def sigmoid(x):
    return sigmoid_parts(x)[0]


@jit_inline
def tanh_parts(x):
    """(tanh x, tanh' x) with no cancellation anywhere.

    With u = e^-2|x| and m = u - 1 (from expm1): tanh|x| = -m / (2 + m) keeps every digit near
    0, where (1 - u) / (1 + u) loses them all; tanh' = 4 u / (1 + u)^2 keeps them in the tails,
    where 1 - tanh^2 rounds to 0.
    """
    u, m = exp_expm1(-2.0 * abs(x))
    r = 1.0 / (2.0 + m)  # one division, as for the sigmoid
    t = (0.0 - m) * r
    return (t if x >= 0.0 else -t), 4.0 * u * r * r


# --- float32: the same forms in single precision -------------------------------------------
# A float32 net computing its activations in float64 pays float64's price (half the SIMD
# lanes, conversions both ways) for digits it then rounds away.  Sigmoid and tanh, the
# activations whose gradients the lab is about, get float32 versions of the exp / expm1 above:
# ~3x faster, within a few float32 ulp of the float64 result everywhere, exact near 0 and into
# the subnormal tails (tests/test_float32.py).  The other activations stay in float64.
_F32 = np.float32
_ONE32, _TWO32, _FOUR32, _ZERO32 = _F32(1.0), _F32(2.0), _F32(4.0), _F32(0.0)
_LOG2E_32 = _F32(_LOG2E)
_LN2_HI_32 = _F32(0.693359375)  # 9 significant bits, so n * _LN2_HI_32 is exact
_LN2_LO_32 = _F32(-2.12194440e-4)
_ROUND_32 = _F32(12582912.0)  # 1.5 * 2^23
_EXP_MIN_32 = _F32(-104.0)  # e^x rounds to 0 below
_EXP_MAX_32 = _F32(88.0)  # e^88 is finite in float32
_Q32 = tuple(_F32(1.0 / math.factorial(k)) for k in range(2, 8))  # 1/2! .. 1/7!


@jit_contract
def exp_expm1_32(x):
    """(e^x, e^x - 1) in float32 for float32 x: :func:`exp_expm1` with float32 constants.

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


@jit_inline
def sigmoid_parts32(x):
    """:func:`sigmoid_parts` in float32."""
    u = exp_expm1_32(-abs(x))[0]
    r = _ONE32 / (_ONE32 + u)
    return (_ONE32 if x >= _ZERO32 else u) * r, u * r * r


@jit_inline
def tanh_parts32(x):
    """:func:`tanh_parts` in float32."""
    u, m = exp_expm1_32(-_TWO32 * abs(x))
    r = _ONE32 / (_TWO32 + m)
    t = (_ZERO32 - m) * r
    return (t if x >= _ZERO32 else -t), _FOUR32 * u * r * r


def sigmoid_any(x):
    """(sigma(x), sigma'(x)) in the precision of x (compiled only)."""


def tanh_any(x):
    """(tanh x, tanh' x) in the precision of x (compiled only)."""


@overload(sigmoid_any, inline="always")
def _sigmoid_any_impl(x):
    if x == types.float32:
        return lambda x: sigmoid_parts32(x)
    return lambda x: sigmoid_parts(x)


@overload(tanh_any, inline="always")
def _tanh_any_impl(x):
    if x == types.float32:
        return lambda x: tanh_parts32(x)
    return lambda x: tanh_parts(x)


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma: one instruction on CPUs with FMA)."""

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float64(types.float64, types.float64, types.float64), codegen


_INV_SQRT2_LO = -4.833646656726457e-17  # 1 / sqrt 2 - INV_SQRT2
_SQRT2 = 1.4142135623730951
GELU_C = 0.044715
_TWO_K = 2.0 * SQRT_2_OVER_PI


@jit_exact_inline
def gelu_erf(x):
    """(x Phi(x), Phi(x) + x phi(x)) to a few ulp, z << 0 included.

    Phi = erfc(y) / 2 with y = -x / sqrt 2, not (1 + erf) / 2, which cancels for z << 0.
    erfc(y) ~ e^-y^2 magnifies the rounding error of y by 2 y^2 (~1000 ulp at z = -30), so
    the exact remainder dy of y (FMA) is added to first order; phi likewise uses x^2 = hi + lo.
    """
    x = float(x)
    xc = min(max(x, -40.0), 40.0)  # phi underflows beyond, and x^2 stays finite
    hi = xc * xc
    phi = exp(-0.5 * hi) * (1.0 - 0.5 * fma(xc, xc, -hi)) * INV_SQRT_2PI
    y = -x * INV_SQRT2
    dy = fma(-x, INV_SQRT2, -y) - x * _INV_SQRT2_LO
    cdf = 0.5 * math.erfc(y) - _SQRT2 * phi * dy
    return x * cdf, cdf + x * phi


@jit_exact_inline
def gelu_tanh(x):
    """0.5 x (1 + tanh w), w = k (x + c x^3), as x sigma(2w) with 2w in double-double.

    1 + tanh w cancels for z << 0; sigma does not.  sigma(2w) ~ e^2w magnifies the rounding
    error of 2w by |2w| (up to ~700), so 2w = w + wl carries its exact remainder (FMA) and
    e^-|2w| is corrected to first order.
    """
    x = float(x)
    xc = min(max(x, -1e3), 1e3)  # sigma(2w) is exactly 0 or 1 beyond, and x^3 stays finite
    x2 = xc * xc
    x2l = fma(xc, xc, -x2)
    x3 = x2 * xc
    x3l = fma(x2, xc, -x3) + x2l * xc
    cx3 = GELU_C * x3
    cx3l = fma(GELU_C, x3, -cx3) + GELU_C * x3l
    v = xc + cx3
    vb = v - xc
    vl = ((xc - (v - vb)) + (cx3 - vb)) + cx3l  # two-sum remainder
    w = _TWO_K * v
    wl = fma(_TWO_K, v, -w) + _TWO_K * vl
    u = exp(-abs(w)) * (1.0 - wl if w >= 0.0 else 1.0 + wl)
    d = 1.0 + u
    s = (1.0 if w >= 0.0 else u) / d
    ds = u / (d * d)
    dw = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * x2)
    return x * s, s + 2.0 * xc * ds * dw
