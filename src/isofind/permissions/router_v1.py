"""SampleDB routes of the permissions room: an object's permission entries.

Bodies are bare JSON values (``true``, ``"read"``); the sampledbapi client sends them
without a Content-Type, which ``v1_router`` reads as JSON all the same.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path, Query, Request

from isofind.api_v1.dependencies import V1Viewer
from isofind.api_v1.wire import v1_router
from isofind.identity.dependencies import Db, client_address
from isofind.permissions import sharing
from isofind.permissions.models import Level
from isofind.permissions.service import UserSources

router = v1_router(prefix="/api/v1", tags=["SampleDB: Object Permissions"])

JsonBody = Annotated[Any, Body()]
# Ids are INTEGER columns: larger values would overflow SQLite (a 500), so they are refused.
Id = Annotated[int, Path(ge=0, le=2**31 - 1)]
# Present (even empty) means included, as in SampleDB; false, 0, no and off mean excluded.
Flag = Annotated[str | None, Query(description="Include this source when given")]
_FALSE = {"false", "0", "no", "off"}


def _given(value: str | None) -> bool:
    """SampleDB includes a source when its parameter is present, even empty."""
    return value is not None and value.lower() not in _FALSE


def _labels(levels: dict[int, Level]) -> dict[str, str]:
    return {str(subject_id): level.label for subject_id, level in levels.items()}


def _user_sources(
    include_instrument_responsible_users: str | None,
    include_groups: str | None,
    include_projects: str | None,
    include_admins: str | None,
) -> UserSources:
    return UserSources(
        instrument_scientists=_given(include_instrument_responsible_users),
        groups=_given(include_groups),
        projects=_given(include_projects),
        admins=_given(include_admins),
    )


# --- public, authenticated users, anonymous users ---------------------------------------------


@router.get("/objects/{object_id}/permissions/public",
            summary="Reading whether an object is readable by all authenticated users")
def get_public(object_id: Id, viewer: V1Viewer, db: Db) -> bool:
    return sharing.is_public(db, viewer, object_id)


@router.put("/objects/{object_id}/permissions/public",
            summary="Setting whether an object is readable by all authenticated users")
def put_public(object_id: Id, request: Request, viewer: V1Viewer, db: Db,
               body: JsonBody = None) -> bool:
    return sharing.set_public(db, viewer, object_id, body, client_address(request))


@router.get("/objects/{object_id}/permissions/authenticated_users",
            summary="Getting the permissions for all authenticated users")
def get_authenticated(object_id: Id, viewer: V1Viewer, db: Db) -> str:
    return sharing.authenticated_level(db, viewer, object_id).label


@router.put("/objects/{object_id}/permissions/authenticated_users",
            summary="Setting the permissions for all authenticated users ('none' or 'read')")
def put_authenticated(object_id: Id, request: Request, viewer: V1Viewer, db: Db,
                      body: JsonBody = None) -> str:
    return sharing.set_authenticated_level(db, viewer, object_id, body,
                                           client_address(request)).label


@router.get("/objects/{object_id}/permissions/anonymous_users",
            summary="Getting the permissions for anonymous users (400 when they are disabled)")
def get_anonymous(object_id: Id, viewer: V1Viewer, db: Db) -> str:
    return sharing.anonymous_level(db, viewer, object_id).label


@router.put("/objects/{object_id}/permissions/anonymous_users",
            summary="Setting the permissions for anonymous users ('none' or 'read'; "
                    "400 when they are disabled)")
def put_anonymous(object_id: Id, request: Request, viewer: V1Viewer, db: Db,
                  body: JsonBody = None) -> str:
    return sharing.set_anonymous_level(db, viewer, object_id, body,
                                       client_address(request)).label


# --- users ------------------------------------------------------------------------------------


@router.get("/objects/{object_id}/permissions/users/", summary="Reading all users' permissions")
def get_users(
    object_id: Id,
    viewer: V1Viewer,
    db: Db,
    include_instrument_responsible_users: Flag = None,
    include_groups: Flag = None,
    include_projects: Flag = None,
    include_admins: Flag = None,
) -> dict[str, str]:
    sources = _user_sources(include_instrument_responsible_users, include_groups,
                            include_projects, include_admins)
    return _labels(sharing.user_levels(db, viewer, object_id, sources))


@router.get("/objects/{object_id}/permissions/users/{user_id}",
            summary="Reading a user's permissions")
def get_user(
    object_id: Id,
    user_id: Id,
    viewer: V1Viewer,
    db: Db,
    include_instrument_responsible_users: Flag = None,
    include_groups: Flag = None,
    include_projects: Flag = None,
    include_admins: Flag = None,
) -> str:
    sources = _user_sources(include_instrument_responsible_users, include_groups,
                            include_projects, include_admins)
    return sharing.user_level(db, viewer, object_id, user_id, sources).label


@router.put("/objects/{object_id}/permissions/users/{user_id}",
            summary="Setting a user's permissions")
def put_user(object_id: Id, user_id: Id, request: Request, viewer: V1Viewer, db: Db,
             body: JsonBody = None) -> str:
    return sharing.set_user_level(db, viewer, object_id, user_id, body,
                                  client_address(request)).label


# --- basic groups -----------------------------------------------------------------------------


@router.get("/objects/{object_id}/permissions/groups/",
            summary="Reading all basic groups' permissions")
def get_groups(object_id: Id, viewer: V1Viewer, db: Db,
               include_projects: Flag = None) -> dict[str, str]:
    return _labels(sharing.group_levels(db, viewer, object_id, _given(include_projects)))


@router.get("/objects/{object_id}/permissions/groups/{group_id}",
            summary="Reading a basic group's permissions")
def get_group(object_id: Id, group_id: Id, viewer: V1Viewer, db: Db,
              include_projects: Flag = None) -> str:
    return sharing.group_level(db, viewer, object_id, group_id, _given(include_projects)).label


@router.put("/objects/{object_id}/permissions/groups/{group_id}",
            summary="Setting a basic group's permissions")
def put_group(object_id: Id, group_id: Id, request: Request, viewer: V1Viewer, db: Db,
              body: JsonBody = None) -> str:
    return sharing.set_group_level(db, viewer, object_id, group_id, body,
                                   client_address(request)).label


# --- project groups ---------------------------------------------------------------------------


@router.get("/objects/{object_id}/permissions/projects/",
            summary="Reading all project groups' permissions")
def get_projects(object_id: Id, viewer: V1Viewer, db: Db) -> dict[str, str]:
    return _labels(sharing.project_levels(db, viewer, object_id))


@router.get("/objects/{object_id}/permissions/projects/{project_id}",
            summary="Reading a project group's permissions")
def get_project(object_id: Id, project_id: Id, viewer: V1Viewer, db: Db) -> str:
    return sharing.project_level(db, viewer, object_id, project_id).label


@router.put("/objects/{object_id}/permissions/projects/{project_id}",
            summary="Setting a project group's permissions")
def put_project(object_id: Id, project_id: Id, request: Request, viewer: V1Viewer, db: Db,
                body: JsonBody = None) -> str:
    return sharing.set_project_level(db, viewer, object_id, project_id, body,
                                     client_address(request)).label
