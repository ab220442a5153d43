"""Which isotope samples a viewer may see or change.

A sample the viewer may not read answers 404, as if it did not exist (the IsoFind API does
not tell a hidden sample from a missing one); one they may read but not change answers 403.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from isofind.errors import Forbidden, NotFound
from isofind.objects.models import ObjectRecord
from isofind.permissions import service as permissions
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.samples.action import ISOTOPE_SAMPLE_ACTION_ID


def sample_objects(viewer: Viewer, level: Level = Level.READ) -> Select[tuple[ObjectRecord]]:
    """Live isotope-sample objects on which the viewer holds ``level``."""
    return select(ObjectRecord).where(
        ObjectRecord.action_id == ISOTOPE_SAMPLE_ACTION_ID,
        ObjectRecord.is_deleted.is_(False),
        permissions.holds(viewer, level),
    )


def require_sample(db: Session, viewer: Viewer, sample_id: int,
                   level: Level = Level.READ) -> ObjectRecord:
    """The sample's object if the viewer holds ``level``: 404 if unreadable, 403 if read-only."""
    record = db.scalar(sample_objects(viewer, level).where(ObjectRecord.id == sample_id))
    if record is not None:
        return record
    if level > Level.READ and db.scalar(
            sample_objects(viewer).where(ObjectRecord.id == sample_id)) is not None:
        raise Forbidden(f"you may read sample {sample_id} but not change it")
    raise NotFound(f"sample {sample_id} not found")
