"""From request bodies to the plain fields and isotope values a sample stores.

Vocabulary is normalised here (material types and classifications in French or English,
element names, ratio spellings), uncertainties are brought to 2σ keeping what was declared,
and every problem is collected with its location so one 422 names them all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from contextlib import suppress
from typing import Any

from isofind.errors import Unprocessable
from isofind.reference.standards.normalization import InvalidInputError, to_two_sigma
from isofind.samples.action import SAMPLE_FIELDS
from isofind.samples.vocabulary import (
    normalise_classification,
    normalise_doi,
    normalise_element,
    normalise_material,
    parse_isotope_quantity,
    parse_uncertainty_type,
)

Location = tuple[str | int, ...]


class Problems:
    """Problems found in one body, reported together as FastAPI reports validation errors."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: Location, message: str, value: object) -> None:
        self.items.append({"loc": ["body", *loc], "msg": message, "type": "value_error",
                           "input": value})

    def raise_if_any(self) -> None:
        if self.items:
            raise Unprocessable(self.items)


def clean_fields(fields: dict[str, Any], problems: Problems) -> dict[str, Any]:
    """Sample fields with material, classification and DOI normalised."""
    clean = {name: fields.get(name) for name in SAMPLE_FIELDS if name in fields}
    if clean.get("material_type"):
        clean["material_type"] = normalise_material(clean["material_type"])
    if clean.get("classification"):
        classification = normalise_classification(clean["classification"])
        if classification is None:
            problems.add(("classification",), "classification must be source or daughter",
                         clean["classification"])
        clean["classification"] = classification
    if clean.get("doi"):
        doi = normalise_doi(clean["doi"])
        if doi is None:
            problems.add(("doi",), "not a DOI (10.xxxx/...)", clean["doi"])
        clean["doi"] = doi
    return clean


def _resolved_quantity(item: dict[str, Any], custom: Collection[str], loc: Location,
                       problems: Problems) -> tuple[str | None, str | None]:
    element = normalise_element(item["element"], custom)
    if element is None:
        problems.add((*loc, "element"), f"unknown element {item['element']!r} (define it as a "
                     "custom element first)", item["element"])
    quantity = parse_isotope_quantity(item["ratio"], custom)
    if quantity is None:
        problems.add((*loc, "ratio"), f"{item['ratio']!r} is not an isotope ratio "
                     "(206Pb/204Pb) or delta (δ65Cu)", item["ratio"])
        return element, None
    if element is not None and element not in quantity.elements:
        problems.add((*loc, "ratio"), f"{quantity.name} is not a quantity of {element}",
                     item["ratio"])
    value = item.get("value")
    refusal = quantity.refuses(value) if isinstance(value, (int, float)) else None
    if refusal is not None:
        problems.add((*loc, "value"), refusal, value)
    return element, quantity.name


def clean_isotope_value(item: dict[str, Any], custom: Collection[str], loc: Location,
                        problems: Problems) -> dict[str, Any]:
    """A plain isotope value: canonical element and ratio, uncertainty at 2σ."""
    element, ratio = _resolved_quantity(item, custom, loc, problems)
    value = {key: item.get(key) for key in (
        "value", "reference_scale", "standard", "method", "instrument", "session_date", "notes",
        "correlated_ratio", "correlation", "n_cycles")}
    value.update(element=element, ratio=ratio)
    declared = item.get("uncertainty_type")
    uncertainty = item.get("uncertainty")
    if declared:
        label = parse_uncertainty_type(declared)
        value["uncertainty_type_declared"] = label
        value["uncertainty_declared"] = uncertainty
        if uncertainty is not None and label is not None:
            with suppress(InvalidInputError):  # a negative one is reported by the value's model
                uncertainty = to_two_sigma(uncertainty, label)
    value["uncertainty"] = uncertainty
    if value["correlated_ratio"]:
        correlated = parse_isotope_quantity(value["correlated_ratio"], custom)
        if correlated is None:
            problems.add((*loc, "correlated_ratio"), "not an isotope ratio",
                         value["correlated_ratio"])
        else:
            value["correlated_ratio"] = correlated.name
    return value


def clean_isotope_values(items: Iterable[dict[str, Any]], custom: Collection[str],
                         problems: Problems) -> list[dict[str, Any]]:
    return [clean_isotope_value(item, custom, ("isotope_data", index), problems)
            for index, item in enumerate(items)]


def identity(value: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two isotope values the same measurement: stored once."""
    return (value.get("element"), value.get("ratio"), value.get("value"),
            value.get("uncertainty"), value.get("standard"))


def with_ids(values: list[dict[str, Any]], stored: list[dict[str, Any]],
             next_id: int) -> tuple[list[dict[str, Any]], int]:
    """``values`` with isotope ids: a value identical to a stored one keeps its id (and its
    normalization), the others take new ids, never reused."""
    by_identity = {identity(item): item for item in stored}
    numbered = []
    for value in values:
        match = by_identity.pop(identity(value), None)
        if match is not None:
            numbered.append({**match, **{k: v for k, v in value.items() if v is not None},
                             "isotope_id": match["isotope_id"]})
        else:
            numbered.append({**value, "isotope_id": next_id})
            next_id += 1
    return numbered, next_id
