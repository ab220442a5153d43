"""Object permissions: one row per (object, subject), the level an integer.

Subjects: a user, a basic group, a project group, all authenticated users, or
anonymous users (honoured only when anonymous access is enabled).
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base


class Level(IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2
    GRANT = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: object) -> Level:
        if isinstance(label, str) and label.upper() in cls.__members__:
            return cls[label.upper()]
        raise ValueError(f"invalid permission {label!r}: expected read, write, grant or none")


class SubjectType:
    USER = "user"
    GROUP = "group"
    PROJECT = "project"
    AUTHENTICATED = "authenticated"
    ANONYMOUS = "anonymous"


class ObjectPermission(Base):
    __tablename__ = "object_permissions"
    __table_args__ = (Index("ix_object_permissions_subject", "subject_type", "subject_id"),)

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    subject_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    # 0 for the authenticated and anonymous subjects, which have no id.
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(Integer)


class PermissionGeneration(Base):
    """One row: a counter the database bumps on every change to the tables permissions are
    computed from (triggers of migration 0008), so caches of what a viewer may read can be
    keyed by it across workers."""

    __tablename__ = "permission_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(Integer, default=0)
