"""The permission matrix: each way of holding each level, against every object route.

Each case arranges how the holder (or an anonymous caller) relates to the owner's object,
then calls every route that exists for objects and compares all statuses at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from isofind.permissions.models import Level, ObjectPermission, SubjectType
from tests.permissions.conftest import HOLDER, Lab, name_data

R, W, G = Level.READ, Level.WRITE, Level.GRANT
Auth = tuple[str, str] | None


def _listed(response: httpx2.Response, object_id: int) -> str | int:
    if response.status_code != 200:
        return response.status_code
    return "listed" if object_id in {item["object_id"] for item in response.json()} else "absent"


def observe(lab: Lab, auth: Auth) -> dict[str, Any]:
    c, url = lab.client, lab.url
    return {
        "GET /objects/": _listed(c.get("/api/v1/objects/", auth=auth), lab.object_id),
        "GET /objects/{id}": c.get(url(), auth=auth, follow_redirects=False).status_code,
        "GET /objects/{id}/versions/0": c.get(url("/versions/0"), auth=auth).status_code,
        "GET /objects/{id}/related_objects": c.get(url("/related_objects"),
                                                   auth=auth).status_code,
        "GET /object_log_entries/": _listed(c.get("/api/v1/object_log_entries/", auth=auth),
                                            lab.object_id),
        "GET /permissions/public": c.get(url("/permissions/public"), auth=auth).status_code,
        "GET /permissions/users/": c.get(url("/permissions/users/"), auth=auth).status_code,
        "GET /permissions/groups/": c.get(url("/permissions/groups/"), auth=auth).status_code,
        "PUT /permissions/users/{id}": c.put(url(f"/permissions/users/{lab.other_id}"),
                                             json="read", auth=auth).status_code,
        "PUT /permissions/projects/{id}": c.put(url("/permissions/projects/999"), json="read",
                                                auth=auth).status_code,
        "POST /objects/{id}/versions/": c.post(url("/versions/"), auth=auth,
                                               json={"data": name_data("edited")}).status_code,
    }


def expected(level: Level | None) -> dict[str, Any]:
    """``None``: the caller is refused before any permission is looked at (401)."""
    if level is None:
        return dict.fromkeys(EXPECTED_KEYS, 401)

    def at(needed: Level, ok: int) -> int:
        return ok if level >= needed else 403

    listed = "listed" if level >= R else "absent"
    return {
        "GET /objects/": listed,
        "GET /objects/{id}": at(R, 302),
        "GET /objects/{id}/versions/0": at(R, 200),
        "GET /objects/{id}/related_objects": at(R, 200),
        "GET /object_log_entries/": listed,
        "GET /permissions/public": at(R, 200),
        "GET /permissions/users/": at(R, 200),
        "GET /permissions/groups/": at(R, 200),
        "PUT /permissions/users/{id}": at(G, 200),
        # With grant, the unknown project is what answers.
        "PUT /permissions/projects/{id}": at(G, 404),
        "POST /objects/{id}/versions/": at(W, 201),
    }


EXPECTED_KEYS = list(expected(Level.NONE))


@dataclass(frozen=True)
class Way:
    """One way of holding a level: how to arrange it, who asks, and what they hold."""

    id: str
    arrange: Callable[[Lab], None]
    level: Level | None
    auth: Auth = HOLDER
    anonymous_access: bool = False
    holder: dict[str, Any] = field(default_factory=dict)


def nothing(lab: Lab) -> None:
    """No entry of any kind for the holder."""


def user_entry(level: Level) -> Callable[[Lab], None]:
    return lambda lab: lab.share(f"users/{lab.holder_id}", level.label)


def group_entry(level: Level, member: bool = True) -> Callable[[Lab], None]:
    def arrange(lab: Lab) -> None:
        group_id = lab.add_group(*([lab.holder_id] if member else [lab.other_id]))
        lab.share(f"groups/{group_id}", level.label)
    return arrange


def project_entry(on_object: Level, in_project: Level) -> Callable[[Lab], None]:
    def arrange(lab: Lab) -> None:
        project_id = lab.add_project(users={lab.holder_id: in_project})
        lab.share(f"projects/{project_id}", on_object.label)
    return arrange


def project_via_group(on_object: Level, group_in_project: Level) -> Callable[[Lab], None]:
    def arrange(lab: Lab) -> None:
        group_id = lab.add_group(lab.holder_id)
        project_id = lab.add_project(groups={group_id: group_in_project})
        lab.share(f"projects/{project_id}", on_object.label)
    return arrange


def user_and_group(lab: Lab) -> None:
    user_entry(R)(lab)
    group_entry(W)(lab)


def authenticated(lab: Lab) -> None:
    lab.share("authenticated_users", "read")


def public(lab: Lab) -> None:
    lab.share("public", True)


def anonymous(lab: Lab) -> None:
    lab.share("anonymous_users", "read")


def stale_anonymous_entry(lab: Lab) -> None:
    # Set while anonymous access was on; the configuration has since turned it off.
    with lab.session() as db:
        db.add(ObjectPermission(object_id=lab.object_id, subject_type=SubjectType.ANONYMOUS,
                                subject_id=0, level=int(R)))


def scientist(of_action_instrument: bool) -> Callable[[Lab], None]:
    return lambda lab: lab.add_instrument(lab.holder_id, for_action=of_action_instrument)


def admin_permissions(enabled: bool) -> Callable[[Lab], None]:
    def arrange(lab: Lab) -> None:
        response = lab.client.put("/api/v1/users/me/admin_permissions", json=enabled,
                                  auth=HOLDER)
        assert response.json() is enabled
    return arrange


ADMIN_HOLDER = {"role": "admin"}
READONLY = {"is_readonly": True}

WAYS = [
    Way("no entry", nothing, Level.NONE),
    Way("creator", nothing, G, auth=("owner", "password-123")),
    Way("user read", user_entry(R), R),
    Way("user write", user_entry(W), W),
    Way("user grant", user_entry(G), G),
    Way("group read", group_entry(R), R),
    Way("group write", group_entry(W), W),
    Way("group grant", group_entry(G), G),
    Way("group entry, not a member", group_entry(G, member=False), Level.NONE),
    Way("highest of user read and group write", user_and_group, W),
    Way("project grant, member read", project_entry(G, R), R),
    Way("project read, member grant", project_entry(R, G), R),
    Way("project write, member grant", project_entry(W, G), W),
    Way("project grant, member write", project_entry(G, W), W),
    Way("project grant, member grant", project_entry(G, G), G),
    Way("project grant via group read", project_via_group(G, R), R),
    Way("project write via group grant", project_via_group(W, G), W),
    Way("project grant via group grant", project_via_group(G, G), G),
    Way("authenticated users read", authenticated, R),
    Way("public", public, R),
    Way("anonymous enabled, entry read", anonymous, R, auth=None, anonymous_access=True),
    Way("anonymous enabled, no entry", nothing, Level.NONE, auth=None, anonymous_access=True),
    Way("anonymous disabled", nothing, None, auth=None),
    Way("anonymous entry ignored while disabled", stale_anonymous_entry, Level.NONE),
    Way("anonymous entry counts for users", anonymous, R, anonymous_access=True),
    Way("instrument scientist", scientist(of_action_instrument=True), G),
    Way("scientist of another instrument", scientist(of_action_instrument=False), Level.NONE),
    Way("admin, admin permissions on", admin_permissions(True), G, holder=ADMIN_HOLDER),
    Way("admin, admin permissions off", admin_permissions(False), Level.NONE,
        holder=ADMIN_HOLDER),
    Way("read-only user with grant", user_entry(G), R, holder=READONLY),
    Way("read-only admin, admin permissions on", admin_permissions(True), R,
        holder={**ADMIN_HOLDER, **READONLY}),
    Way("read-only scientist", scientist(of_action_instrument=True), R, holder=READONLY),
]


@pytest.mark.parametrize("way", WAYS, ids=[way.id for way in WAYS])
def test_permission_matrix(lab_for: Callable[..., Lab], way: Way) -> None:
    lab = lab_for(anonymous_access=way.anonymous_access, **way.holder)
    way.arrange(lab)
    assert observe(lab, way.auth) == expected(way.level)
