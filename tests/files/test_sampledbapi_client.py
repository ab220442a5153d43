"""The real sampledbapi client, unmodified, against the file and comment routes.

Only its transport is swapped for the test client; it still sends what it always sends
(JSON bodies without a Content-Type header, paths with and without trailing slashes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sampledbapi import comm
from sampledbapi.objects import Object

from isofind.identity import service as identity
from isofind.identity.models import User


class _Transport:
    """What sampledbapi.comm calls on ``requests``, answered by the test client."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, headers: dict[str, str], params: Any = None) -> Any:
        return self.client.get(url, headers=headers, params=params)

    def post(self, url: str, headers: dict[str, str], data: str) -> Any:
        return self.client.post(url, headers=headers, content=data)


@pytest.fixture
def sampledb(app: FastAPI, client: TestClient, object_id: int,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Object]:
    with app.state.database.session(write=True) as db:
        _, token = identity.create_api_token(db, db.get(User, 1))
    monkeypatch.setattr(comm, "requests", _Transport(client))
    monkeypatch.setattr(comm, "_address", None)
    monkeypatch.setattr(comm, "_api_key", None)
    comm.authenticate("http://testserver", token)
    yield Object({"object_id": object_id})


def test_client_uploads_and_reads_files(sampledb: Object, tmp_path: Path) -> None:
    path = tmp_path / "spectrum.csv"
    path.write_bytes(b"mass,intensity\n206,1.5\n")
    assert sampledb.upload_file(str(path), name="spectrum.csv") == 0
    with path.open("rb") as stream:
        assert sampledb.upload_file_raw("again.csv", stream) == 1
    assert sampledb.post_link("https://example.org/data").status_code == 201

    files = sampledb.get_file_list()
    assert [(f.file_id, f.storage) for f in files] == [
        (0, "database"), (1, "database"), (2, "url")]
    first = sampledb.get_file(0)
    assert first.original_file_name == "spectrum.csv"
    assert first.base64_content == "bWFzcyxpbnRlbnNpdHkKMjA2LDEuNQo="
    assert first.hash == {"algorithm": "sha256",
                          "hexdigest": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert sampledb.get_file(2).url == "https://example.org/data"


def test_client_posts_and_reads_comments(sampledb: Object) -> None:
    assert sampledb.post_comment("Leached twice").status_code == 201
    assert sampledb.post_comment("Re-measured").status_code == 201
    comments = sampledb.get_comment_list()
    assert [(c.comment_id, c.content, c.user_id) for c in comments] == [
        (0, "Leached twice", 1), (1, "Re-measured", 1)]
    assert sampledb.get_comment(1).utc_datetime == comments[1].utc_datetime
