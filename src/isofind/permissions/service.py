"""Effective object permission, computed in SQL: the only place that decides who may see what.

Effective level = the highest of: the user's own entry; the authenticated-users
entry; the anonymous entry (when anonymous access is enabled); each basic group's
entry; for each project, the lower of the project's level on the object and the
member's level in the project; grant for scientists of the action's instrument;
grant for administrators who enabled admin permissions. Read-only users never
exceed read. Every query that returns objects filters with :func:`holds`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    and_,
    delete,
    exists,
    false,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from isofind.identity.models import (
    GroupMember,
    ProjectGroupMember,
    ProjectMember,
    Role,
    User,
)
from isofind.instruments.models import InstrumentScientist
from isofind.objects.models import Action, ObjectRecord
from isofind.permissions.models import Level, ObjectPermission, SubjectType


@dataclass(frozen=True)
class Viewer:
    """Whose permissions apply: a user, or nobody (anonymous), and whether anonymous
    entries count at all."""

    user: User | None
    anonymous_enabled: bool = False

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None


def _project_ids_with_member_level(user_id: int, level: Level) -> CompoundSelect[tuple[int]]:
    direct = select(ProjectMember.project_id).where(
        ProjectMember.user_id == user_id, ProjectMember.level >= level
    )
    through_groups = (
        select(ProjectGroupMember.project_id)
        .join(GroupMember, GroupMember.group_id == ProjectGroupMember.group_id)
        .where(GroupMember.user_id == user_id, ProjectGroupMember.level >= level)
    )
    return direct.union(through_groups)


def _subject_matches(viewer: Viewer, level: Level) -> ColumnElement[bool]:
    p = ObjectPermission
    subjects: list[ColumnElement[bool]] = []
    if viewer.anonymous_enabled:
        subjects.append(p.subject_type == SubjectType.ANONYMOUS)
    if viewer.user is not None:
        uid = viewer.user.id
        subjects += [
            and_(p.subject_type == SubjectType.USER, p.subject_id == uid),
            p.subject_type == SubjectType.AUTHENTICATED,
            and_(
                p.subject_type == SubjectType.GROUP,
                p.subject_id.in_(select(GroupMember.group_id).where(GroupMember.user_id == uid)),
            ),
            and_(
                p.subject_type == SubjectType.PROJECT,
                p.subject_id.in_(_project_ids_with_member_level(uid, level)),
            ),
        ]
    return or_(*subjects) if subjects else false()


def holds(
    viewer: Viewer, level: Level, object_id: ColumnElement[int] | None = None
) -> ColumnElement[bool]:
    """SQL condition: the viewer holds at least ``level`` on the object ``object_id``
    (default: the row of ``objects`` in the surrounding query)."""
    target = ObjectRecord.id if object_id is None else object_id
    user = viewer.user
    if user is not None and user.is_readonly and level > Level.READ:
        return false()
    if user is not None and user.role >= Role.ADMIN and user.admin_permissions_enabled:
        return true()
    entry = exists().where(
        ObjectPermission.object_id == target,
        ObjectPermission.level >= level,
        _subject_matches(viewer, level),
    )
    if user is None:
        return entry
    instrument_grant = exists().where(
        Action.id == select(ObjectRecord.action_id).where(ObjectRecord.id == target)
        .scalar_subquery(),
        InstrumentScientist.instrument_id == Action.instrument_id,
        InstrumentScientist.user_id == user.id,
    )
    return or_(entry, instrument_grant)


def effective_level(db: Session, viewer: Viewer, object_id: int) -> Level:
    for level in (Level.GRANT, Level.WRITE, Level.READ):
        if db.scalar(select(holds(viewer, level, literal(object_id)))):
            return level
    return Level.NONE


def set_level(db: Session, object_id: int, subject_type: str, subject_id: int,
              level: Level) -> None:
    """Set one subject's entry; ``none`` removes it."""
    db.execute(delete(ObjectPermission).where(
        ObjectPermission.object_id == object_id,
        ObjectPermission.subject_type == subject_type,
        ObjectPermission.subject_id == subject_id,
    ))
    if level > Level.NONE:
        db.add(ObjectPermission(object_id=object_id, subject_type=subject_type,
                                subject_id=subject_id, level=int(level)))
    db.flush()


def entry_level(db: Session, object_id: int, subject_type: str, subject_id: int = 0) -> Level:
    level = db.scalar(select(ObjectPermission.level).where(
        ObjectPermission.object_id == object_id,
        ObjectPermission.subject_type == subject_type,
        ObjectPermission.subject_id == subject_id,
    ))
    return Level(level or 0)


def entries(db: Session, object_id: int, subject_type: str) -> dict[int, Level]:
    rows = db.execute(select(ObjectPermission.subject_id, ObjectPermission.level).where(
        ObjectPermission.object_id == object_id, ObjectPermission.subject_type == subject_type,
    ).order_by(ObjectPermission.subject_id))
    return {subject_id: Level(level) for subject_id, level in rows}
