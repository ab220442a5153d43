"""References between objects: the checker used by validation, and their extraction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isofind.identity.models import User
from isofind.objects.models import Action, ObjectRecord
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer, holds

REFERENCE_TYPES = frozenset({"sample", "measurement", "object_reference"})


class DatabaseReferences:
    """Answers the schema validator from the database, as the caller sees it."""

    def __init__(self, db: Session, viewer: Viewer) -> None:
        self._db = db
        self._viewer = viewer

    def _readable(self, object_id: int) -> tuple[int, int] | None:
        row = self._db.execute(
            select(ObjectRecord.action_id, Action.type_id)
            .join(Action, Action.id == ObjectRecord.action_id)
            .where(ObjectRecord.id == object_id, ObjectRecord.is_deleted.is_(False),
                   holds(self._viewer, Level.READ))
        ).first()
        return (row[0], row[1]) if row else None

    def object_action_type(self, object_id: int) -> int | None:
        found = self._readable(object_id)
        return found[1] if found else None

    def action_of(self, object_id: int) -> int | None:
        found = self._readable(object_id)
        return found[0] if found else None

    def user_exists(self, user_id: int) -> bool:
        user = self._db.get(User, user_id)
        return user is not None and not user.is_deleted

    def file_name(self, object_id: int, file_id: int) -> str | None:
        from isofind.files.service import stored_file_name

        return stored_file_name(self._db, object_id, file_id)


def schema_may_reference(schema: Any) -> bool:
    """Whether data of ``schema`` can hold object references at all (imports skip the walk)."""
    if isinstance(schema, dict):
        return schema.get("type") in REFERENCE_TYPES or any(
            schema_may_reference(value) for value in schema.values())
    if isinstance(schema, list):
        return any(schema_may_reference(item) for item in schema)
    return False


def referenced_ids(data: Any) -> Iterator[int]:
    """Object ids referenced anywhere in object data."""
    if isinstance(data, dict):
        if data.get("_type") in REFERENCE_TYPES and isinstance(data.get("object_id"), int):
            yield data["object_id"]
            return
        for value in data.values():
            yield from referenced_ids(value)
    elif isinstance(data, list):
        for item in data:
            yield from referenced_ids(item)
