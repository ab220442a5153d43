"""Helpers for the file and comment tests: an object to attach things to, and permissions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.objects.models import Action
from isofind.permissions import service as permissions
from isofind.permissions.models import Level, SubjectType

ADMIN = ("admin", "admin-password")
SCHEMA = {
    "title": "Object Information",
    "type": "object",
    "properties": {"name": {"title": "Object Name", "type": "text"}},
    "required": ["name"],
}


@pytest.fixture
def action_id(app: FastAPI) -> int:
    with app.state.database.session(write=True) as db:
        action = Action(type_id=-99, name="Sample", description="", is_hidden=False,
                        schema=SCHEMA, is_locked=False)
        db.add(action)
        db.flush()
        return action.id


@pytest.fixture
def make_object(client: TestClient, action_id: int) -> Callable[[], int]:
    """Create an object owned by the administrator; returns its id."""

    def create() -> int:
        response = client.post("/api/v1/objects/", auth=ADMIN, json={
            "action_id": action_id, "data": {"name": {"_type": "text", "text": "Galena"}}})
        assert response.status_code == 201, response.text
        return int(response.headers["location"].split("/")[4])

    return create


@pytest.fixture
def object_id(make_object: Callable[[], int]) -> int:
    return make_object()


@pytest.fixture
def grant(app: FastAPI) -> Callable[[int, int, Level], None]:
    """Give a user a permission level on an object."""

    def give(object_id: int, user_id: int, level: Level) -> None:
        with app.state.database.session(write=True) as db:
            permissions.set_level(db, object_id, SubjectType.USER, user_id, level)

    return give
