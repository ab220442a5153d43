"""Pipelines and a sample's progress through its pipeline, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.identity.service import local_owner
from isofind.permissions.models import Level
from isofind.reference.library.service import import_library, sample_pipeline
from tests.conftest import ADMIN
from tests.reference.library_support import (
    PASSWORD,
    activity,
    make_sample,
    method_body,
    pipeline_body,
)

BOB = {"auth": ("bob", PASSWORD)}


def add_methods(client: TestClient, **auth: Any) -> None:
    for body in (method_body("digest", type="digestion", name="HF-HNO3 digestion"),
                 method_body(), method_body("mc-icp", type="analysis", name="MC-ICP-MS")):
        assert client.post("/api/v2/methods", json=body, **auth).status_code == 201


def create(client: TestClient, body: dict[str, Any] | None = None, **auth: Any) -> dict[str, Any]:
    response = client.post("/api/v2/pipelines", json=body or pipeline_body(
        stages=["digest", "pb-ax", "mc-icp"]), **auth)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def library(client: TestClient) -> dict[str, Any]:
    add_methods(client)
    return create(client)


def test_create_a_pipeline(client: TestClient, app: FastAPI) -> None:
    add_methods(client)
    pipeline = create(client, pipeline_body(element="plomb", stages=["digest", "pb-ax"]))

    assert {k: v for k, v in pipeline.items() if k not in ("created_at", "updated_at")} == {
        "id": 1, "key": "pb-ore", "name": "Pb in ores", "element": "Pb",
        "description": "from powder to MC",
        "stages": [
            {"order": 1, "method_key": "digest", "method_id": 1,
             "method_name": "HF-HNO3 digestion", "method_type": "digestion", "label": "stage 1"},
            {"order": 2, "method_key": "pb-ax", "method_id": 2,
             "method_name": "Pb purification on AG1-X8", "method_type": "purification",
             "label": "stage 2"},
        ],
    }
    assert client.get("/api/v2/pipelines").json() == [pipeline]
    assert [entry.details for entry in activity(app, "pipeline.created")] == [{"key": "pb-ore"}]


def test_stages_follow_their_order_and_a_method_may_repeat(client: TestClient) -> None:
    add_methods(client)
    pipeline = create(client, pipeline_body(stages=[
        {"order": 30, "method_key": "mc-icp"}, {"order": 10, "method_key": "pb-ax"},
        {"order": 20, "method_key": "pb-ax", "label": "second pass"}]))

    assert [(s["order"], s["method_key"], s["label"]) for s in pipeline["stages"]] == [
        (10, "pb-ax", None), (20, "pb-ax", "second pass"), (30, "mc-icp", None)]


def test_list_filters_by_element(client: TestClient) -> None:
    add_methods(client)
    create(client)
    create(client, pipeline_body("sr-water", element="Sr", stages=["digest"]))

    def keys(**params: str) -> list[str]:
        return [p["key"] for p in client.get("/api/v2/pipelines", params=params).json()]

    assert keys() == ["pb-ore", "sr-water"]
    assert keys(element="strontium") == ["sr-water"]
    assert keys(element="pb") == ["pb-ore"]
    assert keys(element="Zz") == []


@pytest.mark.parametrize(("body", "loc", "message"), [
    (pipeline_body(stages=["digest", "nope"]), ["body", "stages", 1, "method_key"],
     "no method with key 'nope' in the library"),
    (pipeline_body(element="Zz"), ["body", "element"],
     "'Zz' is not a known element: use a symbol or a name (Pb, lead, plomb) or define a "
     "custom element"),
    (pipeline_body(stages=[]), ["body", "stages"], "List should have at least 1 item after "
                                                   "validation, not 0"),
    (pipeline_body(stages=[{"order": 1, "method_key": "digest"},
                           {"order": 1, "method_key": "pb-ax"}]),
     ["body", "stages"], "Value error, stage orders listed twice: 1"),
    (pipeline_body(key=""), ["body", "key"], "String should have at least 1 character"),
])
def test_invalid_pipelines_answer_422(client: TestClient, body: dict[str, Any], loc: list[Any],
                                      message: str) -> None:
    add_methods(client)
    response = client.post("/api/v2/pipelines", json=body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (loc, message)
    assert client.get("/api/v2/pipelines").json() == []


def test_duplicate_pipeline_key(client: TestClient, library: dict[str, Any]) -> None:
    response = client.post("/api/v2/pipelines", json=pipeline_body(stages=["digest"]))

    assert response.status_code == 409
    assert response.json() == {"detail": "a pipeline with key 'pb-ore' already exists (id 1)"}


def test_creating_pipelines_is_a_documented_extension(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v2/pipelines"]["post"]

    assert operation["x-isofind-extension"] is True
    assert operation["summary"] == "Create a pipeline (IsoFind extension)"
    assert "Extension" in operation["description"]


def test_pipeline_roles(multi_client: TestClient, add_user: Callable[..., int]) -> None:
    add_user("ann", "analyst")
    add_user("max", "manager")
    add_methods(multi_client, auth=ADMIN)

    assert multi_client.get("/api/v2/pipelines").status_code == 401
    response = multi_client.post("/api/v2/pipelines", json=pipeline_body(),
                                 auth=("ann", PASSWORD))
    assert (response.status_code, response.json()) == (
        403, {"detail": "This action requires the manager role"})
    create(multi_client, pipeline_body(), auth=("max", PASSWORD))
    assert len(multi_client.get("/api/v2/pipelines", auth=("ann", PASSWORD)).json()) == 1


# --- a sample's progress -------------------------------------------------------------------


def assign(client: TestClient, sample: int, **auth: Any) -> int:
    response = client.post(f"/api/v2/samples/{sample}/methods", json={"pipeline_key": "pb-ore"},
                           **auth)
    assert response.status_code == 201, response.text
    return int(response.json()["sample_pipeline_id"])


def progress(client: TestClient, sp_id: int, body: dict[str, Any],
             **auth: Any) -> dict[str, Any]:
    response = client.put(f"/api/v2/sample-pipelines/{sp_id}/progress", json=body, **auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_assigning_a_pipeline_starts_every_stage_pending(client: TestClient, app: FastAPI,
                                                         library: dict[str, Any]) -> None:
    sample = make_sample(app)
    assert client.get(f"/api/v2/samples/{sample}/pipeline").json() is None
    sp_id = assign(client, sample)

    state = client.get(f"/api/v2/samples/{sample}/pipeline").json()
    assert (state["id"], state["sample_id"], state["link_id"]) == (sp_id, sample, 1)
    assert state["pipeline"] == library
    assert (state["status"], state["stages_done"], state["stages_total"]) == ("pending", 0, 3)
    assert state["assigned_by"] == "admin" and state["assigned_at"]
    assert state["stages"][0] == {
        "order": 1, "method_key": "digest", "method_id": 1, "method_name": "HF-HNO3 digestion",
        "method_type": "digestion", "label": "stage 1", "status": "pending", "operator": None,
        "notes": None, "updated_by": None, "updated_at": None,
    }
    assert [stage["status"] for stage in state["stages"]] == ["pending"] * 3
    with app.state.database.session(write=False) as db:
        assert sample_pipeline(db, sample) == state


def test_stage_progress_through_to_done(client: TestClient, app: FastAPI,
                                        library: dict[str, Any]) -> None:
    sp_id = assign(client, make_sample(app))

    state = progress(client, sp_id, {"stage": 1, "status": "in_progress", "operator": "J. Doe",
                                     "notes": "started 9:00"})
    first = state["stages"][0]
    assert (first["status"], first["operator"], first["notes"], first["updated_by"]) == (
        "in_progress", "J. Doe", "started 9:00", "admin")
    assert first["updated_at"] is not None
    assert (state["status"], state["stages_done"]) == ("in_progress", 0)

    state = progress(client, sp_id, {"stage": 1, "status": "done"})
    # operator and notes not given: kept
    assert (state["stages"][0]["status"], state["stages"][0]["notes"]) == ("done",
                                                                           "started 9:00")
    assert (state["status"], state["stages_done"]) == ("in_progress", 1)
    state = progress(client, sp_id, {"stage": 1, "status": "done", "notes": None})
    assert state["stages"][0]["notes"] is None
    progress(client, sp_id, {"stage": 3, "status": "done"})  # any order
    state = progress(client, sp_id, {"stage": 2, "status": "done"})
    assert (state["status"], state["stages_done"], state["stages_total"]) == ("done", 3, 3)
    entries = activity(app, "sample.pipeline_progress")
    assert entries[0].details == {"sample_pipeline_id": sp_id, "pipeline_key": "pb-ore",
                                  "stage": 1, "status": "in_progress",
                                  "previous_status": "pending"}
    assert len(entries) == 5


def test_a_failed_stage_fails_the_pipeline(client: TestClient, app: FastAPI,
                                           library: dict[str, Any]) -> None:
    sp_id = assign(client, make_sample(app))
    progress(client, sp_id, {"stage": 1, "status": "done"})

    state = progress(client, sp_id, {"stage": 2, "status": "failed", "notes": "low yield"})
    assert state["status"] == "failed"
    state = progress(client, sp_id, {"stage": 2, "status": "pending"})
    assert state["status"] == "in_progress"


@pytest.mark.parametrize(("body", "loc", "message"), [
    ({"stage": 9, "status": "done"}, ["body", "stage"],
     "pipeline 'pb-ore' has no stage 9 (its stages: 1, 2, 3)"),
    ({"stage": 1, "status": "finished"}, ["body", "status"],
     "Input should be 'pending', 'in_progress', 'done' or 'failed'"),
    ({"status": "done"}, ["body", "stage"], "Field required"),
    ({"stage": 0, "status": "done"}, ["body", "stage"], "Input should be greater than or equal "
                                                        "to 1"),
])
def test_invalid_progress_answers_422(client: TestClient, app: FastAPI,
                                      library: dict[str, Any], body: dict[str, Any],
                                      loc: list[Any], message: str) -> None:
    sp_id = assign(client, make_sample(app))
    response = client.put(f"/api/v2/sample-pipelines/{sp_id}/progress", json=body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (loc, message)


def test_unknown_sample_pipeline_and_sample(client: TestClient, library: dict[str, Any]) -> None:
    response = client.put("/api/v2/sample-pipelines/42/progress",
                          json={"stage": 1, "status": "done"})
    assert (response.status_code, response.json()) == (
        404, {"detail": "sample pipeline 42 not found"})
    response = client.get("/api/v2/samples/42/pipeline")
    assert (response.status_code, response.json()) == (404, {"detail": "sample 42 not found"})


def test_editing_a_pipeline_keeps_progress_by_stage_position(client: TestClient, app: FastAPI,
                                                             library: dict[str, Any]) -> None:
    sample = make_sample(app)
    sp_id = assign(client, sample)
    progress(client, sp_id, {"stage": 1, "status": "done"})
    with app.state.database.session(write=True) as db:
        counts = import_library(db, [], [pipeline_body(stages=[
            {"order": 1, "method_key": "digest"}, {"order": 2, "method_key": "pb-ax"},
            {"order": 3, "method_key": "pb-ax", "label": "again"},
            {"order": 4, "method_key": "mc-icp"}])], local_owner(db))
    assert counts["pipelines_updated"] == 1

    state = client.get(f"/api/v2/samples/{sample}/pipeline").json()
    assert [(s["order"], s["method_key"], s["status"]) for s in state["stages"]] == [
        (1, "digest", "done"), (2, "pb-ax", "pending"), (3, "pb-ax", "pending"),
        (4, "mc-icp", "pending")]
    state = progress(client, sp_id, {"stage": 4, "status": "in_progress"})
    assert (state["stages_done"], state["stages_total"]) == (1, 4)


# --- permissions on a sample's progress ----------------------------------------------------


@pytest.fixture
def lab(multi_client: TestClient, add_user: Callable[..., int]) -> int:
    bob = add_user("bob", "user")
    add_methods(multi_client, auth=ADMIN)
    create(multi_client, auth=ADMIN)
    return bob


def test_an_unreadable_sample_hides_its_pipeline(multi_client: TestClient, multi_app: FastAPI,
                                                 lab: int) -> None:
    sample = make_sample(multi_app)
    sp_id = assign(multi_client, sample, auth=ADMIN)

    response = multi_client.get(f"/api/v2/samples/{sample}/pipeline", **BOB)
    assert (response.status_code, response.json()) == (
        404, {"detail": f"sample {sample} not found"})
    response = multi_client.put(f"/api/v2/sample-pipelines/{sp_id}/progress", **BOB,
                                json={"stage": 1, "status": "done"})
    assert (response.status_code, response.json()) == (
        404, {"detail": f"sample pipeline {sp_id} not found"})


def test_a_read_only_sample_refuses_progress(multi_client: TestClient, multi_app: FastAPI,
                                             lab: int,
                                             grant: Callable[[int, int, Level], None]) -> None:
    sample = make_sample(multi_app)
    sp_id = assign(multi_client, sample, auth=ADMIN)
    grant(sample, lab, Level.READ)

    assert multi_client.get(f"/api/v2/samples/{sample}/pipeline", **BOB).json()["id"] == sp_id
    response = multi_client.put(f"/api/v2/sample-pipelines/{sp_id}/progress", **BOB,
                                json={"stage": 1, "status": "done"})
    assert (response.status_code, response.json()) == (
        403, {"detail": f"you may read sample {sample} but not change it"})
    response = multi_client.post(f"/api/v2/samples/{sample}/methods", **BOB,
                                 json={"pipeline_key": "pb-ore"})
    assert response.status_code == 403

    grant(sample, lab, Level.WRITE)
    state = progress(multi_client, sp_id, {"stage": 1, "status": "done"}, **BOB)
    assert state["stages"][0]["updated_by"] == "bob"
