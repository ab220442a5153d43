"""Data validation of ``quantity`` and ``timeseries`` values, which carry units.

A quantity value holds ``magnitude`` (in ``units``), ``magnitude_in_base_units`` (SI) and
pint's ``dimensionality``. Either magnitude may be left out; validation computes it, fills
in ``units`` when the schema names a single unit, and adds ``dimensionality``. The units
may be any units with the dimensionality of the schema's units (10 mg for a property in g).
When both magnitudes are given they must agree to a relative tolerance of 1e-9.

A timeseries value holds ``data``: rows ``[time, magnitude]`` or
``[time, magnitude, magnitude_in_base_units]``, where time is a UTC date and time
(``YYYY-MM-DD HH:MM:SS`` with optional fractional seconds) or, for every row alike, a number
of seconds. Rows without a base-unit magnitude get one.
"""

import math
from collections.abc import Mapping
from typing import Any

from ..units import (
    InvalidUnitsError,
    dimensionality_of,
    from_base_units,
    parse_units,
    to_base_units,
)
from .common import is_number, is_timeseries_datetime
from .data_common import DataContext, check_keys
from .errors import DataValidationError, JsonPath

_MAGNITUDE_KEYS = ("magnitude", "magnitude_in_base_units")


def _schema_unit_list(schema: Mapping[str, Any]) -> list[str]:
    units = schema["units"]
    return list(units) if isinstance(units, list) else [units]


def _data_units(value: dict[str, Any], schema: Mapping[str, Any], path: JsonPath) -> str:
    """The value's units, taken from the schema when it names a single unit."""
    allowed = _schema_unit_list(schema)
    if "units" not in value:
        if len(allowed) > 1:
            raise DataValidationError(
                f"units are required because this property allows several: {', '.join(allowed)}",
                path + ["units"],
            )
        value["units"] = allowed[0]
    units = value["units"]
    try:
        parse_units(units)
    except InvalidUnitsError as error:
        raise DataValidationError(error.reason, path + ["units"]) from error
    expected = dimensionality_of(allowed[0])
    if dimensionality_of(units) != expected:
        raise DataValidationError(
            f"units {units!r} measure {dimensionality_of(units)}, but this property needs "
            f"{expected} (e.g. {allowed[0]!r})",
            path + ["units"],
        )
    return str(units)


def _fill_dimensionality(value: dict[str, Any], units: str, path: JsonPath) -> None:
    expected = dimensionality_of(units)
    if value.setdefault("dimensionality", expected) != expected:
        raise DataValidationError(
            f"dimensionality must be {expected!r} for units {units!r}, got "
            f"{value['dimensionality']!r}",
            path + ["dimensionality"],
        )


def _finite_number(value: object, what: str, path: JsonPath) -> float:
    if not is_number(value) or not math.isfinite(value):
        raise DataValidationError(f"{what} must be a finite number, got {value!r}", path)
    return value


def _convert(convert: Any, magnitude: float, units: str, path: JsonPath) -> float:
    try:
        return float(convert(magnitude, units))
    except ValueError as error:
        raise DataValidationError(str(error), path) from error


def _magnitudes_agree(magnitude: float, in_base: float, units: str, path: JsonPath) -> bool:
    # Comparing on both scales accepts float noise near zero on either side, e.g.
    # -273.15 degC given with a base-unit magnitude of 1e-14 K instead of 0 K.
    return math.isclose(_convert(to_base_units, magnitude, units, path), in_base) or math.isclose(
        magnitude, _convert(from_base_units, in_base, units, path)
    )


def _show(magnitude: float, units: str) -> str:
    return f"{magnitude:g}" if units == "1" else f"{magnitude:g} {units}"


def _check_bounds(in_base: float, schema: Mapping[str, Any], units: str, path: JsonPath) -> None:
    """``min_magnitude``/``max_magnitude`` are in base units; messages use the data's units."""
    if in_base < schema.get("min_magnitude", -math.inf):
        bound = from_base_units(schema["min_magnitude"], units)
        raise DataValidationError(
            f"must be greater than or equal to {_show(bound, units)}", path + ["magnitude"]
        )
    if in_base > schema.get("max_magnitude", math.inf):
        bound = from_base_units(schema["max_magnitude"], units)
        raise DataValidationError(
            f"must be less than or equal to {_show(bound, units)}", path + ["magnitude"]
        )


def check_quantity(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    quantity = check_keys(
        value, path, "quantity", (), ("units", "dimensionality", *_MAGNITUDE_KEYS)
    )
    units = _data_units(quantity, schema, path)
    given = {
        key: _finite_number(quantity[key], key, path + [key])
        for key in _MAGNITUDE_KEYS
        if key in quantity
    }
    if not given:
        raise DataValidationError(
            'a quantity needs "magnitude" or "magnitude_in_base_units"', path + ["magnitude"]
        )
    if len(given) == 2 and not _magnitudes_agree(
        given["magnitude"], given["magnitude_in_base_units"], units, path + ["magnitude"]
    ):
        expected = to_base_units(given["magnitude"], units)
        raise DataValidationError(
            f"magnitude_in_base_units {given['magnitude_in_base_units']!r} does not match "
            f"magnitude {_show(given['magnitude'], units)} (expected {expected!r})",
            path + ["magnitude_in_base_units"],
        )
    if "magnitude" in given:
        magnitude = given["magnitude"]
        in_base = _convert(to_base_units, magnitude, units, path + ["magnitude"])
    else:
        in_base = given["magnitude_in_base_units"]
        magnitude = _convert(from_base_units, in_base, units, path + ["magnitude_in_base_units"])
    _check_bounds(in_base, schema, units, path)
    quantity.setdefault("magnitude", magnitude)
    quantity.setdefault("magnitude_in_base_units", in_base)
    _fill_dimensionality(quantity, units, path)


def _uses_relative_time(rows: list[Any]) -> bool:
    first = rows[0] if rows else None
    return isinstance(first, list) and bool(first) and is_number(first[0])


def _check_time(time: object, relative: bool, path: JsonPath) -> None:
    if relative:
        if not is_number(time) or not math.isfinite(time):
            raise DataValidationError(
                "time must be a finite number of seconds, like the time of the first row", path
            )
    elif not is_timeseries_datetime(time):
        raise DataValidationError(
            f'time must be a UTC date and time written "YYYY-MM-DD HH:MM:SS.ffffff", got {time!r}',
            path,
        )


def _checked_row(row: object, units: str, relative: bool, path: JsonPath) -> list[Any]:
    if not isinstance(row, list) or len(row) not in (2, 3):
        raise DataValidationError(
            "a row must be [time, magnitude] or [time, magnitude, magnitude_in_base_units]",
            path,
        )
    _check_time(row[0], relative, path + [0])
    magnitude = _finite_number(row[1], "magnitude", path + [1])
    if len(row) == 2:
        return [row[0], float(magnitude), _convert(to_base_units, magnitude, units, path + [1])]
    in_base = _finite_number(row[2], "magnitude_in_base_units", path + [2])
    if not _magnitudes_agree(magnitude, in_base, units, path + [1]):
        expected = to_base_units(magnitude, units)
        raise DataValidationError(
            f"magnitude_in_base_units {in_base!r} does not match magnitude "
            f"{_show(magnitude, units)} (expected {expected!r})",
            path + [2],
        )
    return row


def check_timeseries(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    timeseries = check_keys(value, path, "timeseries", ("data",), ("units", "dimensionality"))
    units = _data_units(timeseries, schema, path)
    _fill_dimensionality(timeseries, units, path)
    rows = timeseries["data"]
    if not isinstance(rows, list):
        raise DataValidationError("data must be a list of rows", path + ["data"])
    relative = _uses_relative_time(rows)
    seen_times: set[Any] = set()
    for index, row in enumerate(rows):
        row_path = path + ["data", index]
        rows[index] = _checked_row(row, units, relative, row_path)
        if rows[index][0] in seen_times:
            raise DataValidationError(f"time {rows[index][0]!r} occurs twice", row_path + [0])
        seen_times.add(rows[index][0])
