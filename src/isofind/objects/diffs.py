"""SampleDB object data diffs: calculate, apply, invert and reconcile with full data.

The syntax is the one of the SampleDB HTTP API ("Object Data Diff Syntax"):

- an object diff maps changed property names to the diffs of their values;
- an array diff is a list holding one item diff per index, null for unchanged items, or a
  dictionary of string indices: "3" (absolute), "-1" (from the end), "+0" (appended after the
  end); both forms may also address the rows of a timeseries value;
- a value diff is ``{"_before": old, "_after": new}``, without ``_before`` when a value is
  added and without ``_after`` when it is removed;
- null means "unchanged" (the value must exist).

Typed SampleDB values (dictionaries with ``_type``) are leaves for calculate_diff, so a changed
quantity or timeseries is replaced as a whole. apply_diff refuses a diff whose ``_before`` does
not match the data, so a diff computed against an older version cannot silently undo changes.
"""

from __future__ import annotations

import copy
import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias, TypeGuard

JsonValue: TypeAlias = Any
DataDiff: TypeAlias = dict[str, Any] | list[Any] | None
Path: TypeAlias = tuple[str | int, ...]

_VALUE_DIFF_KEYS = frozenset({"_before", "_after"})
# Fully anchored: "-0", "00" and "01" are not indices, so each index has one spelling.
_INDEX_KEY = re.compile(r"[+-]?[1-9][0-9]*|\+?0")


class DiffError(ValueError):
    """A diff that cannot be calculated, applied or inverted; ``path`` locates the problem."""

    def __init__(self, message: str, path: Iterable[str | int] = ()) -> None:
        self.message = message
        self.path: Path = tuple(path)
        super().__init__(f"{message} (path: {self.pointer})")

    @property
    def pointer(self) -> str:
        """The path in JSON Pointer notation (RFC 6901 escaping), with "/" for the data root."""
        escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in self.path)
        return "/" + "/".join(escaped)


class _Absent(enum.Enum):
    """Marks a missing property or array item, which differs from a JSON null."""

    ABSENT = "absent"


_ABSENT = _Absent.ABSENT


class _ItemKind(enum.Enum):
    KEPT = "kept"
    REMOVED = "removed"
    APPENDED = "appended"


# ---------------------------------------------------------------------------------------------
# Comparison


def json_equal(left: JsonValue, right: JsonValue) -> bool:
    """Structural JSON equality; unlike ``==``, booleans never equal the numbers 0 and 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            json_equal(value, right[key]) for key, value in left.items()
        )
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            json_equal(item_left, item_right)
            for item_left, item_right in zip(left, right, strict=True)
        )
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return False
    return bool(left == right)


def _first_difference(left: JsonValue, right: JsonValue, path: Path) -> Path | None:
    if json_equal(left, right):
        return None
    if isinstance(left, dict) and isinstance(right, dict):
        for key in [*left, *(key for key in right if key not in left)]:
            found = _first_difference(left.get(key, _ABSENT), right.get(key, _ABSENT), (*path, key))
            if found is not None:
                return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (item_left, item_right) in enumerate(zip(left, right, strict=True)):
            found = _first_difference(item_left, item_right, (*path, index))
            if found is not None:
                return found
    return path


def _describe(value: JsonValue | _Absent) -> str:
    if value is _ABSENT:
        return "no value"
    if isinstance(value, dict):
        return f"a '{value['_type']}' value" if "_type" in value else "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def _is_timeseries(value: JsonValue | _Absent) -> bool:
    return isinstance(value, dict) and value.get("_type") == "timeseries"


def _is_value_diff(diff: object) -> TypeGuard[dict[Any, Any]]:
    return isinstance(diff, dict) and not _VALUE_DIFF_KEYS.isdisjoint(diff)


def _is_index_key(key: object) -> bool:
    return isinstance(key, str) and _INDEX_KEY.fullmatch(key) is not None


def _is_index_diff(diff: Mapping[Any, Any]) -> bool:
    return bool(diff) and all(_is_index_key(key) for key in diff)


def _checked_value_diff(diff: dict[Any, Any], path: Path) -> dict[Any, Any]:
    unexpected = sorted(str(key) for key in diff if key not in _VALUE_DIFF_KEYS)
    if unexpected:
        raise DiffError(
            f"a value diff may only hold _before and _after, not {', '.join(unexpected)}", path
        )
    return diff


# ---------------------------------------------------------------------------------------------
# calculate_diff


def calculate_diff(before: JsonValue, after: JsonValue) -> DataDiff:
    """The diff turning ``before`` into ``after``; None when they are equal."""
    return _calculate(before, after)


def _is_diffable_object(value: JsonValue | _Absent) -> bool:
    # A property named _before/_after would make an object diff read as a value diff.
    return isinstance(value, dict) and "_type" not in value and _VALUE_DIFF_KEYS.isdisjoint(value)


def _calculate(before: JsonValue | _Absent, after: JsonValue | _Absent) -> DataDiff:
    if before is not _ABSENT and after is not _ABSENT and json_equal(before, after):
        return None
    if isinstance(before, list) and isinstance(after, list):
        return _calculate_array_diff(before, after)
    if _is_diffable_object(before) and _is_diffable_object(after):
        return _calculate_object_diff(before, after)
    return _value_diff(before, after)


def _calculate_object_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    keys = [*before, *(key for key in after if key not in before)]
    changes = {key: _calculate(before.get(key, _ABSENT), after.get(key, _ABSENT)) for key in keys}
    return {key: change for key, change in changes.items() if change is not None}


def _calculate_array_diff(before: list[Any], after: list[Any]) -> list[Any]:
    return [
        _calculate(
            before[index] if index < len(before) else _ABSENT,
            after[index] if index < len(after) else _ABSENT,
        )
        for index in range(max(len(before), len(after)))
    ]


def _value_diff(before: JsonValue | _Absent, after: JsonValue | _Absent) -> dict[str, Any]:
    diff: dict[str, Any] = {}
    if before is not _ABSENT:
        diff["_before"] = copy.deepcopy(before)
    if after is not _ABSENT:
        diff["_after"] = copy.deepcopy(after)
    return diff


# ---------------------------------------------------------------------------------------------
# apply_diff


def apply_diff(data: JsonValue, diff: object) -> JsonValue:
    """New data with ``diff`` applied to ``data``; neither argument is modified.

    Raises DiffError when the diff is malformed or does not fit the data (a ``_before`` that
    differs from the current value, an index outside the array, ...).
    """
    result = _apply(data, diff, ())
    if result is _ABSENT:
        raise DiffError("the diff removes the whole data", ())
    return result


def _apply(current: JsonValue | _Absent, diff: object, path: Path) -> JsonValue | _Absent:
    if diff is None:
        if current is _ABSENT:
            raise DiffError("a null diff keeps the current value, but there is no value", path)
        return copy.deepcopy(current)
    if isinstance(diff, list):
        return _apply_array_diff(current, diff, path)
    if not isinstance(diff, dict):
        raise DiffError(f"a diff must be null, an array or an object, not {_describe(diff)}", path)
    if _is_value_diff(diff):
        return _apply_value_diff(current, diff, path)
    # Timeseries fields are never index-like, so one index key marks a diff of the rows.
    if isinstance(current, list) or (
        _is_timeseries(current) and any(_is_index_key(key) for key in diff)
    ):
        return _apply_array_diff(current, diff, path)
    if isinstance(current, dict):
        return _apply_object_diff(current, diff, path)
    raise DiffError(
        f"an object diff needs an object or an array, but there is {_describe(current)}", path
    )


def _apply_value_diff(
    current: JsonValue | _Absent, diff: dict[Any, Any], path: Path
) -> JsonValue | _Absent:
    _checked_value_diff(diff, path)
    if "_before" not in diff:
        if current is not _ABSENT:
            raise DiffError("_before is missing, but there is a value", path)
    elif current is _ABSENT:
        raise DiffError("_before is given, but there is no value", path)
    elif not json_equal(current, diff["_before"]):
        raise DiffError("_before does not match the current value", path)
    return copy.deepcopy(diff["_after"]) if "_after" in diff else _ABSENT


def _apply_object_diff(current: dict[str, Any], diff: dict[Any, Any], path: Path) -> dict[str, Any]:
    for key in diff:
        if not isinstance(key, str):
            raise DiffError(f"object diff keys must be strings, not {_describe(key)}", path)
    result: dict[str, Any] = {}
    for key in [*current, *(key for key in diff if key not in current)]:
        if key not in diff:
            result[key] = copy.deepcopy(current[key])
            continue
        new_value = _apply(current.get(key, _ABSENT), diff[key], (*path, key))
        if new_value is not _ABSENT:
            result[key] = new_value
    return result


def _rows_of_timeseries(timeseries: dict[str, Any], path: Path) -> list[Any]:
    rows = timeseries.get("data")
    if not isinstance(rows, list):
        raise DiffError(
            f"the timeseries needs an array of rows in 'data', found {_describe(rows)}",
            (*path, "data"),
        )
    return rows


def _items_and_path(current: JsonValue | _Absent, path: Path) -> tuple[list[Any], Path]:
    if isinstance(current, list):
        return current, path
    if _is_timeseries(current):
        return _rows_of_timeseries(current, path), (*path, "data")
    raise DiffError(
        f"an array diff needs an array or a timeseries, but there is {_describe(current)}", path
    )


def _apply_array_diff(
    current: JsonValue | _Absent, diff: list[Any] | dict[Any, Any], path: Path
) -> JsonValue:
    items, items_path = _items_and_path(current, path)
    item_diffs = (
        dict(enumerate(diff))
        if isinstance(diff, list)
        else _resolve_index_keys(len(items), diff, items_path)
    )
    new_items = _apply_item_diffs(items, item_diffs, items_path)
    if isinstance(current, list):
        return new_items
    return {
        key: new_items if key == "data" else copy.deepcopy(value) for key, value in current.items()
    }


def _apply_item_diffs(items: list[Any], item_diffs: dict[int, Any], path: Path) -> list[Any]:
    length = max(len(items), max(item_diffs, default=-1) + 1)
    new_items = []
    for index in range(length):
        item = items[index] if index < len(items) else _ABSENT
        new_item = _apply(item, item_diffs.get(index), (*path, index))
        if new_item is not _ABSENT:
            new_items.append(new_item)
    return new_items


def _resolve_index_keys(length: int, diff: dict[Any, Any], path: Path) -> dict[int, Any]:
    resolved: dict[int, Any] = {}
    key_of_index: dict[int, str] = {}
    for key, item_diff in diff.items():
        index = _resolve_index_key(key, length, path)
        if index in resolved:
            raise DiffError(
                f"array indices '{key_of_index[index]}' and '{key}' both refer to index {index}",
                (*path, key),
            )
        resolved[index] = item_diff
        key_of_index[index] = key
    _require_contiguous_appends(resolved, length, path)
    return resolved


def _resolve_index_key(key: object, length: int, path: Path) -> int:
    if not isinstance(key, str) or not _is_index_key(key):
        raise DiffError(
            f"invalid array index {key!r}: use '3' (absolute), '-1' (from the end) "
            "or '+0' (appended after the end)",
            (*path, str(key)),
        )
    offset = int(key)
    index = length + offset if key[0] in "+-" else offset
    if index < 0:
        raise DiffError(
            f"array index '{key}' is out of range for an array of length {length}", (*path, key)
        )
    return index


def _require_contiguous_appends(resolved: Mapping[int, Any], length: int, path: Path) -> None:
    last = max(resolved, default=-1)
    for index in range(length, last + 1):
        if index not in resolved:
            raise DiffError(
                f"array index {index} is skipped while appending up to index {last} "
                f"to an array of length {length}",
                (*path, index),
            )


# ---------------------------------------------------------------------------------------------
# invert_diff


def invert_diff(diff: object) -> DataDiff:
    """The diff undoing ``diff``: apply_diff(apply_diff(d, diff), invert_diff(diff)) == d.

    Array diffs are taken to cover the whole array when they remove items, as calculate_diff
    produces them. Removing items before the end of an array cannot be undone in this syntax,
    which has no insertion, so such diffs raise DiffError, as do index-dictionary diffs that both
    append and remove items (their inverse depends on the unknown array length).
    """
    return _invert(diff, ())


def _invert(diff: object, path: Path) -> DataDiff:
    if diff is None:
        return None
    if isinstance(diff, list):
        return _invert_array_diff(diff, path)
    if not isinstance(diff, dict):
        raise DiffError(f"a diff must be null, an array or an object, not {_describe(diff)}", path)
    if _is_value_diff(diff):
        return _invert_value_diff(diff, path)
    if _is_index_diff(diff):
        return _invert_index_diff(diff, path)
    return {key: _invert(item_diff, (*path, key)) for key, item_diff in diff.items()}


def _invert_value_diff(diff: dict[Any, Any], path: Path) -> dict[str, Any]:
    _checked_value_diff(diff, path)
    inverse: dict[str, Any] = {}
    if "_after" in diff:
        inverse["_before"] = copy.deepcopy(diff["_after"])
    if "_before" in diff:
        inverse["_after"] = copy.deepcopy(diff["_before"])
    return inverse


def _item_kind(item_diff: object) -> _ItemKind:
    if not _is_value_diff(item_diff):
        return _ItemKind.KEPT
    if "_before" not in item_diff:
        return _ItemKind.APPENDED
    if "_after" not in item_diff:
        return _ItemKind.REMOVED
    return _ItemKind.KEPT


def _first_index_of_kind(kinds: list[_ItemKind], kind: _ItemKind) -> int:
    return next((index for index, found in enumerate(kinds) if found is kind), len(kinds))


def _invert_array_diff(diff: list[Any], path: Path) -> list[Any]:
    kinds = [_item_kind(item_diff) for item_diff in diff]
    first_appended = _first_index_of_kind(kinds, _ItemKind.APPENDED)
    first_removed = _first_index_of_kind(kinds[:first_appended], _ItemKind.REMOVED)
    if any(kind is not _ItemKind.REMOVED for kind in kinds[first_removed:first_appended]):
        raise DiffError(
            "cannot invert removing an item before the end of the array", (*path, first_removed)
        )
    for index in range(first_appended, len(diff)):
        if kinds[index] is not _ItemKind.APPENDED:
            raise DiffError(
                "an item after an appended item must be appended too (only _after)", (*path, index)
            )
    kept = [
        _invert(item_diff, (*path, index)) for index, item_diff in enumerate(diff[:first_removed])
    ]
    removed = [
        _checked_value_diff(diff[index], (*path, index))["_before"]
        for index in range(first_removed, first_appended)
    ]
    appended = [
        _checked_value_diff(diff[index], (*path, index))["_after"]
        for index in range(first_appended, len(diff))
    ]
    return kept + _swap_tail(removed, appended)


def _swap_tail(removed: list[Any], appended: list[Any]) -> list[dict[str, Any]]:
    # The appended items take the positions the removed ones had, so undoing pairs them up.
    tail = []
    for position in range(max(len(removed), len(appended))):
        item_diff: dict[str, Any] = {}
        if position < len(appended):
            item_diff["_before"] = copy.deepcopy(appended[position])
        if position < len(removed):
            item_diff["_after"] = copy.deepcopy(removed[position])
        tail.append(item_diff)
    return tail


def _invert_index_diff(diff: dict[str, Any], path: Path) -> dict[str, Any]:
    kinds = {key: _item_kind(item_diff) for key, item_diff in diff.items()}
    appended = sum(kind is _ItemKind.APPENDED for kind in kinds.values())
    removed = sum(kind is _ItemKind.REMOVED for kind in kinds.values())
    if appended and removed:
        raise DiffError("cannot invert an index diff that both appends and removes items", path)
    length_change = appended - removed
    return {
        _inverted_index_key(key, kinds[key], length_change, path): _invert(item_diff, (*path, key))
        for key, item_diff in diff.items()
    }


def _inverted_index_key(key: str, kind: _ItemKind, length_change: int, path: Path) -> str:
    if key[0] not in "+-":
        return key
    if key[0] == "+" and kind is not _ItemKind.APPENDED:
        raise DiffError(
            f"array index '{key}' is after the end of the array, so its diff may only give _after",
            (*path, key),
        )
    if key[0] == "-" and kind is _ItemKind.APPENDED:
        raise DiffError(
            f"array index '{key}' is inside the array, so its diff must give _before",
            (*path, key),
        )
    offset_after = int(key) - length_change
    # The inverse appends what was removed ("+N") and touches everything else from the end.
    inverse_appends = kind is _ItemKind.REMOVED
    if (offset_after >= 0) != inverse_appends:
        raise DiffError(
            f"cannot invert array index '{key}': the removed items must form the end of the "
            "array and the appended items must follow it without gaps",
            (*path, key),
        )
    return f"+{offset_after}" if inverse_appends else str(offset_after)


# ---------------------------------------------------------------------------------------------
# Full data or diff, as accepted by POST /api/v1/objects/<id>/versions/


def resolve_new_data(
    current: JsonValue, data: JsonValue = None, data_diff: object = None
) -> JsonValue:
    """The data of a new version from ``data``, ``data_diff`` against ``current``, or both.

    Both may be given only when applying the diff yields exactly ``data``.
    """
    if data is None and data_diff is None:
        raise DiffError("data or data_diff must be set", ())
    if data_diff is None:
        return copy.deepcopy(data)
    new_data = apply_diff(current, data_diff)
    if data is not None:
        difference = _first_difference(new_data, data, ())
        if difference is not None:
            raise DiffError("data and data_diff are conflicting", difference)
    return new_data
