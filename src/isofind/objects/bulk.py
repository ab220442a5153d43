"""Creating many objects at once, for imports.

The data must already be valid for the action's schema (built by code that tests prove
produces valid data): validating 100,000 objects one by one would dominate an import. Rows are
the same as :func:`isofind.objects.service.create_object` writes, in a few bulk statements;
the caller derives its own indexes for the returned ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from isofind.identity.models import User
from isofind.objects.models import (
    Action,
    ObjectLogEntry,
    ObjectRecord,
    ObjectReference,
    ObjectVersion,
)
from isofind.objects.references import referenced_ids, schema_may_reference
from isofind.objects.schema_store import store_schema
from isofind.permissions.models import Level, ObjectPermission, SubjectType


def create_objects(db: Session, user: User, action: Action, datas: list[dict[str, Any]],
                   now: datetime) -> list[int]:
    """Create one object per data document at ``now``; their ids, in the same order."""
    if not datas:
        return []
    digest = store_schema(db, action.schema)
    table = ObjectRecord.__table__
    ids = list(db.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True),
        [{"action_id": action.id, "version_id": 0, "schema_digest": digest, "data": data,
          "user_id": user.id, "utc_datetime": now, "creator_id": user.id, "created_at": now,
          "is_deleted": False} for data in datas],
    ).scalars())
    db.execute(insert(ObjectVersion.__table__), [
        {"object_id": object_id, "version_id": 0, "action_id": action.id,
         "schema_digest": digest, "data": data, "user_id": user.id, "utc_datetime": now}
        for object_id, data in zip(ids, datas, strict=True)])
    db.execute(insert(ObjectPermission.__table__), [
        {"object_id": object_id, "subject_type": SubjectType.USER, "subject_id": user.id,
         "level": int(Level.GRANT)} for object_id in ids])
    db.execute(insert(ObjectLogEntry.__table__), [
        {"type": "CREATE_OBJECT", "object_id": object_id, "user_id": user.id, "data": {},
         "utc_datetime": now, "is_imported": False} for object_id in ids])
    if not schema_may_reference(action.schema):
        return ids
    references = [{"object_id": object_id, "referenced_object_id": target}
                  for object_id, data in zip(ids, datas, strict=True)
                  for target in sorted(set(referenced_ids(data)))]
    if references:
        db.execute(insert(ObjectReference.__table__), references)
    return ids
