"""Conditional properties: a property is available only while its conditions hold.

A condition names a sibling property of the same object (``property_name``) and a value:

- ``choice_equals``: a text property with ``choices`` has ``choice`` selected
  (``choice: null`` means no choice was made);
- ``bool_equals``: a bool property has ``value``;
- ``user_equals``: a user property references ``user_id`` (null: no user selected);
- ``object_equals``: an object_reference, sample or measurement property references
  ``object_id`` (null: no object selected).

``any`` holds when one of its ``conditions`` holds (an empty list never holds), ``all`` when
each holds (an empty list always holds) and ``not`` negates its ``condition``. A property's
``conditions`` list holds when all its conditions do. A data value of null counts as absent.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from .common import is_integer
from .errors import JsonPath, SchemaError

_REFERENCE_TYPES: Final = ("object_reference", "sample", "measurement")


def _check_exact_keys(condition: Mapping[str, Any], expected: set[str], path: JsonPath) -> None:
    missing = sorted(expected - condition.keys())
    if missing:
        raise SchemaError(
            f'condition of type "{condition["type"]}" needs "{missing[0]}"', path + [missing[0]]
        )
    unexpected = sorted(condition.keys() - expected, key=str)
    if unexpected:
        raise SchemaError(
            f'unexpected key "{unexpected[0]}" in condition of type "{condition["type"]}"',
            path + [unexpected[0]],
        )


def _either(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _sibling_schema(
    condition: Mapping[str, Any],
    siblings: Mapping[str, Any],
    path: JsonPath,
    allowed_types: Sequence[str],
) -> Mapping[str, Any]:
    name = condition["property_name"]
    if not isinstance(name, str) or name not in siblings:
        raise SchemaError(
            f"property_name {name!r} is not a property of the same object",
            path + ["property_name"],
        )
    sibling = siblings[name]
    if sibling.get("type") not in allowed_types:
        raise SchemaError(
            f'property "{name}" has type "{sibling.get("type")}", but a "{condition["type"]}" '
            f"condition needs a property of type {_either(allowed_types)}",
            path + ["property_name"],
        )
    return sibling


def _check_choice_equals(
    condition: Mapping[str, Any], siblings: Mapping[str, Any], path: JsonPath
) -> None:
    _check_exact_keys(condition, {"type", "property_name", "choice"}, path)
    sibling = _sibling_schema(condition, siblings, path, ("text",))
    choice = condition["choice"]
    if choice is not None and choice not in sibling.get("choices", []):
        raise SchemaError(
            f'{choice!r} is not one of the choices of property "{condition["property_name"]}"',
            path + ["choice"],
        )


def _check_bool_equals(
    condition: Mapping[str, Any], siblings: Mapping[str, Any], path: JsonPath
) -> None:
    _check_exact_keys(condition, {"type", "property_name", "value"}, path)
    _sibling_schema(condition, siblings, path, ("bool",))
    if not isinstance(condition["value"], bool):
        raise SchemaError("value must be true or false", path + ["value"])


def _id_condition_checker(
    id_key: str, allowed_types: Sequence[str]
) -> Callable[[Mapping[str, Any], Mapping[str, Any], JsonPath], None]:
    def check(condition: Mapping[str, Any], siblings: Mapping[str, Any], path: JsonPath) -> None:
        _check_exact_keys(condition, {"type", "property_name", id_key}, path)
        _sibling_schema(condition, siblings, path, allowed_types)
        if condition[id_key] is not None and not is_integer(condition[id_key]):
            raise SchemaError(f"{id_key} must be an integer or null", path + [id_key])

    return check


def _check_any_or_all(
    condition: Mapping[str, Any], siblings: Mapping[str, Any], path: JsonPath
) -> None:
    _check_exact_keys(condition, {"type", "conditions"}, path)
    children = condition["conditions"]
    if not isinstance(children, list):
        raise SchemaError("conditions must be a list", path + ["conditions"])
    for index, child in enumerate(children):
        check_condition_schema(child, siblings, path + ["conditions", index])


def _check_not(condition: Mapping[str, Any], siblings: Mapping[str, Any], path: JsonPath) -> None:
    _check_exact_keys(condition, {"type", "condition"}, path)
    check_condition_schema(condition["condition"], siblings, path + ["condition"])


_SCHEMA_CHECKERS: Final[
    dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], JsonPath], None]]
] = {
    "choice_equals": _check_choice_equals,
    "bool_equals": _check_bool_equals,
    "user_equals": _id_condition_checker("user_id", ("user",)),
    "object_equals": _id_condition_checker("object_id", _REFERENCE_TYPES),
    "any": _check_any_or_all,
    "all": _check_any_or_all,
    "not": _check_not,
}


def check_condition_schema(condition: object, siblings: Mapping[str, Any], path: JsonPath) -> None:
    """Raise SchemaError unless ``condition`` is well-formed for the sibling properties
    ``siblings`` (the ``properties`` of the object holding the conditional property)."""
    if not isinstance(condition, dict) or not isinstance(condition.get("type"), str):
        raise SchemaError('a condition must be an object with a string "type"', path)
    checker = _SCHEMA_CHECKERS.get(condition["type"])
    if checker is None:
        known = ", ".join(sorted(_SCHEMA_CHECKERS))
        raise SchemaError(
            f'unknown condition type "{condition["type"]}"; expected one of: {known}',
            path + ["type"],
        )
    checker(condition, siblings, path)


def _present(instance: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = instance.get(name)
    return value if isinstance(value, dict) else None


def _choice_selected(condition: Mapping[str, Any], instance: Mapping[str, Any]) -> bool:
    value = _present(instance, condition["property_name"])
    choice = condition["choice"]
    if choice is None or value is None:
        return choice is None and value is None
    text = value.get("text")
    # A plain choice "A" and the translated choice {"en": "A"} denote the same selection.
    return text == choice or text == {"en": choice} or {"en": text} == choice


def _reference_equals(id_key: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], bool]:
    def holds(condition: Mapping[str, Any], instance: Mapping[str, Any]) -> bool:
        value = _present(instance, condition["property_name"])
        if condition[id_key] is None:
            return value is None
        return value is not None and value.get(id_key) == condition[id_key]

    return holds


def _bool_equals(condition: Mapping[str, Any], instance: Mapping[str, Any]) -> bool:
    value = _present(instance, condition["property_name"])
    return value is not None and value.get("value") is condition["value"]


_EVALUATORS: Final[dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], bool]]] = {
    "choice_equals": _choice_selected,
    "bool_equals": _bool_equals,
    "user_equals": _reference_equals("user_id"),
    "object_equals": _reference_equals("object_id"),
    "any": lambda condition, instance: any(
        condition_holds(child, instance) for child in condition["conditions"]
    ),
    "all": lambda condition, instance: conditions_hold(condition["conditions"], instance),
    "not": lambda condition, instance: not condition_holds(condition["condition"], instance),
}


def condition_holds(condition: Mapping[str, Any], instance: Mapping[str, Any]) -> bool:
    """Evaluate one well-formed condition against the data of the parent object."""
    return _EVALUATORS[condition["type"]](condition, instance)


def conditions_hold(conditions: Sequence[Mapping[str, Any]], instance: Mapping[str, Any]) -> bool:
    """Whether every condition of a property holds for the data of its parent object."""
    return all(condition_holds(condition, instance) for condition in conditions)
