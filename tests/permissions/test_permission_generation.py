"""The database bumps the permission generation on every change to what permissions read.

Checked with plain SQL, below any service: a path that writes these tables without going
through the permission module must still move the counter (migration 0008).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from isofind.permissions.service import permission_generation
from tests.conftest import ADMIN

# (table, INSERT, UPDATE, DELETE); :object, :user, :group, :project, :instrument are bound.
STATEMENTS = [
    ("object_permissions",
     "INSERT INTO object_permissions (object_id, subject_type, subject_id, level) "
     "VALUES (:object, 'user', :user, 1)",
     "UPDATE object_permissions SET level = 2 WHERE object_id = :object AND subject_id = :user",
     "DELETE FROM object_permissions WHERE object_id = :object AND subject_id = :user"),
    ("group_members",
     "INSERT INTO group_members (group_id, user_id) VALUES (:group, :user)",
     "UPDATE group_members SET user_id = user_id WHERE group_id = :group",
     "DELETE FROM group_members WHERE group_id = :group"),
    ("project_members",
     "INSERT INTO project_members (project_id, user_id, level) VALUES (:project, :user, 1)",
     "UPDATE project_members SET level = 2 WHERE project_id = :project",
     "DELETE FROM project_members WHERE project_id = :project"),
    ("project_group_members",
     "INSERT INTO project_group_members (project_id, group_id, level) "
     "VALUES (:project, :group, 1)",
     "UPDATE project_group_members SET level = 2 WHERE project_id = :project",
     "DELETE FROM project_group_members WHERE project_id = :project"),
    ("instrument_scientists",
     "INSERT INTO instrument_scientists (instrument_id, user_id) VALUES (:instrument, :user)",
     "UPDATE instrument_scientists SET user_id = user_id WHERE instrument_id = :instrument",
     "DELETE FROM instrument_scientists WHERE instrument_id = :instrument"),
    ("actions",
     "INSERT INTO actions (id, type_id, name, description, is_hidden, schema, is_locked) "
     "VALUES (9999, -99, 'probe', '', false, '{}', false)",
     "UPDATE actions SET instrument_id = :instrument WHERE id = 9999",
     "DELETE FROM actions WHERE id = 9999"),
]


def _read(connection: Connection) -> int:
    return int(connection.execute(text(
        "SELECT generation FROM permission_generation WHERE id = 1")).scalar_one())


@pytest.mark.parametrize(("table", "insert", "update", "delete"), STATEMENTS,
                         ids=[row[0] for row in STATEMENTS])
def test_each_write_to_a_permission_table_bumps_the_generation(
        client: TestClient, app: FastAPI, add_user: Callable[..., int],
        table: str, insert: str, update: str, delete: str) -> None:
    sample = client.post("/api/samples", json={"name": "probe"}).json()["id"]
    user = add_user("probe")
    with app.state.database.engine.connect() as connection:
        transaction = connection.begin()  # rolled back: the rows only exist to be written
        keys = {"object": sample, "user": user}
        for name, statement in (
                ("group", "INSERT INTO groups (name, description) VALUES ('g', '')"),
                ("project", "INSERT INTO projects (name, description) VALUES ('p', '')"),
                ("instrument", "INSERT INTO instruments (name, description, "
                 "short_description, notes, is_hidden) VALUES ('i', '', '', '', false)")):
            connection.execute(text(statement))
            keys[name] = connection.execute(text(f"SELECT max(id) FROM {name}s")).scalar_one()
        seen = [_read(connection)]
        for statement in (insert, update, delete):
            connection.execute(text(statement), keys)
            seen.append(_read(connection))
        transaction.rollback()
    assert seen[1] > seen[0] and seen[2] > seen[1] and seen[3] > seen[2], (table, seen)


def test_deleting_a_group_bumps_it_through_the_cascade_to_its_members(
        client: TestClient, app: FastAPI, add_user: Callable[..., int]) -> None:
    user = add_user("member")
    group = client.post("/api/v1/groups/", json={"name": "Team"}, auth=ADMIN).json()["group_id"]
    assert client.post(f"/api/v1/groups/{group}/member_users/",
                       json={"user_id": user}, auth=ADMIN).status_code == 201
    with app.state.database.session(write=True) as db:
        before = permission_generation(db)
        db.execute(text("DELETE FROM groups WHERE id = :group"), {"group": group})
        assert db.scalar(text("SELECT count(*) FROM group_members")) == 0
        assert permission_generation(db) > before


def test_a_sample_created_or_shared_moves_it_and_a_read_does_not(
        client: TestClient, app: FastAPI, add_user: Callable[..., int]) -> None:
    reader = add_user("reader")

    def current() -> int:
        with app.state.database.session(write=False) as db:
            return permission_generation(db)

    start = current()
    sample = client.post("/api/samples", json={"name": "shared"}).json()["id"]
    created = current()
    assert client.get(f"/api/samples/{sample}").status_code == 200
    assert client.get(f"/api/v1/objects/{sample}/permissions/users/", auth=ADMIN).status_code == 200
    assert current() == created > start
    assert client.put(f"/api/v1/objects/{sample}/permissions/users/{reader}",
                      json="read", auth=ADMIN).status_code == 200
    assert current() > created
