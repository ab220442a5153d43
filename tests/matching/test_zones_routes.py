"""Reference zones: CRUD with GeoJSON validation, grouping by zone, and zone priors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.matching.router import runtime_of
from tests.conftest import ADMIN
from tests.matching.conftest import (
    LAURION,
    SECTORS,
    Sector,
    group_names,
    import_csv,
    near,
    pb_items,
    sources_csv,
)


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


ATTICA = box(23.5, 37.5, 24.5, 38.2)  # holds Laurion (37.72–37.79 N, 24.05–24.12 E)
IBERIAN_BELT = box(-7.5, 37.0, -6.0, 38.5)  # holds Rio Tinto
SOUTHERN_EUROPE = {"type": "MultiPolygon", "coordinates": [  # both, and Thasos
    box(-10.0, 35.0, 4.0, 44.0)["coordinates"], box(12.0, 34.0, 30.0, 42.0)["coordinates"]]}
THASOS = Sector("Thasos, Greece", (18.86, 15.681, 38.91), 40.70, 24.70)


def create_zone(client: TestClient, name: str, geometry: dict[str, Any], expect: int = 201,
                **fields: Any) -> dict[str, Any]:
    response = client.post("/api/zones", json={"name": name, "geometry": geometry, **fields})
    assert response.status_code == expect, response.text
    return response.json()


def test_zone_crud(client: TestClient) -> None:
    created = create_zone(client, "Attica", ATTICA, description="Lavrion district",
                          prior_weight=2.5)

    assert (created["name"], created["prior_weight"], created["version"]) == ("Attica", 2.5, 1)
    assert created["geometry"] == ATTICA
    assert created["bounds"] == {"min_longitude": 23.5, "min_latitude": 37.5,
                                 "max_longitude": 24.5, "max_latitude": 38.2}
    zone_id = created["id"]
    assert client.get("/api/zones").json() == [created]
    assert client.get(f"/api/zones/{zone_id}").json() == created

    feature = {"type": "Feature", "properties": {}, "geometry": SOUTHERN_EUROPE}
    replaced = client.put(f"/api/zones/{zone_id}", json={"name": "Aegean",
                                                         "geometry": feature})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["name"], replaced.json()["version"]) == ("Aegean", 2)
    assert replaced.json()["geometry"]["type"] == "MultiPolygon"
    assert replaced.json()["prior_weight"] is None

    assert create_zone(client, "aegean", ATTICA, expect=409)["detail"] == (
        f"a zone named 'aegean' already exists (zone {zone_id})")
    assert client.delete(f"/api/zones/{zone_id}").status_code == 204
    assert client.get(f"/api/zones/{zone_id}").status_code == 404
    assert client.put(f"/api/zones/{zone_id}", json={"name": "x", "geometry": ATTICA}
                      ).status_code == 404
    assert client.delete(f"/api/zones/{zone_id}").status_code == 404
    assert client.get("/api/zones").json() == []


@pytest.mark.parametrize(("geometry", "message"), [
    ({"type": "Point", "coordinates": [24.0, 37.7]},
     "geometry type must be Polygon or MultiPolygon, got 'Point'"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
     "coordinates[0]: the ring is not closed: its first position [0.0, 0.0] differs from its "
     "last [0.0, 1.0]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
     "coordinates[0]: a linear ring needs at least 4 positions (the first repeated last), "
     "got 3"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]},
     "coordinates[0][1]: longitude 200 is outside -180..180"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, "north"], [1, 1], [0, 0]]]},
     "coordinates[0][1]: coordinates must be finite numbers, got [1, 'north']"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
     "the polygon is not valid: Self-intersection[0.5 0.5]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]},
     "the polygon is not valid: Self-intersection[1 1]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]],
                                         [[2, 2], [3, 2], [3, 3], [2, 2]]]},
     "the polygon is not valid: Hole lies outside shell[2 2]"),
    ({"type": "MultiPolygon", "coordinates": []},
     "coordinates: a MultiPolygon needs a non-empty list of polygons"),
    ("POLYGON((0 0, 1 0, 1 1, 0 0))", "Input should be a valid dictionary"),
])
def test_invalid_geojson_is_422_naming_the_problem(client: TestClient, geometry: Any,
                                                   message: str) -> None:
    response = client.post("/api/zones", json={"name": "Bad", "geometry": geometry})

    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "geometry"]
    assert error["msg"].removeprefix("Value error, ") == message
    assert client.get("/api/zones").json() == []


def test_only_managers_change_zones(multi_client: TestClient,
                                    add_user: Callable[..., int]) -> None:
    add_user("analyst", role="analyst")
    add_user("manager", role="manager")
    analyst, manager = ("analyst", "password-123"), ("manager", "password-123")
    body = {"name": "Attica", "geometry": ATTICA}

    assert multi_client.post("/api/zones", json=body, auth=analyst).status_code == 403
    created = multi_client.post("/api/zones", json=body, auth=manager)
    assert created.status_code == 201
    zone_id = created.json()["id"]
    assert multi_client.get("/api/zones", auth=analyst).json()[0]["name"] == "Attica"
    assert multi_client.delete(f"/api/zones/{zone_id}", auth=analyst).status_code == 403
    assert multi_client.delete(f"/api/zones/{zone_id}", auth=ADMIN).status_code == 204
    actions = [e["action"] for e in multi_client.get(
        "/api/logs/activity", params={"action": "zone."}, auth=ADMIN).json()["entries"]]
    assert sorted(actions) == ["zone.created", "zone.deleted"]


def analyze(client: TestClient, values: list[float] | None = None,
            **body: Any) -> dict[str, Any]:
    response = client.post("/analyze/manual", json={
        "material_type": "galena", "isotope_data": pb_items(values or near(LAURION)), **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_sources_grouped_by_the_zone_holding_them(client: TestClient, app: FastAPI) -> None:
    import_csv(client, sources_csv(SECTORS))
    for name, geometry in (("Attica", ATTICA), ("Iberian Pyrite Belt", IBERIAN_BELT),
                           ("Southern Europe", SOUTHERN_EUROPE)):
        create_zone(client, name, geometry)

    answer = analyze(client, group_by="zone")

    groups = {g["group"]: g for g in answer["groups"]}
    assert set(groups) == {"Attica", "Iberian Pyrite Belt", "Southern Europe"}
    assert group_names(answer)[0] == "Attica"
    assert (groups["Attica"]["n_sources"], groups["Iberian Pyrite Belt"]["n_sources"],
            groups["Southern Europe"]["n_sources"]) == (8, 8, 16)
    # Cornwall (50° N) lies in no zone
    assert ("8 source sample(s) lie outside every zone or have no coordinates and were left "
            "out") in answer["warnings"]
    # a Laurion source lies in Attica and in Southern Europe, but is listed once
    listed = [m["sample_id"] for m in answer["matches"]]
    assert len(listed) == len(set(listed)) == 10
    assert {m["sector"] for m in answer["matches"][:8]} == {"Laurion, Greece"}

    # unchanged zones are not re-read; an edited zone is
    runtime = runtime_of(app)
    zone_loads, source_loads = runtime.zones.loads, runtime.sources.loads
    analyze(client, group_by="zone")
    assert (runtime.zones.loads, runtime.sources.loads) == (zone_loads, source_loads)
    attica = next(z for z in client.get("/api/zones").json() if z["name"] == "Attica")
    client.put(f"/api/zones/{attica['id']}", json={"name": "Lavrion", "geometry": ATTICA})
    renamed = analyze(client, group_by="zone")
    assert group_names(renamed)[0] == "Lavrion"
    assert (runtime.zones.loads, runtime.sources.loads) == (zone_loads + 1, source_loads + 1)


def posterior_odds(answer: dict[str, Any], first: str, second: str) -> float:
    posterior = {g["group"]: g["posterior"] for g in answer["groups"]}
    return posterior[first] / posterior[second]


def test_zone_priors_weigh_the_posterior(client: TestClient) -> None:
    import_csv(client, sources_csv((*SECTORS, THASOS)))
    create_zone(client, "Attica", ATTICA, prior_weight=5.0)
    create_zone(client, "Southern Europe", SOUTHERN_EUROPE)

    # Grouped by zone: the stored weights, and per-request overrides.
    uniform = analyze(client, group_by="zone", algorithm="bayesian")
    stored = analyze(client, group_by="zone", algorithm="bayesian", priors="zones")
    odds = posterior_odds(uniform, "Attica", "Southern Europe")
    assert 0 < odds < 1e6
    assert posterior_odds(stored, "Attica", "Southern Europe") == pytest.approx(5 * odds)
    advanced = client.post("/api/matching/advanced/0", json={})  # no sample 0
    assert advanced.status_code == 404

    # Grouped by sector: a group takes the weight of the smallest zone holding its centroid
    # (Laurion: Attica, 5; Thasos: Southern Europe, 1).
    by_sector = analyze(client, algorithm="hybrid")
    zoned = analyze(client, algorithm="hybrid", priors="zones")
    sector_odds = posterior_odds(by_sector, "Laurion, Greece", "Thasos, Greece")
    assert posterior_odds(zoned, "Laurion, Greece", "Thasos, Greece") == pytest.approx(
        5 * sector_odds)
    assert zoned["priors"] == "zones"


def test_zone_priors_given_per_request(client: TestClient) -> None:
    import_csv(client, sources_csv((*SECTORS, THASOS)))
    create_zone(client, "Attica", ATTICA, prior_weight=5.0)
    create_zone(client, "Southern Europe", SOUTHERN_EUROPE)
    daughter = client.post("/api/samples", json={
        "name": "Ingot", "classification": "daughter", "material_type": "galena",
        "isotope_data": pb_items(near(LAURION))}).json()["id"]

    def advanced(**body: Any) -> dict[str, Any]:
        response = client.post(f"/api/matching/advanced/{daughter}",
                               json={"group_by": "zone", "algorithm": "bayesian", **body})
        assert response.status_code == 200, response.text
        return response.json()

    uniform = advanced(priors="uniform")
    overridden = advanced(zone_priors={"Southern Europe": 20.0, "Atlantis": 3.0})

    assert overridden["priors"] == "zones"
    # Attica keeps its stored 5, Southern Europe weighs 20: odds × 5 / 20
    assert posterior_odds(overridden, "Attica", "Southern Europe") == pytest.approx(
        posterior_odds(uniform, "Attica", "Southern Europe") / 4)
    assert "zone_priors name unknown zones: Atlantis" in overridden["warnings"]


def test_grouping_by_zone_without_zones_says_so(client: TestClient) -> None:
    import_csv(client, sources_csv(SECTORS))

    answer = analyze(client, group_by="zone")

    assert answer["groups"] == []
    assert any("no zone is defined" in w for w in answer["warnings"])
    assert any("no source sample you may read matches" in w for w in answer["warnings"])
