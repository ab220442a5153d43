"""Sample–method links, single and batch, with sample permissions, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from isofind.objects.models import ObjectRecord
from isofind.permissions.models import Level
from isofind.reference.library.models import SampleMethod, SamplePipeline, StageProgress
from isofind.reference.library.service import sample_methods
from tests.conftest import ADMIN
from tests.reference.library_support import (
    PASSWORD,
    activity,
    make_sample,
    method_body,
    pipeline_body,
)

BOB = {"auth": ("bob", PASSWORD)}


@pytest.fixture
def library(client: TestClient) -> None:
    """Methods pb-ax (id 1) and digest (id 2), pipeline pb-ore (id 1) using both."""
    for body in (method_body(), method_body("digest", type="digestion", name="HF-HNO3")):
        assert client.post("/api/v2/methods", json=body).status_code == 201
    assert client.post("/api/v2/pipelines", json=pipeline_body()).status_code == 201


def link(client: TestClient, sample_id: int, body: dict[str, Any],
         **auth: Any) -> dict[str, Any]:
    response = client.post(f"/api/v2/samples/{sample_id}/methods", json=body, **auth)
    assert response.status_code == 201, response.text
    return response.json()


def link_count(app: FastAPI) -> int:
    with app.state.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(SampleMethod)) or 0


def test_link_a_method_by_key(client: TestClient, app: FastAPI, library: None) -> None:
    sample = make_sample(app)
    created = link(client, sample, {"method_key": "pb-ax", "notes": "batch 12"})

    assert created["id"] == 1 and created["sample_id"] == sample
    assert (created["method_id"], created["method_key"]) == (1, "pb-ax")
    assert created["method"]["name"] == "Pb purification on AG1-X8"
    assert created["method"]["yield_min_pct"] == 90.0
    assert (created["pipeline_id"], created["pipeline_key"], created["sample_pipeline_id"]) == (
        None, None, None)
    assert (created["notes"], created["assigned_by"], created["assigned_by_id"]) == (
        "batch 12", "admin", 1)
    assert created["assigned_at"]
    assert client.get(f"/api/v2/samples/{sample}/methods").json() == [created]
    [entry] = activity(app, "sample.method_linked")
    assert (entry.target_type, entry.target_id, entry.details) == (
        "sample", str(sample), {"link_id": 1, "method_key": "pb-ax", "pipeline_key": None})


def test_link_by_id_and_list_oldest_first(client: TestClient, app: FastAPI,
                                          library: None) -> None:
    sample = make_sample(app)
    link(client, sample, {"method_id": 2})
    link(client, sample, {"method_id": 1})

    listed = client.get(f"/api/v2/samples/{sample}/methods").json()
    assert [item["method_key"] for item in listed] == ["digest", "pb-ax"]
    with app.state.database.session(write=False) as db:
        assert sample_methods(db, sample) == listed


def test_link_a_method_and_a_pipeline_together(client: TestClient, app: FastAPI,
                                               library: None) -> None:
    sample = make_sample(app)
    created = link(client, sample, {"method_key": "digest", "pipeline_key": "pb-ore"})

    assert (created["method_key"], created["pipeline_id"], created["pipeline_key"]) == (
        "digest", 1, "pb-ore")
    assert created["sample_pipeline_id"] == 1
    pipeline = client.get(f"/api/v2/samples/{sample}/pipeline").json()
    assert (pipeline["id"], pipeline["link_id"], pipeline["status"]) == (1, 1, "pending")


@pytest.mark.parametrize(("body", "loc", "message"), [
    ({"method_key": "nope"}, ["body", "method_key"], "no method with key 'nope'"),
    ({"method_id": 99}, ["body", "method_id"], "no method with id 99"),
    ({"pipeline_key": "nope"}, ["body", "pipeline_key"], "no pipeline with key 'nope'"),
    ({"pipeline_id": 99}, ["body", "pipeline_id"], "no pipeline with id 99"),
    ({}, ["body"], "Value error, give a method (method_id or method_key) and/or a pipeline "
                   "(pipeline_id or pipeline_key)"),
    ({"method_id": 1, "method_key": "pb-ax"}, ["body"],
     "Value error, give method_id or method_key, not both"),
    ({"method_key": "pb-ax", "extra": 1}, ["body", "extra"], "Extra inputs are not permitted"),
])
def test_invalid_link_bodies_answer_422(client: TestClient, app: FastAPI, library: None,
                                        body: dict[str, Any], loc: list[Any],
                                        message: str) -> None:
    sample = make_sample(app)
    response = client.post(f"/api/v2/samples/{sample}/methods", json=body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (loc, message)
    assert link_count(app) == 0


def test_linking_twice_is_a_conflict(client: TestClient, app: FastAPI, library: None) -> None:
    sample = make_sample(app)
    link(client, sample, {"method_key": "pb-ax"})
    link(client, sample, {"pipeline_key": "pb-ore"})

    response = client.post(f"/api/v2/samples/{sample}/methods", json={"method_key": "pb-ax"})
    assert response.status_code == 409
    assert response.json() == {"detail": f"method 'pb-ax' is already linked to sample {sample}"}
    response = client.post(f"/api/v2/samples/{sample}/methods", json={"pipeline_key": "pb-ore"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"sample {sample} already follows pipeline 'pb-ore'; remove its link 2 first"}
    assert link_count(app) == 2


def test_unknown_samples(client: TestClient, library: None, object_id: int) -> None:
    response = client.get("/api/v2/samples/999/methods")
    assert (response.status_code, response.json()) == (404, {"detail": "sample 999 not found"})
    response = client.post("/api/v2/samples/999/methods", json={"method_key": "pb-ax"})
    assert (response.status_code, response.json()) == (404, {"detail": "sample 999 not found"})
    # an object of another action is no isotope sample
    response = client.post(f"/api/v2/samples/{object_id}/methods", json={"method_key": "pb-ax"})
    assert (response.status_code, response.json()) == (
        404, {"detail": f"sample {object_id} not found"})
    assert client.get("/api/v2/samples/abc/methods").status_code == 422


def test_unlink(client: TestClient, app: FastAPI, library: None) -> None:
    sample = make_sample(app)
    created = link(client, sample, {"method_key": "pb-ax"})

    response = client.delete(f"/api/v2/sample-methods/{created['id']}")
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "sample-method link 1 removed"}
    assert client.get(f"/api/v2/samples/{sample}/methods").json() == []
    [entry] = activity(app, "sample.method_unlinked")
    assert entry.details == {"link_id": 1, "method_key": "pb-ax", "pipeline_key": None}
    response = client.delete(f"/api/v2/sample-methods/{created['id']}")
    assert (response.status_code, response.json()) == (
        404, {"detail": "sample-method link 1 not found"})
    # no sample holds the method back any more, only the pipeline
    assert client.delete("/api/v2/methods/1").json() == {
        "detail": "method 'pb-ax' cannot be deleted: it is a stage of pipeline 'pb-ore'"}


def test_unlinking_a_pipeline_removes_its_progress(client: TestClient, app: FastAPI,
                                                   library: None) -> None:
    sample = make_sample(app)
    created = link(client, sample, {"pipeline_key": "pb-ore"})
    assert client.put(f"/api/v2/sample-pipelines/{created['sample_pipeline_id']}/progress",
                      json={"stage": 1, "status": "done"}).status_code == 200

    assert client.delete(f"/api/v2/sample-methods/{created['id']}").status_code == 200
    assert client.get(f"/api/v2/samples/{sample}/pipeline").json() is None
    with app.state.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(SamplePipeline)) == 0
        assert db.scalar(select(func.count()).select_from(StageProgress)) == 0
    # and the sample may follow a pipeline again
    again = link(client, sample, {"pipeline_key": "pb-ore"})
    assert client.get(f"/api/v2/samples/{sample}/pipeline").json()["id"] == again[
        "sample_pipeline_id"]


def test_purging_a_sample_removes_its_links(client: TestClient, app: FastAPI,
                                            library: None) -> None:
    sample = make_sample(app)
    link(client, sample, {"method_key": "pb-ax", "pipeline_key": "pb-ore"})
    with app.state.database.session(write=True) as db:
        db.execute(delete(ObjectRecord).where(ObjectRecord.id == sample))

    assert link_count(app) == 0
    with app.state.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(SamplePipeline)) == 0


# --- batch ---------------------------------------------------------------------------------


def test_batch_links_every_sample(client: TestClient, app: FastAPI, library: None) -> None:
    samples = [make_sample(app, f"S{index}") for index in range(3)]
    response = client.post("/api/v2/samples/methods-batch", json={
        "method_key": "pb-ax", "sample_ids": [*samples, samples[0]]})

    assert response.status_code == 201
    answer = response.json()
    assert [item["sample_id"] for item in answer["linked"]] == samples
    assert {item["method_key"] for item in answer["linked"]} == {"pb-ax"}
    assert answer["skipped"] == []
    assert len(activity(app, "sample.method_linked")) == 3


def test_batch_skips_samples_that_already_have_everything(client: TestClient, app: FastAPI,
                                                          library: None) -> None:
    first, second = make_sample(app, "A"), make_sample(app, "B")
    link(client, first, {"method_key": "pb-ax", "pipeline_key": "pb-ore"})
    link(client, second, {"method_key": "pb-ax"})

    response = client.post("/api/v2/samples/methods-batch", json={
        "method_key": "pb-ax", "pipeline_key": "pb-ore", "sample_ids": [first, second]})
    assert response.status_code == 201
    answer = response.json()
    assert answer["skipped"] == [first]
    # the second sample only lacked the pipeline
    [created] = answer["linked"]
    assert (created["sample_id"], created["method_key"], created["pipeline_key"]) == (
        second, None, "pb-ore")
    assert created["sample_pipeline_id"] is not None


def test_batch_with_an_unknown_sample_links_nothing(client: TestClient, app: FastAPI,
                                                    library: None) -> None:
    known = make_sample(app)
    response = client.post("/api/v2/samples/methods-batch", json={
        "method_key": "pb-ax", "sample_ids": [known, 999, 998]})

    assert response.status_code == 404
    assert response.json() == {"detail": "samples 999, 998 not found"}
    assert link_count(app) == 0
    assert client.get(f"/api/v2/samples/{known}/methods").json() == []


def test_batch_with_a_sample_in_another_pipeline_links_nothing(client: TestClient,
                                                               app: FastAPI,
                                                               library: None) -> None:
    assert client.post("/api/v2/pipelines", json=pipeline_body(
        "pb-short", stages=["pb-ax"])).status_code == 201
    free, busy = make_sample(app, "free"), make_sample(app, "busy")
    link(client, busy, {"pipeline_key": "pb-short"})

    response = client.post("/api/v2/samples/methods-batch", json={
        "pipeline_key": "pb-ore", "sample_ids": [free, busy]})
    assert response.status_code == 409
    assert response.json() == {"detail": f"sample {busy} already follows another pipeline than "
                                         "'pb-ore'; nothing was linked"}
    assert link_count(app) == 1


@pytest.mark.parametrize(("body", "loc"), [
    ({"method_key": "pb-ax", "sample_ids": []}, ["body", "sample_ids"]),
    ({"method_key": "pb-ax", "sample_ids": [1, "two"]}, ["body", "sample_ids", 1]),
    ({"method_key": "pb-ax"}, ["body", "sample_ids"]),
    ({"method_key": "nope", "sample_ids": [1]}, ["body", "method_key"]),
])
def test_batch_body_errors(client: TestClient, library: None, body: dict[str, Any],
                           loc: list[Any]) -> None:
    response = client.post("/api/v2/samples/methods-batch", json=body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


# --- permissions ---------------------------------------------------------------------------


@pytest.fixture
def lab(multi_client: TestClient, multi_app: FastAPI, add_user: Callable[..., int]) -> int:
    """Multi-user: methods by the administrator, user bob; returns bob's id."""
    bob = add_user("bob", "user")
    for body in (method_body(), method_body("digest", type="digestion")):
        assert multi_client.post("/api/v2/methods", json=body, auth=ADMIN).status_code == 201
    return bob


def test_an_unreadable_sample_answers_404(multi_client: TestClient, multi_app: FastAPI,
                                          lab: int) -> None:
    sample = make_sample(multi_app)
    created = link(multi_client, sample, {"method_key": "pb-ax"}, auth=ADMIN)

    for response in (
        multi_client.get(f"/api/v2/samples/{sample}/methods", **BOB),
        multi_client.post(f"/api/v2/samples/{sample}/methods", json={"method_key": "digest"},
                          **BOB),
        multi_client.post("/api/v2/samples/methods-batch",
                          json={"method_key": "digest", "sample_ids": [sample]}, **BOB),
    ):
        assert (response.status_code, response.json()) == (
            404, {"detail": f"sample {sample} not found"})
    response = multi_client.delete(f"/api/v2/sample-methods/{created['id']}", **BOB)
    assert (response.status_code, response.json()) == (
        404, {"detail": f"sample-method link {created['id']} not found"})
    assert multi_client.get(f"/api/v2/samples/{sample}/methods").status_code == 401


def test_a_read_only_sample_refuses_links(multi_client: TestClient, multi_app: FastAPI,
                                          lab: int, grant: Callable[[int, int, Level], None]
                                          ) -> None:
    sample, other = make_sample(multi_app, "A"), make_sample(multi_app, "B")
    created = link(multi_client, sample, {"method_key": "pb-ax"}, auth=ADMIN)
    grant(sample, lab, Level.READ)
    grant(other, lab, Level.WRITE)

    assert len(multi_client.get(f"/api/v2/samples/{sample}/methods", **BOB).json()) == 1
    response = multi_client.post(f"/api/v2/samples/{sample}/methods",
                                 json={"method_key": "digest"}, **BOB)
    assert (response.status_code, response.json()) == (
        403, {"detail": f"you may read sample {sample} but not change it"})
    response = multi_client.delete(f"/api/v2/sample-methods/{created['id']}", **BOB)
    assert response.status_code == 403
    response = multi_client.post("/api/v2/samples/methods-batch", **BOB, json={
        "method_key": "digest", "sample_ids": [other, sample]})
    assert (response.status_code, response.json()) == (
        403, {"detail": f"you may read sample {sample} but not change it"})
    assert multi_client.get(f"/api/v2/samples/{other}/methods", **BOB).json() == []


def test_a_writer_links_and_unlinks(multi_client: TestClient, multi_app: FastAPI, lab: int,
                                    grant: Callable[[int, int, Level], None]) -> None:
    sample = make_sample(multi_app)
    grant(sample, lab, Level.WRITE)

    created = link(multi_client, sample, {"method_key": "digest"}, **BOB)
    assert (created["assigned_by"], created["assigned_by_id"]) == ("bob", lab)
    response = multi_client.post("/api/v2/samples/methods-batch", **BOB, json={
        "method_key": "pb-ax", "sample_ids": [sample]})
    assert response.status_code == 201
    assert multi_client.delete(f"/api/v2/sample-methods/{created['id']}",
                               **BOB).status_code == 200


def test_a_read_only_user_cannot_link_even_with_write_permission(
        multi_client: TestClient, multi_app: FastAPI, lab: int, add_user: Callable[..., int],
        grant: Callable[[int, int, Level], None]) -> None:
    viewer = add_user("ro", "analyst", is_readonly=True)
    sample = make_sample(multi_app)
    grant(sample, viewer, Level.WRITE)

    response = multi_client.post(f"/api/v2/samples/{sample}/methods",
                                 json={"method_key": "pb-ax"}, auth=("ro", PASSWORD))
    assert (response.status_code, response.json()) == (
        403, {"detail": f"you may read sample {sample} but not change it"})
    assert multi_client.get(f"/api/v2/samples/{sample}/methods",
                            auth=("ro", PASSWORD)).status_code == 200
