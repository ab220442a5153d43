"""SampleDB action and action-type routes, with IsoFind's creation extensions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.objects.conftest import SIMPLE_SCHEMA

ADMIN = ("admin", "admin-password")
USER = ("una", "password-123")


def new_action(client: TestClient, auth=ADMIN, **fields) -> dict:
    body = {"type_id": -99, "name": "Galena sample", "description": "ore",
            "schema": SIMPLE_SCHEMA, **fields}
    response = client.post("/api/v1/actions/", auth=auth, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_action_types_are_the_three_built_in_ones(client: TestClient) -> None:
    types = client.get("/api/v1/action_types/", auth=ADMIN).json()
    assert types == [
        {"type_id": -99, "name": "Sample Creation", "object_name": "sample", "admin_only": False},
        {"type_id": -98, "name": "Measurement", "object_name": "measurement",
         "admin_only": False},
        {"type_id": -97, "name": "Simulation", "object_name": "simulation", "admin_only": False},
    ]
    assert client.get("/api/v1/action_types/-98", auth=ADMIN).json()["name"] == "Measurement"
    assert client.get("/api/v1/action_types/5", auth=ADMIN).json() == {
        "message": "action type 5 does not exist"}


def test_admin_creates_reads_and_updates_an_action(client: TestClient) -> None:
    created = client.post("/api/v1/actions/", auth=ADMIN, json={
        "type_id": -99, "name": "Galena sample", "schema": SIMPLE_SCHEMA})
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/actions/1"
    assert created.json() == {
        "action_id": 1, "instrument_id": None, "user_id": None, "type": "sample",
        "type_id": -99, "name": "Galena sample", "description": "", "is_hidden": False,
        "schema": SIMPLE_SCHEMA}
    updated = client.post("/api/v1/actions/1", auth=ADMIN, json={
        "action_id": 1, "type": "sample", "type_id": -99, "name": "Galena",
        "description": "lead ore", "is_hidden": True, "schema": SIMPLE_SCHEMA})
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["description"],
            updated.json()["is_hidden"]) == ("Galena", "lead ore", True)
    names = [a["name"] for a in client.get("/api/v1/actions/", auth=ADMIN).json()]
    assert names == ["Isotope sample", "Galena"]


def test_action_update_refusals(multi_client: TestClient, add_user) -> None:
    new_action(multi_client)
    add_user("una")
    cases = [
        ({"type_id": -98}, 400, "type_id must not be changed"),
        ({"type": "measurement"}, 400, "type must not be changed"),
        ({"name": 5}, 400, "name must be of type str"),
        ({"schema": {"type": "object", "properties": {}}}, 400, "invalid schema:"),
        ({"colour": "red"}, 400, "invalid key 'colour'"),
    ]
    for body, status, message in cases:
        response = multi_client.post("/api/v1/actions/1", auth=ADMIN, json=body)
        assert response.status_code == status, body
        assert response.json()["message"].startswith(message), response.json()
    forbidden = multi_client.post("/api/v1/actions/1", auth=USER, json={"name": "mine"})
    assert forbidden.status_code == 403
    missing = multi_client.post("/api/v1/actions/9", auth=ADMIN, json={"name": "x"})
    assert missing.status_code == 404


def test_locked_built_in_actions_cannot_change(client: TestClient, app) -> None:
    from isofind.objects.models import Action

    with app.state.database.session(write=True) as db:
        db.add(Action(type_id=-99, name="Isotope sample", description="", is_hidden=False,
                      schema=SIMPLE_SCHEMA, is_locked=True))
    response = client.post("/api/v1/actions/1", auth=ADMIN, json={"name": "renamed"})
    assert response.status_code == 403
    assert response.json() == {"message": "action 1 is built in and cannot be changed"}


def test_users_create_their_own_actions_and_may_edit_only_those(
    multi_client: TestClient, add_user
) -> None:
    user_id = add_user("una")
    mine = new_action(multi_client, auth=USER)
    assert mine["user_id"] == user_id
    renamed = multi_client.post(f"/api/v1/actions/{mine['action_id']}", auth=USER,
                                json={"name": "Renamed"})
    assert renamed.json()["name"] == "Renamed"
    admin_action = new_action(multi_client)
    assert admin_action["user_id"] is None
    assert multi_client.post(f"/api/v1/actions/{admin_action['action_id']}", auth=USER,
                             json={"name": "x"}).status_code == 403


def test_action_creation_refusals(client: TestClient) -> None:
    cases = [
        ({"name": "x", "schema": SIMPLE_SCHEMA}, "type_id must be set"),
        ({"type_id": 4, "name": "x", "schema": SIMPLE_SCHEMA},
         "type_id 4 does not name an action type"),
        ({"type_id": -99, "schema": SIMPLE_SCHEMA}, "name must be set"),
        ({"type_id": -99, "name": "x"}, "schema must be set"),
        ({"type_id": -99, "name": "  ", "schema": SIMPLE_SCHEMA}, "name must not be empty"),
        ({"type_id": -99, "name": "x", "schema": SIMPLE_SCHEMA, "instrument_id": 3},
         "instrument_id 3 does not name an instrument"),
        ({"type_id": -99, "name": "x", "schema": {"title": "t", "type": "object",
                                                  "properties": {}}}, "invalid schema:"),
    ]
    for body, message in cases:
        response = client.post("/api/v1/actions/", auth=ADMIN, json=body)
        assert response.status_code == 400, body
        assert response.json()["message"].startswith(message), response.json()
    assert [a["action_id"] for a in client.get("/api/v1/actions/", auth=ADMIN).json()] == [-1]


def test_custom_action_types_need_an_admin(multi_client: TestClient, add_user) -> None:
    add_user("una")
    created = multi_client.post("/api/v1/action_types/", auth=ADMIN, json={
        "name": "Isotope analysis", "object_name": "analysis", "admin_only": True})
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/action_types/1"
    assert created.json() == {"type_id": 1, "name": "Isotope analysis",
                              "object_name": "analysis", "admin_only": True}
    assert multi_client.post("/api/v1/action_types/", auth=USER,
                             json={"name": "x"}).status_code == 403
    refused = multi_client.post("/api/v1/actions/", auth=USER, json={
        "type_id": 1, "name": "x", "schema": SIMPLE_SCHEMA})
    assert refused.status_code == 403
    custom = new_action(multi_client, type_id=1)
    assert custom["type"] == "custom"
    objects = multi_client.post("/api/v1/objects/", auth=USER, json={
        "action_id": custom["action_id"], "data": {"name": {"_type": "text", "text": "a"}}})
    assert objects.status_code == 403
