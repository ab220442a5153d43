"""Worked examples for isofind.reference.standards.shifts, recomputed by hand."""

import math
import re

import pytest

from isofind.reference.standards.normalization import (
    InvalidInputError,
    StandardValue,
    ValueKind,
    bracket_ratio,
)
from isofind.reference.standards.shifts import (
    Conversion,
    NoConversionPath,
    Shift,
    calculate_shift,
    convert,
)

DELTA = ValueKind.DELTA
RATIO = ValueKind.RATIO

AA_ETH_TO_JMC = Shift("Zn", "δ66Zn", DELTA, "AA-ETH", "JMC-Lyon", 0.28, 0.02, label="zn-1")
# A lab's own calibration of an in-house Zn solution against AA-ETH (illustrative numbers).
IN_HOUSE_TO_AA_ETH = Shift("Zn", "δ66Zn", DELTA, "in-house Zn", "AA-ETH", -0.10, 0.03)
SRM3114_TO_SRM976 = Shift("Cu", "δ65Cu", DELTA, "NIST SRM 3114", "NIST SRM 976", 0.18, 0.04)


def zn(
    value: float, start: str, goal: str, shifts: list[Shift], uncertainty: float = 0.05
) -> Conversion:
    return convert(
        value, start, goal, shifts, element="Zn", quantity="δ66Zn", uncertainty=uncertainty
    )


def test_ratio_shift_is_certified_over_measured() -> None:
    measured = StandardValue("NIST SRM 981", "206Pb/204Pb", 16.9300, 0.0020, scale="lab SRM 981")
    certified = StandardValue("NIST SRM 981", "206Pb/204Pb", 16.9405, 0.0015, scale="SRM 981")

    shift = calculate_shift(measured, certified, element="Pb", kind=RATIO)

    assert shift.factor == pytest.approx(16.9405 / 16.9300, abs=1e-15)
    relative = math.hypot(0.0020 / 16.93, 0.0015 / 16.9405)
    assert shift.factor_uncertainty == pytest.approx(16.9405 / 16.93 * relative, abs=1e-15)
    assert shift.offset_permil == pytest.approx((16.9405 / 16.9300 - 1) * 1000, abs=1e-12)
    assert shift.offset_permil == pytest.approx(0.620200826934435, abs=1e-12)
    assert (shift.from_standard, shift.to_standard) == ("lab SRM 981", "SRM 981")
    assert shift.basis == (measured, certified)


def test_converting_through_a_ratio_shift_equals_standard_bracketing() -> None:
    measured = StandardValue("NIST SRM 981", "206Pb/204Pb", 16.9300, 0.0020, scale="lab SRM 981")
    certified = StandardValue("NIST SRM 981", "206Pb/204Pb", 16.9405, 0.0015, scale="SRM 981")
    shift = calculate_shift(measured, certified, element="Pb", kind=RATIO)

    converted = convert(
        18.0,
        "lab SRM 981",
        "SRM 981",
        [shift],
        element="Pb",
        quantity="206Pb/204Pb",
        uncertainty=0.0018,
    )
    bracketed = bracket_ratio(18.0, 0.0018, certified, measured)

    assert converted.value == pytest.approx(bracketed.value, abs=1e-12)
    assert converted.value == pytest.approx(18.0 * 16.9405 / 16.9300, abs=1e-12)
    assert converted.uncertainty == pytest.approx(bracketed.uncertainty, abs=1e-15)


def test_delta_shift_of_crm_measured_against_the_lab_standard() -> None:
    measured = StandardValue("BCR-2", "δ65Cu", 0.50, 0.03, scale="lab Cu")
    certified = StandardValue("BCR-2", "δ65Cu", 0.18, 0.04, scale="NIST SRM 976")

    shift = calculate_shift(measured, certified, element="Cu", kind=DELTA)

    assert shift.value == pytest.approx((0.18 - 0.50) / 1.0005, abs=1e-12)
    assert shift.value == pytest.approx(-0.319840079960020, abs=1e-12)
    expected_u = math.hypot(0.04 / 1.0005, 0.03 * 1.00018 / 1.0005**2)
    assert shift.uncertainty == pytest.approx(expected_u, abs=1e-12)
    # Carrying the CRM's measured value across the shift gives back its certified value.
    back = convert(0.50, "lab Cu", "NIST SRM 976", [shift], element="Cu", quantity="δ65Cu")
    assert back.value == pytest.approx(0.18, abs=1e-12)


def test_cu_value_from_srm_3114_to_srm_976() -> None:
    result = convert(
        0.50,
        "NIST SRM 3114",
        "NIST SRM 976",
        [SRM3114_TO_SRM976],
        element="Cu",
        quantity="δ65Cu",
        uncertainty=0.05,
    )

    assert result.value == pytest.approx(0.50 + 0.18 + 1e-3 * 0.50 * 0.18, abs=1e-12)
    assert result.value == pytest.approx(0.68009, abs=1e-12)
    expected_u = math.hypot(1.00018 * 0.05, 1.0005 * 0.04)
    assert result.uncertainty == pytest.approx(expected_u, abs=1e-12)
    assert result.path == ("NIST SRM 3114", "NIST SRM 976")


def test_two_step_chain_in_house_to_aa_eth_to_jmc_lyon() -> None:
    result = zn(0.50, "in-house Zn", "JMC-Lyon", [AA_ETH_TO_JMC, IN_HOUSE_TO_AA_ETH])

    step1 = 0.50 - 0.10 - 1e-3 * 0.50 * 0.10
    u1 = math.hypot((1 - 0.10 / 1000) * 0.05, (1 + 0.50 / 1000) * 0.03)
    step2 = step1 + 0.28 + 1e-3 * step1 * 0.28
    u2 = math.hypot((1 + 0.28 / 1000) * u1, (1 + step1 / 1000) * 0.02)
    assert step1 == pytest.approx(0.39995, abs=1e-12)
    assert result.value == pytest.approx(step2, abs=1e-12)
    assert result.value == pytest.approx(0.680061986, abs=1e-12)
    assert result.uncertainty == pytest.approx(u2, abs=1e-12)
    assert result.path == ("in-house Zn", "AA-ETH", "JMC-Lyon")
    assert [step.shift for step in result.steps] == [IN_HOUSE_TO_AA_ETH, AA_ETH_TO_JMC]
    assert result.steps[0].value == pytest.approx(step1, abs=1e-12)


def test_two_step_ratio_chain_multiplies_factors() -> None:
    first = Shift("Nd", "143Nd/144Nd", RATIO, "A", "B", 1.0002, 0.00001)
    second = Shift("Nd", "143Nd/144Nd", RATIO, "B", "C", 0.9997, 0.00002)

    result = convert(
        0.512100,
        "A",
        "C",
        [first, second],
        element="Nd",
        quantity="143Nd/144Nd",
        uncertainty=0.000010,
    )

    assert result.value == pytest.approx(0.512100 * 1.0002 * 0.9997, abs=1e-15)
    relative = math.sqrt(
        (0.00001 / 0.5121) ** 2 + (0.00001 / 1.0002) ** 2 + (0.00002 / 0.9997) ** 2
    )
    assert result.uncertainty == pytest.approx(result.value * relative, abs=1e-15)


def test_walking_a_shift_backwards_inverts_it() -> None:
    result = zn(0.50, "JMC-Lyon", "AA-ETH", [AA_ETH_TO_JMC], uncertainty=0.0)

    assert result.value == pytest.approx((1.0005 / 1.00028 - 1) * 1000, abs=1e-12)
    assert result.value == pytest.approx(0.219938417243172, abs=1e-12)
    assert result.uncertainty == pytest.approx(1.0005 * 0.02 / 1.00028**2, abs=1e-12)
    assert result.steps[0].reversed is True


def test_reversing_twice_restores_the_shift() -> None:
    twice = AA_ETH_TO_JMC.reversed().reversed()

    assert twice.value == pytest.approx(0.28, abs=1e-14)
    assert twice.uncertainty == pytest.approx(0.02, abs=1e-14)
    assert (twice.from_standard, twice.to_standard, twice.label) == ("AA-ETH", "JMC-Lyon", "zn-1")


def test_fewest_steps_wins_over_smaller_uncertainty() -> None:
    direct = Shift("Zn", "δ66Zn", DELTA, "X", "JMC-Lyon", 0.10, 0.50)
    x_to_aa = Shift("Zn", "δ66Zn", DELTA, "X", "AA-ETH", -0.18, 0.001)

    result = zn(0.0, "X", "JMC-Lyon", [direct, x_to_aa, AA_ETH_TO_JMC])

    assert result.path == ("X", "JMC-Lyon")
    assert result.value == pytest.approx(0.10, abs=1e-12)


def test_equal_length_paths_are_decided_by_propagated_uncertainty() -> None:
    precise = [
        Shift("Zn", "δ66Zn", DELTA, "X", "P", 0.10, 0.01),
        Shift("Zn", "δ66Zn", DELTA, "P", "Y", 0.10, 0.01),
    ]
    loose = [
        Shift("Zn", "δ66Zn", DELTA, "X", "L", 0.10, 0.10),
        Shift("Zn", "δ66Zn", DELTA, "L", "Y", 0.10, 0.10),
    ]

    result = zn(1.0, "X", "Y", loose + precise)

    assert result.path == ("X", "P", "Y")
    step1 = 1.0 + 0.10 + 1e-3 * 0.10
    u1 = math.hypot(1.0001 * 0.05, 1.001 * 0.01)
    expected_u = math.hypot(1.0001 * u1, (1 + step1 / 1000) * 0.01)
    assert result.uncertainty == pytest.approx(expected_u, abs=1e-12)


def test_no_path_between_separate_groups_of_standards() -> None:
    other_group = Shift("Zn", "δ66Zn", DELTA, "Q", "R", 0.10, 0.01)

    with pytest.raises(NoConversionPath, match="from 'AA-ETH' to 'Q'"):
        zn(0.5, "AA-ETH", "Q", [AA_ETH_TO_JMC, other_group])


def test_no_path_for_a_standard_without_any_shift() -> None:
    with pytest.raises(NoConversionPath, match="no known shift involves 'IRMM-3702'"):
        zn(0.5, "IRMM-3702", "JMC-Lyon", [AA_ETH_TO_JMC])


def test_shifts_of_another_element_are_not_used() -> None:
    with pytest.raises(NoConversionPath, match="no known shift for Zn δ66Zn"):
        zn(0.5, "NIST SRM 3114", "NIST SRM 976", [SRM3114_TO_SRM976])


def test_same_standard_needs_no_shift() -> None:
    result = zn(0.42, "JMC-Lyon", "JMC-Lyon", [])

    assert (result.value, result.uncertainty, result.path, result.steps) == (
        0.42,
        0.05,
        ("JMC-Lyon",),
        (),
    )


def test_mixed_ratio_and_delta_shifts_are_refused() -> None:
    ratio_edge = Shift("Zn", "δ66Zn", RATIO, "AA-ETH", "Z", 1.0001, 0.0)

    with pytest.raises(InvalidInputError, match="mixes ratio and delta"):
        zn(0.5, "AA-ETH", "JMC-Lyon", [AA_ETH_TO_JMC, ratio_edge])


def test_shift_between_a_standard_and_itself_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="to_standard='AA-ETH'"):
        Shift("Zn", "δ66Zn", DELTA, "AA-ETH", "AA-ETH", 0.0, 0.0)


def test_ratio_shift_needs_a_positive_factor() -> None:
    with pytest.raises(InvalidInputError, match=re.escape("value=0.0")):
        Shift("Pb", "206Pb/204Pb", RATIO, "A", "B", 0.0, 0.0)


def test_shift_needs_the_scales_of_both_values() -> None:
    measured = StandardValue("BCR-2", "δ65Cu", 0.50, 0.03)
    certified = StandardValue("BCR-2", "δ65Cu", 0.18, 0.04, scale="NIST SRM 976")

    with pytest.raises(InvalidInputError, match=re.escape("measured.scale=None")):
        calculate_shift(measured, certified, element="Cu", kind=DELTA)


def test_shift_needs_the_same_material() -> None:
    measured = StandardValue("BHVO-2", "δ65Cu", 0.50, 0.03, scale="lab Cu")
    certified = StandardValue("BCR-2", "δ65Cu", 0.18, 0.04, scale="NIST SRM 976")

    with pytest.raises(InvalidInputError, match=re.escape("certified.standard='BCR-2'")):
        calculate_shift(measured, certified, element="Cu", kind=DELTA)
