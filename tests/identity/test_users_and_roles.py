"""User management, profile, roles, modes, and the SampleDB user routes."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

ADMIN = ("admin", "admin-password")


def test_admin_creates_lists_toggles_and_deletes_users(multi_client: TestClient) -> None:
    created = multi_client.post("/api/users/create", auth=ADMIN, json={
        "username": "dora", "email": "dora@lab.example", "password": "dora-password",
        "role": "manager", "display_name": "Dora M."})
    assert created.status_code == 201
    dora = created.json()
    assert (dora["username"], dora["role"], dora["email"], dora["is_active"]) == (
        "dora", "manager", "dora@lab.example", True)
    names = [u["username"] for u in multi_client.get("/api/users/list", auth=ADMIN).json()]
    assert names == ["admin", "dora"]
    assert multi_client.get("/api/system/mode", auth=("dora", "dora-password")).status_code == 200

    toggled = multi_client.post(f"/api/users/{dora['id']}/toggle", auth=ADMIN).json()
    assert toggled["is_active"] is False
    refused = multi_client.post("/api/auth/login",
                                json={"username": "dora", "password": "dora-password"})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Account is deactivated"}
    assert multi_client.post(f"/api/users/{dora['id']}/toggle", auth=ADMIN).json()["is_active"]

    assert multi_client.delete(f"/api/users/{dora['id']}", auth=ADMIN).status_code == 200
    assert [u["username"] for u in multi_client.get("/api/users/list", auth=ADMIN).json()] == [
        "admin"]
    gone = multi_client.post("/api/auth/login",
                             json={"username": "dora", "password": "dora-password"})
    assert gone.status_code == 401
    v1 = multi_client.get(f"/api/v1/users/{dora['id']}", auth=ADMIN)
    assert v1.status_code == 404
    assert v1.json() == {"message": f"user {dora['id']} does not exist"}


def test_deleted_user_stays_author_of_its_log_entries_but_is_anonymised(
    multi_client: TestClient, multi_app: FastAPI, add_user
) -> None:
    from isofind.activity.models import ActivityEntry
    from isofind.identity.models import User

    erin = add_user("erin", email="erin@lab.example")
    multi_client.post("/api/auth/login", json={"username": "erin", "password": "password-123"})
    multi_client.delete(f"/api/users/{erin}", auth=ADMIN)
    with multi_app.state.database.session(write=False) as db:
        user = db.get(User, erin)
        assert (user.username, user.email, user.is_deleted) == (f"deleted-user-{erin}", None, True)
        logins = db.query(ActivityEntry).filter_by(action="auth.login", user_id=erin).count()
        assert logins == 1


def test_admin_cannot_toggle_or_delete_own_account(multi_client: TestClient) -> None:
    toggle = multi_client.post("/api/users/1/toggle", auth=ADMIN)
    assert toggle.status_code == 400
    assert toggle.json() == {"detail": "You cannot deactivate your own account"}
    delete = multi_client.delete("/api/users/1", auth=ADMIN)
    assert delete.json() == {"detail": "You cannot delete your own account"}


def test_user_creation_validation(multi_client: TestClient) -> None:
    duplicate = multi_client.post("/api/users/create", auth=ADMIN, json={
        "username": "ADMIN", "password": "long-enough"})
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "username 'ADMIN' is already taken"}
    short = multi_client.post("/api/users/create", auth=ADMIN, json={
        "username": "x", "password": "short"})
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "password"]
    bad_role = multi_client.post("/api/users/create", auth=ADMIN, json={
        "username": "x", "password": "long-enough", "role": "overlord"})
    assert bad_role.status_code == 422
    assert bad_role.json()["detail"][0]["loc"] == ["body", "role"]
    spaced = multi_client.post("/api/users/create", auth=ADMIN, json={
        "username": "two words", "password": "long-enough"})
    assert spaced.status_code == 400


def test_roles_below_admin_cannot_manage_users(multi_client: TestClient, add_user) -> None:
    for role in ("user", "analyst", "manager"):
        add_user(role + "1", role)
        response = multi_client.get("/api/users/list", auth=(role + "1", "password-123"))
        assert response.status_code == 403, role
        assert response.json() == {"detail": "This action requires the admin role"}


def test_multi_user_mode_requires_credentials_except_public_routes(
    multi_client: TestClient,
) -> None:
    for path in ("/api/system/mode", "/api/system/stats", "/api/users/list",
                 "/api/logs/activity", "/api/config/language"):
        response = multi_client.get(path)
        assert response.status_code == 401, path
        assert response.json() == {"detail": "Authentication required"}
    for path in ("/api/ready", "/health", "/api/version/info", "/api/auth/check", "/docs",
                 "/redoc", "/openapi.json"):
        assert multi_client.get(path).status_code == 200, path


def test_single_user_mode_acts_as_local_owner(client: TestClient) -> None:
    login = client.post("/api/auth/login", json={"username": "anyone", "password": "x"})
    assert login.status_code == 200
    assert login.json()["user"]["username"] == "admin"
    assert client.get("/api/users/list").status_code == 200
    check = client.get("/api/auth/check").json()
    assert check["via"] == "local_owner" and check["mode"] == "single_user"


def test_single_user_mode_refuses_writes_from_foreign_web_pages(client: TestClient) -> None:
    refused = client.post("/api/config/language", json={"language": "fr"},
                          headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403
    assert client.post("/api/config/language", json={"language": "fr"}).status_code == 200


def test_profile_update_changes_only_given_fields(multi_client: TestClient, add_user) -> None:
    add_user("finn", display_name="Finn", email="finn@lab.example")
    auth = ("finn", "password-123")
    response = multi_client.put("/api/user/profile", auth=auth, json={
        "display_name": "Finn Larsen", "orcid": "0000-0002-1825-0097"})
    assert response.status_code == 200
    body = response.json()
    assert (body["display_name"], body["email"], body["orcid"]) == (
        "Finn Larsen", "finn@lab.example", "0000-0002-1825-0097")
    invalid = multi_client.put("/api/user/profile", auth=auth, json={"email": "not-an-email"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "email"]


def test_v1_users_show_email_to_admins_only(multi_client: TestClient, add_user) -> None:
    add_user("gail", email="gail@lab.example", affiliation="Lab A")
    as_admin = multi_client.get("/api/v1/users/", auth=ADMIN).json()
    assert as_admin[1] == {"user_id": 2, "name": "gail", "orcid": None, "affiliation": "Lab A",
                           "role": "user", "email": "gail@lab.example"}
    as_gail = multi_client.get("/api/v1/users/2", auth=("gail", "password-123")).json()
    assert "email" not in as_gail
    me = multi_client.get("/api/v1/users/me", auth=("gail", "password-123")).json()
    assert me == {"user_id": 2, "name": "gail", "orcid": None, "affiliation": "Lab A",
                  "role": "user"}


def test_v1_paths_answer_with_and_without_trailing_slash(multi_client: TestClient) -> None:
    assert multi_client.get("/api/v1/users", auth=ADMIN).status_code == 200
    assert multi_client.get("/api/v1/users/me/", auth=ADMIN).status_code == 200
    assert multi_client.get("/api/v1/users/abc", auth=ADMIN).status_code == 400


@pytest.mark.parametrize("again", ["Élise", "élise", "ÉLISE", "E\u0301lise", " élise "])
def test_usernames_are_one_name_whatever_their_case_or_composition(
        multi_client: TestClient, again: str) -> None:
    first = multi_client.post("/api/users/create", auth=ADMIN, json={
        "username": "Élise", "password": "long-enough"})
    assert first.status_code in (200, 201), first.text

    duplicate = multi_client.post("/api/users/create", auth=ADMIN, json={
        "username": again, "password": "long-enough"})

    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": f"username {again.strip()!r} is already taken"}
    signed_in = multi_client.get("/api/v1/users/me", auth=(again.strip(), "long-enough"))
    assert signed_in.status_code == 200 and signed_in.json()["name"] == "Élise"


@pytest.mark.parametrize("path", ["groups", "projects"])
@pytest.mark.parametrize("again", ["Équipe Pb", "équipe pb", "E\u0301quipe PB"])
def test_group_and_project_names_are_unique_whatever_their_case(
        multi_client: TestClient, path: str, again: str) -> None:
    assert multi_client.post(f"/api/v1/{path}/", auth=ADMIN,
                             json={"name": "Équipe Pb"}).status_code == 201

    duplicate = multi_client.post(f"/api/v1/{path}/", auth=ADMIN, json={"name": again})

    assert duplicate.status_code == 409
    assert again in duplicate.json()["message"]


def test_zone_and_crm_names_are_unique_whatever_their_case(client: TestClient) -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    for again in ("Zone Égée", "zone égée"):
        response = client.post("/api/zones", json={"name": again, "geometry": square})
        assert response.status_code == (201 if again == "Zone Égée" else 409), response.text
    for again in ("Étalon Ä", "étalon ä"):
        response = client.post("/api/crm/add", json={"name": again})
        assert response.status_code == (201 if again == "Étalon Ä" else 409), response.text
    assert client.post("/api/crm/add", json={"name": "Étalon Ä"}).json() == {
        "detail": "a CRM named 'Étalon Ä' already exists (id 1)"}
