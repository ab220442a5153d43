"""import_library: `.isof` methods and pipelines in and out again, all or nothing."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from isof.parser import load_string

from isofind.errors import Unprocessable
from isofind.identity.service import local_owner
from isofind.reference.library.service import import_library
from tests.reference.library_support import activity, method_body, pipeline_body

ISOF_DOCUMENT: dict[str, Any] = {
    "isof_version": "1.1",
    "samples": [],
    "methods": {
        "hf-digest": {
            "name": "HF-HNO3 digestion", "type": "digestion", "element": None,
            "target_matrices": ["rock"], "duration": "48 h", "duration_hours": 48,
            "equipment": {"column": None, "resin": None, "resin_volume_ml": None,
                          "reagents": "HF, HNO3", "temperature": "120 °C"},
            "steps": [{"num": 1, "title": "Weigh", "detail": "100 mg", "final": False},
                      {"num": 2, "title": "Digest", "detail": None, "final": True}],
            "reference": None, "notes": None,
        },
        "sr-spec": {
            "name": "Sr on Sr-Spec", "type": "separation", "element": "Sr",
            "target_matrices": [], "yield_min_pct": 85, "yield_max_pct": 102,
            "steps": [], "reference": {"doi": "10.1016/0016-7037(92)90389-6",
                                       "citation": "Horwitz et al. 1992"},
        },
    },
    "pipelines": {
        "sr-rock": {"name": "Sr in rocks", "element": "Sr", "description": None,
                    "stages": [{"order": 1, "method_key": "hf-digest", "label": "digest"},
                               {"order": 2, "method_key": "sr-spec", "label": None}]},
    },
}


def isof_bodies() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Methods and pipelines of the document as the `isof` reader gives them."""
    _, document = load_string(json.dumps(ISOF_DOCUMENT))
    methods = [dataclasses.asdict(method) for method in document.methods.values()]
    pipelines = [dataclasses.asdict(pipeline) for pipeline in document.pipelines.values()]
    # as JSON: the reader's tuples become the lists our answers carry
    return json.loads(json.dumps(methods)), json.loads(json.dumps(pipelines))


def run_import(app: FastAPI, methods: list[dict[str, Any]],
               pipelines: list[dict[str, Any]]) -> dict[str, int]:
    with app.state.database.session(write=True) as db:
        return import_library(db, methods, pipelines, local_owner(db))


def test_an_isof_library_imports_and_exports_identically(client: TestClient,
                                                         app: FastAPI) -> None:
    methods, pipelines = isof_bodies()
    counts = run_import(app, methods, pipelines)

    assert counts == {"methods_created": 2, "methods_updated": 0, "methods_unchanged": 0,
                      "pipelines_created": 1, "pipelines_updated": 0, "pipelines_unchanged": 0}
    method_fields = set(methods[0])
    exported = [{name: value for name, value in method.items() if name in method_fields}
                for method in client.get("/api/v2/methods").json()]
    assert exported == methods
    pipeline = client.get("/api/v2/pipelines").json()[0]
    assert {"key": pipeline["key"], "name": pipeline["name"], "element": pipeline["element"],
            "description": pipeline["description"],
            "stages": [{k: stage[k] for k in ("order", "method_key", "label")}
                       for stage in pipeline["stages"]]} == pipelines[0]
    [entry] = activity(app, "library.imported")
    assert entry.details == counts


def test_importing_twice_changes_nothing(client: TestClient, app: FastAPI) -> None:
    methods, pipelines = isof_bodies()
    run_import(app, methods, pipelines)
    before = client.get("/api/v2/methods").json()

    counts = run_import(app, methods, pipelines)
    assert counts == {"methods_created": 0, "methods_updated": 0, "methods_unchanged": 2,
                      "pipelines_created": 0, "pipelines_updated": 0, "pipelines_unchanged": 1}
    assert client.get("/api/v2/methods").json() == before
    assert len(activity(app, "library.imported")) == 1


def test_import_updates_by_key(client: TestClient, app: FastAPI) -> None:
    assert client.post("/api/v2/methods", json=method_body("sr-spec", element="Sr")).status_code \
        == 201
    methods, pipelines = isof_bodies()

    counts = run_import(app, methods, pipelines)
    assert (counts["methods_created"], counts["methods_updated"]) == (1, 1)
    method = client.get("/api/v2/methods/1").json()
    assert (method["key"], method["name"], method["equipment"]) == ("sr-spec", "Sr on Sr-Spec",
                                                                   None)


def test_an_invalid_item_imports_nothing(client: TestClient, app: FastAPI) -> None:
    methods, pipelines = isof_bodies()
    methods.append({**method_body("bad"), "type": "cooking"})
    methods.append(method_body("hf-digest"))
    pipelines.append(pipeline_body("broken", stages=["missing"]))

    with pytest.raises(Unprocessable) as raised:
        run_import(app, methods, pipelines)
    assert [(error["loc"], error["msg"]) for error in raised.value.detail] == [
        (["methods", 2, "type"],
         "Input should be 'digestion', 'purification', 'separation' or 'analysis'"),
        (["methods", 3, "key"], "key 'hf-digest' also given at methods[0]"),
    ]
    assert client.get("/api/v2/methods").json() == []


def test_an_unknown_stage_method_or_element_names_its_place(client: TestClient,
                                                            app: FastAPI) -> None:
    methods, pipelines = isof_bodies()
    with pytest.raises(Unprocessable) as raised:
        run_import(app, methods, [*pipelines, pipeline_body("broken", stages=["missing"])])
    assert raised.value.detail[0]["loc"] == ["pipelines", 1, "stages", 0, "method_key"]
    with pytest.raises(Unprocessable) as raised:
        run_import(app, [{**methods[0], "element": "Qq"}], [])
    assert raised.value.detail[0]["loc"] == ["methods", 0, "element"]
    assert client.get("/api/v2/methods").json() == []
    assert client.get("/api/v2/pipelines").json() == []


def test_the_readers_dataclasses_import_as_they_are(client: TestClient, app: FastAPI) -> None:
    _, document = load_string(json.dumps(ISOF_DOCUMENT))
    counts = run_import(app, [dataclasses.asdict(m) for m in document.methods.values()],
                        [dataclasses.asdict(p) for p in document.pipelines.values()])

    assert (counts["methods_created"], counts["pipelines_created"]) == (2, 1)
    assert run_import(app, *isof_bodies())["methods_unchanged"] == 2
