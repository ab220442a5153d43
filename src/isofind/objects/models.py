"""Actions, their types, and objects as immutable chains of versions.

``objects`` holds each object's current version (the row every query filters and
sorts), ``object_versions`` the versions it had before, as SampleDB's
``objects_current`` and ``objects_previous``: a new version first moves the current one
there, in the same transaction. Nothing is ever overwritten in ``object_versions``, and
each document is stored once.
Both refer to their schema by digest: every object of an action shares the action's
schema, so ``object_schemas`` stores each distinct schema once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base, JsonDocument
from isofind.timeutil import utcnow


class ActionType(Base):
    __tablename__ = "action_types"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    object_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    admin_only: Mapped[bool] = mapped_column(Boolean, default=False)


class Action(Base):
    __tablename__ = "actions"
    # Built-in actions take negative ids; new ones must still count from 1 on SQLite.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("action_types.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    schema: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"), index=True)
    # Set for user-specific actions: the user owns and may edit it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Built-in actions whose schema other code depends on cannot be edited through the API.
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)


class ObjectSchema(Base):
    """A schema of objects and versions, stored once (an isotope sample's is 3.5 kB: per row,
    it made up most of the table and of the time to list 1,000 objects on PostgreSQL).

    Rows are immutable and keyed by :func:`isofind.objects.schema_store.schema_digest` of the
    schema, so equal schemas written in the same key order share a row.
    """

    __tablename__ = "object_schemas"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    schema: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class ObjectRecord(Base):
    """An object's current version, plus who created it and whether it was deleted."""

    __tablename__ = "objects"
    __table_args__ = (Index("ix_objects_action_deleted", "action_id", "is_deleted"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    version_id: Mapped[int] = mapped_column(Integer, default=0)
    # Always set. Nullable only because SQLite cannot add a NOT NULL column with a foreign key
    # to an existing table, and rebuilding ``objects`` would cascade-delete every row that
    # references it (migration 0005_object_speed).
    schema_digest: Mapped[str] = mapped_column(ForeignKey("object_schemas.digest"),
                                               nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A tombstone: gone from both APIs, restorable by an admin until purged.
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


class ObjectVersion(Base):
    __tablename__ = "object_versions"

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    schema_digest: Mapped[str] = mapped_column(ForeignKey("object_schemas.digest"))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ObjectLogEntry(Base):
    __tablename__ = "object_log_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    is_imported: Mapped[bool] = mapped_column(Boolean, default=False)


class ObjectReference(Base):
    """Derived from each object's current data: which objects it references."""

    __tablename__ = "object_references"

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    referenced_object_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
