"""Which isotope samples a viewer may see or change.

A sample the viewer may not read answers 404, as if it did not exist (the IsoFind API does
not tell a hidden sample from a missing one); one they may read but not change answers 403.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import Session

from isofind.errors import Forbidden, NotFound
from isofind.objects.models import ObjectRecord
from isofind.permissions import service as permissions
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.samples.action import ISOTOPE_SAMPLE_ACTION_ID


def sample_objects(viewer: Viewer, level: Level = Level.READ) -> Select[tuple[ObjectRecord]]:
    """Live isotope-sample objects on which the viewer holds ``level``."""
    return _sample_objects(permissions.permission_key(viewer, level))


def _sample_objects(key: permissions.PermissionKey) -> Select[tuple[ObjectRecord]]:
    return select(ObjectRecord).where(
        ObjectRecord.action_id == ISOTOPE_SAMPLE_ACTION_ID,
        ObjectRecord.is_deleted.is_(False),
        permissions.holds_on_objects(key),
    )


_SAMPLE_ID = bindparam("sample_id", type_=Integer)


@lru_cache(maxsize=2048)
def _one_sample(key: permissions.PermissionKey) -> Select[tuple[ObjectRecord]]:
    # Built once per permission key, as objects.service does for objects: building the
    # statement cost more than running it (a fifth of a sample GET, py-spy, issue 4).
    return _sample_objects(key).where(ObjectRecord.id == _SAMPLE_ID)


def _held_sample(db: Session, viewer: Viewer, sample_id: int,
                 level: Level) -> ObjectRecord | None:
    statement = _one_sample(permissions.permission_key(viewer, level))
    return db.scalar(statement, {"sample_id": sample_id})


def require_sample(db: Session, viewer: Viewer, sample_id: int,
                   level: Level = Level.READ) -> ObjectRecord:
    """The sample's object if the viewer holds ``level``: 404 if unreadable, 403 if read-only."""
    record = _held_sample(db, viewer, sample_id, level)
    if record is not None:
        return record
    if level > Level.READ and _held_sample(db, viewer, sample_id, Level.READ) is not None:
        raise Forbidden(f"you may read sample {sample_id} but not change it")
    raise NotFound(f"sample {sample_id} not found")
