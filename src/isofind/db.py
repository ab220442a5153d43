"""Engine, sessions and the per-request unit of work.

SQLite runs in WAL mode with foreign keys on; write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing midway
with "database is locked" when a deferred read transaction tries to upgrade.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic_core import from_json, to_json
from sqlalchemy import JSON, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on SQLite, JSONB on PostgreSQL (indexable, comparable in SQL).
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to us: pysqlite's implicit BEGIN is always DEFERRED.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_IMMEDIATE = "isofind_sqlite_immediate"


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # JIT compilation pays off for long analytical queries only. Object queries carry
        # JSON paths and permission subqueries whose estimated cost crosses jit_above_cost,
        # so PostgreSQL spent ~450 ms compiling a 5 ms search (EXPLAIN ANALYZE, issue 3).
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute("SET jit = off")
        cursor.close()
        dbapi_connection.autocommit = autocommit


def encode_json(value: Any) -> str:
    """``json.dumps(value)`` values (big integers, NaN) at pydantic's speed, 3x the stdlib's:
    object data is encoded on every write and dominated imports."""
    try:
        return to_json(value, inf_nan_mode="constants").decode()
    except (TypeError, ValueError):  # e.g. lone surrogates, which json.dumps escapes
        return json.dumps(value)


def decode_json(text: str) -> Any:
    """``json.loads(text)``, twice as fast for the documents objects hold (same values)."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)  # what pydantic's parser refuses, e.g. lone surrogates


_JSON_CODEC: dict[str, Any] = {"json_serializer": encode_json, "json_deserializer": decode_json}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **_JSON_CODEC)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                           **_JSON_CODEC)
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    return engine


class Database:
    """The engine and two session factories: reads begin deferred, writes immediate."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(**{_IMMEDIATE: True})
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        """One transaction: commit when the block ends normally, roll back otherwise."""
        session = (self._write if write else self._read)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
