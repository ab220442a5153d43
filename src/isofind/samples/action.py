"""The built-in action "Isotope sample": its schema, and sample fields ⇄ object data.

An IsoFind sample is an object of this action (its ``sample_id`` is the ``object_id``).
The schema is written in SampleDB's schema language, so the SampleDB API shows, versions
and searches isotope samples like any other object (``q=isotope_data.?.value > 18``).
The action is created by migration 0004 and locked: the index and the IsoFind API depend on
its shape.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from isofind.db import decode_json, encode_json

ISOTOPE_SAMPLE_ACTION_ID = -1
ACTION_NAME = "Isotope sample"


def _text(title: str, *, multiline: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": title, "type": "text"}
    if multiline:
        schema["multiline"] = True
    return schema


def _number(title: str, units: str = "1") -> dict[str, Any]:
    return {"title": title, "type": "quantity", "units": units}


# Text fields of a sample, in the order the IsoFind API lists them.
SAMPLE_TEXT_FIELDS = (
    "name", "material_type", "sector", "collection_date", "collection_location", "description",
    "classification", "project", "collector", "notes", "reference", "doi", "workflow_stage",
)
SAMPLE_NUMBER_FIELDS = {"latitude": "1", "longitude": "1", "altitude": "m"}
# Decimal degrees: every way in (routes, CSV, .isof, /api/v1) holds coordinates to these.
LATITUDE_RANGE = (-90, 90)
LONGITUDE_RANGE = (-180, 180)
SAMPLE_FIELDS = (*SAMPLE_TEXT_FIELDS, *SAMPLE_NUMBER_FIELDS)

ISOTOPE_TEXT_FIELDS = (
    "element", "ratio", "reference_scale", "standard", "uncertainty_type_declared", "method",
    "instrument", "session_date", "notes", "correlated_ratio", "normalized_to",
    "normalization_method", "normalization_used", "normalized_at",
)
ISOTOPE_NUMBER_FIELDS = (
    "isotope_id", "value", "uncertainty", "uncertainty_declared", "correlation", "n_cycles",
    "normalized_value", "normalized_uncertainty",
)
ISOTOPE_FIELDS = (*ISOTOPE_NUMBER_FIELDS, *ISOTOPE_TEXT_FIELDS)

_TITLES = {
    "name": "Name", "material_type": "Material type", "sector": "Sector",
    "collection_date": "Collection date", "collection_location": "Collection location",
    "description": "Description", "classification": "Classification (source or daughter)",
    "project": "Project", "collector": "Collector", "notes": "Notes", "reference": "Reference",
    "doi": "DOI", "workflow_stage": "Workflow stage", "latitude": "Latitude (decimal degrees)",
    "longitude": "Longitude (decimal degrees)", "altitude": "Altitude",
    "isotope_id": "Isotope value id", "element": "Element",
    "ratio": "Ratio or delta (canonical)", "reference_scale": "Reference scale of a delta",
    "value": "Value", "uncertainty": "Uncertainty (2σ)", "standard": "Standard",
    "uncertainty_type_declared": "Uncertainty type as declared",
    "uncertainty_declared": "Uncertainty as declared", "method": "Method",
    "instrument": "Instrument", "session_date": "Session date",
    "correlated_ratio": "Error-correlated ratio", "correlation": "Error correlation",
    "n_cycles": "Number of cycles",
    "normalized_value": "Normalized value", "normalized_uncertainty": "Normalized uncertainty (2σ)",
    "normalized_to": "Normalized to standard", "normalized_at": "Normalized at",
    "normalization_method": "Normalization method",
    "normalization_used": "Standard values and shifts used (JSON)",
}


def _isotope_item_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name in ISOTOPE_FIELDS:
        if name in ISOTOPE_NUMBER_FIELDS:
            properties[name] = _number(_TITLES[name])
        else:
            properties[name] = _text(_TITLES[name], multiline=name == "notes")
    return {
        "title": "Isotope value",
        "type": "object",
        "properties": properties,
        "required": ["isotope_id", "element", "ratio", "value"],
        "propertyOrder": list(ISOTOPE_FIELDS),
    }


def isotope_sample_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name in SAMPLE_TEXT_FIELDS:
        properties[name] = _text(_TITLES[name], multiline=name in ("description", "notes"))
    for name, units in SAMPLE_NUMBER_FIELDS.items():
        properties[name] = _number(_TITLES[name], units)
    properties["archived"] = {"title": "Archived", "type": "bool"}
    properties["isotope_data"] = {
        "title": "Isotope data", "type": "array", "items": _isotope_item_schema(),
    }
    # The next isotope_id to hand out: ids are never reused, even after a value is deleted.
    properties["next_isotope_id"] = _number("Next isotope value id")
    order = [*SAMPLE_FIELDS, "archived", "isotope_data", "next_isotope_id"]
    return {
        "title": ACTION_NAME,
        "type": "object",
        "properties": properties,
        "required": ["name", "isotope_data", "next_isotope_id"],
        "propertyOrder": order,
    }


# --- plain values ⇄ schema-language values ---------------------------------------------------


# The object data of a sample is written as JSON text directly: an import builds 100,000
# documents, and making dictionaries only to encode them cost as much as the encoding
# (issue 4). ``object_data`` reads that text back, so the format has one writer.
#
# Keys are written in the order PostgreSQL's jsonb keeps them (shorter first, then bytewise):
# jsonb sorts every object it reads, and sorting the keys of 100,000 documents took a tenth of
# the server's time of an import; input already in order is checked, not sorted. Text is
# escaped to ASCII: one "2σ" made a whole document twice as large in memory, and joining and
# encoding the documents of an import for COPY took 12 % longer.


def _jsonb_key_order(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(names, key=lambda name: (len(name.encode()), name.encode())))


_DIMENSIONS = {"1": "dimensionless", "m": "[length]"}
_ISOTOPE_NUMBERS = frozenset(ISOTOPE_NUMBER_FIELDS)
_REPEATED_TEXT_LENGTH = 80  # longer texts (descriptions, notes) are rarely repeated


def _number_json(number: float) -> str:
    # repr() is JSON for finite floats; NaN and infinities are written as encode_json does.
    return repr(number) if math.isfinite(number) else encode_json(number)


def _text_json(text: str) -> str:
    if len(text) <= _REPEATED_TEXT_LENGTH:
        return _short_text_json(text)
    return _text_object_json(text)


def _text_object_json(text: str) -> str:
    return '{"text":' + json.dumps(text) + ',"_type":"text"}'


# Element names, ratios, standards and materials repeat across a whole import.
_short_text_json = lru_cache(maxsize=4096)(_text_object_json)


def _quantity_json(magnitude: float, units: str = "1") -> str:
    """A complete quantity; only the dimensionless and metre units are used here."""
    dimensionality = _DIMENSIONS.get(units)
    if dimensionality is None:
        raise ValueError(f"unsupported units {units!r}")
    number = _number_json(magnitude)
    return (f'{{"_type":"quantity","units":"{units}","magnitude":{number},'
            f'"dimensionality":"{dimensionality}","magnitude_in_base_units":{number}}}')


_ISOTOPE_KEY_ORDER = _jsonb_key_order(ISOTOPE_FIELDS)
_SAMPLE_KEY_ORDER = _jsonb_key_order((*SAMPLE_FIELDS, "archived", "isotope_data",
                                     "next_isotope_id"))


@lru_cache(maxsize=256)
def _present_in_order(names: frozenset[str]) -> tuple[tuple[str, str, bool], ...]:
    """The given fields in key order: (name, its JSON key, whether it is a number)."""
    return tuple((name, encode_json(name), name in _ISOTOPE_NUMBERS)
                 for name in _ISOTOPE_KEY_ORDER if name in names)


def _isotope_item_json(values: dict[str, Any]) -> str:
    parts = []
    for name, key, is_number in _present_in_order(frozenset(values)):
        value = values[name]
        if value is None:
            continue
        if is_number:  # _quantity_json written out: the hottest line of an import
            number = _number_json(float(value))
            parts.append(f'{key}:{{"_type":"quantity","units":"1","magnitude":{number},'
                         f'"dimensionality":"dimensionless","magnitude_in_base_units":{number}}}')
        else:
            parts.append(f"{key}:{_text_json(str(value))}")
    return "{" + ",".join(parts) + "}"


def object_data_json(fields: dict[str, Any], isotopes: list[dict[str, Any]], *,
                     archived: bool, next_isotope_id: int) -> str:
    """Object data of a sample from plain fields and plain isotope values (``None`` fields
    are left out), as JSON text."""
    parts = []
    for name in _SAMPLE_KEY_ORDER:
        if name == "archived":
            parts.append('"archived":{"_type":"bool","value":'
                         + ("true" if archived else "false") + "}")
        elif name == "isotope_data":
            parts.append('"isotope_data":[' + ",".join(map(_isotope_item_json, isotopes)) + "]")
        elif name == "next_isotope_id":
            parts.append('"next_isotope_id":' + _quantity_json(float(next_isotope_id)))
        elif (value := fields.get(name)) is not None:
            units = SAMPLE_NUMBER_FIELDS.get(name)
            parts.append(f'"{name}":' + (_text_json(str(value)) if units is None
                                         else _quantity_json(float(value), units)))
    return "{" + ",".join(parts) + "}"


def object_data(fields: dict[str, Any], isotopes: list[dict[str, Any]], *, archived: bool,
                next_isotope_id: int) -> dict[str, Any]:
    """:func:`object_data_json` as a document."""
    data: dict[str, Any] = decode_json(object_data_json(
        fields, isotopes, archived=archived, next_isotope_id=next_isotope_id))
    return data


def plain(value: Any) -> Any:
    """The plain Python value of a schema-language value (text in English if translated).

    A quantity reads in base units, which are the units of every quantity of the sample
    schema (``1`` and ``m``): an altitude sent through /api/v1 as 2 km reads as 2000.
    """
    if type(value) is dict:  # the two common forms first: a list view converts thousands
        kind = value.get("_type")
        if kind == "quantity":
            magnitude = value.get("magnitude_in_base_units")
            if magnitude is not None:
                return float(magnitude)
        elif kind == "text":
            text = value.get("text")
            if type(text) is str:
                return text
    return _plain_in_full(value)


def _plain_in_full(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    kind = value.get("_type")
    if kind == "text":
        text = value.get("text")
        if isinstance(text, dict):
            return text.get("en", next(iter(text.values()), None))
        return text
    if kind == "quantity":
        magnitude = value.get("magnitude_in_base_units", value.get("magnitude"))
        return None if magnitude is None else float(magnitude)
    if kind == "bool":
        return bool(value.get("value"))
    return None


def sample_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Plain sample fields of object data (every field present, absent ones None)."""
    return {name: plain(data.get(name)) for name in SAMPLE_FIELDS}


_ISOTOPE_FIELD_NAMES = frozenset(ISOTOPE_FIELDS)


def isotope_values(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Plain isotope values of object data, every field present in schema order (absent ones
    None); ``isotope_id`` as an int."""
    items = data.get("isotope_data")
    if not isinstance(items, list):
        return []
    values = []
    for item in items:
        if not isinstance(item, dict):
            continue
        # Only the fields an item holds need converting: a list of 100 samples has 15,000
        # fields, two thirds of them absent (issue 4).
        plain_item = dict.fromkeys(ISOTOPE_FIELDS)
        for name, value in item.items():
            if name in _ISOTOPE_FIELD_NAMES:
                plain_item[name] = plain(value)
        if plain_item["isotope_id"] is not None:
            plain_item["isotope_id"] = int(plain_item["isotope_id"])
        values.append(plain_item)
    return values


def is_archived(data: dict[str, Any]) -> bool:
    return bool(plain(data.get("archived")))


def next_isotope_id(data: dict[str, Any]) -> int:
    stored = plain(data.get("next_isotope_id"))
    used = [item["isotope_id"] for item in isotope_values(data) if item["isotope_id"] is not None]
    return max([int(stored or 1), *(i + 1 for i in used)])
