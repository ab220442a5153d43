"""SampleDB file routes: database, url and local_reference storage, refusals, permissions."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from isofind.activity.models import ActivityEntry
from isofind.files import service
from isofind.permissions.models import Level
from tests.conftest import ADMIN

TEST_SHA256 = hashlib.sha256(b"test").hexdigest()


def database_file(name: str = "test.txt", content: bytes = b"test", **extra: Any) -> dict:
    return {"storage": "database", "original_file_name": name,
            "base64_content": base64.b64encode(content).decode(), **extra}


def upload(client: TestClient, object_id: int, body: Any, auth=ADMIN) -> Any:
    return client.post(f"/api/v1/objects/{object_id}/files/", auth=auth, json=body)


def files_of(client: TestClient, object_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/objects/{object_id}/files/", auth=ADMIN)
    assert response.status_code == 200
    return response.json()


def test_database_upload_counts_ids_from_zero_per_object(
    client: TestClient, make_object: Callable[[], int]
) -> None:
    first, second = make_object(), make_object()
    hashed = database_file(hash={"algorithm": "sha256", "hexdigest": TEST_SHA256.upper()})
    for expected_id, body in enumerate([hashed, database_file("b.bin", b"\x00\xff")]):
        response = upload(client, first, body)
        assert response.status_code == 201
        assert response.headers["location"] == f"/api/v1/objects/{first}/files/{expected_id}"
    assert upload(client, second, database_file()).headers["location"].endswith("/files/0")

    info = client.get(f"/api/v1/objects/{first}/files/0", auth=ADMIN)
    assert info.status_code == 200
    assert info.json() == {
        "object_id": first, "file_id": 0, "storage": "database",
        "original_file_name": "test.txt", "base64_content": "dGVzdA==",
        "hash": {"algorithm": "sha256", "hexdigest": TEST_SHA256}}
    assert client.get(f"/api/v1/objects/{first}/files/1", auth=ADMIN).json()[
        "base64_content"] == "AP8="
    assert [f["file_id"] for f in files_of(client, first)] == [0, 1]
    assert "base64_content" not in files_of(client, first)[0]
    log = client.get("/api/v1/object_log_entries/", auth=ADMIN).json()
    assert [(e["object_id"], e["type"], e["data"]) for e in log if e["type"] == "UPLOAD_FILE"] \
        == [(first, "UPLOAD_FILE", {"file_id": 0}), (first, "UPLOAD_FILE", {"file_id": 1}),
            (second, "UPLOAD_FILE", {"file_id": 0})]


def test_upload_is_recorded_in_the_activity_log(
    app: FastAPI, client: TestClient, object_id: int
) -> None:
    assert upload(client, object_id, database_file()).status_code == 201
    with app.state.database.session(write=False) as db:
        entry = db.scalars(select(ActivityEntry)
                           .where(ActivityEntry.action == "file.uploaded")).one()
    assert (entry.user_id, entry.target_id) == (1, str(object_id))
    assert entry.details == {"file_id": 0, "storage": "database"}


def test_sha512_hash_is_checked_too(client: TestClient, object_id: int) -> None:
    good = hashlib.sha512(b"test").hexdigest()
    assert upload(client, object_id, database_file(
        hash={"algorithm": "sha512", "hexdigest": good})).status_code == 201


def test_sha256_mismatch_is_refused_and_stores_nothing(
    client: TestClient, object_id: int
) -> None:
    response = upload(client, object_id, database_file(
        hash={"algorithm": "sha256", "hexdigest": "0" * 64}))
    assert response.status_code == 400
    assert response.json() == {"message": f"hash mismatch: the sha256 hexdigest of the "
                                          f"content is {TEST_SHA256}, not {'0' * 64}"}
    assert files_of(client, object_id) == []
    log = client.get("/api/v1/object_log_entries/", auth=ADMIN).json()
    assert [e["type"] for e in log] == ["CREATE_OBJECT"]


@pytest.mark.parametrize(("body", "message"), [
    ([], "JSON object body required"),
    ({"original_file_name": "a"}, "storage must be set"),
    ({"storage": "local"}, "storage must be 'database', 'url' or 'local_reference'"),
    (database_file(colour=1), "invalid key 'colour' for files with database storage"),
    (database_file(object_id=99), "object_id must be 1"),
    (database_file(""), "original_file_name must be set for files with database storage"),
    (database_file(7), "original_file_name must be a string"),
    (database_file("../etc/passwd"),
     "original_file_name '../etc/passwd' must be a plain file name without path separators"),
    (database_file(".."),
     "original_file_name '..' must be a plain file name without path separators"),
    (database_file("a\x00b"), "original_file_name must not contain NUL characters"),
    (database_file("é" * 76), "original_file_name must be at most 150 bytes in UTF-8"),
    ({"storage": "database", "original_file_name": "a"},
     "base64_content must be set for files with database storage"),
    ({"storage": "database", "original_file_name": "a", "base64_content": "not base64!"},
     "base64_content must be base64 encoded"),
    (database_file(hash="abc"), "hash must be an object with algorithm and hexdigest"),
    (database_file(hash={"algorithm": "md5", "hexdigest": "x"}),
     "hash algorithm must be one of sha256, sha512"),
    (database_file(hash={"algorithm": ["sha256"], "hexdigest": "x"}),
     "hash algorithm must be one of sha256, sha512"),
    (database_file(hash={"algorithm": "sha256", "hexdigest": 5}),
     "hash hexdigest must be a string"),
    ({"storage": "url"}, "url must be set for files with url storage"),
    ({"storage": "url", "url": "https://example.org", "original_file_name": "a"},
     "invalid key 'original_file_name' for files with url storage"),
])
def test_upload_refusals(client: TestClient, object_id: int, body: Any, message: str) -> None:
    assert object_id == 1  # the object_id message above names it
    response = upload(client, object_id, body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert files_of(client, object_id) == []


def test_oversized_content_is_refused_before_decoding(
    client: TestClient, object_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_CONTENT_BYTES", 3)
    assert upload(client, object_id, database_file(content=b"abc")).status_code == 201
    response = upload(client, object_id, database_file(content=b"abcd"))
    assert response.status_code == 400
    assert response.json() == {"message": "base64_content exceeds the limit of 3 bytes"}


def test_url_file(client: TestClient, object_id: int) -> None:
    response = upload(client, object_id, {"storage": "url", "url": "https://example.org/a?b=1"})
    assert response.status_code == 201
    assert response.headers["location"] == f"/api/v1/objects/{object_id}/files/0"
    expected = {"object_id": object_id, "file_id": 0, "storage": "url",
                "url": "https://example.org/a?b=1"}
    assert client.get(f"/api/v1/objects/{object_id}/files/0", auth=ADMIN).json() == expected
    assert files_of(client, object_id) == [expected]


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.org/x", "url must use http or https, not 'ftp'"),
    ("javascript:alert(1)", "url must use http or https, not 'javascript'"),
    ("file:///etc/passwd", "url must use http or https, not 'file'"),
    ("example.org", "url must use http or https, not 'no scheme'"),
    ("https:///path", "url 'https:///path' has no host"),
    ("http://example.org:99999/", "url 'http://example.org:99999/' is not a valid url"),
    ("http://[::1/", "url 'http://[::1/' is not a valid url"),
    ("http://exa mple.org", "url must not contain spaces or control characters"),
    ("http://example.org/" + "a" * 2048, "url must be at most 2048 characters"),
])
def test_url_refusals(client: TestClient, object_id: int, url: str, message: str) -> None:
    response = upload(client, object_id, {"storage": "url", "url": url})
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert files_of(client, object_id) == []


# --- local references --------------------------------------------------------------------


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    directory = tmp_path / "allowed"
    (directory / "runs").mkdir(parents=True)
    (directory / "runs" / "run42.csv").write_bytes(b"test")
    (tmp_path / "secret.txt").write_bytes(b"secret")
    return directory


@pytest.fixture
def local_client(make_app: Callable[..., FastAPI], object_id: int,
                 allowed: Path) -> Iterator[TestClient]:
    with TestClient(make_app(local_files_dir=allowed)) as test_client:
        yield test_client


@pytest.mark.parametrize("filepath", ["runs/run42.csv", "ABSOLUTE"])
def test_local_reference_under_the_allowed_directory(
    local_client: TestClient, object_id: int, allowed: Path, filepath: str
) -> None:
    if filepath == "ABSOLUTE":
        filepath = str(allowed / "runs" / "run42.csv")
    response = upload(local_client, object_id, {
        "storage": "local_reference", "filepath": filepath,
        "hash": {"algorithm": "sha256", "hexdigest": TEST_SHA256}})
    assert response.status_code == 201
    assert response.headers["location"] == f"/api/v1/objects/{object_id}/files/0"
    expected = {"object_id": object_id, "file_id": 0, "storage": "local_reference",
                "original_file_name": "run42.csv", "filepath": "runs/run42.csv",
                "hash": {"algorithm": "sha256", "hexdigest": TEST_SHA256}}
    assert local_client.get(f"/api/v1/objects/{object_id}/files/0", auth=ADMIN).json() \
        == expected


def test_local_reference_hash_mismatch(local_client: TestClient, object_id: int) -> None:
    response = upload(local_client, object_id, {
        "storage": "local_reference", "filepath": "runs/run42.csv",
        "hash": {"algorithm": "sha256", "hexdigest": "ab" * 32}})
    assert response.status_code == 400
    assert response.json()["message"].startswith("hash mismatch: the sha256 hexdigest")


@pytest.mark.parametrize(("filepath", "status", "message"), [
    ("../secret.txt", 400, "filepath must not contain '..'"),
    ("runs/../../secret.txt", 400, "filepath must not contain '..'"),
    ("SECRET", 403, "filepath is outside the directory allowed for local_reference files"),
    ("/etc/passwd", 403, "filepath is outside the directory allowed for local_reference files"),
    ("escape.txt", 403, "filepath is outside the directory allowed for local_reference files"),
    ("escape_dir/secret.txt", 403,
     "filepath is outside the directory allowed for local_reference files"),
    ("runs", 400, "filepath 'runs' does not name an existing regular file"),
    ("runs/missing.csv", 400, "filepath 'runs/missing.csv' does not name an existing "
                              "regular file"),
    ("", 400, "filepath must be set for files with local_reference storage"),
])
def test_local_reference_refusals(
    local_client: TestClient, object_id: int, allowed: Path, filepath: str, status: int,
    message: str
) -> None:
    (allowed / "escape.txt").symlink_to(allowed.parent / "secret.txt")
    (allowed / "escape_dir").symlink_to(allowed.parent)
    if filepath == "SECRET":
        filepath = str(allowed.parent / "secret.txt")
    response = upload(local_client, object_id, {"storage": "local_reference",
                                                "filepath": filepath})
    assert response.status_code == status
    assert response.json() == {"message": message}
    assert files_of(local_client, object_id) == []


def test_symlink_inside_the_directory_is_stored_as_its_target(
    local_client: TestClient, object_id: int, allowed: Path
) -> None:
    (allowed / "latest.csv").symlink_to(allowed / "runs" / "run42.csv")
    response = upload(local_client, object_id, {"storage": "local_reference",
                                                "filepath": "latest.csv"})
    assert response.status_code == 201
    assert files_of(local_client, object_id)[0]["filepath"] == "runs/run42.csv"


def test_local_reference_needs_a_configured_directory(
    client: TestClient, object_id: int
) -> None:
    response = upload(client, object_id, {"storage": "local_reference", "filepath": "/etc/hosts"})
    assert response.status_code == 400
    assert response.json() == {"message": "local_reference storage is disabled: no local "
                                          "files directory is configured"}


# --- permissions and unknown ids ---------------------------------------------------------


def test_reading_needs_read_and_uploading_needs_write(
    client: TestClient, object_id: int, add_user: Callable[..., int],
    grant: Callable[[int, int, Level], None]
) -> None:
    reader = ("reader", "password-123")
    reader_id = add_user("reader")
    assert upload(client, object_id, database_file()).status_code == 201
    for path in ("files/", "files/0"):
        response = client.get(f"/api/v1/objects/{object_id}/{path}", auth=reader)
        assert response.status_code == 403
        assert response.json() == {"message": f"insufficient permissions (read) for object "
                                              f"{object_id}"}
    assert upload(client, object_id, database_file(), auth=reader).status_code == 403

    grant(object_id, reader_id, Level.READ)
    assert client.get(f"/api/v1/objects/{object_id}/files", auth=reader).status_code == 200
    assert client.get(f"/api/v1/objects/{object_id}/files/0", auth=reader).status_code == 200
    response = upload(client, object_id, database_file(), auth=reader)
    assert response.status_code == 403
    assert response.json() == {"message": f"insufficient permissions (write) for object "
                                          f"{object_id}"}

    grant(object_id, reader_id, Level.WRITE)
    assert upload(client, object_id, database_file(), auth=reader).status_code == 201


def test_read_only_user_cannot_upload_even_with_write(
    client: TestClient, object_id: int, add_user: Callable[..., int],
    grant: Callable[[int, int, Level], None]
) -> None:
    grant(object_id, add_user("viewer", is_readonly=True), Level.WRITE)
    response = upload(client, object_id, database_file(), auth=("viewer", "password-123"))
    assert response.status_code == 403
    assert files_of(client, object_id) == []


def test_unknown_object_and_file(client: TestClient, object_id: int) -> None:
    for method, path in [("GET", "/api/v1/objects/99/files/"),
                         ("GET", "/api/v1/objects/99/files/0"),
                         ("POST", "/api/v1/objects/99/files/")]:
        response = client.request(method, path, auth=ADMIN, json=database_file())
        assert response.status_code == 404
        assert response.json() == {"message": "object 99 does not exist"}
    response = client.get(f"/api/v1/objects/{object_id}/files/0", auth=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"message": f"file 0 of object {object_id} does not exist"}
    assert client.get(f"/api/v1/objects/{object_id}/files/x", auth=ADMIN).status_code == 400


def test_files_need_authentication(client: TestClient, object_id: int) -> None:
    assert client.get(f"/api/v1/objects/{object_id}/files/").status_code == 401
