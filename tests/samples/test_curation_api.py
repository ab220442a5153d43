"""normalize-materials and normalize-all-data over samples written with raw vocabulary."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from isofind.samples.action import object_data
from tests.conftest import ADMIN


def raw_sample(client: TestClient, **fields: Any) -> int:
    """A sample written through the SampleDB API, which checks the schema, not our words."""
    data = object_data({"name": "Raw", **fields}, [
        {"isotope_id": 1, "element": "plomb", "ratio": "Pb206/Pb204", "value": 18.4},
        {"isotope_id": 2, "element": "Pb", "ratio": "207Pb/204Pb", "value": 15.6},
    ], archived=False, next_isotope_id=3)
    response = client.post("/api/v1/objects/", auth=ADMIN, json={"action_id": -1, "data": data})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].split("/")[4])


def test_normalize_materials_only_touches_materials(client: TestClient) -> None:
    sid = raw_sample(client, material_type="Sédiments", classification="fille")
    tidy = client.post("/api/samples", json={"name": "Tidy", "material_type": "ore"}).json()

    report = client.post("/api/samples/normalize-materials").json()

    assert report == {"samples_examined": 2, "samples_changed": 1,
                      "fields_changed": {"material_type": 1},
                      "samples_skipped": {"read_only": 0}}
    sample = client.get(f"/api/samples/{sid}").json()
    assert (sample["material_type"], sample["classification"], sample["version_id"]) == (
        "sediment", "fille", 1)
    assert client.get(f"/api/samples/{tidy['id']}").json()["version_id"] == 0


def test_normalize_all_data_rewrites_vocabulary_once(client: TestClient) -> None:
    sid = raw_sample(client, material_type="Sédiments", classification="fille")

    report = client.post("/api/samples/normalize-all-data").json()

    assert report["samples_changed"] == 1
    assert report["fields_changed"] == {"material_type": 1, "classification": 1,
                                        "element": 1, "ratio": 1}
    sample = client.get(f"/api/samples/{sid}").json()
    assert (sample["material_type"], sample["classification"]) == ("sediment", "daughter")
    assert [(v["element"], v["ratio"]) for v in sample["isotope_data"]] == [
        ("Pb", "206Pb/204Pb"), ("Pb", "207Pb/204Pb")]
    values = client.get("/api/samples/isotopic-data").json()
    assert [v["ratio"] for v in values] == ["206Pb/204Pb", "207Pb/204Pb"]
    again = client.post("/api/samples/normalize-all-data").json()
    assert again["samples_changed"] == 0


def test_bulk_routes_need_the_manager_role(multi_client: TestClient, add_user: Any) -> None:
    add_user("ana", role="analyst")
    multi_client.headers["Origin"] = "http://testserver"
    assert multi_client.post("/api/auth/login", json={
        "username": "ana", "password": "password-123"}).status_code == 200
    refused = multi_client.post("/api/samples/normalize-all-data")
    assert refused.status_code == 403
