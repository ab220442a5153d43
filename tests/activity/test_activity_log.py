"""The activity log and its CSV export."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

ADMIN = ("admin", "admin-password")


def test_logins_failures_and_user_changes_are_recorded(multi_client: TestClient) -> None:
    multi_client.post("/api/auth/login", json={"username": "admin", "password": "bad"})
    multi_client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
    multi_client.post("/api/users/create", auth=ADMIN,
                      json={"username": "hank", "password": "hank-password"})
    page = multi_client.get("/api/logs/activity", auth=ADMIN).json()
    actions = [e["action"] for e in page["entries"]]
    assert actions == ["user.created", "auth.login", "auth.login_failed", "user.created"]
    assert page["total"] == 4
    created = page["entries"][0]
    assert (created["user_id"], created["target_type"], created["target_id"]) == (1, "user", "2")
    assert created["details"] == {"username": "hank", "role": "user"}
    assert created["client_address"] == "testclient"


def test_filters_and_pagination(multi_client: TestClient) -> None:
    for i in range(3):
        multi_client.post("/api/users/create", auth=ADMIN,
                          json={"username": f"u{i}", "password": "password-123"})
    only_created = multi_client.get("/api/logs/activity", auth=ADMIN,
                                    params={"action": "user.created", "limit": 2}).json()
    assert only_created["total"] == 4
    assert [e["target_id"] for e in only_created["entries"]] == ["4", "3"]
    second_page = multi_client.get("/api/logs/activity", auth=ADMIN, params={
        "action": "user.created", "limit": 2, "offset": 2}).json()
    assert [e["target_id"] for e in second_page["entries"]] == ["2", "1"]
    family = multi_client.get("/api/logs/activity", auth=ADMIN, params={"action": "user."})
    assert family.json()["total"] == 4
    target = multi_client.get("/api/logs/activity", auth=ADMIN,
                              params={"target_type": "user", "target_id": "3"}).json()
    assert [e["action"] for e in target["entries"]] == ["user.created"]
    future = multi_client.get("/api/logs/activity", auth=ADMIN,
                              params={"since": "2999-01-01T00:00:00"}).json()
    assert future["total"] == 0
    bad = multi_client.get("/api/logs/activity", auth=ADMIN, params={"since": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "since"]


def test_non_admins_see_only_their_own_entries(multi_client: TestClient, add_user) -> None:
    add_user("ivy")
    multi_client.post("/api/auth/login", json={"username": "ivy", "password": "password-123"})
    entries = multi_client.get("/api/logs/activity", auth=("ivy", "password-123"),
                               params={"user_id": 1}).json()["entries"]
    assert {e["user_id"] for e in entries} == {2}


def test_csv_export_neutralises_formulas_and_is_logged(multi_client: TestClient) -> None:
    multi_client.post("/api/users/create", auth=ADMIN, json={
        "username": "=HYPERLINK(\"http://x\")", "password": "password-123"})
    multi_client.post("/api/auth/login", json={"username": "+cmd", "password": "bad"})
    multi_client.post("/api/auth/login", json={"username": "@sum", "password": "bad"})
    response = multi_client.get("/api/logs/export", auth=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["action"] for r in rows] == [
        "user.created", "user.created", "auth.login_failed", "auth.login_failed",
        "activity.exported"]
    failed = [r for r in rows if r["action"] == "auth.login_failed"]
    assert failed[0]["details"] == '{"username": "+cmd"}'  # JSON text starts with "{"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


def test_csv_cells_that_start_with_a_formula_character_get_a_quote() -> None:
    from isofind.csv_export import csv_safe

    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("-2") == "'-2"
    assert csv_safe("@A1") == "'@A1"
    assert csv_safe("+33 1 23") == "'+33 1 23"
    assert csv_safe("plain") == "plain"
    assert csv_safe(None) == ""
    assert csv_safe(-2.5) == "-2.5"  # a number is not a formula
