"""SampleDB comment routes: posting, reading, refusals, permissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from isofind.activity.models import ActivityEntry
from isofind.comments import service
from isofind.permissions.models import Level
from tests.conftest import ADMIN


def post(client: TestClient, object_id: int, body: Any, auth=ADMIN) -> Any:
    return client.post(f"/api/v1/objects/{object_id}/comments/", auth=auth, json=body)


def comments_of(client: TestClient, object_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/objects/{object_id}/comments", auth=ADMIN)
    assert response.status_code == 200
    return response.json()


def test_comments_count_from_zero_per_object(
    client: TestClient, make_object: Callable[[], int]
) -> None:
    first, second = make_object(), make_object()
    for expected_id, text in enumerate(["Polished section", "Rim analysed"]):
        response = post(client, first, {"content": text})
        assert response.status_code == 201
        assert response.headers["location"] == f"/api/v1/objects/{first}/comments/{expected_id}"
    response = post(client, second, {"content": "x", "object_id": second})
    assert response.headers["location"] == f"/api/v1/objects/{second}/comments/0"

    comment = client.get(f"/api/v1/objects/{first}/comments/1", auth=ADMIN).json()
    stamp = comment.pop("utc_datetime")
    assert comment == {"object_id": first, "user_id": 1, "comment_id": 1,
                       "content": "Rim analysed"}
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f")  # the client's own format
    assert [(c["comment_id"], c["content"]) for c in comments_of(client, first)] == [
        (0, "Polished section"), (1, "Rim analysed")]
    log = client.get("/api/v1/object_log_entries/", auth=ADMIN).json()
    assert [(e["object_id"], e["data"]) for e in log if e["type"] == "POST_COMMENT"] == [
        (first, {"comment_id": 0}), (first, {"comment_id": 1}), (second, {"comment_id": 0})]


def test_comment_is_recorded_in_the_activity_log(
    app: FastAPI, client: TestClient, object_id: int
) -> None:
    assert post(client, object_id, {"content": "hi"}).status_code == 201
    with app.state.database.session(write=False) as db:
        entry = db.scalars(select(ActivityEntry)
                           .where(ActivityEntry.action == "comment.posted")).one()
    assert (entry.user_id, entry.target_id, entry.details) == (1, str(object_id),
                                                              {"comment_id": 0})


@pytest.mark.parametrize(("body", "message"), [
    ("text", "JSON object body required"),
    ({}, "content must be set"),
    ({"content": ""}, "content must not be empty"),
    ({"content": " \n\t"}, "content must not be empty"),
    ({"content": 5}, "content must be a string"),
    ({"content": "a\x00b"}, "content must not contain NUL characters"),
    ({"content": "x", "object_id": 2}, "object_id must be 1"),
    ({"content": "x", "author": 2}, "invalid key 'author'"),
])
def test_comment_refusals(client: TestClient, object_id: int, body: Any, message: str) -> None:
    assert object_id == 1  # the object_id message above names it
    response = post(client, object_id, body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert comments_of(client, object_id) == []


def test_overlong_comment_is_refused(
    client: TestClient, object_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_CONTENT_LENGTH", 3)
    assert post(client, object_id, {"content": "abc"}).status_code == 201
    response = post(client, object_id, {"content": "abcd"})
    assert response.status_code == 400
    assert response.json() == {"message": "content must be at most 3 characters"}


def test_reading_needs_read_and_posting_needs_write(
    client: TestClient, object_id: int, add_user: Callable[..., int],
    grant: Callable[[int, int, Level], None]
) -> None:
    reader = ("reader", "password-123")
    reader_id = add_user("reader")
    assert post(client, object_id, {"content": "hi"}).status_code == 201
    for path in ("comments/", "comments/0"):
        response = client.get(f"/api/v1/objects/{object_id}/{path}", auth=reader)
        assert response.status_code == 403
        assert response.json() == {"message": f"insufficient permissions (read) for object "
                                              f"{object_id}"}
    grant(object_id, reader_id, Level.READ)
    assert client.get(f"/api/v1/objects/{object_id}/comments/0", auth=reader).status_code == 200
    response = post(client, object_id, {"content": "mine"}, auth=reader)
    assert response.status_code == 403
    assert response.json() == {"message": f"insufficient permissions (write) for object "
                                          f"{object_id}"}
    grant(object_id, reader_id, Level.WRITE)
    assert post(client, object_id, {"content": "mine"}, auth=reader).status_code == 201
    assert comments_of(client, object_id)[1]["user_id"] == reader_id


def test_unknown_object_and_comment(client: TestClient, object_id: int) -> None:
    for method, path in [("GET", "/api/v1/objects/99/comments/"),
                         ("GET", "/api/v1/objects/99/comments/0"),
                         ("POST", "/api/v1/objects/99/comments/")]:
        response = client.request(method, path, auth=ADMIN, json={"content": "x"})
        assert response.status_code == 404
        assert response.json() == {"message": "object 99 does not exist"}
    response = client.get(f"/api/v1/objects/{object_id}/comments/0", auth=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"message": f"comment 0 of object {object_id} does not exist"}
    response = client.get(f"/api/v1/objects/{object_id}/comments/{2**40}", auth=ADMIN)
    assert response.status_code == 400
    assert response.json() == {"message": "path/comment_id: Input should be less than or "
                                          "equal to 2147483647"}
