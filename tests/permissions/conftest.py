"""A small lab for the permission tests: an owner with one object, a holder whose access
each test arranges, and another user to grant things to."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from isofind.identity import service
from isofind.identity.models import (
    Group,
    GroupMember,
    Project,
    ProjectGroupMember,
    ProjectMember,
    Role,
)
from isofind.instruments.models import Instrument, InstrumentScientist
from isofind.objects.models import Action
from isofind.permissions.models import Level

ADMIN = ("admin", "admin-password")
PASSWORD = "password-123"
OWNER = ("owner", PASSWORD)
HOLDER = ("holder", PASSWORD)
OTHER = ("other", PASSWORD)
_serial = itertools.count(1)

SIMPLE_SCHEMA: dict[str, Any] = {
    "title": "Object Information",
    "type": "object",
    "properties": {"name": {"title": "Object Name", "type": "text"}},
    "required": ["name"],
}


def name_data(name: str) -> dict[str, Any]:
    return {"name": {"_type": "text", "text": name}}


@dataclass
class Lab:
    app: FastAPI
    client: TestClient
    owner_id: int
    holder_id: int
    other_id: int
    action_id: int
    object_id: int

    def session(self) -> AbstractContextManager[Session]:
        return self.app.state.database.session(write=True)

    def url(self, suffix: str = "") -> str:
        return f"/api/v1/objects/{self.object_id}{suffix}"

    def share(self, suffix: str, value: object) -> None:
        """The owner (who holds grant as creator) sets one entry through the route."""
        response = self.client.put(self.url(f"/permissions/{suffix}"), json=value, auth=OWNER)
        assert response.status_code == 200, response.text

    def add_group(self, *member_ids: int) -> int:
        with self.session() as db:
            group = Group(name=f"group {next(_serial)}", description="")
            db.add(group)
            db.flush()
            db.add_all(GroupMember(group_id=group.id, user_id=uid) for uid in member_ids)
            return group.id

    def add_project(self, users: dict[int, Level] | None = None,
                    groups: dict[int, Level] | None = None) -> int:
        with self.session() as db:
            project = Project(name=f"project {next(_serial)}", description="")
            db.add(project)
            db.flush()
            db.add_all(ProjectMember(project_id=project.id, user_id=uid, level=int(level))
                       for uid, level in (users or {}).items())
            db.add_all(ProjectGroupMember(project_id=project.id, group_id=gid, level=int(level))
                       for gid, level in (groups or {}).items())
            return project.id

    def add_instrument(self, *scientist_ids: int, for_action: bool = True) -> int:
        """An instrument with these scientists; the lab's action uses it unless told not to."""
        with self.session() as db:
            instrument = Instrument(name="MC-ICP-MS", description="", short_description="",
                                    notes="", is_hidden=False)
            db.add(instrument)
            db.flush()
            db.add_all(InstrumentScientist(instrument_id=instrument.id, user_id=uid)
                       for uid in scientist_ids)
            if for_action:
                action = db.get(Action, self.action_id)
                assert action is not None
                action.instrument_id = instrument.id
            return instrument.id


def _add_user(db: Session, app: FastAPI, username: str, role: str = "user",
              is_readonly: bool = False) -> int:
    user = service.create_user(db, app.state.identity, username=username, password=PASSWORD,
                               role=Role.parse(role), is_readonly=is_readonly)
    return user.id


@pytest.fixture
def lab_for(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., Lab]]:
    """Build a lab; ``holder`` keyword arguments (role, is_readonly) shape the holder."""
    clients: list[TestClient] = []

    def build(anonymous_access: bool = False, **holder: Any) -> Lab:
        app = make_app(mode="multi_user", anonymous_access=anonymous_access)
        with app.state.database.session(write=True) as db:
            owner_id = _add_user(db, app, "owner")
            holder_id = _add_user(db, app, "holder", **holder)
            other_id = _add_user(db, app, "other")
            action = Action(type_id=-99, name="Sample", description="", is_hidden=False,
                            schema=SIMPLE_SCHEMA, is_locked=False)
            db.add(action)
            db.flush()
            action_id = action.id
        client = TestClient(app)
        clients.append(client)
        created = client.post("/api/v1/objects/", auth=OWNER,
                              json={"action_id": action_id, "data": name_data("Pb ore 1")})
        assert created.status_code == 201, created.text
        object_id = int(created.headers["Location"].split("/")[-3])
        return Lab(app, client, owner_id, holder_id, other_id, action_id, object_id)

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def lab(lab_for: Callable[..., Lab]) -> Lab:
    return lab_for()
