"""Creating many objects at once, for imports.

The data must already be valid for the action's schema (built by code that tests prove
produces valid data): validating 100,000 objects one by one would dominate an import. Rows are
the same as :func:`isofind.objects.service.create_object` writes; the caller writes them in
bulk (:mod:`isofind.bulk_insert`) with its own indexes for the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from isofind.bulk_insert import reserve_ids
from isofind.db import decode_json
from isofind.identity.models import User
from isofind.objects.models import (
    Action,
    ObjectLogEntry,
    ObjectRecord,
    ObjectReference,
)
from isofind.objects.references import referenced_ids, schema_may_reference
from isofind.objects.schema_store import store_schema
from isofind.permissions.models import Level, ObjectPermission, SubjectType

TableRows = list[tuple[Table, list[dict[str, Any]]]]


@dataclass(frozen=True)
class Creation:
    """Objects of one action created at one moment by one user, in batches."""

    user_id: int
    action_id: int
    schema_digest: str
    may_reference: bool
    now: datetime


def start_creation(db: Session, user: User, action: Action, now: datetime) -> Creation:
    return Creation(user.id, action.id, store_schema(db, action.schema),
                    schema_may_reference(action.schema), now)


def reserve_object_ids(db: Session, count: int) -> list[int]:
    return reserve_ids(db, ObjectRecord.__table__, count)


def object_rows(creation: Creation, ids: list[int], documents: list[str]) -> TableRows:
    """The rows creating one object per data document (JSON text) with the reserved ``ids``,
    per table in the order they must be written."""
    user_id, now = creation.user_id, creation.now
    rows: TableRows = [
        (ObjectRecord.__table__, [
            {"id": object_id, "action_id": creation.action_id, "version_id": 0,
             "schema_digest": creation.schema_digest, "data": document, "user_id": user_id,
             "utc_datetime": now, "creator_id": user_id, "created_at": now,
             "is_deleted": False}
            for object_id, document in zip(ids, documents, strict=True)]),
        (ObjectPermission.__table__, [
            {"object_id": object_id, "subject_type": SubjectType.USER, "subject_id": user_id,
             "level": int(Level.GRANT)} for object_id in ids]),
        (ObjectLogEntry.__table__, [
            {"type": "CREATE_OBJECT", "object_id": object_id, "user_id": user_id, "data": "{}",
             "utc_datetime": now, "is_imported": False} for object_id in ids]),
    ]
    if creation.may_reference:
        rows.append((ObjectReference.__table__, [
            {"object_id": object_id, "referenced_object_id": target}
            for object_id, document in zip(ids, documents, strict=True)
            for target in sorted(set(referenced_ids(decode_json(document))))]))
    return rows
