"""Group statistics, the Hotelling prediction test, small-matrix algebra and kernels."""

import numpy as np
import pytest
from scipy import stats

from isofind.matching.density import (
    kernel_log_likelihood,
    nearest_member_distance2,
    segment_logsumexp,
)
from isofind.matching.linalg import entries_first, quadratic_form_and_logdet
from isofind.matching.sources import spherical_mean
from isofind.matching.statistics import (
    CHI2_DOF,
    critical_t_squared,
    group_statistics,
    prediction_p_values,
)


def correlated_group(
    rng: np.random.Generator, centre: list[float], n: int, scale: float = 0.05
) -> np.ndarray:
    spread = rng.normal(size=(n, 1)) * scale
    noise = rng.normal(size=(n, 3)) * [0.002, 0.002, 0.004]
    return np.array(centre) + spread * [1.0, 0.1, 1.0] + noise


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_unrolled_cholesky_matches_numpy(k: int) -> None:
    rng = np.random.default_rng(k)
    factors = rng.normal(size=(50, k, k))
    matrices = factors @ factors.transpose(0, 2, 1) + 0.1 * np.eye(k)
    residuals = rng.normal(size=(50, k))
    entries = entries_first(matrices)
    quadratic, logdet = quadratic_form_and_logdet(
        lambda i, j: entries[i, j], [residuals[:, i] for i in range(k)]
    )
    expected = np.einsum("ni,nij,nj->n", residuals, np.linalg.inv(matrices), residuals)
    np.testing.assert_allclose(quadratic, expected, rtol=1e-9)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(matrices)[1], rtol=1e-9)


def test_hotelling_f_p_value_equals_scipy_for_a_small_group() -> None:
    n, k, t_squared = 8, 3, 6.4
    expected = stats.f.sf((n - k) / (k * (n - 1)) * t_squared, k, n - k)
    assert prediction_p_values(np.array([t_squared]), k, np.array([n - 1.0]))[0] == pytest.approx(
        expected, rel=1e-12
    )


def test_large_groups_use_chi_square() -> None:
    p_value = prediction_p_values(np.array([7.0]), 3, np.array([CHI2_DOF + 5]))[0]
    assert p_value == pytest.approx(stats.chi2.sf(7.0, 3), rel=1e-12)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.5])
def test_critical_value_agrees_with_the_p_value(alpha: float) -> None:
    rng = np.random.default_rng(4)
    k = rng.integers(1, 4, 2000)
    dof = np.concatenate([rng.uniform(0.5, 60, 1000), np.full(1000, CHI2_DOF * 2)])
    t_squared = rng.uniform(0, 40, 2000)
    rejected = t_squared > critical_t_squared(alpha, k, dof)
    p_values = prediction_p_values(t_squared, k, dof)
    np.testing.assert_array_equal(rejected, p_values < alpha)
    assert 0 < rejected.sum() < rejected.size  # both outcomes occur


def test_p_values_decrease_with_distance_and_stay_in_unit_interval() -> None:
    p_values = prediction_p_values(np.array([0.0, 1.0, 10.0, 1e4]), 2, np.array([5.0]))
    assert p_values[0] == pytest.approx(1.0)
    assert np.all(np.diff(p_values) < 0)
    assert p_values[-1] >= 0.0


def test_single_source_group_takes_the_pooled_covariance() -> None:
    rng = np.random.default_rng(3)
    values = np.vstack(
        [
            correlated_group(rng, [18.0, 15.6, 38.0], 30),
            correlated_group(rng, [18.8, 15.7, 38.9], 30, scale=0.2),
            [[17.5, 15.5, 37.5]],
        ]
    )
    groups = np.repeat([0, 1, 2], [30, 30, 1])
    result = group_statistics(values, groups, 3, np.zeros((61, 3, 3)))
    pooled_dof = 29 + 29
    assert result.shrinkage[2] == 1.0
    assert result.dof[2] == pytest.approx(pooled_dof)
    centred = values[:60] - result.means[groups[:60]]
    pooled = centred.T @ centred / pooled_dof
    np.testing.assert_allclose(result.covariances[2], pooled, rtol=1e-10)
    correlation = pooled[0, 2] / np.sqrt(pooled[0, 0] * pooled[2, 2])
    assert correlation > 0.95  # the Pb–Pb correlation survives the shrinkage target
    # a group whose covariance clearly differs from the pooled one keeps most of it, and
    # borrowing from the pooled estimate adds degrees of freedom (Satterthwaite)
    assert result.shrinkage[0] < 0.05
    assert 0.0 < result.shrinkage[1] < 0.5
    lam = result.shrinkage[0]
    expected_dof = 1 / ((1 - lam) ** 2 / 29 + lam**2 / pooled_dof)
    assert result.dof[0] == pytest.approx(expected_dof)
    assert 29.0 < result.dof[1] < pooled_dof
    np.testing.assert_allclose(result.means[2], [17.5, 15.5, 37.5])


def test_two_identical_sources_do_not_make_a_singular_covariance() -> None:
    rng = np.random.default_rng(11)
    twins = np.array([[18.0, 15.6, 38.0], [18.0, 15.6, 38.0]])
    values = np.vstack([twins, correlated_group(rng, [18.5, 15.7, 38.6], 12)])
    groups = np.repeat([0, 1], [2, 12])
    result = group_statistics(values, groups, 2, np.zeros((14, 3, 3)))
    # two sources span one of three dimensions: at least 2/3 comes from the pooled target
    assert result.shrinkage[0] == pytest.approx(2 / 3)
    centred = values[2:] - values[2:].mean(axis=0)
    pooled = centred.T @ centred / (1 + 11)  # the twins add a degree of freedom, no scatter
    np.testing.assert_allclose(result.covariances[0], 2 / 3 * pooled, rtol=1e-10)
    np.linalg.cholesky(result.covariances[0])  # positive definite


def test_only_singletons_fall_back_to_known_analytical_covariance() -> None:
    values = np.array([[18.0, 15.6], [18.8, 15.7]])
    analytical = np.array([np.diag([1e-4, 4e-4]), np.diag([3e-4, 2e-4])])
    result = group_statistics(values, np.array([0, 1]), 2, analytical)
    np.testing.assert_allclose(result.covariances[0], np.diag([2e-4, 3e-4]))
    assert np.isinf(result.dof).all()


def test_kernel_of_one_member_is_the_normal_density() -> None:
    log_likelihood = kernel_log_likelihood(
        samples=np.array([[18.1]]),
        sample_covariance=np.array([[[0.01**2]]]),
        members=np.array([[18.0]]),
        member_covariance=np.array([[[0.02**2]]]),
        starts=np.array([0]),
    )
    expected = stats.norm.logpdf(18.1, 18.0, np.sqrt(0.01**2 + 0.02**2))
    assert log_likelihood[0, 0] == pytest.approx(expected, rel=1e-12)


def test_kernel_is_the_mean_of_member_densities_per_group() -> None:
    members = np.array([[0.0, 1.0, 5.0]])
    log_likelihood = kernel_log_likelihood(
        np.array([[0.5]]),
        np.array([[[0.0]]]),
        members,
        np.ones((1, 1, 3)),
        np.array([0, 2]),
    )
    first = np.log(np.mean(stats.norm.pdf(0.5, [0.0, 1.0], 1.0)))
    second = stats.norm.logpdf(0.5, 5.0, 1.0)
    np.testing.assert_allclose(log_likelihood[0], [first, second], rtol=1e-12)


def test_segment_logsumexp_survives_underflow() -> None:
    values = np.array([[-2000.0, -2001.0, -5.0]])
    result = segment_logsumexp(values, np.array([0, 2]))
    np.testing.assert_allclose(result[0], [-2000.0 + np.log1p(np.exp(-1.0)), -5.0])


def test_nearest_member_distance_is_uncertainty_weighted() -> None:
    distance2 = nearest_member_distance2(
        samples=np.array([[10.0]]),
        sample_variance=np.array([[1.0]]),
        members=np.array([[12.0, 16.0, 10.0]]),
        member_variance=np.array([[3.0, 1.0, 1.0]]),
        starts=np.array([0, 2]),
    )
    np.testing.assert_allclose(distance2[0], [4.0 / 4.0, 0.0])


def test_centroid_is_a_spherical_mean_across_the_antimeridian() -> None:
    centre = spherical_mean(np.array([10.0, 10.0]), np.array([179.0, -179.0]))
    assert centre is not None
    assert abs(centre.longitude) == pytest.approx(180.0)
    assert centre.latitude == pytest.approx(10.0, abs=0.01)
    assert spherical_mean(np.array([np.nan]), np.array([np.nan])) is None
