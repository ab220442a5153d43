"""Group likelihoods that include the measurement error of the sample.

Kernel density. A group is the mixture of its own analyses, each blurred by its analytical
covariance C_j; convolving with the sample's error S_x (Gaussian ⊛ Gaussian) gives

    L_g(x) = (1/n_g) Σ_{j∈g} N(x; x_j, C_j + S_x)

(Silverman 1986, *Density Estimation*, ch. 4, with per-point bandwidths). Unlike a
Scott-rule bandwidth it does not smear groups that span several deposits.

Gaussian. L_g(x) = N(x; x̄_g, Σ̃_g (n+1)/n + S_x), the plug-in predictive density.

Both are evaluated in log space (log-sum-exp) because distant groups underflow.
All arrays here are "entries first": values (k, m), covariances (k, k, m).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from isofind.matching.linalg import quadratic_form_and_logdet

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

LOG_2PI = math.log(2 * math.pi)
#: Sample × source pairs evaluated per chunk: small enough to stay in the CPU cache.
PAIRS_PER_CHUNK = 65_536


def sample_chunks(n_samples: int, n_columns: int) -> list[slice]:
    """Row slices of the samples so that each chunk holds about PAIRS_PER_CHUNK pairs."""
    rows = max(1, PAIRS_PER_CHUNK // max(n_columns, 1))
    return [slice(start, min(start + rows, n_samples)) for start in range(0, n_samples, rows)]


def segment_logsumexp(values: FloatArray, starts: IntArray) -> FloatArray:
    """log Σ exp over contiguous column segments beginning at ``starts`` (non-empty)."""
    peaks = np.maximum.reduceat(values, starts, axis=1)
    lengths = np.diff(np.append(starts, values.shape[1]))
    spread = np.repeat(peaks, lengths, axis=1)
    return peaks + np.log(np.add.reduceat(np.exp(values - spread), starts, axis=1))


def kernel_log_likelihood(
    samples: FloatArray,
    sample_covariance: FloatArray,
    members: FloatArray,
    member_covariance: FloatArray,
    starts: IntArray,
) -> FloatArray:
    """ln L_g(x) for every sample (columns of ``samples``) and member segment (m, G)."""
    k, m = samples.shape
    counts = np.diff(np.append(starts, members.shape[1]))
    result = np.empty((m, starts.size))
    for rows in sample_chunks(m, members.shape[1]):
        residuals = [samples[i, rows][:, None] - members[i][None, :] for i in range(k)]

        def entry(i: int, j: int, rows: slice = rows) -> FloatArray:
            return member_covariance[i, j][None, :] + sample_covariance[i, j, rows][:, None]

        quadratic, logdet = quadratic_form_and_logdet(entry, residuals)
        log_kernels = -0.5 * (quadratic + logdet)
        result[rows] = segment_logsumexp(log_kernels, starts)
    return result - np.log(counts) - 0.5 * k * LOG_2PI


def gaussian_quadratic_and_logdet(
    samples: FloatArray, sample_covariance: FloatArray, means: FloatArray, covariance: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(x − μ_g)ᵀ(Σ_g + S_x)⁻¹(x − μ_g) and ln det(Σ_g + S_x), each (m, G).

    ``means`` (k, G) and ``covariance`` (k, k, G) are the groups' predictive moments.
    """
    k, m = samples.shape
    quadratic, logdet = np.empty((m, means.shape[1])), np.empty((m, means.shape[1]))
    for rows in sample_chunks(m, means.shape[1]):
        residuals = [samples[i, rows][:, None] - means[i][None, :] for i in range(k)]

        def entry(i: int, j: int, rows: slice = rows) -> FloatArray:
            return covariance[i, j][None, :] + sample_covariance[i, j, rows][:, None]

        quadratic[rows], logdet[rows] = quadratic_form_and_logdet(entry, residuals)
    return quadratic, logdet


def gaussian_log_likelihood(quadratic: FloatArray, logdet: FloatArray, k: int) -> FloatArray:
    """ln N from its quadratic form and log-determinant."""
    return -0.5 * (quadratic + logdet + k * LOG_2PI)


def nearest_member_distance2(
    samples: FloatArray,
    sample_variance: FloatArray,
    members: FloatArray,
    member_variance: FloatArray,
    starts: IntArray,
) -> FloatArray:
    """Smallest uncertainty-weighted squared distance Σ_r (x_r − s_r)² / (σ²_x,r + σ²_s,r)
    from each sample to the members of each segment (m, G)."""
    m = samples.shape[1]
    result = np.empty((m, starts.size))
    for rows in sample_chunks(m, members.shape[1]):
        distance2 = weighted_distance2(
            samples[:, rows], sample_variance[:, rows], members, member_variance
        )
        result[rows] = np.minimum.reduceat(distance2, starts, axis=1)
    return result


def weighted_distance2(
    samples: FloatArray, sample_variance: FloatArray, others: FloatArray, other_variance: FloatArray
) -> FloatArray:
    """Σ_r (x_r − s_r)² / (σ²_x,r + σ²_s,r) for all pairs (m, n); NaN terms count as 0."""
    total = np.zeros((samples.shape[1], others.shape[1]))
    for r in range(samples.shape[0]):
        difference = samples[r][:, None] - others[r][None, :]
        term = difference * difference / (sample_variance[r][:, None] + other_variance[r][None, :])
        total += np.nan_to_num(term, nan=0.0) if np.isnan(term).any() else term
    return total
