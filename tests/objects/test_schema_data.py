"""Validation of object data against schemas, one property type at a time."""

import copy
from typing import Any

import pytest

from isofind.objects.schema_language import (
    DataValidationError,
    InMemoryReferences,
    KnownObject,
    SchemaError,
    validate_data,
)

SAMPLE_ACTION = 1
MEASUREMENT_ACTION = 2
OTHER_ACTION = 3

REFS = InMemoryReferences(
    objects={
        10: KnownObject(SAMPLE_ACTION, -99),
        11: KnownObject(MEASUREMENT_ACTION, -98),
        12: KnownObject(OTHER_ACTION, 5),
    },
    users={1, 2},
    files={(10, 0): "spectrum.CSV", (10, 1): "photo.jpg"},
)

NAME = {"_type": "text", "text": "Example"}


def schema_with(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "title": "Object",
        "type": "object",
        "properties": {"name": {"title": "Name", "type": "text"}, **properties},
        "required": ["name", *(required or [])],
    }


def valid(properties: dict[str, Any], data: dict[str, Any], **options: Any) -> dict[str, Any]:
    """Validate ``data`` (plus a name) and return the completed data."""
    document = {"name": NAME, **copy.deepcopy(data)}
    validate_data(document, schema_with(properties), REFS, **options)
    return document


def assert_data_error(
    properties: dict[str, Any],
    data: dict[str, Any],
    message: str,
    path: list[str | int],
    **options: Any,
) -> None:
    with pytest.raises(DataValidationError) as caught:
        validate_data({"name": NAME, **data}, schema_with(properties), REFS, **options)
    assert caught.value.message == message
    assert caught.value.path == path


# --- object and array -------------------------------------------------------------------


def test_sampledb_example_object_is_valid() -> None:
    schema = schema_with({"created": {"title": "Created", "type": "datetime"}})
    validate_data(
        {"name": NAME, "created": {"_type": "datetime", "utc_datetime": "2021-07-22 01:23:45"}},
        schema,
        REFS,
    )


def test_data_must_be_an_object() -> None:
    with pytest.raises(DataValidationError) as caught:
        validate_data([NAME], schema_with({}), REFS)
    assert (caught.value.message, caught.value.path) == ("expected an object, got array", [])


def test_missing_required_property() -> None:
    with pytest.raises(DataValidationError) as caught:
        validate_data({}, schema_with({}), REFS)
    assert (caught.value.message, caught.value.path) == (
        'missing required property "name"',
        ["name"],
    )


def test_unknown_property() -> None:
    assert_data_error({}, {"mass": 1}, 'unknown property "mass"', ["mass"])


def test_null_for_an_ordinary_property_is_rejected() -> None:
    flag = {"title": "Flag", "type": "bool"}
    assert_data_error(
        {"flag": flag},
        {"flag": None},
        'property "flag" must not be null; leave it out instead',
        ["flag"],
    )


def test_invalid_schema_is_reported_before_data() -> None:
    with pytest.raises(SchemaError) as caught:
        validate_data({"name": NAME}, {"title": "x", "type": "object", "properties": {}}, REFS)
    assert caught.value.message == 'the root object needs a text property "name"'


ARRAY = {
    "title": "Notes",
    "type": "array",
    "minItems": 1,
    "maxItems": 2,
    "items": {"title": "Note", "type": "text"},
}


def test_array_item_counts() -> None:
    note = {"_type": "text", "text": "n"}
    valid({"notes": ARRAY}, {"notes": [note, note]})
    assert_data_error(
        {"notes": ARRAY}, {"notes": []}, "expected at least 1 items, got 0", ["notes"]
    )
    assert_data_error(
        {"notes": ARRAY}, {"notes": [note] * 3}, "expected at most 2 items, got 3", ["notes"]
    )
    assert_data_error({"notes": ARRAY}, {"notes": note}, "expected an array, got object", ["notes"])


def test_errors_in_nested_objects_and_arrays_carry_the_full_path() -> None:
    rows = {
        "title": "Rows",
        "type": "array",
        "items": {
            "title": "Row",
            "type": "object",
            "properties": {"ok": {"title": "OK", "type": "bool"}},
        },
    }
    assert_data_error(
        {"rows": rows},
        {"rows": [{"ok": {"_type": "bool", "value": True}}, {"ok": {"_type": "bool", "value": 1}}]},
        "value must be true or false",
        ["rows", 1, "ok", "value"],
    )


# --- text --------------------------------------------------------------------------------


def test_text_value_shape() -> None:
    assert_data_error(
        {},
        {"name": "Example"},
        'expected a text value (an object with "_type": "text"), got string',
        ["name"],
    )
    assert_data_error(
        {}, {"name": {"text": "x"}}, 'expected _type "text", got nothing', ["name", "_type"]
    )
    assert_data_error(
        {},
        {"name": {"_type": "quantity", "text": "x"}},
        "expected _type \"text\", got 'quantity'",
        ["name", "_type"],
    )
    assert_data_error(
        {}, {"name": {"_type": "text"}}, 'missing key "text" in a text value', ["name", "text"]
    )
    assert_data_error(
        {},
        {"name": {"_type": "text", "text": "x", "lang": "en"}},
        'unexpected key "lang" in a text value',
        ["name", "lang"],
    )
    assert_data_error(
        {},
        {"name": {"_type": "text", "text": ["x"]}},
        "text must be a string or an object mapping language codes to strings",
        ["name", "text"],
    )


def test_translated_text_respects_languages() -> None:
    label = {"title": "Label", "type": "text", "languages": ["en", "de"]}
    valid({"label": label}, {"label": {"_type": "text", "text": {"en": "Ore", "de": "Erz"}}})
    assert_data_error(
        {"label": label},
        {"label": {"_type": "text", "text": {"en": "Ore", "fr": "Minerai"}}},
        "language 'fr' is not allowed for this text",
        ["label", "text", "fr"],
    )
    assert_data_error(
        {},
        {"name": {"_type": "text", "text": {"de": "Erz"}}},
        "language 'de' is not allowed for this text",
        ["name", "text", "de"],
    )
    assert_data_error(
        {"label": label},
        {"label": {"_type": "text", "text": {"en": 3}}},
        "translations must be strings, got number",
        ["label", "text", "en"],
    )


def test_any_well_formed_language_is_allowed_with_languages_all() -> None:
    label = {"title": "Label", "type": "text", "languages": "all"}
    valid({"label": label}, {"label": {"_type": "text", "text": {"en": "Ore", "zh-Hant": "礦石"}}})


def test_text_length_and_pattern() -> None:
    code = {
        "title": "Code",
        "type": "text",
        "minLength": 2,
        "maxLength": 4,
        "pattern": "^S-[0-9]+$",
    }
    valid({"code": code}, {"code": {"_type": "text", "text": "S-12"}})
    assert_data_error(
        {"code": code},
        {"code": {"_type": "text", "text": "S"}},
        "text must be at least 2 characters long",
        ["code", "text"],
    )
    assert_data_error(
        {"code": code},
        {"code": {"_type": "text", "text": "S-123"}},
        "text must be at most 4 characters long",
        ["code", "text"],
    )
    assert_data_error(
        {"code": code},
        {"code": {"_type": "text", "text": "X-12"}},
        "text must match '^S-[0-9]+$'",
        ["code", "text"],
    )


def test_length_of_each_translation_is_checked() -> None:
    label = {"title": "Label", "type": "text", "languages": ["en", "de"], "maxLength": 3}
    assert_data_error(
        {"label": label},
        {"label": {"_type": "text", "text": {"en": "Ore", "de": "Erzkörper"}}},
        "text must be at most 3 characters long",
        ["label", "text", "de"],
    )


def test_text_choices_accept_plain_and_translated_forms() -> None:
    kind = {"title": "Kind", "type": "text", "choices": [{"en": "Ore"}, {"en": "Slag"}]}
    data = valid({"kind": kind}, {"kind": {"_type": "text", "text": "Slag"}})
    assert data["kind"]["text"] == {"en": "Slag"}
    plain = {"title": "Kind", "type": "text", "choices": ["Ore", "Slag"]}
    data = valid({"kind": plain}, {"kind": {"_type": "text", "text": {"en": "Ore"}}})
    assert data["kind"]["text"] == "Ore"
    assert_data_error(
        {"kind": plain},
        {"kind": {"_type": "text", "text": "Glass"}},
        "text must be one of: 'Ore', 'Slag'",
        ["kind", "text"],
    )


def test_is_markdown_only_for_markdown_texts() -> None:
    notes = {"title": "Notes", "type": "text", "markdown": True}
    valid({"notes": notes}, {"notes": {"_type": "text", "text": "**x**", "is_markdown": True}})
    assert_data_error(
        {"notes": notes},
        {"notes": {"_type": "text", "text": "x", "is_markdown": "yes"}},
        "is_markdown must be true or false",
        ["notes", "is_markdown"],
    )
    assert_data_error(
        {},
        {"name": {"_type": "text", "text": "x", "is_markdown": True}},
        'unexpected key "is_markdown" in a text value',
        ["name", "is_markdown"],
    )


# --- bool and datetime -------------------------------------------------------------------


def test_bool() -> None:
    flag = {"title": "Flag", "type": "bool"}
    valid({"flag": flag}, {"flag": {"_type": "bool", "value": False}})
    assert_data_error(
        {"flag": flag},
        {"flag": {"_type": "bool", "value": "false"}},
        "value must be true or false",
        ["flag", "value"],
    )


@pytest.mark.parametrize(
    "text", ["2021-02-30 12:00:00", "2021-07-22T01:23:45", "2021-7-2 1:2:3", 20210722]
)
def test_datetime_rejects_other_forms(text: object) -> None:
    when = {"title": "When", "type": "datetime"}
    assert_data_error(
        {"when": when},
        {"when": {"_type": "datetime", "utc_datetime": text}},
        f'utc_datetime must be a UTC date and time written "YYYY-MM-DD HH:MM:SS", got {text!r}',
        ["when", "utc_datetime"],
    )


# --- references --------------------------------------------------------------------------


def test_sample_reference_needs_a_readable_sample() -> None:
    sample = {"title": "Sample", "type": "sample"}
    valid({"sample": sample}, {"sample": {"_type": "sample", "object_id": 10}})
    assert_data_error(
        {"sample": sample},
        {"sample": {"_type": "sample", "object_id": 11}},
        "object 11 is not a sample (its action type is -98, expected -99)",
        ["sample", "object_id"],
    )
    assert_data_error(
        {"sample": sample},
        {"sample": {"_type": "sample", "object_id": 99}},
        "object 99 does not exist or is not readable",
        ["sample", "object_id"],
    )
    assert_data_error(
        {"sample": sample},
        {"sample": {"_type": "sample", "object_id": "10"}},
        "object_id must be a positive integer, got '10'",
        ["sample", "object_id"],
    )


def test_measurement_reference_needs_a_measurement() -> None:
    run = {"title": "Run", "type": "measurement"}
    valid({"run": run}, {"run": {"_type": "measurement", "object_id": 11}})
    assert_data_error(
        {"run": run},
        {"run": {"_type": "measurement", "object_id": 10}},
        "object 10 is not a measurement (its action type is -99, expected -98)",
        ["run", "object_id"],
    )


def test_object_reference_filters() -> None:
    by_action = {
        "title": "Ref",
        "type": "object_reference",
        "action_id": [SAMPLE_ACTION, MEASUREMENT_ACTION],
    }
    valid({"ref": by_action}, {"ref": {"_type": "object_reference", "object_id": 11}})
    assert_data_error(
        {"ref": by_action},
        {"ref": {"_type": "object_reference", "object_id": 12}},
        "object 12 was created with action 3, expected one of: 1, 2",
        ["ref", "object_id"],
    )
    by_type = {"title": "Ref", "type": "object_reference", "action_type_id": -99}
    assert_data_error(
        {"ref": by_type},
        {"ref": {"_type": "object_reference", "object_id": 12}},
        "object 12 has action type 5, expected one of: -99",
        ["ref", "object_id"],
    )
    unfiltered = {"title": "Ref", "type": "object_reference", "action_id": None}
    valid({"ref": unfiltered}, {"ref": {"_type": "object_reference", "object_id": 12}})
    assert_data_error(
        {"ref": unfiltered},
        {"ref": {"_type": "object_reference", "object_id": 0}},
        "object_id must be a positive integer, got 0",
        ["ref", "object_id"],
    )


def test_object_reference_filter_operator() -> None:
    both = {"action_id": OTHER_ACTION, "action_type_id": -99}
    either = {"title": "Ref", "type": "object_reference", "filter_operator": "or", **both}
    valid({"ref": either}, {"ref": {"_type": "object_reference", "object_id": 10}})
    valid({"ref": either}, {"ref": {"_type": "object_reference", "object_id": 12}})
    assert_data_error(
        {"ref": either},
        {"ref": {"_type": "object_reference", "object_id": 11}},
        "object 11 was created with action 2, expected one of: 3 and has action type -98, "
        "expected one of: -99",
        ["ref", "object_id"],
    )
    conjunction = {"title": "Ref", "type": "object_reference", **both}
    assert_data_error(
        {"ref": conjunction},
        {"ref": {"_type": "object_reference", "object_id": 10}},
        "object 10 was created with action 1, expected one of: 3",
        ["ref", "object_id"],
    )


def test_user_reference() -> None:
    client = {"title": "Client", "type": "user"}
    valid({"client": client}, {"client": {"_type": "user", "user_id": 2}})
    assert_data_error(
        {"client": client},
        {"client": {"_type": "user", "user_id": 3}},
        "user 3 does not exist",
        ["client", "user_id"],
    )
    assert_data_error(
        {"client": client},
        {"client": {"_type": "user", "user_id": True}},
        "user_id must be a positive integer, got True",
        ["client", "user_id"],
    )


# --- tags, hazards, plotly -----------------------------------------------------------------


TAGS = {"tags": {"title": "Tags", "type": "tags"}}


def test_tags() -> None:
    valid(TAGS, {"tags": {"_type": "tags", "tags": ["lead", "ore-2024", "größe"]}})


@pytest.mark.parametrize(
    ("tags", "message", "index"),
    [
        (["lead", "lead"], "duplicate tag 'lead'", 1),
        (["Lead"], "tag 'Lead' must be lowercase", 0),
        (["lead ore"], "tag 'lead ore' may only contain lowercase letters, digits, '_' and '-'", 0),
        ([""], "tag '' may only contain lowercase letters, digits, '_' and '-'", 0),
        (["ok", 7], "a tag must be a string, got number", 1),
    ],
)
def test_invalid_tags(tags: list[Any], message: str, index: int) -> None:
    assert_data_error(
        TAGS, {"tags": {"_type": "tags", "tags": tags}}, message, ["tags", "tags", index]
    )


HAZARDS = {"hazards": {"title": "GHS", "type": "hazards"}}


def test_hazards() -> None:
    schema = schema_with(HAZARDS, required=["hazards"])
    validate_data({"name": NAME, "hazards": {"_type": "hazards", "hazards": []}}, schema, REFS)
    validate_data({"name": NAME, "hazards": {"_type": "hazards", "hazards": [1, 9]}}, schema, REFS)


@pytest.mark.parametrize(
    ("hazards", "message", "index"),
    [
        ([0], "hazard 0 is not a GHS pictogram number (1 to 9)", 0),
        ([1, 10], "hazard 10 is not a GHS pictogram number (1 to 9)", 1),
        ([2, "3"], "hazard '3' is not a GHS pictogram number (1 to 9)", 1),
        ([True], "hazard True is not a GHS pictogram number (1 to 9)", 0),
        ([4, 4], "duplicate hazard 4", 1),
    ],
)
def test_invalid_hazards(hazards: list[Any], message: str, index: int) -> None:
    schema = schema_with(HAZARDS, required=["hazards"])
    with pytest.raises(DataValidationError) as caught:
        validate_data(
            {"name": NAME, "hazards": {"_type": "hazards", "hazards": hazards}}, schema, REFS
        )
    assert (caught.value.message, caught.value.path) == (message, ["hazards", "hazards", index])


CHART = {"chart": {"title": "Chart", "type": "plotly_chart"}}


def test_plotly_chart_given_as_json_text_is_parsed() -> None:
    text = '{"data": [{"x": ["a", "b"], "y": [20, 14], "type": "bar"}], "layout": {}}'
    data = valid(CHART, {"chart": {"_type": "plotly_chart", "plotly": text}})
    assert data["chart"]["plotly"] == {
        "data": [{"x": ["a", "b"], "y": [20, 14], "type": "bar"}],
        "layout": {},
    }
    assert valid(CHART, {"chart": {"_type": "plotly_chart", "plotly": ""}})["chart"]["plotly"] == {}


@pytest.mark.parametrize(
    ("figure", "message", "tail"),
    [
        (
            "{data:",
            "plotly must be valid JSON: Expecting property name enclosed in double quotes",
            [],
        ),
        ([1], "plotly must be an object, got array", []),
        (
            {"data": [], "config": {}},
            'unexpected key "config" in a plotly figure (allowed: data, layout, frames)',
            ["config"],
        ),
        ({"data": {"x": [1]}}, "plotly data must be a list of objects", ["data"]),
        ({"frames": [1]}, "plotly frames must be a list of objects", ["frames"]),
        ({"layout": []}, "plotly layout must be an object", ["layout"]),
    ],
)
def test_invalid_plotly_chart(figure: object, message: str, tail: list[str | int]) -> None:
    assert_data_error(
        CHART,
        {"chart": {"_type": "plotly_chart", "plotly": figure}},
        message,
        ["chart", "plotly", *tail],
    )


# --- files -------------------------------------------------------------------------------


FILE = {"raw": {"title": "Raw", "type": "file", "extensions": [".csv", ".txt"]}}


def test_file_reference_of_the_same_object() -> None:
    valid(FILE, {"raw": {"_type": "file", "file_id": 0}}, object_id=10)
    assert_data_error(
        FILE,
        {"raw": {"_type": "file", "file_id": 1}},
        "file 'photo.jpg' must have one of the extensions: .csv, .txt",
        ["raw", "file_id"],
        object_id=10,
    )
    assert_data_error(
        FILE,
        {"raw": {"_type": "file", "file_id": 5}},
        "file 5 does not exist for object 10",
        ["raw", "file_id"],
        object_id=10,
    )
    assert_data_error(
        FILE,
        {"raw": {"_type": "file", "file_id": -1}},
        "file_id must be a non-negative integer, got -1",
        ["raw", "file_id"],
        object_id=10,
    )


def test_new_object_cannot_reference_files() -> None:
    assert_data_error(
        FILE,
        {"raw": {"_type": "file", "file_id": 0}},
        "file 0 cannot be referenced yet: files belong to an existing object, so create the "
        "object first, upload the file and reference it in a new version",
        ["raw", "file_id"],
    )
