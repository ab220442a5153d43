"""An app per database backend: SQLite by default, PostgreSQL with ISOFIND_TEST_BACKEND=postgresql.

The schema is migrated once per run; every test starts from empty tables with one
administrator (``admin`` / ``admin-password``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from isofind.app import create_app
from isofind.config import Settings
from isofind.db import Base, Database
from isofind.identity import service
from isofind.identity.bootstrap import create_initial_admin
from isofind.identity.models import Role
from isofind.identity.service import IdentityRuntime
from isofind.migrations import upgrade
from isofind.objects.models import Action
from isofind.permissions import service as permissions
from isofind.permissions.models import Level, SubjectType

ADMIN = ("admin", "admin-password")


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_sql_on_the_event_loop(*_args: Any) -> None:
    """Every statement of every test runs off the event loop: one there would stall every
    other request while it waits for the database."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise AssertionError("SQL on the event loop's thread")


CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}


def _backend() -> str:
    backend = os.environ.get("ISOFIND_TEST_BACKEND", "sqlite")
    if backend not in {"sqlite", "postgresql"}:
        raise pytest.UsageError(f"ISOFIND_TEST_BACKEND must be sqlite or postgresql: {backend}")
    if backend == "postgresql" and not os.environ.get("ISOFIND_TEST_DATABASE_URL"):
        raise pytest.UsageError("ISOFIND_TEST_BACKEND=postgresql needs ISOFIND_TEST_DATABASE_URL")
    return backend


@pytest.fixture(scope="session")
def backend() -> str:
    return _backend()


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'isofind-test.db'}"
    else:
        url = os.environ["ISOFIND_TEST_DATABASE_URL"]
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    return url


# Rows the migrations seed, kept between tests.
SEEDED = {
    "action_types": "id NOT IN (-99, -98, -97)",
    "actions": "id <> -1",  # the built-in isotope sample action
    "location_types": "id <> -99",
    "standards": "id >= 0",  # keeps the built-in standards (negative ids, 0005_standards)
    "standard_versions": "id >= 0",
    "sample_index_generation": "id <> 1",
    "permission_generation": "id <> 1",
}


def _empty_tables(database: Database) -> None:
    """Delete every row but the seeded ones, children first, and restart the id counters."""
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            condition = SEEDED.get(table.name)
            where = f" WHERE {condition}" if condition else ""
            connection.execute(text(f'DELETE FROM "{table.name}"{where}'))
        if database.is_sqlite:
            connection.execute(text("DELETE FROM sqlite_sequence"))
        else:
            connection.execute(text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))


@pytest.fixture
def settings_for(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            **CHEAP_ARGON2,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def make_app(settings_for: Callable[..., Settings]) -> Iterator[Callable[..., FastAPI]]:
    """Build apps on the clean test database; the first one seeds the administrator."""
    apps: list[FastAPI] = []

    def build(**overrides: Any) -> FastAPI:
        app = create_app(settings_for(**overrides))
        if not apps:
            _empty_tables(app.state.database)
            with app.state.database.session(write=True) as db:
                create_initial_admin(db, app.state.identity, *ADMIN)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.database.dispose()


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def multi_app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app(mode="multi_user")


@pytest.fixture
def multi_client(multi_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(multi_app) as test_client:
        yield test_client


@pytest.fixture
def runtime(app: FastAPI) -> IdentityRuntime:
    return app.state.identity


@pytest.fixture
def add_user(make_app: Callable[..., FastAPI]) -> Callable[..., int]:
    """Create an account directly through the service; returns its id."""

    def create(username: str, role: str = "user", password: str = "password-123",
               **fields: Any) -> int:
        app = make_app()
        with app.state.database.session(write=True) as db:
            user = service.create_user(db, app.state.identity, username=username,
                                       password=password, role=Role.parse(role), **fields)
            return user.id

    return create


NAME_ONLY_SCHEMA: dict[str, Any] = {
    "title": "Object Information",
    "type": "object",
    "properties": {"name": {"title": "Object Name", "type": "text"}},
    "required": ["name"],
}


@pytest.fixture
def action_id(app: FastAPI) -> int:
    """An action whose objects have a name only (rooms needing more override it)."""
    with app.state.database.session(write=True) as db:
        action = Action(type_id=-99, name="Sample", description="", is_hidden=False,
                        schema=NAME_ONLY_SCHEMA, is_locked=False)
        db.add(action)
        db.flush()
        return action.id


@pytest.fixture
def make_object(client: TestClient, action_id: int) -> Callable[[], int]:
    """Create an object through the API as the administrator; returns its id."""

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
