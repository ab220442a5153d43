"""Schema rules of the leaf property types (everything but ``object`` and ``array``).

Each checker receives a schema node whose keys were already checked against the type's
allowed keys, and the node's path inside the schema document.
"""

import copy
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from ..units import InvalidUnitsError, dimensionality_of, parse_units
from .common import is_integer, is_language_code, is_number, is_utc_datetime, json_type_name
from .data_validation import check_data
from .errors import DataValidationError, JsonPath, SchemaError

TIMESERIES_STATISTICS: Final = ("average", "count", "first", "last", "max", "min", "stddev")
FILTER_OPERATORS: Final = ("and", "or")

TypeChecker: TypeAlias = Callable[[Mapping[str, Any], JsonPath], None]


def check_translatable(
    value: object, path: JsonPath, what: str, *, non_empty: bool = False
) -> None:
    """A text shown to users: a string or a dict of language code -> string incl. "en"."""
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, dict):
        if "en" not in value:
            raise SchemaError(f'{what} needs an English ("en") translation', path)
        for code, text in value.items():
            if not is_language_code(code):
                raise SchemaError(f"{what} has an invalid language code {code!r}", path + [code])
            if not isinstance(text, str):
                raise SchemaError(f"{what} translations must be strings", path + [code])
        texts = list(value.values())
    else:
        raise SchemaError(
            f"{what} must be a string or an object mapping language codes to strings, "
            f"got {json_type_name(value)}",
            path,
        )
    if non_empty and any(not text.strip() for text in texts):
        raise SchemaError(f"{what} must not be empty", path)


def check_bool_option(schema: Mapping[str, Any], key: str, path: JsonPath) -> None:
    if key in schema and not isinstance(schema[key], bool):
        raise SchemaError(f"{key} must be true or false", path + [key])


def _check_non_negative_integer(schema: Mapping[str, Any], key: str, path: JsonPath) -> None:
    if key in schema and (not is_integer(schema[key]) or schema[key] < 0):
        raise SchemaError(f"{key} must be a non-negative integer", path + [key])


def default_as_data(
    value: object, schema: Mapping[str, Any], path: JsonPath, *, wrapper_key: str | None = None
) -> None:
    """Validate a schema default as data, without looking up referenced records.

    Some defaults hold only the payload of a data value (tags: a list of strings); they are
    wrapped as ``{"_type": ..., wrapper_key: default}`` first and ``wrapper_key`` is then
    dropped from error paths so that these point into the default itself.
    """
    try:
        check_data(copy.deepcopy(value), schema, None, object_id=None)
    except DataValidationError as error:
        data_path = error.path
        if wrapper_key is not None and data_path[:1] == [wrapper_key]:
            data_path = data_path[1:]
        raise SchemaError(f"invalid default: {error.message}", path + data_path) from error


def schema_units(schema: Mapping[str, Any], path: JsonPath) -> list[str]:
    """Check ``units`` of a quantity or timeseries schema and return them as a list.

    ``units`` is one unit string or a non-empty list of distinct units sharing one
    dimensionality; ``"1"`` denotes dimensionless numbers.
    """
    units = schema["units"]
    unit_list = units if isinstance(units, list) else [units]
    if not unit_list or not all(isinstance(unit, str) for unit in unit_list):
        raise SchemaError("units must be a string or a non-empty list of strings", path + ["units"])
    seen = []
    for index, unit in enumerate(unit_list):
        unit_path = path + ["units"] + ([index] if isinstance(units, list) else [])
        try:
            parsed = parse_units(unit)
        except InvalidUnitsError as error:
            raise SchemaError(error.reason, unit_path) from error
        if parsed in seen:
            raise SchemaError(f"units {unit!r} are listed twice", unit_path)
        if seen and dimensionality_of(unit) != dimensionality_of(unit_list[0]):
            raise SchemaError(
                f"units {unit!r} ({dimensionality_of(unit)}) do not have the dimensionality "
                f"of {unit_list[0]!r} ({dimensionality_of(unit_list[0])})",
                unit_path,
            )
        seen.append(parsed)
    return unit_list


def _check_language_list(schema: Mapping[str, Any], path: JsonPath) -> set[str] | None:
    """Allowed language codes of a text property; None means any ("all")."""
    languages = schema.get("languages", ["en"])
    if languages == "all":
        return None
    if (
        not isinstance(languages, list)
        or not languages
        or not all(is_language_code(code) for code in languages)
    ):
        raise SchemaError(
            'languages must be "all" or a non-empty list of language codes',
            path + ["languages"],
        )
    return set(languages)


def _check_choices(schema: Mapping[str, Any], path: JsonPath) -> None:
    choices = schema["choices"]
    if not isinstance(choices, list) or not choices:
        raise SchemaError("choices must be a non-empty list", path + ["choices"])
    if len({type(choice) for choice in choices}) > 1:
        raise SchemaError(
            "choices must be either all strings or all translations", path + ["choices"]
        )
    for index, choice in enumerate(choices):
        check_translatable(choice, path + ["choices", index], "a choice")
        texts = choice.values() if isinstance(choice, dict) else [choice]
        if any(text.isspace() for text in texts):
            raise SchemaError(
                "a choice must contain more than whitespace", path + ["choices", index]
            )


def _check_text_default(
    schema: Mapping[str, Any], path: JsonPath, languages: set[str] | None
) -> None:
    default = schema["default"]
    if not isinstance(default, str | dict):
        raise SchemaError("default must be a string or a translation", path + ["default"])
    if "choices" in schema:
        if default not in schema["choices"]:
            raise SchemaError("default must be one of the choices", path + ["default"])
        return
    if isinstance(default, dict):
        for code, text in default.items():
            if languages is not None and code not in languages:
                raise SchemaError(
                    f"default uses language {code!r}, which this property does not allow",
                    path + ["default", code],
                )
            if not isinstance(text, str):
                raise SchemaError("default translations must be strings", path + ["default", code])


def _check_text_lengths(schema: Mapping[str, Any], path: JsonPath) -> None:
    _check_non_negative_integer(schema, "minLength", path)
    _check_non_negative_integer(schema, "maxLength", path)
    if (
        "minLength" in schema
        and "maxLength" in schema
        and schema["maxLength"] < schema["minLength"]
    ):
        raise SchemaError("maxLength must not be less than minLength", path + ["maxLength"])


def _check_text_pattern(schema: Mapping[str, Any], path: JsonPath) -> None:
    pattern = schema["pattern"]
    if not isinstance(pattern, str):
        raise SchemaError("pattern must be a string", path + ["pattern"])
    try:
        re.compile(pattern)
    except re.error as error:
        raise SchemaError(
            f"pattern is not a valid regular expression: {error}", path + ["pattern"]
        ) from error


def _check_text_display(schema: Mapping[str, Any], path: JsonPath) -> None:
    check_bool_option(schema, "multiline", path)
    check_bool_option(schema, "markdown", path)
    kinds = [key for key in ("choices", "multiline", "markdown") if schema.get(key)]
    if len(kinds) > 1:
        raise SchemaError(
            f"a text cannot be both {kinds[0]} and {kinds[1]}; choices, multiline and "
            "markdown are mutually exclusive",
            path + [kinds[1]],
        )
    if "placeholder" in schema and "choices" in schema:
        raise SchemaError(
            "placeholder cannot be used together with choices", path + ["placeholder"]
        )


def check_text_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    languages = _check_language_list(schema, path)
    _check_text_lengths(schema, path)
    if "choices" in schema:
        _check_choices(schema, path)
    if "default" in schema:
        _check_text_default(schema, path, languages)
    if "pattern" in schema:
        _check_text_pattern(schema, path)
    _check_text_display(schema, path)
    if path == ["properties", "name"] and schema.get("dataverse_export") is False:
        raise SchemaError(
            "dataverse_export must be true for the object name", path + ["dataverse_export"]
        )


def check_bool_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    if "default" in schema and not isinstance(schema["default"], bool):
        raise SchemaError("default must be true or false", path + ["default"])


def check_datetime_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    if "default" in schema and not is_utc_datetime(schema["default"]):
        raise SchemaError(
            'default must be a UTC date and time written "YYYY-MM-DD HH:MM:SS"', path + ["default"]
        )


def _check_magnitude_bounds(schema: Mapping[str, Any], path: JsonPath) -> None:
    for key in ("min_magnitude", "max_magnitude"):
        if key in schema and not (is_number(schema[key]) and math.isfinite(schema[key])):
            raise SchemaError(f"{key} must be a finite number (in base units)", path + [key])
    if schema.get("min_magnitude", -math.inf) > schema.get("max_magnitude", math.inf):
        raise SchemaError(
            "max_magnitude must be greater than or equal to min_magnitude", path + ["max_magnitude"]
        )


def _check_quantity_default(schema: Mapping[str, Any], path: JsonPath) -> None:
    default = schema["default"]
    if isinstance(default, dict):
        default_as_data({"_type": "quantity", **default}, schema, path + ["default"])
        return
    if not (is_number(default) and math.isfinite(default)):
        raise SchemaError(
            "default must be a finite number (in base units) or a quantity", path + ["default"]
        )
    if default < schema.get("min_magnitude", -math.inf):
        raise SchemaError("default must not be less than min_magnitude", path + ["default"])
    if default > schema.get("max_magnitude", math.inf):
        raise SchemaError("default must not be greater than max_magnitude", path + ["default"])


def check_quantity_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    schema_units(schema, path)
    _check_magnitude_bounds(schema, path)
    if "default" in schema:
        _check_quantity_default(schema, path)
    _check_non_negative_integer(schema, "display_digits", path)


def _check_id_filter(schema: Mapping[str, Any], key: str, path: JsonPath) -> None:
    if key not in schema:
        return
    value = schema[key]
    if not (
        value is None
        or is_integer(value)
        or (isinstance(value, list) and all(is_integer(item) for item in value))
    ):
        raise SchemaError(f"{key} must be an integer, a list of integers or null", path + [key])


def check_object_reference_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    _check_id_filter(schema, "action_type_id", path)
    _check_id_filter(schema, "action_id", path)
    if schema.get("filter_operator", "and") not in FILTER_OPERATORS:
        raise SchemaError('filter_operator must be "and" or "or"', path + ["filter_operator"])


def _check_top_level(type_name: str, path: JsonPath) -> None:
    if path != ["properties", type_name]:
        raise SchemaError(
            f'a {type_name} property must be the property "{type_name}" of the root object',
            path + ["type"],
        )


def check_tags_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    _check_top_level("tags", path)
    if "default" in schema:
        default_as_data(
            {"_type": "tags", "tags": schema["default"]},
            schema,
            path + ["default"],
            wrapper_key="tags",
        )


def check_hazards_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    _check_top_level("hazards", path)


def check_user_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    default = schema.get("default", "self")
    if default != "self" and not is_integer(default):
        raise SchemaError('default must be a user ID or "self"', path + ["default"])


def check_timeseries_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    schema_units(schema, path)
    _check_non_negative_integer(schema, "display_digits", path)
    statistics = schema.get("statistics", [])
    if not isinstance(statistics, list) or not all(
        item in TIMESERIES_STATISTICS for item in statistics
    ):
        raise SchemaError(
            f"statistics must be a list of: {', '.join(TIMESERIES_STATISTICS)}",
            path + ["statistics"],
        )


def check_file_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    extensions = schema.get("extensions")
    if "extensions" in schema and not (
        isinstance(extensions, list)
        and extensions
        and all(
            isinstance(extension, str) and len(extension) > 1 and extension.startswith(".")
            for extension in extensions
        )
    ):
        raise SchemaError(
            'extensions must be a non-empty list of file extensions such as ".csv"',
            path + ["extensions"],
        )
    check_bool_option(schema, "preview", path)


# sample, measurement and plotly_chart have no rules beyond the common options.
LEAF_CHECKERS: Final[dict[str, TypeChecker]] = {
    "text": check_text_schema,
    "bool": check_bool_schema,
    "datetime": check_datetime_schema,
    "quantity": check_quantity_schema,
    "object_reference": check_object_reference_schema,
    "tags": check_tags_schema,
    "hazards": check_hazards_schema,
    "user": check_user_schema,
    "timeseries": check_timeseries_schema,
    "file": check_file_schema,
}
