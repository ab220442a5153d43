"""Pint helpers: unit parsing, base-unit conversion and prepared quantities."""

import pytest

from isofind.objects.schema_language import format_path
from isofind.objects.units import (
    InvalidUnitsError,
    dimensionality_of,
    from_base_units,
    prepare_quantity,
    same_units,
    to_base_units,
    units_are_valid,
)


def test_prepare_quantity_builds_the_sampledb_value() -> None:
    assert prepare_quantity(10, "g") == {
        "_type": "quantity",
        "magnitude": 10.0,
        "magnitude_in_base_units": 0.01,
        "units": "g",
        "dimensionality": "[mass]",
    }


@pytest.mark.parametrize(
    ("magnitude", "units", "in_base", "dimensionality"),
    [
        (0.1, "g", 0.0001, "[mass]"),
        (25, "degC", 298.15, "[temperature]"),
        (3, "dL", 0.0003, "[length] ** 3"),
        (18.75, "1", 18.75, "dimensionless"),
        (5, "percent", 0.05, "dimensionless"),
        (-0.35, "permil", -0.00035, "dimensionless"),
        (-0.35, "‰", -0.00035, "dimensionless"),
        (2, "ppb", 2e-9, "dimensionless"),
        (12, "µg/g", 1.2e-5, "dimensionless"),
        (60, "sccm", 1e-6, "[length] ** 3 / [time]"),
        (2.5, "Ma", 7.8894e13, "[time]"),
    ],
)
def test_conversion_to_base_units(
    magnitude: float, units: str, in_base: float, dimensionality: str
) -> None:
    quantity = prepare_quantity(magnitude, units)
    assert quantity["magnitude_in_base_units"] == pytest.approx(in_base, rel=1e-12)
    assert quantity["dimensionality"] == dimensionality


def test_decimal_arithmetic_avoids_binary_noise() -> None:
    assert to_base_units(0.3, "mg") == 3e-7
    assert to_base_units(11, "g") == 0.011


def test_from_base_units_inverts_to_base_units() -> None:
    assert from_base_units(298.15, "degC") == 25.0
    assert from_base_units(0.011, "mg") == pytest.approx(11000.0, rel=1e-12)


@pytest.mark.parametrize(
    ("units", "reason"),
    [
        ("gramm", "unknown units 'gramm'"),
        ("3 m", "cannot parse units '3 m'"),
        ("m +", "cannot parse units 'm +'"),
        ("", 'units must not be empty; use "1" for dimensionless quantities'),
        (None, "units must be a string, got None"),
    ],
)
def test_invalid_units_are_reported_with_their_reason(units: object, reason: str) -> None:
    with pytest.raises(InvalidUnitsError) as caught:
        prepare_quantity(1, units)  # type: ignore[arg-type]
    assert caught.value.reason == reason
    assert caught.value.units == units
    assert not units_are_valid(units)


@pytest.mark.parametrize("magnitude", [float("nan"), float("inf"), True, "1"])
def test_magnitude_must_be_a_finite_number(magnitude: object) -> None:
    with pytest.raises(ValueError, match="magnitude must be a"):
        prepare_quantity(magnitude, "g")  # type: ignore[arg-type]


def test_results_beyond_float_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="magnitude in base units is out of range"):
        to_base_units(1e308, "Gt")


def test_unit_identity_and_dimensionality() -> None:
    assert same_units("g", "gram")
    assert not same_units("g", "kg")
    assert dimensionality_of("kg/m³") == "[mass] / [length] ** 3"
    assert units_are_valid("mL/min")


@pytest.mark.parametrize(
    ("path", "pointer"),
    [([], "/"), (["mass_list", 2, "units"], "/mass_list/2/units"), (["a/b", "c~d"], "/a~1b/c~0d")],
)
def test_format_path_writes_json_pointers(path: list[str | int], pointer: str) -> None:
    assert format_path(path) == pointer
