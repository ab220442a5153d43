"""Basic, API tokens, access and refresh tokens, lockout, recovery, password changes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from isofind.identity import service
from isofind.identity.models import ApiToken, User
from isofind.identity.secrets import digest
from isofind.timeutil import utcnow

ORIGIN = {"Origin": "http://testserver"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_token(app: FastAPI, username: str = "admin") -> str:
    with app.state.database.session(write=True) as db:
        _, token = service.create_api_token(db, service.find_user(db, username), "tests")
    return token


def test_basic_auth_on_both_families(multi_client: TestClient) -> None:
    me = multi_client.get("/api/v1/users/me", auth=("admin", "admin-password"))
    assert me.status_code == 200
    assert me.json() == {"user_id": 1, "name": "Administrator", "orcid": None,
                         "affiliation": None, "role": "admin", "email": None}
    mode = multi_client.get("/api/system/mode", auth=("admin", "admin-password"))
    assert mode.json() == {"mode": "multi_user", "multi_user": True, "air_gap": False}


def test_basic_auth_failure_uses_each_familys_error_format(multi_client: TestClient) -> None:
    v1 = multi_client.get("/api/v1/users/me", auth=("admin", "wrong"))
    assert v1.status_code == 401
    assert v1.json() == {"message": "Invalid username or password"}
    assert v1.headers["www-authenticate"] == 'Basic realm="IsoFind"'
    isofind = multi_client.get("/api/system/mode", auth=("admin", "wrong"))
    assert isofind.json() == {"detail": "Invalid username or password"}


def test_v1_needs_credentials_even_in_single_user_mode(client: TestClient) -> None:
    response = client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication required"}


def test_api_token_and_revocation(multi_client: TestClient, multi_app: FastAPI) -> None:
    token = api_token(multi_app)
    assert len(token) == 64
    with multi_app.state.database.session(write=False) as db:
        stored = db.scalar(select(ApiToken))
        assert stored.token_digest == digest(token)  # only the digest is kept
    assert multi_client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    with multi_app.state.database.session(write=True) as db:
        db.scalar(select(ApiToken)).revoked_at = utcnow()
    refused = multi_client.get("/api/v1/users/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json() == {"message": "Invalid, expired or revoked token"}


def test_access_token_refresh_retires_the_old_access_token(multi_client: TestClient) -> None:
    created = multi_client.post("/api/v1/access_tokens/", json={"description": "instrument"},
                                auth=("admin", "admin-password"))
    assert created.status_code == 201
    pair = created.json()
    assert set(pair) == {"access_token", "refresh_token", "expiration_utc_datetime",
                         "description"}
    assert pair["description"] == "instrument"
    assert len(pair["expiration_utc_datetime"]) == len("2023-04-05 06:07:08")
    assert multi_client.get("/api/v1/users/me",
                            headers=bearer(pair["access_token"])).status_code == 200
    refreshed = multi_client.post("/api/v1/access_tokens/", headers=bearer(pair["refresh_token"]))
    assert refreshed.status_code == 201
    new = refreshed.json()
    assert new["description"] == "instrument"
    assert new["access_token"] != pair["access_token"]
    assert multi_client.get("/api/v1/users/me",
                            headers=bearer(pair["access_token"])).status_code == 401
    assert multi_client.get("/api/v1/users/me",
                            headers=bearer(new["access_token"])).status_code == 200
    reused = multi_client.post("/api/v1/access_tokens/", headers=bearer(pair["refresh_token"]))
    assert reused.status_code == 401


def test_access_token_cannot_mint_access_tokens(multi_client: TestClient) -> None:
    pair = multi_client.post("/api/v1/access_tokens/", json={"description": "x"},
                             auth=("admin", "admin-password")).json()
    response = multi_client.post("/api/v1/access_tokens/", json={"description": "y"},
                                 headers=bearer(pair["access_token"]))
    assert response.status_code == 403
    assert "refresh token" in response.json()["message"]


def test_expired_access_token_is_refused(multi_client: TestClient, multi_app: FastAPI) -> None:
    pair = multi_client.post("/api/v1/access_tokens/", json={"description": "x"},
                             auth=("admin", "admin-password")).json()
    with multi_app.state.database.session(write=True) as db:
        db.scalar(select(ApiToken)).expires_at = utcnow() - timedelta(seconds=1)
    response = multi_client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 401


def test_access_token_body_validation_is_a_sampledb_400(multi_client: TestClient) -> None:
    response = multi_client.post("/api/v1/access_tokens/", json={"description": 5},
                                 auth=("admin", "admin-password"))
    assert response.status_code == 400
    assert response.json()["message"].startswith("description:")


def test_malformed_authorization_headers(multi_client: TestClient) -> None:
    for header in ("Basic !!!", "Basic " + "YWRtaW4=", "Token abc", "Bearer "):
        response = multi_client.get("/api/system/mode", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_lockout_after_five_failures_then_admin_unlock(
    multi_client: TestClient, multi_app: FastAPI, add_user
) -> None:
    add_user("carol", "analyst")
    for _ in range(3):
        assert multi_client.post("/api/auth/login", json={
            "username": "carol", "password": "bad"}).status_code == 401
    for _ in range(2):  # Basic failures count too
        assert multi_client.get("/api/v1/users/me", auth=("carol", "bad")).status_code == 401
    locked = multi_client.post("/api/auth/login",
                               json={"username": "carol", "password": "password-123"})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 800
    basic = multi_client.get("/api/v1/users/me", auth=("carol", "password-123"))
    assert basic.status_code == 429
    listed = {u["username"]: u for u in multi_client.get(
        "/api/users/list", auth=("admin", "admin-password")).json()}
    assert listed["carol"]["locked"] is True and listed["carol"]["failed_attempts"] == 5
    carol_id = listed["carol"]["id"]
    unlocked = multi_client.post(f"/api/users/{carol_id}/unlock",
                                 auth=("admin", "admin-password"))
    assert unlocked.json()["locked"] is False
    assert multi_client.post("/api/auth/login", json={
        "username": "carol", "password": "password-123"}).status_code == 200


def test_lockout_expires_with_time(multi_client: TestClient, multi_app: FastAPI) -> None:
    from isofind.identity.models import LoginThrottle

    for _ in range(5):
        multi_client.post("/api/auth/login", json={"username": "admin", "password": "bad"})
    assert multi_client.get("/api/v1/users/me",
                            auth=("admin", "admin-password")).status_code == 429
    with multi_app.state.database.session(write=True) as db:
        db.get(LoginThrottle, "admin").locked_until = utcnow() - timedelta(seconds=1)
    assert multi_client.get("/api/v1/users/me",
                            auth=("admin", "admin-password")).status_code == 200


def test_unknown_usernames_are_throttled_the_same_way(multi_client: TestClient) -> None:
    statuses = [
        multi_client.post("/api/auth/login", json={"username": "nobody", "password": "x"})
        .status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_lockout_invalidates_cached_basic_credentials(
    multi_client: TestClient, multi_app: FastAPI
) -> None:
    assert multi_client.get("/api/v1/users/me",
                            auth=("admin", "admin-password")).status_code == 200
    for _ in range(5):
        multi_client.get("/api/v1/users/me", auth=("admin", "bad"))
    assert multi_client.get("/api/v1/users/me",
                            auth=("admin", "admin-password")).status_code == 429


def test_basic_cache_skips_argon2_but_honours_password_change(
    multi_client: TestClient, multi_app: FastAPI
) -> None:
    runtime = multi_app.state.identity
    calls = []
    original = runtime.hasher.verify_and_update
    runtime.hasher.verify_and_update = lambda *a: calls.append(1) or original(*a)
    for _ in range(3):
        assert multi_client.get("/api/v1/users/me",
                                auth=("admin", "admin-password")).status_code == 200
    assert len(calls) == 1
    with multi_app.state.database.session(write=True) as db:
        service.set_password(db, runtime, db.get(User, 1), "another-password")
    assert multi_client.get("/api/v1/users/me",
                            auth=("admin", "admin-password")).status_code == 401
    assert multi_client.get("/api/v1/users/me",
                            auth=("admin", "another-password")).status_code == 200


def test_change_password(multi_client: TestClient, multi_app: FastAPI) -> None:
    other = TestClient(multi_app)
    other.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
    multi_client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
    mismatch = multi_client.post("/api/auth/change-password", headers=ORIGIN, json={
        "old_password": "admin-password", "new_password": "new-password-1",
        "confirm_password": "new-password-2"})
    assert mismatch.status_code == 422
    assert "confirm_password does not match new_password" in mismatch.text
    wrong_old = multi_client.post("/api/auth/change-password", headers=ORIGIN, json={
        "old_password": "nope", "new_password": "new-password-1",
        "confirm_password": "new-password-1"})
    assert wrong_old.status_code == 400
    assert wrong_old.json() == {"detail": "old_password is incorrect"}
    changed = multi_client.post("/api/auth/change-password", headers=ORIGIN, json={
        "old_password": "admin-password", "new_password": "new-password-1",
        "confirm_password": "new-password-1"})
    assert changed.status_code == 200
    assert multi_client.get("/api/auth/check").json()["authenticated"] is True
    assert other.get("/api/auth/check").json() == {"authenticated": False}
    assert multi_client.post("/api/auth/login", json={
        "username": "admin", "password": "new-password-1"}).status_code == 200


def test_recovery_code_is_single_use_and_replaced(
    multi_client: TestClient, multi_app: FastAPI
) -> None:
    with multi_app.state.database.session(write=True) as db:
        code = service.issue_recovery_code(db, db.get(User, 1))
    used = multi_client.post("/api/auth/recovery", json={
        "recovery_code": code.lower(), "new_password": "recovered-pass"})
    assert used.status_code == 200
    body = used.json()
    assert body["success"] is True and body["username"] == "admin"
    assert body["new_recovery_code"] != code
    assert multi_client.post("/api/auth/login", json={
        "username": "admin", "password": "recovered-pass"}).status_code == 200
    reuse = multi_client.post("/api/auth/recovery", json={
        "recovery_code": code, "new_password": "hijacked-pass"})
    assert reuse.status_code == 401
    assert reuse.json() == {"detail": "Invalid or already used recovery code"}
    again = multi_client.post("/api/auth/recovery", json={
        "recovery_code": body["new_recovery_code"], "new_password": "third-password"})
    assert again.status_code == 200


def test_recovery_guessing_is_throttled(multi_client: TestClient) -> None:
    statuses = [
        multi_client.post("/api/auth/recovery", json={
            "recovery_code": f"WRONG-{i}", "new_password": "whatever-123"}).status_code
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_imported_bcrypt_hash_verifies_and_is_upgraded(
    multi_client: TestClient, multi_app: FastAPI, add_user
) -> None:
    from pwdlib.hashers.bcrypt import BcryptHasher

    user_id = add_user("legacy")
    with multi_app.state.database.session(write=True) as db:
        db.get(User, user_id).password_hash = BcryptHasher(rounds=4).hash("legacy-password")
    assert multi_client.post("/api/auth/login", json={
        "username": "legacy", "password": "legacy-password"}).status_code == 200
    with multi_app.state.database.session(write=False) as db:
        assert db.get(User, user_id).password_hash.startswith("$argon2id$")
