"""Sessions behind the isotrace_session cookie, in multi-user mode."""

from __future__ import annotations

from fastapi.testclient import TestClient

ORIGIN = {"Origin": "http://testserver"}


def login(client: TestClient, username: str = "admin", password: str = "admin-password"):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_login_sets_http_only_lax_cookie_and_check_reports_user(multi_client: TestClient) -> None:
    response = login(multi_client)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["user"]["username"] == "admin"
    assert body["user"]["role"] == "admin"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("isotrace_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on the test server
    check = multi_client.get("/api/auth/check").json()
    assert check == {
        "authenticated": True,
        "user": body["user"],
        "via": "session",
        "mode": "multi_user",
    }


def test_wrong_password_and_unknown_user_answer_the_same(multi_client: TestClient) -> None:
    wrong = login(multi_client, password="nope")
    unknown = login(multi_client, username="ghost", password="nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Invalid username or password"}
    assert "set-cookie" not in wrong.headers


def test_check_without_credentials_is_unauthenticated(multi_client: TestClient) -> None:
    response = multi_client.get("/api/auth/check")
    assert response.status_code == 200
    assert response.json() == {"authenticated": False}


def test_logout_ends_the_session(multi_client: TestClient) -> None:
    login(multi_client)
    cookie = multi_client.cookies.get("isotrace_session")
    assert multi_client.post("/api/auth/logout", headers=ORIGIN).json()["success"] is True
    multi_client.cookies.set("isotrace_session", cookie)
    assert multi_client.get("/api/auth/check").json() == {"authenticated": False}
    assert multi_client.get("/api/system/mode").status_code == 401


def test_cookie_write_without_origin_is_refused_as_csrf(multi_client: TestClient) -> None:
    login(multi_client)
    refused = multi_client.post("/api/config/language", json={"language": "fr"})
    assert refused.status_code == 403
    assert "Cross-site" in refused.json()["detail"]
    foreign = multi_client.post("/api/config/language", json={"language": "fr"},
                                headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    referer = multi_client.post("/api/config/language", json={"language": "fr"},
                                headers={"Referer": "http://testserver/app/settings"})
    assert referer.status_code == 200
    assert multi_client.get("/api/config/language").json() == {"language": "fr", "scope": "user"}


def test_header_authenticated_writes_are_exempt_from_origin_check(
    multi_client: TestClient,
) -> None:
    response = multi_client.post("/api/config/language", json={"language": "fr"},
                                 auth=("admin", "admin-password"))
    assert response.status_code == 200


def test_lock_keeps_the_session_but_refuses_it_until_password(multi_client: TestClient) -> None:
    login(multi_client)
    session_id = multi_client.get("/api/auth/sessions").json()[0]["id"]
    assert multi_client.post("/api/auth/lock", headers=ORIGIN).status_code == 200
    locked = multi_client.get("/api/system/mode")
    assert locked.status_code == 401
    assert locked.json() == {"detail": "Session is locked: sign in again to unlock it"}
    assert multi_client.get("/api/auth/check").json() == {"authenticated": False}
    assert login(multi_client).status_code == 200
    sessions = multi_client.get("/api/auth/sessions").json()
    assert [s["id"] for s in sessions] == [session_id]
    assert sessions[0]["is_locked"] is False and sessions[0]["current"] is True


def test_lock_needs_a_session(multi_client: TestClient) -> None:
    response = multi_client.post("/api/auth/lock", auth=("admin", "admin-password"))
    assert response.status_code == 400
    assert "cookie" in response.json()["detail"]


def test_sessions_list_and_delete_one(multi_client: TestClient, multi_app, add_user) -> None:
    first = TestClient(multi_app)
    second = TestClient(multi_app)
    login(first)
    login(second)
    listed = first.get("/api/auth/sessions").json()
    assert len(listed) == 2
    assert [s["current"] for s in listed] == [True, False]
    other_id = listed[1]["id"]
    assert first.delete(f"/api/auth/sessions/{other_id}", headers=ORIGIN).status_code == 200
    assert second.get("/api/auth/check").json() == {"authenticated": False}
    assert [s["id"] for s in first.get("/api/auth/sessions").json()] == [listed[0]["id"]]


def test_a_user_cannot_end_another_users_session(multi_app, add_user) -> None:
    add_user("bob", "user")
    admin, bob = TestClient(multi_app), TestClient(multi_app)
    login(admin)
    login(bob, "bob", "password-123")
    admin_session = admin.get("/api/auth/sessions").json()[0]["id"]
    response = bob.delete(f"/api/auth/sessions/{admin_session}", headers=ORIGIN)
    assert response.status_code == 404
    assert response.json() == {"detail": f"session {admin_session} does not exist"}
    assert admin.get("/api/auth/check").json()["authenticated"] is True
    bob_session = bob.get("/api/auth/sessions").json()[0]["id"]
    assert admin.delete(f"/api/auth/sessions/{bob_session}", headers=ORIGIN).status_code == 200
    assert bob.get("/api/auth/check").json() == {"authenticated": False}


def test_expired_session_is_refused(multi_client: TestClient, multi_app) -> None:
    from datetime import timedelta

    from isofind.identity.models import LoginSession
    from isofind.timeutil import utcnow

    login(multi_client)
    with multi_app.state.database.session(write=True) as db:
        for session in db.query(LoginSession):
            session.expires_at = utcnow() - timedelta(seconds=1)
    assert multi_client.get("/api/system/mode").status_code == 401


def test_cookie_is_secure_behind_https(multi_app) -> None:
    https = TestClient(multi_app, base_url="https://testserver")
    response = login(https)
    assert "Secure" in response.headers["set-cookie"]
    assert https.get("/api/auth/check").json()["authenticated"] is True
