"""SampleDB object routes: creation, versions, diffs, lists, search, references, log."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from isofind.objects.models import Action
from tests.objects.conftest import SIMPLE_SCHEMA, name_data

ADMIN = ("admin", "admin-password")


def mass(magnitude: float, units: str = "mg") -> dict[str, Any]:
    return {"_type": "quantity", "magnitude": magnitude, "units": units}


def create(client: TestClient, action_id: int, data: dict[str, Any], auth=ADMIN) -> int:
    response = client.post(
        "/api/v1/objects/", auth=auth, json={"action_id": action_id, "data": data}
    )
    assert response.status_code == 201, response.text
    return int(response.headers["location"].split("/")[4])


def test_create_answers_201_with_location_and_completes_quantities(
    client: TestClient, action_id: int
) -> None:
    response = client.post(
        "/api/v1/objects/",
        auth=ADMIN,
        json={
            "action_id": action_id,
            "schema": SIMPLE_SCHEMA,
            "data": name_data("Galena 1", mass=mass(60)),
        },
    )
    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/objects/1/versions/0"
    version = client.get("/api/v1/objects/1/versions/0", auth=ADMIN).json()
    assert version["object_id"] == 1 and version["version_id"] == 0
    assert version["action_id"] == action_id and version["user_id"] == 1
    assert len(version["utc_datetime"]) == 19 and version["utc_datetime"][10] == " "
    assert version["data"]["mass"] == {
        "_type": "quantity",
        "magnitude": 60,
        "units": "mg",
        "magnitude_in_base_units": 6e-05,
        "dimensionality": "[mass]",
    }
    assert version["schema"] == SIMPLE_SCHEMA


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object body required"),
        ({"action_id": 1, "data": {}, "colour": 1}, "invalid key 'colour'"),
        ({"data": {}}, "action_id must be set"),
        ({"action_id": 1}, "data must be set"),
        ({"action_id": "1", "data": {}}, "action_id must be an integer"),
        ({"action_id": 99, "data": {}}, "action_id 99 does not name an action"),
        ({"action_id": 1, "object_id": 5, "data": {}}, "object_id cannot be set"),
        ({"action_id": 1, "version_id": 3, "data": {}}, "version_id must be 0 for a new object"),
        (
            {"action_id": 1, "schema": {"type": "object"}, "data": {}},
            "schema must be equal to the action's schema",
        ),
    ],
)
def test_create_refusals(client: TestClient, action_id: int, body: Any, message: str) -> None:
    response = client.post("/api/v1/objects/", auth=ADMIN, json=body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert client.get("/api/v1/objects/", auth=ADMIN).json() == []


def test_invalid_data_names_the_failing_path(client: TestClient, action_id: int) -> None:
    response = client.post(
        "/api/v1/objects/",
        auth=ADMIN,
        json={"action_id": action_id, "data": name_data("x", masses=[mass(1, "g"), mass(2, "m")])},
    )
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("invalid data:")
    assert "/masses/1" in message
    missing_name = client.post(
        "/api/v1/objects/", auth=ADMIN, json={"action_id": action_id, "data": {}}
    )
    assert missing_name.status_code == 400
    assert "name" in missing_name.json()["message"]


def test_current_version_redirects_keeping_the_query_string(
    client: TestClient, action_id: int
) -> None:
    create(client, action_id, name_data("a"))
    response = client.get("/api/v1/objects/1?embed_user=1", auth=ADMIN, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/api/v1/objects/1/versions/0?embed_user=1"
    followed = client.get("/api/v1/objects/1?embed_user=1", auth=ADMIN).json()
    assert followed["user"] == {
        "user_id": 1,
        "name": "Administrator",
        "orcid": None,
        "affiliation": None,
        "role": "admin",
    }


def test_new_versions_with_data_and_with_diffs(client: TestClient, action_id: int) -> None:
    create(client, action_id, name_data("a", masses=[mass(10, "g")]))
    full = client.post(
        "/api/v1/objects/1/versions/",
        auth=ADMIN,
        json={"data": name_data("b", masses=[mass(10, "g")])},
    )
    assert full.status_code == 201
    assert full.headers["location"] == "/api/v1/objects/1/versions/1"
    stored = client.get("/api/v1/objects/1/versions/1", auth=ADMIN).json()["data"]
    append = client.post(
        "/api/v1/objects/1/versions/",
        auth=ADMIN,
        json={"version_id": 2, "data_diff": {"masses": {"+0": {"_after": mass(11, "g")}}}},
    )
    assert append.status_code == 201
    data = client.get("/api/v1/objects/1", auth=ADMIN).json()["data"]
    assert [m["magnitude"] for m in data["masses"]] == [10, 11]
    assert data["masses"][1]["magnitude_in_base_units"] == pytest.approx(0.011, rel=1e-12)
    stale = client.post(
        "/api/v1/objects/1/versions/",
        auth=ADMIN,
        json={
            "data_diff": {
                "name": {"_before": stored["name"], "_after": {"_type": "text", "text": "c"}}
            }
        },
    )
    assert stale.status_code == 201  # name is still "b": the _before matches
    mismatch = client.post(
        "/api/v1/objects/1/versions/",
        auth=ADMIN,
        json={
            "data_diff": {
                "name": {
                    "_before": {"_type": "text", "text": "zzz"},
                    "_after": {"_type": "text", "text": "d"},
                }
            }
        },
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["message"].startswith("invalid data_diff:")
    assert client.get("/api/v1/objects/1", auth=ADMIN).json()["version_id"] == 3


def test_new_version_refusals(client: TestClient, action_id: int) -> None:
    create(client, action_id, name_data("a"))
    cases = [
        ({}, "invalid data_diff: data or data_diff must be set"),
        ({"data": name_data("a"), "version_id": 5}, "version_id must be 1"),
        (
            {"data": name_data("a"), "action_id": 7},
            "action_id must be equal to the previous action_id",
        ),
        ({"data": name_data("a"), "object_id": 2}, "object_id must be 1"),
        (
            {"data": name_data("a"), "schema": {"type": "object"}},
            "schema must be equal to the previous schema or the action's schema",
        ),
    ]
    for body, message in cases:
        response = client.post("/api/v1/objects/1/versions/", auth=ADMIN, json=body)
        assert response.status_code == 400, body
        assert response.json()["message"].startswith(message), response.json()
    conflicting = client.post(
        "/api/v1/objects/1/versions/",
        auth=ADMIN,
        json={
            "data": name_data("x"),
            "data_diff": {
                "name": {
                    "_before": {"_type": "text", "text": "a"},
                    "_after": {"_type": "text", "text": "y"},
                }
            },
        },
    )
    assert conflicting.status_code == 400
    assert "conflicting" in conflicting.json()["message"]
    assert client.get("/api/v1/objects/1", auth=ADMIN).json()["version_id"] == 0
    assert (
        client.post(
            "/api/v1/objects/9/versions/", auth=ADMIN, json={"data": name_data("a")}
        ).status_code
        == 404
    )


def test_include_diff_and_embed_action(client: TestClient, action_id: int) -> None:
    create(client, action_id, name_data("a", done={"_type": "bool", "value": False}))
    client.post(
        "/api/v1/objects/1/versions/",
        auth=ADMIN,
        json={"data": name_data("a", done={"_type": "bool", "value": True})},
    )
    version = client.get(
        "/api/v1/objects/1/versions/1",
        params={"include_diff": "1", "embed_action": "1"},
        auth=ADMIN,
    ).json()
    assert version["data_diff"] == {
        "done": {
            "_before": {"_type": "bool", "value": False},
            "_after": {"_type": "bool", "value": True},
        }
    }
    assert version["action"]["action_id"] == action_id
    assert version["action"]["type"] == "sample"
    first = client.get(
        "/api/v1/objects/1/versions/0", params={"include_diff": "1"}, auth=ADMIN
    ).json()
    assert first["data_diff"] == {
        "name": {"_after": {"_type": "text", "text": "a"}},
        "done": {"_after": {"_type": "bool", "value": False}},
    }
    missing = client.get("/api/v1/objects/1/versions/7", auth=ADMIN)
    assert missing.status_code == 404
    assert missing.json() == {"message": "version 7 of object 1 does not exist"}


def test_list_is_newest_first_with_limit_offset_and_filters(
    client: TestClient, action_id: int
) -> None:
    for name in ("a", "b", "c", "d"):
        create(client, action_id, name_data(name))
    ids = [o["object_id"] for o in client.get("/api/v1/objects/", auth=ADMIN).json()]
    assert ids == [4, 3, 2, 1]
    page = client.get("/api/v1/objects/", params={"limit": 2, "offset": 1}, auth=ADMIN).json()
    assert [o["object_id"] for o in page] == [3, 2]
    assert (
        len(client.get("/api/v1/objects", params={"action_id": action_id}, auth=ADMIN).json()) == 4
    )
    assert (
        client.get("/api/v1/objects/", params={"action_type": "measurement"}, auth=ADMIN).json()
        == []
    )
    assert (
        len(client.get("/api/v1/objects/", params={"action_type": "-99"}, auth=ADMIN).json()) == 4
    )
    unknown = client.get("/api/v1/objects/", params={"action_type": "rocks"}, auth=ADMIN)
    assert unknown.status_code == 400
    assert unknown.json() == {"message": "No matching action type exists."}
    bad_action = client.get("/api/v1/objects/", params={"action_id": 77}, auth=ADMIN)
    assert bad_action.json() == {"message": "No action with the given action_id exists."}


def test_name_only_reduces_data_and_schema(client: TestClient, action_id: int) -> None:
    create(client, action_id, name_data("a", mass=mass(3)))
    item = client.get("/api/v1/objects/", params={"name_only": "true"}, auth=ADMIN).json()[0]
    assert item["data"] == {"name": {"_type": "text", "text": "a"}}
    assert item["schema"]["properties"] == {"name": {"title": "Object Name", "type": "text"}}


def test_searches_run_in_sql(client: TestClient, action_id: int) -> None:
    create(client, action_id, name_data("Galena Laurion", mass=mass(60)))
    create(client, action_id, name_data("Cerussite", mass=mass(40)))
    create(client, action_id, name_data("galena Rio Tinto", mass=mass(0.07, "g")))

    def ids(**params: str) -> list[int]:
        response = client.get("/api/v1/objects/", params=params, auth=ADMIN)
        assert response.status_code == 200, response.text
        return [o["object_id"] for o in response.json()]

    assert ids(q="mass > 50mg") == [3, 1]
    assert ids(q="mass <= 40 mg") == [2]
    assert ids(q='mass > 50mg and not "tinto" in name') == [1]
    assert ids(q="galena", use_advanced_search="false") == [3, 1]
    bad = client.get("/api/v1/objects/", params={"q": "mass > (50mg"}, auth=ADMIN)
    assert bad.status_code == 400
    assert "position" in bad.json()["message"]


def test_the_simple_search_ignores_the_case_of_every_letter(
        client: TestClient, action_id: int) -> None:
    create(client, action_id, name_data("GALÈNE ÉCHANTILLON 3"))
    create(client, action_id, name_data("Cérusite"))

    def ids(text: str) -> list[int]:
        response = client.get("/api/v1/objects/", auth=ADMIN,
                              params={"q": text, "use_advanced_search": "false"})
        assert response.status_code == 200, response.text
        return [o["object_id"] for o in response.json()]

    assert ids("galène") == [1]
    assert ids("échantillon 3") == [1]
    assert ids("CÉRUSITE") == [2]
    assert ids("GALENE") == []  # accents are letters, not case


def test_references_related_objects_and_referencing_ids(client: TestClient, action_id: int) -> None:
    create(client, action_id, name_data("target"))
    create(
        client, action_id, name_data("pointer", ref={"_type": "object_reference", "object_id": 1})
    )
    related = client.get("/api/v1/objects/2/related_objects", auth=ADMIN).json()
    assert [r["object_id"] for r in related["referenced_objects"]] == [1]
    assert related["referencing_objects"] == []
    back = client.get("/api/v1/objects/1/related_objects", auth=ADMIN).json()
    assert [r["object_id"] for r in back["referencing_objects"]] == [2]
    listed = client.get(
        "/api/v1/objects/", params={"get_referencing_objects": "1"}, auth=ADMIN
    ).json()
    assert {o["object_id"]: o["referencing_objects"] for o in listed} == {2: [], 1: [2]}
    dangling = client.post(
        "/api/v1/objects/",
        auth=ADMIN,
        json={
            "action_id": action_id,
            "data": name_data("bad", ref={"_type": "object_reference", "object_id": 42}),
        },
    )
    assert dangling.status_code == 400


def test_reference_to_an_unreadable_object_is_refused(
    multi_client: TestClient, multi_app, add_user
) -> None:
    with multi_app.state.database.session(write=True) as db:
        action = Action(
            type_id=-99,
            name="S",
            description="",
            is_hidden=False,
            schema=SIMPLE_SCHEMA,
            is_locked=False,
        )
        db.add(action)
        db.flush()
        action_id = action.id
    add_user("mia")
    secret = create(multi_client, action_id, name_data("secret"))
    response = multi_client.post(
        "/api/v1/objects/",
        auth=("mia", "password-123"),
        json={
            "action_id": action_id,
            "data": name_data("mine", ref={"_type": "object_reference", "object_id": secret}),
        },
    )
    assert response.status_code == 400
    assert (
        multi_client.get(f"/api/v1/objects/{secret}", auth=("mia", "password-123")).status_code
        == 403
    )
    assert multi_client.get("/api/v1/objects/", auth=("mia", "password-123")).json() == []


def test_object_log_lists_creation_and_edits_after_an_id(
    client: TestClient, action_id: int
) -> None:
    create(client, action_id, name_data("a"))
    client.post("/api/v1/objects/1/versions/", auth=ADMIN, json={"data": name_data("b")})
    log = client.get("/api/v1/object_log_entries/", auth=ADMIN).json()
    assert [(e["type"], e["object_id"], e["user_id"]) for e in log] == [
        ("CREATE_OBJECT", 1, 1),
        ("EDIT_OBJECT", 1, 1),
    ]
    assert log[0]["is_imported"] is False
    after = client.get(
        "/api/v1/object_log_entries/", params={"after_id": log[0]["log_entry_id"]}, auth=ADMIN
    ).json()
    assert [e["type"] for e in after] == ["EDIT_OBJECT"]


def test_read_only_users_cannot_create(multi_client: TestClient, add_user, multi_app) -> None:
    with multi_app.state.database.session(write=True) as db:
        db.add(
            Action(
                type_id=-99,
                name="S",
                description="",
                is_hidden=False,
                schema=SIMPLE_SCHEMA,
                is_locked=False,
            )
        )
    add_user("ro", is_readonly=True)
    response = multi_client.post(
        "/api/v1/objects/",
        auth=("ro", "password-123"),
        json={"action_id": 1, "data": name_data("x")},
    )
    assert response.status_code == 403
    assert response.json() == {"message": "read-only users cannot create or change objects"}
