"""The rules of isotope samples, held for every version of a sample, whichever API writes it.

The IsoFind routes check their bodies (:mod:`isofind.samples.schemas`, then
:mod:`isofind.samples.rules`) before they build the object data; ``/api/v1/objects`` writes
object data directly, which the schema language alone would accept with a latitude of 123 or
a ratio of -1, and the index and matching would then use it. This check, registered with the
object store, reads the data back to the plain form the routes take and runs those same rules
on it before the version is stored, so both APIs refuse the same values.

Spellings the rules normalise (``plomb``, ``Pb206/Pb204``, ``Sédiments``, ``fille``) are
accepted as written: SampleDB clients expect their data stored as they sent it, and the
curation passes (:mod:`isofind.samples.curation`) bring such samples to canonical form.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from itertools import chain
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from isofind.objects.schema_language import DataValidationError, JsonPath
from isofind.objects.service import on_version_validating
from isofind.reference.elements.service import custom_symbols
from isofind.samples.action import (
    ISOTOPE_SAMPLE_ACTION_ID,
    isotope_values,
    next_isotope_id,
    plain,
    sample_fields,
)
from isofind.samples.rules import Problems, clean_fields, clean_isotope_value
from isofind.samples.schemas import IsotopeValueIn, SampleIn

Problem = tuple[JsonPath, str, object]  # where in the data, what is wrong, the value

# Stored fields a route body carries under the same name. The declared uncertainty and its
# type are checked below; the normalization fields are results IsoFind computes itself.
_BODY_FIELDS = tuple(name for name in IsotopeValueIn.model_fields if name != "uncertainty_type")
# Classification stays free text here, as the SampleDB API has always stored it: clients rely
# on it, and normalize-all-data leaves a word it does not know as it is.
_UNCHECKED_FIELDS = frozenset({"classification"})


def _model_problems(model: type[BaseModel], body: dict[str, Any],
                    prefix: JsonPath) -> Iterator[Problem]:
    try:
        model.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0])
            # The body's declared type is stored, normalised, beside the 2σ uncertainty.
            stored = "uncertainty_type_declared" if field == "uncertainty_type" else field
            if error["type"] == "value_error":
                message = str(error["ctx"]["error"])
            else:
                message = error["msg"][:1].lower() + error["msg"][1:]
            yield [*prefix, stored], message, error["input"]


def _rule_problems(problems: Problems) -> Iterator[Problem]:
    for item in problems.items:
        path = item["loc"][1:]  # Problems locates in a request body: ["body", ...]
        yield path, item["msg"], item["input"]


def _field_problems(data: dict[str, Any], previous: dict[str, Any] | None) -> Iterator[Problem]:
    fields = {name: value for name, value in sample_fields(data).items()
              if value is not None and name not in _UNCHECKED_FIELDS}
    problems = Problems()
    clean_fields(fields, problems)
    for path, message, value in (*_model_problems(SampleIn, fields, []),
                                 *_rule_problems(problems)):
        # Each rule reads one field: a field the version leaves as it was keeps its problem.
        if previous is None or previous.get(path[0]) != data.get(path[0]):
            yield path, message, value


def _value_problems(item: dict[str, Any], index: int, custom: Collection[str]) -> list[Problem]:
    [value] = isotope_values({"isotope_data": [item]})
    prefix: JsonPath = ["isotope_data", index]
    body = {name: value[name] for name in _BODY_FIELDS if value[name] is not None}
    if value["uncertainty_type_declared"] is not None:
        body["uncertainty_type"] = value["uncertainty_type_declared"]
    found = list(_model_problems(IsotopeValueIn, body, prefix))
    declared = value["uncertainty_declared"]
    if declared is not None:
        # The uncertainty as declared is what a route body carries: held to the same bounds.
        found += [([*prefix, "uncertainty_declared"], message, wrong)
                  for path, message, wrong in _model_problems(
                      IsotopeValueIn, {**body, "uncertainty": declared}, prefix)
                  if path[-1] == "uncertainty"]
    if isinstance(body.get("element"), str) and isinstance(body.get("ratio"), str):
        problems = Problems()
        clean_isotope_value(body, custom, tuple(prefix), problems)
        found += _rule_problems(problems)
    return found


def _isotope_problems(db: Session, data: dict[str, Any],
                      previous: dict[str, Any] | None) -> Iterator[Problem]:
    # Isotope values are known by their id: deleting one shifts the index of the next ones.
    before = {plain(item.get("isotope_id")): item
              for item in (previous or {}).get("isotope_data") or [] if isinstance(item, dict)}
    custom: frozenset[str] | None = None
    for index, item in enumerate(data.get("isotope_data") or []):
        old = before.get(plain(item.get("isotope_id")))
        if old == item:
            continue  # unchanged: only what a version brings in is checked (an import merge)
        if custom is None:
            custom = custom_symbols(db)
        found = _value_problems(item, index, custom)
        if found and old is not None:
            # What the value had already is let through: a curation pass that respells the
            # element of a ratio stored as -1 before these rules must not fail.
            had = {(tuple(path[2:]), _described(message, wrong))
                   for path, message, wrong in _value_problems(old, index, custom)}
            found = [(path, message, wrong) for path, message, wrong in found
                     if (tuple(path[2:]), _described(message, wrong)) not in had]
        yield from found


def _whole_id(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() and value >= 1 else None


def _id_problems(data: dict[str, Any], previous: dict[str, Any] | None) -> list[Problem]:
    """Each value's ``isotope_id`` is a whole number of at least 1, held by one value of the
    sample, and never one the sample handed out before (a deleted value's id stays retired);
    ``next_isotope_id`` stays above every id handed out."""
    handed_out = next_isotope_id(previous) if previous is not None else 1
    held_before = {item["isotope_id"] for item in isotope_values(previous or {})}
    found: list[Problem] = []
    seen: set[int] = set()
    for index, item in enumerate(data.get("isotope_data") or []):
        if not isinstance(item, dict):
            continue
        given = plain(item.get("isotope_id"))
        path: JsonPath = ["isotope_data", index, "isotope_id"]
        isotope_id = _whole_id(given)
        if isotope_id is None:
            found.append((path, "isotope_id must be a whole number of at least 1", given))
        elif isotope_id in seen:
            found.append((path, "isotope_id is held by another value of the sample", given))
        elif isotope_id not in held_before and isotope_id < handed_out:
            found.append((path, "isotope_id was handed out before and is never reused: a new "
                                f"value takes {handed_out} or more", given))
        if isotope_id is not None:
            seen.add(isotope_id)
    counter = plain(data.get("next_isotope_id"))
    least = max([handed_out, *(isotope_id + 1 for isotope_id in seen)])
    if isinstance(counter, (int, float)) and counter < least:
        found.append((["next_isotope_id"], f"next_isotope_id must be at least {least}, above "
                                           "every isotope_id handed out", counter))
    if found and previous is not None:
        # What the previous version had already is let through, as for the other rules.
        had = {_described(message, wrong) for _, message, wrong in _id_problems(previous, None)}
        found = [problem for problem in found if _described(*problem[1:]) not in had]
    return found


_VALUE_KEYS = {"quantity": "magnitude", "text": "text"}


def _value_path(path: JsonPath, data: dict[str, Any]) -> JsonPath:
    """The path of the offending value itself (a quantity's magnitude, a text's text), where
    the schema language's own errors point."""
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else node[part]
    key = _VALUE_KEYS.get(node.get("_type")) if isinstance(node, dict) else None
    return path if key is None else [*path, key]


def _described(message: str, value: object) -> str:
    shown = repr(value)
    return message if shown in message else f"{message}, got {shown}"


@on_version_validating(ISOTOPE_SAMPLE_ACTION_ID)
def check_sample_data(db: Session, data: dict[str, Any],
                      previous: dict[str, Any] | None) -> None:
    """Refuse a version of an isotope sample that the IsoFind routes would refuse, or
    whose isotope value ids they would never produce.

    A problem the previous version had already, at the same place, is let through: samples
    written before these rules held may break them, and refusing all their later versions
    would also refuse the edit that fixes another field, an archive or a curation pass. A
    version may neither bring in a problem nor change a wrong value into another wrong one.
    """
    first = next(chain(_field_problems(data, previous), _id_problems(data, previous),
                       _isotope_problems(db, data, previous)), None)
    if first is not None:  # SampleDB answers one problem, as the schema's own errors do
        path, message, value = first
        raise DataValidationError(_described(message, value), _value_path(path, data))
