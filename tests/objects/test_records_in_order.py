"""``records_in_order``: many records read a few queries at a time, in the order asked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from isofind.errors import Conflict
from isofind.objects import service
from isofind.objects.models import ObjectRecord


def test_records_come_in_the_order_asked_with_repeats_across_queries(
        app: FastAPI, make_object: Callable[[], int], monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, third = (make_object() for _ in range(3))
    monkeypatch.setattr(service, "RECORDS_PER_QUERY", 2)
    asked = [third, first, first, second, third]
    queries: list[str] = []
    sa.event.listen(app.state.database.engine, "before_cursor_execute",
                    lambda *args: queries.append(args[2]))

    with app.state.database.session(write=False) as db:
        records = list(service.records_in_order(db, asked))

    assert [record.id for record in records] == asked
    assert records[1] is records[2]  # one record per object in the session
    assert sum("FROM objects" in query for query in queries) == 3


def test_a_record_purged_meanwhile_is_a_conflict(
        app: FastAPI, make_object: Callable[[], int]) -> None:
    kept, purged = make_object(), make_object()
    with app.state.database.session(write=True) as db:
        db.execute(sa.delete(ObjectRecord).where(ObjectRecord.id == purged))

    with app.state.database.session(write=False) as db, \
            pytest.raises(Conflict, match=f"object {purged} was purged meanwhile"):
        list(service.records_in_order(db, [kept, purged]))
