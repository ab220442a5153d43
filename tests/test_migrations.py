"""The Alembic migrations and the models describe the same schema, on this backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, inspect, make_url, text

from isofind.db import Database
from isofind.migrations import alembic_config, upgrade
from isofind.models import Base
from tests.objects.test_object_storage import _insert


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_every_model_table_exists_after_migration(database_url: str) -> None:
    engine = create_engine(database_url)
    present = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= present
    assert "alembic_version" in present


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test backend, dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_scratch"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


def _insert_object(connection: Connection, object_id: int) -> None:
    """An object of user 1 ("owner") with an empty schema."""
    _insert(connection, "users", {"id": 1, "username": "owner"})
    _insert(connection, "object_schemas", {"digest": "d", "schema": {}})
    _insert(connection, "objects", {"id": object_id, "action_id": -1, "schema_digest": "d",
                                    "user_id": 1, "creator_id": 1})


def test_the_permission_generation_triggers_come_and_go_with_their_migration(
        scratch_url: str) -> None:
    database = Database(scratch_url)
    engine = database.engine
    share = text("INSERT INTO object_permissions (object_id, subject_type, subject_id, level) "
                 "VALUES (1, 'authenticated', 0, 1)")

    def counter(connection: Connection) -> int:
        return int(connection.execute(text(
            "SELECT generation FROM permission_generation")).scalar_one())

    upgrade(engine, "0008_permission_generation")
    with engine.begin() as connection:
        _insert_object(connection, 1)
        connection.execute(share)
        assert counter(connection) == 1
    config = alembic_config(database.url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007_import_speed")
    assert "permission_generation" not in inspect(engine).get_table_names()
    with engine.begin() as connection:  # no trigger is left to write to the dropped table
        connection.execute(text("DELETE FROM object_permissions"))
        connection.execute(share)
    upgrade(engine, "0008_permission_generation")
    with engine.begin() as connection:
        assert counter(connection) == 0
        connection.execute(text("DELETE FROM object_permissions"))
        assert counter(connection) == 1
    database.dispose()


def test_usernames_get_their_key_and_colliding_ones_keep_their_accounts(
        scratch_url: str) -> None:
    database = Database(scratch_url)
    engine = database.engine
    upgrade(engine, "0008_permission_generation")
    with engine.begin() as connection:
        for user_id, username in ((1, "Élise"), (2, "élise"), (3, "Bob")):
            _insert(connection, "users", {"id": user_id, "username": username})

    upgrade(engine, "0009_username_key")

    with engine.connect() as connection:
        keys = connection.execute(text("SELECT id, username_key FROM users ORDER BY id")).all()
    assert [tuple(row) for row in keys] == [(1, "élise"), (2, "élise#2"), (3, "bob")]
    database.dispose()


def _creator_keys(engine: Engine) -> list[list[str]]:
    return [key["constrained_columns"] for key in inspect(engine).get_foreign_keys("sample_index")
            if key["referred_table"] == "users"]


def test_the_index_creator_loses_its_key_and_keeps_its_rows(scratch_url: str) -> None:
    database = Database(scratch_url)
    engine = database.engine
    upgrade(engine, "0009_username_key")
    with engine.begin() as connection:
        _insert_object(connection, 5)
        _insert(connection, "sample_index", {"sample_id": 5, "name_key": "galena 1",
                                             "name": "Galena 1", "creator_id": 1})
    assert _creator_keys(engine) == [["creator_id"]]

    upgrade(engine, "0010_index_creator_key")

    assert _creator_keys(engine) == []
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT sample_id, name, creator_id FROM sample_index"))
        assert [tuple(row) for row in rows] == [(5, "Galena 1", 1)]
    config = alembic_config(database.url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009_username_key")
    assert _creator_keys(engine) == [["creator_id"]]
    database.dispose()
