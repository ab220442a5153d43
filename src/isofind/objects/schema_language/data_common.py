"""Helpers shared by the data validators of the individual property types."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from .common import json_type_name
from .errors import DataValidationError, JsonPath
from .references import ReferenceChecker


@dataclass(frozen=True)
class DataContext:
    """What a data validator may consult besides the value and its schema.

    ``refs`` is None when only the form of references can be checked (defaults inside a
    schema); ``object_id`` is the object being validated, None for a new object.
    """

    refs: ReferenceChecker | None
    object_id: int | None


def check_keys(
    value: object,
    path: JsonPath,
    type_name: str,
    required: Collection[str],
    optional: Collection[str] = (),
) -> dict[str, Any]:
    """Check that ``value`` is a dict tagged ``"_type": type_name`` holding every
    ``required`` key and no keys beyond ``required`` and ``optional``."""
    if not isinstance(value, dict):
        raise DataValidationError(
            f'expected a {type_name} value (an object with "_type": "{type_name}"), '
            f"got {json_type_name(value)}",
            path,
        )
    if value.get("_type") != type_name:
        found = "nothing" if "_type" not in value else repr(value["_type"])
        raise DataValidationError(f'expected _type "{type_name}", got {found}', path + ["_type"])
    allowed = {"_type", *required, *optional}
    unexpected = sorted(key for key in value if key not in allowed)
    if unexpected:
        raise DataValidationError(
            f'unexpected key "{unexpected[0]}" in a {type_name} value', path + [unexpected[0]]
        )
    missing = sorted(key for key in required if key not in value)
    if missing:
        raise DataValidationError(
            f'missing key "{missing[0]}" in a {type_name} value', path + [missing[0]]
        )
    return value
