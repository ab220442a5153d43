"""Ratio names and conversion to the non-redundant basis, checked by hand."""

import math

import numpy as np
import pytest

from isofind.matching.basis import (
    Delta,
    Ratio,
    choose_references,
    parse_quantities,
    parse_quantity,
    to_basis,
)
from isofind.matching.errors import InvalidQuantityError, InvalidValueError


def test_parse_canonical_ratio_and_delta() -> None:
    assert parse_quantity("206Pb/204Pb") == Ratio("Pb", 206, 204)
    assert parse_quantity("206Pb/204Pb").mass_difference == 2
    assert parse_quantity("δ65Cu") == Delta("Cu", 65)
    assert parse_quantity("87Sr/86Sr").name == "87Sr/86Sr"


@pytest.mark.parametrize("name", ["206Pb/204Sr", "206Pb/206Pb", "Pb206/204", "d65Cu", ""])
def test_parse_rejects_non_canonical_names(name: str) -> None:
    with pytest.raises(InvalidQuantityError):
        parse_quantity(name)


def test_duplicate_quantity_is_rejected() -> None:
    with pytest.raises(InvalidQuantityError, match="206Pb/204Pb"):
        parse_quantities(["206Pb/204Pb", "207Pb/204Pb", "206Pb/204Pb"])


def test_reference_isotopes_follow_convention_then_frequency() -> None:
    assert choose_references(parse_quantities(["207Pb/206Pb", "204Pb/206Pb"])) == {"Pb": 204}
    assert choose_references(parse_quantities(["207Pb/206Pb", "208Pb/206Pb"])) == {"Pb": 206}
    assert choose_references(parse_quantities(["65Cu/63Cu"])) == {"Cu": 63}


def test_direct_basis_values_pass_through_with_diagonal_covariance() -> None:
    result = to_basis(
        ["206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb"],
        np.array([[18.5, 15.6, 38.4]]),
        np.array([[0.010, 0.008, 0.030]]),
    )
    assert result.names == ("206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb")
    np.testing.assert_allclose(result.values[0], [18.5, 15.6, 38.4])
    np.testing.assert_allclose(result.covariance[0], np.diag([0.005, 0.004, 0.015]) ** 2)
    assert not result.derived.any()


def test_inverse_ratio_gives_reciprocal_with_same_relative_uncertainty() -> None:
    # 206/204 = 1/(204/206); σ(206/204) = σ(204/206) / (204/206)²
    result = to_basis(["204Pb/206Pb"], np.array([[0.0545]]), np.array([[0.0001]]))
    assert result.names == ("206Pb/204Pb",)
    assert result.values[0, 0] == pytest.approx(18.348623853211009)
    two_sigma = 2 * math.sqrt(result.covariance[0, 0, 0])
    assert two_sigma == pytest.approx(0.0001 / 0.0545**2)
    assert result.derived[0, 0]


def test_chained_pb_conversion_propagates_correlated_uncertainty() -> None:
    r46, r76, r86 = 0.0545, 0.85, 2.08
    s46, s76, s86 = 0.00005, 0.0001, 0.0002  # 1σ
    result = to_basis(
        ["204Pb/206Pb", "207Pb/206Pb", "208Pb/206Pb"],
        np.array([[r46, r76, r86]]),
        np.array([[2 * s46, 2 * s76, 2 * s86]]),
    )
    assert result.names == ("206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb")
    r64, r74, r84 = 1 / r46, r76 / r46, r86 / r46
    np.testing.assert_allclose(result.values[0], [r64, r74, r84])
    rel46 = s46 / r46
    expected_var_74 = r74**2 * (rel46**2 + (s76 / r76) ** 2)
    assert result.covariance[0, 1, 1] == pytest.approx(expected_var_74)
    # 206/204 and 207/204 share 204/206: Cov = R64·R74·(σ46/R46)²
    assert result.covariance[0, 0, 1] == pytest.approx(r64 * r74 * rel46**2)
    assert result.covariance[0, 1, 2] == pytest.approx(r74 * r84 * rel46**2)
    assert result.parents(0)["207Pb/204Pb"] == ("204Pb/206Pb", "207Pb/206Pb")


def test_without_204_the_basis_is_over_206() -> None:
    result = to_basis(
        ["206Pb/207Pb", "208Pb/207Pb"], np.array([[1.19, 2.47]]), np.array([[0.002, 0.004]])
    )
    assert result.names == ("207Pb/206Pb", "208Pb/206Pb")
    np.testing.assert_allclose(result.values[0], [1 / 1.19, 2.47 / 1.19])


def test_derived_ratio_beside_its_parents_is_left_out() -> None:
    result = to_basis(
        ["206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb", "207Pb/206Pb"],
        np.array([[18.5, 15.6, 38.4, 0.8432]]),
        np.full((1, 4), np.nan),
    )
    assert result.names == ("206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb")
    assert result.unused(0) == ("207Pb/206Pb",)
    np.testing.assert_allclose(result.values[0], [18.5, 15.6, 38.4])


def test_rows_with_different_missing_values_convert_independently() -> None:
    values = np.array([[18.5, 15.6, np.nan, np.nan], [np.nan, np.nan, 0.055, 0.86]])
    result = to_basis(
        ["206Pb/204Pb", "207Pb/204Pb", "204Pb/206Pb", "207Pb/206Pb"],
        values,
        np.full((2, 4), np.nan),
    )
    assert result.names == ("206Pb/204Pb", "207Pb/204Pb")
    np.testing.assert_allclose(result.values, [[18.5, 15.6], [1 / 0.055, 0.86 / 0.055]])


def test_missing_or_zero_uncertainty_takes_the_default() -> None:
    result = to_basis(
        ["87Sr/86Sr", "δ65Cu"],
        np.array([[0.7100, 0.30], [0.7100, 0.30]]),
        np.array([[0.0, np.nan], [np.nan, 0.0]]),
        default_relative_2s=1e-4,
        default_delta_2s=0.08,
    )
    np.testing.assert_allclose(result.covariance[:, 0, 0], (0.71e-4 / 2) ** 2)
    np.testing.assert_allclose(result.covariance[:, 1, 1], (0.08 / 2) ** 2)


@pytest.mark.parametrize(
    ("value", "two_sigma", "message"),
    [(-1.0, 0.01, "positive"), (0.0, 0.01, "positive"), (18.0, -0.1, "2σ"), (np.inf, 0.1, "inf")],
)
def test_invalid_values_are_named(value: float, two_sigma: float, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        to_basis(["206Pb/204Pb"], np.array([[value]]), np.array([[two_sigma]]))
