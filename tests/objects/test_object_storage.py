"""How objects are stored and read fast (issue 3), with the same answers as before.

Schemas live once in ``object_schemas``, keyed by digest; lists and version reads are built
from rows and serialized without FastAPI's validation, byte for byte as FastAPI would.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.db import Database, encode_json
from isofind.migrations import alembic_config, upgrade
from isofind.objects.json_codec import JSON_OBJECT, JSON_OBJECTS, decode_json
from isofind.objects.models import Action, ObjectRecord, ObjectSchema, ObjectVersion
from isofind.objects.schema_store import StoredSchema, schema_digest
from isofind.objects.schemas import (
    version_row_json,
    version_row_json_bytes,
    version_rows_json_bytes,
)
from tests.objects.conftest import SIMPLE_SCHEMA, name_data

ADMIN = ("admin", "admin-password")


def create(client: TestClient, action_id: int, data: dict[str, Any]) -> int:
    response = client.post("/api/v1/objects/", auth=ADMIN,
                           json={"action_id": action_id, "data": data})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].split("/")[4])


def stored_schema_rows(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    with app.state.database.session(write=False) as db:
        return [(row.digest, row.schema) for row in db.scalars(sa.select(ObjectSchema))]


def test_objects_of_an_action_share_one_stored_schema(
    app: FastAPI, client: TestClient, action_id: int
) -> None:
    ids = [create(client, action_id, name_data(f"Galena {i}")) for i in range(3)]
    edited = client.post(f"/api/v1/objects/{ids[0]}/versions/", auth=ADMIN,
                         json={"data": name_data("Galena 0b")})
    assert edited.status_code == 201, edited.text
    [(digest, schema)] = stored_schema_rows(app)
    assert schema == SIMPLE_SCHEMA
    with app.state.database.session(write=False) as db:
        assert digest == schema_digest(db.get(Action, action_id).schema)
        assert set(db.scalars(sa.select(ObjectRecord.schema_digest))) == {digest}
        assert db.execute(sa.select(ObjectVersion.object_id, ObjectVersion.version_id,
                                    ObjectVersion.schema_digest)).all() == [(ids[0], 0, digest)]
    listed = client.get("/api/v1/objects/", auth=ADMIN).json()
    assert [item["object_id"] for item in listed] == ids[::-1]
    assert all(item["schema"] == SIMPLE_SCHEMA for item in listed)
    for object_id in ids:
        version = client.get(f"/api/v1/objects/{object_id}/versions/0", auth=ADMIN).json()
        assert version["schema"] == SIMPLE_SCHEMA


def test_a_schema_sent_in_another_key_order_reads_back_as_sent(
    app: FastAPI, backend: str, client: TestClient, action_id: int
) -> None:
    object_id = create(client, action_id, name_data("Galena"))
    reordered = dict(reversed(list(SIMPLE_SCHEMA.items())))
    response = client.post(f"/api/v1/objects/{object_id}/versions/", auth=ADMIN,
                           json={"schema": reordered, "data": name_data("Galena 2")})
    assert response.status_code == 201, response.text
    first = client.get(f"/api/v1/objects/{object_id}/versions/0", auth=ADMIN).json()["schema"]
    second = client.get(f"/api/v1/objects/{object_id}/versions/1", auth=ADMIN).json()["schema"]
    current = client.get("/api/v1/objects/", auth=ADMIN).json()[0]["schema"]
    assert first == second == current == SIMPLE_SCHEMA
    if backend == "sqlite":  # JSON text keeps its key order; PostgreSQL's JSONB sorts keys
        assert list(first) == list(SIMPLE_SCHEMA)
        assert list(second) == list(current) == list(reordered)
        assert len(stored_schema_rows(app)) == 2
    # An unchanged schema reuses the stored one.
    client.post(f"/api/v1/objects/{object_id}/versions/", auth=ADMIN,
                json={"data": name_data("Galena 3")})
    assert client.get(f"/api/v1/objects/{object_id}/versions/2",
                      auth=ADMIN).json()["schema"] == second


def test_a_schema_equal_to_neither_is_refused(client: TestClient, action_id: int) -> None:
    object_id = create(client, action_id, name_data("Galena"))
    response = client.post(f"/api/v1/objects/{object_id}/versions/", auth=ADMIN,
                           json={"schema": {**SIMPLE_SCHEMA, "title": "Other"},
                                 "data": name_data("Galena 2")})
    assert response.status_code == 400
    assert "schema must be equal" in response.json()["message"]


UNUSUAL_DATA = name_data(
    "Bleiglanz aus Laurion – ä ö ü ß 中文 😀",
    mass={"_type": "quantity", "magnitude": 1e-07, "units": "mg"},
    masses=[{"_type": "quantity", "magnitude": 1e16, "units": "g"},
            {"_type": "quantity", "magnitude": 0.1, "units": "kg"}],
    done={"_type": "bool", "value": False},
)


def test_list_and_version_bodies_are_what_fastapi_would_send(
    client: TestClient, action_id: int
) -> None:
    create(client, action_id, UNUSUAL_DATA)
    create(client, action_id, name_data("Second"))
    listed = client.get("/api/v1/objects/", auth=ADMIN)
    assert listed.headers["content-type"] == "application/json"
    # FastAPI serializes a returned list[dict] with this adapter: same values, same bytes.
    assert listed.content == JSON_OBJECTS.dump_json(listed.json())
    assert listed.json()[1]["data"]["name"]["text"] == UNUSUAL_DATA["name"]["text"]
    version = client.get("/api/v1/objects/1/versions/0", auth=ADMIN)
    assert version.json() == listed.json()[1]
    assert version.content == JSON_OBJECT.dump_json(version.json())


def test_fast_list_encoding_matches_the_generic_serializer() -> None:
    schema = {"title": "Sämple", "type": "object", "properties": {"name": {"type": "text"}},
              "required": ["name"]}
    other = {"type": "object", "title": "Other", "properties": {}, "required": []}
    schemas = {
        "a": StoredSchema(schema, JSON_OBJECT.dump_json(schema)),
        "b": StoredSchema(other, JSON_OBJECT.dump_json(other)),
    }
    rows: list[Any] = [
        (3, 2, 1, 7, "2026-01-02 03:04:05", "a", json.dumps(UNUSUAL_DATA)),
        (2, 0, 1, 7, "2026-01-02 03:04:06", "b", '{"x": [1, 2.5, -0.0, 123456789012345678901]}'),
        (1, 0, 4, 8, "2026-01-02 03:04:07", "a", '{"e": "\\u00e4\\ud83d\\ude00", "n": {}}'),
    ]
    expected = JSON_OBJECTS.dump_json([version_row_json(row, schemas) for row in rows])
    assert version_rows_json_bytes(rows, schemas) == expected
    assert version_rows_json_bytes(rows, schemas) == expected  # documents encoded before
    assert version_rows_json_bytes([], schemas) == b"[]"
    # The encoded documents are kept by text: another text of the same object is its own.
    changed = [(3, 3, 1, 7, "2026-01-02 03:04:05", "a", '{"x": NaN, "y": "NaN"}')]
    assert version_rows_json_bytes(changed, schemas) == JSON_OBJECTS.dump_json(
        [version_row_json(changed[0], schemas)])
    assert b'"data":{"x":null,"y":"NaN"}' in version_rows_json_bytes(changed, schemas)
    for row in rows:
        single = JSON_OBJECT.dump_json(version_row_json(row, schemas))
        assert version_row_json_bytes(row, schemas) == single


@pytest.mark.parametrize("text", [
    json.dumps(UNUSUAL_DATA), json.dumps(UNUSUAL_DATA, ensure_ascii=False),
    '{"a": 1e400, "b": -1e-320, "c": 123456789012345678901234567890, "d": "\\u00e4\\ud83d\\ude00"}',
    '"\\ud800"', '{"a": 1, "a": 2}', '[0.1, 5e-324, 1.7976931348623157e308]',
])
def test_decode_json_reads_what_json_loads_reads(text: str) -> None:
    assert decode_json(text) == json.loads(text)


@pytest.mark.parametrize("value", [
    UNUSUAL_DATA, {"big": 2**80, "nan_free": [0.1, 5e-324], "text": "é δ 😀"},
    {"surrogate": "\ud800"},
])
def test_encode_json_writes_what_json_loads_reads_back(value: object) -> None:
    assert json.loads(encode_json(value)) == value


def test_encode_json_keeps_nan_as_json_dumps_does() -> None:
    assert encode_json({"a": float("nan")}) == '{"a":NaN}'


def test_decode_json_reads_nan_as_json_loads_does() -> None:
    assert math.isnan(decode_json('{"a": NaN}')["a"])


def test_postgresql_connections_run_without_jit(app: FastAPI, backend: str) -> None:
    """JIT compiling object queries took 450 ms of a 5 ms search (issue 3)."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    with app.state.database.session(write=False) as db:
        assert db.execute(sa.text("SHOW jit")).scalar() == "off"


# --- migration 0005_object_speed ------------------------------------------------------------


def _insert(connection: sa.Connection, table_name: str, values: dict[str, Any]) -> None:
    """Insert a row, filling the NOT NULL columns ``values`` leaves out with dummies."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    dummies = {sa.Integer: 0, sa.String: "x", sa.Boolean: False, sa.DateTime: datetime(2026, 1, 1),
               sa.Float: 0.0, sa.JSON: {}}
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        row[column.name] = next(value for kind, value in dummies.items()
                                if isinstance(column.type, kind))
    connection.execute(table.insert().values(row))


def test_migration_moves_schemas_out_and_back_unchanged(tmp_path: Path) -> None:
    """SQLite only: the test database of a PostgreSQL run is already at the newest revision
    (the migration was checked against a copy of a 10,000-object PostgreSQL database)."""
    database = Database(f"sqlite:///{tmp_path / 'migrate.db'}")
    engine = database.engine
    upgrade(engine, "0004_samples")
    ordered = {"type": "object", "title": "Zürich", "required": ["name"],
               "properties": {"name": {"type": "text", "title": "Name"}}}
    texts = [json.dumps(SIMPLE_SCHEMA), json.dumps(ordered)]
    now = datetime(2026, 1, 1)
    with engine.begin() as connection:
        _insert(connection, "users", {"id": 1, "username": "owner"})
        for object_id, text in ((1, texts[0]), (2, texts[1]), (3, texts[0])):
            common = {"action_id": -1, "user_id": 1, "utc_datetime": now,
                      "data": json.dumps(name_data(f"O{object_id}"))}
            connection.execute(sa.text(
                "INSERT INTO objects (id, action_id, version_id, schema, data, user_id, "
                "utc_datetime, creator_id, created_at, is_deleted) VALUES (:id, :action_id, 1, "
                ":schema, :data, :user_id, :utc_datetime, 1, :utc_datetime, 0)"),
                {"id": object_id, "schema": text, **common})
            for version_id, version_text in ((0, texts[1 - texts.index(text)]), (1, text)):
                connection.execute(sa.text(
                    "INSERT INTO object_versions (object_id, version_id, action_id, schema, data, "
                    "user_id, utc_datetime) VALUES (:id, :version_id, :action_id, :schema, :data, "
                    ":user_id, :utc_datetime)"),
                    {"id": object_id, "version_id": version_id, "schema": version_text, **common})
        connection.execute(sa.text("INSERT INTO object_permissions VALUES (1, 'user', 1, 3)"))

    upgrade(engine, "0005_object_speed")
    with engine.connect() as connection:
        stored = dict(connection.execute(
            sa.text("SELECT digest, schema FROM object_schemas")).all())
        assert sorted(stored.values()) == sorted(texts)  # the very same JSON text
        by_text = {text: digest for digest, text in stored.items()}
        assert by_text[texts[0]] == schema_digest(SIMPLE_SCHEMA)
        objects = connection.execute(sa.text(
            "SELECT id, schema_digest FROM objects ORDER BY id")).all()
        assert objects == [(1, by_text[texts[0]]), (2, by_text[texts[1]]), (3, by_text[texts[0]])]
        versions = connection.execute(sa.text(
            "SELECT object_id, version_id, schema_digest FROM object_versions "
            "ORDER BY object_id, version_id")).all()
        assert [digest for *_, digest in versions] == [
            by_text[texts[1]], by_text[texts[0]], by_text[texts[0]], by_text[texts[1]],
            by_text[texts[1]], by_text[texts[0]]]
        # Nothing referencing objects was touched.
        assert connection.execute(sa.text("SELECT count(*) FROM object_permissions")).scalar() == 1

    with database.session(write=False) as db:
        assert db.get(ObjectRecord, 2).schema_digest == by_text[texts[1]]

    config = alembic_config(database.url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004_samples")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, schema FROM objects ORDER BY id")).all()
        assert [json.loads(text) for _, text in rows] == [SIMPLE_SCHEMA, ordered, SIMPLE_SCHEMA]
        versions = connection.execute(sa.text(
            "SELECT schema FROM object_versions ORDER BY object_id, version_id")).scalars()
        assert [json.loads(text) for text in versions] == [
            ordered, SIMPLE_SCHEMA, SIMPLE_SCHEMA, ordered, ordered, SIMPLE_SCHEMA]
    upgrade(engine, "0005_object_speed")  # again, over what the downgrade left behind
    with engine.connect() as connection:
        assert connection.execute(sa.text(
            "SELECT count(*) FROM objects WHERE schema_digest IS NULL")).scalar() == 0
    database.dispose()
