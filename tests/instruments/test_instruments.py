"""Instruments: reading them, hidden ones, and creating and changing them (extensions)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.activity.models import ActivityEntry
from isofind.instruments.models import Instrument, InstrumentScientist
from isofind.locations.models import Location, LocationType
from tests.instruments.conftest import ADMIN, BOHR, CURIE, READER


def _location(app: FastAPI) -> int:
    with app.state.database.session(write=True) as db:
        location_type = LocationType(name="Room")
        db.add(location_type)
        db.flush()
        location = Location(name="Clean lab", type_id=location_type.id)
        db.add(location)
        db.flush()
        return location.id


def test_admin_creates_an_instrument_and_everyone_reads_it(
    multi_client: TestClient, multi_app: FastAPI, users: dict[str, int]
) -> None:
    location_id = _location(multi_app)
    created = multi_client.post("/api/v1/instruments/", auth=ADMIN, json={
        "name": " Neptune ", "description": "MC-ICP-MS", "short_description": "Pb, Sr",
        "notes": "argon valve sticks", "is_hidden": False,
        "instrument_scientists": [users["curie"]], "location_id": location_id})
    assert created.status_code == 201
    instrument_id = created.json()["instrument_id"]
    assert created.headers["location"] == f"/api/v1/instruments/{instrument_id}"
    expected = {
        "instrument_id": instrument_id, "name": "Neptune", "description": "MC-ICP-MS",
        "short_description": "Pb, Sr", "is_hidden": False,
        "instrument_scientists": [users["curie"]], "location_id": location_id,
    }
    assert created.json() == {**expected, "notes": "argon valve sticks"}
    # Notes are for scientists and administrators; everyone else sees the rest.
    assert multi_client.get(f"/api/v1/instruments/{instrument_id}", auth=BOHR).json() == expected
    assert multi_client.get(f"/api/v1/instruments/{instrument_id}", auth=CURIE).json() == {
        **expected, "notes": "argon valve sticks"}
    assert multi_client.get("/api/v1/instruments", auth=BOHR).json() == [expected]
    assert multi_client.get("/api/v1/instruments/", auth=BOHR).json() == [expected]
    with multi_app.state.database.session(write=False) as db:
        entry = db.query(ActivityEntry).filter_by(action="instrument.created").one()
        assert (entry.user_id, entry.target_id) == (1, str(instrument_id))


def test_unknown_instrument_is_404(multi_client: TestClient) -> None:
    response = multi_client.get("/api/v1/instruments/99", auth=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"message": "instrument 99 does not exist"}


def test_v1_instruments_need_credentials(multi_client: TestClient) -> None:
    assert multi_client.get("/api/v1/instruments/").status_code == 401


def test_hidden_instruments_are_listed_to_admins_and_their_scientists_only(
    multi_client: TestClient, make_instrument: Callable[..., int], users: dict[str, int]
) -> None:
    shown = make_instrument("Triton")
    hidden = make_instrument("Prototype", is_hidden=True, instrument_scientists=[users["curie"]])

    def listed(auth: tuple[str, str]) -> list[int]:
        return [i["instrument_id"] for i in multi_client.get("/api/v1/instruments/",
                                                             auth=auth).json()]

    assert listed(ADMIN) == [shown, hidden]
    assert listed(CURIE) == [shown, hidden]
    assert listed(BOHR) == [shown]
    # Unlisted, not secret: it still answers by id.
    direct = multi_client.get(f"/api/v1/instruments/{hidden}", auth=BOHR)
    assert direct.status_code == 200
    assert direct.json()["is_hidden"] is True


def test_only_admins_create_instruments(multi_client: TestClient, users: dict[str, int],
                                        multi_app: FastAPI) -> None:
    response = multi_client.post("/api/v1/instruments/", auth=CURIE, json={"name": "Mine"})
    assert response.status_code == 403
    assert response.json() == {"message": "only administrators may create instruments"}
    with multi_app.state.database.session(write=False) as db:
        assert db.query(Instrument).count() == 0


def test_instrument_bodies_are_validated_field_by_field(
    multi_client: TestClient, multi_app: FastAPI, users: dict[str, int]
) -> None:
    cases = [
        ({"name": "A", "instrument_scientists": [users["curie"], 999]},
         "instrument_scientists: user 999 does not exist"),
        ({"name": "A", "instrument_scientists": [users["curie"], users["curie"]]},
         f"instrument_scientists: user {users['curie']} is listed twice"),
        ({"name": "A", "location_id": 77}, "location_id: location 77 does not exist"),
        ({"name": "   "}, "name: String should have at least 1 character"),
        ({"description": "no name"}, "name: Field required"),
        ({"name": "A", "is_hidden": "yes"}, "is_hidden: Input should be a valid boolean"),
        ({"name": "A", "instrument_scientists": ["2"]},
         "instrument_scientists/0: Input should be a valid integer"),
        ({"name": "A", "instrument_id": 5}, "instrument_id: Extra inputs are not permitted"),
    ]
    for body, message in cases:
        response = multi_client.post("/api/v1/instruments/", auth=ADMIN, json=body)
        assert response.status_code == 400, body
        assert response.json() == {"message": message}
    with multi_app.state.database.session(write=False) as db:
        assert db.query(Instrument).count() == 0


def test_scientists_and_admins_change_an_instrument(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int, users: dict[str, int]
) -> None:
    location_id = _location(multi_app)
    url = f"/api/v1/instruments/{instrument_id}"
    changed = multi_client.put(url, auth=CURIE, json={
        "instrument_id": instrument_id, "notes": "cones replaced", "location_id": location_id})
    assert changed.status_code == 200
    body = changed.json()
    assert (body["name"], body["notes"], body["location_id"]) == (
        "Neptune MC-ICP-MS", "cones replaced", location_id)
    assert body["instrument_scientists"] == sorted(
        [users["curie"], users["meitner"], users["reader"]])

    by_admin = multi_client.put(url + "/", auth=ADMIN, json={
        "name": "Neptune Plus", "is_hidden": True, "instrument_scientists": [users["bohr"]],
        "location_id": None})
    assert by_admin.status_code == 200
    assert by_admin.json() == {
        "instrument_id": instrument_id, "name": "Neptune Plus", "description": "",
        "short_description": "", "is_hidden": True, "instrument_scientists": [users["bohr"]],
        "location_id": None, "notes": "cones replaced"}
    # Curie is no scientist any more.
    assert multi_client.put(url, auth=CURIE, json={"notes": "x"}).status_code == 403
    with multi_app.state.database.session(write=False) as db:
        assert [s.user_id for s in db.query(InstrumentScientist)] == [users["bohr"]]
        assert db.query(ActivityEntry).filter_by(action="instrument.updated").count() == 2


def test_changing_an_instrument_is_refused_cleanly(
    multi_client: TestClient, multi_app: FastAPI, instrument_id: int
) -> None:
    url = f"/api/v1/instruments/{instrument_id}"
    refusals = [
        (BOHR, {"notes": "x"}, 403,
         f"only administrators and the instrument scientists of instrument {instrument_id} "
         "may change it"),
        (READER, {"notes": "x"}, 403, "read-only users cannot change instruments or their logs"),
        (ADMIN, {"instrument_id": instrument_id + 1, "notes": "x"}, 400,
         f"instrument_id must be {instrument_id}"),
        (ADMIN, {"notes": "x", "location_id": 5}, 400, "location_id: location 5 does not exist"),
        (ADMIN, {"name": None}, 400, "name: Input should be a valid string"),
        (ADMIN, {"colour": "red"}, 400, "colour: Extra inputs are not permitted"),
    ]
    for auth, body, status, message in refusals:
        response = multi_client.put(url, auth=auth, json=body)
        assert (response.status_code, response.json()) == (status, {"message": message}), body
    missing = multi_client.put("/api/v1/instruments/99", auth=ADMIN, json={"notes": "x"})
    assert (missing.status_code, missing.json()) == (
        404, {"message": "instrument 99 does not exist"})
    with multi_app.state.database.session(write=False) as db:
        assert db.get(Instrument, instrument_id).notes == ""


def test_instrument_routes_are_documented_as_extensions(multi_client: TestClient) -> None:
    paths = multi_client.get("/openapi.json").json()["paths"]
    create = paths["/api/v1/instruments/"]["post"]
    assert create["description"].startswith("IsoFind extension")
    assert "Location" in create["responses"]["201"]["headers"]
    assert paths["/api/v1/instruments/{instrument_id}"]["put"]["description"].startswith(
        "IsoFind extension")


def test_anonymous_access_reads_listed_instruments_only(
    make_app: Callable[..., FastAPI], make_instrument: Callable[..., int],
    users: dict[str, int]
) -> None:
    shown = make_instrument("Triton", instrument_scientists=[users["curie"]])
    make_instrument("Prototype", is_hidden=True)
    with TestClient(make_app(mode="multi_user", anonymous_access=True)) as anonymous:
        assert [i["instrument_id"] for i in anonymous.get("/api/v1/instruments/").json()] == [
            shown]
        assert "notes" not in anonymous.get(f"/api/v1/instruments/{shown}").json()
        assert anonymous.get(f"/api/v1/instruments/{shown}/log_entries/").status_code == 403
        refused = anonymous.post("/api/v1/instruments/", json={"name": "Mine"})
        assert (refused.status_code, refused.json()) == (
            401, {"message": "Authentication required"})
