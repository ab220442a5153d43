"""The rules behind the SampleDB permission routes: who may read and change an object's
entries, which values are accepted, and the activity record of every change.

Reading entries needs read on the object, changing them grant (``require_object`` answers
404 for unknown objects, 403 otherwise). The entries for all authenticated users and
for anonymous users accept only none and read, as SampleDB's do: a level that lets
everyone write is never what a lab means. Anonymous entries can be read and set only
while anonymous access is enabled (400 otherwise, as SampleDB answers).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import BadRequest
from isofind.identity.groups import get_group, get_project
from isofind.identity.service import get_user
from isofind.objects.service import require_object
from isofind.permissions import service
from isofind.permissions.models import Level, SubjectType
from isofind.permissions.service import UserSources, Viewer

EVERYONE_LEVELS = (Level.NONE, Level.READ)


def _parse_level(body: object) -> Level:
    if not isinstance(body, str):
        raise BadRequest('JSON string body required: "none", "read", "write" or "grant"')
    try:
        return Level.parse(body)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _parse_everyone_level(body: object, subject: str) -> Level:
    level = _parse_level(body)
    if level not in EVERYONE_LEVELS:
        raise BadRequest(f'invalid permission {body!r} for {subject}: expected "none" or "read"')
    return level


def _change(db: Session, viewer: Viewer, object_id: int, subject_type: str, subject_id: int,
            level: Level, client_address: str | None) -> None:
    service.set_level(db, object_id, subject_type, subject_id, level)
    record_activity(db, "permission.changed", user_id=viewer.user_id, target_type="object",
                    target_id=object_id, client_address=client_address,
                    details={"subject_type": subject_type, "subject_id": subject_id,
                             "level": level.label})


def _require_anonymous_users(viewer: Viewer) -> None:
    if not viewer.anonymous_enabled:
        raise BadRequest("anonymous users are disabled")


# --- everyone: public, authenticated users, anonymous users -----------------------------------


def is_public(db: Session, viewer: Viewer, object_id: int) -> bool:
    """Public means readable by every signed-in user: the authenticated-users entry."""
    require_object(db, viewer, object_id, Level.READ)
    return service.entry_level(db, object_id, SubjectType.AUTHENTICATED) >= Level.READ


def set_public(db: Session, viewer: Viewer, object_id: int, body: object,
               client_address: str | None) -> bool:
    require_object(db, viewer, object_id, Level.GRANT)
    if not isinstance(body, bool):
        raise BadRequest("JSON boolean body required: true or false")
    level = Level.READ if body else Level.NONE
    _change(db, viewer, object_id, SubjectType.AUTHENTICATED, 0, level, client_address)
    return body


def authenticated_level(db: Session, viewer: Viewer, object_id: int) -> Level:
    require_object(db, viewer, object_id, Level.READ)
    return service.entry_level(db, object_id, SubjectType.AUTHENTICATED)


def set_authenticated_level(db: Session, viewer: Viewer, object_id: int, body: object,
                            client_address: str | None) -> Level:
    require_object(db, viewer, object_id, Level.GRANT)
    level = _parse_everyone_level(body, "authenticated users")
    _change(db, viewer, object_id, SubjectType.AUTHENTICATED, 0, level, client_address)
    return level


def anonymous_level(db: Session, viewer: Viewer, object_id: int) -> Level:
    require_object(db, viewer, object_id, Level.READ)
    _require_anonymous_users(viewer)
    return service.entry_level(db, object_id, SubjectType.ANONYMOUS)


def set_anonymous_level(db: Session, viewer: Viewer, object_id: int, body: object,
                        client_address: str | None) -> Level:
    require_object(db, viewer, object_id, Level.GRANT)
    _require_anonymous_users(viewer)
    level = _parse_everyone_level(body, "anonymous users")
    _change(db, viewer, object_id, SubjectType.ANONYMOUS, 0, level, client_address)
    return level


# --- users, basic groups, project groups ----------------------------------------------------


def user_levels(db: Session, viewer: Viewer, object_id: int,
                sources: UserSources) -> dict[int, Level]:
    require_object(db, viewer, object_id, Level.READ)
    return service.user_levels(db, object_id, sources)


def user_level(db: Session, viewer: Viewer, object_id: int, user_id: int,
               sources: UserSources) -> Level:
    require_object(db, viewer, object_id, Level.READ)
    get_user(db, user_id)
    return service.user_levels(db, object_id, sources, only_user_id=user_id).get(
        user_id, Level.NONE)


def set_user_level(db: Session, viewer: Viewer, object_id: int, user_id: int, body: object,
                   client_address: str | None) -> Level:
    require_object(db, viewer, object_id, Level.GRANT)
    get_user(db, user_id)
    level = _parse_level(body)
    _change(db, viewer, object_id, SubjectType.USER, user_id, level, client_address)
    return level


def group_levels(db: Session, viewer: Viewer, object_id: int,
                 include_projects: bool) -> dict[int, Level]:
    require_object(db, viewer, object_id, Level.READ)
    return service.group_levels(db, object_id, include_projects)


def group_level(db: Session, viewer: Viewer, object_id: int, group_id: int,
                include_projects: bool) -> Level:
    require_object(db, viewer, object_id, Level.READ)
    get_group(db, group_id)
    return service.group_levels(db, object_id, include_projects, only_group_id=group_id).get(
        group_id, Level.NONE)


def set_group_level(db: Session, viewer: Viewer, object_id: int, group_id: int, body: object,
                    client_address: str | None) -> Level:
    require_object(db, viewer, object_id, Level.GRANT)
    get_group(db, group_id)
    level = _parse_level(body)
    _change(db, viewer, object_id, SubjectType.GROUP, group_id, level, client_address)
    return level


def project_levels(db: Session, viewer: Viewer, object_id: int) -> dict[int, Level]:
    require_object(db, viewer, object_id, Level.READ)
    return service.project_levels(db, object_id)


def project_level(db: Session, viewer: Viewer, object_id: int, project_id: int) -> Level:
    require_object(db, viewer, object_id, Level.READ)
    get_project(db, project_id)
    return service.project_levels(db, object_id, only_project_id=project_id).get(
        project_id, Level.NONE)


def set_project_level(db: Session, viewer: Viewer, object_id: int, project_id: int,
                      body: object, client_address: str | None) -> Level:
    require_object(db, viewer, object_id, Level.GRANT)
    get_project(db, project_id)
    level = _parse_level(body)
    _change(db, viewer, object_id, SubjectType.PROJECT, project_id, level, client_address)
    return level
