"""The layers' matrix products (SIMD loops for tiny matrices, BLAS beyond) against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from engine.kernels import products as P

# odd sizes: leftover rows of a 4-row tile, leftover columns of a 4-wide vector, single rows,
# the largest "small" product and the first one past it (BLAS)
SHAPES = [(1, 1, 1), (3, 2, 5), (7, 5, 3), (32, 8, 8), (32, 2, 8), (32, 8, 2), (9, 13, 6)]
SHAPES += [(P.SMALL, P.SMALL, P.SMALL), (P.SMALL + 1, 8, 8), (8, P.SMALL + 1, 3)]


def _tol(dtype) -> float:
    return 1e-12 if dtype == np.float64 else 2e-5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("m", "k", "n"), SHAPES)
def test_products_equal_numpy(m, k, n, dtype):
    """out = a @ b, a.T @ b and a @ b.T, each against NumPy's product in float64."""
    rng = np.random.default_rng(m * 10_000 + k * 100 + n)
    a = rng.normal(size=(m, k)).astype(dtype)
    b = rng.normal(size=(k, n)).astype(dtype)
    delta = rng.normal(size=(m, n)).astype(dtype)
    w = rng.normal(size=(k, n)).astype(dtype)
    f64 = np.float64
    cases = [
        (P.matmul, a, b, a.astype(f64) @ b.astype(f64)),
        (P.matmul_tn, a, delta, a.astype(f64).T @ delta.astype(f64)),
        (P.matmul_nt, delta, w, delta.astype(f64) @ w.astype(f64).T),
    ]
    for product, x, y, want in cases:
        out = np.full(want.shape, np.nan, dtype=dtype)
        product(x, y, out)
        scale = np.abs(x).max() * np.abs(y).max() * max(x.shape[1], x.shape[0])
        np.testing.assert_allclose(out, want, rtol=0, atol=_tol(dtype) * scale, err_msg=product)


def test_each_element_is_one_sum_in_order():
    """A tile lane, a single row and a leftover column compute an element the same way: the
    same row of a gives the same outputs whichever block it lands in."""
    rng = np.random.default_rng(7)
    row = rng.normal(size=8)
    a = np.tile(row, (6, 1))  # rows 0-3 in a 4-row tile, rows 4-5 one by one
    b = rng.normal(size=(8, 6))  # columns 0-3 as a vector, 4-5 one by one
    b[:, 4:] = b[:, :2]
    out = np.empty((6, 6))
    P.matmul(a, b, out)
    assert (out == out[0]).all()
    np.testing.assert_array_equal(out[:, 4:], out[:, :2])
