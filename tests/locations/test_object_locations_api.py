"""Where objects are: reading an object's location assignments and adding new ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.identity.models import User
from isofind.objects.models import ObjectRecord
from isofind.permissions import service as permissions
from isofind.permissions.models import Level, SubjectType
from tests.conftest import ADMIN

USER = ("lena", "password-123")
SAMPLEDB_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def assign(client: TestClient, target: int, auth: tuple[str, str] = ADMIN,
           **body: Any) -> Any:
    return client.post(f"/api/v1/objects/{target}/locations/", auth=auth, json=body)


def without_time(assignment: dict[str, Any]) -> dict[str, Any]:
    assert SAMPLEDB_TIMESTAMP.match(assignment["utc_datetime"]), assignment["utc_datetime"]
    return {k: v for k, v in assignment.items() if k != "utc_datetime"}


def test_an_object_without_assignments(client: TestClient, object_id: int) -> None:
    assert client.get(f"/api/v1/objects/{object_id}/locations/", auth=ADMIN).json() == []
    response = client.get(f"/api/v1/objects/{object_id}/locations/0", auth=ADMIN)
    assert response.status_code == 404
    assert response.json() == {
        "message": f"location assignment 0 for object {object_id} does not exist"}


def test_assignments_are_indexed_from_0_in_assignment_order(
    client: TestClient, object_id: int, make_location: Callable[..., int],
    add_user: Callable[..., int],
) -> None:
    keeper = add_user("keeper")
    freezer = make_location("Freezer A")
    shelf = make_location("Shelf C")
    first = assign(client, object_id, location_id=freezer, responsible_user_id=keeper,
                   description="Rack 2")
    assert first.status_code == 201
    assert first.headers["location"] == f"/api/v1/objects/{object_id}/locations/0"
    assert without_time(first.json()) == {
        "object_id": object_id, "location_id": freezer, "responsible_user_id": keeper,
        "user_id": 1, "description": "Rack 2"}
    second = assign(client, object_id, location_id=shelf)
    assert second.headers["location"] == f"/api/v1/objects/{object_id}/locations/1"
    only_person = assign(client, object_id, responsible_user_id=keeper)
    assert only_person.headers["location"] == f"/api/v1/objects/{object_id}/locations/2"

    listed = client.get(f"/api/v1/objects/{object_id}/locations", auth=ADMIN).json()
    assert listed == [first.json(), second.json(), only_person.json()]
    assert [without_time(a)["location_id"] for a in listed] == [freezer, shelf, None]
    assert without_time(listed[1]) == {
        "object_id": object_id, "location_id": shelf, "responsible_user_id": None,
        "user_id": 1, "description": ""}
    for index, expected in enumerate(listed):
        assert client.get(f"/api/v1/objects/{object_id}/locations/{index}",
                          auth=ADMIN).json() == expected
    for index in (3, -1):
        response = client.get(f"/api/v1/objects/{object_id}/locations/{index}", auth=ADMIN)
        assert response.status_code == 404
    log = client.get("/api/v1/object_log_entries/", auth=ADMIN).json()
    assert [(e["type"], e["data"]) for e in log if e["type"] == "ASSIGN_LOCATION"] == [
        ("ASSIGN_LOCATION", {"object_location_assignment_id": i}) for i in range(3)]


def test_assignments_belong_to_their_object(
    client: TestClient, make_object: Callable[[], int], make_location: Callable[..., int]
) -> None:
    first, second = make_object(), make_object()
    shelf = make_location("Shelf C")
    assign(client, first, location_id=shelf)
    response = assign(client, second, location_id=shelf)
    assert response.headers["location"] == f"/api/v1/objects/{second}/locations/0"
    assert len(client.get(f"/api/v1/objects/{first}/locations/", auth=ADMIN).json()) == 1


def test_a_hidden_location_still_takes_objects(
    client: TestClient, object_id: int, make_location: Callable[..., int]
) -> None:
    old_box = make_location("Old box", is_hidden=True)
    assert assign(client, object_id, location_id=old_box).status_code == 201


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "location_id or responsible_user_id must be set"),
        ({"description": "Shelf C"}, "location_id or responsible_user_id must be set"),
        ({"location_id": 99}, "location_id 99 does not name a location"),
        ({"responsible_user_id": 99}, "responsible_user_id 99 does not name a user"),
        ({"object_id": 7, "responsible_user_id": 1}, "object_id must be 1"),
        ({"location_id": "1"}, "location_id: Input should be a valid integer"),
        ({"location_id": True}, "location_id: Input should be a valid integer"),
        ({"responsible_user_id": 1, "description": None},
         "description: Input should be a valid string"),
        ({"responsible_user_id": 1, "confirmed": True},
         "confirmed: Extra inputs are not permitted"),
    ],
)
def test_assignment_refusals_change_nothing(
    client: TestClient, object_id: int, body: dict[str, Any], message: str
) -> None:
    assert object_id == 1
    response = assign(client, object_id, **body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert client.get(f"/api/v1/objects/{object_id}/locations/", auth=ADMIN).json() == []


def test_a_deleted_user_cannot_be_responsible(
    client: TestClient, app: FastAPI, object_id: int, add_user: Callable[..., int]
) -> None:
    gone = add_user("gone")
    with app.state.database.session(write=True) as db:
        db.get(User, gone).is_deleted = True
    response = assign(client, object_id, responsible_user_id=gone)
    assert response.status_code == 400
    assert response.json() == {"message": f"responsible_user_id {gone} does not name a user"}


def test_a_location_type_may_refuse_objects(
    client: TestClient, object_id: int, make_location: Callable[..., int]
) -> None:
    created = client.post("/api/v1/location_types/", auth=ADMIN,
                          json={"name": "Building", "enable_object_assignments": False})
    building_type = created.json()["location_type_id"]
    building = make_location("Building 7", type_id=building_type)
    response = assign(client, object_id, location_id=building)
    assert response.status_code == 400
    assert response.json() == {
        "message": f"location_id {building}: locations of type {building_type} do not take "
                   "objects"}


def test_unknown_and_deleted_objects_are_404(
    client: TestClient, app: FastAPI, object_id: int
) -> None:
    with app.state.database.session(write=True) as db:
        db.get(ObjectRecord, object_id).is_deleted = True
    for unknown in (99, object_id):
        expected = {"message": f"object {unknown} does not exist"}
        for response in (
            client.get(f"/api/v1/objects/{unknown}/locations/", auth=ADMIN),
            client.get(f"/api/v1/objects/{unknown}/locations/0", auth=ADMIN),
            assign(client, unknown, responsible_user_id=1),
        ):
            assert response.status_code == 404 and response.json() == expected


def test_reading_needs_read_and_assigning_write_permission(
    client: TestClient, object_id: int, make_location: Callable[..., int],
    add_user: Callable[..., int], grant: Callable[[int, int, Level], None],
) -> None:
    lena = add_user(USER[0])
    shelf = make_location("Shelf C")
    assign(client, object_id, location_id=shelf)
    no_read = {"message": f"insufficient permissions (read) for object {object_id}"}
    no_write = {"message": f"insufficient permissions (write) for object {object_id}"}

    for response in (client.get(f"/api/v1/objects/{object_id}/locations/", auth=USER),
                     client.get(f"/api/v1/objects/{object_id}/locations/0", auth=USER)):
        assert response.status_code == 403 and response.json() == no_read
    response = assign(client, object_id, USER, location_id=shelf)
    assert response.status_code == 403 and response.json() == no_write

    grant(object_id, lena, Level.READ)
    assert len(client.get(f"/api/v1/objects/{object_id}/locations/", auth=USER).json()) == 1
    assert client.get(f"/api/v1/objects/{object_id}/locations/0", auth=USER).status_code == 200
    response = assign(client, object_id, USER, location_id=shelf)
    assert response.status_code == 403 and response.json() == no_write

    grant(object_id, lena, Level.WRITE)
    response = assign(client, object_id, USER, location_id=shelf, responsible_user_id=lena)
    assert response.status_code == 201
    assert response.json()["user_id"] == lena
    assert len(client.get(f"/api/v1/objects/{object_id}/locations/", auth=ADMIN).json()) == 2


def test_read_only_users_cannot_assign_even_with_write_permission(
    client: TestClient, object_id: int, add_user: Callable[..., int],
    grant: Callable[[int, int, Level], None],
) -> None:
    reader = add_user(USER[0], is_readonly=True)
    grant(object_id, reader, Level.WRITE)
    response = assign(client, object_id, USER, responsible_user_id=reader)
    assert response.status_code == 403
    assert client.get(f"/api/v1/objects/{object_id}/locations/", auth=USER).json() == []


def test_anonymous_viewers_follow_the_object_permission(
    make_app: Callable[..., FastAPI], object_id: int
) -> None:
    app = make_app(anonymous_access=True)
    with app.state.database.session(write=True) as db:
        permissions.set_level(db, object_id, SubjectType.ANONYMOUS, 0, Level.READ)
    with TestClient(app) as anonymous:
        response = anonymous.get(f"/api/v1/objects/{object_id}/locations/")
        assert response.status_code == 200 and response.json() == []
        response = anonymous.post(f"/api/v1/objects/{object_id}/locations/",
                                  json={"responsible_user_id": 1})
        assert response.status_code == 401
