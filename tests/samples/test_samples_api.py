"""The IsoFind sample routes over the object store, on both backends."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.db import SQLITE_VALUES_PER_QUERY
from isofind.identity.models import User
from isofind.objects.json_codec import JSON_OBJECTS
from isofind.objects.schema_language import InMemoryReferences, validate_data
from isofind.permissions.models import Level
from isofind.samples import service
from isofind.samples.action import isotope_sample_schema, object_data
from isofind.samples.models import IsotopeValue, SampleIndex
from tests.conftest import ADMIN

LOIRE: dict[str, Any] = {
    "name": "Sédiment Loire 1",
    "material_type": "sédiments",
    "classification": "fille",
    "sector": "Bassin de la Loire",
    "collection_date": "14/03/2023",
    "latitude": 47.3941,
    "longitude": -0.6848,
    "project": "Loire amont",
    "isotope_data": [
        {"element": "plomb", "ratio": "Pb206/Pb204", "value": 18.412, "uncertainty": 0.0011,
         "standard": "NIST SRM 981"},
        {"element": "Pb", "ratio": "207/204Pb", "value": 15.648, "uncertainty": 0.0003,
         "uncertainty_type": "1SD", "standard": "NIST SRM 981"},
    ],
}


def create(client: TestClient, body: dict[str, Any] | None = None, **auth: Any) -> dict[str, Any]:
    response = client.post("/api/samples", json=body or LOIRE, **auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_normalises_vocabulary_and_numbers_isotope_values(client: TestClient) -> None:
    sample = create(client)

    assert sample["sample_id"] == sample["id"]
    assert (sample["name"], sample["material_type"], sample["classification"]) == (
        "Sédiment Loire 1", "sediment", "daughter")
    assert sample["collection_date"] == "2023-03-14"
    assert (sample["latitude"], sample["longitude"]) == (47.3941, -0.6848)
    assert sample["version_id"] == 0 and sample["archived"] is False
    first, second = sample["isotope_data"]
    assert (first["isotope_id"], first["element"], first["ratio"], first["value"]) == (
        1, "Pb", "206Pb/204Pb", 18.412)
    assert first["uncertainty"] == 0.0011 and first["uncertainty_type_declared"] is None
    # 1SD declared: stored at 2σ, the declaration kept beside it
    assert second["isotope_id"] == 2 and second["ratio"] == "207Pb/204Pb"
    assert second["uncertainty"] == pytest.approx(0.0006, abs=1e-15)
    assert (second["uncertainty_type_declared"], second["uncertainty_declared"]) == ("1SD", 0.0003)
    assert client.get(f"/api/samples/{sample['id']}").json() == sample


def test_a_sample_is_an_object_of_the_isotope_sample_action(client: TestClient) -> None:
    sample = create(client)
    version = client.get(f"/api/v1/objects/{sample['id']}/versions/0", auth=ADMIN).json()

    assert version["action_id"] == -1
    assert version["data"]["name"] == {"_type": "text", "text": "Sédiment Loire 1"}
    value = version["data"]["isotope_data"][0]["value"]
    assert value == {"_type": "quantity", "magnitude": 18.412,
                     "magnitude_in_base_units": 18.412, "units": "1",
                     "dimensionality": "dimensionless"}
    # the data our code builds is valid for the action's schema
    validate_data(version["data"], isotope_sample_schema(), InMemoryReferences())


@pytest.mark.parametrize(("field", "value", "message"), [
    ("latitude", 123.0, "less than or equal to 90"),
    ("longitude", -180.5, "greater than or equal to -180"),
    ("collection_date", "31/02/2023", "is not a date"),
    ("name", "  ", "name must not be empty"),
])
def test_bad_fields_answer_422_naming_the_field(client: TestClient, field: str, value: object,
                                                message: str) -> None:
    response = client.post("/api/samples", json={**LOIRE, field: value})

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", field]
    assert message in problem["msg"]
    assert client.get("/api/samples").json() == []


def test_vocabulary_problems_are_listed_together(client: TestClient) -> None:
    body = {**LOIRE, "classification": "granite", "isotope_data": [
        {"element": "Xx", "ratio": "206Pb/204Pb", "value": 1.0},
        {"element": "Sr", "ratio": "87/86", "value": 0.71},
        {"element": "Sr", "ratio": "206Pb/204Pb", "value": 18.0},
    ]}
    response = client.post("/api/samples", json=body)

    assert response.status_code == 422
    assert [(p["loc"], p["input"]) for p in response.json()["detail"]] == [
        (["body", "classification"], "granite"),
        (["body", "isotope_data", 0, "element"], "Xx"),
        (["body", "isotope_data", 1, "ratio"], "87/86"),
        (["body", "isotope_data", 2, "ratio"], "206Pb/204Pb"),
    ]
    assert response.json()["detail"][3]["msg"] == "206Pb/204Pb is not a quantity of Sr"
    assert client.get("/api/samples").json() == []


def test_list_order_limit_and_unknown_ids(client: TestClient) -> None:
    ids = [create(client, {"name": f"S{i}"})["id"] for i in range(3)]

    assert [s["id"] for s in client.get("/api/samples").json()] == ids[::-1]
    assert [s["id"] for s in client.get("/api/samples?sort=asc&limit=2").json()] == ids[:2]
    assert client.get("/api/samples?sort=sideways").status_code == 422
    missing = client.get("/api/samples/999")
    assert (missing.status_code, missing.json()) == (404, {"detail": "sample 999 not found"})


def test_the_list_body_is_the_json_of_the_views_cold_and_warm(client: TestClient,
                                                              app: FastAPI) -> None:
    ids = [create(client, {**LOIRE, "name": f"Loire {i}"})["id"] for i in range(3)]
    with app.state.database.session(write=False) as db:
        owner = service.Viewer(db.scalar(sa.select(User).where(User.id == 1)))
        expected = JSON_OBJECTS.dump_json(service.list_samples(db, owner))

    cold, warm = client.get("/api/samples"), client.get("/api/samples")
    assert cold.content == warm.content == expected
    assert cold.headers["content-type"] == "application/json"
    assert [s["id"] for s in warm.json()] == ids[::-1]
    assert warm.json()[0]["isotope_data"][1]["uncertainty"] == pytest.approx(0.0006, abs=1e-12)


def test_a_cold_list_longer_than_one_query_of_ids_holds_every_sample_in_order(
        client: TestClient) -> None:
    count = 3 * SQLITE_VALUES_PER_QUERY + 7  # PostgreSQL reads them in one query
    rows = "\n".join(f"Many {n:04d},{18 + n / 10_000:.4f}" for n in range(count))
    raw = f"name,206Pb/204Pb\n{rows}\n".encode()
    imported = client.post("/api/import-csv", files={"file": ("many.csv", raw, "text/csv")})
    assert imported.json()["samples_created"] == count

    listed = client.get("/api/samples").json()

    assert [s["name"] for s in listed] == [f"Many {n:04d}" for n in reversed(range(count))]
    assert listed[-1]["isotope_data"][0]["value"] == 18.0
    assert listed[0]["isotope_data"][0]["value"] == pytest.approx(18 + (count - 1) / 10_000)


def test_the_list_shows_the_current_version_of_each_sample(client: TestClient) -> None:
    sid = create(client)["id"]
    assert client.get("/api/samples").json()[0]["version_id"] == 0
    assert client.patch(f"/api/samples/{sid}", json={"project": "Loire aval"}).status_code == 200

    listed = client.get("/api/samples").json()
    assert [(s["id"], s["version_id"], s["project"]) for s in listed] == [(sid, 1, "Loire aval")]


def test_a_new_sample_given_the_id_of_a_purged_one_is_listed_as_itself(
        client: TestClient, app: FastAPI) -> None:
    purged = create(client, {**LOIRE, "name": "Purged"})["id"]
    assert [s["name"] for s in client.get("/api/samples").json()] == ["Purged"]
    with app.state.database.session(write=True) as db:
        admin = db.get(User, 1)
        service.delete_sample(db, service.Viewer(admin), purged)
        service.purge_sample(db, admin, purged)

    fresh = create(client, {**LOIRE, "name": "Fresh"})["id"]  # SQLite takes the id again
    listed = client.get("/api/samples").json()
    assert [(s["id"], s["name"]) for s in listed] == [(fresh, "Fresh")]


def test_put_replaces_keeping_ids_of_identical_values_and_never_reusing_ids(
        client: TestClient) -> None:
    sample = create(client)
    sid = sample["id"]
    without_second = client.delete(f"/api/samples/{sid}/isotope/2").json()
    assert [v["isotope_id"] for v in without_second["isotope_data"]] == [1]
    assert without_second["version_id"] == 1

    replaced = client.put(f"/api/samples/{sid}", json={
        "name": "Sédiment Loire 1 bis", "isotope_data": [
            LOIRE["isotope_data"][0],
            {"element": "Pb", "ratio": "208Pb/204Pb", "value": 38.51, "uncertainty": 0.004},
        ]}).json()

    assert replaced["version_id"] == 2
    assert replaced["material_type"] is None  # PUT replaces every field
    assert [(v["isotope_id"], v["ratio"]) for v in replaced["isotope_data"]] == [
        (1, "206Pb/204Pb"), (3, "208Pb/204Pb")]  # id 2 was used once: never again
    gone = client.delete(f"/api/samples/{sid}/isotope/2")
    assert (gone.status_code, gone.json()["detail"]) == (
        404, f"sample {sid} has no isotope value 2")


def test_patch_changes_only_given_fields(client: TestClient) -> None:
    sid = create(client)["id"]
    patched = client.patch(f"/api/samples/{sid}", json={"project": "Loire aval",
                                                       "latitude": 47.5}).json()

    assert (patched["project"], patched["latitude"], patched["sector"]) == (
        "Loire aval", 47.5, "Bassin de la Loire")
    assert len(patched["isotope_data"]) == 2 and patched["version_id"] == 1
    same = client.patch(f"/api/samples/{sid}", json={"project": "Loire aval"}).json()
    assert same["version_id"] == 1  # nothing changed: no new version
    refused = client.patch(f"/api/samples/{sid}", json={"name": None})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "name"]


def test_a_write_through_the_sampledb_api_reindexes_the_sample(client: TestClient) -> None:
    sid = create(client)["id"]
    diff = {"isotope_data": [{"value": {
        "_before": {"_type": "quantity", "magnitude": 18.412, "magnitude_in_base_units": 18.412,
                    "units": "1", "dimensionality": "dimensionless"},
        "_after": {"_type": "quantity", "magnitude": 18.5, "units": "1"}}}, None]}
    response = client.post(f"/api/v1/objects/{sid}/versions/", auth=ADMIN,
                           json={"data_diff": diff})
    assert response.status_code == 201, response.text

    assert client.get(f"/api/samples/{sid}").json()["isotope_data"][0]["value"] == 18.5
    values = client.get("/api/samples/isotopic-data").json()
    assert [(v["isotope_id"], v["value"]) for v in values] == [(1, 18.5), (2, 15.648)]


def index_rows(app: FastAPI, sample_id: int) -> tuple[int, int]:
    """How many sample_index and isotope_values rows the sample has."""
    with app.state.database.session(write=False) as db:
        indexed, values = (
            db.scalar(sa.select(sa.func.count()).where(table.sample_id == sample_id)) or 0
            for table in (SampleIndex, IsotopeValue))
    return indexed, values


def test_delete_leaves_a_tombstone_an_admin_can_restore(client: TestClient,
                                                       app: FastAPI) -> None:
    sid = create(client)["id"]
    assert client.delete(f"/api/samples/{sid}").status_code == 204

    assert client.get(f"/api/samples/{sid}").status_code == 404
    assert client.get(f"/api/v1/objects/{sid}/versions/0", auth=ADMIN).status_code == 404
    assert client.get("/api/samples").json() == []
    assert client.get("/api/samples/isotopic-data").json() == []
    assert client.delete(f"/api/samples/{sid}").status_code == 404
    assert index_rows(app, sid) == (0, 0)
    with app.state.database.session(write=True) as db:
        assert [s["sample_id"] for s in service.deleted_samples(db)] == [sid]
        service.restore_sample(db, db.get(User, 1), sid)
    restored = client.get(f"/api/samples/{sid}").json()
    assert len(restored["isotope_data"]) == 2
    assert index_rows(app, sid) == (1, 2)
    with app.state.database.session(write=True) as db:
        admin = db.get(User, 1)
        service.delete_sample(db, service.Viewer(admin), sid)
        service.purge_sample(db, admin, sid)
        assert service.deleted_samples(db) == []
    assert index_rows(app, sid) == (0, 0)  # isotope_values has no cascading key: none left
    actions = [e["action"] for e in client.get("/api/logs/activity").json()["entries"]]
    assert actions[:3] == ["sample.purged", "sample.deleted", "sample.restored"]


def test_metadata_stats_and_isotopic_data(client: TestClient) -> None:
    loire = create(client)["id"]
    ore = create(client, {"name": "Minerai Pontpéan", "material_type": "minerai",
                          "classification": "source", "isotope_data": [
                              {"element": "Sr", "ratio": "87Sr/86Sr", "value": 0.71025}]})["id"]

    metadata = client.get("/api/samples/metadata").json()
    assert list(metadata) == [str(loire), str(ore)]
    assert metadata[str(loire)]["latitude"] == 47.3941
    assert metadata[str(ore)]["latitude"] is None
    assert client.get("/api/samples/stats").json() == {
        "total_samples": 2, "samples_with_gps": 1, "unique_elements": 2,
        "elements": ["Pb", "Sr"], "total_isotope_values": 3,
        "by_material_type": {"ore": 1, "sediment": 1},
        "by_classification": {"daughter": 1, "source": 1},
    }
    data = client.get("/api/samples/isotopic-data").json()
    assert [(v["sample_id"], v["ratio"], v["is_normalized"]) for v in data] == [
        (loire, "206Pb/204Pb", False), (loire, "207Pb/204Pb", False), (ore, "87Sr/86Sr", False)]


def test_purification_yields_one_per_element_flagged_not_refused(client: TestClient) -> None:
    sid = create(client)["id"]
    url = f"/api/samples/{sid}/purification-yields"
    first = client.post(url, json={"element": "plomb", "yield_percent": 96.5,
                                   "operator": "CF"}).json()
    assert (first["element"], first["yield_percent"], first["flagged"]) == ("Pb", 96.5, False)
    replaced = client.post(url, json={"element": "Pb", "yield_percent": 108.0}).json()
    assert replaced["flags"] == ["above 105 %: probable contamination"]
    assert [(y["element"], y["yield_percent"], y["operator"]) for y in
            client.get(url).json()] == [("Pb", 108.0, None)]
    unknown = client.post(url, json={"element": "Qq", "yield_percent": 90})
    assert unknown.status_code == 422
    assert client.delete(f"{url}/Sr").status_code == 404
    assert client.delete(f"{url}/lead").status_code == 204
    assert client.get(url).json() == []
    assert client.get("/api/samples/999/purification-yields").status_code == 404


def test_csv_export_is_safe_against_formulas(client: TestClient) -> None:
    create(client)
    create(client, {"name": "=HYPERLINK(\"http://x\")", "longitude": -2.5,
                    "description": "+33 1 23 45"})
    response = client.get("/api/samples/export")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["sample_id", "name", "material_type", "sector", "collection_date",
                       "collection_location", "description", "classification", "latitude",
                       "longitude", "project"]
    assert rows[1][1:5] == ["Sédiment Loire 1", "sediment", "Bassin de la Loire", "2023-03-14"]
    assert rows[1][8:] == ["47.3941", "-0.6848", "Loire amont"]
    assert rows[2][1] == "'=HYPERLINK(\"http://x\")"
    assert (rows[2][6], rows[2][9]) == ("'+33 1 23 45", "-2.5")


def test_export_batch_in_the_order_asked(client: TestClient) -> None:
    first = create(client)["id"]
    second = create(client, {"name": "B", "doi": "https://doi.org/10.1000/XYZ"})["id"]

    batch = client.post("/api/v2/samples/export-batch", json=[second, first]).json()
    assert [s["sample_id"] for s in batch] == [second, first]
    assert batch[0]["doi"] == "10.1000/XYZ"
    assert {"methods", "publications", "pipeline", "isotope_data"} <= set(batch[0])
    missing = client.post("/api/v2/samples/export-batch", json=[first, 4242])
    assert (missing.status_code, missing.json()) == (404, {"detail": "sample 4242 not found"})


def test_full_sample(client: TestClient) -> None:
    sid = create(client)["id"]
    full = client.get(f"/api/v2/samples/{sid}/full").json()
    assert (full["name"], full["methods"], full["publications"], full["pipeline"]) == (
        "Sédiment Loire 1", [], [], None)
    assert len(full["isotope_data"]) == 2


def login(client: TestClient, username: str, password: str = "password-123") -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text


def test_multi_user_samples_follow_object_permissions(
        multi_app: FastAPI, add_user: Callable[..., int],
        grant: Callable[[int, int, Level], None]) -> None:
    alice, bob = add_user("alice"), add_user("bob")
    origin = {"Origin": "http://testserver"}  # cookie writes must come from this server
    with TestClient(multi_app, headers=origin) as as_alice, \
            TestClient(multi_app, headers=origin) as as_bob:
        login(as_alice, "alice")
        login(as_bob, "bob")
        sid = create(as_alice)["id"]
        assert as_alice.get(f"/api/samples/{sid}").json()["creator_id"] == alice

        assert [s["id"] for s in as_alice.get("/api/samples").json()] == [sid]  # view cached
        assert as_bob.get(f"/api/samples/{sid}").status_code == 404
        assert as_bob.get("/api/samples").json() == []
        assert as_bob.get("/api/samples/stats").json()["total_samples"] == 0
        assert as_bob.patch(f"/api/samples/{sid}", json={"project": "x"}).status_code == 404

        grant(sid, bob, Level.READ)
        assert as_bob.get(f"/api/samples/{sid}").status_code == 200
        refused = as_bob.patch(f"/api/samples/{sid}", json={"project": "x"})
        assert (refused.status_code, refused.json()["detail"]) == (
            403, f"you may read sample {sid} but not change it")
        assert as_bob.delete(f"/api/samples/{sid}").status_code == 403

        grant(sid, bob, Level.WRITE)
        assert as_bob.patch(f"/api/samples/{sid}", json={"project": "x"}).status_code == 200
        assert as_bob.delete(f"/api/samples/{sid}").status_code == 403  # needs grant

    with TestClient(multi_app, headers=origin) as anonymous:
        assert anonymous.get("/api/samples").status_code == 401
        assert anonymous.post("/api/samples", json=LOIRE).status_code == 401


def test_long_texts_written_through_the_sampledb_api_are_indexed_on_both_backends(
        client: TestClient) -> None:
    data = object_data({"name": "Long", "project": "p" * 400, "classification": "c" * 50,
                        "material_type": "m" * 300}, [], archived=False, next_isotope_id=1)
    response = client.post("/api/v1/objects/", auth=ADMIN, json={"action_id": -1, "data": data})

    assert response.status_code == 201, response.text
    [sample] = client.get("/api/samples").json()
    assert sample["project"] == "p" * 400  # the sample keeps its text; only the index clips
