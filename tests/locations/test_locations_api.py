"""SampleDB location routes: reading, and the administrators' POST and PUT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from isofind.activity.models import ActivityEntry
from tests.conftest import ADMIN

USER = ("lena", "password-123")


def location(location_id: int, name: str, *, description: str = "",
             parent: int | None = None, type_id: int = -99,
             is_hidden: bool = False) -> dict[str, Any]:
    return {"location_id": location_id, "name": name, "description": description,
            "parent_location_id": parent, "type_id": type_id, "is_hidden": is_hidden}


def test_no_locations_at_first_with_or_without_trailing_slash(client: TestClient) -> None:
    assert client.get("/api/v1/locations/", auth=ADMIN).json() == []
    response = client.get("/api/v1/locations", auth=ADMIN)
    assert response.status_code == 200 and response.json() == []


def test_create_answers_201_with_location_header_and_the_location(
    client: TestClient, app: FastAPI
) -> None:
    response = client.post("/api/v1/locations/", auth=ADMIN,
                           json={"name": "Freezer A", "description": "-80 °C, room 2.14"})
    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/locations/1"
    expected = location(1, "Freezer A", description="-80 °C, room 2.14")
    assert response.json() == expected
    assert client.get("/api/v1/locations/1", auth=ADMIN).json() == expected
    assert client.get("/api/v1/locations/1/", auth=ADMIN).json() == expected
    assert client.get("/api/v1/locations/", auth=ADMIN).json() == [expected]
    with app.state.database.session(write=False) as db:
        actions = db.scalars(select(ActivityEntry.action)).all()
    assert "location.created" in actions


def test_every_user_reads_every_location_hidden_ones_included(
    client: TestClient, add_user: Callable[..., int], make_location: Callable[..., int]
) -> None:
    add_user(USER[0])
    shelf = make_location("Shelf C")
    box = make_location("Old box", parent_location_id=shelf, is_hidden=True)
    listed = client.get("/api/v1/locations/", auth=USER).json()
    assert listed == [location(shelf, "Shelf C"),
                      location(box, "Old box", parent=shelf, is_hidden=True)]
    assert client.get(f"/api/v1/locations/{box}", auth=USER).json()["is_hidden"] is True


def test_unknown_location_is_404_and_an_impossible_id_400(client: TestClient) -> None:
    response = client.get("/api/v1/locations/99", auth=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"message": "location 99 does not exist"}
    assert client.get("/api/v1/locations/99999999999", auth=ADMIN).status_code == 400


def test_reading_needs_a_signed_in_user(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(anonymous_access=True)) as anonymous:
        assert anonymous.get("/api/v1/locations/").status_code == 401
        assert anonymous.get("/api/v1/location_types/").status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name: Field required"),
        ({"name": ""}, "name: String should have at least 1 character"),
        ({"name": 5}, "name: Input should be a valid string"),
        ({"name": "A", "type_id": 7}, "type_id 7 does not name a location type"),
        ({"name": "A", "parent_location_id": 5}, "parent_location_id 5 does not name a location"),
        ({"name": "A", "parent_location_id": "1"},
         "parent_location_id: Input should be a valid integer"),
        ({"name": "A", "type_id": 2**40},
         "type_id: Input should be less than or equal to 2147483647"),
        ({"name": "A", "is_hidden": "yes"}, "is_hidden: Input should be a valid boolean"),
        ({"name": "A", "location_id": 3}, "location_id: Extra inputs are not permitted"),
    ],
)
def test_create_refusals_change_nothing(client: TestClient, body: Any, message: str) -> None:
    response = client.post("/api/v1/locations/", auth=ADMIN, json=body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert client.get("/api/v1/locations/", auth=ADMIN).json() == []


@pytest.mark.parametrize(("role", "fields"), [
    ("user", {}), ("manager", {}), ("admin", {"is_readonly": True}),
])
def test_only_administrators_create_and_change_locations(
    client: TestClient, add_user: Callable[..., int], make_location: Callable[..., int],
    role: str, fields: dict[str, Any],
) -> None:
    add_user(USER[0], role=role, **fields)
    shelf = make_location("Shelf C")
    refused = {"message": "only administrators may manage locations and location types"}
    response = client.post("/api/v1/locations/", auth=USER, json={"name": "Mine"})
    assert response.status_code == 403 and response.json() == refused
    response = client.put(f"/api/v1/locations/{shelf}", auth=USER,
                          json=location(shelf, "Renamed"))
    assert response.status_code == 403 and response.json() == refused
    assert client.get("/api/v1/locations/", auth=ADMIN).json() == [location(shelf, "Shelf C")]


def test_update_replaces_the_location(
    client: TestClient, make_location: Callable[..., int]
) -> None:
    room = make_location("Room 2.14")
    shelf = make_location("Shelf C")
    changed = location(shelf, "Shelf D", description="top", parent=room, is_hidden=True)
    response = client.put(f"/api/v1/locations/{shelf}", auth=ADMIN, json=changed)
    assert response.status_code == 200 and response.json() == changed
    assert client.get(f"/api/v1/locations/{shelf}", auth=ADMIN).json() == changed
    without_id = {k: v for k, v in changed.items() if k != "location_id"}
    response = client.put(f"/api/v1/locations/{shelf}", auth=ADMIN,
                          json={**without_id, "parent_location_id": None})
    assert response.status_code == 200 and response.json()["parent_location_id"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"location_id": 1}, "location_id must be 2"),
        ({"type_id": 8}, "type_id 8 does not name a location type"),
        ({"parent_location_id": 9}, "parent_location_id 9 does not name a location"),
        ({"is_hidden": None}, "is_hidden: Input should be a valid boolean"),
    ],
)
def test_update_refusals_change_nothing(
    client: TestClient, make_location: Callable[..., int], change: dict[str, Any], message: str
) -> None:
    make_location("Room 2.14")
    shelf = make_location("Shelf C")
    response = client.put(f"/api/v1/locations/{shelf}", auth=ADMIN,
                          json={**location(shelf, "Renamed"), **change})
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert client.get(f"/api/v1/locations/{shelf}", auth=ADMIN).json() == location(
        shelf, "Shelf C")


def test_update_needs_every_field(client: TestClient, make_location: Callable[..., int]) -> None:
    shelf = make_location("Shelf C")
    response = client.put(f"/api/v1/locations/{shelf}", auth=ADMIN, json={"name": "Renamed"})
    assert response.status_code == 400
    assert response.json() == {"message": "description: Field required; parent_location_id: "
                                          "Field required; type_id: Field required; is_hidden: "
                                          "Field required"}


def test_update_of_an_unknown_location_is_404(client: TestClient) -> None:
    response = client.put("/api/v1/locations/42", auth=ADMIN, json=location(42, "Nowhere"))
    assert response.status_code == 404
    assert response.json() == {"message": "location 42 does not exist"}


def test_a_location_cannot_become_its_own_ancestor(
    client: TestClient, make_location: Callable[..., int]
) -> None:
    room = make_location("Room")
    freezer = make_location("Freezer", parent_location_id=room)
    rack = make_location("Rack", parent_location_id=freezer)
    for parent in (room, rack):
        response = client.put(f"/api/v1/locations/{room}", auth=ADMIN,
                              json=location(room, "Room", parent=parent))
        assert response.status_code == 400
        assert response.json() == {
            "message": f"parent_location_id {parent} would make location {room} its own ancestor"
        }
    assert client.get(f"/api/v1/locations/{room}", auth=ADMIN).json() == location(room, "Room")
    moved = client.put(f"/api/v1/locations/{rack}", auth=ADMIN,
                       json=location(rack, "Rack", parent=room))
    assert moved.status_code == 200 and moved.json()["parent_location_id"] == room


def test_location_types_decide_parents_and_sub_locations(
    client: TestClient, make_location: Callable[..., int]
) -> None:
    def new_type(**switches: bool) -> int:
        response = client.post("/api/v1/location_types/", auth=ADMIN,
                               json={"name": "T", **switches})
        assert response.status_code == 201, response.text
        return int(response.json()["location_type_id"])

    top_level_only = new_type(enable_parent_location=False)
    leaf = new_type(enable_sub_locations=False)
    room = make_location("Room")
    box = make_location("Box", type_id=leaf, parent_location_id=room)

    response = client.post("/api/v1/locations/", auth=ADMIN, json={
        "name": "Building", "type_id": top_level_only, "parent_location_id": room})
    assert response.status_code == 400
    assert response.json() == {
        "message": f"locations of type {top_level_only} cannot have a parent location"}
    response = client.post("/api/v1/locations/", auth=ADMIN,
                           json={"name": "Tube", "parent_location_id": box})
    assert response.status_code == 400
    assert response.json() == {
        "message": f"parent_location_id {box}: locations of type {leaf} cannot have sub-locations"}
    response = client.put(f"/api/v1/locations/{room}", auth=ADMIN,
                          json=location(room, "Room", type_id=leaf))
    assert response.status_code == 400
    assert response.json() == {
        "message": f"location {room} has sub-locations, which locations of type {leaf} "
                   "cannot have"}
    assert [item["name"] for item in client.get("/api/v1/locations/", auth=ADMIN).json()] == [
        "Room", "Box"]
