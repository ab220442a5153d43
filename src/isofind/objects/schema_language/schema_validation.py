"""Validation of action schemas (SampleDB schema language).

A schema is a tree of JSON objects, each with a ``type`` and a ``title``. The root is an
``object`` whose required, single-line text property ``name`` names the objects created
with the schema. Errors carry the path into the schema document, e.g.
``["properties", "mass_list", "items", "units"]``.
"""

import string
from collections.abc import Mapping
from itertools import pairwise
from typing import Any, Final

from .common import is_integer, json_type_name
from .conditions import check_condition_schema
from .errors import JsonPath, SchemaError
from .schema_types import LEAF_CHECKERS, check_bool_option, check_translatable, default_as_data

_COMMON_KEYS: Final = frozenset({"type", "title", "tooltip", "style", "may_copy"})
_EXPORT_KEYS: Final = frozenset({"dataverse_export", "scicat_export"})
_SCALAR_KEYS: Final = _COMMON_KEYS | _EXPORT_KEYS | {"note", "conditions"}

ALLOWED_KEYS: Final[dict[str, frozenset[str]]] = {
    "object": _COMMON_KEYS
    | {"properties", "propertyOrder", "required", "default", "note", "show_more"},
    "array": _COMMON_KEYS
    | {"items", "minItems", "maxItems", "defaultItems", "default", "note", "conditions"},
    "text": _SCALAR_KEYS
    | {
        "default",
        "minLength",
        "maxLength",
        "choices",
        "pattern",
        "multiline",
        "markdown",
        "placeholder",
        "languages",
    },
    "bool": _SCALAR_KEYS | {"default"},
    "datetime": _SCALAR_KEYS | {"default"},
    "quantity": _SCALAR_KEYS
    | {"units", "default", "placeholder", "display_digits", "min_magnitude", "max_magnitude"},
    "sample": _SCALAR_KEYS,
    "measurement": _SCALAR_KEYS,
    "object_reference": _SCALAR_KEYS | {"action_type_id", "action_id", "filter_operator"},
    "user": _SCALAR_KEYS | {"default"},
    "tags": _COMMON_KEYS | _EXPORT_KEYS | {"default"},
    "hazards": _COMMON_KEYS | _EXPORT_KEYS | {"note"},
    "plotly_chart": _COMMON_KEYS | {"dataverse_export", "note", "conditions"},
    "timeseries": _SCALAR_KEYS | {"units", "display_digits", "statistics"},
    "file": frozenset(
        {"type", "title", "tooltip", "style", "note", "conditions", "extensions", "preview"}
    ),
}
PROPERTY_TYPES: Final = tuple(sorted(ALLOWED_KEYS))

_ROOT_OBJECT_KEYS: Final = frozenset({"displayProperties", "batch", "batch_name_format"})
_REQUIRED_KEYS: Final = {
    "object": "properties",
    "array": "items",
    "quantity": "units",
    "timeseries": "units",
}
# SampleDB features that need other actions or a server (templates, calculations, ...).
_UNSUPPORTED_KEYS: Final = frozenset(
    {
        "template",
        "recipes",
        "calculation",
        "notebookTemplates",
        "workflow_view",
        "workflow_views",
        "workflow_show_more",
    }
)
ARRAY_STYLES: Final = ("full_width_table", "horizontal_table", "list", "table")
_PROPERTY_NAME_CHARACTERS: Final = frozenset(string.ascii_letters + string.digits + "_")


def validate_schema(schema: object) -> None:
    """Raise SchemaError unless ``schema`` is a valid action schema.

    Defaults inside the schema are validated as data; references they contain are checked
    for form only, since no database is consulted here.
    """
    _check_node(schema, [], in_object=False)


def _check_node(schema: object, path: JsonPath, *, in_object: bool) -> None:
    if not isinstance(schema, dict):
        raise SchemaError(f"a schema must be a JSON object, got {json_type_name(schema)}", path)
    type_name = _check_type(schema, path)
    _check_allowed_keys(schema, type_name, path)
    _check_common_options(schema, path, in_object=in_object)
    if type_name == "object":
        _check_object_schema(schema, path)
    elif type_name == "array":
        _check_array_schema(schema, path)
    elif type_name in LEAF_CHECKERS:
        LEAF_CHECKERS[type_name](schema, path)


def _check_type(schema: Mapping[str, Any], path: JsonPath) -> str:
    for key in ("type", "title"):
        if key not in schema:
            raise SchemaError(f'schema needs a "{key}"', path + [key])
    type_name = schema["type"]
    if not isinstance(type_name, str):
        raise SchemaError(
            f"type must be a string, got {json_type_name(type_name)}", path + ["type"]
        )
    if not path and type_name != "object":
        raise SchemaError('the root schema must have type "object"', path + ["type"])
    if type_name not in ALLOWED_KEYS:
        raise SchemaError(
            f"unknown type {type_name!r}; expected one of: {', '.join(PROPERTY_TYPES)}",
            path + ["type"],
        )
    return type_name


def _check_allowed_keys(schema: Mapping[str, Any], type_name: str, path: JsonPath) -> None:
    allowed = ALLOWED_KEYS[type_name]
    if type_name == "object":
        allowed = allowed | (_ROOT_OBJECT_KEYS if not path else {"conditions"})
    for key in sorted(schema, key=str):
        if key in _UNSUPPORTED_KEYS:
            raise SchemaError(f'the SampleDB feature "{key}" is not supported', path + [key])
        if key not in allowed:
            raise SchemaError(f'unexpected key "{key}" for type "{type_name}"', path + [key])
    missing = _REQUIRED_KEYS.get(type_name)
    if missing is not None and missing not in schema:
        raise SchemaError(f'type "{type_name}" needs "{missing}"', path + [missing])


def _check_style(style: object, path: JsonPath) -> None:
    if isinstance(style, str):
        return
    if isinstance(style, dict) and all(
        isinstance(value, str) or value is None for value in style.values()
    ):
        return
    raise SchemaError("style must be a string or an object of strings (or null)", path + ["style"])


def _check_common_options(schema: Mapping[str, Any], path: JsonPath, *, in_object: bool) -> None:
    check_translatable(schema["title"], path + ["title"], "title")
    if "tooltip" in schema:
        check_translatable(schema["tooltip"], path + ["tooltip"], "tooltip", non_empty=True)
    for key in ("note", "placeholder"):
        if key in schema:
            check_translatable(schema[key], path + [key], key)
    if "style" in schema:
        _check_style(schema["style"], path)
    for key in ("may_copy", "dataverse_export", "scicat_export"):
        check_bool_option(schema, key, path)
    if "conditions" in schema:
        if not in_object:
            raise SchemaError(
                "conditions are only allowed on properties of an object", path + ["conditions"]
            )
        if not isinstance(schema["conditions"], list):
            raise SchemaError("conditions must be a list", path + ["conditions"])


def _check_property_name(name: object, path: JsonPath) -> None:
    valid = (
        isinstance(name, str)
        and name[:1] in set(string.ascii_letters)
        and set(name) <= _PROPERTY_NAME_CHARACTERS
        and not name.endswith("_")
        and "__" not in name
    )
    if not valid:
        raise SchemaError(
            f"invalid property name {name!r}: use latin letters, digits and single "
            "underscores, start with a letter and do not end with an underscore",
            path,
        )


def _check_name_list(schema: Mapping[str, Any], key: str, path: JsonPath) -> None:
    """``required``, ``propertyOrder``, ``displayProperties`` and ``show_more`` list
    distinct names of the object's properties."""
    names = schema[key]
    if not isinstance(names, list):
        raise SchemaError(f"{key} must be a list of property names", path + [key])
    for index, name in enumerate(names):
        if not isinstance(name, str) or name not in schema["properties"]:
            raise SchemaError(f"{key} names unknown property {name!r}", path + [key, index])
        if name in names[:index]:
            raise SchemaError(f"{key} lists property {name!r} twice", path + [key, index])


def _check_properties(schema: Mapping[str, Any], path: JsonPath) -> None:
    properties = schema["properties"]
    if not isinstance(properties, dict):
        raise SchemaError("properties must be an object", path + ["properties"])
    for name, property_schema in properties.items():
        property_path = path + ["properties", name]
        _check_property_name(name, property_path)
        _check_node(property_schema, property_path, in_object=True)
    for name, property_schema in properties.items():
        for index, condition in enumerate(property_schema.get("conditions", [])):
            check_condition_schema(
                condition, properties, path + ["properties", name, "conditions", index]
            )


def _check_root_name(schema: Mapping[str, Any]) -> None:
    name_schema = schema["properties"].get("name")
    if name_schema is None:
        raise SchemaError('the root object needs a text property "name"', ["properties"])
    if name_schema["type"] != "text":
        raise SchemaError(
            'the property "name" must have type "text"', ["properties", "name", "type"]
        )
    for key in ("multiline", "markdown"):
        if name_schema.get(key):
            raise SchemaError(
                "the object name must be single-line text, not multiline or markdown",
                ["properties", "name", key],
            )
    if "name" not in schema.get("required", []):
        raise SchemaError('"name" must be a required property of the root object', ["required"])
    if "conditions" in name_schema:
        raise SchemaError(
            "the object name must not have conditions", ["properties", "name", "conditions"]
        )


def _check_batch(schema: Mapping[str, Any]) -> None:
    check_bool_option(schema, "batch", [])
    if "batch_name_format" not in schema:
        return
    name_format = schema["batch_name_format"]
    if not schema.get("batch", False):
        raise SchemaError("batch_name_format needs batch set to true", ["batch_name_format"])
    if not isinstance(name_format, str):
        raise SchemaError("batch_name_format must be a string", ["batch_name_format"])
    try:
        name_format.format(1)
    # str.format reports a bad field with whichever exception the field access raises.
    except (ValueError, IndexError, KeyError, AttributeError, TypeError) as error:
        raise SchemaError(
            f"batch_name_format is not a valid format for the batch index: {error}",
            ["batch_name_format"],
        ) from error


def _check_object_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    _check_properties(schema, path)
    for key in ("required", "propertyOrder", "show_more", "displayProperties"):
        if key in schema:
            _check_name_list(schema, key, path)
    hazards = schema["properties"].get("hazards")
    if (
        hazards is not None
        and hazards["type"] == "hazards"
        and "hazards" not in schema.get("required", [])
    ):
        raise SchemaError('the "hazards" property must be required', path + ["required"])
    if not path:
        _check_root_name(schema)
        _check_batch(schema)
    if "default" in schema:
        default_as_data(schema["default"], schema, path + ["default"])


def _check_array_style(style: object, path: JsonPath) -> None:
    styles = style.values() if isinstance(style, dict) else [style]
    for value in styles:
        if value is not None and value not in ARRAY_STYLES:
            raise SchemaError(
                f"unknown array style {value!r}; expected one of: {', '.join(ARRAY_STYLES)}",
                path + ["style"],
            )


def _check_item_counts(schema: Mapping[str, Any], path: JsonPath) -> None:
    for key in ("minItems", "maxItems", "defaultItems"):
        if key in schema and (not is_integer(schema[key]) or schema[key] < 0):
            raise SchemaError(f"{key} must be a non-negative integer", path + [key])
    ordered = [key for key in ("minItems", "defaultItems", "maxItems") if key in schema]
    for lower, upper in pairwise(ordered):
        if schema[lower] > schema[upper]:
            raise SchemaError(f"{lower} must be less than or equal to {upper}", path + [lower])


def _check_array_schema(schema: Mapping[str, Any], path: JsonPath) -> None:
    _check_item_counts(schema, path)
    if "style" in schema:
        _check_array_style(schema["style"], path)
    _check_node(schema["items"], path + ["items"], in_object=False)
    if "default" in schema:
        if "defaultItems" in schema:
            raise SchemaError("default and defaultItems are mutually exclusive", path + ["default"])
        default_as_data(schema["default"], schema, path + ["default"])
