"""``among``: membership in many values, one array on PostgreSQL, 500 at a time on SQLite."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI

from isofind.bulk_insert import insert_rows
from isofind.db import among
from isofind.objects.models import ObjectSchema


def test_among_finds_exactly_the_stored_values(app: FastAPI, backend: str) -> None:
    stored = [f"d{i:04d}" for i in range(1201)]
    asked = stored[100:1200] + ["absent", "d9999"]
    with app.state.database.session(write=True) as db:
        insert_rows(db, ObjectSchema.__table__,
                    [{"digest": digest, "schema": "{}"} for digest in stored])
        conditions = list(among(ObjectSchema.digest, asked, backend))
        found = [digest for condition in conditions
                 for digest in db.scalars(sa.select(ObjectSchema.digest).where(condition))]

    assert sorted(found) == stored[100:1200]
    assert len(conditions) == (1 if backend == "postgresql" else 3)
    assert list(among(ObjectSchema.digest, [], backend)) == []
