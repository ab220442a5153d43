"""Isotope samples written through the SampleDB API are held to the rules of the IsoFind routes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.objects.models import ObjectRecord, ObjectVersion
from isofind.samples.action import object_data
from isofind.samples.models import IsotopeValue, SampleIndex
from tests.conftest import ADMIN

FIELDS: dict[str, Any] = {"name": "Galène Pontgibaud 3", "material_type": "galena",
                          "classification": "source", "latitude": 45.83, "longitude": 2.85,
                          "collection_date": "2021-06-02", "doi": "10.5880/fidgeo.2025.080"}
VALUES: list[dict[str, Any]] = [
    {"isotope_id": 1, "element": "Pb", "ratio": "206Pb/204Pb", "value": 18.412,
     "uncertainty": 0.0022, "uncertainty_type_declared": "1SD", "uncertainty_declared": 0.0011,
     "standard": "NIST SRM 981"},
    {"isotope_id": 2, "element": "Cu", "ratio": "δ65Cu", "value": -0.12, "uncertainty": 0.05},
]


def sample_data(fields: dict[str, Any] | None = None,
                values: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return object_data({**FIELDS, **(fields or {})}, VALUES if values is None else values,
                       archived=False, next_isotope_id=3)


def quantity(magnitude: float) -> dict[str, Any]:
    return {"_type": "quantity", "magnitude": magnitude, "magnitude_in_base_units": magnitude,
            "units": "1", "dimensionality": "dimensionless"}


def with_value(**changes: Any) -> list[dict[str, Any]]:
    return [{**VALUES[0], **changes}, VALUES[1]]


def create(client: TestClient, data: dict[str, Any]) -> Any:
    return client.post("/api/v1/objects/", auth=ADMIN, json={"action_id": -1, "data": data})


def created_id(client: TestClient, data: dict[str, Any]) -> int:
    response = create(client, data)
    assert response.status_code == 201, response.text
    return int(response.headers["location"].split("/")[4])


def counts(app: FastAPI) -> dict[str, int]:
    with app.state.database.session(write=False) as db:
        return {table.__tablename__: db.scalar(sa.select(sa.func.count()).select_from(table))
                or 0 for table in (ObjectRecord, ObjectVersion, SampleIndex, IsotopeValue)}


def index_of(app: FastAPI, sample_id: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    with app.state.database.session(write=False) as db:
        sample = db.execute(sa.select(SampleIndex.name, SampleIndex.latitude,
                                      SampleIndex.longitude)
                            .where(SampleIndex.sample_id == sample_id)).one()
        values = db.execute(sa.select(IsotopeValue.isotope_id, IsotopeValue.element,
                                      IsotopeValue.quantity, IsotopeValue.value,
                                      IsotopeValue.uncertainty)
                            .where(IsotopeValue.sample_id == sample_id)
                            .order_by(IsotopeValue.isotope_id)).all()
    return tuple(sample), [tuple(row) for row in values]


def test_a_valid_sample_written_through_v1_is_stored_as_sent_and_indexed(
        client: TestClient, app: FastAPI) -> None:
    data = sample_data()
    sid = created_id(client, data)

    assert client.get(f"/api/v1/objects/{sid}/versions/0", auth=ADMIN).json()["data"] == data
    assert index_of(app, sid) == (
        ("Galène Pontgibaud 3", 45.83, 2.85),
        [(1, "Pb", "206Pb/204Pb", 18.412, 0.0022), (2, "Cu", "δ65Cu", -0.12, 0.05)])

    moved = client.post(f"/api/v1/objects/{sid}/versions/", auth=ADMIN, json={
        "data_diff": {"latitude": {"_before": quantity(45.83), "_after": quantity(-90)}}})
    assert moved.status_code == 201, moved.text
    assert index_of(app, sid)[0] == ("Galène Pontgibaud 3", -90.0, 2.85)


REFUSED = [
    pytest.param(sample_data({"latitude": 123}),
                 "input should be less than or equal to 90, got 123.0 (at /latitude/magnitude)",
                 id="latitude 123"),
    pytest.param(sample_data({"longitude": -500}),
                 "input should be greater than or equal to -180, got -500.0 "
                 "(at /longitude/magnitude)", id="longitude -500"),
    pytest.param(sample_data(values=with_value(uncertainty=-0.0022)),
                 "input should be greater than or equal to 0, got -0.0022 "
                 "(at /isotope_data/0/uncertainty/magnitude)", id="negative uncertainty"),
    pytest.param(sample_data(values=with_value(uncertainty_declared=-0.0011)),
                 "input should be greater than or equal to 0, got -0.0011 "
                 "(at /isotope_data/0/uncertainty_declared/magnitude)",
                 id="negative declared uncertainty"),
    pytest.param(sample_data(values=with_value(value=0)),
                 "an isotope ratio must be positive, got 0.0 "
                 "(at /isotope_data/0/value/magnitude)", id="ratio 0"),
    pytest.param(sample_data(values=with_value(value=-1)),
                 "an isotope ratio must be positive, got -1.0 "
                 "(at /isotope_data/0/value/magnitude)", id="ratio -1"),
    pytest.param(sample_data(values=with_value(element="Xx")),
                 "unknown element 'Xx' (define it as a custom element first) "
                 "(at /isotope_data/0/element/text)", id="unknown element"),
    pytest.param(sample_data(values=with_value(ratio="206Pb/Pb")),
                 "'206Pb/Pb' is not an isotope ratio (206Pb/204Pb) or delta (δ65Cu) "
                 "(at /isotope_data/0/ratio/text)", id="ratio spelling"),
    pytest.param(sample_data(values=with_value(ratio="206Pb//204Pb")),
                 "'206Pb//204Pb' is not an isotope ratio (206Pb/204Pb) or delta (δ65Cu) "
                 "(at /isotope_data/0/ratio/text)", id="invalid ratio spelling"),
    pytest.param(sample_data(values=with_value(element="Sr")),
                 "206Pb/204Pb is not a quantity of Sr, got '206Pb/204Pb' "
                 "(at /isotope_data/0/ratio/text)", id="ratio of another element"),
    pytest.param(sample_data(values=with_value(uncertainty_type_declared="3 sigma")),
                 "'3 sigma' is not an uncertainty type (1σ, 2σ, 1SD, 2SD, 1SE, 2SE) "
                 "(at /isotope_data/0/uncertainty_type_declared/text)",
                 id="uncertainty type"),
    pytest.param(sample_data({"doi": "see paper"}),
                 "not a DOI (10.xxxx/...), got 'see paper' (at /doi/text)", id="doi"),
    pytest.param(sample_data(values=[VALUES[0], {**VALUES[1], "isotope_id": 1}]),
                 "isotope_id is held by another value of the sample, got 1.0 "
                 "(at /isotope_data/1/isotope_id/magnitude)", id="repeated isotope_id"),
    pytest.param(sample_data(values=with_value(isotope_id=0)),
                 "isotope_id must be a whole number of at least 1, got 0.0 "
                 "(at /isotope_data/0/isotope_id/magnitude)", id="isotope_id 0"),
    pytest.param(sample_data(values=with_value(isotope_id=1.5)),
                 "isotope_id must be a whole number of at least 1, got 1.5 "
                 "(at /isotope_data/0/isotope_id/magnitude)", id="isotope_id 1.5"),
    pytest.param(sample_data(values=with_value(isotope_id=7)),
                 "next_isotope_id must be at least 8, above every isotope_id handed out, "
                 "got 3.0 (at /next_isotope_id/magnitude)", id="next_isotope_id too low"),
    pytest.param({**sample_data(), "altitude": {"_type": "quantity", "magnitude": 10,
                                                "units": "km"}},
                 "input should be less than or equal to 9000, got 10000.0 "
                 "(at /altitude/magnitude)", id="altitude 10 km"),
    pytest.param(sample_data({"name": "two\nlines"}),
                 "name must be a single line, got 'two\\nlines' (at /name/text)", id="name"),
]


@pytest.mark.parametrize(("data", "message"), REFUSED)
def test_v1_writes_refuse_what_the_isofind_routes_refuse(
        client: TestClient, app: FastAPI, data: dict[str, Any], message: str) -> None:
    sid = created_id(client, sample_data())
    before, indexed = counts(app), index_of(app, sid)

    created = create(client, data)
    changed = client.post(f"/api/v1/objects/{sid}/versions/", auth=ADMIN, json={"data": data})

    for response in (created, changed):
        assert response.status_code == 400
        assert response.json() == {"message": f"invalid data: {message}"}
    assert counts(app) == before
    assert index_of(app, sid) == indexed
    current = client.get(f"/api/v1/objects/{sid}", auth=ADMIN).json()
    assert (current["version_id"], current["data"]) == (0, sample_data())


@pytest.mark.parametrize(("diff", "message"), [
    pytest.param({"latitude": {"_before": quantity(45.83), "_after": quantity(123)}},
                 "input should be less than or equal to 90, got 123.0 (at /latitude/magnitude)",
                 id="latitude"),
    pytest.param({"isotope_data": [{"value": {"_before": quantity(18.412),
                                              "_after": quantity(-1)}}, None]},
                 "an isotope ratio must be positive, got -1.0 "
                 "(at /isotope_data/0/value/magnitude)", id="ratio value"),
])
def test_a_data_diff_that_brings_in_a_bad_value_is_refused(
        client: TestClient, app: FastAPI, diff: dict[str, Any], message: str) -> None:
    sid = created_id(client, sample_data())
    before, indexed = counts(app), index_of(app, sid)

    response = client.post(f"/api/v1/objects/{sid}/versions/", auth=ADMIN,
                           json={"version_id": 1, "data_diff": diff})

    assert (response.status_code, response.json()) == (400, {"message": f"invalid data: {message}"})
    assert counts(app) == before
    assert index_of(app, sid) == indexed


def test_spellings_the_routes_normalise_are_stored_as_written(client: TestClient) -> None:
    # The curation passes (normalize-all-data) bring these to canonical form later.
    data = sample_data({"material_type": "Sédiments", "classification": "fille"},
                       with_value(element="plomb", ratio="Pb206/Pb204"))
    sid = created_id(client, data)

    assert client.get(f"/api/v1/objects/{sid}/versions/0", auth=ADMIN).json()["data"] == data


def test_custom_elements_are_known_to_v1_writes(client: TestClient) -> None:
    element = {"symbol": "Xx", "name": "Examplium", "isotopes": [
        {"mass_number": 1, "abundance": 0.5}, {"mass_number": 2, "abundance": 0.5}]}
    assert client.post("/api/elements/custom", json=element).status_code == 201
    values = [{"isotope_id": 1, "element": "Xx", "ratio": "2Xx/1Xx", "value": 1.5}]

    assert create(client, sample_data(values=values)).status_code == 201


def test_a_value_stored_before_the_rules_does_not_block_later_versions(
        client: TestClient, app: FastAPI) -> None:
    sid = created_id(client, sample_data())
    legacy = sample_data({"latitude": 123}, with_value(value=-1, element="plomb"))
    with app.state.database.session(write=True) as db:  # as /api/v1 stored it before the fix
        record = db.get(ObjectRecord, sid)
        assert record is not None
        record.data = copy.deepcopy(legacy)

    renamed = client.post(f"/api/v1/objects/{sid}/versions/", auth=ADMIN, json={
        "data_diff": {"name": {"_before": {"_type": "text", "text": FIELDS["name"]},
                               "_after": {"_type": "text", "text": "Renamed"}}}})
    patched = client.patch(f"/api/samples/{sid}", json={"project": "Massif central"})
    curated = client.post("/api/samples/normalize-all-data")
    worse = client.post(f"/api/v1/objects/{sid}/versions/", auth=ADMIN, json={
        "data_diff": {"latitude": {"_before": quantity(123), "_after": quantity(124)}}})

    assert renamed.status_code == 201, renamed.text
    assert patched.status_code == 200, patched.text
    assert curated.json()["fields_changed"] == {"element": 1}
    current = client.get(f"/api/samples/{sid}").json()
    assert (current["version_id"], current["latitude"]) == (3, 123.0)
    assert [(v["element"], v["value"]) for v in current["isotope_data"]] == [
        ("Pb", -1.0), ("Cu", -0.12)]
    assert (worse.status_code, worse.json()) == (400, {"message": (
        "invalid data: input should be less than or equal to 90, got 124.0 "
        "(at /latitude/magnitude)")})


def test_the_sample_routes_refuse_a_ratio_that_is_not_positive(client: TestClient) -> None:
    body = {"name": "Zero", "isotope_data": [
        {"element": "Pb", "ratio": "206Pb/204Pb", "value": 0},
        {"element": "Cu", "ratio": "δ65Cu", "value": -0.3}]}

    response = client.post("/api/samples", json=body)

    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "loc": ["body", "isotope_data", 0, "value"], "msg": "an isotope ratio must be positive",
        "type": "value_error", "input": 0.0}]
    assert client.get("/api/samples").json() == []


def test_a_retired_isotope_id_is_never_handed_out_again(client: TestClient, app: FastAPI) -> None:
    sid = created_id(client, sample_data())
    assert client.delete(f"/api/samples/{sid}/isotope/2").status_code == 200
    reused = copy.deepcopy(client.get(f"/api/v1/objects/{sid}", auth=ADMIN).json()["data"])
    reused["isotope_data"].append(sample_data()["isotope_data"][1])  # id 2 again
    before = counts(app)

    response = client.post(f"/api/v1/objects/{sid}/versions/", auth=ADMIN,
                           json={"data": reused})

    assert (response.status_code, response.json()) == (400, {"message": (
        "invalid data: isotope_id was handed out before and is never reused: a new value "
        "takes 3 or more, got 2.0 (at /isotope_data/1/isotope_id/magnitude)")})
    assert counts(app) == before
    reused["isotope_data"][1]["isotope_id"] = {"_type": "quantity", "magnitude": 3}
    reused["next_isotope_id"] = {"_type": "quantity", "magnitude": 4}
    added = client.post(f"/api/v1/objects/{sid}/versions/", auth=ADMIN, json={"data": reused})
    assert added.status_code == 201, added.text
    assert [row[0] for row in index_of(app, sid)[1]] == [1, 3]


def test_quantities_sent_in_other_units_read_in_the_schema_s_units(
        client: TestClient, app: FastAPI) -> None:
    altitude = {"_type": "quantity", "magnitude": 1.25, "units": "km"}
    sid = created_id(client, {**sample_data(), "altitude": altitude})

    assert client.get(f"/api/samples/{sid}").json()["altitude"] == 1250.0
    stored = client.get(f"/api/v1/objects/{sid}", auth=ADMIN).json()["data"]["altitude"]
    assert (stored["magnitude"], stored["units"], stored["magnitude_in_base_units"]) == (
        1.25, "km", 1250.0)


def test_a_file_repeating_a_sample_in_other_units_adds_no_version(
        app: FastAPI, client: TestClient) -> None:
    data = sample_data({"altitude": 1250.0})
    data["altitude"] = {"_type": "quantity", "magnitude": 1.25, "magnitude_in_base_units": 1250.0,
                        "units": "km", "dimensionality": "[length]"}
    sample_id = created_id(client, data)
    csv = ("name,altitude,206Pb/204Pb,2s_206Pb/204Pb,standard\n"
           "Galène Pontgibaud 3,1250,18.412,0.0022,NIST SRM 981\n").encode()

    report = client.post("/api/import-csv", files={"file": ("same.csv", csv, "text/csv")}).json()

    assert (report["samples_updated"], report["samples_unchanged"]) == (0, 1)
    stored = client.get(f"/api/v1/objects/{sample_id}/versions/0", auth=ADMIN).json()["data"]
    assert stored["altitude"]["units"] == "km"
    assert client.get(f"/api/v1/objects/{sample_id}/versions/1", auth=ADMIN).status_code == 404
