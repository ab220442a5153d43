"""Quantity and timeseries data: units, base-unit magnitudes and completion."""

from typing import Any

import pytest

from isofind.objects.schema_language import DataValidationError, InMemoryReferences, validate_data

NAME = {"_type": "text", "text": "Example"}
MASS = {"title": "Mass", "type": "quantity", "units": "g"}
MASS_LIST = {
    "title": "Masses",
    "type": "array",
    "items": {"title": "Mass", "type": "quantity", "units": ["g", "mg"]},
}
TEMPERATURE = {"title": "Temperature", "type": "timeseries", "units": "degC"}


def document(properties: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    schema = {
        "title": "Measurement",
        "type": "object",
        "properties": {"name": {"title": "Name", "type": "text"}, **properties},
        "required": ["name"],
    }
    completed = {"name": NAME, **data}
    validate_data(completed, schema, InMemoryReferences())
    return completed


def error_of(properties: dict[str, Any], data: dict[str, Any]) -> tuple[str, list[str | int]]:
    with pytest.raises(DataValidationError) as caught:
        document(properties, data)
    return caught.value.message, caught.value.path


def test_magnitude_is_completed_with_base_units_and_dimensionality() -> None:
    data = document({"mass": MASS}, {"mass": {"_type": "quantity", "magnitude": 10}})
    assert data["mass"] == {
        "_type": "quantity",
        "magnitude": 10,
        "magnitude_in_base_units": 0.01,
        "units": "g",
        "dimensionality": "[mass]",
    }


def test_magnitude_is_computed_from_base_units_in_the_given_units() -> None:
    data = document(
        {"mass": MASS},
        {"mass": {"_type": "quantity", "magnitude_in_base_units": 0.011, "units": "mg"}},
    )
    assert data["mass"]["magnitude"] == pytest.approx(11000.0, rel=1e-12)
    assert data["mass"]["dimensionality"] == "[mass]"


def test_sampledb_diff_example_quantity_is_valid() -> None:
    quantity = {
        "_type": "quantity",
        "magnitude": 11,
        "magnitude_in_base_units": 0.011,
        "units": "g",
        "dimensionality": "[mass]",
    }
    data = document({"mass_list": MASS_LIST}, {"mass_list": [quantity]})
    assert data["mass_list"][0] == quantity


def test_offset_units_convert_absolutely() -> None:
    celsius = {"title": "T", "type": "quantity", "units": "degC"}
    data = document({"t": celsius}, {"t": {"_type": "quantity", "magnitude": 25}})
    assert abs(data["t"]["magnitude_in_base_units"] - 298.15) < 1e-9


def test_other_units_of_the_same_dimensionality_are_accepted() -> None:
    data = document(
        {"mass": MASS}, {"mass": {"_type": "quantity", "magnitude": 2.5, "units": "kg"}}
    )
    assert data["mass"]["magnitude_in_base_units"] == 2.5


def test_dimensionless_quantity_takes_units_from_the_schema() -> None:
    ratio = {"title": "206Pb/204Pb", "type": "quantity", "units": "1"}
    data = document({"ratio": ratio}, {"ratio": {"_type": "quantity", "magnitude": 18.7}})
    assert data["ratio"]["units"] == "1"
    assert data["ratio"]["dimensionality"] == "dimensionless"
    assert abs(data["ratio"]["magnitude_in_base_units"] - 18.7) < 1e-12


def test_delta_values_in_permil_are_dimensionless() -> None:
    delta = {"title": "δ65Cu", "type": "quantity", "units": "permil"}
    data = document({"d65Cu": delta}, {"d65Cu": {"_type": "quantity", "magnitude": -0.35}})
    assert abs(data["d65Cu"]["magnitude_in_base_units"] + 0.00035) < 1e-15


def test_wrong_units_in_a_list_point_at_the_item() -> None:
    masses = [
        {"_type": "quantity", "magnitude": 10, "units": "g"},
        {"_type": "quantity", "magnitude": 11, "units": "mg"},
        {"_type": "quantity", "magnitude": 12, "units": "gramm"},
    ]
    assert error_of({"mass_list": MASS_LIST}, {"mass_list": masses}) == (
        "unknown units 'gramm'",
        ["mass_list", 2, "units"],
    )


@pytest.mark.parametrize(
    ("quantity", "message", "key"),
    [
        (
            {"magnitude": 1, "units": "m"},
            "units 'm' measure [length], but this property needs [mass] (e.g. 'g')",
            "units",
        ),
        ({"magnitude": 1, "units": 3}, "units must be a string, got 3", "units"),
        (
            {"magnitude": 1, "units": " "},
            'units must not be empty; use "1" for dimensionless quantities',
            "units",
        ),
        ({"units": "g"}, 'a quantity needs "magnitude" or "magnitude_in_base_units"', "magnitude"),
        (
            {"magnitude": "10", "units": "g"},
            "magnitude must be a finite number, got '10'",
            "magnitude",
        ),
        (
            {"magnitude": True, "units": "g"},
            "magnitude must be a finite number, got True",
            "magnitude",
        ),
        (
            {"magnitude": float("inf"), "units": "g"},
            "magnitude must be a finite number, got inf",
            "magnitude",
        ),
        (
            {"magnitude_in_base_units": float("nan"), "units": "g"},
            "magnitude_in_base_units must be a finite number, got nan",
            "magnitude_in_base_units",
        ),
        (
            {"magnitude": 10, "magnitude_in_base_units": 0.02, "units": "g"},
            "magnitude_in_base_units 0.02 does not match magnitude 10 g (expected 0.01)",
            "magnitude_in_base_units",
        ),
        (
            {"magnitude": 1, "units": "g", "dimensionality": "[length]"},
            "dimensionality must be '[mass]' for units 'g', got '[length]'",
            "dimensionality",
        ),
        ({"magnitude": 1, "unit": "g"}, 'unexpected key "unit" in a quantity value', "unit"),
    ],
)
def test_invalid_quantities(quantity: dict[str, Any], message: str, key: str) -> None:
    assert error_of({"mass": MASS}, {"mass": {"_type": "quantity", **quantity}}) == (
        message,
        ["mass", key],
    )


def test_units_are_required_when_the_schema_allows_several() -> None:
    assert error_of(
        {"mass_list": MASS_LIST}, {"mass_list": [{"_type": "quantity", "magnitude": 1}]}
    ) == (
        "units are required because this property allows several: g, mg",
        ["mass_list", 0, "units"],
    )


def test_magnitude_bounds_are_in_base_units() -> None:
    bounded = {**MASS, "min_magnitude": 0.005, "max_magnitude": 0.02}
    document({"mass": bounded}, {"mass": {"_type": "quantity", "magnitude": 5, "units": "g"}})
    assert error_of(
        {"mass": bounded}, {"mass": {"_type": "quantity", "magnitude": 4, "units": "g"}}
    ) == (
        "must be greater than or equal to 5 g",
        ["mass", "magnitude"],
    )
    assert error_of(
        {"mass": bounded}, {"mass": {"_type": "quantity", "magnitude_in_base_units": 0.03}}
    ) == (
        "must be less than or equal to 20 g",
        ["mass", "magnitude"],
    )


# --- timeseries ------------------------------------------------------------------------------


def test_timeseries_rows_gain_base_unit_magnitudes() -> None:
    data = document(
        {"temperature": TEMPERATURE},
        {
            "temperature": {
                "_type": "timeseries",
                "data": [["2023-01-02 03:04:05.678900", 20], ["2023-01-02 03:04:06", 21.5, 294.65]],
            }
        },
    )
    series = data["temperature"]
    assert series["units"] == "degC"
    assert series["dimensionality"] == "[temperature]"
    assert series["data"][0][:2] == ["2023-01-02 03:04:05.678900", 20.0]
    assert abs(series["data"][0][2] - 293.15) < 1e-9
    assert series["data"][1] == ["2023-01-02 03:04:06", 21.5, 294.65]


def test_timeseries_with_relative_times_in_kelvin() -> None:
    series = {"_type": "timeseries", "units": "K", "data": [[0, 300], [1.5, 301]]}
    data = document({"temperature": TEMPERATURE}, {"temperature": series})
    assert data["temperature"]["data"] == [[0, 300.0, 300.0], [1.5, 301.0, 301.0]]


@pytest.mark.parametrize(
    ("series", "message", "tail"),
    [
        ({"data": {"t": 1}}, "data must be a list of rows", ["data"]),
        (
            {"data": [["2023-01-02 03:04:05", 1, 2, 3]]},
            "a row must be [time, magnitude] or [time, magnitude, magnitude_in_base_units]",
            ["data", 0],
        ),
        (
            {"data": [["2023-01-02T03:04:05", 1]]},
            'time must be a UTC date and time written "YYYY-MM-DD HH:MM:SS.ffffff", '
            "got '2023-01-02T03:04:05'",
            ["data", 0, 0],
        ),
        (
            {"data": [[0, 1], ["2023-01-02 03:04:05", 2]]},
            "time must be a finite number of seconds, like the time of the first row",
            ["data", 1, 0],
        ),
        (
            {"data": [["2023-01-02 03:04:05", 1], ["2023-01-02 03:04:05", 2]]},
            "time '2023-01-02 03:04:05' occurs twice",
            ["data", 1, 0],
        ),
        (
            {"data": [["2023-01-02 03:04:05", None]]},
            "magnitude must be a finite number, got None",
            ["data", 0, 1],
        ),
        (
            {"data": [["2023-01-02 03:04:05", 20, 20]]},
            "magnitude_in_base_units 20 does not match magnitude 20 degC (expected 293.15)",
            ["data", 0, 2],
        ),
        (
            {"units": "m", "data": []},
            "units 'm' measure [length], but this property needs [temperature] (e.g. 'degC')",
            ["units"],
        ),
        (
            {"units": "K", "dimensionality": "[mass]", "data": []},
            "dimensionality must be '[temperature]' for units 'K', got '[mass]'",
            ["dimensionality"],
        ),
        ({"units": "K"}, 'missing key "data" in a timeseries value', ["data"]),
    ],
)
def test_invalid_timeseries(series: dict[str, Any], message: str, tail: list[str | int]) -> None:
    value = {"_type": "timeseries", **series}
    assert error_of({"temperature": TEMPERATURE}, {"temperature": value}) == (
        message,
        ["temperature", *tail],
    )
