"""Conditional properties: schema rules and their effect on data validation."""

from typing import Any

import pytest

from isofind.objects.schema_language import (
    DataValidationError,
    InMemoryReferences,
    KnownObject,
    SchemaError,
    validate_data,
    validate_schema,
)

REFS = InMemoryReferences(objects={4: KnownObject(1, -99), 5: KnownObject(1, -99)}, users={1, 2})
NAME = {"_type": "text", "text": "Example"}

SIBLINGS: dict[str, Any] = {
    "method": {"title": "Method", "type": "text", "choices": [{"en": "MC-ICP-MS"}, {"en": "TIMS"}]},
    "spiked": {"title": "Spiked", "type": "bool"},
    "analyst": {"title": "Analyst", "type": "user"},
    "precursor": {"title": "Precursor", "type": "sample"},
}


def schema_with_conditional(conditions: list[Any], required: bool = False) -> dict[str, Any]:
    conditional = {"title": "Remark", "type": "text", "conditions": conditions}
    return {
        "title": "Analysis",
        "type": "object",
        "properties": {
            "name": {"title": "Name", "type": "text"},
            **SIBLINGS,
            "remark": conditional,
        },
        "required": ["name", "remark"] if required else ["name"],
    }


def assert_schema_error(conditions: list[Any], message: str, tail: list[str | int]) -> None:
    with pytest.raises(SchemaError) as caught:
        validate_schema(schema_with_conditional(conditions))
    assert caught.value.message == message
    assert caught.value.path == ["properties", "remark", "conditions", *tail]


def choice(value: Any) -> dict[str, Any]:
    return {"type": "choice_equals", "property_name": "method", "choice": value}


def flag(value: object) -> dict[str, Any]:
    return {"type": "bool_equals", "property_name": "spiked", "value": value}


def user(user_id: object) -> dict[str, Any]:
    return {"type": "user_equals", "property_name": "analyst", "user_id": user_id}


def referenced(object_id: int | None) -> dict[str, Any]:
    return {"type": "object_equals", "property_name": "precursor", "object_id": object_id}


# --- schema rules ------------------------------------------------------------------------------


def test_every_condition_type_is_accepted() -> None:
    validate_schema(
        schema_with_conditional(
            [
                choice({"en": "TIMS"}),
                choice(None),
                flag(True),
                user(None),
                referenced(4),
                {"type": "any", "conditions": [flag(False), user(1)]},
                {"type": "all", "conditions": []},
                {"type": "not", "condition": referenced(None)},
            ]
        )
    )


@pytest.mark.parametrize(
    ("condition", "message", "tail"),
    [
        ("spiked", 'a condition must be an object with a string "type"', [0]),
        (
            {"type": "equals"},
            'unknown condition type "equals"; expected one of: all, any, '
            "bool_equals, choice_equals, not, object_equals, user_equals",
            [0, "type"],
        ),
        (
            {"type": "bool_equals", "property_name": "spiked"},
            'condition of type "bool_equals" needs "value"',
            [0, "value"],
        ),
        (
            {**flag(True), "negate": True},
            'unexpected key "negate" in condition of type "bool_equals"',
            [0, "negate"],
        ),
        (
            {**flag(True), "property_name": "heated"},
            "property_name 'heated' is not a property of the same object",
            [0, "property_name"],
        ),
        (
            {**flag(True), "property_name": "method"},
            'property "method" has type "text", but a "bool_equals" condition needs a property '
            "of type bool",
            [0, "property_name"],
        ),
        (flag("yes"), "value must be true or false", [0, "value"]),
        (
            choice("LA-ICP-MS"),
            "'LA-ICP-MS' is not one of the choices of property \"method\"",
            [0, "choice"],
        ),
        (
            {**choice("x"), "property_name": "remark"},
            "'x' is not one of the choices of property \"remark\"",
            [0, "choice"],
        ),
        (user("1"), "user_id must be an integer or null", [0, "user_id"]),
        (
            {**referenced(4), "property_name": "analyst"},
            'property "analyst" has type "user", but a "object_equals" condition needs a '
            "property of type object_reference, sample or measurement",
            [0, "property_name"],
        ),
        ({"type": "any", "conditions": flag(True)}, "conditions must be a list", [0, "conditions"]),
        (
            {"type": "all", "conditions": [flag(True), {"type": "nope"}]},
            'unknown condition type "nope"; expected one of: all, any, bool_equals, '
            "choice_equals, not, object_equals, user_equals",
            [0, "conditions", 1, "type"],
        ),
        (
            {"type": "not", "condition": user(1.5)},
            "user_id must be an integer or null",
            [0, "condition", "user_id"],
        ),
    ],
)
def test_invalid_conditions(condition: Any, message: str, tail: list[str | int]) -> None:
    assert_schema_error([condition], message, tail)


def test_conditions_must_be_a_list() -> None:
    schema = schema_with_conditional([])
    schema["properties"]["remark"]["conditions"] = flag(True)
    with pytest.raises(SchemaError) as caught:
        validate_schema(schema)
    assert (caught.value.message, caught.value.path) == (
        "conditions must be a list",
        ["properties", "remark", "conditions"],
    )


def test_array_items_cannot_have_conditions() -> None:
    items = {"title": "Remark", "type": "text", "conditions": [flag(True)]}
    schema = schema_with_conditional([])
    schema["properties"]["remarks"] = {"title": "Remarks", "type": "array", "items": items}
    with pytest.raises(SchemaError) as caught:
        validate_schema(schema)
    assert caught.value.message == "conditions are only allowed on properties of an object"
    assert caught.value.path == ["properties", "remarks", "items", "conditions"]


def test_object_name_cannot_be_conditional() -> None:
    schema = schema_with_conditional([])
    schema["properties"]["name"]["conditions"] = [flag(True)]
    with pytest.raises(SchemaError) as caught:
        validate_schema(schema)
    assert caught.value.message == "the object name must not have conditions"
    assert caught.value.path == ["properties", "name", "conditions"]


# --- effect on data ------------------------------------------------------------------------------

REMARK = {"_type": "text", "text": "re-run"}
TIMS = {"_type": "text", "text": {"en": "TIMS"}}
MC = {"_type": "text", "text": {"en": "MC-ICP-MS"}}
SPIKED = {"_type": "bool", "value": True}
UNSPIKED = {"_type": "bool", "value": False}


def holds(conditions: list[Any], siblings: dict[str, Any]) -> bool:
    """Whether the remark may be given: validate data with the remark present."""
    data = {"name": NAME, **siblings, "remark": REMARK}
    try:
        validate_data(data, schema_with_conditional(conditions), REFS)
    except DataValidationError as error:
        assert (
            error.message
            == 'property "remark" must be left out because its conditions are not fulfilled'
        )
        assert error.path == ["remark"]
        return False
    return True


def test_choice_equals() -> None:
    assert holds([choice({"en": "TIMS"})], {"method": TIMS})
    assert holds([choice({"en": "TIMS"})], {"method": {"_type": "text", "text": "TIMS"}})
    assert not holds([choice({"en": "TIMS"})], {"method": MC})
    assert not holds([choice({"en": "TIMS"})], {})
    assert holds([choice(None)], {})
    assert not holds([choice(None)], {"method": TIMS})


def test_bool_equals() -> None:
    assert holds([flag(True)], {"spiked": SPIKED})
    assert not holds([flag(True)], {"spiked": UNSPIKED})
    assert not holds([flag(False)], {})


def test_user_equals() -> None:
    assert holds([user(2)], {"analyst": {"_type": "user", "user_id": 2}})
    assert not holds([user(2)], {"analyst": {"_type": "user", "user_id": 1}})
    assert holds([user(None)], {})
    assert not holds([user(None)], {"analyst": {"_type": "user", "user_id": 1}})


def test_object_equals() -> None:
    assert holds([referenced(4)], {"precursor": {"_type": "sample", "object_id": 4}})
    assert not holds([referenced(4)], {"precursor": {"_type": "sample", "object_id": 5}})
    assert holds([referenced(None)], {})


def test_any_all_not() -> None:
    either = {"type": "any", "conditions": [flag(True), choice({"en": "TIMS"})]}
    assert holds([either], {"spiked": UNSPIKED, "method": TIMS})
    assert not holds([either], {"spiked": UNSPIKED, "method": MC})
    assert not holds([{"type": "any", "conditions": []}], {})
    assert holds([{"type": "all", "conditions": []}], {})
    assert not holds(
        [{"type": "all", "conditions": [flag(True), choice({"en": "TIMS"})]}],
        {"spiked": SPIKED, "method": MC},
    )
    assert holds([{"type": "not", "condition": flag(True)}], {"spiked": UNSPIKED})
    assert not holds([{"type": "not", "condition": flag(True)}], {"spiked": SPIKED})


def test_every_condition_of_a_property_must_hold() -> None:
    assert holds([flag(True), choice({"en": "TIMS"})], {"spiked": SPIKED, "method": TIMS})
    assert not holds([flag(True), choice({"en": "TIMS"})], {"spiked": SPIKED, "method": MC})


def test_unavailable_property_may_be_null() -> None:
    validate_data(
        {"name": NAME, "spiked": UNSPIKED, "remark": None},
        schema_with_conditional([flag(True)]),
        REFS,
    )


def test_required_conditional_property_is_only_required_while_available() -> None:
    schema = schema_with_conditional([flag(True)], required=True)
    validate_data({"name": NAME, "spiked": UNSPIKED}, schema, REFS)
    with pytest.raises(DataValidationError) as caught:
        validate_data({"name": NAME, "spiked": SPIKED}, schema, REFS)
    assert (caught.value.message, caught.value.path) == (
        'missing required property "remark"',
        ["remark"],
    )
