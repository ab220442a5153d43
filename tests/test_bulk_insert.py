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
    copy_text,
    insert_rows,
    refresh_statistics,
    reserve_ids,
)
from isofind.db import encode_json
from isofind.objects.models import ObjectRecord, ObjectSchema
from isofind.samples.action import ISOTOPE_SAMPLE_ACTION_ID
from isofind.samples.models import IsotopeValue, SampleIndex

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
        assert ids == [ids[0], ids[0] + 1]  # nobody else draws meanwhile
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


def test_copy_text_escapes_what_copy_reads_specially() -> None:
    rows = [{"sample_id": 1, "isotope_id": 2, "element": "a\\b\tc\nd\re", "quantity": "\\N",
             "value": float("nan"), "uncertainty": None, "standard": "",
             "normalized_value": float("-inf"), "normalized_uncertainty": 0.1 + 0.2,
             "normalized_standard": "é δ"}]
    encoded = copy_text(IsotopeValue.__table__, rows)
    assert encoded.columns == tuple(rows[0])
    assert len(encoded) == 1
    assert encoded.data == ("1\t2\ta\\\\b\\tc\\nd\\re\t\\\\N\tnan\t\\N\t\t-inf\t"
                            "0.30000000000000004\té δ\n").encode()
    assert copy_text(IsotopeValue.__table__, []).data == b""


def test_copy_text_refuses_a_value_that_is_not_text_for_a_text_column() -> None:
    with pytest.raises(TypeError, match="dict"):
        copy_text(ObjectSchema.__table__, [{"digest": "s", "schema": {"type": "object"}}])


AWKWARD_TEXT = ["plain", "", "\\N", "back\\slash", "tab\there", "line\nbreak", "cr\rhere",
                "é δ ☢ 𝔘", "\\\\t"]
AWKWARD_FLOATS = [0.0, -0.0, 1e-300, 1.7976931348623157e308, 0.1 + 0.2, -18.368, 5e-324,
                  float("inf"), float("-inf"), None]


def _awkward_index_rows(first_id: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    samples, values = [], []
    for offset, text in enumerate(AWKWARD_TEXT):
        sample_id = first_id + offset
        samples.append({
            "sample_id": sample_id, "name_key": f"k{offset}", "name": text,
            "material_type": None, "sector": text, "classification": "source", "project": None,
            "collection_date": "2020-01-02", "collection_location": None, "description": text,
            "latitude": AWKWARD_FLOATS[offset], "longitude": None, "archived": offset % 2 == 0,
            "created_at": MOMENT, "creator_id": 1})
        values.append({
            "sample_id": sample_id, "isotope_id": 1, "element": "Pb", "quantity": text,
            "value": AWKWARD_FLOATS[-2 - offset] or 1.5, "uncertainty": None,
            "standard": text, "normalized_value": float("nan"),
            "normalized_uncertainty": AWKWARD_FLOATS[offset], "normalized_standard": None})
    return samples, values


def _stored_index(db: sa.orm.Session, sample_ids: list[int]) -> list[tuple[object, ...]]:
    samples = db.execute(sa.select(SampleIndex.__table__).where(
        SampleIndex.sample_id.in_(sample_ids)).order_by(SampleIndex.sample_id)).all()
    values = db.execute(sa.select(IsotopeValue.__table__).where(
        IsotopeValue.sample_id.in_(sample_ids)).order_by(IsotopeValue.sample_id)).all()
    # NaN is not equal to itself: compare it by its text
    return [tuple(repr(cell) if isinstance(cell, float) else cell for cell in row)
            for row in [*samples, *values]]


def test_copy_text_stores_what_the_driver_stores_from_rows(app: FastAPI, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    data = {"n": "quote \" backslash \\ newline \n tab \t", "big": 2**70, "é": [1.5, None]}
    with app.state.database.session(write=True) as db:
        insert_rows(db, ObjectSchema.__table__, [{"digest": "s", "schema": "{}"}])
        by_rows, by_text = reserve_ids(db, ObjectRecord.__table__, 2)
        insert_rows(db, ObjectRecord.__table__, [object_row(by_rows, data)])
        insert_rows(db, ObjectRecord.__table__,
                    copy_text(ObjectRecord.__table__, [object_row(by_text, data)]))
        samples = [object_row(first + i, {}) for first in (1000, 2000)
                   for i in range(len(AWKWARD_TEXT))]
        insert_rows(db, ObjectRecord.__table__, samples)
        for table, rows in zip((SampleIndex.__table__, IsotopeValue.__table__),
                               _awkward_index_rows(1000), strict=True):
            insert_rows(db, table, rows)
        for table, rows in zip((SampleIndex.__table__, IsotopeValue.__table__),
                               _awkward_index_rows(2000), strict=True):
            with BackgroundInserts(db) as inserts:
                inserts.insert(table, copy_text(table, rows))
    with app.state.database.session(write=False) as db:
        stored = {i: d for i, d in db.execute(sa.select(ObjectRecord.id, ObjectRecord.data))}
        assert stored[by_text] == stored[by_rows] == data
        count = len(AWKWARD_TEXT)
        from_rows = _stored_index(db, list(range(1000, 1000 + count)))
        from_text = _stored_index(db, list(range(2000, 2000 + count)))
        assert len(from_text) == 2 * count
        assert [row[1:] for row in from_text] == [row[1:] for row in from_rows]
        assert [row[2] for row in from_text[:count]] == AWKWARD_TEXT


def test_copy_text_is_refused_by_sqlite(app: FastAPI, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL takes COPY text")
    with pytest.raises(ValueError, match="COPY text given for sqlite"), \
            app.state.database.session(write=True) as db:
        insert_rows(db, ObjectSchema.__table__,
                    copy_text(ObjectSchema.__table__, [{"digest": "s", "schema": "{}"}]))
