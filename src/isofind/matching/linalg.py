"""Quadratic forms and log-determinants of very many small SPD matrices at once.

Matching evaluates xᵀM⁻¹x and ln det M for millions of k×k matrices (one per sample–source
pair, k ≈ 3). LAPACK's per-call overhead dominates at that size, so the Cholesky
factorisation M = LLᵀ is unrolled over the k(k+1)/2 entries and vectorised over all
matrices; each entry is an array, and the matrices never need to be materialised:

    L_jj = sqrt(M_jj − Σ_{p<j} L_jp²),   L_ij = (M_ij − Σ_{p<j} L_ip L_jp) / L_jj
    z_j = (r_j − Σ_{p<j} L_jp z_p) / L_jj,   rᵀM⁻¹r = Σ z_j²,   ln det M = ln Π L_jj²

(Golub & Van Loan 2013, *Matrix Computations*, 4th ed., alg. 4.2.1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
EntryFunction = Callable[[int, int], FloatArray]


def quadratic_form_and_logdet(
    entry: EntryFunction, residuals: Sequence[FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """rᵀM⁻¹r and ln det M for a stack of SPD matrices.

    ``entry(i, j)`` (i ≥ j) returns the (i, j) entries of all matrices as one array, and
    ``residuals[i]`` the i-th component of all residual vectors; all broadcast together.
    """
    lower: dict[tuple[int, int], FloatArray] = {}
    whitened: list[FloatArray] = []
    quadratic: FloatArray | None = None
    determinant: FloatArray | None = None
    for j in range(len(residuals)):
        pivot = _minus_products(entry(j, j), [(lower[j, p], lower[j, p]) for p in range(j)])
        root = np.sqrt(pivot)
        determinant = pivot if determinant is None else determinant * pivot
        for i in range(j + 1, len(residuals)):
            products = [(lower[i, p], lower[j, p]) for p in range(j)]
            lower[i, j] = _minus_products(entry(i, j), products) / root
        products = [(lower[j, p], whitened[p]) for p in range(j)]
        z = _minus_products(residuals[j], products) / root
        whitened.append(z)
        quadratic = z * z if quadratic is None else quadratic + z * z
    if quadratic is None or determinant is None:
        raise ValueError("at least one dimension is needed")
    return quadratic, np.log(determinant)


def _minus_products(
    start: FloatArray, products: Sequence[tuple[FloatArray, FloatArray]]
) -> FloatArray:
    result = start
    for left, right in products:
        result = result - left * right
    return result


def entries_first(matrices: FloatArray) -> FloatArray:
    """(..., k, k) → contiguous (k, k, ...) so that each entry is one contiguous array."""
    return np.ascontiguousarray(np.moveaxis(matrices, (-2, -1), (0, 1)))
