"""Per-group statistics and the Hotelling prediction test.

Group covariance. Each group's sample covariance S_g is shrunk toward the pooled
within-group covariance T (not toward a diagonal, which would erase the strong Pb–Pb
correlations):

    Σ̃_g = (1 − λ_g) S_g + λ_g T

with the Ledoit–Wolf intensity for a fixed target in the unbiased form of Schäfer &
Strimmer (2005, *Stat. Appl. Genet. Mol. Biol.* 4:32), computed on entries scaled by
√(t_ii t_jj) so that it does not depend on units:

    λ_g = Σ_ij Var̂(s_ij) / Σ_ij (s_ij − t_ij)²,   Var̂(s_ij) = n/(n−1)³ Σ_k (w_kij − w̄_ij)²

where w_kij = (x_ki − x̄_i)(x_kj − x̄_j) (Ledoit & Wolf 2004, *J. Multivar. Anal.* 88:365).
That estimate is exactly 0 for two sources (both w_k are equal), while S_g has rank n − 1
and cannot span k > n − 1 dimensions; λ is therefore at least the share of dimensions the
group cannot span, (k − n + 1)/k, so that no shrunk covariance is singular. A single source
gets λ = 1 (T itself). The degrees of freedom of the blend follow Satterthwaite (1946,
*Biometrics Bull.* 2:110):

    ν = 1 / ((1 − λ)² / (n − 1) + λ² / ν_T),    ν_T = Σ_g (n_g − 1).

When no group has two sources there is no scatter to pool: T is then the mean analytical
covariance of the sources, taken as known (ν_T = ∞).

Prediction test. For a new observation x of a group with mean x̄ and covariance Σ̃ from n
sources, x − x̄ ~ N(0, Σ(1 + 1/n) + S_x), S_x being the sample's own covariance
(diag((2σ/2)²) plus inter-laboratory terms). Hence

    T² = (x − x̄)ᵀ (Σ̃ (n+1)/n + S_x)⁻¹ (x − x̄),   which is D²·n/(n+1) when S_x = 0,
    F = (ν − k + 1) / (k ν) · T² ~ F(k, ν − k + 1)    [= (n−k)/(k(n−1)) T² for ν = n−1]

(Hotelling 1931, *Ann. Math. Stat.* 2:360; prediction form: Chew 1966, *JASA* 61:605). For
large ν, T² ~ χ²(k).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Degrees of freedom from which F(k, ν−k+1)·k is replaced by χ²(k) (they differ by < 1 %).
CHI2_DOF = 1000.0


@dataclass(frozen=True)
class GroupStatistics:
    """Gaussian summary of each group on one set of ratios (k columns)."""

    counts: IntArray
    means: FloatArray
    covariances: FloatArray
    shrinkage: FloatArray
    dof: FloatArray


def group_statistics(
    values: FloatArray, group_index: IntArray, n_groups: int, analytical: FloatArray
) -> GroupStatistics:
    """Means, shrunk covariances and effective degrees of freedom of every group.

    ``values`` (n, k) complete rows, ``group_index`` (n,) in [0, n_groups), ``analytical``
    (n, k, k) the sources' own measurement covariances.
    """
    counts = np.bincount(group_index, minlength=n_groups)
    safe_counts = np.maximum(counts, 1)
    k = values.shape[1]
    means = (
        np.stack([np.bincount(group_index, values[:, c], n_groups) for c in range(k)], axis=1)
        / safe_counts[:, None]
    )
    centred = values - means[group_index]
    scatter = np.empty((n_groups, k, k))
    squared_products = np.empty((n_groups, k, k))
    for i in range(k):
        for j in range(i + 1):
            products = centred[:, i] * centred[:, j]
            scatter[:, i, j] = scatter[:, j, i] = np.bincount(group_index, products, n_groups)
            squares = np.bincount(group_index, products * products, n_groups)
            squared_products[:, i, j] = squared_products[:, j, i] = squares

    degrees = np.maximum(counts - 1, 0).astype(float)
    pooled_dof = float(degrees.sum())
    if pooled_dof > 0:
        target = scatter.sum(axis=0) / pooled_dof
    else:
        target = analytical.mean(axis=0)
        pooled_dof = np.inf
    own = scatter / np.maximum(degrees, 1.0)[:, None, None]
    shrinkage = _shrinkage_intensity(own, scatter, squared_products, counts, target)
    covariances = (1 - shrinkage)[:, None, None] * own + shrinkage[:, None, None] * target
    return GroupStatistics(
        counts=counts.astype(np.int64),
        means=means,
        covariances=covariances,
        shrinkage=shrinkage,
        dof=_satterthwaite_dof(shrinkage, degrees, pooled_dof),
    )


def _shrinkage_intensity(
    own: FloatArray,
    scatter: FloatArray,
    squared_products: FloatArray,
    counts: IntArray,
    target: FloatArray,
) -> FloatArray:
    n = counts.astype(float)[:, None, None]
    scale = np.sqrt(np.outer(np.diag(target), np.diag(target)))
    scale = np.where(scale > 0, scale, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_products = scatter / n
        spread = squared_products - n * mean_products**2
        entry_variance = n / (n - 1) ** 3 * spread / scale**2
        distance = ((own - target) / scale) ** 2
        intensity = entry_variance.sum(axis=(1, 2)) / distance.sum(axis=(1, 2))
    intensity = np.where(np.isfinite(intensity), intensity, 1.0)
    k = target.shape[0]
    unspanned = np.maximum(k - counts + 1, 0) / k
    return np.clip(np.maximum(intensity, unspanned), 0.0, 1.0)


def _satterthwaite_dof(shrinkage: FloatArray, degrees: FloatArray, pooled_dof: float) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        own_part = np.where(shrinkage < 1, (1 - shrinkage) ** 2 / degrees, 0.0)
        dof = 1.0 / (own_part + shrinkage**2 / pooled_dof)
    return np.where(np.isnan(dof), np.inf, dof)


def critical_t_squared(alpha: float, k: IntArray, dof: FloatArray) -> FloatArray:
    """The T² above which the prediction test rejects at level α (p < α ⟺ T² > this):
    F(k, ν−k+1).isf(α)·kν/(ν−k+1), or χ²(k).isf(α) for large ν. Evaluated once per distinct
    (k, ν), because the inverse incomplete beta function is expensive."""
    k = np.asarray(k, dtype=np.int64)
    nu = np.maximum(np.asarray(dof, dtype=float), k)
    critical = np.empty(k.shape)
    for dimension in np.unique(k).tolist():
        selected = k == dimension
        distinct, inverse = np.unique(nu[selected], return_inverse=True)
        finite_nu = np.minimum(distinct, CHI2_DOF)
        denominator_dof = finite_nu - dimension + 1
        f_critical = special.fdtri(dimension, denominator_dof, 1.0 - alpha)
        values = np.where(
            distinct >= CHI2_DOF,
            special.chdtri(dimension, alpha),
            f_critical * dimension * finite_nu / denominator_dof,
        )
        critical[selected] = values[inverse.reshape(-1)]
    return critical


def prediction_p_values(t_squared: FloatArray, k: int | IntArray, dof: FloatArray) -> FloatArray:
    """P-value of the Hotelling prediction test: F(k, ν−k+1) for ν < CHI2_DOF, else χ²(k).

    A blend with fewer than k degrees of freedom is treated as ν = k (denominator dof 1),
    the most permissive well-defined F: such a group says almost nothing about its spread.
    """
    t_squared = np.asarray(t_squared, dtype=float)
    k = np.broadcast_to(np.asarray(k, dtype=float), t_squared.shape)
    nu = np.maximum(np.broadcast_to(dof, t_squared.shape), k)
    p_values = np.empty(t_squared.shape)
    large = nu >= CHI2_DOF
    p_values[large] = special.chdtrc(k[large], t_squared[large])
    small = ~large
    k_small, nu_small = k[small], nu[small]
    f_statistic = (nu_small - k_small + 1) / (k_small * nu_small) * t_squared[small]
    p_values[small] = special.fdtrc(k_small, nu_small - k_small + 1, f_statistic)
    return p_values
