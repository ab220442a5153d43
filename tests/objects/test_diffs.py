import copy
import json
import random
from typing import Any

import pytest

from isofind.objects.diffs import (
    DiffError,
    apply_diff,
    calculate_diff,
    invert_diff,
    json_equal,
    resolve_new_data,
)

# The three examples of the "Object Data Diff Syntax" section, verbatim.
SPEC_BEFORE = """
{
  "name": {
      "_type": "text",
      "text": {
          "en": "Example Measurement"
      }
  },
  "measurement_complete": {
      "_type": "bool",
      "value": false
  },
  "mass_list": [
    {
      "_type": "quantity",
      "magnitude": 10,
      "magnitude_in_base_units": 0.01,
      "units": "g",
      "dimensionality": "[mass]"
    }
  ]
}
"""
SPEC_DIFF = """
{
  "measurement_complete": {
    "_before": {
      "_type": "bool",
      "value": false
    },
    "_after": {
      "_type": "bool",
      "value": true
    }
  },
  "mass_list": [
    null,
    {
      "_after": {
        "_type": "quantity",
        "magnitude": 11,
        "magnitude_in_base_units": 0.011,
        "units": "g",
        "dimensionality": "[mass]"
      }
    }
  ]
}
"""
SPEC_INDEX_DIFF = """
{
  "mass_list": {
    "+0": {
      "_after": {
        "_type": "quantity",
        "magnitude": 12,
        "magnitude_in_base_units": 0.012,
        "units": "g",
        "dimensionality": "[mass]"
      }
    }
  }
}
"""
SPEC_TIMESERIES_LIST_DIFF = """
{
  "temperature": [
    null,
    null,
    {
      "_after": ["2023-01-02 03:04:05.678900", 20, 293,15]
    }
  ]
}
"""
SPEC_TIMESERIES_INDEX_DIFF = """
{
  "temperature": {
    "+0": {
      "_after": ["2023-01-02 03:04:05.678900", 20, 293,15]
    }
  }
}
"""


def quantity(grams: float) -> dict[str, Any]:
    return {
        "_type": "quantity",
        "magnitude": grams,
        "magnitude_in_base_units": grams / 1000,
        "units": "g",
        "dimensionality": "[mass]",
    }


def timeseries(rows: list[list[Any]]) -> dict[str, Any]:
    return {"_type": "timeseries", "units": "degC", "dimensionality": "[temperature]", "data": rows}


ROW_1 = ["2023-01-02 03:04:03.000000", 18, 291.15]
ROW_2 = ["2023-01-02 03:04:04.000000", 19, 292.15]
ROW_3 = ["2023-01-02 03:04:05.000000", 21, 294.15]


def raises_diff_error(data: Any, diff: Any) -> DiffError:
    with pytest.raises(DiffError) as caught:
        apply_diff(data, diff)
    return caught.value


# --- the documented examples ------------------------------------------------------------------


def test_spec_example_sets_flag_and_appends_mass() -> None:
    before = json.loads(SPEC_BEFORE)
    after = apply_diff(before, json.loads(SPEC_DIFF))
    assert after == {
        "name": {"_type": "text", "text": {"en": "Example Measurement"}},
        "measurement_complete": {"_type": "bool", "value": True},
        "mass_list": [quantity(10), quantity(11)],
    }


def test_calculate_diff_reproduces_spec_example() -> None:
    before = json.loads(SPEC_BEFORE)
    after = {**before, "measurement_complete": {"_type": "bool", "value": True}}
    after["mass_list"] = [*before["mass_list"], quantity(11)]
    assert calculate_diff(before, after) == json.loads(SPEC_DIFF)


def test_spec_index_example_appends_mass() -> None:
    after = apply_diff(json.loads(SPEC_BEFORE), json.loads(SPEC_INDEX_DIFF))
    assert after["mass_list"] == [quantity(10), quantity(12)]
    assert after["measurement_complete"] == {"_type": "bool", "value": False}


@pytest.mark.parametrize("spec_diff", [SPEC_TIMESERIES_LIST_DIFF, SPEC_TIMESERIES_INDEX_DIFF])
def test_spec_timeseries_examples_append_a_row(spec_diff: str) -> None:
    before = {"temperature": timeseries([ROW_1, ROW_2])}
    after = apply_diff(before, json.loads(spec_diff))
    assert after == {
        "temperature": timeseries([ROW_1, ROW_2, ["2023-01-02 03:04:05.678900", 20, 293, 15]])
    }


# --- calculate_diff -----------------------------------------------------------------------------


def test_calculate_diff_of_equal_data_is_none() -> None:
    data = {"a": [1, {"b": quantity(2)}]}
    assert calculate_diff(data, copy.deepcopy(data)) is None


def test_calculate_diff_lists_only_changed_keys() -> None:
    before = {"keep": 1, "change": {"inner": "x", "same": 2}, "drop": "gone"}
    after = {"keep": 1, "change": {"inner": "y", "same": 2}, "new": [1]}
    assert calculate_diff(before, after) == {
        "change": {"inner": {"_before": "x", "_after": "y"}},
        "drop": {"_before": "gone"},
        "new": {"_after": [1]},
    }


def test_calculate_diff_of_shorter_array_removes_tail_items() -> None:
    assert calculate_diff([1, 2, 3, 4], [1, 5]) == [
        None,
        {"_before": 2, "_after": 5},
        {"_before": 3},
        {"_before": 4},
    ]


def test_calculate_diff_diffs_nested_objects_inside_arrays() -> None:
    before = [{"sample": "A", "mass": quantity(1)}, {"sample": "B"}]
    after = [{"sample": "A", "mass": quantity(2)}, {"sample": "B"}]
    assert calculate_diff(before, after) == [
        {"mass": {"_before": quantity(1), "_after": quantity(2)}},
        None,
    ]


def test_calculate_diff_replaces_typed_values_whole() -> None:
    diff = calculate_diff({"m": quantity(1)}, {"m": quantity(2)})
    assert diff == {"m": {"_before": quantity(1), "_after": quantity(2)}}


def test_calculate_diff_replaces_timeseries_whole() -> None:
    before = {"t": timeseries([ROW_1])}
    after = {"t": timeseries([ROW_1, ROW_2])}
    assert calculate_diff(before, after) == {"t": {"_before": before["t"], "_after": after["t"]}}


def test_calculate_diff_replaces_value_whose_kind_changes() -> None:
    assert calculate_diff({"x": [1]}, {"x": {"0": 1}}) == {
        "x": {"_before": [1], "_after": {"0": 1}}
    }


def test_calculate_diff_tells_booleans_from_numbers() -> None:
    diff = calculate_diff({"flag": 1}, {"flag": True})
    assert diff == {"flag": {"_before": 1, "_after": True}}
    assert apply_diff({"flag": 1}, diff)["flag"] is True


def test_calculate_diff_replaces_objects_with_before_or_after_properties_whole() -> None:
    before = {"o": {"_after": 1, "x": 1}}
    after = {"o": {"_after": 1, "x": 2}}
    diff = calculate_diff(before, after)
    assert diff == {"o": {"_before": before["o"], "_after": after["o"]}}
    assert apply_diff(before, diff) == after


def test_calculate_diff_does_not_share_values_with_its_inputs() -> None:
    after = {"m": quantity(2)}
    diff = calculate_diff({}, after)
    assert diff is not None
    diff["m"]["_after"]["magnitude"] = 99
    assert after["m"]["magnitude"] == 2


# --- apply_diff -----------------------------------------------------------------------------


def test_apply_diff_removes_a_property() -> None:
    assert apply_diff({"a": 1, "b": 2}, {"a": {"_before": 1}}) == {"b": 2}


def test_apply_diff_adds_a_property_after_existing_ones() -> None:
    after = apply_diff({"a": 1, "b": 2}, {"c": {"_after": 3}, "a": {"_before": 1, "_after": 0}})
    assert list(after.items()) == [("a", 0), ("b", 2), ("c", 3)]


def test_apply_diff_with_null_keeps_the_value() -> None:
    assert apply_diff({"a": [1, 2]}, {"a": None}) == {"a": [1, 2]}
    assert apply_diff({"a": [1, 2]}, None) == {"a": [1, 2]}


def test_apply_diff_with_empty_containers_changes_nothing() -> None:
    assert apply_diff({"a": [1, 2], "t": timeseries([ROW_1])}, {"a": {}, "t": {}}) == {
        "a": [1, 2],
        "t": timeseries([ROW_1]),
    }


def test_apply_diff_list_shorter_than_array_keeps_the_rest() -> None:
    assert apply_diff([1, 2, 3], [{"_before": 1, "_after": 9}]) == [9, 2, 3]


def test_apply_diff_removes_tail_items() -> None:
    assert apply_diff([1, 2, 3], [None, {"_before": 2}, {"_before": 3}]) == [1]


def test_apply_diff_removes_an_item_in_the_middle() -> None:
    assert apply_diff(["a", "b", "c"], [None, {"_before": "b"}]) == ["a", "c"]


def test_apply_diff_replaces_removed_tail_with_appended_item() -> None:
    assert apply_diff(["a", "b"], [None, {"_before": "b"}, {"_after": "c"}]) == ["a", "c"]


def test_apply_diff_changes_nested_object_inside_array() -> None:
    data = {"aliquots": [{"id": "A", "mass": quantity(1)}, {"id": "B", "mass": quantity(2)}]}
    diff = {"aliquots": [None, {"mass": {"_before": quantity(2), "_after": quantity(3)}}]}
    assert apply_diff(data, diff) == {
        "aliquots": [{"id": "A", "mass": quantity(1)}, {"id": "B", "mass": quantity(3)}]
    }


def test_apply_diff_may_edit_inside_typed_value() -> None:
    data = {"name": {"_type": "text", "text": {"en": "Old", "de": "Alt"}}}
    diff = {"name": {"text": {"en": {"_before": "Old", "_after": "New"}}}}
    assert apply_diff(data, diff) == {"name": {"_type": "text", "text": {"en": "New", "de": "Alt"}}}


@pytest.mark.parametrize(
    ("key", "expected"),
    [("0", [9, 2, 3]), ("2", [1, 2, 9]), ("-1", [1, 2, 9]), ("-3", [9, 2, 3])],
)
def test_apply_diff_index_changes_item(key: str, expected: list[int]) -> None:
    old = {"0": 1, "2": 3, "-1": 3, "-3": 1}[key]
    assert apply_diff([1, 2, 3], {key: {"_before": old, "_after": 9}}) == expected


def test_apply_diff_index_appends_several_items() -> None:
    diff = {"+1": {"_after": "e"}, "+0": {"_after": "d"}, "-1": {"_before": "c", "_after": "C"}}
    assert apply_diff(["a", "b", "c"], diff) == ["a", "b", "C", "d", "e"]


def test_apply_diff_absolute_index_at_the_end_appends() -> None:
    assert apply_diff(["a"], {"1": {"_after": "b"}}) == ["a", "b"]


def test_apply_diff_index_removes_last_item() -> None:
    assert apply_diff(["a", "b", "c"], {"-1": {"_before": "c"}}) == ["a", "b"]


def test_apply_diff_changes_a_timeseries_row_cell() -> None:
    data = {"t": timeseries([ROW_1, ROW_2])}
    diff = {"t": [None, [None, {"_before": 19, "_after": 25}]]}
    changed_row = [ROW_2[0], 25, ROW_2[2]]
    assert apply_diff(data, diff) == {"t": timeseries([ROW_1, changed_row])}


def test_apply_diff_index_removes_and_replaces_timeseries_rows() -> None:
    data = {"t": timeseries([ROW_1, ROW_2])}
    diff = {"t": {"-1": {"_before": ROW_2}, "0": {"_before": ROW_1, "_after": ROW_3}}}
    assert apply_diff(data, diff) == {"t": timeseries([ROW_3])}


def test_apply_diff_changes_timeseries_fields_by_name() -> None:
    data = {"t": timeseries([ROW_1])}
    diff = {"t": {"units": {"_before": "degC", "_after": "K"}}}
    assert apply_diff(data, diff)["t"] == {**timeseries([ROW_1]), "units": "K"}


def test_apply_diff_replaces_whole_data() -> None:
    assert apply_diff({"a": 1}, {"_before": {"a": 1}, "_after": {"b": 2}}) == {"b": 2}


def test_apply_diff_neither_mutates_nor_shares_its_inputs() -> None:
    data = {"list": [{"m": quantity(1)}], "t": timeseries([ROW_1]), "keep": {"x": [1]}}
    diff = {
        "list": [{"m": {"_before": quantity(1), "_after": quantity(2)}}, {"_after": {"n": [3]}}],
        "t": {"+0": {"_after": ROW_2}},
    }
    data_copy, diff_copy = copy.deepcopy(data), copy.deepcopy(diff)
    result = apply_diff(data, diff)
    assert data == data_copy
    assert diff == diff_copy
    result["keep"]["x"].append(2)
    result["t"]["data"][0][1] = 0
    result["list"][1]["n"].append(4)
    assert data == data_copy
    assert diff == diff_copy


# --- apply_diff refusals ------------------------------------------------------------------------


def test_mismatched_before_is_refused_with_its_path() -> None:
    data = {"aliquots": [{"mass": quantity(1)}, {"mass": quantity(2)}]}
    diff = {"aliquots": [None, {"mass": {"_before": quantity(5), "_after": quantity(3)}}]}
    error = raises_diff_error(data, diff)
    assert error.message == "_before does not match the current value"
    assert error.path == ("aliquots", 1, "mass")
    assert str(error) == "_before does not match the current value (path: /aliquots/1/mass)"


def test_before_true_does_not_match_one() -> None:
    error = raises_diff_error({"flag": 1}, {"flag": {"_before": True, "_after": False}})
    assert (error.message, error.path) == ("_before does not match the current value", ("flag",))


def test_mismatched_before_in_timeseries_row_names_the_row() -> None:
    error = raises_diff_error({"t": timeseries([ROW_1])}, {"t": {"-1": {"_before": ROW_2}}})
    assert (error.message, error.path) == (
        "_before does not match the current value",
        ("t", "data", 0),
    )


@pytest.mark.parametrize(
    ("data", "diff", "message", "path"),
    [
        ({}, {"a": {"_before": 1, "_after": 2}}, "_before is given, but there is no value", ("a",)),
        ({"a": 1}, {"a": {"_after": 2}}, "_before is missing, but there is a value", ("a",)),
        ([1], [None, None], "a null diff keeps the current value, but there is no value", (1,)),
        (
            {"a": 1},
            {"a": {"_before": 1, "_after": 2, "note": "x"}},
            "a value diff may only hold _before and _after, not note",
            ("a",),
        ),
        ({"a": 1}, {"a": "x"}, "a diff must be null, an array or an object, not a string", ("a",)),
        (
            {"a": {"b": 1}},
            {"a": [None]},
            "an array diff needs an array or a timeseries, but there is an object",
            ("a",),
        ),
        (
            {"a": quantity(1)},
            {"a": [None]},
            "an array diff needs an array or a timeseries, but there is a 'quantity' value",
            ("a",),
        ),
        (
            {"a": 3},
            {"a": {"b": None}},
            "an object diff needs an object or an array, but there is a number",
            ("a",),
        ),
        (
            {},
            {"a": {"b": {"_after": 1}}},
            "an object diff needs an object or an array, but there is no value",
            ("a",),
        ),
        (
            {"t": {"_type": "timeseries", "data": "rows"}},
            {"t": [None]},
            "the timeseries needs an array of rows in 'data', found a string",
            ("t", "data"),
        ),
        ({"a": 1}, {"_before": {"a": 1}}, "the diff removes the whole data", ()),
        ({"a": 1}, {1: None}, "object diff keys must be strings, not a number", ()),
    ],
)
def test_apply_diff_refuses_diffs_that_do_not_fit(
    data: Any, diff: Any, message: str, path: tuple[str | int, ...]
) -> None:
    error = raises_diff_error(data, diff)
    assert (error.message, error.path) == (message, path)


@pytest.mark.parametrize("key", ["-0", "01", "1.5", "abc", "+-1", " 1", "1 "])
def test_apply_diff_refuses_invalid_index_strings(key: str) -> None:
    error = raises_diff_error({"a": [1, 2]}, {"a": {key: None}})
    assert error.message == (
        f"invalid array index {key!r}: use '3' (absolute), '-1' (from the end) "
        "or '+0' (appended after the end)"
    )
    assert error.path == ("a", key)


def test_apply_diff_refuses_index_before_the_start() -> None:
    error = raises_diff_error({"a": [1, 2]}, {"a": {"-3": None}})
    assert error.message == "array index '-3' is out of range for an array of length 2"
    assert error.path == ("a", "-3")


def test_apply_diff_refuses_a_gap_when_appending() -> None:
    error = raises_diff_error({"a": [1, 2]}, {"a": {"+1": {"_after": 4}}})
    assert (error.message, error.path) == (
        "array index 2 is skipped while appending up to index 3 to an array of length 2",
        ("a", 2),
    )


def test_apply_diff_refuses_two_keys_for_one_index() -> None:
    error = raises_diff_error({"a": [1, 2]}, {"a": {"1": None, "-1": None}})
    assert error.message == "array indices '1' and '-1' both refer to index 1"
    assert error.path == ("a", "-1")


def test_apply_diff_refuses_keeping_an_index_past_the_end() -> None:
    error = raises_diff_error({"a": [1]}, {"a": {"+0": None}})
    assert (error.message, error.path) == (
        "a null diff keeps the current value, but there is no value",
        ("a", 1),
    )


def test_apply_diff_refuses_invalid_row_index_of_a_timeseries() -> None:
    error = raises_diff_error({"t": timeseries([ROW_1])}, {"t": {"+0": {"_after": ROW_2}, "x": 1}})
    assert error.path == ("t", "data", "x")


def test_diff_error_pointer_escapes_slash_and_tilde() -> None:
    assert DiffError("m", ("a/b", "c~d", 0)).pointer == "/a~1b/c~0d/0"
    assert DiffError("m").pointer == "/"


# --- invert_diff ------------------------------------------------------------------------------


def test_invert_diff_swaps_before_and_after() -> None:
    assert invert_diff({"a": {"_before": 1, "_after": 2}, "b": {"_after": 3}, "c": None}) == {
        "a": {"_before": 2, "_after": 1},
        "b": {"_before": 3},
        "c": None,
    }


def test_invert_diff_of_spec_example_restores_before() -> None:
    before = json.loads(SPEC_BEFORE)
    diff = json.loads(SPEC_DIFF)
    assert apply_diff(apply_diff(before, diff), invert_diff(diff)) == before


def test_invert_diff_pairs_removed_and_appended_tail_items() -> None:
    diff = [None, {"_before": "b"}, {"_before": "c"}, {"_after": "x"}]
    assert invert_diff(diff) == [None, {"_before": "x", "_after": "b"}, {"_after": "c"}]
    assert apply_diff(apply_diff(["a", "b", "c"], diff), invert_diff(diff)) == ["a", "b", "c"]


def test_invert_diff_refuses_removal_before_the_end() -> None:
    with pytest.raises(DiffError) as caught:
        invert_diff({"a": [{"_before": 1}, None]})
    assert caught.value.message == "cannot invert removing an item before the end of the array"
    assert caught.value.path == ("a", 0)


def test_invert_diff_refuses_changes_after_appended_items() -> None:
    with pytest.raises(DiffError) as caught:
        invert_diff([{"_after": 1}, None])
    assert (
        caught.value.message == "an item after an appended item must be appended too (only _after)"
    )
    assert caught.value.path == (1,)


@pytest.mark.parametrize(
    ("diff", "inverse", "before"),
    [
        (
            {"+0": {"_after": "d"}, "+1": {"_after": "e"}, "-1": {"_before": "c", "_after": "C"}},
            {"-2": {"_before": "d"}, "-1": {"_before": "e"}, "-3": {"_before": "C", "_after": "c"}},
            ["a", "b", "c"],
        ),
        (
            {"-1": {"_before": "c"}, "-2": {"_before": "b"}, "-3": {"_before": "a", "_after": "A"}},
            {"+1": {"_after": "c"}, "+0": {"_after": "b"}, "-1": {"_before": "A", "_after": "a"}},
            ["a", "b", "c"],
        ),
        (
            {"1": {"_before": "b"}, "0": {"_before": "a", "_after": "A"}},
            {"1": {"_after": "b"}, "0": {"_before": "A", "_after": "a"}},
            ["a", "b"],
        ),
    ],
)
def test_invert_diff_shifts_relative_indices(
    diff: dict[str, Any], inverse: dict[str, Any], before: list[str]
) -> None:
    assert invert_diff(diff) == inverse
    assert apply_diff(apply_diff(before, diff), inverse) == before


@pytest.mark.parametrize(
    ("diff", "message", "path"),
    [
        (
            {"-1": {"_before": 1}, "+0": {"_after": 2}},
            "cannot invert an index diff that both appends and removes items",
            (),
        ),
        (
            {"+0": {"_before": 1, "_after": 2}},
            "array index '+0' is after the end of the array, so its diff may only give _after",
            ("+0",),
        ),
        (
            {"-1": {"_after": 2}},
            "array index '-1' is inside the array, so its diff must give _before",
            ("-1",),
        ),
        (
            {"-3": {"_before": 1}, "-1": {"_before": 3}},
            "cannot invert array index '-3': the removed items must form the end of the array "
            "and the appended items must follow it without gaps",
            ("-3",),
        ),
        (
            {"+1": {"_after": 1}},
            "cannot invert array index '+1': the removed items must form the end of the array "
            "and the appended items must follow it without gaps",
            ("+1",),
        ),
        ({"a": 5}, "a diff must be null, an array or an object, not a number", ("a",)),
        (
            {"a": [None, {"_before": 1, "x": 2}]},
            "a value diff may only hold _before and _after, not x",
            ("a", 1),
        ),
    ],
)
def test_invert_diff_refuses(diff: Any, message: str, path: tuple[str | int, ...]) -> None:
    with pytest.raises(DiffError) as caught:
        invert_diff(diff)
    assert (caught.value.message, caught.value.path) == (message, path)


# --- resolve_new_data ---------------------------------------------------------------------------


CURRENT = {"name": "S1", "masses": [quantity(1)]}
DIFF = {"masses": [None, {"_after": quantity(2)}]}
NEW = {"name": "S1", "masses": [quantity(1), quantity(2)]}


def test_resolve_new_data_needs_data_or_diff() -> None:
    with pytest.raises(DiffError) as caught:
        resolve_new_data(CURRENT)
    assert (caught.value.message, caught.value.path) == ("data or data_diff must be set", ())


def test_resolve_new_data_takes_data_or_applies_diff() -> None:
    assert resolve_new_data(CURRENT, data=NEW) == NEW
    assert resolve_new_data(CURRENT, data_diff=DIFF) == NEW


def test_resolve_new_data_accepts_agreeing_data_and_diff() -> None:
    assert resolve_new_data(CURRENT, data=NEW, data_diff=DIFF) == NEW


def test_resolve_new_data_refuses_conflicting_data_and_diff() -> None:
    conflicting = {"name": "S1", "masses": [quantity(1), quantity(3)]}
    with pytest.raises(DiffError) as caught:
        resolve_new_data(CURRENT, data=conflicting, data_diff=DIFF)
    assert caught.value.message == "data and data_diff are conflicting"
    assert caught.value.path == ("masses", 1, "magnitude")


def test_resolve_new_data_reports_refused_diff() -> None:
    with pytest.raises(DiffError) as caught:
        resolve_new_data(CURRENT, data=NEW, data_diff={"name": {"_before": "S2", "_after": "S3"}})
    assert (caught.value.message, caught.value.path) == (
        "_before does not match the current value",
        ("name",),
    )


# --- json_equal ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        (None, None, True),
        ("1", 1, False),
        ([1, [2]], [1, [2]], True),
        ([1], [1, 1], False),
        ({"a": 1}, {"a": 1, "b": None}, False),
        ({"a": [True]}, {"a": [1]}, False),
        ([], {}, False),
    ],
)
def test_json_equal(left: Any, right: Any, equal: bool) -> None:
    assert json_equal(left, right) is equal


# --- randomised round trips -------------------------------------------------------------------


KEYS = ["name", "mass", "items", "flag", "note", "t"]


def random_scalar(rng: random.Random) -> Any:
    kind = rng.choice(["int", "float", "str", "bool", "null"])
    if kind == "int":
        return rng.randint(-3, 3)
    if kind == "float":
        return round(rng.uniform(-2, 2), 3)
    if kind == "str":
        return rng.choice(["Pb", "Sr", "Nd", ""])
    return rng.choice([True, False]) if kind == "bool" else None


def random_typed(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["quantity", "bool", "text", "timeseries"])
    if kind == "quantity":
        return quantity(rng.randint(1, 4))
    if kind == "bool":
        return {"_type": "bool", "value": rng.choice([True, False])}
    if kind == "text":
        return {"_type": "text", "text": {"en": rng.choice(["a", "b"])}}
    return timeseries([rng.choice([ROW_1, ROW_2, ROW_3]) for _ in range(rng.randint(0, 3))])


def random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.choice(["scalar", "typed", "object", "array"] if depth < 3 else ["scalar", "typed"])
    if kind == "scalar":
        return random_scalar(rng)
    if kind == "typed":
        return random_typed(rng)
    if kind == "object":
        return random_object(rng, depth + 1)
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def random_object(rng: random.Random, depth: int) -> dict[str, Any]:
    return {key: random_value(rng, depth) for key in rng.sample(KEYS, rng.randint(0, 4))}


def mutate(rng: random.Random, value: Any, depth: int) -> Any:
    if rng.random() < 0.15:
        return random_value(rng, depth)
    if isinstance(value, list):
        items = [mutate(rng, item, depth + 1) if rng.random() < 0.4 else item for item in value]
        kept = rng.randint(0, len(items)) if rng.random() < 0.3 else len(items)
        appended = [random_value(rng, depth + 1) for _ in range(rng.choice([0, 0, 1, 2]))]
        return items[:kept] + appended
    if isinstance(value, dict) and "_type" not in value:
        result = {
            key: mutate(rng, item, depth + 1) if rng.random() < 0.5 else item
            for key, item in value.items()
            if rng.random() > 0.15
        }
        for key in rng.sample(KEYS, rng.randint(0, 2)):
            result.setdefault(key, random_value(rng, depth + 1))
        return result
    return value


def random_pairs(count: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rng = random.Random(20240611)
    pairs = []
    for _ in range(count):
        before = random_object(rng, 0)
        pairs.append((before, mutate(rng, copy.deepcopy(before), 0)))
    return pairs


def test_random_pairs_exercise_every_diff_form() -> None:
    diffs = [calculate_diff(before, after) for before, after in random_pairs(300)]
    text = json.dumps(diffs)
    assert sum(diff is None for diff in diffs) > 10
    assert all(form in text for form in ['"_before"', '"_after"', "[null", "timeseries"])


def test_apply_of_calculated_diff_gives_after_and_inverse_undoes_it() -> None:
    for case, (before, after) in enumerate(random_pairs(300)):
        before_copy, after_copy = copy.deepcopy(before), copy.deepcopy(after)
        diff = json.loads(json.dumps(calculate_diff(before, after)))
        result = apply_diff(before, diff)
        assert json_equal(result, after), case
        assert json_equal(apply_diff(result, invert_diff(diff)), before), case
        assert (before, after) == (before_copy, after_copy), case
