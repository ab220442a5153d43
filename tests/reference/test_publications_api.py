"""Publications and DOI lookup in every accepted form, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.reference.library.service import publications_for_dois
from tests.reference.library_support import PASSWORD, activity

DOI = "10.1016/j.gca.2020.01.001"
GCA: dict[str, Any] = {
    "doi": f"https://doi.org/{DOI}",
    "title": "Lead isotopes of Alpine ores",
    "authors": "Smith, J.; Doe, A. ",
    "year": 2020,
    "journal": "Geochimica et Cosmochimica Acta",
    "citation": "Smith & Doe (2020) GCA 270, 1-20",
}


def create(client: TestClient, body: dict[str, Any] | None = None, **auth: Any) -> dict[str, Any]:
    response = client.post("/api/v2/publications", json=body or GCA, **auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_stores_the_bare_doi(client: TestClient, app: FastAPI) -> None:
    publication = create(client)

    assert {k: v for k, v in publication.items() if k != "created_at"} == {
        "id": 1, "doi": DOI, "url": f"https://doi.org/{DOI}",
        "title": "Lead isotopes of Alpine ores", "authors": ["Smith, J.", "Doe, A."],
        "year": 2020, "journal": "Geochimica et Cosmochimica Acta",
        "citation": "Smith & Doe (2020) GCA 270, 1-20",
    }
    assert client.get("/api/v2/publications").json() == [publication]
    [entry] = activity(app, "publication.created")
    assert (entry.target_type, entry.target_id, entry.details) == ("publication", "1",
                                                                   {"doi": DOI})


@pytest.mark.parametrize("doi", [
    "doi:10.1016/J.GCA.2020.01.001",
    "10.1016/j.gca.2020.01.001",
    "http://dx.doi.org/10.1016/j.gca.2020.01.001",
])
def test_a_doi_is_unique_in_any_form_and_case(client: TestClient, doi: str) -> None:
    create(client)
    response = client.post("/api/v2/publications", json={**GCA, "doi": doi})

    assert response.status_code == 409
    assert response.json() == {"detail": f"a publication with DOI {DOI} already exists (id 1)"}
    assert len(client.get("/api/v2/publications").json()) == 1


@pytest.mark.parametrize("path", [
    DOI,
    DOI.upper(),
    "10.1016%2Fj.gca.2020.01.001",
    "10.1016%252Fj.gca.2020.01.001",
    f"doi:{DOI}",
    f"doi%3A{DOI}",
    f"https://doi.org/{DOI}",
    "https%3A%2F%2Fdoi.org%2F10.1016%2Fj.gca.2020.01.001",
    f"http://dx.doi.org/{DOI}",
])
def test_find_by_doi_in_every_form(client: TestClient, path: str) -> None:
    publication = create(client)
    response = client.get(f"/api/v2/publications/doi/{path}")

    assert response.status_code == 200, response.text
    assert response.json() == publication


def test_doi_with_special_characters(client: TestClient) -> None:
    doi = "10.1002/(SICI)1097-4636(199706)35:3<293::AID-JBM3>3.0.CO;2-C"
    create(client, {"doi": doi, "title": "Old Wiley DOI"})

    quoted = "10.1002/%28SICI%291097-4636%28199706%2935%3A3%3C293%3A%3AAID-JBM3%3E3.0.CO%3B2-C"
    response = client.get(f"/api/v2/publications/doi/{quoted}")
    assert response.status_code == 200
    assert response.json()["doi"] == doi


def test_unknown_and_malformed_dois(client: TestClient) -> None:
    create(client)
    response = client.get("/api/v2/publications/doi/10.9999/none")
    assert (response.status_code, response.json()) == (
        404, {"detail": "no publication with DOI 10.9999/none"})
    response = client.get("/api/v2/publications/doi/not-a-doi")
    assert response.status_code == 422
    assert response.json() == {"detail": "'not-a-doi' is not a DOI (expected 10.xxxx/..., "
                                         "doi:10.xxxx/... or https://doi.org/10.xxxx/...)"}


@pytest.mark.parametrize(("body", "loc", "message"), [
    ({"doi": "10.1016", "title": "x"}, ["body", "doi"],
     "Value error, '10.1016' is not a DOI (expected 10.xxxx/..., doi:10.xxxx/... or "
     "https://doi.org/10.xxxx/...)"),
    ({"authors": ["A"]}, ["body"], "Value error, give at least a doi, a title or a citation"),
    ({"title": "x", "year": 20200}, ["body", "year"], "Input should be less than or equal to "
                                                      "2200"),
    ({"title": "x", "publisher": "Elsevier"}, ["body", "publisher"],
     "Extra inputs are not permitted"),
])
def test_invalid_publications_answer_422(client: TestClient, body: dict[str, Any],
                                         loc: list[Any], message: str) -> None:
    response = client.post("/api/v2/publications", json=body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (loc, message)


def test_publications_without_doi_and_newest_first(client: TestClient) -> None:
    create(client)
    old = create(client, {"citation": "Brown (1962) Nature", "year": 1962, "authors": ["Brown"]})
    undated = create(client, {"title": "Lab notes"})
    recent = create(client, {"doi": "10.5281/zenodo.1", "year": 2024})

    assert (old["doi"], old["url"], undated["year"]) == (None, None, None)
    years = [item["year"] for item in client.get("/api/v2/publications").json()]
    assert years == [2024, 2020, 1962, None]
    assert recent["authors"] == []


def test_publications_for_dois(client: TestClient, app: FastAPI) -> None:
    gca = create(client)
    zenodo = create(client, {"doi": "10.5281/zenodo.1", "title": "data"})

    with app.state.database.session(write=False) as db:
        found = publications_for_dois(db, ["doi:10.5281/ZENODO.1", "nonsense", "10.1/none",
                                           f"https://doi.org/{DOI}", DOI])
        assert publications_for_dois(db, []) == []
    assert found == [zenodo, gca]


def test_publication_roles(multi_client: TestClient, add_user: Callable[..., int]) -> None:
    add_user("bob", "user")
    add_user("ro", "user", is_readonly=True)

    assert multi_client.get("/api/v2/publications").status_code == 401
    assert multi_client.post("/api/v2/publications", json=GCA).status_code == 401
    response = multi_client.post("/api/v2/publications", json=GCA, auth=("ro", PASSWORD))
    assert (response.status_code, response.json()) == (
        403, {"detail": "read-only users cannot change publications"})
    create(multi_client, auth=("bob", PASSWORD))
    assert multi_client.get(f"/api/v2/publications/doi/{DOI}",
                            auth=("ro", PASSWORD)).status_code == 200
