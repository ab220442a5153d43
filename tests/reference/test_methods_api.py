"""The methods library: /api/v2/methods and its yield ranges, on both backends."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from isof.models import Method, MethodEquipment, MethodReference, MethodStep

from isofind.reference.library.service import yield_range
from tests.conftest import ADMIN
from tests.reference.library_support import (
    PASSWORD,
    activity,
    make_sample,
    method_body,
    pipeline_body,
)

EXPECTED_PB_AX: dict[str, Any] = {
    "id": 1,
    "key": "pb-ax",
    "name": "Pb purification on AG1-X8",
    "type": "purification",
    "element": "Pb",
    "target_matrices": ["sediment", "ore"],
    "duration": "2 days",
    "duration_hours": 48.0,
    "yield_min_pct": 90.0,
    "yield_max_pct": 105.0,
    "equipment": {"column": "Bio-Rad Poly-Prep", "resin": "AG1-X8", "resin_volume_ml": 0.5,
                  "reagents": "HBr 0.6 M, HCl 6 M", "temperature": "room"},
    "steps": [{"num": 1, "title": "Condition resin", "detail": "HBr 0.6 M", "final": False},
              {"num": 2, "title": "Elute Pb", "detail": "HCl 6 M", "final": True}],
    "reference": {"doi": "10.1016/J.CHEMGEO.2019.01.001", "citation": "Doe et al. 2019"},
    "notes": "clean lab B",
}


def create(client: TestClient, body: dict[str, Any] | None = None, **auth: Any) -> dict[str, Any]:
    response = client.post("/api/v2/methods", json=body or method_body(), **auth)
    assert response.status_code == 201, response.text
    return response.json()


def without_times(method: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in method.items() if k not in ("created_at", "updated_at")}


def test_create_normalises_element_and_doi(client: TestClient, app: FastAPI) -> None:
    method = create(client)

    assert without_times(method) == EXPECTED_PB_AX
    assert client.get("/api/v2/methods/1").json() == method
    assert client.get("/api/v2/methods").json() == [method]
    [entry] = activity(app, "method.created")
    assert (entry.target_type, entry.target_id, entry.details) == ("method", "1",
                                                                   {"key": "pb-ax"})


def test_minimal_method_has_empty_collections_and_no_blocks(client: TestClient) -> None:
    method = create(client, {"key": "icp", "name": "MC-ICP-MS",
                             "equipment": {"column": " "}, "reference": {"doi": ""}})

    assert without_times(method) == {
        "id": 1, "key": "icp", "name": "MC-ICP-MS", "type": None, "element": None,
        "target_matrices": [], "duration": None, "duration_hours": None,
        "yield_min_pct": None, "yield_max_pct": None, "equipment": None, "steps": [],
        "reference": None, "notes": None,
    }


def test_an_isof_method_round_trips(client: TestClient) -> None:
    """`dataclasses.asdict` of an `isof` Method is a body, and the answer writes it back."""
    method = Method(
        key="sr-spec", name="Sr on Sr-Spec", type="separation", element="Sr",
        target_matrices=("water", "bone"), duration="6 h", duration_hours=6.0,
        yield_min_pct=85.0, yield_max_pct=102.0,
        equipment=MethodEquipment(column="Eichrom", resin="Sr-Spec", resin_volume_ml=0.1,
                                  reagents="HNO3 3 M", temperature=None),
        steps=(MethodStep(num=1, title="Load", detail="in 3 M HNO3", final=False),
               MethodStep(num=2, title="Elute", detail="H2O", final=True)),
        reference=MethodReference(doi="10.1016/0016-7037(92)90389-6", citation="Horwitz 1992"),
        notes=None,
    )
    exported = create(client, dataclasses.asdict(method))

    fields = {field.name for field in dataclasses.fields(Method)}
    written = {name: value for name, value in exported.items() if name in fields}
    assert written == dataclasses.asdict(method) | {"target_matrices": ["water", "bone"],
                                                    "steps": [dataclasses.asdict(step)
                                                              for step in method.steps]}


def test_filters_by_type_and_element(client: TestClient) -> None:
    create(client)
    create(client, method_body("sr-spec", type="separation", element="Sr"))
    create(client, method_body("digest", type="digestion", element=None))

    def keys(**params: str) -> list[str]:
        response = client.get("/api/v2/methods", params=params)
        assert response.status_code == 200
        return [method["key"] for method in response.json()]

    assert keys() == ["digest", "pb-ax", "sr-spec"]
    assert keys(type="purification") == ["pb-ax"]
    assert keys(element="plomb") == ["pb-ax"]
    assert keys(element="SR") == ["sr-spec"]
    assert keys(element="Unobtainium") == []
    assert keys(type="digestion", element="Pb") == []
    response = client.get("/api/v2/methods", params={"type": "cooking"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "type"]


def test_yield_ranges_is_not_taken_for_a_method_id(client: TestClient) -> None:
    create(client)
    create(client, method_body("sr-spec", element="Sr", yield_min_pct=80, yield_max_pct=None))
    create(client, method_body("icp", type="analysis", yield_min_pct=None, yield_max_pct=None))

    response = client.get("/api/v2/methods/yield-ranges")
    assert response.status_code == 200
    assert response.json() == {
        "pb-ax": {"method_id": 1, "name": "Pb purification on AG1-X8", "type": "purification",
                  "element": "Pb", "yield_min_pct": 90.0, "yield_max_pct": 105.0},
        "sr-spec": {"method_id": 2, "name": "Pb purification on AG1-X8", "type": "purification",
                    "element": "Sr", "yield_min_pct": 80.0, "yield_max_pct": None},
    }
    assert list(client.get("/api/v2/methods/yield-ranges",
                           params={"element": "strontium"}).json()) == ["sr-spec"]


def test_yield_range_for_purification_checks(client: TestClient, app: FastAPI) -> None:
    create(client)
    create(client, method_body("icp", yield_min_pct=None, yield_max_pct=None))
    with app.state.database.session(write=False) as db:
        assert yield_range(db, "pb-ax") == (90.0, 105.0)
        assert yield_range(db, "icp") == (None, None)
        assert yield_range(db, "nothing") is None


def test_unknown_and_malformed_ids(client: TestClient) -> None:
    response = client.get("/api/v2/methods/7")
    assert response.status_code == 404
    assert response.json() == {"detail": "method 7 not found"}
    response = client.get("/api/v2/methods/abc")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "method_id"]
    assert client.get(f"/api/v2/methods/{2**63}").status_code == 422
    assert client.put("/api/v2/methods/7", json=method_body()).status_code == 404
    assert client.delete("/api/v2/methods/7").status_code == 404


def test_duplicate_key_is_a_conflict(client: TestClient) -> None:
    create(client)
    response = client.post("/api/v2/methods", json=method_body(name="other"))

    assert response.status_code == 409
    assert response.json() == {"detail": "a method with key 'pb-ax' already exists (id 1)"}


@pytest.mark.parametrize(("change", "loc", "message"), [
    ({"element": "kryptonite"}, ["body", "element"],
     "'kryptonite' is not a known element: use a symbol or a name (Pb, lead, plomb) or define "
     "a custom element"),
    ({"reference": {"doi": "not a doi"}}, ["body", "reference", "doi"],
     "Value error, 'not a doi' is not a DOI (expected 10.xxxx/..., doi:10.xxxx/... or "
     "https://doi.org/10.xxxx/...)"),
    ({"yield_min_pct": 101, "yield_max_pct": 99}, ["body"],
     "Value error, yield_min_pct (101) is above yield_max_pct (99)"),
    ({"yield_max_pct": 900}, ["body", "yield_max_pct"],
     "Input should be less than or equal to 200"),
    ({"type": "cooking"}, ["body", "type"],
     "Input should be 'digestion', 'purification', 'separation' or 'analysis'"),
    ({"key": "  "}, ["body", "key"], "Value error, must not be blank"),
    ({"steps": [{"num": 2, "title": "a"}, {"num": 2, "title": "b"}]}, ["body", "steps"],
     "Value error, step numbers listed twice: 2"),
    ({"equipment": {"resin": "AG1", "pump": "yes"}}, ["body", "equipment", "pump"],
     "Extra inputs are not permitted"),
])
def test_invalid_bodies_answer_422_naming_the_field(client: TestClient, change: dict[str, Any],
                                                    loc: list[Any], message: str) -> None:
    response = client.post("/api/v2/methods", json=method_body(**change))

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (loc, message)
    assert client.get("/api/v2/methods").json() == []


def test_steps_without_numbers_are_numbered_and_ordered(client: TestClient) -> None:
    method = create(client, method_body(steps=[{"num": 5, "title": "last"}, {"title": "first"}]))

    assert [(step["num"], step["title"]) for step in method["steps"]] == [(2, "first"),
                                                                        (5, "last")]


def test_put_replaces_the_whole_method(client: TestClient, app: FastAPI) -> None:
    created = create(client)
    response = client.put("/api/v2/methods/1", json={"key": "pb-ax-2", "name": "Pb v2",
                                                      "type": "purification", "element": "Pb"})

    assert response.status_code == 200
    method = response.json()
    assert (method["key"], method["name"], method["equipment"], method["steps"]) == (
        "pb-ax-2", "Pb v2", None, [])
    assert method["created_at"] == created["created_at"]
    assert client.get("/api/v2/methods/1").json() == method
    [entry] = activity(app, "method.updated")
    assert entry.details == {"key": "pb-ax-2", "previous_key": "pb-ax"}


def test_put_cannot_take_another_methods_key(client: TestClient) -> None:
    create(client)
    create(client, method_body("sr-spec"))
    response = client.put("/api/v2/methods/2", json=method_body("pb-ax"))

    assert response.status_code == 409
    assert response.json() == {"detail": "a method with key 'pb-ax' already exists (id 1)"}


def test_delete_a_method(client: TestClient, app: FastAPI) -> None:
    create(client)
    response = client.delete("/api/v2/methods/1")

    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "method 'pb-ax' deleted"}
    assert client.get("/api/v2/methods/1").status_code == 404
    assert [entry.details for entry in activity(app, "method.deleted")] == [{"key": "pb-ax"}]


def test_a_method_in_use_is_not_deleted(client: TestClient, app: FastAPI) -> None:
    create(client)
    create(client, method_body("digest", type="digestion"))
    sample = make_sample(app)
    assert client.post(f"/api/v2/samples/{sample}/methods",
                       json={"method_key": "pb-ax"}).status_code == 201
    assert client.post("/api/v2/pipelines", json=pipeline_body()).status_code == 201

    response = client.delete("/api/v2/methods/1")
    assert response.status_code == 409
    assert response.json() == {"detail": "method 'pb-ax' cannot be deleted: it is linked to 1 "
                                         "sample and a stage of pipeline 'pb-ore'"}
    response = client.delete("/api/v2/methods/2")
    assert response.json() == {"detail": "method 'digest' cannot be deleted: it is a stage of "
                                         "pipeline 'pb-ore'"}
    assert len(client.get("/api/v2/methods").json()) == 2


def test_method_roles_in_multi_user_mode(multi_client: TestClient,
                                         add_user: Callable[..., int]) -> None:
    add_user("bob", "user")
    add_user("ann", "analyst")
    add_user("ro", "manager", is_readonly=True)
    bob, ann = {"auth": ("bob", PASSWORD)}, {"auth": ("ann", PASSWORD)}

    assert multi_client.get("/api/v2/methods").status_code == 401
    response = multi_client.post("/api/v2/methods", json=method_body(), **bob)
    assert (response.status_code, response.json()) == (
        403, {"detail": "This action requires the analyst role"})
    response = multi_client.post("/api/v2/methods", json=method_body(), auth=("ro", PASSWORD))
    assert (response.status_code, response.json()) == (
        403, {"detail": "read-only users cannot change the methods library"})
    create(multi_client, **ann)
    assert multi_client.get("/api/v2/methods/1", **bob).status_code == 200
    assert multi_client.get("/api/v2/methods/yield-ranges", **bob).status_code == 200
    assert multi_client.put("/api/v2/methods/1", json=method_body(), **bob).status_code == 403
    assert multi_client.delete("/api/v2/methods/1", **bob).status_code == 403
    assert multi_client.put("/api/v2/methods/1", json=method_body(), **ann).status_code == 200
    assert multi_client.delete("/api/v2/methods/1", auth=ADMIN).status_code == 200
