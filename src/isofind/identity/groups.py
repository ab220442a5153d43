"""Basic groups and project groups: who belongs to them, and at which level.

As in SampleDB, everyone signed in may see groups and projects; only administrators
(not read-only) manage them. Project members hold read, write or grant within the
project; a member's permission on an object through a project is the lower of that and
the project's level on the object. A project keeps at least one member with grant while
it has other members, so someone can always manage it; its creator starts with grant.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import BadRequest, Conflict, Forbidden, NotFound
from isofind.identity.models import (
    Group,
    GroupMember,
    Project,
    ProjectGroupMember,
    ProjectMember,
    Role,
    User,
)
from isofind.identity.service import get_user
from isofind.names import same_name
from isofind.permissions.models import Level

MEMBER_LEVELS = (Level.READ, Level.WRITE, Level.GRANT)
NAME_MAX, DESCRIPTION_MAX = 200, 2000
MAX_ID = 2**31 - 1  # ids are INTEGER columns on both backends


# --- checks and body fields -------------------------------------------------------------------


def _require_manager(actor: User, what: str) -> None:
    if actor.role < Role.ADMIN:
        raise Forbidden(f"only administrators may manage {what}")
    if actor.is_readonly:
        raise Forbidden(f"read-only users may not manage {what}")


def _require_admin(actor: User, what: str) -> None:
    if actor.role < Role.ADMIN:
        raise Forbidden(f"only administrators may manage {what}")


def _object_body(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("JSON object body required")
    return body


def _text(body: dict[str, Any], field: str, limit: int, *, required: bool) -> str:
    """Plain text, or SampleDB's per-language form of which the English text is kept."""
    value = body.get(field, None if required else "")
    if isinstance(value, dict) and set(value) == {"en"}:
        value = value["en"]
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string or {{\"en\": string}}")
    value = value.strip()
    if required and not value:
        raise BadRequest(f"{field} must not be empty")
    if len(value) > limit or "\x00" in value:
        raise BadRequest(f"{field} must be at most {limit} characters without NUL")
    return value


def _int_field(body: dict[str, Any], field: str) -> int:
    value = body.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise BadRequest(f"{field} must be an integer from 0 to {MAX_ID}")
    return value


def _member_level(body: dict[str, Any]) -> Level:
    value = body.get("permissions")
    if not isinstance(value, str) or value.upper() not in {m.name for m in MEMBER_LEVELS}:
        raise BadRequest(f'permissions must be one of "read", "write" or "grant", not {value!r}')
    return Level.parse(value)


def _unknown_keys(body: dict[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise BadRequest(f"invalid key '{key}'")


# --- basic groups -----------------------------------------------------------------------------


def list_groups(db: Session) -> list[Group]:
    return list(db.scalars(select(Group).order_by(Group.id)))


def get_group(db: Session, group_id: int) -> Group:
    group = db.get(Group, group_id)
    if group is None:
        raise NotFound(f"group {group_id} does not exist")
    return group


def group_member_ids(db: Session, group_ids: list[int]) -> dict[int, list[int]]:
    rows = db.execute(select(GroupMember.group_id, GroupMember.user_id)
                      .where(GroupMember.group_id.in_(group_ids)).order_by(GroupMember.user_id))
    members: dict[int, list[int]] = defaultdict(list)
    for group_id, user_id in rows:
        members[group_id].append(user_id)
    return members


def create_group(db: Session, actor: User, body: object) -> Group:
    _require_manager(actor, "groups")
    payload = _object_body(body)
    _unknown_keys(payload, {"name", "description"})
    name = _text(payload, "name", NAME_MAX, required=True)
    if same_name(db, Group.id, Group.name, name) is not None:
        raise Conflict(f"a basic group named {name!r} already exists")
    group = Group(name=name, description=_text(payload, "description", DESCRIPTION_MAX,
                                               required=False))
    db.add(group)
    db.flush()
    record_activity(db, "group.created", user_id=actor.id, target_type="group",
                    target_id=group.id, details={"name": name})
    return group


def list_group_members(db: Session, actor: User, group_id: int) -> list[int]:
    _require_admin(actor, "groups")
    get_group(db, group_id)
    return group_member_ids(db, [group_id]).get(group_id, [])


def get_group_member(db: Session, actor: User, group_id: int, user_id: int) -> int:
    if user_id not in list_group_members(db, actor, group_id):
        raise NotFound(f"user {user_id} is not a member of group {group_id}")
    return user_id


def add_group_member(db: Session, actor: User, group_id: int, body: object) -> int:
    _require_manager(actor, "groups")
    get_group(db, group_id)
    payload = _object_body(body)
    _unknown_keys(payload, {"user_id"})
    user_id = _int_field(payload, "user_id")
    get_user(db, user_id)
    if db.get(GroupMember, (group_id, user_id)) is not None:
        raise BadRequest(f"user {user_id} is already a member of group {group_id}")
    db.add(GroupMember(group_id=group_id, user_id=user_id))
    db.flush()
    record_activity(db, "group.member_added", user_id=actor.id, target_type="group",
                    target_id=group_id, details={"user_id": user_id})
    return user_id


def remove_group_member(db: Session, actor: User, group_id: int, user_id: int) -> None:
    _require_manager(actor, "groups")
    get_group(db, group_id)
    member = db.get(GroupMember, (group_id, user_id))
    if member is None:
        raise NotFound(f"user {user_id} is not a member of group {group_id}")
    db.delete(member)
    db.flush()
    record_activity(db, "group.member_removed", user_id=actor.id, target_type="group",
                    target_id=group_id, details={"user_id": user_id})


# --- project groups ---------------------------------------------------------------------------


def list_projects(db: Session) -> list[Project]:
    return list(db.scalars(select(Project).order_by(Project.id)))


def get_project(db: Session, project_id: int) -> Project:
    project = db.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    return project


def project_member_users(db: Session, project_ids: list[int]) -> dict[int, dict[int, Level]]:
    rows = db.execute(select(ProjectMember.project_id, ProjectMember.user_id, ProjectMember.level)
                      .where(ProjectMember.project_id.in_(project_ids))
                      .order_by(ProjectMember.user_id))
    members: dict[int, dict[int, Level]] = defaultdict(dict)
    for project_id, user_id, level in rows:
        members[project_id][user_id] = Level(level)
    return members


def project_member_groups(db: Session, project_ids: list[int]) -> dict[int, dict[int, Level]]:
    rows = db.execute(select(ProjectGroupMember.project_id, ProjectGroupMember.group_id,
                             ProjectGroupMember.level)
                      .where(ProjectGroupMember.project_id.in_(project_ids))
                      .order_by(ProjectGroupMember.group_id))
    members: dict[int, dict[int, Level]] = defaultdict(dict)
    for project_id, group_id, level in rows:
        members[project_id][group_id] = Level(level)
    return members


def create_project(db: Session, actor: User, body: object) -> Project:
    _require_manager(actor, "projects")
    payload = _object_body(body)
    _unknown_keys(payload, {"name", "description"})
    name = _text(payload, "name", NAME_MAX, required=True)
    if same_name(db, Project.id, Project.name, name) is not None:
        raise Conflict(f"a project group named {name!r} already exists")
    project = Project(name=name, description=_text(payload, "description", DESCRIPTION_MAX,
                                                   required=False))
    db.add(project)
    db.flush()
    db.add(ProjectMember(project_id=project.id, user_id=actor.id, level=int(Level.GRANT)))
    db.flush()
    record_activity(db, "project.created", user_id=actor.id, target_type="project",
                    target_id=project.id, details={"name": name})
    return project


def list_project_members(db: Session, actor: User, project_id: int) -> dict[int, Level]:
    _require_admin(actor, "projects")
    get_project(db, project_id)
    return project_member_users(db, [project_id]).get(project_id, {})


def get_project_member(db: Session, actor: User, project_id: int, user_id: int) -> Level:
    level = list_project_members(db, actor, project_id).get(user_id)
    if level is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    return level


def _project_member(db: Session, actor: User, project_id: int, user_id: int) -> ProjectMember:
    _require_manager(actor, "projects")
    get_project(db, project_id)
    member = db.get(ProjectMember, (project_id, user_id))
    if member is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    return member


def _is_only_grant_member(db: Session, member: ProjectMember) -> bool:
    if member.level < Level.GRANT:
        return False
    others = db.scalar(select(func.count()).where(
        ProjectMember.project_id == member.project_id, ProjectMember.user_id != member.user_id,
        ProjectMember.level >= int(Level.GRANT)))
    return not others


def add_project_member(db: Session, actor: User, project_id: int,
                       body: object) -> tuple[int, Level]:
    _require_manager(actor, "projects")
    get_project(db, project_id)
    payload = _object_body(body)
    _unknown_keys(payload, {"user_id", "permissions"})
    user_id = _int_field(payload, "user_id")
    get_user(db, user_id)
    level = _member_level(payload)
    if db.get(ProjectMember, (project_id, user_id)) is not None:
        raise BadRequest(f"user {user_id} is already a member of project {project_id}")
    db.add(ProjectMember(project_id=project_id, user_id=user_id, level=int(level)))
    db.flush()
    record_activity(db, "project.member_added", user_id=actor.id, target_type="project",
                    target_id=project_id, details={"user_id": user_id, "level": level.label})
    return user_id, level


def update_project_member(db: Session, actor: User, project_id: int, user_id: int,
                          body: object) -> Level:
    member = _project_member(db, actor, project_id, user_id)
    payload = _object_body(body)
    _unknown_keys(payload, {"user_id", "permissions", "href"})
    level = _member_level(payload)
    if level < Level.GRANT and _is_only_grant_member(db, member):
        raise BadRequest(f"cannot lower the permissions of user {user_id}: the only member "
                         f"with grant permissions for project {project_id}")
    member.level = int(level)
    db.flush()
    record_activity(db, "project.member_changed", user_id=actor.id, target_type="project",
                    target_id=project_id, details={"user_id": user_id, "level": level.label})
    return level


def remove_project_member(db: Session, actor: User, project_id: int, user_id: int) -> None:
    member = _project_member(db, actor, project_id, user_id)
    remaining = db.scalar(select(func.count()).where(
        ProjectMember.project_id == project_id, ProjectMember.user_id != user_id))
    if remaining and _is_only_grant_member(db, member):
        raise BadRequest(f"cannot remove user {user_id}: the only member with grant "
                         f"permissions for project {project_id}, which has other members")
    db.delete(member)
    db.flush()
    record_activity(db, "project.member_removed", user_id=actor.id, target_type="project",
                    target_id=project_id, details={"user_id": user_id})


# --- basic groups as project members (an IsoFind extension in SampleDB's style) --------------


def list_project_groups(db: Session, actor: User, project_id: int) -> dict[int, Level]:
    _require_admin(actor, "projects")
    get_project(db, project_id)
    return project_member_groups(db, [project_id]).get(project_id, {})


def get_project_group(db: Session, actor: User, project_id: int, group_id: int) -> Level:
    level = list_project_groups(db, actor, project_id).get(group_id)
    if level is None:
        raise NotFound(f"group {group_id} is not a member of project {project_id}")
    return level


def add_project_group(db: Session, actor: User, project_id: int,
                      body: object) -> tuple[int, Level]:
    _require_manager(actor, "projects")
    get_project(db, project_id)
    payload = _object_body(body)
    _unknown_keys(payload, {"group_id", "permissions"})
    group_id = _int_field(payload, "group_id")
    get_group(db, group_id)
    level = _member_level(payload)
    if db.get(ProjectGroupMember, (project_id, group_id)) is not None:
        raise BadRequest(f"group {group_id} is already a member of project {project_id}")
    db.add(ProjectGroupMember(project_id=project_id, group_id=group_id, level=int(level)))
    db.flush()
    record_activity(db, "project.group_added", user_id=actor.id, target_type="project",
                    target_id=project_id, details={"group_id": group_id, "level": level.label})
    return group_id, level


def _project_group(db: Session, actor: User, project_id: int,
                   group_id: int) -> ProjectGroupMember:
    _require_manager(actor, "projects")
    get_project(db, project_id)
    member = db.get(ProjectGroupMember, (project_id, group_id))
    if member is None:
        raise NotFound(f"group {group_id} is not a member of project {project_id}")
    return member


def update_project_group(db: Session, actor: User, project_id: int, group_id: int,
                         body: object) -> Level:
    member = _project_group(db, actor, project_id, group_id)
    payload = _object_body(body)
    _unknown_keys(payload, {"group_id", "permissions", "href"})
    level = _member_level(payload)
    member.level = int(level)
    db.flush()
    record_activity(db, "project.group_changed", user_id=actor.id, target_type="project",
                    target_id=project_id, details={"group_id": group_id, "level": level.label})
    return level


def remove_project_group(db: Session, actor: User, project_id: int, group_id: int) -> None:
    member = _project_group(db, actor, project_id, group_id)
    db.delete(member)
    db.flush()
    record_activity(db, "project.group_removed", user_id=actor.id, target_type="project",
                    target_id=project_id, details={"group_id": group_id})


# --- admin permissions ------------------------------------------------------------------------


def set_admin_permissions(db: Session, actor: User, body: object) -> bool:
    """An administrator's own switch: with it on, they hold grant on every object."""
    if not isinstance(body, bool):
        raise BadRequest("JSON boolean body required: true or false")
    if actor.role < Role.ADMIN:
        raise Forbidden("only administrators have admin permissions to enable")
    actor.admin_permissions_enabled = body
    db.flush()
    record_activity(db, "user.admin_permissions_changed", user_id=actor.id, target_type="user",
                    target_id=actor.id, details={"enabled": body})
    return body
