"""The unit of work: PostgreSQL reads skip BEGIN and COMMIT until they write, SQLite read
sessions take the write lock when they first write, and pooled connections are pinged only
after sitting idle."""

from __future__ import annotations

import gc
import os
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Select, create_engine, delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from isofind import db as isofind_db
from isofind.db import Database
from isofind.identity.models import LoginThrottle, User


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_database(backend: str, database: Database) -> Database:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    return database


@pytest.fixture
def pg_database(backend: str, database: Database) -> Database:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    return database


def _status(db: Session) -> TransactionStatus:
    return db.connection().connection.dbapi_connection.info.transaction_status


def _throttled(database: Database, username: str) -> bool:
    with database.session(write=False) as db:
        return db.get(LoginThrottle, username) is not None


def test_a_sqlite_session_that_read_then_wrote_is_committed_by_its_end(
        sqlite_database: Database) -> None:
    database = sqlite_database
    for write in (False, True):
        session = database.open(write=write)
        session.execute(select(User.id)).all()
        session.add(LoginThrottle(username="sqlite-writer", failures=1))
        session.flush()
        database.end(session)
        assert _throttled(database, "sqlite-writer")
        with database.session(write=True) as db:
            db.execute(delete(LoginThrottle).where(LoginThrottle.username == "sqlite-writer"))


def test_reads_run_outside_a_transaction(pg_database: Database) -> None:
    session = pg_database.open(write=False)
    session.execute(select(User.id)).all()
    assert _status(session) == TransactionStatus.IDLE
    pg_database.end(session)


def test_writes_run_in_a_transaction(pg_database: Database) -> None:
    session = pg_database.open(write=True)
    session.execute(select(User.id)).all()
    assert _status(session) == TransactionStatus.INTRANS
    pg_database.end(session)


def test_a_write_in_a_read_session_opens_a_transaction(pg_database: Database) -> None:
    with pytest.raises(RuntimeError), pg_database.session(write=False) as db:
        db.execute(select(User.id)).all()
        db.add(LoginThrottle(username="read-then-write", failures=1))
        db.flush()
        assert _status(db) == TransactionStatus.INTRANS
        raise RuntimeError("the request failed after writing")
    assert not _throttled(pg_database, "read-then-write")

    with pg_database.session(write=False) as db:
        db.add(LoginThrottle(username="read-then-write", failures=1))
    assert _throttled(pg_database, "read-then-write")
    with pg_database.session(write=True) as db:
        db.execute(delete(LoginThrottle).where(LoginThrottle.username == "read-then-write"))


@pytest.mark.parametrize("locking", [
    select(User.id).with_for_update(),
    select(User.id).with_for_update(read=True),
    select(func.pg_advisory_xact_lock(7)),
], ids=["for update", "for share", "advisory lock"])
def test_a_locking_read_opens_a_transaction(pg_database: Database,
                                            locking: Select[Any]) -> None:
    with pg_database.session(write=False) as db:
        db.execute(locking).all()
        assert _status(db) == TransactionStatus.INTRANS


def test_a_streamed_read_opens_a_transaction(database: Database) -> None:
    with database.session(write=False) as db:
        streamed = db.scalars(select(User.id).execution_options(yield_per=1))
        assert list(streamed) == list(db.scalars(select(User.id)))


def test_a_write_session_after_a_read_one_is_transactional(pg_database: Database) -> None:
    # Both take the pool's one connection; the read left it in autocommit.
    with pg_database.session(write=False) as db:
        db.execute(select(User.id)).all()
    with pg_database.session(write=True) as db:
        db.execute(select(User.id)).all()
        assert _status(db) == TransactionStatus.INTRANS


def _backend_pid(database: Database) -> int:
    with database.session(write=False) as db:
        return int(db.scalar(select(func.pg_backend_pid())))


def _terminate(database_url: str, pid: int) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(select(func.pg_terminate_backend(pid)))
    engine.dispose()


def test_a_connection_cut_while_idle_is_replaced_unseen(
    pg_database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isofind_db, "PING_AFTER_IDLE_SECONDS", 0.0)
    cut = _backend_pid(pg_database)
    _terminate(database_url, cut)
    assert _backend_pid(pg_database) != cut


def test_a_connection_cut_right_after_use_fails_one_request_only(
    pg_database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trade-off of pinging idle connections only: the server going away within that
    # moment costs the next request, and the pool is renewed for the ones after it.
    monkeypatch.setattr(isofind_db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    cut = _backend_pid(pg_database)
    _terminate(database_url, cut)
    with pytest.raises(OperationalError):
        _backend_pid(pg_database)
    assert _backend_pid(pg_database) != cut


def test_a_sqlite_read_that_writes_waits_for_another_writer_instead_of_failing(
        sqlite_database: Database) -> None:
    database = sqlite_database
    writer = database.open(write=True)
    writer.add(LoginThrottle(username="held-by-the-writer", failures=1))
    writer.flush()  # holds the write lock until it commits

    def commit_later() -> None:
        time.sleep(0.3)
        database.end(writer)

    reader = database.open(write=False)
    assert reader.execute(select(User.id)).all() is not None  # a read snapshot is held
    committer = threading.Thread(target=commit_later)
    committer.start()
    try:
        reader.add(LoginThrottle(username="written-by-a-read", failures=1))
        reader.flush()  # "database is locked" at once, before the lock was taken first
        database.end(reader)
    finally:
        committer.join()
    assert _throttled(database, "held-by-the-writer")
    assert _throttled(database, "written-by-a-read")
    with database.session(write=True) as db:
        db.execute(delete(LoginThrottle).where(LoginThrottle.username.in_(
            ["held-by-the-writer", "written-by-a-read"])))


def _written_at(database: Database) -> int:
    # In WAL mode only a checkpoint writes to the database file.
    return os.stat(database.engine.url.database).st_mtime_ns


def _autocheckpoint(driver: Any) -> int:
    return driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0]


def _write_throttles(db: Session, prefix: str) -> None:
    # ~6 MB: far more than the thousand WAL pages (4 MB) at which a commit checkpoints.
    db.add_all(LoginThrottle(username=f"{prefix}-{n}-" + "x" * 1000, failures=1)
               for n in range(6000))
    db.flush()


def _delete_throttles(database: Database, prefix: str) -> None:
    with database.session(write=True) as db:
        db.execute(delete(LoginThrottle).where(LoginThrottle.username.startswith(prefix)))


def test_a_bulk_write_leaves_its_checkpoint_to_a_thread_after_the_commit(
        sqlite_database: Database) -> None:
    database = sqlite_database
    session = database.open(write=True)
    isofind_db.defer_checkpoint(session)
    driver = session.connection().connection.driver_connection
    assert _autocheckpoint(driver) == 0  # the commit copies nothing into the database file
    _write_throttles(session, "deferred")
    written_at = _written_at(database)
    database.end(session)
    assert _autocheckpoint(driver) == 1000  # the pooled connection is itself again
    assert database.wait_for_checkpoints(timeout=30)
    assert _written_at(database) > written_at  # copied by the thread
    assert _throttled(database, "deferred-5999-" + "x" * 1000)
    _delete_throttles(database, "deferred")


def test_without_a_deferred_checkpoint_the_commit_copies_the_wal(
        sqlite_database: Database) -> None:
    database = sqlite_database
    written_at = _written_at(database)
    with database.session(write=True) as db:
        _write_throttles(db, "at-commit")
    assert _written_at(database) > written_at  # the commit itself checkpointed
    _delete_throttles(database, "at-commit")


def test_deferring_a_checkpoint_does_nothing_on_postgresql(pg_database: Database) -> None:
    with pg_database.session(write=True) as db:
        isofind_db.defer_checkpoint(db)
        db.add(LoginThrottle(username="pg-bulk", failures=1))
    assert pg_database.wait_for_checkpoints(timeout=0)
    assert _throttled(pg_database, "pg-bulk")
    with pg_database.session(write=True) as db:
        db.execute(delete(LoginThrottle).where(LoginThrottle.username == "pg-bulk"))


def test_a_database_left_without_dispose_is_not_kept_alive_by_its_checkpoints(
        backend: str, database_url: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    database = Database(database_url)
    with database.session(write=True) as db:
        isofind_db.defer_checkpoint(db)
        db.add(LoginThrottle(username="left-behind", failures=1))
    assert database.wait_for_checkpoints(timeout=30)
    engine = weakref.ref(database.engine)
    del database, db
    deadline = time.monotonic() + 10
    while engine() is not None and time.monotonic() < deadline:
        gc.collect()  # the thread lets go of the engine once it has nothing left to copy
        time.sleep(0.05)
    assert engine() is None
    cleanup = Database(database_url)
    with cleanup.session(write=True) as db:
        db.execute(delete(LoginThrottle).where(LoginThrottle.username == "left-behind"))
    cleanup.dispose()
