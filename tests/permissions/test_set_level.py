"""``set_level`` writes one entry with one statement (an upsert), and ``holds`` is built once
per viewer and level (issue 3): both must still decide exactly as before."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import select

from isofind.identity.models import User
from isofind.objects.models import ObjectRecord
from isofind.permissions import service
from isofind.permissions.models import Level, SubjectType
from isofind.permissions.service import Viewer


def test_set_level_creates_changes_and_removes_one_entry(app: FastAPI, object_id: int,
                                                         add_user: Callable[..., int]) -> None:
    user_id = add_user("reader")
    levels = []
    for level in (Level.READ, Level.WRITE, Level.READ, Level.GRANT, Level.NONE, Level.NONE):
        with app.state.database.session(write=True) as db:
            service.set_level(db, object_id, SubjectType.USER, user_id, level)
        with app.state.database.session(write=False) as db:
            entries = service.entries(db, object_id, SubjectType.USER)
            levels.append(service.effective_level(db, Viewer(db.get(User, user_id)), object_id))
        assert entries.get(user_id, Level.NONE) == level
    assert levels == [Level.READ, Level.WRITE, Level.READ, Level.GRANT, Level.NONE, Level.NONE]


def test_holds_is_shared_per_viewer_and_level_but_decides_per_user(
    app: FastAPI, object_id: int, add_user: Callable[..., int]
) -> None:
    reader, stranger = add_user("reader"), add_user("stranger")
    with app.state.database.session(write=True) as db:
        service.set_level(db, object_id, SubjectType.USER, reader, Level.READ)
    with app.state.database.session(write=False) as db:
        viewers = {name: Viewer(db.get(User, user_id))
                   for name, user_id in (("reader", reader), ("stranger", stranger))}
        first = service.holds(viewers["reader"], Level.READ)
        assert service.holds(viewers["reader"], Level.READ) is first
        assert service.holds(viewers["stranger"], Level.READ) is not first

        def readable(name: str, level: Level) -> list[int]:
            return list(db.scalars(select(ObjectRecord.id)
                                   .where(service.holds(viewers[name], level))))

        assert readable("reader", Level.READ) == [object_id]
        assert readable("reader", Level.WRITE) == []
        assert readable("stranger", Level.READ) == []
