"""Validation of object data against a (valid) schema of the SampleDB schema language.

Every value except arrays and objects is a dict tagged with ``_type``. Some values are
completed in place, as SampleDB does before storing them: quantities and timeseries get
their missing magnitudes, units and dimensionality, a text matching a choice takes the
choice's exact form, and plotly charts given as JSON text are parsed.
"""

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from .common import is_integer, is_language_code, is_utc_datetime, json_type_name
from .conditions import conditions_hold
from .data_common import DataContext, check_keys
from .data_quantities import check_quantity, check_timeseries
from .errors import DataValidationError, JsonPath
from .references import ACTION_TYPE_MEASUREMENT, ACTION_TYPE_SAMPLE, ReferenceChecker

DataChecker: TypeAlias = Callable[[Any, Mapping[str, Any], JsonPath, DataContext], None]

TAG_CHARACTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-äöüß")
GHS_HAZARDS: Final = range(1, 10)
PLOTLY_FIGURE_KEYS: Final = frozenset({"data", "layout", "frames"})


def check_data(
    data: object, schema: Mapping[str, Any], refs: ReferenceChecker | None, *, object_id: int | None
) -> None:
    """Raise DataValidationError unless ``data`` matches ``schema``.

    ``schema`` must have passed schema validation. With ``refs`` None, references are
    checked for form only.
    """
    _check_value(data, schema, [], DataContext(refs, object_id))


def _check_value(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    _CHECKERS[schema["type"]](value, schema, path, context)


def _check_object(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    if not isinstance(value, dict):
        raise DataValidationError(f"expected an object, got {json_type_name(value)}", path)
    properties = schema["properties"]
    unknown = [name for name in value if name not in properties]
    if unknown:
        raise DataValidationError(f'unknown property "{unknown[0]}"', path + [unknown[0]])
    unavailable = {
        name
        for name, property_schema in properties.items()
        if not conditions_hold(property_schema.get("conditions", []), value)
    }
    for name in properties:
        if name in unavailable and value.get(name) is not None:
            raise DataValidationError(
                f'property "{name}" must be left out because its conditions are not fulfilled',
                path + [name],
            )
    for name in schema.get("required", []):
        if name not in unavailable and value.get(name) is None:
            raise DataValidationError(f'missing required property "{name}"', path + [name])
    for name, item in value.items():
        if item is not None:
            _check_value(item, properties[name], path + [name], context)
        elif name not in unavailable:
            raise DataValidationError(
                f'property "{name}" must not be null; leave it out instead', path + [name]
            )


def _check_array(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    if not isinstance(value, list):
        raise DataValidationError(f"expected an array, got {json_type_name(value)}", path)
    if len(value) < schema.get("minItems", 0):
        raise DataValidationError(
            f"expected at least {schema['minItems']} items, got {len(value)}", path
        )
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise DataValidationError(
            f"expected at most {schema['maxItems']} items, got {len(value)}", path
        )
    for index, item in enumerate(value):
        _check_value(item, schema["items"], path + [index], context)


def _describe_choice(choice: str | dict[str, str]) -> str:
    return repr(choice["en"] if isinstance(choice, dict) else choice)


def _matching_choice(text: object, choices: list[Any]) -> Any:
    """The choice ``text`` selects; ``"A"`` and ``{"en": "A"}`` select the same choice."""
    for choice in choices:
        if text == choice or text == {"en": choice} or {"en": text} == choice:
            return choice
    return None


def _check_languages(text: dict[str, Any], schema: Mapping[str, Any], path: JsonPath) -> None:
    allowed = schema.get("languages", ["en"])
    for code, translation in text.items():
        if not is_language_code(code) or (allowed != "all" and code not in allowed):
            raise DataValidationError(
                f"language {code!r} is not allowed for this text", path + [code]
            )
        if not isinstance(translation, str):
            raise DataValidationError(
                f"translations must be strings, got {json_type_name(translation)}", path + [code]
            )


def _check_text_content(
    text: str | dict[str, str], schema: Mapping[str, Any], path: JsonPath
) -> None:
    translations = (
        [(path + [code], translation) for code, translation in text.items()]
        if isinstance(text, dict)
        else [(path, text)]
    )
    for text_path, translation in translations:
        if len(translation) < schema.get("minLength", 0):
            raise DataValidationError(
                f"text must be at least {schema['minLength']} characters long", text_path
            )
        if "maxLength" in schema and len(translation) > schema["maxLength"]:
            raise DataValidationError(
                f"text must be at most {schema['maxLength']} characters long", text_path
            )
        if "pattern" in schema and re.match(schema["pattern"], translation) is None:
            raise DataValidationError(f"text must match {schema['pattern']!r}", text_path)


def _check_text(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    optional = ("is_markdown",) if schema.get("markdown") else ()
    text_value = check_keys(value, path, "text", ("text",), optional)
    text = text_value["text"]
    text_path = path + ["text"]
    if not isinstance(text, str | dict):
        raise DataValidationError(
            "text must be a string or an object mapping language codes to strings", text_path
        )
    if "choices" in schema:
        choice = _matching_choice(text, schema["choices"])
        if choice is None:
            described = ", ".join(_describe_choice(choice) for choice in schema["choices"])
            raise DataValidationError(f"text must be one of: {described}", text_path)
        text_value["text"] = text = choice
    elif isinstance(text, dict):
        _check_languages(text, schema, text_path)
    _check_text_content(text, schema, text_path)
    if "is_markdown" in text_value and not isinstance(text_value["is_markdown"], bool):
        raise DataValidationError("is_markdown must be true or false", path + ["is_markdown"])


def _check_bool(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    if not isinstance(check_keys(value, path, "bool", ("value",))["value"], bool):
        raise DataValidationError("value must be true or false", path + ["value"])


def _check_datetime(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    utc_datetime = check_keys(value, path, "datetime", ("utc_datetime",))["utc_datetime"]
    if not is_utc_datetime(utc_datetime):
        raise DataValidationError(
            f'utc_datetime must be a UTC date and time written "YYYY-MM-DD HH:MM:SS", '
            f"got {utc_datetime!r}",
            path + ["utc_datetime"],
        )


def _positive_id(value: dict[str, Any], key: str, path: JsonPath) -> int:
    identifier = value[key]
    if not is_integer(identifier) or identifier < 1:
        raise DataValidationError(
            f"{key} must be a positive integer, got {identifier!r}", path + [key]
        )
    return identifier


def _readable_action_type(object_id: int, refs: ReferenceChecker, path: JsonPath) -> int:
    action_type = refs.object_action_type(object_id)
    if action_type is None:
        raise DataValidationError(f"object {object_id} does not exist or is not readable", path)
    return action_type


def _typed_reference_checker(type_name: str, action_type: int) -> DataChecker:
    """``sample`` and ``measurement`` reference objects of one fixed action type."""

    def check(
        value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
    ) -> None:
        reference = check_keys(value, path, type_name, ("object_id",))
        object_id = _positive_id(reference, "object_id", path)
        if context.refs is None:
            return
        found = _readable_action_type(object_id, context.refs, path + ["object_id"])
        if found != action_type:
            raise DataValidationError(
                f"object {object_id} is not a {type_name} (its action type is {found}, "
                f"expected {action_type})",
                path + ["object_id"],
            )

    return check


def _allowed_ids(schema: Mapping[str, Any], key: str) -> list[int] | None:
    allowed = schema.get(key)
    return [allowed] if is_integer(allowed) else allowed


def _filter_mismatches(
    object_id: int, schema: Mapping[str, Any], refs: ReferenceChecker, action_type: int
) -> list[str]:
    mismatches = []
    action_ids = _allowed_ids(schema, "action_id")
    if action_ids is not None:
        action_id = refs.action_of(object_id)
        if action_id not in action_ids:
            mismatches.append(
                f"was created with action {action_id}, expected one of: "
                + ", ".join(map(str, action_ids))
            )
    action_type_ids = _allowed_ids(schema, "action_type_id")
    if action_type_ids is not None and action_type not in action_type_ids:
        mismatches.append(
            f"has action type {action_type}, expected one of: "
            + ", ".join(map(str, action_type_ids))
        )
    return mismatches


def _check_object_reference(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    """``action_id`` and ``action_type_id`` filter the referenced object; with
    ``filter_operator`` "or" it suffices to pass one of the given filters."""
    reference = check_keys(value, path, "object_reference", ("object_id",))
    object_id = _positive_id(reference, "object_id", path)
    if context.refs is None:
        return
    id_path = path + ["object_id"]
    action_type = _readable_action_type(object_id, context.refs, id_path)
    mismatches = _filter_mismatches(object_id, schema, context.refs, action_type)
    filters = sum(_allowed_ids(schema, key) is not None for key in ("action_id", "action_type_id"))
    if mismatches and (schema.get("filter_operator", "and") == "and" or len(mismatches) == filters):
        raise DataValidationError(f"object {object_id} " + " and ".join(mismatches), id_path)


def _check_user(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    user_id = _positive_id(check_keys(value, path, "user", ("user_id",)), "user_id", path)
    if context.refs is not None and not context.refs.user_exists(user_id):
        raise DataValidationError(f"user {user_id} does not exist", path + ["user_id"])


def _tag_problem(tag: object, earlier: list[Any]) -> str | None:
    if not isinstance(tag, str):
        return f"a tag must be a string, got {json_type_name(tag)}"
    if tag in earlier:
        return f"duplicate tag {tag!r}"
    if tag != tag.lower():
        return f"tag {tag!r} must be lowercase"
    if not tag or not set(tag) <= TAG_CHARACTERS:
        return f"tag {tag!r} may only contain lowercase letters, digits, '_' and '-'"
    return None


def _check_tags(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    tags = check_keys(value, path, "tags", ("tags",))["tags"]
    if not isinstance(tags, list):
        raise DataValidationError("tags must be a list of strings", path + ["tags"])
    for index, tag in enumerate(tags):
        problem = _tag_problem(tag, tags[:index])
        if problem is not None:
            raise DataValidationError(problem, path + ["tags", index])


def _check_hazards(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    """GHS hazard pictograms GHS01 to GHS09, given by number; an empty list declares that
    the substance poses no hazard."""
    hazards = check_keys(value, path, "hazards", ("hazards",))["hazards"]
    if not isinstance(hazards, list):
        raise DataValidationError(
            "hazards must be a list of GHS pictogram numbers", path + ["hazards"]
        )
    for index, hazard in enumerate(hazards):
        if not is_integer(hazard) or hazard not in GHS_HAZARDS:
            raise DataValidationError(
                f"hazard {hazard!r} is not a GHS pictogram number (1 to 9)",
                path + ["hazards", index],
            )
        if hazard in hazards[:index]:
            raise DataValidationError(f"duplicate hazard {hazard}", path + ["hazards", index])


def _parsed_plotly(chart: dict[str, Any], path: JsonPath) -> Any:
    figure = chart["plotly"]
    if isinstance(figure, str):
        try:
            chart["plotly"] = figure = json.loads(figure) if figure else {}
        except json.JSONDecodeError as error:
            raise DataValidationError(f"plotly must be valid JSON: {error.msg}", path) from error
    return figure


def _check_plotly_chart(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    """A plotly figure: ``data`` (list of traces), ``layout`` and ``frames``. Trace
    attributes themselves are not checked, as that needs plotly's full figure schema."""
    chart = check_keys(value, path, "plotly_chart", ("plotly",))
    figure_path = path + ["plotly"]
    figure = _parsed_plotly(chart, figure_path)
    if not isinstance(figure, dict):
        raise DataValidationError(
            f"plotly must be an object, got {json_type_name(figure)}", figure_path
        )
    unexpected = sorted(set(figure) - PLOTLY_FIGURE_KEYS)
    if unexpected:
        raise DataValidationError(
            f'unexpected key "{unexpected[0]}" in a plotly figure (allowed: data, layout, frames)',
            figure_path + [unexpected[0]],
        )
    for key in ("data", "frames"):
        items = figure.get(key, [])
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise DataValidationError(
                f"plotly {key} must be a list of objects", figure_path + [key]
            )
    if not isinstance(figure.get("layout", {}), dict):
        raise DataValidationError("plotly layout must be an object", figure_path + ["layout"])


def _file_name(file_id: int, context: DataContext, path: JsonPath) -> str | None:
    if context.refs is None:
        return None
    if context.object_id is None:
        raise DataValidationError(
            f"file {file_id} cannot be referenced yet: files belong to an existing object, "
            "so create the object first, upload the file and reference it in a new version",
            path,
        )
    name = context.refs.file_name(context.object_id, file_id)
    if name is None:
        raise DataValidationError(
            f"file {file_id} does not exist for object {context.object_id}", path
        )
    return name


def _check_file(
    value: object, schema: Mapping[str, Any], path: JsonPath, context: DataContext
) -> None:
    file_id = check_keys(value, path, "file", ("file_id",))["file_id"]
    id_path = path + ["file_id"]
    if not is_integer(file_id) or file_id < 0:
        raise DataValidationError(
            f"file_id must be a non-negative integer, got {file_id!r}", id_path
        )
    name = _file_name(file_id, context, id_path)
    extensions = schema.get("extensions")
    if (
        name is not None
        and extensions
        and not name.lower().endswith(tuple(extension.lower() for extension in extensions))
    ):
        raise DataValidationError(
            f"file {name!r} must have one of the extensions: {', '.join(extensions)}", id_path
        )


_CHECKERS: Final[dict[str, DataChecker]] = {
    "object": _check_object,
    "array": _check_array,
    "text": _check_text,
    "bool": _check_bool,
    "datetime": _check_datetime,
    "quantity": check_quantity,
    "timeseries": check_timeseries,
    "sample": _typed_reference_checker("sample", ACTION_TYPE_SAMPLE),
    "measurement": _typed_reference_checker("measurement", ACTION_TYPE_MEASUREMENT),
    "object_reference": _check_object_reference,
    "user": _check_user,
    "tags": _check_tags,
    "hazards": _check_hazards,
    "plotly_chart": _check_plotly_chart,
    "file": _check_file,
}
