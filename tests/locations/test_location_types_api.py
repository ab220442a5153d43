"""SampleDB location type routes, the built-in type and the administrators' POST."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from isofind.db import Database
from isofind.migrations import upgrade
from tests.conftest import ADMIN

BUILT_IN = {"location_type_id": -99, "name": "Locations"}


def test_the_built_in_type_is_listed_and_readable(client: TestClient) -> None:
    assert client.get("/api/v1/location_types/", auth=ADMIN).json() == [BUILT_IN]
    assert client.get("/api/v1/location_types", auth=ADMIN).json() == [BUILT_IN]
    assert client.get("/api/v1/location_types/-99", auth=ADMIN).json() == BUILT_IN


def test_unknown_type_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/location_types/5", auth=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"message": "location type 5 does not exist"}


def test_create_answers_201_with_location_header_and_the_type(client: TestClient) -> None:
    response = client.post("/api/v1/location_types/", auth=ADMIN, json={
        "name": "Freezer", "location_name_singular": "Freezer",
        "location_name_plural": "Freezers", "enable_sub_locations": False})
    assert response.status_code == 201
    # Custom types count from 1 on both backends, whatever the built-in -99 does to SQLite.
    assert response.headers["location"] == "/api/v1/location_types/1"
    assert response.json() == {"location_type_id": 1, "name": "Freezer"}
    assert client.get("/api/v1/location_types/1", auth=ADMIN).json() == response.json()
    assert client.get("/api/v1/location_types/", auth=ADMIN).json() == [BUILT_IN, response.json()]
    second = client.post("/api/v1/location_types/", auth=ADMIN, json={"name": "Rack"})
    assert second.json() == {"location_type_id": 2, "name": "Rack"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name: Field required"),
        ({"name": ""}, "name: String should have at least 1 character"),
        ({"name": "X" * 201}, "name: String should have at most 200 characters"),
        ({"name": "X", "admin_only": 1}, "admin_only: Input should be a valid boolean"),
        ({"name": "X", "capacity": 3}, "capacity: Extra inputs are not permitted"),
    ],
)
def test_create_refusals_change_nothing(client: TestClient, body: Any, message: str) -> None:
    response = client.post("/api/v1/location_types/", auth=ADMIN, json=body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert client.get("/api/v1/location_types/", auth=ADMIN).json() == [BUILT_IN]


def test_only_administrators_create_types(
    client: TestClient, add_user: Callable[..., int]
) -> None:
    add_user("mia", role="manager")
    response = client.post("/api/v1/location_types/", auth=("mia", "password-123"),
                           json={"name": "Mine"})
    assert response.status_code == 403
    assert response.json() == {
        "message": "only administrators may manage locations and location types"}
    assert client.get("/api/v1/location_types/", auth=ADMIN).json() == [BUILT_IN]


def test_the_migration_seeds_the_built_in_type(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(database.engine)
    with database.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, name, location_name_singular, enable_object_assignments "
            "FROM location_types")).all()
    database.dispose()
    assert [tuple(row) for row in rows] == [(-99, "Locations", "Location", 1)]
