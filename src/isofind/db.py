"""Engine, sessions and the per-request unit of work.

SQLite runs in WAL mode with foreign keys on; write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing midway
with "database is locked" when a deferred read transaction tries to upgrade.

PostgreSQL read sessions run in autocommit until their first write: under READ COMMITTED
each statement takes its own snapshot whether or not a transaction surrounds it, so BEGIN
and COMMIT were two round trips for nothing (issue 3).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from psycopg import ServerCursor
from pydantic_core import from_json, to_json
from sqlalchemy import (
    JSON,
    ColumnElement,
    Engine,
    Insert,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.functions import GenericFunction

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
        dbapi_connection.create_function(UNICODE_LOWER, 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.info[_WRITING] = immediate
        driver = connection.connection.dbapi_connection
        # Straight to the driver: through exec_driver_sql, SQLAlchemy's statement machinery ran
        # for a statement it does not track; opening and ending a read session took 62 µs
        # with it, 47 µs without (issue 3).
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        connection.info[_CHANGES_AT_BEGIN] = driver.total_changes


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


UNICODE_LOWER = "isofind_lower"


class unicode_lower(GenericFunction[str]):
    """``lower()`` of every letter: SQLite's own folds ASCII letters only ("GALÈNE" became
    "galÈne"), so SQLite connections get Python's ``str.lower`` under another name."""

    type = String()
    identifier = "unicode_lower"  # func.lower stays SQLAlchemy's own
    name = "lower"
    inherit_cache = True


@compiles(unicode_lower, "sqlite")
def _unicode_lower_on_sqlite(element: unicode_lower, compiler: Any, **kwargs: Any) -> str:
    return f"{UNICODE_LOWER}({compiler.process(element.clauses, **kwargs)})"


_IMMEDIATE = "isofind_sqlite_immediate"
# The connection's count of rows changed when its transaction began: unchanged at the end, the
# transaction wrote nothing and ending it is a ROLLBACK that releases a read lock, no I/O.
_CHANGES_AT_BEGIN = "isofind_changes_at_begin"
# Set once the transaction holds the write lock (immediate, or upgraded before a write).
_WRITING = "isofind_writing"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


_READ = "isofind_read"
_IDLE_SINCE = "isofind_idle_since"
# A connection used less than this ago is taken as alive without a ping.
PING_AFTER_IDLE_SECONDS = 1.0


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

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A pooled connection keeps the mode its last session left it in.
        _set_autocommit(connection, bool(connection.get_execution_options().get(_READ)))

    _ping_idle_connections(engine)


def _set_autocommit(connection: Any, autocommit: bool) -> None:
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.autocommit != autocommit:
        dbapi_connection.autocommit = autocommit


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle for a while.

    ``pool_pre_ping`` pinged on every checkout: a round trip per request. A connection used a
    moment ago is alive but for a server restart in that moment; then that request fails
    with a disconnect error, SQLAlchemy invalidates the whole pool and the next requests
    reconnect. An idle connection may have been cut by a restart or a network idle timeout
    unnoticed, so it is pinged, and on failure the pool is renewed before any request sees it.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)  # none on a new connection
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise InvalidatePoolError("idle connection failed its ping") from error


# Reads that take locks need the transaction that holds them.
_LOCKING = re.compile(r"\bFOR (?:UPDATE|NO KEY UPDATE|SHARE|KEY SHARE)\b|advisory_xact_lock")


@lru_cache(maxsize=1024)
def _reads_only(statement: str) -> bool:
    return statement.startswith("SELECT") and _LOCKING.search(statement) is None


def _open_transaction_when_needed(reader: Engine) -> None:
    """A read session that writes (a login failure counted on a GET, a session's last-seen
    time) gets a transaction from its first write on, as atomic as a write session's; so does
    one that takes locks or streams results (a server-side cursor lives in a transaction)."""

    @event.listens_for(reader, "before_cursor_execute")
    def _before_execute(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if isinstance(cursor, ServerCursor) or not _reads_only(statement):
            _set_autocommit(connection, False)  # psycopg sends BEGIN before this statement


def _write_lock_before_first_write(reader: Engine) -> None:
    """A SQLite read session that writes (a login failure counted on a GET, a session's
    last-seen time, an export recorded in the activity log) takes the write lock first.

    Its deferred transaction holds a read snapshot; SQLite refuses at once, without waiting,
    to turn a snapshot into a write while another connection writes ("database is locked",
    a 500). So the snapshot is let go and the transaction begins again, immediate, waiting
    for the lock; what was read stays read, as a PostgreSQL read session sees its earlier
    statements.
    """

    @event.listens_for(reader, "before_cursor_execute")
    def _before_execute(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if connection.info.get(_WRITING) or not statement.startswith(_WRITES):
            return
        connection.info[_WRITING] = True
        driver = connection.connection.dbapi_connection
        if driver.total_changes == connection.info.get(_CHANGES_AT_BEGIN):
            driver.execute("ROLLBACK")
            driver.execute("BEGIN IMMEDIATE")


_DEFERRED_CHECKPOINT = "isofind_deferred_checkpoint"  # on a pooled connection's record
_CHECKPOINTS = "isofind_checkpoints"  # in a session's info

log = logging.getLogger("isofind.db")


class _BackgroundCheckpoints:
    """A SQLite checkpoint (copying committed pages from the WAL into the database file) on a
    thread of its own, after a bulk write's transaction.

    SQLite checkpoints at the commit that leaves more than a thousand pages in the WAL, in
    the committing request: copying again the half gigabyte a 100,000-sample import writes
    took 2.2 s of its request (issue 4). A bulk write turns that off for its connection
    (:func:`defer_checkpoint`) and the copy is made after the answer, as PostgreSQL's own
    checkpointer does. The data is committed either way: readers find it in the WAL.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._changed = threading.Condition()
        self._requested = 0
        self._done = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        event.listen(engine, "checkin", self._on_checkin)

    def defer(self, db: Session) -> None:
        pooled = db.connection().connection  # its info is kept until it goes back to the pool
        if _DEFERRED_CHECKPOINT not in pooled.info:
            driver = pooled.driver_connection
            (pages,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
            driver.execute("PRAGMA wal_autocheckpoint=0")
            pooled.info[_DEFERRED_CHECKPOINT] = pages

    def _on_checkin(self, dbapi_connection: Any, record: Any) -> None:
        pages = record.info.pop(_DEFERRED_CHECKPOINT, None)
        if pages is None:
            return
        if dbapi_connection is not None:  # None when the connection was invalidated
            try:
                dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
            except Exception:  # raised here, it would fail a request whose data is committed
                log.exception("SQLite connection could not turn its checkpoints back on")
        self._request()

    def _request(self) -> None:
        with self._changed:
            if self._stopping:
                return
            self._requested += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        # The thread ends when nothing is left to copy: an idle one would keep the engine
        # and its connections alive after their app is gone, unless it was disposed of.
        while True:
            with self._changed:
                if self._stopping or self._done >= self._requested:
                    self._thread = None
                    self._changed.notify_all()
                    return
                target = self._requested
            self._checkpoint()
            with self._changed:
                self._done = target
                self._changed.notify_all()

    def _checkpoint(self) -> None:
        try:
            connection = self._engine.raw_connection()
            try:
                # PASSIVE: copies what no reader still needs, waits for no one; the rest goes
                # at the next checkpoint.
                connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()
        except Exception:  # the next one retries; SQLite checkpoints when it closes anyway
            log.exception("SQLite checkpoint failed")

    def wait(self, timeout: float) -> bool:
        """Wait until every checkpoint asked for so far has run; False on ``timeout``."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._done >= self._requested or self._stopping, timeout)

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()


def defer_checkpoint(db: Session) -> None:
    """On SQLite, let the commit of ``db``'s transaction leave its WAL pages to be copied into
    the database file after it, on another thread: for bulk writes."""
    checkpoints = db.info.get(_CHECKPOINTS)
    if checkpoints is not None:
        checkpoints.defer(db)


SQLITE_VALUES_PER_QUERY = 500


def among(column: ColumnElement[Any], values: Sequence[Any],
          dialect_name: str) -> Iterator[ColumnElement[bool]]:
    """Conditions that together hold ``column IN values``: run one query per condition.

    PostgreSQL takes every value in one array parameter, planned once: finding 100,000 names
    among stored samples took 0.12 s so, 0.9 s in queries of 500. SQLite binds each value
    separately and caps their number, so it gets the values 500 at a time.
    """
    if not values:
        return
    if dialect_name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), SQLITE_VALUES_PER_QUERY):
        yield column.in_(values[start:start + SQLITE_VALUES_PER_QUERY])


def conflict_insert(dialect_name: str, table: Table) -> Insert:
    """``INSERT INTO table`` in the dialect's own form, which takes ``ON CONFLICT`` clauses
    (PostgreSQL's and SQLite's are alike). Build such statements once and pass the values
    at execution: building one per call cost more than running it (issue 3)."""
    insert = postgresql_insert if dialect_name == "postgresql" else sqlite_insert
    return insert(table)


def encode_json(value: Any) -> str:
    """``json.dumps(value)`` values (big integers, NaN) at pydantic's speed, 3x the stdlib's:
    object data is encoded on every write and dominated imports."""
    try:
        return to_json(value, inf_nan_mode="constants").decode()
    except (TypeError, ValueError):  # e.g. lone surrogates, which json.dumps escapes
        return json.dumps(value)


def decode_json(text: str) -> Any:
    """``json.loads(text)``, twice as fast for the documents objects hold (same values).

    Only keys go through pydantic's string cache: caching values too made decoding sample
    documents a third slower (100 documents of 5 kB: 6.3 ms, 4.1 ms with keys only).
    """
    try:
        return from_json(text, cache_strings="keys")
    except ValueError:
        return json.loads(text)  # what pydantic's parser refuses, e.g. lone surrogates


_JSON_CODEC: dict[str, Any] = {"json_serializer": encode_json, "json_deserializer": decode_json}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **_JSON_CODEC)
        _configure_sqlite(engine)
        return engine
    postgresql = make_url(url).get_backend_name() == "postgresql"
    engine = create_engine(url, pool_pre_ping=not postgresql, pool_size=10, max_overflow=10,
                           **_JSON_CODEC)
    if postgresql:
        _configure_postgresql(engine)
    return engine


class Database:
    """The engine and two session factories: reads begin deferred (on PostgreSQL: in
    autocommit until their first write), writes immediate."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        on_disk = self.engine.url.database not in (None, "", ":memory:")
        self._checkpoints = (_BackgroundCheckpoints(self.engine) if self.is_sqlite and on_disk
                             else None)
        info = {_CHECKPOINTS: self._checkpoints} if self._checkpoints else {}
        writer = self.engine.execution_options(**{_IMMEDIATE: True})
        reader = self.engine.execution_options(**{_READ: True})
        if self.engine.dialect.name == "postgresql":
            _open_transaction_when_needed(reader)
        elif self.is_sqlite:
            _write_lock_before_first_write(reader)
        self._read = sessionmaker(reader, expire_on_commit=False, info=info)
        self._write = sessionmaker(writer, expire_on_commit=False, info=info)

    def open(self, *, write: bool) -> Session:
        """A new session; it connects on first use. End it with :meth:`end`."""
        return (self._write if write else self._read)()

    @staticmethod
    def end(session: Session, error: BaseException | None = None) -> None:
        """Commit, or roll back after ``error`` or a failed commit; then release the
        connection."""
        try:
            if error is None:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        """One transaction: commit when the block ends normally, roll back otherwise."""
        session = self.open(write=write)
        try:
            yield session
        except BaseException as error:
            self.end(session, error)
            raise
        self.end(session)

    def wait_for_checkpoints(self, timeout: float = 30.0) -> bool:
        """Wait until the deferred SQLite checkpoints asked for so far have run (see
        :func:`defer_checkpoint`); False on ``timeout``."""
        return self._checkpoints is None or self._checkpoints.wait(timeout)

    def dispose(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
        self.engine.dispose()
