"""Rules for object files (the routes come with the files room)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isofind.files.models import ObjectFile


def stored_file_name(db: Session, object_id: int, file_id: int) -> str | None:
    """The original name of a file of an object, for schema validation of file properties."""
    return db.scalar(select(ObjectFile.original_file_name).where(
        ObjectFile.object_id == object_id, ObjectFile.file_id == file_id))
