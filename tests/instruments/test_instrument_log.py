"""Instrument logs: entries with versions, categories, file and object attachments."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.activity.models import ActivityEntry
from isofind.instruments.models import (
    InstrumentLogEntry,
    InstrumentLogFileAttachment,
    InstrumentLogObjectAttachment,
)
from isofind.objects.models import Action, ObjectRecord
from isofind.permissions.models import Level
from isofind.timeutil import utcnow
from tests.instruments.conftest import ADMIN, BOHR, CURIE, MEITNER, READER, SCHEMA

ISO_MICROSECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")
HELLO = base64.b64encode(b"Example Content").decode()


def _log(instrument_id: int) -> str:
    return f"/api/v1/instruments/{instrument_id}"


@pytest.fixture
def make_category(multi_client: TestClient, instrument_id: int) -> Callable[..., int]:
    def create(title: str = "Maintenance Log", theme: str = "gray") -> int:
        response = multi_client.post(f"{_log(instrument_id)}/log_categories/", auth=CURIE,
                                     json={"title": title, "theme": theme})
        assert response.status_code == 201, response.text
        return int(response.json()["category_id"])

    return create


@pytest.fixture
def entry_id(multi_client: TestClient, instrument_id: int, make_category: Callable[..., int],
             make_object: Callable[..., int]) -> int:
    """A log entry with a category, a file and an object (Curie's, read by Curie only)."""
    response = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=CURIE, json={
        "content": "Torch re-aligned", "category_ids": [make_category()],
        "file_attachments": [{"file_name": "tune.txt", "base64_content": HELLO}],
        "object_attachments": [{"object_id": make_object()}]})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_scientist_writes_and_reads_a_log_entry(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int,
    make_category: Callable[..., int], make_object: Callable[..., int], users: dict[str, int]
) -> None:
    error_report = make_category("Error Report", "red")
    maintenance = make_category("Maintenance Log")
    sample = make_object()
    before = utcnow() - timedelta(seconds=5)
    created = multi_client.post(f"{_log(instrument_id)}/log_entries", auth=CURIE, json={
        "content": "Example Log Entry", "category_ids": [maintenance, error_report],
        "file_attachments": [{"file_name": "example.txt", "base64_content": HELLO}],
        "object_attachments": [{"object_id": sample}]})
    assert created.status_code == 201
    assert created.content == b""
    with multi_app.state.database.session(write=False) as db:
        entry_id = db.query(InstrumentLogEntry).one().id
    assert created.headers["location"] == f"{_log(instrument_id)}/log_entries/{entry_id}"

    entry = multi_client.get(f"{_log(instrument_id)}/log_entries/{entry_id}", auth=CURIE).json()
    version = entry["versions"][0]
    assert ISO_MICROSECONDS.match(version.pop("utc_datetime"))
    assert entry == {"log_entry_id": entry_id, "author": users["curie"], "versions": [{
        "log_entry_id": entry_id, "version_id": 1, "content": "Example Log Entry",
        "categories": [
            {"category_id": error_report, "title": "Error Report", "theme": "red"},
            {"category_id": maintenance, "title": "Maintenance Log", "theme": "gray"}],
        "event_utc_datetime": None, "content_is_markdown": False}]}
    listed = multi_client.get(f"{_log(instrument_id)}/log_entries/", auth=MEITNER).json()
    moment = datetime.strptime(listed[0]["versions"][0]["utc_datetime"], "%Y-%m-%dT%H:%M:%S.%f")
    assert before <= moment <= utcnow() + timedelta(seconds=5)
    assert [e["log_entry_id"] for e in listed] == [entry_id]

    files = multi_client.get(f"{_log(instrument_id)}/log_entries/{entry_id}/file_attachments",
                             auth=CURIE).json()
    assert [f["file_name"] for f in files] == ["example.txt"]
    file_id = files[0]["file_attachment_id"]
    one_file = multi_client.get(
        f"{_log(instrument_id)}/log_entries/{entry_id}/file_attachments/{file_id}", auth=CURIE)
    assert one_file.json() == {"file_attachment_id": file_id, "file_name": "example.txt",
                               "content": HELLO}
    objects = multi_client.get(
        f"{_log(instrument_id)}/log_entries/{entry_id}/object_attachments/", auth=CURIE).json()
    assert [o["object_id"] for o in objects] == [sample]
    attachment_id = objects[0]["object_attachment_id"]
    one_object = multi_client.get(
        f"{_log(instrument_id)}/log_entries/{entry_id}/object_attachments/{attachment_id}",
        auth=CURIE)
    assert one_object.json() == {"object_attachment_id": attachment_id, "object_id": sample}
    with multi_app.state.database.session(write=False) as db:
        activity = db.query(ActivityEntry).filter_by(action="instrument.log_entry_created").one()
        assert (activity.user_id, activity.target_id) == (users["curie"], str(entry_id))


def test_event_time_and_markdown_extensions(multi_client: TestClient,
                                            instrument_id: int) -> None:
    created = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=CURIE, json={
        "content": "**Vacuum** lost", "content_is_markdown": True,
        "event_utc_datetime": "2020-08-03T14:13:14+02:00"})
    assert created.status_code == 201
    entry = multi_client.get(created.headers["location"], auth=CURIE).json()
    version = entry["versions"][0]
    assert (version["event_utc_datetime"], version["content_is_markdown"]) == (
        "2020-08-03T12:13:14.000000", True)
    bad = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=CURIE, json={
        "content": "x", "event_utc_datetime": "last Tuesday"})
    assert bad.status_code == 400
    assert bad.json() == {"message": "event_utc_datetime: Value error, 'last Tuesday' is not "
                                     "an ISO 8601 date and time"}


def test_the_log_is_for_instrument_scientists_only(
    multi_client: TestClient, instrument_id: int, entry_id: int, make_category: Callable[..., int]
) -> None:
    category_id = make_category("Calibration")
    base = f"{_log(instrument_id)}/log_entries/{entry_id}"
    reads = [
        f"{_log(instrument_id)}/log_entries/", base, f"{_log(instrument_id)}/log_categories/",
        f"{_log(instrument_id)}/log_categories/{category_id}", f"{base}/file_attachments/",
        f"{base}/file_attachments/1", f"{base}/object_attachments/",
        f"{base}/object_attachments/1",
    ]
    message = {"message": f"the instrument log of instrument {instrument_id} can only be "
                          "accessed by instrument scientists"}
    # Not even administrators: the log belongs to the instrument's scientists.
    for auth in (BOHR, ADMIN):
        for url in reads:
            response = multi_client.get(url, auth=auth)
            assert (response.status_code, response.json()) == (403, message), url
        post = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=auth,
                                 json={"content": "hello"})
        assert (post.status_code, post.json()) == (403, message)
    # The read-only scientist reads the log; only the attached object stays Curie's.
    for url in reads[:-1]:
        assert multi_client.get(url, auth=READER).status_code == 200, url


def test_read_only_scientists_cannot_write_to_the_log(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int
) -> None:
    response = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=READER,
                                 json={"content": "hello"})
    assert response.status_code == 403
    assert response.json() == {"message": "read-only users cannot change instruments or their "
                                          "logs"}
    with multi_app.state.database.session(write=False) as db:
        assert db.query(InstrumentLogEntry).count() == 0


def test_unknown_instruments_entries_categories_and_attachments_are_404(
    multi_client: TestClient, instrument_id: int, entry_id: int,
    make_instrument: Callable[..., int], users: dict[str, int]
) -> None:
    other = make_instrument("Triton", instrument_scientists=[users["curie"]])
    base = f"{_log(instrument_id)}/log_entries/{entry_id}"
    missing = {
        "/api/v1/instruments/99/log_entries/": "instrument 99 does not exist",
        "/api/v1/instruments/99/log_categories/": "instrument 99 does not exist",
        f"{_log(instrument_id)}/log_entries/999":
            f"log entry 999 for instrument {instrument_id} does not exist",
        # The entry exists, but for another instrument.
        f"{_log(other)}/log_entries/{entry_id}":
            f"log entry {entry_id} for instrument {other} does not exist",
        f"{_log(other)}/log_entries/{entry_id}/file_attachments/":
            f"log entry {entry_id} for instrument {other} does not exist",
        f"{_log(instrument_id)}/log_categories/999":
            f"log category 999 for instrument {instrument_id} does not exist",
        f"{base}/file_attachments/999": f"file attachment 999 for log entry {entry_id} for "
                                        f"instrument {instrument_id} does not exist",
        f"{base}/object_attachments/999": f"object attachment 999 for log entry {entry_id} "
                                          f"for instrument {instrument_id} does not exist",
    }
    for url, message in missing.items():
        response = multi_client.get(url, auth=CURIE)
        assert (response.status_code, response.json()) == (404, {"message": message}), url
    post = multi_client.post("/api/v1/instruments/99/log_entries/", auth=CURIE,
                             json={"content": "x"})
    assert (post.status_code, post.json()) == (404, {"message": "instrument 99 does not exist"})


def test_attachments_of_another_entry_are_404(
    multi_client: TestClient, instrument_id: int, entry_id: int
) -> None:
    second = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=CURIE, json={
        "content": "second"})
    second_id = int(second.headers["location"].rsplit("/", 1)[1])
    base = f"{_log(instrument_id)}/log_entries/{entry_id}"
    file_id = multi_client.get(f"{base}/file_attachments/", auth=CURIE).json()[0][
        "file_attachment_id"]
    other_base = f"{_log(instrument_id)}/log_entries/{second_id}"
    assert multi_client.get(f"{other_base}/file_attachments/", auth=CURIE).json() == []
    assert multi_client.get(f"{other_base}/file_attachments/{file_id}",
                            auth=CURIE).status_code == 404


def test_invalid_log_entries_change_nothing(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int,
    make_category: Callable[..., int], make_instrument: Callable[..., int],
    make_object: Callable[..., int], users: dict[str, int]
) -> None:
    category_id = make_category()
    foreign_category = multi_client.post(
        f"{_log(make_instrument('Triton'))}/log_categories/", auth=ADMIN,
        json={"title": "Other"}).json()["category_id"]
    sample = make_object()
    cases = [
        ({"content": "x", "file_attachments": [{"file_name": "a.txt",
                                                "base64_content": "not base64!"}]},
         "file_attachments/0/base64_content: Value error, not valid base64"),
        ({"content": "x", "file_attachments": [{"file_name": "a.txt", "base64_content": 7}]},
         "file_attachments/0/base64_content: Value error, must be a base64 string"),
        ({"content": "x", "file_attachments": [{"file_name": " ", "base64_content": HELLO}]},
         "file_attachments/0/file_name: String should have at least 1 character"),
        ({"content": "x", "file_attachments": [{"file_name": "a" * 257,
                                                "base64_content": HELLO}]},
         "file_attachments/0/file_name: String should have at most 256 characters"),
        ({"content": "x", "category_ids": [category_id, 999]},
         f"category_ids: unknown log categories of instrument {instrument_id}: 999"),
        ({"content": "x", "category_ids": [foreign_category]},
         f"category_ids: unknown log categories of instrument {instrument_id}: "
         f"{foreign_category}"),
        ({"content": "x", "category_ids": [category_id, category_id]},
         f"category_ids: category {category_id} is listed twice"),
        ({"content": "x", "category_ids": ["1"]},
         "category_ids/0: Input should be a valid integer"),
        ({"content": "x", "object_attachments": [{"object_id": sample}, {"object_id": sample}]},
         f"object_attachments: object {sample} is listed twice"),
        ({"content": "x", "object_attachments": [{"object_id": 9999}]},
         "object_attachments: no readable object with id 9999"),
        ({"content": "x", "object_attachments": [{"id": 1}]},
         "object_attachments/0/object_id: Field required; "
         "object_attachments/0/id: Extra inputs are not permitted"),
        ({"content": 5}, "content: Input should be a valid string"),
        ({"content": "x", "author": 1}, "author: Extra inputs are not permitted"),
        ({"content": ""}, "content: a log entry needs content or an attachment"),
        ({"content": None}, "content: a log entry needs content or an attachment"),
    ]
    for body, message in cases:
        response = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=CURIE,
                                     json=body)
        assert (response.status_code, response.json()) == (400, {"message": message}), body
    not_json = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=CURIE,
                                 content=b"[1, 2", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    with multi_app.state.database.session(write=False) as db:
        assert db.query(InstrumentLogEntry).count() == 0
        assert db.query(InstrumentLogFileAttachment).count() == 0


def test_objects_the_author_cannot_read_cannot_be_attached(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int,
    make_object: Callable[..., int]
) -> None:
    private = make_object(auth=BOHR)
    deleted = make_object(auth=CURIE)
    with multi_app.state.database.session(write=True) as db:
        db.get(ObjectRecord, deleted).is_deleted = True
    for object_id in (private, deleted):
        response = multi_client.post(f"{_log(instrument_id)}/log_entries/", auth=CURIE, json={
            "content": "x", "object_attachments": [{"object_id": object_id}]})
        assert response.status_code == 400
        assert response.json() == {
            "message": f"object_attachments: no readable object with id {object_id}"}
    with multi_app.state.database.session(write=False) as db:
        assert db.query(InstrumentLogEntry).count() == 0


def test_attached_objects_do_not_leak_to_scientists_who_cannot_read_them(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int, entry_id: int,
    users: dict[str, int], grant: Callable[[int, int, Level], None]
) -> None:
    base = f"{_log(instrument_id)}/log_entries/{entry_id}/object_attachments"
    [attachment] = multi_client.get(base, auth=CURIE).json()
    one = f"{base}/{attachment['object_attachment_id']}"
    # Meitner is a scientist too, but may not read Curie's object.
    assert multi_client.get(base, auth=MEITNER).json() == []
    assert multi_client.get(one, auth=MEITNER).status_code == 404
    grant(attachment["object_id"], users["meitner"], Level.READ)
    assert multi_client.get(base, auth=MEITNER).json() == [attachment]
    assert multi_client.get(one, auth=MEITNER).json() == attachment
    # A deleted object disappears from the log for everyone, its creator included.
    with multi_app.state.database.session(write=True) as db:
        db.get(ObjectRecord, attachment["object_id"]).is_deleted = True
    assert multi_client.get(base, auth=CURIE).json() == []
    assert multi_client.get(one, auth=CURIE).status_code == 404
    with multi_app.state.database.session(write=False) as db:
        assert db.query(InstrumentLogObjectAttachment).count() == 1


def test_scientists_and_admins_add_log_categories(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int
) -> None:
    url = f"{_log(instrument_id)}/log_categories/"
    by_admin = multi_client.post(url, auth=ADMIN, json={"title": " Error Report ",
                                                        "theme": "red"})
    assert by_admin.status_code == 201
    category_id = by_admin.json()["category_id"]
    assert by_admin.headers["location"] == f"{_log(instrument_id)}/log_categories/{category_id}"
    assert by_admin.json() == {"category_id": category_id, "title": "Error Report",
                               "theme": "red"}
    by_scientist = multi_client.post(url, auth=MEITNER, json={"title": "Maintenance Log"})
    assert by_scientist.json()["theme"] == "gray"
    assert [c["title"] for c in multi_client.get(url, auth=CURIE).json()] == [
        "Error Report", "Maintenance Log"]
    assert multi_client.get(f"{url}{category_id}", auth=CURIE).json() == by_admin.json()
    refusals = [
        (BOHR, {"title": "Mine"}, 403,
         f"only administrators and the instrument scientists of instrument {instrument_id} "
         "may change it"),
        (READER, {"title": "Mine"}, 403,
         "read-only users cannot change instruments or their logs"),
        (CURIE, {"title": "Mine", "theme": "purple"}, 400,
         "theme: Input should be 'gray', 'blue', 'green', 'yellow' or 'red'"),
        (CURIE, {"title": ""}, 400, "title: String should have at least 1 character"),
        (CURIE, {"title": "x" * 101}, 400, "title: String should have at most 100 characters"),
    ]
    for auth, body, status, message in refusals:
        response = multi_client.post(url, auth=auth, json=body)
        assert (response.status_code, response.json()) == (status, {"message": message}), body
    missing = multi_client.post("/api/v1/instruments/99/log_categories/", auth=ADMIN,
                                json={"title": "x"})
    assert (missing.status_code, missing.json()) == (
        404, {"message": "instrument 99 does not exist"})
    with multi_app.state.database.session(write=False) as db:
        assert db.query(ActivityEntry).filter_by(
            action="instrument.log_category_created").count() == 2


def test_instrument_scientists_attach_and_see_objects_of_their_instruments_actions(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int,
    make_object: Callable[..., int], action_id: int
) -> None:
    with multi_app.state.database.session(write=True) as db:
        measured = Action(type_id=-98, name="Pb isotopes", description="", is_hidden=False,
                          schema=SCHEMA, is_locked=False, instrument_id=instrument_id)
        db.add(measured)
        db.flush()
        measured_id = measured.id
    unrelated = make_object(auth=BOHR)
    created = multi_client.post("/api/v1/objects/", auth=BOHR, json={
        "action_id": measured_id, "data": {"name": {"_type": "text", "text": "Run 7"}}})
    run = int(created.headers["location"].split("/")[4])
    url = f"{_log(instrument_id)}/log_entries/"
    # Meitner holds grant on the run through the instrument, nothing on the other object.
    refused = multi_client.post(url, auth=MEITNER, json={
        "content": "x", "object_attachments": [{"object_id": run}, {"object_id": unrelated}]})
    assert refused.json() == {
        "message": f"object_attachments: no readable object with id {unrelated}"}
    posted = multi_client.post(url, auth=MEITNER, json={
        "content": "Run 7 drifted", "object_attachments": [{"object_id": run}]})
    assert posted.status_code == 201
    attachments = multi_client.get(posted.headers["location"] + "/object_attachments",
                                   auth=MEITNER).json()
    assert [a["object_id"] for a in attachments] == [run]
