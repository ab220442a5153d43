"""Versions are stored once: the current one in ``objects``, the earlier ones in
``object_versions`` (migration 0007), and every one of them reads back as written."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.db import Database
from isofind.migrations import alembic_config, upgrade
from isofind.objects.models import ObjectRecord, ObjectVersion
from isofind.permissions.models import Level
from tests.objects.conftest import name_data
from tests.objects.test_object_storage import _insert, create

ADMIN = ("admin", "admin-password")


def new_version(client: TestClient, object_id: int, name: str) -> None:
    response = client.post(f"/api/v1/objects/{object_id}/versions/", auth=ADMIN,
                           json={"data": name_data(name)})
    assert response.status_code == 201, response.text


def version(client: TestClient, object_id: int, version_id: int,
            **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/objects/{object_id}/versions/{version_id}", auth=ADMIN,
                          params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_version_reads_back_and_each_is_stored_once(
    app: FastAPI, client: TestClient, action_id: int
) -> None:
    object_id = create(client, action_id, name_data("a"))
    new_version(client, object_id, "b")
    new_version(client, object_id, "c")

    names = [version(client, object_id, v)["data"]["name"]["text"] for v in range(3)]
    assert names == ["a", "b", "c"]
    assert [version(client, object_id, v)["version_id"] for v in range(3)] == [0, 1, 2]
    assert client.get(f"/api/v1/objects/{object_id}/versions/3", auth=ADMIN).status_code == 404
    # The diff of the current version is taken against the newest stored earlier one.
    for version_id, before, after in ((2, "b", "c"), (1, "a", "b")):
        diff = version(client, object_id, version_id, include_diff="1")["data_diff"]
        assert diff == {"name": {"_before": name_data(before)["name"],
                                 "_after": name_data(after)["name"]}}
    with app.state.database.session(write=False) as db:
        assert db.execute(sa.select(ObjectVersion.version_id, ObjectVersion.data)
                          .where(ObjectVersion.object_id == object_id)
                          .order_by(ObjectVersion.version_id)).all() == [
            (0, name_data("a")), (1, name_data("b"))]
        current = db.get(ObjectRecord, object_id)
        assert (current.version_id, current.data) == (2, name_data("c"))


def test_earlier_and_current_versions_need_read_permission(
    client: TestClient, action_id: int, add_user: Callable[..., int],
    grant: Callable[[int, int, Level], None],
) -> None:
    object_id = create(client, action_id, name_data("a"))
    new_version(client, object_id, "b")
    reader = add_user("reader")
    auth = ("reader", "password-123")
    paths = [f"/api/v1/objects/{object_id}/versions/{v}" for v in (0, 1)]
    assert [client.get(path, auth=auth).status_code for path in paths] == [403, 403]
    grant(object_id, reader, Level.READ)
    assert [client.get(path, auth=auth).json()["data"]["name"]["text"]
            for path in paths] == ["a", "b"]


def test_migration_keeps_earlier_versions_only_and_back(tmp_path: Path) -> None:
    """SQLite: the test database of a PostgreSQL run is already at the newest revision."""
    database = Database(f"sqlite:///{tmp_path / 'migrate.db'}")
    engine = database.engine
    upgrade(engine, "0006_merge")
    moment = datetime(2026, 1, 1)
    with engine.begin() as connection:
        _insert(connection, "users", {"id": 1, "username": "owner"})
        connection.execute(sa.text(
            "INSERT INTO object_schemas (digest, schema) VALUES ('d', '{}')"))
        _insert(connection, "objects", {
            "id": 1, "action_id": -1, "version_id": 1, "schema_digest": "d",
            "data": {"v": 1}, "user_id": 1, "utc_datetime": moment, "creator_id": 1,
            "created_at": moment, "is_deleted": False})
        for version_id in (0, 1):
            _insert(connection, "object_versions", {
                "object_id": 1, "version_id": version_id, "action_id": -1,
                "schema_digest": "d", "data": {"v": version_id}, "user_id": 1,
                "utc_datetime": moment})

    def stored_versions() -> list[tuple[int, Any]]:
        with engine.connect() as connection:
            return [(version_id, json.loads(data)) for version_id, data in connection.execute(
                sa.text("SELECT version_id, data FROM object_versions ORDER BY version_id"))]

    upgrade(engine, "0007_import_speed")
    assert stored_versions() == [(0, {"v": 0})]
    config = alembic_config(database.url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006_merge")
    assert stored_versions() == [(0, {"v": 0}), (1, {"v": 1})]
    database.dispose()
