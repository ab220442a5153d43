"""SampleDB routes for basic groups and project groups, and the admin-permissions switch.

Reading groups and projects and managing their member users follow current SampleDB
(``/api/v1/groups/...``, ``/api/v1/projects/.../member_users/...``). Creating groups and
projects, project member groups and ``/users/me/admin_permissions`` are IsoFind
extensions in the same style. Names and descriptions are answered in SampleDB's
per-language form ``{"en": ...}``; plain strings are accepted too.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path, Request, Response
from sqlalchemy.orm import Session

from isofind.api_v1.wire import v1_router
from isofind.identity import groups
from isofind.identity.dependencies import Db, V1User
from isofind.identity.models import Group, Project
from isofind.permissions.models import Level

router = v1_router(prefix="/api/v1", tags=["SampleDB: Basic Groups and Project Groups"])

JsonBody = Annotated[Any, Body()]
# Ids are INTEGER columns: larger values would overflow SQLite (a 500), so they are refused.
Id = Annotated[int, Path(ge=0, le=groups.MAX_ID)]
EXTENSION = " (IsoFind extension)"


def _href(request: Request, path: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/v1/{path}"


def _user_ref(request: Request, user_id: int) -> dict[str, Any]:
    return {"user_id": user_id, "href": _href(request, f"users/{user_id}")}


def _member_user(request: Request, user_id: int, level: Level) -> dict[str, Any]:
    return {"user_id": user_id, "permissions": level.label,
            "href": _href(request, f"users/{user_id}")}


def _member_group(request: Request, group_id: int, level: Level) -> dict[str, Any]:
    return {"group_id": group_id, "permissions": level.label,
            "href": _href(request, f"groups/{group_id}")}


def _group_json(request: Request, group: Group, member_ids: list[int]) -> dict[str, Any]:
    return {"group_id": group.id, "name": {"en": group.name},
            "description": {"en": group.description},
            "member_users": [_user_ref(request, uid) for uid in member_ids]}


def _project_json(request: Request, project: Project, users: dict[int, Level],
                  member_groups: dict[int, Level]) -> dict[str, Any]:
    return {
        "project_id": project.id, "name": {"en": project.name},
        "description": {"en": project.description},
        "member_users": [_member_user(request, uid, lvl) for uid, lvl in users.items()],
        "member_groups": [_member_group(request, gid, lvl) for gid, lvl in member_groups.items()],
    }


def _created(response: Response, location: str) -> None:
    response.headers["Location"] = f"/api/v1/{location}"


# --- basic groups -----------------------------------------------------------------------------


@router.get("/groups/", summary="Reading a list of all basic groups")
def list_groups(request: Request, user: V1User, db: Db) -> list[dict[str, Any]]:
    found = groups.list_groups(db)
    members = groups.group_member_ids(db, [g.id for g in found])
    return [_group_json(request, g, members.get(g.id, [])) for g in found]


@router.post("/groups/", status_code=201, summary="Creating a basic group" + EXTENSION)
def create_group(request: Request, response: Response, user: V1User, db: Db,
                 body: JsonBody = None) -> dict[str, Any]:
    group = groups.create_group(db, user, body)
    _created(response, f"groups/{group.id}")
    return _group_json(request, group, [])


@router.get("/groups/{group_id}", summary="Reading a basic group")
def read_group(group_id: Id, request: Request, user: V1User, db: Db) -> dict[str, Any]:
    group = groups.get_group(db, group_id)
    return _group_json(request, group, groups.group_member_ids(db, [group_id]).get(group_id, []))


@router.get("/groups/{group_id}/member_users/",
            summary="Reading the list of members for a basic group")
def list_group_members(group_id: Id, request: Request, user: V1User,
                       db: Db) -> list[dict[str, Any]]:
    return [_user_ref(request, uid) for uid in groups.list_group_members(db, user, group_id)]


@router.post("/groups/{group_id}/member_users/", status_code=201,
             summary="Adding a member to a basic group")
def add_group_member(group_id: Id, request: Request, response: Response, user: V1User, db: Db,
                     body: JsonBody = None) -> dict[str, Any]:
    user_id = groups.add_group_member(db, user, group_id, body)
    _created(response, f"groups/{group_id}/member_users/{user_id}")
    return _user_ref(request, user_id)


@router.get("/groups/{group_id}/member_users/{user_id}",
            summary="Reading a member of a basic group")
def read_group_member(group_id: Id, user_id: Id, request: Request, user: V1User,
                      db: Db) -> dict[str, Any]:
    return _user_ref(request, groups.get_group_member(db, user, group_id, user_id))


@router.delete("/groups/{group_id}/member_users/{user_id}",
               summary="Removing a member from a basic group")
def remove_group_member(group_id: Id, user_id: Id, user: V1User, db: Db) -> dict[str, str]:
    groups.remove_group_member(db, user, group_id, user_id)
    return {"message": f"user {user_id} has been removed from group {group_id}"}


# --- project groups ---------------------------------------------------------------------------


@router.get("/projects/", summary="Reading a list of all project groups")
def list_projects(request: Request, user: V1User, db: Db) -> list[dict[str, Any]]:
    found = groups.list_projects(db)
    ids = [p.id for p in found]
    users = groups.project_member_users(db, ids)
    member_groups = groups.project_member_groups(db, ids)
    return [_project_json(request, p, users.get(p.id, {}), member_groups.get(p.id, {}))
            for p in found]


@router.post("/projects/", status_code=201, summary="Creating a project group" + EXTENSION)
def create_project(request: Request, response: Response, user: V1User, db: Db,
                   body: JsonBody = None) -> dict[str, Any]:
    project = groups.create_project(db, user, body)
    _created(response, f"projects/{project.id}")
    return _one_project_json(request, db, project)


def _one_project_json(request: Request, db: Session, project: Project) -> dict[str, Any]:
    return _project_json(request, project,
                         groups.project_member_users(db, [project.id]).get(project.id, {}),
                         groups.project_member_groups(db, [project.id]).get(project.id, {}))


@router.get("/projects/{project_id}", summary="Reading a project group")
def read_project(project_id: Id, request: Request, user: V1User, db: Db) -> dict[str, Any]:
    return _one_project_json(request, db, groups.get_project(db, project_id))


@router.get("/projects/{project_id}/member_users/",
            summary="Reading the list of members for a project group")
def list_project_members(project_id: Id, request: Request, user: V1User,
                         db: Db) -> list[dict[str, Any]]:
    members = groups.list_project_members(db, user, project_id)
    return [_member_user(request, uid, level) for uid, level in members.items()]


@router.post("/projects/{project_id}/member_users/", status_code=201,
             summary="Adding a member to a project group")
def add_project_member(project_id: Id, request: Request, response: Response, user: V1User,
                       db: Db, body: JsonBody = None) -> dict[str, Any]:
    user_id, level = groups.add_project_member(db, user, project_id, body)
    _created(response, f"projects/{project_id}/member_users/{user_id}")
    return _member_user(request, user_id, level)


@router.get("/projects/{project_id}/member_users/{user_id}",
            summary="Reading a member of a project group")
def read_project_member(project_id: Id, user_id: Id, request: Request, user: V1User,
                        db: Db) -> dict[str, Any]:
    return _member_user(request, user_id,
                        groups.get_project_member(db, user, project_id, user_id))


@router.put("/projects/{project_id}/member_users/{user_id}",
            summary="Updating the permissions for a member of a project group")
def update_project_member(project_id: Id, user_id: Id, request: Request, user: V1User,
                          db: Db, body: JsonBody = None) -> dict[str, Any]:
    level = groups.update_project_member(db, user, project_id, user_id, body)
    return _member_user(request, user_id, level)


@router.delete("/projects/{project_id}/member_users/{user_id}",
               summary="Removing a member from a project group")
def remove_project_member(project_id: Id, user_id: Id, user: V1User,
                          db: Db) -> dict[str, str]:
    groups.remove_project_member(db, user, project_id, user_id)
    return {"message": f"user {user_id} has been removed from project {project_id}"}


@router.get("/projects/{project_id}/member_groups/",
            summary="Reading the basic groups of a project group" + EXTENSION)
def list_project_groups(project_id: Id, request: Request, user: V1User,
                        db: Db) -> list[dict[str, Any]]:
    members = groups.list_project_groups(db, user, project_id)
    return [_member_group(request, gid, level) for gid, level in members.items()]


@router.post("/projects/{project_id}/member_groups/", status_code=201,
             summary="Adding a basic group to a project group" + EXTENSION)
def add_project_group(project_id: Id, request: Request, response: Response, user: V1User,
                      db: Db, body: JsonBody = None) -> dict[str, Any]:
    group_id, level = groups.add_project_group(db, user, project_id, body)
    _created(response, f"projects/{project_id}/member_groups/{group_id}")
    return _member_group(request, group_id, level)


@router.get("/projects/{project_id}/member_groups/{group_id}",
            summary="Reading a basic group of a project group" + EXTENSION)
def read_project_group(project_id: Id, group_id: Id, request: Request, user: V1User,
                       db: Db) -> dict[str, Any]:
    return _member_group(request, group_id,
                         groups.get_project_group(db, user, project_id, group_id))


@router.put("/projects/{project_id}/member_groups/{group_id}",
            summary="Updating the permissions of a basic group in a project group" + EXTENSION)
def update_project_group(project_id: Id, group_id: Id, request: Request, user: V1User,
                         db: Db, body: JsonBody = None) -> dict[str, Any]:
    level = groups.update_project_group(db, user, project_id, group_id, body)
    return _member_group(request, group_id, level)


@router.delete("/projects/{project_id}/member_groups/{group_id}",
               summary="Removing a basic group from a project group" + EXTENSION)
def remove_project_group(project_id: Id, group_id: Id, user: V1User,
                         db: Db) -> dict[str, str]:
    groups.remove_project_group(db, user, project_id, group_id)
    return {"message": f"group {group_id} has been removed from project {project_id}"}


# --- admin permissions ------------------------------------------------------------------------


@router.get("/users/me/admin_permissions",
            summary="Reading whether admin permissions are enabled" + EXTENSION)
def read_admin_permissions(user: V1User) -> bool:
    return user.admin_permissions_enabled


@router.put("/users/me/admin_permissions",
            summary="Turning one's own admin permissions on or off" + EXTENSION)
def set_admin_permissions(user: V1User, db: Db, body: JsonBody = None) -> bool:
    return groups.set_admin_permissions(db, user, body)
