"""Worked examples for isofind.reference.standards.normalization, recomputed by hand."""

import math
import re

import pytest

from isofind.reference.standards.normalization import (
    InvalidInputError,
    StandardValue,
    UncertaintyTypeError,
    bracket_ratio,
    change_delta_scale,
    delta_from_ratio,
    delta_scale_change,
    ratio_from_delta,
    to_two_sigma,
    vpdb_to_vsmow_d18o,
    vsmow_to_vpdb_d18o,
)

SRM981_CERTIFIED = StandardValue("NIST SRM 981", "206Pb/204Pb", 16.9405, 0.0015)
SRM981_MEASURED = StandardValue("NIST SRM 981", "206Pb/204Pb", 16.9300, 0.0020)
AA_ETH_ON_JMC = StandardValue("AA-ETH", "δ66Zn", 0.28, 0.02, scale="JMC-Lyon")
VSMOW_D_H = StandardValue("VSMOW", "2H/1H", 155.76e-6, 0.10e-6)


def test_bracketing_corrects_ratio_by_certified_over_measured_standard() -> None:
    result = bracket_ratio(18.0000, 0.0018, SRM981_CERTIFIED, SRM981_MEASURED)

    assert result.value == pytest.approx(18.0000 * 16.9405 / 16.9300, abs=1e-12)
    assert result.value == pytest.approx(18.01116361488482, abs=1e-12)


def test_bracketing_propagates_relative_uncertainties_in_quadrature() -> None:
    result = bracket_ratio(18.0000, 0.0018, SRM981_CERTIFIED, SRM981_MEASURED)

    relative = math.sqrt((0.0018 / 18.0) ** 2 + (0.0015 / 16.9405) ** 2 + (0.0020 / 16.93) ** 2)
    assert result.uncertainty == pytest.approx(18.0 * 16.9405 / 16.93 * relative, abs=1e-12)
    assert result.uncertainty == pytest.approx(0.00321163717024257, abs=1e-12)


def test_bracketing_records_the_standard_values_that_produced_it() -> None:
    result = bracket_ratio(18.0000, 0.0018, SRM981_CERTIFIED, SRM981_MEASURED)

    assert result.used == (SRM981_CERTIFIED, SRM981_MEASURED)
    assert (result.input_value, result.input_uncertainty) == (18.0, 0.0018)


def test_bracketing_refuses_standards_of_another_ratio() -> None:
    other = StandardValue("NIST SRM 981", "207Pb/204Pb", 15.4963, 0.0016)

    with pytest.raises(
        InvalidInputError, match=re.escape("standard_measured.quantity='207Pb/204Pb'")
    ):
        bracket_ratio(18.0, 0.0018, SRM981_CERTIFIED, other)


@pytest.mark.parametrize(
    ("measured", "uncertainty", "field"),
    [(0.0, 0.001, "measured=0.0"), (18.0, -0.001, "measured_uncertainty=-0.001")],
)
def test_bracketing_names_the_bad_field(measured: float, uncertainty: float, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        bracket_ratio(measured, uncertainty, SRM981_CERTIFIED, SRM981_MEASURED)


@pytest.mark.parametrize(
    ("declared", "uncertainty_type", "expected"),
    [
        (0.01, "1SD", 0.02),
        (0.01, "1σ", 0.02),
        (0.01, "1SE", 0.02),
        (0.01, "2SD", 0.01),
        (0.01, "2 sd", 0.01),
        (0.01, "2SE", 0.01),
        (0.01, "2σ", 0.01),
        (0.01, "95 % CL", 0.01),
        (0.01, "k=2", 0.01),
        (0.0, "exact", 0.0),
    ],
)
def test_uncertainties_are_brought_to_two_sigma(
    declared: float, uncertainty_type: str, expected: float
) -> None:
    assert to_two_sigma(declared, uncertainty_type) == pytest.approx(expected, abs=1e-15)


def test_unknown_uncertainty_type_is_named() -> None:
    with pytest.raises(UncertaintyTypeError, match="uncertainty_type='3SD'"):
        to_two_sigma(0.01, "3SD")


def test_unstated_uncertainty_level_must_be_declared_before_use() -> None:
    with pytest.raises(UncertaintyTypeError, match="does not state the level"):
        to_two_sigma(0.02, "unstated")


def test_exact_value_cannot_carry_an_uncertainty() -> None:
    with pytest.raises(InvalidInputError, match=re.escape("uncertainty=0.01")):
        to_two_sigma(0.01, "exact")


def test_standard_value_from_one_sigma_declaration_is_stored_at_two_sigma() -> None:
    value = StandardValue.from_declared("SRM 3114", "δ65Cu", 0.18, 0.02, "1SD", scale="SRM 976")

    assert value.uncertainty == pytest.approx(0.04, abs=1e-15)
    assert value.scale == "SRM 976"


def test_delta_scale_change_zn_sample_from_aa_eth_to_jmc_lyon() -> None:
    result = change_delta_scale(1.00, 0.05, AA_ETH_ON_JMC)

    assert result.value == pytest.approx(1.00 + 0.28 + 1e-3 * 1.00 * 0.28, abs=1e-12)
    assert result.value == pytest.approx(1.28028, abs=1e-12)
    expected_u = math.sqrt(((1 + 0.28 / 1000) * 0.05) ** 2 + ((1 + 1.00 / 1000) * 0.02) ** 2)
    assert result.uncertainty == pytest.approx(expected_u, abs=1e-12)
    assert result.uncertainty == pytest.approx(0.053872076217647, abs=1e-12)
    assert result.used == (AA_ETH_ON_JMC,)


def test_delta_scale_change_agrees_with_ratio_arithmetic_over_three_scales() -> None:
    # Any R_JMC works: the formula is exact because R_S/R_JMC = (R_S/R_AA)·(R_AA/R_JMC).
    r_jmc = 0.4
    r_aa = r_jmc * (1 + 0.28 / 1000)
    r_sample = r_aa * (1 + 1.00 / 1000)
    jmc = StandardValue("JMC-Lyon", "66Zn/64Zn", r_jmc, 0.0)

    via_ratios = delta_from_ratio(r_sample, 0.0, jmc).value

    assert delta_scale_change(1.00, 0.28) == pytest.approx(via_ratios, abs=1e-12)


def test_delta_from_ratio_and_back_with_vsmow() -> None:
    slap_ratio = ratio_from_delta(-428.0, 0.0, VSMOW_D_H)

    assert slap_ratio.value == pytest.approx(155.76e-6 * 0.572, abs=1e-18)
    assert slap_ratio.uncertainty == pytest.approx(0.572 * 0.10e-6, abs=1e-18)
    back = delta_from_ratio(slap_ratio.value, 0.0, VSMOW_D_H)
    assert back.value == pytest.approx(-428.0, abs=1e-9)


def test_delta_from_ratio_propagates_both_ratio_and_reference() -> None:
    result = delta_from_ratio(150.0e-6, 0.05e-6, VSMOW_D_H)

    assert result.value == pytest.approx((150.0 / 155.76 - 1) * 1000, abs=1e-9)
    expected_u = 1000 / 155.76e-6 * math.hypot(0.05e-6, 150.0 / 155.76 * 0.10e-6)
    assert result.uncertainty == pytest.approx(expected_u, abs=1e-12)
    assert result.uncertainty == pytest.approx(0.696638504669658, abs=1e-12)


def test_ratio_from_delta_propagates_delta_and_reference() -> None:
    result = ratio_from_delta(-50.0, 0.5, VSMOW_D_H)

    assert result.value == pytest.approx(155.76e-6 * 0.95, abs=1e-18)
    expected_u = math.hypot(0.95 * 0.10e-6, 155.76e-6 * 0.5 / 1000)
    assert result.uncertainty == pytest.approx(expected_u, abs=1e-18)


def test_brand_2014_vpdb_to_vsmow() -> None:
    result = vpdb_to_vsmow_d18o(-2.20, 0.10)

    assert result.value == pytest.approx(1.03092 * -2.20 + 30.92, abs=1e-12)
    assert result.value == pytest.approx(28.651976, abs=1e-12)
    assert result.uncertainty == pytest.approx(0.103092, abs=1e-12)


def test_vsmow_to_vpdb_inverts_exactly_and_matches_published_rounded_form() -> None:
    back = vsmow_to_vpdb_d18o(28.651976, 0.103092)

    assert back.value == pytest.approx(-2.20, abs=1e-12)
    assert back.uncertainty == pytest.approx(0.10, abs=1e-12)
    assert abs(vsmow_to_vpdb_d18o(30.0, 0.0).value - (0.97001 * 30.0 - 29.99)) < 3e-3


def test_delta_at_or_below_minus_1000_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match=re.escape("delta=-1000.0")):
        change_delta_scale(-1000.0, 0.1, AA_ETH_ON_JMC)
