"""Basic groups, project groups and the admin-permissions switch over /api/v1."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.permissions.conftest import ADMIN, HOLDER, OTHER, Lab

BASE = "http://testserver/api/v1"


@pytest.fixture
def api(lab: Lab) -> TestClient:
    return lab.client


def _user(user_id: int) -> dict[str, object]:
    return {"user_id": user_id, "href": f"{BASE}/users/{user_id}"}


def test_admin_creates_a_group_and_manages_members(api: TestClient, lab: Lab) -> None:
    created = api.post("/api/v1/groups/", json={"name": "Pb isotopes", "description": "lab"},
                          auth=ADMIN)
    assert created.status_code == 201
    group_id = created.json()["group_id"]
    assert created.headers["Location"] == f"/api/v1/groups/{group_id}"
    added = api.post(f"/api/v1/groups/{group_id}/member_users/",
                        json={"user_id": lab.holder_id}, auth=ADMIN)
    assert (added.status_code, added.json()) == (201, _user(lab.holder_id))
    assert added.headers["Location"] == f"/api/v1/groups/{group_id}/member_users/{lab.holder_id}"
    read = api.get(f"/api/v1/groups/{group_id}", auth=OTHER).json()
    assert read == {"group_id": group_id, "name": {"en": "Pb isotopes"},
                    "description": {"en": "lab"}, "member_users": [_user(lab.holder_id)]}
    assert api.get("/api/v1/groups", auth=OTHER).json() == [read]
    member_url = f"/api/v1/groups/{group_id}/member_users/{lab.holder_id}"
    assert api.get(member_url, auth=ADMIN).json() == _user(lab.holder_id)
    removed = api.delete(member_url, auth=ADMIN)
    assert (removed.status_code, removed.json()) == (
        200, {"message": f"user {lab.holder_id} has been removed from group {group_id}"})
    assert api.get(f"/api/v1/groups/{group_id}/member_users/", auth=ADMIN).json() == []
    assert api.delete(member_url, auth=ADMIN).status_code == 404


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"name": "  "}, 400, "name must not be empty"),
    ({"name": 7}, 400, 'name must be a string or {"en": string}'),
    ({"name": {"en": "Sr"}, "colour": "red"}, 400, "invalid key 'colour'"),
    (["Sr"], 400, "JSON object body required"),
    ({"name": "x" * 201}, 400, "name must be at most 200 characters without NUL"),
    ({"name": "existing"}, 409, "a basic group named 'existing' already exists"),
])
def test_bad_groups_are_refused(api: TestClient, body: object, status: int,
                                message: str) -> None:
    assert api.post("/api/v1/groups/", json={"name": "Existing"}, auth=ADMIN).status_code == 201
    refused = api.post("/api/v1/groups/", json=body, auth=ADMIN)
    assert (refused.status_code, refused.json()) == (status, {"message": message})


def test_only_admins_manage_groups(api: TestClient, lab: Lab) -> None:
    group_id = lab.add_group()
    members = f"/api/v1/groups/{group_id}/member_users/"
    answers = [
        api.post("/api/v1/groups/", json={"name": "Nd"}, auth=HOLDER),
        api.get(members, auth=HOLDER),
        api.post(members, json={"user_id": lab.holder_id}, auth=HOLDER),
        api.delete(f"{members}{lab.holder_id}", auth=HOLDER),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [
        (403, {"message": "only administrators may manage groups"})] * 4


def test_group_member_refusals(api: TestClient, lab: Lab) -> None:
    group_id = lab.add_group(lab.holder_id)
    members = f"/api/v1/groups/{group_id}/member_users/"
    cases = [
        (api.post(members, json={"user_id": lab.holder_id}, auth=ADMIN),
         400, f"user {lab.holder_id} is already a member of group {group_id}"),
        (api.post(members, json={"user_id": 999}, auth=ADMIN), 404, "user 999 does not exist"),
        (api.post(members, json={"user_id": "3"}, auth=ADMIN),
         400, "user_id must be an integer from 0 to 2147483647"),
        (api.post(members, json={"user_id": 2**40}, auth=ADMIN),
         400, "user_id must be an integer from 0 to 2147483647"),
        (api.post("/api/v1/groups/999/member_users/", json={"user_id": 1}, auth=ADMIN),
         404, "group 999 does not exist"),
        (api.get(f"{members}{lab.other_id}", auth=ADMIN),
         404, f"user {lab.other_id} is not a member of group {group_id}"),
        (api.get("/api/v1/groups/999", auth=ADMIN), 404, "group 999 does not exist"),
    ]
    assert [(a.status_code, a.json()["message"]) for a, _, _ in cases] == [
        (status, message) for _, status, message in cases]
    assert api.get(f"/api/v1/groups/{2**40}", auth=ADMIN).status_code == 400


def _member(user_id: int, level: str) -> dict[str, object]:
    return {"user_id": user_id, "permissions": level, "href": f"{BASE}/users/{user_id}"}


def test_admin_creates_a_project_and_manages_members(api: TestClient, lab: Lab) -> None:
    created = api.post("/api/v1/projects/", json={"name": {"en": "Laurion"}}, auth=ADMIN)
    assert created.status_code == 201
    project_id = created.json()["project_id"]
    assert created.headers["Location"] == f"/api/v1/projects/{project_id}"
    assert created.json()["member_users"] == [_member(1, "grant")]
    members = f"/api/v1/projects/{project_id}/member_users/"
    added = api.post(members, json={"user_id": lab.holder_id, "permissions": "write"},
                        auth=ADMIN)
    assert (added.status_code, added.json()) == (201, _member(lab.holder_id, "write"))
    assert added.headers["Location"] == f"{members}{lab.holder_id}"
    changed = api.put(f"{members}{lab.holder_id}", json={"permissions": "read"}, auth=ADMIN)
    assert changed.json() == _member(lab.holder_id, "read")
    assert api.get(members, auth=ADMIN).json() == [_member(1, "grant"),
                                                     _member(lab.holder_id, "read")]
    group_id = lab.add_group()
    groups = f"/api/v1/projects/{project_id}/member_groups/"
    group_member = {"group_id": group_id, "permissions": "write",
                    "href": f"{BASE}/groups/{group_id}"}
    assert api.post(groups, json={"group_id": group_id, "permissions": "write"},
                       auth=ADMIN).json() == group_member
    assert api.get(f"/api/v1/projects/{project_id}", auth=OTHER).json() == {
        "project_id": project_id, "name": {"en": "Laurion"}, "description": {"en": ""},
        "member_users": [_member(1, "grant"), _member(lab.holder_id, "read")],
        "member_groups": [group_member]}
    assert api.put(f"{groups}{group_id}", json={"permissions": "grant"},
                      auth=ADMIN).json()["permissions"] == "grant"
    assert api.delete(f"{groups}{group_id}", auth=ADMIN).status_code == 200
    assert api.delete(f"{members}{lab.holder_id}", auth=ADMIN).json() == {
        "message": f"user {lab.holder_id} has been removed from project {project_id}"}
    assert api.get("/api/v1/projects/", auth=OTHER).json()[0]["member_users"] == [
        _member(1, "grant")]


def test_a_project_keeps_a_member_with_grant(api: TestClient, lab: Lab) -> None:
    project_id = api.post("/api/v1/projects/", json={"name": "Rio Tinto"},
                             auth=ADMIN).json()["project_id"]
    members = f"/api/v1/projects/{project_id}/member_users/"
    api.post(members, json={"user_id": lab.holder_id, "permissions": "read"}, auth=ADMIN)
    lowered = api.put(f"{members}1", json={"permissions": "write"}, auth=ADMIN)
    assert (lowered.status_code, lowered.json()) == (400, {"message": (
        f"cannot lower the permissions of user 1: the only member with grant permissions "
        f"for project {project_id}")})
    removed = api.delete(f"{members}1", auth=ADMIN)
    assert (removed.status_code, removed.json()) == (400, {"message": (
        f"cannot remove user 1: the only member with grant permissions for project "
        f"{project_id}, which has other members")})
    assert api.delete(f"{members}{lab.holder_id}", auth=ADMIN).status_code == 200
    assert api.delete(f"{members}1", auth=ADMIN).status_code == 200


@pytest.mark.parametrize("permissions", ["none", "owner", None, 3])
def test_project_member_levels_are_read_write_or_grant(api: TestClient, lab: Lab,
                                                       permissions: object) -> None:
    project_id = lab.add_project()
    refused = api.post(f"/api/v1/projects/{project_id}/member_users/",
                          json={"user_id": lab.holder_id, "permissions": permissions}, auth=ADMIN)
    assert (refused.status_code, refused.json()) == (400, {"message": (
        f'permissions must be one of "read", "write" or "grant", not {permissions!r}')})


def test_only_admins_manage_projects(api: TestClient, lab: Lab) -> None:
    project_id = lab.add_project()
    members = f"/api/v1/projects/{project_id}/member_users/"
    answers = [
        api.post("/api/v1/projects/", json={"name": "Sr"}, auth=HOLDER),
        api.get(members, auth=HOLDER),
        api.post(members, json={"user_id": lab.holder_id, "permissions": "read"},
                    auth=HOLDER),
        api.get(f"/api/v1/projects/{project_id}/member_groups/", auth=HOLDER),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [
        (403, {"message": "only administrators may manage projects"})] * 4
    assert api.get("/api/v1/projects/999", auth=HOLDER).json() == {
        "message": "project 999 does not exist"}


def test_admin_permissions_switch(api: TestClient) -> None:
    url = "/api/v1/users/me/admin_permissions"
    assert api.get(url, auth=ADMIN).json() is False
    assert api.put(url, content=b"true", auth=ADMIN).json() is True
    assert api.get(url, auth=ADMIN).json() is True
    assert api.put(url, json=False, auth=ADMIN).json() is False
    refused = api.put(url, json=True, auth=HOLDER)
    assert (refused.status_code, refused.json()) == (
        403, {"message": "only administrators have admin permissions to enable"})
    bad = api.put(url, json="on", auth=ADMIN)
    assert (bad.status_code, bad.json()) == (
        400, {"message": "JSON boolean body required: true or false"})
    assert api.get(url).status_code == 401


def test_read_only_admins_do_not_manage(lab_for: Callable[..., Lab]) -> None:
    lab = lab_for(role="admin", is_readonly=True)
    refused = lab.client.post("/api/v1/groups/", json={"name": "Cu"}, auth=HOLDER)
    assert (refused.status_code, refused.json()) == (
        403, {"message": "read-only users may not manage groups"})
