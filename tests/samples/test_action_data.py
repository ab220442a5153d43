"""The object data of an isotope sample, written as JSON text in one place."""

from __future__ import annotations

import json
import math

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from isofind.objects.schema_language import InMemoryReferences, validate_data
from isofind.samples.action import (
    ISOTOPE_FIELDS,
    isotope_sample_schema,
    isotope_values,
    object_data,
    object_data_json,
    plain,
)


def quantity(magnitude: float, units: str = "1",
             dimensionality: str = "dimensionless") -> dict[str, object]:
    return {"_type": "quantity", "magnitude": magnitude, "magnitude_in_base_units": magnitude,
            "units": units, "dimensionality": dimensionality}


def text(value: str) -> dict[str, object]:
    return {"_type": "text", "text": value}


FIELDS = {"name": 'Galène "B" \\ 1', "material_type": "galena", "latitude": 45.5,
          "altitude": 1200, "description": "x" * 300, "project": None}
VALUES = [{"isotope_id": 1, "element": "Pb", "ratio": "206Pb/204Pb", "value": 18.0213,
           "uncertainty": 0.0009, "standard": "NIST SRM 981", "method": None},
          {"ratio": "δ65Cu", "isotope_id": 2, "element": "Cu", "value": -0.12}]


def test_the_document_is_the_schema_language_form_with_keys_in_jsonb_order() -> None:
    document = object_data_json(FIELDS, VALUES, archived=True, next_isotope_id=3)
    assert json.loads(document) == {
        "name": text('Galène "B" \\ 1'),
        "material_type": text("galena"),
        "description": text("x" * 300),
        "latitude": quantity(45.5),
        "altitude": quantity(1200.0, "m", "[length]"),
        "archived": {"_type": "bool", "value": True},
        "isotope_data": [
            {"isotope_id": quantity(1.0), "value": quantity(18.0213),
             "uncertainty": quantity(0.0009), "element": text("Pb"),
             "ratio": text("206Pb/204Pb"), "standard": text("NIST SRM 981")},
            {"isotope_id": quantity(2.0), "value": quantity(-0.12), "element": text("Cu"),
             "ratio": text("δ65Cu")},
        ],
        "next_isotope_id": quantity(3.0),
    }
    assert document.isascii() and '"Gal\\u00e8ne \\"B\\" \\\\ 1"' in document
    # Keys come in the order PostgreSQL's jsonb keeps them (shorter first, then bytewise),
    # whatever order the values came in, so the server need not sort them.
    parsed = json.loads(document)
    assert list(parsed) == ["name", "altitude", "archived", "latitude", "description",
                            "isotope_data", "material_type", "next_isotope_id"]
    assert list(parsed["isotope_data"][1]) == ["ratio", "value", "element", "isotope_id"]
    assert list(parsed["name"]) == ["text", "_type"]
    assert list(parsed["latitude"]) == ["_type", "units", "magnitude", "dimensionality",
                                        "magnitude_in_base_units"]
    assert object_data(FIELDS, VALUES, archived=True, next_isotope_id=3) == json.loads(document)
    validate_data(json.loads(document), isotope_sample_schema(), InMemoryReferences())


def test_postgresql_keeps_the_document_as_written(app: FastAPI, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("jsonb's key order is PostgreSQL's")
    document = object_data_json(FIELDS, VALUES, archived=False, next_isotope_id=3)
    with app.state.database.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT CAST(:document AS jsonb)::text"),
                                    {"document": document}).scalar_one()
    assert stored == json.dumps(json.loads(document), ensure_ascii=False)


def test_numbers_round_trip_exactly_and_non_finite_ones_stay_readable() -> None:
    values = [{"isotope_id": 1, "element": "Pb", "ratio": "208Pb/206Pb",
               "value": 2.0838123456789012, "uncertainty": float("nan")}]
    data = object_data({"name": "n"}, values, archived=False, next_isotope_id=2)
    item = data["isotope_data"][0]
    assert item["value"]["magnitude"] == 2.0838123456789012
    assert math.isnan(item["uncertainty"]["magnitude"])


def test_plain_values_of_every_stored_form() -> None:
    assert plain(text("galena")) == "galena"
    assert plain({"_type": "text", "text": {"de": "Bleiglanz", "en": "galena"}}) == "galena"
    assert plain({"_type": "text", "text": {"fr": "galène"}}) == "galène"
    assert plain(quantity(18.0213)) == 18.0213
    # A magnitude given only in base units (SampleDB accepts either) is still read.
    assert plain({"_type": "quantity", "magnitude_in_base_units": 1200,
                  "units": "m", "dimensionality": "[length]"}) == 1200.0
    assert plain({"_type": "quantity", "magnitude": None, "units": "1"}) is None
    assert plain({"_type": "bool", "value": True}) is True
    assert plain({"_type": "user", "user_id": 1}) is None
    assert plain(None) is None


def test_isotope_values_read_back_in_schema_order_with_absent_fields_none() -> None:
    document = object_data(FIELDS, VALUES, archived=False, next_isotope_id=3)
    document["isotope_data"][0]["unknown_property"] = text("ignored")
    values = isotope_values(document)
    assert [list(value) for value in values] == [list(ISOTOPE_FIELDS)] * 2
    assert values[0] == {**dict.fromkeys(ISOTOPE_FIELDS), "isotope_id": 1, "element": "Pb",
                         "ratio": "206Pb/204Pb", "value": 18.0213, "uncertainty": 0.0009,
                         "standard": "NIST SRM 981"}
    assert type(values[0]["isotope_id"]) is int
    assert values[1]["ratio"] == "δ65Cu" and values[1]["value"] == -0.12
