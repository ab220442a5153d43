"""Driver-level bulk writes: rows read back as the ORM wrote them, in the session's
transaction, and a background writer hands its first error to the caller."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from isofind.bulk_insert import (
    STATISTICS_AFTER,
    BackgroundInserts,
    insert_rows,
    refresh_statistics,
    reserve_ids,
)
from isofind.db import encode_json
from isofind.objects.models import ObjectRecord, ObjectSchema
from isofind.samples.action import ISOTOPE_SAMPLE_ACTION_ID

MOMENT = datetime(2026, 3, 4, 5, 6, 7, 89)
SCHEMA = {"type": "object", "big": 2**70, "text": "é δ"}


def object_row(object_id: int, data: dict[str, object]) -> dict[str, object]:
    return {"id": object_id, "action_id": ISOTOPE_SAMPLE_ACTION_ID, "version_id": 0,
            "schema_digest": "s", "data": encode_json(data), "user_id": 1,
            "utc_datetime": MOMENT, "creator_id": 1, "created_at": MOMENT, "is_deleted": False}


def test_rows_read_back_through_the_orm_as_written(app: FastAPI) -> None:
    with app.state.database.session(write=True) as db:
        insert_rows(db, ObjectSchema.__table__, [{"digest": "s", "schema": encode_json(SCHEMA)}])
        ids = reserve_ids(db, ObjectRecord.__table__, 2)
        insert_rows(db, ObjectRecord.__table__, [object_row(i, {"n": i}) for i in ids])
        later = ObjectRecord(action_id=ISOTOPE_SAMPLE_ACTION_ID, version_id=0,
                             schema_digest="s", data={}, user_id=1, creator_id=1)
        db.add(later)
        db.flush()
        assert later.id > max(ids)  # reserved ids are not handed out again
    with app.state.database.session(write=False) as db:
        assert db.get(ObjectSchema, "s").schema == SCHEMA
        stored = db.execute(sa.select(ObjectRecord.id, ObjectRecord.data, ObjectRecord.created_at,
                                      ObjectRecord.is_deleted)
                            .where(ObjectRecord.id.in_(ids)).order_by(ObjectRecord.id)).all()
        assert stored == [(i, {"n": i}, MOMENT, False) for i in ids]


def test_background_inserts_write_in_order_and_raise_the_first_error(app: FastAPI) -> None:
    with app.state.database.session(write=True) as db:
        with BackgroundInserts(db) as inserts:
            inserts.insert(ObjectSchema.__table__, [{"digest": "s", "schema": "{}"}])
            # objects refer to the schema written by the batch before
            inserts.insert(ObjectRecord.__table__, [object_row(7, {"n": 7})])
        assert db.scalar(sa.select(ObjectRecord.data).where(ObjectRecord.id == 7)) == {"n": 7}

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), \
            app.state.database.session(write=True) as db, BackgroundInserts(db) as inserts:
        inserts.insert(ObjectSchema.__table__, [{"digest": "t", "schema": "{}"}] * 2)
        inserts.insert(ObjectSchema.__table__, [{"digest": "u", "schema": "{}"}])
    with app.state.database.session(write=False) as db:  # the transaction was rolled back
        assert set(db.scalars(sa.select(ObjectSchema.digest))) == {"s"}


def _estimated_rows(db: sa.orm.Session, table: str) -> float:
    return db.scalar(sa.text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table})


def test_statistics_follow_a_large_bulk_write_on_postgresql(app: FastAPI, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite keeps no planner statistics")
    with app.state.database.session(write=True) as db:
        insert_rows(db, ObjectSchema.__table__, [{"digest": "s", "schema": "{}"}])
        ids = reserve_ids(db, ObjectRecord.__table__, STATISTICS_AFTER)
        insert_rows(db, ObjectRecord.__table__, [object_row(i, {"n": i}) for i in ids])
        before = _estimated_rows(db, "objects")

        refresh_statistics(db, [ObjectRecord.__table__], STATISTICS_AFTER - 1)
        assert _estimated_rows(db, "objects") == before != STATISTICS_AFTER

        refresh_statistics(db, [ObjectRecord.__table__], STATISTICS_AFTER)
        assert _estimated_rows(db, "objects") == STATISTICS_AFTER
