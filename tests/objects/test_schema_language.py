"""Validation of action schemas (SampleDB schema language)."""

from typing import Any

import pytest

from isofind.objects.schema_language import SchemaError, validate_schema


def root(properties: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A valid root schema with a name property plus ``properties`` and ``extra`` keys."""
    schema: dict[str, Any] = {
        "title": "Sample Information",
        "type": "object",
        "properties": {"name": {"title": "Name", "type": "text"}, **(properties or {})},
        "required": ["name"],
    }
    schema.update(extra)
    return schema


def assert_schema_error(schema: object, message: str, path: list[str | int]) -> None:
    with pytest.raises(SchemaError) as caught:
        validate_schema(schema)
    assert caught.value.message == message
    assert caught.value.path == path


def test_sampledb_minimal_schema_is_valid() -> None:
    validate_schema(root(propertyOrder=["name"]))


def test_schema_using_every_property_type_is_valid() -> None:
    validate_schema(
        root(
            {
                "created": {
                    "title": "Created",
                    "type": "datetime",
                    "default": "2021-07-23 08:00:00",
                },
                "open": {"title": {"en": "Open", "de": "Offen"}, "type": "bool", "default": True},
                "mass": {
                    "title": "Mass",
                    "type": "quantity",
                    "units": ["g", "mg"],
                    "default": 0.01,
                },
                "ratio": {"title": "206Pb/204Pb", "type": "quantity", "units": "1"},
                "previous": {"title": "Previous", "type": "sample"},
                "run": {"title": "Run", "type": "measurement"},
                "source": {
                    "title": "Source",
                    "type": "object_reference",
                    "action_type_id": [-99, -98],
                },
                "client": {"title": "Client", "type": "user", "default": "self"},
                "tags": {"title": "Tags", "type": "tags", "default": ["lead", "ore_2024"]},
                "hazards": {"title": "GHS", "type": "hazards"},
                "chart": {"title": "Chart", "type": "plotly_chart"},
                "temperature": {"title": "T", "type": "timeseries", "units": "degC"},
                "raw": {"title": "Raw file", "type": "file", "extensions": [".csv", ".txt"]},
                "steps": {
                    "title": "Steps",
                    "type": "array",
                    "style": "table",
                    "minItems": 1,
                    "maxItems": 5,
                    "items": {
                        "title": "Step",
                        "type": "object",
                        "properties": {"label": {"title": "Label", "type": "text"}},
                    },
                },
            },
            required=["name", "hazards"],
            propertyOrder=["name", "mass"],
            displayProperties=["mass"],
            batch=True,
            batch_name_format="-{:03d}",
        )
    )


@pytest.mark.parametrize(
    ("schema", "message", "path"),
    [
        ([], "a schema must be a JSON object, got array", []),
        ({"title": "x", "properties": {}}, 'schema needs a "type"', ["type"]),
        ({"type": "object", "properties": {}}, 'schema needs a "title"', ["title"]),
        ({"title": "x", "type": "text"}, 'the root schema must have type "object"', ["type"]),
        ({"title": "x", "type": ["object"]}, "type must be a string, got array", ["type"]),
        ({"title": "x", "type": "object"}, 'type "object" needs "properties"', ["properties"]),
    ],
)
def test_malformed_root_is_rejected(schema: object, message: str, path: list[str | int]) -> None:
    assert_schema_error(schema, message, path)


def test_root_without_name_is_rejected() -> None:
    schema = root()
    schema["properties"] = {"label": {"title": "Label", "type": "text"}}
    schema["required"] = []
    assert_schema_error(schema, 'the root object needs a text property "name"', ["properties"])


def test_name_must_be_text() -> None:
    schema = root()
    schema["properties"]["name"] = {"title": "Name", "type": "quantity", "units": "1"}
    assert_schema_error(
        schema, 'the property "name" must have type "text"', ["properties", "name", "type"]
    )


@pytest.mark.parametrize("option", ["multiline", "markdown"])
def test_name_must_be_single_line(option: str) -> None:
    schema = root()
    schema["properties"]["name"][option] = True
    assert_schema_error(
        schema,
        "the object name must be single-line text, not multiline or markdown",
        ["properties", "name", option],
    )


def test_name_must_be_required() -> None:
    # The examples of the HTTP API document omit "required"; the schema language needs it.
    schema = root()
    del schema["required"]
    assert_schema_error(
        schema, '"name" must be a required property of the root object', ["required"]
    )


def test_unknown_property_type_is_rejected() -> None:
    assert_schema_error(
        root({"mass": {"title": "Mass", "type": "number"}}),
        "unknown type 'number'; expected one of: array, bool, datetime, file, hazards, "
        "measurement, object, object_reference, plotly_chart, quantity, sample, tags, text, "
        "timeseries, user",
        ["properties", "mass", "type"],
    )


@pytest.mark.parametrize(
    ("property_schema", "message", "path"),
    [
        (
            {"title": "x", "type": "bool", "units": "g"},
            'unexpected key "units" for type "bool"',
            ["properties", "x", "units"],
        ),
        (
            {"title": "x", "type": "object", "properties": {}, "template": 3},
            'the SampleDB feature "template" is not supported',
            ["properties", "x", "template"],
        ),
        (
            {"title": "x", "type": "object", "properties": {}, "batch": True},
            'unexpected key "batch" for type "object"',
            ["properties", "x", "batch"],
        ),
        (
            {"title": "x", "type": "tags", "conditions": []},
            'unexpected key "conditions" for type "tags"',
            ["properties", "x", "conditions"],
        ),
        (
            {"title": 3, "type": "bool"},
            "title must be a string or an object mapping language codes to strings, got number",
            ["properties", "x", "title"],
        ),
        (
            {"title": {"de": "Masse"}, "type": "bool"},
            'title needs an English ("en") translation',
            ["properties", "x", "title"],
        ),
        (
            {"title": {"en": "Mass", "German": "Masse"}, "type": "bool"},
            "title has an invalid language code 'German'",
            ["properties", "x", "title", "German"],
        ),
        (
            {"title": "x", "type": "bool", "tooltip": " "},
            "tooltip must not be empty",
            ["properties", "x", "tooltip"],
        ),
        (
            {"title": "x", "type": "bool", "note": ["a"]},
            "note must be a string or an object mapping language codes to strings, got array",
            ["properties", "x", "note"],
        ),
        (
            {"title": "x", "type": "bool", "may_copy": "yes"},
            "may_copy must be true or false",
            ["properties", "x", "may_copy"],
        ),
        (
            {"title": "x", "type": "bool", "style": 1},
            "style must be a string or an object of strings (or null)",
            ["properties", "x", "style"],
        ),
        (
            {"title": "x", "type": "bool", "default": "true"},
            "default must be true or false",
            ["properties", "x", "default"],
        ),
        (
            {"title": "x", "type": "datetime", "default": "2021-02-30 00:00:00"},
            'default must be a UTC date and time written "YYYY-MM-DD HH:MM:SS"',
            ["properties", "x", "default"],
        ),
        (
            {"title": "x", "type": "user", "default": "me"},
            'default must be a user ID or "self"',
            ["properties", "x", "default"],
        ),
        (
            {"title": "x", "type": "object_reference", "action_type_id": "sample"},
            "action_type_id must be an integer, a list of integers or null",
            ["properties", "x", "action_type_id"],
        ),
        (
            {"title": "x", "type": "object_reference", "action_id": [1, True]},
            "action_id must be an integer, a list of integers or null",
            ["properties", "x", "action_id"],
        ),
        (
            {"title": "x", "type": "object_reference", "filter_operator": "xor"},
            'filter_operator must be "and" or "or"',
            ["properties", "x", "filter_operator"],
        ),
        (
            {"title": "x", "type": "timeseries", "units": "K", "statistics": ["median"]},
            "statistics must be a list of: average, count, first, last, max, min, stddev",
            ["properties", "x", "statistics"],
        ),
        (
            {"title": "x", "type": "timeseries", "units": "K", "display_digits": -1},
            "display_digits must be a non-negative integer",
            ["properties", "x", "display_digits"],
        ),
        (
            {"title": "x", "type": "file", "extensions": ["csv"]},
            'extensions must be a non-empty list of file extensions such as ".csv"',
            ["properties", "x", "extensions"],
        ),
        (
            {"title": "x", "type": "file", "may_copy": True},
            'unexpected key "may_copy" for type "file"',
            ["properties", "x", "may_copy"],
        ),
    ],
)
def test_invalid_property_options_are_rejected(
    property_schema: dict[str, Any], message: str, path: list[str | int]
) -> None:
    assert_schema_error(root({"x": property_schema}), message, path)


@pytest.mark.parametrize("name", ["2x", "a__b", "x_", "mass-list", "δ65Cu", ""])
def test_invalid_property_names_are_rejected(name: str) -> None:
    assert_schema_error(
        root({name: {"title": "x", "type": "bool"}}),
        f"invalid property name {name!r}: use latin letters, digits and single underscores, "
        "start with a letter and do not end with an underscore",
        ["properties", name],
    )


def test_valid_property_names_are_accepted() -> None:
    validate_schema(
        root(
            {"Pb206_Pb204": {"title": "x", "type": "bool"}, "d65Cu": {"title": "x", "type": "bool"}}
        )
    )


@pytest.mark.parametrize(
    ("units", "message", "path"),
    [
        ("gramm", "unknown units 'gramm'", ["properties", "mass", "units"]),
        (
            "",
            'units must not be empty; use "1" for dimensionless quantities',
            ["properties", "mass", "units"],
        ),
        ("m +", "cannot parse units 'm +'", ["properties", "mass", "units"]),
        (["g", "kilo"], "unknown units 'kilo'", ["properties", "mass", "units", 1]),
        (["g", "gram"], "units 'gram' are listed twice", ["properties", "mass", "units", 1]),
        (
            ["g", "m"],
            "units 'm' ([length]) do not have the dimensionality of 'g' ([mass])",
            ["properties", "mass", "units", 1],
        ),
        (
            [],
            "units must be a string or a non-empty list of strings",
            ["properties", "mass", "units"],
        ),
        (
            3,
            "units must be a string or a non-empty list of strings",
            ["properties", "mass", "units"],
        ),
    ],
)
def test_bad_quantity_units_are_rejected(
    units: object, message: str, path: list[str | int]
) -> None:
    assert_schema_error(
        root({"mass": {"title": "Mass", "type": "quantity", "units": units}}), message, path
    )


def test_timeseries_units_are_checked_like_quantity_units() -> None:
    assert_schema_error(
        root({"t": {"title": "T", "type": "timeseries", "units": "celsius_degree"}}),
        "unknown units 'celsius_degree'",
        ["properties", "t", "units"],
    )


def test_quantity_needs_units() -> None:
    assert_schema_error(
        root({"mass": {"title": "Mass", "type": "quantity"}}),
        'type "quantity" needs "units"',
        ["properties", "mass", "units"],
    )


@pytest.mark.parametrize(
    ("options", "message", "key"),
    [
        (
            {"min_magnitude": 2, "max_magnitude": 1},
            "max_magnitude must be greater than or equal to min_magnitude",
            "max_magnitude",
        ),
        (
            {"min_magnitude": float("nan")},
            "min_magnitude must be a finite number (in base units)",
            "min_magnitude",
        ),
        (
            {"default": 0.5, "max_magnitude": 0.1},
            "default must not be greater than max_magnitude",
            "default",
        ),
        (
            {"default": 0.05, "min_magnitude": 0.1},
            "default must not be less than min_magnitude",
            "default",
        ),
        (
            {"default": "1 g"},
            "default must be a finite number (in base units) or a quantity",
            "default",
        ),
    ],
)
def test_quantity_bounds_and_defaults(options: dict[str, Any], message: str, key: str) -> None:
    schema = root({"mass": {"title": "Mass", "type": "quantity", "units": "g", **options}})
    assert_schema_error(schema, message, ["properties", "mass", key])


def test_quantity_default_given_as_quantity_is_validated_as_data() -> None:
    validate_schema(
        root(
            {
                "mass": {
                    "title": "M",
                    "type": "quantity",
                    "units": "g",
                    "default": {"magnitude": 3, "units": "mg"},
                }
            }
        )
    )
    assert_schema_error(
        root(
            {
                "mass": {
                    "title": "M",
                    "type": "quantity",
                    "units": "g",
                    "default": {"magnitude": 3, "units": "s"},
                }
            }
        ),
        "invalid default: units 's' measure [time], but this property needs [mass] (e.g. 'g')",
        ["properties", "mass", "default", "units"],
    )


def array_of_texts(**options: Any) -> dict[str, Any]:
    return {
        "title": "Notes",
        "type": "array",
        "items": {"title": "Note", "type": "text"},
        **options,
    }


@pytest.mark.parametrize(
    ("options", "message", "path_tail"),
    [
        (
            {"minItems": 3, "maxItems": 2},
            "minItems must be less than or equal to maxItems",
            ["minItems"],
        ),
        (
            {"minItems": 2, "defaultItems": 1},
            "minItems must be less than or equal to defaultItems",
            ["minItems"],
        ),
        (
            {"defaultItems": 4, "maxItems": 2},
            "defaultItems must be less than or equal to maxItems",
            ["defaultItems"],
        ),
        ({"minItems": -1}, "minItems must be a non-negative integer", ["minItems"]),
        ({"maxItems": 2.5}, "maxItems must be a non-negative integer", ["maxItems"]),
        ({"maxItems": True}, "maxItems must be a non-negative integer", ["maxItems"]),
        (
            {"style": "grid"},
            "unknown array style 'grid'; expected one of: "
            "full_width_table, horizontal_table, list, table",
            ["style"],
        ),
        (
            {"default": [], "defaultItems": 1},
            "default and defaultItems are mutually exclusive",
            ["default"],
        ),
        (
            {"default": [{"_type": "text", "text": "a"}, {"_type": "text", "text": 7}]},
            "invalid default: text must be a string or an object mapping language codes to strings",
            ["default", 1, "text"],
        ),
        (
            {"default": [], "minItems": 1},
            "invalid default: expected at least 1 items, got 0",
            ["default"],
        ),
    ],
)
def test_array_options(options: dict[str, Any], message: str, path_tail: list[str | int]) -> None:
    assert_schema_error(
        root({"notes": array_of_texts(**options)}), message, ["properties", "notes", *path_tail]
    )


def test_array_needs_items() -> None:
    assert_schema_error(
        root({"notes": {"title": "Notes", "type": "array"}}),
        'type "array" needs "items"',
        ["properties", "notes", "items"],
    )


def test_errors_inside_array_items_point_into_items() -> None:
    items = {"title": "Mass", "type": "quantity", "units": "gramm"}
    assert_schema_error(
        root({"mass_list": {"title": "Masses", "type": "array", "items": items}}),
        "unknown units 'gramm'",
        ["properties", "mass_list", "items", "units"],
    )


@pytest.mark.parametrize(
    ("extra", "message", "path"),
    [
        (
            {"propertyOrder": ["name", "mass"]},
            "propertyOrder names unknown property 'mass'",
            ["propertyOrder", 1],
        ),
        (
            {"propertyOrder": ["name", "name"]},
            "propertyOrder lists property 'name' twice",
            ["propertyOrder", 1],
        ),
        (
            {"propertyOrder": "name"},
            "propertyOrder must be a list of property names",
            ["propertyOrder"],
        ),
        ({"required": ["name", "mass"]}, "required names unknown property 'mass'", ["required", 1]),
        ({"required": "name"}, "required must be a list of property names", ["required"]),
        (
            {"displayProperties": [3]},
            "displayProperties names unknown property 3",
            ["displayProperties", 0],
        ),
        ({"show_more": ["nope"]}, "show_more names unknown property 'nope'", ["show_more", 0]),
        ({"batch": "yes"}, "batch must be true or false", ["batch"]),
        (
            {"batch_name_format": "-{}"},
            "batch_name_format needs batch set to true",
            ["batch_name_format"],
        ),
        (
            {"batch": True, "batch_name_format": "-{:q}"},
            "batch_name_format is not a valid format for the batch index: "
            "Unknown format code 'q' for object of type 'int'",
            ["batch_name_format"],
        ),
        ({"conditions": []}, 'unexpected key "conditions" for type "object"', ["conditions"]),
        (
            {"default": {"name": {"_type": "text", "text": "x"}, "other": 1}},
            'invalid default: unknown property "other"',
            ["default", "other"],
        ),
    ],
)
def test_object_options(extra: dict[str, Any], message: str, path: list[str | int]) -> None:
    assert_schema_error(root(**extra), message, path)


def test_properties_must_be_an_object() -> None:
    schema = root()
    schema["properties"] = [schema["properties"]["name"]]
    assert_schema_error(schema, "properties must be an object", ["properties"])


def test_nested_object_property_order_is_checked() -> None:
    inner = {"title": "Inner", "type": "object", "properties": {}, "propertyOrder": ["a"]}
    assert_schema_error(
        root({"inner": inner}),
        "propertyOrder names unknown property 'a'",
        ["properties", "inner", "propertyOrder", 0],
    )


@pytest.mark.parametrize(
    ("text_schema", "message", "path_tail"),
    [
        ({"choices": []}, "choices must be a non-empty list", ["choices"]),
        (
            {"choices": ["A", {"en": "B"}]},
            "choices must be either all strings or all translations",
            ["choices"],
        ),
        (
            {"choices": [{"de": "A"}]},
            'a choice needs an English ("en") translation',
            ["choices", 0],
        ),
        ({"choices": ["A", "  "]}, "a choice must contain more than whitespace", ["choices", 1]),
        ({"choices": ["A"], "default": "B"}, "default must be one of the choices", ["default"]),
        (
            {"choices": ["A"], "multiline": True},
            "a text cannot be both choices and multiline; "
            "choices, multiline and markdown are mutually exclusive",
            ["multiline"],
        ),
        (
            {"multiline": True, "markdown": True},
            "a text cannot be both multiline and markdown; "
            "choices, multiline and markdown are mutually exclusive",
            ["markdown"],
        ),
        (
            {"choices": ["A"], "placeholder": "pick"},
            "placeholder cannot be used together with choices",
            ["placeholder"],
        ),
        (
            {"languages": []},
            'languages must be "all" or a non-empty list of language codes',
            ["languages"],
        ),
        (
            {"languages": ["english"]},
            'languages must be "all" or a non-empty list of language codes',
            ["languages"],
        ),
        (
            {"default": {"en": "a", "de": "b"}},
            "default uses language 'de', which this property does not allow",
            ["default", "de"],
        ),
        ({"default": 3}, "default must be a string or a translation", ["default"]),
        (
            {"pattern": "("},
            "pattern is not a valid regular expression: "
            "missing ), unterminated subpattern at position 0",
            ["pattern"],
        ),
        (
            {"minLength": 5, "maxLength": 2},
            "maxLength must not be less than minLength",
            ["maxLength"],
        ),
        ({"minLength": -1}, "minLength must be a non-negative integer", ["minLength"]),
        ({"multiline": "no"}, "multiline must be true or false", ["multiline"]),
    ],
)
def test_text_options(
    text_schema: dict[str, Any], message: str, path_tail: list[str | int]
) -> None:
    schema = root({"label": {"title": "Label", "type": "text", **text_schema}})
    assert_schema_error(schema, message, ["properties", "label", *path_tail])


def test_text_with_translated_choices_and_all_languages_is_valid() -> None:
    validate_schema(
        root(
            {
                "kind": {
                    "title": "Kind",
                    "type": "text",
                    "choices": [{"en": "Ore", "de": "Erz"}],
                    "default": {"en": "Ore", "de": "Erz"},
                },
                "remark": {
                    "title": "Remark",
                    "type": "text",
                    "languages": "all",
                    "default": {"fr": "x"},
                },
            }
        )
    )


def test_object_name_must_be_exported_to_dataverse() -> None:
    schema = root()
    schema["properties"]["name"]["dataverse_export"] = False
    assert_schema_error(
        schema,
        "dataverse_export must be true for the object name",
        ["properties", "name", "dataverse_export"],
    )


def test_tags_must_be_the_top_level_property_tags() -> None:
    inner = {
        "title": "Inner",
        "type": "object",
        "properties": {"tags": {"title": "Tags", "type": "tags"}},
    }
    assert_schema_error(
        root({"inner": inner}),
        'a tags property must be the property "tags" of the root object',
        ["properties", "inner", "properties", "tags", "type"],
    )
    assert_schema_error(
        root({"keywords": {"title": "Tags", "type": "tags"}}),
        'a tags property must be the property "tags" of the root object',
        ["properties", "keywords", "type"],
    )


def test_tags_default_errors_point_into_the_default_list() -> None:
    assert_schema_error(
        root({"tags": {"title": "Tags", "type": "tags", "default": ["ok", "Bad"]}}),
        "invalid default: tag 'Bad' must be lowercase",
        ["properties", "tags", "default", 1],
    )
    assert_schema_error(
        root({"tags": {"title": "Tags", "type": "tags", "default": "ok"}}),
        "invalid default: tags must be a list of strings",
        ["properties", "tags", "default"],
    )


def test_hazards_must_be_required_and_top_level() -> None:
    assert_schema_error(
        root({"hazards": {"title": "GHS", "type": "hazards"}}),
        'the "hazards" property must be required',
        ["required"],
    )
    array = {"title": "List", "type": "array", "items": {"title": "GHS", "type": "hazards"}}
    assert_schema_error(
        root({"list": array}),
        'a hazards property must be the property "hazards" of the root object',
        ["properties", "list", "items", "type"],
    )


def test_error_string_names_message_and_path() -> None:
    with pytest.raises(SchemaError) as caught:
        validate_schema(root({"mass": {"title": "Mass", "type": "quantity", "units": "gramm"}}))
    assert str(caught.value) == "unknown units 'gramm' (at /properties/mass/units)"


def test_references_in_defaults_are_checked_for_form_only() -> None:
    samples = {"title": "Samples", "type": "array", "items": {"title": "Sample", "type": "sample"}}
    validate_schema(
        root({"samples": {**samples, "default": [{"_type": "sample", "object_id": 999}]}})
    )
    assert_schema_error(
        root({"samples": {**samples, "default": [{"_type": "sample", "object_id": "999"}]}}),
        "invalid default: object_id must be a positive integer, got '999'",
        ["properties", "samples", "default", 0, "object_id"],
    )


def test_validation_does_not_change_the_schema() -> None:
    mass = {"title": "M", "type": "quantity", "units": "g", "default": {"magnitude": 3}}
    schema = root({"mass": mass})
    validate_schema(schema)
    assert schema["properties"]["mass"]["default"] == {"magnitude": 3}
