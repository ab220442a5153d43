"""The element routes: predefined and custom elements, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.reference.elements.service import custom_symbols
from isofind.samples.vocabulary import normalise_element
from tests.conftest import ADMIN
from tests.reference.library_support import PASSWORD, activity, method_body

XX: dict[str, Any] = {
    "symbol": "xx", "name": "Example", "name_fr": "Exemple", "description": "a test system",
    "isotopes": [{"mass_number": 20, "abundance": 60.0}, {"mass_number": 10, "abundance": 40.0}],
}


def create(client: TestClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/api/elements/custom", json=body or XX)
    assert response.status_code == 201, response.text
    return response.json()


def test_all_elements_lists_predefined_ones_by_atomic_number(client: TestClient) -> None:
    elements = client.get("/api/elements").json()

    assert len(elements) == 84
    assert [elements[0]["symbol"], elements[-1]["symbol"]] == ["H", "U"]
    lead = next(element for element in elements if element["symbol"] == "Pb")
    assert lead == {
        "id": None, "symbol": "Pb", "name": "lead", "name_fr": "plomb", "atomic_number": 82,
        "isotopes": [{"mass_number": 204, "abundance": pytest.approx(1.4)},
                     {"mass_number": 206, "abundance": pytest.approx(24.1)},
                     {"mass_number": 207, "abundance": pytest.approx(22.1)},
                     {"mass_number": 208, "abundance": pytest.approx(52.4)}],
        "custom": False, "description": None, "created_at": None, "updated_at": None,
    }
    assert client.get("/api/elements/custom").json() == []


def test_create_a_custom_element(client: TestClient, app: FastAPI) -> None:
    element = create(client)

    assert element["id"] == 1 and element["custom"] is True
    assert (element["symbol"], element["name"], element["name_fr"]) == ("Xx", "Example",
                                                                         "Exemple")
    assert element["isotopes"] == [{"mass_number": 10, "abundance": 40.0},
                                   {"mass_number": 20, "abundance": 60.0}]
    assert element["atomic_number"] is None and element["description"] == "a test system"
    assert client.get("/api/elements/custom").json() == [element]
    everything = client.get("/api/elements").json()
    assert len(everything) == 85 and everything[-1] == element
    [entry] = activity(app, "element.created")
    assert (entry.target_type, entry.target_id, entry.details) == ("element", "1",
                                                                   {"symbol": "Xx"})


def test_custom_symbols_feed_vocabulary_normalisation(client: TestClient, app: FastAPI) -> None:
    create(client)
    with app.state.database.session(write=False) as db:
        symbols = custom_symbols(db)

    assert symbols == frozenset({"Xx"})
    assert normalise_element("XX", symbols) == "Xx"
    assert normalise_element("xx") is None


@pytest.mark.parametrize(("symbol", "message"), [
    ("Pb", "symbol Pb is the predefined element Pb (lead); a custom element cannot shadow it"),
    ("PB", "symbol Pb is the predefined element Pb (lead); a custom element cannot shadow it"),
    ("sr", "symbol Sr is the predefined element Sr (strontium); a custom element cannot "
           "shadow it"),
    ("or", "symbol Or would be read as the predefined element Au (a name of gold); "
           "choose another"),
    ("Tin", "symbol Tin would be read as the predefined element Sn (a name of tin); "
            "choose another"),
])
def test_a_custom_element_cannot_shadow_a_predefined_one(client: TestClient, symbol: str,
                                                         message: str) -> None:
    response = client.post("/api/elements/custom", json={**XX, "symbol": symbol})

    assert response.status_code == 409
    assert response.json() == {"detail": message}
    assert client.get("/api/elements/custom").json() == []


def test_duplicate_custom_symbols_are_refused_in_any_case(client: TestClient) -> None:
    create(client)
    response = client.post("/api/elements/custom", json={**XX, "symbol": "XX"})

    assert response.status_code == 409
    assert response.json() == {"detail": "custom element Xx already exists (id 1)"}


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"symbol": "X1"}, "symbol", "symbol must be 1 to 3 letters, such as Xx"),
    ({"symbol": "Abcd"}, "symbol", "symbol must be 1 to 3 letters, such as Xx"),
    ({"symbol": " "}, "symbol", "symbol must be 1 to 3 letters, such as Xx"),
    ({"name": "  "}, "name", "must not be blank"),
    ({"atomic_number": 82}, "atomic_number",
     "atomic number 82 is lead (Pb), a predefined element"),
    ({"isotopes": [{"mass_number": 10}, {"mass_number": 10}]}, "isotopes",
     "mass numbers listed twice: 10"),
    ({"isotopes": [{"mass_number": 10, "abundance": 80}, {"mass_number": 11, "abundance": 70}]},
     "isotopes", "abundances sum to 150 %, more than 100 %"),
])
def test_invalid_bodies_answer_422_naming_the_field(client: TestClient, change: dict[str, Any],
                                                    field: str, message: str) -> None:
    response = client.post("/api/elements/custom", json={**XX, **change})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert error["msg"] == f"Value error, {message}"


def test_unknown_fields_are_refused(client: TestClient) -> None:
    response = client.post("/api/elements/custom", json={**XX, "colour": "blue"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "colour"]


def test_update_a_custom_element(client: TestClient, app: FastAPI) -> None:
    created = create(client)
    response = client.put("/api/elements/custom/1", json={
        "symbol": "Yy", "name": "Renamed", "isotopes": [{"mass_number": 7}]})

    assert response.status_code == 200
    updated = response.json()
    assert (updated["id"], updated["symbol"], updated["name"], updated["name_fr"]) == (
        1, "Yy", "Renamed", None)
    assert updated["isotopes"] == [{"mass_number": 7, "abundance": None}]
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] >= created["updated_at"]
    assert client.get("/api/elements/custom").json() == [updated]
    [entry] = activity(app, "element.updated")
    assert entry.details == {"symbol": "Yy", "previous_symbol": "Xx"}


def test_update_refuses_shadowing_duplicates_and_unknown_ids(client: TestClient) -> None:
    create(client)
    create(client, {**XX, "symbol": "Yy"})

    assert client.put("/api/elements/custom/1", json={**XX, "symbol": "U"}).status_code == 409
    response = client.put("/api/elements/custom/1", json={**XX, "symbol": "yy"})
    assert response.status_code == 409
    assert response.json() == {"detail": "custom element Yy already exists (id 2)"}
    response = client.put("/api/elements/custom/99", json=XX)
    assert response.status_code == 404
    assert response.json() == {"detail": "custom element 99 not found"}
    # keeping one's own symbol is no conflict
    assert client.put("/api/elements/custom/1", json={**XX, "name": "Same"}).status_code == 200


def test_delete_a_custom_element(client: TestClient, app: FastAPI) -> None:
    create(client)
    response = client.delete("/api/elements/custom/1")

    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "custom element Xx deleted"}
    assert client.get("/api/elements/custom").json() == []
    assert [entry.details for entry in activity(app, "element.deleted")] == [{"symbol": "Xx"}]
    response = client.delete("/api/elements/custom/1")
    assert response.status_code == 404
    assert response.json() == {"detail": "custom element 1 not found"}


def test_an_element_in_use_keeps_its_symbol_and_cannot_be_deleted(client: TestClient) -> None:
    create(client)
    assert client.post("/api/v2/methods", json=method_body(element="XX")).status_code == 201

    response = client.delete("/api/elements/custom/1")
    assert response.status_code == 409
    assert response.json() == {"detail": "cannot delete custom element Xx: it is used by 1 method"}
    response = client.put("/api/elements/custom/1", json={**XX, "symbol": "Zz"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "cannot rename custom element Xx to Zz: it is used by 1 method"}
    # other fields may change
    assert client.put("/api/elements/custom/1", json={**XX, "name": "Still Xx"}).status_code == 200


def test_element_roles_in_multi_user_mode(multi_client: TestClient,
                                          add_user: Callable[..., int]) -> None:
    add_user("bob", "user")
    add_user("ann", "analyst")
    add_user("ro", "analyst", is_readonly=True)

    assert multi_client.get("/api/elements").status_code == 401
    assert multi_client.get("/api/elements/custom", auth=("bob", PASSWORD)).status_code == 200
    response = multi_client.post("/api/elements/custom", json=XX, auth=("bob", PASSWORD))
    assert response.status_code == 403
    assert response.json() == {"detail": "This action requires the analyst role"}
    response = multi_client.post("/api/elements/custom", json=XX, auth=("ro", PASSWORD))
    assert response.status_code == 403
    assert response.json() == {"detail": "read-only users cannot change the element library"}
    assert multi_client.post("/api/elements/custom", json=XX,
                             auth=("ann", PASSWORD)).status_code == 201
    assert multi_client.put("/api/elements/custom/1", json=XX,
                            auth=("bob", PASSWORD)).status_code == 403
    assert multi_client.delete("/api/elements/custom/1", auth=("bob", PASSWORD)).status_code == 403
    assert multi_client.delete("/api/elements/custom/1", auth=ADMIN).status_code == 200
