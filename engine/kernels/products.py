"""The layers' matrix products: SIMD loops for tiny matrices, BLAS for the rest.

For a playground-sized net (8x8 weights, batch 32) a BLAS call costs more in call overhead
and packing than the arithmetic it does, and Numba's own loops stay scalar at these sizes
(the loop vectoriser wants more iterations than an 8-wide row has; Numba leaves the SLP
vectoriser off).  So the tiny products are built from two pieces written as LLVM IR: four
output columns at once as one SIMD sum (``_tile``), the columns left over one by one
(``_sdot``, the same sum as a lane).  Which code a product takes depends only on its
shape, so every path through the kernels (single steps, many steps, step-through) computes
it the same way.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

from engine.kernels.layout import flat, jit

#: a product runs as SIMD loops when its output and inner dimension are all at most this
SMALL = 32
#: elements per SIMD vector (AVX2 width in float64)
LANES = 4


def _flat_array(buf, name):
    if not (isinstance(buf, types.Array) and buf.ndim == 1 and buf.layout == "C"):
        raise TypingError(f"{name}: expected 1-D C-contiguous arrays, got {buf}")
    if not isinstance(buf.dtype, types.Float):
        raise TypingError(f"{name}: expected a float array, got {buf}")


def _vector_ptr(context, builder, arrty, arr, off):
    """Pointer to ``LANES`` elements of a 1-D array from element ``off`` on."""
    data = make_array(arrty)(context, builder, arr).data
    vec = ir.VectorType(context.get_data_type(arrty.dtype), LANES)
    return builder.bitcast(builder.gep(data, [off]), vec.as_pointer())


def _vector_fma(builder, vec):
    """llvm.fma on ``vec`` vectors (one instruction per vector on CPUs with FMA)."""
    suffix = "f64" if isinstance(vec.element, ir.DoubleType) else "f32"
    fnty = ir.FunctionType(vec, [vec, vec, vec])
    return cgutils.get_or_insert_function(builder.module, fnty, f"llvm.fma.v{LANES}{suffix}")


def _elem_ptr(context, builder, arrty, arr, off):
    return builder.gep(make_array(arrty)(context, builder, arr).data, [off])


def _tile(rows):
    """An intrinsic summing a (rows, 4) block of a product in ``rows`` SIMD registers:

    out[o_off + r o_next:][:4] = sum over q < count of x[x_off + r x_next + q x_step]
    y[y_off + q y_step:][:4] for r < rows.  Each lane is one sum in ascending q (fused
    multiply-adds); the rows' sums are independent, so their multiply-adds overlap instead of
    waiting on each other.  count >= 1.
    """

    @intrinsic
    def tile(typingctx, x, x_off, x_step, x_next, y, y_off, y_step, count, out, o_off, o_next):
        for arr in (x, y, out):
            _flat_array(arr, "_tile")
        i = types.intp
        sig = types.void(x, i, i, i, y, i, i, i, out, i, i)

        def codegen(context, builder, signature, args):
            xa, xo, xs, xn, ya, yo, ys, n, oa, oo, on = args
            tx, ty, to = signature.args[0], signature.args[4], signature.args[8]
            elem = context.get_data_type(tx.dtype)
            align = context.get_abi_sizeof(elem)
            vec = ir.VectorType(elem, LANES)
            fma = _vector_fma(builder, vec)
            accs = [cgutils.alloca_once(builder, vec) for _ in range(rows)]
            for acc in accs:
                builder.store(ir.Constant(vec, None), acc)
            with cgutils.for_range(builder, n) as loop:
                q = loop.index
                yp = _vector_ptr(context, builder, ty, ya, builder.add(yo, builder.mul(q, ys)))
                yv = builder.load(yp, align=align)
                xq = builder.add(xo, builder.mul(q, xs))
                for r, acc in enumerate(accs):
                    xr = builder.add(xq, builder.mul(ir.Constant(xq.type, r), xn))
                    xv = builder.load(_elem_ptr(context, builder, tx, xa, xr))
                    splat = cgutils.get_null_value(vec)
                    for lane in range(LANES):
                        splat = builder.insert_element(splat, xv, ir.Constant(ir.IntType(32), lane))
                    builder.store(builder.call(fma, [splat, yv, builder.load(acc)]), acc)
            for r, acc in enumerate(accs):
                orow = builder.add(oo, builder.mul(ir.Constant(oo.type, r), on))
                op = _vector_ptr(context, builder, to, oa, orow)
                builder.store(builder.load(acc), op, align=align)
            return context.get_dummy_value()

        return sig, codegen

    return tile


#: rows of output per SIMD block: four independent sums keep the FMA units busy
TILE = 4
_tile_rows = _tile(TILE)
_tile_row = _tile(1)


@intrinsic
def _sdot(typingctx, x, x_off, x_step, y, y_off, y_step, count, s):
    """s + sum over q < count of x[x_off + q x_step] y[y_off + q y_step], in ascending q with
    fused multiply-adds: what one lane of a :func:`_tile` computes, for the columns left over."""
    for arr in (x, y):
        _flat_array(arr, "_sdot")
    i = types.intp
    sig = x.dtype(x, i, i, y, i, i, i, x.dtype)

    def codegen(context, builder, signature, args):
        xa, xo, xs, ya, yo, ys, n, s0 = args
        tx, ty = signature.args[0], signature.args[3]
        elem = context.get_data_type(tx.dtype)
        suffix = "f64" if isinstance(elem, ir.DoubleType) else "f32"
        fnty = ir.FunctionType(elem, [elem, elem, elem])
        fma = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.fma.{suffix}")
        acc = cgutils.alloca_once(builder, elem)
        builder.store(s0, acc)
        with cgutils.for_range(builder, n) as loop:
            q = loop.index
            xv = builder.load(
                _elem_ptr(context, builder, tx, xa, builder.add(xo, builder.mul(q, xs)))
            )
            yv = builder.load(
                _elem_ptr(context, builder, ty, ya, builder.add(yo, builder.mul(q, ys)))
            )
            builder.store(builder.call(fma, [xv, yv, builder.load(acc)]), acc)
        return builder.load(acc)

    return sig, codegen


@jit
def _rows_times(x, x_step, x_next, rows, y, k, n, out):
    """out[r, :] = sum over q < k of x[r x_next + q x_step] y[q, :] for r < rows (flat arrays,
    y (k, n), out (rows, n)): blocks of TILE rows x 4 columns, then single rows, then the
    last n % 4 columns one element at a time (each element the same sum whichever way)."""
    for j in range(0, n - LANES + 1, LANES):
        r = 0
        while r + TILE <= rows:
            _tile_rows(x, r * x_next, x_step, x_next, y, j, n, k, out, r * n + j, n)
            r += TILE
        while r < rows:
            _tile_row(x, r * x_next, x_step, x_next, y, j, n, k, out, r * n + j, n)
            r += 1
    for j in range(n - n % LANES, n):
        for r in range(rows):
            out[r * n + j] = _sdot(x, r * x_next, x_step, y, j, n, k, 0.0 * x[0])


@jit
def matmul(a, b, out):
    """out = a @ b."""
    m, k = a.shape
    n = b.shape[1]
    if m > SMALL or k > SMALL or n > SMALL:
        np.dot(a, b, out)
        return
    _rows_times(flat(a), 1, k, m, flat(b), k, n, flat(out))


@jit
def matmul_tn(a, b, out):
    """out = a.T @ b (dL/dW = a_{k-1}^T delta_k): out[p, :] = sum over i of a[i, p] b[i, :]."""
    m, k = a.shape
    n = b.shape[1]
    if m > SMALL or k > SMALL or n > SMALL:
        np.dot(a.T, b, out)
        return
    _rows_times(flat(a), k, 1, k, flat(b), m, n, flat(out))


@jit
def matmul_nt(a, b, out):
    """out = a @ b.T (dL/da_{k-1} = delta_k W_k^T)."""
    m, n = a.shape
    k = b.shape[0]
    if m > SMALL or k > SMALL or n > SMALL:
        np.dot(a, b.T, out)
        return
    bt = np.empty((n, k), dtype=b.dtype)  # b.T made contiguous: rows of four-column sums
    for q in range(n):
        for p in range(k):
            bt[q, p] = b[p, q]
    _rows_times(flat(a), 1, n, m, flat(bt), n, k, flat(out))
