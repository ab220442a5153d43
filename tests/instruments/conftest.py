"""Helpers for the instrument tests: users, instruments, objects and permissions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.objects.models import Action
from isofind.permissions import service as permissions
from isofind.permissions.models import Level, SubjectType

ADMIN = ("admin", "admin-password")
CURIE = ("curie", "password-123")  # scientist of the instrument
MEITNER = ("meitner", "password-123")  # second scientist
BOHR = ("bohr", "password-123")  # a user without any role in the instrument
READER = ("reader", "password-123")  # read-only scientist

SCHEMA: dict[str, Any] = {
    "title": "Object Information",
    "type": "object",
    "properties": {"name": {"title": "Object Name", "type": "text"}},
    "required": ["name"],
}


@pytest.fixture
def users(multi_app: FastAPI, add_user: Callable[..., int]) -> dict[str, int]:
    return {
        "admin": 1,
        "curie": add_user("curie"),
        "meitner": add_user("meitner"),
        "bohr": add_user("bohr"),
        "reader": add_user("reader", is_readonly=True),
    }


@pytest.fixture
def make_instrument(multi_client: TestClient) -> Callable[..., int]:
    """Create an instrument through the API as the administrator; returns its id."""

    def create(name: str = "Neptune MC-ICP-MS", **fields: Any) -> int:
        response = multi_client.post("/api/v1/instruments/", auth=ADMIN,
                                     json={"name": name, **fields})
        assert response.status_code == 201, response.text
        return int(response.json()["instrument_id"])

    return create


@pytest.fixture
def instrument_id(make_instrument: Callable[..., int], users: dict[str, int]) -> int:
    return make_instrument(instrument_scientists=[
        users["curie"], users["meitner"], users["reader"]])


@pytest.fixture
def action_id(multi_app: FastAPI) -> int:
    with multi_app.state.database.session(write=True) as db:
        action = Action(type_id=-99, name="Sample", description="", is_hidden=False,
                        schema=SCHEMA, is_locked=False)
        db.add(action)
        db.flush()
        return action.id


@pytest.fixture
def make_object(multi_client: TestClient, action_id: int) -> Callable[..., int]:
    """Create an object through the API; its creator holds grant on it. Returns its id."""

    def create(auth: tuple[str, str] = CURIE, name: str = "Galena") -> int:
        response = multi_client.post("/api/v1/objects/", auth=auth, json={
            "action_id": action_id, "data": {"name": {"_type": "text", "text": name}}})
        assert response.status_code == 201, response.text
        return int(response.headers["location"].split("/")[4])

    return create


@pytest.fixture
def grant(multi_app: FastAPI) -> Callable[[int, int, Level], None]:
    """Give a user a permission level on an object."""

    def give(object_id: int, user_id: int, level: Level) -> None:
        with multi_app.state.database.session(write=True) as db:
            permissions.set_level(db, object_id, SubjectType.USER, user_id, level)

    return give
