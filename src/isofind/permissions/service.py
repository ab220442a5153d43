"""Effective object permission, computed in SQL: the only place that decides who may see what.

Effective level = the highest of: the user's own entry; the authenticated-users
entry; the anonymous entry (when anonymous access is enabled); each basic group's
entry; for each project, the lower of the project's level on the object and the
member's level in the project; grant for scientists of the action's instrument;
grant for administrators who enabled admin permissions. Read-only users never
exceed read. Every query that returns objects filters with :func:`holds`, or with
:func:`holds_in_bulk` (the same rules, planned for many objects at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Insert,
    Select,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from isofind.db import conflict_insert
from isofind.identity.models import (
    Group,
    GroupMember,
    Project,
    ProjectGroupMember,
    ProjectMember,
    Role,
    User,
)
from isofind.instruments.models import InstrumentScientist
from isofind.objects.models import Action, ObjectRecord
from isofind.permissions.models import (
    Level,
    ObjectPermission,
    PermissionGeneration,
    SubjectType,
)


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


def _subjects(uid: int | None, anonymous_enabled: bool,
              level: Level) -> list[tuple[str, ColumnElement[bool]]]:
    """Whose entries count for the viewer: (subject type, condition on the entry's subject id)."""
    p = ObjectPermission
    subjects: list[tuple[str, ColumnElement[bool]]] = []
    if anonymous_enabled:
        subjects.append((SubjectType.ANONYMOUS, true()))
    if uid is not None:
        subjects += [
            (SubjectType.USER, p.subject_id == uid),
            (SubjectType.AUTHENTICATED, true()),
            (SubjectType.GROUP,
             p.subject_id.in_(select(GroupMember.group_id).where(GroupMember.user_id == uid))),
            (SubjectType.PROJECT, p.subject_id.in_(_project_ids_with_member_level(uid, level))),
        ]
    return subjects


def _subject_matches(uid: int | None, anonymous_enabled: bool,
                     level: Level) -> ColumnElement[bool]:
    """The entry's subject is the viewer, or something the viewer belongs to.

    A CASE on the subject type rather than an OR of (type, id) pairs: it leaves the primary key
    (object_id, ...) as the only index PostgreSQL can use to find an object's entries. With
    the OR, a planner without statistics (a fresh or just-imported database) chose the
    (subject_type, subject_id) index and read every entry of the user for every object
    listed: 500 ms for a list of 1,000 (issue 3).
    """
    whens = _subjects(uid, anonymous_enabled, level)
    if not whens:
        return false()
    return case(*whens, value=ObjectPermission.subject_type, else_=false())


def _instrument_action_ids(uid: int) -> Select[tuple[int]]:
    """Actions of the instruments the user is a scientist of: they hold grant on their objects."""
    return (select(Action.id)
            .join(InstrumentScientist, InstrumentScientist.instrument_id == Action.instrument_id)
            .where(InstrumentScientist.user_id == uid))


class PermissionKey(NamedTuple):
    """Everything :func:`holds` depends on, so callers may cache statements built on it."""

    outcome: bool | None  # decided without looking at entries (read-only user, admin), or None
    user_id: int | None
    anonymous_enabled: bool
    level: Level


def permission_key(viewer: Viewer, level: Level) -> PermissionKey:
    user = viewer.user
    outcome: bool | None = None
    if user is not None and user.is_readonly and level > Level.READ:
        outcome = False
    elif user is not None and user.role >= Role.ADMIN and user.admin_permissions_enabled:
        outcome = True
    return PermissionKey(outcome, user.id if user is not None else None,
                         viewer.anonymous_enabled, Level(level))


def holds(
    viewer: Viewer, level: Level, object_id: ColumnElement[int] | None = None
) -> ColumnElement[bool]:
    """SQL condition: the viewer holds at least ``level`` on the object ``object_id``
    (default: the row of ``objects`` in the surrounding query)."""
    key = permission_key(viewer, level)
    if object_id is None:
        return holds_on_objects(key)
    if key.outcome is not None:
        return true() if key.outcome else false()
    return _holds(key.user_id, key.anonymous_enabled, key.level, object_id)


@lru_cache(maxsize=2048)
def holds_on_objects(key: PermissionKey) -> ColumnElement[bool]:
    """:func:`holds` on the surrounding ``objects`` row, built once per key.

    Building it took ~1.5 ms of SQLAlchemy work per request (profile of GET a version, issue
    3), more than running it. It depends on nothing but the key (memberships are looked up
    by the SQL itself), and SQL expressions are immutable, so one can be shared.
    """
    if key.outcome is not None:
        return true() if key.outcome else false()
    return _holds(key.user_id, key.anonymous_enabled, key.level, ObjectRecord.id)


def _holds(uid: int | None, anonymous_enabled: bool, level: Level,
           target: ColumnElement[int]) -> ColumnElement[bool]:
    entry = exists(
        select(ObjectPermission.object_id)
        .where(
            ObjectPermission.object_id == target,
            ObjectPermission.level >= level,
            _subject_matches(uid, anonymous_enabled, level),
        )
        # OFFSET 0 keeps PostgreSQL from turning the EXISTS into a hash of the matching entries
        # (all of them read before the first row, even for one object or LIMIT 1000: 2.7 ms
        # for GET a version of 10,000 objects); each row probes the primary key (object_id,
        # ...) instead, so the cost follows the rows read, not the number of entries.
        .offset(0)
    )
    if uid is None:
        return entry
    if target is ObjectRecord.id:
        # The surrounding row's action: an uncorrelated subquery over the (few) actions of
        # the user's instruments, evaluated once per query rather than once per row.
        instrument_grant: ColumnElement[bool] = ObjectRecord.action_id.in_(
            _instrument_action_ids(uid))
    else:
        # An alias, so the subquery does not correlate to (and shadow) an outer objects row.
        made = aliased(ObjectRecord)
        instrument_grant = exists().where(
            made.id == target, made.action_id.in_(_instrument_action_ids(uid)))
    return or_(entry, instrument_grant)


def holds_in_bulk(viewer: Viewer, level: Level, object_id: ColumnElement[int], *,
                  dialect: str) -> ColumnElement[bool]:
    """:func:`holds` on ``object_id``, decided against the set of every object the viewer
    holds ``level`` on: for one query over many objects (issue 6). Negate it with ``not_``.

    :func:`holds` probes each row's entries through the primary key (fenced so PostgreSQL
    keeps doing so): right for one object or a page, but 150 ms over 100,000 rows on
    PostgreSQL, and 450-800 ms without statistics (just after an import). Here the viewer's
    entries are read once, by subject, then matched to the rows in the form each database
    plans best (``dialect``: the session's dialect name).
    ``object_id`` must not be NULL: on SQLite the negation of a NULL is NULL, not true.
    """
    key = permission_key(viewer, level)
    if key.outcome is not None:
        return true() if key.outcome else false()
    held = _held_object_ids(key.user_id, key.anonymous_enabled, key.level)
    if held is None:
        return false()
    if dialect == "sqlite":
        # SQLite reads an IN set once into a temporary index and probes it per row; an
        # EXISTS it would run per row, 1.4-2.5x slower over 100,000 rows.
        return object_id.in_(held)
    # PostgreSQL joins an EXISTS (semi-join, or negated anti-join: ~70 ms with or without
    # statistics). NOT IN it plans as a hash of the set only while that fits in work_mem,
    # and beyond rescans the set for every row.
    rows = held.subquery()
    return exists().where(rows.c.object_id == object_id)


@lru_cache(maxsize=256)
def _held_object_ids(uid: int | None, anonymous_enabled: bool,
                     level: Level) -> Select[tuple[int]] | CompoundSelect[tuple[int]] | None:
    """Ids of the objects the viewer holds ``level`` on (with repeats), or None for none.

    Built once per viewer and level, as :func:`holds_on_objects` is; memberships are read by
    the SQL itself.
    """
    subjects = _subjects(uid, anonymous_enabled, level)
    if not subjects:
        return None
    p = ObjectPermission
    entries = select(p.object_id).where(
        p.level >= level,
        # Pairs rather than the CASE of holds: all of the viewer's entries are wanted, and
        # pairs leave the (subject_type, subject_id) index usable to find them.
        or_(*(and_(p.subject_type == subject_type, matches)
              for subject_type, matches in subjects)),
    )
    if uid is None:
        return entries
    made = aliased(ObjectRecord)
    instrument_grant = select(made.id).where(made.action_id.in_(_instrument_action_ids(uid)))
    return union_all(entries, instrument_grant)


def permission_generation(db: Session) -> int:
    """The permission generation this transaction sees: it moves with every change to what
    anyone may read (database triggers, migration 0008)."""
    return db.scalar(select(PermissionGeneration.generation)
                     .where(PermissionGeneration.id == 1)) or 0


def effective_level(db: Session, viewer: Viewer, object_id: int) -> Level:
    for level in (Level.GRANT, Level.WRITE, Level.READ):
        if db.scalar(select(holds(viewer, level, literal(object_id)))):
            return level
    return Level.NONE


def set_level(db: Session, object_id: int, subject_type: str, subject_id: int,
              level: Level) -> None:
    """Set one subject's entry; ``none`` removes it."""
    if level == Level.NONE:
        db.execute(delete(ObjectPermission).where(
            ObjectPermission.object_id == object_id,
            ObjectPermission.subject_type == subject_type,
            ObjectPermission.subject_id == subject_id))
        return
    # One upsert statement: a DELETE, an ORM add and a flush took 1.5 ms of a 2 ms
    # permission PUT (profile, issue 3); concurrent writers of one entry cannot collide.
    db.execute(_entry_upsert(db.get_bind().dialect.name),
               {"object_id": object_id, "subject_type": subject_type, "subject_id": subject_id,
                "level": int(level)})


@lru_cache(maxsize=2)
def _entry_upsert(dialect_name: str) -> Insert:
    entries = ObjectPermission.__table__
    statement = conflict_insert(dialect_name, entries)
    return statement.on_conflict_do_update(
        index_elements=[entries.c.object_id, entries.c.subject_type, entries.c.subject_id],
        set_={"level": statement.excluded.level})


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


# --- listings: who holds what, source by source ------------------------------------------
#
# The permission routes report entries, optionally widened by indirect sources, as SampleDB
# does; they decide nothing. Deciding is ``holds``. With every source included, a user's
# listed level equals the level ``holds`` gives them apart from the authenticated-users and
# anonymous entries, which listings never spread over users.


@dataclass(frozen=True)
class UserSources:
    """Indirect sources a user listing includes besides the users' own entries."""

    instrument_scientists: bool = False
    groups: bool = False
    projects: bool = False
    admins: bool = False


def _least(a: ColumnElement[int], b: ColumnElement[int]) -> ColumnElement[int]:
    return case((a < b, a), else_=b)


def _entries_of(object_id: int, subject_type: str) -> ColumnElement[bool]:
    return and_(ObjectPermission.object_id == object_id,
                ObjectPermission.subject_type == subject_type)


def _project_user_levels(object_id: int, through_groups: bool) -> list[Select[tuple[int, int]]]:
    p = ObjectPermission
    direct = (
        select(ProjectMember.user_id, _least(ProjectMember.level, p.level))
        .join(p, p.subject_id == ProjectMember.project_id)
        .where(_entries_of(object_id, SubjectType.PROJECT))
    )
    if not through_groups:
        return [direct]
    via_group = (
        select(GroupMember.user_id, _least(ProjectGroupMember.level, p.level))
        .join(ProjectGroupMember, ProjectGroupMember.group_id == GroupMember.group_id)
        .join(p, p.subject_id == ProjectGroupMember.project_id)
        .where(_entries_of(object_id, SubjectType.PROJECT))
    )
    return [direct, via_group]


def _user_level_sources(object_id: int, sources: UserSources) -> list[Select[tuple[int, int]]]:
    p = ObjectPermission
    selects = [select(p.subject_id, p.level).where(_entries_of(object_id, SubjectType.USER))]
    if sources.instrument_scientists:
        selects.append(
            select(InstrumentScientist.user_id, literal(int(Level.GRANT)))
            .join(Action, Action.instrument_id == InstrumentScientist.instrument_id)
            .join(ObjectRecord, ObjectRecord.action_id == Action.id)
            .where(ObjectRecord.id == object_id))
    if sources.groups:
        selects.append(
            select(GroupMember.user_id, p.level)
            .join(p, p.subject_id == GroupMember.group_id)
            .where(_entries_of(object_id, SubjectType.GROUP)))
    if sources.projects:
        selects += _project_user_levels(object_id, through_groups=sources.groups)
    if sources.admins:
        selects.append(select(User.id, literal(int(Level.GRANT))).where(
            User.role >= int(Role.ADMIN), User.admin_permissions_enabled.is_(True)))
    return selects


def user_levels(db: Session, object_id: int, sources: UserSources,
                only_user_id: int | None = None) -> dict[int, Level]:
    """Listed level per existing user, read-only users capped at read; none left out."""
    union = union_all(*_user_level_sources(object_id, sources)).subquery()
    user_id, level = union.c
    query = (
        select(user_id, func.max(level), User.is_readonly)
        .join(User, User.id == user_id)
        .where(User.is_deleted.is_(False))
        .group_by(user_id, User.is_readonly)
        .order_by(user_id)
    )
    if only_user_id is not None:
        query = query.where(user_id == only_user_id)
    levels = {}
    for uid, best, readonly in db.execute(query):
        levels[uid] = min(Level(best), Level.READ) if readonly else Level(best)
    return {uid: found for uid, found in levels.items() if found > Level.NONE}


def group_levels(db: Session, object_id: int, include_projects: bool = False,
                 only_group_id: int | None = None) -> dict[int, Level]:
    """Listed level per existing basic group, optionally widened by the projects the group
    belongs to (the lower of the project's level on the object and the group's in it)."""
    p = ObjectPermission
    selects = [select(p.subject_id, p.level).where(_entries_of(object_id, SubjectType.GROUP))]
    if include_projects:
        selects.append(
            select(ProjectGroupMember.group_id, _least(ProjectGroupMember.level, p.level))
            .join(p, p.subject_id == ProjectGroupMember.project_id)
            .where(_entries_of(object_id, SubjectType.PROJECT)))
    union = union_all(*selects).subquery()
    group_id, level = union.c
    query = (select(group_id, func.max(level)).join(Group, Group.id == group_id)
             .group_by(group_id).order_by(group_id))
    if only_group_id is not None:
        query = query.where(group_id == only_group_id)
    return {gid: Level(best) for gid, best in db.execute(query) if best > Level.NONE}


def project_levels(db: Session, object_id: int,
                   only_project_id: int | None = None) -> dict[int, Level]:
    p = ObjectPermission
    query = (select(p.subject_id, p.level).join(Project, Project.id == p.subject_id)
             .where(_entries_of(object_id, SubjectType.PROJECT)).order_by(p.subject_id))
    if only_project_id is not None:
        query = query.where(p.subject_id == only_project_id)
    return {pid: Level(level) for pid, level in db.execute(query) if level > Level.NONE}
